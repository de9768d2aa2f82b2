"""Central finite differences: the independent oracle for every gradient.

∂J/∂θ_k ≈ (J(θ + ε e_k) − J(θ − ε e_k)) / (2ε), one parameter entry at a time.
The error of this estimate is O(ε²) plus rounding of order ``(machine ε · |J|) / ε``,
so in float64 with ε = 1e-6 it agrees with a correct analytic gradient to
about 1e-9 or better.  These functions use a network only through its public methods
(``parameters``, ``loss``, ``contexts``) and the layer contract.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .registry import implements

#: the relative error below which :func:`gradcheck` calls a gradient right, by dtype
TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 2e-2}


def _step(eps, dtype):
    """The finite-difference step for ``dtype``: ``eps`` is the float64 step; float32 rounds ~10⁹ times
    more coarsely, so its step is scaled by the cube root of the ratio of machine epsilons (the step
    that balances rounding against the O(ε²) error), ≈ 800× (1e-6 → 8e-4)."""
    if np.dtype(dtype) == np.float64:
        return eps
    return eps * float(np.cbrt(np.finfo(np.dtype(dtype)).eps / np.finfo(np.float64).eps))


def _one_sided(net, X, T, loss, l2, eps):
    """(J(θ), {name: (J(θ + ε e_k), J(θ − ε e_k)) as two float64 arrays}), each entry nudged and restored."""
    step = _step(eps, net.dtype)
    J0 = net.loss(X, T, loss=loss, l2=l2)
    out = {}
    for name, p in net.parameters():
        up = np.zeros(p.shape, dtype=np.float64)
        down = np.zeros(p.shape, dtype=np.float64)
        flat = p.reshape(-1)  # a view: writing to it changes the network
        for k in range(flat.size):
            old = flat[k]
            try:
                flat[k] = old + step
                up.reshape(-1)[k] = net.loss(X, T, loss=loss, l2=l2)
                flat[k] = old - step
                down.reshape(-1)[k] = net.loss(X, T, loss=loss, l2=l2)
            finally:
                flat[k] = old
        out[name] = (up, down)
    return J0, out, step


@implements("eq-central-difference")
def numerical_grads(net, X, T, loss="mse", l2=0.0, eps=1e-6):
    """Central-difference estimate of every ∂J/∂θ: equation :eq:`eq-central-difference`.

    Returns ``{name: array}`` with the same keys and shapes as
    ``net.loss_and_grads``.  Each parameter entry is nudged in place and
    restored, so the network is unchanged afterwards.  ``eps`` is the step for a float64
    network; a float32 network uses a step about 800 times larger (see :func:`~bpkit.gradcheck.gradcheck`).
    """
    eps = _validate.real_scalar(eps, "eps (the finite-difference step)", positive=True)
    _, sides, step = _one_sided(net, X, T, loss, l2, eps)
    return {name: (up - down) / (2.0 * step) for name, (up, down) in sides.items()}


@implements("eq-delta-def")
def numerical_deltas(net, X, T, loss="mse", l2=0.0, eps=1e-6):
    """δ^(l) = ∂L/∂Z^(l) for every layer, by its definition: equation :eq:`eq-delta-def`.

    Each entry of each layer's pre-activation Z^(l) is nudged by ±eps (the
    layers before it untouched, the layers after it recomputed) and the loss
    differenced: the nudge is the layer's context's ``z_offset``, added to Z by the layers that
    have a pre-activation.  Returns a list of (m, n_out) arrays, one per position — the
    independent oracle for ``net.deltas`` (None for a layer without a pre-activation).
    """
    eps = _validate.real_scalar(eps, "eps (the finite-difference step)", positive=True)
    step = _step(eps, net.dtype)
    base = net.contexts()
    net.loss(X, T, loss=loss, l2=l2, contexts=base)
    out = []
    for l, ctx in enumerate(base):
        Z = getattr(ctx, "Z", None)
        if Z is None:
            out.append(None)
            continue
        D = np.zeros(Z.shape, dtype=np.float64)
        for idx in np.ndindex(Z.shape):
            values = []
            for sign in (1.0, -1.0):
                ctxs = net.contexts()
                offset = np.zeros(Z.shape, dtype=Z.dtype)
                offset[idx] = sign * step
                ctxs[l].z_offset = offset
                values.append(net.loss(X, T, loss=loss, l2=l2, contexts=ctxs))
            D[idx] = (values[0] - values[1]) / (2.0 * step)
        out.append(D)
    net.forward(X)  # leave the layers showing a plain forward pass
    return out


def relative_error(a, b, floor=1e-12):
    """``max|a − b| / max(max|a|, max|b|, floor)``: how far two arrays differ, relative to the larger one."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), floor)
    return float(np.abs(a - b).max(initial=0.0) / scale)


class GradcheckResult(float):
    """The relative error of :func:`~bpkit.gradcheck.gradcheck` (a float, as before), with the details.

    * ``ok`` — the error is below ``tol`` (1e-6 for float64, 2e-2 for float32);
    * ``worst`` — ``(name, index)`` of the entry with the largest error;
    * ``kinks`` — ``[(name, index), ...]``: entries whose ±step crosses a kink of the loss (a ReLU
      unit whose pre-activation changes sign, or sits exactly at 0).  There the loss has no
      derivative, the two one-sided differences disagree, and the central difference is no oracle;
      these entries are left out of the error and only required to lie between the two one-sided
      slopes (a valid one-sided derivative, as ReLU'(0) = 0 is), within ``kink_tol`` = tol + 10·step
      (the one-sided slopes' own error): ``kink_error`` is how far outside they lie;
    * ``step``, ``dtype``.
    """

    def __new__(cls, error, **details):
        obj = super().__new__(cls, error)
        obj.__dict__.update(details)
        return obj

    def __repr__(self):
        kinks = f", {len(self.kinks)} entries at a kink skipped" if self.kinks else ""
        return (f"GradcheckResult(error={float(self):.2e}, ok={self.ok}, tol={self.tol:g}, "
                f"dtype={self.dtype}{kinks})")


def gradcheck(net, X, T, loss="mse", l2=0.0, eps=1e-6):
    """Max relative error between ``net.loss_and_grads`` and central differences, as a :class:`~bpkit.gradcheck.GradcheckResult`.

    The error is ``max |analytic − numeric|`` over every parameter entry,
    divided by the largest gradient entry of the whole network (at least
    1e-8: a network whose gradients are all below 1e-8 counts as flat).  That is the scale of the
    finite differences' own rounding error (about ``machine-ε · |J| / eps``), so a correct backward
    pass gives about 1e-9 in float64 even where one layer's gradients are tiny, and a wrong one gives
    something of order 1e-3 to 1.

    The step and the tolerance follow the network's dtype: ``eps`` is the float64 step; float32 uses
    about 800·eps and ``tol`` 2e-2 (its rounding is ~10⁹ times coarser).  Entries whose step crosses a
    kink of a ReLU are reported in ``result.kinks`` and checked only against the one-sided slopes.
    """
    eps = _validate.real_scalar(eps, "eps (the finite-difference step)", positive=True)
    _, analytic = net.loss_and_grads(X, T, loss=loss, l2=l2)
    analytic = {k: np.array(v, dtype=np.float64) for k, v in analytic.items()}
    J0, sides, step = _one_sided(net, X, T, loss, l2, eps)
    tol = TOLERANCE.get(np.dtype(net.dtype), 1e-6)
    central = {k: (up - down) / (2.0 * step) for k, (up, down) in sides.items()}
    scale = max(max((np.abs(v).max(initial=0.0) for v in analytic.values()), default=0.0),
                max((np.abs(v).max(initial=0.0) for v in central.values()), default=0.0), 1e-8)
    # An entry passes if the analytic value matches the central difference, or lies between the two
    # one-sided slopes (J(θ+ε) − J(θ))/ε and (J(θ) − J(θ−ε))/ε.  For a smooth loss these differ by
    # only ε|J''|, so the second test adds nothing there; where the step crosses a kink (a ReLU's z
    # changing sign) they differ by the jump of the derivative, and any value between them is a valid
    # one-sided derivative — ReLU'(0) = 0 is one — while the central difference is their average.
    # One-sided differences are only first-order accurate (error ε|J''|/2), so an entry at a kink is
    # allowed that much outside the interval: kink_tol = tol + 10·ε, relative to the gradients' scale.
    kink_tol = tol + 10 * step
    error, kink_error, worst, kinks = 0.0, 0.0, None, []
    for name, a in analytic.items():
        up, down = sides[name]
        fwd, bwd = (up - J0) / step, (J0 - down) / step
        err = np.abs(a - central[name])
        outside = np.maximum(np.minimum(fwd, bwd) - a, 0.0) + np.maximum(a - np.maximum(fwd, bwd), 0.0)
        at_kink = (err > tol * scale) & (outside <= kink_tol * scale)
        if at_kink.any():
            kinks += [(name, tuple(int(i) for i in idx)) for idx in np.argwhere(at_kink)]
            kink_error = max(kink_error, float(outside[at_kink].max() / scale))
            err = np.where(at_kink, 0.0, err)
        if err.size and err.max() / scale > error:
            error = float(err.max() / scale)
            worst = (name, tuple(int(i) for i in np.unravel_index(err.argmax(), err.shape)))
    net.loss_and_grads(X, T, loss=loss, l2=l2)  # leave the layers showing loss_and_grads
    return GradcheckResult(error, ok=error <= tol and kink_error <= kink_tol, tol=tol, worst=worst, kinks=kinks,
                           kink_error=kink_error, kink_tol=kink_tol, step=step, dtype=np.dtype(net.dtype).name)

