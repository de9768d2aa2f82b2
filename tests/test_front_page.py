"""The front page and the sources page, as built, tell a stranger what the book is and how to use it:
whom it is for and what it assumes (with links to the chapters that recall it), the three ways to use it
(read, run live, assign) with their command or button, a figure with alt text and a caption, the licences
of the text and of the code, how to cite it (the BibTeX on the page agrees with CITATION.cff); the sources
page lists the five posts, each with its original title, a translation, what it covers and links (that
resolve) to where the book discusses it."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from test_figures import images_on_page, page_problems

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {  # cite key: (file of the post's text, its original title as the page must show it)
    "src-scalar": ("000_b6996939f0383d6c.txt", "反向传播公式推导"),
    "src-guide": ("001_98718afaa0b0021d.txt", "反向传播算法指南"),
    "src-foursteps": ("002_542a7d09233e6a4f.txt", "Background propagation formula derivation"),
    "src-batch": ("003_0a8a8d47a000c822.txt", "传播"),
    "src-d2l-excerpt": ("004_38da94ca48613bfc.txt", "一文弄懂神经网络中的反向传播法"),
}
# the top-level keys Citation File Format 1.2.0 allows (its schema forbids any other)
CFF_KEYS = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi", "identifiers",
            "keywords", "license", "license-url", "message", "preferred-citation", "references", "repository",
            "repository-artifact", "repository-code", "title", "type", "url", "version"}


def article(path: Path) -> str:
    text = path.read_text(encoding="utf8")
    start = text.index('<article class="bd-article"')
    return text[start:text.index("</article>", start)]


def visible_text(fragment: str) -> str:
    no_tags = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", no_tags)))


def sections(fragment: str) -> dict[str, str]:
    """The page split at its <h2> headings: {heading text: the HTML up to the next <h2>}."""
    parts = re.split(r"(<h2[^>]*>.*?</h2>)", fragment, flags=re.S)
    return {visible_text(parts[i]).replace("#", "").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def hrefs(fragment: str) -> list[str]:
    return [htmllib.unescape(h) for h in re.findall(r'<a [^>]*href="([^"]+)"', fragment)]


def resolves(site: Path, page: Path, link: str) -> bool:
    url = urlparse(link)
    target = (page.parent / unquote(url.path)).resolve() if url.path else page
    if not target.is_file():
        return False
    return not url.fragment or f'id="{unquote(url.fragment)}"' in target.read_text(encoding="utf8")


@pytest.fixture(scope="module")
def front(site):
    page = site / "intro.html"
    assert page.exists(), "the front page intro.html was not built"
    return page, article(page)


def test_audience_and_prerequisites(front):
    page, body = front
    part = next((html for title, html in sections(body).items() if "who it is for" in title.lower()), None)
    assert part is not None, f"no 'Who it is for' section: {list(sections(body))}"
    text = visible_text(part).lower()
    assert "calculus" in text and "linear algebra" in text and "chain rule" in text, text
    links = hrefs(part)
    assert any("chapters/chain-rule.html" in h for h in links) and any("chapters/notation.html" in h for h in links), links


def test_three_ways_to_use_it(site, front):
    page, body = front
    part = next((html for title, html in sections(body).items() if "three ways" in title.lower()), None)
    assert part is not None, f"no 'Three ways to use it' section: {list(sections(body))}"
    text = visible_text(part)
    for needed in ("Read it", "Run it live", "Assign it", "make serve", "make lab", "make release CHAPTER=",
                   "make autograde CHAPTER=", "Binder", "Colab", "JupyterHub"):
        assert needed in text, f"the front page does not say {needed!r}"
    assert any("chapters/instructors.html" in h for h in hrefs(part))
    # the launch buttons the text promises are on the page itself
    whole = page.read_text(encoding="utf8")
    buttons = yaml.safe_load((ROOT / "_config.yml").read_text())["launch_buttons"]
    services = [url for key, url in buttons.items() if key.endswith("_url")]
    assert "https://mybinder.org" in services and "https://colab.research.google.com" in services
    for service in services:   # a hub only where _config.yml names one (jupyterhub_url)
        if service:
            assert f'href="{service.rstrip("/")}/' in whole, f"no launch button for {service}"
    # and the commands exist
    makefile = (ROOT / "Makefile").read_text()
    assert all(re.search(rf"^{t}:", makefile, re.M) for t in ("serve", "lab", "release", "autograde"))


def test_a_figure_with_alt_text_and_caption(front):
    page, body = front
    images = images_on_page(page.read_text(encoding="utf8"))
    assert len(images) >= 1, "the front page shows no picture"
    assert not page_problems(images, page), page_problems(images, page)
    assert all(len(i.alt) > 80 for i in images), [i.alt for i in images]


def test_licences(front):
    page, body = front
    part = next((html for title, html in sections(body).items() if title.lower().startswith("licen")), "")
    text = visible_text(part)
    assert "CC BY 4.0" in text and "MIT" in text, text
    assert "https://creativecommons.org/licenses/by/4.0/" in hrefs(part)
    assert "MIT License" in (ROOT / "LICENSE").read_text() and "Permission is hereby granted" in (ROOT / "LICENSE").read_text()
    cc = (ROOT / "LICENSE-TEXT").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in cc and "Section 8" in cc


def test_citation_on_the_page_agrees_with_citation_cff(front):
    page, body = front
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert set(cff) <= CFF_KEYS, f"CITATION.cff keys CFF 1.2.0 does not allow: {set(cff) - CFF_KEYS}"
    assert cff["cff-version"] == "1.2.0" and cff["message"] and cff["authors"]
    assert set(cff["license"]) == {"CC-BY-4.0", "MIT"}
    block = re.search(r'<div class="highlight-bibtex[^>]*>.*?<pre>(.*?)</pre>', body, re.S)
    assert block, "no BibTeX block on the front page"
    bib = htmllib.unescape(re.sub(r"<[^>]+>", "", block.group(1)))
    assert re.match(r"\s*@book\{\w+,", bib), bib
    fields = dict(re.findall(r"(\w+)\s*=\s*\{+([^{}]*)\}+", bib))
    pref = cff["preferred-citation"]
    assert fields.get("title") == cff["title"] == pref["title"], (fields, cff["title"])
    assert fields.get("year") == str(pref["year"]), fields
    assert fields.get("url") == cff["url"] == pref["url"], fields
    assert fields.get("author") == cff["authors"][0]["name"], fields
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cff["repository-code"] == config["repository"]["url"], "CITATION.cff and _config.yml name different repositories"


def chapters_discussing(key: str) -> set[str]:
    """The chapters whose 'What the sources write' section cites the source ``key``."""
    found = set()
    for md in (ROOT / "chapters").glob("*.md"):
        m = re.search(r"^## What the sources write\n(.*?)(?=^## |\Z)", md.read_text(encoding="utf8"), re.S | re.M)
        if m and key in m.group(1):
            found.add(md.stem)
    return found


def section_problems(key: str, heading: str, part: str, page: Path, site: Path) -> list[str]:
    """What a stranger would miss in the sources page's section on the post ``key``."""
    filename, title = SOURCES[key]
    text, problems = visible_text(part), []
    if title not in heading:
        problems.append(f"{heading!r}: the original title {title!r} is not its heading")
    if not (re.search(r"—\s*\w", heading) and re.search(r"[A-Za-z]{4}", heading.split("—", 1)[-1])):
        problems.append(f"{heading!r}: no English translation of the title")
    for needed in (filename, "What it covers", "Where the book discusses it"):
        if needed not in text:
            problems.append(f"{heading!r}: does not say {needed!r}")
    links = [h for h in hrefs(part) if not urlparse(h).scheme]
    broken = [h for h in links if not resolves(site, page, h)]
    if broken:
        problems.append(f"{heading!r}: links that do not resolve: {broken}")
    linked = {Path(urlparse(h).path).stem for h in links if "#what-the-sources-write" in h}
    expected = chapters_discussing(key)
    if not expected or linked != expected:
        problems.append(f"{heading!r}: links to {sorted(linked)}, the chapters discussing it are {sorted(expected)}")
    if not any(Path(urlparse(h).path).stem == "errata" and urlparse(h).fragment for h in links):
        problems.append(f"{heading!r}: no link to its section of the errata")
    return problems


def test_sources_page_lists_the_five_posts(site):
    page = site / "chapters" / "sources.html"
    assert page.exists(), "chapters/sources.html was not built (is it in _toc.yml?)"
    parts = sections(article(page))
    assert len(parts) == 5, f"expected one section per post, found {list(parts)}"
    problems = [p for key, (heading, part) in zip(SOURCES, parts.items())
                for p in section_problems(key, heading, part, page, site)]
    assert not problems, "\n".join(problems)
    seeds = Path("/work/shared/seeds")
    if seeds.is_dir():  # beside the repository on the authors' machines: each title is the post's own
        for filename, title in SOURCES.values():
            assert title in (seeds / filename).read_text(encoding="utf8")[:400], (filename, title)


def test_the_sources_check_can_fail(site):
    """The real section on the guide passes; with a chapter's link dropped, a link broken, or no
    translation, the check names the problem."""
    page = site / "chapters" / "sources.html"
    (heading, part), = [(h, p) for h, p in sections(article(page)).items() if "反向传播算法指南" in h]
    assert section_problems("src-guide", heading, part, page, site) == []
    dropped = re.sub(r'<a [^>]*href="residual\.html#what-the-sources-write"[^>]*>.*?</a>', "", part, flags=re.S)
    assert any("the chapters discussing it" in p for p in section_problems("src-guide", heading, dropped, page, site))
    broken = part.replace("errata.html#guide", "errata.html#no-such-section")
    assert any("do not resolve" in p for p in section_problems("src-guide", heading, broken, page, site))
    assert any("translation" in p for p in section_problems("src-guide", "反向传播算法指南", part, page, site))
