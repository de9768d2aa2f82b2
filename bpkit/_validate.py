"""Input checks: bad input gets a clear ValueError/TypeError here, never a NaN later.

Every message says *where* (which layer or argument), what was expected and
what arrived, so that a student never has to read a traceback from inside NumPy.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class NonFiniteError(FloatingPointError, ValueError):
    """A loss, an output or a gradient that is NaN or infinite (an overflow, or NaN parameters).

    A :class:`FloatingPointError` (as NumPy's ``errstate(all="raise")`` would raise) and, for code
    written against earlier versions of bpkit, a :class:`ValueError`.
    """


def first_bad(arr) -> str:
    """``"NaN at [2, 1]"``: the first non-finite entry of ``arr``."""
    arr = np.asarray(arr)
    bad = np.argwhere(~np.isfinite(arr))
    if not bad.size:
        return "no non-finite entry"
    idx = tuple(int(i) for i in bad[0])
    return f"{arr[idx]} at {list(idx)} ({len(bad)} non-finite entr{'y' if len(bad) == 1 else 'ies'})"


def as_dtype(dtype) -> np.dtype:
    """The network dtype: float64 or float32."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be np.float64 or np.float32, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be np.float64 or np.float32, got {dt}")
    return dt


def numeric_array(x, what: str) -> np.ndarray:
    """``np.asarray(x)`` that refuses text, objects, complex numbers, ragged lists and masked arrays."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{what} is a masked array: bpkit would ignore its mask and use the hidden values. "
            f"Drop the masked samples (keep the rows ~np.ma.getmaskarray(a).any(axis=1)) or fill them "
            f"(a.filled(value)) first"
        )
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{what} must be a numeric array; could not convert it ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{what} must hold real numbers (int or float); got dtype {arr.dtype}"
        )
    return arr


def all_finite(arr: np.ndarray) -> bool:
    """True if every entry is finite.

    A small array is scanned directly.  For a large one a reduction (Σx², or the sum) is finite exactly
    when every entry is, unless it overflows; only then (or for a real NaN/inf) is it scanned entry by entry.
    """
    if arr.flags.c_contiguous and arr.dtype.kind == "f":
        return math.isfinite(_vdot(arr, arr)) or bool(np.isfinite(arr).all())  # Σx²: one BLAS call, no warning
    if arr.size <= 4096:
        return bool(np.isfinite(arr).all())
    with np.errstate(over="ignore", invalid="ignore"):
        # Σx² (one BLAS dot product, faster than a sum) is finite exactly when every entry is, unless
        # it overflows (|x| ≳ 1e154 in float64, 1e19 in float32): then the entries are scanned
        if math.isfinite(np.vdot(arr, arr) if arr.flags.c_contiguous else arr.sum()):
            return True
    return bool(np.isfinite(arr).all())


def sum_finite(arr: np.ndarray) -> bool:
    """:func:`all_finite` by one reduction, for callers already inside ``np.errstate(over="ignore",
    invalid="ignore")`` (Σx², or the sum, is finite exactly when every entry is, unless it overflows: then
    the entries are scanned)."""
    if type(arr) is np.ndarray and arr.flags.c_contiguous and arr.dtype.kind == "f":
        return math.isfinite(_vdot(arr, arr)) or bool(np.isfinite(arr).all())
    return math.isfinite(_add_reduce(arr, axis=None)) or bool(np.isfinite(arr).all())


_add_reduce = np.add.reduce  # ndarray.sum without its Python-level wrapper
_vdot = np.vdot

_HALF_MAX = {np.dtype(np.float64): float(np.finfo(np.float64).max) / 2,
             np.dtype(np.float32): float(np.finfo(np.float32).max) / 2}


def product_grads_finite(A, D) -> bool:
    """True if ``A`` and ``D`` are finite and no entry of Aᵀ D or of 1ᵀ D can overflow.

    By Cauchy–Schwarz |(Aᵀ D)_ij| ≤ Σ_k |A_ki||D_kj| ≤ ‖A‖_F ‖D‖_F and |(1ᵀ D)_j| ≤ √m ‖D‖_F, so when
    ‖A‖_F, ‖D‖_F are finite and those bounds stay below half the dtype's largest number (room for the
    rounding of any order of summation), every entry of a dense layer's gradients Aᵀδ and 1ᵀδ is finite.
    Two dot products over arrays of shape (m, n) instead of a pass over the n_in × n_out weight gradient.
    False means "not proven": the caller then scans the gradients themselves.
    """
    limit = _HALF_MAX.get(D.dtype)
    if limit is None or A.dtype != D.dtype:
        return False
    a, d = float(_vdot(A, A)), float(_vdot(D, D))  # NaN or inf if any entry is (or if they overflow)
    if not (math.isfinite(a) and math.isfinite(d)):
        return False
    d = math.sqrt(d)
    return math.sqrt(a) * d <= limit and math.sqrt(D.shape[0]) * d <= limit


def _text(where) -> str:
    """Error-message parts may be passed as callables: they are only built when an error is raised."""
    return where() if callable(where) else where


def batch(x, what: str, width: int, dtype: np.dtype, where) -> np.ndarray:
    """A 2-D batch of shape (m, width), m >= 1, finite, cast to ``dtype``.

    ``where`` names the layer that will read it, e.g. ``"layer 0 (Dense 3→4)"`` (or a callable
    returning that text, built only for an error message).
    """
    if type(x) is np.ndarray and x.dtype == dtype and x.ndim == 2 and x.shape[1] == width and x.shape[0] > 0:
        if all_finite(x):
            return x  # the common case: nothing to convert
    arr = numeric_array(x, what)
    where = _text(where)
    if arr.ndim != 2:
        hint = f"; for one sample use {what}.reshape(1, -1)" if arr.ndim == 1 else ""
        raise ValueError(
            f"{where} expects {what} of shape (m, {width}) with one sample per row; "
            f"got a {arr.ndim}-D array of shape {arr.shape}{hint}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{where} expects {what} of shape (m, {width}) with m >= 1; got an empty batch {arr.shape}")
    if arr.shape[1] != width:
        raise ValueError(f"{where} expects {what} of shape (m, {width}); got {arr.shape}")
    arr = arr.astype(dtype, copy=False)
    if not all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{what} contains a non-finite value (NaN or inf) at row {bad[0]}, column {bad[1]}"
        )
    return arr


def targets(t, m: int, width: int, dtype: np.dtype, where) -> np.ndarray:
    """Targets T of shape (m, width), finite, cast to ``dtype``."""
    if type(t) is np.ndarray and t.dtype == dtype and t.shape == (m, width) and all_finite(t):
        return t  # the common case
    arr = numeric_array(t, "T")
    where = _text(where)
    if arr.shape != (m, width):
        hint = "; use T.reshape(-1, 1) for a single output" if arr.ndim == 1 and width == 1 else ""
        raise ValueError(
            f"{where} produces outputs of shape ({m}, {width}), so T must have shape ({m}, {width}); "
            f"got {arr.shape}{hint}"
        )
    arr = arr.astype(dtype, copy=False)
    if not all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"T contains a non-finite value (NaN or inf) at row {bad[0]}, column {bad[1]}")
    return arr


def real_scalar(x, what: str, *, positive: bool = False, nonnegative: bool = False) -> float:
    """A finite real number, optionally > 0 or >= 0."""
    if type(x) is float and x == x and abs(x) != float("inf") and not (positive and x <= 0) and not (nonnegative and x < 0):
        return x  # the common case, in one expression
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__} {x!r}")
    value = float(x)
    if not np.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{what} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return value


MAX_LR = 1e4
"""The largest learning rate accepted.  A step θ − η g with η above this is a typo (``1e308``) or a
schedule that diverged: the book's networks train with η ≤ 10."""


def learning_rate(lr) -> float:
    """η: a finite real number with 0 < η <= MAX_LR."""
    lr = real_scalar(lr, "lr (the learning rate)", positive=True)
    if lr > MAX_LR:
        raise ValueError(
            f"lr (the learning rate) must be at most {MAX_LR:g} (a larger step is a typo or a diverged "
            f"schedule); got {lr:g}"
        )
    return lr


def count(n, what: str, *, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (an epoch count, a recording interval); 2.7 is refused, not truncated."""
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {n}")
    return int(n)


def width(n, what: str) -> int:
    """A layer width: a positive integer."""
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"{what} must be a positive integer, got {type(n).__name__} {n!r}")
    if n <= 0:
        raise ValueError(f"{what} must be a positive integer, got {n}")
    return int(n)


def choice(name, options: dict, what: str):
    """Look ``name`` up in ``options``; an unknown name lists the valid ones."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a name (str), got {type(name).__name__}")
    try:
        return options[name]
    except KeyError:
        valid = ", ".join(repr(k) for k in options)
        raise ValueError(f"unknown {what} {name!r}; valid: {valid}") from None
