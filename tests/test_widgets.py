"""The explorers in the kernel: move sliders programmatically, compare what they display with bpkit and
with central differences (the browser side is tests/test_browser_widgets.py)."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import bpkit as bp

W = pytest.importorskip("bpkit.widgets")


def test_import_bpkit_does_not_load_widgets():
    import subprocess

    code = "import sys, bpkit; print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("sizes", [(2, 2, 1), (2, 2, 2), (2, 3, 2, 1)])
def test_network_explorer_shows_the_right_gradients(sizes):
    ex = W.NetworkExplorer(sizes)
    for key, value in [("0.W[0,1]", 1.35), ("x[1]", -0.8), (f"{len(sizes) - 2}.b[0]", -0.4), ("t[0]", 0.05)]:
        ex.set(key, value)
    shown = ex.displayed()
    net = bp.mlp(list(sizes), seed=0)
    for (name, p), (_, q) in zip(net.parameters(), ex.net.parameters()):
        p[...] = q
    X, T = ex.X.copy(), ex.T.copy()
    assert X[0, 1] == -0.8 and T[0, 0] == 0.05 and ex.net.layers[0].W[0, 1] == 1.35
    L, grads = net.loss_and_grads(X, T)
    numeric = bp.numerical_grads(net, X, T)
    assert shown["loss"] == pytest.approx(L, abs=6e-6)
    for l, layer in enumerate(net.layers):
        for p in range(layer.n_in):
            for q in range(layer.n_out):
                key = f"grad:{l}.W[{p},{q}]"
                assert shown[key] == pytest.approx(grads[f"{l}.W"][p, q], abs=6e-6), key
                assert shown[key] == pytest.approx(numeric[f"{l}.W"][p, q], abs=6e-6), key
        for q in range(layer.n_out):
            assert shown[f"grad:{l}.b[{q}]"] == pytest.approx(numeric[f"{l}.b"][q], abs=6e-6)
            assert shown[f"delta[{l},{q}]"] == pytest.approx(net.deltas[l][0, q], abs=6e-6)


def test_every_slider_changes_something():
    ex = W.NetworkExplorer((2, 2, 1))
    for key, s in ex.sliders.items():
        before = ex.displayed()
        ex.set(key, s.value + 0.5 if s.value + 0.5 <= s.max else s.value - 0.5)
        assert ex.displayed() != before, f"moving {key} changed nothing"


def test_gradient_steps_lower_the_loss_and_move_the_sliders():
    ex = W.NetworkExplorer((2, 2, 1), lr=1.0)
    w_before = ex.sliders["1.W[0,0]"].value
    g = ex.grads["1.W"][0, 0]
    ex.step()
    assert ex.sliders["1.W[0,0]"].value == pytest.approx(w_before - 1.0 * g, abs=1e-12)
    ex.step(n=10)
    assert len(ex.history) == 12
    assert ex.history[-1] < ex.history[0]
    assert ex.displayed()["loss"] == pytest.approx(ex.history[-1], abs=6e-6)


def test_fixed_data_explorer_trains_xor_down():
    ex = W.NetworkExplorer((2, 2, 1), data=bp.data.xor(), loss="bce", lr=2.0, seed=3)
    assert "x[0]" not in ex.sliders
    ex.step(n=10)
    assert ex.history[-1] < ex.history[0]


def test_landscape_arrow_is_the_negative_gradient():
    ex = W.NetworkExplorer((2, 2, 1))
    ls = W.LossLandscape(ex, "1.W[0,0]", "1.W[1,0]")
    ex.set("1.W[0,0]", 0.9)
    ga, gb = ex.grads["1.W"][0, 0], ex.grads["1.W"][1, 0]
    (x0, y0), (x1, y1) = ls.arrow.get_position(), ls.arrow.xy
    assert (x0, y0) == (0.9, ex.sliders["1.W[1,0]"].value)
    direction = np.array([x1 - x0, y1 - y0])
    assert np.allclose(direction / np.linalg.norm(direction), -np.array([ga, gb]) / np.hypot(ga, gb))
    # the landscape's grid matches the network's loss at the current point
    grid = W.landscape.grid_loss(ex.net, ex.X, ex.T, "mse", "1.W[0,0]", [0.9], "1.W[1,0]", [ex.sliders["1.W[1,0]"].value])
    assert grid[0, 0] == pytest.approx(ex.loss, rel=1e-12)


def test_output_delta_explorer_sign():
    e = W.OutputDeltaExplorer()
    e.set("z", 2.0)
    e.set("t", 0.1)
    shown = e.displayed()
    a = 1 / (1 + np.exp(-2.0))
    assert shown["a"] == pytest.approx(a, abs=6e-6)
    assert shown["delta_bce"] == pytest.approx(a - 0.1, abs=6e-6) and shown["delta_bce"] > 0
    assert shown["delta_mse"] == pytest.approx((a - 0.1) * a * (1 - a), abs=6e-6)
    e.set("t", 0.95)
    assert e.displayed()["delta_bce"] < 0


def test_chain_explorer_shared_factor():
    e = W.ChainExplorer()
    e.set("X1", 1.2)
    e.set("X2", 0.3)
    shown = e.displayed()
    h = 1e-6
    A = lambda x1, x2: np.sin(x1 * np.tanh(x2))  # noqa: E731
    assert shown["dA_dX1"] == pytest.approx((A(1.2 + h, 0.3) - A(1.2 - h, 0.3)) / (2 * h), abs=6e-6)
    assert shown["dA_dX2"] == pytest.approx((A(1.2, 0.3 + h) - A(1.2, 0.3 - h)) / (2 * h), abs=6e-6)
    assert abs(shown["reused"] - shown["dA_dX2"]) > 1e-3


def test_batch_explorer_mean_equals_batch_gradient():
    e = W.BatchExplorer()
    for m in (1, 3, 8):
        e.set("m", m)
        shown = e.displayed()
        assert shown["mean"] == pytest.approx(shown["batch"], abs=2e-5)
        _, g = e.net.loss_and_grads(e.X[:m], e.T[:m])
        assert shown["batch"] == pytest.approx(g["0.W"][0, 0], abs=6e-6)


def test_regularization_explorer_adds_lambda_w():
    e = W.RegularizationExplorer()
    e.set("w", 1.1)
    e.set("lam", 0.4)
    shown = e.displayed()
    assert shown["ds"] == pytest.approx(0.4 * 1.1, abs=6e-6)
    assert shown["dJ"] == pytest.approx(shown["dL"] + shown["ds"], abs=2e-5)
    net = e.net
    numeric = bp.numerical_grads(net, e.X, e.T, l2=0.4)
    assert shown["dJ"] == pytest.approx(numeric["1.W"][0, 0], abs=6e-6)
    e.set("half", False)
    assert e.displayed()["ds"] == pytest.approx(2 * 0.4 * 1.1, abs=6e-6)


def test_depth_explorer_plain_vanishes_residual_does_not():
    e = W.DepthExplorer()
    e.set("depth", 25)
    shown = e.displayed()
    assert shown["plain_first"] < 1e-8 * shown["plain_last"]
    assert shown["res_first"] > 1e6 * shown["plain_first"]


def test_forward_explorer_three_ways_agree():
    e = W.ForwardExplorer()
    e.set("W[1,0]", -2.2)
    shown = e.displayed()
    for q in range(2):
        assert shown[f"z_neuron[{q}]"] == shown[f"z_row[{q}]"] == shown[f"z_col[{q}]"]


def test_widgets_render_an_image():
    ex = W.NetworkExplorer((2, 2, 1))
    assert ex.drawing.image.widget.value[:8] == b"\x89PNG\r\n\x1a\n"
    ls = W.LossLandscape(ex)
    assert ls.image.widget.value[:3] == b"\xff\xd8\xff"  # JPEG


EXPLORERS = {
    "forward": lambda: W.ForwardExplorer(), "chain": lambda: W.ChainExplorer(),
    "output-delta": lambda: W.OutputDeltaExplorer(), "batch": lambda: W.BatchExplorer(),
    "regularization": lambda: W.RegularizationExplorer(), "depth": lambda: W.DepthExplorer(),
    "network": lambda: W.NetworkExplorer((2, 2, 2, 1)),
    "landscape": lambda: W.LossLandscape(W.NetworkExplorer((2, 2, 1))),
    "init": lambda: W.InitExplorer(width=8, depth=6),
    "sweep": lambda: W.BackpropSweep(sizes=(2, 2, 1), start="output"),
    "descent": lambda: W.DescentLandscape(W.NetworkExplorer((2, 2, 1))),
    "playground": lambda: W.Playground(n=60),
    "graph": lambda: W.GraphExplorer(),
}
WITHOUT_SLIDER_DICT = ("landscape", "sweep", "descent", "playground")  # their controls are their own attributes


@pytest.mark.parametrize("name", EXPLORERS)
def test_snapshot_is_the_live_state_as_a_picture(name):
    """Display gives the live view (for Lab/Voila) and text/html (for the website): the figures as images
    with alt text, every control's name and value, the tables, a note and the live link."""
    import base64
    import html as html_

    ex = EXPLORERS[name]()
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    page = bundle["text/html"]
    assert 'class="bp-widget-static-note"' in page and 'class="bp-open-live" href="#bp-open-live"' in page
    images = re.findall(r'<img class="bp-widget-static" src="data:image/(png|jpeg);base64,([^"]+)" alt="([^"]*)">', page)
    assert len(images) == len(ex.static_figures())
    for (kind, data, alt), (image, _) in zip(images, ex.static_figures()):
        assert base64.b64decode(data) == image.widget.value  # the picture is the state the widget shows
        assert len(html_.unescape(alt)) > 40
    for table_html in ex.static_tables():
        assert table_html in page
    for label, value in ex.static_settings():
        assert f">{html_.escape(label)}</td>" in page and f">{html_.escape(value)}</td>" in page
    if name not in WITHOUT_SLIDER_DICT:
        assert len(ex.static_settings()) >= len(ex.sliders) >= 1
        # move a control: the next snapshot shows the new value
        key, control = next(iter(ex.sliders.items()))
        new = control.value + (1 if isinstance(control.value, int) else 0.5)
        ex.set(key, min(new, control.max))
        assert f">{html_.escape(ex.static_settings()[0][1])}</td>" in ex._repr_mimebundle_()["text/html"]


def test_slider_names_are_the_book_s_names():
    ex = W.NetworkExplorer((2, 2, 2, 1))
    names = [s.description for s in ex.sliders.values()]
    assert names[:3] == ["x₁", "x₂", "t₁"] and "w⁽¹⁾₂₁" in names and "b⁽³⁾₁" in names
    assert W.RegularizationExplorer().sliders["w"].description == "w⁽²⁾₁₁"
    for make in EXPLORERS.values():
        e = make()
        for control in getattr(e, "sliders", {}).values():
            assert control.description.strip(), f"{type(e).__name__}: a control without a name"


def test_no_scroll_box_inside_the_explorer():
    ex = W.NetworkExplorer((2, 2, 2, 1))
    stack = [ex]
    while stack:
        w = stack.pop()
        assert w.layout.overflow in (None, "", "visible"), f"{type(w).__name__} scrolls inside the page"
        assert w.layout.max_height in (None, ""), type(w).__name__
        stack.extend(getattr(w, "children", ()))


def test_init_explorer_shows_delta_as_its_definition_gives_it():
    """The explorer's ‖δ⁽ˡ⁾‖ against δ = ∂L/∂Z by central differences (bp.gradcheck.numerical_deltas)."""
    from bpkit.initialization import scaled_mlp

    ex = W.InitExplorer(width=3, depth=4, scale=1.5, activation="tanh", m=2)
    measured, predicted = ex.norms()
    net = scaled_mlp([3] * 4 + [1], activation="tanh", std=1.5 / np.sqrt(3), seed=0)
    from bpkit.gradcheck import numerical_deltas

    oracle = numerical_deltas(net, ex.X, ex.T)
    expected = [np.sqrt(np.mean(d ** 2)) for d in oracle[:-1]]
    np.testing.assert_allclose(measured, expected, rtol=1e-6)
    assert predicted[-1] == measured[-1] and len(predicted) == 3
    shown = ex.displayed()
    assert np.isclose(shown["first"], measured[0], rtol=1e-3) and np.isclose(shown["last"], measured[-1], rtol=1e-3)
