"""A network is a list of layers; backpropagation walks it backwards.

``net.loss_and_grads(X, T)`` runs the forward pass, the loss, and the backward
pass: the loss gives the output layer's δ (eq-output-delta or, fused,
eq-output-delta-matched), each layer turns ∂L/∂(its output) into its δ, its
gradients and ∂L/∂(its input) (eq-batch-dW, eq-batch-db, eq-batch-dA), and the
L2 penalty adds λW to each weight gradient (eq-l2-grad).

The network uses its layers only through the layer contract of :mod:`bpkit.protocol`.  Every call
makes one :class:`~bpkit.protocol.Context` per position, so that

* a layer object may appear at several positions (``Sequential([d, d])``): its parameters are shared,
  named after its first position, and their gradient is the sum over its uses;
* several threads may call ``loss``, ``forward`` and ``loss_and_grads`` on one network at the same
  time: each call returns its own results;
* the arrays of a call (activations, δ, gradients) reuse the memory of the network's earlier calls'
  arrays once nothing refers to them any more (``bpkit._memory.Recycler``): an array you hold is
  never overwritten, and a training loop does not page-fault fresh memory on every step.  (``net.deltas`` and ``layer.Z`` etc. show the last
  call to finish; with threads, read the returned values instead.  Changing the parameters while
  another thread computes is not made safe.)
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate
from ._memory import Recycler
from ._validate import NonFiniteError
from .losses import get_loss
from .protocol import Context, check_layer, check_output_layer, describe
from .registry import implements
from .regularization import l2_grad, l2_penalty


class _Where:
    """``"layer 2 (Dense 4→1, sigmoid)"``, built only when a message uses it."""

    __slots__ = ("net", "i")

    def __init__(self, net, i):
        self.net, self.i = net, i

    def __str__(self):
        return self.net.where(self.i)

    def __format__(self, spec):
        return format(str(self), spec)


class Sequential:
    """Layers applied one after the other.  ``layers[i].n_out`` must equal ``layers[i+1].n_in``.

    Any object following :class:`bpkit.protocol.Layer` may be a layer; one object may be used at
    several positions (shared parameters).
    """

    def __init__(self, layers):
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise TypeError(f"Sequential takes a list of layers, got {type(layers).__name__}")
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        first = {}  # id(layer) -> its first position
        for i, layer in enumerate(layers):
            check_layer(layer, f"layer {i}")
            if id(layer) not in first:
                first[id(layer)] = i
                if hasattr(layer, "index"):
                    layer.index = i
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            if a.n_out != b.n_in:
                raise ValueError(
                    f"layer {i} ({describe(a)}) outputs width {a.n_out}, but layer {i + 1} "
                    f"({describe(b)}) expects input width {b.n_in}"
                )
        dtypes = {np.dtype(layer.dtype) for layer in layers}
        if len(dtypes) > 1:
            raise TypeError(f"all layers must share one dtype; got {sorted(d.name for d in dtypes)}")
        self.layers = layers
        self.dtype = np.dtype(layers[0].dtype)
        #: position -> the position whose name its parameters carry (itself, or the first use of a shared layer)
        self.owner = [first[id(layer)] for layer in layers]
        # bpkit's layers may write δ over the ∂L/∂A they are given (it is not read again): no new array
        self._prefix = [f"{owner}." for owner in self.owner]
        self._n_parameters = len(self.parameters())
        self._backward_kw = [{"overwrite": True} if getattr(layer, "may_overwrite", False) else {} for layer in layers]
        self.loss_value = None
        self._last = None
        self._recycler = Recycler()

    # -- description -------------------------------------------------------------
    @property
    def sizes(self):
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])"

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def where(self, i) -> str:
        """``"layer 2 (Dense 4→1, sigmoid)"``: position i in messages."""
        return f"layer {i} ({describe(self.layers[i])})"

    def parameters(self):
        """``[("0.W", W0), ("0.b", b0), ("1.W", W1), ...]``: the arrays themselves (edit in place).

        A layer used at several positions appears once, named after its first position.
        """
        return [(f"{i}.{name}", p) for i, layer in enumerate(self.layers) if self.owner[i] == i
                for name, p in layer.parameters()]

    def contexts(self):
        """One fresh :class:`~bpkit.protocol.Context` per position, for ``forward``/``loss``/``loss_and_grads``.

        Their ``empty()`` hands out the memory of arrays of this network's earlier calls that nothing
        refers to any more (``bpkit._memory.Recycler``)."""
        recycler = self._recycler
        return [Context(recycler) for _ in self.layers]

    def release_memory(self):
        """Free the arrays the network keeps for reuse (those you still hold stay valid and unchanged)."""
        self._recycler.clear()

    @property
    def deltas(self):
        """∂L/∂Z of each position, shape (m, n_out), from the last ``loss_and_grads`` to finish (None
        while the next one runs, or if it failed)."""
        return [None if ctx is None else ctx.delta for ctx in (self._last or [None] * len(self.layers))]

    # -- forward -----------------------------------------------------------------
    def _check_X(self, X):
        return _validate.batch(X, "X", self.layers[0].n_in, self.dtype, lambda: self.where(0))

    def _run(self, X, ctxs):
        if ctxs is None:
            ctxs = self.contexts()
        elif len(ctxs) != len(self.layers) or not all(isinstance(c, Context) for c in ctxs):
            raise TypeError(f"contexts must be a list of {len(self.layers)} bpkit.protocol.Context, one per layer")
        A = X
        for layer, ctx in zip(self.layers, ctxs):
            A = layer.forward(A, ctx)
        return A, ctxs

    def show(self, ctxs, backward=True):
        """Let ``net.deltas`` and the layers (``layer.Z``, ``layer.A``, ``layer.delta``, …) show one call.

        Every call does this when it finishes (``backward=False`` after a forward pass only: then
        ``layer.input``, ``Z`` and ``A`` change, and ``delta``, ``dW``, ``db``, ``net.deltas`` still show
        the last backward pass).  It is for reading only — no computation uses it.
        """
        if backward:
            self._last = ctxs
        for layer, ctx in zip(self.layers, ctxs):
            try:
                layer.last = ctx
                if backward:
                    layer.last_backward = ctx
            except AttributeError:  # a user layer with __slots__: nothing to show
                pass

    def _unshow(self):
        """Drop the display's references to the arrays of this network's earlier calls (``net.deltas``,
        ``layer.Z``, …), so that a new call reuses their memory unless the caller holds them: one set of
        arrays instead of two, which keeps a wide network's pass in the CPU's cache."""
        self._last = None
        recycler = self._recycler
        for layer in self.layers:
            for attr in ("last", "last_backward"):
                ctx = getattr(layer, attr, None)
                if ctx is not None and getattr(ctx, "recycler", None) is recycler:
                    try:
                        setattr(layer, attr, None)
                    except AttributeError:  # pragma: no cover - a user layer with __slots__
                        pass

    def _non_finite(self, X, what):
        """A NonFiniteError that names the first layer with NaN/inf parameters or output."""
        for i, layer in enumerate(self.layers):
            for name, p in layer.parameters():
                if not _validate.all_finite(np.asarray(p)):
                    return NonFiniteError(
                        f"{what} is not finite because parameter {name} of {self.where(i)} is not: "
                        f"{_validate.first_bad(p)}. Re-initialise it (a NaN weight usually comes from "
                        f"a step with a learning rate that diverged)"
                    )
        A = X
        with np.errstate(all="ignore"):
            for i, layer in enumerate(self.layers):
                A = layer.forward(A, Context())
                if not _validate.all_finite(A):
                    return NonFiniteError(
                        f"{what} is not finite: the output of {self.where(i)} overflowed "
                        f"({_validate.first_bad(A)}; weights or inputs too large for {self.dtype})"
                    )
        return NonFiniteError(f"{what} is not finite: the network overflowed (weights or inputs too large)")

    def forward(self, X, contexts=None):
        """The output for a batch X of shape (m, n_0); each layer's context keeps its input, Z and A.

        A NaN or infinite output raises :class:`~bpkit.NonFiniteError` naming the layer it comes from.
        """
        X = self._check_X(X)
        with np.errstate(over="ignore", invalid="ignore"):
            A, ctxs = self._run(X, contexts)
        if not _validate.all_finite(A):
            raise self._non_finite(X, "the network's output")
        self.show(ctxs, backward=False)
        return A

    __call__ = forward

    # -- loss and backward ----------------------------------------------------------
    def _prepare(self, X, T, loss, l2):
        loss = get_loss(loss)
        l2 = _validate.real_scalar(l2, "l2 (the penalty λ)", nonnegative=True)
        last = len(self.layers) - 1
        where = _Where(self, last)  # the message text is only built for an error
        check_output_layer(loss, self.layers[last], where)
        X = self._check_X(X)
        T = _validate.targets(T, X.shape[0], self.layers[last].n_out, self.dtype,
                              lambda: f"the network's last {where}")
        loss.check_targets(T, where)
        return X, T, loss, l2

    def _penalised(self):
        """(position, name, array) of every weight the L2 penalty applies to (parameters named W)."""
        return [(i, name, p) for i, layer in enumerate(self.layers) if self.owner[i] == i
                for name, p in layer.parameters() if name in getattr(layer, "l2_parameters", ("W",))]

    def _objective(self, A, T, loss, l2, out_ctx):
        value = loss.value(A, T, out_ctx)
        if l2:
            value += l2_penalty((p for _, _, p in self._penalised()), l2)
        return value

    @implements("eq-objective")
    def loss(self, X, T, loss="mse", l2=0.0, contexts=None):
        """J = L + s: the loss of a batch plus the L2 penalty s = λ/2 Σ‖W‖² (weights only): equation :eq:`eq-objective`."""
        X, T, loss, l2 = self._prepare(X, T, loss, l2)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported clearly below
            A, ctxs = self._run(X, contexts)
            value = self._objective(A, T, loss, l2, ctxs[-1])
        if not np.isfinite(value):
            raise self._non_finite(X, f"the loss ({value})")
        self.show(ctxs, backward=False)
        return value

    def loss_and_grads(self, X, T, loss="mse", l2=0.0):
        """``(J, grads)``: the loss J = L + s and ``{name: ∂J/∂param}`` with the parameters' shapes.

        Afterwards ``net.deltas`` holds each layer's δ = ∂L/∂Z.  A loss that is not finite, or a
        gradient that overflowed to inf/NaN while the loss is finite, raises
        :class:`~bpkit.NonFiniteError` (a FloatingPointError) naming the layer and the parameter.
        """
        X, T, loss, l2 = self._prepare(X, T, loss, l2)
        layers = self.layers
        last = len(layers) - 1
        self._unshow()
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, clearly
            A, ctxs = self._run(X, None)
            value, grad = loss.value_and_grad(A, T, ctxs[last])
            fused = {"given_delta": True} if loss.requires is not None else self._backward_kw[last]
            grad = layers[last].backward(grad, ctxs[last], need_input_grad=last > 0, **fused)
            kw = self._backward_kw
            for i in range(last - 1, -1, -1):  # the gradient w.r.t. the data (layer 0's input) is not needed
                grad = layers[i].backward(grad, ctxs[i], need_input_grad=i > 0, **kw[i])
            penalised = self._penalised() if l2 else ()
            if l2:
                value += l2_penalty((p for _, _, p in penalised), l2)
            if not math.isfinite(value):
                raise self._non_finite(X, f"the loss ({value})")
            grads = {}
            unproven = []  # the gradients to scan: those no layer proved finite, sums, penalised ones
            prefix = self._prefix
            for i, ctx in enumerate(ctxs):  # a shared layer's gradient: the sum over its positions
                proven = getattr(ctx, "grads_finite", False)
                for name, g in ctx.grads.items():
                    key = prefix[i] + name
                    if key in grads:
                        grads[key] = grads[key] + g
                        unproven.append(key)
                    else:
                        grads[key] = g
                        if not proven:
                            unproven.append(key)
            for i, name, p in penalised:
                key = f"{i}.{name}"
                grads[key] = grads[key] + l2_grad(p, l2)
                unproven.append(key)
            if len(grads) != self._n_parameters:
                self._missing_gradients(grads)
            for key in unproven:
                g = grads[key]
                if not _validate.sum_finite(g):
                    i = int(key.split(".", 1)[0])
                    raise NonFiniteError(
                        f"the gradient of {key} in {self.where(i)} is not finite "
                        f"({_validate.first_bad(g)}) although the loss is ({value}): the backward "
                        f"pass overflowed (weights, inputs or targets too large for {self.dtype})"
                    )
        self.show(ctxs)
        self.loss_value = value
        return value, grads

    def _missing_gradients(self, grads):
        for name, _ in self.parameters():
            if name not in grads:
                i = int(name.split(".", 1)[0])
                raise TypeError(f"{self.where(i)}: backward() gave no gradient for parameter "
                                f"{name.split('.', 1)[1]!r} in ctx.grads")
        raise TypeError(f"backward() gave gradients for unknown parameters: {sorted(set(grads) - set(dict(self.parameters())))}")


def mlp(sizes, activation="sigmoid", output_activation=None, residual=False, seed=0, dtype=np.float64):
    """A multilayer perceptron with layer widths ``sizes = [n_0, n_1, ..., n_L]``.

    ``output_activation=None`` uses ``activation`` for the output layer too.
    ``residual=True`` makes each hidden layer whose input and output widths are
    equal a :class:`~bpkit.layers.Residual` block.  Weights are drawn from ``seed``.
    """
    from .layers import Dense, Residual

    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a list of layer widths like [2, 3, 1], got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least two entries (input and output width), got {sizes}")
    sizes = [_validate.width(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
    dtype = _validate.as_dtype(dtype)
    output_activation = activation if output_activation is None else output_activation
    rng = np.random.default_rng(seed)
    layers = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        is_output = i == n_layers - 1
        act = output_activation if is_output else activation
        if residual and not is_output and n_in == n_out:
            layers.append(Residual(n_in, act, rng, dtype))
        else:
            layers.append(Dense(n_in, n_out, act, rng, dtype))
    return Sequential(layers)
