"""The backward sweep (issue 15 item 2): every number it substitutes into an equation equals an independent
computation — a forward pass written as Python loops over neurons, bp.per_neuron's backward loops and
central differences — and each stage lights the layer it is about."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import bpkit as bp

W = pytest.importorskip("bpkit.widgets")
from bpkit.widgets import sweep as sweep_mod  # noqa: E402

DERIV = {"sigmoid": lambda z: (1 / (1 + math.exp(-z))) * (1 - 1 / (1 + math.exp(-z))),
         "tanh": lambda z: 1 - math.tanh(z) ** 2}
VALUE = {"sigmoid": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh}


def oracle(net, x, t, loss):
    """Every named number of the sweep, without bpkit's vectorised pass."""
    out = {}
    a = [float(v) for v in x]
    for p, v in enumerate(a):
        out[f"x[{p}]"] = v
    for v, tv in enumerate(t):
        out[f"t[{v}]"] = float(tv)
    for l, layer in enumerate(net.layers):
        f = layer.activation.name
        z = [bp.per_neuron.neuron_forward(a, layer.W.tolist(), q, float(layer.b[q])) for q in range(layer.n_out)]
        a = [VALUE[f](zq) for zq in z]
        for q in range(layer.n_out):
            out[f"z[{l},{q}]"], out[f"a[{l},{q}]"], out[f"fprime[{l},{q}]"] = z[q], a[q], DERIV[f](z[q])
            out[f"b[{l},{q}]"] = float(layer.b[q])
            for p in range(layer.n_in):
                out[f"w[{l},{p},{q}]"] = float(layer.W[p, q])
    twin = copy.deepcopy(net)
    value, grads = bp.per_neuron.loss_and_grads(twin, x[None, :], t[None, :], loss=loss)
    numeric = bp.numerical_grads(copy.deepcopy(net), x[None, :], t[None, :], loss=loss)
    out["loss"] = value
    for l, layer in enumerate(twin.layers):
        for q in range(layer.n_out):
            out[f"delta[{l},{q}]"] = float(layer.delta[0, q])
            out[f"db[{l},{q}]"] = float(grads[f"{l}.b"][q])
            assert grads[f"{l}.b"][q] == pytest.approx(numeric[f"{l}.b"][q], abs=1e-8)
            for p in range(layer.n_in):
                out[f"dW[{l},{p},{q}]"] = float(grads[f"{l}.W"][p, q])
                assert grads[f"{l}.W"][p, q] == pytest.approx(numeric[f"{l}.W"][p, q], abs=1e-8)
    return out


def check_every_stage(sw):
    want = oracle(sw.explorer.net, sw.explorer.X[sw.sample], sw.explorer.T[sw.sample], sw.explorer.loss_name)
    seen = set()
    for i in range(len(sw.stages)):
        sw.go(i)
        shown = sw.displayed()
        for name, value in shown.items():
            assert name in want, f"stage {sw.stage} shows an unknown number {name}"
            assert value == pytest.approx(want[name], rel=6e-6, abs=1e-12), f"stage {sw.stage}: {name}"
        seen |= set(shown)
    return want, seen


@pytest.mark.parametrize("sizes, kwargs", [
    ((2, 2, 1), {}),
    ((2, 2, 2, 1), {}),
    ((2, 3, 2), {"activation": "tanh"}),
    ((2, 3, 1), {"loss": "bce", "seed": 3}),
])
def test_every_substituted_number_equals_the_loops(sizes, kwargs):
    sw = W.BackpropSweep(sizes=sizes, **kwargs)
    sw.explorer.set("0.W[0,1]", 1.35)
    want, seen = check_every_stage(sw)
    # every z, a, δ and gradient of the network appears in some stage
    assert {k for k in want if k.split("[")[0] in ("z", "a", "delta", "dW", "db")} <= seen


def test_the_sweep_follows_the_explorer_and_a_data_sample():
    ex = W.NetworkExplorer((2, 3, 1), data=bp.data.xor(), loss="bce", lr=3.0, seed=3)
    sw = W.BackpropSweep(ex, sample=2)
    ex.step(n=10)  # the sweep shows the trained network
    check_every_stage(sw)
    with pytest.raises(ValueError, match="sample must be a row"):
        W.BackpropSweep(ex, sample=4)


def test_the_check_fails_on_a_wrong_hidden_delta(monkeypatch):
    """Perturb the hidden-δ equation (drop f′): the comparison must raise."""
    sw = W.BackpropSweep(sizes=(2, 2, 1))
    original = sweep_mod.Pass.__init__

    def wrong(self, *args, **kw):
        original(self, *args, **kw)
        self.delta[0] = self.delta[0] / self.fprime[0]

    monkeypatch.setattr(sweep_mod.Pass, "__init__", wrong)
    with pytest.raises(AssertionError, match="delta\\[0"):
        check_every_stage(sw)


def test_stages_run_forward_then_back_and_light_their_layer():
    sw = W.BackpropSweep(sizes=(2, 2, 2, 1))
    assert sw.stages == [("start",), ("forward", 0), ("forward", 1), ("forward", 2), ("output",),
                         ("hidden", 1), ("hidden", 0), ("grad", 2), ("grad", 1), ("grad", 0)]
    d = sw.drawing
    sw.go(5)  # hidden δ of layer 2 from the output's δ
    assert "eq-hidden-delta" in sw.equation.value and "hidden-delta.html#" in sw.equation.value
    lit = {e for e, line in d.edges.items() if line.get_alpha() == 1.0}
    assert lit == {e for e in d.edges if e[0] == 2}
    ringed = {n for n, c in d.nodes.items() if c.get_linewidth() == 3.0}
    assert ringed == {(2, 0), (2, 1), (3, 0)}
    # δ of layer 1 is not known yet: its nodes are white, the layer-2 nodes are coloured
    assert d.nodes[(1, 0)].get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert d.nodes[(2, 0)].get_facecolor()[:3] != (1.0, 1.0, 1.0)
    sw.go(100)
    assert sw.index == len(sw.stages) - 1 and sw.next_button.disabled
    sw.back_button.click()
    assert sw.index == len(sw.stages) - 2
    sw.restart_button.click()
    assert sw.index == 0 and sw.back_button.disabled


def test_one_colour_scale_and_the_log_option_show_vanishing_delta():
    sw = W.BackpropSweep(sizes=(2, 2, 2, 2, 2, 1))
    sw.go(len(sw.stages) - 1)
    ps, d = sw.ps, sw.drawing
    first, last = np.abs(ps.delta[0]).max(), np.abs(ps.delta[-1]).max()
    assert first < 0.05 * last  # δ shrinks with depth
    grey = np.array(sweep_mod.CMAP(0.5)[:3])

    def distance(node):
        return float(np.linalg.norm(np.array(d.nodes[node].get_facecolor()[:3]) - grey))

    # linear, one scale: the first layer's nodes are (almost) the neutral colour, the output's are not
    assert distance((1, 0)) < 0.05 < distance((5, 0))
    sw.log_box.value = True
    assert distance((1, 0)) > 0.2  # on the log scale the small δ are visible
    assert sw.drawing.image.widget.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "largest |δ| by layer" in sw.scale.value


def test_start_at_a_stage():
    assert W.BackpropSweep(sizes=(2, 2, 2, 1), start="hidden").stage == ("hidden", 1)
    assert W.BackpropSweep(sizes=(2, 2, 1), start="output").stage == ("output",)
    with pytest.raises(ValueError, match="start must be"):
        W.BackpropSweep(sizes=(2, 2, 1), start="hiden")


def test_bad_loss_is_a_clear_error():
    ex = W.NetworkExplorer((2, 2, 2))
    ex.loss_name = "softmax_ce"
    with pytest.raises(ValueError, match="'mse' or 'bce'"):
        W.BackpropSweep(ex)


def test_equation_links_point_at_the_chapter_that_labels_the_equation():
    from pathlib import Path

    chapters = Path(__file__).resolve().parents[1] / "chapters"
    for href, _text in sweep_mod.EQUATIONS.values():
        page, anchor = href.split("#")
        label = anchor.removeprefix("equation-")
        source = (chapters / page.replace(".html", ".md")).read_text(encoding="utf-8")
        assert f"$$ ({label})" in source, f"{href}: {page} does not label {label}"
