"""The public contract of bpkit, and what `import bpkit` loads."""

from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

import bpkit as bp

CONTRACT = [
    "Dense", "Residual", "Sequential", "mlp", "MSE", "BinaryCrossEntropy", "SoftmaxCrossEntropy",
    "gradcheck", "sgd_step", "per_neuron", "ACTIVATIONS", "get_activation", "get_loss", "to_column",
    "from_column", "fold_bias", "symbolic",
]


def test_contract_names_exist():
    for name in CONTRACT:
        assert hasattr(bp, name), name
    assert sorted(bp.ACTIVATIONS) == ["identity", "relu", "sigmoid", "tanh"]
    assert sorted(bp.LOSSES) == ["bce", "mse", "softmax_ce"]


def test_signatures():
    assert str(inspect.signature(bp.mlp)) == (
        "(sizes, activation='sigmoid', output_activation=None, residual=False, seed=0, dtype=<class 'numpy.float64'>)"
    )
    assert list(inspect.signature(bp.gradcheck).parameters) == ["net", "X", "T", "loss", "l2", "eps"]
    assert inspect.signature(bp.gradcheck).parameters["eps"].default == 1e-6
    assert list(inspect.signature(bp.Sequential.loss_and_grads).parameters) == ["self", "X", "T", "loss", "l2"]
    assert list(inspect.signature(bp.Dense).parameters)[:5] == ["n_in", "n_out", "activation", "rng", "dtype"]


def test_import_loads_numpy_only():
    code = (
        "import sys, bpkit; heavy = {'sympy', 'matplotlib', 'ipywidgets', 'scipy', 'IPython'};"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_residual_flag_of_mlp():
    net = bp.mlp([2, 4, 4, 4, 1], residual=True)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "Residual", "Residual", "Dense"]
    net = bp.mlp([3, 3, 3], residual=True)  # the output layer is never residual
    assert [type(layer).__name__ for layer in net.layers] == ["Residual", "Dense"]


def test_output_activation_default_and_override():
    assert [l.activation.name for l in bp.mlp([2, 3, 1], "tanh").layers] == ["tanh", "tanh"]
    assert [l.activation.name for l in bp.mlp([2, 3, 1], "tanh", "identity").layers] == ["tanh", "identity"]


def test_seeded_construction_is_reproducible():
    a, b = bp.mlp([3, 5, 2], seed=11), bp.mlp([3, 5, 2], seed=11)
    for (_, p), (_, q) in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)


def test_forward_keeps_each_layers_input_z_and_a():
    net = bp.mlp([3, 4, 2], seed=0)
    X = np.ones((5, 3))
    out = net.forward(X)
    assert out is net.layers[-1].A
    assert net.layers[1].input is net.layers[0].A
    assert [l.Z.shape for l in net.layers] == [(5, 4), (5, 2)]


# -- the wheel, as `pip install` gives it to a reader (tests/launch_env.py builds it once per session) --

def _modules_of_checkout():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    names = []
    for path in sorted((root / "bpkit").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.slow
def test_wheel_installs_every_module_outside_the_checkout(tmp_path_factory):
    """pyproject.toml once listed `packages = ["bpkit"]`: the wheel had no bpkit.widgets (5 modules)."""
    import launch_env

    python, wheel = launch_env.launch_venv(tmp_path_factory.getbasetemp() / "launch-env")
    modules = _modules_of_checkout()
    assert "bpkit.widgets.explorer" in modules and len(modules) > 20
    code = (
        "import importlib, json, sys, bpkit\n"
        f"failed = {{}}\n"
        f"for name in {modules!r}:\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except Exception as exc:\n        failed[name] = repr(exc)\n"
        "print(json.dumps({'failed': failed, 'file': bpkit.__file__, 'version': bpkit.__version__}))\n"
    )
    outside = tmp_path_factory.mktemp("outside")
    out = subprocess.run([str(python), "-I", "-c", code], cwd=outside, capture_output=True, text=True, check=True)
    import json

    result = json.loads(out.stdout)
    assert result["failed"] == {}
    assert "site-packages" in result["file"] and str(launch_env.ROOT) not in result["file"]
    assert result["version"] == bp.__version__ and wheel.name == f"bpkit-{bp.__version__}-py3-none-any.whl"


def test_version_is_written_once():
    """pyproject.toml reads the version from bpkit.__version__ (the set-up cell of the notebooks pins it)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in text and 'attr = "bpkit.__version__"' in text
