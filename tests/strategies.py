"""Hypothesis strategies: random small networks, batches and targets that fit a loss."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import bpkit as bp

ACTIVATIONS = sorted(bp.ACTIVATIONS)
LOSSES = sorted(bp.LOSSES)


@st.composite
def problems(draw, max_depth=4, max_width=6, max_batch=8):
    """(net, X, T, loss, l2): a random architecture with random parameters and data.

    Depth 1-4, widths 1-6, batch 1-8, every activation, every loss, residual
    on and off, l2 on and off.  The output activation is the one the loss
    needs (sigmoid for bce, identity for softmax_ce), any for mse.
    """
    depth = draw(st.integers(1, max_depth))
    sizes = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    loss = draw(st.sampled_from(LOSSES))
    activation = draw(st.sampled_from(ACTIVATIONS))
    output_activation = {"bce": "sigmoid", "softmax_ce": "identity"}.get(loss) or draw(st.sampled_from(ACTIVATIONS))
    residual = draw(st.booleans())
    if residual and depth >= 2:  # make residual blocks likely: equal hidden widths
        hidden = draw(st.integers(1, max_width))
        sizes = [sizes[0]] + [hidden] * (depth - 1) + [sizes[-1]]
    l2 = draw(st.sampled_from([0.0, 0.0, 0.1, 0.73]))
    m = draw(st.integers(1, max_batch))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    net = bp.mlp(sizes, activation=activation, output_activation=output_activation, residual=residual, seed=seed)
    for _, p in net.parameters():  # random biases too, so that every term is exercised
        p[...] = rng.normal(0.0, 1.0, p.shape) / np.sqrt(max(p.shape[0], 1))
    X = rng.normal(0.0, 1.0, (m, sizes[0]))
    n_out = sizes[-1]
    if loss == "mse":
        T = rng.normal(0.0, 1.0, (m, n_out))
    elif loss == "bce":
        T = rng.uniform(0.0, 1.0, (m, n_out))
    else:
        T = rng.dirichlet(np.ones(n_out), size=m)
    return net, X, T, loss, l2
