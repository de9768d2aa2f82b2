"""The per-neuron teaching version against the vectorised loss_and_grads (the factor the book quotes).

    python benchmarks/bench_per_neuron.py
"""

from __future__ import annotations

import numpy as np

import bpkit as bp
from timing import fmt, interleaved, save

CASES = [([2, 2, 1], 4), ([4, 8, 8, 2], 32), ([16, 32, 32, 4], 64)]


def main() -> list[dict]:
    rows = []
    for sizes, m in CASES:
        net = bp.mlp(sizes, activation="sigmoid", seed=0)
        rng = np.random.default_rng(0)
        X, T = rng.normal(size=(m, sizes[0])), rng.uniform(size=(m, sizes[-1]))
        t = interleaved({
            "vectorized": lambda: net.loss_and_grads(X, T),
            "per_neuron": lambda: bp.per_neuron.loss_and_grads(net, X, T),
        }, repeats=7, warmup=1)
        rows.append({"sizes": sizes, "batch": m, "vectorized_s": t["vectorized"], "per_neuron_s": t["per_neuron"],
                     "factor": t["per_neuron"] / t["vectorized"]})
    print(f"{'network':>14} {'batch':>5} {'vectorized':>11} {'per-neuron':>11} {'factor':>8}")
    for r in rows:
        print(f"{'-'.join(map(str, r['sizes'])):>14} {r['batch']:>5} {fmt(r['vectorized_s']):>11} "
              f"{fmt(r['per_neuron_s']):>11} {r['factor']:>7.0f}x")
    save("per_neuron", {"rows": rows})
    return rows


if __name__ == "__main__":
    main()
