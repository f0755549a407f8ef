"""The rules every graded function keeps (COURSE_CONTRACT.md, "Rules for every graded function":
inputs unchanged, results new arrays, finite results), checked by one engine for all of them.
:data:`CONTRACTS` says where a function's contract departs from them.

:func:`judge` runs where the function runs, right after the call (the notebook's process, or the
sandbox's runner, where the results are still the function's own arrays), and returns the first
rule the call broke, which reaches the check as an error of type :data:`VIOLATION`. The grader
also compares the arguments the sandbox sends back with the ones it sent (:func:`changed_input`),
so a submission cannot hide a change by breaking the runner's copy of this module.
:func:`non_finite` judges the values a call returned where the check runs; core.passed refuses
to pass a check that it found wanting (a check's own diagnosis, made earlier, says more).
"""

import ast
import inspect
import sys
import zlib
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as onp

from d2lcourse._mxnet import autograd, np
from d2lcourse.course import ASSIGNMENTS, is_trainer

VIOLATION = "PropertyViolation"  # the type name of an error that carries a broken rule
COPY_BYTES = 4 << 20  # larger arrays are compared by a CRC-32 of their bytes
FINITE_WITHIN = 1e4  # the course's range: finite results for inputs up to this
FLOAT32_MAX = float(onp.finfo(onp.float32).max)
EXP_OVERFLOW = 88  # exp overflows float32 a little above this


@dataclass(frozen=True)
class Contract:
    """Where a function's contract departs from the rules for every graded function."""

    updates: tuple = ()  # positions of the arguments whose values it updates in place
    views: bool = False  # its results are pieces of its inputs, which may be views
    keeps_dtype: bool = False  # its arrays have its inputs' dtype (others: floating point)
    trainer: bool = False  # long-running: compared by digest, never called twice
    finite_within: float = FINITE_WITHIN  # finite results for finite inputs up to this size
    # (the call's arguments, as it was called) -> the entries of the result that may be +inf
    infinite_where: Optional[Callable] = None


def true_class_impossible(y_hat, y):
    """cross_entropy is +inf where the true class has probability exactly 0."""
    probabilities, labels = contents(y_hat), contents(y).astype(onp.int64)
    return probabilities[onp.arange(len(labels)), labels] == 0


CONTRACTS = {
    "regions": Contract(views=True, keeps_dtype=True),
    "data_iter": Contract(views=True, keeps_dtype=True),
    "sgd": Contract(updates=(0,)),
    "sgd_momentum": Contract(updates=(0, 1)),
    "grad_abs": Contract(finite_within=FLOAT32_MAX),
    "grad_relu": Contract(finite_within=FLOAT32_MAX),
    "cross_entropy": Contract(infinite_where=true_class_impossible),
}


def graded_name(function):
    """The graded function that `function` stands for: its own name or, for a stand-in
    named otherwise (a test's lambda), the name of the check's first parameter that holds
    it (named after the function) or of the spec that checks it (``spec.run``)."""
    name = function if isinstance(function, str) else getattr(function, "__name__", "")
    graded = {f for assignment in ASSIGNMENTS.values() for f in assignment.functions}
    frame = sys._getframe(1)
    while name not in graded and frame is not None:
        code = frame.f_code
        first = code.co_varnames[0] if code.co_argcount else None
        if first in graded and frame.f_locals.get(first) is function:
            return first
        checked_as = getattr(frame.f_locals.get("spec"), "name", None)
        if checked_as in graded and frame.f_locals.get("function") is function:
            return checked_as
        frame = frame.f_back
    return name


def contract(name):
    """The Contract of graded function `name`: every `train_*` function is a trainer."""
    return CONTRACTS.get(name, Contract(trainer=is_trainer(name)))


# --------------------------------------------------------------------------- states


@dataclass(frozen=True)
class State:
    """An array's contents at one moment: a copy when small, else a digest."""

    shape: tuple
    dtype: str
    values: Optional[onp.ndarray]
    digest: Optional[int]
    grad: Optional["State"]
    identity: int = 0  # id() of the array: which object it was, where the call can see it

    def same(self, other):
        alike = (self.shape, self.dtype, self.digest) == (other.shape, other.dtype, other.digest)
        return alike and (self.values is None or self.values.tobytes() == other.values.tobytes())


def contents(array):
    """A classic NumPy copy of an array's values (mxnet), or the array itself (NumPy)."""
    return array.asnumpy() if isinstance(array, np.ndarray) else onp.asarray(array)


def state(array):
    values = contents(array)
    grad = getattr(array, "grad", None) if isinstance(array, np.ndarray) else None
    small = values.nbytes <= COPY_BYTES
    return State(
        tuple(values.shape),
        str(values.dtype),
        onp.array(values, copy=True) if small else None,
        None if small else zlib.crc32(onp.ascontiguousarray(values).data),
        None if grad is None else state(grad),
        id(array),
    )


def arrays_in(value, path, position=None):
    """[(path, position of the argument, array)] of the arrays in `value`, in order."""
    if isinstance(value, (np.ndarray, onp.ndarray)):
        return [(path, position, value)]
    if not isinstance(value, (list, tuple, dict)):
        return []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    return [found for key, item in items for found in arrays_in(item, f"{path}[{key!r}]", position)]


def parameter_names(function):
    """The names of a function's positional parameters, as far as they can be known."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def source_parameters(source, name):
    """The positional parameter names of `def name(...)` in a cell's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    return []


def named_arguments(args, kwargs, names):
    """[(name, argument)] of a call: positional ones named as the function names its
    parameters (else 'argument 3'), then the keyword ones."""
    return [
        (names[i] if i < len(names) else f"argument {i + 1}", arg) for i, arg in enumerate(args)
    ] + list(kwargs.items())


def argument_arrays(args, kwargs, names):
    """The arrays in a call's arguments, each with its path (named as the function names
    its parameters) and the position of its argument."""
    return [
        found
        for i, (name, arg) in enumerate(named_arguments(args, kwargs, names))
        for found in arrays_in(
            arg, name, i if i < len(args) else names.index(name) if name in names else name
        )
    ]


def snapshot(args, kwargs, names):
    """[(path, position, State)] of a call's arguments."""
    return [
        (path, position, state(array))
        for path, position, array in argument_arrays(args, kwargs, names)
    ]


# --------------------------------------------------------------------------- inputs


def changed_input(name, before, after):
    """The message for the first argument that `before` and `after` (snapshots) show
    changed against `name`'s contract, or None."""
    updates = contract(name).updates
    if [path for path, _, _ in before] != [path for path, _, _ in after]:
        changed = sorted({p for p, _, _ in before} ^ {p for p, _, _ in after})[0]
        return (
            f"changed the items of its argument {changed.split('[')[0]} (adding, removing or "
            f"replacing {changed}): build a new list instead of changing the caller's"
        )
    for (path, position, old), (_, _, new) in zip(before, after):
        if position not in updates and not old.same(new):
            return (
                f"changed its argument {path} in place{difference(path, old, new)}. The caller "
                f"still needs it: compute a new array instead of writing into {path} ({path}[...] "
                f"= ..., {path} += ..., np.random.shuffle({path}) write into the caller's array)"
            )
        grad_changed = old.grad is not None and (new.grad is None or not old.grad.same(new.grad))
        grad = f"{path}.grad"
        if grad_changed and position not in updates:
            return (
                f"changed {grad}{difference(grad, old.grad, new.grad)}: the gradient the "
                f"caller attached to {path} is theirs, and {path}.attach_grad() replaces it. "
                f"Attach the gradient to a copy: {path} = {path}.copy(), then {path}.attach_grad()"
            )
        if grad_changed:
            return (
                f"changed {grad}{difference(grad, old.grad, new.grad)}. {name} updates only the "
                "values of its parameters in place, never their gradients. Compute with the "
                "gradient (p.grad / batch_size) instead of writing into it (p.grad /= batch_size)"
            )
    return None


def replaced_in_place(before, after, updates):
    """The message for an array of an argument updated in place that the call replaced by
    another array (`states[0] = ...`) instead of writing into it, or None. Only where the
    call ran: the arrays that come back from the sandbox are copies."""
    for (path, position, old), (_, _, new) in zip(before, after):
        if position in updates and old.identity != new.identity:
            return (
                f"replaced {path} by a new array ({path} = ...) instead of writing into it: the "
                f"caller's array keeps its old values. Update it in place: {path}[:] = ..."
            )
    return None


def difference(path, old, new):
    """': x[0] was -1.5, is 0 after the call', or what can be said without the values."""
    if new is None:
        return ": it is gone after the call"
    if (old.shape, old.dtype) != (new.shape, new.dtype):
        return (
            f": it was {old.dtype} of shape {old.shape}, is {new.dtype} of shape "
            f"{new.shape} after the call"
        )
    if old.values is None:
        return ": its values differ after the call"
    before, after = old.values, new.values
    if before.ndim == 0:
        return f": it was {number(before[()])}, is {number(after[()])} after the call"
    width = before.dtype.itemsize  # the first entry whose bytes differ:
    differs = [array.reshape(-1).view(onp.uint8).reshape(-1, width) for array in (before, after)]
    flat = int(onp.argmax((differs[0] != differs[1]).any(axis=1)))
    index = tuple(int(i) for i in onp.unravel_index(flat, before.shape))
    return (
        f": {path}{list(index)} was {number(before[index])}, is "
        f"{number(after[index])} after the call"
    )


def number(value):
    return f"{value:.7g}" if isinstance(value, (float, onp.floating)) else str(value)


# --------------------------------------------------------------------------- results


def judge(name, names, args, kwargs, value, before, call_again):
    """The first rule that the call of graded function `name` (whose positional parameters
    are `names`) on `args` and `kwargs`, which returned `value`, broke, as a message, or
    None. `before` is the arguments' snapshot from before the call; `call_again()` calls
    the function once more on the same arguments."""
    after = snapshot(args, kwargs, names)
    problem = changed_input(name, before, after)
    terms = contract(name)
    if terms.updates and not problem:
        problem = replaced_in_place(before, after, terms.updates)
    if problem or terms.trainer or terms.views or terms.updates:
        return problem  # an update in place returns None: its check says so
    results = [
        (array, contents(array).copy())
        for _, _, array in arrays_in(value, "")
        if isinstance(array, np.ndarray)
    ]
    if not results:
        return None
    added = adds_gradients(value)
    if added:
        return added
    inputs = [
        (label, buffer)
        for path, _, array in argument_arrays(args, kwargs, names)
        if isinstance(array, np.ndarray) and onp.issubdtype(onp.dtype(array.dtype), onp.floating)
        for label, buffer in ((path, array), (f"{path}.grad", array.grad))
        if buffer is not None
    ]
    for label, buffer in inputs:
        if any(result is buffer for result, _ in results):
            return (
                f"returned its argument {label} itself: results are new arrays, which "
                f"the caller can change without changing {label}. Return "
                f"{label}.copy(), or compute a new array"
            )
    saved = [(buffer, buffer.copy()) for _, buffer in inputs]
    try:
        return aliased_input(results, inputs, saved) or reused_buffer(results, call_again, saved)
    finally:
        for buffer, original in saved:
            write(buffer, original)


def adds_gradients(value):
    """The message if a returned array's gradient adds up over backward passes
    (attach_grad(grad_req="add")): two backward passes of its sum must leave ones, not twos.
    Each gradient is restored."""
    for path, _, array in arrays_in(value, ""):
        grad = array.grad if isinstance(array, np.ndarray) else None
        if grad is None:
            continue
        saved = grad.copy()
        try:
            for _ in range(2):
                with autograd.record():
                    total = array.sum()
                total.backward()
            adds = bool((array.grad != 1).any())
        except Exception:  # not differentiable as returned: the function's checks say why
            adds = False
        finally:
            array.grad[:] = saved
        if adds:
            return (
                f"returned the result{path} with a gradient that adds up over backward passes "
                "(attach_grad(grad_req='add')): each backward() must overwrite .grad, or every "
                "training step takes the sum of all earlier gradients. Call attach_grad() with "
                "its default, grad_req='write'"
            )
    return None


def aliased_input(results, inputs, saved):
    """The message if a result is a view of an input or of its gradient. Leaves every
    input changed (see `perturb`) when it finds none."""
    for _, buffer in inputs:
        perturb(buffer)
    if not changed(results):
        return None
    for buffer, original in saved:
        write(buffer, original)
    for (label, buffer), (_, original) in zip(inputs, saved):
        perturb(buffer)
        shared = changed(results)
        write(buffer, original)
        if shared and label.endswith(".grad"):
            return (
                f"returned {label} itself (writing into {label} after the call changed the "
                f"result): the next backward pass or call overwrites it. Return {label}.copy()"
            )
        if shared:
            return (
                f"returned a view of its argument {label} (writing into {label} after "
                f"the call changed the result): X[i], X[:] and X[a:b] share the "
                f"caller's memory. Return a new array, e.g. {label}.copy()"
            )
    return None


# Calls again on the same inputs: two, so that a pool of two buffers used in turn comes back
# to the first result's.
CALLS_AGAIN = 2


def reused_buffer(results, call_again, saved):
    """The message if calling again on the same inputs (`saved`: each input buffer and its
    values before `aliased_input` changed it) changes the earlier results, or writing into
    the new results does: a global buffer, a pool of them, or a cache that returns the array
    it returned before."""
    for _ in range(CALLS_AGAIN):
        for buffer, original in saved:
            write(buffer, original)
        try:
            value = call_again()
        except Exception:  # the student's error shows in the check's own calls
            return None
        again = [array for _, _, array in arrays_in(value, "") if isinstance(array, np.ndarray)]
        if any(array is result for array in again for result, _ in results):
            return (
                "returned the array it had returned before (called again on the same inputs, "
                "it gave back the same array object: a global buffer or a cache), so a "
                "caller's change to one result changes the other: create the result at every "
                "call, e.g. with np.zeros(...) inside the function, or return cached.copy()"
            )
        if not changed(results):
            for array in again:
                perturb(array)
        if changed(results):
            return (
                "returned an array that its next call overwrites (a later call changed this "
                "call's result): create the result inside the function, e.g. with "
                "np.zeros(...), instead of reusing a global or default-argument array"
            )
    return None


def write(array, values):
    """Write the mxnet array `values` into the mxnet array `array` (a 0-d one too)."""
    array[() if array.ndim == 0 else slice(None)] = values


def perturb(array):
    """Write values into a float mxnet array that differ from its own wherever they are
    finite (others are left as they are)."""
    if onp.issubdtype(onp.dtype(array.dtype), onp.floating):
        write(array, array + 1 + np.abs(array))


def changed(results):
    """Whether an array of `results` [(array, its values then)] holds other values now."""
    return any(array.asnumpy().tobytes() != values.tobytes() for array, values in results)


# --------------------------------------------------------------------------- finiteness


def non_finite(name, names, args, kwargs, value):
    """The message for a call of graded function `name` that returned NaN or Inf (or wrote
    it into an argument it updates) on finite inputs within its contract's range, or None.
    `args` and `kwargs` are as they are after the call."""
    terms = contract(name)
    found = first_non_finite(value, terms, (args, kwargs), argument_arrays(args, kwargs, names))
    if found is None:
        return None
    inputs = input_sizes(args, kwargs, names, terms.updates)
    largest = max((size for size, _ in inputs if size is not None), default=0.0)
    if not largest <= terms.finite_within:  # NaN or Inf in, or beyond the range
        return None
    said, count, total = found
    of = f" ({count} of {total} entries are not finite)" if total > 1 else ""
    return (
        f"{said}{of} {described(inputs)}: {name} must return finite values for finite "
        f"inputs of magnitude up to {short(terms.finite_within)} (COURSE_CONTRACT.md, "
        f"\"Finite results\"). {advice(largest, terms)}"
    )


def first_non_finite(value, terms, call, arrays):
    """('returned NaN at index (2, 3)', how many, of how many) for the first non-finite
    entry of a call's results, or of the arguments it updates in place, or None. `call`:
    the call's (args, kwargs)."""
    if isinstance(value, float):
        results = [("returned {kind}", onp.float64(value), True)]
    elif isinstance(value, (np.ndarray, onp.ndarray)):
        results = [("returned {kind}{at}", value, True)]
    else:
        results = [
            ("returned {kind} in " + path + "{at}", array, True)
            for path, _, array in arrays_in(value, "result")
        ]
    updated = [
        ("wrote {kind} into " + path + "{at}", array, False)
        for path, position, array in arrays
        if position in terms.updates
    ]
    for said, array, returned in results + updated:
        values = contents(array)
        if not onp.issubdtype(values.dtype, onp.floating):
            continue
        bad = ~onp.isfinite(values)
        if terms.infinite_where and returned:
            bad &= ~(allowed_infinities(terms, call, values.shape) & (values == onp.inf))
        if bad.any():
            flat = int(onp.flatnonzero(bad)[0])
            entry = values.reshape(-1)[flat]
            kind = "NaN" if onp.isnan(entry) else "Inf" if entry > 0 else "-Inf"
            index = tuple(int(i) for i in onp.unravel_index(flat, values.shape))
            at = f" at index {index}" if index else ""
            return said.format(kind=kind, at=at), int(bad.sum()), values.size
    return None


def allowed_infinities(terms, call, shape):
    """Where the contract lets a result of `shape` be +inf (nowhere, if it cannot say).
    The rule reads the arguments as the check passed them, whatever the student's function
    calls its parameters (a wrapper's *args included)."""
    args, kwargs = call
    try:
        allowed = onp.asarray(terms.infinite_where(*args, **kwargs), dtype=bool)
    except Exception:  # arguments the rule cannot read: a check of malformed inputs
        return onp.zeros(shape, dtype=bool)
    return allowed if allowed.shape == shape else onp.zeros(shape, dtype=bool)


def input_sizes(args, kwargs, names, updates):
    """[(largest magnitude or None, words)] of a call's arguments: floating-point arrays
    and their gradients (except the values of those it updates in place) and Python
    floats have a magnitude, integers (sizes, counts) are only named."""
    sizes = []
    for path, position, array in argument_arrays(args, kwargs, names):
        grad = getattr(array, "grad", None) if isinstance(array, np.ndarray) else None
        own = None if position in updates else array
        for label, buffer in ((path, own), (f"{path}.grad", grad)):
            values = None if buffer is None else contents(buffer)
            if values is not None and onp.issubdtype(values.dtype, onp.floating):
                size = float(onp.abs(values).max()) if values.size else 0.0
                said = f"magnitude up to {short(size)}" if size else "zeros"
                sizes.append((size, f"{label} of {said}"))
    for path, arg in named_arguments(args, kwargs, names):
        if isinstance(arg, float):
            sizes.append((abs(arg), f"{path} = {short(arg)}"))
        elif isinstance(arg, int) and not isinstance(arg, bool):
            sizes.append((None, f"{path} = {arg}"))
    return sizes


def described(inputs):
    """'for O of magnitude up to 1e4 and lr = 0.1': the inputs in words."""
    words = [said for _, said in inputs]
    if not words:
        return "for its inputs"
    return "for " + (words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1])


def short(size):
    """1e4, -0.5, 3.4e38: a number as people write it."""
    return f"{size:.3g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def advice(largest, terms):
    """Where the NaN or Inf comes from, most likely, for inputs up to `largest`."""
    if largest > EXP_OVERFLOW:
        return (
            f"Look for exp of a large number, which overflows float32 above {EXP_OVERFLOW} "
            "(subtract the maximum before exp), and for inf - inf or 0 * inf, which are NaN"
        )
    if terms.trainer:
        return (
            "Look for a step that grows without bound (a gradient not divided by the batch size, "
            "a wrong sign, a learning rate applied twice), or for a log of 0 or a 0/0 in the loss"
        )
    return (
        "Look for a division by zero (0/0 is NaN), a log of 0 or of a negative number, "
        "or the square root of a negative number"
    )
