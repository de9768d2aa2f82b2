"""`make lab`: JupyterLab opens the chapters (MyST Markdown) as notebooks, through jupytext."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from urllib.request import urlopen

import pytest

from browser import artifact, chromium, free_port, goto_when_up, skip_browser, wait_for_http

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_sets_markdown_to_open_as_a_notebook():
    overrides = json.loads((ROOT / "tools" / "lab-overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    assert "tools/lab-overrides.json" in (ROOT / "Makefile").read_text()


MYST_LEFT = ["{eq}", "{numref}", "{ref}", "{cite}", "{py:func}", ":::{", "(ch-"]


@pytest.fixture
def make_lab(tmp_path):
    """`make lab` as a reader runs it (its settings, JupyterLab's extensions), on a free port without a token;
    every cell in the DOM (Lab renders only the visible ones of a long notebook by default)."""
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    # no autosave: Lab would write the opened chapter back through jupytext (its front matter and captions
    # re-formatted) into the checkout
    docmanager = tmp_path / "settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    lab_args = (f"--no-browser --port={port} --ServerApp.token= --ServerApp.password= --LabApp.news_url=None "
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "--no-print-directory", "-C", str(ROOT), "lab", f"LAB_ARGS={lab_args}"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}/", log, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.browser
@pytest.mark.skipif(skip_browser(), reason="BPBOOK_SKIP_BROWSER=1")
def test_make_lab_opens_a_chapter_as_a_notebook_with_its_myst_rendered(make_lab):
    """The chapter a reader opens in `make lab` (algorithm: {eq}, {numref}, {ref}, {cite} and an admonition in
    its Markdown cells) is a notebook whose Markdown jupyterlab-myst renders: no role or fence left as text,
    the equation references are numbers, the admonition is a box with its title."""
    base, log, proc = make_lab
    chapter = ROOT / "chapters" / "algorithm.md"
    before = chapter.read_bytes()
    url = base + "api/contents/chapters/algorithm.md?type=notebook&content=1"
    try:
        wait_for_http(url, timeout=120, process=proc)
    except (RuntimeError, TimeoutError) as error:
        raise AssertionError(log.read_text()[-3000:]) from error
    with urlopen(url, timeout=30) as response:
        model = json.load(response)
    assert model["type"] == "notebook" and model["content"]["metadata"]["kernelspec"]["name"] == "python3"
    sources = ["".join(c["source"]) for c in model["content"]["cells"]]
    markdown = "\n".join(s for s, c in zip(sources, model["content"]["cells"]) if c["cell_type"] == "markdown")
    assert all(needle in markdown for needle in ["{eq}`", "{numref}`", "{ref}`", ":::{admonition}"])
    with chromium(viewport=(1400, 1000)) as ctx:
        page = ctx.new_page()
        goto_when_up(page, base + "lab/tree/chapters/algorithm.md", proc, log, "make lab", timeout=120)
        try:  # the admonition, rendered: jupyterlab-myst writes it as an <aside>
            page.wait_for_selector(".jp-MarkdownCell aside", state="attached", timeout=180_000)
        except Exception as error:
            page.screenshot(path=str(artifact("lab", "algorithm-failed.png")))
            raise AssertionError("no rendered admonition in the chapter's Markdown cells (the chapter shows as "
                                 + ("text" if page.locator(".jp-MarkdownCell").count() == 0 else "raw MyST")
                                 + "); see artifacts/lab/algorithm-failed.png") from error
        page.wait_for_timeout(2000)  # the remaining cells render
        cells = page.locator(".jp-MarkdownCell")
        assert cells.count() == sum(c["cell_type"] == "markdown" for c in model["content"]["cells"])
        text = "\n".join(cells.all_inner_texts())
        left = {needle: text.count(needle) for needle in MYST_LEFT if needle in text}
        assert left == {}, f"MyST shown as text in make lab: {left}"
        titles = page.locator(".jp-MarkdownCell aside").all_inner_texts()
        assert any(t.startswith("d2l excerpt") for t in titles), titles[:3]
        assert "is the table in numbers" in text  # the sentence that starts with a {numref}
        assert page.locator(".jp-MarkdownCell .katex").count() > 100  # the mathematics typeset
        page.screenshot(path=str(artifact("lab", "algorithm.png")))
    assert chapter.read_bytes() == before, "make lab rewrote chapters/algorithm.md"
