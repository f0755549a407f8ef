"""Reference solutions of assignment 05: multilayer perceptrons (d2l.ai, chapter 5).

Each function's body is the solution region of the notebook cell of the same name.
Training reuses the reference pieces of assignments 03 and 04: SGD with momentum
and the stable softmax cross-entropy.
"""
import math

from d2lcourse import np, autograd
from d2lcourse.data import ArrayBatches
from d2lcourse.solutions.optimization import init_momentum_states, sgd_momentum
from d2lcourse.solutions.softmax_regression import softmax_cross_entropy


def relu(X):
    """ReLU(x) = max(x, 0), elementwise."""
    return np.maximum(X, 0)


def sigmoid(X):
    """sigmoid(x) = 1 / (1 + exp(-x)); for x << 0, exp(-x) = inf and 1 / inf = 0, still finite."""
    return 1 / (1 + np.exp(-X))


def tanh(X):
    """tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) <= 1, which cannot overflow."""
    E = np.exp(-2 * np.abs(X))
    return np.sign(X) * (1 - E) / (1 + E)


def relu_grad(X):
    """ReLU'(x) = 1 for x > 0, 0 for x < 0; at x = 0 we pick 0 (any value in [0, 1] will do)."""
    return (X > 0).astype(X.dtype)


def sigmoid_grad(X):
    """sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))."""
    S = sigmoid(X)
    return S * (1 - S)


def tanh_grad(X):
    """tanh'(x) = 1 - tanh(x)^2."""
    return 1 - tanh(X) ** 2


def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    """[W1, b1, W2, b2]: weights drawn from N(0, sigma^2), biases zero, gradients attached."""
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params


def mlp(X, params):
    """Logits O = ReLU(X W1 + b1) W2 + b2 of the flattened inputs X."""
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])      # (n, 1, 28, 28) -> (n, 784)
    H = relu(X @ W1 + b1)
    return H @ W2 + b2


def collapse_linear(W1, b1, W2, b2):
    """(W, b) with x W + b = (x W1 + b1) W2 + b2: W = W1 W2, b = b1 W2 + b2."""
    return W1 @ W2, b1 @ W2 + b2


def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    """Train the MLP from scratch on the 10 classes; return its params [W1, b1, W2, b2].

    Minibatch SGD with momentum 0.9 (assignment 3) and a cosine decay of the learning
    rate from lr to 0, so that the last steps settle instead of jumping around the
    minimum; the batches come in a new random order every epoch.
    """
    params = init_mlp_params(X_train[0].size, num_hiddens, 10)
    states = init_momentum_states(params)
    batches = ArrayBatches(X_train, y_train, batch_size, shuffle=True)
    num_steps, step = num_epochs * len(batches), 0
    for epoch in range(num_epochs):
        for X, y in batches:
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            rate = lr * (1 + math.cos(math.pi * step / num_steps)) / 2
            sgd_momentum(params, states, rate, 0.9, X.shape[0])
            step += 1
    return params
