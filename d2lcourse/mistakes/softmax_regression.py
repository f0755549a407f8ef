"""Typical mistakes and alternative correct answers for 04_softmax_regression."""
from d2lcourse.mistakes import Alternative, Mistake, editor, ignored_hyperparameters

edit = editor(__name__)

GRAD = "softmax_cross_entropy_grad"   # calls the student's softmax
MODEL = "softmax_regression"          # calls the student's softmax
TRAIN = "train_softmax_regression"    # calls the student's softmax_cross_entropy

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

MISTAKES = [
    # ---------------------------------------------------------------- softmax
    Mistake("softmax_naive_overflow", "softmax",
            edit(("np.exp(O - O.max(axis=1, keepdims=True))", "np.exp(O)")),
            "subtract the row maximum", also_fails=(GRAD,)),
    Mistake("softmax_divides_in_place", "softmax",
            edit(("return E / E.sum(axis=1, keepdims=True)",
                  "E /= E.sum(axis=1, keepdims=True)\n    return E")),
            "an in-place operation", also_fails=(GRAD, MODEL, TRAIN)),
    Mistake("softmax_global_maximum", "softmax",
            edit(("np.exp(O - O.max(axis=1, keepdims=True))", "np.exp(O - O.max())")),
            "needs its OWN maximum", also_fails=(GRAD,)),
    Mistake("softmax_wrong_axis", "softmax", '''
def softmax(O):
    E = np.exp(O - O.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)
''', "normalises each column (axis=0)", also_fails=(GRAD, MODEL)),
    Mistake("softmax_sum_without_keepdims", "softmax",
            edit(("E.sum(axis=1, keepdims=True)", "E.sum(axis=1)")),
            "keepdims=True", also_fails=(GRAD, MODEL)),
    Mistake("softmax_shifts_argument_in_place", "softmax",
            edit(("E = np.exp(O - O.max(axis=1, keepdims=True))",
                  "O -= O.max(axis=1, keepdims=True)\n    E = np.exp(O)")),
            "changed its argument O in place", also_fails=(GRAD, MODEL)),
    Mistake("softmax_uses_npx_softmax", "softmax", '''
def softmax(O):
    return npx.softmax(O)
''', "`npx.softmax`, which this exercise forbids", also_fails=(GRAD,)),
    Mistake("softmax_through_classic_numpy", "softmax", '''
import numpy as onp

def softmax(O):
    o = O.asnumpy()
    E = onp.exp(o - o.max(axis=1, keepdims=True))
    return np.array(E / E.sum(axis=1, keepdims=True), dtype=O.dtype)
''', "the result cannot be differentiated (it went through .asnumpy() or classic NumPy)",
            also_fails=(MODEL,)),
    Mistake("softmax_without_normalising", "softmax", '''
def softmax(O):
    return np.exp(O - O.max(axis=1, keepdims=True))
''', "without normalising", also_fails=(GRAD, MODEL,)),
    Mistake("softmax_divides_by_the_total", "softmax",
            edit(("E.sum(axis=1, keepdims=True)", "E.sum()")),
            "divides by the sum of ALL entries", also_fails=(GRAD, MODEL,)),
    Mistake("softmax_log_domain_without_the_maximum", "softmax",
            edit(("m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))",
                  "np.log(np.exp(O - m).sum(axis=1, keepdims=True))"), like="softmax_log_domain"),
            "the probabilities of each row must sum to 1", also_fails=(GRAD, MODEL)),
    Mistake("softmax_shifts_only_large_logits", "softmax",
            edit(("E = np.exp(O - O.max(axis=1, keepdims=True))",
                  "if O.max() > 80:    # exp overflows above 88.7\n"
                  "        O = O - O.max(axis=1, keepdims=True)\n"
                  "    E = np.exp(O)")),
            "O holds no large logit here"),
    # ---------------------------------------------------------------- cross_entropy
    Mistake("cross_entropy_picks_whole_columns", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])", "-np.log(y_hat[:, y])")),
            "picks the whole column"),
    Mistake("cross_entropy_missing_minus", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "np.log(y_hat[np.arange(len(y)), y])")),
            "wrong sign"),
    Mistake("cross_entropy_returns_mean", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log(y_hat[np.arange(len(y)), y]).mean()")),
            "returned the mean of the losses"),
    Mistake("cross_entropy_returns_mean_as_float", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "float(-np.log(y_hat[np.arange(len(y)), y]).mean())")),
            "returned the mean of the losses (a Python float)"),
    Mistake("cross_entropy_log10", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log10(y_hat[np.arange(len(y)), y])")),
            "uses log10"),
    Mistake("cross_entropy_returns_the_probability", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])", "y_hat[np.arange(len(y)), y]")),
            "returns the probability of the true class"),
    Mistake("cross_entropy_one_hot_without_sum", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log(y_hat) * np.eye(y_hat.shape[1])[y]")),
            "one value per entry of y_hat"),
    Mistake("cross_entropy_clips_at_1e_6", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log(np.maximum(y_hat[np.arange(len(y)), y], 1e-6))")),
            "true-class probability 1e-30"),
    Mistake("cross_entropy_adds_eps", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log(y_hat[np.arange(len(y)), y] + 1e-9)")),
            "changes the loss of a small probability"),
    Mistake("cross_entropy_smallest_float_for_log_0", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log(y_hat[np.arange(len(y)), y] + 1e-37)    # avoids log(0)")),
            "expected +inf = -log(0)"),
    Mistake("cross_entropy_one_hot_times_log", "cross_entropy", '''
def cross_entropy(y_hat, y):
    one_hot = np.eye(y_hat.shape[1])[y]
    return -(one_hot * np.log(y_hat)).sum(axis=1)
''', "0 * log(0) = 0 * (-inf) = NaN"),
    Mistake("cross_entropy_squeezes_the_batch_axis", "cross_entropy", '''
def cross_entropy(y_hat, y):
    one_hot = np.eye(y_hat.shape[1])[y]
    return -np.log((one_hot * y_hat).sum(axis=1, keepdims=True)).squeeze()
''', "expected (1,) for a batch of one example"),
    # ---------------------------------------------------------------- softmax_cross_entropy
    Mistake("softmax_cross_entropy_log_of_softmax", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    return cross_entropy(softmax(O), y)
''', "log-sum-exp"),
    Mistake("softmax_cross_entropy_unshifted_logsumexp", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    return np.log(np.exp(O).sum(axis=1)) - O[np.arange(O.shape[0]), y]
''', "log-sum-exp"),
    Mistake("softmax_cross_entropy_clipped_probability", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    P = softmax(O)
    return -np.log(np.maximum(P[np.arange(O.shape[0]), y], 1e-12))
''', "clipped to eps"),
    Mistake("softmax_cross_entropy_uses_log_softmax", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    return -npx.log_softmax(O)[np.arange(O.shape[0]), y]
''', "`npx.log_softmax`, which this exercise forbids"),
    Mistake("softmax_cross_entropy_wrong_sign", "softmax_cross_entropy",
            edit(("logsumexp - O[np.arange(O.shape[0]), y]",
                  "O[np.arange(O.shape[0]), y] - logsumexp")),
            "has the wrong sign"),
    Mistake("softmax_cross_entropy_logsumexp_alone", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    m = O.max(axis=1)
    return m + np.log(np.exp(O - m.reshape(-1, 1)).sum(axis=1))
''', "returns logsumexp(o) alone"),
    Mistake("softmax_cross_entropy_global_maximum", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    m = O.max()
    return m + np.log(np.exp(O - m).sum(axis=1)) - O[np.arange(O.shape[0]), y]
''', "each row needs its own maximum"),
    Mistake("softmax_cross_entropy_shifts_only_large_logits", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    if O.max() > 80:    # exp overflows above 88.7
        O = O - O.max(axis=1, keepdims=True)
    return np.log(np.exp(O).sum(axis=1)) - O[np.arange(O.shape[0]), y]
''', "O holds no large logit here"),
    Mistake("softmax_cross_entropy_squeezes_the_batch_axis", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    m = O.max(axis=1, keepdims=True)
    logsumexp = m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))
    return (logsumexp - O[np.arange(O.shape[0]), y].reshape(-1, 1)).squeeze()
''', "drops the batch axis when n = 1"),
    # ---------------------------------------------------------------- softmax_cross_entropy_grad
    Mistake("grad_divided_by_batch_size", GRAD, edit(("return G", "return G / O.shape[0]")),
            "the gradient of the SUM"),
    Mistake("grad_wrong_sign", GRAD,
            edit(("G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G",
                  "return np.eye(O.shape[1])[y] - softmax(O)")),
            "wrong sign"),
    Mistake("grad_subtracts_whole_columns", GRAD, edit(("G[np.arange(O.shape[0]), y]", "G[:, y]")),
            "G[:, y] picks whole columns"),
    Mistake("grad_subtracts_transposed_one_hot", GRAD,
            edit(("G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G",
                  "return softmax(O) - np.eye(O.shape[1])[y].T")),
            "one operand is the transpose of the other"),
    Mistake("grad_with_autograd", GRAD, '''
def softmax_cross_entropy_grad(O, y):
    O = O.copy()
    O.attach_grad()
    with autograd.record():
        loss = softmax_cross_entropy(O, y).sum()
    loss.backward()
    return O.grad
''', "which this exercise forbids"),
    Mistake("grad_returns_softmax", GRAD,
            edit(("G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G",
                  "return softmax(O)")),
            "returns softmax(O): subtract the one-hot labels"),
    Mistake("grad_of_the_true_class_only", GRAD,
            edit(("G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G",
                  "return softmax(O)[np.arange(O.shape[0]), y] - 1")),
            "one partial derivative per logit"),
    Mistake("grad_with_an_unshifted_softmax", GRAD,
            edit(("G = softmax(O)", "E = np.exp(O)\n    G = E / E.sum(axis=1, keepdims=True)")),
            "softmax(O) is not finite there"),
    Mistake("grad_one_hot_as_wide_as_the_labels", GRAD,
            edit(("G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G",
                  "return softmax(O) - np.eye(int(y.max()) + 1)[y]")),
            "one column per class of O, np.eye(O.shape[1])[y], whatever the largest label"),
    # ---------------------------------------------------------------- accuracy
    Mistake("accuracy_returns_fraction", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1).astype(y.dtype) == y).mean())
''', "the fraction of correct predictions"),
    Mistake("accuracy_returns_array", "accuracy", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(axis=1).astype(y.dtype) == y).sum()
''', "expected a Python float"),
    Mistake("accuracy_compares_int64_with_labels", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1) == y).sum())
''', "astype(y.dtype)"),
    Mistake("accuracy_argmax_over_the_examples", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=0).astype(y.dtype) == y).sum())
''', "argmax(axis=1) one per row"),
    Mistake("accuracy_counts_the_wrong_predictions", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1).astype(y.dtype) != y).sum())
''', "the number of WRONG predictions"),
    Mistake("accuracy_compares_the_largest_probability", "accuracy", '''
def accuracy(y_hat, y):
    return float((y_hat.max(axis=1).astype(y.dtype) == y).sum())
''', "have their largest entry at the label"),
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
    Mistake("accuracy_last_of_the_sorted_classes", "accuracy", '''
def accuracy(y_hat, y):
    predictions = np.argsort(y_hat, axis=1)[:, -1]     # the class sorted last
    return float((predictions.astype(y.dtype) == y).sum())
''', "does not break ties at the first index"),
    # ---------------------------------------------------------------- softmax_regression
    Mistake("model_without_bias", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "softmax(X.reshape(-1, W.shape[0]) @ W)")),
            "forgot the bias"),
    Mistake("model_without_flattening", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)", "softmax(X @ W + b)")),
            "flatten each example into a row"),
    Mistake("model_flattens_to_784", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "softmax(X.reshape(-1, 784) @ W + b)")),
            "not a fixed 784"),
    Mistake("model_returns_logits", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "X.reshape(-1, W.shape[0]) @ W + b")),
            "apply softmax"),
    Mistake("model_transposed_output", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "softmax(X.reshape(-1, W.shape[0]) @ W + b).T")),
            "it is transposed, one column per example"),
    Mistake("model_uses_a_helper_from_another_cell", MODEL, '''
def softmax_regression(X, W, b):
    return softmax(flatten(X, W) @ W + b)
''', "name 'flatten' is not defined: the grader runs only the setup cells and each "
     "function's own cell, so define (or import) `flatten` in the cell of softmax_regression"),
    Mistake("model_subtracts_the_bias", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "softmax(X.reshape(-1, W.shape[0]) @ W - b)")),
            "subtracts the bias"),
    Mistake("model_keeps_the_channel_axis", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "softmax(X.reshape(X.shape[0], X.shape[1], -1) @ W + b)")),
            "class probabilities per example; flatten X"),
    Mistake("model_adds_the_bias_after_softmax", MODEL,
            edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                  "softmax(X.reshape(-1, W.shape[0]) @ W) + b")),
            "softmax must be the last step"),
    # ---------------------------------------------------------------- train_softmax_regression
    Mistake("train_rebinds_the_weights", TRAIN,
            edit(("for p in (W, b):", "for p in (b,):"),
                 ("len(batch)\n", "len(batch)\n            W = W - lr * W.grad / len(batch)\n"),
                 base=TRAINER),
            "a .grad is None"),
    Mistake("train_rebinds_both_parameters", TRAIN,
            edit(("p[:] = p - lr * p.grad / len(batch)",
                  "p = p - lr * p.grad / len(batch)\n"
                  "            W, b = W - lr * W.grad / len(batch), b - lr * b.grad / len(batch)"),
                 base=TRAINER),
            "found nothing to differentiate"),
    Mistake("train_without_shuffling", TRAIN,
            edit(("for X_batch, y_batch in ArrayBatches(X, y_train, batch_size, shuffle=True):",
                  "for i in range(0, X.shape[0], batch_size):\n"
                  "            X_batch, y_batch = X[i:i + batch_size], y_train[i:i + batch_size]"),
                 like="train_with_array_batches"),
            "draw a new random order of the examples every epoch"),
    Mistake("train_goes_uphill", TRAIN, edit(("p - lr", "p + lr"), base=TRAINER),
            "the updates go uphill"),
    Mistake("train_without_dividing_by_the_batch_size", TRAIN,
            edit(("p.grad / len(batch)", "p.grad"), base=TRAINER),
            "times too large"),
    Mistake("train_divides_mean_loss_by_batch_size", TRAIN,
            edit(("softmax_cross_entropy(X[batch] @ W + b, y_train[batch])",
                  "softmax_cross_entropy(X[batch] @ W + b, y_train[batch]).mean()"), base=TRAINER),
            "divide by the batch size twice"),
    Mistake("train_returns_the_losses_too", TRAIN,
            edit(("n = X.shape[0]", "n = X.shape[0]\n    losses = []"),
                 ("    return W, b",
                  "        losses.append(float(loss.mean()))\n    return W, b, losses"),
                 base=TRAINER),
            "expected the pair (W, b)"),
    Mistake("train_with_transposed_weights", TRAIN,
            edit(("np.random.normal(0, 0.01, (X.shape[1], 10))",
                  "np.random.normal(0, 0.01, (10, X.shape[1]))"),
                 ("@ W +", "@ W.T +"), base=TRAINER),
            "the model computes X @ W with one row of 784 pixels per example"),
    Mistake("train_with_one_weight_column", TRAIN,
            edit(("np.random.normal(0, 0.01, (X.shape[1], 10))",
                  "np.random.normal(0, 0.01, (X.shape[1], 1))"), base=TRAINER),
            "one column of weights per class"),
    Mistake("train_with_a_single_bias", TRAIN, edit(("np.zeros(10)", "np.zeros(1)"), base=TRAINER),
            "one bias per class"),
    Mistake("train_standardises_the_pixels", TRAIN,
            edit(("n = X.shape[0]", "n = X.shape[0]\n    X = (X - X.mean(axis=0)) / X.std(axis=0)"),
                 base=TRAINER),
            "standard deviation 0"),
    Mistake("train_updates_the_loop_variable", TRAIN, edit(("p[:]", "p"), base=TRAINER),
            "the parameters are not updated"),
    Mistake("train_returns_inside_the_loop", TRAIN,
            edit(("    return W, b", "            return W, b"), base=TRAINER),
            "the return comes after both loops"),
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
            "ignores the labels it is given"),
    Mistake("train_on_the_first_examples", TRAIN,
            edit(("n = X.shape[0]",
                  "n = X.shape[0]\n"
                  "    X, y_train = X[:500], y_train[:500]  # faster while testing\n"
                  "    n = X.shape[0]"), base=TRAINER),
            "every example once"),
    Mistake("train_initialises_every_epoch", TRAIN, '''
def train_softmax_regression(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
    X = X_train.reshape(X_train.shape[0], -1)
    n = X.shape[0]
    for epoch in range(num_epochs):
        W = np.random.normal(0, 0.01, (X.shape[1], 10))
        b = np.zeros(10)
        W.attach_grad()
        b.attach_grad()
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
''', "create the parameters once"),
    # ---------------------------------------------------------------- rules for every
    # graded function (checks.properties): inputs unchanged, new results, float dtypes
    Mistake("softmax_float16", "softmax",
            edit(("E / E.sum(axis=1, keepdims=True)",
                  "(E / E.sum(axis=1, keepdims=True)).astype(\"float16\")")),
            "has dtype float16", also_fails=(GRAD, MODEL)),
    Mistake("softmax_cross_entropy_grad_shifts_O_in_place", "softmax_cross_entropy_grad",
            edit(("G = softmax(O)",
                  "O -= O.max(axis=1, keepdims=True)\n"
                  "    G = np.exp(O)\n"
                  "    G = G / G.sum(axis=1, keepdims=True)")),
            "changed its argument O in place"),
    Mistake("cross_entropy_float16", "cross_entropy",
            edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                  "-np.log(y_hat[np.arange(y_hat.shape[0]), y]).astype(\"float16\")")),
            "has dtype float16"),
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
    Alternative("cross_entropy_one_hot_sum_first", "cross_entropy",
                edit(("return -np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                      "one_hot = np.eye(y_hat.shape[1])[y]\n"
                      "    return -np.log((one_hot * y_hat).sum(axis=1))"))),
    Alternative("cross_entropy_range_index", "cross_entropy",
                edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                      "-np.log(y_hat[range(len(y_hat)), y])"))),
    # npx's helpers that index are allowed (the contract forbids only the operators that
    # do the exercise): picking with npx.pick is a correct answer.
    Alternative("cross_entropy_npx_pick", "cross_entropy",
                edit(("-np.log(y_hat[np.arange(y_hat.shape[0]), y])",
                      "-np.log(npx.pick(y_hat, y, axis=1))"))),
    Alternative("softmax_cross_entropy_logsumexp_npx_pick", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    m = O.max(axis=1, keepdims=True)
    logsumexp = (m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))).reshape(-1)
    return logsumexp - npx.pick(O, y, axis=1)
'''),
    Alternative("softmax_cross_entropy_log_after_sum", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    m = O.max(axis=1, keepdims=True)
    logsumexp = np.log(np.exp(O - m).sum(axis=1, keepdims=True)) + m
    return (logsumexp - O)[np.arange(O.shape[0]), y]
'''),
    Alternative("softmax_cross_entropy_log_softmax", "softmax_cross_entropy", '''
def softmax_cross_entropy(O, y):
    shifted = O - O.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -(np.eye(O.shape[1])[y] * log_probabilities).sum(axis=1)
'''),
    Alternative("grad_with_one_hot", GRAD,
                edit(("G = softmax(O)\n    G[np.arange(O.shape[0]), y] -= 1\n    return G",
                      "return softmax(O) - np.eye(O.shape[1])[y]"))),
    # The setup cell imports ArrayBatches, as the notebook's own examples use it: a
    # trainer that iterates with it grades as it runs in Jupyter.
    Alternative("train_with_array_batches", "train_softmax_regression", '''
def train_softmax_regression(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
    X = X_train.reshape(X_train.shape[0], -1)
    W = np.random.normal(0, 0.01, (X.shape[1], 10))
    b = np.zeros(10)
    W.attach_grad()
    b.attach_grad()
    for epoch in range(num_epochs):
        for X_batch, y_batch in ArrayBatches(X, y_train, batch_size, shuffle=True):
            with autograd.record():
                loss = softmax_cross_entropy(X_batch @ W + b, y_batch)
            loss.backward()
            for p in (W, b):
                p[:] = p - lr * p.grad / X_batch.shape[0]
    return W, b
'''),
    Alternative("accuracy_item", "accuracy", '''
def accuracy(y_hat, y):
    return (y_hat.argmax(axis=1) == y.astype("int64")).sum().item()
'''),
    Alternative("accuracy_float_of_count", "accuracy", '''
def accuracy(y_hat, y):
    correct = y_hat.argmax(axis=1).astype(y.dtype) == y
    return float(correct.astype("float32").sum())
'''),
    Alternative("model_with_dot", MODEL,
                edit(("softmax(X.reshape(-1, W.shape[0]) @ W + b)",
                      "softmax(np.dot(X.reshape((-1, W.shape[0])), W) + b)"))),
    Alternative("train_with_gluon_loss", TRAIN,
                edit(("n = X.shape[0]",
                      "n = X.shape[0]\n    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()"),
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
