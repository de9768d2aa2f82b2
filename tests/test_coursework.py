"""Coursework: every chapter's exercises are nbgrader-ready; the released notebooks hide solutions and
hidden tests; the make targets explain their arguments."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import coursework  # noqa: E402
import toc  # noqa: E402  (tests/toc.py: the chapters, from _toc.yml)
from test_student_edition import leaks, secrets  # noqa: E402  (what the student edition leaves out)

CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.md")
                  if any(c.metadata.get("nbgrader") for c in jupytext.read(p, fmt="md:myst").cells))


def graded_cells(chapter):
    nb = jupytext.read(ROOT / "chapters" / f"{chapter}.md", fmt="md:myst")
    return [c for c in nb.cells if c.metadata.get("nbgrader")]


def test_every_main_chapter_has_three_nbgrader_exercises():
    main = toc.main_chapters()
    assert set(main) <= set(CHAPTERS)
    ids = []
    for chapter in main:
        cells = graded_cells(chapter)
        answers = [c for c in cells if c.metadata["nbgrader"]["solution"]]
        tests = [c for c in cells if c.metadata["nbgrader"]["grade"]]
        assert len(answers) >= 3, f"{chapter}: {len(answers)} answer cells"
        hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c.source]
        visible = [c for c in tests if "### BEGIN HIDDEN TESTS" not in c.source]
        assert len(hidden) >= 3 and len(visible) >= 3, chapter
        for c in answers:
            assert "### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source, chapter
        for c in tests:
            assert c.metadata["nbgrader"]["points"] > 0 and c.metadata["nbgrader"]["locked"], chapter
        for c in hidden:  # hidden tests are not shown on the website either
            assert "remove-cell" in c.metadata.get("tags", []), chapter
        ids += [c.metadata["nbgrader"]["grade_id"] for c in cells]
        text = (ROOT / "chapters" / f"{chapter}.md").read_text()
        assert text.count("{exercise-start}") >= 3 and text.count("{solution-start}") >= 3
        assert text.count(":class: dropdown") >= 3, f"{chapter}: solutions must be closed dropdowns"
    assert len(ids) == len(set(ids)), "grade_ids must be unique in the book"


SECRET_REGIONS = [
    r"### BEGIN SOLUTION\n(.*?)### END SOLUTION",
    r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
    r"````\{solution-start\}.*?\n````\n(.*?)````\{solution-end\}",   # a solution's explanation
]


def secret_lines(chapter):
    """Lines of solutions, their explanations and hidden tests that appear nowhere else in the chapter."""
    text = (ROOT / "chapters" / f"{chapter}.md").read_text()
    secrets, public = [], text
    for pattern in SECRET_REGIONS:
        for region in re.findall(pattern, text, re.S):
            # inside a solution block, the answer cell's stub (def …:) is for the student; its solution
            # region is one of the patterns above, so here only the prose counts
            if pattern.startswith("````"):
                region = re.sub(r"```\{code-cell\}.*?```", "", region, flags=re.S)
            secrets += [line for line in region.splitlines() if not line.startswith(("````", ":", "```"))]
        public = re.sub(pattern, "", public, flags=re.S)
    public_lines = {line.strip() for line in public.splitlines()}
    return [s.strip() for s in secrets if len(s.strip()) >= 12 and s.strip() not in public_lines]


@pytest.fixture(scope="module")
def released_book(tmp_path_factory):
    """One nbgrader course with every chapter as a notebook of one assignment, released once."""
    course = tmp_path_factory.mktemp("course")
    (course / "nbgrader_config.py").write_text(coursework.CONFIG.format(
        course_id="test", root=course, timeout=60))
    for chapter in CHAPTERS:
        path = course / "source" / "book" / f"{chapter}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(coursework.student_source(chapter), path)
    coursework.nbgrader(course, "generate_assignment", "book", "--force")
    return course / "release" / "book"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_released_notebook_has_no_solution_and_no_hidden_test(released_book, chapter):
    text = (released_book / f"{chapter}.ipynb").read_text()
    nb_lines = {line.strip() for c in nbformat.reads(text, as_version=4).cells for line in c.source.splitlines()}
    leaked = [line for line in secret_lines(chapter) if line in nb_lines]
    assert not leaked, f"{chapter}: the student notebook contains {leaked[:3]}"
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    nb = nbformat.read(released_book / f"{chapter}.ipynb", as_version=4)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert markdown.count("### Exercise") >= 3  # the questions are there, as plain Markdown
    assert not re.search(r"\{(exercise|solution)-(start|end)\}|\{eq\}`|\{cite\}`|:::\{", markdown)
    # nor what the student edition leaves out: errata cells and prose that answer an exercise
    answering = {"answering erratum": secrets((ROOT / "chapters" / f"{chapter}.md",))["answering erratum"]}
    shown = leaks("\n".join(c.source for c in nb.cells), answering)
    assert not shown, f"{chapter}: the student notebook shows {shown[:3]}"


# Grading a batch of submissions (wrong, raising, looping, hostile, careless and odd ones) is tested in
# tests/test_grading_hostile.py.




@pytest.mark.slow
def test_make_targets_print_usage_without_arguments():
    for target in ("release", "autograde"):
        result = subprocess.run(["make", "-s", "-C", str(ROOT), target, "BIN=" + str(Path(sys.executable).parent),
                                 "STAMP=Makefile"], capture_output=True, text=True)
        assert result.returncode != 0 and "usage: make " + target in result.stdout
