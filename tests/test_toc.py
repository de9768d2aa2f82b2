"""tests/toc.py reads the chapter list the other tests use from _toc.yml."""

from __future__ import annotations

import toc


def test_toc_lists_every_chapter_file_once_and_only_existing_ones():
    chapters = toc.chapters()
    assert len(chapters) == len(set(chapters))
    on_disk = {p.stem for p in (toc.ROOT / "chapters").glob("*.md")}
    assert set(chapters) == on_disk, "a chapter file missing from _toc.yml, or a _toc.yml entry without a file"


def test_main_chapters_leave_out_the_appendices():
    main = toc.main_chapters()
    assert main[0] == "notation" and "api" not in main and "glossary" not in main
    assert set(main) < set(toc.chapters())
