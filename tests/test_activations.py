"""Activations and losses: values and derivatives against SymPy and finite differences; stability."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

import bpkit as bp

z = sp.Symbol("z", real=True)
SYMPY_FORMS = {
    "sigmoid": 1 / (1 + sp.exp(-z)),
    "tanh": sp.tanh(z),
    "identity": z,
}
POINTS = np.array([-7.3, -2.0, -0.4, 0.3, 1.7, 6.1])


@pytest.mark.parametrize("name", sorted(SYMPY_FORMS))
def test_value_and_derivative_against_sympy(name):
    act = bp.get_activation(name)
    f = sp.lambdify(z, SYMPY_FORMS[name], "numpy")
    fp = sp.lambdify(z, sp.diff(SYMPY_FORMS[name], z), "numpy")
    np.testing.assert_allclose(act.value(POINTS), f(POINTS), rtol=1e-14)
    np.testing.assert_allclose(act.derivative(POINTS), np.broadcast_to(fp(POINTS), POINTS.shape), rtol=1e-12)
    np.testing.assert_allclose(act.derivative_from_output(act.value(POINTS)), act.derivative(POINTS), rtol=1e-12)


def test_relu_value_and_derivative():
    act = bp.get_activation("relu")
    np.testing.assert_array_equal(act.value(POINTS), np.maximum(POINTS, 0))
    np.testing.assert_array_equal(act.derivative(POINTS), (POINTS > 0).astype(float))
    assert act.derivative(np.array([0.0]))[0] == 0.0  # the kink: bpkit's convention


def test_sigmoid_derivative_in_the_sources_form():
    """The sources' o(1 − o) is σ'(z)."""
    act = bp.get_activation("sigmoid")
    o = act.value(POINTS)
    np.testing.assert_allclose(act.derivative_from_output(o), o * (1 - o), rtol=1e-15)
    h = 1e-6
    fd = (act.value(POINTS + h) - act.value(POINTS - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(POINTS), fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(bp.ACTIVATIONS))
def test_stable_at_large_inputs(name, dtype):
    act = bp.get_activation(name)
    big = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):  # activations do not even underflow
        warnings.simplefilter("error")
        v, d = act.value(big), act.derivative(big)
        d_out = act.derivative_from_output(v)
    assert np.isfinite(v).all() and np.isfinite(d).all() and np.isfinite(d_out).all()
    assert v.dtype == dtype and d.dtype == dtype
    if name == "sigmoid":
        assert v[0] == pytest.approx(0.0, abs=1e-30) and v[-1] == 1.0 and v[3] == 0.5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss, out_act", [("mse", "sigmoid"), ("bce", "sigmoid"), ("softmax_ce", "identity")])
def test_network_stable_at_huge_preactivations(loss, out_act, dtype):
    """|z| = 1e4 at the output: finite loss and gradients, no NumPy warning."""
    net = bp.mlp([1, 2], activation=out_act, dtype=dtype, seed=0)
    net.layers[0].W[...] = np.array([[1e4, -1e4]], dtype=dtype)
    X = np.array([[1.0], [-1.0]])
    T = np.array([[0.0, 1.0], [1.0, 0.0]])  # z = ±1e4 with the wrong sign on every output
    # NumPy's default policy, made strict: overflow, invalid and divide raise; a product that
    # underflows to 0 (δ = dA ⊙ σ'(z) with σ'(z) ≈ 1e-304) is exact enough and allowed
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        warnings.simplefilter("error")
        L, grads = net.loss_and_grads(X, T, loss=loss)
    assert np.isfinite(L)
    assert all(np.isfinite(g).all() for g in grads.values())
    if loss in ("bce", "softmax_ce"):
        assert L == pytest.approx(2e4, rel=1e-6)  # confidently wrong: each sample costs |z_1| + |z_2|


def test_bce_matches_the_textbook_formula():
    rng = np.random.default_rng(0)
    Z, T = rng.normal(size=(5, 3)), rng.uniform(size=(5, 3))
    A = 1 / (1 + np.exp(-Z))
    textbook = -np.mean(np.sum(T * np.log(A) + (1 - T) * np.log(1 - A), axis=1))
    assert bp.bce_loss(Z, T) == pytest.approx(textbook, rel=1e-13)


def test_softmax_ce_matches_the_textbook_formula():
    rng = np.random.default_rng(1)
    Z, T = rng.normal(size=(4, 3)), rng.dirichlet(np.ones(3), size=4)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    assert bp.softmax_ce_loss(Z, T) == pytest.approx(-np.mean(np.sum(T * np.log(P), axis=1)), rel=1e-13)
    np.testing.assert_allclose(bp.softmax(Z), P, rtol=1e-14)


def test_mse_matches_its_definition():
    rng = np.random.default_rng(2)
    A, T = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    assert bp.mse_loss(A, T) == pytest.approx(np.sum((A - T) ** 2) / 2 / 6, rel=1e-14)
    assert bp.mse_loss(A, T, reduction="sum") == pytest.approx(np.sum((A - T) ** 2) / 2, rel=1e-14)
