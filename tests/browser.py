"""Helpers for the tests that drive a real browser: a loopback HTTP server and headless Chromium.

Chromium is Debian's (/usr/bin/chromium, installed by .ci/run), driven by Playwright; every request
that does not go to 127.0.0.1 is aborted and recorded, so a page that needs the internet shows it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url, timeout=60.0, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(OSError):
            with urlopen(url, timeout=2):
                return
        time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} within {timeout} s")


@contextlib.contextmanager
def static_server(directory):
    """`python -m http.server` on 127.0.0.1 serving ``directory``; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for_http(base, process=proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def server_process(args, log_path, *, cwd=None, env=None):
    """Run ``python -m <args>`` (a Jupyter or Voila server) with its output in ``log_path``; yields the
    process and stops it afterwards."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def goto_when_up(page, url, proc, log_path, what, timeout=90.0):
    """Open ``url`` in ``page`` as soon as the server answers; fail with the end of its log if it never does."""
    deadline = time.time() + timeout
    while True:
        try:
            page.goto(url, wait_until="domcontentloaded", timeout=20_000)
            return
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                raise AssertionError(f"{what} did not start:\n" + Path(log_path).read_text()[-3000:])
            time.sleep(1)


def require_chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail("the browser tests need Debian's Chromium: apt-get install -y chromium "
                    "(.ci/run installs it; set BPBOOK_SKIP_BROWSER=1 to skip these tests knowingly)")


@contextlib.contextmanager
def chromium(viewport=(1300, 1000)):
    """A headless Chromium context; ``ctx.blocked`` lists every non-loopback request it aborted."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": viewport[0], "height": viewport[1]})
        blocked = []

        def route(r):
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        ctx.route("**/*", route)
        ctx.blocked = blocked
        try:
            yield ctx
        finally:
            ctx.close()


def watch(page):
    """Record a page's console errors and failed requests: returns (errors, failures) lists."""
    errors, failures = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: failures.append(f"failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: failures.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    return errors, failures


def artifact(*parts) -> Path:
    path = ARTIFACTS.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def skip_browser() -> bool:
    return os.environ.get("BPBOOK_SKIP_BROWSER") == "1"
