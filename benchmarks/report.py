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


def ratios(rows, key, digits=2):
    """'1.12, 1.30' — the ratios of `key` in `rows`, two decimals."""
    return ", ".join(f"{r[key]:.{digits}f}" for r in rows)


def mlp_section(mlp):
    rows = mlp["rows"]
    torch = "vs_torch" in rows[0]
    targets = mlp.get("targets", {"vs_numpy": 1.05, "vs_torch": 0.5})
    tuned = mlp.get("malloc_tuned", False)
    load = mlp.get("load_before"), mlp.get("load_after")
    out = ["## bpkit against a hand-written NumPy pass and against PyTorch", "",
           "`benchmarks/bench_mlp.py` (`make bench-mlp`): `net.loss_and_grads(X, T)` of a depth-4 MLP (four dense",
           "layers of width w, ReLU hidden layers, identity output, mean squared error), with all of bpkit's checks.",
           "*numpy*: the same pass written by hand in NumPy into arrays allocated once before the timing, without",
           "checks; *bare*: its 11 matrix products alone; *torch*: the same network, weights and loss in PyTorch's CPU",
           "autograd" + (f" ({mlp['torch']})" if mlp.get("torch") else "") + ", checked once against bpkit's numbers.",
           f"One thread for every library (OpenBLAS and PyTorch), {mlp.get('clock', 'process CPU time')}; the programs",
           "interleaved in each repeat, each timed call right after an untimed one of the same program (warm, as",
           "in a training loop); a ratio is the median over the repeats of the two programs' times in the same",
           "repeat. Times are medians.", "",
           f"bpkit's malloc tuning (`bp.tune_malloc()`): **{'on' if tuned else 'off'}**"
           + ("" if tuned else " (the default)") + "."]
    if load[0]:
        out.append(f"The machine was shared with other work: load average {load[0][0]:.1f} when the run started, "
                   f"{load[1][0]:.1f} when it ended, on {mlp['machine']['cores']} cores.")
    out.append("")
    head = "| dtype | batch | width | bpkit | numpy | bpkit/numpy | bare | numpy/bare |"
    sep = "|---|---|---|---|---|---|---|---|"
    if torch:
        head += " torch | bpkit/torch |"
        sep += "---|---|"
    out += [head, sep]
    for r in rows:
        line = (f"| {r['dtype']} | {r['batch']} | {r['width']} | {fmt(r['bpkit_s'])} | {fmt(r['numpy_s'])} | "
                f"{r['vs_numpy']:.3f} | {fmt(r['bare_s'])} | {r['numpy_vs_bare']:.2f} |")
        if torch:
            line += f" {fmt(r['torch_s'])} | {r['vs_torch']:.2f} |"
        out.append(line)
    out += ["", "### Targets", ""]
    big = [r for r in rows if r["batch"] == 256 and r["width"] >= 256]
    met = [r for r in big if r["vs_numpy"] <= targets["vs_numpy"]]
    out.append(f"* **bpkit/numpy ≤ {targets['vs_numpy']:.2f} at batch 256, widths ≥ 256 (float32 and float64)**: "
               f"{'met' if big and len(met) == len(big) else 'NOT met'}, within it in {len(met)} of {len(big)} cases "
               f"(measured {ratios(big, 'vs_numpy', 3)}).")
    for r in big:
        if r["vs_numpy"] > targets["vs_numpy"]:
            out.append(f"  - missed: {r['dtype']}, width {r['width']}: {r['vs_numpy']:.3f}")
    if torch:
        small = [r for r in rows if r["batch"] == 32 and r["width"] <= 64]
        ok = [r for r in small if r["vs_torch"] <= targets["vs_torch"]]
        out.append(f"* **bpkit/torch ≤ {targets['vs_torch']:.2f} for the book's sizes (widths ≤ 64, batch 32)**: "
                   f"{'met' if small and len(ok) == len(small) else 'NOT met'}, within it in {len(ok)} of {len(small)} cases "
                   f"(measured {ratios(small, 'vs_torch')}).")
    else:
        out.append("* PyTorch was not installed: the torch comparison was skipped "
                   "(`pip install torch==2.13.0`; `make bench` installs it).")
    return out


def _load(result):
    """' (load average 3.1 when it started, 2.9 at the end, on 2 cores)' when the result has it."""
    if "load_before" not in result:
        return ""
    return (f" Load average {result['load_before']:.1f} when it started and {result['load_after']:.1f} at the end, "
            f"on {result['machine']['cores']} cores: other work on the machine lengthens the wall times.")


def widgets_section(widgets):
    target = widgets["target_s"]
    cpu = "median_cpu_s" in widgets["rows"][0]
    out = ["## Widget latency", "",
           f"`bench_widgets.py`: one slider change → bpkit's gradients, the figure redrawn in place and encoded, "
           f"the tables; target median ≤ {fmt(target)} (wall time)." + _load(widgets)
           + (" *CPU*: the median CPU time of the process for one update, close to the wall time on an idle machine."
              if cpu else ""), "",
           "| explorer | slider | median | " + ("CPU | " if cpu else "") + "|",
           "|---|---|---|" + ("---|" if cpu else "") + "---|"]
    for r in widgets["rows"]:
        out.append(f"| {r['explorer']} | `{r['slider']}` | {fmt(r['median_s'])} | "
                   + (f"{fmt(r['median_cpu_s'])} | " if cpu else "")
                   + f"{'ok' if r['median_s'] <= target else 'over'} |")
    return out


def voila_section(voila):
    target, fps = voila["target_s"], voila["play_fps"]
    out = ["## Widget latency in Voila", "",
           "`bench_voila.py`: Voila on 127.0.0.1 serves the explorer, the backward sweep and the playground; headless",
           "Chromium presses keys and clicks; the time runs from the event in the page to the new picture decoded and",
           f"painted; target median ≤ {fmt(target)}." + _load(voila), "",
           "| widget | median | |", "|---|---|---|"]
    for r in voila["rows"]:
        out.append(f"| {r['widget']} | {fmt(r['median_s'])} | {'ok' if r['median_s'] <= target else 'over'} |")
    frames = f", {voila['play_frames']} pictures in {voila['play_seconds']:.1f} s" if "play_frames" in voila else ""
    out += ["", f"* **the playground's \"play\", {voila['play_steps']} steps: {fps:.1f} frames a second**{frames} "
                f"(target ≥ {voila['target_fps']:.0f}: {'met' if fps >= voila['target_fps'] else 'not met'})"]
    return out


def render(results=RESULTS):
    """The Markdown of benchmarks/README.md from the JSON files in `results`."""
    mlp, per_neuron, widgets, voila, book, grading = (load(n, results) for n in ("mlp", "per_neuron", "widgets", "voila",
                                                                                 "book", "grading"))
    some = next((r for r in (mlp, widgets, voila, per_neuron, book, grading) if r), None)
    if some is None:
        raise FileNotFoundError(f"no benchmark results in {results}: run `make bench`")
    m = some["machine"]
    out = ["# Benchmarks", "",
           "Plain Python scripts: `time.perf_counter` (`bench_mlp.py`: CPU time), warm-up excluded, the compared",
           "programs interleaved in one process, medians of the repeats. `make bench` runs them all and writes this",
           "file from their JSON results (`benchmarks/results/`; `mlp.json` is committed with it).", "",
           "| script | what |", "|---|---|",
           "| `bench_mlp.py` | bpkit's forward + backward against a hand-written NumPy pass and PyTorch |",
           "| `bench_per_neuron.py` | the per-neuron teaching loops against the vectorised version |",
           "| `bench_widgets.py` | slider change → gradients and redrawn figure, in the kernel |",
           "| `bench_voila.py` | key press or click → changed pixels in Voila (Chromium); frames a second of a 200-step run |",
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
        out += widgets_section(widgets) + [""]
    if voila:
        out += voila_section(voila) + [""]
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


MLP_HEADING = "## bpkit against"


def replace_mlp_section(text, mlp):
    """``text`` (a README) with its bpkit section, from its heading to the next ``## ``, rendered anew from
    ``mlp``: the other sections stay as the last full ``make bench`` wrote them."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(MLP_HEADING)), None)
    if start is None:
        raise ValueError(f"no section starting with {MLP_HEADING!r} in the README: run the full `make bench`")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[:start] + mlp_section(mlp) + [""] + lines[end:]) + "\n"


def sections(text):
    """{heading line: its lines up to the next heading} of the ``## `` sections of a README."""
    out, heading = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line
            out[heading] = [line]
        elif heading:
            out[heading].append(line)
    return out


KEPT = "*(Not run this time: kept as the previous `make bench` wrote it.)*"


def keep_sections(old, new):
    """``new`` plus each section of ``old`` whose benchmark did not run this time (its results file is missing),
    marked as kept, so that running a few scripts does not erase the others' last results."""
    have = sections(new)
    kept = [body for heading, body in sections(old).items() if heading not in have]
    out = new.rstrip("\n").splitlines()
    for body in kept:
        rest = [line for line in body[1:] if line != KEPT]
        while rest and not rest[0].strip():
            rest.pop(0)
        out += ["", body[0], "", KEPT, ""] + rest
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv=None):
    """``report.py``: the whole README from every result; ``report.py mlp``: only the bpkit section."""
    import sys

    argv = sys.argv[1:] if argv is None else argv
    readme = HERE / "README.md"
    if argv == ["mlp"]:
        mlp = load("mlp")
        if mlp is None:
            raise FileNotFoundError(f"no {RESULTS / 'mlp.json'}: run benchmarks/bench_mlp.py first")
        readme.write_text(replace_mlp_section(readme.read_text(), mlp))
    else:
        old = readme.read_text() if readme.exists() else ""
        readme.write_text(keep_sections(old, render()))
    print("wrote", readme.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
