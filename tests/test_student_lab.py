"""A student opens the released notebook in JupyterLab: sees the questions, runs the chapter, answers the
first exercise and runs its visible test.  JupyterLab on 127.0.0.1, driven by headless Chromium."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from browser import artifact, chromium, free_port, goto_when_up, server_process, skip_browser

pytestmark = [pytest.mark.browser, pytest.mark.skipif(skip_browser(), reason="BPBOOK_SKIP_BROWSER=1")]

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tools"))
import coursework  # noqa: E402


@pytest.fixture
def lab(tmp_path):
    released = coursework.release("notation", tmp_path / "course")
    home = tmp_path / "student"
    home.mkdir()
    shutil.copy(released, home / "notation.ipynb")
    # every cell in the DOM (JupyterLab renders only the visible ones of a long notebook by default)
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    args = ["jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
            "--ServerApp.password=", f"--ServerApp.root_dir={home}", "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    args += ["--allow-root"] if os.geteuid() == 0 else []
    with server_process(args, tmp_path / "lab.log", cwd=home, env=env) as proc:
        yield f"http://127.0.0.1:{port}/lab/tree/notation.ipynb", tmp_path / "lab.log", proc


def test_student_sees_questions_and_runs_the_visible_test(lab):
    url, log, proc = lab
    with chromium(viewport=(1400, 1000)) as ctx:
        page = ctx.new_page()
        goto_when_up(page, url, proc, log, "JupyterLab", timeout=90)
        # the kernel is ready when the status bar says Idle
        page.wait_for_selector("text=/\\|\\s*Idle/", timeout=120_000)
        # the questions (rendered by JupyterLab, or by jupyterlab-myst into a .myst box)
        # (jupyterlab-myst renders after the kernel is idle: wait for the heading, up to a minute)
        page.locator(".jp-MarkdownCell h3", has_text="Exercise 1").first.wait_for(state="attached", timeout=60_000)
        # Run ▸ Run All Cells: the chapter runs, and stops at the first unanswered exercise
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_selector(".jp-OutputArea-output >> text=NotImplementedError", timeout=180_000)
        assert page.locator(".jp-OutputArea-output", has_text="✓ Z = AW + 1bᵀ equals").count() >= 1
        page.screenshot(path=str(artifact("student", "notation-run-all.png")))
        # answer exercise 1 in its cell, run it and the visible test below it
        answer_cell = page.locator(".jp-CodeCell", has_text="raise NotImplementedError()").first
        answer_cell.scroll_into_view_if_needed()
        editor = answer_cell.locator(".cm-content").first
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.type("answer = (2, 0)")
        page.keyboard.press("Shift+Enter")   # runs the answer, moves to the visible test
        page.keyboard.press("Shift+Enter")   # runs the visible test
        page.wait_for_selector(".jp-OutputArea-output >> text=✓ answer is an index pair", timeout=60_000)
        page.screenshot(path=str(artifact("student", "notation-visible-test.png")))
        assert ctx.blocked == [] or all("127.0.0.1" not in u for u in ctx.blocked)
