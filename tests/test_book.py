"""The strict book pipeline: a wrong equation check fails the build; an unchanged rebuild runs no cell.

These build a copy of the book in a temporary folder with ``jupyter-book build -W -n --keep-going``
(the command ``make book`` uses), executing only the chapter under test.
"""

from __future__ import annotations

import re

import pytest

from chapter_tools import build, copy_book

CHAPTER = "chapters/notation.md"
# The check of Z = AW + 1bᵀ against the neuron formula, with the bias's sign flipped in the formula.
RIGHT = "sum(W[p, q] * A[i, p] for p in range(n_in)) + b[q])"
WRONG = "sum(W[p, q] * A[i, p] for p in range(n_in)) - b[q])"

pytestmark = pytest.mark.book


def test_a_wrong_equation_check_fails_the_build(tmp_path):
    book = copy_book(tmp_path, CHAPTER)
    text = (book / CHAPTER).read_text()
    assert text.count(RIGHT) == 1, "the mutation target moved: update RIGHT"
    (book / CHAPTER).write_text(text.replace(RIGHT, WRONG))
    result = build(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-3000:]
    assert "AssertionError" in log and "✗ Z = AW + 1bᵀ equals" in log


def test_the_intact_chapter_builds_and_an_unchanged_rebuild_runs_no_cell(tmp_path):
    book = copy_book(tmp_path, CHAPTER)
    first = build(book)
    log = first.stdout + first.stderr
    assert first.returncode == 0, log[-3000:]
    assert re.search(r"notation\.md: Executing notebook", log), log[-3000:]
    html = (book / "_build" / "html" / "chapters" / "notation.html").read_text()
    assert "✓ Z = AW + 1bᵀ equals z_q" in html  # the check's output is on the page

    (book / CHAPTER).touch()  # Sphinx re-reads the page; jupyter-cache must serve it
    second = build(book)
    log2 = second.stdout + second.stderr
    assert second.returncode == 0, log2[-3000:]
    assert "notation.md: Using cached notebook" in log2
    assert "Executing notebook" not in log2
