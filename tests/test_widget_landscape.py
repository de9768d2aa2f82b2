"""The descent landscape (issue 15 item 4): contours of the loss over two parameters with a colour bar, the
gradient-descent path as a trail, the current point following training and slider moves.

Oracles: a second network trained by the book's loop (loss_and_grads + sgd_step) for the trail, the
per-neuron loops for the loss at grid points, central differences for the arrow."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import bpkit as bp

W = pytest.importorskip("bpkit.widgets")
from bpkit.widgets.descent import DescentLandscape  # noqa: E402

A, B = "1.W[0,0]", "1.W[1,0]"


def xor():
    ex = W.NetworkExplorer((2, 3, 1), data=bp.data.xor(), loss="bce", lr=3.0, seed=3)
    return ex, DescentLandscape(ex, A, B)


def test_the_trail_is_the_gradient_descent_path():
    ex, ls = xor()
    ref = copy.deepcopy(ex.net)
    path = [(ref.layers[1].W[0, 0], ref.layers[1].W[1, 0])]
    ex.step()
    ex.ten_button.click()
    for _ in range(11):
        _, g = ref.loss_and_grads(ex.X, ex.T, loss="bce")
        bp.sgd_step(ref, g, ex.lr.value)  # η as the slider holds it
        path.append((ref.layers[1].W[0, 0], ref.layers[1].W[1, 0]))
    np.testing.assert_allclose(np.array(ls.trail), np.array(path), rtol=0, atol=1e-12)
    xs, ys = ls.trail_line.get_data()
    assert len(xs) == 12 and ls.point.get_data()[0][0] == path[-1][0]
    ls.clear_trail()
    assert ls.trail == [tuple(path[-1])]


def test_the_contours_are_the_loss_and_the_colour_bar_labels_them():
    ex, ls = xor()
    ex.step(n=5)
    net = copy.deepcopy(ex.net)
    for i, j in [(0, 0), (7, 31), (40, 40), (20, 3)]:
        net.layers[1].W[0, 0], net.layers[1].W[1, 0] = ls.values_a[i], ls.values_b[j]
        value, _ = bp.per_neuron.loss_and_grads(net, ex.X, ex.T, loss="bce")
        assert ls.grid[i, j] == pytest.approx(value, rel=1e-10)
    levels = ls.contour_levels
    assert levels[0] == ls.grid.min() and levels[-1] == ls.grid.max() and (np.diff(levels) > 0).all()
    assert ls.bar_texts == [f"{v:.3g}" for v in levels[[0, 3, 6, 9, 12]]]
    assert ls.displayed()["loss"] == pytest.approx(ex.loss, abs=6e-6)
    # the contour lines lie on their levels: the loss at a line's points, by the per-neuron loops
    segments = ls._lines.get_segments()
    assert len(segments) >= ls.levels - 1
    point = segments[len(segments) // 2][0]
    net.layers[1].W[0, 0], net.layers[1].W[1, 0] = point
    value, _ = bp.per_neuron.loss_and_grads(net, ex.X, ex.T, loss="bce")
    assert min(abs(value - level) for level in levels) < 0.02 * (levels[-1] - levels[0])


def test_dragging_moves_the_point_other_sliders_change_the_landscape():
    ex, ls = xor()
    grid = ls.grid
    ex.set(A, -1.25)
    assert ls.grid is grid, "moving a plotted parameter must not recompute the landscape"
    assert ls.point.get_data()[0][0] == -1.25 and ls.trail[-1][0] == -1.25
    ex.set("0.W[1,2]", 2.5)
    assert ls.grid is not grid and not np.array_equal(ls.grid, grid)


def test_the_grid_grows_to_hold_the_trail():
    ex, ls = xor()
    assert ls.extent == (-3.0, 3.0, -3.0, 3.0)
    ex.set(B, 2.9)
    for _ in range(3):
        ex.ten_button.click()
    ex.sliders[A].max = 10
    ex.set(A, 4.6)
    x0, x1, y0, y1 = ls.extent
    assert x1 >= 5.0 and all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in ls.trail)
    assert ls.ax.get_xlim() == (x0, x1)


def test_the_arrow_points_down_the_central_difference_gradient():
    ex, ls = xor()
    ex.step(n=3)
    numeric = bp.numerical_grads(copy.deepcopy(ex.net), ex.X, ex.T, loss="bce")["1.W"]
    g = np.array([numeric[0, 0], numeric[1, 0]])
    (x0, y0), (x1, y1) = ls.arrow.get_position(), ls.arrow.xy
    d = np.array([x1 - x0, y1 - y0])
    np.testing.assert_allclose(d / np.linalg.norm(d), -g / np.linalg.norm(g), atol=1e-6)
    shown = ls.displayed()
    assert shown["-ga"] == pytest.approx(-g[0], abs=6e-6) and shown["-gb"] == pytest.approx(-g[1], abs=6e-6)


def test_clear_errors_and_an_image():
    ex, ls = xor()
    assert ls.image.widget.value[:3] == b"\xff\xd8\xff"
    with pytest.raises(ValueError, match="two different parameters"):
        DescentLandscape(ex, A, A)
    with pytest.raises(ValueError, match="the network has 2 layers"):
        DescentLandscape(ex, "3.W[0,0]", A)


@pytest.mark.parametrize("sizes, act, out, loss, a, b", [
    ((2, 2, 2, 1), "sigmoid", "sigmoid", "mse", "0.b[1]", "2.W[1,0]"),
    ((3, 4, 3), "relu", "identity", "softmax_ce", "0.W[2,1]", "0.W[0,1]"),
    ((2, 3, 1), "tanh", "sigmoid", "bce", "1.b[0]", "0.W[1,2]"),
])
def test_the_batched_grid_is_the_loss_point_by_point(sizes, act, out, loss, a, b):
    """The whole grid in one batched pass (the data repeated, the changes through z_offset) equals the
    per-neuron loops at grid points, for each loss and for weights, biases and layers before the last."""
    from bpkit.widgets.landscape import _entry, grid_loss

    rng = np.random.default_rng(4)
    net = bp.mlp(list(sizes), activation=act, output_activation=out, seed=2)
    X = rng.normal(size=(5, sizes[0]))
    T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 5)] if loss == "softmax_ce" else rng.uniform(0, 1, (5, sizes[-1]))
    before = [p.copy() for _, p in net.parameters()]
    va, vb = np.linspace(-2, 2, 9), np.linspace(-3, 1, 7)
    grid = grid_loss(net, X, T, loss, a, va, b, vb)
    assert all(np.array_equal(p, q) for (_, p), q in zip(net.parameters(), before)), "the network is left as it was"
    work = copy.deepcopy(net)
    params = dict(work.parameters())
    for i, j in [(0, 0), (8, 6), (3, 2), (5, 1)]:
        params[_entry(a)[0]][_entry(a)[1]] = va[i]
        params[_entry(b)[0]][_entry(b)[1]] = vb[j]
        value, _ = bp.per_neuron.loss_and_grads(work, X, T, loss=loss)
        assert grid[i, j] == pytest.approx(value, rel=1e-12), (i, j)


def test_the_batched_grid_leaves_a_gap_where_the_loss_overflows():
    from bpkit.widgets.landscape import grid_loss

    net = bp.mlp([1, 1, 1], activation="identity", output_activation="identity", seed=0)
    grid = grid_loss(net, np.array([[1e160]]), np.array([[0.0]]), "mse", "0.W[0,0]", [0.0, 1e160], "1.W[0,0]", [1.0])
    assert np.isfinite(grid[0, 0]) and np.isnan(grid[1, 0])
