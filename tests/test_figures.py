"""Every figure a page's source draws reaches the reader: in the executed notebook, in the notebook the
page offers for download, and on the built page, each with alt text and a numbered caption.

How the figures of a source are counted (``figures_in_source``): the page (every file of ``_toc.yml``) is
read as a notebook with jupytext; in each code cell that a reader sees the output of (not tagged
``remove-cell`` or ``remove-output``), the calls that create a pyplot figure — ``plt.figure``,
``plt.subplots``, ``plt.subplot_mosaic``, under whatever name the page imports ``matplotlib.pyplot`` as —
are counted in the cell's syntax tree (comments and strings do not count).  The inline backend shows each
such figure once at the end of its cell.  The explorers (``bpkit.widgets``) draw on their own ``Figure``
inside a widget and are not counted; neither are static pictures of a widget (``img.bp-widget-static``).
A figure cell draws exactly one figure and carries MyST-NB's ``mystnb: figure: {caption, name}`` and
``image: {alt}`` metadata, so that its figure is numbered, captioned and described.

The counting functions are tested on crafted notebooks and pages below: a figure that vanishes (an
executed notebook without outputs, a page without the image, an image without alt text or caption) fails.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "jupyter_execute"
FIGURE_CALLS = {"figure", "subplots", "subplot_mosaic"}
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
HIDDEN_TAGS = {"remove-cell", "remove-output"}
STATIC_WIDGET = "bp-widget-static"


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page of the book, in the order of ``_toc.yml`` (paths without suffix, e.g. chapters/batch)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


# -- the source --------------------------------------------------------------------------------
@dataclass
class FigureCell:
    index: int
    figures: int
    caption: str = ""
    name: str = ""
    alt: str = ""


def pyplot_names(tree: ast.AST) -> set[str]:
    """The names under which a cell imports matplotlib.pyplot (``plt`` for ``import matplotlib.pyplot as plt``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name for a in node.names if a.name == "matplotlib.pyplot"}
        elif isinstance(node, ast.ImportFrom) and node.module == "matplotlib":
            names |= {a.asname or a.name for a in node.names if a.name == "pyplot"}
    return names


def python_source(cell_source: str) -> str:
    """The cell without IPython's magics and shell escapes (lines starting with % or !)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell_source.splitlines())


def figures_in_notebook_source(nb) -> list[FigureCell]:
    """The code cells of a notebook whose figures a reader sees, with how many pyplot figures each creates."""
    trees = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            try:
                trees.append((cell, ast.parse(python_source(cell.source))))
            except SyntaxError as err:
                raise ValueError(f"cell {nb.cells.index(cell)} is not Python: {err}") from err
    aliases = set().union(*(pyplot_names(t) for _, t in trees)) if trees else set()
    found = []
    for cell, tree in trees:
        if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            continue
        n = sum(1 for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in FIGURE_CALLS and isinstance(node.func.value, ast.Name)
                and node.func.value.id in aliases)
        if n:
            meta = cell.metadata.get("mystnb", {}) or {}
            fig, img = meta.get("figure", {}) or {}, meta.get("image", {}) or {}
            found.append(FigureCell(nb.cells.index(cell), n, str(fig.get("caption", "")).strip(),
                                    str(fig.get("name", "")).strip(), str(img.get("alt", "")).strip()))
    return found


def figures_in_source(path: Path) -> list[FigureCell]:
    if path.suffix != ".md":
        return []
    text = path.read_text(encoding="utf8")
    if not text.startswith("---") or "jupytext" not in text.split("\n---", 1)[0]:
        return []  # a plain Markdown page: no code runs
    import jupytext

    return figures_in_notebook_source(jupytext.reads(text, fmt="md:myst"))


def source_problems(cells: list[FigureCell]) -> list[str]:
    problems = []
    for c in cells:
        where = f"cell {c.index}"
        if c.figures != 1:
            problems.append(f"{where} draws {c.figures} figures: one figure per cell, so each gets its caption")
        if not c.caption:
            problems.append(f"{where}: no caption (mystnb: figure: caption)")
        if not c.name:
            problems.append(f"{where}: no name to refer to it (mystnb: figure: name)")
        if len(c.alt) < 40:
            problems.append(f"{where}: alt text missing or too short to say what the figure shows: {c.alt!r}")
    return problems


# -- the executed notebook ------------------------------------------------------------------------
def images_in_notebook(nb: dict) -> int:
    """Image outputs of an executed notebook (as JSON), static pictures of widgets excluded."""
    count = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = out.get("data", {})
            if STATIC_WIDGET in json.dumps(out.get("metadata", {})) or STATIC_WIDGET in str(data.get("text/html", "")):
                continue
            if any(m in data for m in IMAGE_MIMES):
                count += 1
    return count


# -- the page ---------------------------------------------------------------------------------------
@dataclass
class PageImage:
    src: str
    alt: str
    figure_id: str | None
    caption_number: str = ""


class Page(HTMLParser):
    """The images inside the page's article, each with the id and caption number of its <figure>."""

    def __init__(self):
        super().__init__()
        self.images = []
        self._article = 0          # depth inside the article (the page's content, not the theme's header)
        self._figures = []         # open <figure> elements: [id, images of it, caption number]
        self._caption_number = 0   # inside <span class="caption-number">

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "article" and "bd-article" in classes:
            self._article = 1
        elif self._article and tag == "article":
            self._article += 1
        if not self._article:
            return
        if tag == "figure":
            self._figures.append([a.get("id"), []])
        elif tag == "img" and STATIC_WIDGET not in classes:
            img = PageImage(a.get("src", ""), (a.get("alt") or "").strip(),
                            self._figures[-1][0] if self._figures else None)
            self.images.append(img)
            if self._figures:
                self._figures[-1][1].append(img)
        elif tag == "span" and "caption-number" in classes and self._figures:
            self._caption_number = 1

    def handle_endtag(self, tag):
        if not self._article:
            return
        if tag == "article":
            self._article -= 1
        elif tag == "figure" and self._figures:
            self._figures.pop()
        elif tag == "span":
            self._caption_number = 0

    def handle_data(self, data):
        if self._caption_number and self._figures:
            for img in self._figures[-1][1]:
                img.caption_number += data.strip()


def images_on_page(html: str) -> list[PageImage]:
    page = Page()
    page.feed(html)
    return page.images


def page_problems(images: list[PageImage], page_path: Path | None = None) -> list[str]:
    problems = []
    for img in images:
        name = img.src.rsplit("/", 1)[-1]
        if not img.alt or img.alt.endswith((".png", ".svg", ".jpg")) or name in img.alt:
            problems.append(f"image {name}: no alt text (alt={img.alt!r})")
        if not img.figure_id:
            problems.append(f"image {name}: not in a <figure> with an id (a name to refer to it)")
        if not re.fullmatch(r"Fig\.\s*\d+", img.caption_number):
            problems.append(f"image {name}: no caption number (found {img.caption_number!r})")
        if page_path is not None and not img.src.startswith("data:"):
            target = (page_path.parent / img.src).resolve()
            if not target.is_file() or target.stat().st_size < 1000:
                problems.append(f"image {name}: the file {img.src} is missing or empty")
    return problems


def chapter_report(page: str, site: Path, executed: Path = EXECUTED, root: Path = ROOT) -> list[str]:
    """Everything that differs between the figures a page's source draws and what a reader gets."""
    source = root / f"{page}.md"
    cells = figures_in_source(source)
    drawn = sum(c.figures for c in cells)
    problems = [f"{page}.md {p}" for p in source_problems(cells)]
    if drawn == 0:
        return problems
    for label, nb_path in (("executed notebook", executed / f"{page}.ipynb"),
                           ("downloadable notebook", site / "_sources" / f"{page}.ipynb")):
        if not nb_path.exists():
            problems.append(f"{page}: {label} {nb_path} is missing")
            continue
        found = images_in_notebook(json.loads(nb_path.read_text(encoding="utf8")))
        if found != drawn:
            problems.append(f"{page}: the source draws {drawn} figures, the {label} has {found} images")
    html_path = site / f"{page}.html"
    images = images_on_page(html_path.read_text(encoding="utf8"))
    if len(images) != drawn:
        problems.append(f"{page}: the source draws {drawn} figures, the page shows {len(images)} images")
    problems += [f"{page}.html {p}" for p in page_problems(images, html_path)]
    names = {c.name for c in cells}
    ids = {img.figure_id for img in images}
    if names - ids:
        problems.append(f"{page}: figures named {sorted(names - ids)} are not on the page")
    return problems


# -- the book ---------------------------------------------------------------------------------------
@pytest.mark.book
def test_every_figure_reaches_notebook_and_page(site):
    pages = toc_pages()
    assert "chapters/training" in pages and len(pages) >= 10, pages
    drawn = {p: sum(c.figures for c in figures_in_source(ROOT / f"{p}.md")) for p in pages}
    problems = [msg for p in pages for msg in chapter_report(p, site)]
    assert not problems, "\n".join(problems)
    # the counting itself still sees the figures the chapters are known to draw
    assert drawn["chapters/hidden-delta"] >= 1 and drawn["chapters/residual"] >= 1 and drawn["chapters/training"] >= 3, drawn


@pytest.mark.browser
def test_figures_render_in_chromium(site):
    """The figures as Chromium shows them: loaded (a decoded bitmap), visible, with alt text and a caption."""
    from browser import chromium, skip_browser, static_server

    # the explorers' pictures, drawn by the widget manager in the browser, are widgets, not figures
    widgets = "'.jupyter-widgets, .widget-area, .widget-subarea, .bp-explorer, .bp-landscape'"

    if skip_browser():
        pytest.skip("BPBOOK_SKIP_BROWSER=1")
    expected = {p: sum(c.figures for c in figures_in_source(ROOT / f"{p}.md")) for p in toc_pages()}
    expected = {p: n for p, n in expected.items() if n}
    shown = {}
    with static_server(site) as base, chromium() as ctx:
        page = ctx.new_page()
        for path in expected:
            page.goto(base + path + ".html", wait_until="domcontentloaded", timeout=60_000)
            page.evaluate("Promise.all(Array.from(document.querySelectorAll('article img')).map(i => i.decode().catch(() => 0)))")
            shown[path] = page.evaluate(f"""() => Array.from(document.querySelectorAll('article.bd-article img:not(.{STATIC_WIDGET})'))
                .filter(img => !img.closest({widgets}))
                .map(img => {{ img.scrollIntoView(); const r = img.getBoundingClientRect();
                  return {{ok: img.complete && img.naturalWidth > 50 && r.width > 50 && r.height > 50,
                          alt: img.alt, caption: (img.closest('figure')?.querySelector('.caption-number')?.innerText || '')}}; }})""")
        assert not ctx.blocked, ctx.blocked[:3]
    problems = []
    for path, n in expected.items():
        imgs = shown[path]
        if len(imgs) != n or not all(i["ok"] and i["alt"] and i["caption"].startswith("Fig.") for i in imgs):
            problems.append(f"{path}: expected {n} rendered figures with alt and caption, got {imgs}")
    assert not problems, "\n".join(problems)


# -- the checks can fail ------------------------------------------------------------------------------
CRAFTED = '''---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

```{code-cell} ipython3
from matplotlib import pyplot as mp   # an unusual alias is still found
# mp.subplots() in a comment does not count
label = "mp.figure() in a string does not count"
```

```{code-cell} ipython3
---
mystnb:
  figure: {caption: "A caption.", name: fig-one}
  image: {alt: "A line rising from the lower left to the upper right corner."}
---
fig, ax = mp.subplots()
ax.plot([0, 1])
mp.show()
```

```{code-cell} ipython3
fig = mp.figure(); fig2, ax = mp.subplots(1, 2)
```

```{code-cell} ipython3
:tags: [remove-output]
mp.figure()
```
'''


def test_source_counting_on_a_crafted_chapter():
    import jupytext

    cells = figures_in_notebook_source(jupytext.reads(CRAFTED, fmt="md:myst"))
    assert [(c.index, c.figures, c.name) for c in cells] == [(1, 1, "fig-one"), (2, 2, "")]
    problems = source_problems(cells)
    assert any("draws 2 figures" in p for p in problems) and any("no caption" in p for p in problems)
    assert any("alt text" in p for p in problems) and not source_problems(cells[:1])


def page_html(*figures: str) -> str:
    theme = '<header><img alt="Binder logo" src="logo.svg"></header>'
    return f'<html><body>{theme}<main><article class="bd-article">{"".join(figures)}</article></main></body></html>'


GOOD_FIGURE = ('<figure id="fig-one"><img alt="A line rising from the lower left to the upper right." src="a.png"/>'
               '<figcaption><p><span class="caption-number">Fig. 1 </span><span class="caption-text">A caption.'
               '</span></p></figcaption></figure>')


def test_page_counting_on_crafted_pages():
    good = images_on_page(page_html(GOOD_FIGURE))
    assert [(i.figure_id, i.caption_number) for i in good] == [("fig-one", "Fig. 1")] and not page_problems(good)
    assert images_on_page(page_html()) == []  # the theme's launch-button logos are not figures
    static = '<img class="bp-widget-static" alt="the explorer" src="w.png">'
    assert len(images_on_page(page_html(GOOD_FIGURE, static))) == 1
    bare = images_on_page(page_html('<div class="cell_output"><img alt="../_images/abc.png" src="../_images/abc.png"/></div>'))
    problems = page_problems(bare)
    assert any("no alt text" in p for p in problems) and any("caption number" in p for p in problems)
    assert any("<figure>" in p for p in problems)


def test_a_vanished_figure_fails(tmp_path):
    """A tiny book: one chapter drawing one figure.  Complete, it passes; without the notebook's output,
    without the page's image, or with the page's image lacking alt text, the report names the loss."""
    (tmp_path / "chapters").mkdir()
    chapter = CRAFTED.split("```{code-cell} ipython3\nfig = mp.figure()")[0]  # the first two cells
    (tmp_path / "chapters" / "one.md").write_text(chapter)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: chapters/one\n")
    site, executed = tmp_path / "html", tmp_path / "exec"
    for d in (site / "chapters", site / "_sources" / "chapters", site / "_images", executed / "chapters"):
        d.mkdir(parents=True)
    (site / "_images" / "a.png").write_bytes(b"\x89PNG" + bytes(2000))
    output = {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}, "metadata": {}}
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": []},
                    {"cell_type": "code", "source": "", "outputs": [output]}]}

    def write(notebook, html):
        for p in (executed / "chapters" / "one.ipynb", site / "_sources" / "chapters" / "one.ipynb"):
            p.write_text(json.dumps(notebook))
        (site / "chapters" / "one.html").write_text(html)

    assert toc_pages(tmp_path) == ["chapters/one"]
    report = lambda: chapter_report("chapters/one", site, executed, tmp_path)  # noqa: E731
    write(nb, page_html(GOOD_FIGURE.replace('src="a.png"', 'src="../_images/a.png"')))
    assert report() == []
    # myst-nb's cached rebuild once wrote executed notebooks without their outputs
    write({"cells": [dict(c, outputs=[]) for c in nb["cells"]]}, page_html(GOOD_FIGURE.replace('src="a.png"', 'src="../_images/a.png"')))
    assert any("executed notebook has 0 images" in p for p in report()), report()
    write(nb, page_html())
    assert any("page shows 0 images" in p for p in report()), report()
    write(nb, page_html(GOOD_FIGURE.replace('alt="A line rising from the lower left to the upper right."', 'alt=""')
                        .replace('src="a.png"', 'src="../_images/a.png"')))
    assert any("no alt text" in p for p in report()), report()
    write(nb, page_html(GOOD_FIGURE))  # the image file is not where the page points
    assert any("missing or empty" in p for p in report()), report()


def test_cached_notebooks_get_their_outputs_back(tmp_path):
    """_ext/bpbook_notebooks.py: a page served from jupyter-cache, whose executed notebook myst-nb wrote
    without outputs, gets the cached outputs (its figure) back; a page not in the cache is left alone."""
    import sys
    from types import SimpleNamespace

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        from bpbook_notebooks import restore_cached_outputs
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    executed = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    executed.cells = [nbformat.v4.new_code_cell("draw()", execution_count=1, outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})])]
    cache = get_cache(tmp_path / "cache")
    cache.cache_notebook_bundle(CacheBundleIn(executed, uri=str(tmp_path / "page.md")), check_validity=False)
    out = tmp_path / "jupyter_execute"
    (out / "chapters").mkdir(parents=True)
    bare = nbformat.from_dict(json.loads(nbformat.writes(executed)))
    bare.cells[0].outputs, bare.cells[0].execution_count = [], None
    nbformat.write(bare, out / "chapters" / "page.ipynb")
    other = nbformat.from_dict(json.loads(nbformat.writes(bare)))
    other.cells[0].source = "something_else()"
    nbformat.write(other, out / "chapters" / "other.ipynb")
    config = SimpleNamespace(execution_mode="cache", output_folder=str(out), execution_cache_path=str(tmp_path / "cache"))
    for docname in ("chapters/page", "chapters/other"):
        restore_cached_outputs(SimpleNamespace(env=SimpleNamespace(mystnb_config=config, docname=docname)), None)
    assert images_in_notebook(json.loads((out / "chapters" / "page.ipynb").read_text())) == 1
    assert images_in_notebook(json.loads((out / "chapters" / "other.ipynb").read_text())) == 0
