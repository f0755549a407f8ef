"""Focused tests of the checks of 05_mlp: oracles, tolerances, diagnoses.

tests/test_course.py runs the notebook's test cells against the catalogued mistakes;
these tests reach what it does not: that the checks accept every correct answer whatever
the seed (float64 results, exact and rewritten formulas, any subgradient of ReLU at 0,
other summation orders), that the statistical test of the initial weights tells normal
draws from near misses, and that the training check names what it observed, using fake
trainers that return at once.
"""
import math

import numpy as onp
import pytest

from d2lcourse import np, npx
from d2lcourse.checks import mlp as check
from d2lcourse.solutions import mlp as ref

from helpers import failure, quietly, replaying


# --------------------------------------------------------------------------- activations

@pytest.mark.parametrize("seed", range(10))
def test_reference_activations_pass_for_any_seed(seed):
    quietly(lambda: check.relu_matches(ref.relu, shape=(9, 7), scale=1e4, seed=seed))
    quietly(lambda: check.sigmoid_matches(ref.sigmoid, shape=(60,), scale=20.0, seed=seed))
    quietly(lambda: check.sigmoid_stable(ref.sigmoid, shape=(60,), seed=seed))
    quietly(lambda: check.tanh_matches(ref.tanh, shape=(60,), scale=0.001, seed=seed))
    quietly(lambda: check.tanh_stable(ref.tanh, shape=(60,), seed=seed))
    quietly(lambda: check.relu_grad_matches(ref.relu_grad, shape=(60,), seed=seed))
    quietly(lambda: check.sigmoid_grad_matches(ref.sigmoid_grad, shape=(60,), scale=10.0,
                                               seed=seed))
    quietly(lambda: check.tanh_grad_matches(ref.tanh_grad, shape=(60,), scale=10.0, seed=seed))


def sigmoid_in_float64(X):
    X = X.astype("float64")
    return 1 / (1 + np.exp(-X))


def tanh_in_float64(X):
    E = np.exp(-2 * np.abs(X.astype("float64")))
    return np.sign(X) * (1 - E) / (1 + E)


def test_float64_results_are_accepted():
    quietly(lambda: check.sigmoid_stable(sigmoid_in_float64))
    quietly(lambda: check.tanh_stable(tanh_in_float64))


def test_naive_tanh_is_named_with_the_input_and_index_that_overflow():
    def tanh(X):
        return (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))
    message = failure(lambda: check.tanh_stable(tanh))
    assert "NaN for x = 10000 (index (0, 0))" in message
    assert "overflows to inf" in message and "np.exp(-2 * np.abs(X))" in message


def test_naive_tanh_passes_the_moderate_test():
    # The overflow is the stability test's business: on N(0, 3^2) inputs it is right.
    def tanh(X):
        return (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))
    quietly(lambda: check.tanh_matches(tanh))


def test_tanh_through_npx_activation_is_forbidden_at_run_time():
    def tanh(X):
        return npx.activation(X, act_type="tanh")
    assert "`npx.activation`" in failure(lambda: check.tanh_matches(tanh))


def test_sigmoid_through_npx_sigmoid_is_forbidden():
    def sigmoid(X):
        return npx.sigmoid(X)
    assert "`npx.sigmoid`" in failure(lambda: check.sigmoid_matches(sigmoid))


def test_relu_returning_classic_numpy_is_named():
    def relu(X):
        return onp.maximum(X.asnumpy(), 0)
    assert "numpy.ndarray" in failure(lambda: check.relu_matches(relu))


def test_relu_mask_is_named_as_the_derivative():
    def relu(X):
        return (X > 0).astype(X.dtype)
    assert "ReLU's derivative" in failure(lambda: check.relu_matches(relu))


def test_in_place_tanh_is_caught():
    def tanh(X):
        E = np.exp(-2 * np.abs(X))
        X[:] = np.sign(X) * (1 - E) / (1 + E)
        return X
    assert "changed its argument X in place" in failure(lambda: check.tanh_matches(tanh))


# --------------------------------------------------------------------------- derivatives

@pytest.mark.parametrize("value_at_zero", [0.0, 0.5, 1.0])
def test_relu_grad_accepts_any_subgradient_at_zero(value_at_zero):
    def relu_grad(X):
        return np.where(X > 0, 1.0, np.where(X == 0, value_at_zero, 0.0))
    quietly(lambda: check.relu_grad_matches(relu_grad))


def test_relu_grad_outside_the_subdifferential_at_zero_is_reported_there():
    def relu_grad(X):
        return np.where(X > 0, 1.0, np.where(X == 0, 2.0, 0.0))
    message = failure(lambda: check.relu_grad_matches(relu_grad))
    assert "returned 2 at x = 0 (index (0, 0))" in message and "[0, 1]" in message


def test_relu_grad_sign_is_named():
    def relu_grad(X):
        return np.sign(X)
    assert "returned sign(x)" in failure(lambda: check.relu_grad_matches(relu_grad))


def test_integer_relu_grad_is_named():
    def relu_grad(X):
        return (X > 0).astype("int64")
    assert "dtype int64" in failure(lambda: check.relu_grad_matches(relu_grad))


def test_sigmoid_grad_via_the_unstable_quotient_fails_across_the_contracted_range():
    def sigmoid_grad(X):
        return np.exp(-X) / (1 + np.exp(-X)) ** 2
    message = failure(lambda: check.sigmoid_grad_matches(sigmoid_grad, shape=(30,), scale=8.0,
                                                         seed=1))
    assert "returned NaN for x = -10000" in message and "overflows to inf" in message


@pytest.mark.parametrize("seed", range(5))
def test_reference_derivatives_pass_across_the_range_for_any_seed(seed):
    for check_grad, grad in ((check.relu_grad_matches, ref.relu_grad),
                             (check.sigmoid_grad_matches, ref.sigmoid_grad),
                             (check.tanh_grad_matches, ref.tanh_grad)):
        assert "+-10000 included" in quietly(lambda: check_grad(grad, seed=seed, scale=0.01))


def test_tanh_grad_through_a_naive_tanh_is_named_at_large_inputs():
    def tanh_grad(X):
        T = (np.exp(X) - np.exp(-X)) / (np.exp(X) + np.exp(-X))
        return 1 - T ** 2
    message = failure(lambda: check.tanh_grad_matches(tanh_grad))
    assert "returned NaN for x = 10000" in message and "your stable tanh" in message


def test_wrong_grad_reports_the_input_of_the_worst_entry():
    def tanh_grad(X):
        return 1 - ref.tanh(X) ** 2 + (X > 2).astype(X.dtype) * 0.1
    message = failure(lambda: check.tanh_grad_matches(tanh_grad))
    assert "worst at index" in message and "for x = " in message and "expected tanh'(x)" in message


# --------------------------------------------------------------------------- init_mlp_params

@pytest.mark.parametrize("seed", range(10))
def test_reference_init_passes_the_statistical_test_for_any_seed(seed):
    quietly(lambda: check.init_mlp_params_distribution(ref.init_mlp_params, seed=seed))
    quietly(lambda: check.init_mlp_params_distribution(
        ref.init_mlp_params, num_inputs=784, num_hiddens=64, num_outputs=200, sigma=0.03,
        seed=seed))


def init_with(draw):
    """init_mlp_params whose weights come from draw(sigma, shape)."""
    def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
        params = [draw(sigma, (num_inputs, num_hiddens)), np.zeros(num_hiddens),
                  draw(sigma, (num_hiddens, num_outputs)), np.zeros(num_outputs)]
        for param in params:
            param.attach_grad()
        return params
    return init_mlp_params


def test_uniform_weights_in_minus_sigma_sigma_are_named():
    init = init_with(lambda sigma, shape: np.random.uniform(-sigma, sigma, shape))
    message = failure(lambda: check.init_mlp_params_distribution(init))
    assert "sigma / sqrt(3)" in message


def test_uniform_weights_with_the_right_spread_fail_the_shape_test():
    a = math.sqrt(3)
    init = init_with(lambda sigma, shape: np.random.uniform(-a * sigma, a * sigma, shape))
    message = failure(lambda: check.init_mlp_params_distribution(init))
    assert "the entries of W1 are not distributed as N(0, sigma^2)" in message
    assert "% of them lie below" in message and "probability below 1e-08" in message


def test_weights_clipped_at_three_sigma_fail_the_tail_count():
    init = init_with(lambda sigma, shape: np.clip(np.random.normal(0, sigma, shape),
                                                  -3 * sigma, 3 * sigma))
    message = failure(lambda: check.init_mlp_params_distribution(init))
    assert "only 0 of the 132000 entries of W1 and W2 lie more than 3.5 sigma" in message
    assert "the tails of the distribution are cut" in message


def test_a_generator_seeded_in_the_function_is_named():
    def draw(sigma, shape):
        npx.random.seed(7)
        return np.random.normal(0, sigma, shape)
    message = failure(lambda: check.init_mlp_params_distribution(init_with(draw)))
    # (W2 repeats W1 is named first: seed once per call to reach the fresh-draw test.)
    assert "reset between the draws" in message
    state = {}

    def draw_once(sigma, shape):
        if not state.get("seeded"):
            npx.random.seed(7)
        state["seeded"] = not state.get("seeded")
        return np.random.normal(0, sigma, shape)
    message = failure(lambda: check.init_mlp_params_distribution(init_with(draw_once)))
    assert "returned the same first entries of W1 from init_mlp_params(400, 300, 40" in message
    assert "and from init_mlp_params(5, 3, 2) after mx.random.seed(1)" in message


def test_false_alarm_rates_are_within_the_contract():
    # Three calls per test cell, each at most TESTS_PER_CALL tests of FALSE_ALARM each.
    assert 3 * check.TESTS_PER_CALL * check.FALSE_ALARM <= 1e-6
    from scipy import stats
    for n in (12000, 62976, 132000):   # the fewest weights of a test, and pooled ones
        fewest = check.fewest_in_tails(n)
        assert stats.binom.cdf(fewest - 1, n, check.TAIL_PROBABILITY) <= check.FALSE_ALARM
        low, high = check.spread_bounds(n, 1.0)
        chi2 = stats.chi2(n - 1)
        assert chi2.cdf(n * low ** 2) + chi2.sf(n * high ** 2) <= 1.0001 * check.FALSE_ALARM
        mean_alarm = 2 * stats.norm.sf(check.mean_limit(n, 1.0) * math.sqrt(n))
        assert mean_alarm <= 1.0001 * check.FALSE_ALARM
        assert 2 * math.exp(-2 * n * check.gap_limit(n) ** 2) <= 1.0001 * check.FALSE_ALARM
    assert check.fewest_in_tails(62976) > 0    # clipped weights (no tails) fail every test cell
    assert abs(check.TAIL_PROBABILITY - 2 * stats.norm.sf(3.5)) < 1e-12


def test_unit_normal_weights_are_named():
    init = init_with(lambda sigma, shape: np.random.normal(0, 1, shape))
    assert "it looks like 1" in failure(lambda: check.init_mlp_params_distribution(init))


def test_shifted_weights_fail_the_mean_test():
    init = init_with(lambda sigma, shape: np.random.normal(0.1 * sigma, sigma, shape))
    assert "has mean" in failure(lambda: check.init_mlp_params_distribution(init))


def test_bias_of_shape_1_h_is_named():
    def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
        params = [np.random.normal(0, sigma, (num_inputs, num_hiddens)),
                  np.zeros((1, num_hiddens)),
                  np.random.normal(0, sigma, (num_hiddens, num_outputs)),
                  np.zeros((1, num_outputs))]
        for param in params:
            param.attach_grad()
        return params
    message = failure(lambda: check.init_mlp_params_shapes(init_mlp_params))
    assert "b1" in message and "(1, 256)" in message and "a bias is a vector" in message


def test_zero_weights_are_named_as_symmetry():
    init = init_with(lambda sigma, shape: np.zeros(shape))
    assert "symmetry" in failure(lambda: check.init_mlp_params_shapes(init))


def test_init_returning_a_dict_is_named():
    def init_mlp_params(num_inputs, num_hiddens, num_outputs, sigma=0.01):
        return {"W1": np.zeros((num_inputs, num_hiddens))}
    assert "expected the list [W1, b1, W2, b2]" in failure(
        lambda: check.init_mlp_params_shapes(init_mlp_params))


# --------------------------------------------------------------------------- mlp

@pytest.mark.parametrize("seed", range(5))
def test_reference_mlp_passes_for_any_seed(seed):
    quietly(lambda: check.mlp_matches(ref.mlp, num_examples=9, num_hiddens=256, seed=seed))


def mlp_summed_otherwise(X, params):
    """The MLP with other float32 rounding: transposed products, bias added last."""
    W1, b1, W2, b2 = params
    X = X.reshape(X.shape[0], -1)
    H = np.maximum((W1.T @ X.T).T + b1, 0)
    return (W2.T @ H.T).T + b2


def test_mlp_with_another_summation_order_is_accepted():
    quietly(lambda: check.mlp_matches(mlp_summed_otherwise, num_examples=5, num_hiddens=300,
                                      seed=3))


def test_mlp_in_float64_is_accepted():
    def mlp(X, params):
        W1, b1, W2, b2 = (p.astype("float64") for p in params)
        H = ref.relu(X.astype("float64").reshape(-1, W1.shape[0]) @ W1 + b1)
        return H @ W2 + b2
    quietly(lambda: check.mlp_matches(mlp))


def test_mlp_error_unrelated_to_flattening_is_reported_as_is():
    def mlp(X, params):
        W1, b1, W2, b2 = params
        return undefined_name(X)  # noqa: F821
    message = failure(lambda: check.mlp_matches(mlp))
    assert "NameError" in message and "Flatten" not in message


def test_mlp_with_a_fixed_784_is_named_for_other_widths():
    def mlp(X, params):
        W1, b1, W2, b2 = params
        return ref.relu(X.reshape(-1, 784) @ W1 + b1) @ W2 + b2
    message = failure(lambda: check.mlp_matches(mlp, flat=True))
    assert "works for 784 inputs but not for X of shape (2, 3, 4), 12 -> 7 -> 3" in message


def test_mlp_flattening_by_the_batch_size_is_accepted():
    def mlp(X, params):
        W1, b1, W2, b2 = params
        return ref.relu(X.reshape(X.shape[0], -1) @ W1 + b1) @ W2 + b2
    quietly(lambda: check.mlp_matches(mlp, num_examples=1))


def test_mlp_stub_says_not_implemented():
    def mlp(X, params):
        raise NotImplementedError()
    assert "not implemented yet" in failure(lambda: check.mlp_matches(mlp))


def test_mlp_without_b1_is_named():
    def mlp(X, params):
        W1, b1, W2, b2 = params
        return ref.relu(X.reshape(-1, W1.shape[0]) @ W1) @ W2 + b2
    assert "forgot the hidden bias b1" in failure(lambda: check.mlp_matches(mlp))


def test_mlp_with_sigmoid_is_named():
    def mlp(X, params):
        W1, b1, W2, b2 = params
        return ref.sigmoid(X.reshape(-1, W1.shape[0]) @ W1 + b1) @ W2 + b2
    assert "used sigmoid in the hidden layer" in failure(lambda: check.mlp_matches(mlp))


# --------------------------------------------------------------------------- collapse_linear

def test_collapse_linear_returning_one_array_is_named():
    def collapse_linear(W1, b1, W2, b2):
        return W1 @ W2
    assert "expected a pair (W, b)" in failure(
        lambda: check.collapse_linear_matches(collapse_linear))


def test_collapse_linear_in_the_wrong_order_fails_with_a_shape_message():
    def collapse_linear(W1, b1, W2, b2):
        return W1 @ W2, (b1 @ W2 + b2).reshape(1, -1)
    message = failure(lambda: check.collapse_linear_matches(collapse_linear))
    assert "b has shape (1, 4), expected (4,)" in message


# --------------------------------------------------------------------------- train_mlp
# Fake trainers return at once: these test the verdict, not training.

def fake_trainer(make_params):
    def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
        return make_params(num_hiddens)
    return train_mlp


def untouched(num_hiddens):
    return ref.init_mlp_params(784, num_hiddens, 10)


def sign_error_trainer(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1,
                       batch_size=256):
    """Gradient ascent on up to 1,000 images (the quick run, the probe), garbage for the
    long run (returned at once)."""
    params = ref.init_mlp_params(784, num_hiddens, 10)
    if len(X_train) > 1000:
        return [p * 100 for p in params]
    from d2lcourse import autograd
    from d2lcourse.solutions.softmax_regression import softmax_cross_entropy
    with autograd.record():
        loss = softmax_cross_entropy(ref.mlp(X_train, params), y_train).sum()
    loss.backward()
    for param in params:
        param[:] = param + lr * param.grad / len(y_train)
    return params


def test_the_probe_names_a_sign_error_before_the_long_run():
    sizes = []

    def train_mlp(X_train, y_train, **kwargs):
        sizes.append(len(X_train))
        return sign_error_trainer(X_train, y_train, **kwargs)
    message = failure(lambda: check.train_mlp_accuracy(train_mlp))
    assert "A probe shows why" in message and "the updates go uphill" in message
    assert 60000 not in sizes


def test_untrained_parameters_fail_the_quick_run_before_the_long_one():
    calls = []

    def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
        calls.append(len(X_train))
        return untouched(num_hiddens)
    message = failure(lambda: check.train_mlp_accuracy(train_mlp))
    assert "b2 is still zero" in message and "did not move at all" in message
    assert 60000 not in calls


def test_nan_parameters_are_named_divergence():
    def diverged(num_hiddens):
        params = untouched(num_hiddens)
        params[0][:] = onp.nan
        return params
    message = failure(lambda: check.train_mlp_accuracy(fake_trainer(diverged)))
    assert "training diverged" in message and "W1 contains NaN" in message


def test_what_the_probe_cannot_explain_gets_the_general_advice():
    # Correct on the quick run, the probe and the gates; N(0, 1) draws on the long run
    # (all 60,000 images), which the probe cannot explain.
    def garbage_when_long(X_train, y_train, num_hiddens=256, **kwargs):
        if len(X_train) < 60000:
            return ref.train_mlp(X_train, y_train, num_hiddens=num_hiddens, **kwargs)
        rng = onp.random.default_rng(0)
        return [np.array(a.astype(onp.float32)) for a in (
            rng.normal(0, 1, (784, num_hiddens)), rng.normal(0, 1, num_hiddens),
            rng.normal(0, 10, (num_hiddens, 10)), rng.normal(0, 1, 10))]
    message = failure(lambda: check.train_mlp_accuracy(garbage_when_long))
    assert "Check the update rule" in message and "reach test accuracy 0." in message


def test_ignoring_num_hiddens_is_named():
    message = failure(lambda: check.train_mlp_accuracy(
        fake_trainer(lambda num_hiddens: untouched(256)), num_hiddens=64))
    assert "(784, 256), expected (784, 32)" in message and "num_hiddens" in message


def test_a_short_correct_training_passes_and_says_what_it_measured():
    # The reference on at most a sixth of the data: a few seconds, about 0.7.
    def train_mlp(X_train, y_train, num_hiddens=256, num_epochs=10, lr=0.1, batch_size=256):
        return ref.train_mlp(X_train[:10000], y_train[:10000], num_hiddens=num_hiddens,
                             num_epochs=num_epochs, lr=lr, batch_size=batch_size)
    output = quietly(lambda: check.train_mlp_accuracy(train_mlp, num_hiddens=32, num_epochs=1,
                                                      min_accuracy=0.5))
    assert "ok  train_mlp: test accuracy" in output, output


def test_the_quick_run_names_untrained_parameters():
    message = failure(lambda: check.train_mlp_uses_arguments(fake_trainer(untouched)))
    assert "b2 is still zero" in message and "did not move at all" in message


def test_the_quick_run_names_ignored_sizes():
    message = failure(lambda: check.train_mlp_uses_arguments(
        fake_trainer(lambda num_hiddens: untouched(256))))
    assert "(784, 256), expected (784, 32)" in message


def test_the_quick_run_passes_the_reference():
    output = quietly(lambda: check.train_mlp_uses_arguments(ref.train_mlp))
    assert "ok  train_mlp: returns trained parameters" in output


# --------------------------------------------------------------------------- oracles

def relu_grad_one_at_zero(X):
    return np.where(X >= 0, 1.0, 0.0)


def tanh_grad_in_float64(X):
    return 1 - tanh_in_float64(X) ** 2


def collapse_linear_in_float64(W1, b1, W2, b2):
    W1, b1, W2, b2 = (p.astype("float64") for p in (W1, b1, W2, b2))
    return W1 @ W2, b1 @ W2 + b2


@pytest.mark.parametrize("check_function, reference, other", [
    (check.relu_grad_matches, ref.relu_grad, relu_grad_one_at_zero),
    (check.sigmoid_matches, ref.sigmoid, sigmoid_in_float64),
    (check.tanh_stable, ref.tanh, tanh_in_float64),
    (check.tanh_grad_matches, ref.tanh_grad, tanh_grad_in_float64),
    (check.mlp_matches, ref.mlp, mlp_summed_otherwise),
    (check.collapse_linear_matches, ref.collapse_linear, collapse_linear_in_float64),
], ids=lambda value: getattr(value, "__name__", ""))
def test_another_correct_answer_passes_on_the_answers_recorded_for_the_reference(
        check_function, reference, other):
    """The student package answers every oracle from the answers recorded with the
    reference: on a passing path a check asks them about its own inputs only, never about
    the student's result, which differs from the reference's in the last bits."""
    with replaying(lambda: check_function(reference)):
        quietly(lambda: check_function(other))
