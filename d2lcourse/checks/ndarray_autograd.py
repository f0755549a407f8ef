"""Checks of assignment 01, DeepNumpy and calculus: specs (:mod:`checks.spec`), their oracles
and 01's words where a result is wrong. The functions handed to numerical_derivative and
autograd_grad live in :mod:`checks.problems` (the sandbox imports them by name)."""
import dataclasses
import functools
import math

import numpy as onp

from d2lcourse.checks import core, oracles, spec
from d2lcourse.checks.properties import short
from d2lcourse.checks.problems import (  # noqa: F401 (test cells name them check.<name>)
    cube, gram_sum, log_sum_exp, mean_square, softplus, square_held, sum_of_cubes, tanh_energy,
    wave, x_sin_x)

FIXES = dict(
    legacy_fix="convert it with .as_np_ndarray() (autograd.grad returns legacy arrays even in "
               "DeepNumpy mode)",
    float_fix="A derivative is a real number: convert it with .astype(x.dtype), or build it "
              "from floats, e.g. np.where(condition, 1.0, 0.0)")
# 01's specs say 01's words of a legacy or integer result.
Spec = functools.partial(spec.Spec, **FIXES)


EDGE = 1e6  # huge, yet 6x, 2x and (A + A^T) x stay exact in float32 (a unit step does not)


def hand_derived(name, **fields):
    """The spec of hand-derived function `name` (no autograd): its rows of _answer, _mistakes."""
    return Spec(name=name, oracle=functools.partial(_answer, name), forbidden=core.HAND_DERIVED,
                mistakes=functools.partial(_mistakes, name), **fields)


def with_edges(**positions):
    """An input builder's decorator: its calls, then its first call once more with the
    arrays named at their `positions` (x=0) rescaled to magnitudes up to EDGE and their
    first entry exactly 0, where a division by x or a unit step's finite differences fail."""
    def decorate(build):
        @functools.wraps(build)
        def inputs(*args, **kwargs):
            built = build(*args, **kwargs)
            calls = built if isinstance(built, list) else [built]
            calls = [(call,) if isinstance(call, onp.ndarray) else call for call in calls]
            edged = list(calls[0].args if isinstance(calls[0], spec.Call) else calls[0])
            for k in positions.values():
                x = edged[k] / max(float(onp.abs(edged[k]).max()), 1e-30) * EDGE
                x.reshape(-1)[0] = 0.0
                edged[k] = x.astype(onp.float32)
            names = " and ".join(f"{name} of shape {edged[k].shape}"
                                 for name, k in positions.items())
            words = f"{names} with entries up to {short(EDGE)} in magnitude, the first exactly 0"
            return calls + [spec.Call(tuple(edged), words)]
        return inputs
    return decorate


def _normal(shape, seed, scale=1.0):
    """N(0, scale^2) float32 values, those of core.random_array."""
    return core.random_array(shape, seed, scale=scale).asnumpy()


def number(what):
    """A spec's result: a Python number or a float 0-d array (`what` formats the arguments)."""
    def unpack(function, value, case):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return onp.float64(value)
        core.expect_float_array(function, value, what.format(*case.args), shape=(), hint=(
            "a derivative at a Python float x is a single number, like x itself"), **FIXES)
        return core.to_numpy(value)
    return unpack


def gradient_of(position, name):
    """A spec's fields: the result is the gradient with respect to argument `position`, `name`."""
    return dict(shape=lambda *args: onp.shape(args[position]), shape_hint=(
        f"the gradient of a scalar function of {name} has one entry per entry of {name}: the "
        f"shape of {name}"))


# --------------------------------------------------------------------------- oracles
# The values and derivatives of checks.problems, and what the hand-derived functions return.

@core.oracle
def _value(f, x):
    """f(x) for an elementwise function f of checks.problems."""
    return {"cube": lambda v: v ** 3, "softplus": lambda v: onp.logaddexp(0.0, v),
            "wave": lambda v: onp.sin(3 * v) + v ** 2 / 2}[f.__name__](x)


@core.oracle
def _derivative(f, x):
    """f'(x) for an elementwise function f of checks.problems."""
    return {"cube": lambda v: 3 * v ** 2, "softplus": lambda v: 1 / (1 + onp.exp(-v)),
            "wave": lambda v: 3 * onp.cos(3 * v) + v}[f.__name__](x)


@core.oracle
def _gradient(f, x):
    """The gradient at x of a scalar-valued function f of checks.problems."""
    return {"sum_of_cubes": lambda v: 3 * v ** 2, "x_sin_x": lambda v: onp.sin(v) + v * onp.cos(v),
            "log_sum_exp": oracles.softmax, "mean_square": lambda v: 2 * v / v.size,
            "tanh_energy": lambda V: 2 * onp.tanh(V) * (1 - onp.tanh(V) ** 2),
            "gram_sum": lambda V: 2 * onp.ones((V.shape[0], V.shape[0])) @ V,
            "square_held": lambda v: v}[f.__name__](x)


@core.oracle
def _answer(name, *args):
    """What the hand-derived function `name` returns for `args`."""
    return {"grad_f": lambda x: 6 * x - 4,                      # f(x) = 3x^2 - 4x
            "grad_abs": onp.sign,                                # where x != 0
            "grad_relu": oracles.relu_slope,
            "grad_norm_sq": lambda x: 2 * x,
            "grad_quadratic_form": lambda A, x: (A + A.T) @ x,   # of x^T A x
            "jacobian_linear": lambda A, x: A,                   # of y = A x
            "grad_z_w": lambda x, w, y: 2 * (x @ w - y) * x,     # of (<x, w> - y)^2
            }[name](*args)


@core.oracle
def _mistakes(name, *args):
    """The typical mistakes [(value, message)] of graded function `name` for `args`."""
    half = "only half of the product rule: x appears twice in x^T A x, and the two terms give "
    return {
        "grad_f": lambda x: [
            (3 * x ** 2 - 4 * x, "returned f(x) = 3x^2 - 4x itself, not its derivative"),
            (6 * x, "the derivative of -4x is -4, which is missing"),
            (6 * x - 4 * x, "the derivative of -4x is the constant -4, not -4x"),
            (3 * x - 4, "power rule: the derivative of 3x^2 is 3 * 2x = 6x"),
            (6 * x + 4, "wrong sign: the derivative of -4x is -4"),
            (6 * x ** 2 - 4, "power rule: the derivative of x^2 is 2x, so 3x^2 gives 6x")],
        "grad_abs": lambda x: [
            (-onp.sign(x), "the signs are flipped: the slope of |x| is +1 for x > 0 and -1 for "
             "x < 0"),
            (onp.abs(x), "returned |x| itself, not its slope"),
            (x, "returned x: the slope of |x| does not grow with x, it is -1 or +1"),
            ((x > 0).astype(float), "for x < 0 the slope of |x| is -1, got 0: that is the slope "
             "of max(x, 0)"),
            (onp.ones_like(x), "for x < 0 the slope of |x| is -1, got +1")],
        "grad_relu": lambda x: [
            (onp.maximum(x, 0), "returned max(x, 0) itself, not its slope"),
            ((x < 0).astype(float), "flipped: the slope of max(x, 0) is 1 for x > 0 and 0 for "
             "x < 0"),
            (onp.sign(x), "for x < 0 the slope of max(x, 0) is 0, got -1: that is the slope of "
             "|x|"),
            (x, "returned x: the slope of max(x, 0) is 0 or 1")],
        "grad_norm_sq": lambda x: [
            (x, "missing the factor 2: d/dx_i of x_i^2 is 2 x_i"),
            (x / onp.linalg.norm(x), "x / ||x|| is the gradient of ||x||, not of ||x||^2 = "
             "sum_i x_i^2"),
            (2 * x / onp.linalg.norm(x), "2 x / ||x|| mixes up ||x|| and ||x||^2: d/dx_i sum_j "
             "x_j^2 = 2 x_i"),
            (x ** 2, "returned x_i^2: differentiate it, d/dx_i x_i^2 = 2 x_i")],
        "grad_quadratic_form": lambda A, x: [
            (2 * A @ x, "returned 2 A x, which assumes A is symmetric: for a non-symmetric A the "
             "gradient of x^T A x is (A + A^T) x (write x^T A x = sum_ij x_i A_ij x_j and "
             "differentiate by x_k)"),
            (2 * A.T @ x, "returned 2 A^T x, which assumes A is symmetric: the gradient of "
             "x^T A x is (A + A^T) x"),
            (A @ x, f"returned A x, {half}A x + A^T x"),
            (A.T @ x, f"returned A^T x, {half}A x + A^T x")],
        "jacobian_linear": lambda A, x: [  # one row, which _jacobian_shape reads
            (A.T, f"the Jacobian is transposed: J[i, j] = dy_i/dx_j, so it has one row per "
             f"output y_i ({A.shape[0]}) and one column per input x_j ({A.shape[1]}), and "
             f"J = A, not A^T")],
        "grad_z_w": lambda x, w, y: [
            ((x @ w - y) * x, "missing the factor 2: by the chain rule dz/dw = 2 (<x, w> - y) "
             "* d<x, w>/dw"),
            (-2 * (x @ w - y) * x, "wrong sign: the residual is <x, w> - y, so dz/dw = "
             "2 (<x, w> - y) x"),
            (-(x @ w - y) * x, "wrong sign and missing factor 2: dz/dw = 2 (<x, w> - y) x"),
            (2 * (x @ w - y) * w, "multiplied by w instead of x: d<x, w>/dw = x"),
            (2 * (x @ w - y) * onp.ones_like(x), "missing the inner derivative d<x, w>/dw = x")],
        "autograd_grad": lambda f, x: [
            (2 * x, "returned 2 x for f = square_held, which multiplies x by x.detach(), a copy "
             "autograd holds constant, so autograd's gradient is x. Finite differences see only "
             "the values of f (those of sum x_i^2): compute the gradient with autograd, "
             "x.attach_grad(), y = f(x) inside `with autograd.record():`, y.backward(), then "
             "x.grad")] if f is square_held else [
            (onp.zeros(x.shape), f"returned all zeros for the gradient of {f.__name__}: x.grad "
             "holds zeros until y.backward() runs on a y computed inside `with "
             "autograd.record():`")],
    }[name](*args)


# --------------------------------------------------------------------------- regions

REGIONS = (  # what each region is, in the order of the spec
    "the element in row 1, column 2 (indices start at 0 and go [row, column])", "all of row 1",
    "all of column 1", "rows 1 and 2 and the columns from 1 to the last",
    "every third row and every second column, starting at row and column 0")
# Index expressions a student may write instead (text, index): to name what came back.
INDEX_GUESSES = [(text, int(text) if ":" not in text else slice(
    *(int(part) if part else None for part in text.split(":")))) for text in
    ": 0 1 2 3 1: 2: 1:3 1:2 1:4 2:3 2:4 0:3 0:2 0:1 :3 :2 ::2 ::3 1::2 1::3 0::2 0::3".split()]
# Shapes tried after the cell's own: the smallest X that has an element X[1, 2], and a
# matrix much wider than tall (a row count used for the columns shows there).
EXTRA_REGION_SHAPES = ((2, 3), (3, 8))


@core.oracle
def _regions(X):
    """The five regions of REGIONS of the matrix X."""
    return [X[1, 2], X[1, :], X[:, 1], X[1:3, 1:], X[::3, ::2]]


def _guess_region(X, got):
    """The expression X[r, c] whose value `got` equals (X has distinct entries), or None."""
    for rows, row_index in INDEX_GUESSES:
        for columns, column_index in INDEX_GUESSES:
            try:
                value = X[row_index, column_index]
            except IndexError:
                continue
            if onp.array_equal(value, got):
                return f"X[{rows}, {columns}]"
            if value.ndim == 2 and value.size > 1 and onp.array_equal(value.T, got):
                return f"X[{rows}, {columns}].T"


def _unpack_regions(regions, value, case):
    """The five regions returned, one vector (a Python float for the element too); the first
    wrong one named, with the index expression it came from."""
    if not isinstance(value, (tuple, list)) or len(value) != len(REGIONS):
        length = f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""
        core.fail(regions, f"returned {core.type_name(value)}{length}, expected a tuple of "
                  f"{len(REGIONS)} regions: return a, b, c, d, e")
    X = case.args[0].astype(onp.float64)
    items = list(enumerate(zip(REGIONS, _regions(X), value), 1))
    for position, (meaning, want, item) in items:
        if position == 1 and isinstance(item, (int, float)) and not isinstance(item, bool):
            continue
        if item is None or not hasattr(item, "shape"):
            got = "None" if item is None else core.type_name(item)
            core.fail(regions, f"item {position} should be {meaning}, of shape {want.shape}; "
                      f"got {got}: return an array for every region")
        core.expect_array(regions, item, f"item {position}")
    for position, (meaning, want, item) in items:
        item = core.to_numpy(item)
        if not onp.array_equal(item, want):
            guess = _guess_region(X, item)
            found = (f"you returned {guess} (shape {item.shape})" if guess else
                     f"you returned an array of shape {item.shape} that is not that region")
            core.fail(regions, f"for X of shape {X.shape}, item {position} should be {meaning}, "
                      f"of shape {want.shape}; {found}. Remember: an integer index drops its "
                      f"axis, a:b includes a and excludes b, and ::k takes every k-th entry")
    return onp.concatenate([core.to_numpy(item).ravel() for item in value])


# regions(X) returns the five regions of REGIONS, for X of the cell's shape and others.
regions_match = spec.check(spec.Spec(
    name="regions", oracle=lambda X: onp.concatenate([region.ravel() for region in _regions(X)]),
    result=_unpack_regions,
    inputs=lambda shape=(4, 5), seed=0: [(_normal(size, seed),) for size in
                                         (tuple(shape),) + EXTRA_REGION_SHAPES],
    passed=lambda shape, seed: "all five regions of matrices of shapes " + ", ".join(
        f"{rows}x{columns}" for rows, columns in (tuple(shape),) + EXTRA_REGION_SHAPES)))


# --------------------------------------------------------------------------- numerical_derivative

STEP = 1e-4   # numerical_derivative's default h
# At x = 0 the central difference of cube is exactly h^2 (f'(0) = 0, the third derivative
# is 6), free of rounding: the step a function really used can be read off its result,
# however small.
TINY_STEPS = (1e-2, 1e-6)


@core.oracle
def _central_difference(f, x, h=STEP):
    """(f(x + h) - f(x - h)) / (2h) for an elementwise function f of checks.problems."""
    return (_value(f, x + h) - _value(f, x - h)) / (2 * h)


@core.oracle
def _difference_mistakes(f, x, h=STEP):
    plus, minus, at = _value(f, x + h), _value(f, x - h), _value(f, x)
    central = "use the central difference (f(x + h) - f(x - h)) / (2h)"
    return [((plus - at) / h, f"this is the forward difference (f(x + h) - f(x)) / h, whose "
             f"error shrinks only like h: {central}, whose error shrinks like h^2"),
            ((at - minus) / h, f"this is the backward difference (f(x) - f(x - h)) / h, whose "
             f"error shrinks only like h: {central}"),
            ((plus - minus) / h, "divides by h instead of 2h: the two points x - h and x + h "
             "are 2h apart"),
            ((plus - minus) / 2 * h, "computes (f(x + h) - f(x - h)) / 2 * h, which multiplies "
             "by h: write / (2 * h)"),
            (plus - minus / (2 * h), "computes f(x + h) - f(x - h) / (2 * h), which divides "
             "only f(x - h): put the difference in parentheses"),
            (_central_difference(f, x, 1e-4), f"ignores the argument h={h:g} and always uses "
             "1e-4: use the h it is called with")]


def _difference_tolerance(f, x, h=STEP):
    """How far a float32 central difference may be from the exact one, elementwise: f(x +- h)
    and x + h carry rounding errors of a few units in the last place, divided by 2h. Cube's
    at x = 0 is exact (TINY_STEPS)."""
    if f is cube and onp.all(x == 0):
        return 1e-3 * h * h
    magnitude = onp.maximum(abs(_value(f, x + h)), 1) + onp.maximum(abs(_value(f, x - h)), 1)
    rounding = 4 * core.FLOAT32_EPS * (magnitude + abs(_derivative(f, x)) * (abs(x) + h))
    return rounding / (2 * h) + core.RTOL * abs(_central_difference(f, x, h)) + core.ATOL


def _explain_difference(numerical_derivative, got, case, value):
    """Name the step really used at x = 0 (a call tagged "tiny"), a wrong difference
    quotient, or the first wrong entry; the call in words starts the message."""
    f, x = case.args[:2]
    got, expected, inputs = onp.asarray(got), onp.asarray(case.expected), case.inputs
    if case.tag == "tiny":
        got, expected = got.reshape(-1)[0], expected.reshape(-1)[0]
        used = (f", which is h^2 for h = {math.sqrt(got):.3g}: use the step h it is called "
                f"with, however small" if got > 0 else "")
        core.fail(numerical_derivative, f"{inputs}: the central difference (h^3 - (-h)^3) / "
                  f"(2h) is exactly h^2 = {expected:.3g} there, got {got:.3g}{used}")
    core.diagnose(numerical_derivative, got, expected, case.mistakes, 0.0, case.atol,
                  f"{inputs}: ")
    wrong = ~(onp.abs(got - expected) <= case.atol)
    index = spec.first(wrong)
    where = f" at index {index} (x = {x[index]:.6g})" if index else ""
    count = f"; {core.count(wrong)} of {wrong.size} entries are wrong" if index else ""
    core.fail(numerical_derivative, f"{inputs}{where}: expected (f(x + h) - f(x - h)) / (2h) = "
              f"{expected[index]:.7g}, got {got[index]:.7g} (the exact derivative is "
              f"{onp.asarray(_derivative(f, x))[index]:.7g}){count}")


def _central_inputs(f=cube, x=1.5, hs=(0.1, 0.01, 0.001)):
    """f at a Python float x for each step of hs, then cube at 0 for TINY_STEPS."""
    return ([spec.Call((f, x, h), f"for f = {f.__name__} at x = {x} with h = {h:g}") for h in hs]
            + [spec.Call((cube, 0.0, h), f"for f = cube at x = 0.0 with h = {h:g}", "tiny")
               for h in TINY_STEPS])


def _elementwise_inputs(f=softplus, shape=(6,), seed=0, dtype="float32", h=None):
    """f on an array x of `dtype`, then on x in the other float dtype, then cube on zeros of
    `dtype` (the step used can be read off: TINY_STEPS); with h=None (not passed) the
    function's default step, STEP."""
    steps, step = ([], f"{STEP:g}") if h is None else ([h], f"{h:g}")
    other = "float64" if dtype == "float32" else "float32"
    x = _normal(shape, seed)
    return [*(spec.Call((f, x.astype(kind), *steps),
                        f"for f = {f.__name__} on a {kind} array x with h = {step}")
              for kind in (dtype, other)),
            spec.Call((cube, onp.zeros(shape, dtype), *steps),
                      f"for f = cube on a {dtype} array of zeros with h = {step}", "tiny")]


CENTRAL = Spec(
    name="numerical_derivative", inputs=_central_inputs, oracle=_central_difference,
    mistakes=_difference_mistakes, wrong=_explain_difference, rtol=0.0,
    atol=_difference_tolerance,
    result=number("the derivative of {0.__name__} at x = {1}, h = {2:g}"),
    passed=lambda f, x, hs: (f"central differences of {f.__name__} at x = {x}, h = "
                             f"{', '.join(f'{h:g}' for h in hs)}, and of cube at 0 for h = "
                             f"{', '.join(f'{h:g}' for h in TINY_STEPS)}"))
# numerical_derivative(f, x, h) is the central difference, at a Python float x.
numerical_derivative_central = spec.check(CENTRAL)
# numerical_derivative(f, x[, h]) works elementwise on an mxnet array x.
numerical_derivative_elementwise = spec.check(dataclasses.replace(
    CENTRAL, result="array", inputs=_elementwise_inputs,
    what="the derivative of {0.__name__} at an array x", shape=lambda f, x, *h: x.shape,
    shape_hint="the derivative of an elementwise f has the shape of x",
    passed=lambda f, shape, seed, dtype, h: (f"elementwise on a {dtype} array of shape "
                                             f"{shape}, h = {STEP if h is None else h:g}")))


# --------------------------------------------------------------------------- grad_f

@with_edges(x=0)
def _grad_f_inputs(shape=(6,), seed=0, scale=2.0):
    return _normal(shape, seed, scale)


GRAD_F = hand_derived(
    "grad_f", inputs=_grad_f_inputs,
    shown_as="f'(x)", passed="f'(x) on {size} values", describe=lambda x: f"x of shape {x.shape}",
    shape_hint="f is applied elementwise, so f'(x) has the shape of x")
# grad_f(x) = f'(x) for f(x) = 3x^2 - 4x, elementwise on an array.
grad_f_matches = spec.check(GRAD_F)
# grad_f at a Python float: the slope of the tangent line at x.
grad_f_at = spec.check(dataclasses.replace(
    GRAD_F, inputs=lambda x=1.0: spec.Call((x,), f"x = {x}"), result=number("f'({0})"),
    what="f'({0})", context=True, passed=lambda x: (
        f"f'({x}) = {_answer('grad_f', x):g}, the slope of the tangent at x = {x}")))


# --------------------------------------------------------------------------- subgradients

# Exact zeros of both signs, tiny and huge magnitudes across float32's range: where x ** 2
# underflows to 0 or overflows to inf, and x + |x| or 2 x overflow; and float32's smallest
# number, 1.4e-45, where any epsilon (x / (|x| + eps), clip(x * 1e30, 0, 1)) shows. |x| and
# max(x, 0) are finite at all of them, so their subgradients must be (COURSE_CONTRACT.md).
EXTREMES = onp.array([0.0, -0.0, 1.4e-45, -1.4e-45, 1e-30, -1e-30, 1e-12, -1e-12, 1e30, -1e30,
                      3e38, -3e38], dtype=onp.float32)
EXTREMES_TEXT = "x = 0, -0, +-1.4e-45, +-1e-30, +-1e-12, +-1e30, +-3e38"


def _kinked_values(shape, seed, tiny):
    """N(0, 1) values with exact zeros (every third entry) and, if `tiny`, values +-1e-6."""
    x = _normal(shape, seed).reshape(-1)
    x[::3] = 0.0
    if tiny:
        x[1::6], x[2::6] = 1e-6, -1e-6
    return x.reshape(shape)


def _explain_slope(name, function, got, case, value):
    """Name a mistake (on the first call), or the first wrong slope away from the kink,
    with advice for smoothed and overflowing formulas (the call's tag starts it)."""
    x, expected = case.args[0].astype(onp.float64), case.expected
    away = x != 0
    for wrong, message in case.mistakes if not case.tag else []:
        if onp.allclose(got[away], wrong[away], rtol=core.RTOL, atol=core.ATOL):
            core.fail(function, message)
    off = away & ~onp.isclose(got, expected, rtol=core.RTOL, atol=core.ATOL)
    index = spec.first(off)
    x_at, got_at, want = x[index], got[index], expected[index]
    hint = (" For small x != 0 the slope is still exactly that: do not smooth with an epsilon "
            "such as x / (|x| + 1e-8)" if abs(x_at) < 1e-3 and onp.sign(got_at) == onp.sign(
                want) and abs(got_at) < abs(want) else "")
    if not onp.isfinite(got_at) or abs(x_at) > 1e19:
        hint = (" Squares and sums leave float32's range at such x (x ** 2 is 0 for |x| < "
                "1e-23 and inf for |x| > 1.8e19; 2 * 3e38 is inf): decide the slope by "
                "comparing x with 0, e.g. np.where(x > 0, 1.0, ...)")
    core.fail(function, f"{case.tag}at index {index}, x = {x_at:.6g}: the slope of {name} is "
              f"{want:g}, got {got_at:.7g} ({core.count(off)} of {off.size} entries wrong).{hint}")


def subgradient(name, shown_as, low, high):
    """The spec of `name`, the slope of `shown_as`, any value in [low, high] at its kink x = 0,
    on kinked values, then on EXTREMES."""
    return hand_derived(
        name, inputs=lambda shape=(9,), seed=0, tiny=False: [
            spec.Call((_kinked_values(shape, seed, tiny),), None, ""),
            spec.Call((EXTREMES,), None, f"for {EXTREMES_TEXT}: ")],
        wrong=functools.partial(_explain_slope, shown_as), kink=spec.Kink(
            0.0, low, high, f"{shown_as} has a kink there, and a subgradient is any value in "
                            f"[{low:g}, {high:g}]: pick one, e.g. 0 (x / |x| and the like "
                            f"divide 0 by 0 there)"),
        passed=lambda shape, seed, tiny: (
            f"subgradient of {shown_as} on {math.prod(shape)} values, "
            f"{onp.sum(_kinked_values(shape, seed, tiny) == 0)} of them 0, and at "
            f"{EXTREMES_TEXT}"))


# grad_abs(x) and grad_relu(x) are subgradients of |x| and max(x, 0) at every entry of x.
grad_abs_matches = spec.check(subgradient("grad_abs", "|x|", -1.0, 1.0))
grad_relu_matches = spec.check(subgradient("grad_relu", "max(x, 0)", 0.0, 1.0))


# --------------------------------------------------------------------------- vector calculus

NORM_IS_ZERO = ("||x|| is 0 there: a formula that divides by ||x|| (such as 2 ||x|| * x / "
                "||x||) gives NaN; 2 x needs no division")


def _norm_sq_inputs(n=5, seed=0, scale=1.0):
    """x, then where ||x|| is 0 in float32 (the tag is the advice there): the minimum x = 0,
    and x so small that its squares underflow (|x_i| < 1e-23)."""
    x = _normal((n,), seed, scale)
    tiny = (_normal((n,), seed + 1).astype(onp.float64) * 1e-25).astype(onp.float32)
    return [spec.Call((x,), f"x of shape {x.shape}"),
            spec.Call((onp.zeros(n, onp.float32),), "x = 0, the minimum of ||x||^2",
                      NORM_IS_ZERO),
            spec.Call((tiny,), "x with entries near 1e-25, whose squares are 0 in float32",
                      NORM_IS_ZERO)]


def _explain_norm_sq(grad_norm_sq, got, case, value):
    """A mistake, where ||x|| is not 0; the worst entry, with the advice of the call's tag."""
    core.diagnose(grad_norm_sq, got, case.expected, [] if case.tag else case.mistakes)
    core.assert_close(grad_norm_sq, got, case.expected, atol=case.atol, inputs=case.inputs,
                      hint=case.tag)


# grad_norm_sq(x) is the gradient of ||x||^2, also where ||x|| is 0 in float32 (where 2 x
# is exact: no absolute tolerance).
grad_norm_sq_matches = spec.check(hand_derived(
    "grad_norm_sq", inputs=_norm_sq_inputs, **gradient_of(0, "x"), wrong=_explain_norm_sq,
    atol=lambda x: 0.0 if onp.abs(x).max() < 1e-20 else core.ATOL,
    passed="gradient of ||x||^2 for x of length {n}, also at x = 0 and for x near 1e-25"))


@with_edges(x=1)
def _quadratic_form_inputs(n=3, seed=0, symmetric=False, scale=1.0):
    A = _normal((n, n), seed)
    A = (A + A.T) / 2 if symmetric else A
    return spec.Call((A, _normal((n,), seed + 1, scale)),
                     f"a {'' if symmetric else 'non-'}symmetric A of shape {(n, n)}")


# grad_quadratic_form(A, x) is the gradient of x^T A x with respect to x (sums of 2n float32
# products: the tolerance allows the rounding of each).
grad_quadratic_form_matches = spec.check(hand_derived(
    "grad_quadratic_form", inputs=_quadratic_form_inputs, **gradient_of(1, "x"),
    atol=lambda A, x: core.ATOL + 2 * len(x) * core.FLOAT32_EPS * float(
        onp.abs(A).max() * onp.abs(x).max()),
    passed=lambda n, seed, symmetric, scale: (
        f"gradient of x^T A x for a {'' if symmetric else 'non-'}symmetric {n}x{n} A")))


def _jacobian_shape(shape, case):
    """What a Jacobian of a wrong shape did: transposed, or a vector."""
    m, n = case.args[0].shape
    if m != n and shape == (n, m):
        return f"returned shape {(n, m)} for A of shape {(m, n)}: {case.mistakes[0][1]}"
    if shape in ((m,), (n,)):
        like = ", the shape of the value y = A x" if shape == (m,) else ""
        return (f"returned a vector of shape {shape}{like}; the Jacobian of y = A x is the "
                f"({m}, {n}) matrix of all partial derivatives J[i, j] = dy_i/dx_j")
    return None


# jacobian_linear(A, x) is the Jacobian of y = A x, of shape (m, n).
@with_edges(x=1)
def _jacobian_inputs(m=3, n=4, seed=0):
    return _normal((m, n), seed), _normal((n,), seed + 1)


jacobian_linear_matches = spec.check(hand_derived(
    "jacobian_linear", inputs=_jacobian_inputs,
    shape=lambda A, x: A.shape, shape_mistakes=_jacobian_shape,
    shape_hint="J[i, j] = dy_i/dx_j: one row per output, one column per input",
    describe=lambda A, x: f"A of shape {A.shape}", passed="Jacobian of A x for {inputs}"))


# grad_z_w(x, w, y) is the gradient of z = (<x, w> - y)^2 with respect to w, for y a Python
# float or a 0-d array (sums of products: the tolerance allows their rounding).
@with_edges(x=0, w=1)
def _z_w_inputs(n=4, seed=0, y=0.5, y_array=False):
    return spec.Call((_normal((n,), seed), _normal((n,), seed + 1),
                      onp.array(y, dtype=onp.float32) if y_array else float(y)),
                     f"x, w of length {n}, y = {y}")


grad_z_w_matches = spec.check(hand_derived(
    "grad_z_w", inputs=_z_w_inputs,
    **gradient_of(1, "w"), atol=lambda x, w, y: core.ATOL + 4 * len(x) * core.FLOAT32_EPS
    * float(onp.abs(x).max() ** 2 * onp.abs(w).max()),
    passed=lambda n, seed, y, y_array: (f"chain rule for x, w of length {n}, y = {y}"
                                        + (" (a 0-d array)" if y_array else ""))))


# --------------------------------------------------------------------------- autograd

def _explain_no_graph(autograd_grad, failure, case):
    if "not in a computational graph" in str(failure):
        core.fail(autograd_grad, "backward() found no recorded computation: call "
                  "x.attach_grad() and compute y = f(x) inside `with autograd.record():`, then "
                  "call y.backward()")


def _gradient_result(autograd_grad, value, case):
    """The gradient returned, of x's shape (a list of one: autograd.grad's)."""
    f, x = case.args[0], _values(case.args[1])
    if isinstance(value, (list, tuple)) and len(value) == 1:
        core.fail(autograd_grad, "returned a list with one gradient in it (autograd.grad "
                  "returns one per variable): return its first element, converted with "
                  ".as_np_ndarray()")
    core.expect_float_array(autograd_grad, value, f"the gradient of {f.__name__}", hint=(
        "Or, if you return x.grad: it is None until x.attach_grad() is called, and holds the "
        "gradient after y.backward()"), **FIXES)
    if tuple(value.shape) != x.shape:
        core.fail(autograd_grad, f"the gradient of {f.__name__} has shape {tuple(value.shape)}, "
                  f"expected {x.shape}, the shape of x: return x.grad")
    return core.to_numpy(value)


def _autograd_inputs(f=sum_of_cubes, shape=(5,), seed=0):
    """The cell's f at a seeded x, then square_held, where autograd's gradient is not the
    one finite differences give."""
    return [spec.Call((g, _normal(shape, seed)), f"f = {g.__name__}, x of shape {tuple(shape)}")
            for g in (f, square_held)]


def _values(x):
    """x's values, whether or not a gradient comes with it (a spec.Param)."""
    return x.value if isinstance(x, spec.Param) else x


def _unchanged_inputs(f=x_sin_x, shape=(5,), seed=0, calls=2):
    """`calls` calls on x's values, the last one with a gradient already attached to x."""
    plain = _autograd_inputs(f, shape, seed)[0]
    f, x = plain.args
    gradient = spec.Call((f, spec.Param(x, _normal(shape, seed + 1))),
                         f"f = {f.__name__}, x of shape {tuple(shape)} with a gradient attached")
    return [plain] * (calls - 1) + [gradient]


# autograd_grad(f, x) is the gradient of f at x (module-level f, seeded x).
AUTOGRAD = Spec(
    name="autograd_grad", inputs=_autograd_inputs, oracle=_gradient, result=_gradient_result,
    mistakes=functools.partial(_mistakes, "autograd_grad"), raised=_explain_no_graph,
    atol=lambda f, x: core.ATOL + core.ulp_tolerance(float(onp.abs(_gradient(f, x)).max())),
    passed=lambda f, shape, seed: (f"gradient of {f.__name__} for x of shape {tuple(shape)}, and "
                                   "of square_held, whose x.detach() autograd holds constant"))
autograd_grad_matches = spec.check(AUTOGRAD)
# autograd_grad(f, x) leaves x unchanged (core.call judges it) over `calls` calls on x's
# values, and the gradient a caller attached to x; the gradient's values are
# autograd_grad_matches's to judge.
autograd_grad_leaves_x = spec.check(dataclasses.replace(
    AUTOGRAD, mistakes=None, atol=math.inf, inputs=_unchanged_inputs,
    oracle=lambda f, x: _gradient(f, _values(x)),
    passed=lambda f, shape, seed, calls: f"x and its gradient unchanged over {calls} calls"))
