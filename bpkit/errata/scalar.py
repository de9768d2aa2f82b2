"""Source 000, the per-neuron derivation (反向传播公式推导, ``src-scalar``)."""

from __future__ import annotations

import sympy as sp

from ..symbolic import SymbolicNetwork, symbols_matrix
from ._core import Case, formula, random_point, sigma

S = "src-scalar"


def _out_layer(n_in=3, n_out=1):
    """An MSE + sigmoid output layer for one sample: inputs o_u, weights w_{u v}, targets t_v."""
    o = sp.Matrix(1, n_in, sp.symbols(f"o_1:{n_in + 1}", real=True))
    W = symbols_matrix("w", n_in, n_out)
    b = sp.Matrix(1, n_out, sp.symbols(f"b_1:{n_out + 1}", real=True))
    t = sp.Matrix(1, n_out, sp.symbols(f"t_1:{n_out + 1}", real=True))
    z = o * W + b
    a = z.applyfunc(sigma)
    return o, W, b, t, z, a


def _two_layer():
    """2-2-2 sigmoid network, one sample, MSE summed over the two outputs (the source's setting)."""
    return SymbolicNetwork([2, 2, 2], "sigmoid", loss="mse", m=1)


@formula(key="scalar-forward-no-bias", source=S, chapter="ch-notation", verdict="slip",
         where="前向传播 (forward pass)", written=r"z_q = \sum_p w_{pq}\, o_p",
         problem="The forward pass has no bias, yet the output-layer derivation differentiates "
                 r"$w_{u_1v}o_{u_1}+\dots+w_{u_nv}o_{u_n}+b_v$, which has one.",
         correction=r"z_q = \sum_p w_{pq}\, o_p + b_q")
def _():
    o, W, b, t, z, a = _out_layer(2, 1)
    L = (t[0] - a[0]) ** 2 / 2
    params = [W[0, 0], W[1, 0], b[0]]
    truth = sp.Matrix([sp.diff(L, p) for p in params])  # the network the derivation differentiates
    z_written = o[0] * W[0, 0] + o[1] * W[1, 0]
    z_fixed = z_written + b[0]

    def grad(zq):
        Lq = (t[0] - sigma(zq)) ** 2 / 2
        return sp.Matrix([sp.diff(Lq, p) for p in params])

    return Case(grad(z_written), truth, grad(z_fixed), "∇L over (w_1v, w_2v, b_v), one output neuron",
                ["without the bias ∂L/∂b_v is 0 and the weight gradients are evaluated at another z; "
                 "with it they are the source's own output-layer formulas"])


@formula(key="scalar-mse", source=S, chapter="ch-output-delta", verdict="correct",
         where="前向传播 (forward pass)", written=r"L=\frac{1}{2}(t_v-o_v)^2")
def _():
    net = SymbolicNetwork([2, 1], "sigmoid", loss="mse", m=1)
    written = (net.T[0, 0] - net.A[-1][0, 0]) ** 2 / 2
    return Case(written, net.loss, what="one sample, one sigmoid output: vs the book's loss ½‖a − t‖²/m")


@formula(key="scalar-output-chain", source=S, chapter="ch-output-delta", verdict="correct",
         where="输出层梯度计算 (output layer)",
         written=r"\frac{\partial L}{\partial w_{u_t v}}=\frac{\partial L}{\partial o_v}\cdot "
                 r"\frac{\partial o_v}{\partial z_v}\cdot \frac{\partial z_v}{\partial w_{u_tv}}")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    zs, os_ = sp.symbols("z_v o_v", real=True)
    chain = (sp.diff((t[0] - os_) ** 2 / 2, os_) * sp.diff(sigma(zs), zs) * sp.diff(z[0], W[1, 0])).xreplace(
        {os_: a[0]}).xreplace({zs: z[0]})
    return Case(chain, sp.diff(L, W[1, 0]), what="product of the three factors vs sympy.diff(L, w_{u_2 v})")


@formula(key="scalar-dL-do", source=S, chapter="ch-output-delta", verdict="correct",
         where="输出层梯度计算 (output layer)", written=r"\frac{\partial L}{\partial o_v}=-(t_v-o_v)")
def _():
    t, o = sp.symbols("t_v o_v", real=True)
    return Case(-(t - o), sp.diff((t - o) ** 2 / 2, o), what="−(t_v − o_v) vs sympy.diff(½(t_v − o_v)², o_v)")


@formula(key="scalar-do-dz", source=S, chapter="ch-output-delta", verdict="correct",
         where="输出层梯度计算 (output layer)", written=r"\frac{\partial o_v}{\partial z_v}=o_v(1-o_v)")
def _():
    z = sp.Symbol("z_v", real=True)
    return Case(sigma(z) * (1 - sigma(z)), sp.diff(sigma(z), z), what="o_v(1 − o_v) vs sympy.diff(σ(z_v), z_v)")


@formula(key="scalar-dz-dw", source=S, chapter="ch-output-delta", verdict="slip",
         where="输出层梯度计算 (output layer)",
         written=r"\frac{\partial z_v}{\partial w_{u_t v}}=\frac{\partial (w_{u_1v}o_{u_1}+\dots+w_{u_t v}o_{u_t}+\dots"
                 r"+w_{u_n v}o_{u_n}+b_v)}{\partial w_{u_t}}=o_{u_t}",
         problem=r"The denominator is written $\partial w_{u_t}$ — the index $v$ is missing. Read literally, "
                 r"$w_{u_t}$ is every weight out of $u_t$, and $\partial z_v$ by that vector is $o_{u_t}$ in "
                 r"entry $v$ and 0 elsewhere, not the number $o_{u_t}$.",
         correction=r"\frac{\partial z_v}{\partial w_{u_t v}} = o_{u_t}")
def _():
    o, W, b, t, z, a = _out_layer(3, 2)  # two neurons v = 1, 2 in the layer
    v, u = 0, 1
    literal = sp.Matrix([sp.diff(z[v], W[u, k]) for k in range(2)])  # by the vector w_{u_t ·}
    claimed = sp.Matrix([o[u], o[u]])  # "= o_{u_t}" for every entry
    return Case(claimed, literal, sp.Matrix([o[u], 0]), "∂z_1 by the weights out of u_2, (w_{u_2 1}, w_{u_2 2})",
                [f"with the index v: ∂z_v/∂w_{{u_t v}} = {sp.diff(z[v], W[u, v])} = o_{{u_t}}, the value the source uses"])


@formula(key="scalar-output-grad", source=S, chapter="ch-output-delta", verdict="correct",
         where="输出层梯度计算 (output layer)",
         written=r"\frac{\partial L}{\partial w_{u_t v}}=-(t_v-o_v)\cdot o_v(1-o_v)\cdot o_{u_t}")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    written = -(t[0] - a[0]) * a[0] * (1 - a[0]) * o[2]
    return Case(written, sp.diff(L, W[2, 0]), what="∂L/∂w_{u_3 v} vs sympy.diff")


@formula(key="scalar-delta-sign", source=S, chapter="ch-output-delta", verdict="wrong",
         where="输出层梯度计算 (output layer)",
         written=r"\delta_v = \frac{\partial L}{\partial o_v}\cdot \frac{\partial o_v}{\partial z_v}"
                 r"=\frac{\partial L}{\partial z_v}=(t_v-o_v)\cdot o_v(1-o_v)",
         problem=r"The sign is flipped: $\partial L/\partial o_v = -(t_v - o_v)$ (the source's own previous line), so "
                 r"$\partial L/\partial z_v = -(t_v-o_v)\,o_v(1-o_v)$. The written $\delta_v$ is $-\partial L/\partial z_v$.",
         correction=r"\delta_v = \frac{\partial L}{\partial z_v} = (o_v - t_v)\, o_v(1-o_v)")
def _():
    zv, tv = sp.symbols("z_v t_v", real=True)
    ov = sigma(zv)
    L = (tv - ov) ** 2 / 2
    point = {zv: sp.Float(0.8), tv: sp.Float(0.1)}
    return Case((tv - ov) * ov * (1 - ov), sp.diff(L, zv), (ov - tv) * ov * (1 - ov),
                "δ_v = ∂L/∂z_v, shown at z_v = 0.8, t_v = 0.1 (output too large)",
                ["the written δ_v is negative although raising z_v raises the loss here: it is −∂L/∂z_v"], point)


@formula(key="scalar-dL-dw-delta", source=S, chapter="ch-output-delta", verdict="slip",
         where="输出层梯度计算 (output layer)", written=r"\frac{\partial L}{\partial w_{u_t v}}=-\delta_v\, o_{u_t}",
         problem=r"Right for the source's own (sign-flipped) $\delta_v=(t_v-o_v)o_v(1-o_v)$, but it contradicts the "
                 r"claim $\delta_v = \partial L/\partial z_v$ made in the same sentence: with "
                 r"$\delta_v=\partial L/\partial z_v$ the rule is $+\delta_v o_{u_t}$.",
         correction=r"\frac{\partial L}{\partial w_{u_t v}} = \delta_v\, o_{u_t},\quad "
                    r"\delta_v = \frac{\partial L}{\partial z_v}")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    zs = sp.Symbol("z")
    delta = sp.diff((t[0] - sigma(zs)) ** 2 / 2, zs).xreplace({zs: z[0]})  # δ_v = ∂L/∂z_v, as the text says
    delta_source = (t[0] - a[0]) * a[0] * (1 - a[0])
    ok = sp.simplify(-delta_source * o[0] - sp.diff(L, W[0, 0])) == 0
    return Case(-delta * o[0], sp.diff(L, W[0, 0]), delta * o[0], "∂L/∂w_{u_1 v} with δ_v = ∂L/∂z_v",
                ["with the source's own sign-flipped δ_v the rule −δ_v o_{u_1} " + ("does" if ok else "does not")
                 + " give sympy.diff — two inconsistencies that cancel"])


@formula(key="scalar-gradient-vector", source=S, chapter="ch-output-delta", verdict="slip",
         where="输出层梯度计算 (output layer)",
         written=r"\nabla L=(\frac{\partial L}{\partial w_{u_1}v},\dots, \frac{\partial L}{\partial w_{u_t}v},\dots, "
                 r"\frac{\partial L}{\partial w_{u_n}v})",
         problem=r"The $v$ has slipped out of the subscripts, and the vector lists only the weights into $v$: the "
                 r"gradient of $L$ has one entry per weight and bias (the hidden-layer section repeats it with "
                 r"$w_{p_t q}$).",
         correction=r"\nabla L = \Big(\frac{\partial L}{\partial w_{pq}}, \frac{\partial L}{\partial b_q}\Big)_{\text{all } p, q}")
def _():
    o, W, b, t, z, a = _out_layer()
    L = (t[0] - a[0]) ** 2 / 2
    truth = sp.Matrix([sp.diff(L, p) for p in list(W) + list(b)])
    written = sp.Matrix([sp.diff(L, w) for w in W])
    zs = sp.Symbol("z")
    delta = sp.diff((t[0] - sigma(zs)) ** 2 / 2, zs).xreplace({zs: z[0]})
    corrected = sp.Matrix([delta * o[0], delta * o[1], delta * o[2], delta])
    return Case(written, truth, corrected, "∇L of one output neuron with 3 inputs and a bias",
                ["the written vector has 3 entries; the missing ∂L/∂b_v is δ_v, the weight rule with input 1"])


@formula(key="scalar-hidden-dw", source=S, chapter="ch-hidden-delta", verdict="correct",
         where="隐藏层梯度计算 (hidden layer)",
         written=r"\frac{\partial L}{\partial w_{p_tq}}=\frac{\partial L}{\partial z_q}\cdot "
                 r"\frac{\partial z_q}{\partial w_{p_tq}},\qquad \frac{\partial z_q}{\partial w_{p_tq}}=o_{p_t}")
def _():
    net = _two_layer()
    D = net.deltas_by_diff()[0]
    return Case(D[0, 0] * net.X[0, 1], sp.diff(net.loss, net.W[0][1, 0]),
                what="∂L/∂z_1 · o_2 vs sympy.diff(L, w_21), 2-2-2 network")


def _hidden_chain(net, dzk_dzq):
    """Σ_k ∂L/∂o_k · f'(z_k) · (∂z_k/∂z_q as given) for q = hidden neuron 1, as a function of ζ = z_1."""
    z1 = net.Zcut[0][0, 0]
    ok = [sp.Symbol(f"ok{k}") for k in range(2)]
    zk = [sp.Symbol(f"zk{k}") for k in range(2)]
    Lout = sum((ok[k] - net.T[0, k]) ** 2 for k in range(2)) / 2
    A1 = net.Zcut[0].applyfunc(sigma)
    Z2 = A1 * net.W[1] + net.b[1]
    total = 0
    for k in range(2):
        dL_dok = sp.diff(Lout, ok[k]).xreplace({ok[j]: sigma(Z2[0, j]) for j in range(2)})
        total += dL_dok * sp.diff(sigma(zk[k]), zk[k]).xreplace({zk[k]: Z2[0, k]}) * dzk_dzq(k, z1)
    return total, sp.diff(net.loss_after(0), z1)


@formula(key="scalar-hidden-chain", source=S, chapter="ch-chain-rule", verdict="correct",
         where="隐藏层梯度计算 (hidden layer)",
         written=r"\frac{\partial L}{\partial z_q}=\sum_k \frac{\partial L}{\partial o_k}\cdot "
                 r"\frac{\partial o_k}{\partial z_q},\qquad \frac{\partial o_k}{\partial z_q}=f'(z_k)\cdot w_{qk}\cdot f'(z_q)")
def _():
    net = _two_layer()
    written, truth = _hidden_chain(net, lambda k, z1: net.W[1][0, k] * sp.diff(sigma(z1), z1))
    return Case(written, truth, what="Σ_k ∂L/∂o_k · f'(z_k) w_1k f'(z_1) vs sympy.diff(L, z_1), 2-2-2 network")


@formula(key="scalar-dzk-dzq", source=S, chapter="ch-hidden-delta", verdict="wrong",
         where="隐藏层梯度计算 (hidden layer)",
         written=r"\frac{\partial z_k}{\partial z_q}=\frac{\partial z_k}{\partial o_q}\cdot \frac{\partial o_q}{\partial z_q}"
                 r"=\frac{\partial (w_{q_1k}o_{q_1}+\dots+w_{qk}o_{q}+\dots+w_{q_rk}o_{q_r})}{\partial o_q}"
                 r"=w_{qk}\cdot f'(z_q)",
         problem=r"The middle step is wrong: the derivative of the sum by $o_q$ is $w_{qk}$. The factor $f'(z_q)$ "
                 r"is $\partial o_q/\partial z_q$, the second factor of the chain, which the middle expression has "
                 r"dropped. The end result $w_{qk}f'(z_q)$ is right.",
         correction=r"\frac{\partial z_k}{\partial z_q}=\underbrace{\frac{\partial (\dots+w_{qk}o_{q}+\dots)}"
                    r"{\partial o_q}}_{=\,w_{qk}}\cdot \underbrace{\frac{\partial o_q}{\partial z_q}}_{=\,f'(z_q)}"
                    r"=w_{qk}\, f'(z_q)")
def _():
    oq, oo, zq, w, wo, b = sp.symbols("o_q o_o z_q w_qk w_ok b_k", real=True)
    weighted_sum = w * oq + wo * oo + b
    truth = sp.diff(weighted_sum, oq)  # ∂(w_q1k o_q1 + … + w_qk o_q + …)/∂o_q
    written_middle = w * sp.diff(sigma(zq), zq)  # "= w_qk f'(z_q)"
    zk = weighted_sum.xreplace({oq: sigma(zq)})
    end_ok = sp.simplify(w * sp.diff(sigma(zq), zq) - sp.diff(zk, zq)) == 0
    return Case(written_middle, truth, w, "∂(the weighted sum)/∂o_q vs sympy.diff",
                ["the end result w_qk f'(z_q) " + ("equals" if end_ok else "differs from")
                 + " sympy.diff(z_k, z_q): only the middle step is wrong"],
                random_point({zq, w}, 11))


@formula(key="scalar-hidden-delta", source=S, chapter="ch-hidden-delta", verdict="correct",
         where="隐藏层梯度计算 (hidden layer)",
         written=r"\delta_q=\sum_k \delta_k w_{qk}\cdot f'(z_q) = o_q(1-o_q)\sum_k \delta_kw_{qk}")
def _():
    net = _two_layer()
    D = net.deltas_by_diff()
    A1 = net.A[0]
    rec = sum(D[1][0, k] * net.W[1][0, k] for k in range(2)) * A1[0, 0] * (1 - A1[0, 0])
    return Case(rec, D[0][0, 0], what="o_1(1 − o_1) Σ_k δ_k w_1k with δ_k = ∂L/∂z_k vs sympy.diff(L, z_1)")


@formula(key="scalar-sign-propagates", source=S, chapter="ch-hidden-delta", verdict="wrong",
         where="隐藏层梯度计算 (hidden layer)",
         written=r"\delta_v=(t_v-o_v)\,o_v(1-o_v),\quad \delta_q=o_q(1-o_q)\sum_k \delta_k w_{qk},\quad "
                 r"\frac{\partial L}{\partial w_{p_t q}} = \delta_q\, o_{p_t}",
         problem=r"Each line alone is the source's; together they give the negative gradient. Its output $\delta_v$ "
                 r"is $-\partial L/\partial z_v$, the hidden recursion carries the sign down unchanged, and the hidden "
                 r"weight rule $\partial L/\partial z_q \cdot o_{p_t}$ then uses $\delta_q = -\partial L/\partial z_q$.",
         correction=r"\delta_v=(o_v-t_v)\,o_v(1-o_v) \text{ so that every } \delta = \partial L/\partial z")
def _():
    net = SymbolicNetwork([2, 2, 1], "sigmoid", loss="mse", m=1)
    A1, A2 = net.A

    def rule(dv):
        return A1[0, 0] * (1 - A1[0, 0]) * dv * net.W[1][0, 0] * net.X[0, 1]

    o, t = A2[0, 0], net.T[0, 0]
    return Case(rule((t - o) * o * (1 - o)), sp.diff(net.loss, net.W[0][1, 0]), rule((o - t) * o * (1 - o)),
                "∂L/∂w_21 (input 2 → hidden 1) of a 2-2-1 network", point=random_point(net.loss.free_symbols, 3))
