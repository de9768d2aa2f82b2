"""Initial weight scales: how the size of δ changes from layer to layer at initialization.

At initialization the weights are independent draws with mean 0 and variance σ_w².  One step of the
hidden-delta recursion then multiplies the mean square of δ by ``n_next · σ_w² · E[f'(z)²]``
(equation eq-delta-variance); Xavier/Glorot and He initialization choose σ_w so that this factor is about 1.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate
from .network import mlp
from .registry import implements

SCHEMES = ("lecun", "xavier", "he")


@implements("eq-delta-variance")
def delta_variance_factor(n_next, weight_var, fprime_sq_mean):
    """E[δ^(l)²] / E[δ^(l+1)²] = n_(l+1) σ_w² E[f'(z^(l))²] at initialization: equation :eq:`eq-delta-variance`."""
    n_next = _validate.width(n_next, "n_next (the width of the next layer)")
    weight_var = _validate.real_scalar(weight_var, "weight_var (σ_w²)", nonnegative=True)
    fprime_sq_mean = _validate.real_scalar(fprime_sq_mean, "fprime_sq_mean (E[f'(z)²])", nonnegative=True)
    return n_next * weight_var * fprime_sq_mean


def init_std(n_in, n_out, scheme):
    """The standard deviation of the initial weights: "lecun" √(1/n_in), "xavier" √(2/(n_in + n_out)), "he" √(2/n_in)."""
    n_in = _validate.width(n_in, "n_in")
    n_out = _validate.width(n_out, "n_out")
    if scheme == "lecun":
        return math.sqrt(1.0 / n_in)
    if scheme == "xavier":
        return math.sqrt(2.0 / (n_in + n_out))
    if scheme == "he":
        return math.sqrt(2.0 / n_in)
    raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")


def scaled_mlp(sizes, activation="tanh", output_activation="identity", std=None, scheme="lecun", seed=0):
    """``bp.mlp`` whose weights of layer l are N(0, s²) draws: s = ``std`` (a number) or ``init_std(n_in, n_out, scheme)``."""
    net = mlp(sizes, activation=activation, output_activation=output_activation, seed=seed)
    for layer in net.layers:
        s = init_std(layer.n_in, layer.n_out, scheme) if std is None else _validate.real_scalar(std, "std", nonnegative=True)
        layer.W *= s * np.sqrt(layer.n_in)  # bp.mlp draws N(0, 1/n_in)
    return net
