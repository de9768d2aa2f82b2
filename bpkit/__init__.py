"""bpkit: backpropagation in NumPy, one function per equation of the book.

``import bpkit as bp`` loads NumPy only.  SymPy (:mod:`bpkit.symbolic`) and
ipywidgets/matplotlib (:mod:`bpkit.widgets`, :mod:`bpkit.diagrams`) are imported on first use.

Conventions: one sample per ROW; ``X`` is (m, n_0); a dense layer has ``W`` of
shape (n_in, n_out) and ``b`` of shape (n_out,), and computes ``Z = A W + b``
(the sources' Z = AW + 1bᵀ).  :mod:`bpkit.layout` converts to and from the
column convention ``z = W a + b``.
"""

from __future__ import annotations

import importlib

from . import data, layout, per_neuron, protocol
from ._memory import tune_malloc
from ._validate import NonFiniteError
from .batching import per_sample_average
from .chain import jacobian, prod
from .diagnostics import dead_relu_fraction, delta_norms, layer_gradient_norms
from .activations import ACTIVATIONS, Activation, activate, get_activation, log_softmax, sigmoid, softmax
from .functional import (
    activation_delta,
    dense_forward,
    grad_bias,
    grad_input,
    grad_weights,
    hidden_delta,
    residual_forward,
    residual_grad_input,
)
from .gradcheck import GradcheckResult, gradcheck, numerical_deltas, numerical_grads, relative_error
from .layers import Dense, Residual
from .layout import append_ones, column_backward, column_forward, fold_bias, from_column, to_column, unfold_bias
from .losses import (
    LOSSES,
    MSE,
    BinaryCrossEntropy,
    Loss,
    SoftmaxCrossEntropy,
    bce_loss,
    get_loss,
    mse_grad,
    mse_loss,
    output_delta_matched,
    output_delta_mse,
    softmax_ce_loss,
)
from .network import Sequential, mlp
from .protocol import Context
from .optim import sgd_step
from .registry import EQUATIONS, function_for
from .regularization import l2_grad, l2_penalty
from .training import accuracy, train

__version__ = "0.1.0"

_LAZY = ("symbolic", "widgets", "errata", "diagrams")


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'bpkit' has no attribute {name!r}")


__all__ = [
    "accuracy", "column_backward", "data", "dead_relu_fraction", "delta_norms", "jacobian", "layer_gradient_norms",
    "numerical_deltas", "per_sample_average", "prod", "train",
    "Context", "GradcheckResult", "NonFiniteError", "protocol", "tune_malloc",
    "ACTIVATIONS", "Activation", "BinaryCrossEntropy", "Dense", "EQUATIONS", "LOSSES", "Loss", "MSE",
    "Residual", "Sequential", "SoftmaxCrossEntropy", "activate", "activation_delta", "append_ones",
    "bce_loss", "column_forward", "dense_forward", "fold_bias", "from_column", "function_for",
    "get_activation", "get_loss", "grad_bias", "grad_input", "grad_weights", "gradcheck", "hidden_delta",
    "l2_grad", "l2_penalty", "layout", "log_softmax", "mlp", "mse_grad", "mse_loss", "numerical_grads",
    "output_delta_matched", "output_delta_mse", "per_neuron", "relative_error", "residual_forward",
    "residual_grad_input", "sgd_step", "sigmoid", "softmax", "softmax_ce_loss", "to_column", "unfold_bias",
]
