"""What a gradient looks like layer by layer (used by the residual chapter and the widgets)."""

from __future__ import annotations

import numpy as np


def layer_gradient_norms(net, X, T, loss="mse", l2=0.0):
    """The Frobenius norm ‖∂J/∂W^(l)‖ of each layer's weight gradient, first layer first."""
    _, grads = net.loss_and_grads(X, T, loss=loss, l2=l2)
    return np.array([np.linalg.norm(grads[f"{i}.W"]) for i in range(len(net.layers))])


def delta_norms(net, X, T, loss="mse", l2=0.0):
    """The norm ‖δ^(l)‖ of each layer's δ = ∂L/∂Z, first layer first."""
    net.loss_and_grads(X, T, loss=loss, l2=l2)
    return np.array([np.linalg.norm(d) for d in net.deltas])
