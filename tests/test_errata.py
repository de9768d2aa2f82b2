"""The errata catalogue: every entry evaluates the formula as written and the correction against an
independent truth; the verdicts follow from that comparison, and the comparison can fail."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

import bpkit.errata as E

ROOT = Path(__file__).resolve().parents[1]
IDS = list(E.CATALOG)
_CASES: dict = {}


def _case(fid):
    """Each entry runs once per session (SymPy is slow); the tests judge the same Case."""
    if fid not in _CASES:
        _CASES[fid] = E.CATALOG[fid].run()
    return _CASES[fid]


def _chapter_labels():
    """The labels ``(ch-…)=`` of the chapters the table of contents lists."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    labels = set()
    for f in files:
        path = ROOT / f"{f}.md"
        if path.exists():
            labels |= set(re.findall(r"^\((ch-[\w-]+)\)=\s*$", path.read_text(), flags=re.M))
    return labels


def test_catalogue_covers_all_five_sources():
    assert {f.source for f in E.CATALOG.values()} == set(E.SOURCES)
    assert len(E.ids(verdict="wrong")) >= 15


@pytest.mark.parametrize("fid", IDS)
def test_written_and_corrected_are_both_judged_and_the_verdict_follows(fid):
    entry = E.CATALOG[fid]
    case = _case(fid)
    assert isinstance(case, E.Case)
    written = E.judge(case.written, case.truth, case.point)
    corrected = E.judge(case.corrected_value(), case.truth, case.point)
    assert corrected.holds, f"{fid}: the correction must agree with the truth ({corrected.reason})"
    if entry.verdict == "correct":
        assert written.holds, f"{fid}: recorded correct, but as written: {written.reason}"
        assert written.holds == corrected.holds
    else:  # wrong, or a slip whose literal reading disagrees
        assert not written.holds, f"{fid}: recorded {entry.verdict}, but the formula as written agrees"
        assert written.holds != corrected.holds
        assert entry.problem and entry.correction, "a wrong formula needs what is wrong and the correction"


@pytest.mark.parametrize("fid", IDS)
def test_the_judge_notices_a_perturbed_value(fid):
    """The truth is not vacuous: the corrected value × 1.001 + 0.001 is judged wrong."""
    case = _case(fid)
    assert not E.judge(E.perturb(case.corrected_value()), case.truth, case.point).holds


@pytest.mark.parametrize("fid", IDS)
def test_a_flipped_verdict_is_caught(fid, monkeypatch):
    cached = copy.copy(E.CATALOG[fid])
    cached.run = lambda: _case(fid)
    monkeypatch.setitem(E.CATALOG, fid, cached)
    ev = E.check(fid)
    assert ev.lines, "a check must show what it computed"
    flipped = copy.copy(cached)
    flipped.verdict = "correct" if flipped.verdict != "correct" else "wrong"
    monkeypatch.setitem(E.CATALOG, fid, flipped)
    with pytest.raises(AssertionError, match=fid):
        E.check(fid)


def test_every_entry_names_a_real_chapter():
    labels = _chapter_labels()
    assert "ch-notation" in labels
    missing = {f.id: f.chapter for f in E.CATALOG.values() if f.chapter not in labels}
    assert not missing, f"entries whose chapter is not a chapter of _toc.yml: {missing}"


def test_entries_are_declared_with_keywords_only():
    with pytest.raises(TypeError):
        E.formula("x", "src-scalar", "ch-notation", "correct", "here", "x")  # positional arguments refused
    with pytest.raises(ValueError, match="verdict"):
        E.formula(key="x", source="src-scalar", chapter="ch-notation", verdict="maybe", where="", written="")
    with pytest.raises(ValueError, match="correction"):
        E.formula(key="x", source="src-scalar", chapter="ch-notation", verdict="wrong", where="", written="")


def test_a_product_that_does_not_exist_is_judged_as_disagreeing():
    import sympy as sp

    A, x = sp.ones(3, 2), sp.ones(3, 1)
    j = E.judge(lambda: A * x, sp.ones(2, 1))
    assert not j.holds and "ShapeError" in j.reason


def test_the_middle_step_of_the_per_neuron_chain_is_wrong():
    """Source 000's ∂(Σ w o)/∂o_q = w_qk f'(z_q): the one wrong formula the old catalogue missed."""
    assert E.get("scalar-dzk-dzq").verdict == "wrong"
    ev = E.check("scalar-dzk-dzq")
    assert not ev.holds and ev.corrected_holds and "DISAGREES" in ev.lines[0]


def test_markdown_report_has_formula_verdict_and_evidence():
    text = E.markdown("scalar-delta-sign")
    assert "$$" in text and "✗ wrong" in text and "Correct:" in text and "Computed now:" in text


def test_unknown_id_lists_known_ones():
    with pytest.raises(KeyError, match="known: scalar-forward-no-bias"):
        E.get("nope")
