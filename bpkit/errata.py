"""Every formula of the five sources, checked exactly as written.

Each entry of ``CATALOG`` records one formula of one source: where it is,
the formula as written (LaTeX, in the source's own notation), a verdict, and a
``check`` that computes the evidence — a symbolic comparison with
``sympy.diff``, numbers at a seeded random point, or the shape error the
formula runs into.  Verdicts:

* ``"correct"`` — the formula holds as written;
* ``"wrong"`` — it does not; the evidence is a counterexample;
* ``"slip"`` — a notation slip or inconsistency: the literal text is off (a
  missing index, a typo, one letter for two things) but the meaning the
  derivation uses is right; the evidence shows both.

:func:`check` runs an entry and raises ``AssertionError`` if its verdict no
longer holds, so a book page that calls :func:`show` fails its build when an
erratum is wrongly classified.  Imports SymPy (load it as ``bpkit.errata``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from .symbolic import SymbolicNetwork, is_zero, symbols_matrix

SOURCES = {
    "src-scalar": "Per-neuron source (反向传播公式推导)",
    "src-guide": "Guide (反向传播算法指南)",
    "src-foursteps": "Four-steps source (Background propagation formula derivation)",
    "src-batch": "Batch-matrix source (传播)",
    "src-d2l-excerpt": "d2l excerpt (一文弄懂神经网络中的反向传播法)",
}
VERDICTS = {"correct": "✓ correct", "wrong": "✗ wrong", "slip": "⚠ notation slip"}


@dataclass
class Evidence:
    """What a check computed: does the formula hold as written, and the lines that show it."""

    holds: bool
    lines: list = field(default_factory=list)


@dataclass
class Formula:
    id: str
    source: str
    where: str
    written: str
    verdict: str
    problem: str
    correction: str
    chapter: str
    run: Callable[[], Evidence]


CATALOG: dict[str, Formula] = {}


def formula(id, source, where, written, verdict, problem="", correction="", chapter=""):
    """Register the decorated function as the check of one source formula."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {sorted(VERDICTS)}")
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")

    def register(fn):
        if id in CATALOG:
            raise ValueError(f"duplicate erratum id {id}")
        CATALOG[id] = Formula(id, source, where, written, verdict, problem, correction, chapter, fn)
        return fn

    return register


# -- helpers ------------------------------------------------------------------------------

def _sigma(z):
    return 1 / (1 + sp.exp(-z))


def _point(symbols, seed=0, low=-1.5, high=1.5):
    rng = np.random.default_rng(seed)
    return {s: sp.Float(float(rng.uniform(low, high)), 15) for s in sorted(symbols, key=str)}


def _num(expr, point):
    value = sp.sympify(expr).xreplace(point).evalf()
    return float(value)


def _fmt(x):
    return f"{x:.4g}"


def _compare(written, truth, point, what):
    """Evidence from a scalar formula as written vs the truth (an expression), at ``point``."""
    a, b = _num(written, point), _num(truth, point)
    holds = is_zero(sp.sympify(written) - sp.sympify(truth))
    if holds:
        return Evidence(True, [f"{what}: the formula as written and `sympy.diff` agree exactly "
                               f"(e.g. both {_fmt(a)} at a random point)"])
    return Evidence(False, [f"{what} at a random point: as written {_fmt(a)}, by `sympy.diff` {_fmt(b)}"])


def _shape_error(thunk, what):
    try:
        thunk()
    except sp.ShapeError as err:
        return Evidence(False, [f"{what}: SymPy refuses the product — `ShapeError: {err}`"])
    return Evidence(True, [f"{what}: the shapes fit"])


def _exact(claim_lhs, claim_rhs, what):
    """Evidence that an identity holds exactly (matrices or scalars)."""
    L, R = sp.Matrix(claim_lhs) if isinstance(claim_lhs, sp.MatrixBase) else claim_lhs, claim_rhs
    diff = (L - R) if not isinstance(L, sp.MatrixBase) else (L - sp.Matrix(R))
    holds = is_zero(diff)
    return Evidence(holds, [f"{what}: " + ("holds exactly (the difference simplifies to 0)" if holds
                                          else "does not hold; the difference is not 0")])


def _out_layer(n_in=3, n_out=1):
    """An MSE + sigmoid output layer for one sample: inputs o_u, weights w_{u v}, targets t_v."""
    o = sp.Matrix(1, n_in, sp.symbols(f"o_1:{n_in + 1}", real=True))
    W = symbols_matrix("w", n_in, n_out)
    b = sp.Matrix(1, n_out, sp.symbols(f"b_1:{n_out + 1}", real=True))
    t = sp.Matrix(1, n_out, sp.symbols(f"t_1:{n_out + 1}", real=True))
    z = o * W + b
    a = z.applyfunc(_sigma)
    return o, W, b, t, z, a


# == Source 000: per-neuron (src-scalar) ========================================================

@formula("scalar-forward-no-bias", "src-scalar", "前向传播 (forward pass)",
         r"z_q = \sum_p w_{pq}\, o_p", "slip",
         "The forward pass has no bias, yet the output-layer derivation differentiates "
         r"$w_{u_1v}o_{u_1}+\dots+w_{u_nv}o_{u_n}+b_v$, which has one.",
         r"z_q = \sum_p w_{pq}\, o_p + b_q", "ch-notation")
def _():
    o1, o2, w1, w2, b = sp.symbols("o_1 o_2 w_1q w_2q b_q", real=True)
    written, later = w1 * o1 + w2 * o2, w1 * o1 + w2 * o2 + b
    ev = Evidence(sp.diff(written, w1) == sp.diff(later, w1))
    ev.lines = [f"∂z/∂b is {sp.diff(written, b)} for the formula as written but {sp.diff(later, b)} for the "
                f"expression the derivation uses — the two disagree about the bias",
                f"∂z/∂w_1q = {sp.diff(later, w1)} either way, so the weight gradients it derives are unaffected"]
    return ev


@formula("scalar-mse", "src-scalar", "前向传播 (forward pass)",
         r"L=\frac{1}{2}(t_v-o_v)^2", "correct", chapter="ch-output-delta")
def _():
    t, o = sp.symbols("t_v o_v", real=True)
    from .losses import mse_loss
    val = mse_loss(np.array([[0.3]]), np.array([[1.0]]))
    return Evidence(abs(val - 0.5 * 0.7 ** 2) < 1e-15,
                    [f"one sample, one output: bpkit's mean squared error gives {_fmt(val)} = ½·(1 − 0.3)² "
                     f"for o = 0.3, t = 1; ∂L/∂o_v = {sp.diff((t - o) ** 2 / 2, o)}"])


@formula("scalar-output-chain", "src-scalar", "输出层梯度计算 (output layer)",
         r"\frac{\partial L}{\partial w_{u_t v}}=\frac{\partial L}{\partial o_v}\cdot \frac{\partial o_v}{\partial z_v}"
         r"\cdot \frac{\partial z_v}{\partial w_{u_tv}}", "correct", chapter="ch-output-delta")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    zs, os_ = sp.symbols("z_v o_v", real=True)
    chain = (sp.diff((t[0] - os_) ** 2 / 2, os_) * sp.diff(_sigma(zs), zs) * sp.diff(z[0], W[1, 0])).xreplace(
        {os_: a[0]}).xreplace({zs: z[0]})
    return _exact(chain, sp.diff(L, W[1, 0]), "the product of the three factors vs sympy.diff(L, w_{u_2 v})")


@formula("scalar-dL-do", "src-scalar", "输出层梯度计算 (output layer)",
         r"\frac{\partial L}{\partial o_v}=-(t_v-o_v)", "correct", chapter="ch-output-delta")
def _():
    t, o = sp.symbols("t_v o_v", real=True)
    return _exact(-(t - o), sp.diff((t - o) ** 2 / 2, o), "−(t_v − o_v) vs sympy.diff(½(t_v − o_v)², o_v)")


@formula("scalar-do-dz", "src-scalar", "输出层梯度计算 (output layer)",
         r"\frac{\partial o_v}{\partial z_v}=o_v(1-o_v)", "correct", chapter="ch-output-delta")
def _():
    z = sp.Symbol("z_v", real=True)
    return _exact(_sigma(z) * (1 - _sigma(z)), sp.diff(_sigma(z), z), "o_v(1 − o_v) vs sympy.diff(σ(z_v), z_v)")


@formula("scalar-dz-dw", "src-scalar", "输出层梯度计算 (output layer)",
         r"\frac{\partial z_v}{\partial w_{u_t v}}=\frac{\partial (w_{u_1v}o_{u_1}+\dots+w_{u_t v}o_{u_t}+\dots"
         r"+w_{u_n v}o_{u_n}+b_v)}{\partial w_{u_t}}=o_{u_t}", "slip",
         r"The denominator is written $\partial w_{u_t}$ — the index $v$ is missing.",
         r"\frac{\partial z_v}{\partial w_{u_t v}} = o_{u_t}", "ch-output-delta")
def _():
    o, W, b, t, z, a = _out_layer()
    ev = _exact(sp.diff(z[0], W[1, 0]), o[1], "∂z_v/∂w_{u_2 v} = o_{u_2}")
    ev.lines.append("the value o_{u_t} is right; only the index of the denominator is incomplete")
    return ev


@formula("scalar-output-grad", "src-scalar", "输出层梯度计算 (output layer)",
         r"\frac{\partial L}{\partial w_{u_t v}}=-(t_v-o_v)\cdot o_v(1-o_v)\cdot o_{u_t}", "correct",
         chapter="ch-output-delta")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    written = -(t[0] - a[0]) * a[0] * (1 - a[0]) * o[2]
    return _compare(written, sp.diff(L, W[2, 0]), _point(L.free_symbols, 1), "∂L/∂w_{u_3 v}")


@formula("scalar-delta-sign", "src-scalar", "输出层梯度计算 (output layer)",
         r"\delta_v = \frac{\partial L}{\partial o_v}\cdot \frac{\partial o_v}{\partial z_v}"
         r"=\frac{\partial L}{\partial z_v}=(t_v-o_v)\cdot o_v(1-o_v)", "wrong",
         r"The sign is flipped: $\partial L/\partial o_v = -(t_v - o_v)$ (the source's own previous line), so "
         r"$\partial L/\partial z_v = -(t_v-o_v)\,o_v(1-o_v)$. The written $\delta_v$ is $-\partial L/\partial z_v$.",
         r"\delta_v = \frac{\partial L}{\partial z_v} = (o_v - t_v)\, o_v(1-o_v)", "ch-output-delta")
def _():
    zv, tv = sp.symbols("z_v t_v", real=True)
    ov = _sigma(zv)
    L = (tv - ov) ** 2 / 2
    written = (tv - ov) * ov * (1 - ov)
    point = {zv: sp.Float(0.8), tv: sp.Float(0.1)}
    ev = _compare(written, sp.diff(L, zv), point, "δ_v for z_v = 0.8, t_v = 0.1 (output too large)")
    ev.lines.append("the written δ_v is negative although raising z_v raises the loss here: it is −∂L/∂z_v")
    return ev


@formula("scalar-dL-dw-delta", "src-scalar", "输出层梯度计算 (output layer)",
         r"\frac{\partial L}{\partial w_{u_t v}}=-\delta_v\, o_{u_t}", "slip",
         r"Right for the source's own (sign-flipped) $\delta_v=(t_v-o_v)o_v(1-o_v)$, but it contradicts the claim "
         r"$\delta_v = \partial L/\partial z_v$ made in the same sentence: with $\delta_v=\partial L/\partial z_v$ "
         r"the rule is $+\delta_v o_{u_t}$.",
         r"\frac{\partial L}{\partial w_{u_t v}} = \delta_v\, o_{u_t},\quad \delta_v = \frac{\partial L}{\partial z_v}",
         "ch-output-delta")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    delta_source = (t[0] - a[0]) * a[0] * (1 - a[0])
    ev = _exact(-delta_source * o[0], sp.diff(L, W[0, 0]), "−δ_v o_{u_1} with the source's δ_v vs sympy.diff")
    true_delta = sp.diff((t[0] - _sigma(sp.Symbol("z"))) ** 2 / 2, sp.Symbol("z")).xreplace({sp.Symbol("z"): z[0]})
    wrong = is_zero(-true_delta * o[0] - sp.diff(L, W[0, 0]))
    ev.lines.append("with δ_v = ∂L/∂z_v (as claimed) −δ_v o_{u_1} would be " + ("right" if wrong else "the NEGATIVE gradient"))
    return ev


@formula("scalar-gradient-vector", "src-scalar", "输出层梯度计算 (output layer)",
         r"\nabla L=(\frac{\partial L}{\partial w_{u_1}v},\dots, \frac{\partial L}{\partial w_{u_t}v},\dots, "
         r"\frac{\partial L}{\partial w_{u_n}v})", "slip",
         r"The $v$ has slipped out of the subscripts, and the vector lists only the weights into $v$: the "
         r"gradient of $L$ has one entry per weight and bias of the network.",
         r"\nabla L = \Big(\frac{\partial L}{\partial w_{pq}}, \frac{\partial L}{\partial b_q}\Big)_{\text{all } p, q}",
         "ch-output-delta")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    n = len(W) + len(b)
    same = is_zero(sp.diff(L, b[0]) - sp.diff(L, W[0, 0]) / o[0])
    return Evidence(True, [f"for this single output neuron with 3 inputs, ∇L has {n} entries "
                           f"(3 weights and the bias); the written vector lists only the 3 weights",
                           "the missing entry ∂L/∂b_v " + ("equals δ_v, the weight rule with o = 1" if same else "is not δ_v")])


def _scalar_two_layer():
    """2-2-2 sigmoid network, one sample, MSE summed over the two outputs (the per-neuron source's setting)."""
    net = SymbolicNetwork([2, 2, 2], "sigmoid", loss="mse", m=1)
    return net


@formula("scalar-hidden-dw", "src-scalar", "隐藏层梯度计算 (hidden layer)",
         r"\frac{\partial L}{\partial w_{p_tq}}=\frac{\partial L}{\partial z_q}\cdot \frac{\partial z_q}{\partial w_{p_tq}},"
         r"\qquad \frac{\partial z_q}{\partial w_{p_tq}}=o_{p_t}", "correct", chapter="ch-hidden-delta")
def _():
    net = _scalar_two_layer()
    D = net.deltas_by_diff()[0]
    grad = sp.diff(net.loss, net.W[0][1, 0])
    return _exact(D[0, 0] * net.X[0, 1], grad, "∂L/∂z_1 · o_2 vs sympy.diff(L, w_21) in a 2-2-2 network")


@formula("scalar-hidden-chain", "src-scalar", "隐藏层梯度计算 (hidden layer)",
         r"\frac{\partial L}{\partial z_q}=\sum_k \frac{\partial L}{\partial o_k}\cdot \frac{\partial o_k}{\partial z_q},"
         r"\qquad \frac{\partial o_k}{\partial z_q}=f'(z_k)\cdot w_{qk}\cdot f'(z_q)", "correct",
         chapter="ch-chain-rule")
def _():
    net = _scalar_two_layer()
    z1 = net.Zcut[0][0, 0]
    Lcut = net.loss_after(0)
    zk = [sp.Symbol(f"zk{k}") for k in range(2)]
    ok = [sp.Symbol(f"ok{k}") for k in range(2)]
    Lout = sum((ok[k] - net.T[0, k]) ** 2 for k in range(2)) / 2
    A1 = net.Zcut[0].applyfunc(_sigma)
    Z2 = A1 * net.W[1] + net.b[1]
    total = 0
    for k in range(2):
        dL_dok = sp.diff(Lout, ok[k]).xreplace({ok[j]: _sigma(Z2[0, j]) for j in range(2)})
        dok_dzq = sp.diff(_sigma(zk[k]), zk[k]).xreplace({zk[k]: Z2[0, k]}) * net.W[1][0, k] * sp.diff(_sigma(z1), z1)
        total += dL_dok * dok_dzq
    return _exact(total, sp.diff(Lcut, z1), "Σ_k ∂L/∂o_k · f'(z_k) w_1k f'(z_1) vs sympy.diff(L, z_1), 2-2-2 network")


@formula("scalar-dzk-dzq", "src-scalar", "隐藏层梯度计算 (hidden layer)",
         r"\frac{\partial z_k}{\partial z_q}=\frac{\partial z_k}{\partial o_q}\cdot \frac{\partial o_q}{\partial z_q}"
         r"=w_{qk}\cdot f'(z_q)", "correct", chapter="ch-hidden-delta")
def _():
    zq, zo, w, b = sp.symbols("z_q z_o w_qk b_k", real=True)
    zk = w * _sigma(zq) + sp.Symbol("w_ok") * _sigma(zo) + b
    return _exact(w * sp.diff(_sigma(zq), zq), sp.diff(zk, zq), "w_qk f'(z_q) vs sympy.diff(z_k, z_q)")


@formula("scalar-hidden-delta", "src-scalar", "隐藏层梯度计算 (hidden layer)",
         r"\delta_q=\sum_k \delta_k w_{qk}\cdot f'(z_q) = o_q(1-o_q)\sum_k \delta_kw_{qk}", "correct",
         chapter="ch-hidden-delta")
def _():
    net = _scalar_two_layer()
    D = net.deltas_by_diff()
    A1 = net.A[0]
    rec = sum(D[1][0, k] * net.W[1][0, k] for k in range(2)) * A1[0, 0] * (1 - A1[0, 0])
    return _exact(rec, D[0][0, 0], "o_1(1 − o_1) Σ_k δ_k w_1k with δ_k = ∂L/∂z_k vs sympy.diff(L, z_1)")


@formula("scalar-sign-propagates", "src-scalar", "隐藏层梯度计算 (hidden layer)",
         r"\delta_v=(t_v-o_v)\,o_v(1-o_v),\quad \delta_q=o_q(1-o_q)\sum_k \delta_k w_{qk},\quad "
         r"\frac{\partial L}{\partial w_{p_t q}} = \delta_q\, o_{p_t}", "wrong",
         r"Each line alone is the source's; together they give the negative gradient. Its output $\delta_v$ "
         r"is $-\partial L/\partial z_v$, the hidden recursion carries the sign down unchanged, and the hidden "
         r"weight rule $\partial L/\partial z_q \cdot o_{p_t}$ then uses $\delta_q = -\partial L/\partial z_q$.",
         r"\delta_v=(o_v-t_v)\,o_v(1-o_v) \text{ so that every } \delta = \partial L/\partial z", "ch-hidden-delta")
def _():
    net = SymbolicNetwork([2, 2, 1], "sigmoid", loss="mse", m=1)
    A1, A2 = net.A
    dv = (net.T[0, 0] - A2[0, 0]) * A2[0, 0] * (1 - A2[0, 0]) / 1  # the source's δ_v (one output, m = 1)
    dq = A1[0, 0] * (1 - A1[0, 0]) * dv * net.W[1][0, 0]
    written = dq * net.X[0, 1]
    truth = sp.diff(net.loss, net.W[0][1, 0])
    return _compare(written, truth, _point(net.loss.free_symbols, 3), "∂L/∂w_21 (input 2 → hidden 1) of a 2-2-1 network")


# == Source 001: the guide (src-guide) =============================================================

@formula("guide-neuron-index", "src-guide", "正文 (one neuron)",
         r"Y_i=\sigma(\sum{A_ix_i+b_i})", "wrong",
         r"One index $i$ for both the neuron and the summation: read literally, every neuron would use the same "
         r"weights $A_i$ summed over the inputs. Neuron $i$ has its own row of weights.",
         r"Y_i=\sigma\Big(\sum_j A_{ij}x_j+b_i\Big)", "ch-notation")
def _():
    A = symbols_matrix("A", 2, 3)
    a_vec = sp.Matrix(1, 3, sp.symbols("A_1:4", real=True))
    x = sp.Matrix(sp.symbols("x_1:4", real=True))
    b = sp.symbols("b_1:3", real=True)
    correct_1 = sum(A[0, j] * x[j] for j in range(3)) + b[0]
    correct_2 = sum(A[1, j] * x[j] for j in range(3)) + b[1]
    literal_1 = sum(a_vec[i] * x[i] for i in range(3)) + b[0]
    literal_2 = sum(a_vec[i] * x[i] for i in range(3)) + b[1]
    same_weights = is_zero((literal_1 - b[0]) - (literal_2 - b[1]))
    distinct = not is_zero((correct_1 - b[0]) - (correct_2 - b[1]))
    return Evidence(not (same_weights and distinct),
                    ["read as written, neurons 1 and 2 get the same weighted sum Σ_i A_i x_i (they differ only in b_i)",
                     "with A_ij the two neurons weigh the inputs differently, as a layer must"])


@formula("guide-shapes", "src-guide", "正文 (a layer)",
         r"Y=\sigma(A*X+B),\ Y\!:2\times1,\ A\!:3\times2,\ X\!:3\times1,\ B\!:2\times1", "wrong",
         r"$A*X$ of a $3\times2$ and a $3\times1$ matrix does not exist.",
         r"Y = \sigma(A^{\mathsf T} X + B)\ \text{(or store the weights as a } 2\times3 \text{ matrix)}", "ch-notation")
def _():
    A, X = symbols_matrix("A", 3, 2), symbols_matrix("x", 3, 1)
    ev = _shape_error(lambda: A * X, "A (3×2) * X (3×1)")
    ev.lines.append(f"Aᵀ X + B has shape {(A.T * X).shape}: the 2×1 output the guide describes")
    return ev


@formula("guide-fold-bias", "src-guide", "正文 (bias as an input)",
         r"Y=\sigma(A*X)\ \text{with a constant bias input added to every layer}", "correct", chapter="ch-notation")
def _():
    A, X, B = symbols_matrix("A", 2, 3), symbols_matrix("x", 3, 1), symbols_matrix("B", 2, 1)
    A_tilde, X_tilde = A.row_join(B), X.col_join(sp.Matrix([[1]]))
    return _exact(A_tilde * X_tilde, A * X + B, "[A | B] [X; 1] = A X + B")


@formula("guide-delta4", "src-guide", "正文 (δ)",
         r"\delta_4 = \frac{\partial\, COST}{\partial a_3}", "correct", chapter="ch-hidden-delta")
def _():
    return Evidence(True, ["a definition: the guide's δ_4 is a derivative with respect to the OUTPUT a_3; its δ_3, δ_2 "
                           "(after the σ' factor) are derivatives with respect to z, like every other source's δ"])


@formula("guide-delta-recursion", "src-guide", "正文 (Δ and δ)",
         r"\delta_3=\Delta_4 .* \sigma'(z),\qquad \Delta^3_{21}=(\theta^2_{32})^{\mathsf T}*\delta^3_{31}", "correct",
         chapter="ch-hidden-delta")
def _():
    net = SymbolicNetwork([2, 2, 3], "sigmoid", loss="mse", m=1)
    D = net.deltas_by_diff()
    theta2 = net.W[1].T  # the guide's θ^2: (3 outputs) × (2 hidden), column layout
    Delta3 = theta2.T * D[1].T  # 2×1
    delta2 = Delta3.multiply_elementwise(net.A[0].T.applyfunc(lambda a: a * (1 - a)))
    return _exact(delta2, D[0].T, "Δ^3 = (θ^2)ᵀ δ^3, δ^2 = Δ^3 .* σ'(z^2) vs sympy.diff, 2-2-3 network")


@formula("guide-theta4", "src-guide", "正文 (worked example)",
         r"\theta^4_{31}=\frac{\partial{COST}}{\partial{a_3}}", "slip",
         r"$\theta$ names the weights; the quantity defined here is $\delta^4_{31}$ (the next line uses "
         r"$\Delta^4_{31}=\delta^4_{31}$, and the network has only $\theta^1$ and $\theta^2$).",
         r"\delta^4_{31}=\frac{\partial{COST}}{\partial{a_3}}", "ch-batch")
def _():
    net = SymbolicNetwork([2, 2, 3], "sigmoid", loss="mse", m=1)
    dA = net.A[1].T - net.T.T
    return Evidence(True, [f"∂COST/∂a_3 is a {dA.shape[0]}×{dA.shape[1]} vector (for ½‖a_3 − y‖²: a_3 − y), the "
                           f"shape of δ^4_31; the weights of this network are θ^1 (2×2) and θ^2 (3×2)"])


@formula("guide-theta-prime", "src-guide", "正文 (θ')",
         r"\theta'_b=\delta_{b+1}*a_b", "wrong",
         r"Shapes: $\delta_{b+1}$ is $n\times1$ and $a_b$ is $m\times1$, so the product does not exist; the "
         r"gradient of an $n\times m$ matrix is the outer product (the worked example right after does write "
         r"$(a^2_{21})^{\mathsf T}$).",
         r"\theta'_b=\delta_{b+1}\, a_b^{\mathsf T}", "ch-batch")
def _():
    net = SymbolicNetwork([2, 2, 3], "sigmoid", loss="mse", m=1)
    D = net.deltas_by_diff()
    delta3, a2 = D[1].T, net.A[0].T  # 3×1 and 2×1
    ev = _shape_error(lambda: delta3 * a2, "δ_3 (3×1) * a_2 (2×1)")
    grad = net.W[1].T.applyfunc(lambda w: sp.diff(net.loss, w))
    ev.lines.append("δ_3 a_2ᵀ (3×2) " + ("equals" if is_zero(delta3 * a2.T - grad) else "differs from")
                    + " ∂COST/∂θ^2 by sympy.diff")
    return ev


@formula("guide-backward-example", "src-guide", "正文 (worked example)",
         r"\delta^3_{31}=\Delta^4_{31}.*\sigma'(z^3_{31}),\ \theta'^2_{32}=\delta^3_{31}(a^2_{21})^{\mathsf T},\ "
         r"\Delta^3_{21}=(\theta^2_{32})^{\mathsf T}\delta^3_{31},\ \delta^2_{21}=\Delta^3_{21}.*\sigma'(z^2_{21}),\ "
         r"\theta'^1_{22}=\delta^2_{21}(a^1_{21})^{\mathsf T}", "correct", chapter="ch-batch")
def _():
    net = SymbolicNetwork([2, 2, 3], "sigmoid", loss="mse", m=1)
    x = net.X.T
    a2, a3 = net.A[0].T, net.A[1].T
    Delta4 = a3 - net.T.T
    delta3 = Delta4.multiply_elementwise(a3.applyfunc(lambda a: a * (1 - a)))
    th2 = net.W[1].T
    Delta3 = th2.T * delta3
    delta2 = Delta3.multiply_elementwise(a2.applyfunc(lambda a: a * (1 - a)))
    g1 = delta2 * x.T
    truth = net.W[0].T.applyfunc(lambda w: sp.diff(net.loss, w))
    return _exact(g1, truth, "θ'^1 = δ^2 (a^1)ᵀ from the chain above vs sympy.diff(COST, θ^1), 2-2-3 network")


@formula("guide-pseudocode", "src-guide", "伪代码 (pseudocode)",
         r"\text{For } i=1..m:\ \theta'_1 \mathrel{+}= \delta_2 a_1^{\mathsf T},\ \dots;\quad "
         r"\theta'_1=\tfrac1m\,\theta'_1", "correct", chapter="ch-batch")
def _():
    from .batching import per_sample_average
    from .network import mlp

    net = mlp([2, 2, 3], seed=0)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(5, 2)), rng.uniform(size=(5, 3))
    L, g = net.loss_and_grads(X, T)
    _, g_avg = per_sample_average(net, X, T)
    err = max(float(np.abs(g[k] - g_avg[k]).max()) for k in g)
    return Evidence(err < 1e-12, [f"for a mean loss over m = 5 samples, the average of the per-sample gradients equals the "
                                  f"batch gradient (max difference {err:.1e})"])


@formula("guide-ce-delta", "src-guide", "伪代码之后 (after the pseudocode)",
         r"\text{cross-entropy:}\quad \delta_3 = y-a_3", "wrong",
         r"With its own definitions ($\delta_4=\partial COST/\partial a_3$, $\delta_3=\Delta_4.*\sigma'(z_3)$), "
         r"$\delta_3=\partial COST/\partial z_3=a_3-y$ for a sigmoid output with cross-entropy: the sign is flipped.",
         r"\delta_3 = a_3 - y", "ch-output-delta")
def _():
    z, y = sp.symbols("z_3 y", real=True)
    a = _sigma(z)
    cost = -(y * sp.log(a) + (1 - y) * sp.log(1 - a))
    point = {z: sp.Float(1.2), y: sp.Float(0.0)}
    ev = _compare(y - a, sp.diff(cost, z), point, "δ_3 = ∂COST/∂z_3 for z_3 = 1.2, y = 0")
    ev.lines.append("y − a_3 is the NEGATIVE gradient (the direction to move z_3), a_3 − y the gradient")
    return ev


def _F_G_T():
    x1, x2 = sp.symbols("X_1 X_2", real=True)
    u, v = sp.symbols("u v", real=True)
    F = sp.sin
    G = lambda a, b: a * b  # noqa: E731
    T = sp.tanh
    return x1, x2, u, v, F, G, T


@formula("guide-chain-partials", "src-guide", "进一步讨论 (further discussion)",
         r"A(X_1,X_2)=F(G(X_1,T(X_2))),\quad A'(X_1)=F'*G'(X_1),\quad A'(X_2)= F'*G'*T'(X_2)", "correct",
         chapter="ch-chain-rule")
def _():
    x1, x2, u, v, F, G, T = _F_G_T()
    A = F(G(x1, T(x2)))
    Fp = sp.cos(G(x1, T(x2)))
    dG_d1 = sp.diff(G(u, v), u).xreplace({u: x1, v: T(x2)})
    dG_d2 = sp.diff(G(u, v), v).xreplace({u: x1, v: T(x2)})
    ok1 = is_zero(Fp * dG_d1 - sp.diff(A, x1))
    ok2 = is_zero(Fp * dG_d2 * sp.diff(T(x2), x2) - sp.diff(A, x2))
    return Evidence(ok1 and ok2, ["for F = sin, G(x₁, t) = x₁·t, T = tanh both products equal sympy.diff — provided "
                                  "G' means ∂G/∂x₁ in the first and ∂G/∂t in the second"])


@formula("guide-shared-factor", "src-guide", "进一步讨论 (further discussion)",
         r"\text{要求 } A'(X_2)\text{，需要求 } F'*G'\text{，这个结果在计算 } A'(X_1)\text{ 时已经计算过了}", "wrong",
         r"Only $F'$ (that is $\partial A/\partial G$) is shared. The two partials use different derivatives of "
         r"$G$ — with respect to its first argument for $X_1$, its second for $X_2$ — so $F'\cdot\partial G/\partial X_1$ "
         r"cannot be reused for $X_2$.",
         r"\frac{\partial A}{\partial X_1}=F'\,\frac{\partial G}{\partial X_1},\quad "
         r"\frac{\partial A}{\partial X_2}=F'\,\frac{\partial G}{\partial T}\,T'(X_2);\ \text{shared: } F' = \delta",
         "ch-chain-rule")
def _():
    x1, x2, u, v, F, G, T = _F_G_T()
    A = F(G(x1, T(x2)))
    Fp = sp.cos(G(x1, T(x2)))
    reused = Fp * sp.diff(G(u, v), u).xreplace({u: x1, v: T(x2)}) * sp.diff(T(x2), x2)
    point = {x1: sp.Float(0.7), x2: sp.Float(-0.4)}
    ev = _compare(reused, sp.diff(A, x2), point, "∂A/∂X₂ by reusing F'·G'(X₁), for F = sin, G = x₁t, T = tanh")
    ev.lines.append("the shared factor is F'(G) = ∂A/∂G only — in a network, δ = ∂L/∂z")
    return ev


@formula("guide-a-coefficient", "src-guide", "进一步讨论 (further discussion)",
         r"\text{上一层的输出 } a \text{ 则对应 } T' \text{ 作用于 } X_2 \text{ 上的系数}", "wrong",
         r"Mapping a neuron $z = w\,a$ onto $G(X_1, T(X_2))$ with $X_1 = w$: the coefficient of the weight is "
         r"$\partial G/\partial X_1 = T(X_2) = a$, the previous layer's VALUE, not the derivative $T'$.",
         r"\frac{\partial z}{\partial w} = a = T(X_2)", "ch-chain-rule")
def _():
    x1, x2, u, v, F, G, T = _F_G_T()
    coefficient = sp.diff(G(x1, T(x2)), x1)
    point = {x2: sp.Float(0.9)}
    a, b = _num(coefficient, point), _num(sp.diff(T(x2), x2), point)
    return Evidence(abs(a - b) < 1e-12,
                    [f"with T = tanh and X₂ = 0.9: ∂G/∂X₁ = T(X₂) = {_fmt(a)}, while T'(X₂) = {_fmt(b)}"])


@formula("guide-residual-new-sigma", "src-guide", "拓展 (extension: residual blocks)",
         r"\text{把 } X+\sigma(X) \text{ 看作一个新的 } Y=\sigma(X) \text{ 即可}", "wrong",
         r"A residual block has weights, $Y = X + \sigma(XW + b)$; that is not an element-wise function $g$ of "
         r"$XW+b$. Reading it as $g(z) = z + \sigma(z)$ computes $XW + b + \sigma(XW+b)$ — another function with "
         r"another gradient — and keeping $\sigma'$ in the recursion drops the identity path's $\partial L/\partial Y$.",
         r"\frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} + "
         r"\Big(\frac{\partial L}{\partial Y}\odot\sigma'(Z)\Big)W^{\mathsf T}", "ch-residual")
def _():
    from .activations import sigmoid

    rng = np.random.default_rng(5)
    X, W, b, dY = rng.normal(size=(1, 2)), rng.normal(size=(2, 2)), rng.normal(size=2), rng.normal(size=(1, 2))
    Z = X @ W + b
    s = sigmoid(Z)
    true_Y, g_Y = X + s, Z + s
    true_dX = dY + (dY * s * (1 - s)) @ W.T
    g_dX = (dY * (1 + s * (1 - s))) @ W.T          # g(z) = z + σ(z) as "a new σ"
    sigma_only = (dY * s * (1 - s)) @ W.T            # the old σ' kept: the identity term lost
    ok = np.allclose(true_dX, g_dX) or np.allclose(true_dX, sigma_only)
    return Evidence(ok, [
        f"X = {np.round(X, 3).tolist()}: the block gives Y = {np.round(true_Y, 4).tolist()}, the 'new σ' reading "
        f"g(XW + b) gives {np.round(g_Y, 4).tolist()}",
        f"∂L/∂X for the same ∂L/∂Y: true {np.round(true_dX, 4).tolist()}; 'new σ' {np.round(g_dX, 4).tolist()}; "
        f"σ' kept {np.round(sigma_only, 4).tolist()}",
        "only a weightless block Y = X + σ(X) is one element-wise function, with derivative 1 + σ'"])


@formula("guide-vanishing-zero", "src-guide", "拓展 (extension)",
         r"\text{梯度消失的情况（梯度}=0\text{）}", "slip",
         r"Vanishing gradients are small, not zero: each sigmoid layer multiplies the gradient by "
         r"$W^{\mathsf T}\mathrm{diag}(\sigma'(z))$ with $\sigma'\le\tfrac14$, so early layers' gradients shrink "
         r"geometrically with depth.",
         r"\Big\|\frac{\partial L}{\partial W^{(1)}}\Big\| \to 0 \text{ (geometrically) as the depth grows}",
         "ch-residual")
def _():
    from .diagnostics import layer_gradient_norms
    from .network import mlp

    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(8, 4)), rng.uniform(size=(8, 1))
    net = mlp([4] + [4] * 20 + [1], activation="sigmoid", seed=0)
    norms = layer_gradient_norms(net, X, T)
    return Evidence(bool(0 < norms[0] < 1e-6 * norms[-1]),
                    [f"a 21-layer sigmoid network: ‖∂L/∂W‖ is {norms[-1]:.2e} at the last layer and {norms[0]:.2e} at the "
                     f"first — tiny, yet not 0"])


# == Source 002: the four steps (src-foursteps) ===================================================

@formula("foursteps-update", "src-foursteps", "开头与结尾 (update rule)",
         r"\theta = \theta - \eta \frac{\partial J}{\partial \theta},\quad w^l = w^l - \eta \frac{\partial J}{\partial w^l},"
         r"\quad b^l = b^l - \eta \frac{\partial J}{\partial b^l}", "correct", chapter="ch-training")
def _():
    w, x, t, eta = sp.symbols("w x t eta", real=True)
    J = (w * x - t) ** 2 / 2
    g = sp.diff(J, w)
    change = sp.series(J.subs(w, w - eta * g) - J, eta, 0, 2).removeO()
    ok = is_zero(change + eta * g ** 2)
    return Evidence(ok, ["to first order in η a step changes J by −η (∂J/∂θ)² ≤ 0: the step goes downhill"])


@formula("foursteps-sum-range", "src-foursteps", "假定 / 前向传播 (forward pass)",
         r"z_j^l = \sum_{k=1}^{n} w_{jk}^l a_k^{l-1} + b_j^l", "wrong",
         r"$n$ is declared as the number of INPUT neurons, but the formula is used for every layer; the output "
         r"layer's inputs are the $h$ hidden neurons, so its sum runs to $h$.",
         r"z_j^l = \sum_{k=1}^{n_{l-1}} w_{jk}^l a_k^{l-1} + b_j^l", "ch-notation")
def _():
    n, h = 2, 3
    a = sp.symbols("a_1:4", real=True)
    w = sp.symbols("w_11 w_12 w_13", real=True)
    written = sum(w[k] * a[k] for k in range(n))
    correct = sum(w[k] * a[k] for k in range(h))
    return Evidence(is_zero(written - correct),
                    [f"n = {n} inputs, h = {h} hidden neurons: written − correct = {sp.simplify(written - correct)} "
                     f"(hidden neuron 3 is dropped)"])


@formula("foursteps-m-outputs", "src-foursteps", "假定 (notation)",
         r"J = \frac{1}{2 m} \sum_{i=1}^{m} (y_i - a_i^l)^2,\quad m = \text{number of output neurons}", "slip",
         r"A valid loss for ONE sample (the squared error averaged over the $m$ outputs), but $m$ is the letter "
         r"every other source uses for the batch size; this $J$ is not the batch mean of the notation chapter.",
         r"J = \frac{1}{m}\sum_{i=1}^m \frac12 \sum_j (a_{ij}-y_{ij})^2 \ (m = \text{samples})", "ch-notation")
def _():
    y, a = sp.symbols("y_1:3", real=True), sp.symbols("a_1:3", real=True)
    J = sum((y[i] - a[i]) ** 2 for i in range(2)) / (2 * 2)
    return Evidence(True, [f"for m = 2 outputs: J = {J}, an average over the outputs of one sample"])


def _foursteps_layer():
    """Output layer of the four-steps source: m = 2 outputs, h = 2 inputs, one sample, J = 1/(2m) Σ (y − a)²."""
    m, h = 2, 2
    a_prev = sp.symbols("a^{l-1}_1:3", real=True)
    W = symbols_matrix("w", m, h)  # w_jk: to j from k (column layout)
    b = sp.symbols("b_1:3", real=True)
    y = sp.symbols("y_1:3", real=True)
    z = [sum(W[j, k] * a_prev[k] for k in range(h)) + b[j] for j in range(m)]
    a = [_sigma(zj) for zj in z]
    J = sum((y[i] - a[i]) ** 2 for i in range(m)) / (2 * m)
    return m, h, a_prev, W, b, y, z, a, J


@formula("foursteps-dJ-da", "src-foursteps", "第一步 (step 1)",
         r"\frac{\partial J}{\partial a_j^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i)", "wrong",
         r"The line before it uses $\frac{\partial}{\partial a_j}(y_i - a_i) = -1$ for EVERY $i$; it is $-1$ only for "
         r"$i = j$ and 0 otherwise, so the sum collapses to one term.",
         r"\frac{\partial J}{\partial a_j^l} = \frac{1}{m}(a_j^l - y_j)", "ch-output-delta")
def _():
    m, h, a_prev, W, b, y, z, a, J = _foursteps_layer()
    A = sp.symbols("A_1:3", real=True)
    JA = sum((y[i] - A[i]) ** 2 for i in range(m)) / (2 * m)
    written = sum(A[i] - y[i] for i in range(m)) / m
    return _compare(written, sp.diff(JA, A[0]), _point(set(A) | set(y), 2), "∂J/∂a_1 with m = 2 outputs")


@formula("foursteps-dJ-da-vector", "src-foursteps", "第一步 (step 1, vector form)",
         r"\frac{\partial J}{\partial a^l} = \frac{1}{m} (a^l - y)", "correct", chapter="ch-output-delta")
def _():
    m = 2
    A, y = sp.symbols("A_1:3", real=True), sp.symbols("y_1:3", real=True)
    JA = sum((y[i] - A[i]) ** 2 for i in range(m)) / (2 * m)
    grad = sp.Matrix([sp.diff(JA, A[j]) for j in range(m)])
    ev = _exact(grad, (sp.Matrix(A) - sp.Matrix(y)) / m, "(1/m)(a − y) vs sympy.diff, m = 2 outputs")
    ev.lines.append("the vector form is right — and contradicts the scalar line above it")
    return ev


@formula("foursteps-dJ-dz", "src-foursteps", "第二步 (step 2)",
         r"\frac{\partial J}{\partial z_j^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) a_j^l (1 - a_j^l)", "wrong",
         "It inherits the wrong sum of step 1.",
         r"\frac{\partial J}{\partial z_j^l} = \frac{1}{m}(a_j^l - y_j)\, a_j^l (1 - a_j^l)", "ch-output-delta")
def _():
    m, h, a_prev, W, b, y, z, a, J = _foursteps_layer()
    zs = sp.symbols("z_1:3", real=True)
    As = [_sigma(v) for v in zs]
    Jz = sum((y[i] - As[i]) ** 2 for i in range(m)) / (2 * m)
    written = sum(As[i] - y[i] for i in range(m)) / m * As[0] * (1 - As[0])
    return _compare(written, sp.diff(Jz, zs[0]), _point(set(zs) | set(y), 4), "∂J/∂z_1 with m = 2 outputs")


@formula("foursteps-dJ-dw", "src-foursteps", "第三步 (step 3)",
         r"\frac{\partial J}{\partial w_{jk}^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) a_j^l (1 - a_j^l) a_k^{l-1}",
         "wrong",
         r"It inherits the wrong sum; also $k$ is both the free index of $w_{jk}$ and the summation index inside "
         r"$\frac{\partial}{\partial w_{jk}}\sum_{k=1}^n w_{jk}a_k$.",
         r"\frac{\partial J}{\partial w_{jk}^l} = \frac{1}{m}(a_j^l - y_j)\, a_j^l (1 - a_j^l)\, a_k^{l-1}",
         "ch-output-delta")
def _():
    m, h, a_prev, W, b, y, z, a, J = _foursteps_layer()
    written = sum(a[i] - y[i] for i in range(m)) / m * a[0] * (1 - a[0]) * a_prev[1]
    return _compare(written, sp.diff(J, W[0, 1]), _point(J.free_symbols, 5), "∂J/∂w_12 with m = 2 outputs")


@formula("foursteps-dJ-db", "src-foursteps", "第四步 (step 4)",
         r"\frac{\partial J}{\partial b_j^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) a_j^l (1 - a_j^l)", "wrong",
         "It inherits the wrong sum of step 1.",
         r"\frac{\partial J}{\partial b_j^l} = \frac{1}{m}(a_j^l - y_j)\, a_j^l (1 - a_j^l)", "ch-output-delta")
def _():
    m, h, a_prev, W, b, y, z, a, J = _foursteps_layer()
    written = sum(a[i] - y[i] for i in range(m)) / m * a[1] * (1 - a[1])
    return _compare(written, sp.diff(J, b[1]), _point(J.free_symbols, 6), "∂J/∂b_2 with m = 2 outputs")


@formula("foursteps-dw-vector", "src-foursteps", "向量形式 (vector form)",
         r"\frac{\partial J}{\partial w^l} = \frac{1}{m} (a^{l-1})^T (a^l - y) \odot \sigma'(z^l)", "wrong",
         r"With $w^l_{jk}$ (to $j$ from $k$) the gradient is an $m \times h$ matrix, the outer product of the "
         r"output δ with the inputs. $(a^{l-1})^{\mathsf T}(a^l-y)$ multiplies a $1\times h$ by an $m\times 1$ — it "
         r"exists only if $h = m$, and then it is a number.",
         r"\frac{\partial J}{\partial w^l} = \Big(\frac1m (a^l - y)\odot\sigma'(z^l)\Big)(a^{l-1})^{\mathsf T}",
         "ch-batch")
def _():
    a_prev = symbols_matrix("a", 3, 1)
    err = symbols_matrix("e", 2, 1)
    ev = _shape_error(lambda: a_prev.T * err, "(a^{l−1})ᵀ (1×3) times (a^l − y) (2×1), h = 3, m = 2")
    m, h, ap, W, b, y, z, a, J = _foursteps_layer()
    delta = sp.Matrix([(a[j] - y[j]) / m * a[j] * (1 - a[j]) for j in range(m)])
    grad = W.applyfunc(lambda w: sp.diff(J, w))
    ok = is_zero(delta * sp.Matrix(ap).T - grad)
    ev.lines.append("with h = m = 2 the written product is a 1×1 number; the corrected δ (a^{l−1})ᵀ (2×2) "
                    + ("equals" if ok else "differs from") + " ∂J/∂w^l by sympy.diff")
    return ev


@formula("foursteps-db-vector", "src-foursteps", "向量形式 (vector form)",
         r"\frac{\partial J}{\partial b^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) \odot \sigma'(z^l)", "wrong",
         r"The sum over the outputs collapses $(a^l-y)$ to one number before the element-wise product.",
         r"\frac{\partial J}{\partial b^l} = \frac{1}{m} (a^l - y) \odot \sigma'(z^l)", "ch-batch")
def _():
    m, h, a_prev, W, b, y, z, a, J = _foursteps_layer()
    s = sum(a[i] - y[i] for i in range(m)) / m
    written = sp.Matrix([s * a[j] * (1 - a[j]) for j in range(m)])
    truth = sp.Matrix([sp.diff(J, b[j]) for j in range(m)])
    p = _point(J.free_symbols, 7)
    wa = [_fmt(_num(v, p)) for v in written]
    ta = [_fmt(_num(v, p)) for v in truth]
    return Evidence(is_zero(written - truth), [f"∂J/∂b at a random point, m = 2 outputs: as written {wa}, by sympy.diff {ta}"])


# == Source 003: the batch matrix form (src-batch) ==================================================

@formula("batch-w-i-length", "src-batch", "前向传播 (forward pass)",
         r"\boldsymbol{w_i}^{(l)} = (w_{1i}^{(l)}, \dots, w_{n_{l}i}^{(l)})^\mathrm{T}", "wrong",
         r"$\boldsymbol{w_i}$ is column $i$ of the $n_{l-1}\times n_l$ matrix $\mathbf W^{(l)}$, so it has $n_{l-1}$ "
         r"entries, not $n_l$.",
         r"\boldsymbol{w_i}^{(l)} = (w_{1i}^{(l)}, \dots, w_{n_{l-1}i}^{(l)})^\mathrm{T}", "ch-notation")
def _():
    W = symbols_matrix("w", 3, 2)
    a = symbols_matrix("a", 3, 1)
    written = sp.Matrix([W[k, 0] for k in range(2)])
    return _shape_error(lambda: a.T * written, "(a^{(l−1)})ᵀ (1×3) · w_1 as written (2 entries), n_{l−1} = 3, n_l = 2")


@formula("batch-z-i", "src-batch", "前向传播 (forward pass)",
         r"z_i^{(l)} = (\boldsymbol{a}^{l-1})^\mathrm{T} \cdot \boldsymbol{w_i}^{(l)} + b_i^{(l)},\quad "
         r"\boldsymbol{z}^{(l)} = ({\boldsymbol{a}^{(l-1)}}^\mathrm{T} \cdot \mathbf{W}^{(l)})^\mathrm{T} + {\boldsymbol{b}^{(l)}}",
         "correct", chapter="ch-notation")
def _():
    W, a, b = symbols_matrix("w", 3, 2), symbols_matrix("a", 3, 1), symbols_matrix("b", 2, 1)
    per_column = sp.Matrix([(a.T * W[:, i])[0] + b[i] for i in range(2)])
    return _exact((a.T * W).T + b, per_column, "(aᵀW)ᵀ + b equals aᵀ w_i + b_i for each i (w_i = column i)")


@formula("batch-forward", "src-batch", "前向传播 (batch)",
         r"\mathbf{Z}^{(l)} = \mathbf{A}^{(l-1)} \mathbf{W}^{(l)} + \boldsymbol{1}_{m \times 1} {\boldsymbol{b}^{(l)}}^\mathrm{T},"
         r"\quad \mathbf{A}^{(l)} = \mathbf{G}^{(l)}(\mathbf{Z}^{(l)})", "correct", chapter="ch-notation")
def _():
    A, W, b = symbols_matrix("a", 2, 3), symbols_matrix("w", 3, 2), symbols_matrix("b", 2, 1)
    rows = sp.Matrix.vstack(*[((A[i, :] * W).T + b).T for i in range(2)])
    return _exact(A * W + sp.ones(2, 1) * b.T, rows, "AW + 1bᵀ stacks the one-sample (aᵀW)ᵀ + b as rows")


@formula("batch-loss-sum", "src-batch", "反向传播 (backward pass)",
         r"L(\boldsymbol{\theta}) = \sum_i^m l(\boldsymbol{\theta})", "slip",
         r"The per-sample loss needs the sample's index, $l_i(\boldsymbol\theta)$ — as written the sum adds the same "
         r"term $m$ times. Note too that it is a SUM over samples; the book's default (and bpkit's) is the mean.",
         r"L(\boldsymbol{\theta}) = \sum_{i=1}^m l_i(\boldsymbol{\theta})", "ch-batch")
def _():
    from .losses import mse_loss

    rng = np.random.default_rng(1)
    A, T = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    per = [mse_loss(A[i:i + 1], T[i:i + 1]) for i in range(3)]
    total = mse_loss(A, T, reduction="sum")
    return Evidence(abs(sum(per) - total) < 1e-12,
                    [f"three samples: l_1, l_2, l_3 = {', '.join(_fmt(p) for p in per)}; Σ_i l_i = {_fmt(total)} "
                     f"(m·l_1 would be {_fmt(3 * per[0])})"])


@formula("batch-dz", "src-batch", "反向传播 (backward pass)",
         r"\mathrm{d} \boldsymbol{z}^{(l)} = {\mathbf{W}^{(l)}}^\mathrm{T} \mathrm{d} \boldsymbol{a}^{(l-1)} + \mathrm{d} \boldsymbol{b}^{(l)}",
         "correct", chapter="ch-batch")
def _():
    W, a, b = symbols_matrix("w", 3, 2), symbols_matrix("a", 3, 1), symbols_matrix("b", 2, 1)
    da, db = symbols_matrix("da", 3, 1), symbols_matrix("db", 2, 1)
    z = lambda a_, b_: W.T * a_ + b_  # noqa: E731
    return _exact(z(a + da, b + db) - z(a, b), W.T * da + db, "z(a + da, b + db) − z(a, b) = Wᵀ da + db (z is linear)")


@formula("batch-dz-da", "src-batch", "反向传播 (backward pass)",
         r"\cfrac{\partial \mathrm{d} \boldsymbol{z}^{(l)}}{\partial \boldsymbol{a}^{(l-1)}} = \mathbf{W}^{(l)}", "slip",
         r"“$\partial\,\mathrm d z$” mixes a differential into a derivative. Meant: the Jacobian "
         r"$\partial z/\partial a$ in denominator layout (entry $(i,j) = \partial z_j/\partial a_i$), which is "
         r"$\mathbf W^{(l)}$.",
         r"\frac{\partial \boldsymbol z^{(l)}}{\partial \boldsymbol a^{(l-1)}} = \mathbf W^{(l)}\ \text{(denominator layout)}",
         "ch-batch")
def _():
    W, a, b = symbols_matrix("w", 3, 2), symbols_matrix("a", 3, 1), symbols_matrix("b", 2, 1)
    z = W.T * a + b
    J = sp.Matrix(3, 2, lambda i, j: sp.diff(z[j], a[i]))
    return _exact(J, W, "the matrix of ∂z_j/∂a_i is W")


@formula("batch-dz-db", "src-batch", "反向传播 (backward pass)",
         r"\cfrac{\partial \mathrm{d} \boldsymbol{z}^{(l)}}{\partial \boldsymbol{b}^{(l)}} = \boldsymbol{1}_{n_l \times 1}",
         "wrong",
         r"Each $z_j$ depends on its own $b_j$ only: the Jacobian $\partial z/\partial b$ is the identity "
         r"$I_{n_l}$, an $n_l\times n_l$ matrix, not a vector of ones.",
         r"\frac{\partial \boldsymbol z^{(l)}}{\partial \boldsymbol b^{(l)}} = I_{n_l}", "ch-batch")
def _():
    W, a, b = symbols_matrix("w", 3, 2), symbols_matrix("a", 3, 1), symbols_matrix("b", 2, 1)
    z = W.T * a + b
    J = sp.Matrix(2, 2, lambda i, j: sp.diff(z[j], b[i]))
    return Evidence(J == sp.ones(2, 1), [f"the 2×2 matrix of ∂z_j/∂b_i is {J.tolist()} (the identity), not {sp.ones(2, 1).tolist()}"])


@formula("batch-dl-da", "src-batch", "反向传播 (backward pass)",
         r"\cfrac{\partial \mathrm{d} l(\boldsymbol{\theta})}{\partial \boldsymbol{a}^{(l-1)}} = \mathbf{W}^{(l)},\qquad "
         r"\cfrac{\partial \mathrm{d} l(\boldsymbol{\theta})}{\partial \boldsymbol{b}^{(l)}} = \boldsymbol{1}_{n_l \times 1}",
         "wrong",
         r"Copied from the lines above with $z$ replaced by $l$ (the author notes “感觉下面应该是炸了”, "
         r"“I think what follows is broken”). The loss's gradients go through $\partial l/\partial z$.",
         r"\frac{\partial l}{\partial \boldsymbol a^{(l-1)}} = \mathbf W^{(l)} \frac{\partial l}{\partial \boldsymbol z^{(l)}},\qquad "
         r"\frac{\partial l}{\partial \boldsymbol b^{(l)}} = \frac{\partial l}{\partial \boldsymbol z^{(l)}}", "ch-batch")
def _():
    W, a, b, t = symbols_matrix("w", 3, 2), symbols_matrix("a", 3, 1), symbols_matrix("b", 2, 1), symbols_matrix("t", 2, 1)
    z = W.T * a + b
    loss = sum((z[j] - t[j]) ** 2 for j in range(2)) / 2
    grad_a = sp.Matrix([sp.diff(loss, a[i]) for i in range(3)])
    ok = is_zero(grad_a - W * (z - t))
    p = _point(loss.free_symbols, 8)
    return Evidence(False, [f"for l = ½‖z − t‖²: ∂l/∂a has shape {grad_a.shape} and at a random point equals "
                            f"{[_fmt(_num(v, p)) for v in grad_a]}, while W is a {W.shape[0]}×{W.shape[1]} matrix",
                            "W ∂l/∂z " + ("equals" if ok else "differs from") + " ∂l/∂a by sympy.diff"])


def _generic_layer():
    m, n_in, n_out = 2, 3, 2
    A, W, b = symbols_matrix("a", m, n_in), symbols_matrix("w", n_in, n_out), symbols_matrix("b", 1, n_out)
    Z = A * W + sp.ones(m, 1) * b
    G = sp.Function("G")
    L = G(*Z)
    from .symbolic import _name_derivatives, _partial
    dZ = sp.Matrix(m, n_out, lambda i, j: _partial(G, i * n_out + j, m * n_out)(*Z))
    return A, W, b, Z, L, dZ, _name_derivatives


@formula("batch-dA", "src-batch", "链式求导 + 定义 (chain rule)",
         r"\cfrac{\partial L}{\partial \mathbf{A}^{(l-1)}} = \cfrac{\partial L}{\partial \mathbf{Z}^{(l)}}{\mathbf{W}^{(l)}}^\mathrm{T}",
         "correct", chapter="ch-batch")
def _():
    A, W, b, Z, L, dZ, name = _generic_layer()
    by_diff = A.applyfunc(lambda a: name(sp.diff(L, a)))
    return _exact(dZ * W.T, by_diff, "∂L/∂Z Wᵀ vs sympy.diff for ANY loss L = G(Z), m = 2, 3 → 2")


@formula("batch-dW", "src-batch", "链式求导 + 定义 (chain rule)",
         r"\cfrac{\partial L}{\partial \mathbf{W}^{(l)}} = {\mathbf{A}^{(l-1)}}^\mathrm{T} \cfrac{\partial L}{\partial \mathbf{Z}^{(l)}}",
         "correct", chapter="ch-batch")
def _():
    A, W, b, Z, L, dZ, name = _generic_layer()
    by_diff = W.applyfunc(lambda w: name(sp.diff(L, w)))
    return _exact(A.T * dZ, by_diff, "Aᵀ ∂L/∂Z vs sympy.diff for ANY loss L = G(Z)")


@formula("batch-db", "src-batch", "链式求导 + 定义 (chain rule)",
         r"\cfrac{\partial L}{\partial \boldsymbol{b}^{(l)}} = (\boldsymbol{1}_{m \times 1}^\mathrm{T} \cfrac{\partial L}{\partial \mathbf{Z}^{(l)}})^\mathrm{T}",
         "correct", chapter="ch-batch")
def _():
    A, W, b, Z, L, dZ, name = _generic_layer()
    by_diff = b.applyfunc(lambda v: name(sp.diff(L, v)))
    return _exact((sp.ones(2, 1).T * dZ).T, by_diff.T, "(1ᵀ ∂L/∂Z)ᵀ vs sympy.diff for ANY loss L = G(Z)")


# == Source 004: the d2l excerpt (src-d2l-excerpt) ==================================================

def _d2l_net():
    d, h, q = 2, 2, 2
    x = symbols_matrix("x", d, 1)
    W1, W2 = symbols_matrix("w", h, d, 1), symbols_matrix("w", q, h, 2)
    lam = sp.Symbol("lambda", positive=True)
    y = symbols_matrix("y", q, 1)
    z = W1 * x
    hh = z.applyfunc(sp.tanh)
    o = W2 * hh
    L = sum((o[i] - y[i]) ** 2 for i in range(q)) / 2
    s = lam / 2 * (sum(w ** 2 for w in W1) + sum(w ** 2 for w in W2))
    return x, W1, W2, lam, y, z, hh, o, L, s


@formula("d2l-prod", "src-d2l-excerpt", "链式法则 (chain rule)",
         r"\frac{\partial \mathsf{Z}}{\partial \mathsf{X}} = \text{prod}\left(\frac{\partial \mathsf{Z}}{\partial \mathsf{Y}}, "
         r"\frac{\partial \mathsf{Y}}{\partial \mathsf{X}}\right)", "correct", chapter="ch-chain-rule")
def _():
    from .chain import jacobian, prod

    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(2, 2)), rng.normal(size=(2, 3))
    f = lambda X_: np.tanh(X_ @ W)  # noqa: E731
    g = lambda Y_: (Y_ ** 2).sum(axis=0)  # noqa: E731
    err = float(np.abs(prod(jacobian(g, f(X)), jacobian(f, X), 2) - jacobian(lambda X_: g(f(X_)), X)).max())
    return Evidence(err < 1e-8, [f"Y = tanh(XW) (2×3), Z = column sums of Y² (3): prod contracts over Y's 6 entries; "
                                 f"max difference from the Jacobian of the composition {err:.1e}"])


@formula("d2l-dJ-dL", "src-d2l-excerpt", "目标函数 (objective)",
         r"\frac{\partial J}{\partial L} = 1,\ \frac{\partial J}{\partial s} = 1,\quad "
         r"\frac{\partial J}{\partial \boldsymbol{o}} = \text{prod}\left(\frac{\partial J}{\partial L}, "
         r"\frac{\partial L}{\partial \boldsymbol{o}}\right) = \frac{\partial L}{\partial \boldsymbol{o}}", "correct",
         chapter="ch-chain-rule")
def _():
    Ls, ss = sp.symbols("L s")
    J = Ls + ss
    return Evidence(sp.diff(J, Ls) == 1 and sp.diff(J, ss) == 1,
                    ["J = L + s: ∂J/∂L = 1 and ∂J/∂s = 1, so ∂J/∂o = 1 · ∂L/∂o"])


@formula("d2l-ds-dW", "src-d2l-excerpt", "正则项 (regularization)",
         r"\frac{\partial s}{\partial \boldsymbol{W}^{(1)}} = \lambda \boldsymbol{W}^{(1)},\quad"
         r"\frac{\partial s}{\partial \boldsymbol{W}^{(2)}} = \lambda \boldsymbol{W}^{(2)}", "correct",
         chapter="ch-regularization")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _d2l_net()
    ok = is_zero(W1.applyfunc(lambda w: sp.diff(s, w)) - lam * W1)
    s_no_half = 2 * s
    g2 = W1.applyfunc(lambda w: sp.diff(s_no_half, w))
    return Evidence(ok, ["with s = λ/2 (‖W⁽¹⁾‖² + ‖W⁽²⁾‖²) (d2l's definition; the excerpt never states s), ∂s/∂W⁽¹⁾ = λW⁽¹⁾",
                         "without the ½ the same derivative is " + ("2λW — twice as large" if is_zero(g2 - 2 * lam * W1) else "not 2λW")])


@formula("d2l-dJ-dW", "src-d2l-excerpt", "输出层参数 (output-layer weights)",
         r"\frac{\partial J}{\partial \boldsymbol{W}^{(2)}} = \frac{\partial J}{\partial \boldsymbol{o}} \boldsymbol{h}^\top "
         r"+ \lambda \boldsymbol{W}^{(2)}", "correct", chapter="ch-regularization")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _d2l_net()
    J = L + s
    dJ_do = o - y
    return _exact(dJ_do * hh.T + lam * W2, W2.applyfunc(lambda w: sp.diff(J, w)),
                  "∂J/∂o hᵀ + λW⁽²⁾ vs sympy.diff(J, W⁽²⁾), 2-2-2 tanh network")


@formula("d2l-hidden", "src-d2l-excerpt", "隐藏层变量 (hidden variables)",
         r"\frac{\partial J}{\partial \boldsymbol{h}} = {\boldsymbol{W}^{(2)}}^\top \frac{\partial J}{\partial \boldsymbol{o}},"
         r"\quad \frac{\partial J}{\partial \boldsymbol{z}} = \frac{\partial J}{\partial \boldsymbol{h}} \odot \phi'\left(\boldsymbol{z}\right)",
         "correct", chapter="ch-hidden-delta")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _d2l_net()
    zs = symbols_matrix("z", 2, 1)
    Lz = sum(((W2 * zs.applyfunc(sp.tanh))[i] - y[i]) ** 2 for i in range(2)) / 2
    by_diff = zs.applyfunc(lambda v: sp.diff(Lz, v))
    hz = zs.applyfunc(sp.tanh)
    dJ_dh = W2.T * (W2 * hz - y)
    return _exact(dJ_dh.multiply_elementwise(zs.applyfunc(lambda v: 1 - sp.tanh(v) ** 2)), by_diff,
                  "(W⁽²⁾ᵀ ∂J/∂o) ⊙ φ'(z) vs sympy.diff(J, z)")


@formula("d2l-dW", "src-d2l-excerpt", "输入层参数 (first-layer weights)",
         r"\frac{\partial J}{\partial \boldsymbol{W}^{(1)}} = \frac{\partial J}{\partial \boldsymbol{z}} \boldsymbol{x}^\top "
         r"+ \lambda \boldsymbol{W}^{(1)}", "correct", chapter="ch-batch")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _d2l_net()
    J = L + s
    dJ_dz = (W2.T * (o - y)).multiply_elementwise(z.applyfunc(lambda v: 1 - sp.tanh(v) ** 2))
    return _exact(dJ_dz * x.T + lam * W1, W1.applyfunc(lambda w: sp.diff(J, w)),
                  "∂J/∂z xᵀ + λW⁽¹⁾ vs sympy.diff(J, W⁽¹⁾), 2-2-2 tanh network")


@formula("d2l-shapes", "src-d2l-excerpt", "形状 (shapes)",
         r"\frac{\partial J}{\partial \boldsymbol{o}} \in \mathbb{R}^q,\ \frac{\partial J}{\partial \boldsymbol{W}^{(2)}} \in "
         r"\mathbb{R}^{q \times h},\ \frac{\partial J}{\partial \boldsymbol{h}} \in \mathbb{R}^h,\ "
         r"\frac{\partial J}{\partial \boldsymbol{W}^{(1)}} \in \mathbb{R}^{h \times d}", "correct", chapter="ch-notation")
def _():
    d, h, q = 3, 2, 4
    x, W1, W2 = symbols_matrix("x", d, 1), symbols_matrix("w", h, d, 1), symbols_matrix("w", q, h, 2)
    o = W2 * (W1 * x).applyfunc(sp.tanh)
    g2 = (o * sp.ones(1, 1)) * ((W1 * x).applyfunc(sp.tanh)).T
    return Evidence(o.shape == (q, 1) and g2.shape == (q, h) and W1.shape == (h, d),
                    [f"d = {d}, h = {h}, q = {q}: o is {o.shape}, ∂J/∂o hᵀ is {g2.shape}, W⁽¹⁾ is {W1.shape}"])


# -- running and showing --------------------------------------------------------------------------

def get(id) -> Formula:
    """The catalog entry ``id``; an unknown id lists the known ones."""
    try:
        return CATALOG[id]
    except KeyError:
        raise KeyError(f"no erratum {id!r}; known: {', '.join(CATALOG)}") from None


def check(id) -> Evidence:
    """Run one entry's check; raise AssertionError if its verdict no longer holds."""
    f = get(id)
    ev = f.run()
    expected = f.verdict != "wrong"
    if bool(ev.holds) != expected:
        raise AssertionError(
            f"errata {id}: recorded as {f.verdict!r}, but the check found the formula "
            f"{'holds' if ev.holds else 'fails'}: " + "; ".join(ev.lines)
        )
    return ev


def markdown(id, ev=None) -> str:
    """The report of one entry as MyST Markdown: formula as written, verdict, correction, evidence."""
    f = get(id)
    ev = check(id) if ev is None else ev
    lines = [f"**{SOURCES[f.source]}**, {f.where} — **{VERDICTS[f.verdict]}**", "", "$$", f.written, "$$", ""]
    if f.problem:
        lines += [f.problem, ""]
    if f.correction:
        lines += ["Correct:", "", "$$", f.correction, "$$", ""]
    lines += ["Computed now:", ""] + [f"- {line}" for line in ev.lines]
    return "\n".join(lines)


def show(id):
    """Check one formula and display its report (Markdown in a notebook, text elsewhere)."""
    text = markdown(id)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return None
    except ImportError:  # pragma: no cover
        pass
    print(text)
    return None


def ids(source=None, verdict=None, chapter=None):
    """The ids in catalog order, optionally only one source's, one verdict's or one chapter's."""
    return [f.id for f in CATALOG.values()
            if (source is None or f.source == source) and (verdict is None or f.verdict == verdict)
            and (chapter is None or f.chapter == chapter)]


def summary_table() -> str:
    """A Markdown table: for each source, how many formulas were checked and how many are wrong or slips."""
    rows = ["| source | formulas checked | ✓ correct | ✗ wrong | ⚠ slip |", "|---|---|---|---|---|"]
    for key, name in SOURCES.items():
        entries = [f for f in CATALOG.values() if f.source == key]
        count = {v: sum(f.verdict == v for f in entries) for v in VERDICTS}
        rows.append(f"| {name} | {len(entries)} | {count['correct']} | {count['wrong']} | {count['slip']} |")
    return "\n".join(rows)
