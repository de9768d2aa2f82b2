"""Shared fixtures: the built website (``make book`` builds it if it is missing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

try:  # pytest's own process draws off screen; the kernels it starts choose their own (inline) backend
    import matplotlib

    matplotlib.use("Agg")  # not MPLBACKEND: an environment variable would reach those kernels too
except ImportError:
    pass

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def site() -> Path:
    """The built book, ``_build/html`` (``make test`` builds it first; here only if it is missing)."""
    if not (SITE / "chapters" / "notation.html").exists():
        subprocess.run(["make", "-C", str(ROOT), "book"], check=True)
    return SITE


def pytest_collection_modifyitems(items):
    """A test that reads the built site is a `book` test (``make test-fast`` leaves it out)."""
    for item in items:
        if "site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.book)
