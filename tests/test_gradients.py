"""Gradients: analytic = central differences = per-neuron loops = SymPy, on random architectures."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings

import bpkit as bp
from bpkit.symbolic import SymbolicNetwork
from strategies import problems

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def flat(grads):
    return np.concatenate([g.ravel() for g in grads.values()])


@SETTINGS
@given(problems())
def test_analytic_gradients_equal_central_differences(problem):
    net, X, T, loss, l2 = problem
    assert bp.gradcheck(net, X, T, loss=loss, l2=l2) <= 1e-6


@SETTINGS
@given(problems())
def test_per_neuron_version_equals_vectorized(problem):
    net, X, T, loss, l2 = problem
    L_vec, g_vec = net.loss_and_grads(X, T, loss=loss, l2=l2)
    deltas_vec = [d.copy() for d in net.deltas]
    L_loop, g_loop = bp.per_neuron.loss_and_grads(net, X, T, loss=loss, l2=l2)
    assert abs(L_vec - L_loop) <= 1e-12 * max(1.0, abs(L_vec))
    assert set(g_vec) == set(g_loop)
    for name in g_vec:
        assert g_loop[name].shape == g_vec[name].shape
    assert bp.relative_error(flat(g_vec), flat(g_loop), floor=1e-8) <= 1e-12
    for d_vec, d_loop in zip(deltas_vec, net.deltas):
        assert np.abs(d_vec - d_loop).max() <= 1e-12 * max(1.0, np.abs(d_vec).max())


def test_gradcheck_detects_a_wrong_gradient(monkeypatch):
    """The oracle is not vacuous: a backward pass with one sign flipped is caught."""
    net = bp.mlp([3, 4, 2], activation="tanh", seed=3)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert bp.gradcheck(net, X, T) < 1e-8
    import bpkit.layers as layers

    monkeypatch.setattr(layers, "grad_bias", lambda dZ: -dZ.sum(axis=0))
    assert bp.gradcheck(net, X, T) > 1e-2


def test_against_sympy_on_an_explicit_network():
    """Every gradient of a 2-3-2 sigmoid network with l2 equals sympy.diff of the written-out loss."""
    lam = sp.Rational(3, 10)
    sym = SymbolicNetwork([2, 3, 2], activation="sigmoid", loss="mse", m=3, l2=lam)
    point = sym.random_point(seed=4)
    net, X, T = sym.to_bpkit(point)
    L, grads = net.loss_and_grads(X, T, loss="mse", l2=float(lam))
    assert L == pytest.approx(sym.numeric(sym.loss, point), rel=1e-12)
    exact = sym.grads_by_diff()
    for name, G in exact.items():
        np.testing.assert_allclose(grads[name].reshape(G.shape), sym.numeric(G, point), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss, out_act", [("bce", "sigmoid"), ("softmax_ce", "identity"), ("mse", "tanh")])
def test_output_delta_is_the_documented_formula(loss, out_act):
    net = bp.mlp([3, 4, 3], activation="relu", output_activation=out_act, seed=1)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 3))
    T = rng.dirichlet(np.ones(3), size=6) if loss != "mse" else rng.normal(size=(6, 3))
    net.loss_and_grads(X, T, loss=loss)
    last = net.layers[-1]
    if loss == "bce":
        expected = (bp.sigmoid(last.Z) - T) / 6
    elif loss == "softmax_ce":
        expected = (bp.softmax(last.Z) - T) / 6
    else:
        expected = (last.A - T) * (1 - np.tanh(last.Z) ** 2) / 6
    np.testing.assert_allclose(net.deltas[-1], expected, rtol=1e-13, atol=1e-15)


def test_mse_sum_reduction_is_m_times_mean():
    net = bp.mlp([2, 3, 1], seed=0)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(7, 2)), rng.normal(size=(7, 1))
    L_mean, g_mean = net.loss_and_grads(X, T, loss=bp.MSE("mean"))
    L_sum, g_sum = net.loss_and_grads(X, T, loss=bp.MSE("sum"))
    assert L_sum == pytest.approx(7 * L_mean, rel=1e-13)
    for name in g_mean:
        np.testing.assert_allclose(g_sum[name], 7 * g_mean[name], rtol=1e-12)
    assert bp.gradcheck(net, X, T, loss=bp.MSE("sum")) < 1e-7


def test_l2_adds_lambda_w_to_weights_only():
    net = bp.mlp([3, 3, 2], activation="tanh", seed=5)
    rng = np.random.default_rng(1)
    X, T = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    L0, g0 = net.loss_and_grads(X, T)
    L1, g1 = net.loss_and_grads(X, T, l2=0.5)
    W0, W1 = net.layers[0].W, net.layers[1].W
    assert L1 - L0 == pytest.approx(0.25 * ((W0**2).sum() + (W1**2).sum()), rel=1e-12)
    np.testing.assert_allclose(g1["0.W"] - g0["0.W"], 0.5 * W0, rtol=1e-12)
    np.testing.assert_array_equal(g1["1.b"], g0["1.b"])


def test_float32_networks_compute_in_float32():
    net = bp.mlp([3, 5, 2], activation="tanh", dtype=np.float32, seed=0)
    X = np.arange(12).reshape(4, 3)  # integers are cast to the network's dtype
    T = np.ones((4, 2), dtype=np.float64)
    L, grads = net.loss_and_grads(X, T)
    assert isinstance(L, float)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(layer.Z.dtype == np.float32 and layer.A.dtype == np.float32 for layer in net.layers)
    ref = bp.mlp([3, 5, 2], activation="tanh", dtype=np.float64, seed=0)
    for (_, p32), (_, p64) in zip(net.parameters(), ref.parameters()):
        p64[...] = p32
    _, g64 = ref.loss_and_grads(X.astype(float), T)
    for name in grads:
        np.testing.assert_allclose(grads[name], g64[name], rtol=2e-5, atol=1e-6)


def test_parameters_are_the_arrays_themselves():
    net = bp.mlp([2, 2, 1], seed=0)
    names = [name for name, _ in net.parameters()]
    assert names == ["0.W", "0.b", "1.W", "1.b"]
    dict(net.parameters())["0.W"][0, 0] = 42.0
    assert net.layers[0].W[0, 0] == 42.0


def test_sgd_step_moves_against_the_gradient():
    net = bp.mlp([2, 3, 1], seed=0)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(8, 2)), rng.uniform(size=(8, 1))
    before = {k: v.copy() for k, v in net.parameters()}
    L0, grads = net.loss_and_grads(X, T)
    bp.sgd_step(net, grads, lr=0.1)
    for name, p in net.parameters():
        np.testing.assert_allclose(p, before[name] - 0.1 * grads[name], rtol=1e-15)
    assert net.loss(X, T) < L0


def test_residual_backward_adds_the_identity_path():
    layer = bp.Residual(3, activation="tanh", rng=0)
    rng = np.random.default_rng(0)
    X, dY = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    layer.forward(X)
    dX = layer.backward(dY)
    delta = dY * (1 - np.tanh(X @ layer.W + layer.b) ** 2)
    np.testing.assert_allclose(dX, dY + delta @ layer.W.T, rtol=1e-14)
