"""bpkit's forward + backward against the bare matrix products and against PyTorch's CPU autograd.

    python benchmarks/bench_mlp.py

The network: depth 4 (four dense layers of width w: w → w → w → w → w), ReLU hidden layers, an
identity output, the mean squared error ½Σ(a − t)²/m.  One pass = ``net.loss_and_grads(X, T)``:
the loss and the gradient of every weight and bias.

* **bare**: the matrix products such a pass cannot avoid, NumPy ``@`` alone on preallocated arrays:
  4 forward A W, 4 weight gradients Aᵀ δ, 3 input gradients δ Wᵀ (the first layer's is not needed).
  No NumPy program computes the same gradients faster; the target is bpkit/bare ≤ 1.10 at batch 256
  and widths ≥ 256.
* **numpy**: the same pass written by hand with NumPy into preallocated arrays (no checks, no
  bookkeeping): the products plus the element-wise work (bias, ReLU, its mask, column sums, the loss)
  that any NumPy implementation must do.  numpy/bare shows what that work costs; bpkit/numpy what
  bpkit adds to it.
* **torch**: the same network and loss in PyTorch (``torch==2.13.0``, optional: skipped with a message
  if absent), forward + ``backward()``.  Targets: bpkit/torch ≤ 0.5 for the book's sizes (widths ≤ 64,
  batch 32); for widths ≥ 256 at most 1.10 × the gap between NumPy's and PyTorch's own matrix products
  (reported as numpy@/torch@).

Medians of interleaved repeats after a warm-up, in one process, in two groups: bpkit, bare and numpy;
then bpkit, torch and the two libraries' matrix products.  In the second group each timed call follows
a 10 ms pause and one untimed call of the same program, so that switching between NumPy's and
PyTorch's thread pools is not timed (see timing.py).
"""

from __future__ import annotations

import os

# OpenBLAS keeps its worker threads spinning for ~2^28 cycles (~0.1 s) after each product; interleaved
# with PyTorch on 2 cores they steal its cores (measured: a PyTorch product right after a NumPy one took
# 20 ms instead of 3.7 ms).  2^20 cycles (~0.3 ms) keeps the threads warm within one pass and idle
# between programs.  Set before NumPy is imported.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "20")

import numpy as np  # noqa: E402

import bpkit as bp  # noqa: E402

# bpkit leaves the C allocator alone unless asked (README, "malloc tuning").  A pass allocates its
# activations and gradients afresh, and above glibc's default mmap threshold (128 KiB) every such array
# is page-faulted in anew; the hand-written pass below writes into preallocated arrays and pays nothing.
# The benchmark measures bpkit as a user who wants speed runs it, with the tuning on, and says so.
MALLOC_TUNED = os.environ.get("BPKIT_MALLOC_TUNING", "1") == "1" and bp.tune_malloc()
print(f"bpkit malloc tuning: {'on' if MALLOC_TUNED else 'off'} (BPKIT_MALLOC_TUNING=0 times it off)")
from timing import fmt, interleaved, machine, save  # noqa: E402

WIDTHS = [16, 64, 256, 512, 1024]
BATCHES = [32, 256]
DTYPES = [np.float64, np.float32]
DEPTH = 4


def repeats_for(width, batch):
    flops = 11 * 2 * batch * width * width
    return max(7, min(200, int(2e9 / max(flops, 1))))


def make_problem(width, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    net = bp.mlp([width] * (DEPTH + 1), activation="relu", output_activation="identity", seed=seed, dtype=dtype)
    X = rng.normal(size=(batch, width)).astype(dtype)
    T = rng.normal(size=(batch, width)).astype(dtype)
    return net, X, T


def products(Ws, X, lib, dtype):
    """The 11 matrix products of one pass with ``lib``'s matmul (NumPy or PyTorch) into preallocated
    outputs, on arrays of the pass's shapes: 4 forward A W, 4 weight gradients Aᵀ δ, 3 input gradients δ Wᵀ."""
    m = X.shape[0]
    acts = [X] + [lib.empty((m, W.shape[1]), dtype=dtype) for W in Ws]
    deltas = [lib.full((m, W.shape[1]), 1e-3, dtype=dtype) for W in Ws]
    dWs = [lib.empty(tuple(W.shape), dtype=dtype) for W in Ws]
    dAs = [lib.empty((m, W.shape[0]), dtype=dtype) for W in Ws]

    def run():
        for l, W in enumerate(Ws):
            lib.matmul(acts[l], W, out=acts[l + 1])
        for l in range(len(Ws) - 1, -1, -1):
            lib.matmul(acts[l].T, deltas[l], out=dWs[l])
            if l > 0:
                lib.matmul(deltas[l], Ws[l].T, out=dAs[l])
    return run


def bare_products(net, X):
    """The pass's matrix products, NumPy @ alone."""
    return products([layer.W for layer in net.layers], X, np, X.dtype)


def numpy_pass(net, X, T):
    """The same pass written by hand with NumPy into preallocated arrays: ReLU layers, identity output,
    MSE, every gradient — no checks, no bookkeeping.  What the element-wise work costs on top of the
    bare products, for any NumPy implementation.  ``run()`` returns the loss and the lists of
    weight and bias gradients, first layer first."""
    Ws, bs = [l.W for l in net.layers], [l.b for l in net.layers]
    m, L = X.shape[0], len(Ws)
    Zs = [np.empty((m, W.shape[1]), X.dtype) for W in Ws]
    As = [X] + [np.empty_like(Z) for Z in Zs[:-1]] + [Zs[-1]]
    dWs = [np.empty_like(W) for W in Ws]
    ds = [np.empty_like(Z) for Z in Zs]
    scale = X.dtype.type(1.0 / m)

    def run():
        for l in range(L):
            np.matmul(As[l], Ws[l], out=Zs[l])
            Zs[l] += bs[l]
            if l < L - 1:
                np.maximum(Zs[l], 0, out=As[l + 1])
        d = ds[-1]
        np.subtract(As[-1], T, out=d)
        loss = 0.5 * float(np.vdot(d, d)) / m
        d *= scale
        grads = []
        for l in range(L - 1, -1, -1):
            np.matmul(As[l].T, d, out=dWs[l])
            grads.append(d.sum(axis=0))
            if l > 0:
                np.matmul(d, Ws[l].T, out=ds[l - 1])
                np.multiply(ds[l - 1], As[l] > 0, out=ds[l - 1])
                d = ds[l - 1]
        return loss, dWs, grads[::-1]
    return run


def torch_pass(net, X, T):
    import torch

    torch.set_num_threads(__import__("os").cpu_count() or 1)
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    layers = []
    for i, layer in enumerate(net.layers):
        lin = torch.nn.Linear(layer.n_in, layer.n_out, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.W.T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.b.copy()))
        layers.append(lin)
        if i < len(net.layers) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    m = X.shape[0]

    def run():
        for p in model.parameters():
            p.grad = None
        out = model(Xt)
        loss = ((out - Tt) ** 2).sum() * (0.5 / m)
        loss.backward()
        return loss.detach()

    # the same numbers as bpkit (checked once, not timed)
    L, grads = net.loss_and_grads(X, T)
    loss = run()
    tol = 1e-8 if X.dtype == np.float64 else 2e-3
    assert abs(float(loss) - L) <= tol * max(1.0, abs(L)), (float(loss), L)
    g0 = model[0].weight.grad.numpy().T
    assert np.allclose(g0, grads["0.W"], rtol=tol * 10, atol=tol), "torch and bpkit disagree"
    return run


def torch_matmuls(net, X):
    """The pass's matrix products, PyTorch's matmul alone."""
    import torch

    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    return products([torch.from_numpy(layer.W.copy()) for layer in net.layers], torch.from_numpy(X), torch, dtype)


def have_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main(widths=WIDTHS, batches=BATCHES, dtypes=DTYPES):
    torch_ok = have_torch()
    if not torch_ok:
        print("PyTorch is not installed: the torch columns are skipped (pip install torch==2.13.0)")
    rows = []
    for dtype in dtypes:
        for batch in batches:
            for width in widths:
                net, X, T = make_problem(width, batch, dtype)
                bpkit = lambda: net.loss_and_grads(X, T)  # noqa: E731
                repeats = repeats_for(width, batch)
                # NumPy programs among themselves, then against PyTorch: two interleaved groups, so that the
                # hand-over of the cores between OpenBLAS's and PyTorch's thread pools cannot blur the
                # comparison with the bare products
                t = interleaved({"bpkit": bpkit, "bare": bare_products(net, X), "numpy": numpy_pass(net, X, T)},
                                repeats=repeats, warmup=3, settle=1)
                row = {"dtype": np.dtype(dtype).name, "batch": batch, "width": width,
                       "bpkit_s": t["bpkit"], "bare_s": t["bare"], "vs_bare": t["bpkit"] / t["bare"],
                       "numpy_s": t["numpy"], "numpy_vs_bare": t["numpy"] / t["bare"],
                       "vs_numpy": t["bpkit"] / t["numpy"]}
                if torch_ok:
                    t = interleaved({"bpkit": bpkit, "torch": torch_pass(net, X, T), "numpy@": bare_products(net, X),
                                     "torch@": torch_matmuls(net, X)}, repeats=repeats, warmup=3, settle=1,
                                    pause=0.01)
                    row.update(torch_s=t["torch"], vs_torch=t["bpkit"] / t["torch"], bpkit_with_torch_s=t["bpkit"],
                               matmul_gap=t["numpy@"] / t["torch@"])
                rows.append(row)
    print_table(rows, torch_ok)
    save("mlp", {"rows": rows, "machine": machine()})
    return rows


def verdict(row):
    notes = []
    if row["batch"] == 256 and row["width"] >= 256:
        notes.append("bare ok" if row["vs_bare"] <= 1.10 else "bare OVER")
    if "vs_torch" in row:
        if row["width"] <= 64 and row["batch"] == 32:
            notes.append("torch ok" if row["vs_torch"] <= 0.5 else "torch OVER")
        if row["width"] >= 256:
            notes.append("torch ok" if row["vs_torch"] <= 1.10 * row["matmul_gap"] else "torch OVER")
    return ", ".join(notes)


def print_table(rows, torch_ok):
    head = (f"{'dtype':8} {'batch':>5} {'width':>5} {'bpkit':>10} {'bare @':>10} {'bpkit/bare':>10} "
            f"{'numpy/bare':>10} {'bpkit/numpy':>11}")
    if torch_ok:
        head += f" {'torch':>10} {'bpkit/torch':>11} {'numpy@/torch@':>13}"
    print(head + "  targets")
    for r in rows:
        line = (f"{r['dtype']:8} {r['batch']:>5} {r['width']:>5} {fmt(r['bpkit_s']):>10} {fmt(r['bare_s']):>10} "
                f"{r['vs_bare']:>10.2f} {r['numpy_vs_bare']:>10.2f} {r['vs_numpy']:>11.2f}")
        if torch_ok:
            line += f" {fmt(r['torch_s']):>10} {r['vs_torch']:>11.2f} {r['matmul_gap']:>13.2f}"
        print(line + "  " + verdict(r))


if __name__ == "__main__":
    main()
