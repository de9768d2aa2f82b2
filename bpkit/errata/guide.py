"""Source 001, the guide (反向传播算法指南, ``src-guide``): column layout, θ, δ and Δ."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..symbolic import SymbolicNetwork, symbols_matrix
from ._core import Case, central_differences, formula, random_point, sigma

S = "src-guide"


def _np_sigma(z):
    return 1 / (1 + np.exp(-z))


@formula(key="guide-neuron-index", source=S, chapter="ch-notation", verdict="wrong",
         where="正文 (one neuron)", written=r"Y_i=\sigma(\sum{A_ix_i+b_i})",
         problem=r"One index $i$ for both the neuron and the summation: read literally, every neuron would use the "
                 r"same weights $A_i$ summed over the inputs. Neuron $i$ has its own row of weights.",
         correction=r"Y_i=\sigma\Big(\sum_j A_{ij}x_j+b_i\Big)")
def _():
    A, x, b = symbols_matrix("A", 2, 3), symbols_matrix("x", 3, 1), symbols_matrix("b", 2, 1)
    truth = sp.Matrix([sigma(sum(A[i, j] * x[j] for j in range(3)) + b[i]) for i in range(2)])
    shared = sum(A[0, j] * x[j] for j in range(3))  # one weight vector A_i summed over i
    written = sp.Matrix([sigma(shared + b[i]) for i in range(2)])
    corrected = (A * x + b).applyfunc(sigma)
    return Case(written, truth, corrected, "the two outputs of a 3 → 2 layer",
                ["read as written, neurons 1 and 2 weigh the inputs identically and differ only in b_i"])


@formula(key="guide-shapes", source=S, chapter="ch-notation", verdict="wrong",
         where="正文 (a layer)",
         written=r"Y=\sigma(A*X+B),\ Y\!:2\times1,\ A\!:3\times2,\ X\!:3\times1,\ B\!:2\times1",
         problem=r"$A*X$ of a $3\times2$ and a $3\times1$ matrix does not exist.",
         correction=r"Y = \sigma(A^{\mathsf T} X + B)\ \text{(or store the weights as a } 2\times3 \text{ matrix)}")
def _():
    A, X, B = symbols_matrix("A", 3, 2), symbols_matrix("x", 3, 1), symbols_matrix("B", 2, 1)
    truth = sp.Matrix([sum(A[j, i] * X[j] for j in range(3)) + B[i] for i in range(2)])  # weight A_ji from j to i
    return Case(lambda: A * X + B, truth, A.T * X + B, "the weighted inputs of the 3 → 2 layer (A_ji from input j)")


@formula(key="guide-fold-bias", source=S, chapter="ch-notation", verdict="correct",
         where="正文 (bias as an input)",
         written=r"Y=\sigma(A*X)\ \text{with a constant bias input added to every layer}")
def _():
    A, X, B = symbols_matrix("A", 2, 3), symbols_matrix("x", 3, 1), symbols_matrix("B", 2, 1)
    truth = sp.Matrix([sum(A[i, j] * X[j] for j in range(3)) + B[i] for i in range(2)])
    return Case(A.row_join(B) * X.col_join(sp.Matrix([[1]])), truth,
                what="[A | B] [X; 1] vs the neurons' sums Σ_j A_ij x_j + B_i")


def _guide_net():
    return SymbolicNetwork([2, 2, 3], "sigmoid", loss="mse", m=1)


@formula(key="guide-delta4", source=S, chapter="ch-hidden-delta", verdict="correct",
         where="正文 (δ)", written=r"\delta_4 = \frac{\partial\, COST}{\partial a_3},\qquad \delta_3 = \Delta_4 .* \sigma'(z_3)")
def _():
    net = _guide_net()
    a = symbols_matrix("alpha", 3, 1)
    cost = sum((a[i] - net.T[0, i]) ** 2 for i in range(3)) / 2
    a3 = net.A[1].T
    delta4 = a.applyfunc(lambda v: sp.diff(cost, v)).xreplace({a[i]: a3[i] for i in range(3)})
    written = delta4.multiply_elementwise(a3.applyfunc(lambda v: v * (1 - v)))
    return Case(written, net.deltas_by_diff()[1].T,
                what="δ_3 = δ_4 .* σ'(z_3) with δ_4 = ∂COST/∂a_3, vs sympy.diff(COST, z_3), 2-2-3 network",
                notes=["so δ_4 is a derivative by the OUTPUT a_3; δ_3, δ_2 are derivatives by z, like every other "
                       "source's δ"])


@formula(key="guide-delta-recursion", source=S, chapter="ch-hidden-delta", verdict="correct",
         where="正文 (Δ and δ)",
         written=r"\delta_3=\Delta_4 .* \sigma'(z),\qquad \Delta^3_{21}=(\theta^2_{32})^{\mathsf T}*\delta^3_{31}")
def _():
    net = _guide_net()
    D = net.deltas_by_diff()
    theta2 = net.W[1].T  # the guide's θ^2: (3 outputs) × (2 hidden), column layout
    Delta3 = theta2.T * D[1].T
    delta2 = Delta3.multiply_elementwise(net.A[0].T.applyfunc(lambda a: a * (1 - a)))
    return Case(delta2, D[0].T, what="δ^2 = ((θ^2)ᵀ δ^3) .* σ'(z^2) vs sympy.diff, 2-2-3 network")


@formula(key="guide-theta4", source=S, chapter="ch-batch", verdict="slip",
         where="正文 (worked example)", written=r"\theta^4_{31}=\frac{\partial{COST}}{\partial{a_3}}",
         problem=r"$\theta$ names the weights; the quantity defined here is $\delta^4_{31}$ (the next line uses "
                 r"$\Delta^4_{31}=\delta^4_{31}$, and the network has only $\theta^1$ and $\theta^2$).",
         correction=r"\delta^4_{31}=\frac{\partial{COST}}{\partial{a_3}}")
def _():
    rng = np.random.default_rng(4)
    y = rng.uniform(size=3)
    a3 = rng.uniform(size=3)

    def cost(a):
        return 0.5 * float(np.sum((a - y) ** 2))

    theta = {1: rng.normal(size=(2, 2)), 2: rng.normal(size=(3, 2))}

    def literal():
        if 4 not in theta:
            raise ValueError(f"θ^4 read literally: the network has the weights θ^1 {theta[1].shape} and "
                             f"θ^2 {theta[2].shape} only")
        return theta[4]

    alpha = sp.symbols("alpha_1:4", real=True)
    c = sum((alpha[i] - y[i]) ** 2 for i in range(3)) / 2
    delta4 = np.array([float(sp.diff(c, v).xreplace(dict(zip(alpha, a3)))) for v in alpha])
    return Case(literal, central_differences(cost, a3), delta4, "∂COST/∂a_3 for ½‖a_3 − y‖², central differences")


@formula(key="guide-theta-prime", source=S, chapter="ch-batch", verdict="wrong",
         where="正文 (θ')", written=r"\theta'_b=\delta_{b+1}*a_b",
         problem=r"Shapes: $\delta_{b+1}$ is $n\times1$ and $a_b$ is $m\times1$, so the product does not exist; the "
                 r"gradient of an $n\times m$ matrix is the outer product (the worked example right after does write "
                 r"$(a^2_{21})^{\mathsf T}$).",
         correction=r"\theta'_b=\delta_{b+1}\, a_b^{\mathsf T}")
def _():
    net = _guide_net()
    D = net.deltas_by_diff()
    delta3, a2 = D[1].T, net.A[0].T  # 3×1 and 2×1
    truth = net.W[1].T.applyfunc(lambda w: sp.diff(net.loss, w))
    return Case(lambda: delta3 * a2, truth, delta3 * a2.T, "∂COST/∂θ^2 (3×2) of a 2-2-3 network")


@formula(key="guide-backward-example", source=S, chapter="ch-batch", verdict="correct",
         where="正文 (worked example)",
         written=r"\delta^3_{31}=\Delta^4_{31}.*\sigma'(z^3_{31}),\ \theta'^2_{32}=\delta^3_{31}(a^2_{21})^{\mathsf T},\ "
                 r"\Delta^3_{21}=(\theta^2_{32})^{\mathsf T}\delta^3_{31},\ \delta^2_{21}=\Delta^3_{21}.*\sigma'(z^2_{21}),\ "
                 r"\theta'^1_{22}=\delta^2_{21}(a^1_{21})^{\mathsf T}")
def _():
    net = _guide_net()
    x = net.X.T
    a2, a3 = net.A[0].T, net.A[1].T
    delta3 = (a3 - net.T.T).multiply_elementwise(a3.applyfunc(lambda a: a * (1 - a)))
    delta2 = (net.W[1].T.T * delta3).multiply_elementwise(a2.applyfunc(lambda a: a * (1 - a)))
    truth = net.W[0].T.applyfunc(lambda w: sp.diff(net.loss, w))
    return Case(delta2 * x.T, truth, what="θ'^1 = δ^2 (a^1)ᵀ from the chain vs sympy.diff(COST, θ^1), 2-2-3 network")


@formula(key="guide-pseudocode", source=S, chapter="ch-batch", verdict="correct",
         where="伪代码 (pseudocode)",
         written=r"\text{For } i=1..m:\ \theta'_1 \mathrel{+}= \delta_2 a_1^{\mathsf T},\ \dots;\quad "
                 r"\theta'_1=\tfrac1m\,\theta'_1")
def _():
    rng = np.random.default_rng(0)
    th1, th2 = rng.normal(size=(2, 2)), rng.normal(size=(3, 2))
    X, Y = rng.normal(size=(5, 2)), rng.uniform(size=(5, 3))

    def cost(t1):  # the mean over the samples of ½‖a_3 − y‖²
        return float(np.mean([0.5 * np.sum((_np_sigma(th2 @ _np_sigma(t1 @ x)) - y) ** 2) for x, y in zip(X, Y)]))

    acc = np.zeros_like(th1)
    for x, y in zip(X, Y):  # the pseudocode, one sample (a column) at a time
        a2 = _np_sigma(th1 @ x)
        a3 = _np_sigma(th2 @ a2)
        d3 = (a3 - y) * a3 * (1 - a3)
        d2 = (th2.T @ d3) * a2 * (1 - a2)
        acc += np.outer(d2, x)
    return Case(acc / len(X), central_differences(cost, th1),
                what="θ'^1 averaged over m = 5 samples vs central differences of the mean COST")


@formula(key="guide-ce-delta", source=S, chapter="ch-output-delta", verdict="wrong",
         where="伪代码之后 (after the pseudocode)", written=r"\text{cross-entropy:}\quad \delta_3 = y-a_3",
         problem=r"With its own definitions ($\delta_4=\partial COST/\partial a_3$, $\delta_3=\Delta_4.*\sigma'(z_3)$), "
                 r"$\delta_3=\partial COST/\partial z_3=a_3-y$ for a sigmoid output with cross-entropy: the sign is flipped.",
         correction=r"\delta_3 = a_3 - y")
def _():
    z, y = sp.symbols("z_3 y", real=True)
    a = sigma(z)
    cost = -(y * sp.log(a) + (1 - y) * sp.log(1 - a))
    return Case(y - a, sp.diff(cost, z), a - y, "δ_3 = ∂COST/∂z_3, shown at z_3 = 1.2, y = 0",
                ["y − a_3 is the NEGATIVE gradient (the direction to move z_3), a_3 − y the gradient"],
                {z: sp.Float(1.2), y: sp.Float(0.0)})


def _F_G_T():
    x1, x2 = sp.symbols("X_1 X_2", real=True)
    u, v = sp.symbols("u v", real=True)
    return x1, x2, u, v, sp.sin, (lambda a, b: a * b), sp.tanh


@formula(key="guide-chain-partials", source=S, chapter="ch-chain-rule", verdict="correct",
         where="进一步讨论 (further discussion)",
         written=r"A(X_1,X_2)=F(G(X_1,T(X_2))),\quad A'(X_1)=F'*G'(X_1),\quad A'(X_2)= F'*G'*T'(X_2)")
def _():
    x1, x2, u, v, F, G, T = _F_G_T()
    A = F(G(x1, T(x2)))
    Fp = sp.cos(G(x1, T(x2)))
    dG_d1 = sp.diff(G(u, v), u).xreplace({u: x1, v: T(x2)})
    dG_d2 = sp.diff(G(u, v), v).xreplace({u: x1, v: T(x2)})
    return Case(sp.Matrix([Fp * dG_d1, Fp * dG_d2 * sp.diff(T(x2), x2)]), sp.Matrix([sp.diff(A, x1), sp.diff(A, x2)]),
                what="(∂A/∂X₁, ∂A/∂X₂) for F = sin, G(x₁, t) = x₁·t, T = tanh vs sympy.diff",
                notes=["G' means ∂G/∂x₁ in the first product and ∂G/∂t in the second"])


@formula(key="guide-shared-factor", source=S, chapter="ch-chain-rule", verdict="wrong",
         where="进一步讨论 (further discussion)",
         written=r"\text{要求 } A'(X_2)\text{，需要求 } F'*G'\text{，这个结果在计算 } A'(X_1)\text{ 时已经计算过了}",
         problem=r"Only $F'$ (that is $\partial A/\partial G$) is shared. The two partials use different derivatives of "
                 r"$G$ — with respect to its first argument for $X_1$, its second for $X_2$ — so "
                 r"$F'\cdot\partial G/\partial X_1$ cannot be reused for $X_2$.",
         correction=r"\frac{\partial A}{\partial X_1}=F'\,\frac{\partial G}{\partial X_1},\quad "
                    r"\frac{\partial A}{\partial X_2}=F'\,\frac{\partial G}{\partial T}\,T'(X_2);\ \text{shared: } F' = \delta")
def _():
    x1, x2, u, v, F, G, T = _F_G_T()
    A = F(G(x1, T(x2)))
    Fp = sp.cos(G(x1, T(x2)))
    reused = Fp * sp.diff(G(u, v), u).xreplace({u: x1, v: T(x2)}) * sp.diff(T(x2), x2)
    own = Fp * sp.diff(G(u, v), v).xreplace({u: x1, v: T(x2)}) * sp.diff(T(x2), x2)
    return Case(reused, sp.diff(A, x2), own, "∂A/∂X₂ reusing F'·G'(X₁), for F = sin, G = x₁t, T = tanh",
                ["the shared factor is F'(G) = ∂A/∂G only — in a network, δ = ∂L/∂z"],
                {x1: sp.Float(0.7), x2: sp.Float(-0.4)})


@formula(key="guide-a-coefficient", source=S, chapter="ch-chain-rule", verdict="correct",
         where="进一步讨论 (further discussion)",
         written=r"\text{上一层的输出 } a \text{ 则对应 } T' \text{ 作用于 } X_2 \text{ 上的系数}")
def _():
    x1, x2, u, v, F, G, T = _F_G_T()
    a = sp.Symbol("a", real=True)  # the previous layer's output
    T_lin = a * x2                   # X₂ a weight: T(X₂) = a·X₂ is the weighted input it enters
    G2 = x1 * sp.tanh(u)             # the next layer: activation, then the weight X₁
    A = sp.sin(G2.xreplace({u: T_lin}))
    delta = sp.cos(G2.xreplace({u: T_lin})) * sp.diff(G2, u).xreplace({u: T_lin})  # F'·G' = δ
    return Case(delta * a, sp.diff(A, x2),
                what="A'(X₂) = δ·a with δ = F'·G' and the coefficient a of X₂ in T(X₂) = a·X₂, vs sympy.diff",
                notes=["read with X₂ a weight and T(X₂) = a·X₂ its weighted input, T' is the coefficient a: the "
                       "weight gradient is δ times the previous layer's output, θ' = δ·a"])


@formula(key="guide-residual-new-sigma", source=S, chapter="ch-residual", verdict="correct",
         where="拓展 (extension: residual blocks)",
         written=r"\text{把 } X+\sigma(X) \text{ 看作一个新的 } Y=\sigma(X) \text{ 即可}")
def _():
    x = symbols_matrix("x", 1, 2)
    t = symbols_matrix("t", 1, 2)
    loss = sum((x[j] + sigma(x[j]) - t[j]) ** 2 for j in range(2)) / 2  # the block as drawn: Y = X + σ(X)
    dY = sp.Matrix(1, 2, lambda i, j: x[j] + sigma(x[j]) - t[j])
    written = dY.multiply_elementwise(x.applyfunc(lambda v: 1 + sigma(v) * (1 - sigma(v))))  # g' = 1 + σ'
    truth = x.applyfunc(lambda v: sp.diff(loss, v))
    rng = np.random.default_rng(5)
    X, W, b, dYn = rng.normal(size=(1, 2)), rng.normal(size=(2, 2)), rng.normal(size=2), rng.normal(size=(1, 2))
    Z = X @ W + b
    s = _np_sigma(Z)
    true_dX = dYn + (dYn * s * (1 - s)) @ W.T
    g_dX = (dYn * (1 + s * (1 - s))) @ W.T
    return Case(written, truth,
                what="∂L/∂X through Y = X + σ(X) with g(x) = x + σ(x), g' = 1 + σ', vs sympy.diff",
                notes=["right for the block as drawn, Y = X + σ(X): one element-wise function",
                       f"not for a block with weights, Y = X + σ(XW + b): ∂L/∂X is {np.round(true_dX, 4).tolist()}, "
                       f"while g' in the layer rule gives {np.round(g_dX, 4).tolist()} (the identity path bypasses W)"])


def _deep_sigmoid(depth=10, width=3, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(width, width)) for _ in range(depth)]
    x, y = rng.normal(size=width), rng.uniform(size=width)

    def loss(W1):
        a = x
        for W in [W1] + Ws[1:]:
            a = _np_sigma(W @ a)
        return 0.5 * float(np.sum((a - y) ** 2))

    def backprop():  # the recursion, column layout, written out here
        acts = [x]
        for W in Ws:
            acts.append(_np_sigma(W @ acts[-1]))
        delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
        grads = []
        for l in range(depth - 1, -1, -1):
            grads.append(np.outer(delta, acts[l]))
            if l:
                delta = (Ws[l].T @ delta) * acts[l] * (1 - acts[l])
        return grads[::-1]

    return Ws, loss, backprop


@formula(key="guide-vanishing-zero", source=S, chapter="ch-residual", verdict="slip",
         where="拓展 (extension)", written=r"\text{梯度消失的情况（梯度}=0\text{）}",
         problem=r"Vanishing gradients are small, not zero: each sigmoid layer multiplies the gradient by "
                 r"$W^{\mathsf T}\mathrm{diag}(\sigma'(z))$ with $\sigma'\le\tfrac14$, so early layers' gradients "
                 r"typically shrink geometrically with depth.",
         correction=r"\Big\|\frac{\partial L}{\partial W^{(1)}}\Big\| \text{ small, shrinking with depth — not } 0")
def _():
    Ws, loss, backprop = _deep_sigmoid()
    grads = backprop()
    truth = central_differences(loss, Ws[0], h=1e-5)
    return Case(np.zeros_like(Ws[0]), truth, grads[0], "∂L/∂W⁽¹⁾ of a 10-layer sigmoid network, central differences",
                [f"‖∂L/∂W‖ is {np.linalg.norm(grads[-1]):.2e} at the last layer and {np.linalg.norm(grads[0]):.2e} "
                 f"at the first — small, yet not 0"])
