"""tools/system-deps.sh: what `make serve`/`make test` install beyond Python, or the one command to run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "system-deps.sh"


def run(*args, user=None, **env):
    cmd = ["bash", str(SCRIPT), *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=60)


def test_nothing_to_do_when_everything_is_there(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing on this machine: run tools/system-deps.sh")
    done = run(CHROMIUM=str(fake))
    assert done.returncode == 0 and done.stdout == done.stderr == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_without_root_or_sudo_it_stops_with_the_command(tmp_path):
    done = run("chromium", user=65534, CHROMIUM=str(tmp_path / "none"))
    assert done.returncode == 1
    assert "Missing: chromium." in done.stderr
    assert "sudo sh -c 'apt-get update && apt-get install -y chromium'" in done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="installs as root")
def test_as_root_it_installs_with_apt_get(tmp_path):
    done = run("chromium", "npm", CHROMIUM=str(tmp_path / "none"), SYSTEM_DEPS_DRY_RUN="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "would run: sh -c 'apt-get update && apt-get install -y chromium'"


def test_unknown_dependency_is_an_error():
    done = run("firefox")
    assert done.returncode == 2 and "unknown dependency 'firefox'" in done.stderr
