"""The loss over two chosen weights, with the negative gradient at the current point."""

from __future__ import annotations

import copy
import re

import ipywidgets as widgets
import numpy as np

from .._validate import NonFiniteError
from ..activations import log_softmax
from ..layers import Dense
from ..losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy, _softplus, get_loss
from ..network import Sequential
from ..protocol import Context
from ._common import Snapshot, fmt
from ._render import FigureImage, new_figure
from .explorer import param_label


def _entry(key):
    """``"1.W[0,1]"`` → (``"1.W"``, (0, 1)): a parameter's name and an index into it."""
    name, idx = re.fullmatch(r"(\d+\.\w+)\[([\d,]+)\]", key).groups()
    return name, tuple(int(i) for i in idx.split(","))


def grid_loss(net, X, T, loss, key_a, values_a, key_b, values_b):
    """The loss for every pair (values_a[i], values_b[j]) of the two parameters, the others fixed: (n_a, n_b).

    ``net`` is left as it was.  For bpkit's dense layers and losses the whole grid is one batched forward
    pass (:func:`_grid_loss_batched`, a thousand times fewer calls); otherwise the network's own ``loss``
    point by point on a copy of the network.  A point where the loss overflows is NaN (a gap in the picture).
    """
    batched = _grid_loss_batched(net, X, T, loss, key_a, values_a, key_b, values_b)
    if batched is not None:
        return batched
    return _grid_loss_loop(net, X, T, loss, key_a, values_a, key_b, values_b)


def _grid_loss_loop(net, X, T, loss, key_a, values_a, key_b, values_b):
    """``grid_loss`` point by point with the network's public ``loss`` (any layer, any loss)."""
    work = copy.deepcopy(net)
    params = dict(work.parameters())
    (name_a, idx_a), (name_b, idx_b) = _entry(key_a), _entry(key_b)
    values = np.empty((len(values_a), len(values_b)))
    for i, va in enumerate(values_a):
        params[name_a][idx_a] = va
        for j, vb in enumerate(values_b):
            params[name_b][idx_b] = vb
            try:
                values[i, j] = work.loss(X, T, loss=loss)
            except NonFiniteError:  # the loss overflowed there: a gap in the picture, not an error
                values[i, j] = np.nan
    return values


def _per_block_loss(loss, A, Z, T, blocks):
    """The loss of each of ``blocks`` equal consecutive groups of rows of (A, Z) against T, or None for a loss
    this does not know (then the caller goes point by point).  Each is bpkit's loss of that block: the same
    sums as :func:`bpkit.losses.mse_loss`, :func:`~bpkit.losses.bce_loss`, :func:`~bpkit.losses.softmax_ce_loss`,
    taken per block (the grid's tests compare with the per-neuron loops)."""
    m = T.shape[0]
    if isinstance(loss, MSE):
        scale = 1.0 / m if loss.reduction == "mean" else 1.0
        terms = (A.reshape(blocks, m, -1) - T) ** 2 * (0.5 * scale)
    elif type(loss) is BinaryCrossEntropy:
        Zb = Z.reshape(blocks, m, -1)
        terms = (_softplus(Zb) - T * Zb) / m
    elif type(loss) is SoftmaxCrossEntropy:
        terms = -(T * log_softmax(Z.reshape(blocks, m, -1))) / m
    else:
        return None
    return terms.reshape(blocks, -1).sum(axis=1)


def _grid_loss_batched(net, X, T, loss, key_a, values_a, key_b, values_b, max_rows=60_000):
    """``grid_loss`` as batched forward passes: the data repeated once per grid point, and each layer that
    holds a or b given, through its context's ``z_offset``, what the grid point changes in its Z (for
    w_pq: (v − w_pq)·a_p into column q; for b_q: v − b_q).  None when the network or the loss is not one
    this handles (layers shared between positions, layers without W and b, a loss of one's own)."""
    if not isinstance(net, Sequential) or len(set(net.owner)) != len(net.layers):
        return None
    loss = get_loss(loss)
    (name_a, idx_a), (name_b, idx_b) = _entry(key_a), _entry(key_b)
    shifts = {}  # layer -> [(kind, index, current value, which grid axis)]
    for name, idx, axis in ((name_a, idx_a, 0), (name_b, idx_b, 1)):
        layer_i, kind = int(name.split(".")[0]), name.split(".")[1]
        layer = net.layers[layer_i]
        if not isinstance(layer, Dense) or kind not in ("W", "b"):
            return None
        shifts.setdefault(layer_i, []).append((kind, idx, float(getattr(layer, kind)[idx]), axis))
    X, T = np.asarray(X, dtype=net.dtype), np.asarray(T, dtype=net.dtype)
    m = X.shape[0]
    values_a, values_b = np.asarray(values_a, dtype=float), np.asarray(values_b, dtype=float)
    n_a, n_b = len(values_a), len(values_b)
    out = np.empty((n_a, n_b))
    rows_a = max(1, max_rows // max(1, m * n_b))  # grid rows per batch, so that memory stays small
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, n_a, rows_a):
            va = values_a[start:start + rows_a]
            blocks = len(va) * n_b
            per_row = (np.repeat(np.repeat(va, n_b), m), np.repeat(np.tile(values_b, len(va)), m))
            A = np.tile(X, (blocks, 1))
            for i, layer in enumerate(net.layers):
                ctx = Context()
                if i in shifts:
                    offset = np.zeros((A.shape[0], layer.n_out), dtype=net.dtype)
                    for kind, idx, current, axis in shifts[i]:
                        change = per_row[axis] - current
                        if kind == "W":
                            offset[:, idx[1]] += change * A[:, idx[0]]
                        else:
                            offset[:, idx[0]] += change
                    ctx.z_offset = offset
                A = layer.forward(A, ctx)
            value = _per_block_loss(loss, A, ctx.Z, T, blocks)
            if value is None:
                return None
            out[start:start + len(va)] = value.reshape(len(va), n_b)
    out[~np.isfinite(out)] = np.nan  # the loss overflowed there: a gap in the picture, not an error
    return out


class LossLandscape(Snapshot, widgets.VBox):
    """The loss over parameters ``a`` and ``b`` of an explorer's network, with −∇ at the current point.

    It follows the explorer: moving ``a`` or ``b`` moves the point; moving any other slider changes
    the landscape itself.
    """

    def __init__(self, explorer, a="1.W[0,0]", b="1.W[1,0]", span=3.0, n=41):
        self.explorer, self.a, self.b = explorer, a, b
        self.values = np.linspace(-span, span, n)
        self.fig = new_figure(4.2, 3.6)
        self.ax = self.fig.add_axes([0.15, 0.13, 0.8, 0.8])
        self.ax.set_xlabel(param_label(a))
        self.ax.set_ylabel(param_label(b))
        self.image = FigureImage(self.fig, format="jpeg")
        (self.point,) = self.ax.plot([0], [0], "o", color="k", ms=6, zorder=5)
        self.arrow = self.ax.annotate("", xy=(0, 0), xytext=(0, 0), zorder=6,
                                      arrowprops=dict(arrowstyle="-|>", color="k", lw=1.8))
        self.image.animate(self.point, self.arrow)
        self.label = widgets.HTML()
        self._others = None
        # the landscape is an image redrawn in place (contourf would force a full redraw every time)
        self.heat = self.ax.imshow(np.zeros((n, n)), origin="lower", extent=(-span, span, -span, span),
                                   cmap="viridis", aspect="auto", interpolation="nearest", zorder=1)
        self.image.animate(self.heat)
        self.image._animated.insert(0, self.image._animated.pop())  # draw the image under the point and arrow
        super().__init__([self.image.widget, self.label])
        self.add_class("bp-landscape")
        explorer.on_change(self.update)
        self.update(explorer)

    title = "loss landscape"
    sliders = {}  # its controls are the explorer's

    def static_figures(self):
        va, vb = self.explorer.sliders[self.a].value, self.explorer.sliders[self.b].value
        a, b = param_label(self.a), param_label(self.b)
        return [(self.image, f"Heat map of the loss over {a} (across) and {b} (up), the other parameters fixed, "
                             f"from low (dark blue) to high (yellow); a black point at ({va:.2f}, {vb:.2f}) with an "
                             "arrow along the negative gradient, pointing downhill.")]

    def static_tables(self):
        return [self.label.value]

    def _other_parameters(self):
        return tuple(float(s.value) for key, s in self.explorer.sliders.items() if key not in (self.a, self.b))

    def update(self, explorer):
        others = self._other_parameters()
        if others != self._others:  # the landscape itself changed
            self._others = others
            Lgrid = grid_loss(explorer.net, explorer.X, explorer.T, explorer.loss_name, self.a, self.values,
                              self.b, self.values)
            self.heat.set_data(Lgrid.T)
            self.heat.set_clim(float(Lgrid.min()), float(Lgrid.max()))
        va, vb = explorer.sliders[self.a].value, explorer.sliders[self.b].value
        ga, gb = self._grad(self.a), self._grad(self.b)
        norm = np.hypot(ga, gb)
        scale = 0.8 / norm if norm > 0 else 0.0  # a fixed arrow length: the direction is the point
        self.point.set_data([va], [vb])
        self.arrow.xy = (va - scale * ga, vb - scale * gb)
        self.arrow.set_position((va, vb))
        self.image.refresh()
        self.label.value = (f"<span style='font-family:monospace'>−∇ = ({fmt(-ga)}, {fmt(-gb)}): the arrow "
                            f"points downhill, across the contours</span>")

    def _grad(self, key):
        layer, kind, idx = re.fullmatch(r"(\d+)\.([Wb])\[([\d,]+)\]", key).groups()
        return float(self.explorer.grads[f"{layer}.{kind}"][tuple(int(i) for i in idx.split(","))])
