"""The network as an SVG whose edges (weights) and neurons (biases) are controls: click one, or reach it with
the keyboard and press Enter, and the kernel is told which parameter was chosen.

An anywidget (its front end is the small ES module below, inline: nothing is loaded from a CDN).  The
picture itself is made here, in Python (:func:`network_svg`), so that the static website shows the same
drawing as a picture without controls.  Each control is an SVG group with ``role="button"``, an
``aria-label`` that reads its value and gradient (``w⁽²⁾₁₃ = +0.41200, ∂J/∂w = −0.01234``) and
``aria-pressed`` for the one chosen.  One of them is in the Tab order at a time; the arrow keys move
between them (a "roving tabindex"), so that a network of 200 weights is one Tab stop.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import traitlets

try:
    import anywidget
except ImportError:  # pragma: no cover - bpkit[widgets] installs it; without it the drawing is a picture
    anywidget = None

from ._common import fmt
from .explorer import param_label
from .network_view import node_name

POSITIVE, NEGATIVE = "#2166ac", "#d6604d"  # weight > 0 blue, < 0 orange-red (TensorFlow Playground's sense)

ESM = """
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "bp-netpick";
  el.appendChild(box);
  let current = null;  // the key of the control in the Tab order (the one last focused or chosen)
  const controls = () => Array.from(box.querySelectorAll("[data-key]"));
  function draw() {
    const focused = box.contains(document.activeElement);
    box.innerHTML = model.get("svg");
    const all = controls();
    const chosen = model.get("selected");
    let stop = all.find(e => e.dataset.key === current) || all.find(e => e.dataset.key === chosen) || all[0];
    all.forEach(e => e.setAttribute("tabindex", e === stop ? "0" : "-1"));
    if (focused && stop) stop.focus();
  }
  function choose(e) {
    current = e.dataset.key;
    model.set("selected", e.dataset.key);
    model.save_changes();
  }
  box.addEventListener("click", ev => {
    const e = ev.target.closest("[data-key]");
    if (e) { current = e.dataset.key; e.focus(); choose(e); }
  });
  box.addEventListener("focusin", ev => {
    const e = ev.target.closest("[data-key]");
    if (e) current = e.dataset.key;
  });
  box.addEventListener("keydown", ev => {
    const e = ev.target.closest("[data-key]");
    if (!e) return;
    if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(e); return; }
    const all = controls();
    const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -all.length, End: all.length};
    if (!(ev.key in moves)) return;
    ev.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, all.indexOf(e) + moves[ev.key]))];
    e.setAttribute("tabindex", "-1");
    next.setAttribute("tabindex", "0");
    current = next.dataset.key;
    next.focus();
  });
  model.on("change:svg", draw);
  model.on("change:selected", draw);
  draw();
}
export default { render };
"""

CSS = """
.bp-netpick svg { max-width: 100%; height: auto; display: block; }
.bp-netpick [data-key] { cursor: pointer; }
.bp-netpick [data-key]:focus { outline: none; }
.bp-netpick [data-key]:focus .bp-hit { stroke: #f0b400; stroke-opacity: 0.85; }
.bp-netpick [data-key]:focus circle { stroke: #f0b400; stroke-width: 4; }
.bp-netpick [data-key]:hover .bp-hit { stroke: #888; stroke-opacity: 0.35; }
"""


if anywidget is not None:
    class NetworkPicker(anywidget.AnyWidget):
        """``svg``: the drawing (from :func:`network_svg`); ``selected``: the key of the chosen parameter
        (``"1.W[0,2]"``, ``"0.b[1]"``), set by a click or Enter in the browser."""

        _esm = ESM
        _css = CSS
        svg = traitlets.Unicode("").tag(sync=True)
        selected = traitlets.Unicode("").tag(sync=True)
        interactive = True
else:  # pragma: no cover
    class NetworkPicker(widgets.HTML):
        """Without anywidget: the same drawing as a picture (the dropdown chooses the parameter)."""

        svg = traitlets.Unicode("")
        selected = traitlets.Unicode("")
        interactive = False

        @traitlets.observe("svg")
        def _show(self, change):
            self.value = change["new"]


def gradient_label(key, value, grad):
    """``w⁽²⁾₁₃ = +0.41200, ∂J/∂w = -0.01234`` (a bias: ``∂J/∂b``): what a screen reader reads for a control."""
    kind = "w" if ".W[" in key else "b"
    return f"{param_label(key)} = {fmt(value)}, ∂J/∂{kind} = {fmt(grad)}"


def network_svg(net, grads, selected=None, interactive=True, width=None, height=None):
    """The network as SVG markup: edge width |w|, edge colour the sign of w, the chosen parameter ringed.

    ``interactive``: every weight and every bias is a named control (``role="button"``, ``data-key``);
    otherwise the drawing is one picture (``role="img"`` with a description) for a page without a kernel.
    """
    sizes = net.sizes
    L = len(sizes) - 1
    gap_x, gap_y, pad, r = 92.0, 34.0, 24.0, 11.0
    top = max(sizes)
    W_px = width or pad * 2 + gap_x * L
    H_px = height or pad * 2 + gap_y * (top - 1)

    def pos(l, q):
        offset = (top - sizes[l]) / 2
        return pad + gap_x * l, pad + gap_y * (offset + q)

    wmax = max(float(np.abs(layer.W).max()) for layer in net.layers) or 1.0
    parts = []
    for l, layer in enumerate(net.layers):
        for p in range(layer.n_in):
            for q in range(layer.n_out):
                key = f"{l}.W[{p},{q}]"
                w, g = float(layer.W[p, q]), float(grads[f"{l}.W"][p, q])
                (x0, y0), (x1, y1) = pos(l, p), pos(l + 1, q)
                line = f'x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}"'
                colour = POSITIVE if w >= 0 else NEGATIVE
                stroke = 0.6 + 4.4 * min(abs(w) / wmax, 1.0)
                chosen = key == selected
                visible = (f'<line {line} stroke="#111" stroke-width="{stroke + 4:.2f}" stroke-linecap="round"/>'
                           if chosen else "")
                visible += (f'<line {line} stroke="{colour}" stroke-width="{stroke:.2f}" stroke-linecap="round" '
                            f'stroke-opacity="{1.0 if chosen else 0.8}"/>')
                if interactive:
                    label = html.escape(gradient_label(key, w, g), quote=True)
                    parts.append(f'<g class="bp-edge" data-key="{key}" role="button" tabindex="-1" '
                                 f'aria-pressed="{"true" if chosen else "false"}" aria-label="{label}">'
                                 f'<line class="bp-hit" {line} stroke="transparent" stroke-width="12" '
                                 f'stroke-linecap="round" pointer-events="stroke"/>{visible}</g>')
                else:
                    parts.append(visible)
    for l in range(L + 1):
        for q in range(sizes[l]):
            x, y = pos(l, q)
            name = html.escape(node_name(l, q, L))
            key = f"{l - 1}.b[{q}]" if l > 0 else None
            chosen = key is not None and key == selected
            circle = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{"#eee" if l == 0 else "white"}" '
                      f'stroke="{"#111" if chosen else "#333"}" stroke-width="{3 if chosen else 1.2}"/>')
            text = (f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="10" text-anchor="middle" '
                    f'font-family="sans-serif" pointer-events="none">{name}</text>')
            if interactive and key is not None:
                b, g = float(net.layers[l - 1].b[q]), float(grads[f"{l - 1}.b"][q])
                label = html.escape(f"{name}: " + gradient_label(key, b, g), quote=True)
                parts.append(f'<g class="bp-node" data-key="{key}" role="button" tabindex="-1" '
                             f'aria-pressed="{"true" if chosen else "false"}" aria-label="{label}">{circle}{text}</g>')
            else:
                parts.append(f'<g aria-hidden="true">{circle}{text}</g>' if interactive else circle + text)
    if interactive:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W_px:.0f} {H_px:.0f}" width="{W_px:.0f}" '
                f'height="{H_px:.0f}" role="group" aria-label="the network: choose a weight (an edge) or a bias '
                f'(a neuron) to see its gradient; arrow keys move between them">')
    else:
        sizes_text = "-".join(str(n) for n in sizes)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W_px:.0f} {H_px:.0f}" width="{W_px:.0f}" '
                f'height="{H_px:.0f}" role="img" aria-label="The {sizes_text} network: edge width shows |w|, blue '
                f'for a positive weight, orange for a negative one.">')
    return head + "".join(parts) + "</svg>"
