"""`make lab`: JupyterLab opens the chapters (MyST Markdown) as notebooks, through jupytext."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.request import urlopen

import pytest

from browser import free_port, server_process, wait_for_http

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_sets_markdown_to_open_as_a_notebook():
    overrides = json.loads((ROOT / "tools" / "lab-overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    assert "tools/lab-overrides.json" in (ROOT / "Makefile").read_text()


@pytest.mark.browser
def test_the_server_opens_a_chapter_as_a_notebook(tmp_path):
    port = free_port()
    args = ["jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
            "--ServerApp.password=", f"--ServerApp.root_dir={ROOT}"]
    args += ["--allow-root"] if os.geteuid() == 0 else []
    url = f"http://127.0.0.1:{port}/api/contents/chapters/notation.md?type=notebook&content=1"
    with server_process(args, tmp_path / "lab.log") as proc:
        try:
            wait_for_http(url, timeout=60, process=proc)
        except (RuntimeError, TimeoutError) as error:
            raise AssertionError((tmp_path / "lab.log").read_text()[-3000:]) from error
        with urlopen(url, timeout=10) as response:
            model = json.load(response)
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    assert any("import bpkit as bp" in "".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert model["content"]["metadata"]["kernelspec"]["name"] == "python3"
