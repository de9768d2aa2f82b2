"""The 2-D playground (issue 15 item 3): data sets and split, training is plain gradient descent on the
training split, the boundary map and the per-sample marks are the network's predictions, the test loss
is the test split's, and an inspected gradient is the central difference."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import bpkit as bp

W = pytest.importorskip("bpkit.widgets")
from bpkit.widgets import playground as pg_mod  # noqa: E402


@pytest.mark.parametrize("name", pg_mod.DATASETS)
def test_datasets_are_seeded_labelled_and_noisy(name):
    X, T = pg_mod.make_dataset(name, 120, 0.1, seed=2)
    X2, T2 = pg_mod.make_dataset(name, 120, 0.1, seed=2)
    assert X.shape == (120, 2) and T.shape == (120, 1) and set(np.unique(T)) == {0.0, 1.0}
    assert np.array_equal(X, X2) and np.array_equal(T, T2)
    X3, _ = pg_mod.make_dataset(name, 120, 0.3, seed=2)
    assert not np.allclose(X, X3)
    Xtr, Ttr, Xte, Tte = pg_mod.split(X, T, 0.25, seed=2)
    assert len(Xtr) == 90 and len(Xte) == 30
    rows = {tuple(r) for r in np.vstack([Xtr, Xte])}
    assert rows == {tuple(r) for r in X}


def test_steps_are_gradient_descent_on_the_training_split():
    pg = W.Playground(dataset="XOR", hidden=(3,), lr=0.5, steps_per_frame=1)
    # η as given: the book's range input shows it and sends nothing back until it is moved (the Voila test
    # checks that the page trains with it)
    assert pg.lr.value == 0.5
    ref = copy.deepcopy(pg.net)
    pg.step_button.click()
    pg.step(n=1)
    pg.step(n=8)
    for _ in range(10):
        _, g = ref.loss_and_grads(pg.X_train, pg.T_train, loss="bce")
        bp.sgd_step(ref, g, 0.5)
    for (name, p), (_, q) in zip(pg.net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12, err_msg=name)
    assert pg.history["step"] == [0, 1, 2, 10]
    shown = pg.displayed()
    assert shown["steps"] == 10
    assert shown["test"] == pytest.approx(ref.loss(pg.X_test, pg.T_test, loss="bce"), abs=6e-6)
    assert shown["train"] == pytest.approx(ref.loss(pg.X_train, pg.T_train, loss="bce"), abs=6e-6)
    assert pg.history["train"][-1] < pg.history["train"][0]


def test_play_trains_in_frames_until_pause():
    import asyncio

    pg = W.Playground(dataset="XOR", hidden=(3,), steps_per_frame=5)

    async def press_play_then_pause():
        pg.play.value = True  # as the button's message arrives: a task on the running loop
        assert pg.play.description == "pause"
        await asyncio.sleep(0.35)
        pg.play.value = False
        steps = pg.steps
        await asyncio.sleep(0.25)
        return steps

    steps = asyncio.run(press_play_then_pause())
    assert steps >= 10 and steps % 5 == 0 and pg.steps == steps  # frames of 5; nothing after pause
    assert pg.play.description == "play" and pg._task.done()


def test_spirals_need_a_bigger_network():
    small = W.Playground(dataset="spirals", hidden=(2,), lr=1.0)
    big = W.Playground(dataset="spirals", hidden=(8, 8, 8), lr=1.0)
    for pg in (small, big):
        pg.step(n=800)
    assert small.test_accuracy < 0.75 < 0.9 < big.test_accuracy  # what the chapter tells the reader to try


def test_the_map_and_the_marks_are_the_predictions():
    pg = W.Playground(dataset="circles", hidden=(6,), lr=1.0)
    pg.step(n=60)
    i, j = 5, 31  # row i is y, column j is x
    x = np.array([[pg.grid_axis[j], pg.grid_axis[i]]])
    net = pg.net
    a = x
    for layer in net.layers:  # the forward pass written out
        z = a @ layer.W + layer.b
        a = np.tanh(z) if layer.activation.name == "tanh" else 1 / (1 + np.exp(-z))
    assert pg.boundary.get_array()[i, j] == pytest.approx(a[0, 0], rel=1e-12)
    wrong = (pg.predictions(pg.X_train) > 0.5) != (pg.T_train[:, 0] > 0.5)
    rings = pg.train_dots.get_edgecolors()
    assert wrong.any() and np.array_equal(rings[:, 2] == 0.0, wrong)  # yellow (blue channel 0) = wrong
    assert pg.displayed()["train_acc"] == pytest.approx(1 - wrong.mean(), abs=1e-3)


def test_controls_rebuild_the_network_and_data():
    pg = W.Playground(hidden=(4, 4))
    assert pg.net.sizes == [2, 4, 4, 1]
    pg.depth.value = 3
    pg.width.value = 2
    assert pg.net.sizes == [2, 2, 2, 2, 1] and pg.steps == 0
    pg.activation.value = "relu"
    assert pg.net.layers[0].activation.name == "relu"
    X_before = pg.X_train.copy()
    pg.dataset.value = "spirals"
    assert not np.array_equal(pg.X_train, X_before)
    pg.test_fraction.value = 0.5
    assert len(pg.X_test) == 100


def test_an_inspected_gradient_is_the_central_difference():
    pg = W.Playground(dataset="two moons", hidden=(3,))
    pg.step(n=5)
    pg.param.value = "0.W[1,2]"
    numeric = bp.numerical_grads(copy.deepcopy(pg.net), pg.X_train, pg.T_train, loss="bce")
    shown = pg.displayed()
    assert shown["grad"] == pytest.approx(numeric["0.W"][1, 2], abs=6e-6)
    assert shown["value"] == pytest.approx(pg.net.layers[0].W[1, 2], abs=6e-6)


def test_bad_choices_are_clear_errors():
    with pytest.raises(ValueError, match="dataset must be one of"):
        pg_mod.make_dataset("moons")
    with pytest.raises(ValueError, match="test_fraction"):
        pg_mod.split(np.zeros((4, 2)), np.zeros((4, 1)), 1.0)


def _controls(svg):
    """{data-key: (aria-pressed, aria-label)} of the drawing's controls."""
    import re

    return {k: (p, label) for k, p, label in
            re.findall(r'data-key="([^"]+)" role="button" tabindex="-1" aria-pressed="(true|false)" aria-label="([^"]+)"', svg)}


def test_choosing_an_edge_in_the_drawing_shows_its_gradient():
    """The browser sets ``picker.selected`` on a click or Enter; the value and gradient shown are then that
    parameter's, by central differences, and so is what the edge's accessible name reads."""
    import re

    pg = W.Playground(dataset="two moons", hidden=(3, 2))
    pg.step(n=7)
    numeric = bp.numerical_grads(copy.deepcopy(pg.net), pg.X_train, pg.T_train, loss="bce")
    for key, name, index in (("1.W[2,1]", "1.W", (2, 1)), ("0.b[1]", "0.b", (1,)), ("2.W[0,0]", "2.W", (0, 0))):
        pg.picker.selected = key  # as the front end does
        assert pg.param.value == key
        shown = pg.displayed()
        assert shown["grad"] == pytest.approx(numeric[name][index], abs=6e-6), key
        array = pg.net.layers[int(key[0])].W if ".W" in key else pg.net.layers[int(key[0])].b
        assert shown["value"] == pytest.approx(array[index], abs=6e-6)
        controls = _controls(pg.picker.svg)
        pressed, label = controls[key]
        assert pressed == "true" and [k for k, (p, _) in controls.items() if p == "true"] == [key]
        value, grad = (float(v) for v in re.search(r"= ([+-][0-9.]+), ∂J/∂[wb] = ([+-][0-9.]+)$", label).groups())
        assert value == pytest.approx(array[index], abs=6e-6) and grad == pytest.approx(numeric[name][index], abs=6e-6)
    # the dropdown and the drawing stay one choice
    pg.param.value = "0.W[0,2]"
    assert pg.picker.selected == "0.W[0,2]" and _controls(pg.picker.svg)["0.W[0,2]"][0] == "true"


def test_every_weight_and_bias_is_one_named_control_and_the_page_keeps_a_picture():
    pg = W.Playground(hidden=(4, 4))
    controls = _controls(pg.picker.svg)
    expected = {f"{l}.W[{p},{q}]" for l, layer in enumerate(pg.net.layers) for p in range(layer.n_in)
                for q in range(layer.n_out)} | {f"{l}.b[{q}]" for l, layer in enumerate(pg.net.layers)
                                                 for q in range(layer.n_out)}
    assert set(controls) == expected and len(controls) == pg.picker.svg.count('role="button"')
    assert controls["0.W[1,3]"][1].startswith("w⁽¹⁾₂₄ = ")
    assert controls["1.b[0]"][1].startswith("h₂,₁: b⁽²⁾₁ = ")
    page = pg.static_html()
    static = page[page.index('<div class="bp-network-static">'):]
    static = static[:static.index("</svg>")]
    assert 'role="img"' in static and "role=\"button\"" not in static and "tabindex" not in static
    assert static.count("<line ") == len([k for k in expected if ".W" in k])
    pg.depth.value = 1
    assert len(_controls(pg.picker.svg)) == 4 * 2 + 4 + 4 * 1 + 1  # the drawing follows the network
