"""Grade one submission: the student's cells run in the sandbox, the tests run here.

The grader walks the instructor's source notebook.  Every cell that is not a test runs twice: in the
sandbox as the student has it (the chapter's own cells as released, the answer cells and any cells the
student added as submitted) and here with the instructor's solutions, which makes the reference
namespace the tests run in.  For each test cell, the names the preceding answer cells define inside
their solution region (``answer``, ``fold_bias_rows`` …) are replaced by the student's values received
over the wire (wire.py); a student's function stays in the sandbox and is called across the boundary.
So nothing the student's code does can change what a test or its references compute.

A test's points are lost only when the test fails; the report says why: the assertion's message (for
visible tests), "a hidden test failed", a value that could not be received, the answer cell that
raised, called exit() or ran out of time, or a ``# grader: forbid NAME`` line of the test that the
answer broke.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import pickle
import re
import signal
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from . import wire
from .sandbox import Limits, Sandbox, SandboxError

SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.S | re.M)
HIDDEN = re.compile(r"^[ \t]*### (BEGIN|END) HIDDEN TESTS[ \t]*\n?", re.M)
FORBID = re.compile(r"^[ \t]*# grader: forbid (.+)$", re.M)
TEST_TIMEOUT = 120      # seconds a test may take in the grader (a SymPy expression can be made slow)


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _src(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def solution_names(source: str) -> list[str]:
    """Names bound at the top level by statements that overlap the cell's solution region."""
    match = SOLUTION.search(source)
    if not match:
        return []
    first = source[:match.start()].count("\n") + 1
    last = first + match.group(0).count("\n")
    code = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*$", "", source, flags=re.M)
    names = []
    for node in ast.parse(code).body:
        if node.end_lineno < first or node.lineno > last:
            continue
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            continue
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.append(sub.id)
    return list(dict.fromkeys(names))


def reference_source(source: str) -> str:
    return re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", source, flags=re.M)


def test_source(source: str) -> str:
    return HIDDEN.sub("", source)


# -- the `# grader: forbid …` constraints -----------------------------------------------------------
def forbidden_uses(answer: str, rules: list[str]) -> list[str]:
    """Messages for every use of a forbidden name in the student's answer (empty: none)."""
    try:
        tree = ast.parse(answer)
    except SyntaxError:
        return []      # the cell's own error is reported instead
    found = []
    evasions = {"eval", "exec", "getattr", "__import__", "compile", "globals", "vars", "importlib", "__dict__"}
    for rule in (r.strip() for r in rules):
        if rule == "@":
            if any(isinstance(n, ast.MatMult) for n in ast.walk(tree)):
                found.append("this exercise asks for explicit loops: the matrix product `@` is not allowed")
            continue
        module = "." not in rule
        words = {"bp", "bpkit"} if rule in ("bp", "bpkit") else {rule.split(".")[-1]}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                hit = not module and node.attr in words
            elif isinstance(node, ast.Name):
                hit = node.id in words
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                hit = node.value in words or node.value.split(".")[0] in words - {"bp"}
            elif isinstance(node, ast.Import):
                hit = any(a.name.split(".")[0] in words or (a.asname or "") in words for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                hit = (node.module or "").split(".")[0] in words or any(a.name in words for a in node.names)
            else:
                hit = False
            if hit:
                found.append(f"this exercise asks you not to use `{rule}` (line {node.lineno} of your answer "
                             f"does); write it out yourself")
                break
        for node in ast.walk(tree):
            if (isinstance(node, ast.Name) and node.id in evasions) or (isinstance(node, ast.Attribute) and node.attr in evasions):
                found.append(f"`{getattr(node, 'id', None) or node.attr}` is not allowed in this exercise's answer "
                             f"(it could hide a use of `{rule}`)")
                break
    return list(dict.fromkeys(found))


# -- calls into the sandbox ---------------------------------------------------------------------------
class StudentError(Exception):
    """Raised by a call into the student's process that failed there."""


class Proxy:
    """Stands for a function the student defined; calling it calls it in the sandbox."""

    def __init__(self, box: Sandbox, handle: str, name: str, timeout: float):
        self.box, self.handle, self.__name__, self.timeout = box, handle, name, timeout

    def __repr__(self):
        return f"<your function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        callbacks = {}
        seq = self.box.request({"op": "call", "handle": self.handle,
                                "args": wire.encode(list(args), callbacks),
                                "kwargs": wire.encode(kwargs, callbacks), "timeout": self.timeout},
                               self.timeout)
        # arguments that are callables (an activation's derivative …) run here, on arrays only
        callbacks = {k: v for k, v in callbacks.items()}
        while True:
            msg = self.box.receive(self.timeout + 10)
            if msg["op"] == "callback":
                fn = callbacks.get(str(msg.get("handle")))
                try:
                    if fn is None:
                        raise ValueError("unknown callback")
                    value = fn(*wire.decode(msg.get("args", [])), **wire.decode(msg.get("kwargs", {"dict": {}})))
                    self.box.send({"op": "callback_result", "value": wire.encode(value)})
                except Exception as exc:  # noqa: BLE001
                    self.box.send({"op": "callback_result", "error": f"{type(exc).__name__}: {exc}"})
                continue
            if msg["op"] != "result" or msg.get("seq") != seq:
                raise SandboxError("the notebook's process broke the protocol")
            if "error" in msg:
                raise StudentError(self.__name__, str(msg["error"]))
            return wire.decode(msg.get("value"), self._function)

    def _function(self, key, name):
        return Proxy(self.box, key, name, self.timeout)


# -- the report ------------------------------------------------------------------------------------
@dataclass
class TestResult:
    grade_id: str
    points: float
    max_points: float
    hidden: bool
    passed: bool
    message: str = ""
    output: str = ""


@dataclass
class CellReport:
    index: int
    kind: str            # "chapter", "answer", "added"
    grade_id: str | None
    source: str
    status: str
    error: str = ""
    stdout: str = ""
    stderr: str = ""


@dataclass
class Report:
    tests: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    seconds: float = 0.0
    sandbox_cpu: float | None = None     # CPU seconds of the student's processes (as reported from the sandbox)

    @property
    def score(self):
        return sum(t.points for t in self.tests)

    @property
    def max_score(self):
        return sum(t.max_points for t in self.tests)

    def as_dict(self):
        return {"score": self.score, "max_score": self.max_score, "seconds": self.seconds,
                "sandbox_cpu": self.sandbox_cpu,
                "problems": self.problems, "tests": [t.__dict__ for t in self.tests],
                "cells": [c.__dict__ for c in self.cells]}


# -- the plan ----------------------------------------------------------------------------------------
def plan(source_nb: dict, student_nb: dict):
    """Items in notebook order: ("chapter", src, ref) · ("answer", gid, student_src, ref, names) ·
    ("added", student_src) · ("test", gid, code, points, hidden, forbid, answer_gid)."""
    answers = {}
    for cell in student_nb.get("cells", []):
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            answers.setdefault(meta["grade_id"], _src(cell))
    source_ids = {c.get("id") for c in source_nb["cells"] if c.get("id")}
    # a notebook saved without cell ids (nbformat < 4.5) is matched by the cells' text instead
    source_text = {_src(c).strip(): c.get("id") for c in source_nb["cells"] if c.get("cell_type") == "code"}
    # cells the student added after a chapter cell (matched by its id), in the student's order
    added, anchor = {}, None
    for cell in student_nb.get("cells", []):
        meta = nbgrader_meta(cell)
        if cell.get("id") in source_ids or meta.get("grade_id"):
            anchor = meta.get("grade_id") or cell.get("id")
        elif cell.get("cell_type") == "code" and _src(cell).strip() in source_text:
            anchor = source_text[_src(cell).strip()]
        elif cell.get("cell_type") == "code" and _src(cell).strip():
            added.setdefault(anchor, []).append(_src(cell))
    items = [("added", s) for s in added.get(None, [])]
    last_answer = None
    for cell in source_nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        meta, src = nbgrader_meta(cell), _src(cell)
        key = meta.get("grade_id") or cell.get("id")
        if meta.get("grade"):
            hidden = "### BEGIN HIDDEN TESTS" in src
            items.append(("test", meta["grade_id"], test_source(src), float(meta.get("points", 0)), hidden,
                          FORBID.findall(src), last_answer))
        elif meta.get("solution"):
            last_answer = meta["grade_id"]
            items.append(("answer", meta["grade_id"], answers.get(meta["grade_id"]), reference_source(src),
                          solution_names(src)))
        else:
            items.append(("chapter", src, src))
        items += [("added", s) for s in added.get(key, [])]
    return items


def _run_reference(code, ns, label):
    """Run a cell of the instructor's notebook here (its output is not wanted); return its code object."""
    from IPython.core.inputtransformer2 import TransformerManager
    compiled = compile(TransformerManager().transform_cell(code), f"<{label}>", "exec")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exec(compiled, ns)
    return compiled


def _code_names(codes) -> set:
    """The names code objects (and the functions and classes nested in them) read: their co_names."""
    names, stack = set(), list(codes)
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(x for x in c.co_consts if isinstance(x, types.CodeType))
    return names


def _codes_of(value, labels):
    """Code objects of a function, class or instance the notebook itself defined (compiled from ``labels``)."""
    if isinstance(value, types.FunctionType):
        return [value.__code__] if value.__code__.co_filename in labels else []
    cls = value if isinstance(value, type) else type(value)
    codes = []
    for klass in getattr(cls, "__mro__", ()):
        for attr in vars(klass).values():
            attr = getattr(attr, "__func__", attr)
            if isinstance(attr, types.FunctionType) and attr.__code__.co_filename in labels:
                codes.append(attr.__code__)
    return codes


def _reads(code: str, ns: dict, labels) -> set:
    """The global names a test reads: its own, and (transitively) those of the notebook's functions it uses."""
    names = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    frontier = set(names)
    while frontier:
        found = set()
        for name in frontier:
            found |= _code_names(_codes_of(ns.get(name), labels))
        frontier = found - names
        names |= found
    return names


class _TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise _TestTimeout()


_ABSENT = object()


def _state(ns, name):
    """(identity, pickled bytes or None, the value) of a name: equal first two mean an unchanged value."""
    value = ns.get(name, _ABSENT)
    if value is _ABSENT:
        return (None, b"", value)
    try:
        return (id(value), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), value)
    except Exception:  # noqa: BLE001 — modules, widgets, the notebook's functions: compared by identity
        return (id(value), None, value)


class Reference:
    """The instructor's notebook run once for a whole batch: the namespace every submission's tests run in.

    The chapter's cells and the solutions run here in notebook order, and each test cell too (on the
    solutions' own values), as they would for a student whose answers are right.  Before each test, the
    state of every name the test reads — its own names and, transitively, the global names of the
    notebook's functions it uses — is recorded; a name that a later cell (or the test itself) rebinds or
    changes in place is put back before the test runs for a student: unpickled afresh from the recorded
    bytes, or, for what cannot be pickled (a function, a module), the very object it was bound to then.
    So each test sees the namespace it saw in notebook order.

    Each submission's grader is a process forked from the one holding this object, so the namespace is
    copied, never shared: nothing one submission's tests do reaches another's.
    """

    def __init__(self, source_nb: dict):
        started = time.monotonic()
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.restore = {}          # test grade_id → {name: ("absent",) | ("pickle", bytes) | ("object", value)}
        states, labels = {}, {"<reference cell>"}
        old = signal.signal(signal.SIGALRM, _alarm)
        try:
            for item in plan(source_nb, {"cells": []}):
                if item[0] == "chapter":
                    _run_reference(item[2], self.ns, "reference cell")
                elif item[0] == "answer":
                    labels.add(f"<reference {item[1]}>")
                    _run_reference(item[3], self.ns, f"reference {item[1]}")
                elif item[0] == "test":
                    gid, code = item[1], item[2]
                    states[gid] = {n: _state(self.ns, n) for n in _reads(code, self.ns, labels)}
                    try:
                        signal.alarm(TEST_TIMEOUT)
                        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                            exec(compile(code, f"<test {gid}>", "exec"), self.ns)
                    except Exception:  # noqa: BLE001 — the instructor's own test failing is not ours to judge
                        pass
                    finally:
                        signal.alarm(0)
        finally:
            signal.signal(signal.SIGALRM, old)
        for gid, recorded in states.items():
            for name, (ident, data, value) in recorded.items():
                if _state(self.ns, name)[:2] == (ident, data):
                    continue
                self.restore.setdefault(gid, {})[name] = (("absent",) if ident is None else ("object", value)
                                                          if data is None else ("pickle", data))
        self.seconds = round(time.monotonic() - started, 2)

    def before_test(self, gid, ns):
        """Put back the names test ``gid`` reads as they were when it ran in notebook order."""
        for name, how in self.restore.get(gid, {}).items():
            if how[0] == "absent":
                ns.pop(name, None)
            else:
                ns[name] = pickle.loads(how[1]) if how[0] == "pickle" else how[1]


def grade(source_nb: dict, student_nb: dict, workdir: Path, slot=0, limits: Limits | None = None,
          reference: Reference | None = None, prune: bool = True) -> Report:
    """Grade ``student_nb`` against ``source_nb`` (both as JSON dicts); ``workdir`` is the student's.

    ``reference``: the instructor's notebook already run (``Reference(source_nb)``, in a process this one
    was forked from, so its namespace is this process's own copy); without it, the reference cells run
    here between the student's cells.  ``prune``: chapter cells that no cell of the student reads from
    (``skippable``) are not run in the student's process.
    """
    limits = limits or Limits()
    report = Report()
    started = time.monotonic()
    items = plan(source_nb, student_nb)
    skip = skippable(items) if prune else set()
    ns = reference.ns if reference is not None else {"__name__": "__main__", "__builtins__": builtins}
    student = {}        # name → (value, answer grade_id)
    status = {}         # answer grade_id → CellReport
    box = None
    broken = None       # why the sandbox can no longer be used
    try:
        box = Sandbox(workdir, slot, limits)
    except SandboxError as exc:
        broken = f"the notebook could not be started: {exc}"
        report.problems.append(broken)
    cell_no = 0
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for position, item in enumerate(items):
            kind = item[0]
            if kind in ("chapter", "answer", "added"):
                if kind == "answer" and item[2] is None:
                    report.problems.append(f"the answer cell {item[1]} is missing from the notebook")
                student_src = {"chapter": lambda: item[1], "answer": lambda: item[2] or "",
                               "added": lambda: item[1]}[kind]()
                names = item[4] if kind == "answer" else []
                cell = CellReport(cell_no, kind, item[1] if kind == "answer" else None, student_src, "not run")
                if position in skip:
                    cell.status = "skipped"      # nothing the student's cells read: the grader's reference runs it
                elif broken is None:
                    try:
                        box.request({"op": "cell", "index": cell_no, "source": student_src, "names": names,
                                     "timeout": limits.cell_timeout}, limits.cell_timeout)
                        reply = box.receive(limits.cell_timeout + 30)
                        if reply.get("op") != "cell" or reply.get("seq") != box.seq:
                            raise SandboxError("the notebook's process broke the protocol")
                        cell.status = str(reply.get("status"))
                        cell.error, cell.stdout, cell.stderr = (str(reply.get(k, "")) for k in ("error", "stdout", "stderr"))
                        for name, data in (reply.get("values") or {}).items():
                            if name in names:
                                try:
                                    value = wire.decode(data, lambda k, n: Proxy(box, k, n, limits.cell_timeout))
                                except (wire.WireError, ValueError, TypeError, OverflowError) as exc:
                                    value = wire.Unsupported(f"undecodable value ({exc})")
                                student[name] = (value, item[1])
                        if kind == "answer":
                            for name in names:
                                if name not in (reply.get("values") or {}):
                                    student.pop(name, None)
                    except SandboxError as exc:
                        broken = str(exc)
                        cell.status, cell.error = "stopped", broken
                        report.problems.append(f"the notebook stopped at cell {cell_no}: {broken}")
                else:
                    cell.error = broken
                report.cells.append(cell)
                if kind == "answer":
                    status[item[1]] = cell
                cell_no += 1
                if kind in ("chapter", "answer") and reference is None:
                    ref = item[2] if kind == "chapter" else item[3]
                    _run_reference(ref, ns, f"reference {item[1] if kind == 'answer' else 'cell'}")
                continue
            _, gid, code, points, hidden, forbid, answer_gid = item
            result = TestResult(gid, 0.0, points, hidden, False)
            report.tests.append(result)
            answer_cell = status.get(answer_gid)
            # the names this test reads that some answer defines
            used = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
            answer_names = {name for it in items if it[0] == "answer" for name in it[4]}
            needed = sorted(used & answer_names)
            missing = [n for n in needed if n not in student]
            if forbid and answer_cell is not None:
                bad = forbidden_uses(answer_cell.source, forbid)
                if bad:
                    result.message = "; ".join(bad)
                    continue
            if missing:
                why = []
                for it in items:
                    if it[0] == "answer" and set(it[4]) & set(missing):
                        c = status.get(it[1])
                        if c is not None and c.status not in ("ok",):
                            why.append(f"your answer cell {it[1]} {_describe(c)}")
                result.message = (f"{', '.join('`' + n + '`' for n in missing)} not defined"
                                  + (": " + "; ".join(why) if why else " by your answer"))
                continue
            if reference is not None:
                reference.before_test(gid, ns)
            saved = {n: ns[n] for n in needed if n in ns}
            for n in needed:
                ns[n] = student[n][0]
            out = io.StringIO()
            try:
                signal.alarm(TEST_TIMEOUT)
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    exec(compile(code, f"<test {gid}>", "exec"), ns)
                result.passed, result.points = True, points
            except _TestTimeout:
                result.message = "the test ran out of time on your answer"
            except SandboxError as exc:
                broken = broken or str(exc)
                result.message = f"your notebook's process stopped: {exc}"
            except StudentError as exc:
                # for a hidden test, only the kind of error: the student's message could echo its inputs
                function, error = exc.args
                result.message = (f"your function {function} failed: {error}" if not hidden else
                                  f"a hidden test failed: your function {function} raised "
                                  f"{error.split(':')[0].strip()[:80]}")
            except AssertionError as exc:
                result.message = ("a hidden test failed" if hidden else
                                  f"AssertionError: {exc}" if str(exc) else "an assertion failed")
            except Exception as exc:  # noqa: BLE001 — a wrong type or value of the answer
                unsupported = [n for n in needed if isinstance(student[n][0], wire.Unsupported)]
                if unsupported:
                    result.message = "; ".join(f"`{n}` is {student[n][0]!r}" for n in unsupported)
                else:
                    result.message = ("a hidden test failed on your answer" + f" ({type(exc).__name__})"
                                      if hidden else
                                      "".join(traceback.format_exception_only(type(exc), exc)).strip())
            finally:
                signal.alarm(0)
                ns.update(saved)
                for n in needed:
                    if n not in saved:
                        ns.pop(n, None)
            if not hidden:
                result.output = out.getvalue()[-4000:]
    finally:
        signal.signal(signal.SIGALRM, old)
        if box is not None:
            box.close()
            report.sandbox_cpu = box.cpu
    report.seconds = round(time.monotonic() - started, 2)
    return report


def _describe(cell: CellReport) -> str:
    if cell.status == "error":
        return f"raised {cell.error.splitlines()[-1] if cell.error else 'an error'}"
    if cell.status == "exit":
        return f"ended early ({cell.error})"
    if cell.status == "timeout":
        return f"was stopped: {cell.error}"
    if cell.status == "died":
        return f"ended its process: {cell.error}"
    return f"did not run ({cell.error or cell.status})"


# -- chapter cells the student's process need not run ---------------------------------------------------
# Calls into these modules are taken to change nothing but the objects passed to them (and what they
# return): a chapter cell whose calls all go there, and that binds and touches nothing a student's cell reads,
# is skipped in the sandbox.  Anything else — a call into another module, a name the module's own state
# hangs on (seeds, settings, registries), a magic, a syntax error — keeps the cell.
PURE_MODULES = ("numpy.", "sympy.", "math.", "bpkit.", "matplotlib.pyplot.", "IPython.display.")
STATEFUL = re.compile(r"(^|\.)(random\.(seed|set_state)|seterr|set_\w*|rc\w*|style|use|init_printing|"
                      r"register\w*|tune\w*|seed|install\w*|enable\w*|disable\w*|config\w*|patch\w*)(\.|$)")
UNSAFE_BUILTINS = {"setattr", "delattr", "exec", "eval", "__import__", "globals", "vars", "open", "compile",
                   "get_ipython", "input", "breakpoint"}


def _parse(source):
    """The cell's AST with IPython's syntax (magics, ``!``) turned into calls, or None if it is not Python."""
    from IPython.core.inputtransformer2 import TransformerManager
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def _bound(tree) -> set:
    """Names a cell binds in the notebook's namespace (not inside its functions, classes or comprehensions)."""
    names = set()

    def visit(node, top):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                names.add(node.name)
            for d in node.decorator_list:
                visit(d, top)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
                    names.add(sub.target.id)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.add("*")      # never skipped
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child, top)

    visit(tree, True)
    return names


def _loads(tree) -> set:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _root(node):
    """(root name, dotted path) of ``a.b.c`` / ``a.b(...).c`` / ``a[0].c``; (None, "") for anything else."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, (ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
            parts.clear()             # a call's or an item's result: the path restarts at its root
        elif isinstance(node, ast.Name):
            return node.id, ".".join([node.id, *reversed(parts)])
        else:
            return None, ""


def skippable(items) -> set:
    """Indices of the ``chapter`` items of a plan that the student's process need not run.

    A chapter cell is skipped when it binds no name that a cell run after it (or any answer or added cell,
    which may read it later through a function) reads, stores into or calls nothing but its own new objects
    and pure library calls (``PURE_MODULES``, minus ``STATEFUL``), and passes no such name to a call.  The
    figures, widgets, SymPy verifications and errata of a chapter go; every cell whose name an answer reads,
    with everything that cell reads, stays.  The grader's own reference run (``Reference``) runs every cell.
    """
    modules = {}                       # name bound by an import → its qualified name
    trees = {}
    for i, item in enumerate(items):
        if item[0] in ("chapter", "answer", "added"):
            src = item[1] if item[0] != "answer" else (item[2] or "")
            trees[i] = _parse(src)
            for node in ast.walk(trees[i]) if trees[i] is not None else ():
                if isinstance(node, ast.Import):
                    for a in node.names:
                        modules[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    for a in node.names:
                        modules[a.asname or a.name] = f"{node.module}.{a.name}"
    needed = set()
    for i, item in enumerate(items):
        if item[0] in ("answer", "added"):
            needed |= _loads(trees[i]) if trees[i] is not None else {"*"}
    skip = set()
    for i in range(len(items) - 1, -1, -1):
        if items[i][0] != "chapter":
            continue
        tree = trees[i]
        if tree is None or "*" in needed or _touches(tree, needed, modules):
            needed |= _loads(tree) if tree is not None else {"*"}
            continue
        skip.add(i)
    return skip


def _touches(tree, needed, modules) -> bool:
    """Whether a cell binds, changes or hands to a call a needed name, or calls a library's state."""
    own = _bound(tree)
    if own & needed or "*" in own:
        return True

    def outside(name):
        return name is not None and name not in own

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            root, path = _root(node.func)
            if outside(root):
                if root in modules:
                    qualified = modules[root] + path[len(root):]
                    if not qualified.startswith(PURE_MODULES) or STATEFUL.search(qualified):
                        return True
                elif root in UNSAFE_BUILTINS or (root in needed and not hasattr(builtins, root)):
                    return True
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for sub in ast.walk(arg):
                    if isinstance(sub, ast.Name) and outside(sub.id) and sub.id in needed and sub.id not in modules:
                        return True
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            root, _ = _root(node.value if isinstance(node, ast.Subscript) else node)
            if outside(root) and (root in needed or root in modules):
                return True
    return False
