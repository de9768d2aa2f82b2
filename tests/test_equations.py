"""From any numbered equation a reader finds the one function that computes it, and back."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import bpkit as bp

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
LABEL = re.compile(r"^\$\$ *\((eq-[A-Za-z0-9-]+)\)", re.MULTILINE)

for mod in pkgutil.iter_modules(bp.__path__):  # import every module, so that every @implements has run
    if mod.name != "widgets":
        importlib.import_module(f"bpkit.{mod.name}")


def defined_labels():
    out = {}
    for path in CHAPTERS:
        for label in LABEL.findall(path.read_text()):
            out.setdefault(label, []).append(path.name)
    return out


def test_every_equation_label_is_defined_once():
    labels = defined_labels()
    assert labels, "no numbered equations found"
    twice = {k: v for k, v in labels.items() if len(v) > 1}
    assert not twice, f"labels defined more than once: {twice}"


def test_every_numbered_equation_has_its_function_and_back():
    labels = defined_labels()
    assert set(labels) == set(bp.EQUATIONS), (
        f"equations without a function: {sorted(set(labels) - set(bp.EQUATIONS))}; "
        f"functions whose equation no chapter defines: {sorted(set(bp.EQUATIONS) - set(labels))}"
    )


@pytest.mark.parametrize("label", sorted(bp.EQUATIONS))
def test_the_defining_chapter_links_the_function(label):
    chapter = defined_labels()[label][0]
    text = (ROOT / "chapters" / chapter).read_text()
    name = bp.EQUATIONS[label]
    assert re.search(r"\{py:(func|meth)\}`~?" + re.escape(name) + "`", text), (
        f"{chapter} defines {label} but does not link {name}"
    )


def resolve(dotted):
    """The object a dotted name like ``bpkit.network.Sequential.loss`` refers to."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


@pytest.mark.parametrize("label", sorted(bp.EQUATIONS))
def test_the_function_docstring_names_the_equation(label):
    fn = resolve(bp.EQUATIONS[label])
    assert f":eq:`{label}`" in fn.__doc__
    assert label in fn.__equations__


def test_every_eq_reference_points_to_a_defined_label():
    labels = set(defined_labels())
    for path in CHAPTERS:
        for ref in re.findall(r"\{eq\}`(eq-[A-Za-z0-9-]+)`", path.read_text()):
            assert ref in labels, f"{path.name} references undefined {ref}"
