"""Gradient descent: θ ← θ − η ∂J/∂θ."""

from __future__ import annotations

import numpy as np

from . import _validate
from .registry import implements


@implements("eq-sgd")
def sgd_step(net, grads, lr):
    """One gradient-descent step θ ← θ − η ∂J/∂θ, in place: equation :eq:`eq-sgd`.

    ``grads`` is the dict returned by ``net.loss_and_grads`` (name → array of the
    parameter's shape); ``lr`` is the learning rate η > 0.  Every parameter of
    the network must have a gradient.  ``lr`` must be finite, > 0 and at most
    ``bpkit._validate.MAX_LR`` (1e4).  Raises ValueError, and leaves the network
    unchanged, if a step would produce a non-finite parameter (divergence).
    """
    lr = _validate.learning_rate(lr)
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be the dict name -> array from loss_and_grads, got {type(grads).__name__}")
    params = dict(net.parameters())
    missing = sorted(set(params) - set(grads))
    extra = sorted(set(grads) - set(params))
    if missing or extra:
        raise ValueError(f"grads do not match the network's parameters: missing {missing}, unknown {extra}")
    updates = {}
    for name, p in params.items():
        g = _validate.numeric_array(grads[name], f"grads[{name!r}]")
        if g.shape != p.shape:
            raise ValueError(f"grads[{name!r}] has shape {g.shape}, but parameter {name} has shape {p.shape}")
        with np.errstate(over="ignore", invalid="ignore"):  # reported below as a clear error
            new = p - p.dtype.type(lr) * g.astype(p.dtype, copy=False)
        if not np.isfinite(new).all():
            raise ValueError(
                f"the step would make parameter {name} non-finite (lr={lr} too large, or the "
                f"gradient overflowed); the network is left unchanged"
            )
        updates[name] = new
    for name, new in updates.items():
        params[name][...] = new
    return net
