"""A drawing of a small network: edge width = |w|, edge colour = ∂L/∂w, node colour = δ."""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

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
            ax.text(x, y, node_name(l, q, L), ha="center", va="center", fontsize=10, zorder=5)
            self.nodes[(l, q)] = circle
        self.fig.text(0.01, 0.02, "edge width |w|; edge colour ∂L/∂w; node colour δ (red +, blue −; "
                      "scaled per layer)", fontsize=8, color="0.3")
        self.image.animate(*self.edges.values(), *[c for (l, _), c in self.nodes.items() if l > 0])
        # the labels sit above the animated circles: redraw them too
        self.image.animate(*[t for t in ax.texts])

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
