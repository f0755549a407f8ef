"""Focused tests of the checks of 05_mlp: oracles, tolerances, diagnoses.

tests/test_course.py runs the notebook's test cells against the catalogued mistakes and
compares every message with tests/golden/; these tests reach what it does
not: that the checks accept every correct answer whatever the seed (float64 results, any
subgradient of ReLU at 0, other summation orders, one example), that the statistical
test's false-alarm rate is within the contract, that a training mistake fails before the
long run, and what the checks say of answers the catalogue does not hold.
"""
import math

import pytest

from d2lcourse import np
from d2lcourse.checks import core, draws
from d2lcourse.checks import mlp as check
from d2lcourse.solutions import mlp as ref

from helpers import catalogued, computed_in, failure, quietly, recording, replaying


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


def test_float64_results_are_accepted():
    quietly(lambda: check.sigmoid_stable(computed_in("float64", ref.sigmoid)))
    quietly(lambda: check.tanh_stable(computed_in("float64", ref.tanh)))
    quietly(lambda: check.mlp_matches(computed_in("float64", ref.mlp)))


# --------------------------------------------------------------------------- derivatives

def test_relu_grad_accepts_any_subgradient_at_zero():
    # 0 and 1 at zero are catalogued alternatives (relu_grad_where, relu_grad_at_zero_one)
    def relu_grad(X):
        return np.where(X > 0, 1.0, np.where(X == 0, 0.5, 0.0))
    quietly(lambda: check.relu_grad_matches(relu_grad))


@pytest.mark.parametrize("seed", range(5))
def test_reference_derivatives_pass_across_the_range_for_any_seed(seed):
    for check_grad, grad in ((check.relu_grad_matches, ref.relu_grad),
                             (check.sigmoid_grad_matches, ref.sigmoid_grad),
                             (check.tanh_grad_matches, ref.tanh_grad)):
        assert "+-10000 included" in quietly(lambda: check_grad(grad, seed=seed, scale=0.01))


# --------------------------------------------------------------------------- init_mlp_params

@pytest.mark.parametrize("seed", range(10))
def test_reference_init_passes_the_statistical_test_for_any_seed(seed):
    quietly(lambda: check.init_mlp_params_distribution(ref.init_mlp_params, seed=seed))
    quietly(lambda: check.init_mlp_params_distribution(
        ref.init_mlp_params, num_inputs=784, num_hiddens=64, num_outputs=200, sigma=0.03,
        seed=seed))


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
        gap_alarm = 2 * math.exp(-2 * n * draws.ks_threshold(n, check.FALSE_ALARM) ** 2)
        assert gap_alarm <= 1.0001 * check.FALSE_ALARM
    assert check.fewest_in_tails(62976) > 0    # clipped weights (no tails) fail every test cell
    assert abs(check.TAIL_PROBABILITY - 2 * stats.norm.sf(3.5)) < 1e-12


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


def test_mlp_flattening_by_the_batch_size_is_accepted_for_one_example():
    quietly(lambda: check.mlp_matches(catalogued("05_mlp", "mlp_inline"), num_examples=1))


def test_mlp_error_unrelated_to_flattening_is_reported_as_is():
    def mlp(X, params):
        W1, b1, W2, b2 = params
        return undefined_name(X)  # noqa: F821
    message = failure(lambda: check.mlp_matches(mlp))
    assert "NameError" in message and "Flatten" not in message


# --------------------------------------------------------------------------- train_mlp

def test_a_training_mistake_fails_before_the_long_run():
    calls = []
    failure(lambda: check.train_mlp_accuracy(recording(
        catalogued("05_mlp", "train_rebinds_params"), calls)))
    assert calls and 60000 not in [len(X_train) for X_train, *_ in calls]


def test_a_short_correct_training_passes_and_says_what_it_measured():
    # The reference on a sixth of the data: a few seconds, about 0.7.
    output = quietly(lambda: check.train_mlp_accuracy(ref.train_mlp, num_examples=10000,
                                                      num_hiddens=32, num_epochs=1,
                                                      min_accuracy=0.5))
    assert "ok  train_mlp: test accuracy" in output, output


@pytest.mark.parametrize("seed", range(2))
def test_the_reference_uses_the_values_given_above_the_defaults(seed):
    core.probe_steps(ref.train_mlp, lambda params: params[3], "b2", seed,
                     num_hiddens=check.PROBE_HIDDENS)


def test_the_reference_trains_on_images_of_another_size():
    check._check_image_size(ref.train_mlp, seed=0)
    message = failure(lambda: check._check_image_size(
        catalogued("05_mlp", "train_for_784_pixels"), seed=0))
    assert "fails on images of another size" in message and "= 196" in message


def test_the_quick_run_passes_the_reference():
    output = quietly(lambda: check.train_mlp_uses_arguments(ref.train_mlp))
    assert "ok  train_mlp: returns trained parameters" in output


# --------------------------------------------------------------------------- oracles

@pytest.mark.parametrize("check_function, reference, other", [
    (check.relu_grad_matches, ref.relu_grad, lambda: catalogued("05_mlp",
                                                                "relu_grad_at_zero_one")),
    (check.sigmoid_matches, ref.sigmoid, lambda: computed_in("float64", ref.sigmoid)),
    (check.tanh_stable, ref.tanh, lambda: computed_in("float64", ref.tanh)),
    (check.tanh_grad_matches, ref.tanh_grad, lambda: computed_in("float64", ref.tanh_grad)),
    (check.mlp_matches, ref.mlp, lambda: mlp_summed_otherwise),
    (check.collapse_linear_matches, ref.collapse_linear,
     lambda: computed_in("float64", ref.collapse_linear)),
], ids=["relu_grad", "sigmoid", "tanh", "tanh_grad", "mlp", "collapse_linear"])
def test_another_correct_answer_passes_on_the_answers_recorded_for_the_reference(
        check_function, reference, other):
    """The student package answers every oracle from the answers recorded with the
    reference: on a passing path a check asks them about its own inputs only, never about
    the student's result, which differs from the reference's in the last bits."""
    with replaying(lambda: check_function(reference)):
        quietly(lambda: check_function(other()))
