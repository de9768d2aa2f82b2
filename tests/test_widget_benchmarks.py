"""benchmarks/README.md shows the widgets' results from their JSON: the kernel latencies with their CPU times
and the machine's load, and the Voila latencies with the frames a second of the playground's 200-step run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report  # noqa: E402

MACHINE = {"cores": 2, "cpu": "x86_64", "python": "3.11", "numpy": "2", "blas": ["openblas"], "date": "2026-12-07"}


def test_the_report_shows_the_widget_and_voila_results(tmp_path):
    widgets = {"machine": MACHINE, "target_s": 0.03, "load_before": 3.25, "load_after": 2.5,
               "rows": [{"explorer": "DescentLandscape", "slider": "0.W[0,0]", "median_s": 0.0412, "median_cpu_s": 0.0123},
                        {"explorer": "Playground", "slider": "play", "median_s": 0.0101, "median_cpu_s": 0.0099}]}
    voila = {"machine": MACHINE, "target_s": 0.1, "target_fps": 10.0, "play_fps": 8.5, "play_steps": 200,
             "play_frames": 41, "play_seconds": 4.7, "load_before": 1.0, "load_after": 1.5,
             "rows": [{"widget": "slider key → new drawing", "median_s": 0.0456},
                      {"widget": "next stage click → new drawing", "median_s": 0.125}]}
    (tmp_path / "widgets.json").write_text(json.dumps(widgets))
    (tmp_path / "voila.json").write_text(json.dumps(voila))
    text = report.render(tmp_path)
    assert "| DescentLandscape | `0.W[0,0]` | 41.20 ms | 12.30 ms | over |" in text
    assert "| Playground | `play` | 10.10 ms | 9.90 ms | ok |" in text
    assert "Load average 3.2 when it started and 2.5 at the end, on 2 cores" in text
    voila_part = text[text.index("## Widget latency in Voila"):]
    assert "| slider key → new drawing | 45.60 ms | ok |" in voila_part
    assert "| next stage click → new drawing | 125.00 ms | over |" in voila_part
    assert "200 steps: 8.5 frames a second**, 41 pictures in 4.7 s (target ≥ 10: not met)" in voila_part
    assert "`bench_voila.py`" in text[:text.index("## Widget latency")]
