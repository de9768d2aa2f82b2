"""Step through the scalar engine on the graph of the 2-2-1 network: the forward pass node by node in
topological order, then each node's grad in reverse topological order, the current node highlighted.

The graph is :func:`bpkit.scalar.network_loss` of ``bp.mlp([2, 2, 1])`` for one sample; the numbers are the
engine's own (``Value.data`` and, after :meth:`~bpkit.scalar.Value.backward`, ``Value.grad``).  A node's grad
is shown from the step at which the reverse sweep reaches it: by then every node that uses it has passed its
share on, so the number shown is final (equation :eq:`eq-graph-backward`).
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Circle

from ..network import mlp
from ..scalar import graph_layout, network_loss
from ._common import fmt, slider, snap, table
from ._render import FigureImage, new_figure
from .chapters import _Explorer

HIGHLIGHT = "#d55e00"
FORWARD_FILL, BACKWARD_FILL, LEAF_FILL, WAITING_FILL = "#cfe2f3", "#fce5cd", "0.88", "white"
OP_NAMES = {"+": "+", "*": "×", "-": "−", "neg": "−", "**2": "( )²", "sigmoid": "σ", "tanh": "tanh", "relu": "ReLU",
            "identity": "id", "exp": "exp"}


def display_name(label):
    """The chapter's names for the 2-2-1 graph: w_pq (hidden weights), b_q, v_q (output weights), c, z, h, o."""
    if m := re.fullmatch(r"w0_(\d)(\d)", label):
        return f"w{int(m[1]) + 1}{int(m[2]) + 1}"
    if m := re.fullmatch(r"w1_(\d)0", label):
        return f"v{int(m[1]) + 1}"
    if m := re.fullmatch(r"b0_(\d)", label):
        return f"b{int(m[1]) + 1}"
    if label == "b1_0":
        return "c"
    if m := re.fullmatch(r"z0_(\d)", label):
        return f"z{int(m[1]) + 1}"
    if m := re.fullmatch(r"a0_(\d)", label):
        return f"h{int(m[1]) + 1}"
    return {"z1_0": "z3", "a1_0": "o"}.get(label, label)


class GraphExplorer(_Explorer):
    """The scalar engine's forward and reverse sweep on the 2-2-1 sigmoid network, one node per step.

    Steps 0 … n−1 compute the nodes in topological order (leaves are given, operations computed from
    their parents); steps n … 2n−1 visit them in reverse and show each one's grad ∂L/∂node.  ``w11`` is the
    hidden weight w₁₁ (a slider); ``x`` the sample, ``t`` its target.  ``step``: the step to start at, or a
    node's name ("z3", "h1", "w11", …) to start where the reverse sweep reaches that node (default: the seed
    ∂L/∂L = 1).
    """

    title = "graph explorer"

    def __init__(self, step=None, x=(0.5, -0.3), t=0.3, seed=0):
        self.net = mlp([2, 2, 1], activation="sigmoid", seed=seed)
        self.x = np.asarray([x], dtype=float)
        self.t = np.asarray([[t]], dtype=float)
        if self.x.shape != (1, 2):
            raise ValueError(f"GraphExplorer(x=...): the 2-2-1 network takes two inputs; got x={x!r}")
        self.net.layers[0].W[0, 0] = float(snap(self.net.layers[0].W[0, 0]))  # on the slider's grid
        self._graph()
        n = len(self.order)
        names = [self.node_name(v) for v in self.order]
        if isinstance(step, str):              # a node's name: the backward step that reaches it
            if step not in names:
                raise ValueError(f"GraphExplorer(step=...): no node named {step!r}; the nodes are {sorted(set(names))}")
            step = 2 * n - 1 - names.index(step)
        start = n if step is None else step
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < 2 * n:
            raise ValueError(f"GraphExplorer(step=...): a step 0…{2 * n - 1} ({n} nodes, forward then backward); "
                             f"got {step!r}")
        self.sliders = {"step": slider("step", start, low=0, high=2 * n - 1, step=1),
                        "w11": slider("w₁₁", float(self.net.layers[0].W[0, 0]))}
        self.sliders["step"].readout_format = "d"
        self.back_button = widgets.Button(description="◀ back", tooltip="previous step", layout=widgets.Layout(width="90px"))
        self.next_button = widgets.Button(description="next ▶", tooltip="next step", layout=widgets.Layout(width="90px"))
        self.back_button.on_click(lambda _b: self.move(-1))
        self.next_button.on_click(lambda _b: self.move(+1))
        self._figure()
        self.detail = widgets.HTML()
        self._build(list(self.sliders.values()) + [widgets.HBox([self.back_button, self.next_button])], self.image.widget,
                    [self.detail])

    # -- the graph and its numbers --------------------------------------------------------------------
    def _graph(self):
        self.loss, self.params = network_loss(self.net, self.x, self.t)
        self.loss.backward()
        self.order, self.pos = graph_layout(self.loss)
        self.index = {id(v): i for i, v in enumerate(self.order)}
        self.users = {id(v): [] for v in self.order}
        for u in self.order:
            for p in u.parents:
                self.users[id(p)].append(u)

    def node_name(self, v):
        if v.label:
            return display_name(v.label)
        return OP_NAMES.get(v.op, v.op) if v.parents else f"{v.data:g}"

    def current(self):
        """``(phase, node, visited)`` of the current step: phase "forward" or "backward", the node, and the
        set of ids of the nodes computed (forward) or whose grad is final (backward) so far, itself included."""
        k, n = int(round(self.sliders["step"].value)), len(self.order)
        if k < n:
            return "forward", self.order[k], {id(v) for v in self.order[:k + 1]}
        r = k - n
        return "backward", self.order[n - 1 - r], {id(v) for v in self.order[n - 1 - r:]}

    def move(self, by):
        s = self.sliders["step"]
        s.value = min(max(s.value + by, s.min), s.max)

    # -- the drawing ------------------------------------------------------------------------------------
    def _figure(self):
        self.fig = new_figure(8.6, 3.8)
        ax = self.fig.add_axes([0.01, 0.01, 0.98, 0.98])
        xs, ys = zip(*self.pos.values())
        ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
        ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
        ax.axis("off")
        segments = [(self.pos[id(p)], self.pos[id(v)]) for v in self.order for p in v.parents]
        ax.add_collection(LineCollection(segments, colors="0.7", linewidths=0.8, zorder=1))
        self.hot = LineCollection([], colors=HIGHLIGHT, linewidths=2.4, zorder=2)
        ax.add_collection(self.hot)
        self.circles = []                                # by position in the order (the same for every w₁₁)
        for v in self.order:
            circle = Circle(self.pos[id(v)], 0.3, facecolor=WAITING_FILL, edgecolor="0.25", lw=0.9, zorder=3)
            ax.add_patch(circle)
            self.circles.append(circle)
        self.texts = [ax.text(*self.pos[id(v)], self.node_name(v), ha="center", va="center", fontsize=7.5, zorder=5)
                      for v in self.order]
        self.ax = ax
        self.image = FigureImage(self.fig)
        self.image.animate(self.hot, *self.circles, *self.texts)

    def refresh(self):
        w11 = self.sliders["w11"].value
        if self.net.layers[0].W[0, 0] != w11:
            self.net.layers[0].W[0, 0] = w11
            self._graph()
        phase, node, visited = self.current()
        fill = FORWARD_FILL if phase == "forward" else BACKWARD_FILL
        for v, c in zip(self.order, self.circles):
            if phase == "forward" and not v.parents and id(v) in visited:
                c.set_facecolor(LEAF_FILL)
            else:
                c.set_facecolor(fill if id(v) in visited else WAITING_FILL)
            c.set_edgecolor(HIGHLIGHT if v is node else "0.25")
            c.set_linewidth(3.0 if v is node else 0.9)
        # forward: the edges the node is computed from; backward: the edges its grad arrives along
        others = node.parents if phase == "forward" else self.users[id(node)]
        self.hot.set_segments([(self.pos[id(u)], self.pos[id(node)]) for u in others])
        self.image.refresh()
        self._tables(phase, node)

    def _tables(self, phase, node):
        n = len(self.order)
        k = int(round(self.sliders["step"].value))
        name = self.node_name(node)
        if phase == "forward":
            if node.parents:
                rule = f"{name} = {OP_NAMES.get(node.op, node.op)}(" + ", ".join(self.node_name(p) for p in node.parents) + ")"
            else:
                rule = f"{name}: a leaf (given)"
        else:
            parts = [f"{self.node_name(u)}.grad × ∂{self.node_name(u)}/∂{name}" for u in self.users[id(node)]]
            rule = f"∂L/∂{name} = " + (" + ".join(parts) if parts else "1 (the seed: ∂L/∂L)")
        rows = [["step", (f"{k}", "step"), f"of {2 * n} ({n} nodes)"],
                ["phase", phase, "topological order" if phase == "forward" else "reverse topological order"],
                ["node", name, rule],
                ["value", (fmt(node.data, 6), "value"), ""]]
        if phase == "backward":
            rows.append(["grad ∂L/∂node", (fmt(node.grad, 6), "grad"), ""])
        self.table.value = table(["", "", ""], rows)
        _, _, visited = self.current()
        leaves = [v for v in self.order if v.label and re.fullmatch(r"[wb]\d_\d+", v.label)]
        params = []
        for v in leaves:
            shown = phase == "backward" and id(v) in visited
            label = display_name(v.label)
            params.append([label, (fmt(v.data, 6), f"value[{label}]"),
                           (fmt(v.grad, 6), f"grad[{label}]") if shown else "—"])
        self.detail.value = ('<div class="bp-graph-params">'
                             + table(["parameter", "value", "∂L/∂ (when reached)"], params) + "</div>")

    def displayed(self):
        text = self.table.value + self.detail.value
        return {html.unescape(name): float(value)
                for name, value in re.findall(r'data-name="([^"]+)">([+-]?[0-9.]+)', text)}

    # -- the static picture -----------------------------------------------------------------------------
    def static_settings(self):
        return [("step", str(int(round(self.sliders["step"].value)))), ("w₁₁", f"{self.sliders['w11'].value:.2f}")]

    def static_tables(self):
        return [self.table.value, self.detail.value]

    def static_figures(self):
        phase, node, visited = self.current()
        done = "computed" if phase == "forward" else "with their final grad"
        return [(self.image, f"The computational graph of the 2-2-1 sigmoid network for one sample ({len(self.order)} "
                             f"nodes, leaves on the left, the loss L on the right) during the {phase} sweep: node "
                             f"{self.node_name(node)} is outlined in orange, "
                             + (f"the {len(visited)} nodes {done} so far are filled" if len(visited) > 1
                                else f"the one node {done} so far is filled") + ", and the orange edges are the ones the current step "
                             f"{'reads' if phase == 'forward' else 'receives grads along'}.")]
