"""One convention for ReLU at the kink: ReLU'(0) = 0 in bpkit, in bpkit.symbolic and after sympy.diff."""

from __future__ import annotations

import numpy as np
import sympy as sp

import bpkit as bp
from bpkit.symbolic import SymbolicNetwork, relu_convention


def test_bpkit_relu_derivative_is_zero_at_zero():
    assert bp.get_activation("relu").derivative(np.array([0.0]))[0] == 0.0


def test_symbolic_relu_derivative_is_zero_at_zero():
    z = sp.Symbol("z", real=True)
    by_diff = relu_convention(sp.diff(sp.Max(z, 0), z))
    assert by_diff.subs(z, 0) == 0
    assert sp.diff(sp.Max(z, 0), z).subs(z, 0) == sp.Rational(1, 2)  # what SymPy alone would say


def test_symbolic_network_deltas_use_the_convention_at_the_kink():
    net = SymbolicNetwork([1, 1, 1], "relu", output_activation="identity", m=1)
    D = net.deltas_by_diff()[0]
    point = {s: sp.Integer(1) for s in D.free_symbols}
    point.update({net.X[0, 0]: sp.Integer(0), net.b[0][0]: sp.Integer(0)})  # z^(1) = 0: the kink
    assert D.xreplace(point)[0, 0] == 0
