"""No broken internal link or cross-reference in the built site (the nitpicky build catches broken
references at build time; this checks every relative href/src in the HTML, and its #anchor)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytestmark = pytest.mark.book


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "img", "link", "script"):
                self.links.append(attrs[key])


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf8"))
    return p


def test_internal_links_and_anchors_resolve(site):
    pages = [p for p in site.rglob("*.html") if "_static" not in p.parts]
    parsed = {p: parse(p) for p in pages}
    broken = []
    for page, info in parsed.items():
        for link in info.links:
            url = urlparse(link)
            if url.scheme or link.startswith(("//", "mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} → {link}")
                continue
            if url.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if unquote(url.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)} → {link} (no #{url.fragment})")
    assert not broken, "\n".join(broken[:40])


def test_every_chapter_links_its_equations_to_the_api(site):
    api = parse(site / "chapters" / "api.html").ids
    html = (site / "chapters" / "hidden-delta.html").read_text()
    targets = set(re.findall(r'href="api\.html#([^"]+)"', html))
    assert "bpkit.functional.hidden_delta" in targets and targets <= api
