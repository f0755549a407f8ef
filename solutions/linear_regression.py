"""Reference solutions of assignment 02_linear_regression: linear regression from scratch."""
from d2lcourse import np, autograd


def synthetic_data(w, b, num_examples):
    """(X, y): X ~ N(0, 1) of shape (n, len(w)), y = Xw + b + N(0, 0.01^2) of shape (n, 1)."""
    X = np.random.normal(0, 1, (num_examples, len(w)))
    y = np.dot(X, w) + b
    y += np.random.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def data_iter(batch_size, features, labels):
    """Yield minibatches (X, y) in a new random order; the last one may be smaller."""
    num_examples = len(features)
    indices = np.arange(num_examples)
    np.random.shuffle(indices)  # a new permutation every time the generator is created
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]
        yield features[batch_indices], labels[batch_indices]


def linreg(X, w, b):
    """The linear regression model: y_hat = X w + b."""
    return np.dot(X, w) + b


def squared_loss(y_hat, y):
    """Squared loss per example, l = (y_hat - y)^2 / 2, in the shape of y_hat."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Minibatch SGD step, in place: param <- param - lr * grad / batch_size."""
    for param in params:
        param[:] = param - lr * param.grad / batch_size


def closed_form(X, y):
    """Least squares by the normal equations A^T A theta = A^T y on A = [X, 1]; returns (w, b)."""
    A = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    theta = np.linalg.solve(np.dot(A.T, A), np.dot(A.T, y.reshape(-1, 1)))
    return theta[:-1], theta[-1]  # shapes (d, 1) and (1,)


def train_linear_regression(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    """Fit linreg to (features, labels) from scratch by minibatch SGD; return (w, b)."""
    w = np.random.normal(0, 0.01, (features.shape[1], 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            with autograd.record():
                l = squared_loss(linreg(X, w, b), y)  # minibatch loss, shape (batch_size, 1)
            l.backward()  # gradient of l.sum() with respect to w and b
            sgd([w, b], lr, batch_size)  # outside `record`: the update is not differentiated
        train_l = squared_loss(linreg(features, w, b), labels)
        print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
    return w, b
