"""Checks of assignment 02: linear regression from scratch.

Test cells call them as ``check.sgd_updates_in_place(sgd, lr=0.03, batch_size=10)``.
Expected values, and what the typical mistakes return, come from the float64
classic-NumPy oracles of this module (``@core.oracle``: the student package keeps their
answers on the visible tests, not their code). Each failure names the typical mistake
it recognises: noise with the wrong scale, a flat ``y``, an unshuffled or truncated
``data_iter``, a loss broadcast to ``(n, n)``, an ``sgd`` that rebinds ``param`` or
forgets ``1 / batch_size``, a normal equation without the column of ones, a training
loop that ignores its arguments or updates inside ``autograd.record()``.

Random data are judged statistically: a check rejects only beyond ``Z`` standard errors,
so a correct solution fails with probability below 1e-8 per statistic whatever its
random numbers. A training check first trains on a small :data:`PROBE`, where the
typical trainer mistakes already fail, before the long run with the cell's arguments.
"""
import math

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, spec

Z = 6.0             # standard errors a statistic may be off before a check rejects it
NOISE_STD = 0.01    # label noise of synthetic_data (COURSE_CONTRACT.md)
INIT_STD = 0.01     # w ~ N(0, 0.01^2) at the start of train_linear_regression (contract)
TRUE_W = (2.0, -3.4)
TRUE_B = 4.2


# --------------------------------------------------------------------------- helpers

def _expect_float_array(function, value, what, shape, hint=None):
    """An mxnet array of `shape` with a floating-point dtype; float64 is accepted."""
    return core.expect_float_array(
        function, value, what, shape, hint,
        float_fix="Create it with floating-point values (e.g. np.zeros, np.random.normal), "
                  "not integers")


def _expect_finite(function, array, what, hint):
    values = core.to_numpy(array)
    bad = ~onp.isfinite(values)
    if bad.any():
        index = tuple(int(i) for i in onp.argwhere(bad)[0])
        core.fail(function, f"{what} contains {'NaN' if onp.isnan(values[index]) else 'Inf'} "
                            f"at index {index}: {hint}")
    return values


def _count(n, noun):
    """'1 batch', '3 batches': a count with its noun."""
    plural = noun + ("es" if noun.endswith(("s", "ch")) else "s")
    return f"{n} {noun if n == 1 else plural}"


def _fmt(values):
    """A short readable rendering of a float64 vector."""
    return "[" + ", ".join(f"{v:.4g}" for v in onp.ravel(values)) + "]"


def _design(X):
    """A = [X, 1]: the features with a column of ones for the bias (float64)."""
    return onp.hstack([X, onp.ones((X.shape[0], 1))])


def regression_data(num_examples, w, b, seed, x_mean=0.0, noise=NOISE_STD):
    """(X, y) as float32 mxnet arrays, y = X w + b + noise of shape (n, 1): the oracle's
    own synthetic data, independent of the student's synthetic_data."""
    rng = onp.random.default_rng(seed)
    w = onp.asarray(w, dtype=onp.float64).reshape(-1, 1)
    X = rng.normal(x_mean, 1.0, (num_examples, len(w)))
    y = _linear(X, w, b) + rng.normal(0.0, noise, (num_examples, 1))
    return np.array(X.astype(onp.float32)), np.array(y.astype(onp.float32))


@core.oracle
def _linear(X, w, b):
    """The predictions X w + b of linreg."""
    return X @ w + b


@core.oracle
def _least_squares(X, y):
    """theta = (w; b) minimising ||[X, 1] theta - y||^2 (float64): closed_form's answer."""
    return onp.linalg.lstsq(_design(X), y.reshape(-1), rcond=None)[0]


@core.oracle
def _least_squares_without_bias(X, y):
    """w minimising ||X w - y||^2: closed_form without the column of ones."""
    return onp.linalg.lstsq(X, y.reshape(-1), rcond=None)[0]


# --------------------------------------------------------------------------- synthetic_data

def synthetic_data_statistics(synthetic_data, w=TRUE_W, b=TRUE_B, num_examples=4000, seed=0):
    """Shapes, X ~ N(0, 1) and y = X w + b + N(0, 0.01^2), judged from the sample.

    With n examples a column mean of X has standard error 1/sqrt(n), a column variance
    sqrt(2/n); the least-squares fit of y on [X, 1] recovers w and b to within
    0.01 sqrt(diag((A^T A)^-1)) and the noise standard deviation to within 0.01/sqrt(2n).
    """
    true_w = onp.asarray(w, dtype=onp.float32)
    n, d = num_examples, len(true_w)
    value = core.call(synthetic_data, np.array(true_w), b, n, seed=seed)
    X, y = spec.pair(synthetic_data, value, "(X, y)")
    inputs = f"w={_fmt(true_w)}, b={b}, num_examples={n}"
    _expect_float_array(synthetic_data, X, "X", (n, d),
                        hint="one row per example, one column per entry of w")
    core.expect_array(synthetic_data, y, "y")
    y_shape = tuple(y.shape)
    if y_shape == (n,):
        core.fail(synthetic_data, f"y has shape {y_shape}, expected ({n}, 1): return "
                                  "y.reshape((-1, 1)), a column of labels like the "
                                  "predictions X w of shape (n, 1)")
    if y_shape == (n, n):
        core.fail(synthetic_data, f"y has shape {y_shape}, expected ({n}, 1): an (n,) "
                                  "array plus an (n, 1) array broadcasts to (n, n). Draw "
                                  "the noise in the shape of X w (np.random.normal(0, 0.01, "
                                  "y.shape)), then reshape y to (-1, 1)")
    _expect_float_array(synthetic_data, y, "y", (n, 1))
    not_finite = ("a 0/0 or the logarithm of 0 gives NaN or Inf; X = np.random.normal(0, 1, "
                  "(num_examples, len(w))), y = X w + b + np.random.normal(0, 0.01, y.shape)")
    Xs = _expect_finite(synthetic_data, X, "X", not_finite)
    ys = _expect_finite(synthetic_data, y, "y", not_finite)

    # X ~ N(0, 1), entries independent
    means, variances = Xs.mean(axis=0), Xs.var(axis=0)
    for j in range(d):
        if abs(means[j] - 0.5) < 0.05 and abs(variances[j] - 1 / 12) < 0.02:
            core.fail(synthetic_data, f"column {j} of X looks uniform on [0, 1) (mean "
                                      f"{means[j]:.3f}, variance {variances[j]:.3f}): draw "
                                      "X from the normal distribution, np.random.normal(0, "
                                      "1, (num_examples, len(w)))")
        if abs(means[j]) > Z / math.sqrt(n):
            core.fail(synthetic_data, f"column {j} of X has mean {means[j]:.4f}, expected 0 "
                                      f"(to within {Z / math.sqrt(n):.3f} for {n} examples): "
                                      "X ~ N(0, 1)")
        if abs(variances[j] - 1) > Z * math.sqrt(2 / n):
            core.fail(synthetic_data, f"column {j} of X has variance {variances[j]:.4f}, "
                                      f"expected 1 (to within {Z * math.sqrt(2 / n):.3f}): "
                                      "X ~ N(0, 1), np.random.normal(0, 1, (num_examples, "
                                      "len(w)))")
    if d > 1:
        correlation = onp.corrcoef(Xs, rowvar=False)
        off = onp.abs(correlation - onp.eye(d))
        j, k = onp.unravel_index(int(onp.argmax(off)), off.shape)
        if off[j, k] > Z / math.sqrt(n):
            core.fail(synthetic_data, f"columns {j} and {k} of X are correlated (r = "
                                      f"{correlation[j, k]:.3f}): draw every entry of X "
                                      "independently")

    # y - (X w + b) is N(0, 0.01^2) noise: fit y on [X, 1] and look at what is left. The
    # fitted (w, b) are judged first, with standard errors from the noise actually found,
    # so that a wrong w is not reported as wrong noise (or the other way round).
    A = _design(Xs)
    theta = onp.linalg.lstsq(A, ys[:, 0], rcond=None)[0]
    noise = ys[:, 0] - A @ theta
    std = math.sqrt(noise @ noise / (n - d - 1))
    spread = onp.sqrt(onp.diag(onp.linalg.inv(A.T @ A)))
    limits = Z * max(std, NOISE_STD) * spread + core.ATOL
    if (onp.abs(theta[:-1] - true_w) > limits[:-1]).any():
        core.fail(synthetic_data, f"y depends on X through the weights {_fmt(theta[:-1])}, "
                                  f"expected w = {_fmt(true_w)} ({inputs}): compute "
                                  "y = np.dot(X, w) + b + noise from the X you return")
    if abs(theta[-1] - b) > limits[-1]:
        hint = ("y misses the bias: y = X w + b + noise" if abs(theta[-1]) < limits[-1]
                else "y = X w + b + noise")
        core.fail(synthetic_data, f"y = X w + c + noise with c = {theta[-1]:.4f}, expected "
                                  f"the bias b = {b} ({inputs}): {hint}")
    std_error = NOISE_STD / math.sqrt(2 * (n - d - 1))
    if abs(std - NOISE_STD) > Z * std_error:
        if std < 1e-6:
            cause = "y has no noise: add np.random.normal(0, 0.01, y.shape)"
        elif abs(std - NOISE_STD ** 2) < 0.2 * NOISE_STD ** 2:
            cause = ("0.0001 = 0.01**2 is the variance: np.random.normal takes the "
                     "standard deviation, np.random.normal(0, 0.01, y.shape)")
        elif abs(std - math.sqrt(NOISE_STD)) < 0.02:
            cause = ("0.1 = sqrt(0.01): 0.01 is already the standard deviation, "
                     "np.random.normal(0, 0.01, y.shape)")
        elif abs(std - 1) < 0.1:
            cause = ("that is the default scale 1: pass the standard deviation, "
                     "np.random.normal(0, 0.01, y.shape)")
        else:
            cause = "draw it with np.random.normal(0, 0.01, y.shape)"
        core.fail(synthetic_data, f"the noise y - (X w + b) has standard deviation "
                                  f"{std:.4g}, expected 0.01 (to within "
                                  f"{Z * std_error:.1e}, for {inputs}): {cause}")

    # The shapes of the distributions, beyond their moments: the entries of X, and the
    # noise y - (X w + b) with the true w and b (float32 rounding of y moves each value by
    # at most `rounding`, which shifts the noise's distribution function by at most
    # rounding * N(0, 0.01^2)'s largest density).
    _judge_normal(synthetic_data, Xs, 1.0, f"the entries of X ({inputs})", 0.0,
                  "Draw X with np.random.normal(0, 1, (num_examples, len(w)))")
    exact = Xs @ true_w.astype(onp.float64) + b
    rounding = 4 * (d + 2) * core.FLOAT32_EPS * float(
        (onp.abs(Xs) @ onp.abs(true_w) + abs(b) + onp.abs(ys[:, 0])).max())
    _judge_normal(synthetic_data, ys[:, 0] - exact, NOISE_STD,
                  f"the noise values y - (X w + b) ({inputs})",
                  rounding / (NOISE_STD * math.sqrt(2 * math.pi)),
                  "Draw the noise with np.random.normal(0, 0.01, y.shape)")
    _judge_fresh_draws(synthetic_data, true_w, b, seed)
    core.passed(synthetic_data, f"shapes ({n}, {d}) and ({n}, 1), X ~ N(0, 1), y = X w + b "
                                f"+ noise with std {std:.4f} for {inputs}, both normal by "
                                f"Kolmogorov-Smirnov, fresh at every call")


# --------------------------------------------------------------------------- distributions

FALSE_ALARM = 1e-6   # the largest false-alarm rate of a distribution test (the contract)
# Power: uniform features of variance 1 lie 0.057 from N(0, 1), so with the notebook's 8000
# entries of X (limit 0.030) DKW bounds the chance of missing them by
# 2 exp(-2 * 8000 * 0.027^2) < 2e-5. Measured (benchmarks/distributions.py, 400 calls each):
# uniform X, noise of std 0.02, uniform noise of std 0.01 and a fixed seed all fail every
# time; the reference never (largest distance 0.71 of the limit).


def ks_distance(samples, cdf):
    """The Kolmogorov-Smirnov distance sup_t |F_n(t) - F(t)| of `samples` from the
    distribution function `cdf`."""
    u = onp.sort(cdf(onp.ravel(samples)))
    n = len(u)
    above = onp.arange(1, n + 1) / n - u
    below = u - onp.arange(n) / n
    return float(max(above.max(), below.max()))


def ks_threshold(n, alpha=FALSE_ALARM):
    """The distance that n independent draws from the right distribution exceed with
    probability at most `alpha`, for every n: the Dvoretzky-Kiefer-Wolfowitz inequality
    with Massart's constant, P(sup |F_n - F| > t) <= 2 exp(-2 n t^2)."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


_erf = onp.vectorize(math.erf, otypes=[float])


def normal_cdf(scale):
    """The distribution function of N(0, scale^2)."""
    return lambda x: 0.5 * (1 + _erf(onp.asarray(x) / (scale * math.sqrt(2))))


def uniform_cdf(mean, std):
    """The distribution function of the uniform distribution of that mean and std."""
    half = math.sqrt(3) * std
    return lambda x: onp.clip((onp.asarray(x) - mean + half) / (2 * half), 0.0, 1.0)


def _judge_normal(function, samples, scale, what, slack, fix):
    """Fail unless `samples` look drawn from N(0, scale^2), by the Kolmogorov-Smirnov
    distance: a correct draw fails with probability at most FALSE_ALARM. `slack` widens
    the limit by what rounding may shift the distribution function."""
    n = samples.size
    distance = ks_distance(samples, normal_cdf(scale))
    limit = ks_threshold(n) + slack
    if distance <= limit:
        return
    uniform = ks_distance(samples, uniform_cdf(samples.mean(), samples.std()))
    looks = (f" They look uniform (at distance {uniform:.3f} from the uniform distribution of "
             f"their mean and variance): the right mean and variance are not enough."
             if uniform <= ks_threshold(n) else "")
    core.fail(function, f"{what} do not look drawn from N(0, {scale:g}^2): the "
                        f"Kolmogorov-Smirnov distance of their {n} values from it is "
                        f"{distance:.3f}, above {limit:.3f}, which a correct draw exceeds "
                        f"with probability below {FALSE_ALARM:g}.{looks} {fix}")


FRESH_EXAMPLES = 20   # examples drawn by each call of the freshness check


def _judge_fresh_draws(synthetic_data, w, b, seed):
    """Two calls draw different X and noise; the grader's seed repeats a call: numbers
    come from MXNet's global generator, never reseeded (COURSE_CONTRACT.md)."""
    def draw(call_seed):
        X, y = spec.pair(synthetic_data, core.call(synthetic_data, np.array(w), b, FRESH_EXAMPLES,
                                               seed=call_seed), "(X, y)")
        X, y = core.to_numpy(X), core.to_numpy(y)
        return X, y.reshape(-1) - (X @ w.astype(onp.float64) + b)

    (X, noise), (X_next, noise_next), (X_again, noise_again) = (
        draw(seed), draw(None), draw(seed))
    inputs = f"num_examples={FRESH_EXAMPLES}"
    if onp.array_equal(X, X_next):
        core.fail(synthetic_data, f"two calls in a row returned the same X ({inputs}): the "
                                  "function seeds the generator itself. Draw fresh numbers at "
                                  "every call from MXNet's global generator "
                                  "(np.random.normal) and never call a seed function: the "
                                  "caller decides the seed")
    if onp.allclose(noise, noise_next, rtol=0.0, atol=1e-6):
        core.fail(synthetic_data, f"two calls in a row added the same noise y - (X w + b) "
                                  f"({inputs}): draw it fresh at every call, "
                                  "np.random.normal(0, 0.01, y.shape), from MXNet's global "
                                  "generator and without a seed of your own")
    if not (onp.array_equal(X, X_again) and onp.allclose(noise, noise_again, rtol=0.0,
                                                         atol=1e-6)):
        core.fail(synthetic_data, f"the same seed of MXNet's generator gave different data "
                                  f"({inputs}): draw from MXNet's global generator "
                                  "(np.random.normal), which the caller seeds, not from a "
                                  "generator of your own")


# --------------------------------------------------------------------------- data_iter

def _indexed_data(num_examples, seed, flat_labels=False):
    """Features whose column 0 is the example's index, and random labels."""
    rng = onp.random.default_rng(seed)
    features = onp.hstack([onp.arange(num_examples, dtype=onp.float64)[:, None],
                           rng.normal(0, 1, (num_examples, 2))]).astype(onp.float32)
    labels = rng.normal(0, 1, (num_examples,) if flat_labels else (num_examples, 1))
    return features, labels.astype(onp.float32)


def _read_batches(data_iter, batch_size, num_examples, seed, flat_labels):
    """Call data_iter once; check every batch pairs rows of features with their labels.

    Returns the example indices of each batch, in the order they came.
    """
    features, labels = _indexed_data(num_examples, seed, flat_labels)
    value = core.call(data_iter, batch_size, np.array(features), np.array(labels), seed=seed)
    inputs = f"batch_size={batch_size}, {num_examples} examples"
    if not isinstance(value, core.GeneratorResult):
        if value is None:
            core.fail(data_iter, "returned None, expected a generator: write the loop with "
                                 "`yield X_batch, y_batch` for each minibatch")
        core.fail(data_iter, f"returned {core.type_name(value)}, expected a generator: "
                             "instead of collecting the batches, `yield X_batch, y_batch` "
                             "inside the loop, so that each minibatch is made when needed")
    if not value:
        core.fail(data_iter, f"yielded no batch at all ({inputs})")
    label_tail = labels.shape[1:]
    batches = []
    for k, item in enumerate(value):
        X, y = spec.pair(data_iter, item, "(X_batch, y_batch)")
        core.expect_array(data_iter, X, f"X_batch of batch {k}")
        core.expect_array(data_iter, y, f"y_batch of batch {k}")
        if X.ndim != 2 or X.shape[1] != features.shape[1]:
            core.fail(data_iter, f"X_batch of batch {k} has shape {tuple(X.shape)}, "
                                 f"expected (batch, {features.shape[1]}): rows of features")
        m = X.shape[0]
        if m == 0:
            core.fail(data_iter, f"batch {k} is empty ({inputs}): yield only batches that "
                                 "hold examples")
        if tuple(y.shape) != (m,) + label_tail:
            core.fail(data_iter, f"y_batch of batch {k} has shape {tuple(y.shape)}, expected "
                                 f"{(m,) + label_tail} (the labels of its {m} rows, indexed "
                                 "like the features)")
        Xb, yb = core.to_numpy(X), core.to_numpy(y)
        ids = onp.rint(Xb[:, 0]).astype(int)
        valid = (ids >= 0) & (ids < num_examples) & (onp.abs(Xb[:, 0] - ids) == 0)
        valid[valid] &= (Xb[valid] == features[ids[valid]]).all(axis=1)
        if not valid.all():
            r = int(onp.argmin(valid))
            core.fail(data_iter, f"row {r} of X_batch of batch {k} is not a row of features "
                                 f"({inputs}): index the features, `features[batch_indices]`")
        paired = (yb == labels[ids]).reshape(m, -1).all(axis=1)
        if not paired.all():
            r = int(onp.argmin(paired))
            core.fail(data_iter, f"batch {k} pairs row {r} of X (example {ids[r]}) with a "
                                 f"label that is not example {ids[r]}'s ({inputs}): index "
                                 "features and labels with the same batch_indices")
        batches.append(ids)
    return batches


# (batch_size, num_examples) tried after the cell's own: batches of one example, and a
# last batch of one example.
EXTRA_BATCHINGS = ((1, 4), (3, 7))


def data_iter_batches(data_iter, num_examples=103, batch_size=10, seed=0, flat_labels=False):
    """One call yields every example exactly once, in batches of batch_size (the last
    may be smaller), each pairing rows of features with their own labels: with the
    cell's sizes, then with each of EXTRA_BATCHINGS."""
    sizes = _judge_batches(data_iter, num_examples, batch_size, seed, flat_labels)
    for size, count in EXTRA_BATCHINGS:
        _judge_batches(data_iter, count, size, seed, flat_labels)
    extra = ", ".join(f"batch_size={size} with {count}" for size, count in EXTRA_BATCHINGS)
    core.passed(data_iter, f"every example exactly once with its own label, in "
                           f"{_count(len(sizes), 'batch')} (batch_size={batch_size}, "
                           f"{num_examples} examples), and for {extra} examples")


def _judge_batches(data_iter, num_examples, batch_size, seed, flat_labels):
    """One pass of data_iter: every example once, in batches of the right sizes; returns
    the sizes."""
    batches = _read_batches(data_iter, batch_size, num_examples, seed, flat_labels)
    inputs = f"batch_size={batch_size}, {num_examples} examples"
    sizes = [len(ids) for ids in batches]
    # both asked on every path: the student package then knows them for any wrong batches
    expected = _batch_sizes(num_examples, batch_size)
    truncated = _full_batch_sizes(num_examples, batch_size)
    seen = onp.bincount(onp.concatenate(batches), minlength=num_examples)
    if (seen > 1).any():
        i = int(onp.argmax(seen > 1))
        core.fail(data_iter, f"example {i} came {seen[i]} times in one pass ({inputs}): "
                             "each example must come exactly once per call; step through "
                             "one permutation with range(0, num_examples, batch_size)")
    missing = int(onp.count_nonzero(seen == 0))
    if missing:
        if sizes == truncated:
            core.fail(data_iter, f"the last, incomplete batch is missing ({inputs}): the "
                                 f"{missing} examples left over after the full batches "
                                 f"never came. Loop over range(0, num_examples, batch_size) "
                                 "and slice up to min(i + batch_size, num_examples)")
        core.fail(data_iter, f"{missing} of {num_examples} examples never came (e.g. example "
                             f"{int(onp.argmax(seen == 0))}) ({inputs}): every example must "
                             "come exactly once per call")
    if sizes != expected:
        k = next(k for k, (s, e) in enumerate(zip(sizes + [0] * len(expected),
                                                  expected + [0] * len(sizes))) if s != e)
        core.fail(data_iter, f"yielded {_count(len(sizes), 'batch')} of sizes "
                             f"{_sizes(sizes)}, expected {_count(len(expected), 'batch')} "
                             f"of sizes {_sizes(expected)} "
                             f"({inputs}); batch {k} differs: all batches hold batch_size "
                             "examples, except a smaller last one")
    return sizes


@core.oracle
def _batch_sizes(num_examples, batch_size):
    """The sizes of data_iter's batches, in order."""
    sizes = _full_batch_sizes(num_examples, batch_size)
    return sizes + [num_examples % batch_size] if num_examples % batch_size else sizes


@core.oracle
def _full_batch_sizes(num_examples, batch_size):
    """The sizes of the batches of a data_iter that leaves out the last, incomplete one."""
    return [batch_size] * (num_examples // batch_size)


def _sizes(sizes):
    text = ", ".join(str(s) for s in sizes[:4])
    if len(sizes) > 6:
        text += f", ... , {sizes[-2]}, {sizes[-1]}"
    elif len(sizes) > 4:
        text += ", " + ", ".join(str(s) for s in sizes[4:])
    return f"[{text}]"


def data_iter_shuffles(data_iter, num_examples=50, batch_size=8, seed=0):
    """Examples come in a random order, and a new one on each call (each epoch)."""
    inputs = f"batch_size={batch_size}, {num_examples} examples"
    first = _read_batches(data_iter, batch_size, num_examples, seed, False)
    order = onp.concatenate(first)
    if len(order) > 1 and (onp.diff(order) == 1).all():
        core.fail(data_iter, f"reads the examples in order 0, 1, 2, ... ({inputs}): shuffle "
                             "the indices (random.shuffle(indices)) before slicing them into "
                             "batches, so that minibatches are random samples")
    if len(first) > 2 and all((onp.diff(ids) == 1).all() for ids in first):
        core.fail(data_iter, f"each batch holds consecutive examples ({inputs}): shuffle the "
                             "example indices, not the order of the batches")
    second = onp.concatenate(_read_batches(data_iter, batch_size, num_examples, seed + 1,
                                           False))
    if len(order) == len(second) and (order == second).all():
        core.fail(data_iter, f"two calls gave the same order of examples ({inputs}): draw a "
                             "new permutation each time data_iter is called (no fixed seed "
                             "inside it, no permutation made once outside it), so each "
                             "epoch sees new minibatches")
    core.passed(data_iter, f"shuffled examples, a new order on each call ({inputs})")


# --------------------------------------------------------------------------- linreg

def _values(shape, seed, **kwargs):
    """core.random_array's float32 values as classic NumPy: data of an input builder."""
    return core.random_array(shape, seed, **kwargs).asnumpy()


def _linreg_inputs(num_examples=6, num_inputs=3, seed=0):
    """X (n, d), w (d, 1) and b (1,) drawn from [1, 3), a bias too large to hide."""
    return (_values((num_examples, num_inputs), seed), _values((num_inputs, 1), seed + 1),
            _values((1,), seed + 2, low=1.0, high=3.0))


def _linreg_words(X, w, b):
    return f"X {X.shape}, w {w.shape}, b {b.shape}"


@core.oracle
def _linreg_mistakes(X, w, b):
    return [(_linear(X, w, 0.0), f"linreg ignores b: it returned X w for "
                                 f"{_linreg_words(X, w, b)}; return np.dot(X, w) + b")]


# linreg(X, w, b) = X w + b for X (n, d), w (d, 1), b (1,) (checks.spec).
linreg_matches = spec.check(spec.Spec(
    name="linreg", inputs=_linreg_inputs, oracle=_linear, mistakes=_linreg_mistakes,
    what="the prediction", shape=None, describe=_linreg_words,
    compared="the prediction X w + b", hint="return np.dot(X, w) + b",
    passed="X w + b for {inputs}", differentiable=True))


# --------------------------------------------------------------------------- squared_loss

def _squared_loss_inputs(y_hat_shape=(6, 1), y_shape=(6,), seed=0):
    """y_hat and y, N(0, 2^2), of shapes (n, 1) and (n,) or any other two of n entries."""
    return _values(y_hat_shape, seed, scale=2.0), _values(y_shape, seed + 1, scale=2.0)


def _squared_loss_words(y_hat, y):
    return f"y_hat of shape {y_hat.shape}, y of shape {y.shape}"


def _squared_loss_shape(shape, case):
    """What a loss of a wrong `shape` did, or None."""
    y_hat, y = case.args
    inputs = case.inputs
    if shape == y_hat.shape:
        return None
    if len(shape) == 2 and shape[0] == shape[1] == y_hat.shape[0] > 1:
        return (f"got shape {shape} from {y_hat.shape} - {y.shape}: reshape y to y_hat's "
                "shape, y.reshape(y_hat.shape), before subtracting (an (n, 1) array minus "
                "an (n,) array broadcasts to (n, n))")
    if math.prod(shape) == 1:
        return (f"returned a single number for {inputs}: return the loss of every example, "
                f"shape {y_hat.shape}; the training loop sums or averages it")
    if shape == y.shape:
        return (f"the loss has y's shape {shape}, expected y_hat's {y_hat.shape} ({inputs}): "
                "reshape y to y_hat's shape, not y_hat to y's")
    return None


@core.oracle
def _squared_loss(y_hat, y):
    """squared_loss's answer: (y_hat - y)^2 / 2 in y_hat's shape."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


@core.oracle
def _squared_loss_mistakes(y_hat, y):
    """What the catalogued mistakes of squared_loss return: no 1/2, no square."""
    inputs = _squared_loss_words(y_hat, y)
    return [(2 * _squared_loss(y_hat, y), f"the loss is twice the expected value ({inputs}): "
                                          "the squared loss has a factor 1/2, "
                                          "(y_hat - y)**2 / 2"),
            (onp.abs(y_hat - y.reshape(y_hat.shape)) / 2,
             f"the difference is not squared ({inputs}): (y_hat - y)**2 / 2")]


# (y_hat - y.reshape(y_hat.shape))^2 / 2, in the shape of y_hat, for y given as (n,) or
# (n, 1) (checks.spec).
squared_loss_matches = spec.check(spec.Spec(
    name="squared_loss", inputs=_squared_loss_inputs, oracle=_squared_loss,
    mistakes=_squared_loss_mistakes, what="the loss", shape=None,
    shape_mistakes=_squared_loss_shape, describe=_squared_loss_words,
    hint="(y_hat - y.reshape(y_hat.shape)) ** 2 / 2",
    passed="(y_hat - y)^2 / 2 in y_hat's shape for {inputs}", differentiable=True))


# --------------------------------------------------------------------------- sgd

# A second update with gradients of this scale (norms in the thousands) finds an update
# that clips or normalises large gradients: the rules of sgd and sgd_momentum have no limit.
LARGE_GRADIENT = 1e3


def shrinks_large_gradients(got, want):
    """True if every entry of the update `got` has the sign of `want` and at most its size,
    and the whole is visibly smaller: what clipping or normalising a gradient does (asked
    only of large gradients, once the same update was right for small ones)."""
    same_side = (got * want >= 0) & (onp.abs(got) <= onp.abs(want) * (1 + core.RTOL))
    return bool(same_side.all()) and onp.abs(got).sum() < 0.99 * onp.abs(want).sum()


def _sgd_inputs(shapes=((3, 1), (1,)), lr=0.03, batch_size=10, seed=0):
    """Random parameters with N(0, 1) gradients, then with gradients LARGE_GRADIENT times
    larger: a clipped or normalised gradient is found by the second call."""
    calls = []
    for scale in (1.0, LARGE_GRADIENT):
        params = [spec.Param(_values(shape, seed + 2 * k),
                             _values(shape, seed + 2 * k + 1, scale=scale))
                  for k, shape in enumerate(shapes)]
        norm = math.sqrt(sum(float((p.grad.astype(onp.float64) ** 2).sum()) for p in params))
        calls.append(spec.Call((params, lr, batch_size), (
            f"{_sgd_words(shapes, lr, batch_size)}"
            + (f", gradients of norm {norm:.3g}" if scale > 1 else "")), scale))
    return calls


def _sgd_words(shapes, lr, batch_size):
    return (f"params of shapes {', '.join(str(tuple(s)) for s in shapes)}, lr={lr}, "
            f"batch_size={batch_size}")


@core.oracle
def _sgd_update(params, lr, batch_size):
    """The entries of the parameters after sgd, one vector."""
    return onp.concatenate([(p.value - _sgd_step(p.grad, lr, batch_size)).ravel()
                            for p in params])


def _sgd_mistakes(params, lr, batch_size):
    return _sgd_mistake_ratios(lr, batch_size)


def _explain_sgd(sgd, got, case, value):
    """Fail naming the parameters that did not change, or the step's wrong factor, or
    large gradients clipped (the call's tag is the gradients' scale), or the worst entry;
    `value` is what sgd returned."""
    params, lr, batch_size = case.args
    inputs = case.inputs
    before = [p.value.astype(onp.float64) for p in params]
    ends = onp.cumsum([b.size for b in before])[:-1]
    after = [a.reshape(b.shape) for a, b in zip(onp.split(got, ends), before)]
    steps = [b - a for b, a in zip(before, after)]        # what the student subtracted
    wanted = [_sgd_step(p.grad.astype(onp.float64), lr, batch_size)
              for p in params]                             # what sgd should subtract
    if all(not s.any() for s in steps):
        if value is not None:
            core.fail(sgd, f"the parameters did not change, and sgd returned "
                           f"{core.type_name(value)} ({inputs}): sgd must update the "
                           "parameters in place, so that the caller's w and b change; "
                           "write `param[:] = param - lr * param.grad / batch_size` and "
                           "return nothing")
        core.fail(sgd, f"the parameters did not change ({inputs}): sgd updates in place, "
                       "but your function rebound `param` instead of writing `param[:]`. "
                       "`param = param - ...` makes a new array that the caller never sees; "
                       "write `param[:] = param - lr * param.grad / batch_size`")
    for k, step in enumerate(steps):
        if not step.any():
            core.fail(sgd, f"params[{k}] did not change ({inputs}): update every parameter "
                           "in the list, in place")
    step = onp.concatenate([s.ravel() for s in steps])
    want = onp.concatenate([w.ravel() for w in wanted])
    ratio = float(step @ want / (want @ want))
    if onp.allclose(step, ratio * want, rtol=1e-3, atol=core.ATOL):
        diagnoses = {
            "not divided": f"the steps are batch_size = {batch_size} times too large: "
                           "divide the gradient by batch_size, param.grad / batch_size "
                           "(backward() sums the loss over the minibatch)",
            "divided twice": "the steps are batch_size times too small: divide the gradient "
                             "by batch_size once, not twice",
            "uphill": "the parameters moved up the gradient: subtract the step, "
                      "param - lr * param.grad / batch_size",
            "no lr": f"the steps are 1/lr times too large: multiply the gradient by the "
                     f"learning rate lr = {lr}",
            "bare gradient": "the step is param.grad: multiply by lr and divide by "
                             "batch_size",
        }
        for mistake, factor in case.mistakes.items():
            if abs(factor - 1) > 1e-6 and abs(ratio - factor) <= 1e-3 * abs(factor):
                core.fail(sgd, f"{diagnoses[mistake]} ({inputs})")
    if case.tag > 1 and shrinks_large_gradients(step, want):
        core.fail(sgd, f"the step is smaller than lr * param.grad / batch_size ({inputs}): "
                       "large gradients are clipped or normalised. The rule has no limit: "
                       "param[:] = param - lr * param.grad / batch_size for a gradient of "
                       "any size")
    for k, (a, b, w) in enumerate(zip(after, before, wanted)):
        core.assert_close(sgd, a, b - w, f"params[{k}] after the update",
                          inputs=inputs, hint="param[:] = param - lr * param.grad / batch_size")


# Each param becomes param - lr * param.grad / batch_size, in place; sgd returns None
# (checks.spec).
sgd_updates_in_place = spec.check(spec.Spec(
    name="sgd", inputs=_sgd_inputs, oracle=_sgd_update, mistakes=_sgd_mistakes,
    updates=0, wrong=_explain_sgd,
    returns_none="sgd updates the parameters in place and returns None (leave out the "
                 "return statement)",
    passed=lambda shapes, lr, batch_size, seed: (
        f"in-place update param - lr * grad / batch_size for "
        f"{_sgd_words(shapes, lr, batch_size)}, also for gradients {LARGE_GRADIENT:g} times "
        f"larger")))


@core.oracle
def _sgd_step(grad, lr, batch_size):
    """What sgd subtracts from a parameter with gradient `grad`."""
    return lr * grad / batch_size


@core.oracle
def _sgd_mistake_ratios(lr, batch_size):
    """{catalogued mistake of sgd: its step / the right step}."""
    return {"not divided": batch_size, "divided twice": 1 / batch_size, "uphill": -1.0,
            "no lr": 1 / lr, "bare gradient": batch_size / lr}


# --------------------------------------------------------------------------- closed_form

def _closed_form_data(num_examples, num_inputs, bias, x_mean):
    return (f"{_count(num_examples, 'example')} of {_count(num_inputs, 'feature')} with "
            f"mean {x_mean}, bias {bias}")


def _closed_form_inputs(num_examples=100, num_inputs=3, bias=4.2, x_mean=1.0, seed=0):
    """Data with a bias and features of nonzero mean, so that a fit without the column of
    ones is visibly wrong; y as (n, 1), then as (n,) (the contract allows both)."""
    true_w = onp.random.default_rng(seed).normal(0, 2, num_inputs)
    X, y = (core.to_numpy(a).astype(onp.float32) for a in regression_data(
        num_examples, true_w, bias, seed, x_mean=x_mean, noise=0.1))
    data = _closed_form_data(num_examples, num_inputs, bias, x_mean)
    return [spec.Call((X, labels), f"{data}, y of shape {labels.shape}")
            for labels in (y, y.reshape(-1))]


def _closed_form_tolerance(X, y):
    """The normal equations' forward error in float32: solving with A^T A, whose condition
    number is cond(A)^2, loses that factor of accuracy in d + 1 unknowns (measured errors
    of np.linalg.solve, inv and lstsq stay below a tenth of it)."""
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


def _explain_wrong_fit(closed_form, got, case, returned):
    """Fail naming the bias that is not fitted, or the worst entry of (w; b)."""
    theta, no_bias, tolerance, inputs = case.expected, case.mistakes, case.atol, case.inputs
    if onp.abs(got[:-1] - no_bias).max() <= 1e-2 * onp.abs(no_bias).max() \
            or abs(got[-1]) <= tolerance:
        core.fail(closed_form, f"closed_form ignores the bias ({inputs}): b = "
                               f"{got[-1]:.4g}, expected {theta[-1]:.4g}. Solve the "
                               "normal equations on A = [X, 1], X with a column of ones "
                               "appended, so that b is fitted together with w")
    k = int(onp.argmax(onp.abs(got - theta)))
    name = f"w[{k}]" if k < len(theta) - 1 else "b"
    core.fail(closed_form, f"(w, b) is not the least-squares fit ({inputs}): {name} = "
                           f"{got[k]:.6g}, expected {theta[k]:.6g} (tolerance "
                           f"{tolerance:.1e}). Solve (A^T A) theta = A^T y with "
                           "A = [X, 1] (e.g. np.linalg.solve) and split theta in the order "
                           "of A's columns, w = theta[:-1], b = theta[-1]")


# closed_form(X, y) is the least-squares (w, b) on [X, 1], of shapes (d, 1) and (1,)
# (checks.spec).
closed_form_matches = spec.check(spec.Spec(
    name="closed_form", inputs=_closed_form_inputs, oracle=_least_squares,
    mistakes=_least_squares_without_bias, result=("w", "b"),
    shape=lambda X, y: ((X.shape[1], 1), (1,)),
    shape_hint=("one weight per feature, as a column",
                "b = theta[-1] of the (d + 1, 1) solution theta has shape (1,); or reshape "
                "it with b.reshape(1)"),
    shape_mistakes=_closed_form_shape, wrong=_explain_wrong_fit,
    rtol=0.0, atol=_closed_form_tolerance,
    passed=lambda num_examples, num_inputs, bias, x_mean, seed: (
        f"least-squares (w, b) with w ({num_inputs}, 1) and b (1,) for "
        f"{_closed_form_data(num_examples, num_inputs, bias, x_mean)}, y of shape "
        f"({num_examples}, 1) and ({num_examples},)")))


# --------------------------------------------------------------------------- training

def sgd_oracle(X, y, lr, num_epochs, batch_size, runs, rng, train_b=True):
    """Parameters (w; b) after minibatch SGD on the squared loss, for `runs` independent
    runs from w ~ N(0, 0.01^2), b = 0: array (runs, d + 1), float64.

    `rng` draws each run's initial w and its order of the examples in every epoch;
    `train_b=False` models a trainer that leaves b out of the update.
    """
    n, d = X.shape
    initial = rng.normal(0, INIT_STD, (runs, d))
    orders = onp.array([[rng.permutation(n) for _ in range(num_epochs)] for _ in range(runs)],
                       dtype=onp.int64).reshape(runs, num_epochs, n)
    return _minibatch_sgd(X, y, lr, batch_size, initial, orders, train_b)


@core.oracle
def _minibatch_sgd(X, y, lr, batch_size, initial, orders, train_b):
    """(w; b) of each run after minibatch SGD from w = initial[run], b = 0, visiting the
    examples in the order orders[run, epoch] in each epoch."""
    runs, d = initial.shape
    A = _design(X)
    y = y.reshape(-1)
    thetas = onp.zeros((runs, d + 1))
    thetas[:, :d] = initial
    mask = onp.ones(d + 1)
    mask[-1] = 1.0 if train_b else 0.0
    with onp.errstate(over="ignore", invalid="ignore"):
        for theta, epochs in zip(thetas, orders):
            for order in epochs:
                for start in range(0, len(order), batch_size):
                    batch = order[start:start + batch_size]
                    gradient = A[batch].T @ (A[batch] @ theta - y[batch])
                    theta -= lr / batch_size * gradient * mask
    return thetas


def _expected_parameters(X, y, lr, num_epochs, batch_size, seed, runs=48, **mistake):
    """Mean and tolerance (Z standard deviations over runs, plus float32 rounding) of
    the parameters that minibatch SGD reaches with these hyperparameters."""
    thetas = sgd_oracle(X, y, lr, num_epochs, batch_size, runs,
                        onp.random.default_rng(seed), **mistake)
    mean = thetas.mean(axis=0)
    steps = num_epochs * -(-len(X) // batch_size)
    rounding = (steps + 1) * core.FLOAT32_EPS * onp.abs(mean).max() + core.ATOL
    return mean, Z * thetas.std(axis=0) + rounding


def _call_trainer(train, *args, seed, **kwargs):
    """Call the trainer; explain MXNet's autograd errors in terms of the training loop."""
    try:
        return core.call(train, *args, seed=seed, **kwargs)
    except core.CheckFailure as failure:
        message = str(failure)
        if "already in a computational graph" in message:
            core.fail(train, "updates the parameters inside `with autograd.record():`, and "
                             "MXNet refuses to overwrite an array of the recorded graph. Only "
                             "compute the loss inside the block; call l.backward() and "
                             f"sgd(...) after it. (MXNet said: {_first_line(message)})")
        if "not in a computational graph" in message:
            core.fail(train, "l.backward() found no recorded computation: call "
                             "w.attach_grad() and b.attach_grad() after creating them, and "
                             "compute the loss inside `with autograd.record():`. (MXNet said: "
                             f"{_first_line(message)})")
        raise


def _first_line(message):
    """The first sentence of what MXNet's check said, without its C++ preamble."""
    found = [line.strip() for line in message.splitlines() if "Check failed" in line]
    if not found:
        return message.splitlines()[-1].strip()
    said = found[0].split("): ", 1)[-1]
    return said.split(". ")[0].rstrip(".") + "."


def _trained_parameters(train, value, d):
    """(w, b) as one float64 vector (w; b), after checking their types and shapes."""
    w, b = spec.pair(train, value, "(w, b)")
    core.expect_array(train, w, "w")
    if tuple(w.shape) == (d,):
        core.fail(train, f"w has shape ({d},), expected ({d}, 1): initialize it as a column, "
                         f"np.random.normal(0, 0.01, (num_inputs, 1))")
    core.expect_array(train, w, "w", shape=(d, 1), hint="one weight per feature, as a column")
    core.expect_array(train, b, "b", shape=(1,), hint="initialize b = np.zeros(1)")
    return onp.concatenate([core.to_numpy(w).ravel(), core.to_numpy(b).ravel()])


# A first, cheap run of every training check: 4 epochs of full-batch gradient descent
# on 20 examples, 4 updates whose result hardly depends on the random initial w, so
# that each typical mistake (a step scaled wrongly, a default argument used, no update)
# lands far outside the tolerance and fails in a fraction of a second, before the long run.
PROBE = dict(num_examples=20, lr=0.3, num_epochs=4, batch_size=20)


def train_linear_regression_fits(train_linear_regression, num_examples=500, w=TRUE_W,
                                 b=TRUE_B, lr=0.05, num_epochs=3, batch_size=7, seed=0):
    """Calls the trainer with these (non-default) arguments on the check's own data and
    compares the returned (w, b) with what minibatch SGD with the same hyperparameters
    reaches (float64 oracle, from w ~ N(0, 0.01^2), b = 0).

    With enough steps that is the least-squares fit; with few, it is a point on the way
    that depends on lr, num_epochs and batch_size, so a trainer that ignores one of them,
    or scales its steps wrongly, lands elsewhere (and the message says where). The
    :data:`PROBE` run comes first, with the same w and b.
    """
    _train_as_sgd(train_linear_regression, w=w, b=b, seed=seed, runs=400, **PROBE)
    got, arguments, mean = _train_as_sgd(train_linear_regression, num_examples, w, b, lr,
                                         num_epochs, batch_size, seed)
    core.passed(train_linear_regression, f"(w, b) = {_fmt(got)} as minibatch SGD with "
                                         f"{arguments} (expected {_fmt(mean)})")


def _train_as_sgd(train, num_examples, w, b, lr, num_epochs, batch_size, seed, runs=48):
    """Train on regression data; fail unless (w, b) is where minibatch SGD gets.

    Returns the parameters, the arguments in words and the oracle's mean."""
    X, y = regression_data(num_examples, w, b, seed)
    Xs, ys = core.to_numpy(X), core.to_numpy(y)
    d = Xs.shape[1]
    arguments = f"lr={lr}, num_epochs={num_epochs}, batch_size={batch_size}"
    inputs = f"{arguments}, on {num_examples} examples with w={_fmt(w)}, b={b}"
    value = _call_trainer(train, X, y, lr=lr, num_epochs=num_epochs, batch_size=batch_size,
                          seed=seed)
    got = _trained_parameters(train, value, d)
    mean, tolerance = _expected_parameters(Xs, ys, lr, num_epochs, batch_size, seed, runs)
    scale = onp.abs(_least_squares(Xs, ys)).max() + 1
    if not (onp.abs(got) <= 10 * scale).all():
        core.fail(train, f"training diverged: the parameters grew to {_fmt(got)} ({inputs}), "
                         "while minibatch SGD with these arguments converges. The steps are "
                         "much too large: backward() sums the loss over the minibatch, so "
                         "the step must divide by the batch size, sgd([w, b], lr, "
                         "batch_size), and sgd must subtract lr * param.grad / batch_size")
    off = onp.abs(got - mean) - tolerance
    if (off <= 0).all():
        return got, arguments, mean
    k = int(onp.argmax(off))
    name = f"w[{k}]" if k < d else "b"
    found = (f"after training {name} = {got[k]:.4f}, expected {mean[k]:.4f} +- "
             f"{tolerance[k]:.1g} ({inputs}; the least-squares fit is "
             f"{_fmt(_least_squares(Xs, ys))})")
    try:
        explanation = _diagnose_training(got, mean, tolerance, Xs, ys, lr, num_epochs,
                                         batch_size, seed)
    except core.UnknownAnswer:  # the student package knows the hypotheses' runs only
        explanation = None      # where a catalogued mistake made them
    if explanation:
        core.fail(train, f"{found}. That is where minibatch SGD gets when the trainer "
                         f"{explanation}")
    core.fail(train, f"{found}: that is not where minibatch SGD with these arguments "
                     "gets. Use lr, num_epochs and batch_size as given, start from "
                     "w ~ N(0, 0.01^2), b = 0, and update both after each minibatch with "
                     "sgd([w, b], lr, batch_size)")


def _diagnose_training(got, mean, tolerance, X, y, lr, num_epochs, batch_size, seed):
    """The typical mistake whose SGD run lands where the student's trainer did, or None.

    Each hypothesis is simulated; it explains the result if the result is much closer to
    it than to the correct run (within a fifth of the distance between the two), and it
    is only considered where it is clearly distinguishable from the correct run. (Steps
    batch_size times too large are not among them: such training diverges.)
    """
    given = dict(lr=lr, num_epochs=num_epochs, batch_size=batch_size)
    hypotheses = [  # (what the trainer did, the setting that reproduces it)
        ("does not update w and b at all: update both in place, sgd([w, b], lr, "
         "batch_size), after l.backward()", dict(given, lr=0.0)),
        ("divides the gradient by batch_size twice: backward() of the mean loss already "
         "divides by the batch size; either call backward() on the per-example losses "
         "(their sum) and let sgd divide, or pass 1 as sgd's batch_size",
         dict(given, lr=lr / batch_size)),
        ("takes steps twice as large as it should: is the factor 1/2 missing from the "
         "squared loss?", dict(given, lr=2 * lr)),
        ("moves up the gradient: sgd must subtract the step", dict(given, lr=-lr)),
        ("never updates b: pass both parameters, sgd([w, b], lr, batch_size), and "
         "attach a gradient to b", dict(given, train_b=False)),
        (f"uses lr=0.03 (the default), not lr={lr}: use the function's arguments, not "
         "notebook variables or constants", dict(given, lr=0.03)),
        (f"runs 3 epochs (the default), not num_epochs={num_epochs}: loop "
         "`for epoch in range(num_epochs)`", dict(given, num_epochs=3)),
        (f"uses batch_size=10 (the default), not batch_size={batch_size}: pass "
         "batch_size to data_iter and to sgd", dict(given, batch_size=10)),
    ]
    best, best_score = None, 0.2
    for explanation, setting in hypotheses:
        if setting == given:
            continue
        other, _ = _expected_parameters(X, y, seed=seed + 1, runs=8, **setting)
        separation = onp.abs(other - mean).max()
        if not onp.isfinite(separation) or separation <= 2 * tolerance.max():
            continue
        score = onp.abs(got - other).max() / separation
        if score < best_score:
            best, best_score = explanation, score
    return best


def train_linear_regression_initial_parameters(train_linear_regression, num_inputs=400,
                                               num_examples=20, seed=0):
    """With num_epochs=0 the trainer returns its initial parameters: w ~ N(0, 0.01^2)
    of shape (d, 1) and b = 0 of shape (1,).

    With d weights, their sample mean is within Z 0.01/sqrt(d) of 0 and their sample
    standard deviation within Z 0.01/sqrt(2d) of 0.01.
    """
    train = train_linear_regression
    X, y = regression_data(num_examples, onp.linspace(-2, 2, num_inputs), 1.0, seed)
    inputs = f"num_epochs=0 and {num_inputs} features"
    value = _call_trainer(train, X, y, lr=0.03, num_epochs=0, batch_size=10, seed=seed)
    got = _trained_parameters(train, value, num_inputs)
    w, b = got[:-1], got[-1]
    if not b == 0:
        core.fail(train, f"b = {b:.4g} after 0 epochs, expected 0 ({inputs}): start from "
                         "b = np.zeros(1), and train only in the epoch loop "
                         "`for epoch in range(num_epochs)`")
    if not w.any():
        core.fail(train, f"w is all zeros after 0 epochs ({inputs}): start from random "
                         "w = np.random.normal(0, 0.01, (num_inputs, 1)). (Zeros happen to "
                         "work for linear regression, see the exercises, but not for "
                         "networks with hidden layers.)")
    mean, std = w.mean(), w.std()
    if not (abs(mean) <= Z * INIT_STD / math.sqrt(num_inputs)
            and abs(std - INIT_STD) <= Z * INIT_STD / math.sqrt(2 * num_inputs)):
        if abs(std - 1) < 0.2:
            hint = "w has the default scale 1: np.random.normal(0, 0.01, (num_inputs, 1))"
        else:
            hint = "draw w from N(0, 0.01^2), np.random.normal(0, 0.01, (num_inputs, 1))"
        core.fail(train, f"after 0 epochs w has mean {mean:.4f} and standard deviation "
                         f"{std:.4f}, expected 0 and 0.01 ({inputs}): {hint}")
    _expect_nothing_learnt_at_lr_zero(train, X, y, seed)
    core.passed(train, f"initial w ~ N(0, 0.01^2) (std {std:.4f}) and b = 0 with {inputs}, "
                       f"and b stays 0 with lr=0")


def _expect_nothing_learnt_at_lr_zero(train, X, y, seed, num_epochs=2, batch_size=5):
    """With lr=0 the trainer learns nothing: b stays exactly 0 (the labels are not
    centred, so any step moves b)."""
    value = _call_trainer(train, X, y, lr=0.0, num_epochs=num_epochs, batch_size=batch_size,
                          seed=seed)
    b = _trained_parameters(train, value, X.shape[1])[-1]
    if not b == 0:
        core.fail(train, f"ignores lr: trained with lr=0 (num_epochs={num_epochs}, "
                         f"batch_size={batch_size}), b = {b:.4g}, where nothing may be "
                         f"learnt and b stays 0. Use the lr the function is called with: "
                         f"sgd([w, b], lr, batch_size)")
