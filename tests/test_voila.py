"""A chapter's explorer, live: Voila on 127.0.0.1 runs the hidden-delta chapter, headless Chromium moves
a slider with the keyboard, and the gradient it displays must become bpkit's gradient at the new value."""

from __future__ import annotations


import numpy as np
import pytest

import bpkit as bp
from browser import artifact, chromium, free_port, goto_when_up, server_process, skip_browser
from chapter_tools import ROOT, notebook

pytestmark = [pytest.mark.browser, pytest.mark.skipif(skip_browser(), reason="BPBOOK_SKIP_BROWSER=1")]

CHAPTER = "hidden-delta"
GRAD = "grad:2.W[0,0]"  # ∂L/∂w⁽³⁾₁₁, shown in the explorer's table (it moves visibly with x₁)


@pytest.fixture
def voila(tmp_path):
    import nbformat

    path = tmp_path / f"{CHAPTER}.ipynb"
    nbformat.write(notebook(ROOT / "chapters" / f"{CHAPTER}.md"), path)
    port = free_port()
    args = ["voila", str(path), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--ServerApp.ip=127.0.0.1",
            "--show_tracebacks=True"]
    with server_process(args, tmp_path / "voila.log", cwd=tmp_path) as proc:
        yield f"http://127.0.0.1:{port}/", tmp_path / "voila.log", proc


def cell_text(page, name):
    return page.locator(f'td[data-name="{name}"]').first.inner_text()


def test_slider_moves_the_gradient_to_the_right_value(voila):
    url, log, proc = voila
    with chromium() as ctx:
        page = ctx.new_page()
        goto_when_up(page, url, proc, log, "Voila", timeout=60)
        page.wait_for_selector(".widget-slider .noUi-handle", timeout=240_000)
        page.wait_for_selector(f'td[data-name="{GRAD}"]', timeout=60_000)
        page.screenshot(path=str(artifact("voila", f"{CHAPTER}-before.png")), full_page=True)
        before = cell_text(page, GRAD)
        handle = page.locator(".widget-slider .noUi-handle").first
        readout = page.locator(".widget-slider .widget-readout").first
        value_before = float(readout.inner_text())
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            f"""() => {{ const e = document.querySelector('td[data-name="{GRAD}"]');
                        return e && e.innerText !== {before!r}; }}""", timeout=30_000)
        value_after = float(readout.inner_text())
        shown = float(cell_text(page, GRAD))
        shown_delta = float(cell_text(page, "delta[0,0]"))
        page.screenshot(path=str(artifact("voila", f"{CHAPTER}-after.png")), full_page=True)
        # the backward sweep below follows the explorer: one stage on, the first layer's δ with its numbers
        sweep_img = page.locator(".bp-sweep img").first
        image_before = sweep_img.get_attribute("src")
        page.get_by_role("button", name="next stage").first.click()
        page.wait_for_selector('.bp-sweep-equation span[data-name="delta[0,0]"]', timeout=30_000)
        sweep_title = page.locator(".bp-sweep-title b").first.inner_text()
        sweep_delta = float(page.locator('.bp-sweep-equation span[data-name="delta[0,0]"]').last.inner_text())
        sweep_fprime = float(page.locator('.bp-sweep-equation span[data-name="fprime[0,0]"]').first.inner_text())
        page.wait_for_function(f"""() => document.querySelector('.bp-sweep img').src !== {image_before!r}""",
                               timeout=30_000)
        image_after = sweep_img.get_attribute("src")
        assert not ctx.blocked or all("127.0.0.1" not in u for u in ctx.blocked)

    assert value_after > value_before, (value_before, value_after)
    # the same explorer in this process, moved to the same value: the numbers bpkit computes
    W = pytest.importorskip("bpkit.widgets")
    ex = W.NetworkExplorer((2, 2, 2, 1))
    assert ex.sliders["x[0]"].value == pytest.approx(value_before, abs=1e-9), "the page's first slider is x₁"
    ex.set("x[0]", value_after)
    assert f"{shown:+.5f}" == f"{ex.grads['2.W'][0, 0]:+.5f}"
    assert shown_delta == pytest.approx(ex.net.deltas[0][0, 0], abs=6e-6)
    numeric = bp.numerical_grads(ex.net, ex.X, ex.T)
    assert shown == pytest.approx(numeric["2.W"][0, 0], abs=6e-6)
    assert abs(shown - float(before)) > 0 and np.isfinite(shown)
    assert sweep_title.startswith("stage 6 of 9") and image_after != image_before, sweep_title
    z = float(ex.X[0] @ ex.net.layers[0].W[:, 0] + ex.net.layers[0].b[0])
    assert sweep_fprime == pytest.approx(np.exp(-z) / (1 + np.exp(-z)) ** 2, rel=6e-6)
    assert sweep_delta == pytest.approx(numerical_delta(ex), rel=1e-4)


def numerical_delta(ex, h=1e-6):
    """∂L/∂z of the first hidden neuron by central differences: shift its bias (z moves by the same h)."""
    b = ex.net.layers[0].b
    b0 = b[0]
    b[0] = b0 + h
    up = ex.net.loss(ex.X, ex.T)
    b[0] = b0 - h
    down = ex.net.loss(ex.X, ex.T)
    b[0] = b0
    return (up - down) / (2 * h)
