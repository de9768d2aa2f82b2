"""The batch equations of backpropagation, one function each (row convention).

Row convention, as in the batch-matrix source: one sample per ROW.

=========  ===============  =========================================
symbol     shape            meaning
=========  ===============  =========================================
A          (m, n_in)        the layer's input (previous layer's output)
W          (n_in, n_out)    weights; W[p, q] connects input p to unit q
b          (n_out,)         biases
Z          (m, n_out)       pre-activations, Z = A W + 1 bᵀ
dZ, δ      (m, n_out)       ∂L/∂Z of this layer
=========  ===============  =========================================

Each function's docstring names the book equation it computes.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .registry import implements


def as_float(x) -> np.ndarray:
    """``x`` as a floating array (integers become float64; float32 stays float32)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return x
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


@implements("eq-forward-batch")
def dense_forward(A, W, b, out=None):
    """Z = A W + 1 bᵀ: equation :eq:`eq-forward-batch`.

    ``A`` is (m, n_in), ``W`` is (n_in, n_out), ``b`` is (n_out,); Z is (m, n_out), written into
    ``out`` if given.  Adding ``b`` to every row is the ``1 bᵀ`` term (NumPy broadcasting, in place:
    no temporary).
    """
    Z = np.matmul(as_float(A), W, out=out)
    Z += b
    return Z


@implements("eq-delta-from-output-grad")
def activation_delta(dA, Z, activation="sigmoid", A=None, out=None):
    """δ = ∂L/∂Z = ∂L/∂A ⊙ f'(Z): equation :eq:`eq-delta-from-output-grad`.

    The activation acts element by element, so its Jacobian is diagonal and the
    chain rule is an element-wise product (⊙).  Given the layer's output ``A =
    f(Z)``, f' is computed from it (the sigmoid's a(1 − a), tanh's 1 − a²: no exp
    or tanh again); ``out=dA`` overwrites ∂L/∂A with δ (no new array); the
    identity's f' = 1 costs nothing.
    """
    act = get_activation(activation)
    if act.name == "identity":  # f' = 1: δ is ∂L/∂A itself
        if out is None:
            return np.array(dA, copy=True)
        if out is not dA:
            np.copyto(out, dA)
        return out
    if A is None or not getattr(act, "has_output_derivative", False):
        fprime = act.derivative(Z)
    else:
        fprime = act.derivative_from_output(A)
    return np.multiply(dA, fprime, out=out)


@implements("eq-batch-dA")
def grad_input(dZ, W, out=None):
    """∂L/∂A = ∂L/∂Z Wᵀ: equation :eq:`eq-batch-dA`.  (m, n_out) @ (n_out, n_in) → (m, n_in), into ``out`` if given."""
    return np.matmul(dZ, np.asarray(W).T, out=out)


@implements("eq-batch-dW")
def grad_weights(A, dZ, out=None):
    """∂L/∂W = Aᵀ ∂L/∂Z: equation :eq:`eq-batch-dW`.  (n_in, m) @ (m, n_out) → (n_in, n_out), into ``out`` if given.

    The product sums over the batch: each sample adds its own outer product
    a_iᵀ δ_i, and the 1/m of a mean loss is already inside δ.
    """
    return np.matmul(as_float(A).T, dZ, out=out)


@implements("eq-batch-db")
def grad_bias(dZ):
    """∂L/∂b = 1ᵀ ∂L/∂Z (the column sums of δ): equation :eq:`eq-batch-db`.  Shape (n_out,)."""
    return np.add.reduce(np.asarray(dZ), axis=0)


@implements("eq-hidden-delta-matrix")
def hidden_delta(delta_next, W_next, Z, activation="sigmoid"):
    """δ^(l) = (δ^(l+1) W^(l+1)ᵀ) ⊙ f'(Z^(l)): equation :eq:`eq-hidden-delta-matrix`.

    ``delta_next`` is (m, n_{l+1}), ``W_next`` is (n_l, n_{l+1}) and ``Z`` is
    (m, n_l), the layer's own pre-activation.  This is the batch form of the
    per-neuron recursion δ_q = f'(z_q) Σ_k w_qk δ_k, for a plain (non-residual)
    next layer.
    """
    return activation_delta(grad_input(delta_next, W_next), Z, activation)


@implements("eq-residual-forward")
def residual_forward(X, W, b, activation="sigmoid"):
    """Y = X + f(X W + 1 bᵀ): equation :eq:`eq-residual-forward`.  X and Y are (m, n), W is (n, n)."""
    X = as_float(X)
    return X + get_activation(activation).value(dense_forward(X, W, b))


@implements("eq-residual-backward")
def residual_grad_input(dY, dZ, W, out=None):
    """∂L/∂X = ∂L/∂Y + ∂L/∂Z Wᵀ for Y = X + f(XW + b): equation :eq:`eq-residual-backward`.

    The first term is the identity path (its Jacobian is I, "the 1"); the
    second is the path through the layer, with dZ = ∂L/∂Y ⊙ f'(Z).  Written into ``out`` if given.
    """
    G = grad_input(dZ, W, out=out)
    G += dY
    return G
