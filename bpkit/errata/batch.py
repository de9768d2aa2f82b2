"""Source 003, the batch matrix form (传播, ``src-batch``): rows are samples, Z = AW + 1bᵀ."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..symbolic import _name_derivatives, _partial, symbols_matrix
from ._core import Case, formula, judge

S = "src-batch"


def _one_sample():
    return symbols_matrix("w", 3, 2), symbols_matrix("a", 3, 1), symbols_matrix("b", 2, 1)


@formula(key="batch-w-i-length", source=S, chapter="ch-notation", verdict="wrong",
         where="前向传播 (forward pass)",
         written=r"\boldsymbol{w_i}^{(l)} = (w_{1i}^{(l)}, \dots, w_{n_{l}i}^{(l)})^\mathrm{T}",
         problem=r"$\boldsymbol{w_i}$ is column $i$ of the $n_{l-1}\times n_l$ matrix $\mathbf W^{(l)}$, so it has "
                 r"$n_{l-1}$ entries, not $n_l$.",
         correction=r"\boldsymbol{w_i}^{(l)} = (w_{1i}^{(l)}, \dots, w_{n_{l-1}i}^{(l)})^\mathrm{T}")
def _():
    W, a, b = _one_sample()  # n_{l-1} = 3, n_l = 2
    z1 = sum(a[k] * W[k, 0] for k in range(3)) + b[0]
    truth = sp.Matrix([sp.diff(z1, a[k]) for k in range(3)])  # the weights neuron 1 applies to its inputs
    return Case(sp.Matrix([W[k, 0] for k in range(2)]), truth, sp.Matrix([W[k, 0] for k in range(3)]),
                "w_1 = ∂z_1/∂a^{(l−1)}, n_{l−1} = 3, n_l = 2")


@formula(key="batch-z-i", source=S, chapter="ch-notation", verdict="correct",
         where="前向传播 (forward pass)",
         written=r"z_i^{(l)} = (\boldsymbol{a}^{l-1})^\mathrm{T} \cdot \boldsymbol{w_i}^{(l)} + b_i^{(l)},\quad "
                 r"\boldsymbol{z}^{(l)} = ({\boldsymbol{a}^{(l-1)}}^\mathrm{T} \cdot \mathbf{W}^{(l)})^\mathrm{T} + {\boldsymbol{b}^{(l)}}")
def _():
    W, a, b = _one_sample()
    truth = sp.Matrix([sum(a[k] * W[k, i] for k in range(3)) + b[i] for i in range(2)])
    return Case((a.T * W).T + b, truth, what="(aᵀW)ᵀ + b vs the neurons' sums Σ_k a_k w_ki + b_i")


@formula(key="batch-forward", source=S, chapter="ch-notation", verdict="correct",
         where="前向传播 (batch)",
         written=r"\mathbf{Z}^{(l)} = \mathbf{A}^{(l-1)} \mathbf{W}^{(l)} + \boldsymbol{1}_{m \times 1} {\boldsymbol{b}^{(l)}}^\mathrm{T},"
                 r"\quad \mathbf{A}^{(l)} = \mathbf{G}^{(l)}(\mathbf{Z}^{(l)})")
def _():
    A, W, b = symbols_matrix("a", 2, 3), symbols_matrix("w", 3, 2), symbols_matrix("b", 2, 1)
    truth = sp.Matrix(2, 2, lambda s, i: sum(A[s, k] * W[k, i] for k in range(3)) + b[i])
    return Case(A * W + sp.ones(2, 1) * b.T, truth, what="AW + 1bᵀ vs each sample's sums Σ_k a_sk w_ki + b_i, m = 2")


@formula(key="batch-loss-sum", source=S, chapter="ch-batch", verdict="slip",
         where="反向传播 (backward pass)", written=r"L(\boldsymbol{\theta}) = \sum_i^m l(\boldsymbol{\theta})",
         problem=r"The per-sample loss needs the sample's index, $l_i(\boldsymbol\theta)$ — as written the sum adds the "
                 r"same term $m$ times. Note too that it is a SUM over samples; the book's default (and bpkit's) is "
                 r"the mean.",
         correction=r"L(\boldsymbol{\theta}) = \sum_{i=1}^m l_i(\boldsymbol{\theta})")
def _():
    rng = np.random.default_rng(1)
    A, T = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    per = [0.5 * float(np.sum((A[i] - T[i]) ** 2)) for i in range(3)]
    truth = 0.5 * float(np.sum((A - T) ** 2))  # the squared error of the whole batch
    return Case(3 * per[0], truth, sum(per), "the total squared error of three samples",
                [f"l_1, l_2, l_3 = {', '.join(f'{p:.4g}' for p in per)}"])


@formula(key="batch-dz", source=S, chapter="ch-batch", verdict="correct",
         where="反向传播 (backward pass)",
         written=r"\mathrm{d} \boldsymbol{z}^{(l)} = {\mathbf{W}^{(l)}}^\mathrm{T} \mathrm{d} \boldsymbol{a}^{(l-1)} + \mathrm{d} \boldsymbol{b}^{(l)}")
def _():
    W, a, b = _one_sample()
    da, db = symbols_matrix("da", 3, 1), symbols_matrix("db", 2, 1)
    z = lambda a_, b_: sp.Matrix([sum(a_[k] * W[k, i] for k in range(3)) + b_[i] for i in range(2)])  # noqa: E731
    return Case(W.T * da + db, (z(a + da, b + db) - z(a, b)).expand(),
                what="Wᵀ da + db vs z(a + da, b + db) − z(a, b) (z is linear)")


@formula(key="batch-dz-da", source=S, chapter="ch-batch", verdict="slip",
         where="反向传播 (backward pass)",
         written=r"\cfrac{\partial \mathrm{d} \boldsymbol{z}^{(l)}}{\partial \boldsymbol{a}^{(l-1)}} = \mathbf{W}^{(l)}",
         problem=r"“$\partial\,\mathrm d z$” mixes a differential into a derivative: read literally, "
                 r"$\mathrm dz = \mathbf W^{\mathsf T}\mathrm da + \mathrm db$ does not depend on $a$ at all. Meant: the "
                 r"Jacobian $\partial z/\partial a$ in denominator layout (entry $(i,j) = \partial z_j/\partial a_i$), "
                 r"which is $\mathbf W^{(l)}$.",
         correction=r"\frac{\partial \boldsymbol z^{(l)}}{\partial \boldsymbol a^{(l-1)}} = \mathbf W^{(l)}\ \text{(denominator layout)}")
def _():
    W, a, b = _one_sample()
    da, db = symbols_matrix("da", 3, 1), symbols_matrix("db", 2, 1)
    dz = W.T * da + db
    z = sp.Matrix([sum(a[k] * W[k, i] for k in range(3)) + b[i] for i in range(2)])
    literal = sp.Matrix(3, 2, lambda i, j: sp.diff(dz[j], a[i]))
    truth = sp.Matrix(3, 2, lambda i, j: sp.diff(z[j], a[i]))
    return Case(literal, truth, W, "the 3×2 matrix of derivatives by a: ∂(dz)/∂a read literally, vs ∂z_j/∂a_i")


@formula(key="batch-dz-db", source=S, chapter="ch-batch", verdict="wrong",
         where="反向传播 (backward pass)",
         written=r"\cfrac{\partial \mathrm{d} \boldsymbol{z}^{(l)}}{\partial \boldsymbol{b}^{(l)}} = \boldsymbol{1}_{n_l \times 1}",
         problem=r"Each $z_j$ depends on its own $b_j$ only: the Jacobian $\partial z/\partial b$ is the identity "
                 r"$I_{n_l}$, an $n_l\times n_l$ matrix, not a vector of ones.",
         correction=r"\frac{\partial \boldsymbol z^{(l)}}{\partial \boldsymbol b^{(l)}} = I_{n_l}")
def _():
    W, a, b = _one_sample()
    z = sp.Matrix([sum(a[k] * W[k, i] for k in range(3)) + b[i] for i in range(2)])
    truth = sp.Matrix(2, 2, lambda i, j: sp.diff(z[j], b[i]))
    return Case(sp.ones(2, 1), truth, sp.eye(2), "the matrix of ∂z_j/∂b_i, n_l = 2")


@formula(key="batch-dl-da", source=S, chapter="ch-batch", verdict="wrong",
         where="反向传播 (backward pass)",
         written=r"\cfrac{\partial \mathrm{d} l(\boldsymbol{\theta})}{\partial \boldsymbol{a}^{(l-1)}} = \mathbf{W}^{(l)},\qquad "
                 r"\cfrac{\partial \mathrm{d} l(\boldsymbol{\theta})}{\partial \boldsymbol{b}^{(l)}} = \boldsymbol{1}_{n_l \times 1}",
         problem=r"Copied from the lines above with $z$ replaced by $l$ (the author notes “感觉下面应该是炸了”, "
                 r"“I think what follows is broken”). The loss's gradients go through $\partial l/\partial z$.",
         correction=r"\frac{\partial l}{\partial \boldsymbol a^{(l-1)}} = \mathbf W^{(l)} \frac{\partial l}{\partial \boldsymbol z^{(l)}},\qquad "
                    r"\frac{\partial l}{\partial \boldsymbol b^{(l)}} = \frac{\partial l}{\partial \boldsymbol z^{(l)}}")
def _():
    W, a, b = _one_sample()
    t = symbols_matrix("t", 2, 1)
    z = sp.Matrix([sum(a[k] * W[k, i] for k in range(3)) + b[i] for i in range(2)])
    zeta = symbols_matrix("zeta", 2, 1)
    loss_z = sum((zeta[j] - t[j]) ** 2 for j in range(2)) / 2
    dl_dz = zeta.applyfunc(lambda v: sp.diff(loss_z, v)).xreplace(dict(zip(zeta, z)))
    loss = loss_z.xreplace(dict(zip(zeta, z)))
    truth_a = a.applyfunc(lambda v: sp.diff(loss, v))
    truth_b = b.applyfunc(lambda v: sp.diff(loss, v))
    jb_w, jb_c = judge(sp.ones(2, 1), truth_b), judge(dl_dz, truth_b)
    return Case(W, truth_a, W * dl_dz, "∂l/∂a for l = ½‖z − t‖², by sympy.diff",
                [f"∂l/∂b: as written {'agrees' if jb_w.holds else 'DISAGREES'} ({jb_w.reason}); "
                 f"∂l/∂z {'agrees' if jb_c.holds else 'DISAGREES'} ({jb_c.reason})"])


def _generic_layer():
    m, n_in, n_out = 2, 3, 2
    A, W, b = symbols_matrix("a", m, n_in), symbols_matrix("w", n_in, n_out), symbols_matrix("b", 1, n_out)
    Z = sp.Matrix(m, n_out, lambda s, j: sum(A[s, k] * W[k, j] for k in range(n_in)) + b[j])
    G = sp.Function("G")
    L = G(*Z)
    dZ = sp.Matrix(m, n_out, lambda i, j: _partial(G, i * n_out + j, m * n_out)(*Z))
    return A, W, b, Z, L, dZ


@formula(key="batch-dA", source=S, chapter="ch-batch", verdict="correct",
         where="链式求导 + 定义 (chain rule)",
         written=r"\cfrac{\partial L}{\partial \mathbf{A}^{(l-1)}} = \cfrac{\partial L}{\partial \mathbf{Z}^{(l)}}{\mathbf{W}^{(l)}}^\mathrm{T}")
def _():
    A, W, b, Z, L, dZ = _generic_layer()
    return Case(dZ * W.T, A.applyfunc(lambda a: _name_derivatives(sp.diff(L, a))),
                what="∂L/∂Z Wᵀ vs sympy.diff for ANY loss L = G(Z), m = 2, 3 → 2")


@formula(key="batch-dW", source=S, chapter="ch-batch", verdict="correct",
         where="链式求导 + 定义 (chain rule)",
         written=r"\cfrac{\partial L}{\partial \mathbf{W}^{(l)}} = {\mathbf{A}^{(l-1)}}^\mathrm{T} \cfrac{\partial L}{\partial \mathbf{Z}^{(l)}}")
def _():
    A, W, b, Z, L, dZ = _generic_layer()
    return Case(A.T * dZ, W.applyfunc(lambda w: _name_derivatives(sp.diff(L, w))),
                what="Aᵀ ∂L/∂Z vs sympy.diff for ANY loss L = G(Z)")


@formula(key="batch-db", source=S, chapter="ch-batch", verdict="correct",
         where="链式求导 + 定义 (chain rule)",
         written=r"\cfrac{\partial L}{\partial \boldsymbol{b}^{(l)}} = (\boldsymbol{1}_{m \times 1}^\mathrm{T} \cfrac{\partial L}{\partial \mathbf{Z}^{(l)}})^\mathrm{T}")
def _():
    A, W, b, Z, L, dZ = _generic_layer()
    return Case((sp.ones(2, 1).T * dZ).T, b.applyfunc(lambda v: _name_derivatives(sp.diff(L, v))).T,
                what="(1ᵀ ∂L/∂Z)ᵀ vs sympy.diff for ANY loss L = G(Z)")
