"""Layout conversions: row ↔ column, and the bias folded in as an extra input."""

from __future__ import annotations

import numpy as np
import pytest

import bpkit as bp

rng = np.random.default_rng(7)
A, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)


def test_column_form_is_the_transpose_of_the_row_form():
    W_col, b_col = bp.to_column(W, b)
    assert W_col.shape == (4, 3) and b_col.shape == (4, 1)
    np.testing.assert_allclose(bp.column_forward(W_col, A.T, b_col), (A @ W + b).T, rtol=1e-14)
    # the same weight, two addresses: W[p, q] == W_col[q, p]
    assert W[2, 1] == W_col[1, 2]


def test_round_trips():
    W_back, b_back = bp.from_column(*bp.to_column(W, b))
    np.testing.assert_array_equal(W_back, W)
    np.testing.assert_array_equal(b_back, b)
    W2, b2 = bp.unfold_bias(bp.fold_bias(W, b))
    np.testing.assert_array_equal(W2, W)
    np.testing.assert_array_equal(b2, b)


def test_folded_bias_gives_the_same_z_and_gradients():
    W_tilde = bp.fold_bias(W, b)
    assert W_tilde.shape == (4, 4)
    np.testing.assert_allclose(bp.append_ones(A) @ W_tilde, bp.dense_forward(A, W, b), rtol=1e-14)
    # ∂L/∂W̃ = [A 1]ᵀ δ: its last row is the bias gradient 1ᵀ δ
    delta = rng.normal(size=(5, 4))
    g = bp.grad_weights(bp.append_ones(A), delta)
    np.testing.assert_allclose(g[:-1], bp.grad_weights(A, delta), rtol=1e-14)
    np.testing.assert_allclose(g[-1], bp.grad_bias(delta), rtol=1e-14)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"b must have 4 entries for W of shape \(3, 4\); got 3"):
        bp.to_column(W, np.ones(3))
    with pytest.raises(ValueError, match="2-D weight matrix"):
        bp.fold_bias(np.ones(3), np.ones(3))
