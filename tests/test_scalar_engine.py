"""bpkit.scalar: the scalar reverse-mode engine against independent oracles.

Oracles: central differences of the network's loss (float64, bp.numerical_grads, which never uses a
backward pass), sympy.diff of explicit expressions, and the layer version net.loss_and_grads (a different
implementation of the same sums, so the two must agree to rounding).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import bpkit as bp
from bpkit.scalar import Value, network_loss, topological_order


def adjoints(params, name):
    rows = params[name]
    if name.endswith(".W"):
        return np.array([[v.grad for v in row] for row in rows])
    return np.array([v.grad for v in rows])


@st.composite
def small_networks(draw):
    depth = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    act = draw(st.sampled_from(["sigmoid", "tanh", "relu"]))
    out = draw(st.sampled_from(["sigmoid", "tanh", "identity"]))
    residual = draw(st.booleans())
    seed = draw(st.integers(0, 10_000))
    m = draw(st.integers(1, 3))
    return sizes, act, out, residual, seed, m


@settings(max_examples=40, deadline=None)
@given(small_networks())
def test_engine_equals_central_differences_and_the_layer_version(case):
    sizes, act, out, residual, seed, m = case
    net = bp.mlp(sizes, activation=act, output_activation=out, residual=residual, seed=seed)
    rng = np.random.default_rng(seed)
    X, T = rng.normal(size=(m, sizes[0])), rng.uniform(size=(m, sizes[-1]))
    loss, params = network_loss(net, X, T)
    loss.backward()
    value, grads = net.loss_and_grads(X, T)
    # at a ReLU kink (a dead neuron feeds the next layer z = 0 exactly) the engine and the layers take
    # ReLU'(0) = 0, the book's convention, while central differences see the mean of the two slopes
    assume(act != "relu" or all(np.min(np.abs(layer.Z)) > 1e-4 for layer in net.layers[:-1]))
    numeric = bp.numerical_grads(net, X, T)
    assert math.isclose(loss.data, value, rel_tol=1e-12, abs_tol=1e-15)
    for name, g in grads.items():
        mine = adjoints(params, name)
        assert mine.shape == g.shape, name
        np.testing.assert_allclose(mine, g, rtol=1e-10, atol=1e-13, err_msg=f"{name} vs loss_and_grads")
        np.testing.assert_allclose(mine, numeric[name], rtol=1e-5, atol=1e-7, err_msg=f"{name} vs central differences")


@settings(max_examples=30, deadline=None)
@given(st.floats(-3, 3), st.floats(-3, 3))
def test_every_operation_against_sympy(a0, b0):
    a_s, b_s = sp.symbols("a b", real=True)
    expr_s = (sp.exp(a_s * b_s) * (1 / (1 + sp.exp(-a_s))) - sp.tanh(b_s) ** 3 + (a_s - b_s) * 2
              + sp.Max(a_s + 0.5, 0) - (-b_s))
    a, b = Value(a0), Value(b0)
    out = (a * b).exp() * a.sigmoid() - b.tanh() ** 3 + (a - b) * 2 + (a + 0.5).relu() - (-b)
    out.backward()
    point = {a_s: a0, b_s: b0}
    assert math.isclose(out.data, float(expr_s.subs(point)), rel_tol=1e-9, abs_tol=1e-9)
    if abs(a0 + 0.5) > 1e-9:  # away from the ReLU's kink
        for v, s in ((a, a_s), (b, b_s)):
            assert math.isclose(v.grad, float(sp.diff(expr_s, s).subs(point)), rel_tol=1e-9, abs_tol=1e-9)


def test_a_node_used_twice_collects_both_paths_and_backward_is_repeatable():
    x = Value(1.5)
    y = 2 * x
    L = y + 3 * (y * y)          # the graph where a breadth-first order fails
    for _ in range(2):           # a second backward() resets the grads first: same result
        L.backward()
        assert x.grad == 2 * (6 * y.data + 1)


def test_topological_order_puts_every_node_after_its_parents_and_handles_deep_graphs():
    x = Value(0.1)
    v = x
    for _ in range(5000):        # deeper than Python's recursion limit
        v = v * 1.0001 + 0.0
    order = topological_order(v)
    index = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is v and len(index) == len(order)
    assert all(index[id(p)] < index[id(n)] for n in order for p in n.parents)
    v.backward()
    assert math.isclose(x.grad, 1.0001 ** 5000, rel_tol=1e-9)


def test_relu_derivative_at_the_kink_is_zero_as_in_bpkit():
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0 == bp.get_activation("relu").derivative(np.array([0.0]))[0]


def test_bad_input_is_reported_clearly():
    with pytest.raises(TypeError, match="real number"):
        Value("1.0")
    with pytest.raises(TypeError, match="int"):
        Value(2.0) ** 0.5
    with pytest.raises(TypeError, match="Value"):
        topological_order(3.0)
    net = bp.mlp([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(m, 2\)"):
        network_loss(net, np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"T must have shape \(4, 1\)"):
        network_loss(net, np.zeros((4, 2)), np.zeros((4, 2)))


def test_the_oracle_comparison_can_fail():
    """A wrong local derivative (sigmoid' off by a factor) is caught by the same comparison."""
    net = bp.mlp([2, 2, 1], seed=3)
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(2, 2)), rng.uniform(size=(2, 1))
    original = Value.sigmoid

    def wrong_sigmoid(self):
        out = original(self)
        return Value(out.data, out.parents, (out.local[0] * 1.001,), out.op)

    Value.sigmoid = wrong_sigmoid
    try:
        loss, params = network_loss(net, X, T)
        loss.backward()
    finally:
        Value.sigmoid = original
    numeric = bp.numerical_grads(net, X, T)
    with pytest.raises(AssertionError):
        for name in numeric:
            np.testing.assert_allclose(adjoints(params, name), numeric[name], rtol=1e-5, atol=1e-7)
