"""Small generated data sets for training examples (seeded: the same arrays on every run)."""

from __future__ import annotations

import numpy as np

from . import _validate


def xor():
    """The four XOR points: X (4, 2) and targets T (4, 1); no single-layer network separates them."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    T = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, T


def two_moons(n=200, noise=0.1, seed=0):
    """Two interleaved half circles: X (n, 2), labels T (n, 1) in {0, 1}, ``noise`` = Gaussian std."""
    n = _validate.width(n, "n")
    noise = _validate.real_scalar(noise, "noise", nonnegative=True)
    rng = np.random.default_rng(seed)
    n_top = n // 2
    theta_top = rng.uniform(0.0, np.pi, n_top)
    theta_bot = rng.uniform(0.0, np.pi, n - n_top)
    top = np.column_stack([np.cos(theta_top), np.sin(theta_top)])
    bottom = np.column_stack([1.0 - np.cos(theta_bot), 0.5 - np.sin(theta_bot)])
    X = np.vstack([top, bottom]) + rng.normal(0.0, noise, (n, 2))
    T = np.concatenate([np.zeros(n_top), np.ones(n - n_top)]).reshape(-1, 1)
    order = rng.permutation(n)
    return X[order], T[order]
