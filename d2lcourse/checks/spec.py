"""The check engine: a check is data, a :class:`Spec`, run by one script, :func:`run`.

Authoring (d2lcourse/checks/linear_regression.py's linreg is the example): write the oracles
(``@core.oracle``, float64 classic NumPy in and out) and an input builder, then::

    linreg_matches = spec.check(spec.Spec(
        name="linreg", oracle=_linear, mistakes=_linreg_mistakes, inputs=_linreg_inputs,
        hint="return np.dot(X, w) + b", passed="X w + b for {inputs}", ...))
    # a test cell: check.linreg_matches(linreg, num_examples=6, seed=0)

The entry point takes the graded function, then the parameters of ``inputs`` (with their
defaults; most have a ``seed``). ``inputs(**params)`` builds the calls as data (code: no oracle
builds inputs): one float32 classic array x (the argument of an elementwise function), a tuple
(the arguments of one call: classic arrays, :class:`Param` (an array with its gradient), lists
of those, Python values), or a list of tuples or :class:`Call` (several calls, judged in turn;
a Call brings the inputs in words and a tag). For each call :func:`run` fails at the first of
these steps that fails:

1. ``function(*args)`` through :func:`core.call`, arrays as mxnet arrays, seeded, ``forbidden``
   APIs refused (core.call judges the properties of every graded function);
   ``raised(function, failure, case)`` may say in the assignment's words why it raised;
2. the result: an mxnet.numpy array (``what``, formatted with the arguments and ``inputs=`` the
   inputs in words; of ``shape(*args)`` unless None, else ``shape_hint``, formatted with the
   arguments; float32 or float64; ``legacy_fix`` mends a legacy NDArray), a pair of them
   (``result=("w", "b")``: shapes and hints in pairs; compared as one vector of their entries)
   or a list (``result=["W1", "b1", ...]``), a Python float (``result="float"``), or, with
   ``updates=k`` (or a tuple of such k), argument k's arrays after the call, updated in place,
   or what ``result(function, value, case)`` makes of it (a callable: the assignment's own
   unpacking, in its own words, of a result the engine does not know, into one float64 vector);
3. ``oracle(*args)`` and ``mistakes(*args)`` ([(value, message)], or none) of the float64 inputs
   only, which the student package replays (:func:`case` gives the calls as data, with the
   tolerance ``atol``, a number or computed from the inputs);
4. ``shape_mistakes(*shapes, case)``: a message for a result of a wrong shape, or None;
   ``transposed``: the message for an array of the transpose of ``shape`` (formatted with
   ``what``, ``got`` and ``want``, the shapes);
5. ``kink``: at x == kink.at, any value in [low, high] is right (a subgradient);
6. ``wrong(function, got, case, returned)`` fails with the assignment's own words for a result
   out of tolerance or of another shape (for an update always: its step may be below the
   tolerance); returning accepts it (a trajectory judged step by step, from the student's own
   previous step: 03's gd); without it a wrong result equal to a mistake's value fails with its
   message (:func:`core.diagnose`; ``context``: "for <the inputs in words>: " before it);
7. ``finite``: NaN or Inf where the expected value is finite fails with this advice (with
   DIVISION for |x| < ``overflow_from``, where nothing overflows);
8. |got - expected| <= atol + rtol |expected| everywhere, else the worst entry and its x, or,
   with the inputs in words (``describe(*args)`` or the Call's), :func:`core.assert_close` says
   it (``compared``, ``hint``);
9. with ``updates``, a returned value other than None fails (``returns_none``);
10. ``differentiable``: autograd differentiates the result (:func:`core.gradients`), and its
    gradient agrees with the oracle's derivative along a random direction
    (:func:`judge_gradients`).
Once every call passed, the first is judged again on a second draw (its inputs built with
another seed: :func:`second_draw`). Then ``passed.format(size=x.size, inputs=..., **params)``
(or ``passed(**params)``), with ", differentiable" after step 10. Every message of a spec's
data comes from a catalogued mistake (tests/test_spec.py). Checks of another kind (statistics
of draws, training) stay hand-written: AUTHORING.md names them.
"""

import functools
import inspect
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, properties

DIVISION = "Nothing overflows at so small an x: look for a division by zero, 1 / 0 or 0 / 0"
GRADIENT_STEP = 1e-7  # finite differences of the oracle along d: this times 1 + max |x|
GRADIENT_RTOL = 1e-3
NON_FINITE_GRADIENT = (
    "Autograd sends 0 * inf = NaN back through an operation whose derivative is infinite at "
    "its input (a log or a division at 0, a square root at 0), even where the result does "
    "not use its value: apply such operations only to the entries the result needs"
)
WRONG_GRADIENT = (
    "Training follows this gradient. The usual causes: a value taken out of the graph "
    "(.detach(), .item(), float(...), .asnumpy(), classic NumPy), which autograd counts as a "
    "constant; an intermediate that overflows float32 in the backward pass only (the "
    "derivative of a / b divides by b^2: keep the argument of exp at most 0); MXNet 1.9's "
    "np.where(condition, X, 0) with a number for a branch, whose gradient goes to the wrong "
    "entries (np.where(condition, X, np.zeros_like(X)) is right)"
)
SECOND_DRAW = 7919  # a prime: the second draw's seed is the case's seed plus this
SECOND_DRAW_SAYS = "This was a second draw: new inputs of the same shapes, after the first passed"


# At x == at, any value in [low, high] is right; another fails with `advice`.
Kink = namedtuple("Kink", "at low high advice")

# The arguments of one call (classic NumPy arrays and Python values) with the inputs in
# words, for an input builder whose calls differ in what `describe` cannot see, and a tag
# that the spec's `wrong` may read (which of the calls this is).
Call = namedtuple("Call", "args inputs tag", defaults=(None,))
# An argument that is a parameter: its values, with this gradient attached (sgd's params).
Param = namedtuple("Param", "value grad")
# One call of a case as data: its arguments, the inputs in words (or None), the expected
# result, the mistakes' [(value, message)], the absolute tolerance and the call's tag.
Case = namedtuple("Case", "args inputs expected mistakes atol tag")


@dataclass(frozen=True)
class Spec:
    """The check of one graded function (see the module's docstring)."""

    name: str
    inputs: Callable
    oracle: Callable
    passed: Union[str, Callable]
    mistakes: Optional[Callable] = None
    forbidden: dict = field(default_factory=dict)
    legacy_fix: Optional[str] = None
    float_fix: str = core.FLOAT_FIX
    result: Union[str, tuple, list, Callable] = "array"
    what: str = "the result"
    shape: Optional[Callable] = onp.shape
    shape_hint: Union[None, str, tuple] = (
        "an elementwise function returns an array of its input's shape"
    )
    shape_mistakes: Optional[Callable] = None
    transposed: Optional[str] = None
    wrong: Optional[Callable] = None
    raised: Optional[Callable] = None
    context: bool = False
    updates: Union[None, int, tuple] = None
    returns_none: str = ""
    shown_as: str = "the result"
    finite: Optional[str] = None
    overflow_from: float = 0.0
    kink: Optional[Kink] = None
    describe: Optional[Callable] = None
    compared: Optional[str] = None
    hint: Optional[str] = None
    differentiable: bool = False
    rtol: float = core.RTOL
    atol: Union[float, Callable] = core.ATOL


def check(spec):
    """The entry point of `spec`: ``entry(function, **params)``, params as `spec.inputs`'s."""
    entry = functools.partial(run, spec)
    function = inspect.Parameter("function", inspect.Parameter.POSITIONAL_ONLY)
    parameters = [function, *inspect.signature(spec.inputs).parameters.values()]
    entry.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    entry.__name__ = f"{spec.name} check"  # type: ignore[attr-defined]
    passes = f": {spec.passed}" if isinstance(spec.passed, str) else ""
    entry.__doc__ = f"Check {spec.name}{passes}"
    return entry


def case(spec, *args, **kwargs):
    """A case as data: (its parameters, defaults included; its calls, a list of Case)."""
    bound = inspect.signature(spec.inputs).bind(*args, **kwargs)
    bound.apply_defaults()
    built = spec.inputs(**bound.arguments)
    if isinstance(built, onp.ndarray):
        built = (built,)
    cases = []
    for one in [built] if isinstance(built, tuple) else built:  # a tuple: one call, or a Call
        if not isinstance(one, Call):
            one = Call(one, spec.describe(*one) if spec.describe else None)
        points = [float64(a) for a in one.args]
        with onp.errstate(all="ignore"):
            expected = spec.oracle(*points)
            mistakes = spec.mistakes(*points) if spec.mistakes else []
            atol = spec.atol(*points) if callable(spec.atol) else spec.atol
        cases.append(Case(one.args, one.inputs, expected, mistakes, atol, one.tag))
    return bound.arguments, cases


def run(spec, function, *args, **kwargs):
    """Check `function` as `spec` says, on the calls its parameters build, then on a second
    draw of the first call (:func:`second_draw`)."""
    params, cases = case(spec, *args, **kwargs)
    for one in cases:
        judge(spec, function, params.get("seed"), one)
    second_draw(spec, function, params)
    first = cases[0]
    size = first.args[0].size if isinstance(first.args[0], onp.ndarray) else 1
    if callable(spec.passed):
        text = spec.passed(**params)
    else:
        text = spec.passed.format(size=size, inputs=first.inputs, **params)
    core.passed(function, text + (", differentiable" if spec.differentiable else ""))


def second_draw(spec, function, params):
    """Judge the first call again on new values of the same shapes (the inputs built with
    seed + SECOND_DRAW): a result that an earlier call's shapes decide (a cache kept in a
    default argument) fails here, and so does one that only the first draw's values let
    pass. Inputs without a seed have no second draw."""
    if "seed" not in params:
        return
    seed = params["seed"] + SECOND_DRAW
    _, (again, *_) = case(spec, **{**params, "seed": seed})
    try:
        judge(spec, function, seed, again)
    except core.CheckFailure as failure:
        raise core.CheckFailure(f"{str(failure).rstrip('.')}. {SECOND_DRAW_SAYS}") from None


def float64(argument):
    """An argument as the oracles see it: its arrays in float64."""
    if isinstance(argument, Param):
        return Param(*map(float64, argument))
    if isinstance(argument, list):
        return [float64(a) for a in argument]
    return argument.astype(onp.float64) if isinstance(argument, onp.ndarray) else argument


def mxnet_arguments(arguments):
    """The arguments of a call: classic arrays become mxnet arrays (of their dtype), a
    Param one with its gradient attached."""

    def convert(argument):
        if isinstance(argument, Param):
            return core.with_grad(np.array(argument.value), np.array(argument.grad))
        if isinstance(argument, list):
            return [convert(a) for a in argument]
        return np.array(argument) if isinstance(argument, onp.ndarray) else argument

    return [convert(a) for a in arguments]


def judge(spec, function, seed, one):
    """Steps 1-10 of the module's docstring for one call."""
    arguments = mxnet_arguments(one.args)
    try:
        value = core.call(function, *arguments, seed=seed, forbidden=spec.forbidden)
    except core.CheckFailure as failure:
        if spec.raised:
            spec.raised(function, failure, one)
        raise
    what = spec.what.format(*one.args, inputs=one.inputs)
    entries = None  # the name of a pair's or list's entry k, in the order compared
    if spec.updates is not None:  # the result is the arguments updated in place
        updated = (spec.updates,) if isinstance(spec.updates, int) else spec.updates
        got = onp.concatenate([core.to_numpy(a).ravel() for k in updated for a in arguments[k]])
    elif spec.result == "float":
        got = core.expect_float(function, value, what)
    elif callable(spec.result):
        got = spec.result(function, value, one)
    else:
        got, entries = expect_arrays(spec, function, value, what, one)
    expected, mistakes, atol, x = one.expected, one.mistakes, one.atol, one.args[0]
    with onp.errstate(all="ignore"):
        if spec.kink:
            expected, mistakes = mend_kink(spec.kink, function, got, x, expected, mistakes)
        if spec.wrong:  # an update is judged by its step, which may be below tolerance
            off = spec.updates is not None or onp.shape(got) != onp.shape(expected)
            if off or not onp.isclose(got, expected, spec.rtol, atol).all():
                spec.wrong(function, got, one, value)
        else:
            context = f"for {one.inputs}: " if spec.context else ""
            core.diagnose(function, got, expected, mistakes, spec.rtol, atol, context)
            if spec.finite:
                require_finite(spec, function, got, x, expected)
            if one.inputs is not None:
                compared = (spec.compared or what, spec.rtol, atol, one.inputs, spec.hint)
                core.assert_close(function, got, expected, *compared, entries=entries)
            else:
                require_close(spec, function, got, x, expected, atol)
    if spec.updates is not None and value is not None:
        core.fail(function, f"returned {core.type_name(value)}: {spec.returns_none}")
    if spec.differentiable:
        gradients = core.gradients(function, *mxnet_arguments(one.args), seed=seed)
        judge_gradients(spec, function, one, gradients)


def judge_gradients(spec, function, one, gradients):
    """Step 10's values. Along a random direction d for each float argument, autograd's
    gradient (of the weighted sum of the result, core.result_weights) must agree with the
    derivative of the oracle (finite differences in float64); NaN or Inf in it fails where
    the result is finite. Not compared: entries that are exactly 0 (d is 0 there: autograd
    takes 0 as the derivative of |x| and sign(x) at 0, so a smooth tanh written with them has
    the derivative 0 at 0), an argument along which the oracle has a kink (its one-sided
    differences disagree), and a call whose expected result is not finite."""
    points = [float64(a) for a in one.args]
    base = weighted_oracle(spec, points)
    if not onp.isfinite(base):
        return
    names = getattr(function, "parameter_names", None) or properties.parameter_names(function)
    floating = [  # (path, float64 array) of the float arguments, in differentiate's order
        (path, point)
        for (path, _, array), (_, _, point) in zip(
            properties.argument_arrays(one.args, {}, names),
            properties.argument_arrays(points, {}, names),
        )
        if onp.issubdtype(array.dtype, onp.floating)
    ]
    directions = onp.random.default_rng(0)
    for (path, x), gradient in zip(floating, gradients):
        got = core.to_numpy(gradient).astype(onp.float64)
        if not onp.isfinite(got).all():
            index = first(~onp.isfinite(got))
            kind = "NaN" if onp.isnan(got[index]) else "Inf"
            core.fail(
                function,
                f"autograd's gradient w.r.t. {path} is {kind} at index {index}, "
                f"where {spec.name}'s result is finite. {NON_FINITE_GRADIENT}",
            )
        d = onp.where(x == 0, 0.0, directions.normal(size=x.shape))  # see the docstring
        h = GRADIENT_STEP * (1 + onp.abs(x).max(initial=0.0))
        up, down = (
            weighted_oracle(spec, with_argument(points, x, x + sign * h * d)) for sign in (1, -1)
        )
        forward, backward = (up - base) / h, (base - down) / h
        said = float((got * d).sum())
        tolerance = GRADIENT_RTOL * max(float(onp.abs(got * d).sum()), abs(forward)) + 1e-9
        if (
            abs(forward - backward) <= tolerance
            and abs(said - (forward + backward) / 2) > tolerance
        ):
            core.fail(
                function,
                f"autograd's gradient w.r.t. {path} is wrong: along a random direction, a "
                f"weighted sum of the result changes at the rate {(forward + backward) / 2:.6g}, "
                f"and autograd's gradient says {said:.6g}. {WRONG_GRADIENT}",
            )


def weighted_oracle(spec, points):
    """The weighted sum of the oracle's result that `core.differentiate` differentiates."""
    with onp.errstate(all="ignore"):
        value = spec.oracle(*points)
    return float(
        sum(
            (core.result_weights(onp.shape(array)) * array).sum()
            for _, _, array in properties.arrays_in(value, "")
        )
    )


def with_argument(points, target, array):
    """`points` with their array `target` (in a list or tuple too) replaced by `array`."""

    def replace(value):
        if value is target:
            return array
        if isinstance(value, list):
            return [replace(v) for v in value]
        if isinstance(value, tuple):
            return tuple(replace(v) for v in value)
        return value

    return [replace(point) for point in points]


def expect_arrays(spec, function, value, what, one):
    """Steps 2 and 4 for an array result, or a pair or list of arrays (``result=("w", "b")``,
    compared as one vector of their entries): float64 classic NumPy, and for a pair or list
    the name of its entry k ("w[1, 0]", "b"), else None."""
    pairs = isinstance(spec.result, (tuple, list))
    parts, names, hints = [value], [what], [spec.shape_hint]
    if pairs:
        listed = ", ".join(spec.result)
        written = f"[{listed}]" if isinstance(spec.result, list) else f"({listed})"
        parts, names, hints = pair(function, value, written), spec.result, spec.shape_hint
    hints = [hint and hint.format(*one.args) for hint in hints]
    shapes = spec.shape(*one.args) if spec.shape else None
    said = spec.shape_mistakes or spec.transposed  # the type, what a wrong shape says, the shape
    if said:
        for part, name in zip(parts, names):
            expect_array(spec, function, part, name)
        got = [onp.shape(part) for part in parts]
        message = spec.shape_mistakes and spec.shape_mistakes(*got, one)
        if spec.transposed and got[0] == shapes[::-1] != shapes:
            message = spec.transposed.format(what=what, got=got[0], want=shapes)
        if message:
            core.fail(function, message)
    if shapes is not None:
        for part, name, shape, hint in zip(parts, names, shapes if pairs else [shapes], hints):
            expect_array(spec, function, part, name, shape, hint)
    elif not said:
        expect_array(spec, function, value, what)
    if not pairs:
        return core.to_numpy(value), None
    arrays = [core.to_numpy(part) for part in parts]
    entries = functools.partial(entry_name, names, [array.shape for array in arrays])
    return onp.concatenate([array.ravel() for array in arrays]), entries


def entry_name(names, shapes, flat):
    """How a student writes entry `flat` of arrays `names` of `shapes` flattened one after
    the other: "b" for an array of one entry, else "w[1, 0]"."""
    for name, shape in zip(names, shapes):
        size = int(onp.prod(shape))
        if flat < size:
            index = onp.unravel_index(flat, shape)
            return name if size == 1 else f"{name}[{', '.join(str(int(i)) for i in index)}]"
        flat -= size
    raise IndexError(f"entry {flat} beyond the arrays {names}")


def expect_array(spec, function, value, what, shape=None, hint=None):
    """The type, dtype and `shape` of an array of the result (``legacy_fix``: see Spec)."""
    legacy = {} if spec.legacy_fix is None else dict(legacy_fix=spec.legacy_fix)
    expect = core.expect_float_array if legacy else core.expect_array
    expect(function, value, what, shape, hint, float_fix=spec.float_fix, **legacy)


def pair(function, value, names):
    """Unpack a returned 2-tuple (or 2-list), or a list of arrays, or fail saying what came
    instead; `names` is how the contract writes it, e.g. "(w, b)" or "[W1, b1, W2, b2]"."""
    size = names.count(",") + 1
    if isinstance(value, (tuple, list)) and len(value) == size:
        return value
    if value is None:
        got = "None"
    elif isinstance(value, (tuple, list)):
        got = f"a {type(value).__name__} of length {len(value)}"
    else:
        got = core.type_name(value)
    kind, returned = ("pair", names[1:-1]) if size == 2 else ("list", names)
    core.fail(function, f"returned {got}, expected the {kind} {names}: `return {returned}`")


def mend_kink(kink, function, got, x, expected, mistakes):
    """Fail for a value outside [low, high] at the kink; else the result is right there."""
    at = x == kink.at
    outside = at & ~((got >= kink.low) & (got <= kink.high))
    if outside.any():
        index = first(outside)
        said = f"returned {got[index]:g} at x = {kink.at:g} (index {index})"
        core.fail(function, f"{said}: {kink.advice}")
    return (
        onp.where(at, got, expected),
        [(onp.where(at, got, value), text) for value, text in mistakes],
    )


def first(mask):
    return tuple(int(i) for i in onp.argwhere(mask)[0])


def require_finite(spec, function, got, x, expected):
    """Name the first input where the result is NaN or Inf and the expected value finite."""
    bad = ~onp.isfinite(got) & onp.isfinite(expected)
    if bad.any():
        index = first(bad)
        kind = "NaN" if onp.isnan(got[index]) else "Inf"
        advice = DIVISION if abs(x[index]) < spec.overflow_from else spec.finite
        core.fail(
            function,
            f"returned {kind} for x = {x[index]:g} (index {index}), expected {expected[index]:.6g}"
            f"; {core.count(bad)} of {got.size} entries are not finite. {advice}",
        )


def require_close(spec, function, got, x, expected, atol):
    """Fail naming the worst entry out of tolerance, with its input (`atol`: the case's,
    which a spec may compute from the inputs)."""
    error = onp.abs(got - expected)
    wrong = ~onp.isclose(got, expected, rtol=spec.rtol, atol=atol)  # an infinity only for itself
    if wrong.any():
        index = core.worst(onp.where(wrong, error, -onp.inf))
        core.fail(
            function,
            f"{core.count(wrong)} of {got.size} entries are wrong; worst at index {index}: for "
            f"x = {x[index]:.6g} expected {spec.shown_as} = {expected[index]:.7g}, got "
            f"{got[index]:.7g} (tolerance rtol={spec.rtol:g}, atol={atol:g})",
        )
