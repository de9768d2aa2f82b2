"""The book's chapters, read from _toc.yml: the one list every test uses (no copy to keep in sync)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
APPENDICES = "Appendices"  # the caption of the part that holds the appendices


def parts() -> list[tuple[str, list[str]]]:
    """``[(caption, ["notation", "chain-rule", ...]), ...]``: each part's chapters (file stems), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    out = []
    for part in toc["parts"]:
        stems = [Path(entry["file"]).name for entry in part.get("chapters", [])]
        out.append((part.get("caption", ""), stems))
    return out


def chapters() -> list[str]:
    """Every chapter, appendices included, in reading order."""
    return [stem for _, stems in parts() for stem in stems]


def main_chapters() -> list[str]:
    """The chapters of the book proper (every part but the appendices), in reading order."""
    main = [stem for caption, stems in parts() if caption != APPENDICES for stem in stems]
    if not main:
        raise AssertionError(f"_toc.yml has no part other than {APPENDICES!r}")
    return main
