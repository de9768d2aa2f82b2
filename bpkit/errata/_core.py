"""The machinery of the errata catalogue: entries, cases, and the judge.

An entry is one formula of one source.  Its function returns a :class:`Case`:
the formula **as written** evaluated on a small explicit example, the
**corrected** formula evaluated on the same example, and an **independent
truth** for it (``sympy.diff`` of the loss of an explicit network with one
symbol per weight, or central differences in float64).  :func:`judge` compares
a value with the truth; the verdict of an entry is what the judge says:

* ``"correct"`` — the formula as written agrees with the truth;
* ``"wrong"`` — it does not (the counterexample is printed), the correction does;
* ``"slip"`` — the literal text disagrees with the truth (a missing index, a
  misnamed symbol, one letter for two things), but what the derivation then
  uses — the corrected reading — agrees.

A value may be a SymPy expression or Matrix, a NumPy array or float, or a
function of no arguments (called by the judge; a ``ShapeError`` or
``ValueError`` it raises — the product a formula asks for does not exist —
counts as disagreement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from ..symbolic import is_zero

SOURCES = {
    "src-scalar": "Per-neuron source (反向传播公式推导)",
    "src-guide": "Guide (反向传播算法指南)",
    "src-foursteps": "Four-steps source (Background propagation formula derivation)",
    "src-batch": "Batch-matrix source (传播)",
    "src-d2l-excerpt": "d2l excerpt (一文弄懂神经网络中的反向传播法)",
}
VERDICTS = {"correct": "✓ correct", "wrong": "✗ wrong", "slip": "⚠ notation slip"}

#: relative tolerance of the judge for floating-point values (central differences of a small gradient are good to ~1e-6 relative)
RTOL = 1e-5


@dataclass
class Case:
    """What an entry computes: the formula as written, the correction, and the truth to judge them by."""

    written: object
    truth: object
    corrected: object = None  # None: the formula as written is its own correction (a correct entry)
    what: str = ""  # what is compared, e.g. "∂L/∂w_21 of a 2-2-1 network"
    notes: list = field(default_factory=list)  # further lines to show the reader
    point: dict | None = None  # where to print numbers for a symbolic comparison

    def corrected_value(self):
        return self.written if self.corrected is None else self.corrected


@dataclass
class Judgement:
    holds: bool
    reason: str


@dataclass
class Evidence:
    """What a check computed: does the formula hold as written, and the lines that show it."""

    holds: bool
    lines: list = field(default_factory=list)
    corrected_holds: bool = True


@dataclass
class Formula:
    id: str
    source: str
    where: str
    written: str
    verdict: str
    problem: str
    correction: str
    chapter: str
    run: Callable[[], Case]

    @property
    def key(self):
        return self.id


CATALOG: dict[str, Formula] = {}


def formula(*, key, source, chapter, verdict, where, written, problem="", correction=""):
    """Register the decorated function (returning a :class:`Case`) as the check of one source formula."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {sorted(VERDICTS)}, got {verdict!r} for {key}")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} for {key}; known: {sorted(SOURCES)}")
    if verdict != "correct" and not correction:
        raise ValueError(f"{key}: a {verdict} formula needs its correction")

    def register(fn):
        if key in CATALOG:
            raise ValueError(f"duplicate erratum id {key}")
        CATALOG[key] = Formula(key, source, where, written, verdict, problem, correction, chapter, fn)
        return fn

    return register


# -- the judge ------------------------------------------------------------------------------------

def evaluate(value):
    """``(value, None)``, or ``(None, message)`` when computing it raises a shape error."""
    if callable(value) and not isinstance(value, (sp.Basic, sp.MatrixBase, np.ndarray)):
        try:
            return value(), None
        except (sp.ShapeError, ValueError) as err:
            return None, f"{type(err).__name__}: {err}"
    return value, None


def _is_numeric(v):
    return isinstance(v, (np.ndarray, float, int, np.floating, np.integer)) and not isinstance(v, bool)


def _fmt(x):
    return f"{x:.4g}"


def _as_float_array(v):
    if isinstance(v, sp.MatrixBase):
        return np.array(v.evalf(), dtype=float)
    return np.asarray(v, dtype=float)


def _sample(v, point):
    """A few numbers of a symbolic value at ``point`` (for the reader); None if it has no numeric value."""
    try:
        if isinstance(v, sp.MatrixBase):
            return "[" + ", ".join(_fmt(float(e.xreplace(point).evalf())) for e in list(v)[:4]) + \
                   (", …]" if len(v) > 4 else "]")
        return _fmt(float(sp.sympify(v).xreplace(point).evalf()))
    except (TypeError, ValueError):
        return None


def random_point(symbols, seed=0, low=-1.5, high=1.5):
    rng = np.random.default_rng(seed)
    return {s: sp.Float(float(rng.uniform(low, high)), 15) for s in sorted(symbols, key=str)}


def judge(value, truth, point=None) -> Judgement:
    """Does ``value`` agree with ``truth``?  Exactly for SymPy values, to ``RTOL`` for floating point."""
    value, error = evaluate(value)
    if error:
        what = "the product does not exist" if error.startswith("ShapeError") else "it cannot be evaluated"
        return Judgement(False, f"{what} — {error}")
    truth, terror = evaluate(truth)
    if terror:  # pragma: no cover - a truth must exist
        raise AssertionError(f"the truth itself fails: {terror}")
    if _is_numeric(value) or _is_numeric(truth):
        a, b = _as_float_array(value), _as_float_array(truth)
        if a.shape != b.shape:
            return Judgement(False, f"shape {a.shape} where the truth has shape {b.shape}")
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
        scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-300)
        holds = err <= RTOL * scale + 1e-14
        return Judgement(holds, f"max difference {err:.1e} (largest entry of the truth {scale:.3g})")
    if isinstance(value, sp.MatrixBase) or isinstance(truth, sp.MatrixBase):
        A, B = sp.Matrix(value), sp.Matrix(truth)
        if A.shape != B.shape:
            return Judgement(False, f"shape {A.shape} where the truth has shape {B.shape}")
        diff = A - B
    else:
        diff = sp.sympify(value) - sp.sympify(truth)
    if is_zero(diff):
        return Judgement(True, "the difference simplifies to 0")
    free = diff.free_symbols
    p = point if point is not None else random_point(free)
    a, b = _sample(value, p), _sample(truth, p)
    if a is not None and b is not None:
        return Judgement(False, f"at a random point {a}, the truth {b}")
    return Judgement(False, "the difference is not 0 (a random point refutes it)")


def perturb(value):
    """``value`` changed a little (× 1.001, + 0.001): the judge must notice (the tests prove it)."""
    value, error = evaluate(value)
    if error:
        raise ValueError("a value that does not exist cannot be perturbed")
    if _is_numeric(value):
        return np.asarray(value, dtype=float) * 1.001 + 1e-3
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: e * sp.Rational(1001, 1000) + sp.Rational(1, 1000))
    return sp.sympify(value) * sp.Rational(1001, 1000) + sp.Rational(1, 1000)


# -- running and showing --------------------------------------------------------------------------

def get(id) -> Formula:
    """The catalog entry ``id``; an unknown id lists the known ones."""
    try:
        return CATALOG[id]
    except KeyError:
        raise KeyError(f"no erratum {id!r}; known: {', '.join(CATALOG)}") from None


def evidence(id) -> Evidence:
    """Run one entry: judge the formula as written and the correction against the truth."""
    f = get(id)
    case = f.run()
    if not isinstance(case, Case):
        raise TypeError(f"errata {id}: the check must return a Case, got {type(case).__name__}")
    w = judge(case.written, case.truth, case.point)
    c = w if case.corrected is None else judge(case.corrected, case.truth, case.point)
    what = f"{case.what}: " if case.what else ""
    lines = [f"{what}as written it {'agrees with' if w.holds else 'DISAGREES with'} the truth ({w.reason})"]
    if case.corrected is not None:
        lines.append(f"corrected, it {'agrees' if c.holds else 'DISAGREES'} ({c.reason})")
    lines += list(case.notes)
    return Evidence(w.holds, lines, c.holds)


def check(id) -> Evidence:
    """Run one entry's check; raise AssertionError if its verdict no longer holds."""
    f = get(id)
    ev = evidence(id)
    expected = f.verdict == "correct"
    if ev.holds != expected or not ev.corrected_holds:
        raise AssertionError(
            f"errata {id}: recorded as {f.verdict!r}, but the formula as written "
            f"{'holds' if ev.holds else 'fails'} and the correction {'holds' if ev.corrected_holds else 'fails'}: "
            + "; ".join(ev.lines)
        )
    return ev


def markdown(id, ev=None) -> str:
    """The report of one entry as MyST Markdown: formula as written, verdict, correction, evidence."""
    f = get(id)
    ev = check(id) if ev is None else ev
    lines = [f"**{SOURCES[f.source]}**, {f.where} — **{VERDICTS[f.verdict]}**", "", "$$", f.written, "$$", ""]
    if f.problem:
        lines += [f.problem, ""]
    if f.correction:
        lines += ["Correct:", "", "$$", f.correction, "$$", ""]
    lines += ["Computed now:", ""] + [f"- {line}" for line in ev.lines]
    return "\n".join(lines)


def show(id):
    """Check one formula and display its report (Markdown in a notebook, text elsewhere)."""
    text = markdown(id)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return None
    except ImportError:  # pragma: no cover
        pass
    print(text)
    return None


def ids(source=None, verdict=None, chapter=None):
    """The ids in catalog order, optionally only one source's, one verdict's or one chapter's."""
    return [f.id for f in CATALOG.values()
            if (source is None or f.source == source) and (verdict is None or f.verdict == verdict)
            and (chapter is None or f.chapter == chapter)]


def summary_table() -> str:
    """A Markdown table: for each source, how many formulas were checked and how many are wrong or slips."""
    rows = ["| source | formulas checked | ✓ correct | ✗ wrong | ⚠ slip |", "|---|---|---|---|---|"]
    for key, name in SOURCES.items():
        entries = [f for f in CATALOG.values() if f.source == key]
        count = {v: sum(f.verdict == v for f in entries) for v in VERDICTS}
        rows.append(f"| {name} | {len(entries)} | {count['correct']} | {count['wrong']} | {count['slip']} |")
    return "\n".join(rows)


# -- helpers shared by the sources' modules ---------------------------------------------------------

def sigma(z):
    return 1 / (1 + sp.exp(-z))


def central_differences(f, x, h=1e-6):
    """∂f/∂x for a scalar function f of a float64 array x, by central differences (the independent oracle)."""
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g
