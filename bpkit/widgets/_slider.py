"""The explorers' slider: a native ``<input type="range">`` named by its ``<label for>`` (anywidget, inline ESM).

ipywidgets 8 draws its sliders with noUiSlider: the description is a separate label and the handle
(role=slider) has no accessible name, so a screen reader hears "slider" 49 times on hidden-delta.  This
slider is a browser's own range input: its accessible name is the parameter's name as the book writes it
(``w⁽¹⁾₂₁``), ``aria-valuetext`` reads its value as shown, and the arrow keys, Page Up/Down, Home and End
move it.  Its front end is a few lines of JavaScript sent with the widget (anywidget's ``_esm``), so it
works offline in JupyterLab and Voila (anywidget's labextension is installed with the package); nothing
is fetched from a CDN.

The Python side keeps the API of ipywidgets' sliders that the explorers use: ``value``, ``min``, ``max``,
``step``, ``description``, ``readout_format``, ``continuous_update``, ``layout``, ``observe(fn, "value")``.
A value outside ``[min, max]`` is clipped, as ipywidgets does.  The browser shows an off-grid value on
the nearest grid point but never sends it back: only a reader's move is sent.
"""

from __future__ import annotations

import math

import anywidget
import traitlets

ESM = r"""
let count = 0;
function fmt(value, format) {
  const m = /\.(\d+)([fe])$/.exec(format || "");
  if (m) return m[2] === "f" ? value.toFixed(+m[1]) : value.toExponential(+m[1]);
  return String(value);
}
function render({ model, el }) {
  const id = "bp-slider-" + Math.random().toString(36).slice(2, 8) + "-" + (count++);
  el.classList.add("bp-slider");
  const label = document.createElement("label");
  label.className = "bp-slider-label";
  label.htmlFor = id;
  const input = document.createElement("input");
  input.type = "range";
  input.id = id;
  input.className = "bp-slider-input";
  // JupyterLab's command-mode shortcuts (the arrow keys among them, matched from the focused element up)
  // would take the keys meant for the slider
  input.setAttribute("data-lm-suppress-shortcuts", "true");
  const readout = document.createElement("output");
  readout.className = "bp-slider-readout";
  readout.setAttribute("for", id);
  readout.setAttribute("aria-hidden", "true");  // the slider's aria-valuetext says the same
  el.append(label, input, readout);
  const kind = () => model.get("kind");
  const base = () => model.get("base");
  const toInput = v => kind() === "log" ? Math.log(v) / Math.log(base()) : v;
  const fromInput = s => {
    const x = parseFloat(s);
    if (kind() === "int") return Math.round(x);
    if (kind() === "log") return Math.pow(base(), x);
    return x;
  };
  const show = value => {
    const text = fmt(value, model.get("readout_format"));
    readout.textContent = text;
    input.setAttribute("aria-valuetext", text);
  };
  const sync = () => {
    label.textContent = model.get("description");
    label.style.width = model.get("description_width");
    input.min = String(model.get("min"));
    input.max = String(model.get("max"));
    input.step = String(model.get("step"));
    input.value = String(toInput(model.get("value")));
    input.disabled = model.get("disabled");
    show(model.get("value"));
  };
  const send = () => {
    const value = fromInput(input.value);
    show(value);
    if (value !== model.get("value")) {
      model.set("value", value);
      model.save_changes();
    }
  };
  input.addEventListener("input", () => model.get("continuous_update") ? send() : show(fromInput(input.value)));
  input.addEventListener("change", send);
  model.on("change", sync);
  sync();
  return () => model.off("change", sync);
}
export default { render };
"""

CSS = r"""
.bp-slider { display: flex; align-items: center; gap: 6px; min-height: 28px; box-sizing: border-box; }
.bp-slider .bp-slider-label { flex: none; text-align: right; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; font-size: var(--jp-widgets-font-size, 13px); color: var(--jp-widgets-label-color, inherit); }
.bp-slider .bp-slider-input { flex: 1 1 auto; min-width: 60px; margin: 0; accent-color: #1a6ab0; }
.bp-slider .bp-slider-input:focus-visible { outline: 2px solid #1a6ab0; outline-offset: 2px; }
.bp-slider .bp-slider-readout { flex: none; min-width: 3.6em; font-family: monospace;
  font-size: var(--jp-widgets-font-size, 13px); color: var(--jp-widgets-readout-color, inherit); }
"""


class _Slider(anywidget.AnyWidget):
    _esm = ESM
    _css = CSS
    kind = traitlets.Unicode("float").tag(sync=True)
    base = traitlets.Float(10.0).tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    description_width = traitlets.Unicode("").tag(sync=True)
    readout_format = traitlets.Unicode(".2f").tag(sync=True)
    continuous_update = traitlets.Bool(True).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs):
        value = kwargs.pop("value", None)
        super().__init__(**kwargs)
        if self.min > self.max:
            raise ValueError(f"slider {self.description!r}: min must be ≤ max, got min={self.min}, max={self.max}")
        if not self.step > 0:
            raise ValueError(f"slider {self.description!r}: step must be > 0, got {self.step}")
        if value is not None:
            self.value = value
        else:
            self.value = self._bounds()[0]
        self.observe(lambda _change: self._clip(), names=["min", "max"])

    def _bounds(self):
        return self.min, self.max

    def _clip(self):
        low, high = self._bounds()
        if not low <= self.value <= high:
            self.value = min(max(self.value, low), high)

    @traitlets.validate("value")
    def _valid_value(self, proposal):
        value = proposal["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise traitlets.TraitError(f"slider {self.description!r}: value must be a finite number, got {value!r}")
        low, high = self._bounds()
        return min(max(value, low), high)


class FloatSlider(_Slider):
    """A float in ``[min, max]`` on a grid of ``step``."""

    value = traitlets.CFloat(0.0).tag(sync=True)
    min = traitlets.CFloat(0.0).tag(sync=True)
    max = traitlets.CFloat(1.0).tag(sync=True)
    step = traitlets.CFloat(0.1).tag(sync=True)


class IntSlider(_Slider):
    """An integer in ``[min, max]``."""

    kind = traitlets.Unicode("int").tag(sync=True)
    value = traitlets.CInt(0).tag(sync=True)
    min = traitlets.CInt(0).tag(sync=True)
    max = traitlets.CInt(10).tag(sync=True)
    step = traitlets.CInt(1).tag(sync=True)
    readout_format = traitlets.Unicode("d").tag(sync=True)


class LogSlider(_Slider):
    """A positive float ``base ** e`` with the exponent e in ``[min, max]`` on a grid of ``step`` (as
    ipywidgets' FloatLogSlider: ``min``, ``max`` and ``step`` are exponents, ``value`` is not)."""

    kind = traitlets.Unicode("log").tag(sync=True)
    value = traitlets.CFloat(1.0).tag(sync=True)
    min = traitlets.CFloat(-2.0).tag(sync=True)
    max = traitlets.CFloat(1.0).tag(sync=True)
    step = traitlets.CFloat(0.1).tag(sync=True)

    def _bounds(self):
        return self.base ** self.min, self.base ** self.max
