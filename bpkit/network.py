"""A network is a list of layers; backpropagation walks it backwards.

``net.loss_and_grads(X, T)`` runs the forward pass, the loss, and the backward
pass: the loss gives the output layer's δ (eq-output-delta or, fused,
eq-output-delta-matched), each layer turns ∂L/∂(its output) into its δ, its
gradients and ∂L/∂(its input) (eq-batch-dW, eq-batch-db, eq-batch-dA), and the
L2 penalty adds λW to each weight gradient (eq-l2-grad).
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .layers import Dense, Residual
from .losses import check_output_activation, get_loss
from .registry import implements
from .regularization import l2_grad, l2_penalty


class Sequential:
    """Layers applied one after the other.  ``layers[i].n_out`` must equal ``layers[i+1].n_in``."""

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise TypeError(f"layer {i} must be a bp.Dense or bp.Residual, got {type(layer).__name__}")
            layer.index = i
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            if a.n_out != b.n_in:
                raise ValueError(
                    f"layer {i} ({a.describe()}) outputs width {a.n_out}, but layer {i + 1} "
                    f"({b.describe()}) expects input width {b.n_in}"
                )
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) > 1:
            raise TypeError(f"all layers must share one dtype; got {sorted(d.name for d in dtypes)}")
        self.layers = layers
        self.dtype = layers[0].dtype
        self.loss_value = None

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

    def parameters(self):
        """``[("0.W", W0), ("0.b", b0), ("1.W", W1), ...]``: the arrays themselves (edit in place)."""
        return [(f"{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.parameters()]

    @property
    def deltas(self):
        """∂L/∂Z of each layer, shape (m, n_out), from the last ``loss_and_grads``."""
        return [layer.delta for layer in self.layers]

    # -- forward -----------------------------------------------------------------
    def _check_X(self, X):
        first = self.layers[0]
        return _validate.batch(X, "X", first.n_in, self.dtype, lambda: first.where)

    def forward(self, X):
        """The output for a batch X of shape (m, n_0); each layer keeps its input, Z and A."""
        return self._forward(self._check_X(X))

    def _forward_from(self, l, inp, Z):
        """The network output when layer l has input ``inp`` and pre-activation ``Z`` (layers after l recomputed)."""
        layer = self.layers[l]
        layer.input, layer.Z = inp, Z
        A = layer.activation.value(Z)
        if isinstance(layer, Residual):
            layer.F = A
            A = inp + A
        layer.A = A
        for later in self.layers[l + 1:]:
            A = later.forward(A, checked=True)
        return A

    def _forward(self, A):
        for layer in self.layers:
            layer._check_parameters()
        for layer in self.layers:
            A = layer.forward(A, checked=True)
        return A

    __call__ = forward

    # -- loss and backward ----------------------------------------------------------
    def _prepare(self, X, T, loss, l2):
        loss = get_loss(loss)
        l2 = _validate.real_scalar(l2, "l2 (the penalty λ)", nonnegative=True)
        last = self.layers[-1]
        if loss.fused:
            if isinstance(last, Residual):
                last.backward_delta(None)  # raises the explanatory error
            check_output_activation(loss, last.activation, last.where)
        X = self._check_X(X)
        T = _validate.targets(T, X.shape[0], last.n_out, self.dtype, lambda: f"the network's last {last.where}")
        loss.check_targets(T, last.where)
        return X, T, loss, l2

    @implements("eq-objective")
    def loss(self, X, T, loss="mse", l2=0.0):
        """J = L + s: the loss of a batch plus the L2 penalty s = λ/2 Σ‖W‖² (weights only): equation :eq:`eq-objective`."""
        X, T, loss, l2 = self._prepare(X, T, loss, l2)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported clearly by _objective
            A = self._forward(X)
            return self._objective(A, T, loss, l2)

    def _objective(self, A, T, loss, l2):
        value = loss.value(A, T, self.layers[-1].Z)
        if l2:
            value += l2_penalty((layer.W for layer in self.layers), l2)
        if not np.isfinite(value):
            raise ValueError(
                f"the loss is not finite ({value}): the network overflowed "
                f"(weights too large, or a learning rate that diverged)"
            )
        return value

    def loss_and_grads(self, X, T, loss="mse", l2=0.0):
        """``(J, grads)``: the loss J = L + s and ``{name: ∂J/∂param}`` with the parameters' shapes.

        Afterwards ``net.deltas`` holds each layer's δ = ∂L/∂Z.
        """
        X, T, loss, l2 = self._prepare(X, T, loss, l2)
        layers = self.layers
        last = len(layers) - 1
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, clearly
            A = self._forward(X)
            if loss.fused:
                value, delta = loss.value_and_delta(A, T, layers[-1].Z)
                grad = layers[-1].backward_delta(delta, need_input_grad=last > 0)
            else:
                value, dA = loss.value_and_grad(A, T)
                grad = layers[-1].backward(dA, need_input_grad=last > 0, overwrite=True)
            for i in range(last - 1, -1, -1):  # the gradient w.r.t. the data (layer 0's input) is not needed
                grad = layers[i].backward(grad, need_input_grad=i > 0, overwrite=True)
            if l2:
                value += l2_penalty((layer.W for layer in layers), l2)
        if not np.isfinite(value):
            raise ValueError(
                f"the loss is not finite ({value}): the network overflowed "
                f"(weights too large, or a learning rate that diverged)"
            )
        grads = {}
        for i, layer in enumerate(layers):
            # a NaN or inf anywhere in a layer's δ reaches its bias gradient 1ᵀδ, and a non-finite
            # activation makes the loss non-finite: checking db is enough (and costs n_out entries)
            if not _validate.all_finite(layer.db):
                raise ValueError(
                    f"the gradient of {i}.b in {layer.where} is not finite: the backward pass "
                    f"overflowed (weights or inputs too large for {self.dtype})"
                )
            if l2:
                layer.dW += l2_grad(layer.W, l2)
            grads[f"{i}.W"] = layer.dW
            grads[f"{i}.b"] = layer.db
        self.loss_value = value
        return value, grads


def mlp(sizes, activation="sigmoid", output_activation=None, residual=False, seed=0, dtype=np.float64):
    """A multilayer perceptron with layer widths ``sizes = [n_0, n_1, ..., n_L]``.

    ``output_activation=None`` uses ``activation`` for the output layer too.
    ``residual=True`` makes each hidden layer whose input and output widths are
    equal a :class:`~bpkit.layers.Residual` block.  Weights are drawn from ``seed``.
    """
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
