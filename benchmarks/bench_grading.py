"""Autograding at course scale: N synthetic submissions of one chapter through tools/grading's batch.

    python benchmarks/bench_grading.py [N] [CHAPTER]        # default: 30 submissions of hidden-delta

The chapter is released with ``tools/coursework.py`` into a temporary course folder; the N submissions
are the released notebook with every answer filled in: a third with the solutions, a third with one
answer wrong (its function's values or its value doubled), a third left blank (``raise NotImplementedError()``).  ``coursework.autograde`` grades them
as ``make autograde`` does (each submission in its bubblewrap sandbox, the tests in the grader's own
process, as many workers as cores), first cold (the grading cache empty), then again with nothing changed
(every submission cached).  Reported: submissions per minute, per minute per core, and the time 300
submissions would take at that rate (target: ≤ 15 min on 2 cores).  Results: results/grading.json.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from timing import save

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
TARGET_300_MIN = 15.0


def _solution(source, gid):
    for cell in source["cells"]:
        if (cell["metadata"].get("nbgrader") or {}).get("grade_id") == gid:
            return re.sub(r"[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n", "", "".join(cell["source"]))
    raise KeyError(gid)


def _spoil(answer: str) -> str:
    """A line that makes an answer cell's result wrong: its function's values or its value doubled."""
    defs = re.findall(r"^def (\w+)", answer, re.MULTILINE)
    if defs:
        return f"_right = {defs[0]}\n{defs[0]} = lambda *a, **k: 2 * _right(*a, **k)\n"
    names = re.findall(r"^(\w+)\s*=", answer, re.MULTILINE)
    return f"{names[-1]} = 2 * {names[-1]}\n"


def submissions(release: dict, source: dict, n: int, folder: Path):
    """n notebooks: solutions (i % 3 == 0), one answer wrong (1), blank (2)."""
    answers = [(c["metadata"].get("nbgrader") or {}).get("grade_id") for c in release["cells"]
               if (c["metadata"].get("nbgrader") or {}).get("solution")]
    kinds = {"correct": 0, "one wrong": 0, "blank": 0}
    for i in range(n):
        nb = json.loads(json.dumps(release))
        kind = ["correct", "one wrong", "blank"][i % 3]
        kinds[kind] += 1
        for cell in nb["cells"]:
            gid = (cell["metadata"].get("nbgrader") or {}).get("grade_id")
            if gid in answers and kind != "blank":
                cell["source"] = _solution(source, gid)
                if kind == "one wrong" and gid == answers[(i // 3) % len(answers)]:
                    cell["source"] += "\n" + _spoil(cell["source"])
        (folder / f"student{i:03d}.ipynb").write_text(json.dumps(nb))
    return kinds


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else int(os.environ.get("BENCH_GRADING_N", 30))
    chapter = argv[1] if len(argv) > 1 else "hidden-delta"
    import coursework
    from grading import sandbox

    why = sandbox.available()
    if why is not None:
        raise SystemExit(f"the grading sandbox is not available here: {why}")
    cores = len(os.sched_getaffinity(0))
    load_before = os.getloadavg()[0]  # other work on the machine slows grading: recorded with the result
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        course, subs = tmp / "course", tmp / "subs"
        subs.mkdir()
        with contextlib.redirect_stdout(io.StringIO()):
            released = coursework.release(chapter, course)
        source = json.loads((course / "source" / chapter / f"{chapter}.ipynb").read_text())
        kinds = submissions(json.loads(released.read_text()), source, n, subs)
        runs = {}
        for label in ("cold", "unchanged"):
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                grades = coursework.autograde(chapter, subs, course, workers=cores, progress=False)
            runs[label] = time.perf_counter() - t0
        import csv

        rows = list(csv.DictReader(open(grades)))
    if len(rows) != n or coursework.autograde.problems:
        raise SystemExit(f"grading went wrong: {len(rows)} rows for {n} submissions; {coursework.autograde.problems}")
    scores = {}
    for row in rows:
        scores.setdefault(float(row["raw_score"]), 0)
        scores[float(row["raw_score"])] += 1
    per_min = n / runs["cold"] * 60
    result = {"chapter": chapter, "n": n, "kinds": kinds, "workers": cores, "cold_s": runs["cold"],
              "unchanged_s": runs["unchanged"], "per_min": per_min, "per_min_per_core": per_min / cores,
              "minutes_for_300": 300 / per_min, "target_300_min": TARGET_300_MIN,
              "scores": {f"{k:g}": v for k, v in sorted(scores.items())},
              "load_before": load_before, "load_after": os.getloadavg()[0]}
    path = save("grading", result)
    print(f"{chapter}: {n} submissions ({', '.join(f'{v} {k}' for k, v in kinds.items())}) on {cores} cores")
    print(f"  cold: {runs['cold']:.1f} s = {per_min:.1f} submissions/min = {per_min / cores:.1f} per min per core")
    print(f"  unchanged (cached): {runs['unchanged']:.1f} s")
    print(f"  300 submissions: {300 / per_min:.1f} min (target ≤ {TARGET_300_MIN:.0f} min)  → {path.name}")
    print(f"  scores: {result['scores']}; load average {load_before:.1f} before, {result['load_after']:.1f} after")


if __name__ == "__main__":
    main()
