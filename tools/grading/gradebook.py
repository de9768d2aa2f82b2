"""Write a batch's grades into nbgrader's gradebook (``<course>/gradebook.db``), with nbgrader's own API.

``nbgrader generate_assignment`` (``make release``) records the assignment, its notebook and its grade
cells there; after grading, this adds every student (name and email from the roster), one submission
per student who handed something in (its time, and the late penalty on its notebook), and each test
cell's points as that grade's ``auto_score`` (``needs_manual_grade`` off).  nbgrader's tools then show
the same numbers as grades.csv: ``nbgrader export``, the formgrader's "Manage students" and gradebook.

Only the grader's process writes it, after every sandbox of the batch is gone.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path


def db_url(course: Path) -> str:
    return f"sqlite:///{Path(course).resolve()}/gradebook.db"


def _names(full: str):
    parts = full.split()
    return (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else (full, "")


def write(course: Path, chapter: str, rows, results: dict, roster: dict, submitted: dict, due=None):
    """Record ``rows`` (grades.csv's rows) and ``results`` ({student: report}) in the gradebook.

    ``submitted``: {student: datetime} of the submissions; ``due``: the assignment's due date or None.
    Returns the number of grades written.
    """
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    written = 0
    with warnings.catch_warnings(), Gradebook(db_url(course)) as gb:
        warnings.simplefilter("ignore", SAWarning)   # nbgrader's own add_submission warns on every call
        try:
            assignment = gb.find_assignment(chapter)
        except MissingEntry:
            raise RuntimeError(f"the gradebook {db_url(course)} has no assignment {chapter!r}: "
                               f"run `make release CHAPTER={chapter}` for this course folder") from None
        if due is not None and assignment.duedate != due.astimezone(timezone.utc).replace(tzinfo=None):
            gb.update_or_create_assignment(chapter, duedate=due.astimezone(timezone.utc).replace(tzinfo=None))
        cells = {cell.name for nb in assignment.notebooks for cell in nb.grade_cells}
        for row in rows:
            student = row["student_id"]
            info = roster.get(student, {})
            first, last = _names(info.get("name", ""))
            gb.update_or_create_student(student, first_name=first or None, last_name=last or None,
                                        email=info.get("email") or None)
            if student not in results and student not in submitted:
                continue              # on the roster, nothing handed in: a student without a submission
            when = submitted.get(student) or datetime.now(timezone.utc)
            submission = gb.update_or_create_submission(chapter, student,
                                                        timestamp=when.astimezone(timezone.utc).replace(tzinfo=None))
            points = {t["grade_id"]: float(t["points"]) for t in results.get(student, {}).get("tests", [])}
            for notebook in submission.notebooks:
                notebook.late_submission_penalty = float(row.get("late_penalty") or 0.0)
                for grade in notebook.grades:
                    if grade.name not in cells:
                        continue
                    grade.auto_score = points.get(grade.name, 0.0)   # unreadable or missing: 0
                    grade.needs_manual_grade = False
                    written += 1
        gb.db.commit()
    return written

