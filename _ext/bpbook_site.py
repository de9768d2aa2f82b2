"""Sphinx extension of the book: launch notebooks for Colab, Binder and JupyterHub.

* After the build, every chapter (a MyST Markdown notebook) is written as ``notebooks/<docname>.ipynb``
  into the site, with a first cell that installs bpkit from the repository when the kernel lacks it
  (the repository URL is the one setting ``repository.url`` of ``_config.yml``).
* The theme's launch buttons point at the ``.md`` source, which Colab cannot open; they are rewritten
  to those ``.ipynb`` files (published with the site: ``repository.branch`` / ``path_to_book``).
* No header bar above the book: pydata-sphinx-theme 0.17 would fill one with a second search button
  (the sidebar has the book's own).  ``html_theme_options`` in ``_config.yml`` would replace Jupyter
  Book's whole dict, so the one option is set here.
"""

from __future__ import annotations

from pathlib import Path

SETUP = '''# Set-up for Colab, Binder or a JupyterHub: install bpkit (and what the chapter imports) if missing.
import importlib.util, subprocess, sys
if importlib.util.find_spec("bpkit") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "bpkit @ git+{repo}", "sympy", "matplotlib", "ipywidgets"])
'''


def _notebook_docs(app):
    for docname in sorted(app.env.found_docs):
        path = Path(app.env.doc2path(docname))
        if path.suffix == ".md" and path.read_text(encoding="utf8").startswith("---\njupytext:"):
            yield docname, path


def write_launch_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import jupytext
    import nbformat

    repo = app.config.html_theme_options.get("repository_url", "").rstrip("/")
    out = Path(app.outdir) / "notebooks"
    for docname, path in _notebook_docs(app):
        nb = jupytext.read(path, fmt="md:myst")
        setup = nbformat.v4.new_code_cell(SETUP.format(repo=repo))
        setup.metadata["tags"] = ["setup"]
        nb.cells.insert(0, setup)
        target = out / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)


def _rewrite(value, old, new):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_rewrite(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, old, new) for k, v in value.items()}
    return value


def launch_ipynb(app, pagename, templatename, context, doctree):
    """Point the launch buttons of a Markdown notebook at its generated .ipynb; tidy the page's scripts."""
    source = Path(app.env.doc2path(pagename)) if pagename in app.env.found_docs else None
    if source is not None and "header_buttons" in context and source.suffix == ".md":
        if source.read_text(encoding="utf8").startswith("---\njupytext:"):
            context["header_buttons"] = _rewrite(context["header_buttons"], f"{pagename}.md", f"{pagename}.ipynb")
        else:  # a plain Markdown page is not a notebook: no .ipynb to download
            context["header_buttons"] = _drop_ipynb(context["header_buttons"])
            context.pop("ipynb_source", None)
    # sphinx-thebe adds its inline configuration twice, and `const THEBE_JS_URL` may be declared once
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        # an inline script's filename is None or "" depending on who added it
        key = (getattr(script, "filename", None) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        scripts.append(script)
    if "script_files" in context:
        context["script_files"] = scripts


def _drop_ipynb(value):
    if isinstance(value, list):
        return [_drop_ipynb(v) for v in value if not (isinstance(v, dict) and str(v.get("url", "")).endswith(".ipynb"))]
    if isinstance(value, dict):
        return {k: _drop_ipynb(v) for k, v in value.items()}
    return value


def no_header_bar(app, config):
    config.html_theme_options = {**config.html_theme_options, "navbar_persistent": []}


def setup(app):
    app.connect("config-inited", no_header_bar)
    app.connect("html-page-context", launch_ipynb, priority=900)  # after the theme adds its buttons
    app.connect("build-finished", write_launch_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
