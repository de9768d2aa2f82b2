"""Autograding at course scale: N synthetic submissions of one chapter through tools/grading's batch.

    python benchmarks/bench_grading.py [N] [CHAPTER]        # default: 300 submissions of hidden-delta
    BENCH_GRADING_N=30 make bench                            # fewer, for a quick look

The chapter is released with ``tools/coursework.py`` into a temporary course folder; the N submissions
are the released notebook with every answer filled in: a third with the solutions, a third with one
answer wrong (its function's values or its value doubled), a third left blank (``raise NotImplementedError()``).
``coursework.autograde`` grades them as ``make autograde`` does (each submission in its own bubblewrap
sandbox, the tests in a grader process of its own, as many workers as cores), first cold (the grading
cache empty), then again with nothing changed (every submission cached).

Reported: the wall time, submissions per minute and per minute per core, CPU seconds per submission (the
graders and their sandboxes, from the batch's ``grading-cache/batch-stats.json``; the instructor's notebook,
run once per batch, apart), the time 300 submissions take at that rate (target: ≤ 15 min on 2 cores), the
load average sampled every 2 s during the run (other work on the machine — other builds, other tests —
slows grading: the figures are only comparable at a low load), and where one submission's time goes
(the sandbox's start, the chapter cells it runs and skips, the tests).  Results: results/grading.json.
Not part of ``make test`` (tests/test_benchmarks.py runs the programs' small parts only).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import statistics
import sys
import tempfile
import threading
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


def _sample_load(into, done, every=2.0):
    while not done.wait(every):
        into.append(os.getloadavg()[0])


def profile(chapter):
    """Where one correct submission's time goes, measured step by step (seconds, wall clock)."""
    import subprocess

    import coursework
    from grading import grade as G
    from grading import sandbox

    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        tmp = Path(tmp)
        work = tmp / "work"
        work.mkdir()
        t = time.perf_counter()
        subprocess.run(sandbox.command(work, 15, sandbox.Limits(), ["true"]), check=True, capture_output=True)
        out["bwrap start (true)"] = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run(sandbox.command(work, 15, sandbox.Limits(), [sandbox.PYTHON, "-I", "-c", "pass"]), check=True,
                       capture_output=True)
        out["python start in the sandbox"] = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run(sandbox.command(work, 15, sandbox.Limits(), [sandbox.PYTHON, "-I", "-c",
                       "import numpy, sympy, matplotlib.pyplot, bpkit, IPython.core.interactiveshell"]), check=True,
                       capture_output=True)
        out["python + numpy, sympy, matplotlib, bpkit, IPython"] = time.perf_counter() - t
        with contextlib.redirect_stdout(io.StringIO()):
            released = coursework.release(chapter, tmp / "course")
        source = json.loads((tmp / "course" / "source" / chapter / f"{chapter}.ipynb").read_text())
        subs = tmp / "subs"
        subs.mkdir()
        submissions(json.loads(released.read_text()), source, 1, subs)
        nb = json.loads((subs / "student000.ipynb").read_text())
        t = time.perf_counter()
        reference = G.Reference(source)
        out["reference run (once per batch)"] = time.perf_counter() - t
        items = G.plan(source, nb)
        skip = G.skippable(items)
        box_time, t = {}, time.perf_counter()
        with sandbox.Sandbox(work, 15) as box:
            box_time["start"] = time.perf_counter() - t
            ran, skipped = 0.0, 0.0
            for i, item in enumerate(items):
                if item[0] not in ("chapter", "answer", "added"):
                    continue
                src = item[2] if item[0] == "answer" else item[1]
                t = time.perf_counter()
                box.request({"op": "cell", "index": i, "source": src, "names": [], "timeout": 60}, 60)
                box.receive(90)
                if i in skip:
                    skipped += time.perf_counter() - t
                else:
                    ran += time.perf_counter() - t
        out["sandbox start to ready (runner, IPython)"] = box_time["start"]
        out["cells the sandbox runs"] = ran
        out["cells it skips (if it ran them)"] = skipped
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:    # as a batch's grader: forked from the process holding the reference
            try:
                G.grade(source, nb, work, 15, reference=reference)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        out["one submission graded (fork, sandbox, cells, tests)"] = time.perf_counter() - t
    return {k: round(v, 3) for k, v in out.items()}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else int(os.environ.get("BENCH_GRADING_N", 300))
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
        runs, loads = {}, []
        for label in ("cold", "unchanged"):
            done = threading.Event()
            sampler = threading.Thread(target=_sample_load, args=(loads if label == "cold" else [], done), daemon=True)
            sampler.start()
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                grades = coursework.autograde(chapter, subs, course, workers=cores, progress=False)
            runs[label] = time.perf_counter() - t0
            done.set()
            sampler.join()
            if label == "cold":
                stats = json.loads((course / "grading-cache" / "batch-stats.json").read_text())
                reports = [json.loads(p.read_text())["report"] for p in (course / "grading-cache").glob("student*.json")
                           if not p.name.endswith(".ipynb.json")]
        import csv

        rows = list(csv.DictReader(open(grades)))
    if len(rows) != n or coursework.autograde.problems:
        raise SystemExit(f"grading went wrong: {len(rows)} rows for {n} submissions; {coursework.autograde.problems}")
    scores = {}
    for row in rows:
        scores.setdefault(float(row["raw_score"]), 0)
        scores[float(row["raw_score"])] += 1
    per_min = n / runs["cold"] * 60
    cells = [c for r in reports for c in r["cells"]]
    sandbox_cpu = sum(r.get("sandbox_cpu") or 0.0 for r in reports)   # as each sandbox's runner reports it
    per_sub = {"wall_s": statistics.median(r["seconds"] for r in reports),
               "chapter_cells_run": sum(c["kind"] == "chapter" and c["status"] != "skipped" for c in cells) / len(reports),
               "chapter_cells_skipped": sum(c["status"] == "skipped" for c in cells) / len(reports)}
    result = {"chapter": chapter, "n": n, "kinds": kinds, "workers": cores, "cold_s": runs["cold"],
              "unchanged_s": runs["unchanged"], "per_min": per_min, "per_min_per_core": per_min / cores,
              "minutes_for_300": 300 / per_min, "target_300_min": TARGET_300_MIN,
              "cpu_s_per_submission": (stats["graders_cpu_s"] + sandbox_cpu) / max(stats["graded"], 1),
              "sandbox_cpu_s_per_submission": sandbox_cpu / max(stats["graded"], 1),
              # what the CPU alone allows on these cores (an idle machine; waits and the batch's start not counted)
              "minutes_for_300_cpu_bound": (300 * (stats["graders_cpu_s"] + sandbox_cpu) / max(stats["graded"], 1)
                                            + stats["reference_cpu_s"]) / cores / 60,
              "reference_s": stats["reference_s"], "reference_cpu_s": stats["reference_cpu_s"],
              "per_submission": per_sub, "profile": profile(chapter),
              "scores": {f"{k:g}": v for k, v in sorted(scores.items())},
              "load_before": load_before, "load_during_mean": statistics.mean(loads) if loads else load_before,
              "load_during_max": max(loads) if loads else load_before, "load_after": os.getloadavg()[0]}
    path = save("grading", result)
    print(f"{chapter}: {n} submissions ({', '.join(f'{v} {k}' for k, v in kinds.items())}) on {cores} cores")
    print(f"  cold: {runs['cold']:.1f} s = {per_min:.1f} submissions/min = {per_min / cores:.1f} per min per core")
    print(f"  unchanged (cached): {runs['unchanged']:.1f} s")
    print(f"  300 submissions: {300 / per_min:.1f} min (target ≤ {TARGET_300_MIN:.0f} min)  → {path.name}")
    print(f"  CPU per submission: {result['cpu_s_per_submission']:.2f} s (grader + sandbox, of which the "
          f"sandbox {result['sandbox_cpu_s_per_submission']:.2f} s); the instructor's "
          f"notebook once per batch: {stats['reference_s']:.1f} s")
    print(f"  300 submissions if the CPU were all ours: {result['minutes_for_300_cpu_bound']:.1f} min (a lower bound)")
    print(f"  one submission: median {per_sub['wall_s']:.1f} s wall; chapter cells run in the sandbox "
          f"{per_sub['chapter_cells_run']:.0f}, skipped {per_sub['chapter_cells_skipped']:.0f}")
    print("  profile of one correct submission (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result["profile"].items()))
    print(f"  scores: {result['scores']}; load average {load_before:.1f} before, during: mean "
          f"{result['load_during_mean']:.1f}, max {result['load_during_max']:.1f} (on {cores} cores; other work on "
          f"the machine counts)")


if __name__ == "__main__":
    main()
