"""A playground for 2-D classification: pick a data set, a network and a learning rate, train, and watch
the decision boundary, each sample's prediction and the train and test loss — with every parameter's
gradient one choice away.

Training is plain gradient descent on the training split (``loss_and_grads`` then ``sgd_step``, binary
cross-entropy, a sigmoid output); the test split is never trained on.
"""

from __future__ import annotations

import asyncio
import html
import time

import ipywidgets as widgets
import numpy as np

from ..data import two_moons
from ..network import mlp
from ..optim import sgd_step
from ._common import Snapshot, fmt, row, slider
from ._render import FigureImage, new_figure
from .explorer import param_label
from .network_picker import NetworkPicker, network_svg

DATASETS = ("two moons", "XOR", "circles", "spirals")
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def make_dataset(name, n=200, noise=0.1, seed=0):
    """``(X, T)``: n points in the plane, labels 0/1 in a column; the same arrays for the same arguments."""
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    rng = np.random.default_rng(seed)
    if name == "two moons":
        X, T = two_moons(n, noise, seed)
        return (X - [0.5, 0.25]) * 1.6, T  # centred, about the size of the others
    if name == "XOR":
        X = rng.uniform(-1.6, 1.6, (n, 2))
        X += np.sign(X) * 0.1  # a gap around the axes
        T = (X[:, 0] * X[:, 1] < 0).astype(float)
    elif name == "circles":
        radius = np.where(np.arange(n) % 2 == 0, rng.uniform(0, 0.8, n), rng.uniform(1.2, 1.8, n))
        angle = rng.uniform(0, 2 * np.pi, n)
        X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
        T = (radius > 1.0).astype(float)
    else:  # two interleaved spirals
        label = np.arange(n) % 2
        r = rng.uniform(0.15, 1.0, n)
        angle = 2.5 * np.pi * r + np.pi * label
        X = 1.8 * np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        T = label.astype(float)
    X = X + rng.normal(0.0, noise, X.shape)
    return X, T.reshape(-1, 1)


def split(X, T, test_fraction=0.3, seed=0):
    """``(X_train, T_train, X_test, T_test)``: a seeded shuffle, the last ``test_fraction`` for testing."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    order = np.random.default_rng(seed + 1).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    train, test = order[:len(X) - n_test], order[len(X) - n_test:]
    return X[train], T[train], X[test], T[test]


class Playground(Snapshot, widgets.VBox):
    """Train a small network on 2-D data, as in TensorFlow Playground, in the kernel with bpkit.

    ``hidden``: the hidden layers' widths, e.g. ``(4, 4)``; the depth and width controls rebuild the
    network (with the same seed).  ``resolution``: grid points per axis of the decision-boundary map.
    ``steps_per_frame``: gradient steps per frame of "play" (up to twelve frames a second).
    """

    def __init__(self, dataset="two moons", n=200, noise=0.1, test_fraction=0.3, hidden=(4, 4), activation="tanh",
                 lr=0.3, seed=0, resolution=40, extent=2.5, steps_per_frame=5):
        self.seed, self.extent, self.steps_per_frame = seed, float(extent), int(steps_per_frame)
        self.dataset = widgets.Dropdown(options=DATASETS, value=dataset, description="data",
                                        layout=widgets.Layout(width="220px"))
        self.noise = slider("noise", noise, 0.0, 0.5, 0.05, width="260px", description_width="80px")
        self.test_fraction = slider("test part", test_fraction, 0.1, 0.7, 0.1, width="260px", description_width="80px")
        self.n = int(n)
        self.activation = widgets.Dropdown(options=ACTIVATIONS, value=activation, description="activation",
                                           layout=widgets.Layout(width="220px"))
        self.depth = slider("hidden layers", len(hidden), 0, 4, 1, kind="int", width="260px", description_width="90px")
        self.width = slider("width", max(hidden) if hidden else 4, 1, 8, 1, kind="int", width="260px",
                            description_width="80px")
        self.lr = slider("η", lr, -3, 1, 0.1, kind="log", width="260px", readout_format=".3f", description_width="80px")
        # a toggle with a text label (the Play widget's buttons are icons without an accessible name); while
        # it is on, an asyncio task on the kernel's loop takes a frame of steps twelve times a second
        self.play = widgets.ToggleButton(value=False, description="play", icon="play", tooltip="train continuously",
                                         layout=widgets.Layout(width="90px"))
        self._task = None
        self.step_button = widgets.Button(description="step", icon="step-forward", layout=widgets.Layout(width="80px"))
        self.reset_button = widgets.Button(description="reset", icon="undo", layout=widgets.Layout(width="80px"))
        self.param = widgets.Dropdown(description="gradient of", layout=widgets.Layout(width="220px"))
        self.param_info = widgets.HTML()
        # the network, with every weight (edge) and bias (neuron) a control: click or Enter chooses it
        self.picker = NetworkPicker()
        self.picker.add_class("bp-network-picker")
        self.picker.observe(self._on_pick, names="selected")
        self.status = widgets.HTML()
        self.status.add_class("bp-loss")

        self.fig = new_figure(3.6, 3.6)
        self.ax = self.fig.add_axes([0.1, 0.1, 0.86, 0.86])
        e = self.extent
        self.ax.set_xlim(-e, e)
        self.ax.set_ylim(-e, e)
        self.ax.tick_params(labelsize=7)
        self.grid_axis = np.linspace(-e, e, int(resolution))
        gx, gy = np.meshgrid(self.grid_axis, self.grid_axis)
        self.grid_points = np.column_stack([gx.ravel(), gy.ravel()])
        self.boundary = self.ax.imshow(np.zeros((2, 2)), origin="lower", extent=(-e, e, -e, e), cmap="RdBu_r",
                                       vmin=0, vmax=1, alpha=0.45, interpolation="bilinear", aspect="auto", zorder=1)
        self.train_dots = self.ax.scatter([], [], s=20, marker="o", linewidths=1.0, zorder=3)
        self.test_dots = self.ax.scatter([], [], s=26, marker="^", linewidths=1.0, zorder=3)
        self.image = FigureImage(self.fig, format="jpeg")
        self.image.animate(self.boundary, self.train_dots, self.test_dots)

        self.curve_fig = new_figure(3.6, 1.8)
        cax = self.curve_fig.add_axes([0.16, 0.26, 0.8, 0.64])
        cax.set_xlabel("gradient steps", fontsize=8)
        cax.set_ylabel("loss", fontsize=8)
        cax.tick_params(labelsize=7)
        (self.train_line,) = cax.plot([], [], color="C0", lw=1.3, label="train")
        (self.test_line,) = cax.plot([], [], color="C1", lw=1.3, label="test")
        cax.legend(fontsize=7, loc="upper right")
        self.curve_ax = cax
        self.curve_image = FigureImage(self.curve_fig)
        self.curve_image.animate(self.train_line, self.test_line)

        for control in (self.dataset, self.noise, self.test_fraction):
            control.observe(lambda _c: self.new_data(), names="value")
        for control in (self.activation, self.depth, self.width):
            control.observe(lambda _c: self.new_network(), names="value")
        self.play.observe(self._on_play, names="value")
        self.step_button.on_click(lambda _b: self.step())
        self.reset_button.on_click(lambda _b: self.new_network())
        self.param.observe(lambda _c: self._show_param(), names="value")

        controls = widgets.VBox([self.dataset, self.noise, self.test_fraction, self.activation, self.depth, self.width,
                                 self.lr, widgets.HBox([self.play, self.step_button, self.reset_button])])
        network = widgets.VBox([widgets.HTML("<b>the network</b>: click an edge (a weight) or a neuron (its bias)"),
                                self.picker, self.param, self.param_info], layout=widgets.Layout(max_width="420px"))
        figures = widgets.VBox([self.image.widget, self.status, self.curve_image.widget])
        super().__init__([row([controls, network, figures])])
        self.add_class("bp-playground")
        self._data()
        self.new_network()

    # -- the static website's picture (Snapshot) -------------------------------------------------------
    title = "playground"

    def static_figures(self):
        return [(self.image, f"The {self.dataset.value} data in the plane (circles: training samples, triangles: test "
                             "samples, wrong predictions ringed) over the network's decision map, blue for class 0 "
                             "and red for class 1."),
                (self.curve_image, "Training and test loss against the number of gradient steps taken.")]

    def static_tables(self):
        drawing = network_svg(self.net, self.grads, self.param.value, interactive=False)
        return [self.status.value, f'<div class="bp-network-static">{drawing}</div>', self.param_info.value]

    def static_settings(self):
        controls = (self.dataset, self.noise, self.test_fraction, self.activation, self.depth, self.width, self.lr)
        return [(c.description, f"{c.value:.2f}" if isinstance(c.value, float) else str(c.value)) for c in controls]

    # -- data and network ------------------------------------------------------------------------------------
    def _data(self):
        X, T = make_dataset(self.dataset.value, self.n, self.noise.value, self.seed)
        self.X_train, self.T_train, self.X_test, self.T_test = split(X, T, self.test_fraction.value, self.seed)

    def new_data(self):
        self._data()
        self.new_network()

    def new_network(self):
        sizes = [2] + [self.width.value] * self.depth.value + [1]
        self.net = mlp(sizes, activation=self.activation.value, output_activation="sigmoid", seed=self.seed)
        self.steps = 0
        self.history = {"step": [], "train": [], "test": []}
        keys = [f"{l}.W[{p},{q}]" for l, layer in enumerate(self.net.layers)
                for p in range(layer.n_in) for q in range(layer.n_out)]
        keys += [f"{l}.b[{q}]" for l, layer in enumerate(self.net.layers) for q in range(layer.n_out)]
        current = self.param.value
        self.param.options = [(f"{param_label(k)}  ({k})", k) for k in keys]
        if current in keys:
            self.param.value = current
        self._record()
        self.refresh()

    # -- training ----------------------------------------------------------------------------------------
    def step(self, n=1):
        """``n`` gradient steps on the training split: θ ← θ − η ∂L/∂θ."""
        for _ in range(n):
            _, grads = self.net.loss_and_grads(self.X_train, self.T_train, loss="bce")
            sgd_step(self.net, grads, self.lr.value)
            self.steps += 1
        self._record()
        self.refresh()

    def _on_play(self, change):
        self.play.description, self.play.icon = ("pause", "pause") if change["new"] else ("play", "play")
        if change["new"] and (self._task is None or self._task.done()):
            try:
                loop = asyncio.get_running_loop()  # the kernel's loop, while it handles the button's message
            except RuntimeError:
                return  # no loop (a plain script): use step()
            self._task = loop.create_task(self.run())

    async def run(self, fps=12):
        """Train while "play" is on: a frame of ``steps_per_frame`` steps, then the kernel handles messages."""
        while self.play.value:
            start = time.perf_counter()
            self.step(self.steps_per_frame)
            await asyncio.sleep(max(0.005, 1 / fps - (time.perf_counter() - start)))

    def _record(self):
        self.train_loss, self.grads = self.net.loss_and_grads(self.X_train, self.T_train, loss="bce")
        self.grads = {k: v.copy() for k, v in self.grads.items()}
        self.test_loss = self.net.loss(self.X_test, self.T_test, loss="bce") if len(self.X_test) else float("nan")
        self.history["step"].append(self.steps)
        self.history["train"].append(self.train_loss)
        self.history["test"].append(self.test_loss)

    # -- drawing -------------------------------------------------------------------------------------------
    def predictions(self, X):
        return self.net.forward(X)[:, 0]

    def refresh(self):
        r = len(self.grid_axis)
        self.probability = self.predictions(self.grid_points).reshape(r, r)
        self.boundary.set_data(self.probability)
        colours = np.array([[0.13, 0.4, 0.67, 1.0], [0.7, 0.09, 0.17, 1.0]])  # class 0 blue, class 1 red
        for dots, X, T in ((self.train_dots, self.X_train, self.T_train), (self.test_dots, self.X_test, self.T_test)):
            dots.set_offsets(X if len(X) else np.zeros((0, 2)))
            if len(X):
                predicted = self.predictions(X) > 0.5
                wrong = predicted != (T[:, 0] > 0.5)
                dots.set_facecolors(colours[T[:, 0].astype(int)])
                dots.set_edgecolors(np.where(wrong[:, None], [[1.0, 0.85, 0.0, 1.0]], [[0.15, 0.15, 0.15, 1.0]]))
        self.image.refresh()
        self.train_accuracy = self._accuracy(self.X_train, self.T_train)
        self.test_accuracy = self._accuracy(self.X_test, self.T_test)
        self.status.value = (
            "<span style='font-family:monospace;font-size:12px'>"
            f"step <span data-name='steps'>{self.steps}</span> · train loss <span data-name='train'>{fmt(self.train_loss)}</span>"
            f" (accuracy <span data-name='train_acc'>{self.train_accuracy:.3f}</span>) · test loss "
            f"<span data-name='test'>{fmt(self.test_loss)}</span> (accuracy <span data-name='test_acc'>"
            f"{self.test_accuracy:.3f}</span>)<br>circles train, triangles test; a yellow ring: predicted wrong</span>")
        steps = self.history["step"]
        self.train_line.set_data(steps, self.history["train"])
        self.test_line.set_data(steps, self.history["test"])
        right = max(steps[-1], 10)
        top = max(max(self.history["train"]), np.nanmax(self.history["test"]) if len(self.X_test) else 0) * 1.1
        xlim, ylim = self.curve_ax.get_xlim(), self.curve_ax.get_ylim()
        if right > xlim[1] or top > ylim[1] or steps[-1] == 0:
            self.curve_ax.set_xlim(0, right if steps[-1] == 0 else 2 * right)
            self.curve_ax.set_ylim(0, top)
            self.curve_image.invalidate()
        self.curve_image.refresh()
        self._show_param()

    def _accuracy(self, X, T):
        if not len(X):
            return float("nan")
        return float(np.mean((self.predictions(X) > 0.5) == (T[:, 0] > 0.5)))

    def _on_pick(self, change):
        """An edge or a neuron was chosen in the drawing: show that parameter (the dropdown follows)."""
        keys = [k for _, k in self.param.options]
        if change["new"] in keys:
            self.param.value = change["new"]

    def _show_param(self):
        key = self.param.value
        self.picker.selected = key or ""
        self.picker.svg = network_svg(self.net, self.grads, key, interactive=self.picker.interactive)
        if key is None:
            return
        layer, kind, idx = key.split(".")[0], key.split(".")[1][0], key[key.index("[") + 1:-1]
        index = tuple(int(i) for i in idx.split(","))
        value = (self.net.layers[int(layer)].W if kind == "W" else self.net.layers[int(layer)].b)[index]
        grad = self.grads[f"{layer}.{kind}"][index]
        self.param_info.value = (f"<span style='font-family:monospace;font-size:12px'>{html.escape(param_label(key))} = "
                                 f"<span data-name='value'>{fmt(value)}</span>, ∂L/∂θ = <span data-name='grad'>"
                                 f"{fmt(grad)}</span> (training loss)</span>")

    def displayed(self):
        import re

        text = self.status.value + self.param_info.value
        return {k: float(v) for k, v in re.findall(r"data-name='([^']+)'>([+-]?[0-9.]+|nan)<", text)}
