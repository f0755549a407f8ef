"""Reference solutions of assignment 04: softmax regression (d2l.ai, chapter 4).

Each function's body is the solution region of the notebook cell of the same name.
"""
import math

from d2lcourse import np, autograd


def softmax(O):
    """Row-wise softmax: exp(o - m) / sum(exp(o - m)) with m = max(o), so exp never overflows."""
    E = np.exp(O - O.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def cross_entropy(y_hat, y):
    """Per-example loss -log y_hat[i, y_i], from predicted probabilities y_hat of shape (n, k)."""
    return -np.log(y_hat[np.arange(y_hat.shape[0]), y])


def softmax_cross_entropy(O, y):
    """Per-example loss from logits, logsumexp(o_i) - o_i[y_i], where
    logsumexp(o) = m + log(sum(exp(o - m))) with m = max(o) is exact and cannot overflow."""
    m = O.max(axis=1)
    logsumexp = m + np.log(np.exp(O - m.reshape(-1, 1)).sum(axis=1))
    return logsumexp - O[np.arange(O.shape[0]), y]


def softmax_cross_entropy_grad(O, y):
    """Gradient of sum_i softmax_cross_entropy(O, y)_i w.r.t. O: softmax(O) - onehot(y)."""
    G = softmax(O)
    G[np.arange(O.shape[0]), y] -= 1
    return G


def accuracy(y_hat, y):
    """Number of rows of y_hat whose largest entry is at column y_i, as a Python float."""
    predictions = y_hat.argmax(axis=1).astype(y.dtype)
    return float((predictions == y).sum())


def softmax_regression(X, W, b):
    """Class probabilities softmax(X W + b), each example flattened into a row of W.shape[0]."""
    return softmax(X.reshape(-1, W.shape[0]) @ W + b)


def train_softmax_regression(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
    """Softmax regression on 10 classes, trained from scratch by minibatch SGD: (W, b)."""
    # Two refinements of plain SGD make 10 epochs reliably reach about 0.845: momentum 0.9
    # (assignment 03) moves faster along the directions where the gradients agree, and a
    # cosine decay of the learning rate from lr to 0 lets the last steps settle instead of
    # jumping around the minimum. A new random order every epoch keeps the batches fair.
    X = X_train.reshape(X_train.shape[0], -1)
    n = X.shape[0]
    W = np.random.normal(0, 0.01, (X.shape[1], 10))
    b = np.zeros(10)
    params = [W, b]
    velocities = [np.zeros_like(p) for p in params]
    for p in params:
        p.attach_grad()
    num_steps = num_epochs * math.ceil(n / batch_size)
    step = 0
    for epoch in range(num_epochs):
        order = np.arange(n)
        np.random.shuffle(order)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            X_batch, y_batch = np.take(X, batch, axis=0), np.take(y_train, batch)
            with autograd.record():
                loss = softmax_cross_entropy(X_batch @ W + b, y_batch)
            loss.backward()
            rate = lr * (1 + math.cos(math.pi * step / num_steps)) / 2
            step += 1
            for p, v in zip(params, velocities):
                v[:] = 0.9 * v + p.grad / len(batch)
                p[:] = p - rate * v
    return W, b
