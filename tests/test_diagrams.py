"""bpkit.diagrams: the pictures' labels are the network's own numbers and shapes.

The oracle for the indexed diagram is the neuron formula (eq-forward-neuron) evaluated by a loop over the
drawn labels, compared with the Z that bpkit computes; a drawing that put Wᵀ where W belongs fails it.
The batch picture's shapes are compared with the arrays of a real backward pass, the residual picture's
with the block's W, and the texts drawn on the axes must be the labels.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import bpkit as bp
from bpkit import diagrams

SIZES = [2, 3, 4, 2]   # all widths different next to each other: a transpose cannot fit by accident


def drawn_texts(ax):
    return [t.get_text() for t in ax.texts]


def z_from_labels(edges, net, x, l):
    """z^(l)_q = Σ_p w^(l)_pq a^(l-1)_p + b^(l)_q from the labels (1-based), for one sample x."""
    a = x if l == 1 else net.layers[l - 2].A[0]
    layer = net.layers[l - 1]
    return np.array([sum(edges[(l, p, q)].value * a[p - 1] for p in range(1, layer.n_in + 1)) + layer.b[q - 1]
                     for q in range(1, layer.n_out + 1)])


def check_labels_compute_forward(net, x):
    nodes, edges, shapes = diagrams.labels(net)
    net.forward(x[None, :])
    for l in range(1, len(net.layers) + 1):
        z = z_from_labels(edges, net, x, l)
        np.testing.assert_allclose(z, net.layers[l - 1].Z[0], rtol=1e-12, err_msg=f"layer {l}")
        assert shapes[l] == (net.sizes[l - 1], net.sizes[l])
    return nodes, edges, shapes


def test_labels_compute_the_forward_pass():
    net = bp.mlp(SIZES, activation="tanh", seed=3)
    x = np.random.default_rng(0).normal(size=SIZES[0])
    nodes, edges, shapes = check_labels_compute_forward(net, x)
    assert len(edges) == sum(a * b for a, b in zip(SIZES, SIZES[1:]))
    assert len(nodes) == sum(SIZES)
    e = edges[(2, 3, 1)]
    assert (e.text, e.code, e.value) == ("$w^{(2)}_{31}$", "net.layers[1].W[2, 0]", float(net.layers[1].W[2, 0]))


def test_a_swapped_orientation_fails(monkeypatch):
    """The check above can fail: labels read from Wᵀ (the column layout's storage) do not compute z."""
    net = bp.mlp([3, 3, 3], seed=1)      # square: the transpose even has the right shape
    x = np.random.default_rng(1).normal(size=3)
    check_labels_compute_forward(net, x)
    monkeypatch.setattr(diagrams, "_stored_weights", lambda layer: np.asarray(layer.W).T)
    with pytest.raises(AssertionError):
        check_labels_compute_forward(net, x)


def test_the_drawing_shows_the_labels():
    import matplotlib.pyplot as plt

    net = bp.mlp(SIZES, seed=0)
    for highlight in diagrams.HIGHLIGHTS:
        fig, ax = plt.subplots()
        try:
            nodes, edges, shapes = diagrams.network_diagram(net, ax, highlight=highlight, edge=(2, 3, 1), values=True)
            texts = "\n".join(drawn_texts(ax))
        finally:
            plt.close(fig)
        for lab in nodes.values():
            assert lab.text in texts
        assert "$w^{(2)}_{31}$" in texts and "stored as net.layers[1].W[2, 0]" in texts
        for l, (r, c) in shapes.items():
            assert f"$W^{{({l})}}$: {r}×{c}" in texts and f"$n_{l} = {c}$" in texts
        for lab in edges.values():                       # every weight's number is drawn
            assert f"{lab.value:+.2f}" in texts
        if highlight:
            assert diagrams.HIGHLIGHTS[highlight](3, 2, 3, 1) in texts


def test_batch_shapes_are_the_arrays_of_a_backward_pass():
    import matplotlib.pyplot as plt

    net = bp.mlp([2, 3, 4], seed=0)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(5, 2)), rng.normal(size=(5, 4))
    _, grads = net.loss_and_grads(X, T)
    fig, ax = plt.subplots()
    try:
        s = diagrams.batch_diagram(net, X, T, ax, layer=1)
        texts = drawn_texts(ax)
    finally:
        plt.close(fig)
    assert s == {"A": (5, 3), "W": (3, 4), "Z": (5, 4), "delta": (5, 4), "A.T": (3, 5), "dW": (3, 4), "db": (4,)}
    assert s["dW"] == grads["1.W"].shape and s["A"] == net.layers[1].input.shape
    for dims in ("5×3", "3×4", "5×4", "3×5"):
        assert dims in texts, (dims, texts)
    with pytest.raises(ValueError, match="layer"):
        diagrams.batch_shapes(net, X, T, layer=2)


def test_residual_picture_reads_the_block():
    import matplotlib.pyplot as plt

    net = bp.mlp([3, 3, 3, 2], residual=True, seed=0)
    fig, ax = plt.subplots()
    try:
        s = diagrams.residual_diagram(net.layers[1], ax)
        texts = "\n".join(drawn_texts(ax))
    finally:
        plt.close(fig)
    assert s["W"] == net.layers[1].W.shape == (3, 3) and "W: 3×3" in texts and "(m×3)" in texts
    with pytest.raises(TypeError, match="Residual"):
        diagrams.residual_shapes(object())
    with pytest.raises(ValueError, match="4 to 2"):
        diagrams.residual_shapes(bp.Dense(4, 2))


def test_bad_input_is_named():
    import matplotlib.pyplot as plt

    net = bp.mlp([2, 3, 2], seed=0)
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="highlight"):
            diagrams.network_diagram(net, ax, highlight="backward")
        with pytest.raises(ValueError, match=r"edge=\(l, p, q\).*\[2, 3, 2\]"):
            diagrams.network_diagram(net, ax, edge=(1, 3, 1))
        with pytest.raises(ValueError, match="hidden layer"):
            diagrams.network_diagram(bp.mlp([2, 2], seed=0), ax, highlight="hidden-delta")
        with pytest.raises(TypeError, match="bp.mlp"):
            diagrams.labels([1, 2, 3])
    finally:
        plt.close(fig)


def test_importing_the_diagrams_loads_numpy_only():
    code = ("import sys, bpkit, bpkit.diagrams; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'sympy', 'ipywidgets')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
