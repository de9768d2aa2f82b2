"""The book's three pictures, drawn from a real network: the indexed network, the batch shapes, the residual block.

Every label is computed from the network's own arrays (``labels``, ``batch_shapes``, ``residual_shapes``),
so a picture cannot disagree with ``bpkit``: neuron q of layer l carries z_q⁽ˡ⁾, a_q⁽ˡ⁾ and δ_q⁽ˡ⁾; the
edge from neuron p of layer l−1 to neuron q of layer l carries w_pq⁽ˡ⁾, stored as
``net.layers[l-1].W[p-1, q-1]`` (row p, column q: W is (n_in, n_out)).  Indices in labels are 1-based as in
the text; indices in code are 0-based.

Matplotlib is imported inside the drawing functions only (``import bpkit`` loads NumPy only).  Each drawing
function draws into an ``ax`` the caller made (``fig, ax = plt.subplots()``), so a chapter's cell makes one
figure with its caption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EdgeLabel", "NodeLabel", "labels", "network_diagram", "batch_shapes", "batch_diagram",
           "residual_shapes", "residual_diagram", "HIGHLIGHTS"]

HIGHLIGHT = "#d55e00"  # vermilion: readable for the common colour-vision deficiencies, on white
INPUT_FILL, NODE_FILL = "0.90", "white"

#: what a chapter can highlight, with the caption the drawing writes under the network (N = output layer)
HIGHLIGHTS = {
    None: lambda N, l, p, q: "",
    "forward": lambda N, l, p, q: (f"forward: $z^{{({l})}}_{q} = \\sum_p w^{{({l})}}_{{p{q}}}\\,a^{{({l - 1})}}_p"
                                   f" + b^{{({l})}}_{q}$,  $a^{{({l})}}_{q} = f(z^{{({l})}}_{q})$"),
    "output-delta": lambda N, l, p, q: (f"output layer: $\\delta^{{({N})}}_q = \\partial L/\\partial z^{{({N})}}_q$, "
                                        f"then $\\partial L/\\partial w^{{({N})}}_{{pq}} = a^{{({N - 1})}}_p\\,"
                                        f"\\delta^{{({N})}}_q$"),
    "hidden-delta": lambda N, l, p, q: (f"hidden layer: $\\delta^{{({N - 1})}}_1 = f'(z^{{({N - 1})}}_1)\\,"
                                        f"\\sum_q w^{{({N})}}_{{1q}}\\,\\delta^{{({N})}}_q$"),
    "batch": lambda N, l, p, q: ("a batch: every sample is one row of $A^{(l-1)}$, $Z^{(l)}$, $\\delta^{(l)}$; "
                                 "$W^{(l)}$ is $n_{l-1}×n_l$ for all of them"),
}


@dataclass(frozen=True)
class EdgeLabel:
    """The weight from neuron p (layer l−1) to neuron q (layer l); p, q, l 1-based as in the text."""

    l: int
    p: int
    q: int
    text: str      # mathtext, e.g. "$w^{(1)}_{12}$"
    code: str      # where bpkit stores it, e.g. "net.layers[0].W[0, 1]"
    value: float   # the number stored there


@dataclass(frozen=True)
class NodeLabel:
    l: int
    q: int
    text: str      # mathtext: x_q for inputs, z, a, δ for the other neurons
    code: str      # where bpkit keeps its z (for inputs: the column of X)


def _check_net(net):
    layers = getattr(net, "layers", None)
    if not layers or not all(hasattr(layer, "W") for layer in layers):
        raise TypeError(f"the diagram needs a bpkit network whose layers have weights W (bp.mlp(...)); "
                        f"got {type(net).__name__}")
    return layers


def _stored_weights(layer):
    """W as bpkit stores it, (n_in, n_out): row p = the weights leaving neuron p."""
    return np.asarray(layer.W)


def labels(net):
    """``(nodes, edges, shapes)``: the labels of the indexed network diagram, read off ``net``.

    ``edges[(l, p, q)]`` is the weight w_pq⁽ˡ⁾ from neuron p of layer l−1 to neuron q of layer l and its
    value ``net.layers[l-1].W[p-1, q-1]``; ``shapes[l]`` is the shape of W⁽ˡ⁾ as bpkit stores it,
    (n_{l−1}, n_l).
    """
    layers = _check_net(net)
    nodes, edges, shapes = {}, {}, {}
    for q in range(1, layers[0].n_in + 1):
        nodes[(0, q)] = NodeLabel(0, q, f"$x_{q}$", f"X[:, {q - 1}]")
    for l, layer in enumerate(layers, start=1):
        W = _stored_weights(layer)
        shapes[l] = W.shape
        n_in, n_out = W.shape
        for q in range(1, n_out + 1):
            nodes[(l, q)] = NodeLabel(l, q, f"$z^{{({l})}}_{q}\\quad a^{{({l})}}_{q}$\n$\\delta^{{({l})}}_{q}$",
                                      f"net.layers[{l - 1}].Z[:, {q - 1}]")
            for p in range(1, n_in + 1):
                edges[(l, p, q)] = EdgeLabel(l, p, q, f"$w^{{({l})}}_{{{p}{q}}}$",
                                             f"net.layers[{l - 1}].W[{p - 1}, {q - 1}]", float(W[p - 1, q - 1]))
    return nodes, edges, shapes


DX, DY = 3.2, 1.45             # layer spacing, neuron spacing
NODE_W, NODE_H = 1.3, 0.95     # a neuron's box


def _positions(sizes):
    top = max(sizes)
    return {(l, q): (DX * l, DY * ((top - n) / 2 + (n - q))) for l, n in enumerate(sizes) for q in range(1, n + 1)}


def network_diagram(net, ax, highlight=None, edge=None, values=False):
    """Draw ``net`` with every index named into ``ax``; returns ``(nodes, edges, shapes)`` of :func:`labels`.

    Layers l = 0 … N left to right (l = 0 the inputs), neuron q = 1 at the top.  The edge ``edge = (l, p, q)``
    (default: the last layer's (1, 1)) is labelled w_pq⁽ˡ⁾ with where bpkit stores it.  ``highlight`` is one
    of ``HIGHLIGHTS``: ``"output-delta"`` marks the output layer's δ and the weights into it,
    ``"hidden-delta"`` a hidden neuron's δ and the weights that carry δ back to it, ``"forward"`` the edges
    into one neuron, ``"batch"`` writes each W's shape.  ``values=True`` prints each weight's number.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if highlight not in HIGHLIGHTS:
        raise ValueError(f"network_diagram(highlight=...): expected one of {sorted(map(str, HIGHLIGHTS))}, "
                         f"got {highlight!r}")
    nodes, edges, shapes = labels(net)
    sizes = [net.layers[0].n_in] + [layer.n_out for layer in net.layers]
    N = len(sizes) - 1
    if edge is None:
        edge = (N, 1, 1)
    if edge not in edges:
        raise ValueError(f"network_diagram(edge=(l, p, q)): layer l in 1…{N}, p in 1…n_(l−1), q in 1…n_l; "
                         f"the network has sizes {sizes}, got {edge!r}")
    if highlight == "hidden-delta" and N < 2:
        raise ValueError(f"network_diagram(highlight='hidden-delta') needs a hidden layer; sizes are {sizes}")
    pos = _positions(sizes)
    # what is highlighted: the nodes and edges the chapter computes
    hot_nodes, hot_edges = set(), set()
    if highlight == "output-delta":
        hot_nodes = {(N, q) for q in range(1, sizes[N] + 1)}
        hot_edges = {k for k in edges if k[0] == N}
    elif highlight == "hidden-delta":
        hot_nodes = {(N - 1, 1)} | {(N, q) for q in range(1, sizes[N] + 1)}
        hot_edges = {(N, 1, q) for q in range(1, sizes[N] + 1)}
    elif highlight == "forward":
        l, _, q = edge
        hot_nodes = {(l, q)}
        hot_edges = {(l, p, q) for p in range(1, sizes[l - 1] + 1)}
    half = NODE_W / 2
    for (l, p, q), lab in edges.items():
        (x0, y0), (x1, y1) = pos[(l - 1, p)], pos[(l, q)]
        x0 += half if l > 1 else 0.42
        x1 -= half
        hot = (l, p, q) in hot_edges or (l, p, q) == edge
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=10, shrinkA=1, shrinkB=1,
                                     color=HIGHLIGHT if hot else "0.6", lw=2.0 if hot else 0.9, zorder=1))
        if values:
            t = 0.2  # near the neuron it leaves, written along the arrow (arrows from one neuron fan out)
            angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
            ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), f"{lab.value:+.2f}", fontsize=6.5, color="0.2",
                    rotation=angle, rotation_mode="anchor", ha="center", va="center", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.05", fc="white", ec="none"))
    for (l, q), lab in nodes.items():
        x, y = pos[(l, q)]
        hot = (l, q) in hot_nodes
        w, h = (0.84, 0.84) if l == 0 else (NODE_W, NODE_H)
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.3",
                                    facecolor=INPUT_FILL if l == 0 else NODE_FILL,
                                    edgecolor=HIGHLIGHT if hot else "0.2", lw=2.4 if hot else 1.1, zorder=3))
        ax.text(x, y, lab.text, ha="center", va="center", fontsize=9 if l else 11, zorder=5, linespacing=1.25)
    # the named edge: w_pq from p to q, and where bpkit keeps it
    l, p, q = edge
    lab = edges[edge]
    (x0, y0), (x1, y1) = pos[(l - 1, p)], pos[(l, q)]
    top = DY * (max(sizes) - 1)
    ax.annotate(f"{lab.text}: from neuron $p={p}$ of layer {l - 1} to neuron $q={q}$ of layer {l}\n"
                f"stored as {lab.code}", xy=(x0 + 0.5 * (x1 - x0), y0 + 0.5 * (y1 - y0)),
                xytext=(DX * N / 2, top + 0.95), fontsize=8.5, ha="center", va="bottom", color=HIGHLIGHT,
                arrowprops=dict(arrowstyle="->", color=HIGHLIGHT, lw=0.9), zorder=6)
    # the layer captions under each column
    for l, n in enumerate(sizes):
        name = "input" if l == 0 else "output" if l == N else "hidden"
        text = f"layer {l} ({name})\n$n_{l} = {n}$"
        if l:
            r, c = shapes[l]
            text += f"\n$W^{{({l})}}$: {r}×{c}" + (f" = $n_{{{l - 1}}}×n_{l}$" if highlight == "batch" else "")
        ax.text(DX * l, -0.8, text, ha="center", va="top", fontsize=8.5)
    if highlight:
        ax.text(DX * N / 2, -2.3, HIGHLIGHTS[highlight](N, *edge), ha="center", va="top", fontsize=9.5,
                color=HIGHLIGHT)
    ax.set_xlim(-0.7, DX * N + 0.9)
    ax.set_ylim(-2.9 if highlight else -2.3, top + 2.0)
    ax.set_aspect("equal")
    ax.axis("off")
    return nodes, edges, shapes


# -- the batch shapes ----------------------------------------------------------------------------------
def batch_shapes(net, X, T, loss="mse", layer=0):
    """The shapes of one layer's batch backward pass, taken from the arrays bpkit computes on ``X``, ``T``.

    Returns ``{"A": A⁽ˡ⁻¹⁾ (m, n_in), "W": (n_in, n_out), "Z": (m, n_out), "delta": (m, n_out),
    "A.T": (n_in, m), "dW": (n_in, n_out), "db": (n_out,)}`` for ``net.layers[layer]``.
    """
    layers = _check_net(net)
    if not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(layers):
        raise ValueError(f"batch_shapes(layer=...): expected a position 0…{len(layers) - 1}, got {layer!r}")
    _, grads = net.loss_and_grads(X, T, loss=loss)
    lay = layers[layer]
    A_in = np.asarray(lay.input)
    return {"A": A_in.shape, "W": np.shape(lay.W), "Z": np.shape(lay.Z), "delta": np.shape(net.deltas[layer]),
            "A.T": A_in.T.shape, "dW": np.shape(grads[f"{layer}.W"]), "db": np.shape(grads[f"{layer}.b"])}


def _block(ax, x, y, shape, name, color, scale):
    """A matrix drawn as a rectangle rows × columns (rows downwards), its name above it, its shape under it."""
    from matplotlib.patches import Rectangle

    rows, cols = shape if len(shape) == 2 else (1, shape[0])
    w, h = cols * scale, rows * scale
    ax.add_patch(Rectangle((x, y - h), w, h, facecolor=color, edgecolor="0.2", lw=1.0))
    for r in range(1, rows):
        ax.plot([x, x + w], [y - r * scale] * 2, color="0.65", lw=0.4)
    ax.text(x + w / 2, y + 0.05, name, ha="center", va="bottom", fontsize=10)
    dims = "×".join(map(str, shape)) if len(shape) == 2 else f"{shape[0]}"
    ax.text(x + w / 2, y - h - 0.15, dims, ha="center", va="top", fontsize=8, color="0.2")
    return x + w


def _equation(ax, y, items, scale):
    """Matrices and operators left to right on the line y (the top edge of the matrices); returns the width."""
    x = 0.0
    for item in items:
        if item[0] == "op":
            _, text, width = item
            ax.text(x + width / 2, y - 0.5, text, fontsize=11, ha="center", va="center")
            x += width
        else:
            _, shape, name, color = item
            x = _block(ax, x, y, shape, name, color, scale)
    return x


def batch_diagram(net, X, T, ax, loss="mse", layer=0):
    """Forward Z = A W + 1bᵀ (top row) and backward ∂J/∂W = Aᵀδ (bottom row) as rectangles whose sides
    are the actual dimensions of ``net.layers[layer]`` on the batch ``X``; returns :func:`batch_shapes`.

    (Where the 1/m of the mean sits depends on the loss: bpkit's MSE puts it into δ = ∂J/∂Z.)
    """
    s = batch_shapes(net, X, T, loss=loss, layer=layer)
    l = layer + 1
    scale = 0.32
    A, W, Z = "#cfe2f3", "#fce5cd", "#d9ead3"
    top = 0.0
    w1 = _equation(ax, top, [("mat", s["A"], f"$A^{{({l - 1})}}$", A), ("op", "·", 0.5),
                             ("mat", s["W"], f"$W^{{({l})}}$", W), ("op", r"$+\ \mathbf{1}b^{\mathsf{T}}\ =$", 1.5),
                             ("mat", s["Z"], f"$Z^{{({l})}}$", Z)], scale)
    low = top - max(s["A"][0], s["W"][0]) * scale - 1.7
    w2 = _equation(ax, low, [("mat", s["A.T"], f"$A^{{({l - 1})\\mathsf{{T}}}}$", A), ("op", "·", 0.5),
                             ("mat", s["delta"], f"$\\delta^{{({l})}}$", "#f4cccc"), ("op", "=", 0.6),
                             ("mat", s["dW"], f"$\\partial J/\\partial W^{{({l})}}$", W)], scale)
    ax.text(0, top + 0.75, f"forward, layer {l}: $Z = A W + \\mathbf{{1}} b^{{\\mathsf{{T}}}}$, "
            f"one row per sample (m = {s['A'][0]})", fontsize=9, va="bottom")
    ax.text(0, low + 0.75, f"backward: $\\partial J/\\partial W = A^{{\\mathsf{{T}}}}\\delta$ (the shape of W); "
            f"$\\partial J/\\partial b = \\mathbf{{1}}^{{\\mathsf{{T}}}}\\delta$ ({s['db'][0]} numbers)",
            fontsize=9, va="bottom")
    bottom = low - max(s["A.T"][0], s["delta"][0]) * scale - 0.6
    ax.set_xlim(-0.2, max(w1, w2, 6.5) + 0.3)
    ax.set_ylim(bottom, top + 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return s


# -- the residual block --------------------------------------------------------------------------------
def residual_shapes(block):
    """``{"W": (n, n), "b": (n,), "X": n, "Y": n}`` of a :class:`bpkit.layers.Residual` (its input and output width)."""
    W = getattr(block, "W", None)
    if W is None or not hasattr(block, "n_in"):
        raise TypeError(f"residual_shapes(block): expected a bpkit.Residual, got {type(block).__name__}")
    if block.n_in != block.n_out:
        raise ValueError(f"a residual block maps width n to n; this block maps {block.n_in} to {block.n_out}")
    return {"W": np.shape(W), "b": np.shape(block.b), "X": block.n_in, "Y": block.n_out,
            "activation": block.activation.name}


def residual_diagram(block, ax):
    """Y = X + f(XW + 1bᵀ) as boxes and arrows (forward, black, on top) with the two backward routes of
    ∂L/∂X (orange, below): the identity, and back through diag(f′) and the weights.  Returns
    :func:`residual_shapes`."""
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    s = residual_shapes(block)
    n = s["X"]
    f = s["activation"]
    fname = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "identity": "id"}.get(f, f)

    def box(x, y, text, w=1.5, h=0.8, color="white"):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=color,
                                    ec="0.2", lw=1.1, zorder=2))
        ax.text(x, y, text, ha="center", va="center", fontsize=9, zorder=3)

    def arrow(a, b, color="0.1", style="-|>", ls="-", rad=0.0, lw=1.3):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=11, color=color, lw=lw, ls=ls,
                                     connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2, zorder=1))

    y = 2.0
    ax.text(0, y, f"$X$\n(m×{n})", ha="center", va="center", fontsize=10)
    box(2.2, y, f"Dense\n$Z = XW + \\mathbf{{1}}b^{{\\mathsf{{T}}}}$\nW: {s['W'][0]}×{s['W'][1]}", w=1.9, h=1.0)
    box(4.4, y, f"{fname}\n$f(Z)$", w=1.1)
    ax.add_patch(Circle((6.0, y), 0.28, fc="white", ec="0.1", lw=1.3, zorder=2))
    ax.text(6.0, y, "+", ha="center", va="center", fontsize=13, zorder=3)
    ax.text(7.4, y, f"$Y = X + f(Z)$\n(m×{n})", ha="center", va="center", fontsize=10)
    arrow((0.45, y), (1.25, y))
    arrow((3.15, y), (3.85, y))
    arrow((4.95, y), (5.72, y))
    arrow((6.28, y), (6.75, y))
    arrow((0.1, y + 0.35), (5.9, y + 0.27), rad=-0.25)  # the skip connection
    ax.text(3.0, y + 1.45, "identity (skip)", ha="center", fontsize=8.5)
    # backward, below
    yb = 0.0
    c = HIGHLIGHT
    ax.text(7.4, yb, "$\\partial L/\\partial Y$", ha="center", va="center", fontsize=10, color=c)
    ax.text(-0.1, yb, "$\\partial L/\\partial X$", ha="center", va="center", fontsize=10, color=c)
    box(4.4, yb, "$\\odot f'(Z)$\n= δ", w=1.1, color="#fdebd9")
    box(2.2, yb, "$\\delta\\, W^{\\mathsf{T}}$\n$= g\\,\\mathrm{diag}(f')\\,W^{\\mathsf{T}}$\n(g = ∂L/∂Y, a row)",
        w=1.9, h=1.1, color="#fdebd9")
    ax.add_patch(Circle((0.75, yb), 0.25, fc="white", ec=c, lw=1.3, zorder=2))
    ax.text(0.75, yb, "+", ha="center", va="center", fontsize=12, color=c, zorder=3)
    arrow((6.85, yb), (4.95, yb), color=c, ls="--")
    arrow((3.85, yb), (3.15, yb), color=c, ls="--")
    arrow((1.25, yb), (1.0, yb), color=c, ls="--")
    arrow((0.5, yb), (0.3, yb), color=c, ls="--")
    arrow((6.9, yb - 0.3), (0.8, yb - 0.27), color=c, ls="--", rad=-0.2)  # identity route back
    ax.text(3.8, yb - 1.35, "identity route: ∂L/∂Y reaches ∂L/∂X unchanged", ha="center", fontsize=8.5, color=c)
    ax.text(3.8, yb + 0.75, "through the layer: ∂L/∂Y ⊙ f′(Z), then times Wᵀ", ha="center", fontsize=8.5, color=c)
    ax.text(3.8, y - 0.85, "forward ↑      backward ↓ (dashed)", ha="center", fontsize=8, color="0.35")
    ax.set_xlim(-0.7, 8.4)
    ax.set_ylim(-1.7, 3.6)
    ax.set_aspect("equal")
    ax.axis("off")
    return s
