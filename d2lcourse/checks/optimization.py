"""Checks of assignment 03: gradient descent, the learning rate, minibatch SGD and momentum
(the trainer's two checks train; the other entry points are specs, checks.spec)."""
import functools

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks import core, spec
from d2lcourse.checks.linear_regression import (
    ALL_EXAMPLES, ALL_EXAMPLES_ADVICE, EPOCH_ORDER_ADVICE, HUGE_GRADIENT, LAST_BATCH_ADVICE,
    LARGE_GRADIENT, ORDER_PAIRS, REORDER_RUN, REORDER_X, REORDER_Y, ZERO_EXAMPLES,
    judge_new_order_every_epoch, regression_data, shrinks_large_gradients)
from d2lcourse.checks.problems import (  # noqa: F401 (test cells name them check.<name>)
    NONCONVEX_C, grad_coupled, grad_ellipse, grad_ill_conditioned, grad_nonconvex,
    grad_quartic, grad_square)


def show(x):
    """A number or a small array, printed with 7 significant digits."""
    x = onp.asarray(x, dtype=onp.float64)
    return f"{float(x):.7g}" if x.ndim == 0 else onp.array2string(x, precision=7, separator=", ")


def expect_array_not_list(function, value, what, advice):
    """expect_array (as float64 NumPy), with advice of our own for a Python list."""
    if isinstance(value, (list, tuple)):
        core.fail(function, f"returned a Python {type(value).__name__} for {what}, expected "
                            f"mxnet.numpy.ndarray: {advice}")
    return core.to_numpy(core.expect_array(function, value, what))


# --------------------------------------------------------------------------- gd, gd_2d

STATIONARY_STEPS = 5   # steps asked for from a stationary point
# A start this small (in each coordinate), where every step is tiny, judged to a tolerance
# of its own scale: a loop that stops once the step is small and pads fails there.
TINY_START, TINY_ETA, TINY_STEPS = 1e-30, 0.1, 5


@core.oracle
def gd_oracle(f_grad, x0, eta, num_steps):
    """The float64 iterates of x <- x - eta f_grad(x): shape (num_steps + 1,) + x0.shape."""
    xs = [onp.asarray(x0, dtype=onp.float64)]
    for _ in range(num_steps):
        xs.append(xs[-1] - eta * onp.asarray(f_grad(xs[-1]), dtype=onp.float64))
    return onp.stack(xs)


@core.oracle
def slipped_steps(f_grad, x, eta):
    """One step from x with a classic slip, in float64: uphill, x + eta f_grad(x); in 2-D
    also coordinatewise, updating x1, then x2 with a gradient taken at the new x1."""
    x = onp.array(x, dtype=onp.float64)
    steps = [x + eta * onp.asarray(f_grad(x), dtype=onp.float64)]
    if x.ndim == 1:
        for i in range(len(x)):
            x[i] = x[i] - eta * f_grad(x)[i]
        steps.append(x)
    return steps


def trajectory_atol(expected):
    """Float32 iterates that reached |x| ~ M carry rounding errors of a few ulps of M."""
    finite = onp.abs(expected[onp.isfinite(expected)])
    return max(core.ATOL, core.ulp_tolerance(finite.max() if finite.size else 1.0, ulps=32))


def _trajectories(f_grad, x0, eta, num_steps, minimum):
    """The cell's call of gd (x0 a number) or gd_2d (x0 a pair, passed as a float32 array),
    then one from `minimum`, where the gradient is 0, and one from a tiny start, where every
    step is tiny: the contract has no early stop."""
    def call(f, x, steps, start, tag=None, step_size=eta):
        formula = (f.__doc__ or f.__name__).strip().split(", so ")[0]   # 'f(x) = x^2'
        x = x if onp.ndim(x) == 0 else onp.asarray(x, dtype=onp.float32)
        return spec.Call((f, x, step_size, steps),
                         f"{formula}{start}, eta={step_size}, num_steps={steps}", tag)
    bowl = grad_square if onp.ndim(x0) == 0 else grad_ellipse
    tiny = TINY_START if onp.ndim(x0) == 0 else (TINY_START, -2 * TINY_START)
    return [call(f_grad, x0, num_steps, f", x0={x0}"),
            call(bowl, minimum, STATIONARY_STEPS,
                 f" started at its minimum x0={minimum}, where the gradient is 0", "stationary"),
            call(bowl, tiny, TINY_STEPS, f" started at x0={tiny}, near its minimum", "tiny",
                 TINY_ETA)]


def _case_atol(f_grad, x0, eta, num_steps):
    """core.ATOL, or for the tiny start a tolerance of its scale."""
    return TINY_START * core.RTOL if 0 < onp.abs(x0).max() < 1e3 * TINY_START else core.ATOL


def _judge_iterates(function, got, case, returned):
    """Judge the iterates of gd or gd_2d, naming the usual slips. Each iterate must be one step
    from the student's own previous one, not from the float64 oracle's: float32 rounding may
    make a right trajectory drift from the exact one, most of all on a nonconvex function."""
    (f_grad, _, eta, num_steps), expected, inputs = case.args, case.expected, case.inputs
    rows = num_steps + 1
    atol = case.atol if case.tag == "tiny" else trajectory_atol(expected)
    fail = functools.partial(core.fail, function)
    if case.tag and got.ndim == expected.ndim and got.shape[0] < rows:
        fail(f"returned {got.shape[0]} iterate(s) for {inputs}, expected all num_steps + 1 = "
             f"{rows}: do not stop early when the gradient or the step becomes 0 or small. "
             "Always take num_steps steps; from a stationary point every iterate is x0 again")
    if got.shape != expected.shape:
        core.diagnose(function, got, expected, atol=atol, mistakes=[] if num_steps == 0 else [
            (expected[1:], f"returned {num_steps} iterates starting at x1, expected {rows} "
                           f"(num_steps + 1) for {inputs}: the first iterate must be x0 itself, "
                           "[x0, x1, ..., x_T]"),
            (expected[:-1], f"returned {num_steps} iterates, expected {rows} (num_steps + 1) for "
                            f"{inputs}: the last iterate x_T is missing; after the last of the "
                            "num_steps updates, store the new x too")])
        if expected.ndim == 2 and got.shape == expected.shape[::-1]:
            fail(f"returned shape {got.shape}, expected {expected.shape} for {inputs}: one row "
                 "per iterate (you returned the transpose)")
        what = "one value per iterate" if expected.ndim == 1 else "one row (x1, x2) per iterate"
        fail(f"returned shape {got.shape}, expected {expected.shape} for {inputs}: "
             f"num_steps + 1 = {rows} iterates, {what}."
             + core.broadcast_hint(got.shape, expected.shape))
    if (num_steps >= 2 and onp.all(got == got[-1]) and not onp.all(expected == expected[-1])
            and not core.close(got[0], expected[0], atol=atol)):
        fail(f"all {rows} iterates are equal to {show(got[-1])} for {inputs}: it looks like you "
             "stored the same array object every step and then changed it in place (x -= ...); "
             "write x = x - eta * f_grad(x), which makes a new array, or store a copy")
    if not core.close(got[0], expected[0], atol=atol):
        fail(f"the first iterate is {show(got[0])}, expected x0 = {show(expected[0])} for "
             f"{inputs}: start the list of iterates with x0 itself")
    for t in range(1, rows):
        previous = got[t - 1]
        step = eta * onp.asarray(f_grad(previous), dtype=onp.float64)
        want = previous - step
        if onp.all(onp.abs(got[t] - want) <= atol + core.RTOL * (onp.abs(previous)
                                                                  + onp.abs(step))):
            continue
        at = (f"at step {t} (index {t}) for {inputs}: from x_{t - 1} = {show(previous)}, "
              f"x_{t - 1} - eta * f_grad(x_{t - 1}) = {show(want)}, got {show(got[t])}")
        if onp.all(got[t] == previous) and onp.any(step != 0):
            fail(f"stopped moving {at}. Do not stop early when the step becomes small, nor "
                 "repeat the last iterate: always take all num_steps steps, x_{t+1} = x_t - "
                 "eta * f_grad(x_t), however small they are")
        core.diagnose(function, got[t], want, atol=atol, mistakes=zip(
            slipped_steps(f_grad, previous, eta),
            [f"moves uphill {at}. The update is x - eta * f_grad(x), against the gradient; "
             "you added the step",
             f"updated the coordinates one after the other {at}: the gradient for x2 was taken "
             "at the already updated x1. Compute the whole gradient f_grad(x) once, then "
             "update x as a vector"]))
        fail(f"the iterates are wrong {at}. Each iterate is one step from the one before: "
             "x_{t+1} = x_t - eta * f_grad(x_t)")


def _gd_spec(name, inputs):
    """gd or gd_2d: the num_steps + 1 iterates [x0, ..., x_T], judged step by step."""
    return spec.Spec(
        name=name, inputs=inputs, oracle=gd_oracle, atol=_case_atol,
        result=lambda function, value, case: expect_array_not_list(
            function, value, "the iterates", "collect them in a list and convert once at the "
            "end with np.array(xs) or np.stack(xs), or fill a preallocated np.zeros array"),
        wrong=_judge_iterates, passed=f"the iterates of gradient descent on {{inputs}}, and all "
                                      f"{STATIONARY_STEPS + 1} from a stationary point")


gd_matches = spec.check(_gd_spec("gd", lambda f_grad=grad_square, x0=10.0, eta=0.2, num_steps=10,
                                 seed=0: _trajectories(f_grad, x0, eta, num_steps, 0.0)))
gd_2d_matches = spec.check(_gd_spec("gd_2d", lambda f_grad=grad_ellipse, x0=(-5.0, -2.0), eta=0.1,
                                    num_steps=20, seed=0: _trajectories(
                                        f_grad, tuple(x0), eta, num_steps, (0.0, 0.0))))


# --------------------------------------------------------------------------- max_stable_lr

# Tried after the cell's: far flatter and sharper valleys (at c = 1e13, 2 / c = 2e-13: a
# bound kept "just below" the supremum by subtracting an epsilon is negative there).
EXTREME_CURVATURES = (1e8, 3e-9, 1e13)


@core.oracle
def stable_lr_oracle(curvature):
    """The largest learning rate with which gradient descent converges on c/2 x^2."""
    return 2.0 / curvature


@core.oracle
def stable_lr_mistakes(curvature):
    """The usual wrong bounds: ({value: name}, the last name of a value; 2 // c; 2 / c
    rounded to 1, 2, ..., 11 decimals)."""
    c = curvature
    return ({1.0 / c: "1 / curvature", 2.0 * c: "2 * curvature", c / 2.0: "curvature / 2",
             0.5 / c: "1 / (2 * curvature)"}, 2 // c, [round(2.0 / c, n) for n in range(1, 12)])


def _explain_wrong_lr(max_stable_lr, got, case, returned):
    """Fail saying what gradient descent does with the wrong bound `got`, and its slip."""
    (c,), want, (slips, floor_divided, rounded) = case.args, case.expected, case.mistakes
    name = next((n for v, n in slips.items() if abs(got - v) <= core.RTOL * abs(v) and v != want),
                None)
    factor = abs(1 - got * c)
    if got <= 0:
        verdict = (f"a learning rate must be positive: with eta = {got:.6g} gradient descent "
                   "stands still (eta = 0) or walks uphill (eta < 0)")
    elif got > want:
        verdict = (f"with eta = {got:.6g} gradient descent diverges: |1 - eta c| = "
                   f"{factor:.4g} > 1, so |x_t| grows without bound")
    else:
        verdict = (f"gradient descent still converges for larger steps: at eta = {got:.6g}, "
                   f"|1 - eta c| = {factor:.4g} < 1, and it stays below 1 up to eta = {want:.6g}")
    shrink = " The bound must shrink as the curvature grows: a sharper valley needs smaller steps."
    advice = {"1 / curvature": " 1/c is the step that lands on the minimum in one step "
                               "(1 - eta c = 0), not the largest stable one.",
              "2 * curvature": shrink, "curvature / 2": shrink}.get(name, "")
    if got in rounded:
        advice += (" That is 2 / c rounded: return 2 / c itself, which may be far below 1e-6 "
                   "for a sharp valley.")
    elif got == floor_divided:
        advice += " That is the floor division 2 // c: use true division, 2 / c."
    returned = f"returned {name} = {got:.6g}" if name else f"returned {got:.6g}"
    core.fail(max_stable_lr, f"{returned} for curvature c = {c}, expected 2 / c = {want:.6g}: "
                             f"{verdict}.{advice} On f(x) = c/2 x^2 one step is x <- (1 - eta c) "
                             "x; solve |1 - eta c| < 1 for eta")


max_stable_lr_matches = spec.check(spec.Spec(
    name="max_stable_lr", oracle=stable_lr_oracle,
    inputs=lambda curvatures=(4.0, 1.0, 0.5, 10.0, 3, 1e-3, 4e3): [
        (c,) for c in tuple(curvatures) + EXTREME_CURVATURES],
    mistakes=stable_lr_mistakes, wrong=_explain_wrong_lr, result="float",
    what="curvature {0}", atol=0.0,
    passed=lambda curvatures: f"2 / c as a Python float for c in "
                              f"{tuple(curvatures) + EXTREME_CURVATURES}"))


# --------------------------------------------------------------------------- momentum

def _parameters(shapes, seed, grad_seed, scale=1.0):
    """Random float32 parameters of the given shapes, with random gradients attached."""
    return [spec.Param(core.random_array(shape, seed + i).asnumpy(),
                       core.random_array(shape, grad_seed + i, scale=scale).asnumpy())
            for i, shape in enumerate(shapes)]


@core.oracle
def zero_states(params):
    """The velocities at rest, of the parameters' shapes, one vector."""
    return onp.zeros(sum(p.value.size for p in params))


def _states(init_momentum_states, value, case):
    """The list of states, one zero mxnet array per parameter, of its shape: one vector."""
    params, fail = case.args[0], functools.partial(core.fail, init_momentum_states)
    if isinstance(value, core.GeneratorResult):
        fail("returned a generator, expected a list: write [np.zeros_like(p) for p in params] "
             "with square brackets (a generator can be used only once)")
    if value is None:
        fail("returned None: did you forget `return`?")
    if isinstance(value, np.ndarray) or not isinstance(value, (list, tuple)):
        fail(f"returned {core.type_name(value)}, expected a list with one state array per "
             "parameter, e.g. [np.zeros_like(p) for p in params]")
    if isinstance(value, tuple):
        fail("returned a tuple, expected a list: build it with square brackets, "
             "[np.zeros_like(p) for p in params], so that its states can be replaced and "
             "appended to like those of any list")
    if len(value) != len(params):
        fail(f"returned {len(value)} {'state' if len(value) == 1 else 'states'} for "
             f"{len(params)} parameters: one velocity per parameter, "
             "[np.zeros_like(p) for p in params]")
    for i, (state, p) in enumerate(zip(value, params)):
        # Before the shapes: `[np.zeros(shape)] * k` repeats one array, of one shape.
        for j in (j for j in range(i) if isinstance(state, np.ndarray) and value[j] is state):
            fail(f"states {j} and {i} are the same array object: each parameter needs a "
                 "velocity of its own, of its own shape (`[np.zeros(...)] * k` repeats one "
                 "array): [np.zeros_like(p) for p in params]")
        core.expect_array(init_momentum_states, state, f"state {i}", shape=p.value.shape,
                          hint=f"the state of params[{i}] has the parameter's shape: "
                               "np.zeros_like(p) or np.zeros(p.shape)")
    states = [core.to_numpy(state) for state in value]
    for i, (state, p) in enumerate(zip(states, params)):   # the values, once all types are right
        if onp.array_equal(state, p.value):
            fail(f"state {i} holds the values of params[{i}]: the velocity is a new array of "
                 "zeros, np.zeros_like(p), not the parameter")
        if onp.any(state != 0):
            index = spec.first(state != 0)
            fail(f"state {i} is not zero (at index {index} it is {state[index]:.6g}): the "
                 "velocity starts at rest, v = 0")
    return onp.concatenate([state.ravel() for state in states])


init_momentum_states_matches = spec.check(spec.Spec(
    name="init_momentum_states", oracle=zero_states, result=_states, atol=0.0,
    inputs=lambda shapes=((2, 1), (1,)), seed=0: (_parameters(shapes, seed, seed + 100),),
    passed="one zero state per parameter for shapes {shapes}"))


@core.oracle
def momentum_step(p, v, g, lr, momentum, batch_size):
    """(new p, new v) after one momentum step with the summed minibatch gradient g."""
    new_v = momentum * v + g / batch_size
    return p - lr * new_v, new_v


@core.oracle
def momentum_slips(p, v, g, lr, momentum, batch_size):
    """{name in MOMENTUM_SLIPS: (new p, new v)}: most are the rule with one argument wrong."""
    new_p, new_v = momentum_step(p, v, g, lr, momentum, batch_size)
    return {"rebound": (new_p, v), "old velocity": (p - lr * v, new_v),
            "no batch division": momentum_step(p, v, g, lr, momentum, 1),
            "lr in velocity": momentum_step(p, v, lr * g, 1, momentum, batch_size),
            "negative velocity": momentum_step(p, v, -g, -lr, momentum, batch_size),
            "dampened": momentum_step(p, v, (1 - momentum) * g, lr, momentum, batch_size),
            "no momentum": momentum_step(p, v, g, lr, 0, batch_size),
            "params rebound": (p, new_v)}


# What each slip of momentum_slips is told, in the order they are tried.
MOMENTUM_SLIPS = {
    "rebound": "the states did not change: `v = momentum * v + ...` binds the name v to a new "
               "array, and the caller's state is lost. Update it in place: "
               "v[:] = momentum * v + p.grad / batch_size",
    "old velocity": "moved the parameters with the old velocity: first update v, then p with "
                    "the new v (p[:] = p - lr * v after v[:] = ...)",
    "no batch division": "missing the division by batch_size: p.grad is the gradient of the "
                         "summed minibatch loss, so v[:] = momentum * v + p.grad / batch_size",
    "lr in velocity": "the states hold the step (lr inside the velocity): in this course v = "
                      "momentum * v + p.grad / batch_size, and lr multiplies v only in the "
                      "update p[:] = p - lr * v",
    "negative velocity": "the states have the opposite sign: v accumulates +p.grad / "
                         "batch_size and the update subtracts it, p[:] = p - lr * v",
    "dampened": "the gradient is damped by (1 - momentum): the rule here is v = momentum * v "
                "+ p.grad / batch_size, undamped",
    "no momentum": "ignores the momentum term: the velocity is v = momentum * v + p.grad / "
                   "batch_size, a leaky sum of the past gradients, not just the current one",
    "params rebound": "the parameters did not change: `p = p - lr * v` binds a new array to "
                      "the name p; update in place with p[:] = p - lr * v",
}


def _momentum_inputs(shapes=((3, 1), (1,)), lr=0.1, momentum=0.9, batch_size=4, steps=2, seed=0):
    """`steps` steps from random parameters and velocities with N(0, 1) gradients, then
    one with gradients LARGE_GRADIENT times larger, and one HUGE_GRADIENT times larger; the
    call's tag: (which step, large)."""
    calls = []
    inputs = f"lr={lr}, momentum={momentum}, batch_size={batch_size}, shapes {tuple(shapes)}"
    for step in range(1, steps + 3):
        large, offset = step > steps, seed + 1000 * (step - 1)
        scale = 1 if not large else LARGE_GRADIENT if step == steps + 1 else HUGE_GRADIENT
        params = _parameters(shapes, offset, seed + 100 * step, scale)
        states = [core.random_array(shape, offset + 200 + i, scale=0.5).asnumpy()
                  for i, shape in enumerate(shapes)]
        norm = onp.sqrt(sum((p.grad.astype(onp.float64) ** 2).sum() for p in params))
        kind = (f"step {step} of {steps}" if not large
                else f"a last step with gradients of norm {norm:.3g}" if scale == LARGE_GRADIENT
                else f"one more step with gradients of norm {norm:.3g}")
        calls.append(spec.Call((params, states, lr, momentum, batch_size), inputs, (kind, large)))
    return calls


@core.oracle
def momentum_update(params, states, lr, momentum, batch_size):
    """The parameters, then the velocities, after one momentum step: one vector."""
    steps = [momentum_step(p.value, v, p.grad, lr, momentum, batch_size)
             for p, v in zip(params, states)]
    return onp.concatenate([p.ravel() for p, _ in steps] + [v.ravel() for _, v in steps])


def _explain_momentum(sgd_momentum, got, case, returned):
    """Judge each parameter and its velocity: a slip, large gradients clipped, or the worst."""
    params, states, lr, momentum, batch_size = map(spec.float64, case.args)
    (kind, large), inputs, k = case.tag, case.inputs, len(params)
    arrays = [p.value for p in params] + states   # got is their entries, one vector
    ends = onp.cumsum([a.size for a in arrays])[:-1]
    got, want = ([part.reshape(a.shape) for part, a in zip(onp.split(vector, ends), arrays)]
                 for vector in (got, case.expected))
    for i, (p, v0, got_p, got_v, want_p, want_v) in enumerate(
            zip(params, states, got, got[k:], want, want[k:])):
        if core.close(got_v, want_v) and core.close(got_p, want_p):
            continue
        slips = momentum_slips(p.value, v0, p.grad, lr, momentum, batch_size)
        for name, message in MOMENTUM_SLIPS.items():
            if core.close(got_v, slips[name][1]) and core.close(got_p, slips[name][0]):
                core.fail(sgd_momentum, f"params[{i}]/states[{i}]: {message} ({kind}, {inputs})")
        coasting = momentum * v0   # the velocity without this step's gradient
        if large and shrinks_large_gradients(got_v - coasting, want_v - coasting):
            core.fail(sgd_momentum, f"states[{i}]: the velocity grew by less than p.grad / "
                      f"batch_size ({kind}, {inputs}): large gradients are clipped or "
                      "normalised. The rule has no limit: v[:] = momentum * v + p.grad / "
                      "batch_size for a gradient of any size")
        core.assert_close(sgd_momentum, got_v, want_v, what=f"states[{i}]",
                          inputs=f"{inputs}, {kind}",
                          hint="v[:] = momentum * v + p.grad / batch_size")
        core.assert_close(sgd_momentum, got_p, want_p, what=f"params[{i}]",
                          inputs=f"{inputs}, {kind}", hint="after updating v: p[:] = p - lr * v")


sgd_momentum_matches = spec.check(spec.Spec(
    name="sgd_momentum", inputs=_momentum_inputs, oracle=momentum_update,
    updates=(0, 1), wrong=_explain_momentum,
    returns_none="sgd_momentum updates params and states in place and returns None (drop "
                 "the `return`)",
    passed=f"{{steps}} in-place momentum step(s) with {{inputs}}, and one with gradients "
           f"{LARGE_GRADIENT:g} times larger"))


# --------------------------------------------------------------------------- train_minibatch

@core.oracle
def mean_squared_loss(X, y, w, b):
    """The full-data mean of squared_loss, (y_hat - y)^2 / 2, in float64."""
    residual = X @ w + b - y.reshape(-1)
    return 0.5 * float(onp.mean(residual ** 2))


@core.oracle
def full_batch_losses(X, y, lr, num_epochs):
    """Losses before and after each step of gradient descent on the mean loss from w = 0,
    b = 0 (the first, with num_epochs = 0 the only one: where training starts)."""
    X, y = X.astype(onp.float64), y.astype(onp.float64).reshape(-1)
    w, b = onp.zeros(X.shape[1]), 0.0
    losses = [mean_squared_loss(X, y, w, b)]
    with onp.errstate(over="ignore", invalid="ignore"):
        for _ in range(num_epochs):
            residual = X @ w + b - y
            w, b = w - lr * X.T @ residual / len(y), b - lr * residual.mean()
            losses.append(mean_squared_loss(X, y, w, b))
    return onp.array(losses)


@core.oracle
def noise_floor(X, y):
    """The smallest mean squared loss any (w, b) reaches: least squares on [X, 1]."""
    X, y = X.astype(onp.float64), y.astype(onp.float64).reshape(-1)
    solution, *_ = onp.linalg.lstsq(onp.hstack([X, onp.ones((len(X), 1))]), y, rcond=None)
    return mean_squared_loss(X, y, solution[:-1], solution[-1])


def judge_losses(function, value, X, y, num_epochs, inputs):
    """Type, length and first value of a loss curve; returns it as float64 NumPy."""
    got = expect_array_not_list(
        function, value, "the losses", "collect the losses in a list and return "
        "np.stack(losses) (0-d arrays) or np.array(losses) (floats)")
    start, fail = full_batch_losses(X, y, 0.0, 0)[0], functools.partial(core.fail, function)
    if got.ndim >= 2 and got.size == num_epochs + 1:
        fail(f"returned shape {got.shape}, expected ({num_epochs + 1},): one number per "
             "measurement, a 1-D array (reshape(-1) it, or take the mean of the loss over all "
             "axes)")
    if got.shape == (num_epochs,):
        fail(f"returned {num_epochs} losses, expected {num_epochs + 1} for num_epochs="
             f"{num_epochs}: the loss before training (at w = 0, b = 0) comes first, then one "
             "after each epoch")
    if got.shape != (num_epochs + 1,):
        fail(f"returned shape {got.shape}, expected ({num_epochs + 1},) for {inputs}: the loss "
             "before training, then one after each epoch, each a single number, the mean of "
             "squared_loss over all the examples")
    if not abs(got[0] - start) <= core.RTOL * start:
        detail = next((text for times, text in (
            (2, "that is mean((y_hat - y)^2), without the 1/2 of squared_loss: take "
                "squared_loss(linreg(features, w, b), labels).mean()"),
            (len(X), "that is the sum over the examples: take the mean"))
            if abs(got[0] - times * start) <= core.RTOL * times * start),
            "start from w = 0, b = 0 (not random weights) and record the loss on all the data "
            "before the first epoch")
        fail(f"the first loss is {got[0]:.7g}, expected {start:.7g}, the loss at w = 0, b = 0 "
             f"(the mean of y^2 / 2) for {inputs}: {detail}")
    if not onp.isfinite(got).all():
        epoch = int(onp.argmax(~onp.isfinite(got)))
        fail(f"the loss is {got[epoch]} after epoch {epoch} ({inputs}): the steps are far too "
             "large. Is the gradient of the summed minibatch loss divided by batch_size (or do "
             "you take the mean loss)?")
    return got


# With lr=0 nothing is learnt, so every loss is the start's, the mean of y^2 / 2 over all
# the examples. The labels are +-1 and +-3 (a start loss of 0.5 or 4.5 per example), and
# n = 21 examples in minibatches of 10 leave a last minibatch of one: a mean of the 3
# minibatch means misses the full-data mean by 0.3 |l_last - L0| >= 0.57 (L0 = 2.595),
# whichever example comes last, while float32 rounding is below 1e-6. The first feature
# follows the labels, so a trainer that ignores lr = 0 and learns lowers the loss at once.
LR_ZERO_RUN = dict(n=21, batch_size=10, num_epochs=2)
LR_ZERO_SMALL = 10   # examples with label +-1; the others have +-3
EXAMPLE_LOSSES = (0.5, 4.5)   # the start loss of one example with label +-1, +-3


@core.oracle
def means_of_minibatch_means(start, n, batch_size):
    """The mean of the minibatches' mean losses at w = 0, b = 0 (full-data mean `start`),
    for each loss the last minibatch, of one example, can have."""
    full_batches, last = divmod(n, batch_size)
    return [start + (loss - start) * (1 - last / batch_size) / (full_batches + 1)
            for loss in EXAMPLE_LOSSES]


def regression_problem(n, w, b, seed):
    """02's regression_data (float32 X ~ N(0, 1) of shape (n, d), y = X w + b + N(0, 0.01^2) of
    (n, 1)) as classic NumPy."""
    return tuple(a.asnumpy() for a in regression_data(n, w, b, seed))


def lr_zero_problem(seed):
    """(X, y) of the lr=0 run, float32: y of +-1 and +-3, X[:, 0] = y + N(0, 0.1^2)."""
    rng, n = onp.random.default_rng(seed), LR_ZERO_RUN["n"]
    magnitudes = rng.permutation(onp.where(onp.arange(n) < LR_ZERO_SMALL, 1.0, 3.0))
    y = magnitudes * rng.choice([-1.0, 1.0], n)
    X = onp.stack([y + rng.normal(0, 0.1, n), rng.normal(0, 1, n)], axis=1)
    return X.astype(onp.float32), y.reshape(-1, 1).astype(onp.float32)


def judge_lr_zero(train_minibatch, seed):
    """With lr=0 every loss is the one at w = 0, b = 0, measured on all the examples at once
    (batch_size does not divide n): fail naming the slip otherwise."""
    fail = functools.partial(core.fail, train_minibatch)
    n, batch_size, num_epochs = LR_ZERO_RUN.values()
    X, y = lr_zero_problem(seed)
    inputs = f"n={n} examples, batch_size={batch_size}, lr=0, num_epochs={num_epochs}"
    value = core.call(train_minibatch, np.array(X), np.array(y), batch_size, 0.0, num_epochs,
                      seed=seed)
    if not (isinstance(value, np.ndarray) and value.shape == (num_epochs + 1,)):
        judge_losses(train_minibatch, value, X, y, num_epochs, inputs)   # fails
    got, start = core.to_numpy(value), full_batch_losses(X, y, 0.0, 0)[0]
    means_of_means = means_of_minibatch_means(start, n, batch_size)
    if any(core.close(loss, one) for loss in got[1:] for one in EXAMPLE_LOSSES):
        fail(f"the losses are {onp.array2string(got, precision=4)}, expected {start:.6g} each "
             f"({inputs}: nothing is learnt): after the first, each is the loss of the epoch's "
             "last minibatch (here of a single example). It looks like you recorded the "
             "minibatch loss computed in the training loop. After each epoch, evaluate "
             "squared_loss on all the data with the updated w and b")
    for epoch, loss in enumerate(got):
        if any(core.close(loss, mean) for mean in means_of_means):
            fail(f"loss {epoch} is {loss:.6g}, the mean of the minibatches' mean losses; "
                 f"expected {start:.6g}, the mean over all {n} examples ({inputs}: nothing is "
                 "learnt, so every loss is the one at w = 0, b = 0). The last minibatch has "
                 f"{n % batch_size} example(s) and weighs as much as a full one in a mean of "
                 "means: evaluate squared_loss(linreg(features, w, b), labels).mean() on all "
                 "the data at once")
    judge_losses(train_minibatch, value, X, y, num_epochs, inputs)
    if got[-1] < start * (1 - 1e-3):
        fail(f"ignores lr: with lr=0 nothing may be learnt, yet the loss went from {start:.6g} "
             f"to {got[-1]:.6g} ({inputs}). Use the lr the function is called with in the "
             "update, param - lr * param.grad / batch_size")
    core.assert_close(train_minibatch, got, onp.full_like(got, start), what="the losses",
                      inputs=inputs, hint="with lr=0 nothing is learnt: every loss is the "
                                          "mean squared loss at w = 0, b = 0 on all the data")


def train_minibatch_full_batch_is_gd(train_minibatch, n=200, w=(2.0, -3.4), b=4.2, lr=0.1,
                                     num_epochs=5, seed=0):
    """With batch_size = n every epoch is one exact gradient step: the curve is deterministic.
    The lr=0 run of :func:`judge_lr_zero` comes first."""
    judge_lr_zero(train_minibatch, seed)
    X, y = regression_problem(n, w, b, seed)
    inputs = f"n={n} examples, batch_size={n} (the full batch), lr={lr}, num_epochs={num_epochs}"
    value = core.call(train_minibatch, np.array(X), np.array(y), n, lr, num_epochs, seed=seed)
    got = judge_losses(train_minibatch, value, X, y, num_epochs, inputs)
    want = full_batch_losses(X, y, lr, num_epochs)
    rtol = 1e-3   # float32 gradients over a few epochs; the slips below differ by far more
    core.diagnose(train_minibatch, got, want, rtol=rtol, mistakes=[
        (onp.concatenate([want[:1], want[:-1]]),   # each loss from before the last update
         f"each loss is the one from before the epoch's last update ({inputs}): it looks like "
         "you recorded the minibatch loss computed in the training loop. After each epoch, "
         "evaluate squared_loss on all the data with the updated w and b"),
        (full_batch_losses(X, y, lr * n, num_epochs),
         f"the steps are batch_size times too large ({inputs}): divide the gradient of the "
         "summed minibatch loss by batch_size, or take the mean loss"),
        (full_batch_losses(X, y, -lr, num_epochs),
         f"the loss grows every epoch ({inputs}): the update goes uphill; subtract the step, "
         "param - lr * param.grad"),
        (full_batch_losses(X, y, lr / n, num_epochs),
         f"the steps are batch_size times too small ({inputs}): you divide by batch_size "
         "twice (a mean loss and then / batch_size in the update)")])
    core.assert_close(train_minibatch, got, want, what="the losses", rtol=rtol, inputs=inputs,
                      hint="with one batch of all n examples, each epoch is one step of "
                           "gradient descent, w <- w - lr * grad of the mean loss; index i "
                           "is the loss after epoch i")
    judge_batch_beyond_data(train_minibatch, X, y, lr, num_epochs, seed)
    judge_all_examples(train_minibatch, w, b, lr, seed)
    core.passed(train_minibatch, f"the exact gradient-descent losses for {inputs}")


def judge_all_examples(train_minibatch, w, b, lr, seed):
    """One full-batch epoch on ALL_EXAMPLES examples, of which only those after the first
    ZERO_EXAMPLES (zeros: no gradient at w = 0, b = 0) carry a signal, lowers the loss (a
    trainer that learns from the first 1000 examples alone does not)."""
    X, y = regression_problem(ALL_EXAMPLES, w, b, seed)
    X[:ZERO_EXAMPLES], y[:ZERO_EXAMPLES] = 0, 0
    inputs = (f"n={ALL_EXAMPLES} examples whose first {ZERO_EXAMPLES} are zeros (features and "
              f"labels), batch_size={ALL_EXAMPLES}, lr={lr}, num_epochs=1")
    value = core.call(train_minibatch, np.array(X), np.array(y), ALL_EXAMPLES, lr, 1, seed=seed)
    got = judge_losses(train_minibatch, value, X, y, 1, inputs)
    if not got[-1] < got[0] * (1 - 1e-3):
        core.fail(train_minibatch, f"the loss stayed at {got[0]:.6g} ({inputs}): nothing was "
                  f"learnt from the last {ALL_EXAMPLES - ZERO_EXAMPLES} examples, the only ones "
                  f"with something to learn. {ALL_EXAMPLES_ADVICE}")


def judge_batch_beyond_data(train_minibatch, X, y, lr, num_epochs, seed):
    """With a batch_size larger than the data, the only minibatch is the last, smaller one:
    training must still learn (a loop over full minibatches alone drops it)."""
    n, batch_size = len(X), 2 * len(X)
    inputs = (f"n={n} examples, batch_size={batch_size} (larger than the data), lr={lr}, "
              f"num_epochs={num_epochs}")
    value = core.call(train_minibatch, np.array(X), np.array(y), batch_size, lr, num_epochs,
                      seed=seed)
    got = judge_losses(train_minibatch, value, X, y, num_epochs, inputs)
    if not got[-1] < got[0] * (1 - 1e-3):
        core.fail(train_minibatch, f"the loss stayed at {got[0]:.6g} ({inputs}): nothing was "
                  f"learnt. {LAST_BATCH_ADVICE}")


def train_minibatch_converges(train_minibatch, n=1000, batch_size=10, lr=0.03, num_epochs=3,
                              w=(2.0, -3.4), b=4.2, seed=0):
    """Minibatch SGD goes down to the noise floor, and far faster per epoch than full-batch GD.
    The lr=0 run of :func:`judge_lr_zero` comes first."""
    fail = functools.partial(core.fail, train_minibatch)
    judge_lr_zero(train_minibatch, seed)
    X, y = regression_problem(n, w, b, seed)
    # First the start alone: 0 epochs cost no training, and a wrong start fails there.
    for epochs in (0, num_epochs):
        inputs = f"n={n} examples, batch_size={batch_size}, lr={lr}, num_epochs={epochs}"
        value = core.call(train_minibatch, np.array(X), np.array(y), batch_size, lr, epochs,
                          seed=seed)
        got = judge_losses(train_minibatch, value, X, y, epochs, inputs)
    floor = noise_floor(X, y)
    reached = 2 * floor + 1e-5   # the best possible loss, plus what SGD's noise adds
    one_gd_epoch = full_batch_losses(X, y, lr, 1)[1]
    # An epoch that gains what one full-batch step gains (within a factor 1.5; a correct
    # epoch of n / batch_size >= 4 steps gains more) made one step, or steps n / batch_size
    # times too small. A loss that went up is judged below, by the sign of the update.
    gain_ratio = (got[0] - got[1]) / (got[0] - one_gd_epoch)
    if n // batch_size >= 4 and 1 / 1.5 <= gain_ratio <= 1.5:
        fail(f"after one epoch the loss is {got[1]:.4g}, about what one step of full-batch "
             f"gradient descent reaches ({one_gd_epoch:.4g}), for {inputs}: an epoch of "
             f"minibatch SGD makes n / batch_size = {n // batch_size} updates, one per "
             "minibatch of data_iter(batch_size, ...), each with the gradient divided by "
             "batch_size (the size of the minibatch, not n)")
    for epoch in range(num_epochs):   # a rise of SGD's noise on a plateau is judged below
        if got[epoch + 1] > max(1.1 * got[epoch], reached):
            fail(f"the loss went up from {got[epoch]:.4g} to {got[epoch + 1]:.4g} in epoch "
                 f"{epoch + 1} ({inputs}): check the sign of the update (w - lr * grad) and "
                 "that each step uses the gradient of its own minibatch")
    if got[-1] > reached:
        fail(f"the final loss is {got[-1]:.4g}, expected at most {reached:.2g} (the noise "
             f"floor is {floor:.2g}) for {inputs}: all losses "
             f"{onp.array2string(got, precision=4)}. It learns too slowly: is the gradient "
             "divided by batch_size twice (a mean loss and / batch_size in the update)? Are w "
             "and b both updated?")
    judge_shuffles(train_minibatch, w, b, seed)
    judge_new_order(train_minibatch, seed)
    core.passed(train_minibatch, f"exact start, decreasing to the noise floor "
                                 f"({got[-1]:.2g} <= {reached:.2g}) for {inputs}")


# On examples sorted by label, where the order decides the losses: 100 examples, minibatches
# of 10, one epoch, and RUNS shuffled orders to compare the in-order losses with.
SORTED_RUN = dict(n=100, batch_size=10, lr=0.1, num_epochs=1)
RUNS = 48


@core.oracle
def minibatch_losses(X, y, batch_size, lr, orders):
    """The losses of each run of minibatch SGD on the mean loss from w = 0, b = 0, visiting
    the examples in the order orders[run, epoch] in each epoch: shape (runs, epochs + 1)."""
    X, y = X.astype(onp.float64), y.astype(onp.float64).reshape(-1)
    curves = []
    for epochs in orders:
        w, b = onp.zeros(X.shape[1]), 0.0
        losses = [mean_squared_loss(X, y, w, b)]
        for order in epochs:
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                residual = X[batch] @ w + b - y[batch]
                w, b = w - lr * X[batch].T @ residual / len(batch), b - lr * residual.mean()
            losses.append(mean_squared_loss(X, y, w, b))
        curves.append(losses)
    return onp.array(curves)


def reorder_candidates():
    """(the losses after each epoch of minibatch SGD from w = 0, b = 0 over each pair of
    ORDER_PAIRS on linear_regression's REORDER problem, their float32 tolerance): where 03's
    trainer ends."""
    lr, num_epochs, batch_size = REORDER_RUN.values()
    X, y = REORDER_X.astype(onp.float32), REORDER_Y.astype(onp.float32)
    ends = minibatch_losses(X, y, batch_size, lr, ORDER_PAIRS)[:, 1:]
    return ends, 1e-3 * onp.abs(ends).max()


def judge_new_order(train_minibatch, seed):
    """Each epoch reads the examples in a new order (the REORDER problem, where the losses
    after the two epochs name the orders read)."""
    lr, num_epochs, batch_size = REORDER_RUN.values()
    X, y = REORDER_X.astype(onp.float32), REORDER_Y.astype(onp.float32)
    inputs = f"{len(X)} examples, batch_size={batch_size}, lr={lr}, num_epochs={num_epochs}"
    ends, tolerance = reorder_candidates()

    def losses(call_seed):
        value = core.call(train_minibatch, np.array(X), np.array(y), batch_size, lr, num_epochs,
                          seed=call_seed)
        return judge_losses(train_minibatch, value, X, y, num_epochs, inputs)[1:]

    judge_new_order_every_epoch(train_minibatch, losses, ends, tolerance, seed,
                                EPOCH_ORDER_ADVICE)


def judge_shuffles(train_minibatch, w, b, seed):
    """On examples sorted by label, fail losses that are those of minibatch SGD over the
    examples in their given order, where every shuffled order's losses are clearly apart, and
    orders not drawn afresh from MXNet's generator at every call."""
    n, batch_size, lr, num_epochs = SORTED_RUN.values()
    X, y = regression_problem(n, w, b, seed)
    order = onp.argsort(y[:, 0], kind="stable")
    X, y = X[order], y[order]
    inputs = (f"n={n} examples sorted by label, batch_size={batch_size}, lr={lr}, "
              f"num_epochs={num_epochs}")
    value = core.call(train_minibatch, np.array(X), np.array(y), batch_size, lr, num_epochs,
                      seed=seed)
    got = judge_losses(train_minibatch, value, X, y, num_epochs, inputs)
    in_order = minibatch_losses(X, y, batch_size, lr,
                                onp.tile(onp.arange(n), (1, num_epochs, 1)))[0]
    rng = onp.random.default_rng(seed)
    shuffled = minibatch_losses(X, y, batch_size, lr, onp.array(
        [[rng.permutation(n) for _ in range(num_epochs)] for _ in range(RUNS)]))
    apart = onp.abs(shuffled - in_order).min(axis=0) > 0.1 * in_order
    if apart.any() and core.close(got, in_order, rtol=1e-3, atol=0.0):
        core.fail(train_minibatch, f"the losses are {onp.array2string(got, precision=4)}, those "
                  f"of minibatch SGD over the examples in their given order ({inputs}), while "
                  f"shuffled minibatches end near {shuffled[:, -1].mean():.4g}: the examples are "
                  "read in the same order in every epoch. Draw the minibatches with "
                  "data_iter(batch_size, features, labels), which shuffles at every call")
    if apart.any():   # the order decides the losses: two calls must differ
        core.draws_afresh_from_mxnet(train_minibatch, np.array(X), np.array(y), batch_size, lr,
                                     num_epochs, seed=seed)
