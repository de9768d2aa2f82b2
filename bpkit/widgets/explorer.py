"""The network explorer: a slider for every weight, bias, input and target; δ and every ∂L/∂w update live."""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import numpy as np

from ..network import mlp
from ..optim import sgd_step
from ._common import Snapshot, fmt, row, slider, snap, table
from ._render import FigureImage, new_figure
from .network_view import NetworkDrawing, node_name
from .state import SliderState

SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def param_label(name):
    """'0.W[1,0]' → 'w⁽¹⁾₂₁' (1-based, as in the book), '1.b[0]' → 'b⁽²⁾₁'."""
    m = re.fullmatch(r"(\d+)\.([Wb])\[(\d+)(?:,(\d+))?\]", name)
    layer, kind, i, j = m.groups()
    sup = f"⁽{str(int(layer) + 1).translate(SUP)}⁾"
    if kind == "W":
        return f"w{sup}{str(int(i) + 1).translate(SUB)}{str(int(j) + 1).translate(SUB)}"
    return f"b{sup}{str(int(i) + 1).translate(SUB)}"


class NetworkExplorer(Snapshot, widgets.VBox):
    """Explore a small network (e.g. 2-2-1, 2-2-2): move any slider and watch z, a, δ and ∂L/∂θ update.

    Parameters
    ----------
    sizes : layer widths, e.g. ``(2, 2, 1)``.
    activation, loss : as in :func:`bpkit.mlp` and ``loss_and_grads`` (``"mse"`` or ``"bce"``).
    data : ``(X, T)`` to train on a fixed batch (no input/target sliders); default: one sample with
        sliders for its inputs and targets.
    step : show the "take a gradient step" button, the learning-rate slider and the loss history.
    """

    def __init__(self, sizes=(2, 2, 1), activation="sigmoid", loss="mse", seed=0, data=None, x=None, t=None,
                 lr=0.5, step=True, title=None):
        out_act = "sigmoid" if loss == "bce" else activation
        self.net = mlp(list(sizes), activation=activation, output_activation=out_act, seed=seed)
        rng = np.random.default_rng(seed + 1)
        for layer in self.net.layers:  # start on the sliders' grid (see _common.snap)
            layer.b[...] = snap(rng.uniform(-0.5, 0.5, layer.b.shape))
            layer.W[...] = snap(layer.W)
        self.loss_name = loss
        self.sizes = list(sizes)
        self.fixed_data = data is not None
        if self.fixed_data:
            self.X, self.T = (np.asarray(a, dtype=float) for a in data)
        else:
            self.X = snap(x if x is not None else rng.uniform(0.2, 0.9, sizes[0])).reshape(1, -1)
            self.T = snap(t if t is not None else rng.uniform(0.1, 0.9, sizes[-1])).reshape(1, -1)
        self.state = SliderState(self)  # the network holds the numbers; each slider shows one of them
        self._listeners = []
        self.step_listeners = []  # fn(explorer) after every single gradient step (the landscape's trail)
        self.sliders = {}
        groups = []
        if not self.fixed_data:
            groups.append(("inputs", [(f"x[{i}]", f"x{str(i + 1).translate(SUB)}", self.X[0, i]) for i in range(sizes[0])]))
            groups.append(("targets", [(f"t[{i}]", f"t{str(i + 1).translate(SUB)}", self.T[0, i]) for i in range(sizes[-1])]))
        for l, layer in enumerate(self.net.layers):
            items = [(f"{l}.W[{p},{q}]", param_label(f"{l}.W[{p},{q}]"), layer.W[p, q])
                     for p in range(layer.n_in) for q in range(layer.n_out)]
            items += [(f"{l}.b[{q}]", param_label(f"{l}.b[{q}]"), layer.b[q]) for q in range(layer.n_out)]
            groups.append((f"layer {l + 1}", items))
        boxes = []
        for title_, items in groups:
            ss = []
            for key, label, value in items:
                low, high = (0.0, 1.0) if key.startswith("t[") and loss == "bce" else (-3.0, 3.0)
                s = slider(label, value, low, high)
                s.observe(self._on_slider, names="value")
                self.sliders[key] = s
                ss.append(s)
            boxes.append(widgets.VBox([widgets.HTML(f"<b>{title_}</b>")] + ss))
        self.drawing = NetworkDrawing(sizes)
        self.neuron_table = widgets.HTML()
        self.grad_table = widgets.HTML()
        self.loss_label = widgets.HTML()
        self.loss_label.add_class("bp-loss")
        self.history = []
        shown = [self.drawing.image.widget, self.loss_label, row([self.neuron_table, self.grad_table])]
        if step:
            self.lr = slider("η", lr, -2, 1, 0.1, kind="log")
            self.step_button = widgets.Button(description="take a gradient step", icon="arrow-down",
                                              layout=widgets.Layout(width="200px"))
            self.step_button.on_click(self.step)
            self.ten_button = widgets.Button(description="10 steps", layout=widgets.Layout(width="90px"))
            self.ten_button.on_click(lambda _: self.step(n=10))
            self.history_fig = new_figure(4.0, 1.6)
            ax = self.history_fig.add_axes([0.16, 0.28, 0.8, 0.62])
            ax.set_xlabel("gradient steps", fontsize=8)
            ax.set_ylabel("loss", fontsize=8)
            ax.tick_params(labelsize=7)
            (self._history_line,) = ax.plot([0], [0], "o-", ms=3, lw=1.2, color="C3")
            self._history_ax = ax
            self.history_image = FigureImage(self.history_fig)
            self.history_image.animate(self._history_line)  # axes redrawn only when their limits grow
            shown += [row([self.step_button, self.ten_button, self.lr]), self.history_image.widget]
        head = [widgets.HTML(f"<h4 style='margin:4px 0'>{html.escape(title)}</h4>")] if title else []
        # the figure and the tables first; the sliders beside them on a wide screen, under them on a narrow
        # one; no scroll box inside the page's scrolling
        controls = widgets.VBox(boxes)
        controls.add_class("bp-controls")
        super().__init__(head + [row([widgets.VBox(shown), controls])])
        self.add_class("bp-explorer")
        self.refresh()
        if step:
            self.history = [self.loss]
            self._draw_history()

    title = "network explorer"

    def static_figures(self):
        sizes = "-".join(str(n) for n in self.sizes)
        figures = [(self.drawing.image, f"Drawing of the {sizes} network: edge width shows |w|, edge colour ∂L/∂w "
                                        "and node colour δ (red positive, blue negative, scaled per layer); "
                                        "the values are in the tables.")]
        if getattr(self, "history_image", None) is not None:
            figures.append((self.history_image, f"Loss after each gradient step: {len(self.history) - 1} steps taken, "
                                                f"L = {self.loss:.5f}."))
        return figures

    def static_tables(self):
        return [self.loss_label.value, self.neuron_table.value, self.grad_table.value]

    def static_settings(self):
        rows = super().static_settings()
        if getattr(self, "lr", None) is not None:
            rows.append(("η (learning rate)", f"{self.lr.value:.2f}"))
        return rows

    # -- reading and writing the sliders -------------------------------------------------------
    def _on_slider(self, change):
        """A slider moved: write its one float (never the other sliders' values) and update."""
        if self.state.quiet:
            return
        key = next(k for k, s in self.sliders.items() if s is change["owner"])
        if self.state.write(key, float(change["new"])):
            self.refresh()

    def set(self, key, value):
        """Move one slider (as a reader would); the explorer updates."""
        self.sliders[key].value = value

    # -- computing and showing -------------------------------------------------------------------------
    def refresh(self):
        """Recompute the loss, every δ and every gradient; redraw the figure and the tables."""
        self.loss, self.grads = self.net.loss_and_grads(self.X, self.T, loss=self.loss_name)
        deltas = self.net.deltas
        L = len(self.net.layers)
        self.drawing.update(self.net, self.grads, deltas)
        rows = []
        for l, layer in enumerate(self.net.layers):
            for q in range(layer.n_out):
                rows.append([node_name(l + 1, q, L), (fmt(layer.Z[0, q]), f"z[{l},{q}]"),
                             (fmt(layer.A[0, q]), f"a[{l},{q}]"), (fmt(deltas[l][0, q]), f"delta[{l},{q}]")])
        sample = " (sample 1)" if self.fixed_data else ""
        self.neuron_table.value = table(["neuron", "z", "a", "δ = ∂L/∂z" + sample], rows)
        grows = []
        for l, layer in enumerate(self.net.layers):
            for p in range(layer.n_in):
                for q in range(layer.n_out):
                    key = f"{l}.W[{p},{q}]"
                    grows.append([param_label(key), fmt(layer.W[p, q], 2), (fmt(self.grads[f"{l}.W"][p, q]), f"grad:{key}")])
            for q in range(layer.n_out):
                key = f"{l}.b[{q}]"
                grows.append([param_label(key), fmt(layer.b[q], 2), (fmt(self.grads[f"{l}.b"][q]), f"grad:{key}")])
        self.grad_table.value = table(["θ", "value", "∂L/∂θ"], grows)
        self.loss_label.value = f"<span style='font-family:monospace' data-name='loss'>L = {fmt(self.loss)}</span>"
        for listener in self._listeners:
            listener(self)

    def on_change(self, fn):
        """Call ``fn(explorer)`` after every update (used by :class:`LossLandscape`)."""
        self._listeners.append(fn)

    def step(self, _button=None, n=1):
        """Take ``n`` gradient steps θ ← θ − η ∂L/∂θ and move the sliders to the new values."""
        for _ in range(n):
            _, grads = self.net.loss_and_grads(self.X, self.T, loss=self.loss_name)
            sgd_step(self.net, grads, self.lr.value)
            for listener in self.step_listeners:
                listener(self)
            self.history.append(self.net.loss(self.X, self.T, loss=self.loss_name))
        self.state.show_all()  # the sliders show the new floats (ranges grow past ±3); nothing is read back
        self.refresh()
        self._draw_history()

    def _draw_history(self):
        steps = np.arange(len(self.history))
        self._history_line.set_data(steps, self.history)
        right, top = max(len(self.history) - 0.5, 5), max(self.history)
        top = top * 1.1 if top > 0 else 1
        if right > self._history_ax.get_xlim()[1] or top > self._history_ax.get_ylim()[1] or len(self.history) == 1:
            self._history_ax.set_xlim(-0.5, right if len(self.history) == 1 else 2 * right)  # room for more steps
            self._history_ax.set_ylim(0, top)
            self.history_image.invalidate()
        self.history_image.refresh()

    def displayed(self):
        """The numbers the explorer shows, parsed back from its tables: {data-name: float}."""
        text = self.neuron_table.value + self.grad_table.value + self.loss_label.value
        return {name: float(value) for name, value in re.findall(r"data-name=['\"]([^'\"]+)['\"]>(?:L = )?([+-][0-9.]+)", text)}
