"""A drawing of a small network: edge width = |w|, edge colour = ∂L/∂w, node colour = δ."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from matplotlib.path import Path

from ._render import FigureImage, new_figure

CMAP = colormaps["coolwarm"]  # red: positive, blue: negative, grey (visible on white): zero


def _subscript(n):
    return "".join("₀₁₂₃₄₅₆₇₈₉"[int(d)] for d in str(n))


def node_name(l, q, n_layers):
    """x₁ for inputs, h⁽ˡ⁾ for hidden units, o for outputs (1-based, as in the book's text)."""
    if l == 0:
        return f"x{_subscript(q + 1)}"
    if l == n_layers:
        return f"o{_subscript(q + 1)}"
    return f"h{_subscript(q + 1)}" if n_layers == 2 else f"h{_subscript(l)},{_subscript(q + 1)}"


_GLYPHS = {}  # (character, font size) -> (outline in points, advance in points)


def _glyph(char, fontsize):
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath, text_to_path

    key = (char, fontsize)
    if key not in _GLYPHS:
        prop = FontProperties(size=fontsize)
        advance = text_to_path.get_text_width_height_descent(char, prop, ismath=False)[0]
        _GLYPHS[key] = (TextPath((0, 0), char, prop=prop) if char.strip() else Path(np.zeros((0, 2))), advance)
    return _GLYPHS[key]


def text_paths(texts, fontsize=10, align="center"):
    """Glyph outlines of ``texts`` in points, each centred on (0, 0) (``align="left"``: starting there).

    Each character's outline is made once and the texts are put together from them (no kerning), so that
    a text that changes at every frame (a colour bar's numbers) costs microseconds, not a layout."""
    paths = []
    for text in texts:
        parts, x = [], 0.0
        for char in text:
            glyph, advance = _glyph(char, fontsize)
            if len(glyph.vertices):
                parts.append(Path(glyph.vertices + [x, 0.0], glyph.codes))
            x += advance
        if not parts:
            paths.append(Path(np.zeros((0, 2))))
            continue
        path = Path.make_compound_path(*parts)
        (x0, y0), (x1, y1) = path.vertices.min(axis=0), path.vertices.max(axis=0)  # control points: near enough
        left = (x0 + x1) / 2 if align == "center" else 0.0
        paths.append(Path(path.vertices - [left, (y0 + y1) / 2], path.codes))
    return paths


def label_paths(texts, positions, ax, fontsize=10, color="black", align="center", transform=None):
    """``texts`` at ``positions`` (data coordinates of ``ax``, or of ``transform``) as one collection of glyph
    outlines: drawn as paths, which costs a tenth of laying out text again at every frame.  ``set_paths``
    with :func:`text_paths` changes the texts."""
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Affine2D

    labels = PathCollection(text_paths(texts, fontsize, align), offsets=positions,
                            offset_transform=transform or ax.transData, facecolors=color, edgecolors="none", zorder=5)
    labels.set_transform(Affine2D().scale(ax.figure.dpi / 72))  # the outlines are in points
    ax.add_collection(labels, autolim=False)
    return labels


class NetworkDrawing:
    """Draws ``sizes`` once; ``update(net, grads)`` recolours edges and nodes in place."""

    def __init__(self, sizes, width=5.0, height=3.0):
        self.sizes = list(sizes)
        self.fig = new_figure(width, height)
        ax = self.fig.add_axes([0, 0.1, 1, 0.9])
        ax.set_xlim(-0.5, len(sizes) - 0.5)
        top = max(sizes)
        ax.set_ylim(-0.5, top - 0.5)
        ax.set_aspect("equal", adjustable="box")
        ax.axis("off")
        self.ax = ax
        self.pos = {}
        for l, n in enumerate(sizes):
            offset = (top - n) / 2
            for q in range(n):
                self.pos[(l, q)] = (l, top - 1 - (offset + q))
        self.image = FigureImage(self.fig)
        self.edges = {}
        L = len(sizes) - 1
        for l in range(L):
            for p in range(sizes[l]):
                for q in range(sizes[l + 1]):
                    (x0, y0), (x1, y1) = self.pos[(l, p)], self.pos[(l + 1, q)]
                    line = Line2D([x0, x1], [y0, y1], lw=1.5, color="0.6", zorder=1, solid_capstyle="round")
                    ax.add_line(line)
                    self.edges[(l, p, q)] = line
        self.nodes = {}
        for (l, q), (x, y) in self.pos.items():
            circle = Circle((x, y), 0.2, facecolor="0.92" if l == 0 else "white", edgecolor="0.2", lw=1.2, zorder=3)
            ax.add_patch(circle)
            self.nodes[(l, q)] = circle
        # the names over the nodes as outlines (paths), not text: a text is laid out again at every draw, and
        # they sit over the animated circles, so they are drawn every frame
        self.labels = label_paths([node_name(l, q, L) for (l, q) in self.pos], list(self.pos.values()), ax, fontsize=10)
        self.fig.text(0.01, 0.02, "edge width |w|; edge colour ∂L/∂w; node colour δ (red +, blue −; "
                      "scaled per layer)", fontsize=8, color="0.3")
        # the input nodes too, or the edges would be drawn over them
        self.image.animate(*self.edges.values(), *self.nodes.values(), self.labels)

    def update(self, net, grads, deltas):
        """Colours are scaled per layer (gradients shrink towards the input); the tables hold the values."""
        gmax = [float(np.abs(grads[f"{l}.W"]).max()) or 1.0 for l in range(len(net.layers))]
        for (l, p, q), line in self.edges.items():
            w = float(net.layers[l].W[p, q])
            g = float(grads[f"{l}.W"][p, q])
            line.set_linewidth(0.8 + 2.6 * min(abs(w), 2.0))
            line.set_color(CMAP(0.5 + 0.5 * g / gmax[l]))
        dmax = [float(np.abs(d[0]).max()) or 1.0 for d in deltas]
        for (l, q), circle in self.nodes.items():
            if l > 0:
                circle.set_facecolor(CMAP(0.5 + 0.5 * float(deltas[l - 1][0, q]) / dmax[l - 1]))
        self.image.refresh()
