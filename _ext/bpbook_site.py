"""Sphinx extension of the book: launch notebooks for Colab, Binder and JupyterHub, and the folder to publish.

* After the build, every chapter (a MyST Markdown notebook) is written as ``notebooks/<docname>.ipynb``
  into the site: its MyST rewritten into plain Markdown by ``tools/plain_markdown.py`` (numbered
  equations, links to the book's pages, block quotes, folded solutions), and a first cell that installs
  the book's own bpkit (``bpkit.__version__``) when the kernel lacks it or has another version.  The
  chapter's MyST source is published beside it (``notebooks/<docname>.md``), as in the repository.
* The site gets ``binder/requirements.txt`` (pinned: bpkit at its tag, the chapters' packages at the
  versions of ``constraints.txt``) and ``.nojekyll``: ``_build/html`` is the folder to publish
  (``repository.branch`` in ``_config.yml``, gh-pages), and Binder starts from it.
* The theme's launch buttons point at the ``.md`` source, which Colab cannot open; they are rewritten
  to those ``.ipynb`` files (published with the site: ``repository.branch`` / ``path_to_book``).  The
  download menu offers the MyST source as ".md" and the launch notebook as ".ipynb".
* No header bar above the book: pydata-sphinx-theme 0.17 would fill one with a second search button
  (the sidebar has the book's own).  ``html_theme_options`` in ``_config.yml`` would replace Jupyter
  Book's whole dict, so the one option is set here.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

# The first cell of every launch notebook.  No kernel restart: bpkit goes into a folder of its own
# (~/.cache/bpbook/<version>) put first on sys.path, which works where site-packages is read-only
# (a JupyterHub) and where `pip install --user` would need a restart.  BPBOOK_PIP_SOURCE replaces
# where it comes from (a wheel, a fork); the tests use it with a local wheel.
SETUP = r"""# Set-up (Colab, Binder, a JupyterHub, a laptop): the book's own bpkit {version} and the packages this
# chapter imports, installed only when missing or of another version.  Prints one line.
def _bpbook_setup(version={version!r}, source={source!r}, needs={needs!r}, files={files!r}, site={site!r}):
    import importlib, importlib.metadata, importlib.util, os, subprocess, sys, urllib.request
    source = os.environ.get("BPBOOK_PIP_SOURCE") or source
    target = os.path.join(os.path.expanduser("~"), ".cache", "bpbook", version)
    def pip(*args):
        run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--no-warn-script-location", "--upgrade", *args], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("the set-up could not run: pip install " + " ".join(args) + "\n" + run.stdout + run.stderr)
    def installed():
        try:
            return importlib.metadata.version("bpkit")
        except importlib.metadata.PackageNotFoundError:
            return None
    if os.path.isdir(target) and target not in sys.path:
        sys.path.insert(0, target)  # installed by an earlier session
    done, found = [], installed()
    if found != version:
        pip("--no-deps", "--target", target, source)
        if target not in sys.path:
            sys.path.insert(0, target)
        for name in [m for m in sys.modules if m == "bpkit" or m.startswith("bpkit.")]:
            del sys.modules[name]
        done.append(f"bpkit {{version}} from {{source}} into {{target}}" + (f" (found {{found}})" if found else ""))
    importlib.invalidate_caches()
    missing = [req for module, req in needs.items() if importlib.util.find_spec(module) is None]
    if missing:
        deps = os.path.join(target, "deps")
        pip("--target", deps, *missing)
        sys.path.append(deps)  # after the environment's own packages: only fills what is missing
        importlib.invalidate_caches()
        done.append(", ".join(missing))
    for name in files:  # the chapter sources this chapter reads, beside the notebook (Colab: from the site)
        if not os.path.exists(name):
            urllib.request.urlretrieve(site + "_sources/chapters/" + name, name)
            done.append(name)
    import bpkit
    if bpkit.__version__ != version:
        raise RuntimeError(f"bpkit {{bpkit.__version__}} was imported from {{bpkit.__file__}}, the book needs {{version}}")
    print(("Installed " + "; ".join(done)) if done else f"bpkit {{version}} and this chapter's packages are installed: nothing to do.")
_bpbook_setup()
del _bpbook_setup
"""

# what a chapter may import beyond bpkit, as pip requirements (pinned from constraints.txt)
BOOK_MODULES = {"numpy": "numpy", "sympy": "sympy", "matplotlib": "matplotlib", "ipywidgets": "ipywidgets",
                "anywidget": "anywidget",
                "IPython": "ipython"}


@functools.lru_cache(maxsize=None)
def _load_tool(srcdir, name):
    spec = importlib.util.spec_from_file_location(name, Path(srcdir) / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pins(srcdir) -> dict:
    """{'numpy': '2.4.6', ...} from constraints.txt (lower-case names)."""
    pinned = {}
    for line in (Path(srcdir) / "constraints.txt").read_text(encoding="utf8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if m:
            pinned[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pinned


def book_version(srcdir) -> str:
    text = (Path(srcdir) / "bpkit" / "__init__.py").read_text(encoding="utf8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


def pip_source(repository_url, version) -> str:
    """Where the set-up cell installs bpkit from: the repository's tag v<version>."""
    return f"bpkit @ git+{repository_url.rstrip('/')}@v{version}"


def setup_cell(nb, srcdir, repository_url, site_url):
    """The set-up cell's source for a chapter read with jupytext (its imports decide what it needs)."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    pinned = pins(srcdir)
    modules = dict(BOOK_MODULES)
    if re.search(r"^\s*import jupytext", code, re.MULTILINE):
        modules["jupytext"] = "jupytext"
    needs = {m: f"{req}=={pinned[req]}" if req in pinned else req for m, req in modules.items()}
    files = []
    if "jupytext.read(Path(name + \".md\")" in code:  # the instructors chapter reads the chapters' sources
        files = sorted(re.findall(r'"([\w-]+)"', re.search(r"for name in \[([^\]]*)\]", code).group(1)))
        files = [f + ".md" for f in files]
    version = book_version(srcdir)
    return SETUP.format(version=version, source=pip_source(repository_url, version), needs=needs, files=files,
                        site=site_url)


def site_url(app) -> str:
    plain = _load_tool(str(app.srcdir), "plain_markdown")
    base = getattr(app.config, "html_baseurl", "") or plain.github_pages_url(_repository_url(app))
    return base.rstrip("/") + "/" if base else ""


def _repository_url(app):
    return app.config.html_theme_options.get("repository_url", "").rstrip("/")


def launch_notebook(app, docname, path, index):
    """The plain-Jupyter notebook of one chapter, set-up cell first."""
    import jupytext
    import nbformat

    plain = _load_tool(str(app.srcdir), "plain_markdown")
    nb = jupytext.read(path, fmt="md:myst")
    setup = nbformat.v4.new_code_cell(setup_cell(nb, app.srcdir, _repository_url(app), index.base_url))
    plain.plain_notebook(nb, index, keep_solutions=True, docname=docname)
    setup.metadata["tags"] = ["setup"]
    nb.cells.insert(0, setup)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{number}"
        if cell.cell_type == "code":
            cell.metadata.pop("nbgrader", None)
    return nb


def _notebook_docs(app):
    for docname in sorted(app.env.found_docs):
        path = Path(app.env.doc2path(docname))
        if path.suffix == ".md" and path.read_text(encoding="utf8").startswith("---\njupytext:"):
            yield docname, path


def binder_requirements(srcdir, repository_url) -> str:
    pinned = pins(srcdir)
    lines = ["# Binder's environment for the launch notebooks (written by the book's build; pinned)",
             pip_source(repository_url, book_version(srcdir))]
    for req in ["numpy", "sympy", "matplotlib", "ipywidgets", "anywidget", "ipython", "ipykernel", "jupytext", "jupyterlab"]:
        lines.append(f"{req}=={pinned[req]}")
    return "\n".join(lines) + "\n"


def write_launch_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    import nbformat

    plain = _load_tool(str(app.srcdir), "plain_markdown")
    index = plain.book_index(Path(app.srcdir), site_url(app))
    out = Path(app.outdir)
    for docname, path in _notebook_docs(app):
        nb = launch_notebook(app, docname, path, index)
        target = out / "notebooks" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        target.with_suffix(".md").write_text(path.read_text(encoding="utf8"), encoding="utf8")
    (out / "binder").mkdir(exist_ok=True)
    (out / "binder" / "requirements.txt").write_text(binder_requirements(app.srcdir, _repository_url(app)))
    (out / ".nojekyll").write_text("")


def launch_ipynb(app, pagename, templatename, context, doctree):
    """Point the launch buttons of a Markdown notebook at its generated .ipynb; tidy the page's scripts."""
    source = Path(app.env.doc2path(pagename)) if pagename in app.env.found_docs else None
    if source is not None and "header_buttons" in context and source.suffix == ".md":
        if source.read_text(encoding="utf8").startswith("---\njupytext:"):
            context["header_buttons"] = _launch_and_download(context["header_buttons"], pagename)
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


def _launch_and_download(value, pagename):
    """Launch buttons → notebooks/<page>.ipynb; download ".ipynb" → the same notebook, ".md" → the source."""
    if isinstance(value, list):
        return [_launch_and_download(v, pagename) for v in value]
    if isinstance(value, dict):
        url = str(value.get("url", ""))
        if "_sources/" in url:
            if url.endswith(f"{pagename}.ipynb"):
                value = {**value, "url": url.replace(f"_sources/{pagename}.ipynb", f"notebooks/{pagename}.ipynb")}
            return value  # the .md download stays the MyST source
        return {k: _launch_and_download(v, pagename) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace(f"{pagename}.md", f"{pagename}.ipynb")
    return value


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
