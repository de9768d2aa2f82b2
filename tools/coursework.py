"""Assign a chapter as coursework with nbgrader: release the student notebook, autograde submissions.

    python tools/coursework.py release notation                    # → coursework/notation/release/...
    python tools/coursework.py autograde notation path/to/submissions
    (or: make release CHAPTER=notation; make autograde CHAPTER=notation SUBMISSIONS=path)

A chapter's exercises carry nbgrader's cell metadata in their ``{code-cell}`` headers (answer cells
with ``### BEGIN SOLUTION``/``### END SOLUTION``, visible test cells, hidden test cells with ``###
BEGIN HIDDEN TESTS``).  ``release`` converts the chapter to a notebook with jupytext, rewrites its MyST
into plain Markdown (solutions and their explanations removed), and runs ``nbgrader
generate_assignment``.  ``autograde`` takes a folder of submitted notebooks — ``<student>.ipynb`` or
``<student>/<chapter>.ipynb`` — runs ``nbgrader autograde`` on all of them (a cell that runs longer
than the timeout is interrupted, a submission that raises or whose test cells were edited is graded
like any other, and none stops the batch), and exports the grades as CSV.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tools/: the MyST-to-Jupyter converter

from plain_markdown import chapter_titles, plain_notebook  # noqa: E402

COURSE_ID = "backpropagation-executable"
CELL_TIMEOUT = 60  # seconds a single cell may run during autograding

CONFIG = '''# nbgrader configuration of this course folder (written by tools/coursework.py)
c = get_config()
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = r"{root}"
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
# a cell that runs longer than this is interrupted, and grading goes on with the next cell
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


def course_dir(chapter, course=None) -> Path:
    return Path(course) if course else ROOT / "coursework" / chapter


def nbgrader(course: Path, *args):
    """Run ``nbgrader <args>`` in ``course``; on failure, raise with the end of nbgrader's own log."""
    # nbgrader runs the `alembic` script of its environment by name: put that environment first on PATH
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {run.returncode}) in {course}:\n"
                           + (run.stdout + run.stderr)[-4000:])
    return run


def student_source(chapter: str):
    """The chapter as an nbgrader source notebook: plain Markdown, solutions only in nbgrader's regions."""
    import jupytext

    source = ROOT / "chapters" / f"{chapter}.md"
    if not source.exists():
        known = ", ".join(sorted(p.stem for p in (ROOT / "chapters").glob("*.md")))
        raise SystemExit(f"no chapter {chapter!r}; chapters: {known}")
    nb = jupytext.read(source, fmt="md:myst")
    if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
        raise SystemExit(f"chapter {chapter!r} has no graded exercises")
    plain_notebook(nb, chapter_titles(ROOT / "chapters"), keep_solutions=False)
    nb.metadata.pop("jupytext", None)
    return nb


def release(chapter, course=None, timeout=CELL_TIMEOUT) -> Path:
    """Write the course folder and the student notebook; return the released notebook's path.

    ``timeout``: the seconds one cell may run when a submission is autograded.
    """
    import nbformat

    course = course_dir(chapter, course)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(CONFIG.format(course_id=COURSE_ID, root=course.resolve(),
                                                             timeout=int(timeout)))
    src = course / "source" / chapter / f"{chapter}.ipynb"
    src.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student_source(chapter), src)
    nbgrader(course, "generate_assignment", chapter, "--force")
    released = course / "release" / chapter / f"{chapter}.ipynb"
    print(f"released {released.relative_to(ROOT) if released.is_relative_to(ROOT) else released}")
    return released


def collect(submissions: Path, chapter: str):
    """{student: notebook path} from ``<student>.ipynb`` or ``<student>/<chapter>.ipynb`` files."""
    found = {}
    for path in sorted(Path(submissions).iterdir()):
        if path.suffix == ".ipynb":
            found[path.stem] = path
        elif path.is_dir() and (path / f"{chapter}.ipynb").exists():
            found[path.name] = path / f"{chapter}.ipynb"
    if not found:
        raise SystemExit(f"no submissions in {submissions}: expected <student>.ipynb or <student>/{chapter}.ipynb")
    return found


def autograde(chapter, submissions, course=None) -> Path:
    """Autograde every submission; write and return ``<course>/grades.csv``."""
    course = course_dir(chapter, course)
    if not (course / "release" / chapter / f"{chapter}.ipynb").exists():
        release(chapter, course)
    for student, path in collect(Path(submissions), chapter).items():
        target = course / "submitted" / student / chapter / f"{chapter}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", chapter, "--create", "--force"],
                            cwd=course, capture_output=True, text=True)
    (course / "autograde.log").write_text(result.stdout + result.stderr)
    grades = course / "grades.csv"
    nbgrader(course, "export", f"--CsvExportPlugin.to={grades}")
    print(f"grades of {len(collect(Path(submissions), chapter))} submissions: {grades}  (log: {course / 'autograde.log'})")
    with open(grades) as f:
        for row in csv.DictReader(f):
            if row["assignment"] == chapter:
                print(f"  {row['student_id']:>20}: {float(row['raw_score']):g} / {float(row['max_score']):g}")
    return grades


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="write the course folder and the student notebook")
    r.add_argument("chapter")
    r.add_argument("--course", help="course folder (default: coursework/<chapter>)")
    r.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds a cell may run when grading")
    a = sub.add_parser("autograde", help="grade a folder of submissions and export grades.csv")
    a.add_argument("chapter")
    a.add_argument("submissions")
    a.add_argument("--course")
    args = parser.parse_args(argv)
    if args.command == "release":
        release(args.chapter, args.course, args.timeout)
    else:
        autograde(args.chapter, args.submissions, args.course)


if __name__ == "__main__":
    main()
