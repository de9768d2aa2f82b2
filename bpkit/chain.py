"""The chain rule on a computational graph, for arrays of any shape.

d2l writes the chain rule for tensors as ∂Z/∂X = prod(∂Z/∂Y, ∂Y/∂X), where
``prod`` multiplies the two after the transposes and reorderings their shapes
need.  With full Jacobians stored as arrays of shape ``out.shape + in.shape``
that "prod" is one contraction over the axes of the middle variable Y.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .registry import implements


def jacobian(fn, x, eps=1e-6):
    """Central-difference Jacobian of ``fn`` at ``x``: an array of shape ``fn(x).shape + x.shape``."""
    eps = _validate.real_scalar(eps, "eps (the finite-difference step)", positive=True)
    x = np.array(x, dtype=np.float64)
    y0 = np.asarray(fn(x), dtype=np.float64)
    J = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        J[(...,) + idx] = (np.asarray(fn(up)) - np.asarray(fn(down))) / (2 * eps)
    return J


@implements("eq-chain-prod")
def prod(dZ_dY, dY_dX, y_ndim):
    """∂Z/∂X = prod(∂Z/∂Y, ∂Y/∂X): equation :eq:`eq-chain-prod`.

    ``dZ_dY`` has shape ``Z.shape + Y.shape``, ``dY_dX`` has shape
    ``Y.shape + X.shape``, and ``y_ndim`` is the number of axes of Y; the result
    has shape ``Z.shape + X.shape`` and entries
    ∂Z_a/∂X_c = Σ_b ∂Z_a/∂Y_b · ∂Y_b/∂X_c (the sum runs over every entry b of Y).
    """
    dZ_dY = np.asarray(dZ_dY)
    dY_dX = np.asarray(dY_dX)
    y_shape = dY_dX.shape[:y_ndim]
    if dZ_dY.shape[dZ_dY.ndim - y_ndim:] != y_shape:
        raise ValueError(
            f"prod: the trailing {y_ndim} axes of ∂Z/∂Y {dZ_dY.shape} must be Y's shape {y_shape} "
            f"(the leading axes of ∂Y/∂X {dY_dX.shape})"
        )
    return np.tensordot(dZ_dY, dY_dX, axes=y_ndim)
