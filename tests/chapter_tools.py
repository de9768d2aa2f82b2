"""Run one chapter on its own: execute it as a notebook, or build it strictly inside a copy of the book.

    python tests/chapter_tools.py chapters/hidden-delta.md            # execute every cell, report errors
    python tests/chapter_tools.py chapters/hidden-delta.md --build    # + a strict build (-W -n) of a copy
                                                                      #   of the book executing only it

The tests use the same functions (the mutation tests execute a chapter with one equation changed).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JB = str(Path(sys.executable).with_name("jupyter-book"))


def notebook(path: Path, replace: tuple[str, str] | None = None):
    """The chapter as an nbformat notebook (optionally with one string replaced, which must occur once)."""
    import jupytext

    text = Path(path).read_text()
    if replace is not None:
        old, new = replace
        count = text.count(old)
        if count != 1:
            raise ValueError(f"{path}: the text to replace occurs {count} times, not once: {old!r}")
        text = text.replace(old, new)
    return jupytext.reads(text, fmt="md:myst")


def execute(path, replace=None, timeout=600, preamble=None, until=None):
    """Execute every cell; return (ok, error message or '', seconds).

    ``preamble``: source of a code cell run first (e.g. one that monkeypatches bpkit);
    ``until``: a string of one code cell — the cells after the first cell containing it are dropped.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = notebook(Path(path), replace)
    if until is not None:
        hits = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and until in c.source]
        if not hits:
            raise ValueError(f"{path}: no code cell contains {until!r}")
        nb.cells = nb.cells[: hits[0] + 1]
    if preamble is not None:
        nb.cells.insert(0, nbformat.v4.new_code_cell(preamble))
    # run in the chapter's own folder, as the book build (myst-nb) does
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        return False, str(err), time.perf_counter() - t0
    return True, "", time.perf_counter() - t0


def copy_book(dest: Path, execute_only: str) -> Path:
    """A copy of the book in ``dest`` whose configuration executes only ``execute_only`` (a chapters/ path)."""
    for name in ("_config.yml", "_toc.yml", "intro.md", "references.bib", "constraints.txt"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "chapters", dest / "chapters", ignore=shutil.ignore_patterns("_build", "*.ipynb"))
    for folder in ("_assets", "_ext", "tools", "bpkit"):   # the build's extensions load tools/; the api page bpkit/
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    if (ROOT / "_build" / "offline-assets").exists():
        shutil.copytree(ROOT / "_build" / "offline-assets", dest / "_build" / "offline-assets")
    others = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "chapters").glob("*.md") if p.name != Path(execute_only).name
    )
    # a chapter that is not executed has no figures, so its references to them ({numref}`fig-…`) would be
    # undefined: in the copy they become plain words (the chapter under test keeps its own)
    for other in others:
        path = dest / other
        path.write_text(re.sub(r"\{numref\}`[^`]*`", "the figure", path.read_text(encoding="utf8")), encoding="utf8")
    config = (dest / "_config.yml").read_text()
    marker = "  execute_notebooks: cache\n"
    assert marker in config
    config = config.replace(marker, marker + "  exclude_patterns: " + repr(others).replace("'", '"') + "\n")
    (dest / "_config.yml").write_text(config)
    entry = execute_only[:-3] if execute_only.endswith(".md") else execute_only
    toc = (dest / "_toc.yml").read_text()
    if f"file: {entry}\n" not in toc:  # a chapter being written is not in the table of contents yet
        toc = toc.replace("  - caption: Appendices\n    chapters:\n", f"  - caption: Appendices\n    chapters:\n      - file: {entry}\n")
        assert f"file: {entry}\n" in toc
        (dest / "_toc.yml").write_text(toc)
    return dest


def build(book: Path, timeout=1200) -> subprocess.CompletedProcess:
    """``jupyter-book build -W -n --keep-going`` of ``book`` (the command ``make book`` uses)."""
    return subprocess.run([JB, "build", str(book), "-W", "-n", "--keep-going"], capture_output=True, text=True,
                          timeout=timeout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter")
    parser.add_argument("--build", action="store_true", help="also build a copy of the book strictly")
    args = parser.parse_args(argv)
    ok, err, seconds = execute(ROOT / args.chapter)
    print(f"execute {args.chapter}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s")
    if not ok:
        print(err)
        return 1
    if args.build:
        with tempfile.TemporaryDirectory() as tmp:
            result = build(copy_book(Path(tmp), args.chapter))
            log = result.stdout + result.stderr
            problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
            problems = [line for line in problems if "Kernel is running over TCP" not in line]
            print(f"strict build: {'ok' if result.returncode == 0 else 'FAILED'}")
            print("\n".join(problems[:60]))
            if result.returncode != 0:
                print(log[-4000:])
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
