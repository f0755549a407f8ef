"""Checks of assignment 04, softmax regression: every entry point but the trainer's is a
spec (checks.spec), with this module's words for results that read as a known mistake.
The trainer's parameters are judged on the test images, which the sandbox cannot read.

Tolerances. A float32 logit of magnitude M is known to ``FLOAT32_EPS * M``, which exp turns
into the same relative error of a probability: probabilities are compared with
``rtol = core.ulp_tolerance(M)``, losses (differences of logits) with
``atol = core.ulp_tolerance(2 M)``.
"""
import functools
import math
import re
from collections import namedtuple

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, oracles, spec
from d2lcourse.data import fashion_mnist_arrays

# softmax, cross_entropy and softmax_cross_entropy are the exercise: the operators that
# compute them are forbidden (COURSE_CONTRACT.md, rules for every graded function).
OPERATORS = core.OPERATOR_APIS
NUM_PIXELS, NUM_CLASSES = 28 * 28, 10
EXP_OVERFLOW = math.log(float(onp.finfo(onp.float32).max))   # 88.72: exp(x) = inf above
# The tag of a call on rows chosen to break exp: their descriptions, the magnitude M of the
# logits (the tolerance's scale) and whether O is that one row alone.
Rows = namedtuple("Rows", "descriptions magnitude alone")
ONE_EXAMPLE = "one example of 2 classes, O = {}, y = [0]"
SHIFT_EVERY_TIME = ("O holds no large logit here, so a shift made only when some logit is "
                    "large does not happen: shift by the row maximum every time")
TRICK = ("use the log-sum-exp trick: loss = logsumexp(o) - o[y] with logsumexp(o) = m + "
         "log(sum(exp(o - m))), m = max(o)")


# --------------------------------------------------------------------------- oracles

@core.oracle
def _logsumexp(O):
    m = O.max(axis=1)
    return m + onp.log(onp.exp(O - m[:, None]).sum(axis=1))


@core.oracle
def _onehot(y, num_classes):
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
def cross_entropy_slips(y_hat, y):
    loss = _cross_entropy(y_hat, y)
    return [(-loss, "has the wrong sign: the loss is MINUS the log-probability of the true "
                    "class, -log y_hat[i, y_i], which is >= 0"),
            (loss / math.log(10), "uses log10: cross-entropy uses the natural logarithm, np.log"),
            (loss / math.log(2), "uses log2: cross-entropy uses the natural logarithm, np.log"),
            (_picked(y_hat, y), "returns the probability of the true class: take -np.log of it")]


@core.oracle
def _logits_loss(O, y):
    return _logsumexp(O) - _picked(O, y)


@core.oracle
def softmax_cross_entropy_slips(O, y):
    return [(-_logits_loss(O, y), "has the wrong sign: the loss is logsumexp(o) - o[y], i.e. "
             "-log softmax(o)[y], which is >= 0"),
            (_logsumexp(O), "returns logsumexp(o) alone: subtract the logit of the true class, "
             "o[y]"),
            (-_picked(O, y), "returns -o[y] alone: add logsumexp(o), the log of the softmax's "
             "denominator")]


@core.oracle
def _loss_gradient(O, y):
    """softmax(O) - onehot(y): the gradient of the summed losses with respect to O."""
    return oracles.softmax(O) - _onehot(y, O.shape[1])


@core.oracle
def gradient_slips(O, y):
    P, onehot, n = oracles.softmax(O), _onehot(y, O.shape[1]), O.shape[0]
    columns = onp.zeros_like(onehot)
    columns[:, onp.unique(onp.asarray(y, dtype=onp.int64))] = 1
    one_column = [(P - 1, f"for {ONE_EXAMPLE.format(_row(O))}, it subtracts 1 from every entry: "
                   f"the one-hot labels have a single column, one more than the largest label, "
                   f"and broadcast. Build them with one column per class of O: "
                   f"np.eye(O.shape[1])[y]")]
    return [((P - onehot) / n, f"divides by n = {n}: the contract asks for the gradient of the "
             f"SUM of the losses, softmax(O) - onehot(y), without 1/n (the training loop divides "
             f"by the batch size)"),
            (onehot - P, "has the wrong sign: d/do_j of logsumexp(o) - o[y] is softmax(o)_j "
             "minus 1 at j = y, so the gradient is softmax(O) - onehot(y)"),
            (P, "returns softmax(O): subtract the one-hot labels, 1 at column y_i of row i (the "
             "derivative of -o[y])"),
            (P - columns, "subtracts 1 in column y_j of EVERY row: G[:, y] picks whole columns. "
             "Subtract 1 once per row, at the true class: G[np.arange(n), y] -= 1 (row i, column "
             "y[i])"),
            (-onehot, "returns -onehot(y) alone: add softmax(O), the derivative of logsumexp"),
            ] + (one_column if n == 1 else [])


@core.oracle
def _class_probabilities(X, W, b):
    """The class probabilities softmax(X W + b) of the flattened examples X."""
    return oracles.softmax(X.reshape(-1, W.shape[0]) @ W + b)


@core.oracle
def model_slips(X, W, b):
    logits = X.reshape(-1, W.shape[0]) @ W
    return [(oracles.softmax(logits), "forgot the bias: the logits are X W + b"),
            (logits + b, "returns the logits X W + b: apply softmax to turn them into "
                         "probabilities"),
            (oracles.softmax(logits - b), "subtracts the bias: the logits are X W + b")]


@core.oracle
def _predicted_classes(scores):
    """The class of each row's largest score (the first one of a tie)."""
    return scores.argmax(axis=1)


@core.oracle
def _correct_count(scores, y):
    return float((_predicted_classes(scores) == onp.asarray(y, dtype=onp.int64)).sum())


@core.oracle
def softmax_slips(O):
    """exp(O), then exp(O - row maximum): entry (i, j) divided by the sum of row j (for a
    square O), and the exponentials unnormalised."""
    slips = []
    for E in (onp.exp(O), onp.exp(O - O.max(axis=1, keepdims=True))):
        if O.shape[0] == O.shape[1]:
            slips.append((E / E.sum(axis=1)[None, :], "divides entry (i, j) by the sum of row j: "
                          "E.sum(axis=1) has shape (n,), which broadcasts along the rows of the "
                          "(n, n) matrix. Keep the summed axis: E.sum(axis=1, keepdims=True)"))
        slips.append((E, "returns exp(...) without normalising: divide each row by its sum so "
                         "that the probabilities sum to 1"))
    return slips


# --------------------------------------------------------------------------- words

def _row(values, limit=6):
    values = onp.ravel(values)
    shown = ", ".join(f"{v:.6g}" for v in values[:limit])
    return f"[{shown}{', ...' if values.size > limit else ''}]"


def _kind(value):
    return "NaN" if onp.isnan(value).any() else "Inf"


def _bad_row(got, case):
    """(r, "<NaN or Inf> in row r (<its description>: <its logits>") of the first row r of
    `got` that is not finite, for a call tagged with Rows; (None, "") if every row is."""
    bad = onp.flatnonzero(~onp.isfinite(got.reshape(len(got), -1)).all(axis=1))
    if not bad.size:
        return None, ""
    r, rows = int(bad[0]), case.tag
    batch = ", a batch of that row alone" if rows.alone else ""
    return r, f"{_kind(got[r])} in row {r}{batch} ({rows.descriptions[r]}: {_row(case.args[0][r])}"


BROADCAST_SHAPES = re.compile(r"could not be broadcast together with shapes "
                              r"\[([\d,]*)\] \[([\d,]*)\]")


def _broadcast_hint(message):
    """The usual cause of a failed broadcast that `message` reports, as a hint, or ""."""
    found = BROADCAST_SHAPES.search(message)
    if not found:
        return ""
    left, right = (tuple(int(s) for s in group.split(",") if s) for group in found.groups())
    longer, shorter = (left, right) if len(left) > len(right) else (right, left)
    if len(left) == len(right) == 2 and left == right[::-1]:
        return (f". Hint: one operand is the transpose of the other, {left} against {right}: "
                f"both must have one row per example, so drop the .T (np.eye(k)[y] already has "
                f"one row per label)")
    if len(left) == len(right) == 2 and left[0] == right[0] and left[1] != right[1]:
        return (f". Hint: the operands have {left[1]} and {right[1]} columns: one-hot labels need "
                f"one column per class of O, np.eye(O.shape[1])[y], whatever the largest label "
                f"in y")
    if len(longer) == len(shorter) + 1 and longer[:len(shorter)] == shorter:
        return (f". Hint: the {shorter} operand is a sum or max over the last axis, which does "
                f"not broadcast against the {longer} matrix; keep the reduced axis with "
                f"keepdims=True, giving shape {shorter + (1,)}")
    return ""


def _explain_broadcast(function, failure, case):
    """A failed broadcast raised by `function`, with its usual cause."""
    hint = _broadcast_hint(str(failure))
    if hint:
        raise core.CheckFailure(f"{failure}{hint}") from None


# --------------------------------------------------------------------------- inputs

def _normal_logits(shape=(4, 5), scale=1.0, seed=0):
    O = core.random_array(shape, seed, scale).asnumpy()
    return spec.Call((O,), f"O of shape {shape} with entries ~ N(0, {scale:g}^2)")


def _large_logit_calls(num_classes, magnitude, seed, labelled):
    """Rows that break exp, logits up to M = `magnitude`: all near +M (exp overflows), all
    near -M (exp underflows: 0/0), spread over [-M, M] with the two largest 0.5 apart, a mix
    of +M, -M and 0, all equal to M; then the row near -M alone (no large logit anywhere in
    O: a shift made only when some logit is large does not happen). `labelled`: with
    labels, the true class far below the maximum in rows 2 and 3 (a loss of about 2M) and
    at the maximum in a sixth row."""
    descriptions, O = _large_logits(num_classes, magnitude, seed)
    words = f"logits of magnitude up to {magnitude:g}"
    if not labelled:
        return [spec.Call((O,), words, Rows(descriptions, magnitude, False)),
                spec.Call((O[1:2],), f"{words}, one row alone",
                          Rows(descriptions[1:2], magnitude, True))]
    labels = onp.random.default_rng(seed + 1).integers(0, num_classes, len(O))
    labels[2], labels[3] = onp.argmin(O[2]), onp.argmin(O[3])
    descriptions.append(descriptions[2] + ", true class at the maximum")
    O, labels = onp.vstack([O, O[2]]), onp.append(labels, onp.argmax(O[2])).astype(onp.int32)
    return [spec.Call((O[rows], labels[rows]), f"{words}, labels {labels[rows].tolist()}",
                      Rows(descriptions[rows], magnitude, alone))
            for rows, alone in ((slice(None), False), (slice(1, 2), True))]


def _large_logits(num_classes, magnitude, seed):
    """(descriptions, O): the rows of _large_logit_calls."""
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
            (f"logits {M:g}, -{M:g} and 0", mixed), (f"all logits equal to {M:g}", onp.full(k, M))]
    return [d for d, _ in rows], onp.stack([r for _, r in rows]).astype(onp.float32)


def _large_logit_inputs(labelled, calls=2):
    """The input builder of a stable check: the first `calls` of _large_logit_calls."""
    def inputs(num_classes=5, magnitude=1e4, seed=0):
        return _large_logit_calls(num_classes, magnitude, seed, labelled)[:calls]
    return inputs


# --------------------------------------------------------------------------- softmax

def _explain_softmax(softmax, got, case, returned):
    """Name the axis or the sum that a finite result normalised instead of each row."""
    rows, n = got.sum(axis=1), got.shape[0]
    if onp.isfinite(got).all():
        rows_sum_to_one = onp.allclose(rows, 1, atol=1e-4)
        if n > 1 and onp.allclose(got.sum(axis=0), 1, atol=1e-4) and not rows_sum_to_one:
            core.fail(softmax, "normalises each column (axis=0): every column of your result sums "
                      "to 1, but softmax normalises each ROW, the logits of one example. Take the "
                      "max and the sum with axis=1, keepdims=True")
        if n > 1 and abs(got.sum() - 1) < 1e-4:
            core.fail(softmax, "divides by the sum of ALL entries of exp(O): the whole matrix sums "
                      "to 1, but each row must. Sum each row: .sum(axis=1, keepdims=True)")
        core.diagnose(softmax, got, case.expected, case.mistakes)
        if not rows_sum_to_one:
            (r,) = core.worst(onp.abs(rows - 1))
            core.fail(softmax, f"row {r} of softmax(O) sums to {rows[r]:.6g}, but the "
                      f"probabilities of each row must sum to 1: divide exp(o - m) by the sum of "
                      f"its own row, or, in the log domain, subtract all of logsumexp(o) = m + "
                      f"log(sum(exp(o - m))), m included")
    core.assert_close(softmax, got, case.expected, "softmax(O)", inputs=case.inputs)


def _explain_unstable_softmax(softmax, got, case, returned):
    """Name the row that is not finite and why; else compare within the tolerance of M."""
    (O,), rows = case.args, case.tag
    r, where = _bad_row(got, case)
    if r is not None:
        why = ("exp underflows to 0 for every logit of that row and 0/0 = NaN. Each row needs "
               "its OWN maximum: O.max(axis=1, keepdims=True), not O.max()")
        if O[r].max() > EXP_OVERFLOW:
            why = f"exp overflows float32 above exp({EXP_OVERFLOW:.1f}) = 3.4e38 and inf/inf = NaN"
        elif rows.alone:
            why = f"exp underflows to 0 for every logit and 0/0 = NaN. {SHIFT_EVERY_TIME}"
        core.fail(softmax, f"softmax(O) contains {where}): {why}. Subtract the row maximum before "
                  f"exp: softmax(o) = softmax(o - max(o)), and then every exp(o - max(o)) is at "
                  f"most 1")
    core.assert_close(softmax, got, case.expected, "softmax(O)",
                      rtol=core.ulp_tolerance(rows.magnitude), inputs=case.inputs,
                      hint="in float32, exp(x) underflows (loses precision, then becomes 0) "
                           "below about -87 and overflows above 88.7: subtract the row "
                           "maximum so that the largest exponent is exactly 0")


Softmax = functools.partial(spec.Spec, name="softmax", oracle=oracles.softmax,
                            forbidden=OPERATORS, what="softmax(O)", raised=_explain_broadcast,
                            shape_hint="one probability per logit, the shape of O")

# softmax(O) for O ~ N(0, scale^2): each row is exp(o) / sum(exp(o)), rows sum to 1.
softmax_matches = spec.check(Softmax(
    inputs=_normal_logits, mistakes=softmax_slips, wrong=_explain_softmax,
    passed="row-wise softmax of a {shape} matrix of logits", differentiable=True))

# softmax(O) is finite and exact for logits up to `magnitude`, also for a batch of one row
# of logits all far below 0.
softmax_stable = spec.check(Softmax(
    inputs=_large_logit_inputs(labelled=False), wrong=_explain_unstable_softmax,
    passed="finite and exact for logits of magnitude up to {magnitude:g}, also for one row "
           "of negative logits alone"))


# --------------------------------------------------------------------------- losses

def _one_number(function, value, want, form):
    """Fail for one number where a loss per example is owed, naming the mean or sum."""
    mean, total = want.mean(), want.sum()
    which = ("the mean of the losses" if abs(value - mean) <= 1e-3 * (1 + abs(mean)) else
             "the sum of the losses" if abs(value - total) <= 1e-3 * (1 + abs(total)) else
             "a single number")
    core.fail(function, f"returned {which} ({form}), expected one loss per example, an array of "
              f"shape ({want.shape[0]},): return the losses themselves and leave the averaging "
              f"to the training loop")


def _per_example(function, got, case, what, source):
    """The losses as float64, or fail naming the usual reasons for a per-example loss of
    the wrong kind or shape; `source` names the argument it picks from (y_hat or O)."""
    want, (scores, labels) = case.expected, case.args
    n = want.shape[0]
    if isinstance(got, (int, float)):   # float(loss.mean()): the usual way to get one
        _one_number(function, float(got), want, "a Python float")
    core.expect_array(function, got, what)
    shape = tuple(got.shape)
    if shape == (n,):
        return core.to_numpy(got)
    per_entry = shape == scores.shape
    one_hot_product = per_entry and not onp.any(
        core.to_numpy(got) * (1 - _onehot(labels, scores.shape[1])))
    if shape == (n, n) and n > 1 and not one_hot_product:
        core.fail(function, f"{what} has shape {shape}, expected ({n},): `{source}[:, y]` picks "
                  f"the whole column y[j] of every row, an (n, n) matrix. Pick one entry per row, "
                  f"the one of the true class: `{source}[np.arange({source}.shape[0]), y]` (row "
                  f"i, column y[i])")
    if shape == () and n == 1:
        core.fail(function, f"{what} has shape (), expected (1,) for a batch of one example: "
                  f".squeeze() (or a sum over the last axis of an (n, 1) array) drops the batch "
                  f"axis when n = 1. Keep one loss per example, e.g. .reshape(-1) instead of "
                  f".squeeze()")
    if shape in ((), (1,)):
        _one_number(function, float(core.to_numpy(got).reshape(-1)[0]), want, f"shape {shape}")
    if per_entry:
        core.fail(function, f"{what} has shape {shape}, one value per entry of {source}, "
                  f"expected ({n},): keep only the entry of the true class of each row, "
                  f"{source}[np.arange(n), y] (a product with one-hot labels must then be summed "
                  f"over axis=1)")
    core.assert_close(function, got, want, what)  # reports the shape with its own hints


def _cross_entropy_inputs(n=6, num_classes=4, seed=0, label_dtype="int32"):
    """Random probabilities, then rows at the edges of the contract: the true class has
    probability 1e-30, 1e-8, 0.01 (exact losses 69.1, 18.4, 4.6) or exactly 0 (the loss is
    +inf, never clipped); in the last two rows every other class has probability exactly 0,
    as a stable softmax produces (the loss is finite: 0 and log 2). Then the edges whose
    losses are finite alone, where autograd's gradient must be finite too (spec step 10)."""
    rng = onp.random.default_rng(seed)
    y_hat = oracles.softmax(rng.normal(0, 1, (n, num_classes))).astype(onp.float32)
    labels = rng.integers(0, num_classes, n).astype(label_dtype)
    k, edges = num_classes, []
    for label, p in ((0, 1e-30), (k - 1, 1e-8), (1, 0.01), (0, 0.0)):
        row = onp.full(k, (1 - p) / (k - 1))
        row[label] = p
        edges.append((f"true-class probability {p:g}", row, label))
    certain, even = onp.zeros(k), onp.zeros(k)
    certain[k - 1], even[:2] = 1.0, 0.5
    edges += [("true-class probability 1, every other class exactly 0", certain, k - 1),
              ("true-class probability 0.5, the other 0.5 in one class, the rest exactly 0"
               if k > 2 else "two classes of probability 0.5", even, 1)]
    def edge_call(chosen, words):
        descriptions, rows, edge_labels = zip(*chosen)
        return spec.Call((onp.stack(rows).astype(onp.float32),
                          onp.array(edge_labels).astype(label_dtype)), words, list(descriptions))

    finite = [edge for edge in edges if edge[1][edge[2]] > 0]
    return [spec.Call((y_hat, labels), f"{n} examples, {num_classes} classes, labels "
                      f"{labels.tolist()}"),
            edge_call(edges, "the edges of the contract"),
            edge_call(finite, "the edges of the contract whose losses are finite")]


def _explain_cross_entropy(function, got, case, returned):
    """The mistakes on random probabilities; at the edges (the call's tag: the rows'
    descriptions), NaN, a clipped +inf, or a small probability's loss changed."""
    if case.tag is None:
        core.diagnose(function, got, case.expected, case.mistakes)
        core.assert_close(function, got, case.expected, "cross_entropy(y_hat, y)",
                          inputs=case.inputs)
        return
    y_hat, labels = case.args
    for r, (value, exact) in enumerate(zip(got, case.expected)):
        tried = f"row {r} of y_hat ({case.tag[r]}: {_row(y_hat[r])}, label {labels[r]})"
        if onp.isnan(value):
            core.fail(function, f"the loss is NaN for {tried}, expected {exact:.6g}: a log of 0 "
                      f"went into a product or a sum (0 * log(0) = 0 * (-inf) = NaN, and MXNet "
                      f"sums -inf to NaN), as with one-hot labels times np.log(y_hat). Take the "
                      f"log of the true class's probability alone, "
                      f"-np.log(y_hat[np.arange(n), y])")
        tolerance = core.ATOL + core.RTOL * exact   # +inf where the loss is +inf
        if value != exact and (onp.isinf(exact) or abs(value - exact) > tolerance):
            core.fail(function, f"the loss is {value:.6g} for {tried}, expected "
                      f"-log({y_hat[r, labels[r]]:g}) = {exact:.6g}: a probability clipped to a "
                      f"minimum (np.maximum, np.clip), an eps added (log(p + eps)) or an inf "
                      f"replaced changes the loss of a small probability (and of 0, +inf). Take "
                      f"-np.log of the probability as it is, never clipped: it is exact for every "
                      f"probability")


# cross_entropy(y_hat, y) = -log y_hat[i, y_i] per example, shape (n,), also at the edges.
cross_entropy_matches = spec.check(spec.Spec(
    name="cross_entropy", inputs=_cross_entropy_inputs, oracle=_cross_entropy,
    mistakes=cross_entropy_slips, forbidden=OPERATORS, what="cross_entropy(y_hat, y)",
    raised=_explain_broadcast, wrong=_explain_cross_entropy,
    result=functools.partial(_per_example, what="cross_entropy(y_hat, y)", source="y_hat"),
    passed="-log y_hat[i, y_i] for {n} examples, {label_dtype} labels; exact for true-class "
           "probabilities down to 1e-30, +inf at 0, finite where other classes are 0",
    differentiable=True))


def _logit_inputs(n=6, num_classes=5, scale=1.0, seed=0, label_dtype="int32"):
    rng = onp.random.default_rng(seed)
    O = rng.normal(0, scale, (n, num_classes)).astype(onp.float32)
    labels = rng.integers(0, num_classes, n).astype(label_dtype)
    return spec.Call((O, labels),
                     f"{n} examples, {num_classes} classes, logits ~ N(0, {scale:g}^2)")


def _explain_unstable_loss(function, got, case, returned):
    """Name the row whose loss is not finite and why, or a loss capped by clipping."""
    (O, labels), rows, want = case.args, case.tag, case.expected
    r, where = _bad_row(got, case)
    if r is not None:
        where = f"the loss is {where}, label {labels[r]}, exact loss {want[r]:.6g})"
        if O[r].max() > EXP_OVERFLOW and want[r] < 100:
            core.fail(function, f"{where}: exp(o) overflows float32 above exp({EXP_OVERFLOW:.1f}), "
                      f"so log(sum(exp(o))) is inf: {TRICK}; then every exp(o - m) is at most 1")
        if O[r].max() < -EXP_OVERFLOW:
            fix = SHIFT_EVERY_TIME if rows.alone else (
                "Each row needs its own maximum, m = O.max(axis=1, keepdims=True), not O.max()")
            core.fail(function, f"{where}: exp underflows to 0 for every logit of that row, so the "
                      f"log of the sum is log(0). {fix}: {TRICK}")
        core.fail(function, f"{where}: the probability of the true class, exp({-want[r]:.3g}), "
                  f"underflows to 0 in float32, so -log(softmax(O)[y]) = -log(0) = inf. Never "
                  f"take the log of a softmax: {TRICK} — it is exact whatever the logits")
    atol = core.ulp_tolerance(2 * rows.magnitude)
    saturated = onp.flatnonzero((want > 100) & (got < 0.5 * want))
    if saturated.size and not core.close(got, want, atol=atol):
        r = int(saturated[0])
        core.fail(function, f"row {r} ({rows.descriptions[r]}, label {labels[r]}): loss "
                  f"{got[r]:.6g}, expected {want[r]:.6g}. The loss of a confidently wrong "
                  f"prediction grows with the gap between the logits; a probability clipped to "
                  f"eps (or log(p + eps)) caps it: {TRICK}")
    core.assert_close(function, got, want, "softmax_cross_entropy(O, y)", atol=atol,
                      inputs=case.inputs, hint=TRICK)


LogitsLoss = functools.partial(
    spec.Spec, name="softmax_cross_entropy", oracle=_logits_loss, forbidden=OPERATORS,
    what="softmax_cross_entropy(O, y)", raised=_explain_broadcast, result=functools.partial(
        _per_example, what="softmax_cross_entropy(O, y)", source="O"))

# softmax_cross_entropy(O, y) = logsumexp(o_i) - o_i[y_i] for moderate logits.
softmax_cross_entropy_matches = spec.check(LogitsLoss(
    inputs=_logit_inputs, mistakes=softmax_cross_entropy_slips,
    passed="logsumexp(o_i) - o_i[y_i] for {n} examples, {num_classes} classes",
    differentiable=True))

# Finite and exact losses for logits up to `magnitude` (the log-sum-exp trick), also for a
# batch of one row of logits all far below 0.
softmax_cross_entropy_stable = spec.check(LogitsLoss(
    inputs=_large_logit_inputs(labelled=True), wrong=_explain_unstable_loss,
    passed="finite and exact for logits of magnitude up to {magnitude:g} (log-sum-exp), "
           "also for one row of negative logits alone"))


# --------------------------------------------------------------------------- gradient

def _gradient_inputs(n=5, num_classes=4, scale=1.0, seed=0):
    """Logits with a repeated label (which tells G[:, y] from G[np.arange(n), y]), then one
    example of 2 classes labelled 0: the smallest batch, the fewest classes, and labels
    whose largest value is not the last class."""
    rng = onp.random.default_rng(seed)
    O = rng.normal(0, scale, (n, num_classes)).astype(onp.float32)
    labels = rng.integers(0, num_classes, n).astype(onp.int32)
    labels[-1] = labels[0]
    one = onp.random.default_rng(seed).normal(0, 1, (1, 2)).astype(onp.float32)
    return [spec.Call((O, labels), f"O of shape {O.shape}, labels {labels.tolist()}"),
            spec.Call((one, onp.zeros(1, dtype=onp.int32)), ONE_EXAMPLE.format(_row(one))),
            spec.Call((O, labels.astype(onp.int64)),
                      f"O of shape {O.shape}, int64 labels {labels.tolist()}")]


def _explain_gradient_error(function, failure, case):
    """A failed broadcast, or int64 labels combined with an int32 array."""
    _explain_broadcast(function, failure, case)
    if case.args[1].dtype == onp.int64 and "Type inconsistent" in str(failure):
        raise core.CheckFailure(
            f"{failure}. Hint: for {case.inputs}, MXNet combines only integer arrays of the same "
            f"dtype, and int64 labels are valid: build the one-hot labels from y as given, "
            f"np.eye(O.shape[1])[y], or subtract 1 in place, G[np.arange(O.shape[0]), y] -= 1, "
            f"not with an int32 np.arange") from None


def _explain_gradient(function, got, case, returned):
    core.diagnose(function, got, case.expected, case.mistakes)
    core.assert_close(function, got, case.expected, "the gradient", inputs=case.inputs,
                      hint="each row of softmax(O) - onehot(y) sums to 0")


def _explain_unstable_gradient(function, got, case, returned):
    r, where = _bad_row(got, case)
    if r is not None:
        core.fail(function, f"the gradient contains {where}): softmax(O) is not finite there. "
                  f"Compute it stably — subtract each row's maximum before exp — e.g. with your "
                  f"softmax")
    core.assert_close(function, got, case.expected, "the gradient",
                      atol=core.ulp_tolerance(case.tag.magnitude), inputs=case.inputs)


Gradient = functools.partial(
    spec.Spec, name="softmax_cross_entropy_grad", oracle=_loss_gradient,
    forbidden=core.HAND_DERIVED, what="the gradient", shape=lambda O, y: O.shape,
    shape_hint="one partial derivative per logit, the shape of O", raised=_explain_broadcast)

# softmax_cross_entropy_grad(O, y) = softmax(O) - onehot(y), by hand (no autograd).
softmax_cross_entropy_grad_matches = spec.check(Gradient(
    inputs=_gradient_inputs, mistakes=gradient_slips, wrong=_explain_gradient,
    raised=_explain_gradient_error,
    passed="softmax(O) - onehot(y) for {n} examples, {num_classes} classes, and for one "
           "example of 2 classes, also with int64 labels"))

# The gradient is finite and exact for logits up to `magnitude`.
softmax_cross_entropy_grad_stable = spec.check(Gradient(
    inputs=_large_logit_inputs(labelled=True, calls=1), wrong=_explain_unstable_gradient,
    passed="finite and exact for logits of magnitude up to {magnitude:g}"))


# --------------------------------------------------------------------------- accuracy

def _right_count(n):
    """How many of accuracy_counts' n random rows have the label of their argmax."""
    return max(1, (2 * n) // 3)


def _tied_rows(num_classes):
    """(descriptions, scores, labels) of rows whose largest entry is tied: the argmax of a
    tie is its first index (NumPy's rule), so a row of equal scores is correct only for
    label 0. The counts of a tie taken as right (5), as wrong (0) and of a tie broken at
    its last index (2) all differ from the right one (3, or 2 for 2 classes)."""
    k = num_classes
    uniform = onp.full(k, 1 / k)
    rows = [("equal scores", uniform, 0), ("equal scores", uniform, 0),
            ("equal scores", uniform, k - 1)]
    if k > 2:
        pair = onp.full(k, 0.2 / (k - 2))
        pair[1:3] = 0.4
        rows += [("a tie of columns 1 and 2", pair, 2), ("a tie of columns 1 and 2", pair, 1)]
    scores = onp.stack([r for _, r, _ in rows]).astype(onp.float32)
    return [d for d, _, _ in rows], scores, onp.array([label for _, _, label in rows])


def _accuracy_inputs(n=10, num_classes=4, seed=0, label_dtype="int32", logits=False):
    """Scores (probabilities, or logits) whose argmax is the label in _right_count(n) rows,
    then the tied rows (the call's tag: their descriptions)."""
    rng = onp.random.default_rng(seed)
    scores = rng.normal(0, 1, (n, num_classes))
    scores = (scores if logits else oracles.softmax(scores)).astype(onp.float32)
    predicted = _predicted_classes(scores)
    right = rng.permutation(n)[:_right_count(n)] if n > 1 else onp.array([0])
    labels = (predicted + rng.integers(1, num_classes, n)) % num_classes
    labels[right] = predicted[right]
    descriptions, tied, tie_labels = _tied_rows(num_classes)
    return [spec.Call((scores, labels.astype(label_dtype)), f"{n} rows"),
            spec.Call((tied, tie_labels.astype(label_dtype)), "tied rows", descriptions)]


def _explain_accuracy_error(accuracy, failure, case):
    """Hints for a failed broadcast or comparison of the predictions with the labels."""
    mxnet_error = str(failure).partition("MXNetError")[2]   # not the student's line
    y_hat, labels = case.args
    if "could not be broadcast" in mxnet_error:
        raise core.CheckFailure(
            f"{failure}. Hint: y_hat has one row per example; argmax(axis=0) gives one index per "
            f"column ({y_hat.shape[1]} of them), argmax(axis=1) one per row ({y_hat.shape[0]}), "
            f"which is what y labels") from None
    if "Type inconsistent" in mxnet_error or "dtype" in mxnet_error.lower():
        raise core.CheckFailure(
            f"{failure}. Hint: argmax returns int64 indices but the labels are {labels.dtype}; "
            f"MXNet compares only equal types: y_hat.argmax(axis=1).astype(y.dtype) == y"
        ) from None


def _explain_count(accuracy, got, case, returned):
    """A fraction, the wrong predictions, another count; on the tied rows, the rule."""
    scores, labels = case.args
    n, want = len(labels), case.expected
    if case.tag is not None:
        tried = "; ".join(dict.fromkeys(f"{d} {_row(s, limit=4)} with label {label}"
                                        for d, s, label in zip(case.tag, scores, labels)))
        counted = {float(n): "counts every tie with the label as correct",
                   0.0: "counts every tie as wrong"}.get(got, "does not break ties at the "
                                                             "first index")
        core.fail(accuracy, f"returned {got:g} for {n} rows whose largest scores are tied "
                  f"({tried}), expected {want:g}: it {counted}. The predicted class of a tie is "
                  f"its first index, as y_hat.argmax(axis=1) gives, so a row of equal scores "
                  f"counts only for label 0: compare y_hat.argmax(axis=1) with y, not the label's "
                  f"score with the row's maximum")
    if n > 1 and abs(got - want / n) < 1e-6:
        core.fail(accuracy, f"returned {got:g}, the fraction of correct predictions "
                  f"({int(want)}/{n}); expected the NUMBER of correct predictions, {want:g}: the "
                  f"caller divides the total count by the number of examples once, over many "
                  f"batches")
    if abs(got - (n - want)) < 1e-6 and n != 2 * want:
        core.fail(accuracy, f"returned {got:g}, the number of WRONG predictions; expected "
                  f"{want:g}, the rows whose argmax equals the label")
    predicted = _predicted_classes(scores)
    r = int(onp.flatnonzero(predicted == labels)[0])
    core.fail(accuracy, f"returned {got:g}, expected {want:g}: {int(want)} of the {n} rows have "
              f"their largest entry at the label (e.g. row {r}: argmax {predicted[r]} = label "
              f"{labels[r]}). Compare the predicted classes y_hat.argmax(axis=1) with y, then "
              f"count the matches with .sum()")


# accuracy(y_hat, y) = the number of rows whose argmax is the label, a Python float.
accuracy_counts = spec.check(spec.Spec(
    name="accuracy", inputs=_accuracy_inputs, oracle=_correct_count,
    result="float", what="the number of correct predictions", rtol=0.0, atol=0.0,
    raised=_explain_accuracy_error, wrong=_explain_count,
    passed=lambda n, num_classes, seed, label_dtype, logits: (
        f"counts {_right_count(n)} correct rows of {n} ({label_dtype} labels), a tie for its "
        f"first index")))


# --------------------------------------------------------------------------- softmax_regression

# The model's last calls: the first example alone (a batch of one), and again with W with
# a constant added to column 0, so that the logit of that class reaches about LARGE_LOGIT
# (exp overflows float32 above EXP_OVERFLOW) far above the others (the probabilities are 0
# and 1 exactly in float32, and so is their gradient).
LARGE_LOGIT = 200.0


def _model_inputs(shape=(4, 1, 28, 28), num_outputs=10, seed=0):
    """Images in [0, 1) of `shape`, W ~ N(0, 0.1^2) for the flattened examples, b ~ N(0, 1);
    then the first example alone, with W and with large logits for class 0."""
    rng = onp.random.default_rng(seed)
    images = rng.uniform(0, 1, shape).astype(onp.float32)
    pixels = int(onp.prod(shape[1:]))
    W = rng.normal(0, 0.1, (pixels, num_outputs)).astype(onp.float32)
    b = rng.normal(0, 1.0, num_outputs).astype(onp.float32)
    large, added = W.copy(), 2 * LARGE_LOGIT / pixels   # pixels average 0.5
    large[:, 0] += added
    first = images[:1]
    logit = float((first.reshape(1, -1) @ large + b)[0, 0])
    return [(images, W, b), spec.Call((first, W, b), "a batch of one example"),
            spec.Call((first, large, b), f"one example, W with {added:.3g} added to column 0: "
                                         f"a logit of {logit:.0f} for class 0, far above the "
                                         f"others")]


MODEL = "softmax_regression(X, W, b) for X of shape {0.shape}"


def _explain_model_error(softmax_regression, failure, case):
    """The failure of a model that works on flattened inputs only, or reshapes to 784."""
    if "not implemented yet" in str(failure):
        return
    failure = core.CheckFailure(f"{failure}{_broadcast_hint(str(failure))}")
    images, W, b = case.args
    if images.ndim > 2:
        flat = images.reshape(images.shape[0], -1)
        try:
            core.call(softmax_regression, np.array(flat), np.array(W), np.array(b))
        except core.CheckFailure:
            pass
        else:
            core.fail(softmax_regression, f"works on flattened inputs of shape {flat.shape} but "
                      f"not on X of shape {images.shape}: {str(failure).split(': ', 1)[-1]}. "
                      f"Flatten each example into a row first: X.reshape(-1, W.shape[0])")
    if "Cannot reshape" in str(failure):
        raise core.CheckFailure(
            f"{failure}. Hint: W has shape {W.shape}, so each example has W.shape[0] = "
            f"{W.shape[0]} values: reshape with X.reshape(-1, W.shape[0]), not a fixed 784 (the "
            f"check also tries other sizes)") from None
    raise failure from None


def _explain_model(softmax_regression, got, case, returned):
    """Rows that do not sum to 1, a catalogued mistake, else the worst entry, within the
    float32 error of X W + b (8 sqrt(d) ulps of sum |x_j w_j| + |b|)."""
    X, W, b = (a.astype(onp.float64) for a in case.args)
    X = X.reshape(len(X), -1)
    if not onp.isfinite(got).all():
        logits = X @ W + b
        r = int(onp.flatnonzero(~onp.isfinite(got.reshape(len(got), -1)).all(axis=1))[0])
        given = f" ({case.inputs})" if case.inputs else ""
        core.fail(softmax_regression, f"{MODEL.format(case.args[0])}{given} returned "
                  f"{_kind(got[r])} in row {r}, whose logits X W + b range from "
                  f"{logits[r].min():.4g} to {logits[r].max():.4g}: exp overflows float32 above "
                  f"exp({EXP_OVERFLOW:.1f}) = 3.4e38 and inf/inf = NaN. The probabilities are "
                  f"softmax(X.reshape(-1, W.shape[0]) @ W + b), with a softmax that subtracts "
                  f"each row's maximum before exp (your softmax's own tests check that it does)")
    magnitude = float((onp.abs(X) @ onp.abs(W) + onp.abs(b)).max())
    rtol = max(core.RTOL, 8 * math.sqrt(X.shape[1]) * core.FLOAT32_EPS * magnitude)
    rows, logits = got.sum(axis=1), case.mistakes[1][0]
    if (onp.isfinite(rows).all() and not onp.allclose(rows, 1, atol=1e-4)
            and not core.close(got, logits, rtol=1e-3, atol=1e-4)):
        (r,) = core.worst(onp.abs(rows - 1))
        core.fail(softmax_regression, f"row {r} of the result sums to {rows[r]:.6g}, but each row "
                  f"holds the class probabilities of one example and must sum to 1: softmax must "
                  f"be the last step, applied to the whole logits X W + b (if it is, your "
                  f"softmax's own tests say more)")
    core.diagnose(softmax_regression, got, case.expected, case.mistakes, rtol=rtol)
    core.assert_close(softmax_regression, got, case.expected, MODEL.format(case.args[0]),
                      rtol=rtol, hint="the probabilities are softmax(X.reshape(-1, W.shape[0]) "
                                      "@ W + b), one row per example")


# softmax_regression(X, W, b) = softmax(X.reshape(-1, W.shape[0]) @ W + b).
softmax_regression_matches = spec.check(spec.Spec(
    name="softmax_regression", inputs=_model_inputs, oracle=_class_probabilities,
    mistakes=model_slips, what=MODEL, shape=lambda X, W, b: (X.shape[0], W.shape[1]),
    raised=_explain_model_error, wrong=_explain_model,
    transposed="{what} has shape {got}, expected {want}: it is transposed, one column per "
               "example. Keep one row per example: compute X.reshape(-1, W.shape[0]) @ W + b "
               "and do not transpose it",
    shape_hint="one row of {1.shape[1]} class probabilities per example; flatten X with "
               "X.reshape(-1, W.shape[0])",
    shape_mistakes=lambda got, case: (
        f"for a batch of one example, X of shape {case.args[0].shape}, the result has shape "
        f"{got}, expected {(1, case.args[1].shape[1])}: one row per example, also when there "
        f"is one. Keep the batch axis: no .squeeze() or [0], X.reshape(-1, W.shape[0]) keeps it"
        if len(case.args[0]) == 1 and got == (case.args[1].shape[1],) else None),
    passed=lambda shape, num_outputs, seed: (
        f"softmax(X W + b) for X of shape {shape}, W of shape "
        f"{(int(onp.prod(shape[1:])), num_outputs)}, also for logits in the hundreds and a "
        f"batch of one"), differentiable=True))


# --------------------------------------------------------------------------- training

def sorted_subset(count):
    """The first `count` Fashion-MNIST training images, flattened and sorted by label."""
    images, labels = fashion_mnist_arrays("train")
    order = onp.argsort(labels[:count], kind="stable")
    return images[:count][order].reshape(count, -1), labels[:count][order]


def evaluate(logits):
    """(accuracy, predicted classes) of the model whose logits for the 10,000 test images,
    core.fashion_mnist_features("test") in order, are `logits`. Code, not an oracle: the
    trainers' checks of 04 and 05 judge trained parameters with it."""
    predictions = logits.argmax(axis=1)
    return float((predictions == core.fashion_mnist_features("test")[1]).mean()), predictions


def _parameters(function, value):
    """(W, b) as float64 arrays of shapes (784, 10) and (10,), or fail saying why not."""
    W, b = spec.pair(function, value, "(W, b)")
    core.expect_array(function, W, "W")
    core.expect_array(function, b, "b")
    core.expect_array(function, W, "W", (NUM_PIXELS, NUM_CLASSES), (
        f"the model computes X @ W with one row of {NUM_PIXELS} pixels per example"
        if tuple(W.shape) == (NUM_CLASSES, NUM_PIXELS) else "one column of weights per class"))
    if tuple(b.shape) not in ((NUM_CLASSES,), (1, NUM_CLASSES)):
        core.fail(function, f"b has shape {tuple(b.shape)}, expected ({NUM_CLASSES},): one bias "
                  f"per class")
    W, b = core.to_numpy(W), core.to_numpy(b).reshape(-1)
    for name, array in (("W", W), ("b", b)):
        if not onp.isfinite(array).all():
            core.fail(function, f"the trained {name} contains {_kind(array)}: a NaN or Inf "
                      f"entered the training. Usual causes: a division by zero (e.g. "
                      f"standardising the pixels: the black border pixels have standard "
                      f"deviation 0; use them as given, in [0, 1]), the log of a softmax (use "
                      f"softmax_cross_entropy on the logits), or steps that blow up (divide the "
                      f"summed gradient by the batch size)")
    return W, b


def _predictions(function, value, X):
    """The classes that the (W, b) returned by `function` predicts for the images X."""
    W, b = _parameters(function, value)
    return (X @ W + b).argmax(axis=1)


def _trained(function, X, y, seed, **settings):
    """(accuracy, predictions) on the test images of the (W, b) trained on (X, y)."""
    W, b = _parameters(function, core.call(function, X, y, seed=seed, **settings))
    return evaluate(core.fashion_mnist_features("test")[0] @ W + b)


def _probe(function, seed):
    """(what core's trainer probe returned, None if it raised; the margin of its b)."""
    returned = []
    margin = core.probe_margin(function, lambda value: returned.append(value) or value[1], seed)
    return (returned[0] if returned else None), margin


def _probe_first(function, seed, setting):
    """Before the long training on `setting`: fail at once if the 2-step probe returns
    something other than (W, b) or shows a wrong update; then core's trainer gates (lr,
    num_epochs and batch_size are used, relabelled data are learnt as relabelled)."""
    value, margin = _probe(function, seed)
    if value is not None:
        _parameters(function, value)
    why = core.probe_explanation(margin, "b", "W[:] = W - lr * W.grad / batch_size, and the "
                                              "same for b")
    if why:
        core.fail(function, f"the update is wrong, so the training on {setting} was skipped.{why}")
    core.trainer_gates(function, lambda value: value[1], "b", functools.partial(
        _predictions, function), seed)


# Plain SGD ends where its last noisy steps leave it: over 20 grader seeds the plain-SGD
# alternatives reached 82.7-83.6 %, and 80.4 % on one (benchmarks/seed_robustness.py). A
# run that misses the bar by at most NEAR_MISS gets a second, independent one; the better
# counts (the catalogue's wrong trainers that get this far miss it by 12 points).
NEAR_MISS = 0.05


def train_reaches_test_accuracy(train_softmax_regression, num_epochs=10, lr=0.1,
                                batch_size=256, threshold=0.80, count=None, seed=0):
    """Train on Fashion-MNIST (the first `count` examples, or all 60,000); the returned
    (W, b) must classify the test images with accuracy >= `threshold`. Plain minibatch SGD
    reaches 0.826-0.836 with the contract's defaults, the reference 0.84; a 2-step probe
    fails a wrong update first, in a fraction of a second."""
    function, settings = train_softmax_regression, dict(num_epochs=num_epochs, lr=lr,
                                                        batch_size=batch_size)
    setting = (f"{f'the first {count}' if count else 'all 60000'} training images with "
               f"num_epochs={num_epochs}, lr={lr:g}, batch_size={batch_size}")
    _probe_first(function, seed, setting)
    X, y = core.fashion_mnist("train", count)
    accuracy = _trained(function, X, y, seed, **settings)[0]
    if threshold - NEAR_MISS <= accuracy < threshold:
        accuracy = max(accuracy, _trained(function, X, y, seed + core.RETRY_SEED, **settings)[0])
    if accuracy < threshold:
        core.fail(function, f"trained on {setting}, the model classifies {accuracy:.1%} of the "
                  f"test images correctly; a correct trainer reaches at least {threshold:.0%}. "
                  f"Check the update (param - lr * param.grad / batch_size, with the batch's own "
                  f"size), that every epoch visits every example once, that `return W, b` comes "
                  f"after both loops, and that num_epochs, lr and batch_size are used")
    core.passed(function, f"test accuracy {accuracy:.1%} >= {threshold:.0%} after training on "
                f"{setting}")


def train_handles_sorted_data(train_softmax_regression, count=3000, threshold=0.60, seed=0,
                              num_epochs=3, lr=0.1, batch_size=64):
    """Train on `count` flattened images sorted by label: a trainer that visits them in the
    order given sees only ankle boots at the end of every epoch and forgets the rest."""
    function = train_softmax_regression
    setting = (f"{count} flattened images ({count} x {NUM_PIXELS}) sorted by label, "
               f"num_epochs={num_epochs}, lr={lr}, batch_size={batch_size}")
    _probe_first(function, seed, setting)
    images, labels = sorted_subset(count)
    accuracy, predictions = _trained(function, np.array(images), np.array(labels, dtype="int32"),
                                     seed, num_epochs=num_epochs, lr=lr, batch_size=batch_size)
    if accuracy < threshold:
        shares = onp.bincount(predictions, minlength=NUM_CLASSES) / len(predictions)
        last = int(labels[-1])
        if shares[last] > 0.25:
            core.fail(function, f"trained on {setting}, the model predicts the class seen last "
                      f"(label {last}) for {shares[last]:.0%} of the test images and gets "
                      f"{accuracy:.1%} right; expected at least {threshold:.0%}. Your minibatches "
                      f"follow the order of the data: draw a new random order of the examples "
                      f"every epoch (indices = np.arange(n); np.random.shuffle(indices))")
        core.fail(function, f"trained on {setting}, the model classifies {accuracy:.1%} of the "
                  f"test images correctly; expected at least {threshold:.0%}. Shuffle the "
                  f"examples every epoch, use every example once per epoch (the last batch has "
                  f"{count % batch_size} examples), make sure `return W, b` comes after both "
                  f"loops, and use num_epochs, lr and batch_size")
    core.passed(function, f"test accuracy {accuracy:.1%} >= {threshold:.0%} after training on "
                f"{setting}")
