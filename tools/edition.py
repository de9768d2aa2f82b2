"""The student edition of the book: the same sources, without what answers an exercise.

    python tools/edition.py student          # writes _build/student-src, prints its configuration file
    (or: make book EDITION=student           → the site in _build/student-html)
    STUDENT_URL=https://course.example.edu/bp/ STUDENT_BRANCH=student-pages make book EDITION=student
                                             (where it is published: links and launch buttons go there)

The reader edition (``make book``) folds the solutions in dropdowns: self-learners want them.  A course
needs a site, launch notebooks and downloads (``.ipynb``, ``.md``, ``_sources``) with none of them.  This
tool copies what the build reads into ``_build/student-src`` and strips, from every page:

* solution regions: everything between ``{solution-start}`` and ``{solution-end}`` (the explanation and
  every code cell), except nbgrader's answer cells, whose ``### BEGIN SOLUTION`` … ``### END SOLUTION``
  region becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (as ``make release`` does);
* hidden test cells (nbgrader ``grade: true`` with ``### BEGIN HIDDEN TESTS``): removed;
* cells tagged ``answers-exercise`` (an erratum whose printed correction is what an exercise asks for;
  a Markdown cell takes the tag with jupytext's ``+++ {"tags": ["answers-exercise"]}``): removed;
* passages of prose that give an exercise's answer away, inside a Markdown cell (a sentence in an
  admonition, a paragraph), between the lines ``<!-- answers-exercise -->`` and
  ``<!-- end answers-exercise -->``: removed (the reader edition, its launch notebooks and ``make release``'s
  notebooks show them or not as before: an HTML comment renders as nothing, and starts a new paragraph);
* the pages listed in ``EXCLUDED`` (the instructors' guide: it releases and grades an exercise, and prints
  an answer in its example): left out of the table of contents; references to them become plain text.

Answer cells and visible test cells are tagged ``skip-execution`` (an answer cell now raises
``NotImplementedError``): the build executes every other cell as strictly as the reader edition.  The
build uses ``_config.yml`` with ``student_config`` applied (title, execution cache of its own).  Copies are
written only when their content changes, so an unchanged rebuild is cached like the reader edition's.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "student-src"
TAG = "answers-exercise"
EXCLUDED = ["chapters/instructors"]
# what the book's build reads (the Sphinx extension reads tools/, bpkit/__init__.py and constraints.txt)
COPY = ["references.bib", "constraints.txt", "chapters", "_assets", "_ext", "tools", "bpkit"]
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)",
                             re.MULTILINE | re.DOTALL)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
SOL_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}")
SOL_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}")
MARK_START = re.compile(r"^[ \t]*<!--[ \t]*answers-exercise[ \t]*-->[ \t]*$", re.MULTILINE)
MARK_END = re.compile(r"^[ \t]*<!--[ \t]*end answers-exercise[ \t]*-->[ \t]*$", re.MULTILINE)
MARKED = re.compile(MARK_START.pattern + r".*?" + MARK_END.pattern + r"\n?", re.MULTILINE | re.DOTALL)


def _write(path: Path, text: str):
    """Write only when the content changes (Sphinx and jupyter-cache then see an unchanged file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf8") != text:
        path.write_text(text, encoding="utf8")


def _sync(src: Path, dest: Path, skip=()):
    """Copy a file or folder (files whose content changed only; ``skip``: suffixes of files to leave out)."""
    if src.is_dir():
        for item in sorted(src.rglob("*")):
            if (item.is_file() and "__pycache__" not in item.parts and not item.name.endswith(".ipynb")
                    and not item.name.endswith(tuple(skip))):
                target = dest / item.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists() or target.read_bytes() != item.read_bytes():
                    shutil.copy2(item, target)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.read_bytes() != src.read_bytes():
            shutil.copy2(src, dest)


def strip_marked(text: str) -> tuple[str, int]:
    """A Markdown cell without its ``<!-- answers-exercise -->`` … ``<!-- end answers-exercise -->`` passages,
    and their count."""
    starts, ends = len(MARK_START.findall(text)), len(MARK_END.findall(text))
    text, n = MARKED.subn("", text)
    if n != starts or n != ends:
        raise ValueError(f"'<!-- answers-exercise -->' markers: {starts} start(s) and {ends} end(s) in one Markdown "
                         f"cell, expected pairs, start before end, in: {text[:120]!r}")
    return text, n


def _markdown_outside_solutions(text: str, state: dict) -> str:
    """The lines of a Markdown cell outside solution regions (``state['in']`` carries across cells)."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        start, end = SOL_START.match(line), SOL_END.match(line)
        if start or end:
            marker = (start or end).group(1)
            i += 1
            while i < len(lines) and lines[i].startswith(":") and not lines[i].startswith(":::"):
                i += 1  # the directive's options
            if i < len(lines) and lines[i].strip() == marker:
                i += 1  # its closing fence
            state["in"] = bool(start)
            continue
        if not state["in"]:
            out.append(line)
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def strip_notebook(nb) -> tuple:
    """Strip a jupytext-read chapter in place; return (nb, what was removed as a dict of counts)."""
    removed = {"solution cells": 0, "answer regions": 0, "hidden tests": 0, "tagged cells": 0,
               "marked passages": 0}
    state, cells = {"in": False}, []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if TAG in tags:
            removed["tagged cells"] += 1
            continue
        if cell.cell_type == "markdown":
            cell.source, n = strip_marked(cell.source)
            removed["marked passages"] += n
            cell.source = _markdown_outside_solutions(cell.source, state)
            if cell.source.strip() or cell.metadata:
                cells.append(cell)
            continue
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") and not grading.get("solution") and "BEGIN HIDDEN TESTS" in cell.source:
            removed["hidden tests"] += 1
            continue
        if grading.get("solution"):
            cell.source, n = SOLUTION_REGION.subn(
                lambda m: "\n".join(m.group(1) + s for s in STUB.split("\n")) + m.group(2), cell.source)
            removed["answer regions"] += n
        elif state["in"]:
            removed["solution cells"] += 1
            continue
        if grading:  # an answer cell or a visible test: shown, not executed (the answer is a stub now)
            cell.metadata["tags"] = [t for t in tags if t != "skip-execution"] + ["skip-execution"]
        cells.append(cell)
    nb.cells = cells
    return nb, removed


def strip_text(text: str) -> str:
    """A MyST Markdown notebook (jupytext) as text → its student version as text."""
    import jupytext

    nb = jupytext.reads(text, fmt="md:myst")
    strip_notebook(nb)
    return jupytext.writes(nb, fmt="md:myst")


def _plain_references(text: str, labels: dict) -> str:
    """{ref}`label` of an excluded page → its title in quotes (the page is not in this edition)."""
    def replace(m):
        body = m.group(2)
        explicit = re.match(r"^(.*?)\s*<([^<>]+)>$", body)
        label = explicit.group(2) if explicit else body
        if label not in labels:
            return m.group(0)
        return f"“{explicit.group(1) if explicit else labels[label]}” (in the instructors' edition)"

    return re.sub(r"\{(ref|numref|doc)\}`([^`]*)`", replace, text)


def build_sources(out: Path = OUT, root: Path = ROOT, config: str = "_config.yml") -> Path:
    """Write the student edition's sources into ``out``; return the path of its configuration file."""
    out.mkdir(parents=True, exist_ok=True)
    for name in COPY:  # the pages themselves are written below, stripped
        _sync(root / name, out / name, skip=(".md",) if name == "chapters" else ())
    # every page that is a jupytext notebook is stripped; labels of excluded pages become text
    labels = {}
    for doc in EXCLUDED:
        text = (root / f"{doc}.md").read_text(encoding="utf8")
        for label, title in re.findall(r"^\(([\w:.-]+)\)=\s*\n+#+\s+(.+)$", text, re.MULTILINE):
            labels[label] = title.strip()
        target = out / f"{doc}.md"
        if target.exists():
            target.unlink()
    pages = [root / "intro.md"] + sorted((root / "chapters").glob("*.md"))
    for page in pages:
        doc = page.relative_to(root).with_suffix("").as_posix()
        if doc in EXCLUDED:
            continue
        text = page.read_text(encoding="utf8")
        if text.startswith("---\njupytext:"):
            text = strip_text(text)
        _write(out / page.relative_to(root), _plain_references(text, labels))
    toc = (root / "_toc.yml").read_text(encoding="utf8")
    for doc in EXCLUDED:
        toc = re.sub(rf"^\s*-\s*file:\s*{re.escape(doc)}\s*\n", "", toc, flags=re.MULTILINE)
    _write(out / "_toc.yml", toc)
    # the offline assets staged for the reader edition (html_static_path is relative to the book's root)
    assets = out / "_build" / "offline-assets"
    assets.parent.mkdir(parents=True, exist_ok=True)
    if not assets.is_symlink():
        if assets.exists():
            shutil.rmtree(assets)
        assets.symlink_to(root / "_build" / "offline-assets", target_is_directory=True)
    conf = (root / config).read_text(encoding="utf8")
    _write(out / "_config.yml", student_config(conf, os.environ.get("STUDENT_URL", ""),
                                               os.environ.get("STUDENT_BRANCH", "")))
    return out / "_config.yml"


def student_config(text: str, url: str = "", branch: str = "") -> str:
    """The reader edition's configuration with the student edition's title.

    ``url``: where the student edition is published (``html.baseurl``): the launch notebooks link their
    equations and references there, not to the reader edition with its solutions.  ``branch``: the branch
    of the repository it is published on (``repository.branch``), which the Colab/Binder buttons open.
    """
    title = re.search(r'^title:\s*"?(.*?)"?\s*$', text, re.MULTILINE)
    if not title:
        raise ValueError("_config.yml has no title: line")
    text = text.replace(title.group(0), f'title: "{title.group(1)} (student edition)"', 1)
    if url:
        text, n = re.subn(r"^html:\n", f'html:\n  baseurl: "{url.rstrip("/")}/"\n', text, count=1, flags=re.MULTILINE)
        if not n:
            raise ValueError("_config.yml has no html: section for the student edition's URL")
    if branch:
        text, n = re.subn(r"^(repository:\n(?:  .*\n)*?)  branch: .*\n", rf"\g<1>  branch: {branch}\n", text,
                          count=1, flags=re.MULTILINE)
        if not n:
            raise ValueError("_config.yml has no repository.branch for the student edition's branch")
    return text


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "student":
        print("usage: python tools/edition.py student [config]   (config: what tools/offline_assets.py printed)",
              file=sys.stderr)
        return 2
    config = argv[1] if len(argv) > 1 else "_config.yml"
    path = build_sources(config=config)
    print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
