"""Pieces every explorer shares: the static-site hint, number formatting, sliders."""

from __future__ import annotations

import html

import ipywidgets as widgets

HINT = (
    '<div class="bp-static-hint" style="display:none">'
    "<b>This is a snapshot.</b> On the website the sliders do not move the numbers: open the chapter live "
    "— the rocket icon at the top of the page launches it on Binder, Colab or a JupyterHub, and "
    "<code>make lab</code> opens it in JupyterLab on your machine — then run the cells and move any slider."
    "</div>"
)


def hint():
    """A note shown only on the static website (the book's CSS reveals it; a live notebook keeps it hidden)."""
    return widgets.HTML(HINT)


def fmt(value, digits=5):
    """The one number format of every explorer table (tests parse it back)."""
    return f"{value:+.{digits}f}"


STEP = 0.05


def snap(value, step=STEP):
    """``value`` on the slider grid: a browser snaps off-grid values and would send them back, so the
    live explorer would start from other numbers than the static page shows."""
    import numpy as np

    return np.round(np.asarray(value, dtype=float) / step) * step


def slider(description, value, low=-3.0, high=3.0, step=STEP):
    s = widgets.FloatSlider(value=round(float(snap(value, step)), 10), min=low, max=high, step=step, description=description,
                            continuous_update=True, readout_format=".2f",
                            style={"description_width": "56px"}, layout=widgets.Layout(width="290px"))
    return s


def table(headers, rows, css_class="bp-table"):
    """An HTML table; each cell is (text, data-name or None)."""
    head = "".join(f'<th style="white-space:nowrap;padding:1px 6px">{html.escape(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            text, name = cell if isinstance(cell, tuple) else (cell, None)
            attr = f' data-name="{html.escape(name)}"' if name else ""
            cells.append(f'<td style="white-space:nowrap;padding:1px 6px"{attr}>{html.escape(str(text))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{css_class}" style="font-family:monospace;font-size:12px;border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
