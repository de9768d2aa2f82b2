"""Turn a chapter's MyST notebook into one that plain Jupyter renders: for Colab, Binder and students.

JupyterLab, Colab and VS Code render Markdown and ``$math$`` but not MyST's directives, roles and
labels.  Used by the launch notebooks of the site (``_ext/bpbook_site.py``) and by the coursework
release (``tools/coursework.py``).  In every Markdown cell it rewrites:

* ``$$ … $$ (eq-x)``                    → the same display math with ``\\tag{n}``, n the number the
  book's page gives the equation (Sphinx numbers them through the book in the order of ``_toc.yml``);
* ``{eq}`eq-x```                        → "[(n)](<page of eq-x>#equation-eq-x)", a link to the book;
* ``{ref}`label```, ``{numref}``, ``{doc}`` → a link to the book's page (and section) with its title;
* ``{cite}`k```                         → "[English title, year]" from references.bib, linked to the
  book's bibliography; ``{py:func}`~bpkit.m.f``` → "[`f`](<api page>#bpkit.m.f)";
* ``:::{admonition} Title``, ```` ```{important} ````, ``{prf:theorem}``… → block quotes with a bold
  title (a ``:class: dropdown`` one → ``<details>``);
* ``{exercise-start}`` … ``{exercise-end}`` → "### Exercise n"; ``{solution-start}`` … ``{solution-end}``
  → the solution's text folded in ``<details>`` and its code cells' input collapsed (launch notebooks),
  or removed with every cell inside except nbgrader's answer cells (student notebooks);
* ``{figure}``/``{image}``               → a Markdown image (from the published site);
* ``{eval-rst}`` autodoc blocks          → a list of links to the reference page;
* ``(label)=`` lines are dropped.

:func:`myst_leftovers` lists whatever MyST is left in a notebook (the tests fail on any).
"""

from __future__ import annotations

import re
from pathlib import Path

ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
FENCE_OPEN = re.compile(r"^(`{3,}|:{3,})\{([\w:.-]+)\}\s*(.*)$")
PLAIN_FENCE = re.compile(r"^(`{3,}|~{3,})[^`{]*$")
LABEL_LINE = re.compile(r"^\(([\w:.-]+)\)=\s*$")
EQ_CLOSE = re.compile(r"^(.*?)\$\$\s*\(([\w:.-]+)\)\s*$")
ADMONITION_TITLES = {"prf:theorem": "Theorem", "prf:proof": "Proof", "prf:lemma": "Lemma", "prf:definition": "Definition"}
AUTODOC = re.compile(r"^\s*\.\.\s+auto(function|class|module|method|attribute|data)::\s*(\S+)")
# what no plain-Jupyter reader should see
LEFTOVERS = [
    ("role", re.compile(r"\{[\w:.-]+\}`")),
    ("directive", re.compile(r"^\s*(>\s*)*(`{3,}|:{3,})\{", re.MULTILINE)),
    ("colon fence", re.compile(r"^\s*(>\s*)*:{3,}\s*$", re.MULTILINE)),
    ("label", re.compile(r"^\s*\([\w:.-]+\)=\s*$", re.MULTILINE)),
    ("equation label", re.compile(r"\$\$\s*\([\w:.-]+\)\s*$", re.MULTILINE)),
    ("directive option", re.compile(r"^\s*(>\s*)*:(class|label|name|tags|alt|width|members):", re.MULTILINE)),
]


def github_pages_url(repository_url: str) -> str:
    """https://github.com/owner/repo → https://owner.github.io/repo/ (where gh-pages publishes the site)."""
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repository_url or "")
    return f"https://{m.group(1)}.github.io/{m.group(2)}/" if m else ""


class BookIndex(dict):
    """The book's cross-reference targets.  As a dict: {'ch-notation': 'Notation and the forward pass', …}
    (the chapter titles by label, what :func:`chapter_titles` returned before); attributes:

    * ``labels``: {label: (docname, title, anchor)} for every ``(label)=`` of every page;
    * ``equations``: {label: (docname, number)};  ``exercises``: {label: (docname, number)};
    * ``docs``: {docname: title};  ``bib``: {key: "English title, year"};
    * ``base_url``: the published site ("" → links relative to the site's root).
    """

    def __init__(self, titles=(), base_url=""):
        super().__init__(titles)
        self.labels, self.equations, self.exercises, self.docs, self.bib = {}, {}, {}, {}, {}
        self.base_url = base_url

    def page(self, docname, anchor=""):
        return f"{self.base_url}{docname}.html" + (f"#{anchor}" if anchor else "")


def _anchor(label):
    return re.sub(r"[^\w-]+", "-", label.lower()).strip("-")


def book_index(root: Path, base_url: str | None = None) -> BookIndex:
    """Scan every page of the book under ``root`` (chapters/*.md, *.md) and references.bib."""
    root = Path(root)
    if base_url is None:
        base_url = ""
        config = root / "_config.yml"
        if config.exists():
            import yaml

            conf = yaml.safe_load(config.read_text(encoding="utf8")) or {}
            base_url = (conf.get("html") or {}).get("baseurl") or github_pages_url((conf.get("repository") or {}).get("url", ""))
        base_url = base_url.rstrip("/") + "/" if base_url else ""
    index = BookIndex(base_url=base_url)
    pages = sorted(root.glob("*.md")) + sorted((root / "chapters").glob("*.md"))
    toc = root / "_toc.yml"
    if toc.exists():  # Sphinx numbers the equations through the whole book, in the order of the toc
        order = re.findall(r"^\s*(?:root|-?\s*file):\s*(\S+)", toc.read_text(encoding="utf8"), re.MULTILINE)
        rank = {name.removesuffix(".md"): n for n, name in enumerate(order)}
        pages.sort(key=lambda p: rank.get(p.relative_to(root).with_suffix("").as_posix(), len(rank)))
    number = 0
    for path in pages:
        docname = path.relative_to(root).with_suffix("").as_posix()
        text = path.read_text(encoding="utf8")
        title = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        index.docs[docname] = title.group(1).strip() if title else docname
        lines = text.split("\n")
        exercise = 0
        for i, line in enumerate(lines):
            label = LABEL_LINE.match(line)
            if label:
                following = next((l for l in lines[i + 1:] if l.strip()), "")
                heading = re.match(r"^#+\s+(.+)$", following)
                name = heading.group(1).strip() if heading else label.group(1)
                anchor = "" if following.startswith("# ") else _anchor(label.group(1))
                index.labels[label.group(1)] = (docname, name, anchor)
                if label.group(1).startswith("ch-") and heading:
                    index[label.group(1)] = name
            eq = EQ_CLOSE.match(line)
            if eq and not line.lstrip().startswith("```"):
                number += 1
                index.equations[eq.group(2)] = (docname, number)
            ex = FENCE_OPEN.match(line)
            if ex and ex.group(2) in ("exercise", "exercise-start"):
                exercise += 1
                opts = re.match(r"^:label:\s*(\S+)", lines[i + 1]) if i + 1 < len(lines) else None
                if opts:
                    index.exercises[opts.group(1)] = (docname, exercise)
    bib = root / "references.bib"
    if bib.exists():
        for entry in re.split(r"\n@", "\n" + bib.read_text(encoding="utf8"))[1:]:
            key = re.match(r"\w+\{([^,]+),", entry)
            title = re.search(r"title\s*=\s*\{(.+?)\},?\s*\n", entry)
            year = re.search(r"year\s*=\s*\{(.+?)\}", entry)
            if key and title:
                text = title.group(1)
                english = re.search(r"\[(.+)\]", text)
                text = (english.group(1) if english else text).replace("{", "").replace("}", "")
                index.bib[key.group(1).strip()] = text + (f", {year.group(1)}" if year else "")
    for docname in index.docs:  # the bibliography's page
        if "```{bibliography}" in (root / f"{docname}.md").read_text(encoding="utf8"):
            index.labels.setdefault("__bibliography__", (docname, index.docs[docname], ""))
    return index


def chapter_titles(chapters_dir: Path) -> BookIndex:
    """The book's index (a dict of chapter titles by label, see :class:`BookIndex`) for ``chapters_dir``."""
    return book_index(Path(chapters_dir).resolve().parent)


def _resolve_doc(target, docname):
    if target.startswith("/"):
        return target.lstrip("/")
    base = docname.rsplit("/", 1)[0] + "/" if "/" in docname else ""
    parts = []
    for part in (base + target).split("/"):
        if part == "..":
            parts and parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts).removesuffix(".md")


def _roles(text, index: BookIndex, docname):
    def replace(m):
        kind, body = m.group(1), m.group(2)
        explicit = re.match(r"^(.*?)\s*<([^<>]+)>$", body)
        label, target = (explicit.group(1), explicit.group(2)) if explicit else (None, body)
        if kind == "eq":
            where = index.equations.get(target)
            if where is None:
                return f"({target})"
            return f"[({where[1]})]({index.page(where[0], 'equation-' + _anchor(target))})"
        if kind in ("ref", "numref"):
            where = index.labels.get(target)
            if where is None:
                if target in index.exercises:
                    doc, n = index.exercises[target]
                    return f"[{label or f'Exercise {n}'}]({index.page(doc, target)})"
                return f"“{label or index.get(target, target)}”"
            text = label or where[1]
            if kind == "numref" and "%s" in text:
                text = text.replace("%s", "")
            return f"[{text}]({index.page(where[0], where[2])})"
        if kind == "doc":
            doc = _resolve_doc(target, docname)
            return f"[{label or index.docs.get(doc, doc)}]({index.page(doc)})"
        if kind.startswith("cite"):
            refs = [index.bib.get(k.strip(), k.strip()) for k in target.split(",")]
            where = index.labels.get("__bibliography__")
            text = "[" + "; ".join(refs) + "]"
            return f"[{text}]({index.page(where[0])})" if where else text
        if kind.startswith("py:"):
            name = target.lstrip("~")
            shown = label or (name.rsplit(".", 1)[-1] if target.startswith("~") else name)
            api = next((d for d in index.docs if d.endswith("api")), None)
            anchor = ("module-" if kind == "py:mod" else "") + name
            return f"[`{shown}`]({index.page(api, anchor)})" if api else f"`{shown}`"
        if kind == "math":
            return f"${body}$"
        return label or body  # an unknown role: its text

    return ROLE.sub(replace, text)


def _markdown(text, index, state, keep_solutions, docname=""):
    """Rewrite one Markdown cell; ``state`` carries the exercise counter and whether we are in a solution."""
    out = []
    stack = []  # open blocks: (closing marker, kind) with kind in quote/details/plain/rst/drop
    details_open = False
    if state["solution"] and keep_solutions:
        out += [f"<details><summary>Solution to exercise {state['exercise']} (click to open)</summary>", ""]
        details_open = True
    lines = text.split("\n")
    i = 0

    def depth():
        return sum(1 for _, kind in stack if kind == "quote")

    def emit(line):
        d = depth()
        out.append(("> " * d + line) if line else (">" * d if d else ""))

    def skip_options(j):
        while j < len(lines) and lines[j].startswith(":") and not lines[j].startswith(":::"):
            j += 1
        return j

    while i < len(lines):
        line = lines[i]
        top = stack[-1] if stack else None
        if top and top[1] in ("plain", "rst", "drop"):
            if line.strip() == top[0]:
                stack.pop()
            elif top[1] == "plain":
                emit(line)
            elif top[1] == "rst":
                auto = AUTODOC.match(line)
                if auto:
                    api = next((d for d in index.docs if d.endswith("api")), docname)
                    anchor = ("module-" if auto.group(1) == "module" else "") + auto.group(2)
                    emit(f"* [`{auto.group(2)}`]({index.page(api, anchor)}) — `help({auto.group(2)})` prints it")
            i += 1
            continue
        fence = FENCE_OPEN.match(line)
        if fence and fence.group(2) in ("exercise-start", "exercise-end", "solution-start", "solution-end"):
            marker, name = fence.group(1), fence.group(2)
            i = skip_options(i + 1)
            if i < len(lines) and lines[i].strip() == marker:
                i += 1  # the empty directive's closing fence
            if name == "exercise-start":
                state["exercise"] += 1
                title = _roles(fence.group(3).strip(), index, docname)
                out += [f"### Exercise {state['exercise']}" + (f": {title}" if title else ""), ""]
            elif name == "solution-start":
                state["solution"] = True
                if keep_solutions:
                    out += ["", f"<details><summary>Solution to exercise {state['exercise']} (click to open)</summary>", ""]
                    details_open = True
            elif name == "solution-end":
                state["solution"] = False
                if details_open:
                    out += ["", "</details>", ""]
                    details_open = False
            continue
        if state["solution"] and not keep_solutions:
            i += 1
            continue
        if fence:
            marker, name, arg = fence.group(1), fence.group(2), fence.group(3).strip()
            j = skip_options(i + 1)
            options = " ".join(lines[i + 1:j])
            i = j
            if name == "eval-rst":
                stack.append((marker, "rst"))
                continue
            if name in ("figure", "image"):
                alt = re.search(r":alt:\s*(.+?)(?=\s+:\w+:|$)", options)
                base = docname.rsplit("/", 1)[0] + "/" if "/" in docname else ""
                src = arg if re.match(r"^\w+://", arg) else index.base_url + base + arg
                emit(f"![{alt.group(1) if alt else ''}]({src})")
                if name == "image":
                    continue
                stack.append((marker, "quote"))  # the caption: shown as a quote under the image
                continue
            if name in ("bibliography", "tableofcontents"):
                where = index.labels.get("__bibliography__") if name == "bibliography" else None
                emit(f"The references are listed on [the book's page]({index.page(where[0])})." if where
                     else f"The book's contents are at [{index.base_url or 'the book'}]({index.base_url or 'intro.html'}).")
                stack.append((marker, "drop"))
                continue
            if name == "math":
                emit("$$")
                stack.append((marker, "math"))
                continue
            title = ADMONITION_TITLES.get(name, name.split(":")[-1].capitalize())
            if name == "admonition":
                title = arg or "Note"
            elif arg:
                title = f"{title} ({arg})"
            title = _roles(title, index, docname)
            if "dropdown" in options:
                emit(f"<details><summary>{title}</summary>")
                emit("")
                stack.append((marker, "details"))
            else:
                stack.append((marker, "quote"))
                emit(f"**{title}**")
                emit("")
            continue
        if top and line.strip() == top[0]:
            stack.pop()
            if top[1] == "details":
                emit("")
                emit("</details>")
            elif top[1] == "math":
                emit("$$")
            i += 1
            continue
        plain = PLAIN_FENCE.match(line)
        if plain:
            emit(line)
            stack.append((plain.group(1), "plain"))
            i += 1
            continue
        if LABEL_LINE.match(line):
            i += 1
            continue
        eq = EQ_CLOSE.match(line)
        if eq:
            where = index.equations.get(eq.group(2))
            tag = f"\\tag{{{where[1]}}}" if where else ""
            if eq.group(1).strip():
                emit(eq.group(1).rstrip() + " " + tag)
                emit("$$")
            else:
                if tag:
                    emit(tag)
                emit("$$")
            i += 1
            continue
        emit(_roles(line, index, docname))
        i += 1
    if details_open:
        out += ["", "</details>"]
    text = re.sub(r"<details><summary>[^<]*</summary>\s*</details>", "", "\n".join(out))  # nothing folded
    text = re.sub(r"^(>[> ]*)\n(?:\1\n)+", r"\1\n", text + "\n", flags=re.MULTILINE)  # one empty quoted line
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def plain_notebook(nb, titles, keep_solutions=True, docname=None):
    """Rewrite a jupytext-read chapter in place (and return it); see the module docstring.

    ``titles``: a :class:`BookIndex` (``chapter_titles``/``book_index``), or a plain dict of chapter
    titles by label; ``docname``: the page's name in the book (``chapters/notation``) for its links.
    """
    index = titles if hasattr(titles, "equations") else BookIndex(titles)
    state = {"exercise": 0, "solution": False}
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _markdown(cell.source, index, state, keep_solutions, docname or "")
            if cell.source.strip():
                cells.append(cell)
            continue
        grading = cell.metadata.get("nbgrader", {})
        if state["solution"]:
            if not keep_solutions and not grading.get("solution"):
                continue  # a cell inside a solution that is not the student's answer cell
            if keep_solutions:  # the solution's code: run, but folded until the reader opens it
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
                tags = cell.metadata.setdefault("tags", [])
                if "solution" not in tags:
                    tags.append("solution")
        cells.append(cell)
    nb.cells = cells
    return nb


def myst_leftovers(nb) -> list[str]:
    """Every MyST construct left in a notebook's Markdown cells: ["cell 3: role: {eq}`…", …]."""
    found = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for kind, pattern in LEFTOVERS:
            for m in pattern.finditer(cell.source):
                line = cell.source[cell.source.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
                found.append(f"cell {number}: {kind}: {line.strip()[:100]}")
    return found
