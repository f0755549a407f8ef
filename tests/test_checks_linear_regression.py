"""Focused tests of the checks of 02_linear_regression: oracles, tolerances, diagnoses.

tests/test_course.py runs the notebook's test cells against the catalogued mistakes;
these tests reach what it does not: that the statistical checks accept correct random
data whatever the seed, that the SGD oracle is right, that tolerances accept every
correct float32 computation, and that the rarer diagnoses point at the right cause.
"""

import random

import numpy as onp
import pytest

from d2lcourse import autograd, np, npx
from d2lcourse.checks import core
from d2lcourse.checks import linear_regression as check
from d2lcourse.mistakes.linear_regression import ITERATOR, SYNTHETIC
from d2lcourse.solutions import linear_regression as ref

from helpers import failure, quietly, replaying


# --------------------------------------------------------------------------- synthetic_data

@pytest.mark.parametrize("seed", range(20))
def test_synthetic_data_statistics_accept_correct_data_for_any_seed(seed):
    quietly(lambda: check.synthetic_data_statistics(ref.synthetic_data, seed=seed))
    quietly(lambda: check.synthetic_data_statistics(
        ref.synthetic_data, w=(1.5, -0.5, 0.0, 2.0, 3.3), b=-1.0, num_examples=3001, seed=seed))


def test_synthetic_data_in_float64_is_accepted():
    def synthetic_data(w, b, num_examples):
        X, y = ref.synthetic_data(w, b, num_examples)
        return X.astype("float64"), y.astype("float64")
    quietly(lambda: check.synthetic_data_statistics(synthetic_data))


def synthetic(noise_scale=0.01, uniform=False, w_factor=1.0, correlated=False):
    def synthetic_data(w, b, num_examples):
        if uniform:
            X = np.random.uniform(0, 1, (num_examples, len(w)))
        else:
            X = np.random.normal(0, 1, (num_examples, len(w)))
        if correlated:
            X[:, 1] = X[:, 0] * 0.5 + X[:, 1] * 0.866
        y = np.dot(X, w * w_factor) + b
        if noise_scale:
            y = y + np.random.normal(0, noise_scale, y.shape)
        return X, y.reshape((-1, 1))
    return synthetic_data


@pytest.mark.parametrize("scale,phrase", [
    (0.0, "y has no noise"),
    (0.1, "0.1 = sqrt(0.01)"),
    (0.02, "draw it with np.random.normal(0, 0.01, y.shape)"),
])
def test_synthetic_data_noise_diagnoses(scale, phrase):
    message = failure(lambda: check.synthetic_data_statistics(synthetic(noise_scale=scale)))
    assert "noise y - (X w + b) has standard deviation" in message
    assert phrase in message


def test_synthetic_data_uniform_features_are_named():
    message = failure(lambda: check.synthetic_data_statistics(synthetic(uniform=True)))
    assert "looks uniform on [0, 1)" in message


def test_synthetic_data_correlated_columns_are_named():
    message = failure(lambda: check.synthetic_data_statistics(synthetic(correlated=True)))
    assert "columns 0 and 1 of X are correlated" in message


def test_synthetic_data_labels_from_another_x_are_not_called_noise():
    def synthetic_data(w, b, num_examples):
        X = np.random.normal(0, 1, (num_examples, len(w)))
        X_other = np.random.normal(0, 1, X.shape)
        y = np.dot(X_other, w) + b + np.random.normal(0, 0.01, (num_examples,))
        return X, y.reshape((-1, 1))
    message = failure(lambda: check.synthetic_data_statistics(synthetic_data))
    assert "from the X you return" in message and "noise" not in message.split(":")[1]


def test_synthetic_data_wrong_weights_are_reported_with_the_fitted_ones():
    message = failure(lambda: check.synthetic_data_statistics(synthetic(w_factor=-1.0)))
    assert "weights [-2, 3.4], expected w = [2, -3.4]" in message


# --------------------------------------------------------------------------- data_iter

def test_data_iter_accepts_one_short_batch_when_batch_size_exceeds_the_data():
    assert "in 1 batch " in quietly(
        lambda: check.data_iter_batches(ref.data_iter, num_examples=7, batch_size=10))


def test_data_iter_duplicate_examples_are_named():
    def data_iter(batch_size, features, labels):
        indices = list(range(len(features)))
        indices[5] = 4
        for i in range(0, len(indices), batch_size):
            batch = np.array(indices[i:i + batch_size])
            yield features[batch], labels[batch]
    assert "example 4 came 2 times in one pass" in failure(
        lambda: check.data_iter_batches(data_iter))


def test_data_iter_changed_rows_are_reported_with_batch_and_row():
    def data_iter(batch_size, features, labels):
        for k, (X, y) in enumerate(ref.data_iter(batch_size, features, labels)):
            if k == 0:
                X[1, 2] = X[1, 2] + 1
            yield X, y
    message = failure(lambda: check.data_iter_batches(data_iter))
    assert "row 1 of X_batch of batch 0 is not a row of features" in message


def test_data_iter_flat_labels_keep_their_shape():
    def data_iter(batch_size, features, labels):
        for X, y in ref.data_iter(batch_size, features, labels):
            yield X, y.reshape(-1, 1)
    message = failure(lambda: check.data_iter_batches(data_iter, num_examples=20,
                                                      batch_size=5, flat_labels=True))
    assert "y_batch of batch 0 has shape (5, 1), expected (5,)" in message


def test_data_iter_classic_numpy_batches_are_named():
    def data_iter(batch_size, features, labels):
        for X, y in ref.data_iter(batch_size, features, labels):
            yield X.asnumpy(), y
    assert "returned numpy.ndarray for X_batch of batch 0" in failure(
        lambda: check.data_iter_batches(data_iter))


def test_data_iter_empty_batches_are_named():
    def data_iter(batch_size, features, labels):
        yield from ref.data_iter(batch_size, features, labels)
        yield features[:0], labels[:0]
    assert "batch 11 is empty" in failure(lambda: check.data_iter_batches(data_iter))


# --------------------------------------------------------------------------- linreg, loss

def test_linreg_in_float64_is_accepted():
    def linreg(X, w, b):
        return np.dot(X.astype("float64"), w.astype("float64")) + b.astype("float64")
    quietly(lambda: check.linreg_matches(linreg))


def test_squared_loss_in_the_shape_of_y_is_named():
    def squared_loss(y_hat, y):
        return (y_hat.reshape(y.shape) - y) ** 2 / 2
    message = failure(lambda: check.squared_loss_matches(squared_loss, y_hat_shape=(5,),
                                                         y_shape=(5, 1)))
    assert "the loss has y's shape (5, 1), expected y_hat's (5,)" in message


def test_squared_loss_without_square_is_named():
    def squared_loss(y_hat, y):
        return np.abs(y_hat - y.reshape(y_hat.shape)) / 2
    assert "not squared" in failure(lambda: check.squared_loss_matches(squared_loss))


def test_squared_loss_wrong_values_report_the_index():
    def squared_loss(y_hat, y):
        loss = (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
        loss[3] = loss[3] + 1
        return loss
    assert "at index (3, 0)" in failure(lambda: check.squared_loss_matches(squared_loss))


# --------------------------------------------------------------------------- sgd

def test_sgd_dividing_twice_is_named():
    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param - lr * param.grad / batch_size / batch_size
    assert "batch_size times too small" in failure(lambda: check.sgd_updates_in_place(sgd))


def test_sgd_forgetting_the_learning_rate_is_named():
    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param - param.grad / batch_size
    assert "multiply the gradient by the learning rate" in failure(
        lambda: check.sgd_updates_in_place(sgd))


def test_sgd_updating_only_the_first_parameter_names_the_other():
    def sgd(params, lr, batch_size):
        params[0][:] = params[0] - lr * params[0].grad / batch_size
    assert "params[1] did not change" in failure(lambda: check.sgd_updates_in_place(sgd))


def test_sgd_that_updates_in_place_but_returns_the_params_is_told_to_return_none():
    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param - lr * param.grad / batch_size
        return params
    assert "returns None" in failure(lambda: check.sgd_updates_in_place(sgd))


# --------------------------------------------------------------------------- closed_form

def closed_form_lstsq(X, y):
    A = np.concatenate([X, np.ones((len(X), 1))], axis=1)
    theta = np.linalg.lstsq(A, y.reshape(-1, 1), rcond=None)[0]
    return theta[:-1], theta[-1]


def closed_form_inv(X, y):
    A = np.concatenate([X, np.ones((len(X), 1))], axis=1)
    theta = np.linalg.inv(A.T @ A) @ A.T @ y.reshape(-1, 1)
    return theta[:-1], theta[-1]


@pytest.mark.parametrize("closed_form", [ref.closed_form, closed_form_lstsq, closed_form_inv])
@pytest.mark.parametrize("seed", range(5))
def test_closed_form_tolerance_accepts_float32_solvers(closed_form, seed):
    quietly(lambda: check.closed_form_matches(closed_form, seed=seed))
    quietly(lambda: check.closed_form_matches(closed_form, num_examples=1001, num_inputs=5,
                                              bias=-3.0, x_mean=-2.0, seed=seed))


def test_closed_form_tolerance_rejects_a_slightly_regularised_fit():
    def closed_form(X, y):   # ridge regression with lambda = 1: not the least-squares fit
        A = np.concatenate([X, np.ones((len(X), 1))], axis=1)
        theta = np.linalg.solve(A.T @ A + np.eye(A.shape[1]), A.T @ y)
        return theta[:-1], theta[-1]
    message = failure(lambda: check.closed_form_matches(closed_form))
    assert "is not the least-squares fit" in message and "tolerance" in message


def test_closed_form_flat_w_is_told_the_shape():
    def closed_form(X, y):
        w, b = ref.closed_form(X, y)
        return w.reshape(-1), b
    assert "w has shape (3,), expected (3, 1)" in failure(
        lambda: check.closed_form_matches(closed_form))


# --------------------------------------------------------------------------- training

def test_sgd_oracle_with_full_batches_is_gradient_descent():
    X, y = check.regression_data(40, check.TRUE_W, check.TRUE_B, seed=0)
    Xs, ys = core.to_numpy(X), core.to_numpy(y)
    thetas = check.sgd_oracle(Xs, ys, lr=0.1, num_epochs=5, batch_size=40, runs=1,
                              rng=onp.random.default_rng(0))
    A = check._design(Xs)
    theta = thetas[0].copy()
    theta[:-1] = onp.random.default_rng(0).normal(0, check.INIT_STD, 2)  # same initial w
    theta[-1] = 0
    for _ in range(5):
        theta -= 0.1 * A.T @ (A @ theta - ys[:, 0]) / 40
    onp.testing.assert_allclose(thetas[0], theta, rtol=1e-12)


def test_sgd_oracle_without_steps_returns_the_initial_parameters():
    X, y = check.regression_data(30, check.TRUE_W, check.TRUE_B, seed=0)
    thetas = check.sgd_oracle(core.to_numpy(X), core.to_numpy(y), lr=0.0, num_epochs=2,
                              batch_size=10, runs=200, rng=onp.random.default_rng(1))
    assert (thetas[:, -1] == 0).all()
    assert thetas[:, :-1].std() == pytest.approx(check.INIT_STD, rel=0.1)


@pytest.mark.parametrize("seed", [1, 2])
def test_training_check_accepts_the_reference_for_other_seeds(seed):
    quietly(lambda: check.train_linear_regression_fits(
        ref.train_linear_regression, num_examples=1000, lr=0.05, num_epochs=2,
        batch_size=100, seed=seed))


def trainer(calls, epochs=None):
    """A from-scratch trainer that records the arguments of each call in `calls`."""
    def train_linear_regression(features, labels, lr=0.03, num_epochs=3, batch_size=10):
        calls.append((len(features), lr, num_epochs, batch_size))
        w = np.random.normal(0, 0.01, (features.shape[1], 1))
        b = np.zeros(1)
        w.attach_grad()
        b.attach_grad()
        for epoch in range(epochs if epochs is not None else num_epochs):
            for X, y in ref.data_iter(batch_size, features, labels):
                with autograd.record():
                    l = ref.squared_loss(ref.linreg(X, w, b), y)
                l.backward()
                ref.sgd([w, b], lr, batch_size)
        return w, b
    return train_linear_regression


PROBE_CALL = tuple(check.PROBE[k] for k in ("num_examples", "lr", "num_epochs", "batch_size"))


@pytest.mark.parametrize("w,b", [(check.TRUE_W, check.TRUE_B),
                                 ((1.0, -2.0, 0.5, 3.0, -1.5), -2.5)])
@pytest.mark.parametrize("seed", range(4))
def test_the_probe_accepts_a_correct_trainer_for_any_seed(w, b, seed):
    calls = []
    quietly(lambda: check._train_as_sgd(trainer(calls), w=w, b=b, seed=seed, runs=400,
                                        **check.PROBE))
    assert calls == [PROBE_CALL]


def test_a_mistake_fails_in_the_probe_before_the_long_run():
    calls = []
    message = failure(lambda: check.train_linear_regression_fits(trainer(calls, epochs=3)))
    assert "runs 3 epochs (the default), not num_epochs=4" in message
    assert calls == [PROBE_CALL]


def test_a_correct_trainer_runs_the_probe_then_the_given_arguments():
    calls = []
    quietly(lambda: check.train_linear_regression_fits(
        trainer(calls), num_examples=1000, lr=0.05, num_epochs=2, batch_size=100))
    assert calls == [PROBE_CALL, (1000, 0.05, 2, 100)]


def test_mxnet_messages_are_shortened_to_their_first_sentence():
    message = ("raised MXNetError at line 9: Traceback (most recent call last):\n"
               '  File "../src/imperative/imperative.cc", line 203\n'
               "MXNetError: Check failed: AGInfo::IsNone(*output): Assigning to NDArrays "
               "that are already in a computational graph will cause undefined behavior. "
               "Please call backward first.")
    assert check._first_line(message) == ("Assigning to NDArrays that are already in a "
                                          "computational graph will cause undefined behavior.")


# --------------------------------------------------------------------------- distributions

def test_ks_distance_agrees_with_scipy():
    from scipy import stats
    x = onp.random.default_rng(0).normal(0.1, 1.2, 500)
    assert check.ks_distance(x, check.normal_cdf(1.0)) == pytest.approx(
        stats.kstest(x, "norm").statistic, rel=1e-9)


def test_ks_threshold_keeps_its_false_alarm_rate():
    """At a loose rate (10%), where failures can be seen, the share of correct samples
    beyond the threshold stays below it."""
    rng = onp.random.default_rng(1)
    n, runs = 1000, 400
    beyond = sum(check.ks_distance(rng.normal(0, 0.01, n), check.normal_cdf(0.01))
                 > check.ks_threshold(n, 0.1) for _ in range(runs))
    assert beyond / runs <= 0.1 + 3 * (0.1 * 0.9 / runs) ** 0.5


def test_synthetic_data_with_uniform_features_of_unit_variance_fails():
    def uniform(w, b, num_examples):
        X = np.random.uniform(-3 ** 0.5, 3 ** 0.5, (num_examples, len(w)))
        y = np.dot(X, w) + b + np.random.normal(0, 0.01, (num_examples,))
        return X, y.reshape((-1, 1))
    message = failure(lambda: check.synthetic_data_statistics(uniform, seed=3))
    assert "the entries of X (w=[2, -3.4], b=4.2, num_examples=4000) do not look drawn" in message
    assert "They look uniform" in message and "below 1e-06" in message


@pytest.mark.parametrize("how,expected", [
    ("reseeds", "two calls in a row returned the same X"),
    ("own generator", "the same seed of MXNet's generator gave different data"),
])
def test_synthetic_data_draws_fresh_numbers_from_the_seeded_generator(how, expected):
    def synthetic(w, b, num_examples):
        if how == "reseeds":
            npx.random.seed(1)
            X = np.random.normal(0, 1, (num_examples, len(w)))
            noise = np.random.normal(0, 0.01, (num_examples,))
        else:
            rng = onp.random.default_rng()
            X = np.array(rng.normal(0, 1, (num_examples, len(w))), dtype="float32")
            noise = np.array(rng.normal(0, 0.01, num_examples), dtype="float32")
        return X, (np.dot(X, w) + b + noise).reshape((-1, 1))
    assert expected in failure(lambda: check.synthetic_data_statistics(synthetic))


# --------------------------------------------------------------------------- inputs chosen to break wrong solutions

def test_data_iter_tries_batches_of_one_example():
    def stops_early(batch_size, features, labels):
        indices = list(range(len(features)))
        random.shuffle(indices)
        for i in range(0, len(features) - 1, batch_size):
            batch = np.array(indices[i: i + batch_size])
            yield features[batch], labels[batch]
    check._judge_batches(stops_early, 103, 10, seed=0, flat_labels=False)   # right there
    message = failure(lambda: check.data_iter_batches(stops_early))
    assert "1 of 4 examples never came" in message and "(batch_size=1, 4 examples)" in message


@pytest.mark.parametrize("clip", [
    lambda g: g * min(1.0, 5 / float(np.sqrt((g ** 2).sum()))),
    lambda g: np.clip(g, -5, 5),
], ids=["norm", "value"])
def test_sgd_names_clipped_gradients(clip):
    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param - lr * clip(param.grad) / batch_size
    message = failure(lambda: check.sgd_updates_in_place(sgd))
    assert "the step is smaller than lr * param.grad / batch_size" in message
    assert "gradients of norm" in message


def test_sgd_names_a_wrong_step_that_stays_within_the_tolerance_of_the_parameters():
    """With lr / batch_size = 4e-5 an uphill step moves a parameter by less than its
    tolerance: the step itself is judged, on the first call already."""
    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param + lr * param.grad / batch_size
    message = failure(lambda: check.sgd_updates_in_place(sgd, shapes=((1,),), lr=0.01,
                                                         batch_size=256, seed=1))
    assert "the parameters moved up the gradient" in message
    assert "gradients of norm" not in message


def test_closed_form_takes_y_of_either_shape():
    def column_only(X, y):
        A = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
        theta = np.linalg.solve(np.dot(A.T, A), np.dot(A.T, y))
        return theta[:-1], theta[-1]
    message = failure(lambda: check.closed_form_matches(column_only))
    assert "w has shape (3,), expected (3, 1), for 100 examples of 3 features with mean 1.0, " \
           "bias 4.2, y of shape (100,)" in message
    quietly(lambda: check.closed_form_matches(ref.closed_form))


def test_the_synthetic_data_template_of_the_mistakes_is_right_as_it_stands():
    namespace = {"np": np, "npx": npx}
    exec(SYNTHETIC, namespace)
    quietly(lambda: check.synthetic_data_statistics(namespace["synthetic_data"]))


def test_the_data_iter_template_of_the_mistakes_is_right_as_it_stands():
    namespace = {"np": np, "random": random}
    exec(ITERATOR, namespace)
    quietly(lambda: check.data_iter_batches(namespace["data_iter"]))


# --------------------------------------------------------------------------- oracles

def data_iter_sampled(batch_size, features, labels):
    indices = random.sample(range(len(features)), len(features))
    for i in range(0, len(indices), batch_size):
        batch = np.array(indices[i:i + batch_size])
        yield features[batch], labels[batch]


def linreg_in_float64(X, w, b):
    return np.dot(X.astype("float64"), w.astype("float64")) + b.astype("float64")


def squared_loss_in_float64(y_hat, y):
    return (y_hat.astype("float64") - y.reshape(y_hat.shape).astype("float64")) ** 2 / 2


def sgd_rate_first(params, lr, batch_size):
    for param in params:
        param[:] = param - (lr / batch_size) * param.grad


CORRECT_ANSWERS = {  # check: (the reference, another correct answer with other rounding)
    check.data_iter_batches: (ref.data_iter, data_iter_sampled),
    check.linreg_matches: (ref.linreg, linreg_in_float64),
    check.squared_loss_matches: (ref.squared_loss, squared_loss_in_float64),
    check.sgd_updates_in_place: (ref.sgd, sgd_rate_first),
    check.closed_form_matches: (ref.closed_form, closed_form_lstsq),
    check.train_linear_regression_fits: (ref.train_linear_regression, trainer([])),
    check.train_linear_regression_initial_parameters: (ref.train_linear_regression,
                                                       trainer([])),
}


@pytest.mark.parametrize("check_function", CORRECT_ANSWERS, ids=lambda f: f.__name__)
def test_another_correct_answer_passes_on_the_answers_the_reference_recorded(check_function):
    """On a passing path, a check asks its oracles about its own inputs only."""
    reference, other = CORRECT_ANSWERS[check_function]
    with replaying(lambda: check_function(reference)):
        quietly(lambda: check_function(other))


def train_in_batches_of_at_most_80(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    return ref.train_linear_regression(features, labels, lr, num_epochs, min(batch_size, 80))


def test_a_trainer_wrong_where_no_catalogued_mistake_was_gets_the_same_message_in_a_replay():
    """The student package knows no diagnosis for a run no catalogued mistake failed: it
    says, as the instructor's install does, where minibatch SGD gets."""
    def run(trainer):
        check.train_linear_regression_fits(trainer, num_examples=1000, lr=0.05, num_epochs=2,
                                           batch_size=100)
    expected = failure(lambda: run(train_in_batches_of_at_most_80))
    assert "that is not where minibatch SGD with these arguments gets" in expected
    with replaying(lambda: run(ref.train_linear_regression)):
        assert failure(lambda: run(train_in_batches_of_at_most_80)) == expected


def test_synthetic_data_is_judged_by_statistics_of_its_own_draws_without_oracles():
    with core.oracle_answers("replay", {}):
        quietly(lambda: check.synthetic_data_statistics(ref.synthetic_data))
