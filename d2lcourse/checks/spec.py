"""The check engine: a check is data, a :class:`Spec`, run by one script, :func:`run`.

Authoring (d2lcourse/checks/mlp.py's activations are the examples): write the oracles
(``@core.oracle``, float64 classic NumPy in and out) and an input builder, then::

    RELU = spec.Spec(name="relu", inputs=normal_inputs, oracle=_relu, mistakes=_relu_mistakes,
                     shown_as="max(x, 0)", passed="max(x, 0) on {size} inputs", ...)
    relu_matches = spec.check(RELU)      # a test cell: check.relu_matches(relu, seed=1)

The entry point takes the graded function, then the parameters of ``inputs`` (with their
defaults; one is ``seed``). :func:`run` fails at the first of these steps that fails:
1. ``x = inputs(**params)``, float32 classic NumPy (code: no oracle builds inputs);
2. ``function(np.array(x))`` through :func:`core.call`, seeded, ``forbidden`` APIs refused;
3. the result is a float32 or float64 mxnet.numpy array of shape ``shape(x)`` (else
   ``shape_hint``; ``legacy_fix`` mends a legacy NDArray);
4. ``oracle(x)`` and ``mistakes(x)`` ([(value, message)]) of the float64 inputs only, which
   the student package replays (:func:`case` gives a case as data);
5. ``kink``: at x == kink.at, any value in [low, high] is right (a subgradient);
6. a wrong result equal to a mistake's value fails with its message (:func:`core.diagnose`);
7. ``finite``: NaN or Inf where the expected value is finite fails with this advice (with
   DIVISION for |x| < ``overflow_from``, where nothing overflows);
8. |got - expected| <= atol + rtol |expected| everywhere, else the worst entry and its x
   (with ``describe``, :func:`core.assert_close` says it, the inputs in its words);
9. ``differentiable``: autograd differentiates the result (:func:`core.gradients`);
10. ``passed.format(size=x.size, **params)``, with ", differentiable" after step 9.
Every message of a spec comes from a catalogued mistake (tests/test_spec.py). Checks of
another kind (statistics of draws, trajectories, training) stay hand-written.
"""
import functools
import inspect
from collections import namedtuple
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core

DIVISION = "Nothing overflows at so small an x: look for a division by zero, 1 / 0 or 0 / 0"


# At x == at, any value in [low, high] is right; another fails with `advice`.
Kink = namedtuple("Kink", "at low high advice")


@dataclass(frozen=True)
class Spec:
    """The check of one elementwise graded function (see the module's docstring)."""
    name: str
    inputs: Callable
    oracle: Callable
    mistakes: Callable
    shown_as: str
    passed: str
    forbidden: dict
    legacy_fix: str
    float_fix: str = core.FLOAT_FIX
    shape: Callable = onp.shape
    shape_hint: str = "an elementwise function returns an array of its input's shape"
    finite: Optional[str] = None
    overflow_from: float = 0.0
    kink: Optional[Kink] = None
    describe: Optional[Callable] = None
    differentiable: bool = False
    rtol: float = core.RTOL
    atol: float = core.ATOL


def check(spec):
    """The entry point of `spec`: ``entry(function, **params)``, params as `spec.inputs`'s."""
    entry = functools.partial(run, spec)
    entry.__signature__ = inspect.Signature([inspect.Parameter(
        "function", inspect.Parameter.POSITIONAL_ONLY),
        *inspect.signature(spec.inputs).parameters.values()])
    entry.__doc__ = f"Check {spec.name}: {spec.passed}"
    return entry


def case(spec, *args, **kwargs):
    """A case as data: (its parameters, defaults included; x; the expected result; the
    mistakes' [(value, message)])."""
    bound = inspect.signature(spec.inputs).bind(*args, **kwargs)
    bound.apply_defaults()
    x = spec.inputs(**bound.arguments)
    points = x.astype(onp.float64)
    with onp.errstate(all="ignore"):
        return bound.arguments, x, spec.oracle(points), spec.mistakes(points)


def run(spec, function, *args, **kwargs):
    """Check `function` as `spec` says, on the inputs its parameters build."""
    params, x, expected, mistakes = case(spec, *args, **kwargs)
    got = core.call(function, np.array(x), seed=params["seed"], forbidden=spec.forbidden)
    core.expect_float_array(function, got, shape=spec.shape(x), hint=spec.shape_hint,
                            legacy_fix=spec.legacy_fix, float_fix=spec.float_fix)
    got = core.to_numpy(got)
    with onp.errstate(all="ignore"):
        if spec.kink:
            at = x == spec.kink.at
            outside = at & ~((got >= spec.kink.low) & (got <= spec.kink.high))
            if outside.any():
                index = first(outside)
                core.fail(function, f"returned {got[index]:g} at x = {spec.kink.at:g} "
                                    f"(index {index}): {spec.kink.advice}")
            expected = onp.where(at, got, expected)      # the result is right at the kink
            mistakes = [(onp.where(at, got, value), text) for value, text in mistakes]
        core.diagnose(function, got, expected, mistakes, spec.rtol, spec.atol)
        if spec.finite:
            require_finite(spec, function, got, x, expected)
        if spec.describe:
            core.assert_close(function, got, expected, rtol=spec.rtol, atol=spec.atol,
                              inputs=spec.describe(x))
        else:
            require_close(spec, function, got, x, expected)
    if spec.differentiable:
        core.gradients(function, np.array(x), seed=params["seed"])
    core.passed(function, spec.passed.format(size=x.size, **params)
                + (", differentiable" if spec.differentiable else ""))


def first(mask):
    return tuple(int(i) for i in onp.argwhere(mask)[0])


def require_finite(spec, function, got, x, expected):
    """Name the first input where the result is NaN or Inf and the expected value finite."""
    bad = ~onp.isfinite(got) & onp.isfinite(expected)
    if bad.any():
        index = first(bad)
        kind = "NaN" if onp.isnan(got[index]) else "Inf"
        advice = DIVISION if abs(x[index]) < spec.overflow_from else spec.finite
        core.fail(function, f"returned {kind} for x = {x[index]:g} (index {index}), expected "
                            f"{expected[index]:.6g}; {core.count(bad)} of {got.size} entries are "
                            f"not finite. {advice}")


def require_close(spec, function, got, x, expected):
    """Fail naming the worst entry out of tolerance, with its input."""
    error = onp.abs(got - expected)
    wrong = ~(error <= spec.atol + spec.rtol * onp.abs(expected))
    if wrong.any():
        index = onp.unravel_index(int(onp.nanargmax(onp.where(wrong, error, -onp.inf))),
                                  got.shape)
        index = tuple(int(i) for i in index)
        core.fail(function, f"{core.count(wrong)} of {got.size} entries are wrong; worst at "
                            f"index {index}: for x = {x[index]:.6g} expected "
                            f"{spec.shown_as} = {expected[index]:.7g}, got {got[index]:.7g} "
                            f"(tolerance rtol={spec.rtol:g}, atol={spec.atol:g})")
