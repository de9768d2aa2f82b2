"""Every chapter check can fail: perturbing the bpkit function it covers makes the chapter fail.

For each covered function one perturbation — a flipped sign, a factor 1.001 or a transpose — is injected
by a preamble cell that monkeypatches bpkit (every bpkit module that holds the function, so the network
code uses the perturbed one too). The chapter's code cells then run up to and including the check
that covers the function (``until``); the run must stop with an AssertionError. Two kernels run at once.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from chapter_tools import ROOT, execute

pytestmark = pytest.mark.slow

# (chapter, "module:function" or "module:Class.method", perturbation, a string of the first check's cell that
#  catches it — the test asserts that the chapter fails exactly there)
PERTURBATIONS = [  # the slow ones first, so that the two workers finish together
    ("training", "bpkit.optim:sgd_step", "sign", "bp.sgd_step moves"),
    ("residual", "bpkit.functional:residual_grad_input", "sign", "bp.residual_grad_input(Yr - Tr, delta_r, Wr)"),
    ("hidden-delta", "bpkit.per_neuron:hidden_delta_neuron", "scale", "hidden_delta_neuron, neuron by neuron"),
    ("output-delta", "bpkit.losses:bce_loss", "scale", "X_c = rng.normal(size=(4, 3))"),
    ("hidden-delta", "bpkit.functional:activation_delta", "scale", "bp.activation_delta(dL_dA1, hidden.Z"),
    ("batch", "bpkit.functional:grad_input", "sign", "net_g = bp.mlp([2, 2, 3]"),
    ("regularization", "bpkit.regularization:l2_grad", "scale", "point = net_s.random_point(seed=1)"),
    ("hidden-delta", "bpkit.functional:hidden_delta", "sign", "hidden_delta(δ^(2), W^(2), Z^(1)) equals"),
    ("regularization", "bpkit.regularization:l2_penalty", "scale", "bp.l2_penalty equals λ/2"),
    ("notation", "bpkit.functional:dense_forward", "scale", "bp.dense_forward equals the per-neuron loop"),
    ("output-delta", "bpkit.losses:mse_grad", "sign", "bp.mse_grad(A_pt, T_pt)"),
    ("batch", "bpkit.functional:grad_bias", "scale", "J_loop, grads_loop = bp.per_sample_average"),
    ("batch", "bpkit.layout:column_backward", "scale", "column_backward's δ_col 1 = ∂L/∂b"),
    ("residual", "bpkit.functional:residual_forward", "scale", "bp.residual_forward gives the same Y"),
    ("notation", "bpkit.losses:mse_loss", "scale", "bp.mse_loss equals the double sum"),
    ("chain-rule", "bpkit.functional:grad_weights", "transpose", "bp.grad_weights(X, ∂J/∂Z) equals central"),
    ("output-delta", "bpkit.losses:output_delta_mse", "scale", "bp.output_delta_mse(bp.sigmoid(Z_pt), T_pt, Z_pt)"),
    ("chain-rule", "bpkit.chain:prod", "scale", "bp.prod(∂Z/∂Y, ∂Y/∂X) equals the Jacobian"),
    ("initialization", "bpkit.diagnostics:dead_relu_fraction", "scale", "bp.dead_relu_fraction equals the per-neuron loop"),
]

PREAMBLE = '''
import importlib, sys
import numpy as np
import bpkit, bpkit.per_neuron, bpkit.optim, bpkit.chain

_module, _name, _kind = {module!r}, {name!r}, {kind!r}
_mod = importlib.import_module(_module)
_owner, _attr = (_mod, _name) if "." not in _name else (getattr(_mod, _name.split(".")[0]), _name.split(".")[1])
_original = getattr(_owner, _attr)


def _change(value):
    if isinstance(value, tuple):
        return tuple(_change(v) for v in value)
    if _kind == "sign":
        return -np.asarray(value) if isinstance(value, np.ndarray) else -value
    if _kind == "scale":
        return value * 1.001
    return np.asarray(value).T


def _perturbed(*args, **kwargs):
    return _change(_original(*args, **kwargs))


if _name == "sgd_step":  # it updates in place and returns nothing: step uphill, θ ← θ + η g
    def _perturbed(net, grads, lr, *args, **kwargs):  # noqa: F811
        return _original(net, {{k: -np.asarray(g) for k, g in grads.items()}}, lr, *args, **kwargs)

setattr(_owner, _attr, _perturbed)
for _m in list(sys.modules.values()):
    if getattr(_m, "__name__", "").startswith("bpkit"):
        for _k, _v in list(vars(_m).items()):
            if _v is _original:
                setattr(_m, _k, _perturbed)
print("perturbed", _module + ":" + _name, "by", _kind)
'''


def _run(item):
    chapter, target, kind, until = item
    module, name = target.split(":")
    ok, error, seconds = execute(ROOT / "chapters" / f"{chapter}.md", until=until,
                                 preamble=PREAMBLE.format(module=module, name=name, kind=kind), timeout=300)
    return ok, error, seconds


@pytest.fixture(scope="module")
def results():
    workers = int(os.environ.get("BP_PERTURB_WORKERS", "2"))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        return dict(zip([p[:3] for p in PERTURBATIONS], pool.map(_run, PERTURBATIONS, chunksize=1)))


def test_each_function_is_perturbed_once():
    targets = [p[1] for p in PERTURBATIONS]
    assert len(targets) == len(set(targets))


@pytest.mark.parametrize("item", PERTURBATIONS, ids=[f"{p[0]}-{p[1].split(':')[1]}-{p[2]}" for p in PERTURBATIONS])
def test_a_perturbed_function_fails_its_chapter(item, results):
    ok, error, seconds = results[item[:3]]
    assert not ok, f"{item[0]}: the chapter still runs with {item[1]} perturbed by {item[2]}"
    assert "AssertionError" in error, error[-2000:]
    assert item[3] in error, f"the chapter failed before the check that covers {item[1]}: {error[-1500:]}"
