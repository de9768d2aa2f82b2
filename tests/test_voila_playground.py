"""The training chapter's playground, live: Voila on 127.0.0.1 runs the chapter, headless Chromium presses
the playground's buttons by their names ("step", "play", "pause") and chooses weights in the network's
drawing (a click on an edge, then the arrow key and Enter), and the numbers the page shows must be those of
the same gradient steps computed here with bpkit from the same seed (and, for the chosen weight's gradient,
by central differences)."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import bpkit as bp
from browser import artifact, chromium, free_port, goto_when_up, server_process, skip_browser
from chapter_tools import ROOT, notebook

pytestmark = [pytest.mark.browser, pytest.mark.skipif(skip_browser(), reason="BPBOOK_SKIP_BROWSER=1")]

CHAPTER = "training"
# the chapter's call, which this test repeats with bpkit alone
SETTINGS = dict(dataset="two moons", hidden=(4, 4), activation="tanh", lr=0.3)


def reference(steps):
    """The playground's data and network after ``steps`` gradient steps, from bpkit's functions alone."""
    from bpkit.widgets.playground import make_dataset, split

    X, T = make_dataset(SETTINGS["dataset"], 200, 0.1, seed=0)
    X_train, T_train, X_test, T_test = split(X, T, 0.3, seed=0)
    net = bp.mlp([2, 4, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    lr = SETTINGS["lr"]  # the page shows η = 0.300 and the kernel trains with it until the slider is moved
    for _ in range(steps):
        _, grads = net.loss_and_grads(X_train, T_train, loss="bce")
        bp.sgd_step(net, grads, lr)

    def accuracy(X, T):
        return float(np.mean((net.forward(X)[:, 0] > 0.5) == (T[:, 0] > 0.5)))

    return net, (X_train, T_train), {"train": net.loss(X_train, T_train, loss="bce"),
                                     "test": net.loss(X_test, T_test, loss="bce"),
                                     "train_acc": accuracy(X_train, T_train), "test_acc": accuracy(X_test, T_test)}


@pytest.fixture
def voila(tmp_path):
    import nbformat

    source = (ROOT / "chapters" / f"{CHAPTER}.md").read_text()
    call = ("bp.widgets.Playground(" + ", ".join(f"{k}={v!r}" for k, v in SETTINGS.items()) + ")").replace("'", '"')
    assert call in source, f"the chapter no longer shows {call}: update SETTINGS"
    path = tmp_path / f"{CHAPTER}.ipynb"
    nbformat.write(notebook(ROOT / "chapters" / f"{CHAPTER}.md"), path)
    port = free_port()
    args = ["voila", str(path), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--ServerApp.ip=127.0.0.1",
            "--show_tracebacks=True",
            # the page first and the cells' outputs as they come: the whole chapter runs longer than a page load waits
            "--VoilaConfiguration.progressive_rendering=True"]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel picks its own (inline) backend
    with server_process(args, tmp_path / "voila.log", cwd=tmp_path, env=env) as proc:
        yield f"http://127.0.0.1:{port}/", tmp_path / "voila.log", proc


def button_name(text):
    """A button's accessible name: its text, after the glyph of its icon (Font Awesome's CSS content)."""
    return re.compile(rf"(^|\W){text}$")


def shown(page):
    """The playground's status line and chosen parameter, as the page shows them: {data-name: text}."""
    return page.evaluate("""() => Object.fromEntries(Array.from(
        document.querySelectorAll('.bp-playground span[data-name]')).map(e => [e.dataset.name, e.innerText]))""")


def wait_for_steps(page, test):
    page.wait_for_function(f"""() => {{ const e = document.querySelector(".bp-playground span[data-name='steps']");
                                       return e && ({test})(Number(e.innerText)); }}""", timeout=30_000)


def test_the_playground_trains_and_an_edge_shows_its_gradient(voila):
    url, log, proc = voila
    with chromium() as ctx:
        page = ctx.new_page()
        goto_when_up(page, url, proc, log, "Voila", timeout=60)
        page.wait_for_selector(".bp-playground .bp-network-picker [data-key]", timeout=240_000)
        pg = page.locator(".bp-playground").first
        start = shown(page)
        image = pg.locator("img.bp-figure").first
        map_before = image.get_attribute("src")
        step = pg.get_by_role("button", name=button_name("step"))
        for n in (1, 2, 3):
            step.click()
            wait_for_steps(page, f"s => s === {n}")
        after_steps = shown(page)
        map_after = image.get_attribute("src")
        pg.get_by_role("button", name=button_name("play")).click()
        wait_for_steps(page, "s => s >= 30")
        pg.get_by_role("button", name=button_name("pause")).click()
        page.wait_for_timeout(400)  # a frame under way when pause arrives finishes
        played = shown(page)
        page.wait_for_timeout(300)
        still = shown(page)
        # a weight chosen by a click on its edge in the drawing (the last layer's edges do not cross)
        edge = pg.get_by_role("button", name=re.compile(r"^w⁽³⁾₁₁ = "))
        edge_label = edge.get_attribute("aria-label")
        edge.click()
        page.wait_for_function("""() => document.querySelector('.bp-playground [data-key="2.W[0,0]"]')
                                      ?.getAttribute('aria-pressed') === 'true'""", timeout=30_000)
        clicked = shown(page)
        # then the next control by the keyboard: ArrowDown moves the focus, Enter chooses
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_function("""() => document.querySelector('.bp-playground [data-key="2.W[1,0]"]')
                                      ?.getAttribute('aria-pressed') === 'true'""", timeout=30_000)
        keyed = shown(page)
        focused = page.evaluate("() => document.activeElement?.dataset?.key")
        pg.screenshot(path=str(artifact("screenshots", "voila", "training-playground.png")))
        assert not ctx.blocked or all("127.0.0.1" not in u for u in ctx.blocked)

    assert start["steps"] == "0" and after_steps["steps"] == "3" and map_after != map_before
    steps = int(played["steps"])
    assert steps >= 30 and (steps - 3) % 5 == 0 and still["steps"] == played["steps"], (played, still)
    for page_numbers, n in ((start, 0), (after_steps, 3), (played, steps)):
        net, _, expect = reference(n)
        for name in ("train", "test"):
            assert page_numbers[name] == f"{expect[name]:+.5f}", (n, name, page_numbers, expect)
        for name in ("train_acc", "test_acc"):
            assert page_numbers[name] == f"{expect[name]:.3f}", (n, name, page_numbers, expect)
    assert float(played["train"]) < float(start["train"])
    net, (X, T), _ = reference(steps)
    numeric = bp.numerical_grads(net, X, T, loss="bce")["2.W"]
    for numbers, p in ((clicked, 0), (keyed, 1)):
        assert float(numbers["value"]) == pytest.approx(net.layers[2].W[p, 0], abs=6e-6)
        assert float(numbers["grad"]) == pytest.approx(numeric[p, 0], abs=6e-6), (p, numbers)
    assert edge_label == f"w⁽³⁾₁₁ = {net.layers[2].W[0, 0]:+.5f}, ∂J/∂w = {float(clicked['grad']):+.5f}"
    assert focused == "2.W[1,0]", "the focus stays on the chosen edge when the drawing is redrawn"
