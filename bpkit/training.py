"""Training by gradient descent: repeat θ ← θ − η ∂J/∂θ and record the loss."""

from __future__ import annotations

import numpy as np

from . import _validate
from .optim import sgd_step


def train(net, X, T, loss="mse", lr=0.5, epochs=1000, l2=0.0, batch_size=None, seed=0, record_every=1):
    """Train ``net`` in place by (mini-batch) gradient descent; return the loss history.

    ``batch_size=None`` uses the whole batch every step (plain gradient
    descent); otherwise each epoch visits the samples in an order shuffled by
    ``seed``.  Returns ``{"epoch": [...], "loss": [...]}``, the loss J on the
    whole data set after every ``record_every`` epochs (epoch 0 = before training).
    """
    epochs = _validate.count(epochs, "epochs")
    record_every = _validate.count(record_every, "record_every", minimum=1)
    lr = _validate.learning_rate(lr)
    X = _validate.batch(X, "X", net.layers[0].n_in, net.dtype, lambda: net.where(0))
    m = X.shape[0]
    if batch_size is not None:
        batch_size = _validate.width(batch_size, "batch_size")
    rng = np.random.default_rng(seed)
    history = {"epoch": [0], "loss": [net.loss(X, T, loss=loss, l2=l2)]}
    for epoch in range(1, epochs + 1):
        if batch_size is None or batch_size >= m:
            _, grads = net.loss_and_grads(X, T, loss=loss, l2=l2)
            sgd_step(net, grads, lr)
        else:
            order = rng.permutation(m)
            for start in range(0, m, batch_size):
                idx = order[start:start + batch_size]
                _, grads = net.loss_and_grads(X[idx], np.asarray(T)[idx], loss=loss, l2=l2)
                sgd_step(net, grads, lr)
        if epoch % record_every == 0 or epoch == epochs:
            history["epoch"].append(epoch)
            history["loss"].append(net.loss(X, T, loss=loss, l2=l2))
    return history


def accuracy(net, X, T):
    """Fraction of samples classified right: threshold 0.5 for one output, argmax for several.

    ``T`` must have the network's output shape (m, n_out) and be finite (a NaN target would count as
    a wrong class silently).
    """
    out = net.forward(X)
    m, n_out = out.shape
    T = _validate.targets(T, m, n_out, net.dtype, lambda: f"accuracy: the network's last {net.where(len(net) - 1)}")
    if n_out == 1:
        return float(np.mean((out[:, 0] > 0.5) == (T[:, 0] > 0.5)))
    return float(np.mean(out.argmax(axis=1) == T.argmax(axis=1)))
