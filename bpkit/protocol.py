"""The two contracts of bpkit: what a layer must do, and what a loss must do.

A **layer** is any object with

* ``n_in``, ``n_out`` (its input and output widths) and ``dtype`` (np.float64 or np.float32);
* ``forward(A, ctx)`` → the output for a batch ``A`` of shape (m, n_in).  Whatever the backward pass
  will need (the input, a pre-activation, …) goes into ``ctx``, a fresh :class:`Context` for this one
  call — never onto the layer itself;
* ``backward(dA, ctx, need_input_grad=True)`` → ∂L/∂(input) given ``dA`` = ∂L/∂(output) and the same
  ``ctx``; it puts the gradient of each parameter into ``ctx.grads[name]`` (the parameter's shape and
  dtype).  With ``need_input_grad=False`` it may return None (the first layer: ∂L/∂X is not needed);
* ``parameters()`` → the ``(name, array)`` pairs of its parameters, the arrays themselves (an optimiser
  edits them in place), with the same names as the keys of ``ctx.grads``;
* ``zero_grad()`` → nothing to do for a bpkit layer, which keeps no gradient: a gradient lives in the
  context of the call that computed it.  It exists so that code written for libraries that accumulate
  gradients on the layer can call it.

Optional:

* ``describe()`` → a short text for messages, e.g. ``"Dense 3→4, sigmoid"``;
* ``ctx.grads_finite = True``, set by ``backward`` when it has proved every gradient it put in
  ``ctx.grads`` finite (bpkit's dense layer does, by a bound cheaper than a scan); otherwise the network
  scans each gradient for NaN/inf itself;
* ``output_activation`` → the name of the activation that produces the layer's output, if its output is
  ``f(Z)`` for a pre-activation Z.  A fused loss (``bce``, ``softmax_ce``) needs it to be the loss's
  ``requires``, and then calls ``backward(delta, ctx, need_input_grad, given_delta=True)`` with
  δ = ∂L/∂Z directly.

Because the state of a call lives in its contexts, one layer object may appear several times in a
network (its parameters are shared: :class:`~bpkit.network.Sequential` sums their gradients), and
several threads may run ``loss_and_grads`` on one network at the same time.

A **loss** is any object with ``name``, ``requires`` (None, or the output activation it is fused with),
``check_targets(T, where)`` (raise ValueError for invalid targets), ``value(A, T, ctx)`` → the loss, a
float, and ``value_and_grad(A, T, ctx)`` → ``(L, g)``, where ``ctx`` is the output layer's context
(a fused loss reads the logits ``ctx.Z`` from it) and g is ∂L/∂A, or ∂L/∂Z for a fused loss.
"""

from __future__ import annotations

from typing import Iterable, Protocol, runtime_checkable

import numpy as np


class Context:
    """What one call of one layer keeps between its forward and its backward pass.

    A plain namespace: a layer stores whatever it needs as attributes, and may take the memory of its
    results from ``empty()``.  ``grads`` receives the
    parameters' gradients; ``delta`` (∂L/∂Z, for layers with a pre-activation) is set by the
    backward pass; ``z_offset`` is added to the pre-activation Z by layers that have one (used by
    :func:`bpkit.gradcheck.numerical_deltas` to nudge Z itself; None otherwise).
    """

    def __init__(self, recycler=None):
        self.grads = {}
        self.delta = None
        self.z_offset = None
        self.recycler = recycler

    def empty(self, shape, dtype):
        """A new, uninitialised array for a result of this call: ``np.empty(shape, dtype)``, or, in a
        network's call, memory of an array of that network's earlier calls that nothing refers to any
        more (``bpkit._memory.Recycler``).  A layer may use it for every array it returns or keeps."""
        if self.recycler is None:
            return np.empty(shape, dtype)
        return self.recycler.empty(shape, dtype)

    def __repr__(self):
        keys = ", ".join(k for k in vars(self) if k != "recycler" and getattr(self, k) is not None)
        return f"Context({keys})"


@runtime_checkable
class Layer(Protocol):
    """The layer contract (see the module docstring)."""

    n_in: int
    n_out: int
    dtype: np.dtype

    def forward(self, A, ctx): ...

    def backward(self, dA, ctx, need_input_grad=True): ...

    def parameters(self) -> Iterable: ...

    def zero_grad(self) -> None: ...


@runtime_checkable
class Loss(Protocol):
    """The loss contract (see the module docstring)."""

    name: str
    requires: object

    def check_targets(self, T, where) -> None: ...

    def value(self, A, T, ctx=None) -> float: ...

    def value_and_grad(self, A, T, ctx=None): ...


LAYER_METHODS = ("forward", "backward", "parameters")


def check_layer(layer, where: str) -> None:
    """TypeError naming what is missing if ``layer`` does not follow the layer contract."""
    missing = [m for m in LAYER_METHODS if not callable(getattr(layer, m, None))]
    missing += [a for a in ("n_in", "n_out", "dtype") if not hasattr(layer, a)]
    if missing:
        raise TypeError(
            f"{where} must follow bpkit's layer contract (bpkit.protocol): {type(layer).__name__} "
            f"has no {', '.join(missing)}"
        )


def describe(layer) -> str:
    """``layer.describe()`` if it has one, else its class name and widths."""
    d = getattr(layer, "describe", None)
    return d() if callable(d) else f"{type(layer).__name__} {layer.n_in}→{layer.n_out}"


def check_output_layer(loss, layer, where) -> None:
    """The one place for the output-activation rule: a fused loss needs its matching output activation.

    ``bce`` is fused with a sigmoid output and ``softmax_ce`` with an identity output (logits): their δ
    = ∂L/∂Z = (A − T)/m holds only there.  A layer whose output is not f(Z) (a residual block's X + f(Z),
    a user layer without ``output_activation``) cannot end a network trained with a fused loss.
    """
    requires = getattr(loss, "requires", None)
    if requires is None:
        return
    has = getattr(layer, "output_activation", None)
    if has == requires:
        return
    where = where() if callable(where) else where
    if has is None:
        raise ValueError(
            f"loss {loss.name!r} is fused with a {requires!r} output: δ = (A − T)/m needs an output A = "
            f"{requires}(Z), but {where} has no such output (a residual block's output is X + f(Z)); "
            f"end the network with a Dense layer, or use loss='mse'"
        )
    if has != requires:
        raise ValueError(
            f"loss {loss.name!r} is fused with a {requires!r} output, but {where} uses "
            f"{has!r}; build the network with output_activation={requires!r}"
        )
