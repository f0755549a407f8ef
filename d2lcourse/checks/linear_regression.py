"""Checks of assignment 02, linear regression from scratch (``linear_regression.ipynb``).

linreg, squared_loss, sgd and closed_form are specs (:mod:`checks.spec`); the statistics
of synthetic_data's draws, data_iter's batches and training are hand-written. A statistic
rejects only beyond ``Z`` standard errors: a correct solution fails with probability below
1e-8 per statistic.
"""
import itertools
import math

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, draws, spec

Z = 6.0             # standard errors a statistic may be off before a check rejects it
NOISE_STD = 0.01    # label noise of synthetic_data (COURSE_CONTRACT.md)
INIT_STD = 0.01     # w ~ N(0, 0.01^2) at the start of train_linear_regression (contract)
TRUE_W = (2.0, -3.4)
TRUE_B = 4.2
X_DRAW = "np.random.normal(0, 1, (num_examples, len(w)))"
NOISE_DRAW = "np.random.normal(0, 0.01, y.shape)"


def _count(n, noun):
    """'1 batch', '3 batches'."""
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("ch") else "s")


def _fmt(values):
    """A float64 vector in short: [2, -3.4]."""
    return "[" + ", ".join(f"{v:.4g}" for v in onp.ravel(values)) + "]"


def _design(X):
    return onp.hstack([X, onp.ones((X.shape[0], 1))])


def regression_data(num_examples, w, b, seed, x_mean=0.0, noise=NOISE_STD):
    """(X, y) as float32 mxnet arrays, y = X w + b + noise of shape (n, 1): the check's
    own data, independent of the student's synthetic_data."""
    rng = onp.random.default_rng(seed)
    w = onp.asarray(w, dtype=onp.float64).reshape(-1, 1)
    X = rng.normal(x_mean, 1.0, (num_examples, len(w)))
    y = _linear(X, w, b) + rng.normal(0.0, noise, (num_examples, 1))
    return np.array(X.astype(onp.float32)), np.array(y.astype(onp.float32))


@core.oracle
def _linear(X, w, b):
    return X @ w + b


@core.oracle
def _least_squares(X, y):
    """theta = (w; b) minimising ||[X, 1] theta - y||^2: closed_form's answer."""
    return onp.linalg.lstsq(_design(X), y.reshape(-1), rcond=None)[0]


@core.oracle
def _least_squares_mistakes(X, y):
    """closed_form without the column of ones: (w; 0), w minimising ||X w - y||^2."""
    w = onp.linalg.lstsq(X, y.reshape(-1), rcond=None)[0]
    return [(onp.append(w, 0.0), f"closed_form ignores the bias: b = 0, expected "
             f"{_least_squares(X, y)[-1]:.4g}. Solve the normal equations on A = [X, 1], X with "
             "a column of ones appended, so that b is fitted together with w")]


# --------------------------------------------------------------------------- synthetic_data

# Noise of the wrong standard deviation, as students draw it: [(its std, the advice)].
NOISE_MISTAKES = [
    (0.0, f"y has no noise: add {NOISE_DRAW}"),
    (NOISE_STD ** 2, "0.0001 = 0.01**2 is the variance: np.random.normal takes the standard "
                     f"deviation, {NOISE_DRAW}"),
    (math.sqrt(NOISE_STD), "0.1 = sqrt(0.01): 0.01 is already the standard deviation, "
                           f"{NOISE_DRAW}"),
    (1.0, f"that is the default scale 1: pass the standard deviation, {NOISE_DRAW}"),
]


def synthetic_data_statistics(synthetic_data, w=TRUE_W, b=TRUE_B, num_examples=4000, seed=0):
    """Shapes, X ~ N(0, 1) and y = X w + b + N(0, 0.01^2) judged from the sample, and
    fresh draws at every call."""
    true_w = onp.asarray(w, dtype=onp.float32)
    n, d = num_examples, len(true_w)
    X, y = spec.pair(synthetic_data, core.call(synthetic_data, np.array(true_w), b, n, seed=seed),
                     "(X, y)")
    inputs = f"w={_fmt(true_w)}, b={b}, num_examples={n}"
    core.expect_float_array(synthetic_data, X, "X", (n, d),
                            hint="one row per example, one column per entry of w")
    core.expect_float_array(synthetic_data, y, "y", (n, 1), hint={  # what y of a wrong shape did
        (n,): "return y.reshape((-1, 1)), a column of labels like the predictions X w of shape "
              "(n, 1)",
        (n, n): "an (n,) array plus an (n, 1) array broadcasts to (n, n). Draw the noise in the "
                f"shape of X w ({NOISE_DRAW}), then reshape y to (-1, 1)",
    }.get(tuple(getattr(y, "shape", ()))))
    Xs, ys = core.to_numpy(X), core.to_numpy(y)[:, 0]
    std = onp.nan   # NaN or Inf: core.passed fails with core.call's message
    if onp.isfinite(Xs).all() and onp.isfinite(ys).all():
        std = _judge_sample(synthetic_data, Xs, ys, true_w.astype(onp.float64), b, inputs)
        _judge_fresh_draws(synthetic_data, true_w, b, seed)
    core.passed(synthetic_data, f"shapes ({n}, {d}) and ({n}, 1), X ~ N(0, 1), y = X w + b "
                                f"+ noise with std {std:.4f} for {inputs}, both normal by "
                                f"Kolmogorov-Smirnov, fresh at every call")


def _judge_sample(synthetic_data, X, y, w, b, inputs):
    """X ~ N(0, 1) with independent entries, and y - (X w + b) ~ N(0, 0.01^2); returns the
    noise's standard deviation. A column mean has standard error 1/sqrt(n), a variance
    sqrt(2/n); the fit of y on [X, 1] recovers (w, b) to within 0.01 sqrt(diag((A^T A)^-1))
    and the noise's standard deviation to within 0.01/sqrt(2n)."""
    n, d = X.shape
    mean_limit, variance_limit = Z / math.sqrt(n), Z * math.sqrt(2 / n)
    for j, (mean, variance) in enumerate(zip(X.mean(axis=0), X.var(axis=0))):
        if abs(mean - 0.5) < 0.05 and abs(variance - 1 / 12) < 0.02:
            core.fail(synthetic_data, f"column {j} of X looks uniform on [0, 1) (mean {mean:.3f}, "
                      f"variance {variance:.3f}): draw X from the normal distribution, {X_DRAW}")
        if abs(mean) > mean_limit:
            core.fail(synthetic_data, f"column {j} of X has mean {mean:.4f}, expected 0 (to "
                      f"within {mean_limit:.3f} for {n} examples): X ~ N(0, 1)")
        if abs(variance - 1) > variance_limit:
            core.fail(synthetic_data, f"column {j} of X has variance {variance:.4f}, expected 1 "
                      f"(to within {variance_limit:.3f}): X ~ N(0, 1), {X_DRAW}")
    correlation = onp.corrcoef(X, rowvar=False).reshape(d, d)
    j, k = onp.unravel_index(int(onp.argmax(onp.abs(correlation - onp.eye(d)))), (d, d))
    if abs(correlation[j, k] - (j == k)) > mean_limit:
        core.fail(synthetic_data, f"columns {j} and {k} of X are correlated (r = "
                  f"{correlation[j, k]:.3f}): draw every entry of X independently")
    # The fitted (w, b) are judged first, with standard errors from the noise found, so
    # that a wrong w is not reported as wrong noise (or the other way round).
    A = _design(X)
    theta = onp.linalg.lstsq(A, y, rcond=None)[0]
    noise = y - A @ theta
    std = math.sqrt(noise @ noise / (n - d - 1))
    limits = Z * max(std, NOISE_STD) * onp.sqrt(onp.diag(onp.linalg.inv(A.T @ A))) + core.ATOL
    if (onp.abs(theta[:-1] - w) > limits[:-1]).any():
        core.fail(synthetic_data, f"y depends on X through the weights {_fmt(theta[:-1])}, "
                  f"expected w = {_fmt(w)} ({inputs}): compute y = np.dot(X, w) + b + noise from "
                  "the X you return")
    if abs(theta[-1] - b) > limits[-1]:
        missing = "y misses the bias: " if abs(theta[-1]) < limits[-1] else ""
        core.fail(synthetic_data, f"y = X w + c + noise with c = {theta[-1]:.4f}, expected the "
                  f"bias b = {b} ({inputs}): {missing}y = X w + b + noise")
    within = Z * NOISE_STD / math.sqrt(2 * (n - d - 1))
    if abs(std - NOISE_STD) > within:
        said = (f"the noise y - (X w + b) has standard deviation {std:.4g}, expected 0.01 "
                f"(to within {within:.1e}, for {inputs}): ")
        core.diagnose(synthetic_data, std, NOISE_STD, NOISE_MISTAKES, rtol=0.2, atol=1e-6,
                      context=said)
        core.fail(synthetic_data, f"{said}draw it with {NOISE_DRAW}")
    # Beyond the moments, the distributions by their Kolmogorov-Smirnov distance: float32
    # rounding of y moves each value by at most `rounding`, which shifts the noise's
    # distribution function by at most rounding times N(0, 0.01^2)'s largest density.
    rounding = 4 * (d + 2) * core.FLOAT32_EPS * float(
        (onp.abs(X) @ onp.abs(w) + abs(b) + onp.abs(y)).max())
    for samples, scale, what, slack, fix in (
            (X, 1.0, "the entries of X", 0.0, f"Draw X with {X_DRAW}"),
            (y - (X @ w + b), NOISE_STD, "the noise values y - (X w + b)",
             rounding / (NOISE_STD * math.sqrt(2 * math.pi)), f"Draw the noise with {NOISE_DRAW}")):
        draws.judge_normal(synthetic_data, samples, scale, f"{what} ({inputs})", fix, FALSE_ALARM,
                           slack)
    return std


# Power: uniform features of variance 1 lie 0.057 from N(0, 1); the notebook's 8000 entries of X
# (limit 0.030) miss them with probability < 2e-5 (benchmarks/distributions.py measures it).
FALSE_ALARM = 1e-6   # the largest false-alarm rate of a distribution test (the contract)
FRESH_EXAMPLES = 20   # examples drawn by each call of the freshness check


def _judge_fresh_draws(synthetic_data, w, b, seed):
    """Two calls draw different X and noise, the grader's seed of MXNet's generator repeats
    a call (with NumPy's and Python's seeded otherwise): numbers come from MXNet's global
    generator, never reseeded (COURSE_CONTRACT.md)."""
    def draw(call_seed):
        X, y = (core.to_numpy(a) for a in spec.pair(synthetic_data, core.call(
            synthetic_data, np.array(w), b, FRESH_EXAMPLES, seed=call_seed), "(X, y)"))
        return X, y.reshape(-1) - (X @ w.astype(onp.float64) + b)

    (X, noise), (X_next, noise_next), (X_again, noise_again) = (
        draw(seed), draw(None), draw((seed, seed + 1)))
    inputs = f"num_examples={FRESH_EXAMPLES}"
    if onp.array_equal(X, X_next):
        core.fail(synthetic_data, f"two calls in a row returned the same X ({inputs}): the "
                  "function seeds the generator itself. Draw fresh numbers at every call from "
                  "MXNet's global generator (np.random.normal) and never call a seed function: "
                  "the caller decides the seed")
    if onp.allclose(noise, noise_next, rtol=0.0, atol=1e-6):
        core.fail(synthetic_data, "two calls in a row added the same noise y - (X w + b) "
                  f"({inputs}): draw it fresh at every call, {NOISE_DRAW}, from MXNet's global "
                  "generator and without a seed of your own")
    if not (onp.array_equal(X, X_again) and onp.allclose(noise, noise_again, rtol=0.0, atol=1e-6)):
        core.fail(synthetic_data, "the same seed of MXNet's generator gave different data "
                  f"({inputs}): draw from MXNet's global generator (np.random.normal), which the "
                  "caller seeds, not from a generator of your own")


# --------------------------------------------------------------------------- data_iter

def _read_batches(data_iter, batch_size, num_examples, seed, flat_labels, example_shape=(3,),
                  call_seed=None):
    """Call data_iter once on features whose first entry is the example's index, each example
    of `example_shape` (an image: (1, 2, 2)); check that every batch pairs rows of features
    with their labels. Returns each batch's indices. The generators are seeded with `seed`,
    or with `call_seed` (core.seeded's) where given."""
    rng = onp.random.default_rng(seed)
    features = onp.hstack([onp.arange(num_examples, dtype=onp.float64)[:, None],
                           rng.normal(0, 1, (num_examples, math.prod(example_shape) - 1))]
                          ).astype(onp.float32)
    labels = rng.normal(0, 1, (num_examples,) if flat_labels else (num_examples, 1)
                        ).astype(onp.float32)
    value = core.call(data_iter, batch_size,
                      np.array(features.reshape((num_examples, *example_shape))),
                      np.array(labels), seed=seed if call_seed is None else call_seed)
    inputs = f"batch_size={batch_size}, {num_examples} examples"
    if value is None:
        core.fail(data_iter, "returned None, expected a generator: write the loop with "
                  "`yield X_batch, y_batch` for each minibatch")
    if not isinstance(value, core.GeneratorResult):
        core.fail(data_iter, f"returned {core.type_name(value)}, expected a generator: instead "
                  "of collecting the batches, `yield X_batch, y_batch` inside the loop, so that "
                  "each minibatch is made when needed")
    if not value:
        core.fail(data_iter, f"yielded no batch at all ({inputs})")
    batches = []
    for k, item in enumerate(value):
        X, y = spec.pair(data_iter, item, "(X_batch, y_batch)")
        core.expect_array(data_iter, X, f"X_batch of batch {k}")
        core.expect_array(data_iter, y, f"y_batch of batch {k}")
        if tuple(X.shape[1:]) != example_shape:
            kept = "" if len(example_shape) == 1 else (
                f", here of shape ({num_examples}, {str(example_shape)[1:-1]}): index the "
                "examples, features[batch_indices], which keeps each example's shape; do not "
                "flatten them")
            core.fail(data_iter, f"X_batch of batch {k} has shape {tuple(X.shape)}, expected "
                      f"(batch, {str(example_shape)[1:-1].rstrip(',')}): rows of features{kept}")
        m = X.shape[0]
        if m == 0:
            core.fail(data_iter, f"batch {k} is empty ({inputs}): yield only batches that hold "
                      "examples")
        if tuple(y.shape) != (m,) + labels.shape[1:]:
            core.fail(data_iter, f"y_batch of batch {k} has shape {tuple(y.shape)}, expected "
                      f"{(m,) + labels.shape[1:]} (the labels of its {m} rows, indexed like the "
                      "features)")
        Xb, yb = core.to_numpy(X).reshape(m, -1), core.to_numpy(y)
        ids = onp.rint(Xb[:, 0]).astype(int)
        valid = (ids >= 0) & (ids < num_examples) & (onp.abs(Xb[:, 0] - ids) == 0)
        valid[valid] &= (Xb[valid] == features[ids[valid]]).all(axis=1)
        if not valid.all():
            core.fail(data_iter, f"row {int(onp.argmin(valid))} of X_batch of batch {k} is not a "
                      f"row of features ({inputs}): index the features, `features[batch_indices]`")
        paired = (yb == labels[ids]).reshape(m, -1).all(axis=1)
        if not paired.all():
            r = int(onp.argmin(paired))
            core.fail(data_iter, f"batch {k} pairs row {r} of X (example {ids[r]}) with a label "
                      f"that is not example {ids[r]}'s ({inputs}): index features and labels "
                      "with the same batch_indices")
        batches.append(ids)
    return batches


# (batch_size, num_examples) tried after the cell's own: batches of one example, and a
# last batch of one example.
EXTRA_BATCHINGS = ((1, 4), (3, 7))
# Then examples that are images of shape IMAGE (batch_size, num_examples): their batches
# keep that shape.
IMAGE, IMAGE_BATCHING = (1, 2, 2), (2, 5)


def data_iter_batches(data_iter, num_examples=103, batch_size=10, seed=0, flat_labels=False):
    """One call yields every example once, in batches of batch_size (the last may be
    smaller) that pair rows with their labels: the cell's sizes, then EXTRA_BATCHINGS."""
    sizes = _judge_batches(data_iter, num_examples, batch_size, seed, flat_labels)
    for size, count in EXTRA_BATCHINGS:
        _judge_batches(data_iter, count, size, seed, flat_labels)
    _judge_batches(data_iter, IMAGE_BATCHING[1], IMAGE_BATCHING[0], seed, flat_labels, IMAGE)
    extra = ", ".join(f"batch_size={size} with {count}" for size, count in EXTRA_BATCHINGS)
    core.passed(data_iter, f"every example exactly once with its own label, in "
                           f"{_count(len(sizes), 'batch')} (batch_size={batch_size}, "
                           f"{num_examples} examples), and for {extra} examples")


def _judge_batches(data_iter, num_examples, batch_size, seed, flat_labels, example_shape=(3,)):
    """One pass: every example once, in batches of the right sizes; returns the sizes."""
    batches = _read_batches(data_iter, batch_size, num_examples, seed, flat_labels, example_shape)
    sizes = [len(ids) for ids in batches]
    inputs = f"batch_size={batch_size}, {num_examples} examples"
    expected, truncated = _batch_sizes(num_examples, batch_size)
    seen = onp.bincount(onp.concatenate(batches), minlength=num_examples)
    if (seen > 1).any():
        i = int(onp.argmax(seen > 1))
        core.fail(data_iter, f"example {i} came {seen[i]} times in one pass ({inputs}): each "
                  "example must come exactly once per call; step through one permutation with "
                  "range(0, num_examples, batch_size)")
    missing = int(onp.count_nonzero(seen == 0))
    if missing and sizes == truncated:
        core.fail(data_iter, f"the last, incomplete batch is missing ({inputs}): the {missing} "
                  "examples left over after the full batches never came. Loop over range(0, "
                  "num_examples, batch_size) and slice up to min(i + batch_size, num_examples)")
    if missing:
        core.fail(data_iter, f"{missing} of {num_examples} examples never came (e.g. example "
                  f"{int(onp.argmax(seen == 0))}) ({inputs}): every example must come exactly "
                  "once per call")
    if sizes != expected:
        k = next(k for k, (s, e) in enumerate(zip(sizes + [0], expected + [0])) if s != e)
        core.fail(data_iter, f"yielded {_count(len(sizes), 'batch')} of sizes {_sizes(sizes)}, "
                  f"expected {_count(len(expected), 'batch')} of sizes {_sizes(expected)} "
                  f"({inputs}); batch {k} differs: all batches hold batch_size examples, except "
                  "a smaller last one")
    return sizes


@core.oracle
def _batch_sizes(num_examples, batch_size):
    """The sizes of data_iter's batches, and of the full ones alone (the last left out)."""
    full = [batch_size] * (num_examples // batch_size)
    return full + [num_examples % batch_size] * (num_examples % batch_size > 0), full


def _sizes(sizes):
    """[10, 10, 10, 10, ... , 10, 3]: batch sizes in short."""
    shown = sizes if len(sizes) <= 6 else [*sizes[:4], "...", *sizes[-2:]]
    return "[" + ", ".join(map(str, shown)).replace("..., ", "... , ") + "]"


def data_iter_shuffles(data_iter, num_examples=50, batch_size=8, seed=0):
    """Examples come in a random order from MXNet's generator, a new one on each call (each
    epoch)."""
    inputs = f"batch_size={batch_size}, {num_examples} examples"
    first = _read_batches(data_iter, batch_size, num_examples, seed, False)
    order = onp.concatenate(first)
    if len(order) > 1 and (onp.diff(order) == 1).all():
        core.fail(data_iter, f"reads the examples in order 0, 1, 2, ... ({inputs}): shuffle the "
                  "indices (np.random.shuffle(indices)) before slicing them into batches, so "
                  "that minibatches are random samples")
    if len(first) > 2 and all((onp.diff(ids) == 1).all() for ids in first):
        core.fail(data_iter, f"each batch holds consecutive examples ({inputs}): shuffle the "
                  "example indices, not the order of the batches")
    second_batches = _read_batches(data_iter, batch_size, num_examples, seed + 1, False)
    second = onp.concatenate(second_batches)
    if len(order) == len(second) and (order == second).all():
        core.fail(data_iter, f"two calls gave the same order of examples ({inputs}): draw a new "
                  "permutation each time data_iter is called (no fixed seed inside it, no "
                  "permutation made once outside it), so each epoch sees new minibatches")
    met, again = _pairs_met_again(first, second_batches, num_examples)
    chance = (batch_size - 1) / (num_examples - 1)   # a pair's chance to meet in a batch
    if chance < 0.25 and again > met / 2:
        core.fail(data_iter, f"the batches hold the same examples at every call: {again} of the "
                  f"{met} pairs of examples that shared a batch in one call share one again in "
                  f"the next ({inputs}), where a new permutation puts about {chance:.0%} of them "
                  "together again. Shuffle all the example indices at every call, then slice "
                  "them into batches: shuffling the batches, and the examples inside each, is "
                  "not enough")
    again = _read_batches(data_iter, batch_size, num_examples, seed, False,
                          call_seed=(seed, seed + 1))
    if not onp.array_equal(order, onp.concatenate(again)):
        core.fail(data_iter, f"the order of the examples changed when only Python's and NumPy's "
                  f"generators were seeded otherwise, MXNet's alike ({seed}; {inputs}): draw the "
                  "permutation from MXNet's global generator, which the grader seeds: "
                  "indices = np.arange(num_examples), then np.random.shuffle(indices). Python's "
                  "random.shuffle draws from a generator of its own, and so does classic NumPy")
    core.passed(data_iter, f"shuffled examples, a new order on each call, from MXNet's "
                           f"generator ({inputs})")


def _pairs_met_again(first, second, num_examples):
    """(the pairs of examples that share a batch of `first`, how many of them share one of
    `second`): two passes' batches, as arrays of example indices."""
    batch_of = onp.zeros(num_examples, dtype=int)
    for k, ids in enumerate(second):
        batch_of[ids] = k
    met = again = 0
    for ids in first:
        counts = onp.bincount(batch_of[ids])
        met += len(ids) * (len(ids) - 1) // 2
        again += int((counts * (counts - 1) // 2).sum())
    return met, again


# --------------------------------------------------------------------------- linreg

def _values(shape, seed, **kwargs):
    """core.random_array's float32 values as classic NumPy: data of an input builder."""
    return core.random_array(shape, seed, **kwargs).asnumpy()


@core.oracle
def _linreg_mistakes(X, w, b):
    return [(_linear(X, w, 0.0), "linreg ignores b: it returned X w; return np.dot(X, w) + b")]


linreg_matches = spec.check(spec.Spec(
    name="linreg", oracle=_linear, mistakes=_linreg_mistakes, context=True,
    inputs=lambda num_examples=6, num_inputs=3, seed=0: (  # b in [1, 3): too large to hide
        _values((num_examples, num_inputs), seed), _values((num_inputs, 1), seed + 1),
        _values((1,), seed + 2, low=1.0, high=3.0)),
    describe=lambda X, w, b: f"X {X.shape}, w {w.shape}, b {b.shape}", what="the prediction",
    shape=None, compared="the prediction X w + b", hint="return np.dot(X, w) + b",
    passed="X w + b for {inputs}", differentiable=True))


# --------------------------------------------------------------------------- squared_loss

def _squared_loss_shape(shape, case):
    """What a loss of a wrong `shape` did, or None."""
    y_hat, y = case.args
    if shape != y_hat.shape and math.prod(shape) == 1:
        return (f"returned a single number for {case.inputs}: return the loss of every "
                f"example, shape {y_hat.shape}; the training loop sums or averages it")
    if shape == y.shape != y_hat.shape:
        return (f"the loss has y's shape {shape}, expected y_hat's {y_hat.shape} "
                f"({case.inputs}): reshape y to y_hat's shape, not y_hat to y's")
    return None


@core.oracle
def _squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


@core.oracle
def _squared_loss_mistakes(y_hat, y):
    return [(2 * _squared_loss(y_hat, y), "the loss is twice the expected value: the squared "
                                          "loss has a factor 1/2, (y_hat - y)**2 / 2"),
            (onp.abs(y_hat - y.reshape(y_hat.shape)) / 2,
             "the difference is not squared: (y_hat - y)**2 / 2")]


squared_loss_matches = spec.check(spec.Spec(
    name="squared_loss", oracle=_squared_loss,
    inputs=lambda y_hat_shape=(6, 1), y_shape=(6,), seed=0: (  # N(0, 2^2), of n entries each
        _values(y_hat_shape, seed, scale=2.0), _values(y_shape, seed + 1, scale=2.0)),
    mistakes=_squared_loss_mistakes, context=True, what="the loss", shape=None,
    shape_mistakes=_squared_loss_shape,
    describe=lambda y_hat, y: f"y_hat of shape {y_hat.shape}, y of shape {y.shape}",
    hint="(y_hat - y.reshape(y_hat.shape)) ** 2 / 2",
    passed="(y_hat - y)^2 / 2 in y_hat's shape for {inputs}", differentiable=True))


# --------------------------------------------------------------------------- sgd

# A second update with gradients of this scale (norms in the thousands) finds an update
# that clips or normalises large gradients: the rules of sgd and sgd_momentum have no limit.
LARGE_GRADIENT = 1e3
# A third with gradients of this scale (norms near 1e15, far beyond any that training meets,
# whose squares float32 still holds) finds a clip at any threshold above the second's norms.
HUGE_GRADIENT = 1e15
SGD_RULE = "param[:] = param - lr * param.grad / batch_size"


def shrinks_large_gradients(got, want):
    """True if every entry of the update `got` has the sign of `want` and at most its size,
    and the whole is visibly smaller: what clipping or normalising a gradient does."""
    same_side = (got * want >= 0) & (onp.abs(got) <= onp.abs(want) * (1 + core.RTOL))
    return bool(same_side.all()) and onp.abs(got).sum() < 0.99 * onp.abs(want).sum()


def _sgd_inputs(shapes=((3, 1), (1,)), lr=0.03, batch_size=10, seed=0):
    """Random parameters with N(0, 1) gradients, then with gradients LARGE_GRADIENT and
    HUGE_GRADIENT times larger (the call's tag: their scale)."""
    calls = []
    for scale in (1.0, LARGE_GRADIENT, HUGE_GRADIENT):
        params = [spec.Param(_values(shape, seed + 2 * k),
                             _values(shape, seed + 2 * k + 1, scale=scale))
                  for k, shape in enumerate(shapes)]
        norm = math.sqrt(sum(float((p.grad.astype(onp.float64) ** 2).sum()) for p in params))
        calls.append(spec.Call((params, lr, batch_size), (
            f"params of shapes {', '.join(str(tuple(s)) for s in shapes)}, lr={lr}, "
            f"batch_size={batch_size}" + (f", gradients of norm {norm:.3g}" if scale > 1 else "")),
            scale))
    return calls


@core.oracle
def _sgd_update(params, lr, batch_size):
    """The entries of the parameters after sgd, one vector."""
    return onp.concatenate([(p.value - lr * p.grad / batch_size).ravel() for p in params])


@core.oracle
def _sgd_mistakes(params, lr, batch_size):
    """[(a catalogued mistake's step / the right step, what it did)]."""
    return [(batch_size, f"the steps are batch_size = {batch_size} times too large: divide "
                         "the gradient by batch_size, param.grad / batch_size (backward() "
                         "sums the loss over the minibatch)"),
            (1 / batch_size, "the steps are batch_size times too small: divide the gradient "
                             "by batch_size once, not twice"),
            (-1.0, "the parameters moved up the gradient: subtract the step, "
                   "param - lr * param.grad / batch_size"),
            (1 / lr, f"the steps are 1/lr times too large: multiply the gradient by the "
                     f"learning rate lr = {lr}"),
            (batch_size / lr, "the step is param.grad: multiply by lr and divide by "
                              "batch_size")]


def _explain_sgd(sgd, got, case, value):
    """Fail naming the parameters that did not change, the step's wrong factor, large
    gradients clipped, or the worst entry; `value` is what sgd returned."""
    params, inputs = case.args[0], case.inputs
    before = onp.concatenate([p.value.astype(onp.float64).ravel() for p in params])
    step, want = before - got, before - case.expected    # what the student, sgd subtracted
    ends = onp.cumsum([p.value.size for p in params])[:-1]
    moved = [part.any() for part in onp.split(step, ends)]
    if not any(moved) and value is not None:
        core.fail(sgd, "the parameters did not change, and sgd returned "
                  f"{core.type_name(value)} ({inputs}): sgd must update the parameters in "
                  f"place, so that the caller's w and b change; write `{SGD_RULE}` and return "
                  "nothing")
    if not any(moved):
        core.fail(sgd, f"the parameters did not change ({inputs}): sgd updates in place, but "
                  "your function rebound `param` instead of writing `param[:]`. `param = param "
                  f"- ...` makes a new array that the caller never sees; write `{SGD_RULE}`")
    if not all(moved):
        core.fail(sgd, f"params[{moved.index(False)}] did not change ({inputs}): update every "
                  "parameter in the list, in place")
    ratio = float(step @ want / (want @ want))
    if onp.allclose(step, ratio * want, rtol=1e-3, atol=core.ATOL):
        core.diagnose(sgd, ratio, 1.0, [(factor, f"{text} ({inputs})")
                                        for factor, text in case.mistakes], rtol=1e-3, atol=0.0)
    if case.tag > 1 and shrinks_large_gradients(step, want):
        core.fail(sgd, f"the step is smaller than lr * param.grad / batch_size ({inputs}): large "
                  f"gradients are clipped or normalised. The rule has no limit: {SGD_RULE} "
                  "for a gradient of any size")
    for k, (a, e, p) in enumerate(zip(onp.split(got, ends), onp.split(case.expected, ends),
                                      params)):
        core.assert_close(sgd, a.reshape(p.value.shape), e.reshape(p.value.shape),
                          f"params[{k}] after the update", inputs=inputs, hint=SGD_RULE)


sgd_updates_in_place = spec.check(spec.Spec(
    name="sgd", inputs=_sgd_inputs, oracle=_sgd_update,
    mistakes=_sgd_mistakes, updates=0, wrong=_explain_sgd,
    returns_none="sgd updates the parameters in place and returns None (leave out the "
                 "return statement)",
    passed=f"in-place update param - lr * grad / batch_size for {{inputs}}, also for gradients "
           f"{LARGE_GRADIENT:g} times larger"))


# --------------------------------------------------------------------------- closed_form

def _closed_form_inputs(num_examples=100, num_inputs=3, bias=4.2, x_mean=1.0, seed=0):
    """Data with a bias and features of nonzero mean, so that a fit without the column of
    ones is visibly wrong; y as (n, 1), then as (n,) (the contract allows both)."""
    true_w = onp.random.default_rng(seed).normal(0, 2, num_inputs)
    X, y = (core.to_numpy(a).astype(onp.float32) for a in regression_data(
        num_examples, true_w, bias, seed, x_mean=x_mean, noise=0.1))
    data = (f"{_count(num_examples, 'example')} of {_count(num_inputs, 'feature')} with mean "
            f"{x_mean}, bias {bias}")
    return [spec.Call((X, labels), f"{data}, y of shape {labels.shape}")
            for labels in (y, y.reshape(-1))]


def _closed_form_tolerance(X, y):
    """The normal equations' forward error in float32: A^T A has condition number
    cond(A)^2, lost in d + 1 unknowns (np.linalg.solve, inv and lstsq stay below a tenth)."""
    A = _design(X)
    return (4 * A.shape[1] * core.FLOAT32_EPS * onp.linalg.cond(A) ** 2
            * onp.abs(_least_squares(X, y)).max())


def _closed_form_shape(w_shape, b_shape, case):
    """What a (w, b) of wrong shapes did, or None."""
    X, y = case.args
    d = X.shape[1]
    if y.ndim == 1 and w_shape == (d,):
        return (f"w has shape ({d},), expected ({d}, 1), for {case.inputs}: y may come as "
                "(n,) or (n, 1); make it a column first, y.reshape(-1, 1), and w comes out "
                "as a column too")
    if w_shape in ((d + 1, 1), (d + 1,)):
        return (f"w has shape {w_shape}, expected ({d}, 1): the solution theta of the normal "
                "equations holds w and b; split it, w = theta[:-1], b = theta[-1]")
    return None


closed_form_matches = spec.check(spec.Spec(
    name="closed_form", inputs=_closed_form_inputs, oracle=_least_squares,
    mistakes=_least_squares_mistakes, result=("w", "b"), context=True, compared="(w, b)",
    hint="(w, b) must be the least-squares fit: solve (A^T A) theta = A^T y with A = [X, 1] "
         "(e.g. np.linalg.solve) and split theta in the order of A's columns, w = theta[:-1], "
         "b = theta[-1]",
    shape=lambda X, y: ((X.shape[1], 1), (1,)),
    shape_hint=("one weight per feature, as a column",
                "b = theta[-1] of the (d + 1, 1) solution theta has shape (1,); or reshape "
                "it with b.reshape(1)"),
    shape_mistakes=_closed_form_shape,
    rtol=0.0, atol=_closed_form_tolerance,
    passed="least-squares (w, b) with w ({num_inputs}, 1) and b (1,) for {inputs} and "
           "({num_examples},)"))


# --------------------------------------------------------------------------- training

@core.oracle
def minibatch_sgd(X, y, lr, batch_size, initial, orders, train_b=True):
    """(w; b) of each run after minibatch SGD on the squared loss from w = initial[run],
    b = 0, visiting the examples in the order orders[run, epoch] in each epoch
    (`train_b=False`: a trainer that leaves b out of the update)."""
    runs, d = initial.shape
    A, y = _design(X), y.reshape(-1)
    thetas = onp.hstack([initial, onp.zeros((runs, 1))])
    mask = onp.append(onp.ones(d), float(train_b))
    with onp.errstate(over="ignore", invalid="ignore"):
        for theta, epochs in zip(thetas, orders):
            for order in epochs:
                for start in range(0, len(order), batch_size):
                    batch = order[start:start + batch_size]
                    theta -= lr / batch_size * (A[batch].T @ (A[batch] @ theta - y[batch])) * mask
    return thetas


def expected_parameters(X, y, lr, num_epochs, batch_size, seed, runs=48, train_b=True,
                        shuffle=True):
    """Mean and tolerance (Z standard deviations over `runs` runs from w ~ N(0, 0.01^2),
    b = 0, plus float32 rounding) of the parameters that minibatch SGD reaches (`shuffle`
    False: a trainer that reads the examples in their given order in every epoch)."""
    rng, (n, d) = onp.random.default_rng(seed), X.shape
    initial = rng.normal(0, INIT_STD, (runs, d))
    orders = onp.array([[rng.permutation(n) if shuffle else onp.arange(n)
                         for _ in range(num_epochs)] for _ in range(runs)],
                       dtype=onp.int64).reshape(runs, num_epochs, n)
    thetas = minibatch_sgd(X, y, lr, batch_size, initial, orders, train_b)
    mean = thetas.mean(axis=0)
    steps = num_epochs * -(-len(X) // batch_size)
    rounding = (steps + 1) * core.FLOAT32_EPS * onp.abs(mean).max() + core.ATOL
    return mean, Z * thetas.std(axis=0) + rounding


# MXNet's autograd errors in terms of the training loop.
AUTOGRAD_ERRORS = {
    "already in a computational graph": "updates the parameters inside `with autograd.record():`"
    ", and MXNet refuses to overwrite an array of the recorded graph. Only compute the loss "
    "inside the block; call l.backward() and sgd(...) after it",
    "not in a computational graph": "l.backward() found no recorded computation: call "
    "w.attach_grad() and b.attach_grad() after creating them, and compute the loss inside "
    "`with autograd.record():`",
}


def _train(train, X, y, lr, num_epochs, batch_size, seed):
    """Call the trainer; return (w; b) as one float64 vector, after checking their types
    and shapes."""
    try:
        value = core.call(train, X, y, lr=lr, num_epochs=num_epochs, batch_size=batch_size,
                          seed=seed)
    except core.CheckFailure as failure:
        for error, advice in AUTOGRAD_ERRORS.items():
            if error in str(failure):
                core.fail(train, advice)
        raise
    w, b = spec.pair(train, value, "(w, b)")
    core.expect_array(train, w, "w", shape=(X.shape[1], 1), hint="initialize it as a column, "
                      "np.random.normal(0, 0.01, (num_inputs, 1))")
    core.expect_array(train, b, "b", shape=(1,), hint="initialize b = np.zeros(1)")
    return onp.concatenate([core.to_numpy(w).ravel(), core.to_numpy(b).ravel()])


# A first, cheap run of every training check: 4 epochs of full-batch gradient descent
# on 20 examples, 4 updates whose result hardly depends on the random initial w, so
# that each typical mistake (a step scaled wrongly, a default argument used, no update)
# lands far outside the tolerance and fails in a fraction of a second, before the long run.
PROBE = dict(num_examples=20, lr=0.3, num_epochs=4, batch_size=20)
# A second probe with a batch_size larger than the data: its only minibatch is the last,
# smaller one, which a loop over full minibatches alone drops.
SHORT_DATA_PROBE = dict(num_examples=7, lr=0.3, num_epochs=4, batch_size=10)
# A third on examples sorted by label, where the order of the examples decides where SGD
# gets: a trainer that never shuffles lands far from shuffled minibatch SGD.
SORTED_PROBE = dict(num_examples=100, lr=0.1, num_epochs=1, batch_size=10)
# A fourth on ALL_EXAMPLES examples of which the first ZERO_EXAMPLES are zeros, features and
# labels: at w ~ 0, b = 0 they give no gradient, so a trainer that keeps a fixed number of
# examples (features[:1000]) leaves b at 0, while one full-batch step learns from the others
# (03's train_minibatch is judged on them too).
ALL_EXAMPLES, ZERO_EXAMPLES = 2000, 1900
ALL_EXAMPLES_PROBE = dict(num_examples=ALL_EXAMPLES, lr=0.3, num_epochs=1,
                          batch_size=ALL_EXAMPLES)
# What 02's and 03's trainers are told when a probe above learnt nothing.
LAST_BATCH_ADVICE = ("With batch_size larger than the data, the only minibatch is the last, "
                     "smaller one, and the loop drops it. Loop over data_iter(batch_size, "
                     "features, labels), whose last minibatch holds the examples left over")
ALL_EXAMPLES_ADVICE = ("Train on all the examples given, not a fixed number of them "
                       "(features[:1000]): data_iter(batch_size, features, labels)")


def train_linear_regression_fits(train_linear_regression, num_examples=500, w=TRUE_W,
                                 b=TRUE_B, lr=0.05, num_epochs=3, batch_size=7, seed=0):
    """The (w, b) the trainer returns with these arguments on the check's data is where
    minibatch SGD with them gets (a point on the way that depends on lr, num_epochs and
    batch_size), after the :data:`PROBE` run with the same w and b."""
    _train_as_sgd(train_linear_regression, w=w, b=b, seed=seed, runs=400, **PROBE)
    _judge_last_minibatch(train_linear_regression, w, b, seed, **SHORT_DATA_PROBE)
    _judge_shuffles(train_linear_regression, w, b, seed, **SORTED_PROBE)
    _judge_all_examples(train_linear_regression, w, b, seed, **ALL_EXAMPLES_PROBE)
    judge_new_order(train_linear_regression, seed)
    got, arguments, mean = _train_as_sgd(train_linear_regression, num_examples, w, b, lr,
                                         num_epochs, batch_size, seed)
    core.passed(train_linear_regression, f"(w, b) = {_fmt(got)} as minibatch SGD with "
                                         f"{arguments} (expected {_fmt(mean)})")


def _judge_last_minibatch(train, w, b, seed, num_examples, lr, num_epochs, batch_size):
    """With a batch_size larger than the data, its only minibatch is the last, smaller one:
    b moves from 0. (How far depends on the step's divisor, batch_size or the size of the
    minibatch, which the contract leaves open for the last one.)"""
    X, y = regression_data(num_examples, w, b, seed)
    if _train(train, X, y, lr, num_epochs, batch_size, seed)[-1] == 0:
        core.fail(train, f"b is still 0 after training (lr={lr}, num_epochs={num_epochs}, "
                  f"batch_size={batch_size}, on {num_examples} examples): nothing was learnt. "
                  f"{LAST_BATCH_ADVICE}")


def _judge_all_examples(train, w, b, seed, num_examples, lr, num_epochs, batch_size):
    """b moves from 0 when only the examples after the first ZERO_EXAMPLES carry a signal."""
    X, y = (a.asnumpy() for a in regression_data(num_examples, w, b, seed))
    X[:ZERO_EXAMPLES], y[:ZERO_EXAMPLES] = 0, 0
    if _train(train, np.array(X), np.array(y), lr, num_epochs, batch_size, seed)[-1] == 0:
        core.fail(train, f"b is still 0 after training on {num_examples} examples whose first "
                  f"{ZERO_EXAMPLES} are zeros, features and labels (lr={lr}, num_epochs="
                  f"{num_epochs}, batch_size={batch_size}): nothing was learnt from the last "
                  f"{num_examples - ZERO_EXAMPLES}, the only ones with something to learn. "
                  f"{ALL_EXAMPLES_ADVICE}")


def _judge_shuffles(train, w, b, seed, num_examples, lr, num_epochs, batch_size):
    """On examples sorted by label, fail a trainer that lands where minibatch SGD over the
    examples in their given order gets, when that is clearly apart from where shuffled
    minibatches get (anything else is left to the long runs)."""
    X, y = (a.asnumpy() for a in regression_data(num_examples, w, b, seed))
    order = onp.argsort(y[:, 0], kind="stable")
    X, y = X[order], y[order]
    got = _train(train, np.array(X), np.array(y), lr, num_epochs, batch_size, seed)
    X, y = X.astype(onp.float64), y.astype(onp.float64)
    in_order, near = expected_parameters(X, y, lr, num_epochs, batch_size, seed, shuffle=False)
    shuffled, spread = expected_parameters(X, y, lr, num_epochs, batch_size, seed, runs=400)
    if (onp.abs(got - in_order) <= near).all() and (onp.abs(in_order - shuffled)
                                                    > near + spread).any():
        core.fail(train, f"reads the examples in the same order in every epoch: on "
                  f"{num_examples} examples sorted by label (lr={lr}, num_epochs={num_epochs}, "
                  f"batch_size={batch_size}), (w, b) = {_fmt(got)}: that is where minibatch SGD "
                  f"over the examples in their given order gets; shuffled minibatches get "
                  f"{_fmt(shuffled)} on average. Draw the minibatches with data_iter(batch_size, "
                  "features, labels), which shuffles the examples at every call")


# Three examples, minibatches of one, two epochs: each of the 6 x 6 pairs of orders of the
# two epochs ends elsewhere (7.6 tolerances apart at least, where naming the nearest needs 2:
# tests/test_checks_linear_regression), so where a trainer ends names the orders it read. A
# new random order every epoch repeats the first with probability 1/6: REORDER_CALLS calls
# that all repeat it happen to a correct trainer with probability 6^-8 = 6e-7, below the
# contract's false-alarm rate of 1e-6.
REORDER_X = onp.array([[1.5, -1.5], [0.0, -2.0], [-2.0, -0.5]])
REORDER_Y = onp.array([[4.0], [-5.0], [10.0]])
REORDER_RUN = dict(lr=0.3, num_epochs=2, batch_size=1)
REORDER_CALLS = 8
ORDER_PAIRS = onp.array([[first, second] for first in itertools.permutations(range(3))
                         for second in itertools.permutations(range(3))])


def judge_new_order_every_epoch(trainer, result, candidates, tolerance, seed, fix):
    """Fail a trainer whose epochs all read the examples in the order of its first epoch:
    `result(call_seed)` is where it ends on REORDER_X, REORDER_Y with REORDER_RUN (a float64
    vector); `candidates[k]` where minibatch SGD over ORDER_PAIRS[k] ends, within
    `tolerance`. A run near no candidate, and calls that all read one order (a trainer
    that reseeds), are left to the other checks."""
    repeats = (ORDER_PAIRS[:, 0] == ORDER_PAIRS[:, 1]).all(axis=1)
    read = set()
    for call in range(REORDER_CALLS):
        distance = onp.abs(candidates - result(seed + call)).max(axis=1)
        nearest = int(onp.argmin(distance))
        if distance[nearest] > tolerance or not repeats[nearest]:
            return
        read.add(nearest)
    if len(read) == 1:
        return
    settings = ", ".join(f"{name}={value}" for name, value in REORDER_RUN.items())
    core.fail(trainer, f"reads the examples in the same order in every epoch: in "
              f"{REORDER_CALLS} calls on {len(REORDER_X)} examples ({settings}), the second "
              f"epoch repeated the order of the first each time, which a new random order per "
              f"epoch does with probability 6^-{REORDER_CALLS} = {6.0 ** -REORDER_CALLS:.0e}. "
              f"{fix}")


def reorder_candidates():
    """(where minibatch SGD from w = 0, b = 0 over each pair of ORDER_PAIRS ends on the
    REORDER problem, how far a start from w ~ N(0, 0.01^2) can move that, at Z standard
    deviations): the (w; b) of 02's trainer."""
    lr, batch_size = REORDER_RUN["lr"], REORDER_RUN["batch_size"]
    runs, d = len(ORDER_PAIRS), REORDER_X.shape[1]
    ends = minibatch_sgd(REORDER_X, REORDER_Y, lr, batch_size, onp.zeros((runs, d)), ORDER_PAIRS)
    moved = sum(onp.abs(minibatch_sgd(REORDER_X, REORDER_Y, lr, batch_size,
                                      onp.tile(Z * INIT_STD * unit, (runs, 1)), ORDER_PAIRS)
                        - ends).max() for unit in onp.eye(d))
    return ends, moved + 1e-3 * onp.abs(ends).max()


EPOCH_ORDER_ADVICE = ("Call data_iter(batch_size, features, labels) inside the loop over the "
                      "epochs, so that each epoch draws a new order, not once before it")


def judge_new_order(train, seed):
    """Each epoch reads the examples in a new order (the REORDER problem, where the (w, b)
    after the two epochs names the orders read)."""
    X, y = (np.array(a, dtype="float32") for a in (REORDER_X, REORDER_Y))
    ends, tolerance = reorder_candidates()
    judge_new_order_every_epoch(train, lambda call_seed: _train(
        train, X, y, seed=call_seed, **REORDER_RUN), ends, tolerance, seed, EPOCH_ORDER_ADVICE)


def _train_as_sgd(train, num_examples, w, b, lr, num_epochs, batch_size, seed, runs=48):
    """Train on regression data; fail unless (w, b) is where minibatch SGD gets, naming
    the closest typical mistake. Returns (w; b), the arguments in words and the oracle's mean."""
    X, y = regression_data(num_examples, w, b, seed)
    Xs, ys = core.to_numpy(X), core.to_numpy(y)
    arguments = f"lr={lr}, num_epochs={num_epochs}, batch_size={batch_size}"
    inputs = f"{arguments}, on {num_examples} examples with w={_fmt(w)}, b={b}"
    got = _train(train, X, y, lr, num_epochs, batch_size, seed)
    mean, tolerance = expected_parameters(Xs, ys, lr, num_epochs, batch_size, seed, runs)
    fit = _least_squares(Xs, ys)
    if not (onp.abs(got) <= 10 * (onp.abs(fit).max() + 1)).all():
        core.fail(train, f"training diverged: the parameters grew to {_fmt(got)} ({inputs}), "
                  "while minibatch SGD with these arguments converges. The steps are much too "
                  "large: backward() sums the loss over the minibatch, so the step must divide "
                  "by the batch size, sgd([w, b], lr, batch_size), and sgd must subtract lr * "
                  "param.grad / batch_size")
    off = onp.abs(got - mean) - tolerance
    if (off <= 0).all():
        return got, arguments, mean
    k = int(onp.argmax(off))
    found = (f"after training {f'w[{k}]' if k < len(got) - 1 else 'b'} = {got[k]:.4f}, "
             f"expected {mean[k]:.4f} +- {tolerance[k]:.1g} ({inputs}; the least-squares fit "
             f"is {_fmt(fit)})")
    given = dict(lr=lr, num_epochs=num_epochs, batch_size=batch_size)
    # Typical mistakes: (what one changes, what the trainer did). Steps batch_size times too
    # large are not among them: such training diverges.
    mistakes = [
        (dict(lr=0.0), "does not update w and b at all: update both in place, sgd([w, b], "
                       "lr, batch_size), after l.backward()"),
        (dict(lr=lr / batch_size), "divides the gradient by batch_size twice: backward() of "
                                   "the mean loss already divides by the batch size; either "
                                   "call backward() on the per-example losses (their sum) "
                                   "and let sgd divide, or pass 1 as sgd's batch_size"),
        (dict(lr=2 * lr), "takes steps twice as large as it should: is the factor 1/2 "
                          "missing from the squared loss?"),
        (dict(lr=-lr), "moves up the gradient: sgd must subtract the step"),
        (dict(train_b=False), "never updates b: pass both parameters, sgd([w, b], lr, "
                              "batch_size), and attach a gradient to b"),
        (dict(lr=0.03), f"uses lr=0.03 (the default), not lr={lr}: use the function's "
                        "arguments, not notebook variables or constants"),
        (dict(num_epochs=3), f"runs 3 epochs (the default), not num_epochs={num_epochs}: "
                             "loop `for epoch in range(num_epochs)`"),
        (dict(batch_size=10), f"uses batch_size=10 (the default), not batch_size="
                              f"{batch_size}: pass batch_size to data_iter and to sgd"),
    ]
    try:  # the mean (w; b) of minibatch SGD with each mistake
        others = [(expected_parameters(Xs, ys, seed=seed + 1, runs=8, **dict(given, **change))[0],
                   text) for change, text in mistakes if dict(given, **change) != given]
    except core.UnknownAnswer:  # the student package knows the mistakes' runs only where
        others = []             # a catalogued mistake made them
    # a mistake whose runs are clearly apart from the right ones explains the result if it
    # is within a fifth of its distance from them
    score, explanation = min([(onp.abs(got - other).max() / apart, text) for other, text in others
                              for apart in [onp.abs(other - mean).max()]
                              if onp.isfinite(apart) and apart > 2 * tolerance.max()],
                             default=(1.0, ""))
    if score < 0.2:
        core.fail(train, f"{found}. That is where minibatch SGD gets when the trainer "
                  f"{explanation}")
    core.fail(train, f"{found}: that is not where minibatch SGD with these arguments gets. Use "
              "lr, num_epochs and batch_size as given, start from w ~ N(0, 0.01^2), b = 0, and "
              "update both after each minibatch with sgd([w, b], lr, batch_size)")


# Features of the trainer's run whose initial w is tested as a sample of N(0, 0.01^2): a uniform
# w of the same mean and std lies 0.057 from it, the limit at 1e-7 is 0.032.
WIDE_INIT = 8000


def train_linear_regression_initial_parameters(train_linear_regression, num_inputs=400,
                                               num_examples=20, seed=0):
    """With num_epochs=0 the trainer returns w ~ N(0, 0.01^2) of shape (d, 1) (the mean of
    the d weights within Z 0.01/sqrt(d) of 0, their std within Z 0.01/sqrt(2d) of 0.01) and
    b = 0 of shape (1,), drawn afresh from MXNet's generator at every call, and normal by
    Kolmogorov-Smirnov over WIDE_INIT features; with lr=0, b stays 0 (the labels are not
    centred)."""
    train = train_linear_regression
    X, y = regression_data(num_examples, onp.linspace(-2, 2, num_inputs), 1.0, seed)
    inputs = f"num_epochs=0 and {num_inputs} features"
    got = _train(train, X, y, 0.03, 0, 10, seed)
    w, b = got[:-1], got[-1]
    if not b == 0:
        core.fail(train, f"b = {b:.4g} after 0 epochs, expected 0 ({inputs}): start from b = "
                  "np.zeros(1), and train only in the epoch loop `for epoch in "
                  "range(num_epochs)`")
    if not w.any():
        core.fail(train, f"w is all zeros after 0 epochs ({inputs}): start from random w = "
                  "np.random.normal(0, 0.01, (num_inputs, 1)). (Zeros happen to work for linear "
                  "regression, see the exercises, but not for networks with hidden layers.)")
    mean, std = w.mean(), w.std()
    if not (abs(mean) <= Z * INIT_STD / math.sqrt(num_inputs)
            and abs(std - INIT_STD) <= Z * INIT_STD / math.sqrt(2 * num_inputs)):
        said = (f"after 0 epochs w has mean {mean:.4f} and standard deviation {std:.4f}, "
                f"expected 0 and 0.01 ({inputs}): ")
        core.diagnose(train, std, INIT_STD, [(1.0, "w has the default scale 1: np.random."
                                                   "normal(0, 0.01, (num_inputs, 1))")],
                      rtol=0.2, atol=0.0, context=said)
        core.fail(train, said + "draw w from N(0, 0.01^2), np.random.normal(0, 0.01, "
                                "(num_inputs, 1))")
    wide = regression_data(num_examples, onp.linspace(-2, 2, WIDE_INIT), 1.0, seed)
    draws.judge_normal(train, _train(train, *wide, 0.03, 0, 10, seed)[:-1], INIT_STD,
                       f"the initial weights w (num_epochs=0 and {WIDE_INIT} features)",
                       "Draw w with np.random.normal(0, 0.01, (num_inputs, 1))", FALSE_ALARM / 10)
    core.draws_afresh_from_mxnet(train, X, y, lr=0.03, num_epochs=0, batch_size=10, seed=seed)
    b = _train(train, X, y, 0.0, 2, 5, seed)[-1]
    if not b == 0:
        core.fail(train, "ignores lr: trained with lr=0 (num_epochs=2, batch_size=5), b = "
                  f"{b:.4g}, where nothing may be learnt and b stays 0. Use the lr the function "
                  "is called with: sgd([w, b], lr, batch_size)")
    core.passed(train, f"initial w ~ N(0, 0.01^2) (std {std:.4f}; normal by Kolmogorov-Smirnov "
                       f"over {WIDE_INIT} weights) and b = 0 with {inputs}, fresh at every call, "
                       f"and b stays 0 with lr=0")
