"""GraphExplorer: the scalar engine's sweep on the 2-2-1 graph, node by node, with numbers checked against
independent oracles — SymPy for the forward values and the parameters' gradients, central differences of the
layer network's loss for the gradients, bp.numerical_deltas (central differences in z) for the z nodes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import bpkit as bp

pytest.importorskip("ipywidgets")
from bpkit.widgets import graph_explorer as ge  # noqa: E402


@pytest.fixture(scope="module")
def explorer():
    return bp.widgets.GraphExplorer()


def sympy_loss(net, x, t):
    """L = ½(o − t)² of the 2-2-1 sigmoid network, one SymPy symbol per parameter, and the numbers to substitute."""
    W1, b1 = sp.symbols("w11 w12 w21 w22"), sp.symbols("b1 b2")
    v, c = sp.symbols("v1 v2"), sp.Symbol("c")
    sig = lambda s: 1 / (1 + sp.exp(-s))  # noqa: E731
    h = [sig(W1[q] * x[0] + W1[2 + q] * x[1] + b1[q]) for q in range(2)]
    o = sig(v[0] * h[0] + v[1] * h[1] + c)
    L = sp.Rational(1, 2) * (o - t) ** 2
    A, B = net.layers
    values = {W1[0]: A.W[0, 0], W1[1]: A.W[0, 1], W1[2]: A.W[1, 0], W1[3]: A.W[1, 1], b1[0]: A.b[0], b1[1]: A.b[1],
              v[0]: B.W[0, 0], v[1]: B.W[1, 0], c: B.b[0]}
    return L, o, {str(k): k for k in values}, values


def central(net, x, t, where, h=1e-6):
    layer, index = where
    p = net.layers[layer].W if index[0] == "W" else net.layers[layer].b
    saved = p[index[1]]
    p[index[1]] = saved + h; up = net.loss(x, t)
    p[index[1]] = saved - h; down = net.loss(x, t)
    p[index[1]] = saved
    return (up - down) / (2 * h)


PLACES = {"w11": (0, ("W", (0, 0))), "w12": (0, ("W", (0, 1))), "w21": (0, ("W", (1, 0))), "w22": (0, ("W", (1, 1))),
          "b1": (0, ("b", 0)), "b2": (0, ("b", 1)), "v1": (1, ("W", (0, 0))), "v2": (1, ("W", (1, 0))), "c": (1, ("b", 0))}


def check_sweep(g):
    """Step through every stage; raise AssertionError where the explorer's numbers or order are wrong."""
    n = len(g.order)
    net, x, t = g.net, g.x, g.t
    L, o_expr, syms, values = sympy_loss(net, x[0], t[0, 0])
    want_grads = {name: float(sp.diff(L, syms[name]).subs(values)) for name in PLACES}
    g.image.refresh = lambda: None                           # numbers only here (the picture: the test below)
    forward_values = {}
    for k in range(n):                                       # forward: topological order, values
        g.set("step", k)
        phase, node, visited = g.current()
        shown = g.displayed()
        assert phase == "forward" and shown["step"] == k and len(visited) == k + 1
        assert all(id(p) in forward_values for p in node.parents), f"step {k}: a parent of {g.node_name(node)} is not computed yet"
        forward_values[id(node)] = shown["value"]
        if g.node_name(node) == "o":
            assert abs(shown["value"] - float(o_expr.subs(values))) < 1e-6, "o against SymPy"
        if g.node_name(node) == "L":
            assert abs(shown["value"] - float(L.subs(values))) < 1e-6, "L against SymPy"
    deltas = bp.numerical_deltas(net, x, t)
    z_delta = {"z1": deltas[0][0, 0], "z2": deltas[0][0, 1], "z3": deltas[1][0, 0]}
    reached = set()
    for k in range(n, 2 * n):                                # backward: reverse order, grads
        g.set("step", k)
        phase, node, visited = g.current()
        shown = g.displayed()
        assert phase == "backward"
        assert all(id(u) in reached for u in g.users[id(node)]), f"step {k}: {g.node_name(node)} reached before a node that uses it"
        reached.add(id(node))
        name = g.node_name(node)
        if name in z_delta:
            assert abs(shown["grad"] - z_delta[name]) < 1e-6, f"∂L/∂{name}: {shown['grad']} vs {z_delta[name]}"
        if name in PLACES:
            assert abs(shown["grad"] - central(net, x, t, PLACES[name])) < 1e-6, f"∂L/∂{name} against central differences"
            assert abs(shown[f"grad[{name}]"] - want_grads[name]) < 1e-6, f"∂L/∂{name} against sympy.diff"
    assert len(reached) == n
    assert {f"grad[{p}]" for p in PLACES} <= set(g.displayed()), "every parameter's grad is shown at the end"
    del g.image.refresh


def test_the_sweep_against_sympy_and_central_differences(explorer):
    check_sweep(explorer)
    explorer.set("w11", 1.5)                                 # another weight: new numbers, still right
    assert explorer.net.layers[0].W[0, 0] == 1.5
    check_sweep(explorer)


def test_one_node_is_highlighted_and_the_picture_changes(explorer):
    n = len(explorer.order)
    pictures = set()
    for k in (3, n - 1, n, 2 * n - 1):
        explorer.set("step", k)
        ringed = [c for c in explorer.circles if c.get_edgecolor()[:3] == pytest.approx((0xd5 / 255, 0x5e / 255, 0))]
        assert len(ringed) == 1 and ringed[0] is explorer.circles[explorer.order.index(explorer.current()[1])]
        pictures.add(explorer.image.widget.value)
    assert len(pictures) == 4


def test_start_at_a_node():
    g = bp.widgets.GraphExplorer(step="z3")
    phase, node, visited = g.current()
    assert (phase, g.node_name(node)) == ("backward", "z3") and all(id(u) in visited for u in g.users[id(node)])


def test_buttons_and_the_static_picture(explorer):
    explorer.set("step", 5)
    explorer.next_button.click()
    assert explorer.displayed()["step"] == 6
    explorer.back_button.click(); explorer.back_button.click()
    assert explorer.displayed()["step"] == 4
    explorer.set("step", 0)
    explorer.back_button.click()
    assert explorer.displayed()["step"] == 0
    page = explorer.static_html()
    assert 'class="bp-widget-static"' in page and "graph of the 2-2-1 sigmoid network" in page
    assert "<td" in page and "step" in page


def test_bad_arguments():
    with pytest.raises(ValueError, match="step"):
        bp.widgets.GraphExplorer(step=1000)
    with pytest.raises(ValueError, match="no node named 'z9'"):
        bp.widgets.GraphExplorer(step="z9")
    with pytest.raises(ValueError, match="two inputs"):
        bp.widgets.GraphExplorer(x=(1.0, 2.0, 3.0))


def test_the_checks_can_fail(monkeypatch):
    """A sweep in the wrong order, or numbers shown with the wrong sign, fail check_sweep."""
    g = bp.widgets.GraphExplorer()                          # check_sweep passes on it: the first test
    real = ge.graph_layout

    def forward_order_for_backward(root):                   # the reverse sweep visiting in forward order
        order, pos = real(root)
        return order[::-1], pos

    monkeypatch.setattr(ge, "graph_layout", forward_order_for_backward)
    g.set("w11", 0.5)
    with pytest.raises(AssertionError):
        check_sweep(g)
    monkeypatch.setattr(ge, "graph_layout", real)
    monkeypatch.setattr(ge, "fmt", lambda value, digits=5: f"{-value:+.{digits}f}" if value else f"{value:+.{digits}f}")
    g.set("w11", 0.0)
    with pytest.raises(AssertionError):
        check_sweep(g)


@pytest.mark.browser
def test_live_in_voila(tmp_path):
    """Live: Voila runs the explorer, Chromium presses 'next' and moves the step slider by keyboard; the
    step, the current node and the picture change, and the grad shown is the engine's."""
    import os

    import nbformat
    from browser import chromium, free_port, goto_when_up, server_process, skip_browser

    if skip_browser():
        pytest.skip("BPBOOK_SKIP_BROWSER=1")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import bpkit as bp\nbp.widgets.GraphExplorer()")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "graph.ipynb")
    port = free_port()
    args = ["voila", str(tmp_path / "graph.ipynb"), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--ServerApp.ip=127.0.0.1"]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    reference = bp.widgets.GraphExplorer()
    n = len(reference.order)
    with server_process(args, tmp_path / "voila.log", cwd=tmp_path, env=env) as proc, chromium() as ctx:
        page = ctx.new_page()
        goto_when_up(page, f"http://127.0.0.1:{port}/", proc, tmp_path / "voila.log", "Voila", timeout=60)
        page.wait_for_selector('td[data-name="step"]', timeout=240_000)
        step = lambda: int(page.locator('td[data-name="step"]').first.inner_text())  # noqa: E731
        assert step() == n
        image = page.locator(".bp-explorer img").first.get_attribute("src")
        page.get_by_role("button", name="next ▶").click()
        page.wait_for_function(f"() => document.querySelector('td[data-name=\"step\"]').innerText === '{n + 1}'",
                               timeout=30_000)
        page.wait_for_function(f"() => document.querySelector('.bp-explorer img').src !== {image!r}", timeout=30_000)
        page.get_by_role("slider", name="step", exact=True).focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => document.querySelector('td[data-name=\"step\"]').innerText === '{n + 2}'",
                               timeout=30_000)
        shown = float(page.locator('td[data-name="grad"]').first.inner_text())
    reference.set("step", n + 2)
    assert shown == pytest.approx(reference.displayed()["grad"], abs=1e-6)
