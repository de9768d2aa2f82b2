"""The student edition (``make book EDITION=student``) holds no solution, no hidden test, no answering erratum.

What a student receives is checked: every page of ``_build/student-html`` (its text as the browser gets it:
tags removed, entities decoded, so highlighted code reads as code), every launch notebook
(``notebooks/chapters/*.ipynb``) and downloadable source (``notebooks/…/*.md``, ``_sources/…``).  The
needles come from the reader edition's sources: every line inside ``### BEGIN SOLUTION`` … ``### END
SOLUTION`` and ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``, every line of a code cell or of prose
inside a ``{solution-start}`` … ``{solution-end}`` region, every line of a cell tagged ``answers-exercise``
and the printed correction of each erratum such a cell shows, every line of prose between ``<!-- answers-exercise -->``
and ``<!-- end answers-exercise -->`` — each only when it does not also occur elsewhere in the book (a line like
``return out`` says nothing).

The edition is built once per session (a second book build: ~80–150 s cold here, a few seconds when
cached); marked ``book`` like the reader edition's build.
"""

from __future__ import annotations

import functools
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import edition  # noqa: E402

SITE = ROOT / "_build" / "student-html"
CHAPTERS = tuple(sorted(p for p in (ROOT / "chapters").glob("*.md")
                        if p.read_text(encoding="utf8").startswith("---\njupytext:")))


def _normal(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


@functools.lru_cache(maxsize=None)
def secrets(paths=CHAPTERS) -> dict[str, set[str]]:
    """{kind: {line, …}}: what must not reach a student, from the reader edition's sources."""
    import jupytext

    import bpkit.errata as E

    found = {"solution": set(), "hidden test": set(), "answering erratum": set()}
    public = set()  # lines that are also outside any secret region (not distinctive)
    corrections = set()  # errata shown by a tagged cell
    for path in paths:
        nb = jupytext.read(path, fmt="md:myst")
        inside = False
        for cell in nb.cells:
            lines = cell.source.split("\n")
            if cell.cell_type == "markdown":
                marked = False
                for line in lines:
                    if edition.SOL_START.match(line):
                        inside = True
                    elif edition.SOL_END.match(line):
                        inside = False
                    elif edition.MARK_START.match(line) or edition.MARK_END.match(line):
                        marked = bool(edition.MARK_START.match(line))
                    elif marked or "answers-exercise" in cell.metadata.get("tags", []):
                        found["answering erratum"].add(_normal(line))
                    else:
                        (found["solution"] if inside else public).add(_normal(line))
                continue
            grading = cell.metadata.get("nbgrader", {})
            if "answers-exercise" in cell.metadata.get("tags", []):
                found["answering erratum"].update(_normal(l) for l in lines)
                corrections.update(re.findall(r"\.show\(\"([\w-]+)\"\)", cell.source))
                continue
            if inside and not grading.get("solution"):
                found["solution"].update(_normal(l) for l in lines)
                continue
            region = None
            for line in lines:
                if "### BEGIN SOLUTION" in line:
                    region = "solution"
                elif "### BEGIN HIDDEN TESTS" in line:
                    region = "hidden test"
                elif "### END" in line:
                    region = None
                elif region:
                    found[region].add(_normal(line))
                else:
                    public.add(_normal(line))
    shown_elsewhere = set(re.findall(r"\.show\(\"([\w-]+)\"\)", "\n".join(public)))
    found["answering erratum"].update(_normal(E.get(fid).correction) for fid in corrections - shown_elsewhere
                                      if E.get(fid).correction)
    public_text = "\n".join(public)  # a needle that is part of a public line says nothing
    for kind in found:
        found[kind] = {line for line in found[kind] if len(line) >= 12 and line not in public_text
                       and not line.startswith("#")}
    return found


def leaks(text: str, needles: dict[str, set[str]]) -> list[str]:
    """The needles found in one document's text (whitespace-normalised)."""
    text = _normal(text)
    return [f"{kind}: {line[:90]}" for kind, lines in needles.items() for line in sorted(lines) if line in text]


def page_text(raw: str) -> str:
    """An HTML page as text: scripts kept (widget states, MathJax sources), tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def test_the_needles_are_found_in_the_reader_edition():
    """The check can fail: every chapter's own source holds its needles, and a leak is reported."""
    needles = secrets()
    for kind, lines in needles.items():
        assert len(lines) >= (10 if kind != "answering erratum" else 3), f"too few {kind} lines: {len(lines)}"
    for path in CHAPTERS:
        text = path.read_text(encoding="utf8")
        if '"solution": true' in text:  # a chapter with exercises
            assert leaks(text, needles), f"{path.name}: the reader edition's source shows no solution line"
    notebook = json.dumps({"cells": [{"source": "### BEGIN SOLUTION\n" + sorted(needles["solution"])[0]}]})
    assert leaks(json.loads(notebook)["cells"][0]["source"], needles)


def test_strip_keeps_the_exercise_and_drops_the_answer():
    text = (ROOT / "chapters" / "hidden-delta.md").read_text(encoding="utf8")
    student = edition.strip_text(text)
    assert "BEGIN SOLUTION" not in student and "BEGIN HIDDEN TESTS" not in student
    assert "{solution-start}" not in student and "{solution-end}" not in student
    assert student.count("raise NotImplementedError()") == text.count("### BEGIN SOLUTION")
    assert student.count("{exercise-start}") == text.count("{exercise-start}")
    assert "def hidden_delta_loop(delta_next, W_next, Z, fprime):" in student  # the scaffold stays
    assert not leaks(student, secrets((ROOT / "chapters" / "hidden-delta.md",)))


# Prose that gives an exercise's answer away, read next to each exercise (chapter → phrases of the reader
# edition): the per-neuron source's sign turning descent into ascent and the four-steps source's sum over all
# outputs (ex-hidden-delta-source-sign, ex-training-scalar-update, ex-output-delta-foursteps), the update a
# reader of that source must use (ex-training-scalar-update), what the four-steps sum adds (ex-output-delta-foursteps).
HINTS = {
    "errata": ["hidden-layer rule into gradient *ascent*", "four-steps source's sum over all outputs in"],
    "output-delta": ["by the sum of the output errors over **all**", "where the error of neuron $j$ alone belongs",
                     "It is exactly what the four-steps source's sum adds by mistake",
                     "has to update with $w \\leftarrow w + \\eta\\,\\delta_v o_{u_t}$"],
}


@pytest.mark.parametrize("chapter", sorted(HINTS))
def test_prose_that_answers_an_exercise_is_not_in_the_student_edition(chapter):
    text = (ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf8")
    student = edition.strip_text(text)
    for phrase in HINTS[chapter]:
        assert phrase in text, f"{chapter}: the reader edition no longer has {phrase!r}: update HINTS"
        assert phrase not in student, f"{chapter}: the student edition shows {phrase!r} (mark it: <!-- answers-exercise -->)"
    assert "answers-exercise" not in student
    marked = secrets((ROOT / "chapters" / f"{chapter}.md",))["answering erratum"]
    assert any(HINTS[chapter][0] in line for line in marked), "the site scan's needles miss the marked prose"


def test_an_unclosed_marker_is_an_error():
    with pytest.raises(ValueError, match="answers-exercise"):
        edition.strip_marked("Text.\n<!-- answers-exercise -->\nThe answer is 42.\n")
    assert edition.strip_marked("a\n<!-- answers-exercise -->\nb\n<!-- end answers-exercise -->\nc") == ("a\nc", 1)


@pytest.fixture(scope="session")
def student_site() -> Path:
    """``make book EDITION=student`` (incremental: a few seconds when nothing changed)."""
    run = subprocess.run(["make", "-C", str(ROOT), "book", "EDITION=student"], capture_output=True, text=True)
    assert run.returncode == 0, "the student edition did not build:\n" + (run.stdout + run.stderr)[-4000:]
    return SITE.resolve()


def _documents(site: Path):
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(site).as_posix()
        if path.suffix == ".html":
            yield rel, page_text(path.read_text(encoding="utf8"))
        elif path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf8"))
            yield rel, "\n".join("".join(c["source"]) for c in nb["cells"])
        elif rel.startswith(("_sources/", "notebooks/")) and path.suffix in (".md", ".txt", ".ipynb"):
            yield rel, path.read_text(encoding="utf8")


@pytest.mark.book
def test_student_edition_holds_no_answer(student_site):
    needles = secrets()
    kinds = {"page": 0, "notebook": 0, "source": 0}
    found = []
    for rel, text in _documents(student_site):
        kinds["notebook" if rel.endswith(".ipynb") else "source" if rel.startswith(("_sources", "notebooks"))
              else "page"] += 1
        found += [f"{rel}: {leak}" for leak in leaks(text, needles)]
        for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "solution-start", "answers-exercise"):
            if marker in text:
                found.append(f"{rel}: {marker!r}")
    assert not found, "the student edition shows:\n" + "\n".join(found[:40])
    chapters = [p.stem for p in CHAPTERS if p.stem != "instructors"]
    for name in chapters:  # what was checked is what a student gets: every chapter, in every form
        for rel in (f"chapters/{name}.html", f"notebooks/chapters/{name}.ipynb", f"notebooks/chapters/{name}.md",
                    f"_sources/chapters/{name}.md"):
            assert (student_site / rel).exists(), f"the student edition has no {rel}"
    assert not (student_site / "chapters" / "instructors.html").exists(), "the instructors' guide is in it"
    assert kinds["page"] >= len(chapters) and kinds["notebook"] >= len(chapters), kinds


@pytest.mark.book
def test_student_edition_keeps_the_exercises(student_site):
    """Each exercise is still there, with its answer cell to fill in and its visible test, unexecuted."""
    nb = json.loads((student_site / "notebooks" / "chapters" / "hidden-delta.ipynb").read_text(encoding="utf8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum("raise NotImplementedError()" in c for c in code) == 3
    page = page_text((student_site / "chapters" / "hidden-delta.html").read_text(encoding="utf8"))
    assert page.count("raise NotImplementedError()") == 3
    assert "NotImplementedError" not in page.replace("raise NotImplementedError()", "")  # not executed
    assert "(student edition)" in page


@pytest.mark.book
def test_the_scan_finds_the_answers_in_the_reader_edition(site):
    """The same scan on the reader edition's site (``site``: _build/html) reports every kind of secret."""
    needles = secrets()
    found = {kind: 0 for kind in needles}
    for rel, text in _documents(site):
        for leak in leaks(text, needles):
            found[leak.split(":")[0]] += 1
    assert all(found.values()), f"the scan missed a kind of secret in the reader edition: {found}"


def test_the_student_config_points_links_and_launch_buttons_at_the_student_site():
    import yaml

    text = (ROOT / "_config.yml").read_text(encoding="utf8")
    conf = yaml.safe_load(edition.student_config(text, "https://course.example.edu/bp", "student-pages"))
    assert conf["title"].endswith("(student edition)")
    assert conf["html"]["baseurl"] == "https://course.example.edu/bp/"
    assert conf["repository"]["branch"] == "student-pages"
    unchanged = yaml.safe_load(edition.student_config(text))
    assert "baseurl" not in unchanged["html"] and unchanged["repository"] == yaml.safe_load(text)["repository"]
    with pytest.raises(ValueError, match="title"):
        edition.student_config("author: x\n")
