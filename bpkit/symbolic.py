"""Derive it yourself, for any shape: backpropagation on explicit SymPy networks.

:class:`SymbolicNetwork` builds a network of any layer sizes with one SymPy
symbol per weight, bias, input and target (never ``MatrixSymbol``, whose
derivatives SymPy gets wrong), writes out the loss as an explicit expression,
and gives every layer's δ = ∂L/∂Z two ways:

* :meth:`SymbolicNetwork.deltas_by_diff` — ``sympy.diff`` of the loss with respect
  to each pre-activation (the graph is cut at Z^(l): everything after it is
  rebuilt from fresh symbols, differentiated, and substituted back);
* :meth:`SymbolicNetwork.deltas_by_recursion` — the book's formulas: the output
  δ (eq-output-delta / eq-output-delta-matched) and the hidden recursion
  (eq-hidden-delta-matrix, with the residual identity path eq-residual-backward).

:meth:`SymbolicNetwork.verify` compares them — exactly (the difference
simplifies to 0) and at random numbers — and raises ``AssertionError`` if any
entry differs.  With ``activation="f"`` the activation is an undefined function
f, so the result holds for every activation at once.

Row convention throughout: sample i is row i; ``W[l]`` is (n_l, n_{l+1}) with
entries ``w^{(l+1)}_{pq}`` (from neuron p to neuron q, 1-based as in the sources).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import _validate

# -- activations as SymPy expressions ---------------------------------------------------

_GENERIC = sp.Function("f")
_GENERIC_PRIME = sp.Function("f'")


def _act(name):
    """(value(z), derivative(z)) as SymPy functions of a scalar expression."""
    if name in ("f", None):
        return _GENERIC, _GENERIC_PRIME
    if name == "sigmoid":
        val = lambda z: 1 / (1 + sp.exp(-z))  # noqa: E731
        return val, (lambda z: val(z) * (1 - val(z)))
    if name == "tanh":
        return sp.tanh, (lambda z: 1 - sp.tanh(z) ** 2)
    if name == "identity":
        return (lambda z: z), (lambda z: sp.Integer(1))
    if name == "relu":
        # the book's convention, as in bpkit: ReLU'(0) = 0, i.e. Heaviside(z, 0). sympy.diff(Max(z, 0), z)
        # returns Heaviside(z) (value 1/2 at the kink); relu_convention() rewrites that to Heaviside(z, 0).
        return (lambda z: sp.Max(z, 0)), (lambda z: sp.Heaviside(z, 0))
    raise ValueError(f"unknown activation {name!r}; valid: 'f' (generic), 'sigmoid', 'tanh', 'identity', 'relu'")


def _partial(F, k, n_args):
    """The undefined function standing for ∂F/∂(argument k): f' for a one-argument f, else ∂_kF."""
    return sp.Function(f"{F.__name__}'" if n_args == 1 else f"∂_{k + 1}{F.__name__}")


def _name_derivatives(expr):
    """Write SymPy's first derivatives of undefined functions as named functions.

    ``sympy.diff`` returns the derivative of f as ``Derivative(f(z), z)`` or, at
    an expression, ``Subs(Derivative(f(ξ), ξ), ξ, expr)``; both become ``f'(expr)``
    (and, for a function G of several arguments, ``∂_kG(args)``), the form the
    book's formulas use, so that the two sides can be compared exactly.
    """
    def is_first_derivative(e):
        return (
            isinstance(e, sp.Derivative)
            and isinstance(e.expr, sp.core.function.AppliedUndef)
            and e.derivative_count == 1
            and e.variables[0] in e.expr.args
        )

    def from_subs(e):
        d = e.expr
        var = d.variables[0]
        k = d.expr.args.index(var)
        args = [a.xreplace(dict(zip(e.variables, e.point))) for a in d.expr.args]
        return _partial(d.expr.func, k, len(args))(*args)

    def from_derivative(d):
        k = d.expr.args.index(d.variables[0])
        return _partial(d.expr.func, k, len(d.expr.args))(*d.expr.args)

    expr = expr.replace(lambda e: isinstance(e, sp.Subs) and is_first_derivative(e.expr), from_subs)
    return relu_convention(expr.replace(is_first_derivative, from_derivative))


def relu_convention(expr):
    """Rewrite every Heaviside step to the book's value 0 at the kink: ``Heaviside(z, 1/2)`` → ``Heaviside(z, 0)``.

    ``sympy.diff(Max(z, 0), z)`` is ``Heaviside(z)``, which is ½ at ``z = 0``; ``bpkit``'s ReLU derivative is 0
    there ({class}`~bpkit.activations.ReLU`). One convention everywhere: ReLU'(0) = 0.
    """
    if not hasattr(expr, "replace"):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.Heaviside) and e.args[1:] != (0,),
                        lambda e: sp.Heaviside(e.args[0], 0))


def symbols_matrix(name, rows, cols, superscript=None):
    """A Matrix of fresh symbols ``name_{ij}`` (1-based), e.g. ``w^{(1)}_{12}``."""
    sup = "" if superscript is None else f"^{{({superscript})}}"
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{sup}_{{{i + 1}{j + 1}}}", real=True))


def symbols_vector(name, n, superscript=None):
    """A row Matrix (1, n) of symbols ``name_{j}``, e.g. the biases ``b^{(1)}_{2}``."""
    sup = "" if superscript is None else f"^{{({superscript})}}"
    return sp.Matrix(1, n, lambda _, j: sp.Symbol(f"{name}{sup}_{{{j + 1}}}", real=True))


def ones(m):
    """The column of ones 1 (m, 1) of the batch form Z = A W + 1 bᵀ."""
    return sp.ones(m, 1)


def hadamard(A, B):
    """Element-wise product A ⊙ B of two SymPy matrices of the same shape."""
    if A.shape != B.shape:
        raise ValueError(f"⊙ needs equal shapes, got {A.shape} and {B.shape}")
    return A.multiply_elementwise(B)


# -- the network -----------------------------------------------------------------------------


#: the largest verify cost accepted (see :func:`_verify_cost`): about 10 s measured on the book's machines
MAX_VERIFY_COST = 400


def _verify_cost(sizes, m):
    """Rough cost of :meth:`SymbolicNetwork.verify` with a concrete activation: the number of paths from
    the first hidden layer to the loss (m · Π n_l for l ≥ 1) times the depth.  Measured (s, 2 shared
    cores): [2,2,2,2,2,2,1] m=1 (cost 192) 2.8 s; [5,5,5,2] m=2 (300) 4.3 s; [3,3,3,3,2] m=2 (432) 11 s;
    [2]*7+[1] m=1 (448) 13 s; [3,3,3,3,3,2] m=1 (810) 19 s; [4,4,4,4,2] m=2 (1024) 27 s;
    [5,5,5,5,2] m=2 (2000) 112 s."""
    return m * int(np.prod(sizes[1:])) * (len(sizes) - 1)


def _check_size(sizes, m, activation):
    if _verify_cost(sizes, m) <= MAX_VERIFY_COST:
        return
    smaller = list(sizes)
    while _verify_cost(smaller, m) > MAX_VERIFY_COST:
        hidden = smaller[1:-1]
        if hidden and max(hidden) > 2:  # narrow the widest hidden layer first
            k = 1 + hidden.index(max(hidden))
            smaller[k] -= 1
        elif len(smaller) > 2:  # then drop a hidden layer
            del smaller[-2]
        else:
            smaller[-1] = max(1, smaller[-1] - 1)
            if smaller[-1] == 1:
                break
    hint = "[" + ",".join(str(n) for n in smaller) + "]"
    raise ValueError(
        f"SymbolicNetwork({sizes}, activation={activation!r}, m={m}) is too large to verify quickly "
        f"(estimated over 10 s; [5, 5, 5, 5, 2] with m=2 took 112 s): use a smaller network, "
        f"e.g. {hint} with m={m}, or pass check_size=False"
    )


class SymbolicNetwork:
    """An explicit symbolic network: ``sizes = [n_0, ..., n_L]``, batch of ``m`` samples.

    Parameters
    ----------
    sizes : list of int
        Layer widths, at least two entries.
    activation : str
        ``"f"`` (an undefined function: the generic case), ``"sigmoid"``,
        ``"tanh"``, ``"identity"`` or ``"relu"``.
    output_activation : str or None
        Defaults to ``activation``; ``loss="bce"`` needs ``"sigmoid"`` and
        ``loss="softmax_ce"`` needs ``"identity"``.
    loss : ``"mse"`` (½ Σ (a − t)², mean over m), ``"bce"`` or ``"softmax_ce"``.
    m : int
        Batch size (rows of X).
    residual : bool
        Hidden layers with equal input and output widths become Y = X + f(XW + b).
    l2 : sympy.Expr or float
        Adds s = λ/2 Σ ‖W‖² to the loss (``l2=sympy.Symbol("lambda")`` keeps λ symbolic).
    check_size : bool
        With a concrete activation, refuse (ValueError, naming a size that works) networks whose
        :meth:`verify` would take more than about 10 s; ``False`` builds them anyway.
    """

    def __init__(self, sizes, activation="f", output_activation=None, loss="mse", m=1, residual=False, l2=0,
                 *, check_size=True):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least two entries, got {sizes}")
        self.sizes = [_validate.width(n, f"sizes[{i}]") for i, n in enumerate(sizes)]
        self.m = _validate.width(m, "m (the batch size)")
        if check_size and activation != "f":
            _check_size(self.sizes, self.m, activation)
        self.activation = activation
        self.output_activation = activation if output_activation is None else output_activation
        self.loss_name = _validate.choice(loss, {"mse": "mse", "bce": "bce", "softmax_ce": "softmax_ce"}, "loss")
        if self.loss_name == "bce" and self.output_activation != "sigmoid":
            raise ValueError("loss='bce' is defined on a sigmoid output: use output_activation='sigmoid'")
        if self.loss_name == "softmax_ce" and self.output_activation != "identity":
            raise ValueError("loss='softmax_ce' takes logits: use output_activation='identity'")
        self.l2 = sp.sympify(l2)
        L = len(self.sizes) - 1
        self.n_layers = L
        self.X = symbols_matrix("x", self.m, self.sizes[0])
        self.T = symbols_matrix("t", self.m, self.sizes[-1])
        if self.loss_name == "softmax_ce":
            # targets are probability vectors: the last entry of each row is 1 − (the others)
            n = self.sizes[-1]
            for i in range(self.m):
                self.T[i, n - 1] = 1 - sum(self.T[i, j] for j in range(n - 1))
        self.W = [symbols_matrix("w", self.sizes[l], self.sizes[l + 1], l + 1) for l in range(L)]
        self.b = [symbols_vector("b", self.sizes[l + 1], l + 1) for l in range(L)]
        self.residual = [
            bool(residual) and l < L - 1 and self.sizes[l] == self.sizes[l + 1] for l in range(L)
        ]
        # fresh symbols standing for each layer's pre-activations, used to cut the graph
        self.Zcut = [symbols_matrix("zeta", self.m, self.sizes[l + 1], l + 1) for l in range(L)]
        Z0 = self.X * self.W[0] + ones(self.m) * self.b[0]
        self.inputs, self.Z, self.A = self._forward_from(0, Z0, self.X)
        self.loss = self._loss_of(self.A[-1], self.Z[-1]) + self._penalty()

    # -- building blocks -----------------------------------------------------------------
    def _act_name(self, l):
        return self.output_activation if l == self.n_layers - 1 else self.activation

    def f(self, l):
        """Layer l's activation as a function of a scalar SymPy expression (0-based l)."""
        return _act(self._act_name(l))[0]

    def fprime(self, l):
        """Layer l's activation derivative f'(z) as a SymPy function."""
        return _act(self._act_name(l))[1]

    def _layer_output(self, l, A_in, Z):
        out = Z.applyfunc(self.f(l))
        return A_in + out if self.residual[l] else out

    def _loss_of(self, A, Z):
        m = self.m
        if self.loss_name == "mse":
            return sum((A[i, j] - self.T[i, j]) ** 2 for i in range(m) for j in range(A.cols)) / (2 * m)
        if self.loss_name == "bce":
            return -sum(
                self.T[i, j] * sp.log(A[i, j]) + (1 - self.T[i, j]) * sp.log(1 - A[i, j])
                for i in range(m) for j in range(A.cols)
            ) / m
        total = 0
        for i in range(m):
            log_norm = sp.log(sum(sp.exp(Z[i, k]) for k in range(Z.cols)))
            total += sum(self.T[i, j] * (Z[i, j] - log_norm) for j in range(Z.cols))
        return -total / m

    def _penalty(self):
        if self.l2 == 0:
            return 0
        return self.l2 / 2 * sum(w ** 2 for W in self.W for w in W)

    def parameters(self):
        """Every weight and bias symbol, in the order ``0.W, 0.b, 1.W, ...``."""
        out = []
        for W, b in zip(self.W, self.b):
            out.extend(W)
            out.extend(b)
        return out

    def parameter_matrices(self):
        """``{"0.W": W_1, "0.b": b_1, ...}`` named as in :meth:`bpkit.Sequential.parameters`."""
        out = {}
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            out[f"{l}.W"] = W
            out[f"{l}.b"] = b
        return out

    # -- the loss as a function of one layer's pre-activations --------------------------
    def _forward_from(self, l, Z_l, X_l):
        """(inputs, Z, A) of layers l..L-1 when layer l has input X_l and pre-activation Z_l."""
        inputs, Zs, As = [X_l], [Z_l], [self._layer_output(l, X_l, Z_l)]
        for k in range(l + 1, self.n_layers):
            inputs.append(As[-1])
            Zs.append(As[-1] * self.W[k] + ones(self.m) * self.b[k])
            As.append(self._layer_output(k, inputs[-1], Zs[-1]))
        return inputs, Zs, As

    def _cut_input(self, l):
        """What layer l's output needs besides Z^(l): its input, for a residual block (as fresh symbols)."""
        if self.residual[l]:
            return symbols_matrix("chi", self.m, self.sizes[l], l + 1)
        return self.inputs[l]

    def loss_after(self, l, X_l=None):
        """The loss with Z^(l) replaced by the symbols ``zeta^{(l)}_{iq}`` (the graph cut at layer l)."""
        X_l = self.inputs[l] if X_l is None else X_l
        _, Zs, As = self._forward_from(l, self.Zcut[l], X_l)
        return self._loss_of(As[-1], Zs[-1]) + self._penalty()

    def _back_substitute(self, l, expr):
        return expr.xreplace({self.Zcut[l][i, j]: self.Z[l][i, j] for i in range(self.m) for j in range(self.Zcut[l].cols)})

    def deltas_by_diff(self):
        """δ^(l) = ∂L/∂Z^(l) for every layer, by ``sympy.diff`` of the loss (one (m, n_l) Matrix each)."""
        out = []
        for l in range(self.n_layers):
            Lcut = self.loss_after(l)
            D = self.Zcut[l].applyfunc(lambda z: _name_derivatives(sp.diff(Lcut, z)))
            out.append(self._back_substitute(l, D))
        return out

    # -- the book's formulas ---------------------------------------------------------------
    def output_delta(self, A=None, Z=None):
        """The output δ by the book's formula: (A − T) ⊙ f'(Z)/m for MSE, (A − T)/m for the matched pairs."""
        A = self.A[-1] if A is None else A
        Z = self.Z[-1] if Z is None else Z
        T, m = self.T, self.m
        if self.loss_name == "mse":
            return hadamard(A - T, Z.applyfunc(self.fprime(self.n_layers - 1))) / m
        if self.loss_name == "bce":
            return (A - T) / m
        soft = sp.Matrix(m, Z.cols, lambda i, j: sp.exp(Z[i, j]) / sum(sp.exp(Z[i, k]) for k in range(Z.cols)))
        return (soft - T) / m

    def deltas_by_recursion(self):
        """Every δ^(l) from the output δ and the hidden recursion δ^(l) = (δ^(l+1) W^(l+1)ᵀ) ⊙ f'(Z^(l)).

        For a residual layer l+1 the gradient reaching layer l's output also has the
        identity path: ∂L/∂A^(l) = ∂L/∂A^(l+1) + δ^(l+1) W^(l+1)ᵀ (eq-residual-backward).
        """
        return self._recursion(0, self.Z, self.A)

    def _recursion(self, start, Zs, As):
        """δ of layers start..L-1 given their Z and A (lists indexed from ``start``)."""
        L = self.n_layers
        deltas = [None] * (L - start)
        deltas[-1] = self.output_delta(As[-1], Zs[-1])
        dA_next = None  # ∂L/∂(output of layer l+1), needed when that layer is residual
        if self.residual[L - 1]:
            dA_next = (As[-1] - self.T) / self.m  # MSE on a residual output
        for l in range(L - 2, start - 1, -1):
            deltas[l - start], dA_next = self.step(l, deltas[l + 1 - start], dA_next, Zs[l - start])
        return deltas

    def step(self, l, delta_next, dA_next, Z_l):
        """One step of the recursion: (δ^(l), ∂L/∂A^(l)) from layer l+1's δ (and ∂L/∂A^(l+1)).

        ∂L/∂A^(l) = δ^(l+1) W^(l+1)ᵀ (eq-batch-dA), plus ∂L/∂A^(l+1) when layer
        l+1 is a residual block (eq-residual-backward); then
        δ^(l) = ∂L/∂A^(l) ⊙ f'(Z^(l)) (eq-delta-from-output-grad).
        """
        dA = delta_next * self.W[l + 1].T
        if self.residual[l + 1]:
            dA = dA + dA_next
        return hadamard(dA, Z_l.applyfunc(self.fprime(l))), dA

    def grads_by_diff(self):
        """``{"0.W": Matrix, "0.b": Matrix, ...}``: ∂L/∂θ for every parameter by ``sympy.diff``."""
        return {name: P.applyfunc(lambda s: _name_derivatives(sp.diff(self.loss, s))) for name, P in self.parameter_matrices().items()}

    def grads_by_backprop(self):
        """The same gradients by the batch formulas ∂L/∂W = Aᵀ δ (+ λW) and ∂L/∂b = 1ᵀ δ."""
        deltas = self.deltas_by_recursion()
        out = {}
        for l, d in enumerate(deltas):
            out[f"{l}.W"] = self.inputs[l].T * d + self.l2 * self.W[l]
            out[f"{l}.b"] = ones(self.m).T * d
        return out

    # -- numbers ----------------------------------------------------------------------------
    def free_symbols(self):
        """Every input, target, parameter (and λ) symbol."""
        return set(self.X) | self.T.free_symbols | set(self.parameters()) | self.l2.free_symbols

    def random_point(self, seed=0):
        """Random values for every input, target and parameter (targets valid for the loss)."""
        rng = np.random.default_rng(seed)
        point = {s: float(rng.normal(0, 1)) for s in list(self.X) + self.parameters()}
        if self.loss_name == "mse":
            point.update({s: float(rng.normal(0, 1)) for s in self.T})
        elif self.loss_name == "bce":
            point.update({s: float(rng.uniform(0, 1)) for s in self.T})
        else:  # the last column is 1 − (the others) already
            rows = rng.dirichlet(np.ones(self.T.cols), size=self.m)
            point.update({self.T[i, j]: float(rows[i, j]) for i in range(self.m) for j in range(self.T.cols - 1)})
        if isinstance(self.l2, sp.Symbol):
            point[self.l2] = float(rng.uniform(0.1, 1))
        return point

    def numeric(self, expr, point):
        """Evaluate an expression or Matrix at a point (dict symbol → number) as float / ndarray."""
        if self.activation in ("f", None) or self.output_activation in ("f", None):
            raise ValueError("a generic activation f has no numbers; build the network with e.g. activation='sigmoid'")
        # one evaluation: substituting and evalf is far cheaper than compiling with lambdify
        values = {s: sp.Float(v, 17) for s, v in point.items()}
        if isinstance(expr, sp.MatrixBase):
            return np.array(expr.xreplace(values).evalf(), dtype=np.float64)
        return float(sp.sympify(expr).xreplace(values).evalf())

    def to_bpkit(self, point, dtype=np.float64):
        """A :class:`~bpkit.network.Sequential` with the parameters of ``point``, plus its (X, T) as arrays."""
        from .layers import Dense, Residual
        from .network import Sequential

        if self._act_name(0) in ("f", None):
            raise ValueError("a generic activation f has no bpkit counterpart; use e.g. activation='sigmoid'")
        layers = []
        for l in range(self.n_layers):
            act = self._act_name(l)
            layer = Residual(self.sizes[l], act, dtype=dtype) if self.residual[l] else Dense(self.sizes[l], self.sizes[l + 1], act, dtype=dtype)
            layer.W[...] = np.array(self.W[l].xreplace(point), dtype=np.float64)
            layer.b[...] = np.array(self.b[l].xreplace(point), dtype=np.float64).reshape(-1)
            layers.append(layer)
        X = np.array(self.X.xreplace(point), dtype=np.float64)
        T = np.array(self.T.xreplace(point), dtype=np.float64)
        return Sequential(layers), X, T

    # -- verification -------------------------------------------------------------------
    def check_output_delta(self):
        """Exact: the output formula equals ``sympy.diff`` of the loss w.r.t. the output pre-activations."""
        l = self.n_layers - 1
        _, Zs, As = self._forward_from(l, self.Zcut[l], self._cut_input(l))
        Lcut = self._loss_of(As[-1], Zs[-1])
        by_diff = self.Zcut[l].applyfunc(lambda z: _name_derivatives(sp.diff(Lcut, z)))
        assert_same(self.output_delta(As[-1], Zs[-1]), by_diff, "output δ", quiet=True)

    def check_step(self, l):
        """Exact, for any network after layer l+1: one step of the recursion equals ``sympy.diff``.

        The loss depends on Z^(l) only through layer l+1, so it is written as an
        undefined function G of layer l+1's pre-activations (or, for a residual
        block, of its outputs).  ``sympy.diff`` of G w.r.t. Z^(l) must equal
        :meth:`step` applied to G's partial derivatives.  By induction from the
        output layer this proves every δ of the network.
        """
        m, k = self.m, l + 1
        zeta = self.Zcut[l]
        A_l = self._layer_output(l, self._cut_input(l), zeta)
        Z_k = A_l * self.W[k] + ones(m) * self.b[k]
        G = sp.Function("G")
        seen = (A_l + Z_k.applyfunc(self.f(k))) if self.residual[k] else Z_k
        args = list(seen)
        L = G(*args)
        dG = sp.Matrix(m, seen.cols, lambda i, j: _partial(G, i * seen.cols + j, len(args))(*args))
        if self.residual[k]:
            delta_k, dA_next = hadamard(dG, Z_k.applyfunc(self.fprime(k))), dG
        else:
            delta_k, dA_next = dG, None
        by_rec, _ = self.step(l, delta_k, dA_next, zeta)
        by_diff = zeta.applyfunc(lambda z: _name_derivatives(sp.diff(L, z)))
        assert_same(by_rec, by_diff, f"step {k + 1} → {l + 1}", quiet=True)

    def verify(self, exact=True, n_points=3, tol=1e-9, quiet=False):
        """Check every layer's δ from the recursion against ``sympy.diff``; raise AssertionError if one differs.

        * exact: the output δ (:meth:`check_output_delta`) and each step of the
          recursion (:meth:`check_step`) simplify to ``sympy.diff`` — together an
          induction that proves the recursion for this architecture;
        * numbers (concrete activations): for each layer the graph is cut at
          Z^(l) (fresh symbols ζ; as ζ is arbitrary, random ζ are valid), and the
          recursion's δ^(l) and ``sympy.diff`` of the whole remaining loss agree
          at ``n_points`` random points.

        Returns the report lines (and prints them unless ``quiet``).
        """
        report = []
        L = self.n_layers
        if exact:
            self.check_output_delta()
            report.append(f"✓ δ^({L}) = output formula equals ∂L/∂Z^({L}) by sympy.diff (exact)")
            for l in range(L - 2, -1, -1):
                self.check_step(l)
                report.append(f"✓ δ^({l + 1}) = recursion from δ^({l + 2}) equals ∂L/∂Z^({l + 1}) by sympy.diff (exact)")
        if self._act_name(0) not in ("f", None) and self.output_activation not in ("f", None) and n_points:
            rng = np.random.default_rng(12345)
            for l in range(L):
                X_l = self._cut_input(l)
                _, Zs, As = self._forward_from(l, self.Zcut[l], X_l)
                Lcut = self._loss_of(As[-1], Zs[-1])
                by_diff = self.Zcut[l].applyfunc(lambda z: relu_convention(sp.diff(Lcut, z)))
                by_rec = self._recursion(l, Zs, As)[0]
                syms = sorted((by_diff.free_symbols | by_rec.free_symbols), key=str)
                f_diff = sp.lambdify(syms, by_diff, modules="numpy", cse=True)
                f_rec = sp.lambdify(syms, by_rec, modules="numpy", cse=True)
                for _ in range(n_points):
                    base = self.random_point(int(rng.integers(2**31)))
                    vals = [base.get(s, float(rng.normal())) for s in syms]
                    a = np.asarray(f_rec(*vals), dtype=float)
                    b = np.asarray(f_diff(*vals), dtype=float)
                    if not np.allclose(a, b, rtol=tol, atol=tol):
                        raise AssertionError(
                            f"δ^({l + 1}): the recursion and sympy.diff differ at a random point:\n{a}\nvs\n{b}"
                        )
            report.append(f"✓ every δ^(l) equals sympy.diff of the loss at {n_points} random points")
        if not quiet:
            print(f"{self.describe()}:")
            print("\n".join("  " + line for line in report))
        return report

    def describe(self):
        arch = "-".join(map(str, self.sizes))
        res = ", residual" if any(self.residual) else ""
        return f"{arch} network, {self.activation} activation, {self.loss_name} loss, batch m={self.m}{res}"


# -- comparing expressions -----------------------------------------------------------------


def _atoms_as_symbols(expr):
    """Replace every exp/log/tanh/f/f' application by a fresh symbol, innermost first.

    Both sides of a backpropagation identity are built by the chain rule from
    the same atoms (σ(z) = 1/(1 + e^(−z)), log a, f(z), ...), so once each atom
    is a symbol the identity is one between rational functions, which
    ``sympy.cancel`` decides exactly and quickly.
    """
    table = {}

    def name(e):
        if e.func == sp.exp and e.args[0].could_extract_minus_sign():
            return 1 / name(sp.exp(-e.args[0]))  # exp(−x) and exp(x) are one atom: E and 1/E
        if e not in table:
            table[e] = sp.Dummy(f"{e.func.__name__}")
        return table[e]

    kinds = (sp.exp, sp.log, sp.tanh, sp.Heaviside, sp.Max)
    return expr.replace(
        lambda e: isinstance(e, kinds) or (isinstance(e, sp.core.function.AppliedUndef)),
        name,
    )


def _concretize(expr, rng):
    """Replace the undefined functions f, G and their named derivatives f', ∂_kG by concrete functions.

    Each generic function becomes a random smooth function φ of its arguments and each named
    derivative the true derivative of that φ, so that an identity claimed for EVERY f can be refuted
    by numbers.  Returns None if the expression has derivatives that are not named.
    """
    if expr.atoms(sp.Subs, sp.Derivative):
        return None
    atoms = expr.atoms(sp.core.function.AppliedUndef)
    if not atoms:
        return expr
    concrete, mapping = {}, {}
    for atom in atoms:
        name = atom.func.__name__
        if name.endswith("'"):
            base, k = name[:-1], 0
        elif name.startswith("∂_"):
            digits = "".join(ch for ch in name[2:] if ch.isdigit())
            base, k = name[2 + len(digits):], int(digits) - 1
        else:
            base, k = name, None
        n = len(atom.args)
        if (base, n) not in concrete:
            us = sp.symbols(f"u0:{n}", real=True)
            c = [sp.Float(float(v), 20) for v in rng.uniform(-1, 1, 2 * n + 1)]
            phi = sp.sin(sum(c[i] * us[i] for i in range(n)) + c[-1]) + sum(c[n + i] * us[i] ** 2 for i in range(n))
            concrete[(base, n)] = (us, phi)
        us, phi = concrete[(base, n)]
        fn = phi if k is None else sp.diff(phi, us[k])
        mapping[atom] = fn.xreplace(dict(zip(us, atom.args)))
    return expr.xreplace(mapping)


def _values_at_random_points(expr, n_points=2):
    """The value of ``expr`` (generic functions made concrete) at random points, 30 digits; None if unavailable."""
    rng = np.random.default_rng(2024)
    values = []
    for _ in range(n_points):
        concrete = _concretize(expr, rng)
        if concrete is None:
            return None
        point = {s: sp.Float(float(rng.uniform(0.1, 0.9)), 30) for s in concrete.free_symbols}
        try:
            values.append(complex(concrete.xreplace(point).evalf(30)))
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        if not np.isfinite(values[-1]):
            return None
    return values


def zero_by(expr):
    """How ``expr`` was shown to be identically zero: ``"exact"``, ``"numeric"``, or None if it is not zero.

    * ``"exact"`` — it is 0 as written, or once the exp/log/tanh/f atoms become symbols ``cancel``
      reduces the rational function to 0 (or, for a small expression, ``simplify`` does);
    * None — a random point refutes it (generic functions f, G are replaced by concrete random
      functions and their true derivatives, so "for every f" claims are refuted too);
    * ``"numeric"`` — nothing refutes it, it is below 1e-20 at two random points computed to 30
      digits, but no symbolic proof was found quickly.
    """
    expr = sp.sympify(expr)
    if expr == 0:
        return "exact"
    if sp.cancel(sp.together(_atoms_as_symbols(expr))) == 0:
        return "exact"
    values = _values_at_random_points(expr)
    if values is not None and any(abs(v) > 1e-20 for v in values):
        return None
    if sp.count_ops(expr) < 400 and sp.simplify(expr) == 0:
        return "exact"
    return "numeric" if values is not None else None


def is_zero(expr) -> bool:
    """True if ``expr`` (an expression or Matrix) is identically zero; see :func:`zero_by`."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    return zero_by(expr) is not None


def assert_same(lhs, rhs, claim, quiet=False):
    """Raise AssertionError unless ``lhs − rhs`` is identically 0 (entry by entry for matrices).

    Prints ``✓ claim`` on success, so that a chapter shows its reader what was checked (and says
    so when the proof is numeric: 30 digits at random points, no symbolic proof found quickly);
    returns nothing, so no stray ``True`` appears under a notebook cell.
    """
    methods = set()
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        lhs, rhs = sp.Matrix(lhs), sp.Matrix(rhs)
        if lhs.shape != rhs.shape:
            raise AssertionError(f"✗ {claim}: shapes differ, {lhs.shape} vs {rhs.shape}")
        for idx in range(len(lhs)):
            how = zero_by(lhs[idx] - rhs[idx])
            if how is None:
                i, j = divmod(idx, lhs.cols)
                raise AssertionError(f"✗ {claim}: entry ({i + 1}, {j + 1}) differs; the difference is "
                                     f"{_short(lhs[idx] - rhs[idx])}")
            methods.add(how)
    else:
        difference = sp.sympify(lhs) - sp.sympify(rhs)
        how = zero_by(difference)
        if how is None:
            raise AssertionError(f"✗ {claim}: the difference is {_short(difference)}")
        methods.add(how)
    if not quiet:
        note = "" if methods == {"exact"} else " (numerically: below 1e-20 at random points, 30 digits)"
        print(f"✓ {claim}{note}")


def _short(expr, limit=600):
    """A printable form of a (possibly huge) difference."""
    text = str(sp.factor_terms(expr)) if sp.count_ops(expr) < 200 else str(expr)
    return text if len(text) <= limit else text[:limit] + " …"


def assert_close(lhs, rhs, claim, rtol=1e-7, atol=1e-9, quiet=False):
    """Raise AssertionError unless two numeric arrays agree; print ``✓ claim (max difference ...)``."""
    a = np.asarray(lhs, dtype=np.float64)
    b = np.asarray(rhs, dtype=np.float64)
    if a.shape != b.shape:
        raise AssertionError(f"✗ {claim}: shapes differ, {a.shape} vs {b.shape}")
    if not np.allclose(a, b, rtol=rtol, atol=atol):
        raise AssertionError(f"✗ {claim}: max difference {np.abs(a - b).max():.3g}\n{a}\nvs\n{b}")
    if not quiet:
        diff = float(np.abs(a - b).max()) if a.size else 0.0
        print(f"✓ {claim} (max difference {diff:.1e})")
