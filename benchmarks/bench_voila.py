"""Widget latency as a reader sees it: key press (or click) → changed pixels, in Voila, in Chromium.

    python benchmarks/bench_voila.py

Voila serves a notebook with the hidden-delta chapter's explorer, the backward sweep following it and
the training chapter's playground, on 127.0.0.1; headless Chromium (Debian's, driven by Playwright)
presses ArrowRight/ArrowLeft on the first slider and clicks "next stage"; the time runs from the key or
pointer event in the page to the moment the widget's new image is decoded and a frame is painted.
"play" runs for a few seconds and the frames per second are the playground's image changes counted.
Targets (issue 15): median ≤ 100 ms from key press to changed pixels; ≥ 10 frames a second.
"""

from __future__ import annotations

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
  window.__frames = 0;
  new MutationObserver(() => { window.__frames += 1; }).observe(img, {attributes: true, attributeFilter: ["src"]});
}"""


def measure(page, image, event, act, repeats):
    times = []
    for i in range(repeats):
        page.evaluate(ARM, [image, event])
        act(i)
        times.append(page.evaluate("() => window.__done") / 1000)
        time.sleep(0.05)
    return times


def main(repeats=20):
    with tempfile.TemporaryDirectory() as tmp:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(CODE)]
        nbformat.write(nb, Path(tmp) / "widgets.ipynb")
        port = free_port()
        args = ["voila", "widgets.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                "--ServerApp.ip=127.0.0.1"]
        with server_process(args, Path(tmp) / "voila.log", cwd=tmp) as proc, chromium() as ctx:
            page = ctx.new_page()
            goto_when_up(page, f"http://127.0.0.1:{port}/", proc, Path(tmp) / "voila.log", "Voila", timeout=120)
            page.wait_for_selector(".bp-playground img", timeout=240_000)
            handle = page.locator(".bp-explorer input[type=range]").first
            handle.focus()

            def key(i):
                page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")

            slider = measure(page, ".bp-explorer img.bp-figure", "keydown", key, repeats)
            next_stage = page.get_by_role("button", name="next stage").first
            back = page.get_by_role("button", name="back").first

            def click(i):
                (next_stage if i % 2 == 0 else back).click()

            stage = measure(page, ".bp-sweep img", "pointerdown", click, repeats)
            page.evaluate(COUNT, ".bp-playground img")
            steps_before = int(page.locator(".bp-playground span[data-name='steps']").first.inner_text())
            page.get_by_role("button", name="play").first.click()
            t0 = time.perf_counter()
            time.sleep(4.0)
            frames = page.evaluate("() => window.__frames")
            seconds = time.perf_counter() - t0
            page.get_by_role("button", name="pause").first.click()
            steps = int(page.locator(".bp-playground span[data-name='steps']").first.inner_text()) - steps_before
    rows = [{"widget": "NetworkExplorer 2-2-2-1 + sweep: slider key → new drawing", "median_s": statistics.median(slider)},
            {"widget": "BackpropSweep 2-2-2-1: next stage/back click → new drawing", "median_s": statistics.median(stage)}]
    fps = frames / seconds
    print(f"{'widget (Voila, Chromium)':62} {'median':>9}  target <= {fmt(TARGET)}")
    for r in rows:
        print(f"{r['widget']:62} {fmt(r['median_s']):>9}  {'ok' if r['median_s'] <= TARGET else 'OVER'}")
    print(f"{'Playground play: frames a second (' + str(steps) + ' steps)':62} {fps:9.1f}  "
          f"{'ok' if fps >= TARGET_FPS else 'UNDER'} (target >= {TARGET_FPS:.0f})")
    save("voila", {"target_s": TARGET, "rows": rows, "play_fps": fps, "play_steps": steps, "target_fps": TARGET_FPS})
    return rows, fps


if __name__ == "__main__":
    main()
