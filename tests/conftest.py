"""Shared fixtures: the built website (``make book`` builds it if it is missing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def site() -> Path:
    """The built book, ``_build/html`` (``make test`` builds it first; here only if it is missing)."""
    if not (SITE / "chapters" / "notation.html").exists():
        subprocess.run(["make", "-C", str(ROOT), "book"], check=True)
    return SITE
