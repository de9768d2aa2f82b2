"""Sphinx extension of the book: the static explorers link to the chapter live, and load no widget code;
a few fixes of the theme's markup that axe-core (WCAG 2.1 AA) reports on every page.

On the website an explorer is a picture of its state (bpkit.widgets' ``text/html`` snapshot, chosen by
``nb_mime_priority_overrides`` in ``_config.yml``).  Its note links to ``#bp-open-live``; here that link
becomes the page's own Binder launch button (the URL the theme builds from ``launch_buttons`` and
``repository`` in ``_config.yml``).  A page that then shows no widget view does not load require.js and
the 3.5 MB ipywidgets manager either.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.errors import ExtensionError

PLACEHOLDER = 'href="#bp-open-live"'
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _urls(value):
    if isinstance(value, dict):
        if isinstance(value.get("url"), str):
            yield value["url"]
        for v in value.values():
            yield from _urls(v)
    elif isinstance(value, list):
        for v in value:
            yield from _urls(v)


def live_links(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if PLACEHOLDER in body:
        binder = app.config.html_theme_options.get("launch_buttons", {}).get("binderhub_url", "") or "mybinder.org"
        host = binder.split("://")[-1].rstrip("/")
        urls = [u for u in _urls(context.get("header_buttons", [])) if host in u]
        if not urls:
            raise ExtensionError(f"{pagename}: an explorer links to the live chapter, but the page has no Binder "
                                 f"launch button to link to (launch_buttons.binderhub_url in _config.yml, found {binder!r})")
        context["body"] = body = body.replace(PLACEHOLDER, 'href="{}"'.format(urls[0].replace("&", "&amp;")))
    if WIDGET_VIEW not in body and "script_files" in context:
        keys = set(app.config.nb_ipywidgets_js or {})
        widget_js = keys | {f"_static/{k}" for k in keys}  # Sphinx prefixes a local script with _static/
        context["script_files"] = [
            s for s in context["script_files"]
            if getattr(s, "filename", None) not in widget_js
            and getattr(s, "attributes", {}).get("type") != WIDGET_STATE]


# (old, new, why): the theme's buttons and docutils' citation list, as axe-core 4.14 judges them
MARKUP = [
    # the search field shows "Search Ctrl+K" but is named "Search" (label-content-name-mismatch): its name
    # comes from its text instead
    ('<button class="btn search-button-field search-button__button pst-js-only" title="Search" aria-label="Search"',
     '<button class="btn search-button-field search-button__button pst-js-only" title="Search"'),
    # the colour-mode button is named "Color mode" while its icons carry titles (Light, Dark, …) as text
    ('data-mode="light" title="Light"', 'data-mode="light" aria-hidden="true"'),
    ('data-mode="dark"  title="Dark"', 'data-mode="dark" aria-hidden="true"'),
    ('data-mode="auto"  title="System Settings"', 'data-mode="auto" aria-hidden="true"'),
    # sphinx-togglebutton names its summary "Toggle hidden content" while it shows "Show code cell source"
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    # a role="list" whose entries hold backlinks (aria-required-children): a plain container
    ('<div role="list" class="citation-list">', '<div class="citation-list">'),
]


def fix_markup(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf8")
        fixed = text
        for old, new in MARKUP:
            fixed = fixed.replace(old, new)
        if fixed != text:
            path.write_text(fixed, encoding="utf8")


def setup(app):
    app.connect("html-page-context", live_links, priority=950)  # after the theme's and bpbook_site's buttons
    app.connect("build-finished", fix_markup)
    # _assets/ is a static path: wide formulas and tables become keyboard-scrollable
    app.add_js_file("bpbook-a11y.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
