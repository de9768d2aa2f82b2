"""The initialization chapter's explorer: ‖δ⁽ˡ⁾‖ across depth for an activation and an initial weight scale."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..initialization import delta_variance_factor, scaled_mlp
from ._common import slider, table
from ._render import FigureImage, log_axes
from .chapters import _Explorer

ACTIVATIONS = ("sigmoid", "tanh", "relu")


class InitExplorer(_Explorer):
    """‖δ⁽ˡ⁾‖ (root mean square over the batch) for every hidden layer of a deep network at initialization.

    The weights of every layer are N(0, s²) with s = ``scale`` · √(1/n) (n = the width): ``scale`` 1 is
    LeCun's (Xavier's for equal widths), √2 He's.  The dashed line is the prediction of equation
    :eq:`eq-delta-variance`, the measured last δ carried down by √(n σ_w² E[f′(z)²]) per layer.
    """

    def __init__(self, width=32, depth=20, scale=1.0, activation="tanh", m=64, max_depth=40, seed=0):
        rng = np.random.default_rng(seed)
        self.width, self.seed = int(width), seed
        self.X, self.T = rng.normal(size=(m, self.width)), rng.normal(size=(m, 1))
        self.sliders = {
            "depth": slider("depth N", depth, 2, max_depth, 1, kind="int", description_width="80px"),
            "scale": slider("scale of s", scale, 0.25, 3.0, 0.05, description_width="80px"),
            "activation": widgets.Dropdown(options=ACTIVATIONS, value=activation, description="f",
                                           layout=widgets.Layout(width="290px")),
        }
        self.fig, ax = log_axes(max_depth, (1e-12, 1e4), "hidden layer l (1 = first)", "‖δ⁽ˡ⁾‖ (RMS)")
        (self.measured,) = ax.plot([], [], "o-", ms=3, color="C0", label="measured")
        (self.predicted,) = ax.plot([], [], "--", lw=1.2, color="C3", label="eq. (variance), predicted")
        ax.legend(loc="lower right", fontsize=7)
        self.ax = ax
        self.image = FigureImage(self.fig)
        self.image.animate(self.measured, self.predicted)
        self._build(list(self.sliders.values()), self.image.widget)

    def norms(self):
        """(measured, predicted) RMS of δ⁽ˡ⁾ for the hidden layers l = 1 … N − 1 (first to last)."""
        depth, act = self.sliders["depth"].value, self.sliders["activation"].value
        std = self.sliders["scale"].value / np.sqrt(self.width)
        net = scaled_mlp([self.width] * depth + [1], activation=act, std=std, seed=self.seed)
        net.loss_and_grads(self.X, self.T)
        hidden = net.layers[:-1]
        measured = np.array([np.sqrt(np.mean(d ** 2)) for d in net.deltas[:-1]])
        predicted = np.empty_like(measured)
        predicted[-1] = measured[-1]
        for l in range(len(hidden) - 2, -1, -1):  # δ⁽ˡ⁾ from δ⁽ˡ⁺¹⁾: one factor of eq-delta-variance
            fprime_sq = float(np.mean(hidden[l].activation.derivative(hidden[l].Z) ** 2))
            predicted[l] = predicted[l + 1] * np.sqrt(delta_variance_factor(self.width, std ** 2, fprime_sq))
        return measured, predicted

    def refresh(self):
        measured, predicted = self.norms()
        layers = np.arange(1, len(measured) + 1)
        self.measured.set_data(layers, measured)
        self.predicted.set_data(layers, predicted)
        self.image.refresh()
        ratio = measured[0] / measured[-1]
        self.table.value = table(["", "first hidden layer", "last hidden layer", "first / last"],
                                 [["‖δ‖ measured", (f"{measured[0]:+.3e}", "first"), (f"{measured[-1]:+.3e}", "last"),
                                   (f"{ratio:+.3e}", "ratio")],
                                  ["‖δ‖ predicted", (f"{predicted[0]:+.3e}", "first_predicted"),
                                   (f"{predicted[-1]:+.3e}", "last_predicted"), ""]])

    def displayed(self):
        import re

        return {name: float(value) for name, value in
                re.findall(r'data-name="([^"]+)">([+-][0-9.e+-]+)', self.table.value)}

    title = "initialization explorer"

    def static_figures(self):
        s = self.sliders
        measured, _ = self.norms()
        return [(self.image, f"Log-scale plot of the size of δ in each hidden layer of a {s['depth'].value}-layer "
                             f"{s['activation'].value} network of width {self.width} with initial weights of scale "
                             f"{s['scale'].value:.2f}·√(1/n): measured (dots) and predicted by the variance equation "
                             f"(dashed); the first layer's δ is {measured[0] / measured[-1]:.1e} times the last's.")]
