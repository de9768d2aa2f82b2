"""One fresh virtual environment with bpkit installed from its wheel, shared by the packaging and the
launch-notebook tests (tests/test_package.py, tests/test_launch_notebooks.py).

The wheel is built from a copy of the sources (so the checkout gets no ``build/``), installed
non-editable with the ``book`` extras into a venv without system site-packages; pip resolves the
dependencies with ``constraints.txt`` (from its cache when warm).  Nothing of the checkout is on the
venv's path: the tests run it from a folder outside the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_made: dict = {}


def _run(cmd, **kw):
    run = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed (exit {run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")
    return run


def build_wheel(workdir: Path) -> Path:
    """Build bpkit's wheel from a copy of pyproject.toml, README.md and bpkit/; return its path."""
    if "wheel" not in _made:
        src, dist = workdir / "src", workdir / "dist"
        src.mkdir(parents=True)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, src / name)
        shutil.copytree(ROOT / "bpkit", src / "bpkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, src])
        (wheel,) = dist.glob("bpkit-*.whl")
        _made["wheel"] = wheel
    return _made["wheel"]


def launch_venv(workdir: Path) -> tuple[Path, Path]:
    """(python of a fresh venv with ``bpkit[book,instructors]`` installed from the wheel plus ipykernel and setuptools, the wheel)."""
    if "venv" not in _made:
        wheel = build_wheel(workdir)
        venv = workdir / "venv"
        _run([sys.executable, "-m", "venv", venv])
        python = venv / "bin" / "python"
        # setuptools (pinned): the default set-up builds bpkit from a git tag, offline without build isolation
        _run([python, "-m", "pip", "install", "--quiet", f"{wheel}[book,instructors]", "ipykernel", "setuptools",
              "-c", ROOT / "constraints.txt"], cwd=workdir, env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
        _made["venv"] = python
    return _made["venv"], _made["wheel"]
