"""The benchmark programs compute what they claim, and benchmarks/README.md is written from their results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_mlp  # noqa: E402
import bench_per_neuron  # noqa: E402
import report  # noqa: E402
import timing  # noqa: E402


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-4)])
def test_the_hand_written_numpy_pass_computes_bpkits_loss_and_gradients(dtype, tol):
    net, X, T = bench_mlp.make_problem(width=8, batch=5, dtype=dtype)
    loss, grads = net.loss_and_grads(X, T)
    hand_loss, dWs, dbs = bench_mlp.numpy_pass(net, X, T)()
    assert hand_loss == pytest.approx(loss, rel=tol)
    for l in range(len(net.layers)):
        np.testing.assert_allclose(dWs[l], grads[f"{l}.W"], rtol=tol, atol=tol)
        np.testing.assert_allclose(dbs[l], grads[f"{l}.b"], rtol=tol, atol=tol)


def test_the_bare_products_have_the_shapes_of_the_pass():
    net, X, _ = bench_mlp.make_problem(width=8, batch=5, dtype=np.float64)
    bench_mlp.bare_products(net, X)()  # 11 products into preallocated arrays: no shape error
    assert bench_mlp.repeats_for(1024, 256) == 7 and bench_mlp.repeats_for(16, 32) == 200


def test_interleaved_returns_a_median_per_program():
    calls = []
    t = timing.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                           repeats=3, warmup=1, settle=1, pause=0.001)
    assert set(t) == {"a", "b"} and all(v >= 0 for v in t.values())
    assert calls.count("a") == 1 + 3 * 2 and calls.count("b") == 1 + 3 * 2


def test_the_scripts_save_results_that_the_report_turns_into_the_readme(tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "RESULTS", tmp_path)
    rows = bench_mlp.main(widths=[8], batches=[4], dtypes=[np.float64])
    monkeypatch.setattr(bench_per_neuron, "CASES", [([2, 2, 1], 4)])
    bench_per_neuron.main()
    saved = json.loads((tmp_path / "mlp.json").read_text())
    assert saved["rows"] == rows and saved["machine"]["cores"] >= 1
    text = report.render(tmp_path)
    assert f"| float64 | 4 | 8 | {report.fmt(rows[0]['bpkit_s'])} |" in text
    assert "| 2-2-1 | 4 |" in text
    assert "## Widget latency" not in text  # no widgets.json: no section


def synthetic_mlp_row(width, vs_bare, numpy_vs_bare, dtype="float64", batch=256):
    bare = 1e-3
    return {"dtype": dtype, "batch": batch, "width": width, "bpkit_s": bare * vs_bare, "bare_s": bare,
            "vs_bare": vs_bare, "numpy_s": bare * numpy_vs_bare, "numpy_vs_bare": numpy_vs_bare,
            "vs_numpy": vs_bare / numpy_vs_bare}


def test_the_report_counts_the_targets_and_splits_each_miss(tmp_path):
    machine = {"date": "2026-01-01", "python": "3.11", "numpy": "2", "cores": 2, "cpu": "x86_64", "blas": ["b"]}
    rows = [synthetic_mlp_row(256, 1.05, 1.02), synthetic_mlp_row(512, 1.32, 1.20)]
    (tmp_path / "mlp.json").write_text(json.dumps({"machine": machine, "rows": rows}))
    (tmp_path / "widgets.json").write_text(json.dumps({"machine": machine, "target_s": 0.03, "rows": [
        {"explorer": "A", "slider": "w", "median_s": 0.012}, {"explorer": "B", "slider": "v", "median_s": 0.045}]}))
    text = report.render(tmp_path)
    assert "met in 1 of 2 cases (measured 1.05, 1.32)" in text
    assert "- float64, width 512: 1.32 = 1.20 × 1.10" in text
    assert "PyTorch was not installed" in text
    assert "| A | `w` | 12.00 ms | ok |" in text and "| B | `v` | 45.00 ms | over |" in text


def test_the_report_says_when_there_is_nothing_to_report(tmp_path):
    with pytest.raises(FileNotFoundError, match="make bench"):
        report.render(tmp_path)


def test_the_report_tells_thread_contention_from_element_wise_work(tmp_path):
    machine = {"date": "2026-01-01", "python": "3.11", "numpy": "2", "cores": 2, "cpu": "x86_64", "blas": ["b"]}
    contended = {**synthetic_mlp_row(256, 1.05, 1.02), "torch_s": 1e-3, "vs_torch": 2.0, "bpkit_with_torch_s": 2e-3,
                 "matmul_gap": 1.0}
    fused = {**synthetic_mlp_row(512, 1.30, 1.05), "torch_s": 1e-3, "vs_torch": 1.3, "bpkit_with_torch_s": 1.3e-3,
             "matmul_gap": 1.0}
    small = {**synthetic_mlp_row(16, 3.0, 2.0, batch=32), "torch_s": 1e-2, "vs_torch": 0.3, "matmul_gap": 0.4,
             "bpkit_with_torch_s": 3e-3}
    (tmp_path / "mlp.json").write_text(json.dumps({"machine": machine, "rows": [small, contended, fused]}))
    text = report.render(tmp_path)
    assert "bpkit/torch ≤ 0.5 for the book's sizes (widths ≤ 64, batch 32)**: met in 1 of 1 cases (measured 0.30)" in text
    assert "met in 0 of 2 cases" in text
    assert "width 256: bpkit/torch 2.00, the matrix-product gap 1.00; bpkit took 2.00 ms next to PyTorch" in text
    assert "width 512: bpkit/torch 1.30, the matrix-product gap 1.00; bpkit/bare 1.30, of which the hand-written NumPy pass has 1.05" in text
