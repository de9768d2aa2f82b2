"""Grade a folder of submissions: odd files, roster, due dates, incremental, parallel, CSVs, feedback.

Submissions are ``<student>.ipynb`` files or ``<student>/`` folders.  Every file that is not graded as
it is, and every roster student without a submission, gets a line in the report (``report.txt`` and on
the terminal), and then the batch exits with status 2 (0 when nothing was odd):

* not a notebook (``bob.txt``, ``carol.ipynb.zip``) or a corrupt notebook → 0 points, "unreadable";
* a notebook of another chapter (its answer cells belong to another exercise set) → 0 points;
* a notebook without this chapter's answer cells (copied into a new notebook) → graded, reported;
* a misnamed file (a folder's notebook not named ``<chapter>.ipynb``) → graded, reported;
* two or more notebooks for one student → the newest one is graded: the highest version number in the
  name (``-v2``, ``(3)``, ``_final`` counts as newest), otherwise the latest modification time; reported;
* a student not on the roster → graded, reported; a roster student without a submission → 0, reported.

The submission time is the student's ``timestamp.txt`` (nbgrader's, ISO 8601) when present, else the
file's modification time.  After the due date the late policy deducts ``penalty`` percent per started
day, and nothing is awarded after ``max_days``.

Outputs in the course folder: ``grades.csv`` (student_id, raw_score, late_penalty, score, max_score,
status, one column per exercise), ``canvas.csv`` and ``moodle.csv`` (ready for the LMS's gradebook
import), ``feedback/<student>.html`` (the student's cells and output, the visible tests' messages, the
hidden tests only as passed/failed), ``report.txt``, and nbgrader's ``gradebook.db`` (gradebook.py: every
test cell's points, for the formgrader and ``nbgrader export``); ``grading-cache/`` makes a rerun regrade
only new or changed submissions.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import multiprocessing as mp
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import gradebook
from .sandbox import Limits

HERE = Path(__file__).resolve().parent
VERSION = re.compile(r"(?:[-_ ]v(\d+)|\((\d+)\)|[-_ ](\d+)$)", re.I)


@dataclass
class Submission:
    student: str
    path: Path | None
    notes: list = field(default_factory=list)      # odd things, each a line in the report
    odd: bool = False
    unreadable: str = ""
    submitted: datetime | None = None


def _version(path: Path):
    stem = path.stem
    if re.search(r"final", stem, re.I):
        return (10 ** 9, path.stat().st_mtime)
    m = VERSION.search(stem)
    n = next((int(g) for g in m.groups() if g), 0) if m else 0
    return (n, path.stat().st_mtime)


def collect(folder: Path, chapter: str):
    """{student: Submission} and a list of report lines for files that belong to no student."""
    subs, stray = {}, []
    folder = Path(folder)
    if not folder.is_dir():
        raise SystemExit(f"no folder of submissions at {folder}")
    candidates = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                           and p.name != "timestamp.txt" and ".ipynb_checkpoints" not in p.parts)
            if not files:
                stray.append(f"{path.name}/: an empty folder, no submission")
                continue
            candidates.setdefault(path.name, []).extend(files)
        else:
            student = path.name.split(".")[0]
            candidates.setdefault(student, []).append(path)
    for student, files in candidates.items():
        sub = Submission(student, None)
        notebooks = [p for p in files if p.suffix == ".ipynb"]
        others = [p for p in files if p.suffix != ".ipynb"]
        for p in others:
            sub.notes.append(f"{p.relative_to(folder)}: not a notebook (.ipynb)"
                             + ("; ignored, the notebook is graded" if notebooks else ""))
            sub.odd = True
        if not notebooks:
            sub.path = others[0]
            sub.unreadable = "not a notebook"
        else:
            chosen = max(notebooks, key=_version)
            if len(notebooks) > 1:
                sub.odd = True
                sub.notes.append(f"{len(notebooks)} notebooks ({', '.join(p.name for p in notebooks)}): graded "
                                 f"{chosen.name}, the newest (highest version in the name, else latest "
                                 f"modification time)")
            if chosen.parent != folder and chosen.name != f"{chapter}.ipynb":
                sub.odd = True
                sub.notes.append(f"{chosen.relative_to(folder)}: misnamed (expected {student}/{chapter}.ipynb); "
                                 "graded anyway")
            sub.path = chosen
        stamp = sub.path.parent / "timestamp.txt"
        if not stamp.exists() or sub.path.parent == folder:
            stamp = folder / student / "timestamp.txt"
        sub.submitted = _timestamp(stamp) if stamp.exists() else datetime.fromtimestamp(
            sub.path.stat().st_mtime, timezone.utc)
        subs[student] = sub
    return subs, stray


def _timestamp(path: Path):
    text = path.read_text().strip()
    try:
        t = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def read_notebook(path: Path, chapter_ids: set, chapter: str):
    """(notebook dict, None) or (None, why it cannot be graded); notes for oddities it can be graded with."""
    try:
        nb = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"corrupt notebook (not JSON: {str(exc)[:80]})", []
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        return None, "corrupt notebook (not a Jupyter notebook of format 4)", []
    ids = set()
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
            return None, "corrupt notebook (a cell is malformed)", []
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(str(s) for s in cell["source"])
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if gid:
            ids.add(gid)
    if ids and not ids & chapter_ids:
        other = sorted({i.rsplit("-", 2)[0] for i in ids})
        return None, f"a notebook of another chapter ({', '.join(other)}), not {chapter}", []
    notes = []
    if not ids:
        notes.append("no answer cells of this chapter (copied into a new notebook?): answers cannot be found")
    return nb, None, notes


# -- one submission, in its own process ---------------------------------------------------------------
def _grade_one(args):
    source_path, nb_path, slot, limits, out_path, reference = args
    from grading.grade import grade
    source = json.loads(Path(source_path).read_text())
    nb = json.loads(Path(nb_path).read_text())
    work = Path(tempfile.mkdtemp(prefix="grading-"))
    try:
        os.chmod(work, 0o700)
        report = grade(source, nb, work, slot, limits, reference=reference)
        Path(out_path).write_text(json.dumps(report.as_dict()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _grade_all(source_nb, jobs, limits, workers, base, progress, skipped, stats_path=None):
    """Run in a process of its own: the instructor's notebook once (grade.Reference), then every job
    ``(student, clean notebook path, report path)`` in a process forked from this one, ``workers`` at a time.

    A forked grader starts with the chapter's modules imported and the reference namespace computed (its
    own copy of it); the student's notebook still starts in a fresh sandbox of its own.
    """
    sys.path.insert(0, str(HERE.parent))
    from grading.grade import Reference
    from grading.sandbox import font_cache
    font_cache()
    try:
        reference = Reference(json.loads(Path(source_nb).read_text()))
    except Exception as exc:  # noqa: BLE001 — then each grader runs the reference itself, and says why
        print(f"the instructor's notebook could not be run once for the batch ({type(exc).__name__}: {exc}); "
              "each submission runs it", file=sys.stderr)
        reference = None
    ctx = mp.get_context("fork")
    running, queue, done, started = {}, list(jobs), 0, time.monotonic()
    free = [base + i for i in range(workers)]
    tty = sys.stderr.isatty()
    while queue or running:
        while queue and free:
            student, clean, out = queue.pop(0)
            slot = free.pop(0)
            proc = ctx.Process(target=_grade_one, args=((str(source_nb), str(clean), slot, limits, str(out),
                                                         reference),))
            proc.start()
            running[student] = (proc, slot, time.monotonic())
        time.sleep(0.02)
        for student, (proc, slot, t0) in list(running.items()):
            overdue = time.monotonic() - t0 > limits.wall + 120
            if proc.is_alive() and not overdue:
                continue
            if overdue:
                proc.kill()
            proc.join()
            del running[student]
            free.append(slot)
            done += 1
            if progress and (tty or done % 10 == 0 or done == len(jobs)):
                rate = done / max(time.monotonic() - started, 1e-9) * 60
                bar = "#" * (20 * done // len(jobs))
                print(("\r" if tty else "") + f"[{bar:<20}] graded {done}/{len(jobs)} "
                      f"({skipped} unchanged or unreadable), {rate:.1f}/min",
                      end="" if tty else "\n", file=sys.stderr, flush=True)
    if progress and jobs and tty:
        print(file=sys.stderr)
    if stats_path:   # CPU time: this process (the reference run) and every grader with its sandbox (reaped)
        import resource
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        Path(stats_path).write_text(json.dumps({
            "graded": len(jobs), "reference_s": reference.seconds if reference else None,
            "reference_cpu_s": own.ru_utime + own.ru_stime, "graders_cpu_s": children.ru_utime + children.ru_stime,
            "grading_s": time.monotonic() - started}))


def _code_hash():
    h = hashlib.sha256()
    for name in ("grade.py", "runner.py", "sandbox.py", "wire.py"):
        h.update((HERE / name).read_bytes())
    return h.hexdigest()


def run(chapter, source_nb: Path, submissions: Path, course: Path, roster: Path | None = None,
        due: str | None = None, penalty: float = 10.0, max_days: float = 7.0, workers: int | None = None,
        limits: Limits | None = None, progress=True):
    """Grade the folder; write the CSVs, feedback and report; return (rows, report lines)."""
    limits = limits or Limits()
    course = Path(course)
    source = json.loads(Path(source_nb).read_text())
    tests = [(c["metadata"]["nbgrader"]["grade_id"], float(c["metadata"]["nbgrader"].get("points", 0)))
             for c in source["cells"] if (c["metadata"].get("nbgrader") or {}).get("grade")]
    chapter_ids = {c["metadata"]["nbgrader"]["grade_id"] for c in source["cells"]
                   if (c["metadata"].get("nbgrader") or {}).get("grade_id")}
    questions = list(dict.fromkeys(_question(g) for g, _ in tests))
    max_score = sum(p for _, p in tests)
    subs, lines = collect(submissions, chapter)
    lines = [f"? {line}" for line in lines]
    roster_rows = _read_roster(roster) if roster else None
    due_at = _parse_due(due) if due else None
    cache = course / "grading-cache"
    cache.mkdir(parents=True, exist_ok=True)
    key_base = hashlib.sha256(Path(source_nb).read_bytes() + _code_hash().encode()
                              + json.dumps(limits.__dict__, sort_keys=True).encode()).hexdigest()

    # what to grade
    jobs, results, status = [], {}, {}
    for student, sub in sorted(subs.items()):
        for note in sub.notes:
            lines.append(f"! {student}: {note}")
        if sub.unreadable:
            status[student] = sub.unreadable
            lines.append(f"! {student}: {sub.path.name}: {sub.unreadable}; 0 points")
            continue
        nb, why, notes = read_notebook(sub.path, chapter_ids, chapter)
        for note in notes:
            lines.append(f"! {student}: {note}")
        if why:
            status[student] = why
            lines.append(f"! {student}: {sub.path.name}: {why}; 0 points")
            continue
        key = hashlib.sha256(key_base.encode() + sub.path.read_bytes()).hexdigest()
        cached = cache / f"{student}.json"
        if cached.exists():
            data = json.loads(cached.read_text())
            if data.get("key") == key:
                results[student] = data["report"]
                continue
        clean = cache / f"{student}.ipynb.json"
        clean.write_text(json.dumps(nb))
        jobs.append((student, key, clean))

    # grade, `workers` at a time, each submission in a process forked from one that ran the instructor's
    # notebook once (that one started by a warm server with the heavy modules imported)
    workers = min(16, workers or max(1, min(len(os.sched_getaffinity(0)), 8)))
    # each worker's sandbox runs as its own uid (61000 + slot); two batches on one machine get
    # different uids, so one batch's fork bomb cannot use up another's process limit
    base = 16 * (os.getpid() % 2000)
    if jobs:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["numpy", "sympy", "IPython.core.inputtransformer2", "grading.grade"])
        outs = []
        for student, key, clean in jobs:
            out = cache / f"{student}.out.json"
            out.unlink(missing_ok=True)
            outs.append((student, clean, out))
        grader = ctx.Process(target=_grade_all, args=(str(source_nb), outs, limits, workers, base, progress,
                                                      len(subs) - len(jobs), str(cache / "batch-stats.json")))
        grader.start()
        grader.join()
        for student, key, clean in jobs:
            out = cache / f"{student}.out.json"
            if out.exists():
                report = json.loads(out.read_text())
                results[student] = report
                (cache / f"{student}.json").write_text(json.dumps({"key": key, "report": report}))
                out.unlink()
            else:
                status[student] = "grading failed (the grader's process ended without a report)"
                lines.append(f"! {student}: {status[student]}; 0 points")

    # rows
    students = sorted(set(subs) | set(roster_rows or {}))
    rows = []
    for student in students:
        info = (roster_rows or {}).get(student, {})
        row = {"student_id": student, "name": info.get("name", ""), "email": info.get("email", ""),
               "raw_score": 0.0, "late_penalty": 0.0, "score": 0.0, "max_score": max_score, "status": "",
               "submitted": ""}
        per_q = {q: 0.0 for q in questions}
        if roster_rows is not None and student not in roster_rows:
            lines.append(f"! {student}: not on the roster; graded")
        if student not in subs:
            row["status"] = "no submission"
            lines.append(f"! {student}: on the roster, no submission; 0 points")
        elif student in results:
            rep = results[student]
            for t in rep["tests"]:
                per_q[_question(t["grade_id"])] += t["points"]
            row["raw_score"] = rep["score"]
            row["status"] = "graded" + ("; " + "; ".join(rep["problems"]) if rep["problems"] else "")
            sub = subs[student]
            row["submitted"] = sub.submitted.isoformat(timespec="minutes") if sub.submitted else ""
            student_due = _parse_due(info["due"]) if info.get("due") else due_at
            if student_due and sub.submitted and sub.submitted > student_due:
                days = -(-(sub.submitted - student_due).total_seconds() // 86400)
                frac = 1.0 if days > max_days else min(1.0, days * penalty / 100)
                row["late_penalty"] = round(rep["score"] * frac, 4)
                row["status"] += f"; late by {int(days)} day(s): −{frac:.0%}"
                lines.append(f"  {student}: submitted {int(days)} day(s) late: −{frac:.0%}")
            _feedback(course / "feedback" / f"{student}.html", student, chapter, rep, row)
        else:
            row["status"] = status.get(student, "not graded")
        row["score"] = round(row["raw_score"] - row["late_penalty"], 4)
        row.update(per_q)
        rows.append(row)

    _write_csv(course / "grades.csv", rows, ["student_id", "raw_score", "late_penalty", "score", "max_score",
                                              "status", "submitted", *questions])
    _write_lms(course, chapter, rows, roster_rows or {}, max_score)
    try:   # nbgrader's gradebook, for its own tools (formgrader, `nbgrader export`)
        gradebook.write(course, chapter, rows, results, roster_rows or {},
                        {s: sub.submitted for s, sub in subs.items()}, due_at)
    except Exception as exc:  # noqa: BLE001 — the CSVs are written; the report says what is missing
        lines.append(f"? gradebook.db not written: {type(exc).__name__}: {str(exc)[:300]}")
    odd = [l for l in lines if l.startswith(("!", "?"))]
    summary = (f"{chapter}: {len(rows)} students, {len(jobs)} graded now, "
               f"{len(results) - len(jobs)} unchanged (cached), {len(odd)} problem(s) to look at")
    (course / "report.txt").write_text("\n".join([summary, *lines]) + "\n")
    return rows, lines, summary


def _question(grade_id: str) -> str:
    return re.sub(r"-(visible|hidden|answer)$", "", grade_id)


def _parse_due(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _read_roster(path: Path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "student_id" not in reader.fieldnames:
            raise SystemExit(f"{path}: a roster is a CSV with a student_id column "
                             f"(optional: name, email, sis_id, login_id, section, due); found {reader.fieldnames}")
        return {r["student_id"].strip(): {k: (v or "").strip() for k, v in r.items() if k}
                for r in reader if (r.get("student_id") or "").strip()}


def _write_csv(path: Path, rows, columns):
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def _write_lms(course: Path, chapter: str, rows, roster, max_score):
    """canvas.csv (Canvas gradebook import) and moodle.csv (Moodle 'Import grades: CSV file')."""
    title = f"{chapter} ({max_score:g} points)"
    canvas = [{"Student": roster.get(r["student_id"], {}).get("name", r["student_id"]),
               "ID": roster.get(r["student_id"], {}).get("canvas_id", ""),
               "SIS User ID": roster.get(r["student_id"], {}).get("sis_id", r["student_id"]),
               "SIS Login ID": roster.get(r["student_id"], {}).get("login_id", ""),
               "Section": roster.get(r["student_id"], {}).get("section", ""),
               title: f"{r['score']:g}"} for r in rows]
    points = {"Student": "    Points Possible", "ID": "", "SIS User ID": "", "SIS Login ID": "", "Section": "",
              title: f"{max_score:g}"}
    _write_csv(course / "canvas.csv", [points, *canvas], ["Student", "ID", "SIS User ID", "SIS Login ID",
                                                          "Section", title])
    moodle = [{"Email address": roster.get(r["student_id"], {}).get("email", ""),
               "ID number": r["student_id"], chapter: f"{r['score']:g}",
               "Feedback": r["status"]} for r in rows]
    _write_csv(course / "moodle.csv", moodle, ["Email address", "ID number", chapter, "Feedback"])


def _feedback(path: Path, student: str, chapter: str, rep: dict, row: dict):
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(chapter)}: feedback for "
             f"{e(student)}</title><style>body{{font-family:sans-serif;max-width:50em;margin:auto;padding:1em}}"
             f"pre{{background:#f4f4f4;padding:.5em;overflow-x:auto;white-space:pre-wrap}}.ok{{color:#065f06}}"
             f".no{{color:#9b1c1c}}</style></head><body><h1>{e(chapter)}: {row['raw_score']:g} of "
             f"{row['max_score']:g} points</h1>"]
    if row["late_penalty"]:
        parts.append(f"<p>Late: −{row['late_penalty']:g} points, score {row['raw_score'] - row['late_penalty']:g}.</p>")
    for problem in rep["problems"]:
        parts.append(f"<p class='no'>{e(problem)}</p>")
    parts.append("<h2>Tests</h2><ul>")
    for t in rep["tests"]:
        mark = "<span class='ok'>passed</span>" if t["passed"] else "<span class='no'>failed</span>"
        kind = "hidden test" if t["hidden"] else "visible test"
        parts.append(f"<li><strong>{e(_question(t['grade_id']))}</strong>, {kind}: {mark}, "
                     f"{t['points']:g}/{t['max_points']:g}")
        if t["message"]:
            parts.append(f"<br>{e(t['message'])}")
        if t["output"] and not t["hidden"]:
            parts.append(f"<pre>{e(t['output'])}</pre>")
        parts.append("</li>")
    parts.append("</ul><h2>Your cells</h2>")
    for c in rep["cells"]:
        if c["kind"] == "chapter" and c["status"] in ("ok", "skipped") and not c["stderr"]:
            continue
        label = {"answer": f"answer {c['grade_id']}", "added": "a cell you added", "chapter": "a chapter cell"}[c["kind"]]
        parts.append(f"<h3>{e(label)}: {e(c['status'])}</h3><pre>{e(c['source'][:4000])}</pre>")
        for what in ("stdout", "stderr"):
            if c[what]:
                parts.append(f"<p>{what}:</p><pre>{e(c[what])}</pre>")
        if c["error"]:
            parts.append(f"<p class='no'>{e(c['error'])}</p>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
