"""Typical mistakes and alternative correct answers for 02_linear_regression."""
from d2lcourse.mistakes import Alternative, Mistake, editor, slipper

edit = editor(__name__)
slip = slipper(edit)

TRAIN = "train_linear_regression"   # calls the student's data_iter, linreg, squared_loss, sgd

# The cells that edits with `base=` change: the reference's without docstrings and printing.
TRAINER = '''
def train_linear_regression(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    w = np.random.normal(0, 0.01, (features.shape[1], 1))
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            with autograd.record():
                l = squared_loss(linreg(X, w, b), y)
            l.backward()
            sgd([w, b], lr, batch_size)
    return w, b
'''

SYNTHETIC = '''
def synthetic_data(w, b, num_examples):
    X = np.random.normal(0, 1, (num_examples, len(w)))
    y = np.dot(X, w) + b
    y += np.random.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))
'''

ITERATOR = '''
def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = np.arange(num_examples)
    np.random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]
        yield features[batch_indices], labels[batch_indices]
'''
# Texts of those cells that several edits replace.
X_DRAW = "np.random.normal(0, 1, (num_examples, len(w)))"
NOISE = "np.random.normal(0, 0.01, y.shape)"
BATCH = "indices[i: min(i + batch_size, num_examples)]"
LOOP = f"for i in range(0, num_examples, batch_size):\n        batch_indices = {BATCH}"
INIT = TRAINER[TRAINER.index("    w ="):TRAINER.index("    for epoch")]
W_INIT = "np.random.normal(0, 0.01, (features.shape[1], 1))"
SGD = "sgd([w, b], lr, batch_size)"
SOLVE = "np.linalg.solve(np.dot(A.T, A), np.dot(A.T, y.reshape(-1, 1)))"
DIFFERENCE = "(y_hat - y.reshape(y_hat.shape))"
EPOCHS = ("    for epoch in range(num_epochs):\n"
          "        for X, y in data_iter(batch_size, features, labels):")
BATCHES_ONCE = ("    batches = list(data_iter(batch_size, features, labels))  # shuffled once\n"
                "    for epoch in range(num_epochs):\n        for X, y in batches:")

MISTAKES = [
    # ---------------------------------------------------------------- synthetic_data
    slip("synthetic_data_noise_std_1", "synthetic_data", NOISE, "np.random.normal(size=y.shape)",
         "that is the default scale 1"),
    Mistake("synthetic_data_noise_from_classic_numpy", "synthetic_data",
            edit((NOISE, "np.array(onp.random.normal(0, 0.01, y.shape), dtype=y.dtype)"),
                 ("def synthetic_data", "import numpy as onp\n\ndef synthetic_data")),
            "the same seed of MXNet's generator gave different data"),
    slip("synthetic_data_variance_as_scale", "synthetic_data", "0.01,", "0.01 ** 2,",
         "is the variance"),
    slip("synthetic_data_flat_y", "synthetic_data", "y.reshape((-1, 1))", "y",
         "return y.reshape((-1, 1))"),
    Mistake("synthetic_data_noise_broadcast", "synthetic_data",
            edit(("w.reshape(-1, 1)", "w"), like="synthetic_data_column_w"),
            "broadcasts to (n, n)"),
    slip("synthetic_data_no_bias", "synthetic_data", "np.dot(X, w) + b", "np.dot(X, w)",
         "y misses the bias"),
    slip("synthetic_data_transposed_X", "synthetic_data",
         "np.random.normal(0, 1, (num_examples, len(w)))\n    y = np.dot(X, w)",
         "np.random.normal(0, 1, (len(w), num_examples))\n    y = np.dot(w, X)",
         "one row per example, one column per entry of w"),
    slip("synthetic_data_uniform_X", "synthetic_data", "normal(0, 1,", "uniform(0, 1,",
         "looks uniform on [0, 1)"),
    slip("synthetic_data_index_typo", "synthetic_data", "np.dot(X, w)",
         "X[:, 0] * w[0] + X[:, 1] * w[0]", "y depends on X through the weights"),
    slip("synthetic_data_bias_in_X", "synthetic_data", "np.dot(X, w) + b", "np.dot(X + b, w)",
         "expected the bias b = 4.2"),
    slip("synthetic_data_no_noise", "synthetic_data", f"y += {NOISE}", "", "y has no noise"),
    slip("synthetic_data_sqrt_noise", "synthetic_data", "0.01,", "0.01 ** 0.5,",
         "0.01 is already the standard deviation"),
    slip("synthetic_X_mean_one", "synthetic_data", "normal(0, 1,", "normal(1, 1,", "of X has mean"),
    slip("synthetic_X_std_two", "synthetic_data", "normal(0, 1,", "normal(0, 2,",
         "of X has variance"),
    slip("synthetic_X_one_column_repeated", "synthetic_data", X_DRAW,
         "np.random.normal(0, 1, (num_examples, 1)) * np.ones((1, len(w)))", "of X are correlated"),
    slip("synthetic_data_no_return", "synthetic_data", "return X,", "y =",
         "returned None, expected the pair (X, y)"),
    Mistake("synthetic_data_noise_standardized_over_rows", "synthetic_data", edit(  # 0 / 0
        ("np.dot(X, w) + b", "np.dot(X, w).reshape((-1, 1)) + b"), ("y +=", "noise ="),
        (NOISE, "np.random.normal(0, 1, y.shape)\n    y = y + 0.01 * (noise - noise.mean("
                "axis=1, keepdims=True)) / noise.std(axis=1, keepdims=True)"), base=SYNTHETIC),
            "returned NaN in result[1] at index (0, 0)"),
    slip("synthetic_data_uniform_noise", "synthetic_data", NOISE,
         "np.random.uniform(-0.01, 0.01, y.shape)",
         "draw it with np.random.normal(0, 0.01, y.shape)"),
    Mistake("synthetic_data_uniform_unit_variance", "synthetic_data",
            edit((X_DRAW, "np.random.uniform(-3 ** 0.5, 3 ** 0.5, (num_examples, len(w)))")),
            "the entries of X (w=[2, -3.4], b=4.2, num_examples=4000) do not look drawn from "
            "N(0, 1^2): "),
    slip("synthetic_data_uniform_noise_unit_variance", "synthetic_data", NOISE,
         "np.random.uniform(-0.01 * 3 ** 0.5, 0.01 * 3 ** 0.5, y.shape)", "They look uniform"),
    Mistake("synthetic_data_seeded", "synthetic_data",
            edit(("\n    X", "\n    npx.random.seed(42)  # the same data every time\n    X")),
            "two calls in a row returned the same X (num_examples=20): the function seeds the "
            "generator itself"),
    Mistake("synthetic_data_noise_from_seeded_numpy", "synthetic_data",
            edit(("num_examples):", "num_examples):\n    import numpy"),
                 (NOISE, "np.array(numpy.random.RandomState(0).normal(0, 0.01, y.shape), "
                         "dtype=y.dtype)"), base=SYNTHETIC),
            "two calls in a row added the same noise"),
    Mistake("synthetic_data_own_generator", "synthetic_data",
            edit(("num_examples):",
                  "num_examples):\n    import numpy\n    rng = numpy.random.default_rng()"),
                 (X_DRAW, f'np.array(rng.{X_DRAW[10:]}, dtype="float32")'),
                 (NOISE, f'np.array(rng.{NOISE[10:]}, dtype="float32")'), base=SYNTHETIC),
            "the same seed of MXNet's generator gave different data"),
    # ---------------------------------------------------------------- data_iter
    Mistake("data_iter_no_shuffle", "data_iter",
            edit(("np.random.shuffle(indices)", ""), base=ITERATOR), "reads the examples in order"),
    Mistake("data_iter_drops_last_batch", "data_iter",
            edit(("range(0, num_examples,", "range(0, num_examples // batch_size * batch_size,"),
                 base=ITERATOR), "the last, incomplete batch is missing"),
    Mistake("data_iter_fixed_seed", "data_iter",
            edit(("np.random", "npx.random.seed(42)\n    np.random"), base=ITERATOR),
            "two calls gave the same order"),
    Mistake("data_iter_python_random", "data_iter", '''
import random

def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = np.array(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]
''', "Python's random.shuffle draws from a generator of its own"),
    Mistake("data_iter_classic_numpy_permutation", "data_iter",
            edit(("np.arange(num_examples)", "np.array(onp.random.permutation(num_examples))"),
                 ("    np.random.shuffle(indices)\n", ""), ("def", "import numpy as onp\n\ndef"),
                 base=ITERATOR), "the order of the examples changed"),
    Mistake("data_iter_shuffles_batches_only", "data_iter",
            edit(("np.arange(num_examples)", "np.arange(0, num_examples, batch_size)"),
                 (LOOP, "for i in indices:\n        batch_indices = np.arange(int(i), "
                        "min(int(i) + batch_size, num_examples))"), base=ITERATOR),
            "not the order of the batches"),
    Mistake("data_iter_returns_list", "data_iter",
            edit(("np.random.shuffle(indices)", "np.random.shuffle(indices)\n    batches = []"),
                 ("yield features[batch_indices], labels[batch_indices]",
                  "batches.append((features[batch_indices], labels[batch_indices]))\n"
                  "    return batches"), base=ITERATOR),
            "expected a generator"),
    slip("data_iter_unpaired_labels", "data_iter", "labels[batch_indices]",
         "labels[i: min(i + batch_size, num_examples)]",
         "index features and labels with the same batch_indices"),
    slip("data_iter_no_yield", "data_iter", "yield features[batch_indices]",
         "features[batch_indices]", "returned None, expected a generator"),
    Mistake("data_iter_one_example_at_a_time", "data_iter",
            edit((LOOP, "for batch_indices in indices:"), base=ITERATOR),
            "expected (batch, 3): rows of features"),
    Mistake("data_iter_empty_last_batch", "data_iter",
            edit(("num_examples, batch_size)", "num_examples + batch_size, batch_size)"),
                 (BATCH, "indices[i: i + batch_size]"), base=ITERATOR),
            "yield only batches that hold examples"),
    slip("data_iter_column_labels", "data_iter", "labels[batch_indices]",
         "labels[batch_indices].reshape(-1, 1)", "the labels of its 25 rows"),
    Mistake("data_iter_with_replacement", "data_iter",
            edit((BATCH, "np.random.randint(0, num_examples, min(batch_size, num_examples - i))"),
                 base=ITERATOR), "each example must come exactly once per call"),
    slip("data_iter_slice_off_by_one", "data_iter", BATCH,
         "indices[i: i + batch_size - 1]", "examples never came"),
    Mistake("data_iter_array_split", "data_iter",
            edit(("def", "import numpy as onp\n\ndef"),
                 (LOOP, "for part in onp.array_split(indices, batch_size):\n"
                        "        batch_indices = np.array(part)"), base=ITERATOR),
            "all batches hold batch_size examples, except a smaller last one"),
    Mistake("data_iter_range_arguments_swapped", "data_iter",
            edit(("range(0, num_examples, batch_size):",
                  "range(num_examples, 0, batch_size):"), base=ITERATOR),
            "yielded no batch at all"),
    Mistake("data_iter_standardizes_batches", "data_iter",
            edit(("yield features[batch_indices]",
                  "X = features[batch_indices]\n"
                  "        yield (X - X.mean(axis=0)) / X.std(axis=0)")),
            "is not a row of features"),
    Mistake("data_iter_range_stops_early", "data_iter",
            edit(("range(0, num_examples,", "range(0, num_examples - 1,"), base=ITERATOR),
            "1 of 4 examples never came (e.g. example"),
    Mistake("data_iter_squeezed_indices", "data_iter",
            edit((BATCH, "indices[i: i + batch_size].squeeze()"),
                 ("features[batch_indices], labels[batch_indices]",
                  "np.take(features, batch_indices, axis=0), "
                  "np.take(labels, batch_indices, axis=0)"), base=ITERATOR),
            "X_batch of batch 0 has shape (3,), expected (batch, 3)"),
    slip("data_iter_flattens_examples", "data_iter", "yield features[batch_indices]",
         "yield features[batch_indices].reshape(len(batch_indices), -1)",
         "do not flatten them"),
    Mistake("data_iter_fixed_partition", "data_iter", '''
import random

def data_iter(batch_size, features, labels):
    num_examples = len(features)
    starts = list(range(0, num_examples, batch_size))
    last = starts.pop()   # the smaller batch stays last
    random.shuffle(starts)
    for i in starts + [last]:
        batch = list(range(i, min(i + batch_size, num_examples)))
        random.shuffle(batch)   # and shuffle inside each batch
        batch_indices = np.array(batch)
        yield features[batch_indices], labels[batch_indices]
''', "the batches hold the same examples at every call"),
    # ---------------------------------------------------------------- linreg
    slip("linreg_classic_numpy", "linreg", "return np.dot(X, w) + b",
         "import numpy\n    return numpy.dot(X.asnumpy(), w.asnumpy()) + b.asnumpy()",
         "returned numpy.ndarray", TRAIN),
    slip("linreg_no_bias", "linreg", "np.dot(X, w) + b", "np.dot(X, w)", "linreg ignores b", TRAIN),
    slip("linreg_bias_as_a_number", "linreg", "np.dot(X, w) + b", "np.dot(X, w) + b.item()",
         "autograd's gradient w.r.t. b is wrong", TRAIN),
    slip("linreg_elementwise_sum", "linreg", "np.dot(X, w)", "(X * w.T).sum(axis=1)",
         "return np.dot(X, w) + b"),
    # ---------------------------------------------------------------- squared_loss
    Mistake("squared_loss_through_classic_numpy", "squared_loss",
            edit((DIFFERENCE, "np.array((y_hat.asnumpy() - y.asnumpy().reshape(y_hat.shape))"),
                 ("** 2 / 2", "** 2 / 2)")),
            "the result cannot be differentiated", also_fails=(TRAIN,)),
    slip("squared_loss_no_reshape", "squared_loss", DIFFERENCE, "(y_hat - y)",
         "comes from broadcasting an (n, 1) array against an (n,) array"),
    Mistake("squared_loss_mean", "squared_loss",
            edit((DIFFERENCE, f"({DIFFERENCE}"), ("** 2 / 2", "** 2 / 2).mean()")),
            "returned a single number", also_fails=(TRAIN,)),
    slip("squared_loss_no_half", "squared_loss", "** 2 / 2", "** 2", "factor 1/2", TRAIN),
    slip("squared_loss_reshapes_y_hat", "squared_loss", DIFFERENCE, "(y_hat.reshape(y.shape) - y)",
         "not y_hat to y's"),
    slip("squared_loss_not_squared", "squared_loss", f"{DIFFERENCE} ** 2", f"np.abs{DIFFERENCE}",
         "the difference is not squared"),
    # ---------------------------------------------------------------- sgd
    slip("sgd_rebinds_param", "sgd", "param[:]", "param",
         "rebound `param` instead of writing `param[:]`", TRAIN),
    slip("sgd_no_batch_division", "sgd", "param.grad / batch_size", "param.grad",
         "times too large: divide the gradient by batch_size", TRAIN),
    slip("sgd_gradient_ascent", "sgd", "= param - lr *", "= param + lr *", "moved up the gradient",
         TRAIN),
    slip("sgd_returns_params", "sgd",
         "for param in params:\n        param[:] = param - lr * param.grad / batch_size",
         "return [param - lr * param.grad / batch_size for param in params]",
         "must update the parameters in place", TRAIN),
    slip("sgd_update_outside_loop", "sgd", "param[:] = param - lr * param.grad",
         "grad = param.grad\n    param[:] = param - lr * grad",
         "update every parameter in the list"),
    slip("sgd_no_lr", "sgd", "lr * param.grad", "param.grad",
         "multiply the gradient by the learning rate"),
    slip("sgd_plain_gradient", "sgd", "lr * param.grad / batch_size", "param.grad",
         "the step is param.grad"),
    Mistake("sgd_divides_twice", "sgd",
            edit(("\n    for", "\n    lr = lr / batch_size  # the loss was summed\n    for")),
            "batch_size times too small", also_fails=(TRAIN,)),
    slip("sgd_returns_updated", "sgd", "batch_size\n", "batch_size\n    return params\n",
         "returns None (leave out the return statement)"),
    Mistake("sgd_clips_gradient_norm", "sgd",
            edit(("param.grad", "param.grad * min(1, 5 / float(np.sqrt((param.grad ** 2).sum()"
                                ")))")),
            "the step is smaller than lr * param.grad / batch_size (params of shapes (3, 1), (1,), "
            "lr=0.03, batch_size=10, gradients of norm"),
    Mistake("sgd_clips_huge_gradients", "sgd",
            edit(("\n    for", "\n    # clip only exploding gradients, of norm above 1e7\n    for"),
                 ("param.grad", "param.grad * min(1, 1e7 / float(np.sqrt((param.grad ** 2)"
                                ".sum())))")),
            "large gradients are clipped or normalised. The rule has no limit"),
    slip("sgd_clips_gradient_values", "sgd", "param.grad", "np.clip(param.grad, -5, 5)",
         "large gradients are clipped or normalised"),
    # ---------------------------------------------------------------- closed_form
    Mistake("closed_form_no_bias_column", "closed_form",
            edit(("np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)", "X"),
                 ("theta[:-1], theta[-1]", "theta, np.zeros(1)")), "closed_form ignores the bias"),
    slip("closed_form_unsplit_theta", "closed_form", "theta[:-1],", "theta,",
         "split it, w = theta[:-1]"),
    Mistake("closed_form_scalar_b", "closed_form", edit(("theta[-1]  #", "theta[-1, 0]  #")),
            "b has shape (), expected (1,)"),
    slip("closed_form_returns_theta", "closed_form", "theta[:-1], theta[-1]", "theta",
         "expected the pair (w, b)"),
    Mistake("closed_form_flat_y", "closed_form",
            edit(("y.reshape(-1, 1)", "y.reshape(-1)"), ("theta[-1]  #", "theta[-1:]  #")),
            "one weight per feature, as a column"),
    Mistake("closed_form_ones_column_first", "closed_form",
            edit(("return theta[:-1], theta[-1]", "b, w = theta[0], theta[1:]  # theta = (b, w)\n"
                  "    return w, b")), "must be the least-squares fit"),
    Mistake("closed_form_y_as_given", "closed_form", edit(("y.reshape(-1, 1)", "y")),
            "w has shape (3,), expected (3, 1), for 100 examples of 3 features with mean 1.0, "
            "bias 4.2, y of shape (100,): y may come as (n,) or (n, 1)"),
    slip("closed_form_ridge_for_stability", "closed_form", "np.dot(A.T, A),",
         "np.dot(A.T, A) + np.eye(A.shape[1]),", "(w, b) must be the least-squares fit"),
    # ---------------------------------------------------------------- train_linear_regression
    Mistake("train_update_inside_record", TRAIN,
            edit(("l.backward()\n", "    l.backward()\n    "), base=TRAINER),
            "inside `with autograd.record():`"),
    Mistake("train_no_attach_grad", TRAIN,
            edit(("    w.attach_grad()\n    b.attach_grad()\n", ""), base=TRAINER),
            "call w.attach_grad() and b.attach_grad()"),
    Mistake("train_mean_and_division", TRAIN, edit(("y)\n", "y).mean()\n"), base=TRAINER),
            "divides the gradient by batch_size twice"),
    Mistake("train_hardcoded_lr", TRAIN, edit(("lr,", "0.03,"), base=TRAINER),
            "uses lr=0.03 (the default)"),
    Mistake("train_tuned_lr", TRAIN, edit(("lr,", "0.05,"), base=TRAINER), "ignores lr"),
    Mistake("train_b_not_updated", TRAIN,
            edit((SGD, "sgd([w], lr, batch_size)"), base=TRAINER),
            "never updates b"),
    Mistake("train_zero_init", TRAIN,
            edit((W_INIT, "np.zeros((features.shape[1], 1))"), base=TRAINER),
            "w is all zeros"),
    Mistake("train_uniform_init", TRAIN, edit((W_INIT, "np.random.uniform(-0.01 * 3 ** 0.5, "
                                                "0.01 * 3 ** 0.5, (features.shape[1], 1))"),
                                              base=TRAINER), "They look uniform"),
    Mistake("train_reseeds", TRAIN,
            edit(("    w =", "    npx.random.seed(0)\n    w ="), base=TRAINER),
            "returned the same values in two calls in a row"),
    Mistake("train_flat_w", TRAIN,
            edit((W_INIT, "np.random.normal(0, 0.01, features.shape[1])"), base=TRAINER),
            "initialize it as a column"),
    Mistake("train_no_half_inline", TRAIN,
            edit(("squared_loss(linreg(X, w, b), y)",
                  "(linreg(X, w, b) - y.reshape(-1, 1)) ** 2"), base=TRAINER),
            "is the factor 1/2 missing from the squared loss?"),
    Mistake("train_forgets_sgd", TRAIN, edit((f"            {SGD}\n", ""), base=TRAINER),
            "does not update w and b at all"),
    Mistake("train_three_epochs", TRAIN, edit(("range(num_epochs):", "range(3):"), base=TRAINER),
            "runs 3 epochs (the default)"),
    Mistake("train_batch_size_ten", TRAIN,
            edit(("data_iter(batch_size, features, labels):", "data_iter(10, features, labels):"),
                 ("sgd([w, b], lr, batch_size)", "sgd([w, b], lr, 10)"), base=TRAINER),
            "uses batch_size=10 (the default)"),
    Mistake("train_sgd_batch_size_one", TRAIN, edit((SGD, "sgd([w, b], lr, 1)"), base=TRAINER),
            "training diverged"),
    Mistake("train_b_column", TRAIN, edit(("np.zeros(1)", "np.zeros((1, 1))"), base=TRAINER),
            "b has shape (1, 1), expected (1,): initialize b = np.zeros(1)"),
    Mistake("train_extra_epoch", TRAIN, edit(("(num_epochs)", "(num_epochs + 1)"), base=TRAINER),
            "after 0 epochs, expected 0"),
    Mistake("train_init_inside_epoch_loop", TRAIN,
            edit((INIT, ""), ("range(num_epochs):\n", "range(num_epochs):\n"
                                  + INIT.replace("    ", "        ")), base=TRAINER),
            "that is not where minibatch SGD with these arguments gets"),
    Mistake("train_init_scale_one", TRAIN,
            edit((W_INIT, "np.random.normal(size=(features.shape[1], 1))"), base=TRAINER),
            "w has the default scale 1"),
    Mistake("train_init_uniform", TRAIN,
            edit((W_INIT, "np.random.uniform(size=(features.shape[1], 1))"), base=TRAINER),
            "draw w from N(0, 0.01^2)"),
    Mistake("train_inline_update_uphill", TRAIN,
            edit((SGD, "for param in (w, b):\n"
                  "                param[:] = param + lr * param.grad / batch_size"), base=TRAINER),
            "moves up the gradient: sgd must subtract the step"),
    Mistake("train_drops_last_minibatch", TRAIN,
            edit(("labels):\n", "labels):\n"
                  "            if len(X) < batch_size:   # full minibatches only\n"
                  "                continue\n"), base=TRAINER),
            "the only minibatch is the last, smaller one, and the loop drops it"),
    Mistake("train_never_shuffles", TRAIN,
            edit(("for X, y in data_iter(batch_size, features, labels):",
                  "for i in range(0, len(features), batch_size):   # minibatches in order\n"
                  "            X, y = features[i:i + batch_size], labels[i:i + batch_size]"),
                 base=TRAINER),
            "reads the examples in the same order in every epoch"),
    Mistake("train_batches_drawn_once", TRAIN, edit((EPOCHS, BATCHES_ONCE), base=TRAINER),
            "the second epoch repeated the order of the first"),
    Mistake("train_first_1000_examples", TRAIN,
            edit(("\n    w =", "\n    features, labels = features[:1000], labels[:1000]  # plenty"
                              "\n    w ="), base=TRAINER),
            "nothing was learnt from the last 100, the only ones with something to learn"),
    # ------------------------------------------- rules for every graded function (properties)
    Mistake("data_iter_shuffles_callers_arrays", "data_iter",
            edit(("random.shuffle(indices)\n", "random.shuffle(indices)\n    order = np.array("
                  "indices)\n    features[:], labels[:] = features[order], labels[order]\n"
                  "    indices = list(range(num_examples))\n"), base=ITERATOR),
            "changed its argument features in place", also_fails=(TRAIN,)),
    slip("squared_loss_subtracts_in_place", "squared_loss", f"return {DIFFERENCE}",
         "y_hat -= y.reshape(y_hat.shape)\n    return y_hat", "changed its argument y_hat in place",
         TRAIN),
    slip("linreg_float16", "linreg", "np.dot(X, w) + b", '(np.dot(X, w) + b).astype("float16")',
         "has dtype float16", TRAIN),
    Mistake("sgd_divides_the_gradient_in_place", "sgd",
            edit(("param[:] = param - lr * param.grad / batch_size",
                  "param.grad[:] = param.grad / batch_size\n"
                  "        param[:] = param - lr * param.grad")),
            "changed params[0].grad", also_fails=(TRAIN,)),
]

ALTERNATIVES = [
    Alternative("synthetic_data_column_w", "synthetic_data", f'''
def synthetic_data(w, b, num_examples):
    X = {X_DRAW}
    noise = np.random.normal(0, 0.01, (num_examples, 1))
    return X, np.dot(X, w.reshape(-1, 1)) + b + noise
'''),
    Alternative("data_iter_slice_past_the_end", "data_iter",
                edit((BATCH, "indices[i: i + batch_size]"), base=ITERATOR)),
    Alternative("linreg_matmul", "linreg", edit(("np.dot(X, w)", "X @ w"))),
    Alternative("squared_loss_square", "squared_loss",
                edit((f"{DIFFERENCE} ** 2 / 2", f"0.5 * np.square{DIFFERENCE}"))),
    Alternative("sgd_subtract_in_place", "sgd",
                edit(("param in params:\n        param[:] = param - lr * param.grad",
                      "p in params:\n        p -= lr * p.grad"))),
    Alternative("closed_form_inverse", "closed_form",
                edit((SOLVE, "np.linalg.inv(A.T @ A) @ A.T @ y.reshape(-1, 1)"))),
    Alternative("closed_form_lstsq", "closed_form",
                edit((SOLVE, "np.linalg.lstsq(A, y.reshape(-1, 1), rcond=None)[0]"))),
    Alternative("closed_form_float64_centered", "closed_form", '''
def closed_form(X, y):
    X, y = X.astype("float64"), y.astype("float64").reshape(-1, 1)
    x_mean, y_mean = X.mean(axis=0), y.mean(axis=0)
    Xc, yc = X - x_mean, y - y_mean
    w = np.linalg.solve(Xc.T @ Xc, Xc.T @ yc)
    b = y_mean - np.dot(x_mean, w)
    return w, b
'''),
    Alternative("train_gluon_l2loss", TRAIN,
                edit(("\n    w =", "\n    from mxnet import gluon\n"
                      "    loss = gluon.loss.L2Loss()   # (y_hat - y)^2 / 2 per example\n    w ="),
                     ("squared_loss(linreg", "loss(linreg"), base=TRAINER)),
    Alternative("train_mean_loss", TRAIN,
                edit(("y)\n", "y).mean()  # already divided by the batch size\n"),
                     ("lr, batch_size)", "lr, 1)"), base=TRAINER)),
]
