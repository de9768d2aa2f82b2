"""bp.dead_relu_fraction against a per-neuron loop, and the initialization chapter's dead-ReLU exercise
graded by the project's grader (tools/grading): the solution gets full marks, a wrong answer loses its points."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import bpkit as bp
from bpkit import initialization as init

ROOT = Path(__file__).resolve().parents[1]


def dead_by_loop(net, X):
    """For each position: the fraction of units q with ReLU(z_iq) = 0 for every sample i, by loops over
    samples, units and inputs (z from eq-forward-neuron; a residual block adds its input back)."""
    out, a = [], [list(map(float, x)) for x in X]
    for layer in net.layers:
        W, b = layer.W.tolist(), layer.b.tolist()
        z = [[sum(W[p][q] * a_i[p] for p in range(layer.n_in)) + b[q] for q in range(layer.n_out)] for a_i in a]
        f = [[float(layer.activation.value(np.array(v))) for v in z_i] for z_i in z]
        a = [[x + y for x, y in zip(a_i, f_i)] for a_i, f_i in zip(a, f)] if isinstance(layer, bp.Residual) else f
        if layer.activation.name == "relu":
            out.append(sum(all(f_i[q] == 0.0 for f_i in f) for q in range(layer.n_out)) / layer.n_out)
        else:
            out.append(np.nan)
    return np.array(out)


@pytest.mark.parametrize("sizes, residual, seed", [([6] * 12 + [1], False, 1), ([5, 7, 7, 7, 3], True, 2),
                                                   ([4, 9, 2], False, 3)])
def test_dead_fraction_equals_the_loop(sizes, residual, seed):
    net = bp.mlp(sizes, activation="relu", output_activation="identity", residual=residual, seed=seed)
    for layer in net.layers:          # negative biases: some units die, some do not
        layer.b[...] = np.random.default_rng(seed).normal(-0.8, 0.5, size=layer.n_out)
    X = np.random.default_rng(seed).normal(size=(10, sizes[0]))
    got, want = bp.dead_relu_fraction(net, X), dead_by_loop(net, X)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[-1]) and np.nanmax(got) > 0, got     # the check sees dead units


def test_a_dead_unit_gets_no_gradient_and_a_live_one_does():
    net = init.scaled_mlp([8] * 8 + [1], activation="relu", scheme="he", seed=0)
    X, T = np.random.default_rng(0).normal(size=(32, 8)), np.random.default_rng(1).normal(size=(32, 1))
    fractions = bp.dead_relu_fraction(net, X)
    _, grads = net.loss_and_grads(X, T)
    for l, layer in enumerate(net.layers[:-1]):
        dead = np.all(layer.Z <= 0, axis=0)
        assert fractions[l] == dead.mean()
        assert np.all(grads[f"{l}.W"][:, dead] == 0) and np.all(grads[f"{l}.b"][dead] == 0)
    assert np.nansum(fractions) > 0


def test_bad_input():
    with pytest.raises(TypeError, match="bpkit network"):
        bp.dead_relu_fraction([1, 2], np.zeros((1, 2)))
    with pytest.raises(ValueError):
        bp.dead_relu_fraction(bp.mlp([2, 3, 1], activation="relu"), np.zeros((4, 3)))


# -- the exercise, graded ------------------------------------------------------------------------------
GRADE_IDS = ("init-dead-answer", "init-dead-visible", "init-dead-hidden")


@pytest.mark.slow
def test_the_dead_relu_exercise_is_graded_right(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    import coursework
    from grading import sandbox

    if sandbox.available() is not None:
        pytest.skip(str(sandbox.available()))
    course = tmp_path / "course"
    release = json.loads(coursework.release("initialization", course, timeout=60).read_text())
    source = json.loads((course / "source" / "initialization" / "initialization.ipynb").read_text())

    def solution(gid):
        cell = next(c for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)
        return re.sub(r"[ \t]*### (BEGIN|END) SOLUTION\n", "", "".join(cell["source"]))

    def submission(dead_answer):
        nb = json.loads(json.dumps(release))
        for cell in nb["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                cell["source"] = dead_answer if gid == "init-dead-answer" else solution(gid)
        return nb

    subs = tmp_path / "subs"
    subs.mkdir()
    right = solution("init-dead-answer")
    wrong = right.replace("np.all(", "np.any(")          # "dead on some sample" is not dead
    assert wrong != right
    for name, answer in (("right", right), ("wrong", wrong)):
        (subs / f"{name}.ipynb").write_text(json.dumps(submission(answer)))
    grades = coursework.autograde("initialization", subs, course, workers=2, timeout=60, wall=300, progress=False)
    rows = {r["student_id"]: r for r in csv.DictReader(open(grades))}
    assert float(rows["right"]["raw_score"]) == float(rows["right"]["max_score"]), rows["right"]
    assert float(rows["right"]["init-dead"]) == 3.0, rows["right"]
    assert float(rows["wrong"]["init-dead"]) == 0.0, rows["wrong"]
    assert float(rows["wrong"]["raw_score"]) == float(rows["wrong"]["max_score"]) - 3, rows["wrong"]
