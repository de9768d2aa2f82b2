"""Convert between the layouts the sources use.

* **row convention** (bpkit, the batch-matrix source): one sample per row,
  ``Z = A W + 1 bᵀ`` with ``W`` of shape (n_in, n_out) and ``b`` of shape (n_out,).
* **column convention** (the four-steps source, the d2l excerpt, the Δ source):
  one sample per column, ``z = W a + b`` with ``W`` of shape (n_out, n_in) and
  ``b`` a column of shape (n_out, 1).  The same weight is ``W_row[p, q] == W_col[q, p]``.
* **bias folded in**: a constant input 1 is appended to every sample and ``b``
  becomes the last row of an (n_in + 1, n_out) weight matrix, so ``Z = [A 1] W̃``.
"""

from __future__ import annotations

import numpy as np

from .functional import as_float
from .registry import implements


def _matrix(W, what):
    W = as_float(W)
    if W.ndim != 2:
        raise ValueError(f"{what} must be a 2-D weight matrix; got shape {W.shape}")
    return W


@implements("eq-row-column")
def to_column(W, b):
    """Row-convention (W, b) → column-convention (Wᵀ, b as a column): equation :eq:`eq-row-column`.

    ``W`` (n_in, n_out) and ``b`` (n_out,) become ``W_col`` (n_out, n_in) and
    ``b_col`` (n_out, 1), so that ``z = W_col a + b_col`` for a column sample a.
    """
    W = _matrix(W, "W")
    b = as_float(b).reshape(-1)
    if b.shape != (W.shape[1],):
        raise ValueError(f"b must have {W.shape[1]} entries for W of shape {W.shape}; got {b.size}")
    return W.T.copy(), b.reshape(-1, 1).copy()


def from_column(W_col, b_col):
    """Column-convention (W_col, b_col) → row-convention (W, b); the inverse of :func:`to_column`."""
    W_col = _matrix(W_col, "W_col")
    b_col = as_float(b_col).reshape(-1)
    if b_col.shape != (W_col.shape[0],):
        raise ValueError(f"b_col must have {W_col.shape[0]} entries for W_col of shape {W_col.shape}; got {b_col.size}")
    return W_col.T.copy(), b_col.copy()


@implements("eq-forward-column")
def column_forward(W_col, A_col, b_col):
    """z = W a + b, one sample per COLUMN: equation :eq:`eq-forward-column`.

    ``W_col`` (n_out, n_in) @ ``A_col`` (n_in, m) + ``b_col`` (n_out, 1) → (n_out, m).
    It is the transpose of the row form: (A W + 1bᵀ)ᵀ = Wᵀ Aᵀ + b 1ᵀ.
    """
    return _matrix(W_col, "W_col") @ as_float(A_col) + as_float(b_col).reshape(-1, 1)


def append_ones(A):
    """[A 1]: a constant input 1 appended to every sample (row), shape (m, n_in + 1)."""
    A = as_float(A)
    return np.hstack([A, np.ones((A.shape[0], 1), dtype=A.dtype)])


@implements("eq-fold-bias")
def fold_bias(W, b):
    """W̃ = [W; bᵀ], so that [A 1] W̃ = A W + 1 bᵀ: equation :eq:`eq-fold-bias`.

    ``W`` (n_in, n_out) and ``b`` (n_out,) → ``W̃`` (n_in + 1, n_out).
    """
    W = _matrix(W, "W")
    b = as_float(b).reshape(1, -1)
    if b.shape[1] != W.shape[1]:
        raise ValueError(f"b must have {W.shape[1]} entries for W of shape {W.shape}; got {b.shape[1]}")
    return np.vstack([W, b])


def unfold_bias(W_tilde):
    """W̃ (n_in + 1, n_out) → (W, b): the inverse of :func:`fold_bias`."""
    W_tilde = _matrix(W_tilde, "W_tilde")
    return W_tilde[:-1].copy(), W_tilde[-1].copy()


@implements("eq-column-backward")
def column_backward(W_col, A_col, delta_col):
    """The backward pass in the column convention: equation :eq:`eq-column-backward`.

    With one sample per column — ``A_col`` (n_in, m), ``delta_col`` = ∂L/∂Z_col
    (n_out, m), ``W_col`` (n_out, n_in) — returns

    * ∂L/∂A_col = W_colᵀ δ_col            (n_in, m)
    * ∂L/∂W_col = δ_col A_colᵀ            (n_out, n_in)
    * ∂L/∂b_col = δ_col 1                 (n_out, 1)

    the transposes of the row forms eq-batch-dA, eq-batch-dW, eq-batch-db.
    """
    W_col = _matrix(W_col, "W_col")
    A_col = as_float(A_col)
    delta_col = as_float(delta_col)
    if delta_col.shape[0] != W_col.shape[0] or A_col.shape[0] != W_col.shape[1] or A_col.shape[1] != delta_col.shape[1]:
        raise ValueError(
            f"column convention needs W_col (n_out, n_in), A_col (n_in, m), delta_col (n_out, m); "
            f"got {W_col.shape}, {A_col.shape}, {delta_col.shape}"
        )
    return W_col.T @ delta_col, delta_col @ A_col.T, delta_col.sum(axis=1, keepdims=True)
