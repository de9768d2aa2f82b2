"""Timing helpers for the benchmarks: interleaved repeats, warm-up excluded, medians.

Programs that are compared run in the same process, one after the other inside each repeat, so that
a slow moment of the machine hits all of them alike; the figure reported is the median per program.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).with_name("results")


def samples(programs: dict, repeats: int = 15, warmup: int = 2, clock=time.process_time, settle: int = 0) -> dict:
    """Seconds of each call, per program: ``{name: [s_1, …, s_repeats]}``, the programs interleaved.

    Repeat k runs every program once, one after the other (in reverse order every other repeat), so the k-th samples of all programs share the
    machine's moment: their ratio (:func:`paired_ratio`) is little affected by other work on the machine.
    ``clock`` is the process's CPU time by default (time spent waiting for a core is not counted; with
    one thread per library that is the honest measure on a shared machine).  ``settle`` untimed calls of a
    program run right before each timed one, so that every program is timed after itself, as in a training
    loop, and not after whichever program precedes it (which may or may not share its arrays in the cache).
    """
    for _ in range(warmup):
        for fn in programs.values():
            fn()
    out = {name: [] for name in programs}
    order = list(programs.items())
    for k in range(repeats):
        for name, fn in (order if k % 2 == 0 else order[::-1]):  # no program always runs first
            for _ in range(settle):
                fn()
            t0 = clock()
            fn()
            out[name].append(clock() - t0)
    return out


def paired_ratio(a: list, b: list) -> float:
    """The median over the repeats of a_k / b_k: the ratio of two programs timed in the same repeats."""
    return statistics.median(x / y for x, y in zip(a, b))


def interleaved(programs: dict, repeats: int = 15, warmup: int = 2, inner: int = 1, settle: int = 0,
                pause: float = 0.0) -> dict:
    """Median seconds per call of each program (a dict name -> zero-argument callable).

    ``settle`` untimed calls of a program run right before each of its timed calls, after ``pause``
    seconds of sleep: when the programs use different thread pools (NumPy's OpenBLAS, PyTorch's
    OpenMP), the previous program's threads go idle during the pause and the hand-over of the cores
    happens in the untimed calls.  Measured on 2 cores: without the pause, bpkit interleaved with
    PyTorch took 7.9 ms instead of 4.6 ms (float32, batch 256, width 256); with 10 ms, 4.9 ms.
    """
    for _ in range(warmup):
        for fn in programs.values():
            fn()
    samples = {name: [] for name in programs}
    for _ in range(repeats):
        for name, fn in programs.items():
            if pause:
                time.sleep(pause)
            for _ in range(settle):
                fn()
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - t0) / inner)
    return {name: statistics.median(s) for name, s in samples.items()}


def machine() -> dict:
    """Cores, BLAS and versions of the machine the figures were measured on."""
    import numpy as np

    info = {"date": date.today().isoformat(), "python": platform.python_version(), "numpy": np.__version__,
            "cores": os.cpu_count(), "cpu": platform.processor() or platform.machine()}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [f"{p['internal_api']} {p['version']} ({p['num_threads']} threads)" for p in threadpool_info()
                        if p.get("user_api") == "blas"]
    except ImportError:  # pragma: no cover
        info["blas"] = ["unknown (threadpoolctl missing)"]
    return info


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2))
    return path


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
