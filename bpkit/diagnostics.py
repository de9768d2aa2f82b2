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
