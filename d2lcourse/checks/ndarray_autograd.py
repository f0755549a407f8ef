"""Checks of assignment 01, DeepNumpy and calculus (``ndarray_autograd.ipynb``).

Test cells call them as ``check.<name>(<graded function>, **params)``. Each check calls
the student's function through :func:`core.call`, computes what it should have returned
with float64 classic NumPy, and, when the result is wrong, looks for the signature of a
typical mistake (forward difference, ``2 A x`` for a non-symmetric ``A``, a transposed
Jacobian, ...) to name it. What a graded function should return, and what its typical
mistakes return, are computed by oracles (:func:`core.oracle`), whose code the student
package leaves out.

The functions handed to the student's ``numerical_derivative`` and ``autograd_grad``
(``cube``, ``softplus``, ``sum_of_cubes``, ...) are defined in :mod:`checks.problems`,
which the sandboxed autograder imports them from by name, and named here for test cells.
"""
import math

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, spec
from d2lcourse.checks.problems import (  # noqa: F401 (test cells name them check.<name>)
    cube, gram_sum, log_sum_exp, mean_square, softplus, sum_of_cubes, tanh_energy, wave,
    x_sin_x)

EPS32 = core.FLOAT32_EPS


# --------------------------------------------------------------------------- test functions
# The functions handed to the student's code live in checks.problems, which the sandbox
# sees; their values and derivatives in float64 classic NumPy are oracles.

@core.oracle
def _value(f, x):
    """f(x) for an elementwise function f of checks.problems."""
    return {"cube": lambda v: v ** 3,
            "softplus": lambda v: onp.logaddexp(0.0, v),
            "wave": lambda v: onp.sin(3 * v) + v ** 2 / 2}[f.__name__](x)


@core.oracle
def _derivative(f, x):
    """f'(x) for an elementwise function f of checks.problems."""
    return {"cube": lambda v: 3 * v ** 2,
            "softplus": lambda v: 1 / (1 + onp.exp(-v)),
            "wave": lambda v: 3 * onp.cos(3 * v) + v}[f.__name__](x)


@core.oracle
def _softmax(x):
    """The softmax of x, the gradient of log_sum_exp."""
    e = onp.exp(x - x.max())
    return e / e.sum()


@core.oracle
def _gradient(f, x):
    """The gradient at x of a scalar-valued function f of checks.problems."""
    return {"sum_of_cubes": lambda v: 3 * v ** 2,
            "x_sin_x": lambda v: onp.sin(v) + v * onp.cos(v),
            "log_sum_exp": _softmax,
            "mean_square": lambda v: 2 * v / v.size,
            "tanh_energy": lambda V: 2 * onp.tanh(V) * (1 - onp.tanh(V) ** 2),
            "gram_sum": lambda V: 2 * onp.ones((V.shape[0], V.shape[0])) @ V,
            }[f.__name__](x)


# --------------------------------------------------------------------------- helpers

def _hand_derived(function, *args, seed=0):
    """Call a hand-derived function: autograd and ready-made operators are forbidden."""
    core.check_source(function, core.HAND_DERIVED)
    return core.call(function, *args, seed=seed, forbidden=core.HAND_DERIVED)


LEGACY_FIX = ("convert it with .as_np_ndarray() (autograd.grad returns legacy arrays even in "
              "DeepNumpy mode)")
FLOAT_FIX = ("A derivative is a real number: convert it with .astype(x.dtype), or build it "
             "from floats, e.g. np.where(condition, 1.0, 0.0)")


def _array_result(function, value, what="the result", shape=None, hint=None):
    """Fail unless `value` is a floating-point mxnet.numpy array (of `shape`); return it."""
    return core.expect_float_array(function, value, what, shape, hint,
                                   legacy_fix=LEGACY_FIX, float_fix=FLOAT_FIX)


def _scalar_result(function, value, what="the result"):
    """A Python number or a 0-d mxnet array, as a float64: a float x has shape ()."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    _array_result(function, value, what)
    if value.shape != ():
        core.fail(function, f"{what} has shape {tuple(value.shape)}, expected (): a "
                            f"derivative at a Python float x is a single number, like x itself")
    return float(value.item())


def _kinked_inputs(shape, seed, tiny=False):
    """N(0, 1) values with exact zeros (every third entry) and, if `tiny`, values +-1e-6."""
    x = onp.random.default_rng(seed).normal(size=shape).astype(onp.float32).reshape(-1)
    x[::3] = 0.0
    if tiny:
        x[1::6] = 1e-6
        x[2::6] = -1e-6
    return x.reshape(shape)


def _describe(x):
    return f"x of shape {tuple(x.shape)}"


# --------------------------------------------------------------------------- regions

REGIONS = (  # what each region is, in the order of the spec
    "the element in row 1, column 2 (indices start at 0 and go [row, column])",
    "all of row 1",
    "all of column 1",
    "rows 1 and 2 and the columns from 1 to the last",
    "every third row and every second column, starting at row and column 0",
)
# Index expressions a student may write instead: used to name what came back.
INDEX_GUESSES = (":", "0", "1", "2", "3", "1:", "2:", "1:3", "1:2", "1:4", "2:3", "2:4",
                 "0:3", "0:2", "0:1", ":3", ":2", "::2", "::3", "1::2", "1::3", "0::2",
                 "0::3")


def _index(text):
    if ":" not in text:
        return int(text)
    return slice(*(int(part) if part else None for part in text.split(":")))


@core.oracle
def _regions(X):
    """The five regions of REGIONS of the matrix X."""
    return [X[1, 2], X[1, :], X[:, 1], X[1:3, 1:], X[::3, ::2]]


def _guess_region(X, got):
    """The expression X[r, c] whose value `got` equals (X has distinct entries), or None."""
    got = core.to_numpy(got)
    for rows in INDEX_GUESSES:
        for columns in INDEX_GUESSES:
            try:
                value = X[_index(rows), _index(columns)]
            except IndexError:
                continue
            if value.shape == got.shape and onp.array_equal(value, got):
                return f"X[{rows}, {columns}]"
            if value.ndim == 2 and value.T.shape == got.shape and value.size > 1 \
                    and onp.array_equal(value.T, got):
                return f"X[{rows}, {columns}].T"
    return None


# Shapes tried after the cell's own: the smallest X that has an element X[1, 2], and a
# matrix much wider than tall (a row count used for the columns shows there).
EXTRA_REGION_SHAPES = ((2, 3), (3, 8))


def regions_match(regions, shape=(4, 5), seed=0):
    """regions(X) returns the five regions of the spec, as mxnet arrays, for X of `shape`
    and of each of EXTRA_REGION_SHAPES."""
    shapes = (tuple(shape),) + EXTRA_REGION_SHAPES
    for size in shapes:
        _check_regions(regions, size, seed)
    sizes = ", ".join(f"{rows}x{columns}" for rows, columns in shapes)
    core.passed(regions, f"all five regions of matrices of shapes {sizes}")


def _check_regions(regions, shape, seed):
    X = core.random_array(shape, seed)
    values = core.to_numpy(X)
    got = core.call(regions, X, seed=seed)
    if not isinstance(got, (tuple, list)) or len(got) != len(REGIONS):
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        core.fail(regions, f"returned {core.type_name(got)}{length}, expected a tuple of "
                           f"{len(REGIONS)} regions: return a, b, c, d, e")
    for position, (meaning, want, value) in enumerate(zip(REGIONS, _regions(values), got), 1):
        where = f"item {position} should be {meaning}, of shape {want.shape}"
        if position == 1 and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = onp.float64(value)
        elif value is None or not hasattr(value, "shape"):
            got_text = "None" if value is None else core.type_name(value)
            core.fail(regions, f"{where}; got {got_text}: return an array for every region")
        else:
            core.expect_array(regions, value, f"item {position}")
        if core.to_numpy(value).shape == want.shape and onp.array_equal(
                core.to_numpy(value), want):
            continue
        guess = _guess_region(values, value)
        found = (f"you returned {guess} (shape {core.to_numpy(value).shape})" if guess else
                 f"you returned an array of shape {core.to_numpy(value).shape} that is not "
                 f"that region")
        core.fail(regions, f"for X of shape {shape}, {where}; {found}. Remember: an integer "
                           f"index drops its axis, a:b includes a and excludes b, and ::k "
                           f"takes every k-th entry")


# --------------------------------------------------------------------------- numerical_derivative

def _difference_tolerance(f, x, h, expected):
    """How far a float32 central difference may be from the exact one, elementwise.

    In float32, f(x +- h) carry rounding errors of a few units in the last place, and
    so does x + h itself: both are divided by 2h.
    """
    f_plus, f_minus = _value(f, x + h), _value(f, x - h)
    magnitude = onp.maximum(abs(f_plus), 1) + onp.maximum(abs(f_minus), 1)
    rounding = 4 * EPS32 * (magnitude + abs(_derivative(f, x)) * (abs(x) + h))
    return rounding / (2 * h) + core.RTOL * abs(expected) + core.ATOL


@core.oracle
def _central_difference(f, x, h):
    """(f(x + h) - f(x - h)) / (2h) for an elementwise function f of checks.problems."""
    return (_value(f, x + h) - _value(f, x - h)) / (2 * h)


@core.oracle
def _difference_mistakes(f, x, h):
    """(value, message) of the usual wrong difference quotients of f at x with step h."""
    return [
        ((_value(f, x + h) - _value(f, x)) / h,
         "this is the forward difference (f(x + h) - f(x)) / h, whose error shrinks "
         "only like h: use the central difference (f(x + h) - f(x - h)) / (2h), whose "
         "error shrinks like h^2"),
        ((_value(f, x) - _value(f, x - h)) / h,
         "this is the backward difference (f(x) - f(x - h)) / h, whose error shrinks "
         "only like h: use the central difference (f(x + h) - f(x - h)) / (2h)"),
        ((_value(f, x + h) - _value(f, x - h)) / h,
         "divides by h instead of 2h: the two points x - h and x + h are 2h apart"),
        ((_value(f, x + h) - _value(f, x - h)) / 2 * h,
         "computes (f(x + h) - f(x - h)) / 2 * h, which multiplies by h: write / (2 * h)"),
        (_value(f, x + h) - _value(f, x - h) / (2 * h),
         "computes f(x + h) - f(x - h) / (2 * h), which divides only f(x - h): put the "
         "difference in parentheses"),
        ((_value(f, x + 1e-4) - _value(f, x - 1e-4)) / 2e-4,
         f"ignores the argument h={h:g} and always uses 1e-4: use the h it is called with"),
    ]


def _check_difference(numerical_derivative, got, f, x, h, setting):
    """Fail unless `got` is the central difference of f at x (a float64 array) with step h.

    `setting` describes the call, e.g. "for f = cube at x = 1.5 with h = 0.1".
    """
    expected = _central_difference(f, x, h)
    tolerance = _difference_tolerance(f, x, h, expected)
    mistakes = _difference_mistakes(f, x, h)  # on every run: a replay then knows them all
    wrong = ~(onp.abs(got - expected) <= tolerance)
    if not wrong.any():
        return
    for wrong_values, message in mistakes:
        if onp.all(onp.abs(got - wrong_values) <= tolerance):
            core.fail(numerical_derivative, f"{setting}: {message}")
    index = tuple(int(i) for i in onp.argwhere(wrong)[0])
    where = f" at index {index} (x = {x[index]:.6g})" if index else ""
    count = f"; {onp.count_nonzero(wrong)} of {wrong.size} entries are wrong" if index else ""
    core.fail(numerical_derivative,
              f"{setting}{where}: expected (f(x + h) - f(x - h)) / (2h) = "
              f"{expected[index]:.7g}, got {got[index]:.7g} (the exact derivative is "
              f"{_derivative(f, x)[index]:.7g}){count}")


def numerical_derivative_central(numerical_derivative, f=cube, x=1.5, hs=(0.1, 0.01, 0.001)):
    """numerical_derivative(f, x, h) is the central difference, at a Python float x."""
    for h in hs:
        got = _scalar_result(numerical_derivative, core.call(numerical_derivative, f, x, h),
                             f"the derivative of {f.__name__} at x = {x}, h = {h:g}")
        _check_difference(numerical_derivative, onp.float64(got), f, onp.float64(x), h,
                          f"for f = {f.__name__} at x = {x} with h = {h:g}")
    _check_step_is_used(numerical_derivative)
    core.passed(numerical_derivative, f"central differences of {f.__name__} at x = {x}, "
                                      f"h = {', '.join(f'{h:g}' for h in hs)}, and of cube "
                                      f"at 0 for h = {', '.join(f'{h:g}' for h in TINY_STEPS)}")


# At x = 0 the central difference of cube is exactly h^2 (f'(0) = 0, the third derivative
# is 6), free of rounding: the step a function really used can be read off its result,
# however small.
TINY_STEPS = (1e-2, 1e-6)


def _check_step_is_used(numerical_derivative):
    """numerical_derivative(cube, 0.0, h) is h^2 for every h of TINY_STEPS."""
    for h in TINY_STEPS:
        got = _scalar_result(numerical_derivative, core.call(numerical_derivative, cube, 0.0, h),
                             f"the derivative of cube at x = 0.0, h = {h:g}")
        if abs(got - _central_difference(cube, 0.0, h)) <= 1e-3 * h * h:
            continue
        used = (f", which is h^2 for h = {math.sqrt(got):.3g}: use the step h it is called "
                f"with, however small" if got > 0 else "")
        core.fail(numerical_derivative, f"for f = cube at x = 0.0 with h = {h:g}: the "
                                        f"central difference (h^3 - (-h)^3) / (2h) is exactly "
                                        f"h^2 = {h * h:.3g} there, got {got:.3g}{used}")


def numerical_derivative_elementwise(numerical_derivative, f=softplus, shape=(6,), seed=0,
                                     dtype="float32", h=None):
    """numerical_derivative(f, x[, h]) works elementwise on an mxnet array x.

    With h=None the function's default step (1e-4) is used and expected.
    """
    x = core.random_array(shape, seed).astype(dtype)
    points = core.to_numpy(x)
    step = 1e-4 if h is None else h
    args = () if h is None else (h,)
    got = _array_result(numerical_derivative, core.call(numerical_derivative, f, x, *args),
                        what=f"the derivative of {f.__name__} at an array x", shape=shape,
                        hint="the derivative of an elementwise f has the shape of x")
    _check_difference(numerical_derivative, core.to_numpy(got), f, points, step,
                      f"for f = {f.__name__} on a {dtype} array x with h = {step:g}")
    core.passed(numerical_derivative, f"elementwise on a {dtype} array of shape {shape}, "
                                      f"h = {step:g}")


# --------------------------------------------------------------------------- grad_f

@core.oracle
def _f_prime(x):
    """f'(x) for f(x) = 3x^2 - 4x."""
    return 6 * x - 4


@core.oracle
def _f_prime_mistakes(x):
    """(value, message) of the usual wrong derivatives of f(x) = 3x^2 - 4x."""
    return [
        (3 * x ** 2 - 4 * x, "returned f(x) = 3x^2 - 4x itself, not its derivative"),
        (6 * x, "the derivative of -4x is -4, which is missing"),
        (6 * x - 4 * x, "the derivative of -4x is the constant -4, not -4x"),
        (3 * x - 4, "power rule: the derivative of 3x^2 is 3 * 2x = 6x"),
        (6 * x + 4, "wrong sign: the derivative of -4x is -4"),
        (6 * x ** 2 - 4, "power rule: the derivative of x^2 is 2x, so 3x^2 gives 6x"),
    ]


def _normal_inputs(shape=(6,), seed=0, scale=2.0):
    """N(0, scale^2) float32 values, those of core.random_array."""
    return core.random_array(shape, seed, scale=scale).asnumpy()


# grad_f(x) = f'(x) for f(x) = 3x^2 - 4x, elementwise on an array (checks.spec).
grad_f_matches = spec.check(spec.Spec(
    name="grad_f", inputs=_normal_inputs, oracle=_f_prime, mistakes=_f_prime_mistakes,
    shown_as="f'(x)", passed="f'(x) on {size} values", forbidden=core.HAND_DERIVED,
    legacy_fix=LEGACY_FIX, float_fix=FLOAT_FIX, describe=_describe,
    shape_hint="f is applied elementwise, so f'(x) has the shape of x"))


def grad_f_at(grad_f, x=1.0):
    """grad_f at a Python float: the slope of the tangent line at x."""
    got = _scalar_result(grad_f, _hand_derived(grad_f, x), f"f'({x})")
    expected = _f_prime(x)
    core.diagnose(grad_f, got, expected, _f_prime_mistakes(x), context=f"at x = {x}: ")
    core.assert_close(grad_f, got, expected, what=f"f'({x})")
    core.passed(grad_f, f"f'({x}) = {expected:g}, the slope of the tangent at x = {x}")


# --------------------------------------------------------------------------- subgradients

def _check_subgradient(function, got, points, slope, interval, name, mistakes, context=""):
    """Slope `slope(x)` where x != 0, any value in `interval` where x == 0.

    `context` (e.g. "for x = ...: ") starts every message."""
    values = core.to_numpy(got)
    zero = points == 0
    low, high = interval
    bad = zero & ~onp.isfinite(values)
    if bad.any():
        index = tuple(int(i) for i in onp.argwhere(bad)[0])
        core.fail(function, f"{context}returned {values[index]:g} at x = 0 (index {index}): "
                            f"{kink_advice(name, low, high)}")
    expected = slope(points)
    nonzero = ~zero
    if not onp.allclose(values[nonzero], expected[nonzero], rtol=core.RTOL, atol=core.ATOL):
        for wrong, message in mistakes:
            if onp.allclose(values[nonzero], wrong[nonzero], rtol=core.RTOL, atol=core.ATOL):
                core.fail(function, context + message)
        off = nonzero & ~onp.isclose(values, expected, rtol=core.RTOL, atol=core.ATOL)
        index = tuple(int(i) for i in onp.argwhere(off)[0])
        small = onp.abs(points[index]) < 1e-3 and onp.sign(values[index]) == onp.sign(
            expected[index]) and abs(values[index]) < abs(expected[index])
        hint = (" For small x != 0 the slope is still exactly that: do not smooth with an "
                "epsilon such as x / (|x| + 1e-8)" if small else "")
        if not onp.isfinite(values[index]) or abs(points[index]) > 1e19:
            hint = (" Squares and sums leave float32's range at such x (x ** 2 is 0 for "
                    "|x| < 1e-23 and inf for |x| > 1.8e19; 2 * 3e38 is inf): decide the "
                    "slope by comparing x with 0, e.g. np.where(x > 0, 1.0, ...)")
        core.fail(function, f"{context}at index {index}, x = {points[index]:.6g}: the slope "
                            f"of {name} is {expected[index]:g}, got {values[index]:.7g} "
                            f"({onp.count_nonzero(off)} of {off.size} entries wrong).{hint}")
    outside = zero & ~((values >= low - core.ATOL) & (values <= high + core.ATOL))
    if outside.any():
        index = tuple(int(i) for i in onp.argwhere(outside)[0])
        core.fail(function, f"{context}returned {values[index]:g} at x = 0 (index {index}): "
                            f"{kink_advice(name, low, high)}")


def kink_advice(name, low, high):
    return (f"{name} has a kink there, and a subgradient is any value in [{low:g}, {high:g}]: "
            f"pick one, e.g. 0 (x / |x| and the like divide 0 by 0 there)")


# Exact zeros of both signs, tiny and huge magnitudes across float32's range: where x ** 2
# underflows to 0 or overflows to inf, and x + |x| or 2 x overflow. |x| and max(x, 0) are
# finite at all of them, so their subgradients must be (COURSE_CONTRACT.md).
EXTREMES = onp.array([0.0, -0.0, 1e-30, -1e-30, 1e-12, -1e-12, 1e30, -1e30, 3e38, -3e38],
                     dtype=onp.float32)
EXTREMES_TEXT = "x = 0, -0, +-1e-30, +-1e-12, +-1e30, +-3e38"


def _check_extremes(function, slope, interval, name):
    """The subgradient at EXTREMES: the exact slope away from 0, finite everywhere."""
    got = _array_result(function, _hand_derived(function, np.array(EXTREMES)),
                        shape=EXTREMES.shape)
    _check_subgradient(function, got, EXTREMES.astype(onp.float64), slope, interval, name,
                       [], context=f"for {EXTREMES_TEXT}: ")


@core.oracle
def _abs_slope(x):
    """The derivative of |x| where x != 0."""
    return onp.sign(x)


@core.oracle
def _abs_slope_mistakes(x):
    """(value, message) of the usual wrong slopes of |x|."""
    return [
        (-onp.sign(x), "the signs are flipped: the slope of |x| is +1 for x > 0 and -1 for "
                       "x < 0"),
        (onp.abs(x), "returned |x| itself, not its slope"),
        (x, "returned x: the slope of |x| does not grow with x, it is -1 or +1"),
        ((x > 0).astype(float), "for x < 0 the slope of |x| is -1, got 0: that is the slope "
                                "of max(x, 0)"),
        (onp.ones_like(x), "for x < 0 the slope of |x| is -1, got +1"),
    ]


def grad_abs_matches(grad_abs, shape=(9,), seed=0, tiny=False):
    """grad_abs(x) is a subgradient of |x| at every entry of x."""
    x = np.array(_kinked_inputs(shape, seed, tiny))
    got = _array_result(grad_abs, _hand_derived(grad_abs, x, seed=seed), shape=shape)
    points = core.to_numpy(x)
    _check_subgradient(grad_abs, got, points, _abs_slope, (-1.0, 1.0), "|x|",
                       _abs_slope_mistakes(points))
    _check_extremes(grad_abs, _abs_slope, (-1.0, 1.0), "|x|")
    core.passed(grad_abs, f"subgradient of |x| on {x.size} values, {onp.sum(points == 0)} "
                          f"of them 0, and at {EXTREMES_TEXT}")


@core.oracle
def _relu_slope(x):
    """The derivative of max(x, 0) where x != 0."""
    return (x > 0).astype(float)


@core.oracle
def _relu_slope_mistakes(x):
    """(value, message) of the usual wrong slopes of max(x, 0)."""
    return [
        (onp.maximum(x, 0), "returned max(x, 0) itself, not its slope"),
        ((x < 0).astype(float), "flipped: the slope of max(x, 0) is 1 for x > 0 and 0 for "
                                "x < 0"),
        (onp.sign(x), "for x < 0 the slope of max(x, 0) is 0, got -1: that is the slope of "
                      "|x|"),
        (x, "returned x: the slope of max(x, 0) is 0 or 1"),
    ]


def grad_relu_matches(grad_relu, shape=(9,), seed=0, tiny=False):
    """grad_relu(x) is a subgradient of max(x, 0) at every entry of x."""
    x = np.array(_kinked_inputs(shape, seed, tiny))
    got = _array_result(grad_relu, _hand_derived(grad_relu, x, seed=seed), shape=shape)
    points = core.to_numpy(x)
    _check_subgradient(grad_relu, got, points, _relu_slope, (0.0, 1.0), "max(x, 0)",
                       _relu_slope_mistakes(points))
    _check_extremes(grad_relu, _relu_slope, (0.0, 1.0), "max(x, 0)")
    core.passed(grad_relu, f"subgradient of max(x, 0) on {x.size} values, "
                           f"{onp.sum(points == 0)} of them 0, and at {EXTREMES_TEXT}")


# --------------------------------------------------------------------------- vector calculus

def _scalar_instead(function, got, shape, what):
    """Fail with the shape rule when a gradient came back as one number."""
    size = getattr(got, "size", 1)
    if isinstance(got, (int, float)) or (hasattr(got, "shape") and size == 1
                                         and tuple(got.shape) != tuple(shape)):
        core.fail(function, f"returned a single number, expected an array of shape {shape}: "
                            f"the gradient of a scalar function of {what} has one entry per "
                            f"entry of {what}")


@core.oracle
def _norm_sq_gradient(x):
    """The gradient of ||x||^2."""
    return 2 * x


@core.oracle
def _norm_sq_gradient_mistakes(x):
    """(value, message) of the usual wrong gradients of ||x||^2."""
    norm = onp.linalg.norm(x)
    return [
        (x, "missing the factor 2: d/dx_i of x_i^2 is 2 x_i"),
        (x / norm, "x / ||x|| is the gradient of ||x||, not of ||x||^2 = sum_i x_i^2"),
        (2 * x / norm, "2 x / ||x|| mixes up ||x|| and ||x||^2: d/dx_i sum_j x_j^2 = 2 x_i"),
        (x ** 2, "returned x_i^2: differentiate it, d/dx_i x_i^2 = 2 x_i"),
    ]


def grad_norm_sq_matches(grad_norm_sq, n=5, seed=0, scale=1.0):
    """grad_norm_sq(x) is the gradient of ||x||^2."""
    x = core.random_array((n,), seed, scale=scale)
    got = _hand_derived(grad_norm_sq, x, seed=seed)
    _scalar_instead(grad_norm_sq, got, (n,), "x")
    got = _array_result(grad_norm_sq, got, shape=(n,))
    points = core.to_numpy(x)
    expected = _norm_sq_gradient(points)
    core.diagnose(grad_norm_sq, got, expected, _norm_sq_gradient_mistakes(points))
    core.assert_close(grad_norm_sq, got, expected, inputs=_describe(x))
    _check_norm_sq_where_norm_is_zero(grad_norm_sq, n, seed)
    core.passed(grad_norm_sq, f"gradient of ||x||^2 for x of length {n}, also at x = 0 and "
                              f"for x near 1e-25")


def _check_norm_sq_where_norm_is_zero(grad_norm_sq, n, seed):
    """The exact gradient where ||x|| is 0 in float32: at the minimum x = 0, and for x so
    small that its squares underflow (|x_i| < 1e-23). A formula that divides by ||x||
    fails."""
    tiny = core.to_numpy(core.random_array((n,), seed + 1)) * 1e-25
    for values, what in ((onp.zeros(n), "x = 0, the minimum of ||x||^2"),
                         (tiny, "x with entries near 1e-25, whose squares are 0 in float32")):
        x = np.array(values.astype(onp.float32))
        got = _array_result(grad_norm_sq, _hand_derived(grad_norm_sq, x, seed=seed),
                            shape=(n,))
        core.assert_close(grad_norm_sq, got, _norm_sq_gradient(core.to_numpy(x)), atol=0.0,
                          inputs=what,
                          hint="||x|| is 0 there: a formula that divides by ||x|| (such as "
                               "2 ||x|| * x / ||x||) gives NaN; 2 x needs no division")


@core.oracle
def _quadratic_form_gradient(A, x):
    """The gradient of x^T A x with respect to x."""
    return (A + A.T) @ x


@core.oracle
def _quadratic_form_gradient_mistakes(A, x):
    """(value, message) of the usual wrong gradients of x^T A x."""
    return [
        (2 * A @ x, "returned 2 A x, which assumes A is symmetric: for a non-symmetric A "
                    "the gradient of x^T A x is (A + A^T) x (write x^T A x = "
                    "sum_ij x_i A_ij x_j and differentiate by x_k)"),
        (2 * A.T @ x, "returned 2 A^T x, which assumes A is symmetric: the gradient of "
                      "x^T A x is (A + A^T) x"),
        (A @ x, "returned A x, only half of the product rule: x appears twice in x^T A x, "
                "and the two terms give A x + A^T x"),
        (A.T @ x, "returned A^T x, only half of the product rule: x appears twice in "
                  "x^T A x, and the two terms give A x + A^T x"),
    ]


def grad_quadratic_form_matches(grad_quadratic_form, n=3, seed=0, symmetric=False, scale=1.0):
    """grad_quadratic_form(A, x) is the gradient of x^T A x with respect to x, for a
    non-symmetric (or symmetric) A."""
    A = core.random_array((n, n), seed)
    if symmetric:
        A = (A + A.T) / 2
    x = core.random_array((n,), seed + 1, scale=scale)
    got = _hand_derived(grad_quadratic_form, A, x, seed=seed)
    _scalar_instead(grad_quadratic_form, got, (n,), "x")
    got = _array_result(grad_quadratic_form, got, shape=(n,),
                        hint="the gradient with respect to x has the shape of x")
    a, v = core.to_numpy(A), core.to_numpy(x)
    expected = _quadratic_form_gradient(a, v)
    # Sums of 2n float32 products: allow the rounding of each term.
    atol = core.ATOL + 2 * n * EPS32 * float(onp.abs(a).max() * onp.abs(v).max())
    kind = "symmetric" if symmetric else "non-symmetric"
    core.diagnose(grad_quadratic_form, got, expected,
                  _quadratic_form_gradient_mistakes(a, v), atol=atol)
    core.assert_close(grad_quadratic_form, got, expected, atol=atol,
                      inputs=f"a {kind} A of shape {(n, n)}")
    core.passed(grad_quadratic_form, f"gradient of x^T A x for a {kind} {n}x{n} A")


@core.oracle
def _linear_jacobian(A, x):
    """The Jacobian of y = A x with respect to x."""
    return A


@core.oracle
def _linear_map(A, x):
    """y = A x, the value of the function."""
    return A @ x


@core.oracle
def _linear_jacobian_mistakes(A, x):
    """(value, message) of the usual wrong Jacobians of y = A x: the first is the transposed
    one."""
    m, n = A.shape
    return [
        (A.T, f"the Jacobian is transposed: J[i, j] = dy_i/dx_j, so it has one row per "
              f"output y_i ({m}) and one column per input x_j ({n}), and J = A, not A^T"),
    ]


def jacobian_linear_matches(jacobian_linear, m=3, n=4, seed=0):
    """jacobian_linear(A, x) is the Jacobian of y = A x, of shape (m, n)."""
    A = core.random_array((m, n), seed)
    x = core.random_array((n,), seed + 1)
    got = _hand_derived(jacobian_linear, A, x, seed=seed)
    a, v = core.to_numpy(A), core.to_numpy(x)
    got_shape = tuple(getattr(got, "shape", ()))
    mistakes = _linear_jacobian_mistakes(a, v)
    if m != n and got_shape == (n, m):
        _, transposed = mistakes[0]
        core.fail(jacobian_linear, f"returned shape {(n, m)} for A of shape {(m, n)}: "
                                   f"{transposed}")
    if got_shape in ((m,), (n,)):
        like = ", the shape of the value y = A x" if got_shape == (m,) else ""
        core.fail(jacobian_linear, f"returned a vector of shape {got_shape}{like}; the "
                                   f"Jacobian of y = A x is the ({m}, {n}) matrix of all "
                                   f"partial derivatives J[i, j] = dy_i/dx_j")
    got = _array_result(jacobian_linear, got, shape=(m, n),
                        hint="J[i, j] = dy_i/dx_j: one row per output, one column per input")
    expected = _linear_jacobian(a, v)
    core.diagnose(jacobian_linear, got, expected, mistakes)
    core.assert_close(jacobian_linear, got, expected, inputs=f"A of shape {(m, n)}")
    core.passed(jacobian_linear, f"Jacobian of A x for A of shape {(m, n)}")


@core.oracle
def _z_w_gradient(x, w, y):
    """The gradient of z = (<x, w> - y)^2 with respect to w."""
    return 2 * (x @ w - y) * x


@core.oracle
def _z_w_gradient_mistakes(x, w, y):
    """(value, message) of the usual wrong gradients of z = (<x, w> - y)^2."""
    residual = x @ w - y
    return [
        (residual * x, "missing the factor 2: by the chain rule dz/dw = 2 (<x, w> - y) "
                       "* d<x, w>/dw"),
        (-_z_w_gradient(x, w, y), "wrong sign: the residual is <x, w> - y, so dz/dw = "
                                  "2 (<x, w> - y) x"),
        (-residual * x, "wrong sign and missing factor 2: dz/dw = 2 (<x, w> - y) x"),
        (2 * residual * w, "multiplied by w instead of x: d<x, w>/dw = x"),
        (2 * residual * onp.ones_like(x), "missing the inner derivative d<x, w>/dw = x"),
    ]


def grad_z_w_matches(grad_z_w, n=4, seed=0, y=0.5, y_array=False):
    """grad_z_w(x, w, y) is the gradient of z = (<x, w> - y)^2 with respect to w, y a Python
    float or a 0-d array."""
    x = core.random_array((n,), seed)
    w = core.random_array((n,), seed + 1)
    target = np.array(y) if y_array else float(y)
    got = _hand_derived(grad_z_w, x, w, target, seed=seed)
    _scalar_instead(grad_z_w, got, (n,), "w")
    got = _array_result(grad_z_w, got, shape=(n,),
                        hint="the gradient with respect to w has the shape of w")
    u, v = core.to_numpy(x), core.to_numpy(w)
    expected = _z_w_gradient(u, v, y)
    atol = core.ATOL + 4 * n * EPS32 * float(onp.abs(u).max() ** 2 * onp.abs(v).max())
    core.diagnose(grad_z_w, got, expected, _z_w_gradient_mistakes(u, v, y), atol=atol)
    core.assert_close(grad_z_w, got, expected, atol=atol,
                      inputs=f"x, w of length {n}, y = {y}")
    core.passed(grad_z_w, f"chain rule for x, w of length {n}, y = {y}"
                          + (" (a 0-d array)" if y_array else ""))


# --------------------------------------------------------------------------- autograd

def _autograd_call(autograd_grad, f, x, seed):
    try:
        return core.call(autograd_grad, f, x, seed=seed)
    except core.CheckFailure as failure:
        if "not in a computational graph" in str(failure):
            core.fail(autograd_grad, "backward() found no recorded computation: call "
                                     "x.attach_grad() and compute y = f(x) inside "
                                     "`with autograd.record():`, then call y.backward()")
        raise


def autograd_grad_matches(autograd_grad, f=sum_of_cubes, shape=(5,), seed=0):
    """autograd_grad(f, x) is the gradient of f at x (module-level f, seeded x)."""
    x = core.random_array(shape, seed)
    points = core.to_numpy(x)
    expected = _gradient(f, points)
    got = _autograd_call(autograd_grad, f, x, seed)
    if isinstance(got, (list, tuple)) and len(got) == 1:
        core.fail(autograd_grad, "returned a list with one gradient in it (autograd.grad "
                                 "returns one per variable): return its first element, "
                                 "converted with .as_np_ndarray()")
    got = _array_result(autograd_grad, got, f"the gradient of {f.__name__}",
                        hint="Or, if you return x.grad: it is None until "
                             "x.attach_grad() is called, and holds the gradient after "
                             "y.backward()")
    if tuple(got.shape) != tuple(shape):
        core.fail(autograd_grad, f"the gradient of {f.__name__} has shape {tuple(got.shape)}, "
                                 f"expected {tuple(shape)}, the shape of x: return x.grad")
    values = core.to_numpy(got)
    if not onp.any(values) and onp.any(expected):
        core.fail(autograd_grad, f"returned all zeros for the gradient of {f.__name__}: "
                                 f"x.grad holds zeros until y.backward() runs on a y computed "
                                 f"inside `with autograd.record():`")
    atol = core.ATOL + core.ulp_tolerance(float(onp.abs(expected).max()))
    core.assert_close(autograd_grad, got, expected, atol=atol,
                      inputs=f"f = {f.__name__}, x of shape {tuple(shape)}")
    core.passed(autograd_grad, f"gradient of {f.__name__} for x of shape {tuple(shape)}")


def autograd_grad_leaves_x(autograd_grad, f=x_sin_x, shape=(5,), seed=0, calls=2):
    """autograd_grad(f, x) leaves x's values unchanged, over `calls` calls on the same x
    (core.call fails on a change, or on a result that is x.grad itself).

    Whether a later call returns the same gradient is not checked: MXNet overwrites x.grad
    (grad_req="write"), so gradients accumulate only through state a student keeps on
    purpose, and autograd_grad_matches, calling with other f and x, catches that.
    """
    x = core.random_array(shape, seed)
    for _ in range(calls):
        got = _autograd_call(autograd_grad, f, x, seed)
        _array_result(autograd_grad, got, f"the gradient of {f.__name__}", shape=shape)
    core.passed(autograd_grad, f"x unchanged over {calls} calls")
