"""Step through backpropagation one stage at a time: the forward pass layer by layer, the output δ, each
hidden δ from the layer above, then the gradients.

Each stage highlights the nodes and edges it uses in the drawing and writes the book's equation for it
with the current numbers substituted.  Nodes are coloured by δ and edges by w·δ (what an edge carries
back to the neuron it leaves), on ONE colour scale for the whole network — with a logarithmic option —
so that δ shrinking towards the input is visible instead of being rescaled away layer by layer.
"""

from __future__ import annotations

import copy
import html
import re

import ipywidgets as widgets
import numpy as np
from matplotlib import colormaps
from matplotlib.colorbar import ColorbarBase
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from ._common import Snapshot
from ._render import FigureImage, new_figure
from .network_view import node_name

CMAP = colormaps["coolwarm"]
DECADES = 6  # the log scale shows six decades below the largest |value|
HIGHLIGHT = "#d55e00"
SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

# where the book derives each stage's equation (relative links between chapter pages)
EQUATIONS = {
    "forward": ("notation.html#equation-eq-forward-neuron", "eq-forward-neuron, Notation and the forward pass"),
    "output-mse": ("output-delta.html#equation-eq-output-delta-neuron", "eq-output-delta-neuron, The output-layer δ"),
    "output-bce": ("output-delta.html#equation-eq-output-delta-matched", "eq-output-delta-matched, The output-layer δ"),
    "hidden": ("hidden-delta.html#equation-eq-hidden-delta", "eq-hidden-delta, The hidden-layer δ"),
    "grad": ("output-delta.html#equation-eq-weight-grad-neuron", "eq-weight-grad-neuron, The output-layer δ"),
}


def stages(n_layers):
    """The stages of one pass: ``("start",)``, ``("forward", l)`` for every layer, ``("output",)``,
    ``("hidden", l)`` from the last hidden layer down, ``("grad", l)`` from the output layer down."""
    L = n_layers
    return ([("start",)] + [("forward", l) for l in range(L)] + [("output",)]
            + [("hidden", l) for l in range(L - 2, -1, -1)] + [("grad", l) for l in range(L - 1, -1, -1)])


def _sup(l):
    return f"⁽{str(l).translate(SUP)}⁾"


def _sub(i):
    return str(i).translate(SUB)


def num(value, name):
    """A substituted number; ``data-name`` lets the tests read it back (six significant digits)."""
    return f'<span class="bp-num" data-name="{html.escape(name)}">{value:+.6g}</span>'


class Pass:
    """The numbers of one forward and backward pass for one sample, computed by bpkit on a private copy of
    the network (the explorer's own caches are never touched)."""

    def __init__(self, net, x, t, loss):
        if loss not in ("mse", "bce"):
            raise ValueError(f"the sweep shows the loss 'mse' or 'bce', got loss={loss!r}")
        self.loss_name = loss
        self.value, grads = net.loss_and_grads(x, t, loss=loss)
        layers = net.layers
        self.x, self.t = x[0].copy(), t[0].copy()
        self.W = [layer.W.copy() for layer in layers]
        self.b = [layer.b.copy() for layer in layers]
        self.Z = [layer.Z[0].copy() for layer in layers]
        self.A = [layer.A[0].copy() for layer in layers]
        self.fprime = [np.asarray(layer.activation.derivative(layer.Z[0]), dtype=float) for layer in layers]
        self.delta = [layer.delta[0].copy() for layer in layers]
        self.dW = [grads[f"{l}.W"].copy() for l in range(len(layers))]
        self.db = [grads[f"{l}.b"].copy() for l in range(len(layers))]
        # w_qk·δ_k: what edge q→k of layer l carries back to neuron q (eq-hidden-delta sums these)
        self.wdelta = [self.W[l] * self.delta[l][None, :] for l in range(len(layers))]
        # one scale for the whole network
        values = [np.abs(d).max() for d in self.delta] + [np.abs(w).max() for w in self.wdelta]
        self.vmax = float(max(values)) or 1.0

    def a_in(self, l):
        """The inputs of layer l: x for the first layer, the previous layer's outputs otherwise."""
        return self.x if l == 0 else self.A[l - 1]

    def a_name(self, l, p):
        return f"x[{p}]" if l == 0 else f"a[{l - 1},{p}]"


class SweepDrawing:
    """The network once; ``show(pass, stage, log)`` recolours and highlights in place."""

    def __init__(self, sizes, width=5.6, height=3.0):
        self.sizes = list(sizes)
        self.fig = new_figure(width, height)
        ax = self.fig.add_axes([0.0, 0.1, 0.84, 0.9])
        top = max(sizes)
        ax.set_xlim(-0.5, len(sizes) - 0.5)
        ax.set_ylim(-0.5, top - 0.2)
        ax.set_aspect("equal", adjustable="box")
        ax.axis("off")
        self.ax = ax
        self.cax = self.fig.add_axes([0.87, 0.16, 0.03, 0.76])
        self.pos = {(l, q): (l, top - 1 - ((top - n) / 2 + q)) for l, n in enumerate(sizes) for q in range(n)}
        L = len(sizes) - 1
        self.edges = {}
        for l in range(L):
            for p in range(sizes[l]):
                for q in range(sizes[l + 1]):
                    (x0, y0), (x1, y1) = self.pos[(l, p)], self.pos[(l + 1, q)]
                    line = Line2D([x0, x1], [y0, y1], lw=1.0, color="0.8", zorder=1, solid_capstyle="round")
                    ax.add_line(line)
                    self.edges[(l, p, q)] = line
        self.nodes = {}
        for (l, q), (x, y) in self.pos.items():
            circle = Circle((x, y), 0.17, facecolor="0.92" if l == 0 else "white", edgecolor="0.3", lw=1.0, zorder=3)
            ax.add_patch(circle)
            # the name above the node, in the static background: text is the slow part of a redraw
            ax.text(x, y + 0.24, node_name(l, q, L), ha="center", va="bottom", fontsize=9, zorder=5)
            self.nodes[(l, q)] = circle
        self.fig.text(0.01, 0.02, "node colour δ, edge colour and width w·δ; one scale for all layers",
                      fontsize=8, color="0.3")
        self.image = FigureImage(self.fig)
        self.image.animate(*self.edges.values(), *self.nodes.values())
        self.log = None

    def _colorbar(self, log):
        """The colour bar in units of the largest |value| (printed next to the drawing): static until log changes."""
        self.cax.clear()
        if log:
            norm = SymLogNorm(linthresh=10.0 ** -DECADES, vmin=-1, vmax=1, base=10)
            ticks = [-1, -1e-2, -1e-4, 0, 1e-4, 1e-2, 1]
            labels = ["−max", "−10⁻²", "−10⁻⁴", "0", "10⁻⁴", "10⁻²", "max"]
        else:
            norm = Normalize(-1, 1)
            ticks, labels = [-1, -0.5, 0, 0.5, 1], ["−max", "−½", "0", "½", "max"]
        bar = ColorbarBase(self.cax, cmap=CMAP, norm=norm, ticks=ticks)
        bar.set_ticklabels(labels)
        self.cax.tick_params(labelsize=7)
        self.norm = norm
        self.log = log
        self.image.invalidate()

    def _width(self, v):
        r = abs(v)
        if self.log:
            r = max(0.0, 1.0 + np.log10(r) / DECADES) if r > 0 else 0.0
        return 0.6 + 4.0 * r

    def show(self, ps, stage, log=False):
        if log != self.log:
            self._colorbar(log)
        kind = stage[0]
        L = len(self.sizes) - 1
        order = stages(L)
        done = order.index(stage)
        # δ of layer l is known once its stage is passed
        known = set()
        for s in order[1:done + 1]:
            if s[0] == "output":
                known.add(L - 1)
            elif s[0] == "hidden":
                known.add(s[1])
        lit_nodes, lit_edges = set(), set()
        if kind in ("forward", "grad"):
            l = stage[1]
            lit_nodes |= {(l, p) for p in range(self.sizes[l])} | {(l + 1, q) for q in range(self.sizes[l + 1])}
            lit_edges |= {e for e in self.edges if e[0] == l}
        elif kind == "output":
            lit_nodes |= {(L, v) for v in range(self.sizes[L])}
        elif kind == "hidden":
            l = stage[1]
            lit_nodes |= {(l + 1, q) for q in range(self.sizes[l + 1])} | {(l + 2, k) for k in range(self.sizes[l + 2])}
            lit_edges |= {e for e in self.edges if e[0] == l + 1}
        anything = bool(lit_nodes)
        for (l, p, q), line in self.edges.items():
            if l in known:
                v = float(ps.wdelta[l][p, q]) / ps.vmax
                line.set_color(CMAP(self.norm(v)))
                line.set_linewidth(self._width(v))
            else:
                line.set_color("0.8")
                line.set_linewidth(1.0)
            line.set_alpha(1.0 if (l, p, q) in lit_edges or not anything else 0.25)
        for (l, q), circle in self.nodes.items():
            if l > 0 and (l - 1) in known:
                circle.set_facecolor(CMAP(self.norm(float(ps.delta[l - 1][q]) / ps.vmax)))
            else:
                circle.set_facecolor("0.92" if l == 0 else "white")
            lit = (l, q) in lit_nodes
            circle.set_edgecolor(HIGHLIGHT if lit else "0.3")
            circle.set_linewidth(3.0 if lit else 1.0)
        self.image.refresh()


class BackpropSweep(Snapshot, widgets.VBox):
    """Backpropagation stage by stage on an explorer's network (or a new one: ``BackpropSweep((2, 2, 2, 1))``).

    Parameters
    ----------
    explorer : a :class:`NetworkExplorer` to follow (its sliders change the numbers here); if None, one is
        made from ``sizes`` and the keyword arguments and shown above the sweep.
    sample : which row of the explorer's data the sweep follows (its own loss, m = 1).
    log : start with the logarithmic colour scale.
    start : the stage shown first: its index, or a kind ("forward", "output", "hidden", "grad") for the
        first stage of that kind (the static website shows this stage).
    """

    def __init__(self, explorer=None, sizes=(2, 2, 1), sample=0, log=False, start=0, **explorer_kwargs):
        from .explorer import NetworkExplorer

        if isinstance(explorer, (tuple, list)):  # BackpropSweep((2, 2, 2, 1)): the layer sizes of a new network
            explorer, sizes = None, explorer
        if explorer is None:
            explorer_kwargs.setdefault("step", False)
            explorer = NetworkExplorer(sizes, **explorer_kwargs)
            own = [explorer]
        else:
            own = []
        if not 0 <= sample < explorer.X.shape[0]:
            raise ValueError(f"sample must be a row of the explorer's data, 0 to {explorer.X.shape[0] - 1}; got {sample}")
        self.explorer, self.sample = explorer, sample
        self.net = copy.deepcopy(explorer.net)
        self.sizes = list(explorer.sizes)
        self.stages = stages(len(self.sizes) - 1)
        kinds = [st[0] for st in self.stages]
        if isinstance(start, str):
            if start not in kinds:
                raise ValueError(f"start must be a stage index or one of {sorted(set(kinds))}; got {start!r}")
            start = kinds.index(start)
        self.index = min(max(int(start), 0), len(self.stages) - 1)
        self.drawing = SweepDrawing(self.sizes)
        self.back_button = widgets.Button(description="back", icon="step-backward", layout=widgets.Layout(width="90px"))
        self.next_button = widgets.Button(description="next stage", icon="step-forward", layout=widgets.Layout(width="130px"))
        self.restart_button = widgets.Button(description="restart", icon="undo", layout=widgets.Layout(width="90px"))
        self.log_box = widgets.Checkbox(value=log, description="log colour scale", indent=False,
                                        layout=widgets.Layout(width="150px"))
        self.back_button.on_click(lambda _: self.go(self.index - 1))
        self.next_button.on_click(lambda _: self.go(self.index + 1))
        self.restart_button.on_click(lambda _: self.go(0))
        self.log_box.observe(lambda _: self.update(), names="value")
        self.heading = widgets.HTML()
        self.heading.add_class("bp-sweep-title")
        self.equation = widgets.HTML()
        self.equation.add_class("bp-sweep-equation")
        self.scale = widgets.HTML()
        panel = widgets.VBox([
            widgets.HBox([self.back_button, self.next_button, self.restart_button, self.log_box]),
            self.heading,
            widgets.HBox([self.drawing.image.widget, widgets.VBox([self.equation], layout=widgets.Layout(min_width="300px"))]),
            self.scale,
        ])
        self._own = bool(own)
        super().__init__(own + [panel])
        self.add_class("bp-sweep")
        explorer.on_change(lambda _ex: self.update())
        self.update()

    # -- the static website's picture (Snapshot) -------------------------------------------------------
    title = "backpropagation sweep"

    def static_figures(self):
        own = self.explorer.static_figures() if self._own else []
        sizes = "-".join(str(n) for n in self.sizes)
        return own + [(self.drawing.image,
                       f"The {sizes} network at stage {self.index} of {len(self.stages) - 1}, "
                       f"{self.describe(self.stage)}: the nodes and edges of this stage highlighted; edge colour and "
                       f"width show w·δ and node colour δ, on one colour scale for all layers (largest value "
                       f"{self.ps.vmax:.3e}). The stage's equation with its numbers is below.")]

    def static_tables(self):
        own = self.explorer.static_tables() if self._own else []
        return own + [self.heading.value, self.equation.value, self.scale.value]

    def static_settings(self):
        own = self.explorer.static_settings() if self._own else []
        return own + [("stage", f"{self.index} of {len(self.stages) - 1}"),
                      ("log colour scale", "on" if self.log_box.value else "off")]

    # -- numbers ---------------------------------------------------------------------------------------
    def compute(self):
        for (_, mine), (_, theirs) in zip(self.net.parameters(), self.explorer.net.parameters()):
            np.copyto(mine, theirs)
        s = self.sample
        return Pass(self.net, self.explorer.X[s:s + 1].copy(), self.explorer.T[s:s + 1].copy(), self.explorer.loss_name)

    # -- stages ------------------------------------------------------------------------------------------
    def go(self, index):
        """Show stage ``index`` (clamped to the first and last)."""
        self.index = min(max(int(index), 0), len(self.stages) - 1)
        self.update()

    def next(self):
        self.go(self.index + 1)

    def back(self):
        self.go(self.index - 1)

    @property
    def stage(self):
        return self.stages[self.index]

    def update(self):
        self.ps = self.compute()
        stage = self.stage
        self.back_button.disabled = self.index == 0
        self.next_button.disabled = self.index == len(self.stages) - 1
        self.heading.value = (f"<b>stage {self.index} of {len(self.stages) - 1}: {html.escape(self.describe(stage))}</b>")
        self.equation.value = self.stage_html(self.ps, stage)
        self.drawing.show(self.ps, stage, self.log_box.value)
        L = len(self.sizes) - 1
        norms = ", ".join(f"layer {l + 1}: {np.abs(self.ps.delta[l]).max():.2e}" for l in range(L - 1, -1, -1))
        self.scale.value = (f"<span style='font-family:monospace;font-size:12px'>colour scale: max = "
                            f"{self.ps.vmax:.3e} (largest |δ| or |w·δ| in the network); largest |δ| by layer — "
                            f"{norms}</span>")

    def describe(self, stage):
        L = len(self.sizes) - 1
        kind = stage[0]
        if kind == "start":
            return "press “next stage” to run the forward pass"
        if kind == "forward":
            return f"forward, layer {stage[1] + 1}: z and a of every neuron"
        if kind == "output":
            return f"the output δ (layer {L})"
        if kind == "hidden":
            return f"the hidden δ of layer {stage[1] + 1}, from the δ of layer {stage[1] + 2}"
        return f"the gradients of layer {stage[1] + 1}: ∂L/∂w = a·δ, ∂L/∂b = δ"

    def _link(self, key):
        href, text = EQUATIONS[key]
        return f"<div style='font-size:11px;margin-top:4px'>equation: <a href='{href}'>{html.escape(text)}</a></div>"

    def stage_html(self, ps, stage):
        """The equation of ``stage`` with the numbers of ``ps`` substituted, one line per neuron or weight."""
        L = len(self.sizes) - 1
        kind = stage[0]
        lines = []
        if kind == "start":
            return ("<div style='font-size:13px'>Each stage computes one layer's numbers from the numbers before "
                    "it. The forward pass goes from the input to the output; δ then travels back.</div>")
        if kind == "forward":
            l = stage[1]
            f = self.net.layers[l].activation.name
            for q in range(self.sizes[l + 1]):
                terms = " + ".join(f"({num(ps.W[l][p, q], f'w[{l},{p},{q}]')})({num(ps.a_in(l)[p], ps.a_name(l, p))})"
                                   for p in range(self.sizes[l]))
                lines.append(f"z{_sup(l + 1)}{_sub(q + 1)} = Σ<sub>p</sub> w<sub>p{q + 1}</sub> a<sub>p</sub> + b<sub>{q + 1}</sub> = "
                             f"{terms} + ({num(ps.b[l][q], f'b[{l},{q}]')}) = {num(ps.Z[l][q], f'z[{l},{q}]')}")
                lines.append(f"&nbsp;&nbsp;a{_sup(l + 1)}{_sub(q + 1)} = {f}(z{_sup(l + 1)}{_sub(q + 1)}) = {num(ps.A[l][q], f'a[{l},{q}]')}")
            return self._lines(lines) + self._link("forward")
        if kind == "output":
            l = L - 1
            for v in range(self.sizes[L]):
                o, t = num(ps.A[l][v], f"a[{l},{v}]"), num(ps.t[v], f"t[{v}]")
                d = num(ps.delta[l][v], f"delta[{l},{v}]")
                if ps.loss_name == "mse":
                    lines.append(f"δ{_sub(v + 1)} = (o{_sub(v + 1)} − t{_sub(v + 1)}) f′(z{_sub(v + 1)}) = "
                                 f"({o} − {t}) · {num(ps.fprime[l][v], f'fprime[{l},{v}]')} = {d}")
                else:
                    lines.append(f"δ{_sub(v + 1)} = o{_sub(v + 1)} − t{_sub(v + 1)} = {o} − {t} = {d}")
            lines.append(f"loss L = {num(ps.value, 'loss')}")
            return self._lines(lines) + self._link("output-" + ps.loss_name)
        if kind == "hidden":
            l = stage[1]
            for q in range(self.sizes[l + 1]):
                terms = " + ".join(f"({num(ps.W[l + 1][q, k], f'w[{l + 1},{q},{k}]')})({num(ps.delta[l + 1][k], f'delta[{l + 1},{k}]')})"
                                   for k in range(self.sizes[l + 2]))
                lines.append(f"δ{_sup(l + 1)}{_sub(q + 1)} = f′(z{_sub(q + 1)}) Σ<sub>k</sub> w<sub>{q + 1}k</sub> δ<sub>k</sub> = "
                             f"{num(ps.fprime[l][q], f'fprime[{l},{q}]')} · [{terms}] = {num(ps.delta[l][q], f'delta[{l},{q}]')}")
            return self._lines(lines) + self._link("hidden")
        l = stage[1]
        for q in range(self.sizes[l + 1]):
            dq = num(ps.delta[l][q], f"delta[{l},{q}]")
            for p in range(self.sizes[l]):
                lines.append(f"∂L/∂w{_sup(l + 1)}{_sub(p + 1)}{_sub(q + 1)} = a<sub>{p + 1}</sub> δ<sub>{q + 1}</sub> = "
                             f"({num(ps.a_in(l)[p], ps.a_name(l, p))})({dq}) = {num(ps.dW[l][p, q], f'dW[{l},{p},{q}]')}")
            lines.append(f"∂L/∂b{_sup(l + 1)}{_sub(q + 1)} = δ<sub>{q + 1}</sub> = {num(ps.db[l][q], f'db[{l},{q}]')}")
        return self._lines(lines) + self._link("grad")

    @staticmethod
    def _lines(lines):
        return ("<div style='font-family:monospace;font-size:12px;line-height:1.6'>"
                + "<br>".join(lines) + "</div>")

    def displayed(self):
        """The numbers the current stage shows: {data-name: float}."""
        return {name: float(v) for name, v in re.findall(r'data-name="([^"]+)">([^<]+)<', self.equation.value)}
