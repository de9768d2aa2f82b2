"""Source 004, the excerpt of d2l's backpropagation section (一文弄懂神经网络中的反向传播法, ``src-d2l-excerpt``)."""

from __future__ import annotations

import sympy as sp

from ..symbolic import symbols_matrix
from ._core import Case, formula

S = "src-d2l-excerpt"


def _net(d=2, h=2, q=2):
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


@formula(key="d2l-prod", source=S, chapter="ch-chain-rule", verdict="correct",
         where="链式法则 (chain rule)",
         written=r"\frac{\partial \mathsf{Z}}{\partial \mathsf{X}} = \text{prod}\left(\frac{\partial \mathsf{Z}}{\partial \mathsf{Y}}, "
                 r"\frac{\partial \mathsf{Y}}{\partial \mathsf{X}}\right)")
def _():
    X = symbols_matrix("x", 2, 2)
    W = sp.Matrix([[sp.Rational(1, 2), -1, 2], [1, sp.Rational(1, 3), -sp.Rational(3, 2)]])
    Ysym = symbols_matrix("y", 2, 3)
    Y = (X * W).applyfunc(sp.tanh)                     # Y = tanh(XW), 2×3
    Zof = lambda M: sp.Matrix([sum(M[i, j] ** 2 for i in range(2)) for j in range(3)])  # noqa: E731  column sums of Y²
    dZ_dY = sp.Matrix(3, 6, lambda r, c: sp.diff(Zof(Ysym)[r], list(Ysym)[c])).xreplace(dict(zip(list(Ysym), list(Y))))
    dY_dX = sp.Matrix(6, 4, lambda r, c: sp.diff(list(Y)[r], list(X)[c]))
    truth = sp.Matrix(3, 4, lambda r, c: sp.diff(Zof(Y)[r], list(X)[c]))
    return Case(dZ_dY * dY_dX, truth,
                what="prod = the contraction over Y's 6 entries, vs sympy.diff of the composition (Y = tanh(XW))")


@formula(key="d2l-dJ-dL", source=S, chapter="ch-chain-rule", verdict="correct",
         where="目标函数 (objective)",
         written=r"\frac{\partial J}{\partial L} = 1,\ \frac{\partial J}{\partial s} = 1,\quad "
                 r"\frac{\partial J}{\partial \boldsymbol{o}} = \text{prod}\left(\frac{\partial J}{\partial L}, "
                 r"\frac{\partial L}{\partial \boldsymbol{o}}\right) = \frac{\partial L}{\partial \boldsymbol{o}}")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _net()
    osym = symbols_matrix("o", 2, 1)
    Lo = sum((osym[i] - y[i]) ** 2 for i in range(2)) / 2
    J = Lo + s  # J = L + s with o free
    dL_do = sp.Matrix([(osym[i] - y[i]) for i in range(2)])  # ∂L/∂o for L = ½‖o − y‖²
    written = 1 * dL_do  # prod(∂J/∂L = 1, ∂L/∂o)
    truth = osym.applyfunc(lambda v: sp.diff(J, v))
    return Case(written, truth, what="∂J/∂o = 1 · ∂L/∂o vs sympy.diff(L + s, o), L = ½‖o − y‖², s = λ/2 ‖W‖²",
                notes=["s does not depend on o, so ∂J/∂o is ∂L/∂o"])


@formula(key="d2l-ds-dW", source=S, chapter="ch-regularization", verdict="correct",
         where="正则项 (regularization)",
         written=r"\frac{\partial s}{\partial \boldsymbol{W}^{(1)}} = \lambda \boldsymbol{W}^{(1)},\quad"
                 r"\frac{\partial s}{\partial \boldsymbol{W}^{(2)}} = \lambda \boldsymbol{W}^{(2)}")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _net()
    truth = W1.applyfunc(lambda w: sp.diff(s, w)).col_join(W2.applyfunc(lambda w: sp.diff(s, w)))
    return Case(lam * W1.col_join(W2), truth,
                what="λW⁽¹⁾, λW⁽²⁾ vs sympy.diff(s) with s = λ/2 (‖W⁽¹⁾‖² + ‖W⁽²⁾‖²) (d2l's definition; "
                     "the excerpt never states s)",
                notes=["without the ½ in s the derivative would be 2λW"])


@formula(key="d2l-dJ-dW", source=S, chapter="ch-regularization", verdict="correct",
         where="输出层参数 (output-layer weights)",
         written=r"\frac{\partial J}{\partial \boldsymbol{W}^{(2)}} = \frac{\partial J}{\partial \boldsymbol{o}} \boldsymbol{h}^\top "
                 r"+ \lambda \boldsymbol{W}^{(2)}")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _net()
    return Case((o - y) * hh.T + lam * W2, W2.applyfunc(lambda w: sp.diff(L + s, w)),
                what="∂J/∂o hᵀ + λW⁽²⁾ vs sympy.diff(J, W⁽²⁾), 2-2-2 tanh network")


@formula(key="d2l-hidden", source=S, chapter="ch-hidden-delta", verdict="correct",
         where="隐藏层变量 (hidden variables)",
         written=r"\frac{\partial J}{\partial \boldsymbol{h}} = {\boldsymbol{W}^{(2)}}^\top \frac{\partial J}{\partial \boldsymbol{o}},"
                 r"\quad \frac{\partial J}{\partial \boldsymbol{z}} = \frac{\partial J}{\partial \boldsymbol{h}} \odot \phi'\left(\boldsymbol{z}\right)")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _net()
    zs = symbols_matrix("z", 2, 1)
    Lz = sum(((W2 * zs.applyfunc(sp.tanh))[i] - y[i]) ** 2 for i in range(2)) / 2
    hz = zs.applyfunc(sp.tanh)
    dJ_dh = W2.T * (W2 * hz - y)
    return Case(dJ_dh.multiply_elementwise(zs.applyfunc(lambda v: 1 - sp.tanh(v) ** 2)),
                zs.applyfunc(lambda v: sp.diff(Lz, v)), what="(W⁽²⁾ᵀ ∂J/∂o) ⊙ φ'(z) vs sympy.diff(J, z)")


@formula(key="d2l-dW", source=S, chapter="ch-batch", verdict="correct",
         where="输入层参数 (first-layer weights)",
         written=r"\frac{\partial J}{\partial \boldsymbol{W}^{(1)}} = \frac{\partial J}{\partial \boldsymbol{z}} \boldsymbol{x}^\top "
                 r"+ \lambda \boldsymbol{W}^{(1)}")
def _():
    x, W1, W2, lam, y, z, hh, o, L, s = _net()
    dJ_dz = (W2.T * (o - y)).multiply_elementwise(z.applyfunc(lambda v: 1 - sp.tanh(v) ** 2))
    return Case(dJ_dz * x.T + lam * W1, W1.applyfunc(lambda w: sp.diff(L + s, w)),
                what="∂J/∂z xᵀ + λW⁽¹⁾ vs sympy.diff(J, W⁽¹⁾), 2-2-2 tanh network")


@formula(key="d2l-shapes", source=S, chapter="ch-notation", verdict="correct",
         where="形状 (shapes)",
         written=r"\frac{\partial J}{\partial \boldsymbol{o}} \in \mathbb{R}^q,\ \frac{\partial J}{\partial \boldsymbol{W}^{(2)}} \in "
                 r"\mathbb{R}^{q \times h},\ \frac{\partial J}{\partial \boldsymbol{h}} \in \mathbb{R}^h,\ "
                 r"\frac{\partial J}{\partial \boldsymbol{W}^{(1)}} \in \mathbb{R}^{h \times d}")
def _():
    d, h, q = 3, 2, 4
    x, W1, W2, lam, y, z, hh, o, L, s = _net(d, h, q)
    osym, hsym = symbols_matrix("o", q, 1), symbols_matrix("hh", h, 1)
    J = L + s
    shapes = [sp.Matrix(q, 1, lambda i, _: sp.diff(J.xreplace(dict(zip(o, osym))), osym[i])).shape,
              W2.applyfunc(lambda w: sp.diff(J, w)).shape,
              sp.Matrix(h, 1, lambda i, _: sp.diff(
                  (sum(((W2 * hsym)[i] - y[i]) ** 2 for i in range(q)) / 2), hsym[i])).shape,
              W1.applyfunc(lambda w: sp.diff(J, w)).shape]
    truth = sp.Matrix([n for shp in shapes for n in shp])
    written = sp.Matrix([q, 1, q, h, h, 1, h, d])
    return Case(written, truth, what=f"the shapes of the derivatives by sympy.diff, d = {d}, h = {h}, q = {q}")
