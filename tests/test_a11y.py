"""Every page of the website as a reader gets it, in Chromium at 1280×800 and at 390×844 (a phone):

* axe-core (npm, pinned in package-lock.json, injected into the page) finds no serious or critical
  WCAG 2.1 A/AA violation at either width and in either colour mode: every rule, colour contrast included,
  at 390 px in light mode and at 1280 px in dark mode (a full axe run in all four views doubled the
  survey, 93 → 193 s, for combinations where nothing but the theme's colours changes); the other two views
  are measured and photographed;
* no page scrolls sideways at 390 px and no code block scrolls sideways (code wraps);
* formulas are not tab stops; the explorers are pictures with alt text, a note and a live link, and
  nothing on the static site looks movable (no slider, no enabled widget control).

One browser, one server, a few pages at a time: the survey runs once for the module.  Screenshots of every
page at both widths (and of each explorer) go to artifacts/screenshots/ (not committed).
Run ``python tests/test_a11y.py`` for a table of the counts per page.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from browser import CHROMIUM, CHROMIUM_ARGS, ROOT, artifact, require_chromium, skip_browser, static_server  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.skipif(skip_browser(), reason="BPBOOK_SKIP_BROWSER=1")]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"1280": (1280, 800), "390": (390, 844)}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PARALLEL = 2
# every page in both colour modes at both widths, measured and photographed; axe runs every rule in one view
# per width and per mode; the explorers' pictures once per width
COMBINATIONS = (("390", "light"), ("390", "dark"), ("1280", "dark"), ("1280", "light"))
AXE_VIEWS = EXPLORER_SHOTS = {("390", "light"), ("1280", "dark")}

MEASURE = """() => {
  const doc = document.documentElement;
  const scrolls = e => { const s = getComputedStyle(e); return (/(auto|scroll)/.test(s.overflowY) && e.scrollHeight > e.clientHeight + 1)
                                                            || (/(auto|scroll)/.test(s.overflowX) && e.scrollWidth > e.clientWidth + 1); };
  const sideways = doc.scrollWidth - doc.clientWidth;
  const code = [...document.querySelectorAll('main pre')].filter(p => p.scrollWidth > p.clientWidth + 1).length;
  const math = document.querySelectorAll('mjx-container').length;
  // a formula is a tab stop only when it is wider than the column and scrolls (bpbook-a11y.js)
  const mathTabStops = [...document.querySelectorAll('mjx-container')].filter(m => m.tabIndex >= 0 && !m.hasAttribute('data-bp-scroll')).length;
  const unreachable = [...document.querySelectorAll('mjx-container, main table, main pre')]
      .filter(e => scrolls(e) && e.tabIndex < 0 && !e.querySelector('a, button, input, [tabindex]')).length;
  const statics = [...document.querySelectorAll('img.bp-widget-static')];
  const boxes = [...document.querySelectorAll('.bp-widget-static-box')];
  // scroll boxes inside scroll boxes: an element that scrolls inside another that scrolls
  const main = document.querySelector('main') || document.body;
  const scrollers = [...main.querySelectorAll('*')].filter(scrolls);
  const nested = scrollers.filter(e => scrollers.some(o => o !== e && o.contains(e))).length;
  return {sideways, code, math, mathTabStops, unreachable, nested,
          statics: statics.length, missingAlt: statics.filter(i => !(i.alt || '').trim()).length,
          clipped: statics.filter(i => i.getBoundingClientRect().right > doc.clientWidth + 1).length,
          boxes: boxes.length,
          liveLinks: boxes.filter(b => { const a = b.querySelector('a.bp-open-live'); return a && /^https:\\/\\//.test(a.href); }).length,
          sliders: document.querySelectorAll('[role=slider], input[type=range], .widget-slider').length};
}"""


def pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).parts[0].startswith("_") and p.name != "index.html"
                  and p.name not in ("genindex.html", "search.html"))


def _summary(violations):
    return [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]),
             "targets": [n["target"] for n in v["nodes"][:3]]}
            for v in violations if v["impact"] in ("serious", "critical")]


async def _survey(site, base):
    from playwright.async_api import async_playwright

    axe = AXE.read_text()
    results = {}
    async with async_playwright() as p:
        with tempfile.TemporaryDirectory() as profile:
            ctx = await p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                             args=CHROMIUM_ARGS)

            async def route(r):
                if urlparse(r.request.url).hostname == "127.0.0.1":
                    await r.continue_()
                else:
                    await r.abort()

            await ctx.route("**/*", route)
            gate = asyncio.Semaphore(PARALLEL)

            async def one(path):
                """The page loaded once on a phone-sized screen, then widened to 1280 px: at each width in light
                and in dark mode (the theme's own switch: the same page and typeset math, no reload), measured and
                checked by axe-core."""
                async with gate:
                    page = await ctx.new_page()
                    t0 = time.perf_counter()
                    await page.set_viewport_size({"width": WIDTHS["390"][0], "height": WIDTHS["390"][1]})
                    await page.goto(base + path, wait_until="load", timeout=60_000)
                    await page.evaluate("""async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)
                                                           await MathJax.startup.promise; }""")
                    await page.add_script_tag(content=axe)
                    name = path.replace("/", "_").removesuffix(".html")
                    width_now = None
                    for width, mode in COMBINATIONS:
                        if width != width_now:
                            await page.set_viewport_size({"width": WIDTHS[width][0], "height": WIDTHS[width][1]})
                            await page.wait_for_timeout(250)  # bpbook-a11y.js re-marks what scrolls after a resize
                            width_now = width
                        await page.evaluate("""mode => { document.documentElement.dataset.theme = mode;
                                                         document.documentElement.dataset.mode = mode; }""", mode)
                        await page.evaluate("window.scrollTo(0, 0)")
                        shot = name + ("-dark" if mode == "dark" else "")
                        await page.screenshot(path=str(artifact("screenshots", width, shot + ".png")))
                        if (width, mode) in EXPLORER_SHOTS:
                            for i, box in enumerate(await page.locator(".bp-widget-static-box").all()):
                                await box.screenshot(path=str(artifact("screenshots", width, f"{shot}-explorer{i + 1}.png")))
                        r = await page.evaluate(MEASURE)
                        found = {"violations": []}
                        if (width, mode) in AXE_VIEWS:
                            found = await page.evaluate(  # resultTypes: no CSS selectors built for every passing node
                                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                                TAGS)
                        r.update(axe=_summary(found["violations"]), axe_run=(width, mode) in AXE_VIEWS, mode=mode,
                                 seconds=round(time.perf_counter() - t0, 1))
                        results[(path, width, mode)] = r
                    await page.close()

            await asyncio.gather(*(one(path) for path in pages(site)))
            await ctx.close()
    return results


def survey(site):
    require_chromium()
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE.relative_to(ROOT)}): run `npm ci` in the repository "
                    "(make book does, through tools/offline_assets.py)")
    with static_server(site) as base:
        return asyncio.run(_survey(site, base))


@pytest.fixture(scope="module")
def results(site):
    out = survey(site)
    artifact("screenshots", "axe.json").write_text(json.dumps({f"{p} @{w} {m}": r for (p, w, m), r in out.items()}, indent=1,
                                                             ensure_ascii=False))
    return out


def test_axe_finds_no_serious_or_critical_violation(results):
    bad = {f"{p} @{w} {m}": r["axe"] for (p, w, m), r in results.items() if r["axe"]}
    assert {(w, m) for _, w, m in results} == set(COMBINATIONS)
    ran = {(w, m) for (_, w, m), r in results.items() if r["axe_run"]}
    assert {w for w, _ in ran} == set(WIDTHS) and {m for _, m in ran} == {"light", "dark"}, ran
    assert not bad, json.dumps(bad, indent=1, ensure_ascii=False)


def test_no_page_scrolls_sideways_on_a_phone(results):
    wide = {f"{p} {m}": r["sideways"] for (p, w, m), r in results.items() if w == "390" and r["sideways"] > 0}
    assert not wide, f"pages wider than a 390 px screen (extra px): {wide}"


def test_code_wraps_and_nothing_scrolls_inside_a_scroll_box(results):
    code = {f"{p} @{w} {m}": r["code"] for (p, w, m), r in results.items() if r["code"]}
    nested = {f"{p} @{w} {m}": r["nested"] for (p, w, m), r in results.items() if r["nested"]}
    assert not code, f"code blocks that scroll sideways: {code}"
    assert not nested, f"scroll boxes inside scroll boxes: {nested}"


def test_formulas_are_not_tab_stops(results):
    stops = {f"{p} @{w} {m}": r["mathTabStops"] for (p, w, m), r in results.items() if r["mathTabStops"]}
    assert not stops, f"typeset formulas in the tab order: {stops}"
    unreachable = {f"{p} @{w} {m}": r["unreachable"] for (p, w, m), r in results.items() if r["unreachable"]}
    assert not unreachable, f"boxes that scroll but a keyboard cannot reach: {unreachable}"
    assert sum(r["math"] for r in results.values()) > 100  # the math was there to check


def test_explorers_are_honest_pictures(results):
    chapters = [f"chapters/{c}.html" for c in ("notation", "chain-rule", "output-delta", "hidden-delta", "batch",
                                               "regularization", "residual", "training")]
    for (path, width, mode), r in results.items():
        assert r["sliders"] == 0, f"{path} @{width}: {r['sliders']} sliders that move nothing on a static page"
        assert r["missingAlt"] == 0 and r["clipped"] == 0, (path, width, mode, r)
        assert r["liveLinks"] == r["boxes"], f"{path} @{width}: an explorer without its live link"
    for path in chapters:
        assert results[(path, "1280", "light")]["boxes"] >= 1, f"{path}: no explorer snapshot"
    # every explorer that draws shows its picture (notation's forward-pass explorer is tables only)
    assert sum(results[(p, "1280", "light")]["statics"] for p in chapters) >= 9


if __name__ == "__main__":  # a table of the counts, e.g. for a site built from another commit
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    out = survey(site)
    print(f"{'page':30} {'width':>5} {'mode':>5} {'serious/critical nodes (rules)':40} {'sideways':>8} {'code':>5} {'tabmath':>7}")
    for (path, width, mode), r in sorted(out.items()):
        nodes = sum(v["nodes"] for v in r["axe"])
        rules = ",".join(sorted({v["id"] for v in r["axe"]}))
        print(f"{path:30} {width:>5} {mode:>5} {nodes:>3} {rules[:60]:36} {r['sideways']:>8} {r['code']:>5} {r['mathTabStops']:>7}")
