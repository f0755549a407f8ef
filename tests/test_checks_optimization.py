"""Focused tests of the checks of 03_optimization: oracles, tolerances, diagnoses.

tests/test_course.py runs the notebook's test cells against the catalogued mistakes and
compares every message with tests/golden/; these tests reach what it does
not: that the test gradients and oracles are right, that the checks accept every correct
float32 computation (also a chaotic trajectory that drifts from the float64 one), and
what they say of slips the catalogue does not hold.
"""
import numpy as onp
import pytest

from d2lcourse import np
from d2lcourse.autograder import wire
from d2lcourse.checks import core, linear_regression
from d2lcourse.checks import optimization as check
from d2lcourse.solutions.optimization import gd, train_minibatch

from helpers import apart, catalogued, computed_in, failure, numerical_gradient

GRADIENTS_1D = {  # gradient -> the function it differentiates (classic NumPy)
    check.grad_square: lambda x: x ** 2,
    check.grad_quartic: lambda x: x ** 4 / 4 - x,
    check.grad_nonconvex: lambda x: x * onp.cos(check.NONCONVEX_C * x),
}
GRADIENTS_2D = {
    check.grad_ellipse: lambda x: x[0] ** 2 + 2 * x[1] ** 2,
    check.grad_coupled: lambda x: x[0] ** 2 + x[0] * x[1] + 2 * x[1] ** 2,
    check.grad_ill_conditioned: lambda x: 0.1 * x[0] ** 2 + 2 * x[1] ** 2,
}


# --------------------------------------------------------------------------- test gradients

@pytest.mark.parametrize("f_grad", GRADIENTS_1D, ids=lambda f: f.__name__)
def test_scalar_gradients_are_derivatives(f_grad):
    f = GRADIENTS_1D[f_grad]
    x = onp.linspace(-4, 4, 9)
    numerical = [numerical_gradient(lambda v: float(f(v)), onp.array(a))[()] for a in x]
    onp.testing.assert_allclose([f_grad(a) for a in x], numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f_grad", GRADIENTS_2D, ids=lambda f: f.__name__)
def test_vector_gradients_are_gradients(f_grad):
    x = onp.array([1.3, -0.7])
    numerical = numerical_gradient(lambda v: float(GRADIENTS_2D[f_grad](v)), x)
    onp.testing.assert_allclose(f_grad(x), numerical, rtol=1e-6)


@pytest.mark.parametrize("f_grad", GRADIENTS_1D, ids=lambda f: f.__name__)
def test_scalar_gradients_take_floats_and_both_kinds_of_array(f_grad):
    exact = f_grad(onp.float64(1.7))
    assert isinstance(f_grad(1.7), float)
    assert isinstance(f_grad(np.array(1.7)), np.ndarray)
    assert float(f_grad(np.array(1.7))) == pytest.approx(exact, rel=1e-6)
    assert float(f_grad(np.array(1.7, dtype="float64"))) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("f_grad", GRADIENTS_2D, ids=lambda f: f.__name__)
def test_vector_gradients_keep_the_kind_of_array(f_grad):
    exact = f_grad(onp.array([1.3, -0.7]))
    value = f_grad(np.array([1.3, -0.7]))
    assert isinstance(value, np.ndarray) and value.shape == (2,)
    onp.testing.assert_allclose(value.asnumpy(), exact, rtol=1e-6)
    value64 = f_grad(np.array([1.3, -0.7], dtype="float64"))
    assert value64.dtype == onp.float64
    onp.testing.assert_allclose(f_grad([1.3, -0.7]), exact, rtol=1e-12)


@pytest.mark.parametrize("f_grad", [*GRADIENTS_1D, *GRADIENTS_2D], ids=lambda f: f.__name__)
def test_gradients_travel_to_the_sandbox_by_name(f_grad):
    arrays = []
    tree = wire.encode(f_grad, arrays)
    assert tree["t"] == "callable"
    assert wire.decode(tree, arrays) is f_grad


# --------------------------------------------------------------------------- gd, gd_2d

def test_gd_accepts_a_chaotic_float32_trajectory_that_drifts_from_float64():
    # eta = 3 on x cos(cx): after 50 steps float32 and float64 differ by ~1e-3, beyond
    # any sensible tolerance, though every single step is right.
    got = gd(check.grad_nonconvex, 10.0, 3.0, 50).asnumpy()
    exact = check.gd_oracle(check.grad_nonconvex, 10.0, 3.0, 50)
    assert not core.close(got, exact, atol=check.trajectory_atol(exact))
    check.gd_matches(gd, f_grad=check.grad_nonconvex, x0=10.0, eta=3.0, num_steps=50)


def test_gd_accepts_a_float64_trajectory():
    gd64 = computed_in("float64", catalogued("03_optimization", "gd_stacked_arrays"))
    assert gd64(check.grad_nonconvex, 10.0, 2.0, 3).dtype == onp.float64
    check.gd_matches(gd64, f_grad=check.grad_nonconvex, x0=10.0, eta=2.0, num_steps=10)


def test_gd_names_the_first_wrong_step():
    def gd_late_slip(f_grad, x0, eta, num_steps):
        xs = [x0]
        for t in range(num_steps):
            xs.append(xs[-1] - (2 * eta if t == 4 else eta) * f_grad(xs[-1]))
        return np.array(xs)
    message = failure(lambda: check.gd_matches(gd_late_slip))
    assert "at step 5 (index 5)" in message
    assert "x_4 - eta * f_grad(x_4)" in message


def test_gd_reports_a_column_instead_of_a_vector():
    def gd_column(f_grad, x0, eta, num_steps):
        return gd(f_grad, x0, eta, num_steps).reshape(-1, 1)
    assert "reshape to (11,)" in failure(lambda: check.gd_matches(gd_column))


def test_gd_2d_detects_the_coordinatewise_slip_only_when_coordinates_couple():
    # (where they couple, tests/golden/ holds what gd_2d_coordinatewise is told)
    check.gd_2d_matches(catalogued("03_optimization", "gd_2d_coordinatewise"))


def test_gd_2d_accepts_a_float64_trajectory():
    gd_2d64 = computed_in("float64", catalogued("03_optimization", "gd_2d_list_of_rows"))
    assert gd_2d64(check.grad_coupled, np.array([3.0, -4.0]), 0.2, 2).dtype == onp.float64
    check.gd_2d_matches(gd_2d64, f_grad=check.grad_coupled, x0=(3.0, -4.0), eta=0.2)


# --------------------------------------------------------------------------- max_stable_lr

def test_max_stable_lr_accepts_float32_rounding():
    check.max_stable_lr_matches(lambda c: float(np.array(2.0) / np.array(c)))


# --------------------------------------------------------------------------- momentum

def test_init_momentum_states_names_the_state_that_holds_a_parameter():
    assert "state 1 holds the values of params[1]" in failure(
        lambda: check.init_momentum_states_matches(
            lambda params: [np.zeros((2, 1)), params[1].copy()]))


def test_train_minibatch_reports_a_wrong_number_of_losses():
    message = failure(lambda: check.train_minibatch_full_batch_is_gd(
        fake_trainer(lambda losses, X, y, lr: np.array(onp.append(losses, 0.0)))))
    assert "expected (6,)" in message and "num_epochs=5" in message


def test_sgd_momentum_catches_a_stale_state_in_the_second_step():
    calls = []

    def forgets_after_one_step(params, states, lr, momentum, batch_size):
        calls.append(1)
        for p, v in zip(params, states):
            if len(calls) == 1:
                v[:] = momentum * v + p.grad / batch_size
            else:   # as if the states were re-initialised between steps
                v[:] = p.grad / batch_size
            p[:] = p - lr * v
    message = failure(lambda: check.sgd_momentum_matches(forgets_after_one_step))
    assert "step 2 of 2" in message


def test_sgd_momentum_accepts_float64_states():
    def sgd_momentum64(params, states, lr, momentum, batch_size):
        for p, v in zip(params, states):
            new = momentum * v.astype("float64") + p.grad.astype("float64") / batch_size
            v[:] = new
            p[:] = p - lr * new
    check.sgd_momentum_matches(sgd_momentum64, steps=3)


# --------------------------------------------------------------------------- train_minibatch

def test_where_03s_trainer_ends_names_the_orders_its_two_epochs_read():
    lr, num_epochs, batch_size = check.REORDER_RUN.values()
    X, y = check.REORDER_X, check.REORDER_Y
    ends, tolerance = check.reorder_candidates()
    assert apart(ends, tolerance)
    for seed in range(4):  # a correct trainer is found
        got = core.call(train_minibatch, np.array(X, dtype="float32"),
                        np.array(y, dtype="float32"), batch_size, lr, num_epochs, seed=seed)
        assert onp.abs(ends - core.to_numpy(got)[1:]).max(axis=1).min() <= tolerance


def right_at_lr_zero(train_minibatch):
    """`train_minibatch`, but right where lr = 0: the first run of both checks
    (check.judge_lr_zero, tested with the catalogue's mistakes)."""
    def train(features, labels, batch_size, lr, num_epochs):
        if lr == 0:
            return np.array(check.full_batch_losses(features.asnumpy(), labels.asnumpy(), 0.0,
                                                    num_epochs))
        return train_minibatch(features, labels, batch_size, lr, num_epochs)
    return train


def fake_trainer(transform):
    """A train_minibatch that returns transform(exact full-batch losses, X, y)."""
    def train_minibatch(features, labels, batch_size, lr, num_epochs):
        X, y = features.asnumpy(), labels.asnumpy()
        assert batch_size >= len(X), "these fakes only do full batches"
        return transform(check.full_batch_losses(X, y, lr, num_epochs), X, y, lr)
    return right_at_lr_zero(train_minibatch)


def test_full_batch_oracle_is_gradient_descent_on_the_mean_loss():
    X, y = check.regression_problem(50, (1.0, -1.0), 0.5, seed=1)
    X64, y64 = X.astype(onp.float64), y.astype(onp.float64).reshape(-1)
    w, b, lr = onp.zeros(2), 0.0, 0.2
    for _ in range(3):
        def loss(theta):
            return check.mean_squared_loss(X64, y64, theta[:2], theta[2])
        gradient = numerical_gradient(loss, onp.append(w, b), h=1e-6)
        w, b = w - lr * gradient[:2], b - lr * gradient[2]
    assert check.full_batch_losses(X, y, lr, 3)[-1] == pytest.approx(
        check.mean_squared_loss(X64, y64, w, b), rel=1e-7)


def test_noise_floor_is_the_label_noise():
    X, y = check.regression_problem(4000, (2.0, -3.4), 4.2, seed=0)
    assert check.noise_floor(X, y) == pytest.approx(0.5 * linear_regression.NOISE_STD ** 2, rel=0.1)


def test_full_batch_check_accepts_float64_losses():
    check.train_minibatch_full_batch_is_gd(
        fake_trainer(lambda losses, X, y, lr: np.array(losses, dtype="float64")))


def test_full_batch_check_names_a_loss_that_became_inf():
    message = failure(lambda: check.train_minibatch_full_batch_is_gd(fake_trainer(
        lambda losses, X, y, lr: np.array(onp.append(losses[:3], [onp.inf] * 3)))))
    assert "the loss is inf after epoch 3" in message


def test_converges_check_reports_a_rising_loss():
    def rising(features, labels, batch_size, lr, num_epochs):
        X, y = features.asnumpy(), labels.asnumpy()
        start = check.mean_squared_loss(X.astype(onp.float64), y.astype(onp.float64),
                                        onp.zeros(X.shape[1]), 0.0)
        return np.array([start, 0.01, 0.5, 1e-5][:num_epochs + 1])
    assert "went up from 0.01 to 0.5 in epoch 2" in failure(
        lambda: check.train_minibatch_converges(right_at_lr_zero(rising), n=100))


def test_minibatch_losses_of_one_batch_are_gradient_descent():
    X, y = check.regression_problem(30, (1.0, -1.0), 0.5, seed=2)
    orders = onp.tile(onp.arange(30), (1, 3, 1))
    assert onp.allclose(check.minibatch_losses(X, y, 30, 0.1, orders)[0],
                        check.full_batch_losses(X, y, 0.1, 3))
