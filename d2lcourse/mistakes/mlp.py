"""Typical mistakes and alternative correct answers for 05_mlp."""
from d2lcourse.mistakes import Alternative, Mistake, ignored_hyperparameters

TRAIN = "train_mlp"   # calls the student's init_mlp_params and mlp (which calls relu)

TRAIN_MLP = """
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):{prepare}
    params = init_mlp_params(784, num_hiddens, 10)
    for epoch in range(num_epochs):{each_epoch}
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            for param in params:
                param[:] = {update}
    return params
"""


def train_mlp_cell(prepare="", each_epoch="", update="param - lr * param.grad / batch_size"):
    """A whole plain-SGD train_mlp cell with some of its parts written otherwise: lines
    before the parameters are made, lines at the start of each epoch, the update."""
    return TRAIN_MLP.format(prepare=prepare, each_epoch=each_epoch, update=update)


INIT_MLP_PARAMS = """
def draw(sigma, shape):
    {draw}

def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):{first}
    W1 = draw(sigma, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = draw(sigma, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
"""


def init_cell(draw, first=""):
    """A whole init_mlp_params cell whose weights come from `draw(sigma, shape)` (the body
    of that function), with `first` lines before the draws."""
    return INIT_MLP_PARAMS.format(draw=draw, first=first)


MISTAKES = [
    # ---------------------------------------------------------------- activations
    Mistake("relu_npx_relu", "relu", '''
def relu(X):
    return npx.relu(X)
''', "uses `npx.relu`"),
    Mistake("relu_in_place", "relu", '''
def relu(X):
    X[X < 0] = 0
    return X
''', "changed its argument X in place", also_fails=("mlp", TRAIN)),
    Mistake("relu_minimum", "relu", '''
def relu(X):
    return np.minimum(X, 0)
''', "computed min(x, 0)", also_fails=("mlp",)),
    Mistake("sigmoid_overflow_exp_x", "sigmoid", '''
def sigmoid(X):
    return np.exp(X) / (1 + np.exp(X))
''', "overflows to inf", also_fails=("sigmoid_grad",)),
    Mistake("sigmoid_sign", "sigmoid", '''
def sigmoid(X):
    return 1 / (1 + np.exp(X))
''', "computed sigmoid(-x)", also_fails=("sigmoid_grad",)),
    Mistake("tanh_naive_overflow", "tanh", '''
def tanh(X):
    return (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))
''', "overflows to inf", also_fails=("tanh_grad",)),
    Mistake("tanh_one_sided", "tanh", '''
def tanh(X):
    E = np.exp(-2 * X)
    return (1 - E) / (1 + E)
''', "overflows to inf", also_fails=("tanh_grad",)),
    Mistake("tanh_half_exponent", "tanh", '''
def tanh(X):
    E = np.exp(-np.abs(X))
    return np.sign(X) * (1 - E) / (1 + E)
''', "computed tanh(x / 2)", also_fails=("tanh_grad",)),
    Mistake("relu_through_classic_numpy", "relu", '''
import numpy as onp

def relu(X):
    return np.array(onp.maximum(X.asnumpy(), 0))
''', "the result cannot be differentiated", also_fails=("mlp",)),
    Mistake("tanh_np_tanh", "tanh", '''
def tanh(X):
    return np.tanh(X)
''', "uses `np.tanh`"),
    Mistake("relu_sign_by_division", "relu", '''
def relu(X):
    return X * (X / np.abs(X) + 1) / 2
''', "needs no exp and no division"),
    Mistake("relu_returns_mask", "relu", '''
def relu(X):
    return (X > 0).astype(X.dtype)
''', "returned the mask x > 0", also_fails=('mlp',)),
    Mistake("relu_comparison_not_assignment", "relu", '''
def relu(X):
    Y = X.copy()
    Y[Y < 0] == 0
    return Y
''', "returned x unchanged", also_fails=('mlp',)),
    Mistake("sigmoid_minus_in_denominator", "sigmoid", '''
def sigmoid(X):
    return 1 / (1 - np.exp(-X))
''', "the denominator is 1 + exp(-x)", also_fails=('sigmoid_grad',)),
    Mistake("tanh_sigmoid_of_2x", "tanh", '''
def tanh(X):
    return 1 / (1 + np.exp(-2 * X))
''', "computed sigmoid(2x)", also_fails=('tanh_grad',)),
    Mistake("tanh_sign_lost", "tanh", '''
def tanh(X):
    E = np.exp(-2 * np.abs(X))
    return (1 - E) / (1 + E)
''', "multiply by np.sign(X)"),
    Mistake("relu_absolute_value", "relu", '''
def relu(X):
    return np.abs(X)
''', "returned |x|", also_fails=("mlp", TRAIN)),
    Mistake("relu_identity", "relu", '''
def relu(X):
    return X + 0
''', "returned x unchanged", also_fails=("mlp", TRAIN)),
    Mistake("sigmoid_is_tanh", "sigmoid", '''
def sigmoid(X):
    return np.tanh(X)
''', "computed tanh(x)", also_fails=("sigmoid_grad",)),
    Mistake("tanh_is_sigmoid", "tanh", '''
def tanh(X):
    return 1 / (1 + np.exp(-X))
''', "computed sigmoid(x), not tanh(x)", also_fails=("tanh_grad",)),
    # ---------------------------------------------------------------- derivatives
    Mistake("relu_grad_returns_relu", "relu_grad", '''
def relu_grad(X):
    return np.maximum(X, 0)
''', "returned relu(x) = max(x, 0) itself"),
    # Deny by default: a global array, which any cell could change, read by the function.
    Mistake("relu_grad_global_slopes", "relu_grad", '''
SLOPES = np.array([0.0, 1.0])

def relu_grad(X):
    return SLOPES[(X > 0).astype("int32")].astype(X.dtype)
''', "reads the global `SLOPES`, bound by `SLOPES = np.array([0.0, 1.0])`"),
    Mistake("relu_grad_bool", "relu_grad", '''
def relu_grad(X):
    return X > 0
''', "bool array"),
    Mistake("relu_grad_autograd", "relu_grad", '''
def relu_grad(X):
    X = X.copy()
    X.attach_grad()
    with autograd.record():
        y = np.maximum(X, 0)
    y.backward()
    return X.grad
''', "which this exercise forbids"),
    Mistake("sigmoid_grad_returns_sigmoid", "sigmoid_grad", '''
def sigmoid_grad(X):
    return sigmoid(X)
''', "returned sigmoid(x) itself"),
    Mistake("sigmoid_grad_of_x", "sigmoid_grad", '''
def sigmoid_grad(X):
    return X * (1 - X)
''', "computed x (1 - x)"),
    Mistake("tanh_grad_one_minus_x_squared", "tanh_grad", '''
def tanh_grad(X):
    return 1 - X ** 2
''', "computed 1 - x^2"),
    Mistake("tanh_grad_no_square", "tanh_grad", '''
def tanh_grad(X):
    return 1 - tanh(X)
''', "square it"),
    Mistake("relu_grad_nan_at_kink", "relu_grad", '''
def relu_grad(X):
    return np.maximum(X, 0) / X
''', "every value in [0, 1] is a subgradient"),
    Mistake("relu_grad_flipped", "relu_grad", '''
def relu_grad(X):
    return np.where(X > 0, 0.0, 1.0)
''', "the slope of max(x, 0) is 1 where x > 0"),
    Mistake("relu_grad_sign", "relu_grad", '''
def relu_grad(X):
    return np.sign(X)
''', "returned sign(x)"),
    Mistake("sigmoid_grad_wrong_sign", "sigmoid_grad", '''
def sigmoid_grad(X):
    s = sigmoid(X)
    return s * (s - 1)
''', "sigmoid is increasing, its slope is positive"),
    Mistake("sigmoid_grad_one_minus_s", "sigmoid_grad", '''
def sigmoid_grad(X):
    return 1 - sigmoid(X)
''', "multiply by sigmoid(x)"),
    Mistake("sigmoid_grad_plus", "sigmoid_grad", '''
def sigmoid_grad(X):
    s = sigmoid(X)
    return s * (1 + s)
''', "computed s (1 + s)"),
    Mistake("tanh_grad_returns_tanh", "tanh_grad", '''
def tanh_grad(X):
    return tanh(X)
''', "returned tanh(x) itself"),
    Mistake("tanh_grad_plus", "tanh_grad", '''
def tanh_grad(X):
    return 1 + tanh(X) ** 2
''', "the sign is minus"),
    Mistake("tanh_grad_wrong_sign", "tanh_grad", '''
def tanh_grad(X):
    return tanh(X) ** 2 - 1
''', "tanh is increasing"),
    Mistake("tanh_grad_times_two", "tanh_grad", '''
def tanh_grad(X):
    return 1 - tanh(X) * 2
''', "entries are wrong; worst at index"),
    Mistake("sigmoid_grad_unstable_quotient", "sigmoid_grad", '''
def sigmoid_grad(X):
    E = np.exp(-X)
    return E / (1 + E) ** 2
''', "returned NaN for x = -100"),
    Mistake("tanh_grad_naive_tanh", "tanh_grad", '''
def tanh_grad(X):
    T = (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))
    return 1 - T ** 2
''', "exp(x) overflows to inf for x > 88.7"),
    Mistake("tanh_grad_quotient_rule", "tanh_grad", '''
def tanh_grad(X):
    # d/dx (e^x - e^-x) / (e^x + e^-x), by the quotient rule
    P, M = np.exp(X) + np.exp(-X), np.exp(X) - np.exp(-X)
    return (P * P - M * M) / (P * P)
''', "entries are not finite"),
    # ---------------------------------------------------------------- init_mlp_params
    Mistake("init_random_biases", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens))
    b1 = np.random.normal(0, sigma, num_hiddens)
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs))
    b2 = np.random.normal(0, sigma, num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "biases start at zero"),
    Mistake("init_sigma_ignored", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, 0.01, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(0, 0.01, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "it looks like the default 0.01"),
    Mistake("init_variance_as_scale", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma ** 2, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(0, sigma ** 2, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "not the variance"),
    Mistake("init_transposed_weights", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma, (num_hiddens, num_inputs))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(0, sigma, (num_outputs, num_hiddens))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "it is transposed", also_fails=(TRAIN,)),
    Mistake("init_no_attach_grad", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    return [W1, b1, W2, b2]
''', "has no gradient attached", also_fails=(TRAIN,)),
    Mistake("init_bias_row", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens))
    b1 = np.zeros((1, num_hiddens))
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs))
    b2 = np.zeros((1, num_outputs))
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "a bias is a vector"),
    Mistake("init_zero_weights", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.zeros((num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.zeros((num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "weights must be random"),
    Mistake("init_returns_layer_pairs", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    for param in [W1, b1, W2, b2]:
        param.attach_grad()
    return [(W1, b1), (W2, b2)]
''', "expected the list [W1, b1, W2, b2]"),
    Mistake("init_standard_normal", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(size=(num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(size=(num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "it looks like 1"),
    Mistake("init_uniform", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.uniform(-sigma, sigma, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.uniform(-sigma, sigma, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "that of a uniform draw"),
    Mistake("init_mean_sigma", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(sigma, sigma, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.normal(sigma, sigma, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "has mean"),
    Mistake("init_uniform_same_variance", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.uniform(-sigma * 3 ** 0.5, sigma * 3 ** 0.5, (num_inputs, num_hiddens))
    b1 = np.zeros(num_hiddens)
    W2 = np.random.uniform(-sigma * 3 ** 0.5, sigma * 3 ** 0.5, (num_hiddens, num_outputs))
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "are not distributed as N(0, sigma^2)"),
    Mistake("init_reseeds", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    npx.random.seed(0)
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens))
    npx.random.seed(0)
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs))
    b1 = np.zeros(num_hiddens)
    b2 = np.zeros(num_outputs)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "reset between the draws"),
    Mistake("init_clipped_at_three_sigma", "init_mlp_params", init_cell(
        "return np.clip(np.random.normal(0, sigma, shape), -3 * sigma, 3 * sigma)"),
            "the tails of the distribution are cut"),
    Mistake("init_redraws_large_weights", "init_mlp_params", init_cell(
        "W = np.random.normal(0, sigma, shape)\n"
        "    return np.where(np.abs(W) > 2.5 * sigma, np.random.normal(0, sigma, shape), W)"),
            "W1 has standard deviation"),
    Mistake("init_seeds_once", "init_mlp_params", init_cell(
        "return np.random.normal(0, sigma, shape)", first="\n    npx.random.seed(42)"),
            "returned the same first entries of W1"),
    Mistake("init_laplace_same_variance", "init_mlp_params", init_cell(
        "# Laplace draws of variance sigma^2: two exponentials of mean sigma / sqrt(2)\n"
        "    return (np.random.exponential(sigma / 2 ** 0.5, shape)\n"
        "            - np.random.exponential(sigma / 2 ** 0.5, shape))"),
            "are not distributed as N(0, sigma^2)"),
    # ---------------------------------------------------------------- mlp
    Mistake("mlp_no_relu", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = X @ W1 + b1
    return H @ W2 + b2
''', "no nonlinearity"),
    Mistake("mlp_no_flatten", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
''', "Flatten X first", also_fails=(TRAIN,)),
    Mistake("mlp_relu_on_output", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = relu(X @ W1 + b1)
    return relu(H @ W2 + b2)
''', "applied relu to the output too", also_fails=(TRAIN,)),
    Mistake("mlp_softmax_output", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    O = relu(X @ W1 + b1) @ W2 + b2
    E = np.exp(O - O.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
''', "returned probabilities"),
    Mistake("mlp_no_hidden_bias", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = relu(X @ W1)
    return H @ W2 + b2
''', "forgot the hidden bias b1"),
    Mistake("mlp_no_output_bias", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return relu(X @ W1 + b1) @ W2
''', "forgot the output bias b2"),
    Mistake("mlp_no_biases", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    return relu(X @ W1) @ W2
''', "forgot both biases"),
    Mistake("mlp_sigmoid_hidden", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = sigmoid(X @ W1 + b1)
    return H @ W2 + b2
''', "used sigmoid in the hidden layer"),
    Mistake("mlp_tanh_hidden", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = tanh(X @ W1 + b1)
    return H @ W2 + b2
''', "used tanh in the hidden layer"),
    Mistake("mlp_transposed_logits", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = relu(X @ W1 + b1)
    return (H @ W2 + b2).T
''', "they are transposed"),
    Mistake("mlp_flattens_to_784", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, 784)
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
''', "works for 784 inputs but not for X of shape (2, 3, 4)"),
    Mistake("mlp_sizes_of_fashion_mnist", "mlp", '''
num_inputs, num_hiddens, num_outputs = 784, 256, 10

def mlp(X, params):
    W1, b1, W2, b2 = params
    H = relu(X.reshape((-1, num_inputs)) @ W1 + b1)
    return H @ W2 + b2
''', "never a fixed 784"),
    # ---------------------------------------------------------------- collapse_linear
    Mistake("collapse_forgot_b1_W2", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    return W1 @ W2, b2.copy()
''', "forgot b1 @ W2"),
    Mistake("collapse_bias_in_W", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    return W1 @ W2 + b2, b1 @ W2 + b2
''', "added b2 to W"),
    Mistake("collapse_one_array", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    return W1 @ W2 + b1 @ W2 + b2
''', "expected a pair (W, b)"),
    Mistake("collapse_forgot_b2", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    return W1 @ W2, b1 @ W2
''', "add the second layer's bias"),
    Mistake("collapse_transposed_W", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    return W2.T @ W1.T, b1 @ W2 + b2
''', "x W maps 5 inputs to 4 outputs"),
    Mistake("collapse_b_row", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    return W1 @ W2, b1.reshape(1, -1) @ W2 + b2
''', "one bias per output"),
    # ---------------------------------------------------------------- train_mlp
    Mistake("train_lr_sign", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(784, num_hiddens, 10)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            for param in params:
                param[:] = param + lr * param.grad / batch_size
    return params
''', "the updates go uphill"),
    Mistake("train_no_batch_division", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(784, num_hiddens, 10)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            for param in params:
                param[:] = param - lr * param.grad
    return params
''', "not divided by the batch size"),
    Mistake("train_rebinds_params", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(784, num_hiddens, 10)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            for param in params:
                param = param - lr * param.grad / batch_size
    return params
''', "b2 is still zero"),
    Mistake("train_ignores_num_hiddens", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(784, 256, 10)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            for param in params:
                param[:] = param - lr * param.grad / batch_size
    return params
''', "W1 in the parameters returned by train_mlp"),
    Mistake("train_returns_after_one_step", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(784, num_hiddens, 10)
    states = init_momentum_states(params)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            sgd_momentum(params, states, lr, 0.9, batch_size)
            return params
''', "the return comes after both loops"),
    Mistake("train_cosine_decay_below_zero", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(X_train[0].size, num_hiddens, 10)
    states = init_momentum_states(params)
    batches = ArrayBatches(X_train, y_train, batch_size, shuffle=True)
    num_steps, step = num_epochs * len(batches), 0
    for epoch in range(num_epochs):
        for X, y in batches:
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            rate = lr * math.cos(math.pi * step / num_steps)
            sgd_momentum(params, states, rate, 0.9, X.shape[0])
            step += 1
    return params
''', "with lr > 0 at every step"),
    *ignored_hyperparameters(TRAIN, train_mlp_cell, "param - 0.1 * param.grad / batch_size"),
    Mistake("train_reads_the_training_set", TRAIN,
            "from d2lcourse.data import read_fashion_mnist\n" + train_mlp_cell(
                prepare='\n    X_train, y_train = read_fashion_mnist("train")'),
            "ignores the labels it is given"),
    Mistake("train_standardises_the_pixels", TRAIN, train_mlp_cell(
        prepare="\n    X_train = (X_train - X_train.mean(axis=0)) / X_train.std(axis=0)"),
            "training diverged"),
    Mistake("train_on_the_first_examples", TRAIN, train_mlp_cell(
        prepare="\n    X_train, y_train = X_train[:2000], y_train[:2000]  # faster while testing"),
            "every epoch visits all the training examples"),
    Mistake("train_initialises_every_epoch", TRAIN, train_mlp_cell(
        each_epoch="\n        params = init_mlp_params(784, num_hiddens, 10)"),
            "create the parameters once"),
    # ---------------------------------------------------------------- rules for every
    # graded function (checks.properties): inputs unchanged, new results, float dtypes
    Mistake("sigmoid_float16", "sigmoid", '''
def sigmoid(X):
    return (1 / (1 + np.exp(-X))).astype("float16")
''', "has dtype float16", also_fails=("sigmoid_grad",)),
    Mistake("tanh_grad_overwrites_X", "tanh_grad", '''
def tanh_grad(X):
    X[:] = tanh(X)
    return 1 - X ** 2
''', "changed its argument X in place"),
    Mistake("mlp_reuses_its_output", "mlp", '''
_outputs = {}

def mlp(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(-1, W1.shape[0])
    H = relu(X @ W1 + b1)
    shape = (X.shape[0], W2.shape[1])
    O = _outputs.setdefault(shape, np.zeros(shape))
    O[:] = H @ W2 + b2
    return O
''', "returned an array that its next call overwrites", also_fails=(TRAIN,)),
    Mistake("init_mlp_params_float16", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    W1 = np.random.normal(0, sigma, (num_inputs, num_hiddens)).astype("float16")
    b1 = np.zeros(num_hiddens, dtype="float16")
    W2 = np.random.normal(0, sigma, (num_hiddens, num_outputs)).astype("float16")
    b2 = np.zeros(num_outputs, dtype="float16")
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()
    return params
''', "has dtype float16", also_fails=(TRAIN,)),
]

ALTERNATIVES = [
    Alternative("relu_mask", "relu", '''
def relu(X):
    return X * (X > 0)
'''),
    Alternative("relu_where", "relu", '''
def relu(X):
    return np.where(X > 0, X, 0)
'''),
    Alternative("sigmoid_symmetric", "sigmoid", '''
def sigmoid(X):
    E = np.exp(-np.abs(X))          # <= 1, never overflows
    return np.where(X >= 0, 1 / (1 + E), E / (1 + E))
'''),
    Alternative("tanh_via_stable_sigmoid", "tanh", '''
def stable_sigmoid(X):
    E = np.exp(-np.abs(X))
    return np.where(X >= 0, 1 / (1 + E), E / (1 + E))

def tanh(X):
    return 2 * stable_sigmoid(2 * X) - 1
'''),
    Alternative("tanh_expm1", "tanh", '''
def tanh(X):
    M = np.expm1(-2 * np.abs(X))    # exp(-2|x|) - 1, exact near 0
    return -np.sign(X) * M / (2 + M)
'''),
    Alternative("relu_grad_at_zero_one", "relu_grad", '''
def relu_grad(X):
    return (X >= 0).astype(X.dtype)
'''),
    Alternative("relu_grad_where", "relu_grad", '''
def relu_grad(X):
    return np.where(X > 0, 1.0, 0.0)
'''),
    Alternative("sigmoid_grad_exp", "sigmoid_grad", '''
def sigmoid_grad(X):
    E = np.exp(-np.abs(X))           # sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2, even in x
    return E / (1 + E) ** 2
'''),
    Alternative("tanh_grad_via_sigmoid_grad", "tanh_grad", '''
def tanh_grad(X):
    S = 1 / (1 + np.exp(-2 * X))     # tanh(x) = 2 sigmoid(2x) - 1
    return 4 * S * (1 - S)
'''),
    Alternative("tanh_grad_cosh", "tanh_grad", '''
def tanh_grad(X):
    return 4 / (np.exp(X) + np.exp(-X)) ** 2     # 1 / cosh(x)^2; 4 / inf = 0 for large |x|
'''),
    Alternative("init_comprehension", "init_mlp_params", '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    shapes = [(num_inputs, num_hiddens), (num_hiddens, num_outputs)]
    W1, W2 = [np.random.normal(0, sigma, shape) for shape in shapes]
    params = [W1, np.zeros(num_hiddens), W2, np.zeros(num_outputs)]
    for param in params:
        param.attach_grad()
    return params
'''),
    Alternative("init_scaled_standard_normal", "init_mlp_params",
                init_cell("return sigma * np.random.randn(*shape)")),
    Alternative("mlp_inline", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    H = np.maximum(np.dot(X.reshape(X.shape[0], -1), W1) + b1, 0)
    return np.dot(H, W2) + b2
'''),
    Alternative("collapse_np_dot", "collapse_linear", '''
def collapse_linear(W1, b1, W2, b2):
    W = np.dot(W1, W2)
    b = np.dot(b1, W2) + b2
    return (W, b)
'''),
    Alternative("train_gluon_loss_plain_sgd", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    params = init_mlp_params(X_train[0].size, num_hiddens, 10)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                l = loss_fn(mlp(X, params), y)
            l.backward()
            for param in params:
                param[:] = param - lr * param.grad / X.shape[0]
    return params
'''),
    Alternative("train_index_slicing_mean_loss", TRAIN, '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    n = X_train.shape[0]
    params = init_mlp_params(784, num_hiddens, 10)
    for epoch in range(num_epochs):
        order = np.arange(n)
        np.random.shuffle(order)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            X, y = X_train[batch], y_train[batch]
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).mean()
            loss.backward()
            for param in params:
                param -= lr * param.grad
    return params
'''),
]
