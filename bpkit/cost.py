"""What backpropagation costs: multiply-adds of the forward and backward passes, and the memory they need.

The counts are for a dense network with layer widths ``sizes = [n_0, ..., n_N]`` and a batch of ``m``
samples, counting the matrix products (one multiply-add per term); the element-wise work (activations,
their derivatives, the bias sums) is of lower order and left out.  :func:`checkpointed_loss_and_grads`
trades memory for time: it keeps only the inputs of every ``every``-th layer during the forward pass and
recomputes the rest segment by segment during the backward pass.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .losses import get_loss
from .registry import implements


def _sizes(sizes, m):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"sizes must be a list of at least two layer widths like [2, 3, 1]; got {sizes!r}")
    sizes = [_validate.width(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
    return sizes, _validate.width(m, "m (the batch size)")


@implements("eq-cost-forward")
def forward_cost(sizes, m=1):
    """Multiply-adds of a forward pass, F = m Σ_l n_(l−1) n_l: equation :eq:`eq-cost-forward`."""
    sizes, m = _sizes(sizes, m)
    return m * sum(a * b for a, b in zip(sizes, sizes[1:]))


@implements("eq-cost-backward")
def backward_cost(sizes, m=1):
    """Multiply-adds of a backward pass, B = 2F − m n_0 n_1: equation :eq:`eq-cost-backward`.

    Each layer computes ∂L/∂W = A_inᵀ δ and ∂L/∂A_in = δ Wᵀ, each as costly as its forward product;
    the first layer skips ∂L/∂X, which no parameter needs.
    """
    sizes, m = _sizes(sizes, m)
    return 2 * forward_cost(sizes, m) - m * sizes[0] * sizes[1]


def parameter_count(sizes):
    """P = Σ_l (n_(l−1) n_l + n_l), the number of weights and biases."""
    sizes, _ = _sizes(sizes, 1)
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


@implements("eq-activation-memory")
def activation_memory(sizes, m=1, every=None):
    """Floats of activations held for the backward pass: equation :eq:`eq-activation-memory`.

    ``every=None``: every layer keeps its Z and A (its input is the previous A), S = m (n_0 + 2 Σ_l n_l).
    ``every=k``: only the inputs of layers 0, k, 2k, … are kept, plus, while a segment of k layers is
    recomputed, that segment's Z and A — the peak is the checkpoints plus the largest segment.
    """
    sizes, m = _sizes(sizes, m)
    n_layers = len(sizes) - 1
    if every is None:
        return m * (sizes[0] + 2 * sum(sizes[1:]))
    every = _validate.width(every, "every (layers per checkpoint segment)")
    starts = range(0, n_layers, every)
    checkpoints = sum(sizes[s] for s in starts)
    segment = max(2 * sum(sizes[s + 1: min(s + every, n_layers) + 1]) for s in starts)
    return m * (checkpoints + segment)


def _held(arrays):
    """Floats in the distinct arrays of ``arrays`` (an array referenced twice counts once)."""
    seen = {}
    for a in arrays:
        if isinstance(a, np.ndarray):
            seen[id(a)] = a.size
    return sum(seen.values())


CACHED = ("input", "Z", "A", "F")  # what a layer's forward pass keeps for its backward pass (F: a residual block)


def _cached(ctx):
    return [getattr(ctx, name, None) for name in CACHED] if ctx is not None else []


def stored_floats(net):
    """Floats the last pass of ``net`` keeps for its backward pass: each layer's input, Z and A (and F of a
    residual block), as held in the layers' contexts (``layer.last``, see :mod:`bpkit.protocol`)."""
    return _held(a for layer in net.layers for a in _cached(getattr(layer, "last", None)))


def checkpointed_loss_and_grads(net, X, T, every, loss="mse"):
    """``(L, grads, peak)``: ``net.loss_and_grads`` with activation checkpointing every ``every`` layers.

    The forward pass keeps only the inputs of layers 0, every, 2·every, … (until the end); the backward pass recomputes
    each segment's forward pass from its checkpoint, then runs the segment's backward pass and frees its
    contexts.  The gradients are those of ``net.loss_and_grads`` (the same operations on the same numbers);
    ``peak`` is the largest number of activation floats held at any moment (measured, not computed).
    It uses only the layer contract (:mod:`bpkit.protocol`): ``forward(A, ctx)`` and ``backward(dA, ctx)``.
    """
    from .protocol import Context

    every = _validate.width(every, "every (layers per checkpoint segment)")
    X, T, loss_obj, _ = net._prepare(X, T, loss, 0.0)
    if loss_obj.requires is not None:
        raise ValueError(f"checkpointed_loss_and_grads supports non-fused losses (mse: no output activation "
                         f"fused into the loss); got {loss!r}")
    layers, n = net.layers, len(net.layers)
    contexts = [None] * n  # the contexts alive at a moment: what the pass holds besides its checkpoints
    checkpoints, peak = {}, 0

    def measure(extra=()):
        nonlocal peak
        held = list(checkpoints.values()) + list(extra) + [a for ctx in contexts for a in _cached(ctx)]
        peak = max(peak, _held(held))

    A = X
    for i, layer in enumerate(layers):
        if i % every == 0:
            checkpoints[i] = A
        contexts[i] = Context()
        A = layer.forward(A, contexts[i])
        measure([A])
        if i < n - 1:
            contexts[i] = None
    value, grad = loss_obj.value_and_grad(A, T, contexts[n - 1])
    contexts[n - 1] = None
    del A
    kw = net._backward_kw
    per_position = [None] * n
    for start in reversed(range(0, n, every)):
        stop = min(start + every, n)
        A = checkpoints[start]
        for i in range(start, stop):  # recompute the segment, keeping its contexts
            contexts[i] = Context()
            A = layers[i].forward(A, contexts[i])
        measure()
        for i in range(stop - 1, start - 1, -1):
            grad = layers[i].backward(grad, contexts[i], need_input_grad=i > 0, **kw[i])
            per_position[i] = contexts[i].grads
        for i in range(start, stop):
            contexts[i] = None
    grads = {}
    for i, position in enumerate(per_position):  # a shared layer's gradient: the sum over its positions, in order
        for name, g in position.items():
            key = net._prefix[i] + name
            grads[key] = grads[key] + g if key in grads else g
    return value, grads, peak
