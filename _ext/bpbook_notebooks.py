"""Sphinx extension of the book: executed notebooks keep their outputs when they come from the cache.

myst-nb 1.4 writes ``_build/jupyter_execute/<page>.ipynb`` from the notebook it parsed, not from the one
its execution client returns.  When the client executes the page, both are the same object and the file
has its outputs; when it serves the page from jupyter-cache, the outputs are merged into a copy, and the
file it writes has none — no figure, no printed check — although the HTML page has them.  That file is
also the notebook the page offers for download (the theme copies it to ``_sources/``).

Right after myst-nb has read a page (``doctree-read``), this re-writes its executed notebook with the
outputs of the matching jupyter-cache record, the same outputs the page was rendered from.
``tests/test_figures.py`` counts the figures in both notebooks and fails if they are lost.
"""

from __future__ import annotations

from pathlib import Path


def restore_cached_outputs(app, doctree):
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache" or not config.output_folder:
        return
    parts = app.env.docname.split("/")
    path = Path(config.output_folder).joinpath(*parts[:-1], parts[-1] + ".ipynb")
    if not path.is_file():
        return  # not a notebook page
    import nbformat
    from jupyter_cache import get_cache

    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code or any(cell.get("outputs") for cell in code):
        return  # executed in this build (outputs written), or nothing to execute
    try:
        _, merged = get_cache(config.execution_cache_path).merge_match_into_notebook(notebook)
    except KeyError:
        return  # not in the cache: the page was not executed (e.g. excluded from execution)
    if any(cell.get("outputs") for cell in merged.cells if cell.cell_type == "code"):
        nbformat.write(merged, path)


def setup(app):
    # after myst-nb's own handlers: its parser has written the notebook when the doctree is read
    app.connect("doctree-read", restore_cached_outputs, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
