"""Checks of assignment 04: softmax regression from scratch.

Test cells call them as ``check.softmax_stable(softmax, magnitude=1e4)``. Expected values
come from the float64 classic-NumPy oracles in this module, and each failure names the
typical mistake it recognises: a softmax that overflows (no shift by the row maximum) or
normalises the wrong axis, ``y_hat[:, y]`` picking whole columns, ``-log(softmax)``
underflowing where the log-sum-exp trick is needed, a gradient divided by the batch size
or with the wrong sign, an accuracy returned as a fraction or an array, a model without
its bias or without flattening its input, a trainer that never shuffles or goes uphill
(a 2-step probe finds a wrong update before the long training), that ignores lr,
num_epochs, batch_size or the data it is given (the trainer gates of ``checks.core``).
Trained parameters are evaluated here, on the test images, which the sandbox cannot read.

Tolerances. Float32 results are compared with ``core.RTOL``/``core.ATOL``. With logits of
magnitude M, a float32 logit is only known to ``FLOAT32_EPS * M`` (about 1e-3 at
M = 1e4); exp turns that absolute error of the exponent into the same relative error of
a probability, so probabilities are compared with ``rtol = core.ulp_tolerance(M)`` and
losses (which are differences of logits) with ``atol = core.ulp_tolerance(2 M)``: an
exact algorithm such as exp(o - logsumexp(o)) passes, an overflowing one does not.
"""
import functools
import math
import re

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, spec

# softmax, cross_entropy and softmax_cross_entropy are the exercise: the operators
# that compute them for the student are forbidden (COURSE_CONTRACT.md, rules for every
# graded function).
OPERATORS = core.OPERATOR_APIS
NUM_PIXELS = 28 * 28
NUM_CLASSES = 10
EXP_OVERFLOW = math.log(float(onp.finfo(onp.float32).max))   # 88.72: exp(x) = inf above
EPS32 = core.FLOAT32_EPS


# --------------------------------------------------------------------------- oracles
# Every expected value, and every value a catalogued mistake returns, comes from one of
# these, computed from the check's own inputs: the student package ships their answers on
# the visible tests, not their code (core.oracle). A check calls them on every run, passing
# or not, so that the reference solution's run records every answer a wrong one may need.

@core.oracle
def _softmax(O):
    """The softmax of each row of the logits O."""
    E = onp.exp(O - O.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@core.oracle
def _softmax_mistakes(O):
    """What the catalogued softmax mistakes return, in the order they are tried: for
    exp(O), then exp(O - row maximum), entry (i, j) divided by the sum of row j (None
    unless O is square), then the exponentials unnormalised."""
    square = O.shape[0] == O.shape[1]
    candidates = []
    with onp.errstate(all="ignore"):
        for E in (onp.exp(O), onp.exp(O - O.max(axis=1, keepdims=True))):
            candidates += [E / E.sum(axis=1)[None, :] if square else None, E]
    return candidates


@core.oracle
def _logsumexp(O):
    """log(sum(exp(o))) of each row o of O."""
    m = O.max(axis=1)
    return m + onp.log(onp.exp(O - m[:, None]).sum(axis=1))


@core.oracle
def _onehot(y, num_classes):
    """The labels y as one-hot rows of `num_classes` columns."""
    return onp.eye(num_classes)[onp.asarray(y, dtype=onp.int64)]


@core.oracle
def _picked(A, y):
    """A[i, y_i] for every row i."""
    return A[onp.arange(A.shape[0]), onp.asarray(y, dtype=onp.int64)]


@core.oracle
def _cross_entropy(y_hat, y):
    """-log y_hat[i, y_i] per example (+inf where that probability is 0)."""
    with onp.errstate(divide="ignore"):
        return -onp.log(_picked(y_hat, y))


@core.oracle
def _cross_entropy_mistakes(y_hat, y):
    """What the catalogued cross_entropy mistakes return: the loss with the wrong sign, in
    log10, in log2, and the true class's probability itself."""
    loss = _cross_entropy(y_hat, y)
    return -loss, loss / math.log(10), loss / math.log(2), _picked(y_hat, y)


@core.oracle
def _softmax_cross_entropy(O, y):
    """logsumexp(o_i) - o_i[y_i] per example."""
    return _logsumexp(O) - _picked(O, y)


@core.oracle
def _softmax_cross_entropy_mistakes(O, y):
    """What the catalogued softmax_cross_entropy mistakes return: the loss with the wrong
    sign, logsumexp(o) alone, -o[y] alone."""
    return -_softmax_cross_entropy(O, y), _logsumexp(O), -_picked(O, y)


@core.oracle
def _softmax_cross_entropy_grad(O, y):
    """softmax(O) - onehot(y): the gradient of the summed losses with respect to O."""
    return _softmax(O) - _onehot(y, O.shape[1])


@core.oracle
def _grad_mistake_values(O, y):
    """What the catalogued gradient mistakes return: the gradient divided by n, with the
    wrong sign, softmax(O) alone, with 1 subtracted in column y_j of every row, and
    -onehot(y) alone."""
    P, onehot = _softmax(O), _onehot(y, O.shape[1])
    columns = onp.zeros_like(onehot)
    columns[:, onp.unique(y)] = 1
    return (P - onehot) / O.shape[0], onehot - P, P, P - columns, -onehot


@core.oracle
def _grad_minus_one_everywhere(O):
    """softmax(O) - 1: the gradient with one-hot labels of a single column, broadcast."""
    return _softmax(O) - 1


@core.oracle
def _softmax_regression(X, W, b):
    """The class probabilities softmax(X W + b) of the flattened examples X."""
    return _softmax(X @ W + b)


@core.oracle
def _softmax_regression_mistakes(X, W, b):
    """What the catalogued model mistakes return: softmax(X W) without the bias, the logits
    X W + b themselves, softmax(X W - b)."""
    return _softmax(X @ W), X @ W + b, _softmax(X @ W - b)


@core.oracle
def _predicted_classes(scores):
    """The class of each row's largest score (the first one of a tie)."""
    return scores.argmax(axis=1)


# --------------------------------------------------------------------------- inputs

def _labels(n, num_classes, rng, dtype="int32"):
    return rng.integers(0, num_classes, n).astype(dtype)


def _large_logits(num_classes, magnitude, seed):
    """(descriptions, O): rows chosen to break exp, with logits up to `magnitude`.

    Row 0 has every logit near +M (exp overflows), row 1 every logit near -M (exp
    underflows to 0, and 0/0 = NaN), row 2 spreads over [-M, M] with its two largest
    logits 0.5 apart, row 3 mixes +M, -M and 0, row 4 is all M (a uniform row).
    """
    if num_classes < 3:
        raise ValueError("the large-logit rows need at least 3 classes")
    rng = onp.random.default_rng(seed)
    M, k = float(magnitude), num_classes
    spread = rng.uniform(-M, M, k)
    order = onp.argsort(spread)
    spread[order[-2]] = spread[order[-1]] - 0.5
    mixed = rng.permutation(onp.resize([M, -M, 0.0, M - 1.0], k))
    rows = [(f"all logits near +{M:g}", M + rng.normal(0, 1, k)),
            (f"all logits near -{M:g}", -M + rng.normal(0, 1, k)),
            (f"logits spread over [-{M:g}, {M:g}]", spread),
            (f"logits {M:g}, -{M:g} and 0", mixed),
            (f"all logits equal to {M:g}", onp.full(k, M))]
    descriptions = [d for d, _ in rows]
    return descriptions, onp.stack([r for _, r in rows]).astype(onp.float32)


def sorted_subset(count, flat=True):
    """The first `count` Fashion-MNIST training examples, sorted by label (float32, int32)."""
    from d2lcourse.data import fashion_mnist_arrays
    images, labels = fashion_mnist_arrays("train")
    X, y = images[:count], labels[:count]
    order = onp.argsort(y, kind="stable")
    X, y = X[order], y[order]
    if flat:
        X = X.reshape(count, -1)
    return X, y


# --------------------------------------------------------------------------- helpers

def _f64(array):
    return core.to_numpy(array)


def _row(values, limit=6):
    values = onp.ravel(values)
    shown = ", ".join(f"{v:.6g}" for v in values[:limit])
    return f"[{shown}{', ...' if values.size > limit else ''}]"


def _call_pure(function, arrays, seed, forbidden=()):
    """Call `function(*arrays)` (core.call fails if it changed one of them in place)."""
    try:
        return core.call(function, *arrays, seed=seed, forbidden=forbidden)
    except core.CheckFailure as failure:
        raise core.CheckFailure(_explain_error(str(failure))) from None


def _explain_error(message):
    """Shorten an MXNet error (its C++ traceback is noise) and add the usual fix."""
    if "Traceback (most recent call last)" in message and "MXNetError:" in message:
        head = message.split("Traceback (most recent call last)")[0].rstrip(": \n")
        message = f"{head}: {message.rsplit('MXNetError:', 1)[1].strip()}"
    shapes = BROADCAST_SHAPES.search(message)
    if shapes:
        message += _broadcast_hint(*(tuple(int(s) for s in group.split(",") if s)
                                     for group in shapes.groups()))
    return message


BROADCAST_SHAPES = re.compile(r"could not be broadcast together with shapes "
                              r"\[([\d,]*)\] \[([\d,]*)\]")


def _broadcast_hint(left, right):
    """The usual cause of a failed broadcast of `left` against `right`, as a hint."""
    if len(left) == len(right) == 2 and left == right[::-1]:
        return (f". Hint: one operand is the transpose of the other, {left} against "
                f"{right}: both must have one row per example, so drop the .T (np.eye(k)[y] "
                f"already has one row per label)")
    if len(left) == len(right) == 2 and left[0] == right[0] and left[1] != right[1]:
        return (f". Hint: the operands have {left[1]} and {right[1]} columns: one-hot labels "
                f"need one column per class of O, np.eye(O.shape[1])[y], whatever the largest "
                f"label in y")
    longer, shorter = (left, right) if len(left) > len(right) else (right, left)
    if len(longer) == len(shorter) + 1 and longer[:len(shorter)] == shorter:
        return (f". Hint: the {shorter} operand is a sum or max over the last axis, which "
                f"does not broadcast against the {longer} matrix; keep the reduced axis "
                f"with keepdims=True, giving shape {shorter + (1,)}")
    return ""


def _first_bad_row(values):
    bad = ~onp.isfinite(values)
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(1, bad.ndim)))
    rows = onp.flatnonzero(bad)
    return int(rows[0]) if rows.size else None


def _kind(value):
    return "NaN" if onp.isnan(value).any() else "Inf"


def _expect_shape(function, got, shape, what, hint):
    core.expect_array(function, got, what)
    if tuple(got.shape) != tuple(shape):
        core.fail(function, f"{what} has shape {tuple(got.shape)}, expected {tuple(shape)}: "
                            f"{hint}")


GRADIENT_SHAPE = "one partial derivative per logit, the shape of O"


def _one_number(function, value, want, form):
    """Fail for one number where a loss per example is owed, naming the mean or sum."""
    mean, total, n = want.mean(), want.sum(), want.shape[0]
    which = ("the mean of the losses" if abs(value - mean) <= 1e-3 * (1 + abs(mean)) else
             "the sum of the losses" if abs(value - total) <= 1e-3 * (1 + abs(total)) else
             "a single number")
    core.fail(function, f"returned {which} ({form}), expected one loss per example, an "
                        f"array of shape ({n},): return the losses themselves and leave the "
                        f"averaging to the training loop")


def _per_example_shape(function, got, want, y_hat, labels, what, source_name):
    """Name the usual reasons for a per-example loss of the wrong shape."""
    n, onehot = want.shape[0], _onehot(labels, y_hat.shape[1])
    if isinstance(got, (int, float)):   # float(loss.mean()): the usual way to get one
        _one_number(function, float(got), want, "a Python float")
    core.expect_array(function, got, what)
    shape = tuple(got.shape)
    if shape == (n,):
        return
    per_entry = shape == tuple(y_hat.shape)
    one_hot_product = per_entry and not onp.any(_f64(got) * (1 - onehot))
    if shape == (n, n) and n > 1 and not one_hot_product:
        core.fail(function, f"{what} has shape {shape}, expected ({n},): `{source_name}[:, y]` "
                            f"picks the whole column y[j] of every row, an (n, n) matrix. Pick "
                            f"one entry per row, the one of the true class: "
                            f"`{source_name}[np.arange({source_name}.shape[0]), y]` (row i, "
                            f"column y[i])")
    if shape == () and n == 1:
        core.fail(function, f"{what} has shape (), expected (1,) for a batch of one example: "
                            f".squeeze() (or a sum over the last axis of an (n, 1) array) drops "
                            f"the batch axis when n = 1. Keep one loss per example, e.g. "
                            f".reshape(-1) instead of .squeeze()")
    if shape in ((), (1,)):
        _one_number(function, float(_f64(got).reshape(-1)[0]), want, f"shape {shape}")
    if per_entry:
        core.fail(function, f"{what} has shape {shape}, one value per entry of "
                            f"{source_name}, expected ({n},): keep only the entry of the true "
                            f"class of each row, {source_name}[np.arange(n), y] (a product "
                            f"with one-hot labels must then be summed over axis=1)")
    core.assert_close(function, got, want, what)  # reports the shape with its own hints


def _diagnose(function, got, mistakes, want=None, rtol=core.RTOL, atol=core.ATOL):
    """Unless `got` is close to `want`: fail with the message of the first
    (candidate, message) that `got` matches."""
    if want is not None and core.close(got, want, rtol, atol):
        return
    for candidate, message in mistakes:
        if candidate is not None and core.close(got, candidate, rtol=1e-3, atol=1e-4):
            core.fail(function, message)


# --------------------------------------------------------------------------- softmax

def softmax_matches(softmax, shape=(4, 5), scale=1.0, seed=0):
    """softmax(O) for O ~ N(0, scale^2): each row is exp(o) / sum(exp(o)), rows sum to 1."""
    core.check_source(softmax, OPERATORS)
    O = core.random_array(shape, seed, scale)
    got = _call_pure(softmax, [O], seed, OPERATORS)
    o = _f64(O)
    want, mistakes = _softmax(o), _softmax_mistakes(o)
    inputs = f"O of shape {shape} with entries ~ N(0, {scale:g}^2)"
    core.expect_array(softmax, got, "softmax(O)")
    if not core.close(got, want):
        _diagnose_softmax(softmax, _f64(got), want, mistakes)
        core.assert_close(softmax, got, want, "softmax(O)", inputs=inputs)
    core.gradients(softmax, O, seed=seed)
    core.passed(softmax, f"row-wise softmax of a {shape} matrix of logits, differentiable")


def _diagnose_softmax(softmax, got, want, mistakes):
    """Fail naming the mistake that gives `got`; `mistakes`: _softmax_mistakes(O)."""
    if got.shape != want.shape or not onp.isfinite(got).all():
        return
    n = want.shape[0]
    rows, columns = got.sum(axis=1), got.sum(axis=0)
    if n > 1 and onp.allclose(columns, 1, atol=1e-4) and not onp.allclose(rows, 1, atol=1e-4):
        core.fail(softmax, "normalises each column (axis=0): every column of your result sums "
                           "to 1, but softmax normalises each ROW, the logits of one example. "
                           "Take the max and the sum with axis=1, keepdims=True")
    if n > 1 and abs(got.sum() - 1) < 1e-4:
        core.fail(softmax, "divides by the sum of ALL entries of exp(O): the whole matrix sums "
                           "to 1, but each row must. Sum each row: .sum(axis=1, keepdims=True)")
    row_j = ("divides entry (i, j) by the sum of row j: E.sum(axis=1) has shape (n,), which "
             "broadcasts along the rows of the (n, n) matrix. Keep the summed axis: "
             "E.sum(axis=1, keepdims=True)")
    unnormalised = ("returns exp(...) without normalising: divide each row by its sum so "
                    "that the probabilities sum to 1")
    _diagnose(softmax, got, list(zip(mistakes, [row_j, unnormalised] * 2)))
    if not onp.allclose(rows, 1, atol=1e-4):
        r = int(onp.argmax(onp.abs(rows - 1)))
        core.fail(softmax, f"row {r} of softmax(O) sums to {rows[r]:.6g}, but the probabilities "
                           f"of each row must sum to 1: divide exp(o - m) by the sum of its own "
                           f"row, or, in the log domain, subtract all of logsumexp(o) = m + "
                           f"log(sum(exp(o - m))), m included")


def softmax_stable(softmax, num_classes=5, magnitude=1e4, seed=0):
    """softmax(O) is finite and exact for logits up to `magnitude` (rows that break exp),
    also for a batch of one row whose logits are all far below 0 (no large logit anywhere
    in O: a shift made only when some logit is large does not happen)."""
    core.check_source(softmax, OPERATORS)
    descriptions, values = _large_logits(num_classes, magnitude, seed)
    _softmax_stable_rows(softmax, descriptions, values, magnitude, seed)
    _softmax_stable_rows(softmax, descriptions[1:2], values[1:2], magnitude, seed, alone=True)
    core.passed(softmax, f"finite and exact for logits of magnitude up to {magnitude:g}, "
                         f"also for one row of negative logits alone")


SHIFT_EVERY_TIME = ("O holds no large logit here, so a shift made only when some logit is "
                    "large does not happen: shift by the row maximum every time")


def _softmax_stable_rows(softmax, descriptions, values, magnitude, seed, alone=False):
    """Fail unless softmax(values) is finite and exact; `alone`: O is a single row."""
    O = np.array(values)
    got = _call_pure(softmax, [O], seed, OPERATORS)
    o = values.astype(onp.float64)
    want = _softmax(o)
    _expect_shape(softmax, got, want.shape, "softmax(O)",
                  "one probability per logit, the shape of O")
    g = _f64(got)
    r = _first_bad_row(g)
    if r is not None:
        kind = _kind(g[r])
        if o[r].max() > EXP_OVERFLOW:
            why = (f"exp overflows float32 above exp({EXP_OVERFLOW:.1f}) = 3.4e38 and "
                   f"inf/inf = NaN")
        elif alone:
            why = f"exp underflows to 0 for every logit and 0/0 = NaN. {SHIFT_EVERY_TIME}"
        else:
            why = ("exp underflows to 0 for every logit of that row and 0/0 = NaN. Each row "
                   "needs its OWN maximum: O.max(axis=1, keepdims=True), not O.max()")
        batch = ", a batch of that row alone" if alone else ""
        core.fail(softmax, f"softmax(O) contains {kind} in row {r}{batch} ({descriptions[r]}: "
                           f"{_row(o[r])}): {why}. Subtract the row maximum before exp: "
                           f"softmax(o) = softmax(o - max(o)), and then every exp(o - max(o)) "
                           f"is at most 1")
    core.assert_close(softmax, got, want, "softmax(O)", rtol=core.ulp_tolerance(magnitude),
                      atol=core.ATOL, inputs=f"logits of magnitude up to {magnitude:g}"
                      + (", one row alone" if alone else ""),
                      hint="in float32, exp(x) underflows (loses precision, then becomes 0) "
                           "below about -87 and overflows above 88.7: subtract the row "
                           "maximum so that the largest exponent is exactly 0")


# --------------------------------------------------------------------------- cross_entropy

def cross_entropy_matches(cross_entropy, n=6, num_classes=4, seed=0, label_dtype="int32"):
    """cross_entropy(y_hat, y) = -log y_hat[i, y_i] per example, shape (n,)."""
    core.check_source(cross_entropy, OPERATORS)
    rng = onp.random.default_rng(seed)
    probabilities = _softmax(rng.normal(0, 1, (n, num_classes))).astype(onp.float32)
    labels = _labels(n, num_classes, rng, label_dtype)
    y_hat, y = np.array(probabilities), np.array(labels, dtype=label_dtype)
    got = _call_pure(cross_entropy, [y_hat, y], seed, OPERATORS)
    p = probabilities.astype(onp.float64)
    want = _cross_entropy(p, labels)
    what = "cross_entropy(y_hat, y)"
    _per_example_shape(cross_entropy, got, want, y_hat, labels, what, "y_hat")
    wrong_sign, log10, log2, probability = _cross_entropy_mistakes(p, labels)
    _diagnose(cross_entropy, got, [
        (wrong_sign, "has the wrong sign: the loss is MINUS the log-probability of the true "
                     "class, -log y_hat[i, y_i], which is >= 0"),
        (log10, "uses log10: cross-entropy uses the natural logarithm, np.log"),
        (log2, "uses log2: cross-entropy uses the natural logarithm, np.log"),
        (probability, "returns the probability of the true class: take -np.log of it"),
    ], want)
    core.assert_close(cross_entropy, got, want, what,
                      inputs=f"{n} examples, {num_classes} classes, labels {labels.tolist()}")
    core.gradients(cross_entropy, y_hat, y, seed=seed)
    _cross_entropy_at_the_edges(cross_entropy, num_classes, seed, label_dtype)
    core.passed(cross_entropy, f"-log y_hat[i, y_i] for {n} examples, {label_dtype} labels, "
                               f"differentiable; exact for true-class probabilities down to "
                               f"1e-30, +inf at 0, finite where other classes are 0")


def _edge_probabilities(num_classes):
    """(descriptions, y_hat, labels): rows at the edges of cross_entropy's contract. The
    true class has probability 1e-30, 1e-8, 0.01 (exact losses 69.1, 18.4, 4.6) or exactly
    0 (the loss is +inf, never clipped); in the last two rows every other class has
    probability exactly 0, as a stable softmax produces (the loss is finite: 0 and log 2)."""
    k = num_classes
    rows = []
    for label, p in ((0, 1e-30), (k - 1, 1e-8), (1, 0.01), (0, 0.0)):
        row = onp.full(k, (1 - p) / (k - 1))
        row[label] = p
        rows.append((f"true-class probability {p:g}", row, label))
    certain = onp.zeros(k)
    certain[k - 1] = 1.0
    rows.append(("true-class probability 1, every other class exactly 0", certain, k - 1))
    even = onp.zeros(k)
    even[:2] = 0.5
    rows.append(("true-class probability 0.5, the other 0.5 in one class, the rest exactly 0"
                 if k > 2 else "two classes of probability 0.5", even, 1))
    descriptions = [d for d, _, _ in rows]
    y_hat = onp.stack([r for _, r, _ in rows]).astype(onp.float32)
    return descriptions, y_hat, onp.array([label for _, _, label in rows])


def _cross_entropy_at_the_edges(cross_entropy, num_classes, seed, label_dtype):
    """Exact losses for tiny true-class probabilities, +inf at 0, finite next to zeros."""
    descriptions, probabilities, labels = _edge_probabilities(num_classes)
    y_hat, y = np.array(probabilities), np.array(labels, dtype=label_dtype)
    got = _call_pure(cross_entropy, [y_hat, y], seed, OPERATORS)
    want = _cross_entropy(probabilities.astype(onp.float64), labels)
    what = "cross_entropy(y_hat, y)"
    _per_example_shape(cross_entropy, got, want, y_hat, labels, what, "y_hat")
    for r, (value, exact) in enumerate(zip(_f64(got), want)):
        tried = (f"row {r} of y_hat ({descriptions[r]}: {_row(probabilities[r])}, label "
                 f"{labels[r]})")
        if onp.isnan(value):
            core.fail(cross_entropy, f"the loss is NaN for {tried}, expected {exact:.6g}: a "
                                     f"log of 0 went into a product or a sum (0 * log(0) = "
                                     f"0 * (-inf) = NaN, and MXNet sums -inf to NaN), as "
                                     f"with one-hot labels times np.log(y_hat). Take the log "
                                     f"of the true class's probability alone, "
                                     f"-np.log(y_hat[np.arange(n), y])")
        if onp.isinf(exact) and value != exact:
            core.fail(cross_entropy, f"the loss is {value:.6g} for {tried}, expected +inf = "
                                     f"-log(0): the probability is clipped, or an eps added, "
                                     f"or inf replaced. The loss is -log(y_hat[i, y_i]) of the "
                                     f"probability as it is: never clip it")
        if onp.isfinite(exact) and abs(value - exact) > core.ATOL + core.RTOL * exact:
            core.fail(cross_entropy, f"the loss is {value:.6g} for {tried}, expected "
                                     f"-log({probabilities[r, labels[r]]:g}) = {exact:.6g}: a "
                                     f"probability clipped to a minimum (np.maximum, np.clip) "
                                     f"or an eps added (log(p + eps)) changes the loss of a "
                                     f"small probability. Take -np.log of the probability as "
                                     f"it is: it is exact for every probability above 0")


# --------------------------------------------------------------------------- softmax_cross_entropy

def softmax_cross_entropy_matches(softmax_cross_entropy, n=6, num_classes=5, scale=1.0, seed=0,
                                  label_dtype="int32"):
    """softmax_cross_entropy(O, y) = logsumexp(o_i) - o_i[y_i] for moderate logits."""
    function = softmax_cross_entropy
    core.check_source(function, OPERATORS)
    rng = onp.random.default_rng(seed)
    values = rng.normal(0, scale, (n, num_classes)).astype(onp.float32)
    labels = _labels(n, num_classes, rng, label_dtype)
    O, y = np.array(values), np.array(labels, dtype=label_dtype)
    got = _call_pure(function, [O, y], seed, OPERATORS)
    o = values.astype(onp.float64)
    want = _softmax_cross_entropy(o, labels)
    what = "softmax_cross_entropy(O, y)"
    _per_example_shape(function, got, want, O, labels, what, "O")
    wrong_sign, logsumexp_alone, minus_logit = _softmax_cross_entropy_mistakes(o, labels)
    _diagnose(function, got, [
        (wrong_sign, "has the wrong sign: the loss is logsumexp(o) - o[y], i.e. "
                     "-log softmax(o)[y], which is >= 0"),
        (logsumexp_alone, "returns logsumexp(o) alone: subtract the logit of the true "
                          "class, o[y]"),
        (minus_logit, "returns -o[y] alone: add logsumexp(o), the log of the softmax's "
                      "denominator"),
    ], want)
    core.assert_close(function, got, want, what,
                      inputs=f"{n} examples, {num_classes} classes, logits ~ N(0, {scale:g}^2)")
    core.gradients(function, O, y, seed=seed)
    core.passed(function, f"logsumexp(o_i) - o_i[y_i] for {n} examples, {num_classes} classes, "
                          f"differentiable")


def _large_logits_with_labels(num_classes, magnitude, seed):
    """Rows of _large_logits plus labels: the true class is far below the maximum in rows
    2 and 3 (the loss is about 2M there), at the maximum in row 5."""
    descriptions, values = _large_logits(num_classes, magnitude, seed)
    rng = onp.random.default_rng(seed + 1)
    labels = _labels(len(values), num_classes, rng)
    labels[2] = int(onp.argmin(values[2]))
    labels[3] = int(onp.argmin(values[3]))
    descriptions.append(descriptions[2] + ", true class at the maximum")
    values = onp.vstack([values, values[2]])
    labels = onp.append(labels, int(onp.argmax(values[2]))).astype(onp.int32)
    return descriptions, values, labels


def softmax_cross_entropy_stable(softmax_cross_entropy, num_classes=5, magnitude=1e4, seed=0):
    """Finite and exact losses for logits up to `magnitude`: the log-sum-exp trick; also
    for a batch of one row whose logits are all far below 0 (as in softmax_stable)."""
    function = softmax_cross_entropy
    core.check_source(function, OPERATORS)
    descriptions, values, labels = _large_logits_with_labels(num_classes, magnitude, seed)
    _softmax_cross_entropy_rows(function, descriptions, values, labels, magnitude, seed)
    _softmax_cross_entropy_rows(function, descriptions[1:2], values[1:2], labels[1:2], magnitude,
                                seed, alone=True)
    core.passed(function, f"finite and exact for logits of magnitude up to {magnitude:g} "
                          "(log-sum-exp), also for one row of negative logits alone")


def _softmax_cross_entropy_rows(function, descriptions, values, labels, magnitude, seed,
                                alone=False):
    """Fail unless the losses of `values` are finite and exact; `alone`: O is one row."""
    O, y = np.array(values), np.array(labels, dtype="int32")
    got = _call_pure(function, [O, y], seed, OPERATORS)
    o = values.astype(onp.float64)
    want = _softmax_cross_entropy(o, labels)
    what = "softmax_cross_entropy(O, y)"
    _per_example_shape(function, got, want, O, labels, what, "O")
    g = _f64(got)
    r = _first_bad_row(g)
    trick = ("use the log-sum-exp trick: loss = logsumexp(o) - o[y] with "
             "logsumexp(o) = m + log(sum(exp(o - m))), m = max(o)")
    if r is not None:
        batch = ", a batch of that row alone" if alone else ""
        where = (f"the loss is {_kind(g[r])} in row {r}{batch} ({descriptions[r]}: "
                 f"{_row(o[r])}, label {labels[r]}, exact loss {want[r]:.6g})")
        if o[r].max() > EXP_OVERFLOW and want[r] < 100:
            core.fail(function, f"{where}: exp(o) overflows float32 above "
                                f"exp({EXP_OVERFLOW:.1f}), so log(sum(exp(o))) is inf: {trick}; "
                                f"then every exp(o - m) is at most 1")
        if o[r].max() < -EXP_OVERFLOW:
            fix = SHIFT_EVERY_TIME if alone else ("Each row needs its own maximum, "
                                                  "m = O.max(axis=1, keepdims=True), not O.max()")
            core.fail(function, f"{where}: exp underflows to 0 for every logit of that row, "
                                f"so the log of the sum is log(0). {fix}: {trick}")
        core.fail(function, f"{where}: the probability of the true class, exp({-want[r]:.3g}), "
                            f"underflows to 0 in float32, so -log(softmax(O)[y]) = -log(0) = "
                            f"inf. Never take the log of a softmax: {trick} — it is exact "
                            f"whatever the logits")
    atol = core.ulp_tolerance(2 * magnitude)
    if not core.close(got, want, atol=atol):
        saturated = onp.flatnonzero((want > 100) & (g < 0.5 * want))
        if saturated.size:
            r = int(saturated[0])
            core.fail(function, f"row {r} ({descriptions[r]}, label {labels[r]}): loss "
                                f"{g[r]:.6g}, expected {want[r]:.6g}. The loss of a confidently "
                                f"wrong prediction grows with the gap between the logits; a "
                                f"probability clipped to eps (or log(p + eps)) caps it: "
                                f"{trick}")
    core.assert_close(function, got, want, what, rtol=core.RTOL, atol=atol,
                      inputs=f"logits of magnitude up to {magnitude:g}, labels "
                             f"{labels.tolist()}", hint=trick)


# --------------------------------------------------------------------------- gradient

def _grad_mistakes(O, y):
    """(value, message) of each catalogued mistake of the gradient for logits O, labels y."""
    by_n, wrong_sign, softmax_alone, whole_columns, onehot_alone = _grad_mistake_values(O, y)
    n = O.shape[0]
    return [
        (by_n, f"divides by n = {n}: the contract asks for the gradient of the SUM of the "
               f"losses, softmax(O) - onehot(y), without 1/n (the training loop divides by "
               f"the batch size)"),
        (wrong_sign, "has the wrong sign: d/do_j of logsumexp(o) - o[y] is softmax(o)_j "
                     "minus 1 at j = y, so the gradient is softmax(O) - onehot(y)"),
        (softmax_alone, "returns softmax(O): subtract the one-hot labels, 1 at column y_i of "
                        "row i (the derivative of -o[y])"),
        (whole_columns, "subtracts 1 in column y_j of EVERY row: G[:, y] picks whole "
                        "columns. Subtract 1 once per row, at the true class: "
                        "G[np.arange(n), y] -= 1 (row i, column y[i])"),
        (onehot_alone, "returns -onehot(y) alone: add softmax(O), the derivative of "
                       "logsumexp"),
    ]


def softmax_cross_entropy_grad_matches(softmax_cross_entropy_grad, n=5, num_classes=4,
                                       scale=1.0, seed=0):
    """softmax_cross_entropy_grad(O, y) = softmax(O) - onehot(y), by hand (no autograd)."""
    function = softmax_cross_entropy_grad
    core.check_source(function, core.HAND_DERIVED)
    rng = onp.random.default_rng(seed)
    values = rng.normal(0, scale, (n, num_classes)).astype(onp.float32)
    labels = _labels(n, num_classes, rng)
    labels[-1] = labels[0]  # a repeated label tells G[:, y] from G[np.arange(n), y]
    O, y = np.array(values), np.array(labels, dtype="int32")
    got = _call_pure(function, [O, y], seed, core.HAND_DERIVED)
    o = values.astype(onp.float64)
    want = _softmax_cross_entropy_grad(o, labels)
    what = "the gradient"
    _expect_shape(function, got, want.shape, what, GRADIENT_SHAPE)
    _diagnose(function, got, _grad_mistakes(o, labels), want)
    core.assert_close(function, got, want, what,
                      inputs=f"O of shape {want.shape}, labels {labels.tolist()}",
                      hint="each row of softmax(O) - onehot(y) sums to 0")
    _grad_of_one_example(function, seed)
    core.passed(function, f"softmax(O) - onehot(y) for {n} examples, {num_classes} classes, "
                          f"and for one example of 2 classes")


def _grad_of_one_example(function, seed):
    """The gradient for a batch of one example of 2 classes, labelled 0: the smallest
    batch, the fewest classes, and labels whose largest value is not the last class."""
    values = onp.random.default_rng(seed).normal(0, 1, (1, 2)).astype(onp.float32)
    labels = onp.zeros(1, dtype=onp.int32)
    O, y = np.array(values), np.array(labels)
    got = _call_pure(function, [O, y], seed, core.HAND_DERIVED)
    o = values.astype(onp.float64)
    want = _softmax_cross_entropy_grad(o, labels)
    tried = f"one example of 2 classes, O = {_row(values)}, y = [0]"
    _expect_shape(function, got, want.shape, f"the gradient for {tried}", GRADIENT_SHAPE)
    _diagnose(function, got, _grad_mistakes(o, labels) + [
        (_grad_minus_one_everywhere(o), f"for {tried}, it subtracts 1 from every entry: the "
                                        f"one-hot labels have a single column, one more than "
                                        f"the largest label, and broadcast. Build them with "
                                        f"one column per class of O: np.eye(O.shape[1])[y]"),
    ], want)
    core.assert_close(function, got, want, "the gradient", inputs=tried,
                      hint="each row of softmax(O) - onehot(y) sums to 0")


def softmax_cross_entropy_grad_stable(softmax_cross_entropy_grad, num_classes=5,
                                      magnitude=1e4, seed=0):
    """The gradient is finite and exact for logits up to `magnitude`."""
    function = softmax_cross_entropy_grad
    core.check_source(function, core.HAND_DERIVED)
    descriptions, values, labels = _large_logits_with_labels(num_classes, magnitude, seed)
    O, y = np.array(values), np.array(labels, dtype="int32")
    got = _call_pure(function, [O, y], seed, core.HAND_DERIVED)
    o = values.astype(onp.float64)
    want = _softmax_cross_entropy_grad(o, labels)
    _expect_shape(function, got, want.shape, "the gradient", GRADIENT_SHAPE)
    g = _f64(got)
    r = _first_bad_row(g)
    if r is not None:
        core.fail(function, f"the gradient contains {_kind(g[r])} in row {r} ({descriptions[r]}: "
                            f"{_row(o[r])}): softmax(O) is not finite there. Compute it "
                            f"stably — subtract each row's maximum before exp — e.g. with "
                            f"your softmax")
    core.assert_close(function, got, want, "the gradient", rtol=core.RTOL,
                      atol=core.ulp_tolerance(magnitude),
                      inputs=f"logits of magnitude up to {magnitude:g}, labels {labels.tolist()}")
    core.passed(function, f"finite and exact for logits of magnitude up to {magnitude:g}")


# --------------------------------------------------------------------------- accuracy

def accuracy_counts(accuracy, n=10, num_classes=4, seed=0, label_dtype="int32", logits=False):
    """accuracy(y_hat, y) = the number of rows whose argmax is the label, a Python float."""
    rng = onp.random.default_rng(seed)
    scores = rng.normal(0, 1, (n, num_classes))
    if not logits:
        scores = _softmax(scores)
    scores = scores.astype(onp.float32)
    predicted = _predicted_classes(scores)
    right = rng.permutation(n)[:max(1, (2 * n) // 3)] if n > 1 else onp.array([0])
    labels = (predicted + rng.integers(1, num_classes, n)) % num_classes
    labels[right] = predicted[right]
    labels = labels.astype(label_dtype)
    want = float(len(right))
    got = _count_correct(accuracy, scores, labels, label_dtype, seed)
    if n > 1 and abs(got - want / n) < 1e-6:
        core.fail(accuracy, f"returned {got:g}, the fraction of correct predictions "
                            f"({int(want)}/{n}); expected the NUMBER of correct predictions, "
                            f"{want:g}: the caller divides the total count by the number of "
                            f"examples once, over many batches")
    if abs(got - (n - want)) < 1e-6 and n != 2 * want:
        core.fail(accuracy, f"returned {got:g}, the number of WRONG predictions; expected "
                            f"{want:g}, the rows whose argmax equals the label")
    if got != want:
        r = int(onp.flatnonzero(predicted == labels)[0])
        core.fail(accuracy, f"returned {got:g}, expected {want:g}: {int(want)} of the {n} rows "
                            f"have their largest entry at the label (e.g. row {r}: argmax "
                            f"{predicted[r]} = label {labels[r]}). Compare the predicted "
                            f"classes y_hat.argmax(axis=1) with y, then count the matches "
                            f"with .sum()")
    _count_ties(accuracy, num_classes, seed, label_dtype)
    core.passed(accuracy, f"counts {int(want)} correct rows of {n} ({label_dtype} labels), "
                          f"a tie for its first index")


def _count_correct(accuracy, scores, labels, label_dtype, seed):
    """accuracy(scores, labels) as a float, or fail naming why it is not one."""
    y_hat, y = np.array(scores), np.array(labels, dtype=label_dtype)
    try:
        value = _call_pure(accuracy, [y_hat, y], seed)
    except core.CheckFailure as failure:
        mxnet_error = str(failure).partition("MXNetError")[2]   # not the student's line
        if "could not be broadcast" in mxnet_error:
            raise core.CheckFailure(
                f"{failure}. Hint: y_hat has one row per example; argmax(axis=0) gives one "
                f"index per column ({y_hat.shape[1]} of them), argmax(axis=1) one per row "
                f"({y_hat.shape[0]}), which is what y labels") from None
        if "Type inconsistent" in mxnet_error or "dtype" in mxnet_error.lower():
            raise core.CheckFailure(
                f"{failure}. Hint: argmax returns int64 indices but the labels are "
                f"{label_dtype}; MXNet compares only equal types: "
                f"y_hat.argmax(axis=1).astype(y.dtype) == y") from None
        raise
    if isinstance(value, np.ndarray) and value.size == 1:
        core.fail(accuracy, f"returned mxnet.numpy.ndarray ({float(value.item()):g}), expected "
                            f"a Python float: call .item() on the 0-d array or wrap it in "
                            f"float(...)")
    return core.expect_float(accuracy, value, "the number of correct predictions")


def _tied_rows(num_classes):
    """(descriptions, scores, labels, correct) of rows whose largest entry is tied: the
    argmax of a tie is its first index (NumPy's rule), so a row of equal scores is correct
    only for label 0. The counts of a tie taken as right (5), as wrong (0) and of a tie
    broken at its last index (2) all differ from the right one (3, or 2 for 2 classes)."""
    k = num_classes
    uniform = onp.full(k, 1 / k)
    rows = [("equal scores", uniform, 0), ("equal scores", uniform, 0),
            ("equal scores", uniform, k - 1)]
    if k > 2:
        pair = onp.full(k, 0.2 / (k - 2))
        pair[1:3] = 0.4
        rows += [("a tie of columns 1 and 2", pair, 2), ("a tie of columns 1 and 2", pair, 1)]
    scores = onp.stack([r for _, r, _ in rows]).astype(onp.float32)
    labels = onp.array([label for _, _, label in rows])
    return [d for d, _, _ in rows], scores, labels, _predicted_classes(scores) == labels


def _count_ties(accuracy, num_classes, seed, label_dtype):
    """accuracy counts a tied row as correct only for the tie's first index."""
    descriptions, scores, labels, correct = _tied_rows(num_classes)
    got = _count_correct(accuracy, scores, labels, label_dtype, seed)
    want = float(correct.sum())
    if got == want:
        return
    tried = "; ".join(dict.fromkeys(f"{d} {_row(s, limit=4)} with label {label}"
                                    for d, s, label in zip(descriptions, scores, labels)))
    counted = {float(len(labels)): "counts every tie with the label as correct",
               0.0: "counts every tie as wrong"}.get(got, "does not break ties at the first "
                                                         "index")
    core.fail(accuracy, f"returned {got:g} for {len(labels)} rows whose largest scores are "
                        f"tied ({tried}), expected {want:g}: it {counted}. The predicted class "
                        f"of a tie is its first index, as y_hat.argmax(axis=1) gives, so a "
                        f"row of equal scores counts only for label 0: compare "
                        f"y_hat.argmax(axis=1) with y, not the label's score with the row's "
                        f"maximum")


# --------------------------------------------------------------------------- softmax_regression

def _matmul_tolerance(x, w, b):
    """Absolute error bound of float32 logits X W + b (8 sqrt(d) ulps of sum |x_j w_j| + |b|)."""
    magnitude = onp.abs(x) @ onp.abs(w) + onp.abs(b)
    return 8 * math.sqrt(x.shape[1]) * EPS32 * float(magnitude.max())


def _explain_model_error(softmax_regression, failure, images, W, b, seed):
    """softmax_regression raised `failure` on `images`: find out whether flattening is why."""
    d, q = W.shape
    if images.ndim > 2:
        flat = images.reshape(images.shape[0], -1)
        try:
            core.call(softmax_regression, np.array(flat), W, b, seed=seed)
        except core.CheckFailure:
            pass
        else:
            core.fail(softmax_regression, f"works on flattened inputs of shape {flat.shape} but "
                                          f"not on X of shape {images.shape}: "
                                          f"{str(failure).split(': ', 1)[-1]}. Flatten each "
                                          f"example into a row first: X.reshape(-1, W.shape[0])")
    if "Cannot reshape" in str(failure):
        raise core.CheckFailure(
            f"{failure}. Hint: W has shape {(d, q)}, so each example has W.shape[0] = {d} "
            f"values: reshape with X.reshape(-1, W.shape[0]), not a fixed 784 (the check "
            f"also tries other sizes)") from None
    raise failure


def softmax_regression_matches(softmax_regression, shape=(4, 1, 28, 28), num_outputs=10,
                               seed=0):
    """softmax_regression(X, W, b) = softmax(X.reshape(-1, W.shape[0]) @ W + b)."""
    rng = onp.random.default_rng(seed)
    n, d = shape[0], int(onp.prod(shape[1:]))
    images = rng.uniform(0, 1, shape).astype(onp.float32)
    weights = rng.normal(0, 0.1, (d, num_outputs)).astype(onp.float32)
    bias = rng.normal(0, 1.0, num_outputs).astype(onp.float32)
    X, W, b = np.array(images), np.array(weights), np.array(bias)
    try:
        got = _call_pure(softmax_regression, [X, W, b], seed)
    except core.CheckFailure as failure:
        if "not implemented yet" in str(failure):
            raise
        _explain_model_error(softmax_regression, failure, images, W, b, seed)
    x, w, c = images.reshape(n, d).astype(onp.float64), weights.astype(onp.float64), bias
    want = _softmax_regression(x, w, c)
    what = f"softmax_regression(X, W, b) for X of shape {shape}"
    got_shape = tuple(core.expect_array(softmax_regression, got, what).shape)
    if got_shape == want.shape[::-1] != want.shape:
        core.fail(softmax_regression, f"{what} has shape {got_shape}, expected "
                                      f"{want.shape}: it is transposed, one column per "
                                      f"example. Keep one row per example: compute "
                                      f"X.reshape(-1, W.shape[0]) @ W + b and do not "
                                      f"transpose it")
    if got_shape != want.shape:
        core.fail(softmax_regression, f"{what} has shape {got_shape}, expected "
                                      f"{want.shape}: one row of {num_outputs} class "
                                      f"probabilities per example; flatten X with "
                                      f"X.reshape(-1, W.shape[0])")
    tolerance = _matmul_tolerance(x, w, c)
    no_bias, logits, minus_bias = _softmax_regression_mistakes(x, w, c)
    rows = _f64(got).sum(axis=1)
    if onp.isfinite(rows).all() and not onp.allclose(rows, 1, atol=1e-4):
        r = int(onp.argmax(onp.abs(rows - 1)))
        if not core.close(got, logits, rtol=1e-3, atol=1e-4):
            core.fail(softmax_regression, f"row {r} of the result sums to {rows[r]:.6g}, but each "
                                          f"row holds the class probabilities of one example "
                                          f"and must sum to 1: softmax must be the last step, "
                                          f"applied to the whole logits X W + b (if it is, "
                                          f"your softmax's own tests say more)")
    _diagnose(softmax_regression, got, [
        (no_bias, "forgot the bias: the logits are X W + b"),
        (logits, "returns the logits X W + b: apply softmax to turn them into probabilities"),
        (minus_bias, "subtracts the bias: the logits are X W + b"),
    ], want, rtol=max(core.RTOL, tolerance))
    core.assert_close(softmax_regression, got, want, what, rtol=max(core.RTOL, tolerance),
                      hint="the probabilities are softmax(X.reshape(-1, W.shape[0]) @ W + b), "
                           "one row per example")
    core.gradients(softmax_regression, X, W, b, seed=seed)
    core.passed(softmax_regression, f"softmax(X W + b) for X of shape {shape}, "
                                    f"W of shape {(d, num_outputs)}, differentiable")


# --------------------------------------------------------------------------- training

def _parameters(function, value):
    """(W, b) as float64 arrays of shapes (784, 10) and (10,), or fail saying why not."""
    W, b = spec.pair(function, value, "(W, b)")
    core.expect_array(function, W, "W")
    core.expect_array(function, b, "b")
    if tuple(W.shape) == (NUM_CLASSES, NUM_PIXELS):
        core.fail(function, f"W has shape {tuple(W.shape)}, expected ({NUM_PIXELS}, "
                            f"{NUM_CLASSES}): the model computes X @ W with one row of "
                            f"{NUM_PIXELS} pixels per example")
    if tuple(W.shape) != (NUM_PIXELS, NUM_CLASSES):
        core.fail(function, f"W has shape {tuple(W.shape)}, expected ({NUM_PIXELS}, "
                            f"{NUM_CLASSES}): one column of weights per class")
    if tuple(b.shape) not in ((NUM_CLASSES,), (1, NUM_CLASSES)):
        core.fail(function, f"b has shape {tuple(b.shape)}, expected ({NUM_CLASSES},): one "
                            f"bias per class")
    W, b = _f64(W), _f64(b).reshape(-1)
    for name, array in (("W", W), ("b", b)):
        if not onp.isfinite(array).all():
            core.fail(function, f"the trained {name} contains {_kind(array)}: a NaN or Inf "
                                f"entered the training. Usual causes: a division by zero (e.g. "
                                f"standardising the pixels: the black border pixels have "
                                f"standard deviation 0; use them as given, in [0, 1]), the log "
                                f"of a softmax (use softmax_cross_entropy on the logits), or "
                                f"steps that blow up (divide the summed gradient by the batch "
                                f"size)")
    return W, b


def _evaluate(W, b):
    """(accuracy, predictions) of softmax regression (W, b) on the test images."""
    X, y = core.fashion_mnist_features("test")
    predictions = (X @ W + b).argmax(axis=1)
    return float((predictions == y).mean()), predictions


UPDATE = "W[:] = W - lr * W.grad / batch_size, and the same for b"


def _probe(function, seed):
    """(what the trainer returned on the trainer probe of ``checks.core``, or None if it
    raised; the probe's margin of the returned b)."""
    returned = []

    def output_bias(value):
        returned.append(value)
        return value[1]
    margin = core.probe_margin(function, output_bias, seed)
    return (returned[0] if returned else None), margin


def _probe_first(function, seed, setting):
    """Before the long training on `setting`: fail at once if the 2-step probe returns
    something other than (W, b), or shows that the update is wrong; then the trainer gates
    of ``checks.core``: lr, num_epochs and batch_size are used, and relabelled data are
    learnt as relabelled (judged on test images, which the sandbox cannot read)."""
    value, margin = _probe(function, seed)
    if value is not None:
        _parameters(function, value)
    why = core.probe_explanation(margin, "b", UPDATE)
    if why:
        core.fail(function, f"the update is wrong, so the training on {setting} was "
                            f"skipped.{why}")
    core.trainer_gates(function, lambda value: value[1], "b", functools.partial(
        _predictions, function), seed)


def _predictions(function, value, X):
    """The classes that the (W, b) returned by `function` predicts for the images X."""
    W, b = _parameters(function, value)
    return (X @ W + b).argmax(axis=1)


# Plain SGD ends where its last noisy steps leave it: over 20 grader seeds the plain-SGD
# alternatives reached 82.7-83.6 %, and 80.4 % on one (benchmarks/seed_robustness.py). A
# run that misses the bar by at most NEAR_MISS gets a second, independent one; the better
# counts (the catalogue's wrong trainers that get this far miss it by 12 points).
NEAR_MISS = 0.05


def train_reaches_test_accuracy(train_softmax_regression, num_epochs=10, lr=0.1,
                                batch_size=256, threshold=0.80, count=None, seed=0):
    """Train on Fashion-MNIST (the first `count` examples, or all 60,000); the returned
    (W, b) must classify the 10,000 test images with accuracy >= `threshold`.

    The defaults are the contract's: 10 epochs at lr 0.1, batch 256, must reach 0.80.
    Measured: plain minibatch SGD (d2l's code, the slowest correct trainer) reaches
    0.826-0.836 after 10 epochs over 4 seeds, the reference 0.84; a trainer that divides
    by the batch size twice reaches 0.65, one that does not divide at all oscillates
    between 0.62 and 0.81, and one that goes uphill or never updates stays near 0.1.
    A 2-step probe runs first and fails those at once, in a fraction of a second.
    """
    function = train_softmax_regression
    examples = f"the first {count}" if count else "all 60000"
    setting = (f"{examples} training images with num_epochs={num_epochs}, lr={lr:g}, "
               f"batch_size={batch_size}")
    _probe_first(function, seed, setting)
    X, y = core.fashion_mnist("train", count)

    def trained_accuracy(seed):
        value = core.call(function, X, y, num_epochs=num_epochs, lr=lr,
                          batch_size=batch_size, seed=seed)
        return _evaluate(*_parameters(function, value))[0]

    accuracy = trained_accuracy(seed)
    if threshold - NEAR_MISS <= accuracy < threshold:
        accuracy = max(accuracy, trained_accuracy(seed + core.RETRY_SEED))
    if accuracy < threshold:
        core.fail(function, f"trained on {setting}, the model classifies {accuracy:.1%} of the "
                            f"test images correctly; a correct trainer reaches at least "
                            f"{threshold:.0%}. Check the update (param - lr * param.grad / "
                            f"batch_size, with the batch's own size), that every epoch visits "
                            f"every example once, that `return W, b` comes after both loops, "
                            f"and that num_epochs, lr and batch_size are used")
    core.passed(function, f"test accuracy {accuracy:.1%} >= {threshold:.0%} after training on "
                          f"{setting}")


def train_handles_sorted_data(train_softmax_regression, count=3000, threshold=0.60, seed=0,
                              num_epochs=3, lr=0.1, batch_size=64):
    """Train on `count` flattened images sorted by label: minibatches must be random samples.

    A trainer that visits the examples in the order given sees only ankle boots at the end
    of every epoch and forgets the rest; a new random order every epoch fixes that.
    """
    function = train_softmax_regression
    settings = (f"{count} flattened images ({count} x {NUM_PIXELS}) sorted by label, "
                f"num_epochs={num_epochs}, lr={lr}, batch_size={batch_size}")
    _probe_first(function, seed, settings)
    images, labels = sorted_subset(count)
    X, y = np.array(images), np.array(labels, dtype="int32")
    value = core.call(function, X, y, num_epochs=num_epochs, lr=lr, batch_size=batch_size,
                      seed=seed)
    W, b = _parameters(function, value)
    accuracy, predictions = _evaluate(W, b)
    if accuracy < threshold:
        shares = onp.bincount(predictions, minlength=NUM_CLASSES) / len(predictions)
        last = int(labels[-1])
        if shares[last] > 0.25:
            core.fail(function, f"trained on {settings}, the model predicts the class seen "
                                f"last (label {last}) for {shares[last]:.0%} of the test "
                                f"images and gets {accuracy:.1%} right; expected at least "
                                f"{threshold:.0%}. Your minibatches follow the order of the "
                                f"data: draw a new random order of the examples every epoch "
                                f"(indices = np.arange(n); np.random.shuffle(indices))")
        core.fail(function, f"trained on {settings}, the model classifies {accuracy:.1%} of "
                            f"the test images correctly; expected at least {threshold:.0%}. "
                            f"Shuffle the examples every epoch, use every example once per "
                            f"epoch (the last batch has {count % batch_size} examples), make "
                            f"sure `return W, b` comes after both loops, and use num_epochs, "
                            f"lr and batch_size")
    core.passed(function, f"test accuracy {accuracy:.1%} >= {threshold:.0%} after training on "
                          f"{settings}")
