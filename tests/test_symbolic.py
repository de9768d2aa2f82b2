"""bpkit.symbolic: the recursion's δ equals sympy.diff for networks up to depth 4, and it notices mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from bpkit import symbolic as S

CASES = [
    # sizes, activation, output activation, loss, m, residual
    ([2, 1], "sigmoid", None, "mse", 2, False),
    ([2, 2, 1], "sigmoid", None, "mse", 1, False),
    ([2, 3, 2], "tanh", "sigmoid", "bce", 2, False),
    ([2, 2, 3], "relu", "identity", "softmax_ce", 2, False),
    ([1, 2, 2, 1], "f", None, "mse", 2, False),
    ([2, 2, 2, 2, 1], "sigmoid", None, "mse", 1, False),
    ([2, 2, 2, 2, 2], "tanh", "identity", "softmax_ce", 1, True),
    ([3, 2, 2, 2, 1], "f", None, "mse", 2, True),
]


@pytest.mark.parametrize("sizes, act, out, loss, m, residual", CASES)
def test_recursion_equals_sympy_diff(sizes, act, out, loss, m, residual):
    net = S.SymbolicNetwork(sizes, act, out, loss, m=m, residual=residual)
    report = net.verify(n_points=2, quiet=True)
    assert len([line for line in report if "(exact)" in line]) == len(sizes) - 1


@pytest.mark.parametrize("sizes, act, out, loss, m, residual", [c for c in CASES if c[1] != "f"])
def test_symbolic_gradients_equal_bpkit(sizes, act, out, loss, m, residual):
    sym = S.SymbolicNetwork(sizes, act, out, loss, m=m, residual=residual)
    point = sym.random_point(seed=1)
    net, X, T = sym.to_bpkit(point)
    L, grads = net.loss_and_grads(X, T, loss=loss)
    assert L == pytest.approx(sym.numeric(sym.loss, point), rel=1e-10)
    for name, G in sym.grads_by_backprop().items():
        np.testing.assert_allclose(grads[name].reshape(G.shape), sym.numeric(G, point), rtol=1e-9, atol=1e-12)


def test_the_residual_identity_path_matters():
    """Dropping the '+ ∂L/∂Y' of a residual block makes verify() fail."""
    net = S.SymbolicNetwork([2, 2, 2, 1], "f", residual=True)

    def step_without_identity(l, delta_next, dA_next, Z_l):
        dA = delta_next * net.W[l + 1].T
        return S.hadamard(dA, Z_l.applyfunc(net.fprime(l))), dA

    net.step = step_without_identity
    with pytest.raises(AssertionError, match="step"):
        net.verify(quiet=True)


def test_a_wrong_output_sign_is_caught():
    net = S.SymbolicNetwork([2, 2, 1], "sigmoid")
    right = net.output_delta
    net.output_delta = lambda A=None, Z=None: -right(A, Z)
    with pytest.raises(AssertionError, match="output δ"):
        net.verify(quiet=True)


def test_a_missing_transpose_is_caught_numerically():
    net = S.SymbolicNetwork([2, 2, 2], "sigmoid", m=1)

    def step_no_transpose(l, delta_next, dA_next, Z_l):
        dA = delta_next * net.W[l + 1]  # Wᵀ forgotten (square, so the shapes still fit)
        return S.hadamard(dA, Z_l.applyfunc(net.fprime(l))), dA

    net.step = step_no_transpose
    with pytest.raises(AssertionError):
        net.verify(exact=False, quiet=True)


def test_softmax_targets_are_probability_rows():
    net = S.SymbolicNetwork([2, 3], "identity", loss="softmax_ce", m=2)
    assert sp.simplify(sum(net.T[0, :]) - 1) == 0


def test_assert_same_and_is_zero():
    z = sp.Symbol("z")
    s = 1 / (1 + sp.exp(-z))
    assert S.is_zero(sp.diff(s, z) - s * (1 - s))
    assert not S.is_zero(sp.diff(s, z) + s * (1 - s))
    with pytest.raises(AssertionError, match="✗"):
        S.assert_same(sp.Matrix([[z, 1]]), sp.Matrix([[z, 2]]), "claim", quiet=True)


def test_generic_derivatives_are_named():
    f = sp.Function("f")
    x, y = sp.symbols("x y")
    d = S._name_derivatives(sp.diff(f(2 * x + y), x))
    assert d == 2 * sp.Function("f'")(2 * x + y)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least two"):
        S.SymbolicNetwork([2])
    with pytest.raises(ValueError, match="sigmoid output"):
        S.SymbolicNetwork([2, 1], "tanh", loss="bce")
    with pytest.raises(ValueError, match="unknown activation"):
        S.SymbolicNetwork([2, 1], "swish").verify(quiet=True)
