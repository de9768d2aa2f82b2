"""What a gradient looks like layer by layer (used by the residual chapter and the widgets)."""

from __future__ import annotations

import numpy as np


def layer_gradient_norms(net, X, T, loss="mse", l2=0.0):
    """The Frobenius norm ‖∂J/∂W^(l)‖ of each layer's weight gradient (parameters named W), first layer first.

    A layer used at several positions counts once; a layer without a W is left out.
    """
    _, grads = net.loss_and_grads(X, T, loss=loss, l2=l2)
    return np.array([np.linalg.norm(g) for name, g in grads.items() if name.rsplit(".", 1)[-1] == "W"])


def delta_norms(net, X, T, loss="mse", l2=0.0):
    """The norm ‖δ^(l)‖ of each position's δ = ∂L/∂Z, first layer first (NaN for a layer without a Z)."""
    net.loss_and_grads(X, T, loss=loss, l2=l2)
    return np.array([np.nan if d is None else np.linalg.norm(d) for d in net.deltas])


def dead_relu_fraction(net, X):
    """The fraction of dead units of each ReLU layer: units whose ReLU output is 0 for every sample of ``X``.

    One entry per position, first layer first; NaN for a layer whose activation is not ReLU (its units
    are never "dead" in this sense).  A dead unit has f′(z) = 0 for every sample, so its δ, and the
    gradient of every weight into it, is 0 on this batch: gradient descent cannot revive it.
    Runs a forward pass (``net.forward(X)``); the network is not changed.
    """
    from .protocol import Context

    layers = getattr(net, "layers", None)
    if not layers:
        raise TypeError(f"dead_relu_fraction(net, X): net must be a bpkit network (bp.mlp(...)); got {type(net).__name__}")
    ctxs = [Context() for _ in layers]
    net.forward(X, ctxs)
    out = np.full(len(layers), np.nan)
    for i, (layer, ctx) in enumerate(zip(layers, ctxs)):
        act = getattr(layer, "activation", None)
        Z = getattr(ctx, "Z", None)
        if getattr(act, "name", None) == "relu" and Z is not None:  # ReLU(z) = 0 exactly when z ≤ 0
            out[i] = float(np.mean(np.all(np.asarray(Z) <= 0, axis=0)))
    return out
