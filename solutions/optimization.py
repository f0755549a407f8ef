"""Reference solutions of assignment 03: gradient descent, minibatch SGD and momentum.

Each function's body is the solution region of the notebook cell of the same name.
"""
from d2lcourse import np, autograd
from d2lcourse.solutions.linear_regression import linreg, squared_loss, data_iter


def gd(f_grad, x0, eta, num_steps):
    """Gradient descent on a scalar x: the iterates [x0, x1, ..., x_T], x <- x - eta f'(x)."""
    xs = np.zeros(num_steps + 1)
    xs[0] = x0
    for t in range(num_steps):
        xs[t + 1] = xs[t] - eta * f_grad(xs[t])
    return xs


def gd_2d(f_grad, x0, eta, num_steps):
    """Gradient descent in the plane: one row per iterate, x <- x - eta grad f(x)."""
    xs = np.zeros((num_steps + 1, 2))
    xs[0] = x0
    for t in range(num_steps):
        xs[t + 1] = xs[t] - eta * f_grad(xs[t])
    return xs


def max_stable_lr(curvature):
    """Sup of the stable rates on f(x) = c/2 x^2: x <- (1 - eta c) x needs |1 - eta c| < 1."""
    return 2 / curvature


def init_momentum_states(params):
    """One velocity per parameter, starting at rest: v = 0."""
    return [np.zeros_like(p) for p in params]


def sgd_momentum(params, states, lr, momentum, batch_size):
    """Momentum SGD, in place: v <- momentum v + grad / batch_size, then p <- p - lr v."""
    for p, v in zip(params, states):
        v[:] = momentum * v + p.grad / batch_size
        p[:] = p - lr * v


def train_minibatch(features, labels, batch_size, lr, num_epochs):
    """Minibatch SGD for linear regression from w = 0, b = 0.

    Returns the mean squared loss on all the data before training and after each epoch.
    """
    w = np.zeros((features.shape[1], 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()

    def full_loss():
        return squared_loss(linreg(features, w, b), labels).mean()

    losses = [full_loss()]
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            with autograd.record():
                # The mean, not the sum: its gradient is right for a smaller last batch too.
                l = squared_loss(linreg(X, w, b), y).mean()
            l.backward()
            for param in (w, b):
                param[:] = param - lr * param.grad
        losses.append(full_loss())
    return np.stack(losses)
