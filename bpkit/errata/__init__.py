"""Every formula of the five sources, checked exactly as written.

One module per source (``scalar`` for source 000, ``guide`` 001, ``foursteps`` 002, ``batch`` 003,
``d2l`` 004); the machinery is in ``_core``.  Each entry evaluates the source's formula as
written and the corrected formula on a small explicit example, and ``judge`` compares each with
an independent truth (``sympy.diff`` on an explicit network, or central differences): the verdict is
what the judge says.  :func:`check` raises ``AssertionError`` if an entry's recorded verdict no longer
holds, so a page that calls :func:`show` fails its build when an erratum is wrongly classified.
Imports SymPy (load it as ``bpkit.errata``).
"""

from __future__ import annotations

from ._core import (  # noqa: F401
    CATALOG, RTOL, SOURCES, VERDICTS, Case, Evidence, Formula, Judgement, check, evaluate, evidence,
    formula, get, ids, judge, markdown, perturb, show, summary_table,
)
from . import scalar, guide, foursteps, batch, d2l  # noqa: F401,E402  (registration order = catalog order)

__all__ = ["CATALOG", "SOURCES", "VERDICTS", "Case", "Evidence", "Formula", "check", "evidence", "formula", "get",
           "ids", "judge", "markdown", "perturb", "show", "summary_table"]
