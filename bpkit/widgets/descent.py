"""The loss over two chosen parameters as contours with a colour bar, the descent path as a trail, and the
current point moving as the explorer trains or a slider is dragged.

The other parameters stay where the network has them: when one of them changes (a slider, or a training
step, which moves all of them), the contours are computed again.  The trail is the path of the two chosen
parameters, one point per gradient step or slider move.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from matplotlib import colormaps
from contourpy import LineType, contour_generator
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap

from ._common import Snapshot, fmt
from ._render import FigureImage, new_figure
from .explorer import param_label
from .landscape import grid_loss
from .network_view import label_paths, text_paths
from .state import locate, value_of


UPSAMPLE = 4  # picture points a grid step (bilinear between grid points)


def _linear_upsampler(n, k):
    """Linear interpolation from n grid points to a grid k times finer, along the first axis of an array.

    Element-wise (indices and weights), not a matrix product: BLAS threads on a small product wait for each
    other far longer than the arithmetic takes when the machine is busy."""
    fine = np.linspace(0, n - 1, (n - 1) * k + 1)
    left = np.minimum(np.floor(fine).astype(int), n - 2)
    frac = (fine - left)[:, None]

    def upsample(values):
        return values[left] * (1 - frac) + values[left + 1] * frac

    return upsample


def encode(image):
    """The canvas of a FigureImage into its widget (as FigureImage.refresh does after drawing)."""
    import io

    from PIL import Image

    width, height = image.canvas.get_width_height()
    pixels = Image.frombuffer("RGBA", (width, height), image.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    pixels.convert("RGB").save(out, format="JPEG", quality=90)
    image.widget.value = out.getvalue()


class DescentLandscape(Snapshot, widgets.VBox):
    """Contours of the loss over parameters ``a`` and ``b`` of ``explorer``'s network, the gradient descent
    path through them, and −∇ at the current point.

    ``span``: the grid covers at least [−span, span] in both parameters and grows to hold the trail.
    ``n``: grid points per axis; ``levels``: number of contour levels (spaced by the loss's quantiles, so
    that the flat floor gets contours too).
    """

    def __init__(self, explorer, a="1.W[0,0]", b="1.W[1,0]", span=3.0, n=41, levels=12):
        for key in (a, b):
            locate(explorer, key)  # a clear error for a key the network does not have
        if a == b:
            raise ValueError(f"the landscape needs two different parameters, got a = b = {a!r}")
        self.explorer, self.a, self.b, self.n, self.levels = explorer, a, b, int(n), int(levels)
        self.extent = (-span, span, -span, span)
        self.fig = new_figure(4.6, 3.6)
        self.ax = self.fig.add_axes([0.14, 0.13, 0.66, 0.8])
        self.cax = self.fig.add_axes([0.84, 0.13, 0.035, 0.8])
        self.ax.set_xlabel(param_label(a))
        self.ax.set_ylabel(param_label(b))
        self.image = FigureImage(self.fig, format="jpeg")  # ten times faster to encode than PNG for filled areas
        (self.trail_line,) = self.ax.plot([], [], "-o", color="white", mec="black", mew=0.5, ms=3, lw=1.2, zorder=4)
        (self.point,) = self.ax.plot([], [], "o", color="#d55e00", mec="white", mew=1.2, ms=8, zorder=6)
        self.arrow = self.ax.annotate("", xy=(0, 0), xytext=(0, 0), zorder=7,
                                      arrowprops=dict(arrowstyle="-|>", color="#d55e00", lw=1.8))
        # the colour bar: one band a contour level (levels are the loss's quantiles, so bands are equal)
        bands = ListedColormap(colormaps["viridis"](np.linspace(0, 1, levels)))
        self._band_colours = (bands(np.arange(levels)) * 255).astype(np.uint8)
        # the bands as an RGBA picture made here (bilinear between grid points, then one colour a band):
        # matplotlib's own data-stage resampling and norm of every pixel cost more than the rest of a frame
        self.heat = self.ax.imshow(np.zeros((2, 2, 4), np.uint8), origin="lower", extent=self.extent, aspect="auto",
                                   interpolation="nearest", zorder=1)
        self._upsample = _linear_upsampler(self.n, UPSAMPLE)
        self.cax.imshow(np.arange(levels)[:, None], origin="lower", extent=(0, 1, 0, levels), cmap=bands,
                        aspect="auto", interpolation="nearest")
        self.cax.set_xticks([])
        self.cax.set_yticks([])
        self.cax.set_title("loss", fontsize=8)
        # the colour bar's numbers as glyph outlines (text would be laid out again at every change)
        self.bar_texts = [""] * len(self._labelled(levels))
        self.bar_labels = label_paths(self.bar_texts, [(1.25, i) for i in self._labelled(levels)], self.cax,
                                      fontsize=7, align="left")
        self.bar_labels.set_clip_on(False)
        for artist in (self.heat, self.bar_labels):
            artist.set_animated(True)  # drawn into the landscape layer, not into the static background
        self._layer = None  # pixels of background + landscape: a point move draws only the trail over it
        self._lines = LineCollection([], colors="k", linewidths=0.4, alpha=0.45, zorder=2, animated=True)
        self.ax.add_collection(self._lines, autolim=False)
        self._drawn_extent = None
        self._others = None
        self.trail = []
        self.image.animate(self.trail_line, self.point, self.arrow)
        self.label = widgets.HTML()
        self.clear_button = widgets.Button(description="clear trail", icon="eraser", layout=widgets.Layout(width="110px"))
        self.clear_button.on_click(lambda _: self.clear_trail())
        super().__init__([self.image.widget, widgets.HBox([self.clear_button, self.label])])
        self.add_class("bp-landscape")
        explorer.on_change(self.update)
        explorer.step_listeners.append(self._record)
        self.update(explorer)

    # -- the static website's picture (Snapshot) -------------------------------------------------------
    title = "loss landscape"

    def static_figures(self):
        a, b = param_label(self.a), param_label(self.b)
        return [(self.image, f"Contours of the loss over {a} (horizontal) and {b} (vertical), the other parameters "
                             f"fixed, with a colour bar of the loss; the current point and the arrow of −∇ there; "
                             f"a trail of {max(len(self.trail) - 1, 0)} gradient steps.")]

    def static_tables(self):
        return [self.label.value]

    def static_settings(self):
        return [("horizontal axis", param_label(self.a)), ("vertical axis", param_label(self.b))]

    @staticmethod
    def _labelled(levels):
        """The level boundaries the colour bar labels: five of them (text is the slow part of a redraw)."""
        return sorted({round(i * levels / 4) for i in range(5)})

    # -- the trail -----------------------------------------------------------------------------------------
    def _position(self):
        return value_of(self.explorer, self.a), value_of(self.explorer, self.b)

    def _record(self, _explorer=None):
        point = self._position()
        if not self.trail or self.trail[-1] != point:
            self.trail.append(point)

    def clear_trail(self):
        self.trail = [self._position()]
        self.update(self.explorer)

    # -- the landscape ---------------------------------------------------------------------------------------
    def _other_numbers(self):
        """Everything the landscape depends on apart from a and b: the other parameters and the data."""
        parts = []
        for name, p in self.explorer.net.parameters():
            q = p.copy()
            for key in (self.a, self.b):
                array, index = locate(self.explorer, key)
                if array is p:
                    q[index] = 0.0
            parts.append(q.tobytes())
        return b"".join(parts) + self.explorer.X.tobytes() + self.explorer.T.tobytes()

    def _fits(self, x0, x1, y0, y1):
        return all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in self.trail)

    def _grow(self):
        x0, x1, y0, y1 = self.extent
        xs, ys = [p[0] for p in self.trail], [p[1] for p in self.trail]
        margin = 0.5
        x0, x1 = min(x0, min(xs) - margin), max(x1, max(xs) + margin)
        y0, y1 = min(y0, min(ys) - margin), max(y1, max(ys) + margin)
        self.extent = tuple(float(v) for v in (np.floor(x0), np.ceil(x1), np.floor(y0), np.ceil(y1)))

    def _draw_contours(self):
        """The loss on the grid as filled contours (an image with one colour a band: cheap to redraw), the
        contour lines, and the colour bar's labels; only the axes' limits need a full redraw."""
        x0, x1, y0, y1 = self.extent
        self.values_a, self.values_b = np.linspace(x0, x1, self.n), np.linspace(y0, y1, self.n)
        ex = self.explorer
        self.grid = grid_loss(ex.net, ex.X, ex.T, ex.loss_name, self.a, self.values_a, self.b, self.values_b)
        levels = np.quantile(self.grid, np.linspace(0, 1, self.levels + 1))
        if not (np.diff(levels) > 0).all():  # a flat stretch: evenly spaced levels instead
            lo, hi = float(self.grid.min()), float(self.grid.max())
            levels = np.linspace(lo, hi if hi > lo else lo + 1e-12, self.levels + 1)
        self.contour_levels = levels
        fine = self._upsample(self._upsample(self.grid).T).T  # (a, b) on a grid UPSAMPLE times finer
        band = np.clip(np.searchsorted(levels, fine, side="right") - 1, 0, self.levels - 1)
        rgba = self._band_colours[band.T]
        rgba[~np.isfinite(fine.T)] = 0  # where the loss overflowed: a gap
        self.heat.set_data(rgba)
        # the contour lines straight from contourpy (matplotlib's own renderer of contours) into one
        # LineCollection updated in place: a new ContourSet every step costs more than the whole rest
        lines = contour_generator(self.values_a, self.values_b, self.grid.T, line_type=LineType.Separate)
        self._lines.set_segments([seg for level in levels[1:-1] for seg in lines.lines(level)])
        self._layer = None
        self.bar_texts = [f"{value:.3g}" for value in levels[self._labelled(self.levels)]]
        self.bar_labels.set_paths(text_paths(self.bar_texts, 7, align="left"))
        if (x0, x1, y0, y1) != self._drawn_extent:
            fine = (self.n - 1) * UPSAMPLE + 1
            hx, hy = (x1 - x0) / (fine - 1) / 2, (y1 - y0) / (fine - 1) / 2  # pixel centres on the grid
            self.heat.set_extent((x0 - hx, x1 + hx, y0 - hy, y1 + hy))
            self.ax.set_xlim(x0, x1)
            self.ax.set_ylim(y0, y1)
            self._drawn_extent = (x0, x1, y0, y1)
            self.image.invalidate()

    def update(self, explorer=None):
        self._record()
        others = self._other_numbers()
        if others != self._others or not self._fits(*self.extent):
            if not self._fits(*self.extent):
                self._grow()
            self._others = others
            self._draw_contours()
        va, vb = self.trail[-1]
        ga, gb = self._grad(self.a), self._grad(self.b)
        norm = np.hypot(ga, gb)
        x0, x1, _, _ = self.extent
        scale = 0.12 * (x1 - x0) / norm if norm > 0 else 0.0  # a fixed arrow length: the direction is the point
        self.trail_line.set_data([p[0] for p in self.trail], [p[1] for p in self.trail])
        self.point.set_data([va], [vb])
        self.arrow.xy = (va - scale * ga, vb - scale * gb)
        self.arrow.set_position((va, vb))
        self._refresh()
        self.label.value = (f"<span style='font-family:monospace;font-size:12px'>"
                            f"({html.escape(param_label(self.a))}, {html.escape(param_label(self.b))}) = "
                            f"(<span data-name='a'>{fmt(va)}</span>, <span data-name='b'>{fmt(vb)}</span>), "
                            f"L = <span data-name='loss'>{fmt(self.explorer.loss)}</span>; "
                            f"−∇ = (<span data-name='-ga'>{fmt(-ga)}</span>, <span data-name='-gb'>{fmt(-gb)}</span>); "
                            f"trail: {len(self.trail)} points</span>")

    def _refresh(self):
        """Blit in two layers: the axes (drawn once), the landscape (drawn when it changes), the trail."""
        image, canvas = self.image, self.image.canvas
        if image._background is None:
            canvas.draw()
            image._background = canvas.copy_from_bbox(self.fig.bbox)
            self._layer = None
        if self._layer is None:
            canvas.restore_region(image._background)
            for artist in (self.heat, self._lines, self.bar_labels):
                (artist.axes or self.fig).draw_artist(artist)
            self._layer = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._layer)
        for artist in (self.trail_line, self.point, self.arrow):
            self.ax.draw_artist(artist)
        encode(image)

    def _grad(self, key):
        array, index = locate(self.explorer, key)
        for name, p in self.explorer.net.parameters():
            if p is array:
                return float(self.explorer.grads[name][index])
        raise ValueError(f"{key!r} is not a parameter of the network")  # pragma: no cover

    def displayed(self):
        import re

        return {k: float(v) for k, v in re.findall(r"data-name='([^']+)'>([+-][0-9.]+)<", self.label.value)}
