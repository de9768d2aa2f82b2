"""The grader's pure parts, fast: the wire carries data and nothing else, answer names come from the
solution region, and `# grader: forbid` lines catch what an exercise forbids (and the book's own
solutions obey them)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jupytext
import numpy as np
import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from grading import wire  # noqa: E402
from grading.grade import FORBID, forbidden_uses, reference_source, solution_names  # noqa: E402


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value, {}))), lambda k, n: ("handle", k, n))


def test_the_wire_carries_numbers_arrays_and_sympy_exactly():
    x, m = sp.Symbol("x", real=True), sp.Symbol("m", positive=True)
    expr = (sp.tanh(x) - 1) * (1 - sp.tanh(x) ** 2) / m + sp.Rational(1, 3) + sp.pi + sp.Float(0.1)
    assert roundtrip(expr) == expr and roundtrip(expr).free_symbols == {x, m}
    matrix = sp.Matrix([[x, 1], [m, sp.exp(-x)]])
    assert roundtrip(matrix) == matrix
    arr = np.arange(6.0).reshape(2, 3) / 7
    back = roundtrip({"a": arr, "t": (1, 2.5, True, None, "s", [np.int64(3)])})
    assert np.array_equal(back["a"], arr) and back["a"].dtype == arr.dtype
    assert back["t"] == (1, 2.5, True, None, "s", [3])
    assert roundtrip(len)[0] == "handle"


def test_the_wire_refuses_objects_and_code():
    class AlwaysEqual:
        def __eq__(self, other):
            return True
    assert isinstance(roundtrip(AlwaysEqual()), wire.Unsupported)
    assert isinstance(roundtrip(np.array([object()])), wire.Unsupported)
    for evil in ({"sympy": "Function", "args": []}, {"ndarray": "", "dtype": "|O", "shape": [0]},
                 {"sympy": "__import__", "args": []}, {"pickle": "gASV"}):
        with pytest.raises(wire.WireError):
            wire.decode(evil)


SOLUTION_CELL = '''x = sp.Symbol("x")      # given
### BEGIN SOLUTION
helper = 2
answer = helper * x
### END SOLUTION
'''


def test_answer_names_are_the_names_bound_in_the_solution_region():
    assert solution_names(SOLUTION_CELL) == ["helper", "answer"]
    assert solution_names("def f(a):\n    ### BEGIN SOLUTION\n    return a\n    ### END SOLUTION\n") == ["f"]
    assert "BEGIN" not in reference_source(SOLUTION_CELL)


@pytest.mark.parametrize("answer, rules, bad", [
    ("d = sp.diff(sp.sin(X2), X2)", ["sp.diff"], True),
    ("d = sp.sin(X2).diff(X2)", ["sp.diff"], True),
    ("from sympy import diff\nd = diff(X2**2, X2)", ["sp.diff"], True),
    ("d = getattr(sp, 'di' + 'ff')(X2**2, X2)", ["sp.diff"], True),
    ("d = sp.cos(X2)  # the difference of two things", ["sp.diff"], False),
    ("def f(d, W, Z, g):\n    return bp.hidden_delta(d, W, Z, 'tanh')", ["bp", "@"], True),
    ("def f(d, W, Z, g):\n    import bpkit\n    return 0", ["bp"], True),
    ("def f(d, W, Z, g):\n    return (d @ W.T) * g(Z)", ["bp", "@"], True),
    ("def f(d, W, Z, g):\n    return [[sum(W[q, k] * d[i, k] for k in range(3)) for q in range(2)] for i in range(2)]",
     ["bp", "@"], False),
])
def test_forbid_rules(answer, rules, bad):
    found = forbidden_uses(answer, rules)
    assert bool(found) == bad, found
    if bad:
        assert "not" in found[0] and "allowed" in found[0] or "asks you not to use" in found[0]


def test_the_books_own_solutions_obey_their_forbid_rules():
    checked = 0
    for path in sorted((ROOT / "chapters").glob("*.md")):
        answer = None
        for cell in jupytext.read(path, fmt="md:myst").cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                answer = reference_source(cell.source)
            elif meta.get("grade") and FORBID.search(cell.source):
                assert "### BEGIN HIDDEN TESTS" in cell.source.split(FORBID.search(cell.source).group(0))[0], \
                    f"{path.name}: a forbid line must be inside the hidden tests"
                assert forbidden_uses(answer, FORBID.findall(cell.source)) == [], path.name
                checked += 1
    assert checked >= 2


def _cell(source, cid, nbgrader=None):
    return {"cell_type": "code", "id": cid, "source": source, "metadata": {"nbgrader": nbgrader} if nbgrader else {},
            "outputs": [], "execution_count": None}


def test_the_plan_takes_chapter_cells_from_the_source_and_answers_from_the_student():
    from grading.grade import plan
    answer = {"solution": True, "grade": False, "grade_id": "q-answer"}
    test = {"solution": False, "grade": True, "grade_id": "q-hidden", "points": 2}
    source = {"cells": [_cell("x = 1", "c1"),
                        _cell("### BEGIN SOLUTION\nanswer = x\n### END SOLUTION\n", "c2", answer),
                        _cell("### BEGIN HIDDEN TESTS\n# grader: forbid sp.diff\nassert answer == 1\n"
                              "### END HIDDEN TESTS\n", "c3", test)]}
    student = {"cells": [_cell("x = 1000  # edited chapter cell", "c1"), _cell("answer = 7", "c2", answer),
                         _cell("helper = 3", "new"), _cell("pass  # test edited", "c3", test)]}
    items = plan(source, student)
    assert [i[0] for i in items] == ["chapter", "answer", "added", "test"]
    assert items[0][1] == "x = 1" and items[1][2] == "answer = 7" and items[1][4] == ["answer"]
    assert "assert answer == 1" in items[3][2] and items[3][5] == ["sp.diff"] and items[3][3] == 2.0
    # saved without cell ids (nbformat 4.4): the chapter's cells are recognised by their text
    for c in student["cells"]:
        c.pop("id")
    student["cells"][0]["source"] = "x = 1"
    assert [i[0] for i in plan(source, student)] == ["chapter", "answer", "added", "test"]


def test_collect_finds_each_students_notebook_and_says_what_was_odd(tmp_path):
    from grading.batch import collect
    import os
    (tmp_path / "ann.ipynb").write_text("{}")                                   # flat
    (tmp_path / "ben" / "notation").mkdir(parents=True)                         # nbgrader's collect layout
    (tmp_path / "ben" / "notation" / "notation.ipynb").write_text("{}")
    (tmp_path / "ben" / "notation" / "timestamp.txt").write_text("2026-03-01 10:00:00+00:00")
    (tmp_path / "cat").mkdir()                                                   # two versions
    for name, mtime in (("notation (2).ipynb", 100), ("notation.ipynb", 200)):
        (tmp_path / "cat" / name).write_text("{}")
        os.utime(tmp_path / "cat" / name, (mtime, mtime))
    (tmp_path / "dan").mkdir()                                                   # two copies, newest by time
    for name, mtime in (("a.ipynb", 300), ("b.ipynb", 100)):
        (tmp_path / "dan" / name).write_text("{}")
        os.utime(tmp_path / "dan" / name, (mtime, mtime))
    (tmp_path / "eve.pdf").write_text("%PDF")
    (tmp_path / "empty").mkdir()
    subs, stray = collect(tmp_path, "notation")
    assert subs["ann"].path.name == "ann.ipynb" and not subs["ann"].notes
    assert subs["ben"].path.name == "notation.ipynb" and not subs["ben"].notes
    assert subs["ben"].submitted.isoformat() == "2026-03-01T10:00:00+00:00"
    assert subs["cat"].path.name == "notation (2).ipynb" and "2 notebooks" in subs["cat"].notes[0]
    assert subs["dan"].path.name == "a.ipynb" and any("misnamed" in n for n in subs["dan"].notes)
    assert subs["eve"].unreadable == "not a notebook" and subs["eve"].odd
    assert stray == ["empty/: an empty folder, no submission"]


def test_the_sandbox_skips_only_chapter_cells_no_student_cell_depends_on():
    from grading.grade import plan, skippable
    answer = {"solution": True, "grade": False, "grade_id": "q-answer"}
    chapter = ["import numpy as np\nimport matplotlib.pyplot as plt\nimport bpkit as bp",   # np: read by the answer
               "fig, ax = plt.subplots()\nax.plot(np.linspace(0, 1, 5))",                   # a figure nobody reads
               "np.random.seed(0)",                                                          # the state of a library
               "bp.errata.show('guide-delta4')",                                             # display only
               "net = bp.mlp([2, 2, 1], seed=0)",                                            # read by the answer
               "net.layers[0].W[0, 0] = 5.0",                                                # changes what it reads
               "first = net.layers[0].W",                                                    # reads, binds nothing read
               "net.layers[0].W.sum()",                                                      # a method: it might change net
               "%matplotlib inline",                                                         # a magic: kept
               "W2 = 3"]                                                                     # read by the function
    cells = [_cell(src, f"c{i}") for i, src in enumerate(chapter[:9])]
    cells.append(_cell("### BEGIN SOLUTION\ndef f():\n    return np.sum(net.layers[0].W) * W2\n### END SOLUTION\n",
                       "a", answer))
    cells.append(_cell(chapter[9], "c9"))            # after the answer, before a test calls f: kept
    items = plan({"cells": cells}, {"cells": cells})
    skipped = {items[i][1] for i in skippable(items)}
    assert skipped == {chapter[1], chapter[3], chapter[6]}, skipped


def test_the_reference_restores_what_a_test_read_when_a_later_cell_changes_it():
    from grading.grade import Reference, plan
    answer = {"solution": True, "grade": False, "grade_id": "q-answer"}
    test = {"solution": False, "grade": True, "grade_id": "q-visible", "points": 1}
    cells = [_cell("import numpy as np\nx = np.zeros(2)\nscale = 2\ndef helper(v):\n    return v * scale", "c1"),
             _cell("### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION\n", "a", answer),
             _cell("assert helper(answer) == 2 and x.sum() == 0", "t", test),
             _cell("x[0] = 7.0\nscale = 10\nlater = 1", "c2")]          # changed in place, rebound, new
    ref = Reference({"cells": cells})
    assert ref.ns["scale"] == 10 and ref.ns["x"][0] == 7.0
    ns = ref.ns                    # as in a forked grader: the namespace the notebook's functions see
    ref.before_test("q-visible", ns)
    assert ns["scale"] == 2 and ns["x"][0] == 0.0
    exec("assert helper(answer) == 2 and x.sum() == 0", ns)    # helper reads the global `scale`
    assert set(ref.restore["q-visible"]) == {"x", "scale"}
