"""Typical mistakes and alternative correct answers for 04_softmax_regression."""
from d2lcourse.mistakes import Alternative, Mistake, editor, ignored_hyperparameters

edit = editor(__name__)

GRAD = "softmax_cross_entropy_grad"   # calls the student's softmax
MODEL = "softmax_regression"          # calls the student's softmax
TRAIN = "train_softmax_regression"    # calls the student's softmax_cross_entropy

# What the reference cells compute, which the edits below replace.
EXPONENTIALS = "E = np.exp(O - O.max(axis=1, keepdims=True))"
NORMALISED = "E / E.sum(axis=1, keepdims=True)"
LOSS = "-np.log(y_hat[np.arange(y_hat.shape[0]), y])"
LOGITS_LOSS = "logsumexp - O[np.arange(O.shape[0]), y]"
GRADIENT = "G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G"
COUNT = "float((predictions == y).sum())"
PROBABILITIES = "softmax(X.reshape(-1, W.shape[0]) @ W + b)"

# The plain minibatch-SGD trainer, shuffled every epoch (the reference adds momentum and a
# cosine decay), that the trainer mistakes written as `edit(..., base=TRAINER)` change.
TRAINER = '''
def train_softmax_regression(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
    X = X_train.reshape(X_train.shape[0], -1)
    n = X.shape[0]
    W = np.random.normal(0, 0.01, (X.shape[1], 10))
    b = np.zeros(10)
    W.attach_grad()
    b.attach_grad()
    for epoch in range(num_epochs):
        order = np.arange(n)
        np.random.shuffle(order)
        for i in range(0, n, batch_size):
            batch = order[i:i + batch_size]
            with autograd.record():
                loss = softmax_cross_entropy(X[batch] @ W + b, y_train[batch])
            loss.backward()
            for p in (W, b):
                p[:] = p - lr * p.grad / len(batch)
    return W, b
'''


def replacing(function, old):
    """`mistake(name, new, message, **options)`: `function`'s reference with `old` -> new."""
    return lambda name, new, message, **options: Mistake(name, function, edit((old, new)),
                                                         message, **options)


def trained(name, message, *replace):
    """The Mistake of the trainer that edits TRAINER as `replace` says."""
    return Mistake(name, TRAIN, edit(*replace, base=TRAINER), message)


exp_mistake = replacing("softmax", EXPONENTIALS)
softmax_mistake = replacing("softmax", NORMALISED)
loss_mistake = replacing("cross_entropy", LOSS)
logits_loss_mistake = replacing("softmax_cross_entropy", LOGITS_LOSS)
gradient_mistake = replacing(GRAD, GRADIENT)
probability_mistake = replacing(GRAD, "G = softmax(O)")
model_mistake = replacing(MODEL, PROBABILITIES)
count_mistake = replacing("accuracy", COUNT)
prediction_mistake = replacing("accuracy", "y_hat.argmax(axis=1)")
BATCHES = "for X_batch, y_batch in ArrayBatches(X, y_train, batch_size, shuffle=True):"
INITIALISED = ("    W = np.random.normal(0, 0.01, (X.shape[1], 10))\n    b = np.zeros(10)\n"
               "    W.attach_grad()\n    b.attach_grad()\n")

MISTAKES = [
    # ---------------------------------------------------------------- softmax
    exp_mistake("softmax_naive_overflow", "E = np.exp(O)", "subtract the row maximum",
                also_fails=(GRAD, MODEL)),
    Mistake("softmax_divides_in_place", "softmax",
            edit((f"return {NORMALISED}", "E /= E.sum(axis=1, keepdims=True)\n    return E")),
            "an in-place operation", also_fails=(GRAD, MODEL)),
    Mistake("softmax_memo_by_value", "softmax", edit(  # a cache keyed by O's values
        ("def softmax(O):", "def softmax(O, _memo={}):"),
        ("    E = np.exp", "    key = (O.shape, O.asnumpy().tobytes())\n    if key in _memo:\n"
                         "        return _memo[key]\n    E = np.exp"),
        (f"return {NORMALISED}", f"_memo[key] = {NORMALISED}\n    return _memo[key]")),
            "returned the array it had returned before", also_fails=(GRAD, MODEL)),
    Mistake("softmax_pool_of_two_buffers", "softmax", edit(  # each returned every other call
        ("def softmax(O):", "def softmax(O, _pool={}):"),
        (f"return {NORMALISED}", "buffers = _pool.setdefault(O.shape, [np.zeros(O.shape), "
         f"np.zeros(O.shape)])\n    buffers.reverse()\n    buffers[0][:] = {NORMALISED}\n"
         "    return buffers[0]")),
            "returned the array it had returned before", also_fails=(GRAD, MODEL)),
    exp_mistake("softmax_global_maximum", "E = np.exp(O - O.max())", "needs its OWN maximum",
                also_fails=(GRAD,)),
    Mistake("softmax_wrong_axis", "softmax",
            edit(("O.max(axis=1", "O.max(axis=0"), ("E.sum(axis=1", "E.sum(axis=0")),
            "normalises each column (axis=0)", also_fails=(GRAD, MODEL)),
    softmax_mistake("softmax_sum_without_keepdims", "E / E.sum(axis=1)", "keepdims=True",
                    also_fails=(GRAD, MODEL)),
    exp_mistake("softmax_shifts_argument_in_place", "O -= O.max(axis=1, keepdims=True)\n"
                "    E = np.exp(O)", "changed its argument O in place", also_fails=(GRAD, MODEL)),
    softmax_mistake("softmax_uses_npx_softmax", "npx.softmax(O)",
                    "`npx.softmax`, which this exercise forbids", also_fails=(GRAD,)),
    Mistake("softmax_through_classic_numpy", "softmax", edit(
        ("def", "import numpy as onp\n\ndef"),
        (EXPONENTIALS, "o = O.asnumpy()\n    E = onp.exp(o - o.max(axis=1, keepdims=True))"),
        (f"return {NORMALISED}", f"return np.array({NORMALISED}, dtype=O.dtype)")),
            "the result cannot be differentiated", also_fails=(MODEL,)),
    softmax_mistake("softmax_without_normalising", "E", "without normalising",
                    also_fails=(GRAD, MODEL)),
    softmax_mistake("softmax_divides_by_the_total", "E / E.sum()",
                    "divides by the sum of ALL entries", also_fails=(GRAD, MODEL)),
    Mistake("softmax_log_domain_without_the_maximum", "softmax",
            edit(("m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))",
                  "np.log(np.exp(O - m).sum(axis=1, keepdims=True))"), like="softmax_log_domain"),
            "the probabilities of each row must sum to 1", also_fails=(GRAD, MODEL)),
    exp_mistake("softmax_shifts_only_large_logits", "if O.max() > 80:    # exp overflows above "
                "88.7\n        O = O - O.max(axis=1, keepdims=True)\n    E = np.exp(O)",
                "O holds no large logit here"),
    softmax_mistake("softmax_float16", f'({NORMALISED}).astype("float16")', "dtype float16",
                    also_fails=(GRAD, MODEL)),
    # ---------------------------------------------------------------- cross_entropy
    loss_mistake("cross_entropy_picks_whole_columns", "-np.log(y_hat[:, y])", "the whole column"),
    loss_mistake("cross_entropy_missing_minus", LOSS[1:], "wrong sign"),
    loss_mistake("cross_entropy_log_of_every_probability",
                 "-np.log(y_hat)[np.arange(y_hat.shape[0]), y]",
                 "autograd's gradient w.r.t. y_hat is NaN"),
    loss_mistake("cross_entropy_returns_mean", f"{LOSS}.mean()", "the mean of the losses"),
    loss_mistake("cross_entropy_returns_mean_as_float", f"float({LOSS}.mean())",
                 "returned the mean of the losses (a Python float)"),
    loss_mistake("cross_entropy_log10", "-np.log10(y_hat[np.arange(len(y)), y])", "uses log10"),
    loss_mistake("cross_entropy_returns_the_probability", "y_hat[np.arange(len(y)), y]",
                 "returns the probability of the true class"),
    loss_mistake("cross_entropy_one_hot_without_sum",
                 "-np.log(y_hat) * np.eye(y_hat.shape[1])[y]", "one value per entry of y_hat"),
    loss_mistake("cross_entropy_clips_at_1e_6",
                 "-np.log(np.maximum(y_hat[np.arange(len(y)), y], 1e-6))",
                 "true-class probability 1e-30"),
    loss_mistake("cross_entropy_adds_eps", "-np.log(y_hat[np.arange(len(y)), y] + 1e-9)",
                 "changes the loss of a small probability"),
    loss_mistake("cross_entropy_smallest_float_for_log_0",
                 "-np.log(y_hat[np.arange(len(y)), y] + 1e-37)    # avoids log(0)",
                 "expected -log(0) = inf"),
    loss_mistake("cross_entropy_one_hot_times_log",
                 "-(np.eye(y_hat.shape[1])[y] * np.log(y_hat)).sum(axis=1)",
                 "0 * log(0) = 0 * (-inf) = NaN"),
    loss_mistake("cross_entropy_squeezes_the_batch_axis", "-np.log((np.eye(y_hat.shape[1])[y] * "
                 "y_hat).sum(axis=1, keepdims=True)).squeeze()", "(1,) for a batch of one"),
    loss_mistake("cross_entropy_float16", f'{LOSS}.astype("float16")', "has dtype float16"),
    # ---------------------------------------------------------------- softmax_cross_entropy
    logits_loss_mistake("softmax_cross_entropy_log_of_softmax", "cross_entropy(softmax(O), y)",
                        "log-sum-exp"),
    Mistake("softmax_cross_entropy_unshifted_logsumexp", "softmax_cross_entropy",
            edit(("m + np.log(np.exp(O - m.reshape(-1, 1))", "np.log(np.exp(O)")), "log-sum-exp"),
    logits_loss_mistake("softmax_cross_entropy_clipped_probability",
                        "-np.log(np.maximum(softmax(O)[np.arange(O.shape[0]), y], 1e-12))",
                        "clipped to eps"),
    logits_loss_mistake("softmax_cross_entropy_uses_log_softmax",
                        "-npx.log_softmax(O)[np.arange(O.shape[0]), y]",
                        "`npx.log_softmax`, which this exercise forbids"),
    logits_loss_mistake("softmax_cross_entropy_wrong_sign",
                        "O[np.arange(O.shape[0]), y] - logsumexp", "has the wrong sign"),
    logits_loss_mistake("softmax_cross_entropy_logsumexp_alone", "logsumexp",
                        "returns logsumexp(o) alone"),
    logits_loss_mistake("softmax_cross_entropy_minus_logit_alone", "-O[np.arange(O.shape[0]), y]",
                        "returns -o[y] alone"),
    Mistake("softmax_cross_entropy_global_maximum", "softmax_cross_entropy",
            edit(("m = O.max(axis=1)", "m = O.max()"), ("O - m.reshape(-1, 1)", "O - m")),
            "each row needs its own maximum"),
    Mistake("softmax_cross_entropy_shifts_only_large_logits", "softmax_cross_entropy", edit((
        "m = O.max(axis=1)\n    logsumexp = m + np.log(np.exp(O - m.reshape(-1, 1))",
        "if O.max() > 80:    # exp overflows above 88.7\n        O = O - O.max(axis=1, "
        "keepdims=True)\n    logsumexp = np.log(np.exp(O)")), "O holds no large logit here"),
    logits_loss_mistake("softmax_cross_entropy_squeezes_the_batch_axis",
                        "(logsumexp - O[np.arange(O.shape[0]), y]).reshape(-1, 1).squeeze()",
                        "drops the batch axis when n = 1"),
    # ---------------------------------------------------------------- softmax_cross_entropy_grad
    Mistake("grad_divided_by_batch_size", GRAD, edit(("return G", "return G / O.shape[0]")),
            "the gradient of the SUM"),
    Mistake("grad_int32_one_hot", GRAD, '''
def softmax_cross_entropy_grad(O, y):
    one_hot = (np.arange(O.shape[1], dtype="int32") == y.reshape(-1, 1)).astype(O.dtype)
    return softmax(O) - one_hot
''', "MXNet combines only integer arrays of the same dtype"),
    gradient_mistake("grad_wrong_sign", "return np.eye(O.shape[1])[y] - softmax(O)", "wrong sign"),
    Mistake("grad_subtracts_whole_columns", GRAD, edit(("G[np.arange(O.shape[0]), y]", "G[:, y]")),
            "G[:, y] picks whole columns"),
    gradient_mistake("grad_subtracts_transposed_one_hot",
                     "return softmax(O) - np.eye(O.shape[1])[y].T",
                     "one operand is the transpose of the other"),
    gradient_mistake("grad_with_autograd", "O = O.copy()\n    O.attach_grad()\n    with "
                     "autograd.record():\n        loss = softmax_cross_entropy(O, y).sum()\n"
                     "    loss.backward()\n    return O.grad", "which this exercise forbids"),
    gradient_mistake("grad_returns_softmax", "return softmax(O)", "subtract the one-hot labels"),
    gradient_mistake("grad_of_the_true_class_only",
                     "return softmax(O)[np.arange(O.shape[0]), y] - 1",
                     "one partial derivative per logit"),
    probability_mistake("grad_with_an_unshifted_softmax", "E = np.exp(O)\n    G = E / E.sum(axis=1,"
                        " keepdims=True)", "softmax(O) is not finite there"),
    gradient_mistake("grad_one_hot_as_wide_as_the_labels", "return softmax(O) - "
                     "np.eye(int(y.max()) + 1)[y]", "np.eye(O.shape[1])[y], whatever the largest"),
    probability_mistake("softmax_cross_entropy_grad_shifts_O_in_place", "O -= O.max(axis=1, "
                        "keepdims=True)\n    G = np.exp(O)\n    G = G / G.sum(axis=1, "
                        "keepdims=True)", "changed its argument O in place"),
    # ---------------------------------------------------------------- accuracy
    count_mistake("accuracy_returns_fraction", "float((predictions == y).mean())",
                  "the fraction of correct predictions"),
    count_mistake("accuracy_returns_array", "(predictions == y).sum()", "expected a Python float"),
    Mistake("accuracy_compares_int64_with_labels", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1) == y).sum())
''', "astype(y.dtype)"),
    Mistake("accuracy_argmax_over_the_examples", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=0).astype(y.dtype) == y).sum())
''', "argmax(axis=1) one per row"),
    count_mistake("accuracy_counts_the_wrong_predictions", "float((predictions != y).sum())",
                  "the number of WRONG predictions"),
    prediction_mistake("accuracy_compares_the_largest_probability", "y_hat.max(axis=1)",
                       "have their largest entry at the label"),
    Mistake("accuracy_counts_ties_as_right", "accuracy", '''
def accuracy(y_hat, y):
    label_scores = y_hat[np.arange(y_hat.shape[0]), y]
    return float((label_scores == y_hat.max(axis=1)).sum())
''', "counts every tie with the label as correct"),
    Mistake("accuracy_counts_ties_as_wrong", "accuracy", '''
def accuracy(y_hat, y):
    label_scores = y_hat[np.arange(y_hat.shape[0]), y].reshape(-1, 1)
    return float(((y_hat >= label_scores).sum(axis=1) == 1).sum())
''', "counts every tie as wrong"),
    prediction_mistake("accuracy_last_of_the_sorted_classes", "np.argsort(y_hat, axis=1)[:, -1]",
                       "does not break ties at the first index"),
    # ---------------------------------------------------------------- softmax_regression
    model_mistake("model_without_bias", PROBABILITIES.replace(" + b", ""), "forgot the bias"),
    model_mistake("model_without_flattening", "softmax(X @ W + b)",
                  "flatten each example into a row"),
    model_mistake("model_flattens_to_784", PROBABILITIES.replace("W.shape[0]", "784"), "fixed 784"),
    model_mistake("model_returns_logits", "X.reshape(-1, W.shape[0]) @ W + b", "apply softmax"),
    model_mistake("model_transposed_output", f"{PROBABILITIES}.T",
                  "it is transposed, one column per example"),
    Mistake("model_uses_a_helper_from_another_cell", MODEL, '''
def softmax_regression(X, W, b):
    return softmax(flatten(X, W) @ W + b)
''', "define (or import) `flatten` in the cell of softmax_regression"),
    model_mistake("model_subtracts_the_bias", PROBABILITIES.replace("+", "-"),
                  "subtracts the bias"),
    model_mistake("model_keeps_the_channel_axis",
                  "softmax(X.reshape(X.shape[0], X.shape[1], -1) @ W + b)",
                  "class probabilities per example; flatten X"),
    model_mistake("model_adds_the_bias_after_softmax",
                  "softmax(X.reshape(-1, W.shape[0]) @ W) + b", "softmax must be the last step"),
    Mistake("model_with_its_own_naive_exp", MODEL, edit((
        f"return {PROBABILITIES}", "E = np.exp(X.reshape(-1, W.shape[0]) @ W + b)\n"
                                   "    return E / E.sum(axis=1, keepdims=True)")),
            "exp overflows float32 above"),
    Mistake("model_squeezes_the_batch_axis", MODEL, '''
def softmax_regression(X, W, b):
    X = X.reshape(-1, W.shape[0]).squeeze()
    O = X @ W + b
    E = np.exp(O - O.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)
''', "for a batch of one example"),
    # ---------------------------------------------------------------- train_softmax_regression
    trained("train_rebinds_the_weights", "a .grad is None", ("for p in (W, b):", "for p in (b,):"),
            ("len(batch)\n", "len(batch)\n            W = W - lr * W.grad / len(batch)\n")),
    trained("train_rebinds_both_parameters", "found nothing to differentiate",
            ("p[:] = p - lr * p.grad / len(batch)",
             "p = p - lr * p.grad / len(batch)\n"
             "            W, b = W - lr * W.grad / len(batch), b - lr * b.grad / len(batch)")),
    Mistake("train_without_shuffling", TRAIN,
            edit((BATCHES, "for i in range(0, X.shape[0], batch_size):\n"
                           "            X_batch, y_batch = X[i:i + batch_size], "
                           "y_train[i:i + batch_size]"), like="train_with_array_batches"),
            "draw a new random order of the examples every epoch"),
    trained("train_goes_uphill", "the updates go uphill", ("p - lr", "p + lr")),
    trained("train_random_minibatches", "does not use every example once in every epoch",
            ("order = np.arange(n)\n        np.random.shuffle(order)\n        ", ""),
            ("order[i:i + batch_size]", "np.random.randint(0, n, min(batch_size, n - i))")),
    trained("train_without_dividing_by_the_batch_size", "times too large",
            ("p.grad / len(batch)", "p.grad")),
    trained("train_divides_mean_loss_by_batch_size", "divide by the batch size twice",
            ("y_train[batch])", "y_train[batch]).mean()")),
    trained("train_returns_the_losses_too", "expected the pair (W, b)",
            ("n = X.shape[0]", "n = X.shape[0]\n    losses = []"),
            ("    return W, b",
             "        losses.append(float(loss.mean()))\n    return W, b, losses")),
    trained("train_with_transposed_weights",
            "the model computes X @ W with one row of 784 pixels per example",
            ("(X.shape[1], 10)", "(10, X.shape[1])"), ("@ W +", "@ W.T +")),
    trained("train_with_one_weight_column", "one column of weights per class",
            ("(X.shape[1], 10)", "(X.shape[1], 1)")),
    trained("train_with_a_single_bias", "one bias per class", ("np.zeros(10)", "np.zeros(1)")),
    trained("train_standardises_the_pixels", "standard deviation 0",
            ("n = X.shape[0]", "n = X.shape[0]\n    X = (X - X.mean(axis=0)) / X.std(axis=0)")),
    trained("train_updates_the_loop_variable", "the parameters are not updated", ("p[:]", "p")),
    trained("train_returns_inside_the_loop", "the return comes after both loops",
            ("    return W, b", "            return W, b")),
    *ignored_hyperparameters(
        TRAIN, edit(("p - lr", "p - 0.1"), base=TRAINER),
        lambda line: edit(("n = X.shape[0]", f"n = X.shape[0]\n    {line}"), base=TRAINER)),
    Mistake("train_reads_the_training_set", TRAIN,
            edit(("\ndef", "from d2lcourse.data import read_fashion_mnist\n\ndef"),
                 ("n = X.shape[0]",
                  "n = X.shape[0]\n"
                  '    X_train, y_train = read_fashion_mnist("train")\n'
                  "    X = X_train.reshape(X_train.shape[0], -1)\n"
                  "    n = X.shape[0]"), base=TRAINER),
            "read the Fashion-MNIST train split during its call"),
    trained("train_on_the_first_examples", "every example once",
            ("n = X.shape[0]", "n = X.shape[0]\n    X, y_train = X[:500], y_train[:500]  # faster "
                               "while testing\n    n = X.shape[0]")),
    trained("train_initialises_every_epoch", "create the parameters once",
            (INITIALISED + "    for epoch in range(num_epochs):\n",
             "    for epoch in range(num_epochs):\n" + INITIALISED.replace("    ", "        "))),
    trained("train_drops_the_last_batch", "takes only full minibatches",
            ("range(0, n, batch_size):", "range(0, n - batch_size + 1, batch_size):  # full ones")),
    *(trained(f"train_caps_{name}", f"does not use {name}={value} as given",
              ("n = X.shape[0]", f"n = X.shape[0]\n    {name} = min({name}, {default})  # safe"))
      for name, value, default in (("lr", 1, 0.1), ("batch_size", 512, 256),
                                   ("num_epochs", 20, 10))),
]

ALTERNATIVES = [
    Alternative("softmax_log_domain", "softmax", '''
def softmax(O):
    m = O.max(axis=1, keepdims=True)
    log_z = m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))
    return np.exp(O - log_z)
'''),
    Alternative("softmax_with_helper_and_float64", "softmax", '''
def row_max(O):
    return np.max(O, axis=1, keepdims=True)

def softmax(O):
    E = np.exp((O - row_max(O)).astype("float64"))
    return E / np.sum(E, axis=1, keepdims=True)
'''),
    Alternative("cross_entropy_one_hot_sum_first", "cross_entropy", edit((
        f"return {LOSS}", "one_hot = np.eye(y_hat.shape[1])[y]\n"
                          "    return -np.log((one_hot * y_hat).sum(axis=1))"))),
    Alternative("cross_entropy_range_index", "cross_entropy",
                edit((LOSS, "-np.log(y_hat[range(len(y_hat)), y])"))),
    # npx's helpers that index are allowed (the contract forbids only the operators that
    # do the exercise): picking with npx.pick is a correct answer.
    Alternative("cross_entropy_npx_pick", "cross_entropy",
                edit((LOSS, "-np.log(npx.pick(y_hat, y, axis=1))"))),
    Alternative("softmax_cross_entropy_logsumexp_npx_pick", "softmax_cross_entropy",
                edit((LOGITS_LOSS, "logsumexp - npx.pick(O, y, axis=1)"))),
    Alternative("softmax_cross_entropy_log_after_sum", "softmax_cross_entropy", edit(
        ("m + np.log(np.exp(O - m.reshape(-1, 1)).sum(axis=1))",
         "np.log(np.exp(O - m.reshape(-1, 1)).sum(axis=1)) + m"),
        (LOGITS_LOSS, "(logsumexp.reshape(-1, 1) - O)[np.arange(O.shape[0]), y]"))),
    Alternative("softmax_cross_entropy_log_softmax", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    shifted = O - O.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(np.eye(O.shape[1])[y] * log_probabilities).sum(axis=1)
'''),
    Alternative("grad_with_one_hot", GRAD,
                edit((GRADIENT, "return softmax(O) - np.eye(O.shape[1])[y]"))),
    # The setup cell imports ArrayBatches, as the notebook's own examples use it: a
    # trainer that iterates with it grades as it runs in Jupyter.
    Alternative("train_with_array_batches", TRAIN, edit(
        ("    n = X.shape[0]\n", ""), ("order = np.arange(n)\n        np.random.shuffle(order)\n"
                                    "        for i in range(0, n, batch_size):\n"
                                    "            batch = order[i:i + batch_size]", BATCHES),
        ("X[batch] @ W + b, y_train[batch]", "X_batch @ W + b, y_batch"),
        ("len(batch)", "X_batch.shape[0]"), base=TRAINER)),
    Alternative("accuracy_item", "accuracy", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(axis=1) == y.astype("int64")).sum().item()
'''),
    Alternative("accuracy_float_of_count", "accuracy",
                edit((COUNT, 'float((predictions == y).astype("float32").sum())'))),
    Alternative("model_with_dot", MODEL,
                edit((PROBABILITIES, "softmax(np.dot(X.reshape((-1, W.shape[0])), W) + b)"))),
    Alternative("train_with_gluon_loss", TRAIN, edit(
        ("n = X.shape[0]", "n = X.shape[0]\n    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()"),
        ("softmax_cross_entropy(X[batch]", "loss_fn(X[batch]"), base=TRAINER)),
    Alternative("train_plain_sgd_d2l_style", TRAIN, '''
import random

def sgd(params, lr, batch_size):
    for param in params:
        param[:] = param - lr * param.grad / batch_size

def data_iter(batch_size, features, labels):
    indices = list(range(len(features)))
    random.shuffle(indices)
    for i in range(0, len(features), batch_size):
        batch = np.array(indices[i:i + batch_size])
        yield features[batch], labels[batch]

def train_softmax_regression(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
    W = np.random.normal(0, 0.01, (784, 10))
    b = np.zeros(10)
    W.attach_grad()
    b.attach_grad()
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, X_train, y_train):
            with autograd.record():
                l = cross_entropy(softmax_regression(X, W, b), y)
            l.backward()
            sgd([W, b], lr, X.shape[0])
    return W, b
'''),
]
