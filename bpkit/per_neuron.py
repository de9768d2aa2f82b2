"""Backpropagation one neuron and one weight at a time: the teaching version.

This is the first source's scalar notation written as loops, so that each line
can be read against an equation of the book:

* forward, for every neuron q:  z_q = Σ_p w_pq o_p + b_q,  o_q = f(z_q)
* output neuron v (MSE):        δ_v = (o_v − t_v) f'(z_v)          (÷ m for a mean)
* hidden neuron q:              δ_q = f'(z_q) Σ_k w_qk δ_k
* every weight and bias:        ∂L/∂w_pq = o_p δ_q,   ∂L/∂b_q = δ_q

It loops over samples, neurons and weights with Python floats and is therefore
slow (see ``benchmarks/``); it exists to be read, and the tests check that it
gives the same numbers as the vectorised :meth:`Sequential.loss_and_grads` to
1e-12.  Residual blocks add the identity path: a neuron's output is
x_q + f(z_q), so ∂L/∂x_q gains the ∂L/∂y_q that arrives at the block's output.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate
from .losses import get_loss
from .registry import implements


@implements("eq-forward-neuron")
def neuron_forward(o_prev, w, q, b_q):
    """z_q = Σ_p w_pq o_p + b_q, for one neuron q: equation :eq:`eq-forward-neuron`.

    ``o_prev`` is the list of the previous layer's outputs o_p, ``w[p][q]`` the
    weight from neuron p to neuron q.
    """
    z_q = b_q
    for p in range(len(o_prev)):
        z_q += w[p][q] * o_prev[p]
    return z_q


@implements("eq-output-delta-neuron")
def output_delta_neuron(o_v, t_v, fprime_v, m=1):
    """δ_v = ∂L/∂z_v = (o_v − t_v) f'(z_v) / m for an MSE output neuron: equation :eq:`eq-output-delta-neuron`.

    With the sigmoid, f'(z_v) = o_v (1 − o_v).  Note the sign: (o_v − t_v),
    not (t_v − o_v).
    """
    return (o_v - t_v) * fprime_v / m


@implements("eq-hidden-delta")
def hidden_delta_neuron(fprime_q, w_q, delta_next):
    """δ_q = f'(z_q) Σ_k w_qk δ_k for a hidden neuron q: equation :eq:`eq-hidden-delta`.

    ``w_q[k]`` is the weight from q to neuron k of the next layer and
    ``delta_next[k]`` that neuron's δ_k.
    """
    total = 0.0
    for k in range(len(delta_next)):
        total += w_q[k] * delta_next[k]
    return fprime_q * total


@implements("eq-weight-grad-neuron")
def weight_grad_neuron(o_p, delta_q):
    """∂L/∂w_pq = o_p δ_q (and ∂L/∂b_q = δ_q, with o_p = 1): equation :eq:`eq-weight-grad-neuron`.

    The weight's gradient is the output of the neuron it leaves times the δ of
    the neuron it enters.
    """
    return o_p * delta_q


def _loss_and_output_deltas(loss, o, z, t, act, m):
    """Per-sample loss (already ÷ m for a mean) and the output neurons' δ_v."""
    n = len(o)
    if loss.name == "mse":
        scale = 1.0 / m if loss.reduction == "mean" else 1.0
        value = sum(0.5 * (o[v] - t[v]) ** 2 for v in range(n)) * scale
        deltas = [
            output_delta_neuron(o[v], t[v], float(act.derivative(z[v])), 1.0 / scale)
            for v in range(n)
        ]
        return value, deltas
    if loss.name == "bce":
        # softplus(z) − t z  ==  −[t log σ(z) + (1 − t) log(1 − σ(z))]
        value = sum(max(z[v], 0.0) + math.log1p(math.exp(-abs(z[v]))) - t[v] * z[v] for v in range(n)) / m
        return value, [(o[v] - t[v]) / m for v in range(n)]
    if loss.name == "softmax_ce":
        top = max(z)
        log_sum = top + math.log(sum(math.exp(z[v] - top) for v in range(n)))
        value = -sum(t[v] * (z[v] - log_sum) for v in range(n)) / m
        t_sum = sum(t)  # 1 for a probability vector; the gradient p_v Σt − t_v is exact for any row
        return value, [(math.exp(z[v] - log_sum) * t_sum - t[v]) / m for v in range(n)]
    raise ValueError(f"the per-neuron version does not know the loss {loss.name!r}")  # pragma: no cover


def loss_and_grads(net, X, T, loss="mse", l2=0.0):
    """The same ``(J, grads)`` as ``net.loss_and_grads``, computed neuron by neuron.

    Also sets each layer's ``delta`` (rows = samples), as the vectorised version does.
    """
    contexts = net.contexts()  # the checks of the vectorised version (same errors), and its forward values
    net.loss(X, T, loss=loss, l2=l2, contexts=contexts)
    loss_obj = get_loss(loss)
    l2 = _validate.real_scalar(l2, "l2 (the penalty λ)", nonnegative=True)
    X, T = np.asarray(X, dtype=net.dtype), np.asarray(T, dtype=net.dtype)
    m = X.shape[0]
    layers = net.layers
    for l, layer in enumerate(layers):
        if not all(hasattr(layer, a) for a in ("W", "b", "activation", "identity_path")):
            raise TypeError(
                f"{net.where(l)}: the per-neuron version knows dense layers and residual blocks (W, b, "
                f"activation, identity_path), not {type(layer).__name__}"
            )
    W = [layer.W.tolist() for layer in layers]  # w[l][p][q]: weight from neuron p to neuron q
    b = [layer.b.tolist() for layer in layers]
    dW = [[[0.0] * layer.n_out for _ in range(layer.n_in)] for layer in layers]
    db = [[0.0] * layer.n_out for layer in layers]
    deltas = [[] for _ in layers]
    total = 0.0

    for i in range(m):
        # forward: o[l] is the list of outputs of layer l (o[0] = the sample itself)
        o = [[float(x) for x in X[i]]]
        z = []
        for l, layer in enumerate(layers):
            z_l = [neuron_forward(o[l], W[l], q, b[l][q]) for q in range(layer.n_out)]
            o_l = [float(layer.activation.value(zq)) for zq in z_l]
            if layer.identity_path:
                o_l = [o[l][q] + o_l[q] for q in range(layer.n_out)]
            z.append(z_l)
            o.append(o_l)

        # output layer
        last = layers[-1]
        t = [float(v) for v in T[i]]
        value, delta = _loss_and_output_deltas(loss_obj, o[-1], z[-1], t, last.activation, m)
        total += value
        if last.identity_path:  # only MSE gets here: ∂L/∂y_q first, δ_q = ∂L/∂y_q f'(z_q)
            scale = 1.0 / m if loss_obj.reduction == "mean" else 1.0
            d_out = [(o[-1][q] - t[q]) * scale for q in range(last.n_out)]
            delta = [d_out[q] * float(last.activation.derivative(z[-1][q])) for q in range(last.n_out)]
        else:
            d_out = None

        # backward, layer by layer
        for l in range(len(layers) - 1, -1, -1):
            layer = layers[l]
            deltas[l].append(delta)
            for q in range(layer.n_out):
                db[l][q] += weight_grad_neuron(1.0, delta[q])  # the bias: a weight from a constant 1
                for p in range(layer.n_in):
                    dW[l][p][q] += weight_grad_neuron(o[l][p], delta[q])  # ∂L/∂w_pq = o_p δ_q
            if l == 0:
                break
            below = layers[l - 1]
            # ∂L/∂o_p for the outputs of the layer below: Σ_q w_pq δ_q, plus the identity path
            d_below = [sum(W[l][p][q] * delta[q] for q in range(layer.n_out)) for p in range(layer.n_in)]
            if layer.identity_path:
                d_below = [d_below[p] + d_out[p] for p in range(layer.n_in)]
            fprime = [float(below.activation.derivative(zq)) for zq in z[l - 1]]
            if layer.identity_path or below.identity_path:
                delta = [d_below[p] * fprime[p] for p in range(below.n_out)]
            else:
                delta = [hidden_delta_neuron(fprime[p], W[l][p], delta) for p in range(below.n_out)]
            d_out = d_below

    grads = {}
    for l, layer in enumerate(layers):
        owner = net.owner[l]  # a layer used at several positions: its gradient is the sum over them
        gW = np.array(dW[l], dtype=layer.dtype)
        gb = np.array(db[l], dtype=layer.dtype)
        grads[f"{owner}.W"] = gW if owner == l else grads[f"{owner}.W"] + gW
        grads[f"{owner}.b"] = gb if owner == l else grads[f"{owner}.b"] + gb
        contexts[l].delta = np.array(deltas[l], dtype=layer.dtype)
        contexts[l].grads = {"W": gW, "b": gb}
    if l2:
        for l, layer in enumerate(layers):
            if net.owner[l] == l:
                grads[f"{l}.W"] = grads[f"{l}.W"] + l2 * layer.W
                total += 0.5 * l2 * float((layer.W.astype(np.float64) ** 2).sum())
    net.show(contexts)
    return total, grads
