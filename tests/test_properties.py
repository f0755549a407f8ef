"""The rules for every graded function (d2lcourse.checks.properties), checked by core.call
for all of them: inputs unchanged, results new arrays, float dtypes. Catalogued mistakes
break them, here and in the sandbox; correct functions keep their arguments and results
exactly as one plain call leaves them."""
import functools
import itertools

import pytest

from d2lcourse import grading, mistakes, notebooks
from d2lcourse._mxnet import np, npx
from d2lcourse.autograder.evaluate import RemoteFunction
from d2lcourse.autograder.module_view import sandbox_view
from d2lcourse.autograder.sandbox import Limits, Sandbox, bubblewrap_problem
from d2lcourse.checks import core, problems, properties
from d2lcourse.checks import mlp as mlp_checks
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.solutions import linear_regression, mlp, ndarray_autograd, optimization
from helpers import failure, quietly

ASSIGNMENT_OF = {"01": "01_ndarray_autograd", "02": "02_linear_regression",
                 "03": "03_optimization", "05": "05_mlp"}


@functools.lru_cache(maxsize=None)
def setup_of(assignment_id):
    return tuple(grading.setup_sources(notebooks.read(ASSIGNMENTS[assignment_id].source_path())))


def catalogued(assignment_id, name):
    """The catalogued mistake `name` of the assignment: (the case, its function)."""
    case = next(c for c in itertools.chain(*mistakes.load(ASSIGNMENTS[assignment_id]))
                if c.name == name)
    function = grading.define_functions([case.function], setup_of(assignment_id),
                                        {case.function: case.source})[case.function]
    return case, function


def parameters(*values):
    """Parameters with gradients, as sgd and sgd_momentum are given them."""
    return [core.with_grad(np.array(v), np.full(np.array(v).shape, 4.0)) for v in values]


def vector():
    return np.array([-1.5, 2.0, 0.0, 0.25])


# (assignment, mistake, arguments, what the message says)
BROKEN = [
    ("01", "grad_relu_mask_into_x", lambda: (vector(),),
     ["changed its argument x in place: x[0] was -1.5, is 0 after the call",
      "compute a new array instead of writing into x"]),
    ("02", "data_iter_shuffles_callers_arrays",
     lambda: (3, np.arange(20.0).reshape(10, 2), np.arange(10.0)),
     ["changed its argument features in place: features[", "The caller still needs it"]),
    ("02", "sgd_divides_the_gradient_in_place", lambda: (parameters([1.0, 2.0]), 0.1, 2),
     ["changed params[0].grad: params[0].grad[0] was 4, is 2 after the call",
      "never their gradients"]),
    ("01", "jacobian_returns_A_itself", lambda: (np.ones((2, 3)), vector()[:3]),
     ["returned its argument A itself", "Return A.copy()"]),
    ("01", "jacobian_view_of_A", lambda: (np.ones((2, 3)), vector()[:3]),
     ["returned a view of its argument A", "A.copy()"]),
    ("01", "autograd_returns_callers_grad", lambda: (problems.cube, vector()),
     ["returned x.grad itself", "Return x.grad.copy()"]),
    ("05", "init_mlp_params_gradients_add_up", lambda: (4, 3, 2),
     ["returned the result[0] with a gradient that adds up over backward passes",
      "grad_req='write'"]),
    ("01", "numerical_derivative_reused_buffer", lambda: (problems.cube, vector()),
     ["returned an array that its next call overwrites"]),
    ("03", "init_momentum_states_cached_zeros", lambda: (parameters([1.0], [2.0, 3.0]),),
     ["returned the array it had returned before", "or return cached.copy()"]),
    ("03", "init_momentum_states_gradients", lambda: (parameters([1.0], [2.0, 3.0]),),
     ["returned params[0].grad itself"]),
    ("03", "sgd_momentum_replaces_states",
     lambda: (parameters([1.0, 2.0]), [np.zeros(2)], 0.5, 0.9, 2),
     ["replaced states[0] by a new array", "Update it in place: states[0][:] = ..."]),
    ("01", "autograd_attaches_to_the_callers_x",
     lambda: (problems.sum_of_cubes, core.with_grad(vector(), np.ones(4))),
     ["changed x.grad: x.grad[0] was 1, is", "Attach the gradient to a copy"]),
]


@pytest.mark.parametrize("assignment,name,arguments,says", BROKEN,
                         ids=[case[1] for case in BROKEN])
def test_a_broken_rule_fails_the_call_naming_the_rule_and_the_fix(assignment, name, arguments,
                                                                     says):
    case, function = catalogued(ASSIGNMENT_OF[assignment], name)
    message = failure(lambda: core.call(function, *arguments(), seed=0))
    assert message.startswith(f"{case.function}: ")
    assert all(part in message for part in says), message


def same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.asnumpy().tobytes() == \
        b.asnumpy().tobytes()


# (reference function, arguments): the engine's second call and the values it writes into
# the inputs leave no trace
CORRECT = [
    (ndarray_autograd.jacobian_linear, lambda: (np.ones((2, 3)), vector()[:3])),
    (ndarray_autograd.autograd_grad, lambda: (problems.x_sin_x, vector())),
    (ndarray_autograd.grad_relu, lambda: (vector(),)),
    (mlp.mlp, lambda: (np.ones((2, 4)), parameters([[1.0] * 3] * 4, [0.0, 1.0, 2.0],
                                                  [[1.0] * 2] * 3, [1.0, -1.0]))),
    (linear_regression.synthetic_data, lambda: (np.array([2.0, -3.4]), 4.2, 5)),
    (mlp.init_mlp_params, lambda: (4, 3, 2)),   # its gradients, probed, are restored
]


@pytest.mark.parametrize("function,arguments", CORRECT, ids=[c[0].__name__ for c in CORRECT])
def test_a_correct_call_leaves_arguments_and_results_as_one_plain_call(function, arguments):
    plain_args, judged_args = arguments(), arguments()
    with core.seeded(0):
        plain = function(*plain_args)
    judged = core.call(function, *judged_args, seed=0)
    pairs = [(a, b) for (_, _, a), (_, _, b) in zip(
        properties.arrays_in([plain, plain_args], ""), properties.arrays_in([judged, judged_args], ""))]
    assert pairs and all(same(a, b) for a, b in pairs)
    assert all(a.grad is None or same(a.grad, b.grad) for a, b in pairs)


def test_an_update_in_place_happens_once_and_leaves_the_gradients():
    params, states = parameters([1.0, 2.0]), [np.zeros(2)]
    assert core.call(optimization.sgd_momentum, params, states, 0.5, 0.9, 2, seed=0) is None
    assert params[0].asnumpy().tolist() == [0.0, 1.0]      # v = 4 / 2, p - 0.5 * v
    assert states[0].asnumpy().tolist() == [2.0, 2.0]
    assert params[0].grad.asnumpy().tolist() == [4.0, 4.0]


def test_a_stand_in_gets_the_contract_of_the_checks_parameter_it_is_passed_as():
    def update(params):
        params[0][:] = params[0] * 2

    def check_of_sgd(sgd):
        return core.call(sgd, parameters([1.0]), seed=0)

    def check_of_linreg(linreg):
        return core.call(linreg, parameters([1.0]), seed=0)

    assert check_of_sgd(update) is None
    assert "changed its argument params[0] in place" in failure(lambda: check_of_linreg(update))


def test_a_trainer_is_called_once_and_its_large_inputs_are_compared_by_digest():
    calls = []

    def train_in_place(X, y):
        calls.append(1)
        X[-1, -1] = 7.0
        return np.zeros(1)

    X = np.zeros((1200, 1000))  # 4.8 MB: more than properties.COPY_BYTES
    assert X.size * 4 > properties.COPY_BYTES
    message = failure(lambda: core.call(train_in_place, X, np.zeros(1200), seed=0))
    assert "changed its argument X in place: its values differ after the call" in message
    assert calls == [1]


def test_every_other_function_is_called_again_to_find_reused_buffers():
    calls = []

    def linreg(X, w, b):
        calls.append(1)
        return X @ w + b

    core.call(linreg, np.ones((2, 2)), np.ones((2, 1)), np.zeros(1), seed=0)
    assert calls == [1] * (1 + properties.CALLS_AGAIN)  # a pool of two buffers comes round


@pytest.mark.parametrize("dtype", ["float16", "int32", "bool"])
def test_a_floating_result_is_float32_or_float64(dtype):
    message = failure(lambda: core.expect_array("init_momentum_states", np.zeros(3, dtype=dtype),
                                                "state 0"))
    assert message.startswith("init_momentum_states: state 0 ") and "expected float32" in message
    for fine in ("float32", "float64"):
        core.expect_array("init_momentum_states", np.zeros(3, dtype=fine))


def test_arrays_taken_from_the_inputs_keep_their_dtype():
    core.expect_array("regions", np.zeros(3, dtype="int32"))
    core.expect_array("data_iter", np.zeros(3, dtype="int64"))


# --------------------------------------------------------------------------- in the sandbox

needs_sandbox = pytest.mark.skipif(bubblewrap_problem() is not None,
                                   reason="bubblewrap cannot run here")
DISABLE_THE_RUNNERS_CHECK = """
from d2lcourse.checks import properties
properties.judge = lambda *args, **kwargs: None
"""


def remote_call(assignment, name, *arguments, prefix="", check=None):
    """The failure of core.call of a catalogued mistake answered by the sandboxed runner,
    on `arguments`, or of `check` of it."""
    case, _ = catalogued(ASSIGNMENT_OF[assignment], name)
    allowed, preload = sandbox_view(ASSIGNMENTS[ASSIGNMENT_OF[assignment]],
                                    setup_of(ASSIGNMENT_OF[assignment]))
    sandbox = Sandbox(Limits(seconds=60), allowed_references=allowed, preload=preload)
    try:
        reply, _ = sandbox.request({"op": "load", "functions": [case.function],
                                    "setup": list(setup_of(ASSIGNMENT_OF[assignment])),
                                    "solutions": {case.function: prefix + case.source}})
        assert reply["missing"] == {}
        function = RemoteFunction(sandbox, case.function, prefix + case.source)
        return failure(lambda: check(function) if check else
                       core.call(function, *arguments, seed=0))
    finally:
        sandbox.close()


@needs_sandbox
def test_the_runner_judges_results_where_the_function_runs():
    message = remote_call("01", "autograd_returns_callers_grad", problems.cube, vector())
    assert "returned x.grad itself" in message


@needs_sandbox
@pytest.mark.parametrize("prefix", ["", DISABLE_THE_RUNNERS_CHECK],
                         ids=["runner", "runner disabled by the submission"])
def test_a_changed_input_fails_even_when_the_submission_disables_the_runners_check(prefix):
    x = vector()
    message = remote_call("01", "grad_relu_mask_into_x", x, prefix=prefix)
    assert "changed its argument x in place: x[0] was -1.5, is 0 after the call" in message


# --------------------------------------------------------------------------- finiteness

def softmax_check(softmax, O, **options):
    """A check as the assignments write them: it calls, compares nothing, passes."""
    core.call(softmax, O, seed=0, **options)
    core.passed(softmax, "its own comparisons passed")


def overflowing_softmax(O):
    E = np.exp(O)
    return E / E.sum(axis=1, keepdims=True)


def large_logits():
    return np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])


def test_a_non_finite_result_fails_a_check_that_would_pass_naming_the_call_and_the_fix():
    message = failure(lambda: softmax_check(overflowing_softmax, large_logits()))
    assert message.startswith("softmax: returned NaN at index (0, 0) (3 of 6 entries are not "
                              "finite) for O of magnitude up to 1e4: "), message
    assert "softmax must return finite values for finite inputs of magnitude up to 1e4" \
        in message
    assert "Look for exp of a large number" in message


def test_the_checks_own_diagnosis_comes_first():
    def softmax_check_that_diagnoses(softmax):
        core.call(softmax, large_logits(), seed=0)
        core.fail(softmax, "overflows: subtract the row maximum")

    assert failure(lambda: softmax_check_that_diagnoses(overflowing_softmax)) == \
        "overflowing_softmax: overflows: subtract the row maximum"


@pytest.mark.parametrize("logits,options", [
    (lambda: large_logits() * 10, {}),
    (lambda: np.array([[np.inf, 0.0]]), {}),
    (large_logits, {"outside_range": True}),
], ids=["beyond the range", "non-finite inputs", "a call that says it is outside the range"])
def test_a_call_outside_the_contracts_range_is_not_judged(logits, options):
    assert "ok  overflowing_softmax" in quietly(lambda: softmax_check(overflowing_softmax, logits(),
                                                          **options))


def test_each_check_answers_for_its_own_calls_only():
    def softmax_check_that_breaks(softmax):
        core.call(softmax, large_logits(), seed=0)
        raise ValueError("the check itself broke")

    with pytest.raises(ValueError):
        softmax_check_that_breaks(overflowing_softmax)
    assert "ok  overflowing_softmax" in quietly(lambda: softmax_check(overflowing_softmax,
                                                          np.ones((2, 3))))
    failure(lambda: softmax_check(overflowing_softmax, large_logits()))
    assert "ok  overflowing_softmax" in quietly(lambda: softmax_check(overflowing_softmax,
                                                          np.ones((2, 3))))


def cross_entropy_check(cross_entropy, y_hat, y):
    core.call(cross_entropy, y_hat, y, seed=0)
    core.passed(cross_entropy, "its own comparisons passed")


def test_cross_entropy_may_be_infinite_only_where_the_true_class_has_probability_0():
    def picked(y_hat, y):
        return -np.log(y_hat[np.arange(len(y)), y.astype("int64")])

    def summed_over_classes(y_hat, y):
        return -(np.log(y_hat) * npx.one_hot(y, y_hat.shape[1])).sum(axis=1)

    y_hat, y = np.array([[0.0, 1.0], [0.5, 0.5]]), np.array([0, 1], dtype="int64")
    assert "ok  picked" in quietly(lambda: cross_entropy_check(picked, y_hat, y))
    message = failure(lambda: cross_entropy_check(summed_over_classes, y_hat, y[::-1].copy()))
    assert message.startswith("cross_entropy: returned NaN at index (0,)"), message


def test_a_float_result_and_an_update_in_place_are_judged_too():
    def accuracy_check(accuracy):
        core.call(accuracy, np.zeros((2, 3)), np.zeros(2), seed=0)
        core.passed(accuracy, "its own comparisons passed")

    def sgd_check(sgd):
        core.call(sgd, parameters([1.0, 2.0]), 0.1, 2, seed=0)
        core.passed(sgd, "its own comparisons passed")

    def update(params, lr, batch_size):
        for param in params:
            param[:] = param - lr * param.grad / (batch_size - 2)

    assert failure(lambda: accuracy_check(lambda y_hat, y: float("nan"))).startswith(
        "accuracy: returned NaN for y_hat of zeros and y of zeros: ")
    message = failure(lambda: sgd_check(update))
    assert message.startswith("sgd: wrote -Inf into params[0] at index (0,) (2 of 2 entries "
                              "are not finite) for params[0].grad of magnitude up to 4, "
                              "lr = 0.1 and batch_size = 2: "), message


def test_the_range_is_each_functions_own():
    def grad_abs_check(grad_abs, x):
        core.call(grad_abs, x, seed=0)
        core.passed(grad_abs, "its own comparisons passed")

    def grad_f_check(grad_f, x):
        core.call(grad_f, x, seed=0)
        core.passed(grad_f, "its own comparisons passed")

    def divided_by_square(x):
        return x ** 2 / (x * np.abs(x))      # x ** 2 overflows for |x| above 1.8e19

    huge = np.array([1e30, -2.0])
    assert failure(lambda: grad_abs_check(divided_by_square, huge)).startswith(
        "grad_abs: returned NaN at index (0,) (1 of 2 entries are not finite) for x of "
        "magnitude up to 1e30: grad_abs must return finite values for finite inputs of "
        "magnitude up to 3.4e38")
    assert "ok  divided_by_square" in quietly(lambda: grad_f_check(divided_by_square, huge))


DISABLE_THE_ENGINE = """
from d2lcourse.checks import core, properties
properties.non_finite = lambda *args, **kwargs: None
core.remember_non_finite = lambda *args, **kwargs: None
"""


@needs_sandbox
@pytest.mark.parametrize("prefix", ["", DISABLE_THE_ENGINE],
                         ids=["runner", "engine disabled by the submission"])
def test_a_non_finite_result_from_the_sandbox_is_judged_where_the_check_runs(prefix):
    message = remote_call("05", "init_quantiles_from_zero", prefix=prefix,
                          check=mlp_checks.init_mlp_params_shapes)
    assert message.startswith("init_mlp_params: returned -Inf in result[0] at index ("), message
