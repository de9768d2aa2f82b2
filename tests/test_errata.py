"""The errata catalogue: every verdict holds, and a flipped verdict is caught."""

from __future__ import annotations

import copy

import pytest

import bpkit.errata as E

IDS = list(E.CATALOG)


def test_catalogue_covers_all_five_sources():
    assert {f.source for f in E.CATALOG.values()} == set(E.SOURCES)
    assert len(E.ids(verdict="wrong")) >= 15


@pytest.mark.parametrize("fid", IDS)
def test_verdict_holds_and_flipping_it_is_caught(fid, monkeypatch):
    ev = E.check(fid)
    assert ev.lines, "a check must show what it computed"
    entry = E.CATALOG[fid]
    if entry.verdict == "wrong":
        assert entry.problem and entry.correction, "a wrong formula needs what is wrong and the correction"
    flipped = copy.copy(entry)
    flipped.verdict = "correct" if entry.verdict == "wrong" else "wrong"
    monkeypatch.setitem(E.CATALOG, fid, flipped)
    with pytest.raises(AssertionError, match=fid):
        E.check(fid)


def test_markdown_report_has_formula_verdict_and_evidence():
    text = E.markdown("scalar-delta-sign")
    assert "$$" in text and "✗ wrong" in text and "Correct:" in text and "Computed now:" in text


def test_unknown_id_lists_known_ones():
    with pytest.raises(KeyError, match="known: scalar-forward-no-bias"):
        E.get("nope")
