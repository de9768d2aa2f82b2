"""The narrow wire between the student's sandboxed process and the grader: JSON lines only.

What may cross: None, bools, ints, floats, complex, strings, lists, tuples, dicts with string keys,
NumPy arrays of numeric or boolean dtype (raw bytes, base64), SymPy expressions and matrices rebuilt
from a whitelist of SymPy classes (never ``sympify``/``eval`` of a string), and two kinds of handles:
``function`` (a callable that stays in the student's process and is called across the boundary) and
``callback`` (a callable of the grader's tests that the student's function may call back).
Nothing is ever unpickled.  Anything else becomes an ``unsupported`` marker naming its type.
"""

from __future__ import annotations

import base64
import json
import math

MAX_DEPTH = 40
MAX_LINE = 64 * 1024 * 1024          # bytes of one message
NUMERIC_KINDS = "biufc"

# SymPy classes an answer may be built from (rebuilt as ``getattr(sympy, name)(*args)``)
SYMPY_FUNCS = {
    "Add", "Mul", "Pow", "exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
    "Abs", "sign", "Max", "Min", "Heaviside", "sqrt", "Piecewise", "ExprCondPair", "Eq", "Ne", "Lt", "Le",
    "Gt", "Ge", "StrictLessThan", "LessThan", "StrictGreaterThan", "GreaterThan", "Equality", "Unequality",
    "And", "Or", "Not", "Derivative", "Integral", "Tuple", "Sum", "Product", "KroneckerDelta", "conjugate",
    "re", "im", "floor", "ceiling", "atan2", "erf", "gamma", "factorial", "binomial", "Transpose",
    "MatrixSymbol", "MatrixElement", "MatMul", "MatAdd", "MatPow", "HadamardProduct", "Inverse", "Trace",
    "Lambda",
}
SYMPY_SINGLETONS = {"Zero", "One", "NegativeOne", "Half", "Pi", "Exp1", "ImaginaryUnit", "Infinity",
                    "NegativeInfinity", "ComplexInfinity", "NaN", "EulerGamma", "BooleanTrue", "BooleanFalse"}


class WireError(ValueError):
    """A message that does not follow the wire's format."""


def _sympy():
    import sympy
    return sympy


def encode(value, handles=None, depth=0):
    """A JSON-able description of ``value``; callables go into ``handles`` (id → callable)."""
    if depth > MAX_DEPTH:
        return {"unsupported": "nesting too deep"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 63 else {"bigint": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, complex):
        return {"complex": [encode(value.real), encode(value.imag)]}
    mod = type(value).__module__ or ""
    if mod.startswith("numpy"):
        import numpy as np
        if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
            return encode(value.item(), handles, depth + 1)
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in NUMERIC_KINDS:
                return {"unsupported": f"NumPy array of dtype {value.dtype}"}
            arr = np.ascontiguousarray(value)
            return {"ndarray": base64.b64encode(arr.tobytes()).decode(), "dtype": arr.dtype.str,
                    "shape": list(arr.shape)}
    if mod.startswith("sympy") or _is_sympy(value):
        return _encode_sympy(value, handles, depth)
    if isinstance(value, (list, tuple)):
        items = [encode(v, handles, depth + 1) for v in value]
        return items if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"dict": {k: encode(v, handles, depth + 1) for k, v in value.items()}}
        return {"unsupported": "dict with non-string keys"}
    if callable(value) and handles is not None:
        key = str(len(handles))
        handles[key] = value
        return {"function": key, "name": getattr(value, "__name__", type(value).__name__)}
    return {"unsupported": type(value).__name__}


def _is_sympy(value):
    import sys
    sp = sys.modules.get("sympy")
    return sp is not None and isinstance(value, (sp.Basic, sp.MatrixBase))


def _encode_sympy(value, handles, depth):
    sp = _sympy()
    if isinstance(value, sp.MatrixBase):
        return {"sympy_matrix": [[encode(value[i, j], handles, depth + 1) for j in range(value.cols)]
                                 for i in range(value.rows)], "shape": list(value.shape)}
    if not isinstance(value, sp.Basic):
        return {"unsupported": type(value).__name__}
    name = type(value).__name__
    if isinstance(value, sp.Symbol):    # Dummy and Wild become plain symbols
        return {"symbol": value.name, "assumptions": {k: v for k, v in value._assumptions_orig.items()
                                                      if isinstance(v, bool)}}
    if isinstance(value, sp.Integer):
        return {"integer": str(value.p)}
    if isinstance(value, sp.Rational):
        return {"rational": [str(value.p), str(value.q)]}
    if isinstance(value, sp.Float):
        sign, man, exp, bc = value._mpf_
        return {"sfloat": [int(sign), str(int(man)), int(exp), int(bc)], "prec": value._prec}
    if name in SYMPY_SINGLETONS:
        return {"singleton": name}
    if isinstance(value, sp.core.function.AppliedUndef):
        return {"undef": type(value).__name__, "args": [encode(a, handles, depth + 1) for a in value.args]}
    if name in SYMPY_FUNCS:
        return {"sympy": name, "args": [encode(a, handles, depth + 1) for a in value.args]}
    return {"unsupported": f"SymPy {name}"}


class Unsupported:
    """Stands for a value the wire could not carry; a test that uses it fails with this message."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return f"<a value of type {self.what}, which the grader cannot receive>"


def decode(data, make_function=None, depth=0):
    """The value ``encode`` described; ``make_function(key, name)`` builds a stand-in for a callable."""
    if depth > MAX_DEPTH:
        raise WireError("nesting too deep")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, make_function, depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise WireError(f"unexpected {type(data).__name__}")
    if "tuple" in data:
        return tuple(decode(v, make_function, depth + 1) for v in _list(data["tuple"]))
    if "dict" in data:
        return {str(k): decode(v, make_function, depth + 1) for k, v in _dict(data["dict"]).items()}
    if "bigint" in data:
        return int(_str(data["bigint"]))
    if "float" in data:
        return float(_str(data["float"]))
    if "complex" in data:
        re_, im_ = _list(data["complex"])
        return complex(decode(re_), decode(im_))
    if "ndarray" in data:
        import numpy as np
        dtype = np.dtype(_str(data["dtype"]))
        if dtype.kind not in NUMERIC_KINDS:
            raise WireError(f"dtype {dtype} is not allowed")
        shape = tuple(int(n) for n in _list(data["shape"]))
        return np.frombuffer(base64.b64decode(_str(data["ndarray"])), dtype=dtype).reshape(shape).copy()
    if "unsupported" in data:
        return Unsupported(_str(data["unsupported"]))
    if "function" in data or "callback" in data:
        if make_function is None:
            raise WireError("no function handles expected here")
        kind = "function" if "function" in data else "callback"
        return make_function(_str(data[kind]), _str(data.get("name", "?")))
    return _decode_sympy(data, make_function, depth)


def _decode_sympy(data, make_function, depth):
    sp = _sympy()
    if "sympy_matrix" in data:
        rows = [[decode(v, make_function, depth + 1) for v in _list(r)] for r in _list(data["sympy_matrix"])]
        shape = [int(n) for n in _list(data["shape"])]
        return sp.Matrix(rows) if all(shape) else sp.zeros(*shape)
    if "symbol" in data:
        assumptions = {str(k): bool(v) for k, v in _dict(data.get("assumptions", {})).items()
                       if isinstance(v, bool) and str(k).isidentifier()}
        try:
            return sp.Symbol(_str(data["symbol"]), **assumptions)
        except Exception as exc:     # inconsistent assumptions
            raise WireError(f"symbol: {exc}") from None
    if "integer" in data:
        return sp.Integer(int(_str(data["integer"])))
    if "rational" in data:
        p, q = _list(data["rational"])
        return sp.Rational(int(_str(p)), int(_str(q)))
    if "sfloat" in data:
        sign, man, exp, bc = _list(data["sfloat"])
        mpf = (int(sign) & 1, int(_str(man)), int(exp), int(bc))
        return sp.Float._new(mpf, int(data.get("prec", 53)))
    if "singleton" in data:
        name = _str(data["singleton"])
        if name not in SYMPY_SINGLETONS:
            raise WireError(f"unknown singleton {name}")
        return getattr(sp.S, name)
    if "undef" in data:
        name = _str(data["undef"])
        return sp.Function(name)(*[decode(a, make_function, depth + 1) for a in _list(data["args"])])
    if "sympy" in data:
        name = _str(data["sympy"])
        if name not in SYMPY_FUNCS:
            raise WireError(f"SymPy class {name} is not allowed")
        args = [decode(a, make_function, depth + 1) for a in _list(data["args"])]
        if name == "Pow" and len(args) == 2 and all(getattr(a, "is_Number", False) for a in args) \
                and abs(args[1]) > 10 ** 4:
            raise WireError("a power of numbers with an exponent above 10⁴")
        cls = getattr(sp, name)
        try:
            return cls(*args)
        except Exception as exc:
            raise WireError(f"SymPy {name}: {exc}") from None
    raise WireError(f"unknown value {sorted(data)[:3]}")


def _list(v):
    if not isinstance(v, list):
        raise WireError("expected a list")
    return v


def _dict(v):
    if not isinstance(v, dict):
        raise WireError("expected an object")
    return v


def _str(v):
    if not isinstance(v, str):
        raise WireError("expected a string")
    return v


def dumps(message) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def loads(line: bytes):
    if len(line) > MAX_LINE:
        raise WireError("message too long")
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise WireError("a message is an object with an 'op'")
    return message
