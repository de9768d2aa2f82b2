"""A matplotlib figure shown as an ipywidgets Image and redrawn in place (blitting).

The static parts of a figure are drawn once into a background; on each update only the artists
marked as changing are drawn again over it and the pixels are encoded as PNG.  Text is the
expensive part of a matplotlib draw, so explorers keep numbers in HTML and figures for shape,
colour and width.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


def new_figure(width=5.0, height=3.2, dpi=80):
    """A Figure outside pyplot (no global state, never shown twice by the inline backend)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


class FigureImage:
    """``fig`` rendered into ``self.widget`` (an ipywidgets.Image); ``refresh()`` redraws the animated artists."""

    def __init__(self, fig, width=None, format="png"):
        """``format="png"`` for line art; ``"jpeg"`` (ten times faster to encode) for images like heatmaps."""
        self.fig = fig
        self.canvas = fig.canvas
        self.format = format
        w_px = int(fig.get_figwidth() * fig.dpi)
        self.widget = widgets.Image(format=format, layout=widgets.Layout(width=f"{width or w_px}px", max_width="100%",
                                                                                  height="auto", margin="2px 0px"))
        # max_width: the picture shrinks to a narrow screen; no side margin, so 100% plus margins never overflows
        self.widget.add_class("bp-figure")
        self._animated = []
        self._background = None

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
