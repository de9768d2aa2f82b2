"""Central finite differences: the independent oracle for every gradient.

∂J/∂θ_k ≈ (J(θ + ε e_k) − J(θ − ε e_k)) / (2ε), one parameter entry at a time.
The error of this estimate is O(ε²) plus rounding of order ``(machine ε · |J|) / ε``,
so in float64 with ε = 1e-6 it agrees with a correct analytic gradient to
about 1e-9 or better.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .registry import implements


@implements("eq-central-difference")
def numerical_grads(net, X, T, loss="mse", l2=0.0, eps=1e-6):
    """Central-difference estimate of every ∂J/∂θ: equation :eq:`eq-central-difference`.

    Returns ``{name: array}`` with the same keys and shapes as
    ``net.loss_and_grads``.  Each parameter entry is nudged in place and
    restored, so the network is unchanged afterwards.
    """
    eps = _validate.real_scalar(eps, "eps (the finite-difference step)", positive=True)
    X, T, loss_obj, l2 = net._prepare(X, T, loss, l2)

    def objective():
        return net._objective(net._forward(X), T, loss_obj, l2)

    grads = {}
    for name, p in net.parameters():
        g = np.zeros(p.shape, dtype=np.float64)
        flat = p.reshape(-1)  # a view: writing to it changes the network
        for k in range(flat.size):
            old = flat[k]
            flat[k] = old + eps
            up = objective()
            flat[k] = old - eps
            down = objective()
            flat[k] = old
            g.reshape(-1)[k] = (up - down) / (2.0 * eps)
        grads[name] = g
    return grads


@implements("eq-delta-def")
def numerical_deltas(net, X, T, loss="mse", l2=0.0, eps=1e-6):
    """δ^(l) = ∂L/∂Z^(l) for every layer, by its definition: equation :eq:`eq-delta-def`.

    Each entry of each layer's pre-activation Z^(l) is nudged by ±eps (the
    layers before it untouched, the layers after it recomputed) and the loss
    differenced.  Returns a list of (m, n_out) arrays, one per layer — the
    independent oracle for ``net.deltas``.
    """
    eps = _validate.real_scalar(eps, "eps (the finite-difference step)", positive=True)
    X, T, loss_obj, l2 = net._prepare(X, T, loss, l2)
    net._forward(X)
    saved = [(layer.input, layer.Z.copy()) for layer in net.layers]
    out = []
    for l, (inp, Z) in enumerate(saved):
        D = np.zeros(Z.shape, dtype=np.float64)
        for idx in np.ndindex(Z.shape):
            values = []
            for sign in (1.0, -1.0):
                Zp = Z.copy()
                Zp[idx] += sign * eps
                A = net._forward_from(l, inp, Zp)
                values.append(net._objective(A, T, loss_obj, l2))
            D[idx] = (values[0] - values[1]) / (2.0 * eps)
        out.append(D)
    net._forward(X)  # leave the caches as a plain forward pass left them
    return out


def relative_error(a, b, floor=1e-12):
    """``max|a − b| / max(max|a|, max|b|, floor)``: how far two arrays differ, relative to the larger one."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), floor)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def gradcheck(net, X, T, loss="mse", l2=0.0, eps=1e-6):
    """Max relative error between ``net.loss_and_grads`` and central differences.

    The error is ``max |analytic − numeric|`` over every parameter entry,
    divided by the largest gradient entry of the whole network (at least
    1e-8: a network whose gradients are all below 1e-8 counts as flat).  That is the scale of the finite differences' own rounding error
    (about ``machine-ε · |J| / eps``), so a correct backward pass gives about 1e-9
    in float64 even where one layer's gradients are tiny, and a wrong one gives
    something of order 1e-3 to 1.
    """
    _, analytic = net.loss_and_grads(X, T, loss=loss, l2=l2)
    analytic = {k: v.copy() for k, v in analytic.items()}
    numeric = numerical_grads(net, X, T, loss=loss, l2=l2, eps=eps)
    net.loss_and_grads(X, T, loss=loss, l2=l2)  # leave the caches as loss_and_grads left them
    return relative_error(_flat(analytic), _flat(numeric), floor=1e-8)


def _flat(grads):
    return np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in grads.values()])
