"""Losses and the δ they give at the output layer.

Shapes: ``A`` (the network output), ``Z`` (the output layer's pre-activation)
and ``T`` (the targets) are all (m, n_out), one sample per row.

* :class:`MSE` — per sample ½ Σ_j (o_j − t_j)², averaged over the m samples
  (``reduction="mean"``) or summed (``"sum"``).  Works with any output activation:
  ∂L/∂A = (A − T)/m, and the layer multiplies by f'(Z).
* :class:`BinaryCrossEntropy` — on a sigmoid output, fused with it:
  δ = ∂L/∂Z = (A − T)/m, computed from Z so that it never takes log(0).
* :class:`SoftmaxCrossEntropy` — on an identity output (logits), fused with the
  softmax: δ = (softmax(Z) − T)/m.  Rows of T are probability vectors.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .activations import _exp_limit, log_softmax, softmax
from .functional import activation_delta, as_float
from .registry import implements


def _scale(m: int, reduction: str) -> float:
    return 1.0 / m if reduction == "mean" else 1.0


@implements("eq-mse")
def mse_loss(A, T, reduction="mean"):
    """L = (1/m) Σ_i ½ Σ_j (a_ij − t_ij)²: equation :eq:`eq-mse`.

    With ``reduction="sum"`` the 1/m is dropped.  Returns a float.
    """
    diff = np.asarray(A) - np.asarray(T)
    return float(0.5 * _scale(diff.shape[0], reduction) * np.vdot(diff, diff))


@implements("eq-mse-grad")
def mse_grad(A, T, reduction="mean"):
    """∂L/∂A = (A − T)/m for the MSE loss: equation :eq:`eq-mse-grad` (shape (m, n_out))."""
    A = as_float(A)
    return (A - T) * A.dtype.type(_scale(A.shape[0], reduction))


@implements("eq-output-delta")
def output_delta_mse(A, T, Z, activation="sigmoid", reduction="mean"):
    """Output-layer δ = ∂L/∂Z = (A − T) ⊙ f'(Z) / m for MSE: equation :eq:`eq-output-delta`.

    For the sigmoid, f'(Z) = A ⊙ (1 − A).  The sign: δ is the derivative of the
    loss, so it is positive when the output is too large (a > t).
    """
    return activation_delta(mse_grad(A, T, reduction), Z, activation)


def _softplus(Z):
    """log(1 + e^z), stable: ``max(z, 0) + log1p(e^(−|z|))``."""
    lim = _exp_limit(Z.dtype)
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.minimum(np.abs(Z), lim)))


@implements("eq-bce")
def bce_loss(Z, T):
    """Binary cross-entropy of a sigmoid output, from its logits Z: equation :eq:`eq-bce`.

    L = −(1/m) Σ_i Σ_j [t_ij log a_ij + (1 − t_ij) log(1 − a_ij)],  a = σ(z),
    computed as (1/m) Σ (softplus(z) − t z), which never evaluates log(0).
    """
    Z = as_float(Z)
    return float((_softplus(Z) - T * Z).sum() / Z.shape[0])


@implements("eq-softmax-ce")
def softmax_ce_loss(Z, T):
    """Softmax cross-entropy of logits Z: equation :eq:`eq-softmax-ce`.

    L = −(1/m) Σ_i Σ_j t_ij log softmax(z_i)_j.
    """
    Z = as_float(Z)
    return float(-(T * log_softmax(Z)).sum() / Z.shape[0]) + 0.0  # + 0.0 turns -0.0 into 0.0


@implements("eq-output-delta-matched")
def output_delta_matched(A, T):
    """δ = ∂L/∂Z = (A − T)/m for a matched pair: equation :eq:`eq-output-delta-matched`.

    Sigmoid + binary cross-entropy (A = σ(Z)) and softmax + cross-entropy
    (A = softmax(Z)) both give this: the activation's derivative cancels.
    """
    A = as_float(A)
    return (A - T) * A.dtype.type(1.0 / A.shape[0])


class Loss:
    """A loss, following the loss contract of :mod:`bpkit.protocol`.

    ``value(A, T, ctx)`` is the loss of outputs ``A`` for targets ``T``; ``value_and_grad(A, T, ctx)``
    returns it with its gradient: ∂L/∂A, or, for a loss fused with its output activation
    (``requires`` is that activation's name), δ = ∂L/∂Z of the output layer.  ``ctx`` is the output
    layer's :class:`~bpkit.protocol.Context` (a fused loss reads the logits ``ctx.Z`` there); an array
    Z may be passed instead.
    """

    name = "loss"
    #: None, or the output activation this loss is fused with (its δ skips that activation's f')
    requires = None

    @property
    def fused(self) -> bool:
        """True if the loss gives ∂L/∂Z of the output layer rather than ∂L/∂A."""
        return self.requires is not None

    def check_targets(self, T, where):
        """Raise ValueError if the targets are not valid for this loss."""

    def value(self, A, T, ctx=None):
        raise NotImplementedError(f"{type(self).__name__} must define value(A, T, ctx)")  # pragma: no cover

    def value_and_grad(self, A, T, ctx=None):
        raise NotImplementedError(f"{type(self).__name__} must define value_and_grad(A, T, ctx)")  # pragma: no cover

    def _logits(self, A, ctx):
        """The output layer's pre-activation Z, from its context (or Z itself)."""
        if ctx is None:
            if self.requires == "identity":
                return as_float(A)
            raise ValueError(f"loss {self.name!r} needs the output layer's pre-activation Z (pass its context)")
        Z = getattr(ctx, "Z", ctx)
        return as_float(Z)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error, per sample ½ Σ_j (o_j − t_j)²; ``reduction`` "mean" or "sum"."""

    name = "mse"

    def __init__(self, reduction="mean"):
        self.reduction = _validate.choice(reduction, {"mean": "mean", "sum": "sum"}, "MSE reduction")

    def value(self, A, T, ctx=None):
        return mse_loss(A, T, self.reduction)

    def grad_output(self, A, T):
        """∂L/∂A: :func:`mse_grad`."""
        return mse_grad(A, T, self.reduction)

    def value_and_grad(self, A, T, ctx=None):
        """(L, ∂L/∂A): :func:`mse_loss` and :func:`mse_grad` sharing one A − T (one pass, no copy).

        The array of ∂L/∂A comes from ``ctx.empty`` when ``ctx`` is a layer's context."""
        empty = getattr(ctx, "empty", None)
        diff = np.subtract(A, T, out=None if empty is None else empty(np.shape(A), np.result_type(A, T)))
        scale = _scale(diff.shape[0], self.reduction)
        value = float(0.5 * scale * np.vdot(diff, diff))
        diff *= diff.dtype.type(scale)
        return value, diff

    def __repr__(self):
        return f"MSE(reduction={self.reduction!r})"


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on a sigmoid output; targets in [0, 1]; δ = (a − t)/m."""

    name = "bce"
    requires = "sigmoid"

    def check_targets(self, T, where):
        if (T < 0).any() or (T > 1).any():
            bad = np.argwhere((T < 0) | (T > 1))[0]
            raise ValueError(
                f"binary cross-entropy needs targets in [0, 1]; T[{bad[0]}, {bad[1]}] = {T[tuple(bad)]}"
            )

    def value(self, A, T, ctx=None):
        return bce_loss(self._logits(A, ctx), T)

    def delta(self, A, T, Z=None):
        """δ = ∂L/∂Z = (A − T)/m: :func:`output_delta_matched`."""
        return output_delta_matched(A, T)

    def value_and_grad(self, A, T, ctx=None):
        """(L, δ = ∂L/∂Z = (σ(Z) − T)/m)."""
        return self.value(A, T, ctx), output_delta_matched(A, T)


class SoftmaxCrossEntropy(Loss):
    """Softmax + cross-entropy on an identity (logit) output; rows of T are probability vectors.

    The rows of T are accepted if they sum to 1 within 1e-6 (float64) or 1e-4 (float32); the gradient
    used is ∂L/∂z_j = (p_j Σ_k t_k − t_j)/m, exact for the rows as given (for rows summing exactly to
    1 it is (p − t)/m).
    """

    name = "softmax_ce"
    requires = "identity"

    def check_targets(self, T, where):
        tol = 1e-6 if T.dtype == np.float64 else 1e-4
        if (T < 0).any():
            bad = np.argwhere(T < 0)[0]
            raise ValueError(
                f"softmax cross-entropy needs probability rows in T; T[{bad[0]}, {bad[1]}] = {T[tuple(bad)]} < 0"
            )
        sums = T.sum(axis=1)
        wrong = np.flatnonzero(np.abs(sums - 1) > tol)
        if wrong.size:
            i = wrong[0]
            raise ValueError(
                f"softmax cross-entropy needs each row of T to sum to 1 (a probability vector); "
                f"row {i} sums to {sums[i]}"
            )

    def value(self, A, T, ctx=None):
        return softmax_ce_loss(self._logits(A, ctx), T)

    def delta(self, A, T, Z=None):
        """δ = ∂L/∂Z = (p Σt − T)/m with p = softmax(Z): :func:`output_delta_matched` of p·Σt."""
        P = softmax(self._logits(A, Z))
        return output_delta_matched(P * np.asarray(T).sum(axis=1, keepdims=True).astype(P.dtype, copy=False), T)

    def value_and_grad(self, A, T, ctx=None):
        """(L, δ = ∂L/∂Z)."""
        return self.value(A, T, ctx), self.delta(A, T, ctx)


LOSSES = {"mse": MSE, "bce": BinaryCrossEntropy, "softmax_ce": SoftmaxCrossEntropy}


_DEFAULTS: dict = {}


def get_loss(loss) -> Loss:
    """A loss object from a name (``"mse"``, ``"bce"``, ``"softmax_ce"``) or a Loss instance."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str) and all(callable(getattr(loss, m, None)) for m in ("value", "value_and_grad")):
        if not hasattr(loss, "requires") or not hasattr(loss, "check_targets") or not hasattr(loss, "name"):
            raise TypeError(
                f"a loss must follow bpkit's loss contract (bpkit.protocol): {type(loss).__name__} needs "
                f"name, requires, check_targets(T, where), value(A, T, ctx) and value_and_grad(A, T, ctx)"
            )
        return loss
    if isinstance(loss, str) and loss in _DEFAULTS:
        return _DEFAULTS[loss]
    obj = _validate.choice(loss, LOSSES, "loss")()
    _DEFAULTS[loss] = obj  # the losses hold no state: one object per name
    return obj
