"""Reverse-mode differentiation on scalars: one value class, one topological sort, one backward loop.

Every arithmetic operation on :class:`Value` objects creates a new node that remembers its operands
(``parents``) and the partial derivative of its result with respect to each of them (``local``),
computed at the moment the operation runs.  :meth:`Value.backward` then visits the nodes in reverse
topological order and applies the chain rule on the graph, equation :eq:`eq-graph-backward`: each node
adds ``local · (its own grad)`` to the grad of each of its parents.

:func:`network_loss` builds the graph of a ``bpkit`` network's MSE loss one scalar at a time, so that
the gradients of the layer version (``net.loss_and_grads``) can be compared with this one entry by entry.
The module uses only the :mod:`math` module and is independent of the rest of ``bpkit``'s arithmetic.
"""

from __future__ import annotations

import math
from numbers import Real

from .registry import implements

__all__ = ["Value", "topological_order", "graph_layout", "network_loss"]


class Value:
    """A scalar in a computational graph: its value ``data`` and, after ``backward``, ``grad`` = ∂out/∂self.

    ``parents`` are the nodes this one was computed from, ``local`` the partial derivatives of this node
    with respect to each of them (same order), ``op`` a short name of the operation (for drawing and
    counting).  Plain Python numbers mixed into an expression become leaf nodes.
    """

    __slots__ = ("data", "grad", "parents", "local", "op", "label")

    def __init__(self, data, parents=(), local=(), op="", label=""):
        if isinstance(data, Value):
            raise TypeError("Value(data): data must be a real number, not a Value (use the Value itself)")
        if not isinstance(data, Real) or isinstance(data, bool):
            raise TypeError(f"Value(data): data must be a real number; got {type(data).__name__}")
        if len(parents) != len(local):
            raise ValueError(f"Value: {len(parents)} parents but {len(local)} local derivatives")
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local = tuple(float(d) for d in local)
        self.op = op
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g}{', ' + self.op if self.op else ''})"

    # -- arithmetic: each operation records ∂(result)/∂(operand) ------------------------------------
    @staticmethod
    def _wrap(other):
        if isinstance(other, Value):
            return other
        if isinstance(other, Real) and not isinstance(other, bool):
            return Value(other)
        return NotImplemented

    def __add__(self, other):
        other = self._wrap(other)
        if other is NotImplemented:
            return other
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    __radd__ = __add__

    def __mul__(self, other):
        other = self._wrap(other)
        if other is NotImplemented:
            return other
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    __rmul__ = __mul__

    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __sub__(self, other):
        other = self._wrap(other)
        if other is NotImplemented:
            return other
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other):
        other = self._wrap(other)
        if other is NotImplemented:
            return other
        return other - self

    def __pow__(self, k):
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"Value ** k: k must be an int (a constant exponent); got {type(k).__name__}")
        return Value(self.data ** k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        z = self.data
        s = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        # ReLU'(0) = 0: the book's one convention at the kink (as bpkit.activations)
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    def identity(self):
        return Value(self.data, (self,), (1.0,), "identity")

    # -- reverse mode ---------------------------------------------------------------------------
    @implements("eq-graph-backward")
    def backward(self):
        """Set ``v.grad = ∂self/∂v`` for every node v of the graph of ``self``: equation :eq:`eq-graph-backward`.

        The seed is ∂self/∂self = 1; then, in reverse topological order, every node passes
        ``local[j] · grad`` to its ``j``-th parent (a sum over all paths, one multiply-add per edge).
        Grads are reset first, so calling it twice gives the same result.
        """
        order = topological_order(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            for parent, d in zip(v.parents, v.local):
                parent.grad += d * v.grad
        return order


def topological_order(root):
    """Every node of the graph of ``root``, each after all of its parents (``root`` last).

    Depth-first with an explicit stack, so deep graphs do not hit Python's recursion limit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order(root): root must be a Value; got {type(root).__name__}")
    order, done, on_stack = [], set(), set()
    stack = [(root, iter(root.parents))]
    on_stack.add(id(root))
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in done and id(p) not in on_stack:
                on_stack.add(id(p))
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            on_stack.discard(id(node))
            done.add(id(node))
            order.append(node)
    return order


def graph_layout(root):
    """``(order, position)``: the nodes of ``root``'s graph in topological order and, for each (by ``id``), a
    place (column, row) to draw it: an operation one column right of its latest parent, a leaf one column left
    of its first use, the nodes of a column centred on row 0.  Used by the graphs chapter's figure and by
    ``bpkit.widgets.GraphExplorer``.
    """
    order = topological_order(root)
    column = {}
    for v in order:                                  # operations: one right of their latest parent
        if v.parents:
            column[id(v)] = 1 + max(column.get(id(p), 0) for p in v.parents)
    users = {}
    for u in order:
        for p in u.parents:
            users.setdefault(id(p), []).append(column[id(u)])
    for v in order:                                  # leaves: one left of their first use
        if not v.parents:
            column[id(v)] = min(users.get(id(v), [1])) - 1
    members = {}
    for v in order:
        members.setdefault(column[id(v)], []).append(v)
    position = {}
    for c, nodes in members.items():
        for r, v in enumerate(nodes):
            position[id(v)] = (c, (len(nodes) - 1) / 2 - r)
    return order, position


def network_loss(net, X, T):
    """The MSE loss L = (1/m) Σ_i ½ Σ_j (a_ij − t_ij)² of a ``bpkit`` network, as a graph of Values.

    Returns ``(loss, params)``: ``params`` maps the names of ``net.parameters()`` ("0.W", "0.b", ...)
    to nested lists of the leaf Values (shape of the parameter), so that after ``loss.backward()``
    ``params["0.W"][p][q].grad`` is ∂L/∂w_pq of layer 0.  Dense and Residual layers with the
    activations sigmoid, tanh, relu and identity are supported.
    """
    import numpy as np

    from .layers import Residual

    X = np.asarray(X, dtype=float)
    T = np.asarray(T, dtype=float)
    sizes = net.sizes
    if X.ndim != 2 or X.shape[1] != sizes[0]:
        raise ValueError(f"network_loss: X must have shape (m, {sizes[0]}); got {X.shape}")
    if T.shape != (X.shape[0], sizes[-1]):
        raise ValueError(f"network_loss: T must have shape ({X.shape[0]}, {sizes[-1]}); got {T.shape}")
    params = {}
    for i, layer in enumerate(net.layers):
        params[f"{i}.W"] = [[Value(w, label=f"w{i}_{p}{q}") for q, w in enumerate(row)]
                            for p, row in enumerate(layer.W.tolist())]
        params[f"{i}.b"] = [Value(b, label=f"b{i}_{q}") for q, b in enumerate(layer.b.tolist())]
    m = X.shape[0]
    total = Value(0.0)
    for i in range(m):
        a = [Value(x, label=f"x{p + 1}" if m == 1 else f"x{i + 1}_{p + 1}") for p, x in enumerate(X[i])]
        for l, layer in enumerate(net.layers):
            name = layer.activation.name
            if name not in ("sigmoid", "tanh", "relu", "identity"):
                raise ValueError(f"network_loss: {layer.where} has activation {name!r}, not supported")
            W, b = params[f"{l}.W"], params[f"{l}.b"]
            z = [sum((W[p][q] * a[p] for p in range(layer.n_in)), b[q]) for q in range(layer.n_out)]
            out = [getattr(zq, name)() for zq in z]
            for q, (zq, oq) in enumerate(zip(z, out)):
                if m == 1:
                    zq.label, oq.label = f"z{l}_{q}", f"a{l}_{q}"
            a = [ap + oq for ap, oq in zip(a, out)] if isinstance(layer, Residual) else out
        total = total + sum(((aj - t) ** 2 for aj, t in zip(a, T[i])), Value(0.0)) * 0.5
    loss = total * (1.0 / m)
    loss.label = "L"
    return loss, params
