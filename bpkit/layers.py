"""Layers: a dense layer ``Z = A W + 1bᵀ, A_out = f(Z)`` and a residual block ``Y = X + f(XW + b)``.

A layer keeps what its backward pass needs after ``forward``: ``input``, ``Z``
and ``A`` (its output).  After ``backward`` it holds ``delta`` (∂L/∂Z, shape
(m, n_out)) and the gradients ``dW`` and ``db``.  All the arithmetic is done
by the equation functions of :mod:`bpkit.functional`.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .activations import get_activation
from .functional import (
    activation_delta,
    dense_forward,
    grad_bias,
    grad_input,
    grad_weights,
    residual_grad_input,
)


def make_rng(rng):
    """A NumPy Generator: ``None`` means the fixed seed 0, an int is a seed."""
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")


class Dense:
    """A fully connected layer: ``Z = A W + 1 bᵀ``, output ``f(Z)``.

    ``W`` has shape (n_in, n_out) — ``W[p, q]`` is the weight from input p to
    unit q, the sources' w_pq — and ``b`` has shape (n_out,).  Weights start
    as N(0, 1/n_in) draws from ``rng`` (``None`` = seed 0), biases at 0.
    """

    kind = "Dense"

    def __init__(self, n_in, n_out, activation="sigmoid", rng=None, dtype=np.float64):
        self.n_in = _validate.width(n_in, f"{self.kind} n_in")
        self.n_out = _validate.width(n_out, f"{self.kind} n_out")
        self.activation = get_activation(activation)
        self.dtype = _validate.as_dtype(dtype)
        gen = make_rng(rng)
        self.W = (gen.standard_normal((self.n_in, self.n_out)) / np.sqrt(self.n_in)).astype(self.dtype)
        self.b = np.zeros(self.n_out, dtype=self.dtype)
        self.index = None  # set by Sequential, used in messages
        self.input = self.Z = self.A = None
        self.delta = self.dW = self.db = None

    # -- description -------------------------------------------------------------
    def describe(self) -> str:
        return f"{self.kind} {self.n_in}→{self.n_out}, {self.activation.name}"

    @property
    def where(self) -> str:
        prefix = "layer" if self.index is None else f"layer {self.index}"
        return f"{prefix} ({self.describe()})"

    def __repr__(self):
        return f"{self.kind}({self.n_in}, {self.n_out}, activation={self.activation.name!r}, dtype={self.dtype.name})"

    def parameters(self):
        """``[("W", W), ("b", b)]``: the arrays themselves."""
        return [("W", self.W), ("b", self.b)]

    def _check_parameters(self):
        W, b = self.W, self.b
        if (type(W) is np.ndarray and type(b) is np.ndarray and W.shape == (self.n_in, self.n_out)
                and b.shape == (self.n_out,) and W.dtype == self.dtype and b.dtype == self.dtype):
            return  # the common case, checked in one expression
        for name, p, shape in (("W", W, (self.n_in, self.n_out)), ("b", b, (self.n_out,))):
            if not isinstance(p, np.ndarray) or p.shape != shape:
                got = p.shape if isinstance(p, np.ndarray) else type(p).__name__
                raise ValueError(f"{self.where}: parameter {name} must have shape {shape}; got {got}")
            if p.dtype != self.dtype:
                raise TypeError(f"{self.where}: parameter {name} must have dtype {self.dtype}; got {p.dtype}")

    # -- forward / backward ---------------------------------------------------------
    def forward(self, A, *, checked=False):
        """Output f(A W + 1bᵀ) for a batch ``A`` of shape (m, n_in)."""
        if not checked:
            A = _validate.batch(A, "the input", self.n_in, self.dtype, lambda: self.where)
            self._check_parameters()
        self.input = A
        self.Z = dense_forward(A, self.W, self.b)
        self.A = self.activation.value(self.Z)
        return self.A

    def backward(self, dA, need_input_grad=True, overwrite=False):
        """Given ∂L/∂(output), store δ, dW, db; return ∂L/∂(input) (None if not ``need_input_grad``).

        ``overwrite=True`` lets δ reuse the array ``dA`` (the caller will not read it again).
        """
        delta = activation_delta(dA, self.Z, self.activation, A=self.A, out=dA if overwrite else None)
        return self.backward_delta(delta, need_input_grad)

    def backward_delta(self, delta, need_input_grad=True):
        """Given δ = ∂L/∂Z directly (a fused loss), store dW, db; return ∂L/∂(input).

        The first layer's ∂L/∂(input) — the gradient with respect to the data — is not needed
        for any parameter; ``need_input_grad=False`` skips that matrix product.
        """
        self.delta = delta
        self.dW = grad_weights(self.input, delta)
        self.db = grad_bias(delta)
        return grad_input(delta, self.W) if need_input_grad else None


class Residual(Dense):
    """A residual block ``Y = X + f(X W + 1 bᵀ)`` with a square W of shape (n, n).

    Backward: δ = ∂L/∂Y ⊙ f'(Z) as in a dense layer, but ∂L/∂X = ∂L/∂Y + δ Wᵀ —
    the identity path contributes the extra ∂L/∂Y.
    """

    kind = "Residual"

    def __init__(self, n, activation="sigmoid", rng=None, dtype=np.float64, *, n_out=None):
        n = _validate.width(n, "Residual width n")
        if n_out is not None and _validate.width(n_out, "Residual n_out") != n:
            raise ValueError(
                f"a Residual block needs equal input and output widths (Y = X + f(XW + b) adds X, "
                f"of width {n}, to f(...), of width {n_out}); got {n}→{n_out}. Use Dense for a change of width"
            )
        super().__init__(n, n, activation, rng, dtype)

    def describe(self) -> str:
        return f"Residual {self.n_in}→{self.n_out}, {self.activation.name}"

    def __repr__(self):
        return f"Residual({self.n_in}, activation={self.activation.name!r}, dtype={self.dtype.name})"

    def forward(self, X, *, checked=False):
        if not checked:
            X = _validate.batch(X, "the input", self.n_in, self.dtype, lambda: self.where)
            self._check_parameters()
        self.input = X
        self.Z = dense_forward(X, self.W, self.b)
        self.F = self.activation.value(self.Z)  # f(Z): the derivative needs it, not the block's output
        self.A = X + self.F
        return self.A

    def backward(self, dY, need_input_grad=True, overwrite=False):
        # dY is needed again by the identity path, so δ never overwrites it
        delta = activation_delta(dY, self.Z, self.activation, A=self.F)
        self.delta = delta
        self.dW = grad_weights(self.input, delta)
        self.db = grad_bias(delta)
        return residual_grad_input(dY, delta, self.W) if need_input_grad else None

    def backward_delta(self, delta, need_input_grad=True):
        raise ValueError(
            f"{self.where}: a residual block cannot be the output layer of a fused loss "
            f"(bce / softmax_ce need a Dense output); use loss='mse' or end with a Dense layer"
        )
