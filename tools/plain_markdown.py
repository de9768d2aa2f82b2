"""Turn a chapter's MyST notebook into one that plain Jupyter renders: for Colab, Binder and students.

JupyterLab and Colab render Markdown and ``$math$`` but not MyST's directives and roles.  This
rewrites, in every Markdown cell:

* ``{exercise-start}`` … ``{exercise-end}``     → "### Exercise n" and the question;
* ``{solution-start}`` … ``{solution-end}``     → kept (launch notebooks) or removed with every cell
  inside except nbgrader's answer cells, whose solution regions nbgrader strips (student notebooks);
* ``:::{admonition} Title`` / ```` ```{important} ```` blocks → quoted blocks with a bold title;
* ``{eq}`eq-x``` → "(eq-x)", ``{ref}`ch-x``` → the chapter's title, ``{cite}`k``` → "[k]",
  ``{py:func}`~bpkit.m.f``` → "`bpkit.m.f`";
* ``(label)=`` lines and the ``(eq-x)`` after a closing ``$$`` are dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

ROLE = re.compile(r"\{(eq|ref|cite|cite:t|cite:p|py:func|py:meth|py:class|py:mod|numref|doc)\}`([^`]*)`")
FENCE_OPEN = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}\s*(.*)$")


def chapter_titles(chapters_dir: Path) -> dict:
    """{'ch-notation': 'Notation and the forward pass', ...} from each chapter's (label)= and # title."""
    titles = {}
    for path in Path(chapters_dir).glob("*.md"):
        text = path.read_text(encoding="utf8")
        label = re.search(r"^\((ch-[\w-]+)\)=\s*\n#\s+(.+)$", text, re.MULTILINE)
        if label:
            titles[label.group(1)] = label.group(2).strip()
    return titles


def _roles(text, titles):
    def replace(m):
        kind, target = m.group(1), m.group(2)
        if kind == "eq":
            return f"({target})"
        if kind in ("ref", "numref", "doc"):
            return f"“{titles.get(target, target)}”"
        if kind.startswith("cite"):
            return "[" + target + "]"
        return "`" + target.lstrip("~") + "`"

    return ROLE.sub(replace, text)


def _markdown(text, titles, state, keep_solutions):
    """Rewrite one Markdown cell; ``state`` carries the exercise counter and whether we are in a solution."""
    out, quote = [], None  # quote: the closing fence of a block being quoted
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE_OPEN.match(line)
        if fence and fence.group(2) in ("exercise-start", "exercise-end", "solution-start", "solution-end"):
            marker, name = fence.group(1), fence.group(2)
            i += 1
            while i < len(lines) and lines[i].startswith(":") and not lines[i].startswith(":::"):
                i += 1  # directive options
            if i < len(lines) and lines[i].strip() == marker:
                i += 1  # the empty directive's closing fence
            if name == "exercise-start":
                state["exercise"] += 1
                out.append(f"### Exercise {state['exercise']}")
            elif name == "solution-start":
                state["solution"] = True
                if keep_solutions:
                    out.append("#### Solution")
            elif name == "solution-end":
                state["solution"] = False
            continue
        if state["solution"] and not keep_solutions:
            i += 1
            continue
        if quote is None and fence:
            title = fence.group(3).strip() or fence.group(2).split(":")[-1].capitalize()
            quote = fence.group(1)
            out.append(f"> **{_roles(title, titles)}**")
            out.append(">")
            i += 1
            while i < len(lines) and lines[i].startswith(":") and not lines[i].startswith(":::"):
                i += 1
            continue
        if quote is not None and line.strip() == quote:
            quote = None
            i += 1
            continue
        if re.match(r"^\(([\w-]+)\)=\s*$", line):
            i += 1
            continue
        line = re.sub(r"^(\$\$)\s*\(eq-[\w-]+\)\s*$", r"\1", line)
        line = _roles(line, titles)
        out.append(("> " + line) if quote is not None and line else (">" if quote is not None else line))
        i += 1
    return "\n".join(out).strip("\n")


def plain_notebook(nb, titles, keep_solutions=True):
    """Rewrite a jupytext-read chapter in place (and return it); see the module docstring."""
    state = {"exercise": 0, "solution": False}
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _markdown(cell.source, titles, state, keep_solutions)
            if cell.source.strip():
                cells.append(cell)
            continue
        grading = cell.metadata.get("nbgrader", {})
        if state["solution"] and not keep_solutions and not grading.get("solution"):
            continue  # a cell inside a solution that is not the student's answer cell
        cells.append(cell)
    nb.cells = cells
    return nb
