"""Bad input gets a clear ValueError/TypeError that says where, what was expected and what arrived."""

from __future__ import annotations

import numpy as np
import pytest

import bpkit as bp


@pytest.fixture
def net():
    return bp.mlp([3, 4, 2], seed=0)


def ok_data(m=5):
    rng = np.random.default_rng(0)
    return rng.normal(size=(m, 3)), rng.uniform(size=(m, 2))


# -- X -----------------------------------------------------------------------------------------
def test_X_not_2d(net):
    with pytest.raises(ValueError, match=r"layer 0 \(Dense 3→4, sigmoid\) expects X of shape \(m, 3\).*\(3,\).*reshape"):
        net.forward(np.ones(3))


def test_X_wrong_width(net):
    with pytest.raises(ValueError, match=r"layer 0 \(Dense 3→4, sigmoid\) expects X of shape \(m, 3\); got \(5, 2\)"):
        net.forward(np.ones((5, 2)))


def test_empty_batch(net):
    with pytest.raises(ValueError, match=r"m >= 1; got an empty batch \(0, 3\)"):
        net.loss_and_grads(np.ones((0, 3)), np.ones((0, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X(net, bad):
    X, T = ok_data()
    X[2, 1] = bad
    with pytest.raises(ValueError, match=r"X contains a non-finite value .* row 2, column 1"):
        net.loss_and_grads(X, T)


@pytest.mark.parametrize("X", [np.array([["a", "b", "c"]]), np.array([[1 + 1j, 2, 3]]), [[1, 2], [3]]])
def test_non_numeric_X(net, X):
    with pytest.raises(TypeError, match="X must"):
        net.forward(X)


# -- T -----------------------------------------------------------------------------------------
def test_T_wrong_shape(net):
    X, _ = ok_data()
    with pytest.raises(ValueError, match=r"outputs of shape \(5, 2\), so T must have shape \(5, 2\); got \(5, 3\)"):
        net.loss_and_grads(X, np.ones((5, 3)))


def test_T_one_dimensional_hint():
    net = bp.mlp([3, 1], seed=0)
    X, _ = ok_data()
    with pytest.raises(ValueError, match=r"T\.reshape\(-1, 1\)"):
        net.loss_and_grads(X, np.ones(5))


def test_non_finite_T(net):
    X, T = ok_data()
    T[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"T contains a non-finite value"):
        net.loss_and_grads(X, T)


def test_non_numeric_T(net):
    X, _ = ok_data()
    with pytest.raises(TypeError, match="T must hold real numbers"):
        net.loss_and_grads(X, np.full((5, 2), "x"))


def test_bce_targets_outside_0_1(net):
    X, T = ok_data()
    T[1, 1] = 1.5
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]; T\[1, 1\] = 1.5"):
        net.loss_and_grads(X, T, loss="bce")


def test_softmax_rows_not_probability_vectors():
    net = bp.mlp([3, 2], output_activation="identity", seed=0)
    X, _ = ok_data()
    T = np.full((5, 2), 0.5)
    T[3] = [0.7, 0.7]
    with pytest.raises(ValueError, match=r"row 3 sums to 1.4"):
        net.loss_and_grads(X, T, loss="softmax_ce")
    T[3] = [1.2, -0.2]
    with pytest.raises(ValueError, match=r"< 0"):
        net.loss_and_grads(X, T, loss="softmax_ce")


def test_fused_loss_needs_matching_output(net):
    X, T = ok_data()
    with pytest.raises(ValueError, match=r"'softmax_ce' is fused with a 'identity' output.*output_activation='identity'"):
        net.loss_and_grads(X, T / T.sum(axis=1, keepdims=True), loss="softmax_ce")


# -- names ---------------------------------------------------------------------------------------
def test_unknown_activation_lists_valid():
    with pytest.raises(ValueError, match=r"unknown activation 'sigmoud'; valid: 'sigmoid', 'tanh', 'relu', 'identity'"):
        bp.mlp([2, 2], activation="sigmoud")


def test_unknown_loss_lists_valid(net):
    X, T = ok_data()
    with pytest.raises(ValueError, match=r"unknown loss 'cross_entropy'; valid: 'mse', 'bce', 'softmax_ce'"):
        net.loss_and_grads(X, T, loss="cross_entropy")


# -- sizes and layers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [[], [3]])
def test_sizes_need_two_entries(sizes):
    with pytest.raises(ValueError, match="at least two entries"):
        bp.mlp(sizes)


@pytest.mark.parametrize("sizes, where", [([3, 0, 1], r"sizes\[1\]"), ([3, -2], r"sizes\[1\]")])
def test_non_positive_widths(sizes, where):
    with pytest.raises(ValueError, match=where + " must be a positive integer"):
        bp.mlp(sizes)


def test_non_integer_width():
    with pytest.raises(TypeError, match=r"sizes\[0\] must be a positive integer, got float 2.5"):
        bp.mlp([2.5, 1])


def test_residual_widths_differ():
    with pytest.raises(ValueError, match=r"equal input and output widths.*3→4"):
        bp.Residual(3, n_out=4)


def test_sequential_widths_must_chain():
    with pytest.raises(ValueError, match=r"layer 0 \(Dense 2→3, sigmoid\) outputs width 3, but layer 1 \(Residual 4→4, sigmoid\) expects input width 4"):
        bp.Sequential([bp.Dense(2, 3), bp.Residual(4)])


def test_replaced_parameter_of_wrong_shape(net):
    net.layers[1].W = np.ones((2, 4))
    with pytest.raises(ValueError, match=r"layer 1 \(Dense 4→2, sigmoid\): parameter W must have shape \(4, 2\); got \(2, 4\)"):
        net.forward(np.ones((1, 3)))


def test_unsupported_dtype():
    with pytest.raises(TypeError, match="dtype must be np.float64 or np.float32"):
        bp.mlp([2, 1], dtype=np.int64)


# -- scalars ---------------------------------------------------------------------------------------
def test_negative_l2(net):
    X, T = ok_data()
    with pytest.raises(ValueError, match=r"l2 \(the penalty λ\) must be >= 0, got -0.1"):
        net.loss_and_grads(X, T, l2=-0.1)


@pytest.mark.parametrize("lr", [0, -0.5])
def test_non_positive_lr(net, lr):
    X, T = ok_data()
    _, grads = net.loss_and_grads(X, T)
    with pytest.raises(ValueError, match=r"lr \(the learning rate\) must be > 0"):
        bp.sgd_step(net, grads, lr)


@pytest.mark.parametrize("eps", [0, -1e-6])
def test_non_positive_eps(net, eps):
    X, T = ok_data()
    with pytest.raises(ValueError, match=r"eps \(the finite-difference step\) must be > 0"):
        bp.gradcheck(net, X, T, eps=eps)


def test_non_numeric_scalar(net):
    X, T = ok_data()
    with pytest.raises(TypeError, match=r"l2 \(the penalty λ\) must be a real number, got str"):
        net.loss_and_grads(X, T, l2="0.1")


def test_divergence_is_reported_not_a_nan(net):
    X, T = ok_data()
    _, grads = net.loss_and_grads(X, T)
    grads = {k: np.full_like(v, 1e306) for k, v in grads.items()}
    before = {k: v.copy() for k, v in net.parameters()}
    with pytest.raises(ValueError, match="non-finite"):
        bp.sgd_step(net, grads, lr=1e3)
    for name, p in net.parameters():
        np.testing.assert_array_equal(p, before[name])


def test_grads_that_do_not_match(net):
    X, T = ok_data()
    _, grads = net.loss_and_grads(X, T)
    del grads["1.b"]
    with pytest.raises(ValueError, match=r"missing \['1.b'\]"):
        bp.sgd_step(net, grads, 0.1)


def test_overflowing_forward_pass_is_reported(net):
    X, T = ok_data()
    net.layers[0].W[...] = 1e308
    net.layers[1].W[...] = 1e308
    net.layers[0].activation = bp.get_activation("identity")
    net.layers[1].activation = bp.get_activation("identity")
    with pytest.raises(ValueError, match="not finite"):
        net.loss_and_grads(X, T)
