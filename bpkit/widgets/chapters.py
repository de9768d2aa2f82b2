"""One explorer per chapter idea: the forward pass and its layouts, the chain rule's shared factor, the
output δ's sign, the batch average, the L2 penalty, and gradient norms against depth."""

from __future__ import annotations

import re

import ipywidgets as widgets
import numpy as np

from ..activations import get_activation, sigmoid
from ..diagnostics import layer_gradient_norms
from ..functional import dense_forward
from ..layout import column_forward, to_column
from ..network import mlp
from ._common import Snapshot, fmt, row, slider, snap, table
from ._render import FigureImage, log_axes, new_figure


class _Explorer(Snapshot, widgets.VBox):
    """Shared behaviour: sliders by key, ``set(key, value)``, and ``displayed()`` parsing the tables.

    The figure and its table come first, the controls beside them on a wide screen and under them on a
    narrow one (the row wraps); nothing scrolls inside the explorer.
    """

    def _build(self, controls, figure_widget, extra=()):
        self.table = widgets.HTML()
        shown = [w for w in (figure_widget, self.table) if w is not None] + list(extra)
        controls_box = widgets.VBox(controls)
        controls_box.add_class("bp-controls")
        super().__init__([row([widgets.VBox(shown), controls_box])])
        self.add_class("bp-explorer")
        for control in self.sliders.values():
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh()

    def set(self, key, value):
        self.sliders[key].value = value

    def displayed(self):
        return {name: float(value) for name, value in re.findall(r'data-name="([^"]+)">([+-][0-9.]+)', self.table.value)}


class ForwardExplorer(_Explorer):
    """One layer, two inputs, two neurons: z by the neuron formula, the row layout and the column layout."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        W, b, x = snap(rng.normal(0, 1, (2, 2))), snap(rng.normal(0, 0.5, 2)), np.array([0.5, -0.3])
        self.sliders = {f"x[{i}]": slider(f"x{'₁₂'[i]}", x[i]) for i in range(2)}
        self.sliders.update({f"W[{p},{q}]": slider(f"w{'₁₂'[p]}{'₁₂'[q]}", W[p, q]) for p in range(2) for q in range(2)})
        self.sliders.update({f"b[{q}]": slider(f"b{'₁₂'[q]}", b[q]) for q in range(2)})
        self.matrices = widgets.HTML()
        self._build(list(self.sliders.values()), None, [self.matrices])

    def refresh(self):
        v = {k: s.value for k, s in self.sliders.items()}
        x = np.array([[v["x[0]"], v["x[1]"]]])
        W = np.array([[v["W[0,0]"], v["W[0,1]"]], [v["W[1,0]"], v["W[1,1]"]]])
        b = np.array([v["b[0]"], v["b[1]"]])
        z_row = dense_forward(x, W, b)[0]
        W_col, b_col = to_column(W, b)
        z_col = column_forward(W_col, x.T, b_col)[:, 0]
        z_neuron = [sum(W[p, q] * x[0, p] for p in range(2)) + b[q] for q in range(2)]
        rows = [[f"z{'₁₂'[q]}", (fmt(z_neuron[q]), f"z_neuron[{q}]"), (fmt(z_row[q]), f"z_row[{q}]"),
                 (fmt(z_col[q]), f"z_col[{q}]"), (fmt(sigmoid(z_row[q])), f"a[{q}]")] for q in range(2)]
        self.table.value = table(["", "Σ_p w_pq x_p + b_q", "row: xW + b", "column: W_col x + b", "a = σ(z)"], rows)
        mat = lambda M: "<br>".join(" ".join(f"{e:+.2f}" for e in r) for r in M)  # noqa: E731
        self.matrices.value = (f"<div style='font-family:monospace;font-size:12px'><b>W</b> (row layout, n_in × n_out)"
                               f"<br>{mat(W)}<br><b>W_col = Wᵀ</b> (column layout)<br>{mat(W_col)}</div>")


    title = "forward-pass explorer"

    def static_tables(self):
        return [self.table.value, self.matrices.value]

class ChainExplorer(_Explorer):
    """A(X₁, X₂) = F(G(X₁, T(X₂))) with F = sin, G(x, t) = x·t, T = tanh: which factor do the partials share?"""

    def __init__(self):
        self.sliders = {"X1": slider("X₁", 0.7), "X2": slider("X₂", -0.4)}
        self.fig = new_figure(4.2, 2.4)
        ax = self.fig.add_axes([0.14, 0.2, 0.82, 0.72])
        ax.set_xlabel("X₂")
        ax.set_ylabel("A")
        grid = np.linspace(-3, 3, 200)
        (self.curve,) = ax.plot(grid, grid * 0, color="C0", lw=1.5)
        (self.tangent,) = ax.plot([], [], color="C3", lw=1.2)
        (self.point,) = ax.plot([0], [0], "o", color="C3")
        ax.set_xlim(-3, 3)
        ax.set_ylim(-1.1, 1.1)
        self.grid = grid
        self.image = FigureImage(self.fig)
        self.image.animate(self.curve, self.tangent, self.point)
        self._build(list(self.sliders.values()), self.image.widget)

    def refresh(self):
        x1, x2 = self.sliders["X1"].value, self.sliders["X2"].value
        t = np.tanh(x2)
        g = x1 * t
        Fp, dG_dX1, dG_dT, Tp = np.cos(g), t, x1, 1 - t ** 2
        dA_dX1, dA_dX2 = Fp * dG_dX1, Fp * dG_dT * Tp
        reused = Fp * dG_dX1 * Tp  # the guide's "F'·G' computed for X₁, reused for X₂"
        rows = [["F'(G) — shared by both: δ", (fmt(Fp), "Fprime")],
                ["∂G/∂X₁ = T(X₂)", (fmt(dG_dX1), "dG_dX1")],
                ["∂G/∂T = X₁", (fmt(dG_dT), "dG_dT")],
                ["T'(X₂)", (fmt(Tp), "Tprime")],
                ["∂A/∂X₁ = F'·∂G/∂X₁", (fmt(dA_dX1), "dA_dX1")],
                ["∂A/∂X₂ = F'·∂G/∂T·T'", (fmt(dA_dX2), "dA_dX2")],
                ["reusing F'·∂G/∂X₁ for X₂ (wrong)", (fmt(reused), "reused")]]
        self.table.value = table(["quantity", "value"], rows)
        self.curve.set_ydata(np.sin(x1 * np.tanh(self.grid)))
        self.point.set_data([x2], [np.sin(g)])
        self.tangent.set_data([x2 - 0.8, x2 + 0.8], [np.sin(g) - 0.8 * dA_dX2, np.sin(g) + 0.8 * dA_dX2])
        self.image.refresh()


    title = "chain-rule explorer"

    def static_figures(self):
        x1, x2 = self.sliders["X1"].value, self.sliders["X2"].value
        return [(self.image, f"Plot of A = sin(X₁·tanh(X₂)) against X₂ from −3 to 3 for X₁ = {x1:.2f}, with the "
                             f"point at X₂ = {x2:.2f} and its tangent, whose slope is ∂A/∂X₂ (value in the table).")]

class OutputDeltaExplorer(_Explorer):
    """One output neuron: move z and the target t, watch a = σ(z) and the sign of δ for MSE and for BCE."""

    def __init__(self):
        self.sliders = {"z": slider("z", 1.0, -5, 5), "t": slider("t", 0.2, 0, 1, 0.01)}
        self.fig = new_figure(4.4, 2.6)
        ax = self.fig.add_axes([0.14, 0.18, 0.82, 0.74])
        self.zs = np.linspace(-5, 5, 300)
        ax.axhline(0, color="0.5", lw=0.8)
        (self.mse_curve,) = ax.plot(self.zs, self.zs * 0, label="δ, MSE: (a − t)·a(1 − a)", color="C0")
        (self.bce_curve,) = ax.plot(self.zs, self.zs * 0, label="δ, BCE: a − t", color="C1")
        (self.mse_pt,) = ax.plot([0], [0], "o", color="C0")
        (self.bce_pt,) = ax.plot([0], [0], "o", color="C1")
        ax.set_xlim(-5, 5)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("z")
        ax.legend(loc="upper left", fontsize=7)
        self.image = FigureImage(self.fig)
        self.image.animate(self.mse_curve, self.bce_curve, self.mse_pt, self.bce_pt)
        self._build(list(self.sliders.values()), self.image.widget)

    def refresh(self):
        z, t = self.sliders["z"].value, self.sliders["t"].value
        a = float(sigmoid(z))
        d_mse, d_bce = (a - t) * a * (1 - a), a - t
        A = sigmoid(self.zs)
        self.mse_curve.set_ydata((A - t) * A * (1 - A))
        self.bce_curve.set_ydata(A - t)
        self.mse_pt.set_data([z], [d_mse])
        self.bce_pt.set_data([z], [d_bce])
        self.image.refresh()
        verdict = ("output too large → δ > 0 → gradient descent lowers z" if a > t else
                   "output too small → δ < 0 → gradient descent raises z" if a < t else "on target: δ = 0")
        self.table.value = table(["a = σ(z)", "δ (MSE)", "δ (BCE)", "reading"],
                                 [[(fmt(a), "a"), (fmt(d_mse), "delta_mse"), (fmt(d_bce), "delta_bce"), verdict]])


    title = "output-δ explorer"

    def static_figures(self):
        z, t = self.sliders["z"].value, self.sliders["t"].value
        return [(self.image, f"Plot of the output δ against z from −5 to 5 for the target t = {t:.2f}: the MSE δ, "
                             f"(a − t)·a(1 − a), in blue and the BCE δ, a − t, in orange, with points at z = {z:.2f}; "
                             "both curves cross zero where a = t.")]

class BatchExplorer(_Explorer):
    """The batch gradient of one weight is the mean of the per-sample gradients: move the batch size m."""

    def __init__(self, seed=0, max_m=8, param="0.W[0,0]"):
        rng = np.random.default_rng(seed)
        self.X, self.T = np.round(rng.normal(size=(max_m, 2)), 2), np.round(rng.uniform(size=(max_m, 1)), 2)
        self.net = mlp([2, 2, 1], seed=seed)
        self.param = param
        layer, kind, idx = re.fullmatch(r"(\d+)\.([Wb])\[([\d,]+)\]", param).groups()
        self._index = (f"{layer}.{kind}", tuple(int(i) for i in idx.split(",")))
        name, index = self._index
        self.per_sample = np.array([self.net.loss_and_grads(self.X[i:i + 1], self.T[i:i + 1])[1][name][index]
                                    for i in range(max_m)])
        self.sliders = {"m": slider("batch m", 4, 1, max_m, 1, kind="int", description_width="80px")}
        self.fig = new_figure(4.4, 2.6)
        ax = self.fig.add_axes([0.16, 0.18, 0.8, 0.72])
        self.bars = ax.bar(np.arange(1, max_m + 1), self.per_sample, color="C0", alpha=0.8)
        (self.mean_line,) = ax.plot([0.5, max_m + 0.5], [0, 0], color="C3", lw=2, label="batch gradient (mean)")
        ax.axhline(0, color="0.5", lw=0.8)
        top = float(np.abs(self.per_sample).max()) * 1.15
        ax.set_ylim(-top, top)
        ax.set_xlim(0.5, max_m + 0.5)
        ax.set_xlabel("sample i")
        ax.set_ylabel("∂ℓᵢ/∂w")
        ax.legend(loc="upper right", fontsize=7)
        self.image = FigureImage(self.fig)
        self.image.animate(*self.bars, self.mean_line)
        self._build(list(self.sliders.values()), self.image.widget)

    def refresh(self):
        m = self.sliders["m"].value
        name, index = self._index
        _, grads = self.net.loss_and_grads(self.X[:m], self.T[:m])
        batch = float(grads[name][index])
        mean = float(self.per_sample[:m].mean())
        for i, bar in enumerate(self.bars):
            bar.set_visible(i < m)
        self.mean_line.set_ydata([batch, batch])
        self.image.refresh()
        self.table.value = table(["m", "mean of per-sample ∂ℓᵢ/∂w", "batch ∂L/∂w = Aᵀδ"],
                                 [[str(m), (fmt(mean), "mean"), (fmt(batch), "batch")]])


    title = "batch explorer"

    def static_figures(self):
        m = self.sliders["m"].value
        return [(self.image, f"Bar chart of the per-sample gradients ∂ℓᵢ/∂w of samples 1 to {m}, with a red line "
                             "at their mean, which equals the batch gradient (values in the table).")]

class RegularizationExplorer(_Explorer):
    """J = L + s along one weight: move w and λ, switch the ½ of the penalty on and off."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.X, self.T = rng.normal(size=(6, 2)), rng.uniform(size=(6, 1))
        self.net = mlp([2, 2, 1], activation="tanh", output_activation="sigmoid", seed=seed)
        self.net.layers[1].W[0, 0] = snap(self.net.layers[1].W[0, 0])
        self.sliders = {"w": slider("w⁽²⁾₁₁", float(self.net.layers[1].W[0, 0])),
                        "lam": slider("λ", 0.3, 0.0, 2.0, 0.05),
                        "half": widgets.Checkbox(value=True, description="s = λ/2 ‖W‖² (with the ½)")}
        self.ws = np.linspace(-3, 3, 121)
        self.fig = new_figure(4.4, 2.6)
        ax = self.fig.add_axes([0.14, 0.18, 0.82, 0.74])
        (self.L_curve,) = ax.plot(self.ws, self.ws * 0, label="L", color="C0")
        (self.s_curve,) = ax.plot(self.ws, self.ws * 0, label="s", color="C2")
        (self.J_curve,) = ax.plot(self.ws, self.ws * 0, label="J = L + s", color="C3", lw=2)
        (self.pt,) = ax.plot([0], [0], "o", color="C3")
        ax.set_xlim(-3, 3)
        ax.set_ylim(0, 3)
        ax.set_xlabel("w⁽²⁾₁₁")
        ax.legend(loc="upper center", fontsize=7, ncol=3)
        self.image = FigureImage(self.fig)
        self.image.animate(self.L_curve, self.s_curve, self.J_curve, self.pt)
        self._build(list(self.sliders.values()), self.image.widget)

    def _penalty(self, w, lam, half):
        """s for the weight w⁽²⁾₁₁ set to ``w`` (array or number), every other weight as it is."""
        others = sum(float((layer.W ** 2).sum()) for layer in self.net.layers) - float(self.net.layers[1].W[0, 0]) ** 2
        return (0.5 if half else 1.0) * lam * (others + np.asarray(w) ** 2)

    def refresh(self):
        from .landscape import grid_loss

        w, lam, half = self.sliders["w"].value, self.sliders["lam"].value, self.sliders["half"].value
        self.net.layers[1].W[0, 0] = w
        L_curve = grid_loss(self.net, self.X, self.T, "mse", "1.W[0,0]", self.ws, "1.b[0]",
                            [float(self.net.layers[1].b[0])])[:, 0]
        s_curve = self._penalty(self.ws, lam, half)
        self.L_curve.set_ydata(L_curve)
        self.s_curve.set_ydata(s_curve)
        self.J_curve.set_ydata(L_curve + s_curve)
        L, grads = self.net.loss_and_grads(self.X, self.T)
        s = float(self._penalty(w, lam, half))
        dL = float(grads["1.W"][0, 0])
        ds = (1.0 if half else 2.0) * lam * w
        self.pt.set_data([w], [L + s])
        self.image.refresh()
        self.table.value = table(["∂L/∂w", "∂s/∂w", "∂J/∂w"],
                                 [[(fmt(dL), "dL"), (fmt(ds), "ds"), (fmt(dL + ds), "dJ")]])


    title = "regularization explorer"

    def static_figures(self):
        w, lam = self.sliders["w"].value, self.sliders["lam"].value
        half = "with" if self.sliders["half"].value else "without"
        return [(self.image, f"Plot of the loss L, the penalty s (λ = {lam:.2f}, {half} the ½) and J = L + s "
                             f"against w⁽²⁾₁₁ from −3 to 3, with a point on J at w⁽²⁾₁₁ = {w:.2f}.")]

class DepthExplorer(_Explorer):
    """‖∂L/∂W⁽ˡ⁾‖ for every layer of a plain and a residual sigmoid network: move the depth."""

    def __init__(self, width=4, max_depth=30, seed=0):
        rng = np.random.default_rng(seed)
        self.X, self.T = rng.normal(size=(8, width)), rng.uniform(size=(8, 1))
        self.width, self.seed = width, seed
        self.sliders = {"depth": slider("depth", 12, 2, max_depth, 1, kind="int", description_width="80px")}
        self.fig, ax = log_axes(max_depth, (1e-17, 10), "layer l (1 = first)", "‖∂L/∂W⁽ˡ⁾‖", left=0.15)
        (self.plain,) = ax.plot([], [], "o-", ms=3, label="plain", color="C0")
        (self.res,) = ax.plot([], [], "s-", ms=3, label="residual", color="C1")
        ax.legend(loc="lower right", fontsize=7)
        self.image = FigureImage(self.fig)
        self.image.animate(self.plain, self.res)
        self._build(list(self.sliders.values()), self.image.widget)

    def norms(self, depth, residual):
        net = mlp([self.width] * depth + [1], activation="sigmoid", residual=residual, seed=self.seed)
        return layer_gradient_norms(net, self.X, self.T)

    def refresh(self):
        depth = self.sliders["depth"].value
        plain, res = self.norms(depth, False), self.norms(depth, True)
        layers = np.arange(1, depth + 1)
        self.plain.set_data(layers, plain)
        self.res.set_data(layers, res)
        self.image.refresh()
        self.table.value = table(["", "first layer", "last layer", "first / last"],
                                 [["plain", (f"{plain[0]:+.3e}", "plain_first"), (f"{plain[-1]:+.3e}", "plain_last"),
                                   f"{plain[0] / plain[-1]:.1e}"],
                                  ["residual", (f"{res[0]:+.3e}", "res_first"), (f"{res[-1]:+.3e}", "res_last"),
                                   f"{res[0] / res[-1]:.1e}"]])

    def displayed(self):
        return {name: float(value) for name, value in
                re.findall(r'data-name="([^"]+)">([+-][0-9.e+-]+)', self.table.value)}


    title = "depth explorer"

    def static_figures(self):
        depth = self.sliders["depth"].value
        return [(self.image, f"Log-scale plot of the gradient norm ‖∂L/∂W⁽ˡ⁾‖ of each layer l = 1 to {depth} for a "
                             "plain and a residual sigmoid network: the plain network's norms fall by orders of "
                             "magnitude towards the first layer, the residual network's stay level.")]

__all__ = ["ForwardExplorer", "ChainExplorer", "OutputDeltaExplorer", "BatchExplorer", "RegularizationExplorer",
           "DepthExplorer", "get_activation"]
