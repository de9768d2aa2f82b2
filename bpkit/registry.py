"""Which function computes which numbered equation of the book.

Every public function that implements a numbered equation is decorated with
``@implements("eq-...")``.  The decorator records the pair here, and the
function's docstring names the same label (a test checks that both agree and
that every label is a numbered equation in ``chapters/``).  From an equation in
the book a reader finds its function with :func:`function_for`; from a function
they read its label in ``help(fn)``.
"""

from __future__ import annotations

from typing import Callable

#: label -> fully qualified name of the one function that computes it
EQUATIONS: dict[str, str] = {}


def implements(*labels: str) -> Callable:
    """Record that the decorated function computes the equations ``labels``."""

    def decorate(fn: Callable) -> Callable:
        name = f"{fn.__module__}.{fn.__qualname__}"
        for label in labels:
            if not label.startswith("eq-"):
                raise ValueError(f"equation labels start with 'eq-': {label!r}")
            owner = EQUATIONS.get(label)
            if owner is not None and owner != name:
                raise ValueError(f"{label} is already computed by {owner}; one function per equation")
            if label not in (fn.__doc__ or ""):
                raise ValueError(f"{name}: its docstring must name the equation label {label}")
            EQUATIONS[label] = name
        fn.__equations__ = tuple(labels)
        return fn

    return decorate


def function_for(label: str) -> str:
    """The qualified name of the function that computes equation ``label``."""
    try:
        return EQUATIONS[label]
    except KeyError:
        known = ", ".join(sorted(EQUATIONS))
        raise ValueError(f"no bpkit function computes {label!r}; known labels: {known}") from None
