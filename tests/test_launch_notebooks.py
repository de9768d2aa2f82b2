"""The launch notebooks (site/notebooks/<chapter>.ipynb) as a reader gets them from Colab, Binder, a
JupyterHub or the download button: plain Jupyter Markdown, a set-up cell first, and every one runs
top to bottom in a fresh venv that has only bpkit's wheel, outside the checkout, with the network off."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

import launch_env

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from plain_markdown import myst_leftovers  # noqa: E402

NOTEBOOK_CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.md")
                           if p.read_text(encoding="utf8").startswith("---\njupytext:"))
PER_NOTEBOOK = 60  # seconds
NETWORK_OFF = ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]


def launch_notebooks(site):
    found = sorted((site / "notebooks" / "chapters").glob("*.ipynb"))
    found = [p for p in found if not p.name.endswith(".out.ipynb")]
    assert [p.stem for p in found] == NOTEBOOK_CHAPTERS, "a chapter has no launch notebook"
    return found


def test_every_launch_notebook_is_plain_jupyter(site):
    for path in launch_notebooks(site):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert myst_leftovers(nb) == [], path.name
        assert nb.cells[0].cell_type == "code" and nb.cells[0].metadata["tags"] == ["setup"], path.name
        assert "_bpbook_setup(" in nb.cells[0].source
        assert not any(o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_the_leftover_check_can_fail():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in [
        "see {eq}`eq-mse`", "(ch-x)=\n# T", ":::{admonition} A\ntext\n:::", "$$\nx\n$$ (eq-x)", "> ````{exercise-start}",
    ]])
    kinds = {line.split(": ")[1] for line in myst_leftovers(nb)}
    assert kinds == {"role", "label", "directive", "colon fence", "equation label"}


def _eqno(html, label):
    m = re.search(rf'id="equation-{re.escape(label)}".*?class="eqno">\((\d+)\)', html, re.DOTALL)
    return m and int(m.group(1))


def test_equation_numbers_and_links_are_the_pages(site):
    """Every \\tag{n} is the number the page shows; every {eq} became a link to that page's equation."""
    checked = 0
    for path in launch_notebooks(site):
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        for number, url in re.findall(r"\[\((\d+)\)\]\((\S+?)\)", text):
            page, label = url.split("#equation-")
            html = (site / page.split(".io/", 1)[1].split("/", 1)[1]).read_text(encoding="utf8")
            assert _eqno(html, label) == int(number), (path.name, label)
            checked += 1
    assert checked > 100


def test_every_link_to_the_book_reaches_a_page_and_its_anchor(site):
    """{ref}, {doc}, {eq}, {cite} and {py:func} became links to the published pages: each page exists and
    has the anchor (ids as Sphinx writes them)."""
    import yaml

    sys.path.insert(0, str(ROOT / "tools"))
    from plain_markdown import github_pages_url

    base = github_pages_url(yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"])
    assert base.startswith("https://")
    pages, checked = {}, 0
    for path in launch_notebooks(site):
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        for url in re.findall(r"\]\((" + re.escape(base) + r"[^)\s]*)\)", text):
            page, _, anchor = url[len(base):].partition("#")
            if page not in pages:
                assert (site / page).exists(), (path.name, url)
                pages[page] = (site / page).read_text(encoding="utf8")
            assert not anchor or f'id="{anchor}"' in pages[page], (path.name, url)
            checked += 1
    assert checked > 300


def test_downloads_are_named_as_they_are(site):
    html = (site / "chapters" / "notation.html").read_text(encoding="utf8")
    md = re.search(r'href="([^"]+)"[^>]*download-source-button.*?btn__text-container">([^<]+)<', html, re.DOTALL)
    ipynb = re.search(r'href="([^"]+)"[^>]*download-notebook-button.*?btn__text-container">([^<]+)<', html, re.DOTALL)
    assert md.group(2) == ".md" and md.group(1).endswith("notation.md")
    assert (site / "chapters" / md.group(1)).resolve().read_text(encoding="utf8").startswith("---\njupytext:")
    assert ipynb.group(2) == ".ipynb" and ipynb.group(1).endswith("notebooks/chapters/notation.ipynb")
    assert (site / "chapters" / ipynb.group(1)).resolve().exists()


def test_site_is_ready_to_publish_for_binder(site):
    assert (site / ".nojekyll").exists()
    requirements = (site / "binder" / "requirements.txt").read_text().splitlines()
    pinned = [l for l in requirements if l and not l.startswith("#")]
    import bpkit

    assert pinned[0].startswith("bpkit @ git+https://") and pinned[0].endswith(f"@v{bpkit.__version__}")
    assert all(re.match(r"^[\w.-]+==\S+$", l) for l in pinned[1:]) and len(pinned) > 5


def test_no_placeholder_url_and_no_hub_button_without_a_hub(site):
    import yaml

    hub = (yaml.safe_load((ROOT / "_config.yml").read_text())["launch_buttons"] or {}).get("jupyterhub_url")
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf8")
        assert "example.org" not in text and "example.com" not in text, page
        if not hub:
            assert "user-redirect/git-pull" not in text, page


def _stale_bpkit(folder: Path) -> Path:
    """A bpkit 0.0.1 on PYTHONPATH: the set-up cell must replace it (another version) without a restart."""
    (folder / "bpkit").mkdir(parents=True)
    (folder / "bpkit" / "__init__.py").write_text('__version__ = "0.0.1"\n')
    (folder / "bpkit-0.0.1.dist-info").mkdir()
    (folder / "bpkit-0.0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: bpkit\nVersion: 0.0.1\n")
    return folder


@pytest.mark.slow
def test_every_launch_notebook_runs_offline_in_a_fresh_venv(site, tmp_path_factory):
    """Two at a time; every other notebook finds an older bpkit first, which the set-up cell replaces."""
    python, wheel = launch_env.launch_venv(tmp_path_factory.getbasetemp() / "launch-env")
    work = tmp_path_factory.mktemp("reader")
    shutil.copytree(site / "notebooks", work / "notebooks")  # the published folder, as Binder clones it
    stale = _stale_bpkit(work / "stale")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER", "MPL", "VIRTUAL_ENV"))}
    import bpkit

    def run(item):
        number, path = item
        home = work / f"home-{path.stem}"
        home.mkdir()
        nb_env = dict(env, HOME=str(home), BPBOOK_PIP_SOURCE=str(wheel), PYTHONNOUSERSITE="1")
        if number % 2 == 0:
            nb_env["PYTHONPATH"] = str(stale)
        cmd = [*NETWORK_OFF, sys.executable, str(ROOT / "tests" / "run_notebook.py"), str(path), str(python),
               str(PER_NOTEBOOK)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=nb_env, cwd=work, timeout=5 * PER_NOTEBOOK)
        if proc.returncode != 0:
            return path.stem, {"error": proc.stderr[-3000:], "seconds": None, "setup": ""}, number
        return path.stem, json.loads(proc.stdout.strip().splitlines()[-1]), number

    notebooks = [p for p in sorted((work / "notebooks" / "chapters").glob("*.ipynb"))]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, enumerate(notebooks)))
    failures = {name: r["error"] for name, r, _ in results if r["error"]}
    assert failures == {}, "\n\n".join(f"== {n}\n{e}" for n, e in failures.items())
    for name, result, number in results:
        assert result["seconds"] < PER_NOTEBOOK, (name, result["seconds"])
        if number % 2 == 0:
            assert result["setup"].startswith(f"Installed bpkit {bpkit.__version__} from {wheel}"), (name, result["setup"])
            assert "(found 0.0.1)" in result["setup"]
        else:
            assert "nothing to do" in result["setup"], (name, result["setup"])
        assert result["setup"].count("\n") == 1, result["setup"]
    print({name: r["seconds"] for name, r, _ in results})
    # Markdown that a cell prints: the api chapter's table is printed as MyST for the website's parser
    # (chapters/api.md), which plain Jupyter shows as text — known, listed here so that no other appears.
    known = {"api"}
    for path in notebooks:
        executed = nbformat.read(path.with_suffix(".out.ipynb"), as_version=4)
        printed = [o["data"]["text/markdown"] for c in executed.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
        left = myst_leftovers(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(m) for m in printed]))
        assert bool(left) == (path.stem in known), (path.stem, left[:3])


def test_the_converter_on_every_construct(tmp_path):
    """Each MyST construct the book uses, converted: what plain Jupyter shows instead."""
    from plain_markdown import book_index, plain_notebook

    (tmp_path / "chapters").mkdir()
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/someone/fork\n")
    (tmp_path / "_toc.yml").write_text("root: intro\nparts:\n  - chapters:\n      - file: chapters/a\n      - file: chapters/b\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "references.bib").write_text("@misc{src-x,\n  title  = {中文 [An English title]},\n  year   = {2023},\n}\n")
    (tmp_path / "chapters" / "a.md").write_text("(ch-a)=\n# Chapter A\n\n$$\nx\n$$ (eq-one)\n\n```{bibliography}\n```\n")
    b = """(ch-b)=
# Chapter B

(sec-b-two)=
## Two things

$$
y = x
$$ (eq-Two)

See {eq}`eq-one`, {eq}`eq-Two`, {ref}`ch-a`, {ref}`the section <sec-b-two>`, {doc}`intro <../intro>`,
{cite}`src-x` and {py:func}`~bpkit.losses.mse`.

:::{admonition} Careful
:class: warning
Inside {eq}`eq-one`.
:::

```{figure} figures/net.png
:alt: a network

The caption.
```

````{exercise-start}
:label: ex-b
````
Do it.
````{exercise-end}
````

````{solution-start} ex-b
:class: dropdown
````
Because.
"""
    (tmp_path / "chapters" / "b.md").write_text(b)
    index = book_index(tmp_path)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(b),
        nbformat.v4.new_code_cell("answer = 1"),
        nbformat.v4.new_markdown_cell("````{solution-end}\n````\n\nAfter."),
    ])
    plain_notebook(nb, index, docname="chapters/b")
    text, code, after = (c.source for c in nb.cells)
    site = "https://someone.github.io/fork/"
    assert myst_leftovers(nb) == []
    assert "$$\ny = x\n\\tag{2}\n$$" in text
    assert f"[(1)]({site}chapters/a.html#equation-eq-one)" in text
    assert f"[(2)]({site}chapters/b.html#equation-eq-two)" in text
    assert f"[Chapter A]({site}chapters/a.html)" in text
    assert f"[the section]({site}chapters/b.html#sec-b-two)" in text
    assert f"[intro]({site}intro.html)" in text
    assert f"[[An English title, 2023]]({site}chapters/a.html)" in text
    assert "`mse`" in text and "(sec-b-two)=" not in text
    assert "> **Careful**\n>\n> Inside [(1)]" in text
    assert f"![a network]({site}chapters/figures/net.png)" in text
    assert "### Exercise 1\n\nDo it." in text
    assert "<details><summary>Solution to exercise 1 (click to open)</summary>\n\nBecause.\n\n</details>" in text
    assert nb.cells[1].metadata["jupyter"]["source_hidden"] is True and code == "answer = 1"
    assert after == "After."


def _tagged_repository(folder: Path, version: str) -> str:
    """A bare git repository (a clone of a temporary copy of the package's sources) with tag v<version>:
    what `repository.url` names for a fork.  Its file:// URL."""
    src = folder / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "bpkit", src / "bpkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@127.0.0.1", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "sources"], ["tag", f"v{version}"]):
        subprocess.run([*git, *args], cwd=src, check=True, capture_output=True)
    subprocess.run([*git, "clone", "-q", "--bare", str(src), str(folder / "fork.git")], check=True, capture_output=True)
    # file://localhost/…: the pip a venv starts with (23.2) rejects a git+file:/// URL, which has no host
    return "file://localhost" + str((folder / "fork.git").resolve())


@pytest.mark.slow
def test_the_default_set_up_installs_from_the_repository_tag(site, tmp_path_factory):
    """The set-up cell's default source, `bpkit @ git+<repository.url>@v<version>` (no BPBOOK_PIP_SOURCE):
    the cell the build writes for `repository.url`, with that URL a local bare repository tagged
    v<version>, run in the fresh venv with the network off.  pip builds the package from the tag with
    the venv's own setuptools (no build isolation: offline it could not fetch one)."""
    import importlib.util

    import jupytext
    import yaml

    spec = importlib.util.spec_from_file_location("bpbook_site", ROOT / "_ext" / "bpbook_site.py")
    bpbook_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bpbook_site)
    python, _ = launch_env.launch_venv(tmp_path_factory.getbasetemp() / "launch-env")
    work = tmp_path_factory.mktemp("default-setup")
    version = bpbook_site.book_version(ROOT)
    url = _tagged_repository(work, version)
    configured = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    built = nbformat.read(launch_notebooks(site)[0], as_version=4).cells[0].source
    chapter = jupytext.read(ROOT / "chapters" / f"{NOTEBOOK_CHAPTERS[0]}.md", fmt="md:myst")
    site_url = re.search(r"site='([^']*)'", built).group(1)
    cell = bpbook_site.setup_cell(chapter, ROOT, url, site_url)
    assert cell == built.replace(configured, url), "the build writes another set-up cell than setup_cell()"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell),
                                         nbformat.v4.new_code_cell("import bpkit\nprint(bpkit.__file__)")])
    (work / "reader").mkdir()
    path = work / "reader" / "setup.ipynb"
    nbformat.write(nb, path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "JUPYTER", "MPL", "VIRTUAL_ENV", "BPBOOK", "PIP_"))}
    # the venv has bpkit's wheel installed: an older bpkit first on the path makes the cell install
    env.update(HOME=str(work / "home"), PYTHONNOUSERSITE="1", PYTHONPATH=str(_stale_bpkit(work / "stale")),
               PIP_NO_BUILD_ISOLATION="0", PIP_CONFIG_FILE=os.devnull)
    cmd = [*NETWORK_OFF, sys.executable, str(ROOT / "tests" / "run_notebook.py"), str(path), str(python), "120"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work / "reader", timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] is None, result["error"]
    assert result["setup"].startswith(f"Installed bpkit {version} from bpkit @ git+{url}@v{version} into "), result["setup"]
    assert "(found 0.0.1)" in result["setup"]
    printed = nbformat.read(path.with_suffix(".out.ipynb"), as_version=4).cells[1].outputs[0]["text"]
    assert printed.startswith(str(work / "home" / ".cache" / "bpbook" / version)), printed
    print(f"default set-up from {url}: {result['seconds']} s")


@pytest.mark.slow
def test_the_instructors_set_up_fetches_the_chapter_sources_from_the_site(site, tmp_path_factory):
    """On Colab the instructors notebook has no chapter sources beside it: its set-up cell fetches them
    from the published site.  Here the site is the built one on 127.0.0.1, and the cell runs alone in an
    empty folder with the fresh venv's kernel; every file it names arrives, equal to the chapter's source."""
    from browser import static_server

    python, _ = launch_env.launch_venv(tmp_path_factory.getbasetemp() / "launch-env")
    built = nbformat.read(site / "notebooks" / "chapters" / "instructors.ipynb", as_version=4).cells[0].source
    site_url = re.search(r"site='([^']*)'", built).group(1)
    files = eval(re.search(r"files=(\[[^\]]*\])", built).group(1))  # a list literal the build wrote
    assert len(files) >= 3 and all(f.endswith(".md") for f in files), files
    work = tmp_path_factory.mktemp("instructors-setup")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER", "MPL", "VIRTUAL_ENV", "BPBOOK"))}
    env.update(HOME=str(work / "home"), PYTHONNOUSERSITE="1")
    with static_server(site) as base:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(built.replace(site_url, base))])
        nbformat.write(nb, work / "instructors.ipynb")
        cmd = [sys.executable, str(ROOT / "tests" / "run_notebook.py"), str(work / "instructors.ipynb"), str(python), "120"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] is None, result["error"]
    assert result["setup"].startswith("Installed ") and all(f in result["setup"] for f in files), result["setup"]
    for name in files:
        assert (work / name).read_text(encoding="utf8") == (ROOT / "chapters" / name).read_text(encoding="utf8"), name
