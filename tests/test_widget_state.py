"""The explorer's state is the network: its buttons are plain gradient descent, and a slider moves one float.

Issue 15 item 1. The oracle is a separate network trained by the loop the book writes, loss_and_grads and
sgd_step, from the same start; "touching a slider" is what a browser sends, a new value for one slider."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import bpkit as bp

W = pytest.importorskip("bpkit.widgets")


def params(net):
    return {name: p.copy() for name, p in net.parameters()}


def xor_explorer():
    return W.NetworkExplorer((2, 3, 1), data=bp.data.xor(), loss="bce", lr=3.0, seed=3)


@pytest.mark.parametrize("clicks", [(1,), (1, 1, 1), (1, 10, 10, 1)])
def test_n_button_steps_are_n_sgd_steps(clicks):
    ex = xor_explorer()
    ref = copy.deepcopy(ex.net)
    n = 0
    for c in clicks:
        {1: ex.step_button, 10: ex.ten_button}[c].click()
        n += c
    for _ in range(n):
        _, g = ref.loss_and_grads(ex.X, ex.T, loss="bce")
        bp.sgd_step(ref, g, ex.lr.value)  # η as the slider holds it
    got, want = params(ex.net), params(ref)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-12, err_msg=name)
    assert len(ex.history) == n + 1


def test_trained_weights_leave_the_slider_range_and_the_range_grows():
    ex = xor_explorer()
    for _ in range(20):
        ex.ten_button.click()
    big = {k: v for k, v in ((k, s.value) for k, s in ex.sliders.items()) if abs(v) > 3}
    assert big, "XOR training should push some weight past ±3 (the sliders' first range)"
    for key, s in ex.sliders.items():
        exact = W.state.value_of(ex, key)
        assert s.value == exact, f"slider {key} shows {s.value}, the network holds {exact}"
        assert s.min <= exact <= s.max


@pytest.mark.parametrize("key", ["0.W[1,2]", "1.b[0]", "1.W[0,0]"])
def test_touching_one_slider_changes_only_its_parameter(key):
    ex = xor_explorer()
    for _ in range(3):
        ex.ten_button.click()
    before = params(ex.net)
    loss_before = ex.loss
    ex.set(key, 0.35)
    after = params(ex.net)
    layer, kind = W.state._PARAM.fullmatch(key).groups()[:2]
    name = f"{layer}.{kind}"
    for n in before:
        changed = before[n] != after[n]
        if n == name:
            array, index = W.state.locate(ex, key)
            assert array[index] == 0.35
            changed[index] = False
        assert not changed.any(), f"touching {key} changed {n} at {np.argwhere(changed).tolist()}"
    # the loss moves exactly as the network's own loss says, not by a jump of re-read sliders
    assert ex.loss == ex.net.loss(ex.X, ex.T, loss="bce") != loss_before


def test_sample_sliders_write_only_their_number():
    ex = W.NetworkExplorer((2, 2, 1), lr=1.0)
    ex.step(n=4)
    before, X, T = params(ex.net), ex.X.copy(), ex.T.copy()
    ex.set("x[1]", -0.7)
    assert ex.X[0, 1] == -0.7 and ex.X[0, 0] == X[0, 0] and (ex.T == T).all()
    after = params(ex.net)
    assert all((before[n] == after[n]).all() for n in before)


def test_a_browser_echo_of_the_grid_point_does_not_round_the_weight():
    ex = xor_explorer()
    ex.step()
    key = "0.W[0,0]"
    exact = W.state.value_of(ex, key)
    s = ex.sliders[key]
    grid = W.state.on_grid(exact, s)
    assert grid != exact
    s.value = grid  # what a browser that snaps to the grid would send back
    assert W.state.value_of(ex, key) == exact and s.value == exact
    s.value = grid  # a second time it is the reader's move
    assert W.state.value_of(ex, key) == grid


def test_a_bad_key_is_a_clear_error():
    ex = W.NetworkExplorer((2, 2, 1))
    with pytest.raises(ValueError, match="the network has 2 layers"):
        W.state.locate(ex, "5.W[0,0]")
    with pytest.raises(ValueError, match="is not a parameter"):
        W.state.locate(ex, "weights")


def test_the_check_can_fail():
    """The old behaviour (every slider read back, clipped to ±3) breaks the bit-for-bit property."""
    ex = xor_explorer()
    for _ in range(20):
        ex.ten_button.click()
    clipped = {k: min(max(s.value, -3.0), 3.0) for k, s in ex.sliders.items()}
    before = params(ex.net)
    for key, v in clipped.items():  # what the old _read_sliders did
        array, index = W.state.locate(ex, key)
        array[index] = v
    after = params(ex.net)
    assert any((before[n] != after[n]).any() for n in before)
