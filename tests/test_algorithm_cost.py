"""bpkit.cost: the operation counts and the memory formula against what is counted and held, checkpointing
gives identical gradients, and the algorithm and initialization chapters fail when a formula they check is perturbed."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpkit as bp
from bpkit import cost, scalar
from chapter_tools import ROOT, execute
from test_chapter_perturbations import PREAMBLE

sizes_st = st.lists(st.integers(1, 4), min_size=2, max_size=5)


def counted_in_the_graph(net, X, T):
    """(forward, backward) multiply-adds of the weight products in the scalar graph of the loss."""
    loss, params = scalar.network_loss(net, X, T)
    order = scalar.topological_order(loss)
    weights = {id(w) for k, rows in params.items() if k.endswith(".W") for row in rows for w in row}
    leaves = weights | {id(b) for k, row in params.items() if k.endswith(".b") for b in row}
    needs = set()
    for v in order:
        if id(v) in leaves or any(id(p) in needs for p in v.parents):
            needs.add(id(v))
    products = [v for v in order if v.op == "*" and any(id(p) in weights for p in v.parents)]
    return len(products), sum(id(p) in needs for v in products for p in v.parents)


@settings(max_examples=25, deadline=None)
@given(sizes_st, st.integers(1, 3))
def test_counts_equal_the_multiplications_of_the_graph(sizes, m):
    net = bp.mlp(sizes, activation="tanh", seed=0)
    rng = np.random.default_rng(0)
    got = counted_in_the_graph(net, rng.normal(size=(m, sizes[0])), rng.uniform(size=(m, sizes[-1])))
    assert got == (cost.forward_cost(sizes, m), cost.backward_cost(sizes, m))


@settings(max_examples=25, deadline=None)
@given(sizes_st, st.integers(1, 4))
def test_memory_formula_equals_what_the_layers_hold(sizes, m):
    net = bp.mlp(sizes, activation="sigmoid", seed=1)
    net.forward(np.ones((m, sizes[0])))
    assert cost.stored_floats(net) == cost.activation_memory(sizes, m)
    assert cost.parameter_count(sizes) == sum(p.size for _, p in net.parameters())


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=3, max_size=8), st.integers(1, 3), st.data())
def test_checkpointing_gives_identical_gradients_and_the_predicted_peak(sizes, m, data):
    every = data.draw(st.integers(1, len(sizes) - 1))
    net = bp.mlp(sizes, activation="tanh", output_activation="sigmoid", seed=2)
    rng = np.random.default_rng(2)
    X, T = rng.normal(size=(m, sizes[0])), rng.uniform(size=(m, sizes[-1]))
    L, g = net.loss_and_grads(X, T)
    g = {k: v.copy() for k, v in g.items()}
    L_ck, g_ck, peak = cost.checkpointed_loss_and_grads(net, X, T, every)
    assert L_ck == L and all(np.array_equal(g_ck[k], g[k]) for k in g)
    assert peak == cost.activation_memory(sizes, m, every)


def test_checkpointing_saves_memory_on_a_deep_network():
    sizes, m = [8] * 19, 4
    plain = cost.activation_memory(sizes, m)
    best = min(cost.activation_memory(sizes, m, k) for k in range(1, 19))
    assert best < plain / 2


def test_bad_arguments_are_reported_clearly():
    with pytest.raises(ValueError, match="sizes"):
        cost.forward_cost([3], 2)
    with pytest.raises((ValueError, TypeError), match="m"):
        cost.backward_cost([2, 3], 0)
    with pytest.raises((ValueError, TypeError), match="every"):
        cost.activation_memory([2, 3], 1, every=0)
    with pytest.raises(ValueError, match="non-fused"):
        net = bp.mlp([2, 2], output_activation="sigmoid")
        cost.checkpointed_loss_and_grads(net, np.ones((1, 2)), np.ones((1, 2)), 1, loss="bce")


# each covered formula, perturbed, must make the algorithm chapter fail at the check that covers it
PERTURBATIONS = [
    ("algorithm", "bpkit.cost:backward_cost", "scale", "assert (F_graph, B_graph) == (F, B)"),
    ("algorithm", "bpkit.cost:activation_memory", "scale", "assert held == cost.activation_memory(sizes, m)"),
    # a statistical check: a factor 1.001 is inside its tolerance, a flipped sign is not
    ("initialization", "bpkit.initialization:delta_variance_factor", "sign", "measured/predicted"),
]


def _run(item):
    chapter, target, kind, until = item
    module, name = target.split(":")
    return execute(ROOT / "chapters" / f"{chapter}.md", until=until,
                   preamble=PREAMBLE.format(module=module, name=name, kind=kind), timeout=300)


@pytest.fixture(scope="module")
def perturbed():
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("fork")) as pool:
        return dict(zip([p[1] for p in PERTURBATIONS], pool.map(_run, PERTURBATIONS, chunksize=1)))


@pytest.mark.parametrize("item", PERTURBATIONS, ids=[p[1].split(":")[1] for p in PERTURBATIONS])
def test_a_perturbed_cost_formula_fails_the_chapter(item, perturbed):
    ok, error, _ = perturbed[item[1]]
    assert not ok, f"the chapter still runs with {item[1]} perturbed"
    assert "AssertionError" in error and item[3] in error, error[-1500:]
