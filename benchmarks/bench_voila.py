"""Widget latency as a reader sees it: key press (or click) → changed pixels, in Voila, in Chromium.

    python benchmarks/bench_voila.py

Voila serves a notebook with the hidden-delta chapter's explorer, the backward sweep following it and
the training chapter's playground, on 127.0.0.1; headless Chromium (Debian's, driven by Playwright)
presses ArrowRight/ArrowLeft on the first slider and clicks "next stage"; the time runs from the key or
pointer event in the page to the moment the widget's new image is decoded and a frame is painted.
"play" runs 200 gradient steps and the frames per second are the playground's image changes counted in
the page, from the first new picture to the last.
Targets (issue 15): median ≤ 100 ms from key press to changed pixels; ≥ 10 frames a second.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import chromium, free_port, goto_when_up, server_process  # noqa: E402
from timing import fmt, save  # noqa: E402

TARGET = 0.100
TARGET_FPS = 10.0
CODE = """import bpkit as bp
explorer = bp.widgets.NetworkExplorer((2, 2, 2, 1))
sweep = bp.widgets.BackpropSweep(explorer, start="hidden")
playground = bp.widgets.Playground()
display(explorer, sweep, playground)
"""

ARM = """([image, event]) => {
  const img = document.querySelectorAll(image)[0];
  const before = img.src;
  window.__t0 = null;
  document.addEventListener(event, () => { window.__t0 = performance.now(); }, {capture: true, once: true});
  window.__done = new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (img.src === before) return;
      observer.disconnect();
      img.decode().catch(() => {}).then(() => requestAnimationFrame(() => resolve(performance.now() - window.__t0)));
    });
    observer.observe(img, {attributes: true, attributeFilter: ["src"]});
  });
}"""

COUNT = """(image) => {
  const img = document.querySelector(image);
  window.__frames = [];
  new MutationObserver(() => { window.__frames.push(performance.now()); })
    .observe(img, {attributes: true, attributeFilter: ["src"]});
}"""
RUN_STEPS = 200


def measure(page, image, event, act, repeats):
    times = []
    for i in range(repeats):
        page.evaluate(ARM, [image, event])
        act(i)
        times.append(page.evaluate("() => Promise.race([window.__done, new Promise((_, no) => "
                                   "setTimeout(() => no(new Error('no new picture within 30 s')), 30000))])") / 1000)
        time.sleep(0.05)
    return times


def main(repeats=20):
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(CODE)]
        nbformat.write(nb, Path(tmp) / "widgets.ipynb")
        port = free_port()
        args = ["voila", "widgets.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                "--ServerApp.ip=127.0.0.1", "--VoilaConfiguration.progressive_rendering=True"]
        with server_process(args, Path(tmp) / "voila.log", cwd=tmp) as proc, chromium() as ctx:
            page = ctx.new_page()
            goto_when_up(page, f"http://127.0.0.1:{port}/", proc, Path(tmp) / "voila.log", "Voila", timeout=120)
            page.wait_for_selector(".bp-playground img", timeout=240_000)
            print("Voila shows the widgets; measuring", file=sys.stderr, flush=True)
            handle = page.locator(".bp-explorer .bp-controls input[type=range]").first  # x₁ (η comes first)
            handle.focus()

            def key(i):
                page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")

            slider = measure(page, ".bp-explorer img.bp-figure", "keydown", key, repeats)
            next_stage = page.get_by_role("button", name="next stage").first
            back = page.get_by_role("button", name="back").first

            def click(i):
                (next_stage if i % 2 == 0 else back).click()

            stage = measure(page, ".bp-sweep img", "pointerdown", click, repeats)
            print("slider and stage measured; the 200-step run", file=sys.stderr, flush=True)
            # a 200-step run of "play": the playground's new pictures counted from the first to the last
            steps_at = ".bp-playground span[data-name='steps']"
            page.evaluate(COUNT, ".bp-playground img")
            steps_before = int(page.locator(steps_at).first.inner_text())
            page.get_by_role("button", name="play").first.click()
            page.wait_for_function(f"() => Number(document.querySelector(\"{steps_at}\").innerText) >= "
                                   f"{steps_before + RUN_STEPS}", timeout=180_000)
            page.get_by_role("button", name="pause").first.click()
            stamps = page.evaluate("() => window.__frames")
            steps = int(page.locator(steps_at).first.inner_text()) - steps_before
    frames = len(stamps)
    seconds = (stamps[-1] - stamps[0]) / 1000 if frames > 1 else float("inf")
    rows = [{"widget": "NetworkExplorer 2-2-2-1 + sweep: slider key → new drawing", "median_s": statistics.median(slider)},
            {"widget": "BackpropSweep 2-2-2-1: next stage/back click → new drawing", "median_s": statistics.median(stage)}]
    fps = (frames - 1) / seconds  # frames after the first, over the time from the first to the last
    print(f"{'widget (Voila, Chromium)':62} {'median':>9}  target <= {fmt(TARGET)}")
    for r in rows:
        print(f"{r['widget']:62} {fmt(r['median_s']):>9}  {'ok' if r['median_s'] <= TARGET else 'OVER'}")
    print(f"{'Playground play: frames a second (' + str(steps) + ' steps, ' + str(frames) + ' frames)':62} {fps:9.1f}  "
          f"{'ok' if fps >= TARGET_FPS else 'UNDER'} (target >= {TARGET_FPS:.0f})")
    print(f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    save("voila", {"target_s": TARGET, "rows": rows, "play_fps": fps, "play_steps": steps, "play_frames": frames,
                   "play_seconds": seconds, "target_fps": TARGET_FPS, "load_before": load_before,
                   "load_after": os.getloadavg()[0]})
    return rows, fps


if __name__ == "__main__":
    main()
