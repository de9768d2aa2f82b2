"""Assign a chapter as coursework with nbgrader: release the student notebook, autograde submissions.

    python tools/coursework.py release notation                    # → coursework/notation/release/...
    python tools/coursework.py autograde notation path/to/submissions
    (or: make release CHAPTER=notation; make autograde CHAPTER=notation SUBMISSIONS=path)

A chapter's exercises carry nbgrader's cell metadata in their ``{code-cell}`` headers (answer cells
with ``### BEGIN SOLUTION``/``### END SOLUTION``, visible test cells, hidden test cells with ``###
BEGIN HIDDEN TESTS``).  ``release`` converts the chapter to a notebook with jupytext, rewrites its MyST
into plain Markdown (solutions and their explanations removed), and runs ``nbgrader
generate_assignment``.  ``autograde`` takes a folder of submitted notebooks — ``<student>.ipynb`` or
``<student>/<chapter>.ipynb`` — and grades each one with tools/grading: the student's cells run in a
sandbox (bubblewrap, its own uid, CPU/memory/wall-clock limits, no network, no access to the course
folder), the tests run in the grader's own process against the values received from it.  Odd
submissions are reported (exit status 2); grades.csv has per-exercise columns, canvas.csv and
moodle.csv are ready for an LMS, feedback/ has one HTML page per student.
"""

from __future__ import annotations

import argparse
import os
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
    # what answers an exercise in the chapter's prose and errata (tools/edition.py) stays out of the release too
    from edition import TAG, strip_marked
    nb.cells = [c for c in nb.cells if TAG not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = strip_marked(cell.source)[0]
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


def autograde(chapter, submissions, course=None, roster=None, due=None, penalty=10.0, max_days=7.0,
              workers=None, timeout=CELL_TIMEOUT, wall=900, memory_mb=2048, progress=True) -> Path:
    """Grade every submission in a sandbox (tools/grading); write and return ``<course>/grades.csv``.

    Also written: canvas.csv, moodle.csv, feedback/<student>.html, report.txt.  ``autograde.problems``
    holds the report's lines about odd submissions after a run (the CLI exits 2 when there are any).
    """
    from grading import batch
    from grading.sandbox import Limits

    course = course_dir(chapter, course)
    source = course / "source" / chapter / f"{chapter}.ipynb"
    if not (course / "release" / chapter / f"{chapter}.ipynb").exists() or not source.exists():
        release(chapter, course)
    limits = Limits(cell_timeout=float(timeout), wall=float(wall), memory=int(memory_mb) * 1024 ** 2)
    rows, lines, summary = batch.run(chapter, source, Path(submissions), course, roster=roster, due=due,
                                     penalty=penalty, max_days=max_days, workers=workers, limits=limits,
                                     progress=progress)
    grades = course / "grades.csv"
    print(summary)
    for line in lines:
        print("  " + line)
    for row in rows:
        print(f"  {row['student_id']:>20}: {row['score']:g} / {row['max_score']:g}  {row['status'][:70]}")
    print(f"grades: {grades}  (LMS: canvas.csv, moodle.csv; feedback/; report.txt)")
    autograde.problems = [line for line in lines if line.startswith(("!", "?"))]
    return grades


autograde.problems = []


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
    a.add_argument("--roster", help="CSV with a student_id column (optional: name, email, sis_id, login_id, "
                                    "section, due)")
    a.add_argument("--due", help="due date, ISO 8601 (e.g. 2026-12-01T23:59+01:00)")
    a.add_argument("--penalty", type=float, default=10.0, help="percent deducted per started day late")
    a.add_argument("--max-days", type=float, default=7.0, help="days late after which no points are given")
    a.add_argument("--workers", type=int, help="submissions graded at once (default: the machine's cores)")
    a.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds a cell may run")
    a.add_argument("--wall", type=float, default=900, help="seconds a whole notebook may run")
    a.add_argument("--memory-mb", type=int, default=2048, help="memory a notebook's process may use")
    args = parser.parse_args(argv)
    if args.command == "release":
        release(args.chapter, args.course, args.timeout)
    else:
        autograde(args.chapter, args.submissions, args.course, roster=args.roster, due=args.due,
                  penalty=args.penalty, max_days=args.max_days, workers=args.workers, timeout=args.timeout,
                  wall=args.wall, memory_mb=args.memory_mb)
        if autograde.problems:
            print(f"{len(autograde.problems)} submission problem(s): see report.txt", file=sys.stderr)
            sys.exit(2)


if __name__ == "__main__":
    main()
