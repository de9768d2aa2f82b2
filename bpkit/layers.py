"""Layers: a dense layer ``Z = A W + 1bᵀ, A_out = f(Z)`` and a residual block ``Y = X + f(XW + b)``.

Both follow the layer contract of :mod:`bpkit.protocol`: ``forward(A, ctx)`` keeps what the backward
pass needs in ``ctx`` (one :class:`~bpkit.protocol.Context` per call), ``backward(dA, ctx)`` puts the
gradients into ``ctx.grads`` and returns ∂L/∂(input).  No state of a call lives on the layer, so a
layer may be used twice in one network and by several threads at once.

For reading, a layer shows the values of its last call: ``input``, ``Z``, ``A`` (its output),
``delta`` (∂L/∂Z, shape (m, n_out)), ``dW`` and ``db`` — taken from ``layer.last``, the context of
that call.  Called on its own, ``layer.forward(A)`` / ``layer.backward(dA)`` use that context too.
All the arithmetic is done by the equation functions of :mod:`bpkit.functional`.
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
from .protocol import Context


def make_rng(rng):
    """A NumPy Generator: ``None`` means the fixed seed 0, an int is a seed."""
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be None, an int seed or a numpy Generator, got {type(rng).__name__}")


def _context(layer, ctx, what="ctx"):
    if ctx is None:
        return None
    if not isinstance(ctx, Context):
        raise TypeError(
            f"{layer.where}: {what} must be a bpkit.protocol.Context (one per call) or None, got "
            f"{type(ctx).__name__} {ctx!r}; pass need_input_grad by keyword"
        )
    return ctx


class _LastCall:
    """Read-only views of the last call's context: ``input``, ``Z``, ``A``, ``delta``, ``dW``, ``db``."""

    last = None
    last_backward = None

    def _last(self, name):
        ctx = self.last
        return None if ctx is None else getattr(ctx, name, None)

    def _grad(self, name):
        ctx = self.last_backward
        return None if ctx is None else ctx.grads.get(name)

    input = property(lambda self: self._last("input"), doc="The input A of the last call, (m, n_in).")
    Z = property(lambda self: self._last("Z"), doc="The pre-activation Z = AW + 1bᵀ of the last call.")
    A = property(lambda self: self._last("A"), doc="The output of the last call.")
    delta = property(lambda self: getattr(self.last_backward, "delta", None), doc="δ = ∂L/∂Z of the last backward pass.")
    dW = property(lambda self: self._grad("W"), doc="∂L/∂W of the last backward pass.")
    db = property(lambda self: self._grad("b"), doc="∂L/∂b of the last backward pass.")

    def zero_grad(self):
        """Forget the last call (a bpkit layer keeps no gradient of its own: each call has its context)."""
        self.last = self.last_backward = None


class Dense(_LastCall):
    """A fully connected layer: ``Z = A W + 1 bᵀ``, output ``f(Z)``.

    ``W`` has shape (n_in, n_out) — ``W[p, q]`` is the weight from input p to
    unit q, the sources' w_pq — and ``b`` has shape (n_out,).  Weights start
    as N(0, 1/n_in) draws from ``rng`` (``None`` = seed 0), biases at 0.
    """

    kind = "Dense"
    #: a neuron's output is f(z) (a residual block adds its input: x + f(z))
    identity_path = False
    #: backward(..., overwrite=True) may write δ over dA
    may_overwrite = True

    def __init__(self, n_in, n_out, activation="sigmoid", rng=None, dtype=np.float64):
        self.n_in = _validate.width(n_in, f"{self.kind} n_in")
        self.n_out = _validate.width(n_out, f"{self.kind} n_out")
        self.activation = get_activation(activation)
        self.dtype = _validate.as_dtype(dtype)
        gen = make_rng(rng)
        self.W = (gen.standard_normal((self.n_in, self.n_out)) / np.sqrt(self.n_in)).astype(self.dtype)
        self.b = np.zeros(self.n_out, dtype=self.dtype)
        self.index = None  # set by Sequential, used in messages
        self.owner = None  # the residual block this layer is part of, if any (for messages)
        self.last = None

    # -- description -------------------------------------------------------------
    def describe(self) -> str:
        return f"{self.kind} {self.n_in}→{self.n_out}, {self.activation.name}"

    @property
    def output_activation(self):
        """The name of f in the output f(Z) (a fused loss needs its own)."""
        return self.activation.name

    @property
    def where(self) -> str:
        if self.owner is not None:
            return self.owner.where
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

    def _check_input(self, A, what="the input"):
        if type(A) is np.ndarray and A.dtype == self.dtype and A.ndim == 2 and A.shape[1] == self.n_in and A.shape[0]:
            return A  # inside a network: the network checked X, and each layer's output has this form
        return _validate.batch(A, what, self.n_in, self.dtype, lambda: self.where)

    # -- forward / backward ---------------------------------------------------------
    def forward(self, A, ctx=None):
        """Output f(A W + 1bᵀ) for a batch ``A`` of shape (m, n_in); ``ctx`` keeps A, Z and f(Z).

        ``ctx=None`` (a layer used on its own) makes a new context and keeps it as ``layer.last``.
        """
        standalone = ctx is None
        if standalone:
            A = _validate.batch(A, "the input", self.n_in, self.dtype, lambda: self.where)
            ctx = self.last = Context()
        else:
            if type(ctx) is not Context:
                ctx = _context(self, ctx)
            A = self._check_input(A)
        self._check_parameters()
        ctx.input = A
        Z = dense_forward(A, self.W, self.b, out=ctx.empty((A.shape[0], self.n_out), self.dtype))
        if ctx.z_offset is not None:
            Z += ctx.z_offset
        ctx.Z = Z
        act = self.activation
        ctx.A = act.value(Z, out=ctx.empty(Z.shape, Z.dtype)) if act.value_takes_out else act.value(Z)
        return ctx.A

    def backward(self, dA, ctx=None, need_input_grad=True, *, overwrite=False, given_delta=False):
        """Given ∂L/∂(output), put ∂L/∂W, ∂L/∂b into ``ctx.grads`` and δ into ``ctx.delta``; return ∂L/∂(input).

        ``ctx=None`` uses the context of the last standalone ``forward``.  ``need_input_grad=False``
        skips ∂L/∂(input) (returns None): the first layer's — the gradient with respect to the data —
        is not needed for any parameter.  ``overwrite=True`` lets δ reuse the array ``dA``.
        ``given_delta=True`` means ``dA`` is δ = ∂L/∂Z itself (a fused loss computed it).
        """
        standalone = ctx is None
        if standalone:
            ctx = self.last
            if ctx is None or getattr(ctx, "Z", None) is None:
                raise ValueError(f"{self.where}: backward() needs a forward() first (nothing to differentiate)")
            dA = _validate.numeric_array(dA, "dA")
            if dA.shape != ctx.A.shape:
                raise ValueError(f"{self.where}: dA must have the output's shape {ctx.A.shape}; got {dA.shape}")
        elif type(ctx) is not Context:
            ctx = _context(self, ctx)
        if given_delta:
            delta = dA
        else:
            Z = ctx.Z
            delta = activation_delta(dA, Z, self.activation, A=ctx.A,
                                     out=dA if overwrite else ctx.empty(Z.shape, Z.dtype))
        ctx.delta = delta
        A = ctx.input
        dW = grad_weights(A, delta, out=ctx.empty((self.n_in, self.n_out), self.dtype))
        db = grad_bias(delta)
        ctx.grads = {"W": dW, "b": db}
        # NaN/inf gradients are an error (the network scans those no layer proved finite, and names them).
        # Checked here, while A, δ and ∂L/∂W are still in the CPU's cache: ∂L/∂W itself, or, when it is the
        # larger array, A and δ by the bound of product_grads_finite
        if dW.size <= delta.size + A.size:
            ctx.grads_finite = _validate.sum_finite(dW) and _validate.sum_finite(db)
        else:
            ctx.grads_finite = _validate.product_grads_finite(A, delta)
        if standalone:
            self.last_backward = ctx
        if not need_input_grad:
            return None
        return grad_input(delta, self.W, out=ctx.empty((delta.shape[0], self.n_in), self.dtype))

    def backward_delta(self, delta, ctx=None, need_input_grad=True):
        """``backward(delta, ctx, need_input_grad, given_delta=True)``: δ = ∂L/∂Z given directly."""
        return self.backward(delta, ctx, need_input_grad, given_delta=True)


class Residual(_LastCall):
    """A residual block ``Y = X + f(X W + 1 bᵀ)`` with a square W of shape (n, n).

    It contains a :class:`Dense` layer (``block.dense``) that computes f(XW + 1bᵀ); the block adds X.
    Backward: δ = ∂L/∂Y ⊙ f'(Z) as in the dense layer, but ∂L/∂X = ∂L/∂Y + δ Wᵀ —
    the identity path contributes the extra ∂L/∂Y.
    """

    kind = "Residual"
    identity_path = True
    #: the output is X + f(Z), not f(Z): no fused loss can follow it
    output_activation = None

    def __init__(self, n, activation="sigmoid", rng=None, dtype=np.float64, *, n_out=None):
        n = _validate.width(n, "Residual width n")
        if n_out is not None and _validate.width(n_out, "Residual n_out") != n:
            raise ValueError(
                f"a Residual block needs equal input and output widths (Y = X + f(XW + b) adds X, "
                f"of width {n}, to f(...), of width {n_out}); got {n}→{n_out}. Use Dense for a change of width"
            )
        self.dense = Dense(n, n, activation, rng, dtype)
        self.dense.owner = self
        self.n_in = self.n_out = n
        self.dtype = self.dense.dtype
        self.index = None
        self.last = None

    activation = property(lambda self: self.dense.activation, doc="The activation f.")
    W = property(lambda self: self.dense.W, lambda self, v: setattr(self.dense, "W", v), doc="W, (n, n).")
    b = property(lambda self: self.dense.b, lambda self, v: setattr(self.dense, "b", v), doc="b, (n,).")
    Z = property(lambda self: self._last("Z"), doc="The pre-activation Z = XW + 1bᵀ of the last call.")
    F = property(lambda self: self._last("F"), doc="f(Z) of the last call (the block's output is X + f(Z)).")

    def describe(self) -> str:
        return f"Residual {self.n_in}→{self.n_out}, {self.activation.name}"

    @property
    def where(self) -> str:
        prefix = "layer" if self.index is None else f"layer {self.index}"
        return f"{prefix} ({self.describe()})"

    def __repr__(self):
        return f"Residual({self.n_in}, activation={self.activation.name!r}, dtype={self.dtype.name})"

    def parameters(self):
        """``[("W", W), ("b", b)]``: the arrays of the dense layer inside."""
        return self.dense.parameters()

    def _check_parameters(self):
        self.dense._check_parameters()

    def forward(self, X, ctx=None):
        """Y = X + f(XW + 1bᵀ) for a batch X of shape (m, n)."""
        if ctx is None:
            X = _validate.batch(X, "the input", self.n_in, self.dtype, lambda: self.where)
            ctx = self.last = Context()
        else:
            ctx = _context(self, ctx)
        inner = ctx.inner = Context(ctx.recycler)
        inner.z_offset = ctx.z_offset
        F = self.dense.forward(X, inner)
        ctx.input, ctx.Z, ctx.F = inner.input, inner.Z, F
        ctx.A = np.add(inner.input, F, out=ctx.empty(F.shape, F.dtype))
        return ctx.A

    def backward(self, dY, ctx=None, need_input_grad=True, *, overwrite=False, given_delta=False):
        """Given ∂L/∂Y, put ∂L/∂W, ∂L/∂b into ``ctx.grads``; return ∂L/∂X = ∂L/∂Y + δ Wᵀ."""
        if given_delta:
            raise ValueError(f"{self.where}: a residual block's output is X + f(Z), so no fused loss gives its δ")
        standalone = ctx is None
        if standalone:
            ctx = self.last
            if ctx is None:
                raise ValueError(f"{self.where}: backward() needs a forward() first (nothing to differentiate)")
            dY = _validate.numeric_array(dY, "dY")
            if dY.shape != ctx.A.shape:
                raise ValueError(f"{self.where}: dY must have the output's shape {ctx.A.shape}; got {dY.shape}")
        else:
            ctx = _context(self, ctx)
        if standalone:
            self.last_backward = ctx
        inner = ctx.inner
        # dY is needed again by the identity path, so δ never overwrites it
        self.dense.backward(dY, inner, need_input_grad=False)
        ctx.delta, ctx.grads, ctx.grads_finite = inner.delta, inner.grads, inner.grads_finite
        if not need_input_grad:
            return None
        return residual_grad_input(dY, inner.delta, self.W, out=ctx.empty(dY.shape, inner.delta.dtype))
