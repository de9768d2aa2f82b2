"""bpkit's forward + backward against a hand-written, preallocated NumPy pass and against PyTorch.

    python benchmarks/bench_mlp.py          (or: make bench-mlp, which also writes benchmarks/README.md)

The network: depth 4 (four dense layers of width w: w → w → w → w → w), ReLU hidden layers, an
identity output, the mean squared error ½Σ(a − t)²/m.  One pass = ``net.loss_and_grads(X, T)``:
the loss and the gradient of every weight and bias, with every check bpkit makes.

* **numpy**: the same pass written by hand with NumPy into arrays allocated once, before the timing
  (no checks, no bookkeeping): the matrix products plus the element-wise work (bias, ReLU, its mask,
  column sums, the loss) any NumPy implementation does.  Target: bpkit/numpy ≤ 1.05 at batch 256 and
  widths ≥ 256, float32 and float64.
* **bare**: the 11 matrix products alone (4 forward A W, 4 weight gradients Aᵀ δ, 3 input gradients
  δ Wᵀ) into preallocated arrays: the floor no NumPy program goes below (numpy/bare shows what the
  element-wise work costs).
* **torch**: the same network, weights and loss in PyTorch's CPU autograd (``torch==2.13.0``,
  optional: skipped with a message if absent), forward + ``backward()``; its loss and gradients are
  checked against bpkit's once, untimed.  Target: bpkit/torch ≤ 0.5 on the book's sizes (widths ≤ 64,
  batch 32).

All in one process, one thread for every library (OpenBLAS through threadpoolctl, PyTorch by
``torch.set_num_threads(1)``), same shapes and dtype.  Each repeat runs the programs one after the
other (the order reversed every other repeat), each timed call right after an untimed call of the same
program (timed warm, as in a training loop), in CPU time of the process; a ratio is the median
over the repeats of the two programs' times in the same repeat, so a busy moment of the machine hits
both alike.  bpkit's opt-in malloc tuning is off unless ``BPKIT_MALLOC_TUNING=1``; the output says which.
"""

from __future__ import annotations

import os
import statistics

import numpy as np

import bpkit as bp

# bpkit leaves the C allocator alone unless asked (README, "malloc tuning"); by default it is measured so
MALLOC_TUNED = os.environ.get("BPKIT_MALLOC_TUNING", "0") == "1" and bp.tune_malloc()
from timing import fmt, machine, paired_ratio, samples, save  # noqa: E402

WIDTHS = [16, 64, 256, 512, 1024]
BATCHES = [32, 256]
DTYPES = [np.float64, np.float32]
DEPTH = 4
TARGET_NUMPY = 1.05  # bpkit/numpy at batch 256, widths ≥ 256
TARGET_TORCH = 0.5   # bpkit/torch at batch 32, widths ≤ 64


def repeats_for(width, batch):
    flops = 11 * 2 * batch * width * width
    return max(21, min(300, int(6e9 / max(flops, 1))))


def make_problem(width, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    net = bp.mlp([width] * (DEPTH + 1), activation="relu", output_activation="identity", seed=seed, dtype=dtype)
    X = rng.normal(size=(batch, width)).astype(dtype)
    T = rng.normal(size=(batch, width)).astype(dtype)
    return net, X, T


def bare_products(net, X):
    """The pass's 11 matrix products, NumPy's matmul alone into preallocated outputs."""
    Ws = [layer.W for layer in net.layers]
    m, dtype = X.shape[0], X.dtype
    acts = [X] + [np.empty((m, W.shape[1]), dtype) for W in Ws]
    deltas = [np.full((m, W.shape[1]), 1e-3, dtype) for W in Ws]
    dWs = [np.empty_like(W) for W in Ws]
    dAs = [np.empty((m, W.shape[0]), dtype) for W in Ws]

    def run():
        for l, W in enumerate(Ws):
            np.matmul(acts[l], W, out=acts[l + 1])
        for l in range(len(Ws) - 1, -1, -1):
            np.matmul(acts[l].T, deltas[l], out=dWs[l])
            if l > 0:
                np.matmul(deltas[l], Ws[l].T, out=dAs[l])
    return run


def numpy_pass(net, X, T):
    """The same pass written by hand with NumPy into preallocated arrays: ReLU layers, identity output,
    MSE, every gradient — no checks, no bookkeeping.  ``run()`` returns the loss and the lists of
    weight and bias gradients, first layer first."""
    Ws, bs = [l.W for l in net.layers], [l.b for l in net.layers]
    m, L = X.shape[0], len(Ws)
    Zs = [np.empty((m, W.shape[1]), X.dtype) for W in Ws]
    As = [X] + [np.empty_like(Z) for Z in Zs[:-1]] + [Zs[-1]]
    dWs = [np.empty_like(W) for W in Ws]
    dbs = [np.empty_like(b) for b in bs]
    ds = [np.empty_like(Z) for Z in Zs]
    masks = [np.empty(Z.shape, bool) for Z in Zs]
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
        for l in range(L - 1, -1, -1):
            np.matmul(As[l].T, d, out=dWs[l])
            np.add.reduce(d, axis=0, out=dbs[l])
            if l > 0:
                np.matmul(d, Ws[l].T, out=ds[l - 1])
                np.greater(As[l], 0, out=masks[l - 1])
                np.multiply(ds[l - 1], masks[l - 1], out=ds[l - 1])
                d = ds[l - 1]
        return loss, dWs, dbs
    return run


def torch_pass(net, X, T):
    """The same network, weights and loss in PyTorch, forward + backward; checked against bpkit once."""
    import torch

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
    for i, lin in enumerate(model[::2]):
        assert np.allclose(lin.weight.grad.numpy().T, grads[f"{i}.W"], rtol=tol * 10, atol=tol), "torch and bpkit disagree"
        assert np.allclose(lin.bias.grad.numpy(), grads[f"{i}.b"], rtol=tol * 10, atol=tol), "torch and bpkit disagree"
    return run


def have_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def one_thread(torch_ok):
    """Pin every library to one thread; returns the threadpoolctl limiter (a context manager)."""
    from threadpoolctl import threadpool_limits

    if torch_ok:
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only settable before PyTorch's first parallel work
            pass
    return threadpool_limits(limits=1)


def main(widths=WIDTHS, batches=BATCHES, dtypes=DTYPES):
    torch_ok = have_torch()
    print(f"bpkit malloc tuning: {'on' if MALLOC_TUNED else 'off'} (BPKIT_MALLOC_TUNING=1 turns it on)")
    if not torch_ok:
        print("PyTorch is not installed: the torch comparison is skipped (pip install torch==2.13.0)")
    load_before = os.getloadavg()
    rows = []
    with one_thread(torch_ok):
        info = machine()  # records the BLAS thread count in force during the timing
        for dtype in dtypes:
            for batch in batches:
                for width in widths:
                    rows.append(measure(width, batch, dtype, torch_ok))
    load_after = os.getloadavg()
    print_table(rows, torch_ok)
    print(f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} cores")
    save("mlp", {"rows": rows, "machine": info, "malloc_tuned": bool(MALLOC_TUNED), "torch": torch_version(),
                 "threads": 1, "clock": "process CPU time", "load_before": list(load_before),
                 "load_after": list(load_after), "targets": {"vs_numpy": TARGET_NUMPY, "vs_torch": TARGET_TORCH}})
    return rows


def torch_version():
    if not have_torch():
        return None
    import torch

    return torch.__version__


def measure(width, batch, dtype, torch_ok):
    net, X, T = make_problem(width, batch, dtype)
    programs = {"bpkit": lambda: net.loss_and_grads(X, T), "numpy": numpy_pass(net, X, T),
                "bare": bare_products(net, X)}
    if torch_ok:
        programs["torch"] = torch_pass(net, X, T)
    s = samples(programs, repeats=repeats_for(width, batch), warmup=3, settle=1)
    row = {"dtype": np.dtype(dtype).name, "batch": batch, "width": width, "repeats": len(s["bpkit"]),
           **{f"{name}_s": statistics.median(t) for name, t in s.items()},
           "vs_numpy": paired_ratio(s["bpkit"], s["numpy"]), "numpy_vs_bare": paired_ratio(s["numpy"], s["bare"])}
    if torch_ok:
        row["vs_torch"] = paired_ratio(s["bpkit"], s["torch"])
    return row


def verdict(row):
    """The targets a row is measured against, each "ok" or "MISSED"."""
    notes = []
    if row["batch"] == 256 and row["width"] >= 256:
        notes.append(f"numpy {'ok' if row['vs_numpy'] <= TARGET_NUMPY else 'MISSED'}")
    if "vs_torch" in row and row["batch"] == 32 and row["width"] <= 64:
        notes.append(f"torch {'ok' if row['vs_torch'] <= TARGET_TORCH else 'MISSED'}")
    return ", ".join(notes)


def print_table(rows, torch_ok):
    head = (f"{'dtype':8} {'batch':>5} {'width':>5} {'bpkit':>10} {'numpy':>10} {'bpkit/numpy':>11} "
            f"{'bare':>10} {'numpy/bare':>10}")
    if torch_ok:
        head += f" {'torch':>10} {'bpkit/torch':>11}"
    print(head + "  targets")
    for r in rows:
        line = (f"{r['dtype']:8} {r['batch']:>5} {r['width']:>5} {fmt(r['bpkit_s']):>10} {fmt(r['numpy_s']):>10} "
                f"{r['vs_numpy']:>11.3f} {fmt(r['bare_s']):>10} {r['numpy_vs_bare']:>10.2f}")
        if torch_ok:
            line += f" {fmt(r['torch_s']):>10} {r['vs_torch']:>11.2f}"
        print(line + "  " + verdict(r))


if __name__ == "__main__":
    main()
