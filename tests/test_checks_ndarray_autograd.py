"""Focused tests of the checks of 01_ndarray_autograd: oracles, tolerances, diagnoses.

tests/test_course.py runs the notebook's test cells against the catalogued mistakes and
compares every message with tests/golden/; these tests reach what it does
not: that the oracles are right, that tolerances accept every correct float32
computation and every subgradient, that the checks' other inputs (shapes, steps, dtypes)
name the catalogued mistakes, and what they say of answers the catalogue does not hold.
"""
import numpy as onp
import pytest

from d2lcourse import autograd, np
from d2lcourse.autograder.wire import Unsupported
from d2lcourse.checks import core, spec
from d2lcourse.checks import ndarray_autograd as check
from d2lcourse.solutions import ndarray_autograd as ref

from helpers import catalogued, computed_in, failure, numerical_gradient, quietly

SCALAR_FUNCTIONS = [check.sum_of_cubes, check.x_sin_x, check.log_sum_exp, check.mean_square,
                    check.tanh_energy, check.gram_sum]
ELEMENTWISE_FUNCTIONS = [check.cube, check.softplus, check.wave]


# --------------------------------------------------------------------------- oracles

@pytest.mark.parametrize("f", SCALAR_FUNCTIONS, ids=lambda f: f.__name__)
def test_gradient_oracles_agree_with_central_differences(f):
    shape = (3, 2) if f in (check.tanh_energy, check.gram_sum) else (5,)
    x = onp.random.default_rng(7).normal(size=shape)
    numerical = numerical_gradient(
        lambda v: float(f(np.array(v, dtype="float64"))), x, h=1e-6)
    onp.testing.assert_allclose(check._gradient(f, x), numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", ELEMENTWISE_FUNCTIONS, ids=lambda f: f.__name__)
def test_elementwise_oracles_agree_with_the_functions(f):
    x = onp.linspace(-3, 3, 13)
    onp.testing.assert_allclose(f(np.array(x, dtype="float64")).asnumpy(), check._value(f, x),
                                rtol=1e-12)
    onp.testing.assert_allclose(check._derivative(f, x), check._central_difference(f, x, 1e-6),
                                rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f", ELEMENTWISE_FUNCTIONS, ids=lambda f: f.__name__)
def test_elementwise_functions_take_python_floats(f):
    assert float(f(0.7)) == pytest.approx(check._value(f, 0.7), rel=1e-12)


@pytest.mark.parametrize("run, reference, mistake", [
    # wrong only at the steps below 0.005, after the visible test's first step
    (check.numerical_derivative_central, ref.numerical_derivative,
     "numerical_derivative_float32_step"),
    (check.regions_match, ref.regions, "regions_column_instead_of_block"),
], ids=["numerical_derivative", "regions"])
def test_a_replay_names_a_mistake_first_seen_by_a_student(run, reference, mistake):
    """The student package knows only the oracles' answers recorded on the visible tests:
    a mistake no recorded run made is still named, as every oracle a check needs is
    called, with the check's inputs, on every run."""
    wrong = catalogued("01_ndarray_autograd", mistake)
    answers = {}
    with core.oracle_answers("record", answers):
        quietly(lambda: run(reference))
    expected = failure(lambda: run(wrong))
    with core.oracle_answers("replay", answers):
        assert failure(lambda: run(wrong)) == expected


# --------------------------------------------------------------------------- regions

def test_regions_names_a_transposed_block():
    regions = catalogued("01_ndarray_autograd", "regions_block_transposed")
    message = failure(lambda: check.regions_match(regions))
    assert "X[1:3, 1:]," not in message  # the message must not give the answer away
    assert "you returned X[1:3, 1:].T" in message


def test_regions_accepts_a_python_float_for_the_element_and_a_list():
    check.regions_match(catalogued("01_ndarray_autograd", "regions_list_with_a_float"),
                        shape=(7, 6), seed=3)


# --------------------------------------------------------------------------- numerical_derivative

float32_central_difference = computed_in("float32", ref.numerical_derivative)


@pytest.mark.parametrize("f", ELEMENTWISE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", range(5))
def test_float32_central_differences_at_the_default_step_pass(f, seed):
    """At h = 1e-4 float32 keeps only ~3 digits: the tolerance must count the ulps."""
    check.numerical_derivative_elementwise(float32_central_difference, f=f, shape=(50,),
                                           seed=seed)


@pytest.mark.parametrize("h", [0.1, 0.01, 0.001])
def test_scalar_check_accepts_a_float32_computation(h):
    check.numerical_derivative_central(float32_central_difference, x=1.5, hs=(h,))
    check.numerical_derivative_central(float32_central_difference, f=check.softplus, x=-2.0,
                                       hs=(h,))


def test_numerical_derivative_tiny_steps_accept_float32():
    quietly(lambda: check.numerical_derivative_central(float32_central_difference))


def test_forward_difference_is_named_on_float64_arrays():
    forward = catalogued("01_ndarray_autograd", "forward_difference")
    message = failure(lambda: check.numerical_derivative_elementwise(
        forward, f=check.wave, shape=(3, 4), dtype="float64", h=0.05))
    assert "forward difference" in message


def test_elementwise_failure_names_the_index():
    def broken(f, x, h=1e-4):
        result = (f(x + h) - f(x - h)) / (2 * h)
        result[2] = 100.0
        return result
    message = failure(lambda: check.numerical_derivative_elementwise(broken))
    assert "at index (2,)" in message and "1 of 6 entries" in message


def test_grad_f_at_a_float_names_the_mistake():
    grad_f = catalogued("01_ndarray_autograd", "grad_f_wrong_sign")
    message = failure(lambda: check.grad_f_at(grad_f, x=1.0))
    assert "for x = 1.0: wrong sign: the derivative of -4x is -4" in message


def test_grad_f_matches_speaks_of_the_inputs_shape():
    """grad_f_matches is a spec (checks.spec): its describe is 01's words (its float_fix:
    grad_f_float16)."""
    message = failure(lambda: check.grad_f_matches(lambda x: 6 * x - 4 + 0.01 * x * x,
                                                   shape=(2, 3)))
    assert "the result is wrong (for x of shape (2, 3)): 6 of 6 entries differ" in message


# --------------------------------------------------------------------------- subgradients

@pytest.mark.parametrize("entry, alternative", [
    ("grad_abs_matches", "abs_where_minus_one_at_zero"), ("grad_abs_matches", "abs_half_at_zero"),
    ("grad_relu_matches", "relu_half_at_zero"), ("grad_relu_matches", "relu_ge_one_at_zero")])
def test_subgradients_accept_every_value_at_zero_for_tiny_inputs(entry, alternative):
    getattr(check, entry)(catalogued("01_ndarray_autograd", alternative), shape=(3, 4), seed=1,
                          tiny=True)


def test_grad_abs_accepts_different_subgradients_at_different_zeros():
    def grad_abs(x):
        mixed = np.array(onp.linspace(-1, 1, x.size).reshape(x.shape).astype(onp.float32))
        return np.where(x == 0, mixed, np.sign(x))
    check.grad_abs_matches(grad_abs, shape=(12,))


def test_grad_abs_rejects_a_value_just_outside_the_subdifferential():
    def grad_abs(x):
        return np.where(x == 0, np.array(-1.001), np.sign(x))
    message = failure(lambda: check.grad_abs_matches(grad_abs))
    assert "a subgradient is any value in [-1, 1]" in message and "index (0,)" in message


def test_float64_gradients_are_accepted():
    check.grad_abs_matches(computed_in("float64", ref.grad_abs))


# --------------------------------------------------------------------------- vector calculus

def test_quadratic_form_tolerance_accepts_float32_at_large_magnitude():
    grad_quadratic_form = catalogued("01_ndarray_autograd", "quadratic_form_two_products")
    for seed in range(5):
        check.grad_quadratic_form_matches(grad_quadratic_form, n=30, seed=seed, scale=1e3)


def test_square_transposed_jacobian_is_named():
    jacobian_linear = catalogued("01_ndarray_autograd", "jacobian_transposed")
    message = failure(lambda: check.jacobian_linear_matches(jacobian_linear, m=4, n=4))
    assert "the Jacobian is transposed" in message and "J = A, not A^T" in message


def test_jacobian_as_a_vector_of_length_n_is_named():
    def jacobian_linear(A, x):
        return A.sum(axis=0)
    message = failure(lambda: check.jacobian_linear_matches(jacobian_linear))
    assert "returned a vector of shape (4,); the Jacobian of y = A x is the (3, 4)" in message


def test_legacy_ndarray_from_the_sandbox_is_named():
    def grad_norm_sq(x):
        return Unsupported("mxnet.ndarray.ndarray.NDArray")
    assert ".as_np_ndarray()" in failure(lambda: check.grad_norm_sq_matches(grad_norm_sq))


def test_autograd_hidden_from_the_source_is_caught_at_run_time():
    def grad_norm_sq(x):
        # The source check cannot see this; the run-time watch does.
        recorder = getattr(autograd, "rec" + "ord")
        x = x.copy()
        x.attach_grad()
        with recorder():
            y = (x * x).sum()
        y.backward()
        return x.grad
    # `attach_grad` is in the source, so hide the source from the static check.
    grad_norm_sq.source = "def grad_norm_sq(x):\n    return 2 * x\n"
    assert "`autograd.record`" in failure(lambda: check.grad_norm_sq_matches(grad_norm_sq))


# --------------------------------------------------------------------------- autograd_grad

def kept_gradients(key):
    """An autograd_grad that keeps one x per `key(f)` across calls, with gradients that add up."""
    state = {}

    def autograd_grad(f, x):
        if key(f) not in state:
            state[key(f)] = x.copy()
            state[key(f)].attach_grad(grad_req="add")
        with autograd.record():
            y = f(state[key(f)])
        y.backward()
        return state[key(f)].grad.copy()
    return autograd_grad


def test_gradients_kept_across_calls_are_caught_by_the_gradient_check():
    """autograd_grad_leaves_x does not compare calls: autograd_grad_matches does, on its
    second draw (new values of x), on the call of square_held that follows the cell's f, and
    on calls of other shapes."""
    per_function = kept_gradients(key=lambda f: f)
    message = failure(lambda: check.autograd_grad_matches(per_function, f=check.sum_of_cubes,
                                                          shape=(5,)))
    assert message.endswith(spec.SECOND_DRAW_SAYS) and "5 of 5 entries differ" in message
    one_x = kept_gradients(key=lambda f: "x")
    message = failure(lambda: check.autograd_grad_matches(one_x, f=check.sum_of_cubes,
                                                          shape=(5,)))
    assert "(for f = square_held, x of shape (5,))" in message
    assert "5 of 5 entries differ" in message
    message = failure(lambda: check.autograd_grad_matches(one_x, f=check.x_sin_x,
                                                          shape=(4,), seed=1))
    assert "has shape (5,), expected (4,)" in message


def test_autograd_grad_accepts_float64_work():
    autograd_grad = computed_in("float64", ref.autograd_grad)
    for f in SCALAR_FUNCTIONS:
        shape = (3, 2) if f in (check.tanh_energy, check.gram_sum) else (5,)
        check.autograd_grad_matches(autograd_grad, f=f, shape=shape, seed=11)


# --------------------------------------------------------------------------- inputs chosen to break wrong solutions

def test_regions_tries_a_matrix_wider_than_tall():
    # "to the last column" taken from the number of rows: right where rows >= columns, and
    # named by the visible test (tests/golden/)
    regions = catalogued("01_ndarray_autograd", "regions_stop_from_row_count")
    message = failure(lambda: check.regions_match(regions, shape=(7, 6), seed=1))
    assert message.startswith("regions: for X of shape (3, 8), item 4")


def test_grad_norm_sq_where_the_norm_is_zero_looks_at_tiny_vectors_too():
    through_norm = catalogued("01_ndarray_autograd", "norm_sq_chain_rule_through_norm")
    tiny_only = failure(lambda: check.grad_norm_sq_matches(
        lambda x: np.where(np.abs(x).sum() == 0, 0.0, through_norm(x)), n=4))
    assert "whose squares are 0 in float32" in tiny_only
