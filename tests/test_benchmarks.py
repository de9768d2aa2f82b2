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
    assert bench_mlp.repeats_for(1024, 256) == 21 and bench_mlp.repeats_for(16, 32) == 300


@pytest.mark.skipif(not bench_mlp.have_torch(), reason="PyTorch is optional (make bench installs it)")
def test_the_torch_pass_is_checked_against_bpkit(monkeypatch):
    net, X, T = bench_mlp.make_problem(width=8, batch=5, dtype=np.float64)
    bench_mlp.torch_pass(net, X, T)()  # the same loss and gradients as bpkit, else an AssertionError
    real = net.loss_and_grads

    def one_percent_off(X, T):
        value, grads = real(X, T)
        return value, {**grads, "2.W": grads["2.W"] * 1.01}

    monkeypatch.setattr(net, "loss_and_grads", one_percent_off)
    with pytest.raises(AssertionError, match="disagree"):
        bench_mlp.torch_pass(net, X, T)


def test_samples_interleave_the_programs_and_pair_their_ratios():
    calls = []
    s = timing.samples({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then the order reversed every other repeat
    assert set(s) == {"a", "b"} and all(len(v) == 3 and min(v) >= 0 for v in s.values())
    assert timing.paired_ratio([2.0, 10.0, 3.0], [1.0, 10.0, 1.0]) == 2.0  # per-repeat ratios 2, 1, 3
    calls.clear()
    timing.samples({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=2, warmup=0, settle=1)
    assert calls == ["a", "a", "b", "b", "b", "b", "a", "a"]  # each timed call right after an untimed one


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
    assert all("(1 threads)" in b for b in saved["machine"]["blas"])  # BLAS pinned to one thread while timing
    assert saved["malloc_tuned"] is False and saved["clock"] == "process CPU time" and len(saved["load_before"]) == 3
    text = report.render(tmp_path)
    assert f"| float64 | 4 | 8 | {report.fmt(rows[0]['bpkit_s'])} | {report.fmt(rows[0]['numpy_s'])} |" in text
    assert "malloc tuning (`bp.tune_malloc()`): **off** (the default)" in text
    assert "| 2-2-1 | 4 |" in text
    assert "## Widget latency" not in text  # no widgets.json: no section


MACHINE = {"date": "2026-01-01", "python": "3.11", "numpy": "2", "cores": 2, "cpu": "x86_64", "blas": ["b"]}


def synthetic_mlp_row(width, vs_numpy, dtype="float64", batch=256, vs_torch=None):
    row = {"dtype": dtype, "batch": batch, "width": width, "bpkit_s": 1e-3 * vs_numpy, "numpy_s": 1e-3,
           "bare_s": 9e-4, "vs_numpy": vs_numpy, "numpy_vs_bare": 1.11}
    if vs_torch is not None:
        row.update(torch_s=1e-3 * vs_numpy / vs_torch, vs_torch=vs_torch)
    return row


def test_the_report_counts_the_targets(tmp_path):
    rows = [synthetic_mlp_row(256, 1.04), synthetic_mlp_row(512, 1.32, dtype="float32"),
            synthetic_mlp_row(1024, 1.10, batch=32)]  # batch 32: no target at width 1024
    (tmp_path / "mlp.json").write_text(json.dumps({"machine": MACHINE, "rows": rows, "malloc_tuned": True,
                                                    "load_before": [3.5, 3, 2], "load_after": [4.25, 3, 2]}))
    (tmp_path / "widgets.json").write_text(json.dumps({"machine": MACHINE, "target_s": 0.03, "rows": [
        {"explorer": "A", "slider": "w", "median_s": 0.012}, {"explorer": "B", "slider": "v", "median_s": 0.045}]}))
    text = report.render(tmp_path)
    assert "widths ≥ 256 (float32 and float64)**: NOT met, within it in 1 of 2 cases (measured 1.040, 1.320)" in text
    assert "  - missed: float32, width 512: 1.320" in text
    assert "PyTorch was not installed" in text
    assert "malloc tuning (`bp.tune_malloc()`): **on**." in text
    assert "load average 3.5 when the run started, 4.2 when it ended, on 2 cores" in text
    assert "| A | `w` | 12.00 ms | ok |" in text and "| B | `v` | 45.00 ms | over |" in text


def test_the_report_says_when_the_torch_target_is_met(tmp_path):
    rows = [synthetic_mlp_row(16, 2.5, batch=32, vs_torch=0.31), synthetic_mlp_row(64, 1.5, batch=32, vs_torch=0.49),
            synthetic_mlp_row(256, 1.01, vs_torch=0.9)]
    (tmp_path / "mlp.json").write_text(json.dumps({"machine": MACHINE, "rows": rows}))
    text = report.render(tmp_path)
    assert "(widths ≤ 64, batch 32)**: met, within it in 2 of 2 cases (measured 0.31, 0.49)" in text
    assert "widths ≥ 256 (float32 and float64)**: met, within it in 1 of 1 cases (measured 1.010)" in text
    rows[1]["vs_torch"] = 0.51
    (tmp_path / "mlp.json").write_text(json.dumps({"machine": MACHINE, "rows": rows}))
    assert "(widths ≤ 64, batch 32)**: NOT met, within it in 1 of 2 cases" in report.render(tmp_path)


def test_the_verdicts_printed_with_the_table():
    assert bench_mlp.verdict(synthetic_mlp_row(256, 1.05)) == "numpy ok"
    assert bench_mlp.verdict(synthetic_mlp_row(256, 1.051)) == "numpy MISSED"
    assert bench_mlp.verdict(synthetic_mlp_row(64, 1.5, batch=32, vs_torch=0.6)) == "torch MISSED"
    assert bench_mlp.verdict(synthetic_mlp_row(64, 1.5, batch=256, vs_torch=0.6)) == ""


def test_the_mlp_part_rewrites_only_its_section(tmp_path):
    readme = "# Benchmarks\n\nintro\n\n## bpkit against old\n\nold table\n\n## The per-neuron teaching version\n\nkept\n"
    text = report.replace_mlp_section(readme, {"machine": MACHINE, "rows": [synthetic_mlp_row(256, 1.02)]})
    assert text.startswith("# Benchmarks\n\nintro\n\n## bpkit against a hand-written NumPy pass")
    assert "old table" not in text and "| float64 | 256 | 256 |" in text
    assert text.endswith("## The per-neuron teaching version\n\nkept\n")
    with pytest.raises(ValueError, match="full `make bench`"):
        report.replace_mlp_section("# Benchmarks\n", {"machine": MACHINE, "rows": []})


def test_the_report_says_when_there_is_nothing_to_report(tmp_path):
    with pytest.raises(FileNotFoundError, match="make bench"):
        report.render(tmp_path)


def test_a_section_whose_benchmark_did_not_run_is_kept_and_marked():
    old = "# Benchmarks\n\n## Widget latency\n\nold widgets\n\n## The book\n\nbook table\n"
    new = "# Benchmarks\n\n## Widget latency\n\nnew widgets\n"
    text = report.keep_sections(old, new)
    assert "new widgets" in text and "old widgets" not in text
    assert text.endswith(f"## The book\n\n{report.KEPT}\n\nbook table\n")
    assert report.keep_sections(text, new) == text  # kept again, marked once
    assert report.keep_sections(old, old) == old  # everything ran: nothing is marked
