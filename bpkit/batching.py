"""A batch gradient is the average of the per-sample gradients.

The guide's pseudocode loops over the samples, accumulates each sample's θ',
and divides by m.  With a mean loss L = (1/m) Σ_i ℓ_i this is exactly the batch
gradient that Aᵀ δ computes in one product, because the 1/m sits inside δ.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .losses import get_loss
from .registry import implements


@implements("eq-batch-average")
def per_sample_average(net, X, T, loss="mse", l2=0.0):
    """∂J/∂θ = (1/m) Σ_i ∂ℓ_i/∂θ (+ λW), one sample at a time: equation :eq:`eq-batch-average`.

    Each sample i is run through ``net.loss_and_grads`` alone (a batch of one,
    whose loss is ℓ_i) and the gradients are averaged — or summed, for
    ``MSE(reduction="sum")`` where L = Σ_i ℓ_i.  The L2 term λW is added once.
    Returns ``(J, grads)`` like ``net.loss_and_grads``.
    """
    loss_obj = get_loss(loss)
    l2 = _validate.real_scalar(l2, "l2 (the penalty λ)", nonnegative=True)
    net.loss_and_grads(X, T, loss=loss_obj, l2=l2)  # validates X and T
    X, T = np.asarray(X), np.asarray(T)
    m = X.shape[0]
    scale = 1.0 if getattr(loss_obj, "reduction", "mean") == "sum" else 1.0 / m
    total, acc = 0.0, None
    for i in range(m):
        value, grads = net.loss_and_grads(X[i:i + 1], T[i:i + 1], loss=loss_obj, l2=0.0)
        total += value
        if acc is None:
            acc = {k: np.array(v, dtype=np.float64) for k, v in grads.items()}
        else:
            for k, v in grads.items():
                acc[k] += v
    params = dict(net.parameters())
    grads = {}
    for k, v in acc.items():
        g = v * scale
        if l2 and k.rsplit(".", 1)[-1] == "W":  # the penalty is on the weights (eq-l2-grad)
            g = g + l2 * params[k]
        grads[k] = g.astype(net.dtype)
    J = total * scale
    if l2:
        J += 0.5 * l2 * sum(float(np.vdot(p, p)) for k, p in params.items() if k.rsplit(".", 1)[-1] == "W")
    net.loss_and_grads(X, T, loss=loss_obj, l2=l2)  # leave the layers showing the whole batch
    return J, grads
