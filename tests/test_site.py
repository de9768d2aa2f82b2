"""The website in a real browser, offline: every page typesets its math, shows its explorers as pictures of
their state (no live widget without a kernel), loads nothing from outside 127.0.0.1, logs no console error.
Screenshots go to artifacts/site/ (not committed); tests/test_a11y.py checks layout and accessibility."""

from __future__ import annotations

import re

import pytest

import toc
from browser import artifact, chromium, skip_browser, static_server, watch

pytestmark = [pytest.mark.browser, pytest.mark.skipif(skip_browser(), reason="BPBOOK_SKIP_BROWSER=1")]

# any slider a reader could move: ipywidgets' noUiSlider handles, the book's own range inputs, anything with the role
SLIDERS = ".widget-slider .noUi-handle, input[type=range], [role=slider]"
RAW_TEX = re.compile(r"\\(frac|partial|delta|sum|mathbf|begin\{|\(|\[)|\$\$")

# text outside code, scripts and typeset math: what a reader sees as prose and tables
VISIBLE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, mjx-assistive-mml, textarea').forEach(e => e.remove());
  return clone.innerText;
}"""


def pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).parts[0].startswith("_") and p.name != "index.html")


def test_every_page_offline(site):
    results = {}
    with static_server(site) as base, chromium() as ctx:
        for path in pages(site):
            html = (site / path).read_text()
            page = ctx.new_page()
            errors, failures = watch(page)
            page.goto(base + path, wait_until="load", timeout=60_000)
            has_math = 'class="math' in html
            has_widgets = "application/vnd.jupyter.widget-view+json" in html
            has_snapshots = "bp-widget-static-box" in html
            if has_math:
                page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
                page.evaluate("MathJax.startup.promise")
                page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
            if has_widgets:
                page.wait_for_selector(SLIDERS, timeout=30_000)
                page.wait_for_timeout(500)
            if has_snapshots:
                page.wait_for_function("[...document.querySelectorAll('img.bp-widget-static')].every(i => i.complete)",
                                       timeout=30_000)
            page.screenshot(path=str(artifact("site", path.replace("/", "_") + ".png")), full_page=False)
            results[path] = dict(
                errors=list(errors), failures=list(failures),
                math=page.locator("mjx-container").count(), has_math=has_math,
                raw_tex=RAW_TEX.findall(page.evaluate(VISIBLE_TEXT)),
                has_widgets=has_widgets,
                views=html.count("application/vnd.jupyter.widget-view+json"),
                rendered=page.locator(".bp-explorer, .bp-landscape").count(),
                sliders=page.locator(SLIDERS).count(),
                # explorers on the website: a picture of their state that the browser could decode, a note, a link
                snapshots=page.locator(".bp-widget-static-box").count(),
                pictures=page.evaluate("[...document.querySelectorAll('img.bp-widget-static')]"
                                       ".filter(i => i.naturalWidth > 100 && i.alt.length > 40).length"),
                notes=page.locator(".bp-widget-static-note:visible").count(),
                widget_js=page.locator("script[src*='embed-amd']").count(),
                search_buttons=page.locator(".search-button-field:visible").count(),
            )
            page.close()
        blocked = list(ctx.blocked)
    problems = []
    for path, r in results.items():
        if r["errors"]:
            problems.append(f"{path}: console errors {r['errors'][:3]}")
        if r["failures"]:
            problems.append(f"{path}: failed requests {r['failures'][:3]}")
        if r["has_math"] and r["math"] == 0:
            problems.append(f"{path}: has math but nothing was typeset")
        if r["raw_tex"]:
            problems.append(f"{path}: raw TeX visible: {r['raw_tex'][:5]}")
        if path != "search.html" and r["search_buttons"] != 1:  # the sidebar's, no second one in a header bar
            problems.append(f"{path}: {r['search_buttons']} visible search buttons")
        if r["views"] or r["rendered"] or r["sliders"]:  # a widget without a kernel: its controls move nothing
            problems.append(f"{path}: live widgets on the static site: views {r['views']}, rendered {r['rendered']}, "
                            f"sliders {r['sliders']}")
        if r["notes"] != r["snapshots"]:
            problems.append(f"{path}: {r['snapshots']} explorer snapshots but {r['notes']} visible notes")
        if r["widget_js"] and not r["views"]:
            problems.append(f"{path}: loads the ipywidgets manager but shows no widget")
    assert not blocked, f"pages asked for the internet: {sorted(set(blocked))[:5]}"
    assert not problems, "\n".join(problems)
    main = [f"chapters/{c}.html" for c in toc.main_chapters()]
    assert all(results[p]["math"] > 0 for p in main + ["chapters/errata.html"])
    # every chapter of the book (not the appendices) has at least one explorer, shown as its snapshot, and
    # every one that draws shows its picture (notation's forward-pass explorer is two tables)
    assert all(results[p]["snapshots"] >= 1 for p in main), {p: results[p]["snapshots"] for p in main}
    assert all(results[p]["pictures"] >= 1 for p in main if p != "chapters/notation.html"), \
        {p: results[p]["pictures"] for p in main}


def test_search_works_offline(site):
    with static_server(site) as base, chromium() as ctx:
        page = ctx.new_page()
        errors, failures = watch(page)
        page.goto(base + "search.html?q=residual", wait_until="load")
        page.wait_for_selector("#search-results li", timeout=30_000)
        titles = page.locator("#search-results li a").all_inner_texts()
        assert any("residual" in t.lower() for t in titles), titles
        assert not failures and not ctx.blocked


def test_launch_buttons_open_generated_notebooks(site):
    for chapter in ("notation", "hidden-delta", "training"):
        html = (site / "chapters" / f"{chapter}.html").read_text()
        colab = re.search(r'href="(https://colab\.research\.google\.com/[^"]+)"', html).group(1)
        binder = re.search(r'href="(https://mybinder\.org/[^"]+)"', html).group(1)
        target = f"notebooks/chapters/{chapter}.ipynb"
        assert colab.endswith("/blob/gh-pages/" + target), colab
        assert target in binder.replace("%2F", "/"), binder
        import nbformat

        nb = nbformat.read(site / target, as_version=4)
        assert "install" in nb.cells[0].source and "bpkit @ git+https://github.com/" in nb.cells[0].source
        assert any("import bpkit as bp" in c.source for c in nb.cells)
        # the download menu offers the same notebook (and the MyST source): tests/test_launch_notebooks.py
        assert f"../notebooks/chapters/{chapter}.ipynb" in html and f"_sources/chapters/{chapter}.md" in html
