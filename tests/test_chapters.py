"""Each chapter's main equation, changed by one plausible mistake, makes the chapter's execution fail.

The intact chapters are executed by the strict book build (``make book``); here each is executed with
one mutation (via jupytext + nbclient, see chapter_tools.py) and must raise.
"""

from __future__ import annotations

import re

import pytest

from chapter_tools import ROOT, execute

MUTATIONS = {
    # chapter: (text of the check as it is, the same with one mistake)
    "notation": ("sum(W[p, q] * A[i, p] for p in range(n_in)) + b[q])",   # bias sign in z_q
                 "sum(W[p, q] * A[i, p] for p in range(n_in)) - b[q])"),
    "chain-rule": ("dZ_dY[a + b] * dY_dX[b + c]",                         # a transposed Jacobian
                   "dZ_dY[a + b] * dY_dX[c + b]"),
    "output-delta": ("delta_formula = hadamard(A - T, hadamard(A, sp.ones(m, n_out) - A)) / m",   # δ's sign
                     "delta_formula = hadamard(T - A, hadamard(A, sp.ones(m, n_out) - A)) / m"),
    "hidden-delta": ("delta_q = fprime(Z1[0, q]) * sum(W2[q, k] * delta_next[0, k] for k in range(2))",  # w_qk ↔ w_kq
                     "delta_q = fprime(Z1[0, q]) * sum(W2[k, q] * delta_next[0, k] for k in range(2))"),
    "batch": ("dW_formula = A.T * delta",                                 # a stray 1/m
              "dW_formula = A.T * delta / m"),
    "regularization": ("dJ_dW = A_in.T * deltas[l] + lam * net_s.W[l]",   # the penalty without its ½
                       "dJ_dW = A_in.T * deltas[l] + 2 * lam * net_s.W[l]"),
    "residual": ("dX = dY + delta * Ws.T",                                # the identity path dropped
                 "dX = delta * Ws.T"),
    "training": ("step = {s: s - eta * g[s] for s in theta}",             # gradient ascent
                 "step = {s: s + eta * g[s] for s in theta}"),
    "errata": ("E = bp.errata\n",                                         # a wrong formula recorded as right
               "E = bp.errata\nE.CATALOG['scalar-delta-sign'].verdict = 'correct'\n"),
}


def test_every_chapter_with_equations_has_a_mutation():
    with_equations = {p.stem for p in (ROOT / "chapters").glob("*.md") if re.search(r"^\$\$ *\(eq-", p.read_text(), re.M)}
    assert with_equations and with_equations <= set(MUTATIONS), f"without a mutation: {sorted(with_equations - set(MUTATIONS))}"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", sorted(MUTATIONS))
def test_a_wrong_equation_fails_the_chapter(chapter):
    path = ROOT / "chapters" / f"{chapter}.md"
    ok, error, _ = execute(path, replace=MUTATIONS[chapter])
    assert not ok, f"{chapter}: the chapter still runs with the mutation {MUTATIONS[chapter][1]!r}"
    assert "AssertionError" in error or "ShapeError" in error, error[-2000:]
