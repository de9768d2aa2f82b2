"""L2 weight decay on the computational graph: J = L + s, s = λ/2 Σ_l ‖W_l‖²_F.

Only weights are penalised, never biases.  Because ∂J/∂s = 1, the penalty adds
λW to each weight gradient and leaves every δ unchanged.
"""

from __future__ import annotations

import numpy as np

from .registry import implements


@implements("eq-l2-penalty")
def l2_penalty(weights, lam):
    """s = λ/2 Σ_l ‖W_l‖²_F over the given weight matrices: equation :eq:`eq-l2-penalty`."""
    return float(0.5 * lam * sum(np.vdot(W, W) for W in weights))


@implements("eq-l2-grad")
def l2_grad(W, lam):
    """∂s/∂W = λW (the ½ cancels the 2 of the square): equation :eq:`eq-l2-grad`."""
    return lam * np.asarray(W)
