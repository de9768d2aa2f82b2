"""A matplotlib figure shown as a picture with alt text and redrawn in place (blitting).

The static parts of a figure are drawn once into a background; on each update only the artists
marked as changing are drawn again over it and the pixels are encoded as PNG.  Text is the
expensive part of a matplotlib draw, so explorers keep numbers in HTML and figures for shape,
colour and width.

The picture is an ``<img alt=...>`` (``FigureView``, anywidget with inline ESM): ipywidgets' Image has no
alt text, so a screen reader met every live figure as "image".  The alt text says what the figure shows;
an explorer's own description (its ``static_figures``, the snapshot's alt text) replaces the generic one
when it is displayed, and is written again after every redraw, so it follows the state.
"""

from __future__ import annotations

import io

import anywidget
import ipywidgets as widgets
import traitlets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


def new_figure(width=5.0, height=3.2, dpi=80):
    """A Figure outside pyplot (no global state, never shown twice by the inline backend)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def log_axes(max_depth, ylim, xlabel, ylabel, left=0.16):
    """A figure of one quantity per layer (1 … ``max_depth`` across) on a log scale (``ylim`` up): the depth
    and initialization explorers.  Returns ``(fig, ax)``."""
    fig = new_figure(4.6, 2.8)
    ax = fig.add_axes([left, 0.17, 0.8, 0.75])
    ax.set_yscale("log")
    ax.set_xlim(0.5, max_depth + 0.5)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


FIGURE_ESM = r"""
function render({ model, el }) {
  const img = document.createElement("img");
  img.className = "bp-figure";  // the class the explorers' styles and benchmarks use
  el.append(img);
  let url = null;
  const draw = () => {
    const data = model.get("value");
    if (!data || !data.byteLength) return;
    const next = URL.createObjectURL(new Blob([data], { type: "image/" + model.get("format") }));
    img.src = next;
    if (url) URL.revokeObjectURL(url);
    url = next;
  };
  const describe = () => { img.alt = model.get("alt"); };
  model.on("change:value", draw);
  model.on("change:alt", describe);
  describe();
  draw();
  return () => { model.off("change:value", draw); model.off("change:alt", describe); if (url) URL.revokeObjectURL(url); };
}
export default { render };
"""


class FigureView(anywidget.AnyWidget):
    """A PNG or JPEG picture (``value``, bytes) shown as ``<img alt="{alt}">``."""

    _esm = FIGURE_ESM
    _css = "img.bp-figure { display: block; width: 100%; max-width: 100%; height: auto; }"
    value = traitlets.Bytes(b"").tag(sync=True)
    format = traitlets.Unicode("png").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)


def describe(fig):
    """A generic alt text from the figure's own labels: 'Plot of loss against gradient steps.'"""
    parts = []
    for ax in fig.axes:
        x, y, title = ax.get_xlabel(), ax.get_ylabel(), ax.get_title()
        if x and y:
            parts.append(f"plot of {y} against {x}")
        elif x or y or title:
            parts.append(f"plot of {title or y or x}")
    if not parts:
        return "Figure drawn by the explorer (its numbers are in the table beside it)."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


class FigureImage:
    """``fig`` rendered into ``self.widget`` (a :class:`FigureView`); ``refresh()`` redraws the animated artists.

    ``describe``: a function returning the alt text of the current state, called after every redraw
    (:class:`~bpkit.widgets._common.Snapshot` sets it when the explorer is displayed)."""

    def __init__(self, fig, width=None, format="png"):
        """``format="png"`` for line art; ``"jpeg"`` (ten times faster to encode) for images like heatmaps."""
        self.fig = fig
        self.canvas = fig.canvas
        self.format = format
        w_px = int(fig.get_figwidth() * fig.dpi)
        self.widget = FigureView(format=format, alt=describe(fig), layout=widgets.Layout(width=f"{width or w_px}px", max_width="100%",
                                                                                  height="auto", margin="2px 0px"))
        # max_width: the picture shrinks to a narrow screen; no side margin, so 100% plus margins never overflows
        self._animated = []
        self._background = None
        self.describe = None

    def animate(self, *artists):
        """Mark artists as changing: they are left out of the background and redrawn by ``refresh``."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def invalidate(self):
        """The static part changed (limits, labels): draw the background again on the next refresh."""
        self._background = None

    def refresh(self):
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self._animated:
            if artist.get_visible():
                (artist.axes or self.fig).draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        if self.format == "jpeg":
            image.convert("RGB").save(out, format="JPEG", quality=90)
        else:  # a palette of 256 colours: line art loses nothing visible, and it encodes 4× faster than RGBA
            image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", compress_level=1)
        self.widget.value = out.getvalue()
        if self.describe is not None:
            self.widget.alt = self.describe()
