"""Typical mistakes and alternative correct answers for 05_mlp."""
from d2lcourse.mistakes import Alternative, Mistake, editor, ignored_hyperparameters, slipper

edit = editor(__name__)
slip = slipper(edit)

TRAIN = "train_mlp"   # calls the student's init_mlp_params and mlp (which calls relu)
INIT = "init_mlp_params"
TANH_BODY = "E = np.exp(-2 * np.abs(X))\n    return np.sign(X) * (1 - E) / (1 + E)"
SIGMOID_BODY = "S = sigmoid(X)\n    return S * (1 - S)"
MAX, SIGMOID, SLOPE = "np.maximum(X, 0)", "1 / (1 + np.exp(-X))", "(X > 0).astype(X.dtype)"
FLATTEN = "X.reshape(-1, W1.shape[0])      # (n, 1, 28, 28) -> (n, 784)"
W1_DRAW = "np.random.normal(0, sigma, (num_inputs, num_hiddens))"
W2_DRAW = "np.random.normal(0, sigma, (num_hiddens, num_outputs))"


def draws(new):
    """An edit of init_mlp_params that draws each weight matrix with `new`, a format of
    its `shape`, e.g. "np.random.uniform(-sigma, sigma, {shape})"."""
    return edit((W1_DRAW, new.format(shape="(num_inputs, num_hiddens)")),
                (W2_DRAW, new.format(shape="(num_hiddens, num_outputs)")))


def drawn_by(draw, first=""):
    """An edit of init_mlp_params whose weights come from `draw(sigma, shape)` (the body of
    that function), with `first` lines before the draws."""
    return edit(("def init_mlp_params", f"def draw(sigma, shape):\n    {draw}\n\n"
                                        "def init_mlp_params"),
                (W1_DRAW, "draw(sigma, (num_inputs, num_hiddens))"),
                (W2_DRAW, "draw(sigma, (num_hiddens, num_outputs))"),
                ("    W1 =", f"{first}    W1 ="))


def hidden_layer(new):
    """An edit of mlp whose hidden layer is `new`."""
    return edit((f"{FLATTEN}\n    H = relu(X @ W1 + b1)",
                 f"X.reshape(-1, W1.shape[0])\n    H = {new}"))


# The plain-SGD trainer (the reference adds momentum and a cosine decay) that the trainer
# mistakes written as `edit(..., base=TRAINER)` change.
TRAINER = '''
def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
    params = init_mlp_params(784, num_hiddens, 10)
    for epoch in range(num_epochs):
        for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(mlp(X, params), y).sum()
            loss.backward()
            for param in params:
                param[:] = param - lr * param.grad / batch_size
    return params
'''


def before_training(line):
    """The plain-SGD trainer with `line` first."""
    return edit(("batch_size=256):", f"batch_size=256):\n    {line}"), base=TRAINER)


MISTAKES = [
    # ---------------------------------------------------------------- activations
    slip("relu_npx_relu", "relu", MAX, "npx.relu(X)", "uses `npx.relu`"),
    slip("relu_in_place", "relu", f"return {MAX}", "X[X < 0] = 0\n    return X",
         "changed its argument X in place", "mlp", TRAIN),
    slip("relu_minimum", "relu", MAX, "np.minimum(X, 0)", "computed min(x, 0)", "mlp"),
    slip("sigmoid_overflow_exp_x", "sigmoid", SIGMOID, "np.exp(X) / (1 + np.exp(X))",
         "overflows to inf", "sigmoid_grad"),
    slip("sigmoid_sign", "sigmoid", "(1 + np.exp(-X))", "(1 + np.exp(X))", "computed sigmoid(-x)",
         "sigmoid_grad"),
    slip("tanh_naive_overflow", "tanh", TANH_BODY,
         "return (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))", "overflows to inf",
         "tanh_grad"),
    slip("tanh_one_sided", "tanh", "np.exp(-2 * np.abs(X))\n    return np.sign(X) *",
         "np.exp(-2 * X)\n    return", "overflows to inf", "tanh_grad"),
    slip("tanh_half_exponent", "tanh", "np.exp(-2 * np.abs(X))", "np.exp(-np.abs(X))",
         "computed tanh(x / 2)", "tanh_grad"),
    Mistake("sigmoid_remembered_by_shape", "sigmoid",
            edit(("def sigmoid(X):", "def sigmoid(X, _known={}):"),
                 (f"return {SIGMOID}", f"if X.shape not in _known:   # saves time\n"
                                       f"        _known[X.shape] = {SIGMOID}\n"
                                       f"    return _known[X.shape].copy()")),
            "This was a second draw: new inputs of the same shapes", also_fails=("sigmoid_grad",)),
    Mistake("relu_through_classic_numpy", "relu",
            edit(("def relu", "import numpy as onp\n\ndef relu"),
                 (MAX, "np.array(onp.maximum(X.asnumpy(), 0))")),
            "the result cannot be differentiated", also_fails=("mlp",)),
    slip("tanh_np_tanh", "tanh", TANH_BODY, "return np.tanh(X)", "uses `np.tanh`"),
    slip("relu_where_with_a_number", "relu", MAX, "np.where(X > 0, X, 0)",
         "np.where(condition, X, 0) with a number for a branch", "mlp"),
    slip("relu_sign_by_division", "relu", MAX, "X * (X / np.abs(X) + 1) / 2",
         "needs no exp and no division"),
    slip("relu_returns_mask", "relu", MAX, SLOPE, "returned the mask x > 0", "mlp"),
    slip("relu_comparison_not_assignment", "relu", f"return {MAX}",
         "Y = X.copy()\n    Y[Y < 0] == 0\n    return Y", "returned x unchanged", "mlp"),
    slip("sigmoid_minus_in_denominator", "sigmoid", "(1 + np.exp(-X))", "(1 - np.exp(-X))",
         "the denominator is 1 + exp(-x)", "sigmoid_grad"),
    slip("tanh_sigmoid_of_2x", "tanh", TANH_BODY, "return 1 / (1 + np.exp(-2 * X))",
         "computed sigmoid(2x)", "tanh_grad"),
    slip("tanh_sign_lost", "tanh", "np.sign(X) * (1 - E)", "(1 - E)", "multiply by np.sign(X)"),
    slip("relu_absolute_value", "relu", MAX, "np.abs(X)", "returned |x|", "mlp", TRAIN),
    slip("relu_identity", "relu", MAX, "X + 0", "returned x unchanged", "mlp", TRAIN),
    slip("sigmoid_is_tanh", "sigmoid", SIGMOID, "np.tanh(X)", "computed tanh(x)", "sigmoid_grad"),
    slip("tanh_is_sigmoid", "tanh", TANH_BODY, "return 1 / (1 + np.exp(-X))",
         "computed sigmoid(x), not tanh(x)", "tanh_grad"),
    # ---------------------------------------------------------------- derivatives
    slip("relu_grad_returns_relu", "relu_grad", SLOPE, MAX, "returned relu(x) = max(x, 0) itself"),
    # Deny by default: a global array, which any cell could change, read by the function.
    Mistake("relu_grad_global_slopes", "relu_grad",
            edit(("def relu_grad", "SLOPES = np.array([0.0, 1.0])\n\ndef relu_grad"),
                 (SLOPE, 'SLOPES[(X > 0).astype("int32")].astype(X.dtype)')),
            "reads the global `SLOPES`, bound by `SLOPES = np.array([0.0, 1.0])`"),
    slip("relu_grad_bool", "relu_grad", SLOPE, "X > 0", "bool array"),
    slip("relu_grad_autograd", "relu_grad", f"return {SLOPE}",
         "X = X.copy()\n    X.attach_grad()\n    with autograd.record():\n"
         "        y = np.maximum(X, 0)\n    y.backward()\n    return X.grad",
         "which this exercise forbids"),
    slip("sigmoid_grad_returns_sigmoid", "sigmoid_grad", SIGMOID_BODY, "return sigmoid(X)",
         "returned sigmoid(x) itself"),
    slip("sigmoid_grad_of_x", "sigmoid_grad", SIGMOID_BODY, "return X * (1 - X)",
         "computed x (1 - x)"),
    slip("tanh_grad_one_minus_x_squared", "tanh_grad", "tanh(X)", "X", "computed 1 - x^2"),
    slip("tanh_grad_no_square", "tanh_grad", "tanh(X) ** 2", "tanh(X)", "square it"),
    slip("relu_grad_nan_at_kink", "relu_grad", SLOPE, "np.maximum(X, 0) / X",
         "every value in [0, 1] is a subgradient"),
    slip("relu_grad_flipped", "relu_grad", SLOPE, "np.where(X > 0, 0.0, 1.0)",
         "the slope of max(x, 0) is 1 where x > 0"),
    slip("relu_grad_sign", "relu_grad", SLOPE, "np.sign(X)", "returned sign(x)"),
    slip("sigmoid_grad_wrong_sign", "sigmoid_grad", SIGMOID_BODY,
         "s = sigmoid(X)\n    return s * (s - 1)", "sigmoid is increasing, its slope is positive"),
    slip("sigmoid_grad_one_minus_s", "sigmoid_grad", SIGMOID_BODY, "return 1 - sigmoid(X)",
         "multiply by sigmoid(x)"),
    slip("sigmoid_grad_plus", "sigmoid_grad", SIGMOID_BODY,
         "s = sigmoid(X)\n    return s * (1 + s)", "computed s (1 + s)"),
    slip("tanh_grad_returns_tanh", "tanh_grad", "1 - tanh(X) ** 2", "tanh(X)",
         "returned tanh(x) itself"),
    slip("tanh_grad_plus", "tanh_grad", "1 - tanh(X)", "1 + tanh(X)", "the sign is minus"),
    slip("tanh_grad_wrong_sign", "tanh_grad", "1 - tanh(X) ** 2", "tanh(X) ** 2 - 1",
         "tanh is increasing"),
    slip("tanh_grad_times_two", "tanh_grad", "**", "*", "entries are wrong; worst at index"),
    slip("sigmoid_grad_unstable_quotient", "sigmoid_grad", SIGMOID_BODY,
         "E = np.exp(-X)\n    return E / (1 + E) ** 2", "returned NaN for x = -100"),
    slip("tanh_grad_naive_tanh", "tanh_grad", "return 1 - tanh(X)",
         "T = (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))\n    return 1 - T",
         "exp(x) overflows to inf for x > 88.7"),
    slip("tanh_grad_quotient_rule", "tanh_grad", "return 1 - tanh(X) ** 2",
         "# d/dx (e^x - e^-x) / (e^x + e^-x), by the quotient rule\n"
         "    P, M = np.exp(X) + np.exp(-X), np.exp(X) - np.exp(-X)\n"
         "    return (P * P - M * M) / (P * P)", "entries are not finite"),
    # ---------------------------------------------------------------- init_mlp_params
    Mistake("init_random_biases", INIT,
            edit(("np.zeros(num_hiddens)", "np.random.normal(0, sigma, num_hiddens)"),
                 ("np.zeros(num_outputs)", "np.random.normal(0, sigma, num_outputs)")),
            "biases start at zero"),
    Mistake("init_from_classic_numpy", INIT,
            drawn_by("import numpy\n    return np.array(numpy.random.normal(0, sigma, shape), "
                     "dtype='float32')"),
            "returned other values with MXNet seeded alike"),
    Mistake("init_sigma_ignored", INIT, draws("np.random.normal(0, 0.01, {shape})"),
            "it looks like the default 0.01"),
    Mistake("init_variance_as_scale", INIT, draws("np.random.normal(0, sigma ** 2, {shape})"),
            "not the variance"),
    Mistake("init_transposed_weights", INIT,
            edit(("(num_inputs, num_hiddens))", "(num_hiddens, num_inputs))"),
                 ("(num_hiddens, num_outputs))", "(num_outputs, num_hiddens))")),
            "it is transposed", also_fails=(TRAIN,)),
    slip("init_no_attach_grad", INIT, "params = [W1, b1, W2, b2]\n    for param in "
         "params:\n        param.attach_grad()\n    return params", "return [W1, b1, W2, b2]",
         "has no gradient attached", TRAIN),
    Mistake("init_bias_row", INIT,
            edit(("np.zeros(num_hiddens)", "np.zeros((1, num_hiddens))"),
                 ("np.zeros(num_outputs)", "np.zeros((1, num_outputs))")),
            "a bias is a vector"),
    Mistake("init_zero_weights", INIT, draws("np.zeros({shape})"), "weights must be random"),
    Mistake("init_returns_layer_pairs", INIT,
            edit(("params = [W1, b1, W2, b2]\n    for param in params:",
                  "for param in [W1, b1, W2, b2]:"),
                 ("return params", "return [(W1, b1), (W2, b2)]")),
            "expected the list [W1, b1, W2, b2]"),
    Mistake("init_standard_normal", INIT, draws("np.random.normal(size={shape})"),
            "it looks like 1"),
    Mistake("init_uniform", INIT, draws("np.random.uniform(-sigma, sigma, {shape})"),
            "that of a uniform draw"),
    Mistake("init_mean_sigma", INIT, draws("np.random.normal(sigma, sigma, {shape})"), "has mean"),
    Mistake("init_uniform_same_variance", INIT,
            draws("np.random.uniform(-sigma * 3 ** 0.5, sigma * 3 ** 0.5, {shape})"),
            "They look uniform"),
    Mistake("init_reseeds", INIT, drawn_by("npx.random.seed(0)\n    return np.random.normal(0, "
                                           "sigma, shape)"), "reset between the draws"),
    Mistake("init_clipped_at_three_sigma", INIT, drawn_by(
        "return np.clip(np.random.normal(0, sigma, shape), -3 * sigma, 3 * sigma)"),
            "the tails of the distribution are cut"),
    Mistake("init_redraws_large_weights", INIT, drawn_by(
        "W = np.random.normal(0, sigma, shape)\n"
        "    return np.where(np.abs(W) > 2.5 * sigma, np.random.normal(0, sigma, shape), W)"),
            "W1 has standard deviation"),
    Mistake("init_seeds_once", INIT, drawn_by(
        "return np.random.normal(0, sigma, shape)", first="    npx.random.seed(42)\n"),
            "returned the same first entries of W1"),
    Mistake("init_laplace_same_variance", INIT, drawn_by(
        "# Laplace draws of variance sigma^2: two exponentials of mean sigma / sqrt(2)\n"
        "    return (np.random.exponential(sigma / 2 ** 0.5, shape)\n"
        "            - np.random.exponential(sigma / 2 ** 0.5, shape))"),
            "do not look drawn from N(0, 0.5^2)"),
    # ---------------------------------------------------------------- mlp
    Mistake("mlp_no_relu", "mlp", hidden_layer("X @ W1 + b1"), "no nonlinearity"),
    slip("mlp_no_flatten", "mlp", f"    X = {FLATTEN}\n", "", "Flatten X first", TRAIN),
    slip("mlp_relu_on_output", "mlp", "H @ W2 + b2", "relu(H @ W2 + b2)",
         "applied relu to the output too", TRAIN),
    slip("mlp_softmax_output", "mlp", "return H @ W2 + b2",
         "O = H @ W2 + b2\n    E = np.exp(O - O.max(axis=1, keepdims=True))\n"
         "    return E / E.sum(axis=1, keepdims=True)", "returned probabilities"),
    Mistake("mlp_no_hidden_bias", "mlp", hidden_layer("relu(X @ W1)"),
            "forgot the hidden bias b1"),
    slip("mlp_no_output_bias", "mlp", "H @ W2 + b2", "H @ W2", "forgot the output bias b2"),
    Mistake("mlp_no_biases", "mlp", edit(("X @ W1 + b1", "X @ W1"), ("H @ W2 + b2", "H @ W2")),
            "forgot both biases"),
    Mistake("mlp_sigmoid_hidden", "mlp", hidden_layer("sigmoid(X @ W1 + b1)"),
            "used sigmoid in the hidden layer"),
    Mistake("mlp_tanh_hidden", "mlp", hidden_layer("tanh(X @ W1 + b1)"),
            "used tanh in the hidden layer"),
    slip("mlp_transposed_logits", "mlp", "H @ W2 + b2", "(H @ W2 + b2).T", "they are transposed"),
    slip("mlp_flattens_to_784", "mlp", FLATTEN, "X.reshape(-1, 784)",
         "works for 784 inputs but not for X of shape (2, 3, 4)"),
    Mistake("mlp_sizes_of_fashion_mnist", "mlp", '''
num_inputs, num_hiddens, num_outputs = 784, 256, 10

def mlp(X, params):
    W1, b1, W2, b2 = params
    H = relu(X.reshape((-1, num_inputs)) @ W1 + b1)
    return H @ W2 + b2
''', "never a fixed 784"),
    # ---------------------------------------------------------------- collapse_linear
    slip("collapse_forgot_b1_W2", "collapse_linear", "b1 @ W2 + b2", "b2.copy()", "forgot b1 @ W2"),
    slip("collapse_bias_in_W", "collapse_linear", "@ W2, b1", "@ W2 + b2, b1", "added b2 to W"),
    slip("collapse_one_array", "collapse_linear", "@ W2, b1", "@ W2 + b1",
         "expected the pair (W, b)"),
    slip("collapse_forgot_b2", "collapse_linear", "@ W2 + b2", "@ W2",
         "add the second layer's bias"),
    slip("collapse_transposed_W", "collapse_linear", "W1 @ W2", "W2.T @ W1.T",
         "x W maps 5 inputs to 4 outputs"),
    slip("collapse_b_row", "collapse_linear", "W2, b1 @", "W2, b1.reshape(1, -1) @",
         "one bias per output"),
    # ---------------------------------------------------------------- train_mlp
    Mistake("train_lr_sign", TRAIN, edit(("-", "+"), base=TRAINER), "the updates go uphill"),
    Mistake("train_no_batch_division", TRAIN,
            edit(("param.grad / batch_size", "param.grad"), base=TRAINER),
            "not divided by the batch size"),
    Mistake("train_rebinds_params", TRAIN, edit(("param[:]", "param"), base=TRAINER),
            "b2 is still zero"),
    Mistake("train_ignores_num_hiddens", TRAIN, edit(("num_hiddens,", "256,"), base=TRAINER),
            "W1 in the parameters returned by train_mlp"),
    Mistake("train_returns_after_one_step", TRAIN,
            edit(("init_mlp_params(784, num_hiddens, 10)",
                  "init_mlp_params(784, num_hiddens, 10)\n"
                  "    states = init_momentum_states(params)"),
                 ("for param in params:\n"
                  "                param[:] = param - lr * param.grad / batch_size\n",
                  "sgd_momentum(params, states, lr, 0.9, batch_size)\n"
                  "        "), base=TRAINER),
            "the return comes after both loops"),
    slip("train_cosine_decay_below_zero", TRAIN, "(1 + math.cos(math.pi * step / num_steps)) / 2",
         "math.cos(math.pi * step / num_steps)", "with lr > 0 at every step"),
    *ignored_hyperparameters(
        TRAIN, edit(("param - lr", "param - 0.1"), base=TRAINER), before_training),
    Mistake("train_reads_the_training_set", TRAIN,
            edit(("\ndef", "from d2lcourse.data import read_fashion_mnist\n\ndef"),
                 ("batch_size=256):",
                  'batch_size=256):\n    X_train, y_train = read_fashion_mnist("train")'),
                 base=TRAINER),
            "read the Fashion-MNIST train split during its call"),
    Mistake("train_reads_the_data_when_its_cell_runs", TRAIN,
            edit(("\ndef", "from d2lcourse.data import read_fashion_mnist\n\n"
                           'X_ALL, Y_ALL = read_fashion_mnist("train")  # once, when the cell runs\n\ndef'),
                 ("batch_size=256):",
                  "batch_size=256):\n    n = X_train.shape[0]\n"
                  "    X_train, y_train = X_ALL[:n], Y_ALL[:n]"),
                 base=TRAINER),
            "ignores the labels it is given"),
    Mistake("train_mlp_keeps_its_parameters", TRAIN, edit(  # a warm start at every call
        ("batch_size=256):", "batch_size=256, _kept={}):"),
        ("    params = init_mlp_params(784, num_hiddens, 10)",
         "    if num_hiddens not in _kept:   # go on from where the last call ended\n"
         "        _kept[num_hiddens] = init_mlp_params(784, num_hiddens, 10)\n"
         "    params = _kept[num_hiddens]"), base=TRAINER),
            "does not start from scratch"),
    Mistake("train_mlp_random_minibatches", TRAIN, edit(  # with replacement
        ("for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):",
         "for i in range(0, len(X_train), batch_size):\n"
         "            batch = np.random.randint(0, len(X_train), batch_size)\n"
         "            X, y = X_train[batch], y_train[batch]"), base=TRAINER),
            "does not use every example once in every epoch"),
    Mistake("train_standardises_the_pixels", TRAIN, before_training(
        "X_train = (X_train - X_train.mean(axis=0)) / X_train.std(axis=0)"),
            "training diverged"),
    Mistake("train_on_the_first_examples", TRAIN, edit(
        ("batch_size=256):", "batch_size=256):\n    X_train, y_train = X_train[:2000], "
                             "y_train[:2000]  # faster while testing"),
        ("784", "X_train[0].size"), base=TRAINER),
            "every epoch visits all the training examples"),
    Mistake("train_initialises_every_epoch", TRAIN, edit((
        "range(num_epochs):", "range(num_epochs):\n        params = init_mlp_params(784, "
                              "num_hiddens, 10)"), base=TRAINER), "create the parameters once"),
    Mistake("train_drops_the_last_batch", TRAIN, edit((
        "shuffle=True):\n", "shuffle=True):\n            if X.shape[0] < batch_size:\n"
                            "                continue  # skip the incomplete last batch\n"),
        base=TRAINER), "takes only full minibatches"),
    *(Mistake(f"train_caps_{name}", TRAIN, before_training(
        f"{name} = min({name}, {default})  # faster while testing"),
        f"does not use {name}={value} as given")
      for name, value, default in (("lr", 1, 0.1), ("batch_size", 512, 256),
                                   ("num_epochs", 20, 2))),
    Mistake("train_for_784_pixels", TRAIN, edit(base=TRAINER), "fails on images of another size"),
    Mistake("train_returns_copies", TRAIN, edit((
        "return params", "return [param.copy() for param in params]  # detached from training"),
        base=TRAINER), "has no gradient attached"),
    # ---------------------------------------------------------------- rules for every
    # graded function (checks.properties): inputs unchanged, new results, float dtypes
    slip("sigmoid_float16", "sigmoid", SIGMOID, f'({SIGMOID}).astype("float16")',
         "has dtype float16", "sigmoid_grad"),
    slip("tanh_grad_overwrites_X", "tanh_grad", "return 1 - tanh(X)",
         "X[:] = tanh(X)\n    return 1 - X", "changed its argument X in place"),
    Mistake("mlp_reuses_its_output", "mlp",
            edit(("def mlp", "_outputs = {}\n\ndef mlp"),
                 ("return H @ W2 + b2", "shape = (X.shape[0], W2.shape[1])\n"
                                        "    O = _outputs.setdefault(shape, np.zeros(shape))\n"
                                        "    O[:] = H @ W2 + b2\n    return O")),
            "returned the array it had returned before", also_fails=(TRAIN,)),
    slip("init_mlp_params_gradients_add_up", INIT, "param.attach_grad()",
         "param.attach_grad(grad_req='add')", "with a gradient that adds up over backward passes"),
    slip("init_mlp_params_float16", INIT, "params = [W1, b1, W2, b2]",
         'params = [p.astype("float16") for p in (W1, b1, W2, b2)]', "has dtype float16", TRAIN),
    # ---------------------------------------------------------------- finite results (checked
    # by the engine for every graded function, checks.properties.non_finite)
    Mistake("init_quantiles_from_zero", INIT, drawn_by(
        "# exact normal quantiles at 0, 1/n, ..., (n-1)/n, in a random order\n"
        "    n = math.prod(shape)\n"
        "    z = 2 ** 0.5 * npx.erfinv(2 * np.arange(n) / n - 1)\n"
        "    np.random.shuffle(z)\n"
        "    return sigma * z.reshape(shape)"),
            "returned -Inf in result[0] at index", also_fails=(TRAIN,)),
]

ALTERNATIVES = [
    Alternative("relu_mask", "relu", edit(("np.maximum(X, 0)", "X * (X > 0)"))),
    Alternative("sigmoid_symmetric", "sigmoid",
                edit(("return 1 / (1 + np.exp(-X))",
                      "E = np.exp(-np.abs(X))          # <= 1, never overflows\n"
                      "    return np.where(X >= 0, 1 / (1 + E), E / (1 + E))"))),
    Alternative("tanh_via_stable_sigmoid", "tanh", edit(
        ("def tanh", "def stable_sigmoid(X):\n    E = np.exp(-np.abs(X))\n"
                     "    return np.where(X >= 0, 1 / (1 + E), E / (1 + E))\n\ndef tanh"),
        (TANH_BODY, "return 2 * stable_sigmoid(2 * X) - 1"))),
    Alternative("tanh_expm1", "tanh", edit((TANH_BODY,
                                            "M = np.expm1(-2 * np.abs(X))    # exp(-2|x|) - 1, "
                                            "exact near 0\n    return -np.sign(X) * M / (2 + M)"))),
    Alternative("relu_grad_at_zero_one", "relu_grad",
                edit(("(X > 0).astype(X.dtype)", "(X >= 0).astype(X.dtype)"))),
    Alternative("relu_grad_where", "relu_grad",
                edit(("(X > 0).astype(X.dtype)", "np.where(X > 0, 1.0, 0.0)"))),
    Alternative("sigmoid_grad_exp", "sigmoid_grad",
                edit((SIGMOID_BODY, "E = np.exp(-np.abs(X))           # sigmoid'(x) = e^-|x| / "
                                    "(1 + e^-|x|)^2, even in x\n    return E / (1 + E) ** 2"))),
    Alternative("tanh_grad_via_sigmoid_grad", "tanh_grad",
                edit(("return 1 - tanh(X) ** 2",
                      "S = 1 / (1 + np.exp(-2 * X))     # tanh(x) = 2 sigmoid(2x) - 1\n"
                      "    return 4 * S * (1 - S)"))),
    Alternative("tanh_grad_cosh", "tanh_grad", edit((
        "1 - tanh(X) ** 2",
        "4 / (np.exp(X) + np.exp(-X)) ** 2     # 1 / cosh(x)^2; 4 / inf = 0 for large |x|"))),
    Alternative("init_comprehension", INIT, '''
def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
    shapes = [(num_inputs, num_hiddens), (num_hiddens, num_outputs)]
    W1, W2 = [np.random.normal(0, sigma, shape) for shape in shapes]
    params = [W1, np.zeros(num_hiddens), W2, np.zeros(num_outputs)]
    for param in params:
        param.attach_grad()
    return params
'''),
    Alternative("init_scaled_standard_normal", INIT,
                drawn_by("return sigma * np.random.randn(*shape)")),
    Alternative("mlp_inline", "mlp", '''
def mlp(X, params):
    W1, b1, W2, b2 = params
    H = np.maximum(np.dot(X.reshape(X.shape[0], -1), W1) + b1, 0)
    return np.dot(H, W2) + b2
'''),
    Alternative("collapse_np_dot", "collapse_linear",
                edit(("return W1 @ W2, b1 @ W2 + b2",
                      "W = np.dot(W1, W2)\n    b = np.dot(b1, W2) + b2\n    return (W, b)"))),
    Alternative("train_gluon_loss_plain_sgd", TRAIN,
                edit(("params = init_mlp_params(784, num_hiddens, 10)",
                      "loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()\n"
                      "    params = init_mlp_params(X_train[0].size, num_hiddens, 10)"),
                     ("loss = softmax_cross_entropy(mlp(X, params), y).sum()\n"
                      "            loss.backward()",
                      "l = loss_fn(mlp(X, params), y)\n"
                      "            l.backward()"),
                     ("/ batch_size", "/ X.shape[0]"), base=TRAINER)),
    Alternative("train_index_slicing_mean_loss", TRAIN, edit(
        ("    params =", "    n = X_train.shape[0]\n    params ="), ("784", "X_train[0].size"),
        ("for X, y in ArrayBatches(X_train, y_train, batch_size, shuffle=True):",
         "order = np.arange(n)\n        np.random.shuffle(order)\n"
         "        for start in range(0, n, batch_size):\n"
         "            batch = order[start:start + batch_size]\n"
         "            X, y = X_train[batch], y_train[batch]"),
        (".sum()", ".mean()"), ("param[:] = param - lr * param.grad / batch_size",
                                "param -= lr * param.grad"), base=TRAINER)),
]
