"""Write benchmarks/README.md from the JSON results of the benchmark scripts (run by `make bench`).

No figure in the README is typed by hand: every number comes from benchmarks/results/*.json.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def load(name, results=RESULTS):
    path = Path(results) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def fmt(s):
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.1f} s"


def ratios(rows, key):
    """'1.12, 1.30' — the ratios of `key` in `rows`, two decimals."""
    return ", ".join(f"{r[key]:.2f}" for r in rows)


def mlp_section(mlp):
    rows = mlp["rows"]
    torch = "vs_torch" in rows[0]
    out = ["## bpkit against the bare matrix products and against PyTorch", "",
           "`benchmarks/bench_mlp.py`: `net.loss_and_grads(X, T)` of a depth-4 MLP (four dense layers of width w,",
           "ReLU hidden layers, identity output, mean squared error), medians of interleaved repeats in two groups",
           "(bpkit, bare, numpy; then bpkit, torch, numpy@, torch@), so that PyTorch's threads do not blur the first.",
           "*bare*: the 11 matrix products the pass needs, NumPy `@` alone into preallocated arrays.",
           "*numpy*: the whole pass written by hand in NumPy into preallocated arrays, without checks — the",
           "element-wise work (bias, ReLU and its mask, column sums, the loss) that any NumPy implementation does.",
           "*torch*: the same network in PyTorch's CPU autograd; *numpy@/torch@*: the two libraries' own matrix",
           "products for the same pass.", ""]
    head = "| dtype | batch | width | bpkit | bare | bpkit/bare | numpy/bare | bpkit/numpy |"
    sep = "|---|---|---|---|---|---|---|---|"
    if torch:
        head += " torch | bpkit/torch | numpy@/torch@ |"
        sep += "---|---|---|"
    out += [head, sep]
    for r in rows:
        line = (f"| {r['dtype']} | {r['batch']} | {r['width']} | {fmt(r['bpkit_s'])} | {fmt(r['bare_s'])} | "
                f"{r['vs_bare']:.2f} | {r['numpy_vs_bare']:.2f} | {r['vs_numpy']:.2f} |")
        if torch:
            line += f" {fmt(r['torch_s'])} | {r['vs_torch']:.2f} | {r['matmul_gap']:.2f} |"
        out.append(line)
    out += ["", "### Targets", ""]
    big = [r for r in rows if r["batch"] == 256 and r["width"] >= 256]
    met = [r for r in big if r["vs_bare"] <= 1.10]
    out.append(f"* **bpkit/bare ≤ 1.10 at batch 256, widths ≥ 256**: met in {len(met)} of {len(big)} cases "
               f"(measured {ratios(big, 'vs_bare')}).")
    missed = [r for r in big if r["vs_bare"] > 1.10]
    if missed:
        out.append("  Each miss splits as bpkit/bare = numpy/bare × bpkit/numpy: the first factor is the element-wise "
                   "work any NumPy implementation does between the products, the second what bpkit adds (input "
                   "checks, the fresh arrays it returns, the bookkeeping of layers and δ).")
        for r in missed:
            out.append(f"  - {r['dtype']}, width {r['width']}: {r['vs_bare']:.2f} = {r['numpy_vs_bare']:.2f} × "
                       f"{r['vs_numpy']:.2f}")
    if torch:
        small = [r for r in rows if r["batch"] == 32 and r["width"] <= 64]
        ok = [r for r in small if r["vs_torch"] <= 0.5]
        out.append(f"* **bpkit/torch ≤ 0.5 for the book's sizes (widths ≤ 64, batch 32)**: met in {len(ok)} of "
                   f"{len(small)} cases (measured {ratios(small, 'vs_torch')}).")
        wide = [r for r in rows if r["width"] >= 256]
        ok = [r for r in wide if r["vs_torch"] <= 1.10 * r["matmul_gap"]]
        out.append(f"* **bpkit/torch ≤ 1.10 × (numpy@/torch@) for widths ≥ 256**: met in {len(ok)} of {len(wide)} "
                   f"cases.")
        for r in wide:
            if r["vs_torch"] > 1.10 * r["matmul_gap"]:
                line = (f"  - {r['dtype']}, batch {r['batch']}, width {r['width']}: bpkit/torch {r['vs_torch']:.2f}, "
                        f"the matrix-product gap {r['matmul_gap']:.2f}")
                alone, together = r["bpkit_s"], r.get("bpkit_with_torch_s", r["bpkit_s"])
                if together > 1.15 * alone:
                    line += (f"; bpkit took {fmt(together)} next to PyTorch but {fmt(alone)} next to NumPy alone: "
                             f"the two libraries' thread pools competing for the cores, not bpkit's work.")
                else:
                    line += (f"; bpkit/bare {r['vs_bare']:.2f}, of which the hand-written NumPy pass has "
                             f"{r['numpy_vs_bare']:.2f}: the element-wise work between the products, which PyTorch "
                             f"fuses into fewer passes over memory.")
                out.append(line)
    else:
        out.append("* PyTorch was not installed: the torch columns and targets were skipped "
                   "(`pip install torch==2.13.0`).")
    return out


def render(results=RESULTS):
    """The Markdown of benchmarks/README.md from the JSON files in `results`."""
    mlp, per_neuron, widgets, book, grading = (load(n, results) for n in ("mlp", "per_neuron", "widgets", "book",
                                                                          "grading"))
    some = next((r for r in (mlp, widgets, per_neuron, book, grading) if r), None)
    if some is None:
        raise FileNotFoundError(f"no benchmark results in {results}: run `make bench`")
    m = some["machine"]
    out = ["# Benchmarks", "",
           "Plain Python scripts: `time.perf_counter`, warm-up excluded, the compared programs interleaved in one",
           "process, medians of the repeats. `make bench` runs them all and writes this file from their JSON",
           "results (`benchmarks/results/`, not committed).", "",
           "| script | what |", "|---|---|",
           "| `bench_mlp.py` | bpkit's forward + backward against the bare matrix products and PyTorch |",
           "| `bench_per_neuron.py` | the per-neuron teaching loops against the vectorised version |",
           "| `bench_widgets.py` | slider change → gradients and redrawn figure, in the kernel |",
           "| `bench_book.py` | the strict book build, cold and unchanged; each chapter's SymPy checks |",
           "| `bench_grading.py` | N synthetic submissions of one chapter autograded in the sandbox |", "",
           f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, NumPy {m['numpy']}, BLAS "
           f"{'; '.join(m['blas'])}; measured {m['date']}.", ""]
    if mlp:
        out += mlp_section(mlp) + [""]
    if per_neuron:
        out += ["## The per-neuron teaching version", "",
                "`bench_per_neuron.py`: `bp.per_neuron.loss_and_grads` (loops over samples, neurons and weights in the",
                "sources' scalar notation) against `net.loss_and_grads`, sigmoid MLPs, MSE.", "",
                "| network | batch | vectorised | per-neuron | factor |", "|---|---|---|---|---|"]
        for r in per_neuron["rows"]:
            out.append(f"| {'-'.join(map(str, r['sizes']))} | {r['batch']} | {fmt(r['vectorized_s'])} | "
                       f"{fmt(r['per_neuron_s'])} | {r['factor']:.0f}× |")
        out.append("")
    if widgets:
        out += ["## Widget latency", "",
                f"`bench_widgets.py`: one slider change → bpkit's gradients, the figure redrawn in place and encoded, "
                f"the tables; target median ≤ {fmt(widgets['target_s'])}.", "",
                "| explorer | slider | median | |", "|---|---|---|---|"]
        for r in widgets["rows"]:
            out.append(f"| {r['explorer']} | `{r['slider']}` | {fmt(r['median_s'])} | "
                       f"{'ok' if r['median_s'] <= widgets['target_s'] else 'over'} |")
        out.append("")
    if book:
        t = book["targets"]
        out += ["## The book", "",
                f"* strict build, cold (every chapter executed): **{book['cold_s']:.1f} s** (target ≤ {t['cold_s']:.0f} s)",
                f"* strict build, nothing changed: **{book['unchanged_s']:.1f} s** (target ≤ {t['unchanged_s']:.0f} s)", "",
                f"Each chapter executed once; *SymPy checks* sums the cells that use SymPy (target ≤ {t['sympy_s']:.0f} s).",
                "", "| chapter | all cells | SymPy checks |", "|---|---|---|"]
        for c in book["chapters"]:
            out.append(f"| {c['chapter']} | {c['execute_s']:.2f} s | {c['sympy_s']:.2f} s |")
        out.append("")
    if grading:
        g = grading
        out += ["## Autograding", "",
                f"`bench_grading.py`: {g['n']} submissions of `{g['chapter']}` "
                f"({', '.join(f'{v} {k}' for k, v in g['kinds'].items())}) graded by `coursework.autograde` with "
                f"{g['workers']} workers, each in its sandbox"
                + (f"; load average {g['load_before']:.1f} when it started (other work on the machine slows it)"
                   if "load_before" in g else "") + ".", "",
                f"* cold: **{g['cold_s']:.0f} s**, {g['per_min']:.1f} submissions/min, "
                f"**{g['per_min_per_core']:.1f} per minute per core**; again unchanged (cached): {g['unchanged_s']:.1f} s",
                f"* 300 submissions at that rate: **{g['minutes_for_300']:.0f} min** (target ≤ {g['target_300_min']:.0f} min: "
                f"{'met' if g['minutes_for_300'] <= g['target_300_min'] else 'not met'})",
                f"* scores: {', '.join(f'{v} × {k}' for k, v in g['scores'].items())}"]
        if "cpu_s_per_submission" in g:
            out += [f"* CPU per submission: **{g['cpu_s_per_submission']:.2f} s** (its sandbox "
                    f"{g['sandbox_cpu_s_per_submission']:.2f} s); the instructor's notebook, once per batch: "
                    f"{g['reference_s']:.1f} s; 300 submissions if the CPU were all the batch's: "
                    f"{g['minutes_for_300_cpu_bound']:.1f} min (a lower bound)",
                    f"* load average during the run: mean {g['load_during_mean']:.1f}, max {g['load_during_max']:.1f} "
                    f"on {g['workers']} cores (above {g['workers']}, other work slowed the batch)",
                    "* one submission, step by step (s): " + "; ".join(f"{k} {v:.2f}" for k, v in g["profile"].items())]
        out.append("")
    return "\n".join(out) + "\n"


def main():
    (HERE / "README.md").write_text(render())
    print("wrote", (HERE / "README.md").relative_to(HERE.parent))


if __name__ == "__main__":
    main()
