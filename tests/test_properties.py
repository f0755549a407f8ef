"""The rules for every graded function (d2lcourse.checks.properties), checked by core.call
for all of them: inputs unchanged, results new arrays, float dtypes. Catalogued mistakes
break them, here and in the sandbox; correct functions keep their arguments and results
exactly as one plain call leaves them."""
import functools
import itertools

import pytest

from d2lcourse import grading, mistakes, notebooks
from d2lcourse._mxnet import np
from d2lcourse.autograder.evaluate import RemoteFunction
from d2lcourse.autograder.sandbox import Limits, Sandbox, bubblewrap_problem
from d2lcourse.checks import core, problems, properties
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.solutions import linear_regression, mlp, ndarray_autograd, optimization
from helpers import failure

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
    ("01", "numerical_derivative_reused_buffer", lambda: (problems.cube, vector()),
     ["returned an array that its next call overwrites"]),
    ("03", "init_momentum_states_cached_zeros", lambda: (parameters([1.0], [2.0, 3.0]),),
     ["returned an array that its next call overwrites"]),
    ("03", "init_momentum_states_gradients", lambda: (parameters([1.0], [2.0, 3.0]),),
     ["returned params[0].grad itself"]),
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
    assert calls == [1, 1]


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


def remote_call(assignment, name, *arguments, prefix=""):
    """core.call of a catalogued mistake answered by the sandboxed runner."""
    case, _ = catalogued(ASSIGNMENT_OF[assignment], name)
    sandbox = Sandbox(Limits(seconds=60))
    try:
        reply, _ = sandbox.request({"op": "load", "functions": [case.function],
                                    "setup": list(setup_of(ASSIGNMENT_OF[assignment])),
                                    "solutions": {case.function: prefix + case.source}})
        assert reply["missing"] == {}
        function = RemoteFunction(sandbox, case.function, prefix + case.source)
        return failure(lambda: core.call(function, *arguments, seed=0))
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
