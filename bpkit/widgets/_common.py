"""Pieces every explorer shares: the static snapshot, number formatting, sliders."""

from __future__ import annotations

import html

import ipywidgets as widgets

LIVE_HREF = "#bp-open-live"  # the website's build replaces it with the chapter's launch link (Binder)


class Snapshot:
    """The explorer's state as a static picture, for pages without a kernel.

    ``_repr_mimebundle_`` returns the live widget view *and* ``text/html``: a note, the figures as
    ``<img class="bp-widget-static">`` with alt text, the settings and the explorer's own tables.  JupyterLab,
    Voila and Colab show the live widget (its renderer ranks first); the book's HTML build is told to
    prefer ``text/html`` (``nb_mime_priority_overrides`` in _config.yml), so the website shows the
    snapshot: nothing on it can be moved, and its link opens the chapter live.
    """

    title = "explorer"

    def static_figures(self):
        """[(FigureImage, alt text)] — what the explorer draws, described in words."""
        return []

    def static_tables(self):
        """HTML of the explorer's tables (its numbers, as text)."""
        return [self.table.value] if getattr(self, "table", None) is not None else []

    def static_settings(self):
        """[(name as the book writes it, value as shown)] for every control."""
        rows = []
        for control in self.sliders.values():
            value = control.value
            shown = ("on" if value else "off") if isinstance(value, bool) else f"{value:.2f}" if isinstance(value, float) else str(value)
            rows.append((control.description, shown))
        return rows

    def _alt_text(self, image):
        return next((alt for im, alt in self.static_figures() if im is image), image.widget.alt)

    def static_html(self):
        import base64

        settings = self.static_settings()
        listed = ", with the settings listed below" if settings else ""
        parts = [
            '<div class="bp-widget-static-box">',
            f'<p class="bp-widget-static-note"><strong>A picture of the {html.escape(self.title)}.</strong> '
            f"Without a running Python kernel nothing here can move: this is the explorer as it starts{listed}. "
            f'<a class="bp-open-live" href="{LIVE_HREF}">Open this chapter live</a> '
            "(Binder) to move its controls, or run <code>make lab</code> on your machine.</p>",
        ]
        for image, alt in self.static_figures():
            image.widget.alt = alt  # the live picture says the same, and keeps saying it after each redraw
            image.describe = lambda image=image: self._alt_text(image)
            mime = "image/jpeg" if image.format == "jpeg" else "image/png"
            data = base64.b64encode(image.widget.value).decode("ascii")
            parts.append(f'<img class="bp-widget-static" src="data:{mime};base64,{data}" alt="{html.escape(alt)}">')
        if settings:
            rows = [[name, value] for name, value in settings]
            parts.append('<div class="bp-widget-static-settings">'
                         + table(["setting", "value"], rows, css_class="bp-table bp-settings") + "</div>")
        parts += [f'<div class="bp-widget-static-table">{t}</div>' for t in self.static_tables()]
        parts.append("</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        data["text/html"] = self.static_html()
        return data


def fmt(value, digits=5):
    """The one number format of every explorer table (tests parse it back)."""
    return f"{value:+.{digits}f}"


STEP = 0.05


def snap(value, step=STEP):
    """``value`` on the slider grid: a browser snaps off-grid values and would send them back, so the
    live explorer would start from other numbers than the static page shows."""
    import numpy as np

    return np.round(np.asarray(value, dtype=float) / step) * step


def slider(description, value, low=-3.0, high=3.0, step=STEP, *, kind="float", width="290px", readout_format=None,
           description_width="56px"):
    """The one slider of every explorer (an accessible range input, see ``_slider``), named ``description``
    as the book writes it.  ``kind="float"`` starts ``value`` on the grid of ``step`` (see :func:`snap`);
    ``"int"`` is an integer slider; ``"log"`` a slider of ``10 ** e`` with ``low``, ``high``, ``step`` exponents."""
    from . import _slider

    common = dict(description=description, min=low, max=high, step=step, description_width=description_width,
                  layout=widgets.Layout(width=width))
    if kind == "float":
        return _slider.FloatSlider(value=round(float(snap(value, step)), 10), readout_format=readout_format or ".2f",
                                   **common)
    if kind == "int":
        return _slider.IntSlider(value=value, readout_format=readout_format or "d", **common)
    if kind == "log":
        # the value is kept as given (η = 0.3 stays 0.3; the range input shows it at the nearest grid point and
        # sends nothing back until a key or the mouse moves it, unlike ipywidgets' log slider, which snapped it)
        return _slider.LogSlider(value=value, base=10, readout_format=readout_format or ".2f", **common)
    raise ValueError(f"slider {description!r}: kind must be 'float', 'int' or 'log', got {kind!r}")


def row(children, *classes):
    """Children side by side that wrap onto the next line when the screen is narrow (no scroll box)."""
    box = widgets.HBox(children, layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
    for name in ("bp-row",) + classes:
        box.add_class(name)
    return box


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
