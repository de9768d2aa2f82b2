"""Widget latency: a slider change → new gradients and a redrawn figure, in the kernel.

    python benchmarks/bench_widgets.py

Each explorer's slider is moved programmatically (as a browser's message would) between two values
(the backward sweep's stage and the gradient-step button are "moved" the same way);
the time is that of the whole update (bpkit's loss_and_grads, the figure redrawn in place and
encoded, the HTML tables).  Target: median <= 30 ms.  Each case reports the median wall time and the
median CPU time of the process; the load average says how busy the machine was.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

import bpkit as bp  # noqa: E402
from timing import fmt, save  # noqa: E402

TARGET = 0.030


def latency(explorer, key, values, repeats=40, warmup=3):
    """(median wall seconds, median CPU seconds of this process) of one update.

    On a busy machine the wall time counts the waits for a core; the CPU time is close to what the update
    takes on an idle one (the target is the wall time on an idle machine)."""
    for v in values[:warmup]:
        explorer.set(key, v)
    wall, cpu = [], []
    for i in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        explorer.set(key, values[i % len(values)])
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


class Stage:
    """The sweep's "next stage" button as a benchmark case: ``set("stage", k)`` shows stage k."""

    def __init__(self, sweep):
        self.sweep = sweep

    def set(self, _key, value):
        self.sweep.go(value)


class Step:
    """The explorer's "take a gradient step" button: every ``set`` is one click."""

    def __init__(self, explorer):
        self.explorer = explorer

    def set(self, _key, _value):
        self.explorer.step_button.click()


class Frame:
    """One tick of the playground's "play" (it takes ``steps_per_frame`` steps and redraws everything)."""

    def __init__(self, playground):
        self.playground = playground

    def set(self, _key, _value):
        self.playground.step(self.playground.steps_per_frame)


def cases():
    W = bp.widgets
    wave = [round(v, 2) for v in np.linspace(-1.5, 1.5, 13)]
    yield "NetworkExplorer 2-2-1", W.NetworkExplorer((2, 2, 1)), "0.W[0,1]", wave
    yield "NetworkExplorer 2-2-2", W.NetworkExplorer((2, 2, 2)), "0.W[0,1]", wave
    yield "NetworkExplorer 2-2-2-1", W.NetworkExplorer((2, 2, 2, 1)), "2.W[0,0]", wave
    ex = W.NetworkExplorer((2, 3, 1), data=bp.data.xor(), loss="bce", lr=3.0, seed=3)
    W.LossLandscape(ex, "1.W[0,0]", "1.W[1,0]")
    yield "NetworkExplorer 2-3-1 + LossLandscape (a plotted weight)", ex, "1.W[0,0]", wave
    yield "NetworkExplorer 2-3-1 + LossLandscape (another weight)", ex, "0.W[0,0]", wave
    ex = W.NetworkExplorer((2, 3, 1), data=bp.data.xor(), loss="bce", lr=3.0, seed=3)
    W.DescentLandscape(ex, "1.W[0,0]", "1.W[1,0]")
    yield "NetworkExplorer 2-3-1 + DescentLandscape (a plotted weight)", ex, "1.W[0,0]", wave
    yield "NetworkExplorer 2-3-1 + DescentLandscape (another weight)", ex, "0.W[0,0]", wave
    ex = W.NetworkExplorer((2, 2, 2, 1))
    sweep = W.BackpropSweep(ex, start="hidden")
    yield "NetworkExplorer 2-2-2-1 + BackpropSweep (slider)", ex, "0.W[0,1]", wave
    yield "BackpropSweep 2-2-2-1 (next stage)", Stage(sweep), "stage", list(range(len(sweep.stages)))
    yield "NetworkExplorer 2-2-2-1 (one gradient step)", Step(W.NetworkExplorer((2, 2, 2, 1), lr=0.5)), "step", [1]
    ex = W.NetworkExplorer((2, 3, 1), data=bp.data.xor(), loss="bce", lr=3.0, seed=3)
    W.DescentLandscape(ex, "1.W[0,0]", "1.W[1,0]")
    yield "NetworkExplorer 2-3-1 + DescentLandscape (one gradient step)", Step(ex), "step", [1]
    pg = W.Playground(dataset="two moons", hidden=(4, 4))
    yield "Playground 2-4-4-1, 140 points (one frame of play: 5 steps)", Frame(pg), "play", [1]
    pg = W.Playground(dataset="spirals", hidden=(8, 8, 8))
    yield "Playground 2-8-8-8-1, 140 points (one frame of play: 5 steps)", Frame(pg), "play", [1]
    yield "ForwardExplorer", W.ForwardExplorer(), "W[0,0]", wave
    yield "ChainExplorer", W.ChainExplorer(), "X2", wave
    yield "OutputDeltaExplorer", W.OutputDeltaExplorer(), "z", wave
    yield "BatchExplorer", W.BatchExplorer(), "m", [1, 3, 5, 8, 2, 6]
    yield "RegularizationExplorer", W.RegularizationExplorer(), "w", wave
    yield "DepthExplorer", W.DepthExplorer(), "depth", [4, 10, 16, 22, 28, 30]


def main():
    load_before = os.getloadavg()[0]
    rows = []
    for name, explorer, key, values in cases():
        wall, cpu = latency(explorer, key, values)
        rows.append({"explorer": name, "slider": key, "median_s": wall, "median_cpu_s": cpu})
    load_after = os.getloadavg()[0]
    print(f"{'explorer':62} {'slider':9} {'median':>9} {'CPU':>9}  target <= {fmt(TARGET)}")
    for r in rows:
        flag = "ok" if r["median_s"] <= TARGET else "OVER" + (" (CPU ok: a busy machine)" if r["median_cpu_s"] <= TARGET else "")
        print(f"{r['explorer']:62} {r['slider']:9} {fmt(r['median_s']):>9} {fmt(r['median_cpu_s']):>9}  {flag}")
    print(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores")
    save("widgets", {"target_s": TARGET, "rows": rows, "load_before": load_before, "load_after": load_after})
    return rows


if __name__ == "__main__":
    main()
