"""A chapter's explorer, live: Voila on 127.0.0.1 runs the hidden-delta chapter, headless Chromium moves
a slider with the keyboard, and the gradient it displays must become bpkit's gradient at the new value."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import bpkit as bp
from browser import artifact, chromium, free_port, goto_when_up, server_process, skip_browser
from chapter_tools import ROOT, notebook
from test_figures import figures_in_source

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
    # the kernel picks its own backend (inline): an MPLBACKEND from the caller would hide the figures
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    with server_process(args, tmp_path / "voila.log", cwd=tmp_path, env=env) as proc:
        yield f"http://127.0.0.1:{port}/", tmp_path / "voila.log", proc


LAYOUT = """() => {
  const W = document.documentElement.clientWidth;
  const ex = document.querySelector('.bp-explorer');
  const inside = [...ex.querySelectorAll('*')];
  const scrolls = e => { const s = getComputedStyle(e);
    return (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1)
        || (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1); };
  const figure = ex.querySelector('img').getBoundingClientRect();
  const controls = ex.querySelector('.bp-controls').getBoundingClientRect();
  const buttons = [...ex.querySelectorAll('button')];
  return {sideways: document.documentElement.scrollWidth - W,
          clipped: inside.filter(e => e.getBoundingClientRect().right > W + 1).slice(0, 5).map(e => e.className),
          scrollers: inside.filter(scrolls).slice(0, 5).map(e => [e.className, e.scrollWidth, e.clientWidth, e.scrollHeight,
              e.clientHeight, [...e.children].map(c => c.className.slice(0, 40) + ':' + Math.round(c.getBoundingClientRect().width))]),
          figure_bottom: figure.bottom, controls_top: controls.top,
          buttons: buttons.length, unnamed_buttons: buttons.filter(b => !(b.innerText || b.getAttribute('aria-label') || '').trim()).length};
}"""


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
        # the chapter's matplotlib figure (diverge and gather) is shown too, as a decoded picture
        figures = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-RenderedImage img'))
            .filter(img => !img.closest('.jupyter-widgets')).map(img => img.complete && img.naturalWidth > 50)""")
        before = cell_text(page, GRAD)
        x1 = page.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text=re.compile("^x₁$"))).first
        handle, readout = x1.locator(".noUi-handle"), x1.locator(".widget-readout")
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
        # the gradient-step button from the keyboard: Tab reaches it, Enter takes a step
        loss = page.locator("[data-name='loss']").first
        loss_before = loss.inner_text()
        page.get_by_role("button", name="take a gradient step").focus()
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => document.querySelector(\"[data-name='loss']\").innerText !== {loss_before!r}",
                               timeout=30_000)
        loss_after = loss.inner_text()
        layout = {}
        for width, height in ((1280, 800), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            layout[width] = page.evaluate(LAYOUT)
            page.set_viewport_size({"width": width, "height": 2600})  # tall enough to picture the whole explorer
            page.wait_for_timeout(300)
            page.locator(".bp-explorer").first.screenshot(path=str(artifact("screenshots", "voila", f"{CHAPTER}-{width}.png")))
        assert not ctx.blocked or all("127.0.0.1" not in u for u in ctx.blocked)

    drawn = sum(c.figures for c in figures_in_source(ROOT / "chapters" / f"{CHAPTER}.md"))
    assert drawn >= 1 and figures == [True] * drawn, f"Voila shows {figures} (loaded or not); the chapter draws {drawn}"
    assert value_after > value_before, (value_before, value_after)
    assert float(loss_after.split("=")[1]) < float(loss_before.split("=")[1]), (loss_before, loss_after)
    for width, found in layout.items():
        # the explorer fits: nothing of it beyond the screen's edge, no scroll box inside it, and on a phone
        # the sliders sit under the figure
        assert found["sideways"] <= 0 and found["clipped"] == [] and found["scrollers"] == [], (width, found)
        assert found["buttons"] >= 2 and found["unnamed_buttons"] == 0, (width, found)
    assert layout[390]["controls_top"] > layout[390]["figure_bottom"] - 1, layout[390]
    assert layout[1280]["controls_top"] < layout[1280]["figure_bottom"], layout[1280]  # beside it on a desktop
    # the same explorer in this process, moved to the same value: the numbers bpkit computes
    W = pytest.importorskip("bpkit.widgets")
    ex = W.NetworkExplorer((2, 2, 2, 1))
    assert ex.sliders["x[0]"].value == pytest.approx(value_before, abs=1e-9), "the slider labelled x₁ is x[0]"
    ex.set("x[0]", value_after)
    assert f"{shown:+.5f}" == f"{ex.grads['2.W'][0, 0]:+.5f}"
    assert shown_delta == pytest.approx(ex.net.deltas[0][0, 0], abs=6e-6)
    numeric = bp.numerical_grads(ex.net, ex.X, ex.T)
    assert shown == pytest.approx(numeric["2.W"][0, 0], abs=6e-6)
    assert abs(shown - float(before)) > 0 and np.isfinite(shown)
