"""Source 002, the four steps (Background propagation formula derivation, ``src-foursteps``)."""

from __future__ import annotations

import sympy as sp

from ..symbolic import SymbolicNetwork, symbols_matrix
from ._core import Case, formula, random_point, sigma

S = "src-foursteps"


@formula(key="foursteps-update", source=S, chapter="ch-training", verdict="correct",
         where="开头与结尾 (update rule)",
         written=r"\theta = \theta - \eta \frac{\partial J}{\partial \theta},\quad w^l = w^l - \eta \frac{\partial J}{\partial w^l},"
                 r"\quad b^l = b^l - \eta \frac{\partial J}{\partial b^l}")
def _():
    w, b, x, t, eta = sp.symbols("w b x t eta", real=True)
    J = (sigma(w * x + b) - t) ** 2 / 2
    gw, gb = sp.diff(J, w), sp.diff(J, b)
    stepped = J.xreplace({w: w - eta * gw, b: b - eta * gb})
    rate = sp.diff(stepped, eta).xreplace({eta: 0})  # dJ/dη at η = 0 along the written step
    return Case(rate, -(gw ** 2 + gb ** 2), what="dJ/dη at η = 0 along the step vs −‖∇J‖² (one sigmoid neuron)",
                notes=["to first order a step of size η changes J by −η‖∇J‖² ≤ 0: it goes downhill"])


@formula(key="foursteps-sum-range", source=S, chapter="ch-notation", verdict="wrong",
         where="假定 / 前向传播 (forward pass)", written=r"z_j^l = \sum_{k=1}^{n} w_{jk}^l a_k^{l-1} + b_j^l",
         problem=r"$n$ is declared as the number of INPUT neurons, but the formula is used for every layer; the output "
                 r"layer's inputs are the $h$ hidden neurons, so its sum runs to $h$.",
         correction=r"z_j^l = \sum_{k=1}^{n_{l-1}} w_{jk}^l a_k^{l-1} + b_j^l")
def _():
    n, h = 2, 3
    W, a, b = symbols_matrix("w", 2, h), symbols_matrix("a", h, 1), symbols_matrix("b", 2, 1)
    truth = W * a + b  # the output layer of an n-h-2 network
    written = sp.Matrix([sum(W[j, k] * a[k] for k in range(n)) + b[j] for j in range(2)])
    corrected = sp.Matrix([sum(W[j, k] * a[k] for k in range(h)) + b[j] for j in range(2)])
    return Case(written, truth, corrected, f"z of the output layer, n = {n} inputs, h = {h} hidden neurons",
                ["the sum to n drops hidden neuron 3"])


@formula(key="foursteps-m-outputs", source=S, chapter="ch-notation", verdict="slip",
         where="假定 (notation)",
         written=r"J = \frac{1}{2 m} \sum_{i=1}^{m} (y_i - a_i^l)^2,\quad m = \text{number of output neurons}",
         problem=r"A valid loss for ONE sample (the squared error averaged over the $m$ outputs), but $m$ is the letter "
                 r"every other source uses for the batch size; this $J$ is not the batch mean of the notation chapter.",
         correction=r"J = \frac{1}{m}\sum_{i=1}^m \frac12 \sum_j (a_{ij}-y_{ij})^2 \ (m = \text{samples})")
def _():
    net = SymbolicNetwork([2, 2], "sigmoid", loss="mse", m=1)  # one sample, two outputs
    a, y = net.A[-1], net.T
    m_outputs = 2
    written = sum((y[0, i] - a[0, i]) ** 2 for i in range(m_outputs)) / (2 * m_outputs)
    m_samples = 1
    corrected = sum(sum((a[s, j] - y[s, j]) ** 2 for j in range(2)) / 2 for s in range(m_samples)) / m_samples
    return Case(written, net.loss, corrected, "one sample, two outputs: vs the book's J (mean over samples)",
                ["read with m = outputs, J is the book's J divided by 2: the same minimiser, half the gradient"])


def _layer():
    """Output layer of the four-steps source: m = 2 outputs, h = 2 inputs, one sample, J = 1/(2m) Σ (y − a)²."""
    m, h = 2, 2
    a_prev = sp.symbols("a^{l-1}_1:3", real=True)
    W = symbols_matrix("w", m, h)  # w_jk: to j from k (column layout)
    b = sp.symbols("b_1:3", real=True)
    y = sp.symbols("y_1:3", real=True)
    z = [sum(W[j, k] * a_prev[k] for k in range(h)) + b[j] for j in range(m)]
    a = [sigma(zj) for zj in z]
    J = sum((y[i] - a[i]) ** 2 for i in range(m)) / (2 * m)
    return m, h, a_prev, W, b, y, z, a, J


@formula(key="foursteps-dJ-da", source=S, chapter="ch-output-delta", verdict="wrong",
         where="第一步 (step 1)", written=r"\frac{\partial J}{\partial a_j^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i)",
         problem=r"The line before it uses $\frac{\partial}{\partial a_j}(y_i - a_i) = -1$ for EVERY $i$; it is $-1$ "
                 r"only for $i = j$ and 0 otherwise, so the sum collapses to one term.",
         correction=r"\frac{\partial J}{\partial a_j^l} = \frac{1}{m}(a_j^l - y_j)")
def _():
    m = 2
    A, y = sp.symbols("A_1:3", real=True), sp.symbols("y_1:3", real=True)
    JA = sum((y[i] - A[i]) ** 2 for i in range(m)) / (2 * m)
    return Case(sum(A[i] - y[i] for i in range(m)) / m, sp.diff(JA, A[0]), (A[0] - y[0]) / m,
                "∂J/∂a_1 with m = 2 outputs", point=random_point(set(A) | set(y), 2))


@formula(key="foursteps-dJ-da-vector", source=S, chapter="ch-output-delta", verdict="correct",
         where="第一步 (step 1, vector form)", written=r"\frac{\partial J}{\partial a^l} = \frac{1}{m} (a^l - y)")
def _():
    m = 2
    A, y = sp.symbols("A_1:3", real=True), sp.symbols("y_1:3", real=True)
    JA = sum((y[i] - A[i]) ** 2 for i in range(m)) / (2 * m)
    return Case((sp.Matrix(A) - sp.Matrix(y)) / m, sp.Matrix([sp.diff(JA, A[j]) for j in range(m)]),
                what="(1/m)(a − y) vs sympy.diff, m = 2 outputs",
                notes=["the vector form is right — and contradicts the scalar line above it"])


@formula(key="foursteps-dJ-dz", source=S, chapter="ch-output-delta", verdict="wrong",
         where="第二步 (step 2)",
         written=r"\frac{\partial J}{\partial z_j^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) a_j^l (1 - a_j^l)",
         problem="It inherits the wrong sum of step 1.",
         correction=r"\frac{\partial J}{\partial z_j^l} = \frac{1}{m}(a_j^l - y_j)\, a_j^l (1 - a_j^l)")
def _():
    m = 2
    zs, y = sp.symbols("z_1:3", real=True), sp.symbols("y_1:3", real=True)
    As = [sigma(v) for v in zs]
    Jz = sum((y[i] - As[i]) ** 2 for i in range(m)) / (2 * m)
    written = sum(As[i] - y[i] for i in range(m)) / m * As[0] * (1 - As[0])
    corrected = (As[0] - y[0]) / m * As[0] * (1 - As[0])
    return Case(written, sp.diff(Jz, zs[0]), corrected, "∂J/∂z_1 with m = 2 outputs",
                point=random_point(set(zs) | set(y), 4))


@formula(key="foursteps-dJ-dw", source=S, chapter="ch-output-delta", verdict="wrong",
         where="第三步 (step 3)",
         written=r"\frac{\partial J}{\partial w_{jk}^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) a_j^l (1 - a_j^l) a_k^{l-1}",
         problem=r"It inherits the wrong sum; also $k$ is both the free index of $w_{jk}$ and the summation index inside "
                 r"$\frac{\partial}{\partial w_{jk}}\sum_{k=1}^n w_{jk}a_k$.",
         correction=r"\frac{\partial J}{\partial w_{jk}^l} = \frac{1}{m}(a_j^l - y_j)\, a_j^l (1 - a_j^l)\, a_k^{l-1}")
def _():
    m, h, a_prev, W, b, y, z, a, J = _layer()
    written = sum(a[i] - y[i] for i in range(m)) / m * a[0] * (1 - a[0]) * a_prev[1]
    corrected = (a[0] - y[0]) / m * a[0] * (1 - a[0]) * a_prev[1]
    return Case(written, sp.diff(J, W[0, 1]), corrected, "∂J/∂w_12 with m = 2 outputs",
                point=random_point(J.free_symbols, 5))


@formula(key="foursteps-dJ-db", source=S, chapter="ch-output-delta", verdict="wrong",
         where="第四步 (step 4)",
         written=r"\frac{\partial J}{\partial b_j^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) a_j^l (1 - a_j^l)",
         problem="It inherits the wrong sum of step 1.",
         correction=r"\frac{\partial J}{\partial b_j^l} = \frac{1}{m}(a_j^l - y_j)\, a_j^l (1 - a_j^l)")
def _():
    m, h, a_prev, W, b, y, z, a, J = _layer()
    written = sum(a[i] - y[i] for i in range(m)) / m * a[1] * (1 - a[1])
    corrected = (a[1] - y[1]) / m * a[1] * (1 - a[1])
    return Case(written, sp.diff(J, b[1]), corrected, "∂J/∂b_2 with m = 2 outputs",
                point=random_point(J.free_symbols, 6))


@formula(key="foursteps-dw-vector", source=S, chapter="ch-batch", verdict="wrong",
         where="向量形式 (vector form)",
         written=r"\frac{\partial J}{\partial w^l} = \frac{1}{m} (a^{l-1})^T (a^l - y) \odot \sigma'(z^l)",
         problem=r"The source does not say whether $a^l=[a^l_1,\dots,a^l_m]$ is a row or a column, and the formula "
                 r"fails either way. With $w^l_{jk}$ (to $j$ from $k$) the gradient is an $m \times h$ matrix, the "
                 r"outer product of the output δ with the inputs. Read as columns, $(a^{l-1})^{\mathsf T}(a^l-y)$ "
                 r"multiplies a $1\times h$ by an $m\times 1$: it exists only if $h = m$, and then it is a number. "
                 r"Read as rows, it is an $h\times m$ outer product — the transpose of the gradient — and "
                 r"$\odot\,\sigma'(z^l)$ with a $1\times m$ row exists only by NumPy-style broadcasting.",
         correction=r"\frac{\partial J}{\partial w^l} = \Big(\frac1m (a^l - y)\odot\sigma'(z^l)\Big)(a^{l-1})^{\mathsf T}"
                    r"\ \text{(columns)}")
def _():
    m, h = 2, 3
    a_prev = sp.Matrix(sp.symbols("a^{l-1}_1:4", real=True))  # h × 1
    W, b, y = symbols_matrix("w", m, h), symbols_matrix("b", m, 1), symbols_matrix("y", m, 1)
    z = W * a_prev + b
    a = z.applyfunc(sigma)
    J = sum((y[i] - a[i]) ** 2 for i in range(m)) / (2 * m)
    truth = W.applyfunc(lambda w: sp.diff(J, w))
    sp_ = a.applyfunc(lambda v: v * (1 - v))  # σ'(z^l)
    columns = lambda: (a_prev.T * (a - y) / m).multiply_elementwise(sp_)  # noqa: E731
    rows_outer = a_prev * (a - y).T / m  # the row reading: (1×h)ᵀ (1×m) = h × m
    rows = rows_outer.multiply_elementwise(sp.ones(h, 1) * sp_.T)  # ⊙ σ' only by broadcasting the row
    corrected = ((a - y) / m).multiply_elementwise(sp_) * a_prev.T
    from ..symbolic import is_zero
    return Case(columns, truth, corrected, f"∂J/∂w^l ({m}×{h}), h = {h} inputs, m = {m} outputs, read as columns",
                [f"read as rows it is {rows.shape[0]}×{rows.shape[1]}, and (broadcasting σ') "
                 + ("the transpose of" if is_zero(rows.T - truth) else "not even the transpose of")
                 + " ∂J/∂w^l"])


@formula(key="foursteps-db-vector", source=S, chapter="ch-batch", verdict="wrong",
         where="向量形式 (vector form)",
         written=r"\frac{\partial J}{\partial b^l} = \frac{1}{m} \sum_{i=1}^{m} (a_i^l - y_i) \odot \sigma'(z^l)",
         problem=r"The sum over the outputs collapses $(a^l-y)$ to one number before the element-wise product.",
         correction=r"\frac{\partial J}{\partial b^l} = \frac{1}{m} (a^l - y) \odot \sigma'(z^l)")
def _():
    m, h, a_prev, W, b, y, z, a, J = _layer()
    s = sum(a[i] - y[i] for i in range(m)) / m
    written = sp.Matrix([s * a[j] * (1 - a[j]) for j in range(m)])
    corrected = sp.Matrix([(a[j] - y[j]) / m * a[j] * (1 - a[j]) for j in range(m)])
    truth = sp.Matrix([sp.diff(J, b[j]) for j in range(m)])
    return Case(written, truth, corrected, "∂J/∂b, m = 2 outputs", point=random_point(J.free_symbols, 7))
