"""Checks of assignment 05, multilayer perceptrons (``mlp.ipynb``): specs (:mod:`checks.spec`),
except the statistics of ``init_mlp_params``' draws and the training, hand-written."""
import dataclasses
import functools
import math

import numpy as onp
from scipy import special, stats

from d2lcourse.checks import core, draws, oracles, softmax_regression, spec

NUM_CLASSES, NUM_PIXELS = 10, 28 * 28
# The activations, and so their derivatives, are finite for inputs in [-1e4, 1e4]
# (COURSE_CONTRACT.md): each *_grad check also tries these inputs, where exp overflows.
RANGE_EDGES, RANGE_TEXT = (1e4, -1e4, 100.0, -100.0), "+-100 and +-10000 included"
MXNET_FIX = "build it with mxnet.np operations, or convert it with .as_np_ndarray()"
OVERFLOW = ("In float32, exp(x) overflows to inf for x > 88.7, and then inf / inf or "
            "inf - inf is NaN.")
NO_OVERFLOW_BELOW = 40     # |x| under which exp(+-2x) is finite in float32


# Oracles: float64 classic NumPy, independent of the student's code and of the solutions.
@core.oracle
def _activation(name, x):
    """The activation `name` (relu, sigmoid or tanh) at x, or its derivative (name_grad)."""
    e = onp.exp(-onp.abs(x))                      # <= 1: cannot overflow
    s, t = onp.where(x >= 0, 1 / (1 + e), e / (1 + e)), onp.tanh(x)
    return dict(relu=onp.maximum(x, 0.0), sigmoid=s, tanh=t, sigmoid_grad=s * (1 - s),
                tanh_grad=1 - t ** 2)[name]


@core.oracle
def _mistakes(name, x):
    """The catalogued mistakes [(value, message)] of the activation or derivative `name`."""
    sigmoid = functools.partial(_activation, "sigmoid")
    s, t = sigmoid(x), onp.tanh(x)
    if name == "relu":
        return [(onp.minimum(x, 0), "computed min(x, 0): ReLU keeps the positive part, max(x, 0)"),
                ((x > 0).astype(onp.float64), "returned the mask x > 0, which is ReLU's "
                 "derivative, not max(x, 0) itself: X * (X > 0) or np.maximum(X, 0)"),
                (onp.abs(x), "returned |x|: for x < 0, max(x, 0) is 0"),
                (x, "returned x unchanged: for x < 0, max(x, 0) is 0")]
    if name == "sigmoid":
        return [(sigmoid(-x), "computed sigmoid(-x): the exponent is -x, "
                              "sigmoid(x) = 1 / (1 + exp(-x))"),
                (1 / (1 - onp.exp(-x)), "computed 1 / (1 - exp(-x)): the denominator is "
                                        "1 + exp(-x)"),
                (t, "computed tanh(x): sigmoid(x) = 1 / (1 + exp(-x)) lies in (0, 1)")]
    if name == "tanh":
        return [(onp.tanh(x / 2), "computed tanh(x / 2), e.g. (1 - exp(-x)) / (1 + exp(-x)) or "
                 "2 sigmoid(x) - 1: the exponent is 2x, tanh(x) = (1 - exp(-2x)) / "
                 "(1 + exp(-2x)) = 2 sigmoid(2x) - 1"),
                (sigmoid(2 * x), "computed sigmoid(2x): tanh(x) = 2 sigmoid(2x) - 1"),
                (onp.abs(t), "returned |tanh(x)|: tanh is odd, tanh(-x) = -tanh(x); multiply by "
                             "np.sign(X)"),
                (s, "computed sigmoid(x), not tanh(x)")]
    if name == "relu_grad":
        return [(onp.maximum(x, 0.0), "returned relu(x) = max(x, 0) itself, not its derivative: "
                 "the slope is 1 for x > 0 and 0 for x < 0, i.e. (X > 0).astype(X.dtype)"),
                ((x < 0).astype(onp.float64), "returned 1 for x < 0 and 0 for x > 0: the slope "
                                              "of max(x, 0) is 1 where x > 0"),
                (onp.sign(x), "returned sign(x): for x < 0, max(x, 0) is constant, so its slope "
                              "is 0, not -1")]
    if name == "sigmoid_grad":
        return [(s, "returned sigmoid(x) itself, not its derivative: "
                    "sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))"),
                (x * (1 - x), "computed x (1 - x): the formula s (1 - s) is about s = "
                              "sigmoid(x), not x"),
                (-s * (1 - s), "has the wrong sign: sigmoid is increasing, its slope is "
                               "positive, sigmoid(x) (1 - sigmoid(x))"),
                (1 - s, "computed 1 - sigmoid(x): multiply by sigmoid(x), "
                        "sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))"),
                (s * (1 + s), "computed s (1 + s): sigmoid'(x) = s (1 - s) with s = sigmoid(x)")]
    return [(1 - x ** 2, "computed 1 - x^2: the derivative is 1 - tanh(x)^2, so square "
                         "tanh(x), not x"),
            (t, "returned tanh(x) itself, not its derivative 1 - tanh(x)^2"),
            (1 - t, "computed 1 - tanh(x): square it, tanh'(x) = 1 - tanh(x)^2"),
            (1 + t ** 2, "computed 1 + tanh(x)^2: the sign is minus, 1 - tanh(x)^2"),
            (t ** 2 - 1, "has the wrong sign: tanh is increasing, tanh'(x) = 1 - tanh(x)^2")]


def _with_edges(values, edges):
    """`values` in float32, their first entries replaced by `edges`."""
    count = min(len(edges), values.size)
    values.reshape(-1)[:count] = edges[:count]       # a view of the fresh draws
    return values.astype(onp.float32)


def normal_inputs(edges):
    """An input builder (checks.spec): N(0, scale^2) values, the first ones edges(scale)."""
    def inputs(shape=(4, 6), scale=3.0, seed=0):
        return _with_edges(onp.random.default_rng(seed).normal(0.0, scale, shape), edges(scale))
    return inputs


def large_inputs(magnitude=1e4, shape=(3, 4), seed=0):
    """Uniform values in [-magnitude, magnitude] with the extremes and the overflow edge."""
    edges = (magnitude, -magnitude, 0.0, 100.0, -100.0, 88.8, -88.8, 30.0, -30.0)
    return _with_edges(onp.random.default_rng(seed).uniform(-magnitude, magnitude, shape),
                       [e for e in edges if abs(e) <= magnitude])


def _elementwise(name, **fields):
    """The spec of `name`, an activation or derivative written by hand (no ready-made operator)."""
    defaults = dict(oracle=functools.partial(_activation, name), forbidden=core.HAND_DERIVED)
    return spec.Spec(name=name, mistakes=functools.partial(_mistakes, name), legacy_fix=MXNET_FIX,
                     **{**defaults, **fields})


# Each *_stable check is its *_matches check on inputs anywhere in [-magnitude, magnitude].
Stable = functools.partial(dataclasses.replace, inputs=large_inputs, differentiable=False,
                           passed="finite and right for inputs up to |x| = {magnitude:g}")
ON_NORMAL_INPUTS = "on {size} N(0, {scale:g}^2) inputs"
DERIVATIVE_INPUTS = normal_inputs(lambda scale: (0.0, -scale, scale) + RANGE_EDGES)

RELU = _elementwise(
    "relu", inputs=normal_inputs(lambda scale: (0.0, -1e-6, 1e-6, -scale, scale)),
    shown_as="max(x, 0)", finite="max(x, 0) needs no exp and no division: np.maximum(X, 0)",
    passed=f"max(x, 0) {ON_NORMAL_INPUTS}, 0 and +-1e-6 included", differentiable=True)
SIGMOID = _elementwise(
    "sigmoid", inputs=normal_inputs(lambda scale: (0.0, -scale, scale)), shown_as="sigmoid(x)",
    finite=f"{OVERFLOW} Use 1 / (1 + np.exp(-X)): for x << 0 its exp(-x) = inf gives 1 / inf "
           f"= 0, which is right; exp(x) / (1 + exp(x)) turns into inf / inf for large x",
    overflow_from=NO_OVERFLOW_BELOW, passed=f"1 / (1 + exp(-x)) {ON_NORMAL_INPUTS}",
    differentiable=True)
TANH = _elementwise(
    "tanh", inputs=normal_inputs(lambda scale: (0.0, -scale, scale, 1e-3, -1e-3)),
    shown_as="tanh(x)", forbidden=core.HAND_WRITTEN_TANH,
    finite=f"{OVERFLOW} Rewrite it with E = np.exp(-2 * np.abs(X)), which is at most 1 and "
           f"so cannot overflow: tanh(x) = sign(x) (1 - E) / (1 + E)",
    overflow_from=NO_OVERFLOW_BELOW, passed=f"tanh(x) {ON_NORMAL_INPUTS}", differentiable=True)
relu_matches = spec.check(RELU)
sigmoid_matches = spec.check(SIGMOID)
sigmoid_stable = spec.check(Stable(SIGMOID))
tanh_matches = spec.check(TANH)
tanh_stable = spec.check(Stable(TANH))
relu_grad_matches = spec.check(_elementwise(
    "relu_grad", oracle=oracles.relu_slope, shown_as="relu'(x)",
    inputs=normal_inputs(lambda scale: (0.0, 0.0, -1e-6, 1e-6, -scale, scale) + RANGE_EDGES),
    kink=spec.Kink(0.0, 0.0, 1.0, "max(x, 0) has a kink there, and every value in [0, 1] is "
                                  "a subgradient: pick one (X > 0 gives 0, X >= 0 gives 1)"),
    passed=f"the slope of max(x, 0) {ON_NORMAL_INPUTS}, 0, +-1e-6, {RANGE_TEXT}"))
sigmoid_grad_matches = spec.check(_elementwise(
    "sigmoid_grad", inputs=DERIVATIVE_INPUTS, shown_as="sigmoid'(x)",
    finite=f"{OVERFLOW} Compute s = sigmoid(X) first, then s * (1 - s)",
    overflow_from=NO_OVERFLOW_BELOW,
    passed=f"sigmoid(x) (1 - sigmoid(x)) {ON_NORMAL_INPUTS}, {RANGE_TEXT}"))
tanh_grad_matches = spec.check(_elementwise(
    "tanh_grad", inputs=DERIVATIVE_INPUTS, shown_as="tanh'(x)",
    finite=f"{OVERFLOW} Compute t = tanh(X) with your stable tanh, then 1 - t ** 2",
    overflow_from=NO_OVERFLOW_BELOW, passed=f"1 - tanh(x)^2 {ON_NORMAL_INPUTS}, {RANGE_TEXT}"))


# --------------------------------------------------------------------------- init_mlp_params
PARAM_ROLES = {"W1": "W1 maps inputs to hidden units (X @ W1)", "b1": "one bias per hidden unit",
               "W2": "W2 maps hidden units to outputs (H @ W2)", "b2": "one bias per output"}
PARAM_NAMES = tuple(PARAM_ROLES)


@core.oracle
def _param_shapes(num_inputs, num_hiddens, num_outputs):
    """The shapes of W1, b1, W2, b2: init_mlp_params' values are random, its spec's `wrong`
    judges them."""
    return {"W1": (num_inputs, num_hiddens), "b1": (num_hiddens,),
            "W2": (num_hiddens, num_outputs), "b2": (num_outputs,)}


def _shape_slip(shapes, expected, what, hint=""):
    """What the first of the parameters' `shapes` that is not as `expected` says, or None."""
    for (name, role), shape, want in zip(PARAM_ROLES.items(), shapes, expected.values()):
        if shape != want:
            if shape == tuple(reversed(want)):
                role += ": it is transposed"
            elif len(want) == 1 and math.prod(shape) == want[0]:
                role += ": a bias is a vector, e.g. np.zeros(num_hiddens)"
            return f"{name} in {what} has shape {shape}, expected {want} ({role}){hint}"


def _params(function, params, shapes, what, hint=""):
    """The list [W1, b1, W2, b2] of float mxnet arrays of `shapes` as float64 arrays, or
    fail saying why not."""
    params = spec.pair(function, params, "[W1, b1, W2, b2]")
    for name, param in zip(PARAM_NAMES, params):
        core.expect_float_array(function, param, f"{name} in {what}", legacy_fix=MXNET_FIX)
    slip = _shape_slip([tuple(param.shape) for param in params], shapes, what, hint)
    if slip:
        core.fail(function, slip)
    return [core.to_numpy(param) for param in params]


def _initial_slips(init, got, case, params):
    """Fail for nonzero biases, weights all equal, or a parameter without a gradient."""
    for name, param in zip(PARAM_NAMES, params):
        value = core.to_numpy(param).reshape(-1)
        if name[0] == "b" and value.any():
            core.fail(init, f"{name} has nonzero entries: biases start at zero (np.zeros); only "
                            f"the weights are random, which is enough to make the hidden units "
                            f"differ")
        if name[0] == "W" and (value == value[0]).all():
            core.fail(init, f"all entries of {name} equal {value[0]:g}: weights must be random, "
                            f"else every hidden unit computes the same thing and gets the same "
                            f"gradient forever (symmetry)")
    for name, param in zip(PARAM_NAMES, params):
        if getattr(param, "grad", None) is None:
            core.fail(init, f"{name} has no gradient attached: call {name}.attach_grad() (or "
                            f"param.attach_grad() for each) so that backward() can fill "
                            f"{name}.grad")


init_mlp_params_shapes = spec.check(spec.Spec(
    name="init_mlp_params", oracle=_param_shapes,
    inputs=lambda num_inputs=784, num_hiddens=256, num_outputs=10, seed=0: (
        num_inputs, num_hiddens, num_outputs),
    result=list(PARAM_NAMES), shape=None, legacy_fix=MXNET_FIX, wrong=_initial_slips,
    shape_mistakes=lambda W1, b1, W2, b2, case: _shape_slip(
        (W1, b1, W2, b2), case.expected, f"init_mlp_params{case.args}"),
    passed="shapes for {num_inputs} -> {num_hiddens} -> {num_outputs}, zero biases, random "
           "weights, gradients attached"))

# Each statistical test of init_mlp_params_distribution fails correct weights (independent
# N(0, sigma^2) draws) with probability at most FALSE_ALARM, from the exact distribution
# of its statistic (normal, chi-square, binomial) or the Dvoretzky-Kiefer-Wolfowitz
# inequality with Massart's constant. A call runs at most TESTS_PER_CALL of them (mean,
# spread and shape of W1 and of W2, the tails of both), so a correct solution fails a test
# cell of three calls with probability below 2.1e-7: under the contract's 1e-6.
# benchmarks/distributions.py measures it.
FALSE_ALARM, TESTS_PER_CALL = 1e-8, 7
TAIL = 3.5                                        # in units of sigma
TAIL_PROBABILITY = 2 * float(special.ndtr(-TAIL))   # 4.65e-4 of N(0, sigma^2) draws
DRAW_NORMAL = "np.random.normal(0, sigma, shape)"


def spread_bounds(n, sigma, false_alarm=FALSE_ALARM):
    """The range of the standard deviation (numpy's, ddof=0) of n N(0, sigma^2) draws,
    left with probability `false_alarm`: n std^2 / sigma^2 is chi-square, n - 1 degrees."""
    return tuple(math.sqrt(stats.chi2.ppf(q, n - 1) / n) * sigma
                 for q in (false_alarm / 2, 1 - false_alarm / 2))


def mean_limit(n, sigma, false_alarm=FALSE_ALARM):
    """The bound on |mean| of n N(0, sigma^2) draws (a N(0, sigma^2 / n) variable), passed
    with probability `false_alarm`."""
    return float(special.ndtri(1 - false_alarm / 2)) * sigma / math.sqrt(n)


def fewest_in_tails(n, false_alarm=FALSE_ALARM):
    """The fewest draws beyond TAIL sigma among n N(0, sigma^2) draws: fewer happen with
    probability at most `false_alarm` (the count is binomial, n and TAIL_PROBABILITY)."""
    return int(stats.binom.ppf(false_alarm, n, TAIL_PROBABILITY))


def _check_normal(init, name, w, sigma, what):
    """Fail unless the draws `w` pass the tests of spread, mean and shape of N(0, sigma^2)."""
    n, std, mean = w.size, float(w.std()), float(w.mean())
    low, high = spread_bounds(n, sigma)
    if not low <= std <= high:
        cause = next((f": it looks like {text}" for value, text in [
            (0.01, f"the default 0.01: pass sigma on to np.random.normal, {DRAW_NORMAL}"),
            (1.0, f"1: np.random.normal's scale is the standard deviation, pass sigma, "
                  f"{DRAW_NORMAL}"),
            (sigma ** 2, "sigma^2: np.random.normal's scale is the standard deviation sigma, "
                         "not the variance"),
            (sigma / math.sqrt(3), f"sigma / sqrt(3), that of a uniform draw in [-sigma, sigma]: "
                                   f"draw from the normal distribution, {DRAW_NORMAL}")]
                      if abs(std - value) <= 0.05 * value), "")
        core.fail(init, f"{name} has standard deviation {std:.4g} for {what}, expected sigma = "
                        f"{sigma:g} ({n} N(0, sigma^2) draws have {low:.4g} to {high:.4g}, "
                        f"except with probability {FALSE_ALARM:g}){cause}")
    limit = mean_limit(n, sigma)
    if abs(mean) > limit:
        core.fail(init, f"{name} has mean {mean:.4g} for {what}, expected about 0 (within "
                        f"{limit:.2g}, except with probability {FALSE_ALARM:g}): weights are "
                        f"drawn from N(0, sigma^2)")
    draws.judge_normal(init, w, sigma, f"the entries of {name} ({what})", "Draw the weights "
                       f"from the normal distribution: {DRAW_NORMAL}", FALSE_ALARM)


def init_mlp_params_distribution(init_mlp_params, num_inputs=400, num_hiddens=300,
                                 num_outputs=40, sigma=0.5, seed=0):
    """For a non-default sigma: zero biases, weights like independent N(0, sigma^2) draws
    (mean, spread, Kolmogorov-Smirnov, tails), other weights after another seed of MXNet's
    generator (its first numbers are the same for any shape: a seed inside repeats), and
    weights drawn afresh from MXNet's generator (core.draws_afresh_from_mxnet)."""
    init, sizes, small = init_mlp_params, (num_inputs, num_hiddens, num_outputs), (5, 3, 2)
    what = f"init_mlp_params({num_inputs}, {num_hiddens}, {num_outputs}, sigma={sigma:g})"
    params = _params(init, core.call(init, *sizes, sigma=sigma, seed=seed),
                     _param_shapes(*sizes), what)
    for name, value in zip(PARAM_NAMES, params):
        if name[0] == "b" and value.any():
            core.fail(init, f"{name} has nonzero entries for {what}: biases start at zero "
                            f"(np.zeros)")
        if name[0] == "W":
            _check_normal(init, name, value.reshape(-1), sigma, what)
    W1, W2 = params[0].reshape(-1), params[2].reshape(-1)
    n, fewest = W1.size + W2.size, fewest_in_tails(W1.size + W2.size)
    tails = int(onp.count_nonzero(onp.abs(onp.concatenate([W1, W2])) > TAIL * sigma))
    if tails < fewest:
        core.fail(init, f"only {tails} of the {n} entries of W1 and W2 lie more than {TAIL:g} "
                        f"sigma from 0 for {what}, where N(0, sigma^2) draws have "
                        f"{n * TAIL_PROBABILITY:.0f} on average and fewer than {fewest} with "
                        f"probability below {FALSE_ALARM:g}: the tails of the distribution are "
                        f"cut (by np.clip, or by drawing large values again). Keep every draw "
                        f"of {DRAW_NORMAL} as it is")
    if onp.array_equal(W1[:W2.size], W2):
        core.fail(init, "W2 repeats the first entries of W1: the generator was reset between "
                        "the draws; set no seed in init_mlp_params, draw each matrix from the "
                        "running generator")
    other = _params(init, core.call(init, *small, sigma=sigma, seed=seed + 1),
                    _param_shapes(*small), f"init_mlp_params{small}")[0].reshape(-1)
    if onp.array_equal(other, W1[:other.size]):
        core.fail(init, f"returned the same first entries of W1 from {what} after "
                        f"mx.random.seed({seed}) and from init_mlp_params{small} after "
                        f"mx.random.seed({seed + 1}): it sets a seed of its own "
                        f"(np.random.seed, npx.random.seed, mx.random.seed) or draws from a "
                        f"generator of its own. Draw from MXNet's global generator without "
                        f"seeding it: every call then gets fresh weights, and the caller's "
                        f"seed makes them repeatable")
    core.draws_afresh_from_mxnet(init, *small, sigma=sigma, seed=seed)
    core.passed(init, f"weights ~ N(0, {sigma:g}^2) by mean, spread, distribution and tails "
                      f"({W1.size} and {W2.size} draws), fresh at every call; a correct "
                      f"solution fails this check with probability below "
                      f"{TESTS_PER_CALL * FALSE_ALARM:g}")


# --------------------------------------------------------------------------- mlp
def _mlp_inputs(num_examples=4, num_hiddens=16, num_outputs=10, flat=False, seed=0):
    """Images (flattened if `flat`) and params; then X of shape (2, 3, 4), 12 -> 7 -> 3. Biases
    of the size of X W1 (inputs in [0, 1]) make about half of the hidden units inactive."""
    rng = onp.random.default_rng(seed)

    def params(num_inputs, num_hiddens, num_outputs):         # float32 [W1, b1, W2, b2]
        return [rng.normal(0, scale, shape).astype(onp.float32) for scale, shape in [
            (2.8 / math.sqrt(num_inputs), (num_inputs, num_hiddens)), (2.0, num_hiddens),
            (0.5, (num_hiddens, num_outputs)), (1.0, num_outputs)]]
    images = rng.uniform(0, 1, (num_examples, 1, 28, 28)).astype(onp.float32)
    first = (images.reshape(num_examples, -1) if flat else images,
             params(NUM_PIXELS, num_hiddens, num_outputs))
    return [first, (rng.uniform(0, 1, (2, 3, 4)).astype(onp.float32), params(12, 7, 3))]


def _mlp_tolerance(X, params):
    """Float32 logits: a dot product of n terms is off by about sqrt(n) units in the last
    place of the sum of the terms' magnitudes (a random walk); 8 times that, both layers."""
    W1, b1, W2, b2 = (onp.abs(param) for param in params)
    magnitude = (onp.abs(X.reshape(len(X), -1)) @ W1 + b1) @ W2 + b2
    return core.ATOL + 8 * math.sqrt(sum(W1.shape)) * core.FLOAT32_EPS * float(magnitude.max())


@core.oracle
def _mlp_logits(X, params):
    W1, b1, W2, b2 = params
    return onp.maximum(X.reshape(len(X), -1) @ W1 + b1, 0.0) @ W2 + b2


@core.oracle
def _mlp_mistakes(X, params):
    W1, b1, W2, b2 = params
    X = X.reshape(len(X), -1)
    hidden, logits = X @ W1 + b1, _mlp_logits(X, params)
    relu = functools.partial(onp.maximum, 0.0)
    use_relu = "this MLP uses relu, H = relu(X @ W1 + b1)"
    return [(hidden @ W2 + b2, "the hidden layer has no nonlinearity: without relu the two "
                               "layers collapse into one affine map (see collapse_linear). Use "
                               "H = relu(X @ W1 + b1)"),
            (relu(logits), "applied relu to the output too: the logits O = H @ W2 + b2 must "
                           "be free to be negative; only the hidden layer has relu"),
            (relu(X @ W1) @ W2 + b2, "forgot the hidden bias b1: H = relu(X @ W1 + b1)"),
            (relu(hidden) @ W2, "forgot the output bias b2: O = H @ W2 + b2"),
            (relu(X @ W1) @ W2, "forgot both biases: H = relu(X @ W1 + b1), O = H @ W2 + b2"),
            (_activation("sigmoid", hidden) @ W2 + b2, f"used sigmoid in the hidden layer: "
                                                       f"{use_relu}"),
            (onp.tanh(hidden) @ W2 + b2, f"used tanh in the hidden layer: {use_relu}"),
            (oracles.softmax(logits), "returned probabilities (a softmax of the logits): "
                                      "return the logits O = H @ W2 + b2; the loss applies "
                                      "the softmax")]


def _mlp_raised(mlp, failure, case):
    """Why mlp raised: it needs 784 inputs (the first call passed), or flattened images."""
    if "not implemented yet" in str(failure):
        return
    X, params = case.args
    if len(params[0]) != NUM_PIXELS:
        failure = core.CheckFailure(
            f"{core.function_name(mlp)}: works for 784 inputs but not for {case.inputs}: "
            f"{str(failure).split(': ', 1)[-1]}. Take the sizes from the parameters, not from "
            f"Fashion-MNIST: flatten with X.reshape(-1, W1.shape[0]), never a fixed 784 (or "
            f"256 hidden units, or 10 outputs)")
    if X.ndim > 2:
        flat = X.reshape(len(X), -1)
        try:
            core.call(mlp, *spec.mxnet_arguments((flat, params)))
        except core.CheckFailure:
            raise failure from None
        core.fail(mlp, f"works on flattened inputs of shape {flat.shape} but not on images of "
                       f"shape {X.shape}: {str(failure).split(': ', 1)[-1]}. Flatten X first, "
                       f"X.reshape(-1, W1.shape[0]), so that X @ W1 multiplies a matrix by a "
                       f"matrix")
    raise failure from None


mlp_matches = spec.check(spec.Spec(
    name="mlp", inputs=_mlp_inputs, oracle=_mlp_logits, mistakes=_mlp_mistakes,
    legacy_fix=MXNET_FIX, what="the logits for {inputs}", context=True, raised=_mlp_raised,
    describe=lambda X, params: (f"X of shape {X.shape}, {params[0].shape[0]} -> "
                                f"{params[0].shape[1]} -> {len(params[3])}"),
    shape=lambda X, params: (len(X), len(params[3])),
    transposed="{what} have shape {got}, expected {want}: they are transposed, one column per "
               "example. Keep one row per example, O = H @ W2 + b2, and do not transpose it",
    shape_hint="one row of logits per example: flatten X to (n, W1.shape[0]) first, "
               "X.reshape(-1, W1.shape[0])",
    compared="O (the logits)", atol=_mlp_tolerance, differentiable=True,
    passed="relu(X W1 + b1) W2 + b2 for {inputs}, and for X of shape (2, 3, 4), 12 -> 7 -> 3"))


# --------------------------------------------------------------------------- collapse_linear
def _collapse_inputs(num_inputs=5, num_hiddens=3, num_outputs=4, seed=0):
    rng = onp.random.default_rng(seed)
    return tuple(rng.normal(0, 1, shape).astype(onp.float32) for shape in (
        (num_inputs, num_hiddens), (num_hiddens,), (num_hiddens, num_outputs), (num_outputs,)))


def _collapse_tolerance(W1, b1, W2, b2):
    """Float32 products of num_hiddens terms: a few units in the last place of the terms."""
    return core.ATOL + 8 * len(b1) * core.FLOAT32_EPS * float(
        (onp.abs(W1) @ onp.abs(W2)).max() + (onp.abs(b1) @ onp.abs(W2) + onp.abs(b2)).max())


@core.oracle
def _collapsed(W1, b1, W2, b2):
    """The entries of (W, b), x W + b = (x W1 + b1) W2 + b2: W = W1 W2, b = b1 W2 + b2."""
    return onp.concatenate([(W1 @ W2).ravel(), b1 @ W2 + b2])


@core.oracle
def _collapse_mistakes(W1, b1, W2, b2):
    W = (W1 @ W2).ravel()
    return [(onp.concatenate([(W1 @ W2 + b2).ravel(), b1 @ W2 + b2]),
             "added b2 to W: W = W1 @ W2 holds only the weights"),
            (onp.concatenate([W, b2]), "b is just b2, which forgot b1 @ W2: the first layer's "
                                       "bias goes through W2 as well, b = b1 @ W2 + b2"),
            (onp.concatenate([W, b1 @ W2]), "b is just b1 @ W2: add the second layer's bias, "
                                            "b = b1 @ W2 + b2")]


collapse_linear_matches = spec.check(spec.Spec(
    name="collapse_linear", inputs=_collapse_inputs, oracle=_collapsed,
    mistakes=_collapse_mistakes, legacy_fix=MXNET_FIX, result=("W", "b"),
    shape=lambda W1, b1, W2, b2: ((len(W1), W2.shape[1]), (W2.shape[1],)),
    shape_hint=("x W maps {0.shape[0]} inputs to {2.shape[1]} outputs: W = W1 @ W2",
                "one bias per output: b = b1 @ W2 + b2"),
    describe=lambda W1, b1, W2, b2: f"W1 {W1.shape}, b1 {b1.shape}, W2 {W2.shape}, b2 {b2.shape}",
    context=True, compared="(W, b)", atol=_collapse_tolerance,
    hint="W = W1 @ W2 and b = b1 @ W2 + b2: (x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2)",
    passed="x W + b = (x W1 + b1) W2 + b2 for {inputs}"))


# --------------------------------------------------------------------------- train_mlp
PROBE_HIDDENS = 8   # hidden units of the trainer probe and gates of checks.core
UPDATE = "param[:] = param - lr * param.grad / batch_size"


def _trained_logits(X, params):
    """The logits of the MLP of trained float64 params [W1, b1, W2, b2] for the rows of X
    (no oracle: evaluating what a trainer returned ships as code)."""
    W1, b1, W2, b2 = params
    return onp.maximum(X @ W1 + b1, 0.0) @ W2 + b2


def _probe(train_mlp, seed):
    """The trainer probe's margin of b2 (``checks.core``), and what it says of the update."""
    margin = core.probe_margin(train_mlp, lambda params: params[3], seed,
                               num_hiddens=PROBE_HIDDENS)
    return margin, core.probe_explanation(margin, "b2", UPDATE)


def _trained_params(train_mlp, num_examples, num_hiddens, num_epochs, lr, batch_size, seed):
    """(The run in words, the four finite float64 parameters that train_mlp returns after
    training on the first `num_examples` training images, all 60,000 if None)."""
    images, labels = core.fashion_mnist("train", num_examples)
    setting = (f"train_mlp on {num_examples or 60000} training images with num_hiddens="
               f"{num_hiddens}, num_epochs={num_epochs}, lr={lr:g}, batch_size={batch_size}")
    params = core.call(train_mlp, images, labels, num_hiddens=num_hiddens,
                       num_epochs=num_epochs, lr=lr, batch_size=batch_size, seed=seed)
    values = _params(train_mlp, params, _param_shapes(NUM_PIXELS, num_hiddens, NUM_CLASSES),
                     f"the parameters returned by {setting}",
                     hint=f". Build them with init_mlp_params({NUM_PIXELS}, num_hiddens, "
                          f"{NUM_CLASSES}), using the num_hiddens that train_mlp is called with")
    for name, param in zip(PARAM_NAMES, params):
        if getattr(param, "grad", None) is None:
            core.fail(train_mlp, f"after {setting}, {name} has no gradient attached: return the "
                                 f"params as init_mlp_params makes them and as you trained "
                                 f"them, gradients attached, not copies of them (a copy has no "
                                 f".grad)")
    for name, value in zip(PARAM_NAMES, values):
        bad = ~onp.isfinite(value)
        if bad.any():
            why = _probe(train_mlp, seed)[1] or (
                " Check the step: param - lr * param.grad / batch_size for a summed loss "
                "(param - lr * param.grad for a mean loss), with lr > 0 at every step")
            core.fail(train_mlp, f"after {setting}, {name} contains NaN or Inf "
                                 f"({core.count(bad)} of {value.size} entries): training "
                                 f"diverged.{why}")
    return setting, values


def _gate_predictions(train_mlp, params, X):
    """The classes that the params returned by a gate's run of train_mlp predict for X."""
    values = _params(train_mlp, params, _param_shapes(NUM_PIXELS, PROBE_HIDDENS, NUM_CLASSES),
                     f"the parameters returned for num_hiddens={PROBE_HIDDENS}")
    return _trained_logits(X, values).argmax(axis=1)


def _check_quick_run(train_mlp, num_examples=1000, num_hiddens=32, num_epochs=1, lr=0.1,
                     batch_size=100, seed=0):
    """Ten steps on 1,000 images: finite params of the sizes asked for, and a trained b2;
    the trainer probe sees b2 move the right way by no more than a correct trainer moves
    it; and the trainer gates (``checks.core``)."""
    setting, values = _trained_params(train_mlp, num_examples, num_hiddens, num_epochs, lr,
                                      batch_size, seed)
    margin, why = _probe(train_mlp, seed)
    if not values[3].any():
        why = why or (f" Update every parameter in place, {UPDATE} (`param = ...` only "
                      f"rebinds a name), and return the params you train")
        core.fail(train_mlp, f"after {setting}, b2 is still zero: the output bias was not "
                             f"trained.{why}")
    # Steps much too small are judged by the accuracy only: a warm-up could make them.
    if core.probe_verdict(margin) in core.SURE_VERDICTS:
        core.fail(train_mlp, f"after {setting}, the parameters are trained, but not the "
                             f"right way.{why}")
    core.trainer_gates(train_mlp, lambda params: params[3], "b2", functools.partial(
        _gate_predictions, train_mlp), seed, num_hiddens=PROBE_HIDDENS)
    _check_image_size(train_mlp, seed)


# Images of another size than Fashion-MNIST's, which the contract allows ("trained ... on
# the data and sizes it is given"): black 14 x 14 images, 196 pixels each.
SMALL_IMAGE = (1, 14, 14)


def _check_image_size(train_mlp, seed):
    """Fail unless train_mlp sizes W1 for the images it is given, not a fixed 784."""
    shape = (core.PROBE_EXAMPLES, *SMALL_IMAGE)
    pixels = math.prod(SMALL_IMAGE)
    setting = (f"train_mlp on {core.PROBE_EXAMPLES} black images of 14 x 14 pixels, X_train of "
               f"shape {shape}, with num_hiddens={PROBE_HIDDENS}, num_epochs=1, "
               f"lr={core.PROBE_LR:g}, batch_size={core.PROBE_BATCH}")
    fix = (f"Build the parameters for the images given, init_mlp_params(X_train[0].size, "
           f"num_hiddens, 10): here X_train[0].size = {pixels}, not a fixed {NUM_PIXELS}")
    X, y = core.probe_images(core.PROBE_EXAMPLES, SMALL_IMAGE)
    try:
        params = core.call(train_mlp, X, y, num_hiddens=PROBE_HIDDENS, num_epochs=1,
                           lr=core.PROBE_LR, batch_size=core.PROBE_BATCH, seed=seed)
    except core.CheckFailure as failure:
        core.fail(train_mlp, f"fails on images of another size: {setting}, it "
                             f"{str(failure).split(': ', 1)[-1]}. {fix}")
    _params(train_mlp, params, _param_shapes(pixels, PROBE_HIDDENS, NUM_CLASSES),
            f"the parameters returned by {setting}", hint=f". {fix}")


def train_mlp_uses_arguments(train_mlp, num_examples=1000, num_hiddens=32, num_epochs=1,
                             lr=0.1, batch_size=100, seed=0):
    """A quick run: train_mlp returns finite params of the sizes asked for, and trained them."""
    _check_quick_run(train_mlp, num_examples, num_hiddens, num_epochs, lr, batch_size, seed)
    core.passed(train_mlp, f"returns trained parameters of the right shapes for "
                           f"num_hiddens={num_hiddens}, batch_size={batch_size}")


def train_mlp_accuracy(train_mlp, num_examples=None, num_hiddens=64, num_epochs=2, lr=0.1,
                       batch_size=256, min_accuracy=0.70, seed=0):
    """The quick run first (it fails in a fraction of a second what the long run would),
    then the test accuracy of the params train_mlp returns for the first `num_examples`
    training images (all if None). Why 0.70: on the test cells' settings plain minibatch
    SGD, the slowest correct trainer, reaches 0.745-0.799 over 14 seeds (spread about
    0.015); the reference (momentum, cosine decay) 0.843-0.851; trainers that diverge, go
    uphill or never update stay near 0.10. A call costs about 470 minibatch steps."""
    _check_quick_run(train_mlp, seed=seed)
    setting, values = _trained_params(train_mlp, num_examples, num_hiddens, num_epochs, lr,
                                      batch_size, seed)
    X, y = core.fashion_mnist_features("test")
    logits = _trained_logits(X, values)
    accuracy = softmax_regression.evaluate(logits)[0]
    if accuracy >= min_accuracy:
        core.passed(train_mlp, f"test accuracy {accuracy:.3f} >= {min_accuracy:.2f} after "
                               f"{setting}")
        return
    loss = float((special.logsumexp(logits, axis=1) - logits[onp.arange(len(y)), y]).mean())
    near_chance = ", so it is near chance (0.1)" if accuracy < 0.2 else ""
    # The quick run judged the probe's surest verdicts; "much too small" can remain.
    why = _probe(train_mlp, seed)[1] or (
        " Check the update rule (param - lr * grad / batch_size, in place), that every "
        "minibatch gets its own backward() of the loss recorded under autograd.record() and "
        "its own update, that every epoch visits all the training examples with their own "
        "labels, and that the loss is the softmax cross-entropy of the logits")
    core.fail(train_mlp, f"after {setting}, the returned parameters reach test accuracy "
                         f"{accuracy:.3f} (mean test cross-entropy {loss:.3g}); a correct "
                         f"trainer reaches at least {min_accuracy:.2f}{near_chance}.{why}")
