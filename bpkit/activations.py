"""Element-wise activation functions f and their derivatives f'.

Each activation gives its value ``f(z)``, its derivative ``f'(z)`` and the
derivative written through the output ``a = f(z)``: the sources write the
sigmoid's derivative as ``o(1 - o)``, and the per-neuron code uses that form.

All of them are numerically stable: finite values and no floating-point
warnings (not even underflow) for ``|z|`` up to 1e4 in float64 and float32.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from .registry import implements


def _exp_limit(dtype) -> float:
    """Largest x with exp(-x) still a normal number of ``dtype`` (no underflow)."""
    return float(-np.log(np.finfo(dtype).tiny) - 1.0)


class Activation:
    """An element-wise activation: ``value(z)``, ``derivative(z)``, ``derivative_from_output(a)``.

    A subclass must define ``value`` and ``derivative`` (checked when the class is created: a missing
    one is a TypeError naming it) and a ``name``.  ``derivative_from_output(a)``, f' written through
    a = f(z), is optional: without it the backward pass uses ``derivative(z)``.
    """

    name = "activation"
    REQUIRED = ("value", "derivative")
    #: ``value(z, out=...)`` writes f(z) into ``out`` (a float array of z's shape); a subclass that
    #: defines ``value`` says so itself (a ``value(z)`` of its own is called without ``out``)
    value_takes_out = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        missing = [m for m in cls.REQUIRED if getattr(cls, m) is getattr(Activation, m)]
        if missing:
            raise TypeError(
                f"Activation subclass {cls.__name__} must define {', '.join(m + '(z)' for m in missing)} "
                f"(f(z) and f'(z), element by element); it has no {', '.join(missing)}"
            )
        if not isinstance(cls.name, str) or not cls.name:
            raise TypeError(f"Activation subclass {cls.__name__} needs a name (a non-empty str)")
        cls.has_output_derivative = cls.derivative_from_output is not Activation.derivative_from_output
        if "value" in cls.__dict__ and "value_takes_out" not in cls.__dict__:
            cls.value_takes_out = False

    def __call__(self, z):
        return self.value(z)

    def value(self, z):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.value(z)")

    def derivative(self, z):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.derivative(z)")

    def derivative_from_output(self, a):
        """f' through the output a = f(z); subclasses may define it (else ``derivative(z)`` is used)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no derivative_from_output(a); use derivative(z)"
        )

    def __repr__(self):
        return f"activation {self.name!r}"


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(-z)),  σ'(z) = σ(z)(1 - σ(z)) = o(1 - o)."""

    name = "sigmoid"

    def value(self, z):
        z = np.asarray(z)
        dtype = z.dtype if z.dtype.kind == "f" else np.dtype(np.float64)
        lim = _exp_limit(dtype)
        e = np.exp(-np.minimum(np.abs(z), lim).astype(dtype, copy=False))  # in (0, 1], never underflows
        return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(dtype, copy=False)

    def derivative(self, z):
        s = self.value(z)
        return s * (1.0 - s)

    def derivative_from_output(self, a):
        d = 1.0 - a
        d *= a
        return d


class Tanh(Activation):
    """tanh(z),  tanh'(z) = 1 - tanh(z)^2 = 1 - o^2."""

    name = "tanh"
    value_takes_out = True

    def value(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z):
        t = np.tanh(z)
        return 1.0 - t * t

    def derivative_from_output(self, a):
        d = a * a
        np.subtract(1.0, d, out=d)
        return d


class ReLU(Activation):
    """max(0, z),  derivative 1 for z > 0 and 0 otherwise (0 at the kink z = 0)."""

    name = "relu"
    value_takes_out = True

    def value(self, z, out=None):
        z = np.asarray(z)
        if out is not None:
            return np.maximum(z, 0, out=out)
        return np.maximum(z, 0).astype(z.dtype if z.dtype.kind == "f" else np.float64, copy=False)

    def derivative(self, z):
        z = np.asarray(z)
        return (z > 0).astype(z.dtype if z.dtype.kind == "f" else np.float64)

    def derivative_from_output(self, a):
        a = np.asarray(a)
        return a > 0  # a boolean mask: multiplying by it is cheaper than by a float copy


class Identity(Activation):
    """f(z) = z,  f'(z) = 1 (a linear output, e.g. the logits of a softmax)."""

    name = "identity"

    def value(self, z):
        return np.asarray(z)

    def derivative(self, z):
        z = np.asarray(z)
        return np.ones_like(z, dtype=z.dtype if z.dtype.kind == "f" else np.float64)

    def derivative_from_output(self, a):
        return self.derivative(a)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (Sigmoid(), Tanh(), ReLU(), Identity())
}


def get_activation(name) -> Activation:
    """The activation called ``name`` (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"identity"``)."""
    if isinstance(name, Activation):
        return name
    return _validate.choice(name, ACTIVATIONS, "activation")


@implements("eq-activation")
def activate(Z, activation="sigmoid"):
    """A = f(Z), element by element: equation :eq:`eq-activation`.

    ``Z`` has shape (m, n); the result has the same shape.
    """
    return get_activation(activation).value(Z)


def sigmoid(z):
    """The logistic function σ(z) = 1 / (1 + e^(-z)), stable for any ``|z|``."""
    return ACTIVATIONS["sigmoid"].value(z)


def softmax(Z):
    """Row-wise softmax: ``exp(z_j) / Σ_k exp(z_k)`` for each row of Z (one sample per row)."""
    Z = np.asarray(Z)
    dtype = Z.dtype if Z.dtype.kind == "f" else np.dtype(np.float64)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    np.maximum(shifted, -_exp_limit(dtype), out=shifted)  # exp never underflows
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(Z):
    """Row-wise log softmax, ``z_j - log Σ_k exp(z_k)``, stable for any ``|z|``."""
    Z = np.asarray(Z)
    dtype = Z.dtype if Z.dtype.kind == "f" else np.dtype(np.float64)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    clipped = np.maximum(shifted, -_exp_limit(dtype))
    return shifted - np.log(np.exp(clipped).sum(axis=-1, keepdims=True))
