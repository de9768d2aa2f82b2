"""Autograding that holds up: hostile submissions score no more than a blank notebook, careless but
correct ones get full marks, and every odd file is reported (tools/grading, via tools/coursework.py).

One released chapter (notation, 8 points), one batch of submissions graded by two workers with short
limits; the assertions read what the instructor reads: grades.csv, report.txt, the LMS CSVs, feedback.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import coursework  # noqa: E402
from grading import sandbox  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sandbox.available() is not None, reason=str(sandbox.available()))]

CHAPTER = "notation"
ANSWERS = ["notation-translate-answer", "notation-fold-answer", "notation-guide-answer"]


def solution(source, gid):
    for c in source["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == gid:
            return re.sub(r"[ \t]*### (BEGIN|END) SOLUTION\n", "", "".join(c["source"]))
    raise KeyError(gid)


def notebook(release, source, answers=None, after=None, drop_tests=False):
    """The released notebook with answers (default: the solutions; None: left blank) and extra cells
    inserted after the cell with a given grade_id (``after={gid: [source, ...]}``)."""
    nb = copy.deepcopy(release)
    cells = []
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution"):
            given = (answers or {}).get(gid, solution(source, gid))
            if given is not None:
                cell["source"] = given
        if drop_tests and meta.get("grade"):
            if "hidden" in gid:
                continue
            cell["source"] = "pass"
        cells.append(cell)
        for i, extra in enumerate((after or {}).get(gid, [])):
            cells.append({"cell_type": "code", "id": f"added-{gid}-{i}", "metadata": {}, "execution_count": None,
                          "outputs": [], "source": extra})
    nb["cells"] = cells
    return nb


BLANK = {gid: None for gid in ANSWERS}

# attacks, each in the first answer cell; the answers themselves are left blank or wrong
HOSTILE = {
    "patch_allclose": "import numpy as np, builtins\nnp.allclose = lambda *a, **k: True\n"
                      "builtins.abs = lambda x: 0\nAssertionError = type('AssertionError', (Exception,), {})\n"
                      "isinstance = lambda *a: True\nimport bpkit.symbolic\n"
                      "bpkit.symbolic.assert_close = bpkit.symbolic.assert_same = lambda *a, **k: None\n"
                      "assert_close = assert_same = lambda *a, **k: None\nanswer = 'anything'",
    "input_transformer": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
                         "answer = 'pass'",
    "always_equal": "class Eq:\n    def __eq__(self, other): return True\n    def __len__(self): return 2\n"
                    "    def __iter__(self): return iter((1, 2))\nanswer = Eq()\n"
                    "class M:\n    shape = (2, 1)\n    def __eq__(self, o): return True\n    def __sub__(self, o): return 0\n"
                    "    def __getitem__(self, k): return 0\nY_fixed_trick = M()",
    "read_solutions": "import glob, json, os, re\nfound = []\n"
                      "for pattern in ['@COURSE@/source/*/*.ipynb', '@ROOT@/chapters/*.md', '/tmp/*/*.ipynb',"
                      " '/home/*/*.ipynb', '/proc/1/root/@COURSE@/source/*/*.ipynb']:\n"
                      "    found += glob.glob(pattern, recursive=True)\n"
                      "for path in found:\n    try:\n        text = open(path).read()\n    except OSError:\n        continue\n"
                      "    m = re.search(r'answer = \\((\\d), (\\d)\\)', text)\n"
                      "    if m: answer = (int(m.group(1)), int(m.group(2)))\n"
                      "print('read', len(found))",
    "leave_process": "import os, time, subprocess\n"
                     "code = ('import os, time, sys\\nos.setsid()\\nfor _ in range(200):\\n'\n"
                     "        '    for p in @TARGETS@:\\n'\n"
                     "        '        try: open(p, \"w\").write(\"student_id,raw_score\\\\nleave_process,8\\\\n\")\\n'\n"
                     "        '        except OSError: pass\\n'\n"
                     "        '    time.sleep(0.1)\\n')\n"
                     "subprocess.Popen([os.sys.executable, '-c', code], start_new_session=True,\n"
                     "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                     "pid = os.fork()\nif pid == 0:\n    os.setsid()\n    exec(code)\n    os._exit(0)\n"
                     "answer = None",
    "resources": "import os, signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                 "hog = []\ntry:\n    while True: hog.append(bytearray(10 ** 8))\nexcept MemoryError:\n    hog = None\n"
                 "while True:\n    try:\n        os.fork()\n    except OSError:\n        break\n"
                 "while True:\n    pass",
}

# the notebooks' answers are right; the students are careless around them
CARELESS = {
    "stderr_and_warnings": ({}, {gid: ["import sys, warnings\nprint('debug', file=sys.stderr)\n"
                                       "warnings.warn('careful')\nimport numpy as np\nnp.log(0)"] for gid in ANSWERS}),
    "exit_after_answers": ({ANSWERS[0]: "answer = (2, 0)\nimport sys\nsys.exit(0)"},
                           {ANSWERS[2]: ["exit()"], ANSWERS[1]: ["quit()", "raise ValueError('oops')"]}),
    "loop_ignoring_ctrl_c": ({}, {ANSWERS[0]: ["import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                               "while True:\n    pass"],
                                  ANSWERS[1]: ["import os\nos._exit(1)"]}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    course = tmp / "course"
    released = coursework.release(CHAPTER, course, timeout=3)
    release = json.loads(released.read_text())
    source = json.loads((course / "source" / CHAPTER / f"{CHAPTER}.ipynb").read_text())
    subs = tmp / "subs"
    subs.mkdir()

    def put(name, nb):
        (subs / f"{name}.ipynb").write_text(json.dumps(nb))

    put("blank", notebook(release, source, BLANK))
    put("correct", notebook(release, source))
    put("partly_wrong", notebook(release, source, {ANSWERS[0]: "answer = (0, 2)"}))   # passes visible only
    put("raises", notebook(release, source, {ANSWERS[1]: "def fold_bias_rows(W, b):\n    raise ValueError('I give up')"}))
    put("loops", notebook(release, source, {ANSWERS[2]: "while True:\n    pass"}))
    put("edits_tests", notebook(release, source, {**BLANK, ANSWERS[0]: "answer = 'wrong'"}, drop_tests=True))
    targets = [str(course / "grades.csv"), str(course / "gradebook.db"), "/home/student/x"]
    for name, attack in HOSTILE.items():
        put(name, notebook(release, source, {**BLANK, ANSWERS[0]: attack.replace('@COURSE@', str(course)).replace('@ROOT@', str(ROOT)).replace('@TARGETS@', repr(targets))}))
    for name, (answers, after) in CARELESS.items():
        put(name, notebook(release, source, answers, after))
    # odd files
    (subs / "corrupt.ipynb").write_text('{"cells": [')
    (subs / "notes.txt").write_text("I could not upload my notebook")
    other = json.loads(json.dumps(release).replace('"notation-', '"chain-rule-'))
    put("other_chapter", other)
    (subs / "dave").mkdir()
    (subs / "dave" / "notation.ipynb").write_text(json.dumps(notebook(release, source, BLANK)))
    (subs / "dave" / "notation-v2.ipynb").write_text(json.dumps(notebook(release, source)))
    (subs / "erin").mkdir()
    (subs / "erin" / "my homework.ipynb").write_text(json.dumps(notebook(release, source)))
    (subs / "late").mkdir()
    (subs / "late" / "notation.ipynb").write_text(json.dumps(notebook(release, source)))
    due = datetime.now(timezone.utc) + timedelta(days=1)
    (subs / "late" / "timestamp.txt").write_text(str(due + timedelta(hours=36)))
    roster = tmp / "roster.csv"
    students = ["blank", "correct", "partly_wrong", "raises", "loops", "edits_tests", *HOSTILE, *CARELESS, "corrupt", "notes", "other_chapter",
                "dave", "erin", "late", "absent"]
    roster.write_text("student_id,name,email,sis_id\n" + "".join(
        f"{s},Student {s},{s}@example.edu,S{i:04d}\n" for i, s in enumerate(students)))

    started = time.monotonic()
    grades = coursework.autograde(CHAPTER, subs, course, roster=roster, due=due.isoformat(),
                                  penalty=25, max_days=3, workers=2, timeout=3, wall=60, progress=False)
    seconds = time.monotonic() - started
    problems = list(coursework.autograde.problems)
    time.sleep(2)   # a process left behind would have written by now
    rows = {r["student_id"]: r for r in csv.DictReader(open(grades))}
    return {"course": course, "rows": rows, "source": source, "release": release, "problems": problems, "seconds": seconds, "subs": subs,
            "roster": roster, "graded": len(list(subs.glob("*.ipynb"))) + 3}


def score(graded, student):
    return float(graded["rows"][student]["raw_score"])


def test_blank_and_correct_anchor_the_scale(graded):
    assert score(graded, "blank") == 0.0
    assert score(graded, "correct") == 8.0
    assert {float(r["max_score"]) for r in graded["rows"].values()} == {8.0}
    header = next(csv.reader(open(graded["course"] / "grades.csv")))
    assert header[:5] == ["student_id", "raw_score", "late_penalty", "score", "max_score"]
    assert {"notation-translate", "notation-fold", "notation-guide"} <= set(header)
    row = graded["rows"]["correct"]
    assert (float(row["notation-translate"]), float(row["notation-fold"]), float(row["notation-guide"])) == (2, 3, 3)


def test_wrong_answers_lose_only_their_points(graded):
    assert (score(graded, "partly_wrong"), score(graded, "raises"), score(graded, "loops")) == (7.0, 5.0, 5.0)


def test_the_attack_on_the_solutions_works_outside_the_sandbox(graded):
    """The read_solutions notebook would find the answer if it could read the course folder."""
    code = HOSTILE["read_solutions"].replace("@COURSE@", str(graded["course"])).replace("@ROOT@", str(ROOT))
    ns = {}
    exec(code, ns)
    assert ns["answer"] == (2, 0)
    page = (graded["course"] / "feedback" / "read_solutions.html").read_text()
    assert "read 0" in page                 # in the sandbox it found no file at all


@pytest.mark.parametrize("student", ["edits_tests", *HOSTILE])
def test_no_hostile_submission_scores_above_the_blank_one(graded, student):
    assert score(graded, student) <= score(graded, "blank"), graded["rows"][student]


def test_a_process_left_behind_changes_no_grade(graded):
    text = (graded["course"] / "grades.csv").read_text()
    assert "leave_process,8\n" not in text and text.startswith("student_id,raw_score,late_penalty")


@pytest.mark.parametrize("student", list(CARELESS) + ["dave", "erin"])
def test_careless_but_correct_submissions_get_full_marks(graded, student):
    assert score(graded, student) == 8.0, graded["rows"][student]


def test_the_report_names_what_happened(graded):
    feedback = (graded["course"] / "feedback" / "loop_ignoring_ctrl_c.html").read_text()
    assert "ran longer than 3" in feedback
    resources = (graded["course"] / "feedback" / "resources.html").read_text()
    assert "ran longer than 3" in resources and "not defined" in resources


def test_every_odd_file_is_reported(graded):
    problems = "\n".join(graded["problems"])
    assert re.search(r"corrupt: .*corrupt notebook", problems)
    assert re.search(r"notes: .*not a notebook", problems)
    assert re.search(r"other_chapter: .*another chapter \(chain-rule\)", problems)
    assert re.search(r"dave: 2 notebooks .* graded notation-v2.ipynb", problems)
    assert re.search(r"erin: erin/my homework.ipynb: misnamed", problems)
    assert re.search(r"absent: on the roster, no submission", problems)
    for student in ("corrupt", "notes", "other_chapter", "absent"):
        assert float(graded["rows"][student]["score"]) == 0.0 and graded["rows"][student]["status"] != "graded"
    report = (graded["course"] / "report.txt").read_text()
    assert all(p in report for p in graded["problems"])


def test_late_policy_and_lms_files(graded):
    late = graded["rows"]["late"]
    assert float(late["raw_score"]) == 8.0 and float(late["score"]) == 4.0   # 2 started days × 25 %
    canvas = list(csv.reader(open(graded["course"] / "canvas.csv")))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "notation (8 points)"]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][-1] == "8"
    assert ["Student correct", "", "S0001", "", "", "8"] in canvas
    moodle = {r["ID number"]: r for r in csv.DictReader(open(graded["course"] / "moodle.csv"))}
    assert moodle["late"]["notation"] == "4" and moodle["late"]["Email address"] == "late@example.edu"


def test_feedback_shows_output_and_visible_messages_never_hidden_tests(graded):
    course = graded["course"]
    source = (course / "source" / CHAPTER / f"{CHAPTER}.ipynb").read_text()
    hidden = [line.strip() for block in re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS",
                                                   json.loads(json.dumps(source)), re.S)
              for line in block.encode().decode("unicode_escape").splitlines() if len(line.strip()) > 15]
    assert hidden
    for page in (course / "feedback").glob("*.html"):
        text = page.read_text()
        leaked = [line for line in hidden if line in text]
        assert not leaked, (page.name, leaked[:2])
    careless = (course / "feedback" / "stderr_and_warnings.html").read_text()
    assert "debug" in careless and "careful" in careless
    blank = (course / "feedback" / "blank.html").read_text()
    assert "answer must be a pair" not in blank          # its answer is missing: the reason, not the message
    assert "NotImplementedError" in blank


def test_rerun_regrades_only_changed_submissions(graded, capsys):
    subs, course = graded["subs"], graded["course"]
    correct = json.loads((subs / "blank.ipynb").read_text())
    (subs / "blank.ipynb").write_text(json.dumps(json.loads((subs / "correct.ipynb").read_text())))
    try:
        started = time.monotonic()
        coursework.autograde(CHAPTER, subs, course, roster=graded["roster"], workers=2, timeout=3, wall=60,
                             progress=False)
        seconds = time.monotonic() - started
    finally:
        (subs / "blank.ipynb").write_text(json.dumps(correct))
    out = capsys.readouterr().out
    assert "1 graded now" in out, out[:500]
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "grades.csv"))}
    assert float(rows["blank"]["raw_score"]) == 8.0
    assert seconds < graded["seconds"] / 2


def test_make_autograde_exits_nonzero_on_odd_submissions(graded, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(graded["course"] / "source", course / "source")
    shutil.copytree(graded["course"] / "release", course / "release")
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "broken.ipynb").write_text("not json")
    with pytest.raises(SystemExit) as exit_:
        coursework.main(["autograde", CHAPTER, str(subs), "--course", str(course), "--timeout", "3"])
    assert exit_.value.code == 2


def test_the_sandbox_leaves_no_process_behind(tmp_path):
    """A process the notebook detaches (setsid, double fork) dies with the sandbox: it never writes the
    file it waits to write into the student's own (host-visible) working directory."""
    work = tmp_path / "work"
    work.mkdir()
    slot = 7
    detach = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        time.sleep(1.5)\n        open('/home/student/late.txt', 'w').write('still here')\n"
              "        os._exit(0)\n    os._exit(0)\nopen('/home/student/early.txt', 'w').write('ok')")
    with sandbox.Sandbox(work, slot, sandbox.Limits(cell_timeout=5, wall=30)) as box:
        box.request({"op": "cell", "index": 0, "source": detach, "names": [], "timeout": 5}, 5)
        assert box.receive(20)["status"] == "ok"
    time.sleep(2.5)
    assert (work / "early.txt").exists() and not (work / "late.txt").exists()
    if os.geteuid() == 0:
        uid = sandbox.SANDBOX_UID + slot
        left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _uid(p) == uid]
        assert not left, [(p / "cmdline").read_bytes() for p in left]


def _uid(proc: Path):
    try:
        return proc.stat().st_uid
    except OSError:
        return None


def test_the_grades_are_in_nbgraders_gradebook(graded):
    """nbgrader's own API reads back, for every student, the points of every test cell that grades.csv sums."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = {r["student_id"]: r for r in csv.DictReader(open(graded["course"] / "grades.csv"))}  # the latest run's
    with Gradebook(f"sqlite:///{graded['course']}/gradebook.db") as gb:
        students = {s.id: s for s in gb.students}
        assert students["correct"].email == "correct@example.edu" and students["correct"].last_name == "correct"
        checked = 0
        for sid, row in rows.items():
            if row["status"] == "no submission":
                with pytest.raises(MissingEntry):
                    gb.find_submission(CHAPTER, sid)
                continue
            submission = gb.find_submission(CHAPTER, sid)
            per_question = {}
            for grade in submission.notebooks[0].grades:
                assert not grade.needs_manual_grade
                question = re.sub(r"-(visible|hidden)$", "", grade.name)
                per_question[question] = per_question.get(question, 0.0) + grade.score
            assert per_question == {q: float(row[q]) for q in per_question}, sid
            assert sum(per_question.values()) == float(row["raw_score"]) == submission.score, sid
            assert submission.notebooks[0].late_submission_penalty == float(row["late_penalty"]), sid
            checked += 1
        assert checked == len(rows) - 1 and gb.find_submission(CHAPTER, "correct").score == 8.0
