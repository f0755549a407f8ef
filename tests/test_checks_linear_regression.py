"""Focused tests of the checks of 02_linear_regression: oracles, tolerances, diagnoses.

tests/test_course.py runs the notebook's test cells against the catalogued mistakes;
these tests reach what it does not: that the statistical checks accept correct random
data whatever the seed, that the SGD oracle is right, that tolerances accept correct
float32 and float64 computations, that a check's inputs break what they are chosen to
break, and that a correct answer passes on the answers the reference recorded.
"""


import numpy as onp
import pytest

from d2lcourse import np, npx
from d2lcourse.checks import core, draws
from d2lcourse.checks import linear_regression as check
from d2lcourse.mistakes.linear_regression import ITERATOR, SYNTHETIC
from d2lcourse.solutions import linear_regression as ref

from helpers import (apart, catalogued, computed_in, failure, quietly, recording,
                     replaying)

LR = "02_linear_regression"


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


# --------------------------------------------------------------------------- data_iter

def test_data_iter_accepts_one_short_batch_when_batch_size_exceeds_the_data():
    assert "in 1 batch " in quietly(
        lambda: check.data_iter_batches(ref.data_iter, num_examples=7, batch_size=10))


# --------------------------------------------------------------------------- linreg, loss

def test_linreg_in_float64_is_accepted():
    quietly(lambda: check.linreg_matches(computed_in("float64", ref.linreg)))


# --------------------------------------------------------------------------- closed_form

@pytest.mark.parametrize("solver", ["reference", "closed_form_lstsq", "closed_form_inverse"])
@pytest.mark.parametrize("seed", range(5))
def test_closed_form_tolerance_accepts_float32_solvers(solver, seed):
    closed_form = ref.closed_form if solver == "reference" else catalogued(LR, solver)
    quietly(lambda: check.closed_form_matches(closed_form, seed=seed))
    quietly(lambda: check.closed_form_matches(closed_form, num_examples=1001, num_inputs=5,
                                              bias=-3.0, x_mean=-2.0, seed=seed))


# --------------------------------------------------------------------------- training

def test_the_sgd_oracle_with_full_batches_is_gradient_descent():
    X, y = check.regression_data(40, check.TRUE_W, check.TRUE_B, seed=0)
    Xs, ys = core.to_numpy(X), core.to_numpy(y)
    initial = onp.random.default_rng(0).normal(0, check.INIT_STD, (1, 2))
    orders = onp.tile(onp.arange(40), (1, 5, 1))
    thetas = check.minibatch_sgd(Xs, ys, 0.1, 40, initial, orders)
    A = onp.hstack([Xs, onp.ones((40, 1))])
    theta = onp.append(initial[0], 0.0)
    for _ in range(5):
        theta -= 0.1 * A.T @ (A @ theta - ys[:, 0]) / 40
    onp.testing.assert_allclose(thetas[0], theta, rtol=1e-12)


def test_without_steps_the_expected_parameters_are_the_initial_ones():
    X, y = check.regression_data(30, check.TRUE_W, check.TRUE_B, seed=0)
    mean, tolerance = check.expected_parameters(core.to_numpy(X), core.to_numpy(y), lr=0.0,
                                                num_epochs=2, batch_size=10, seed=1, runs=200)
    assert mean[-1] == 0 and tolerance[-1] < 1e-4
    assert tolerance[:-1] == pytest.approx(check.Z * check.INIT_STD, rel=0.1)


@pytest.mark.parametrize("seed", [1, 2])
def test_training_check_accepts_the_reference_for_other_seeds(seed):
    quietly(lambda: check.train_linear_regression_fits(
        ref.train_linear_regression, num_examples=1000, lr=0.05, num_epochs=2,
        batch_size=100, seed=seed))


@pytest.mark.parametrize("w,b", [(check.TRUE_W, check.TRUE_B),
                                 ((1.0, -2.0, 0.5, 3.0, -1.5), -2.5)])
@pytest.mark.parametrize("seed", range(4))
def test_the_probe_accepts_a_correct_trainer_for_any_seed(w, b, seed):
    calls = []
    quietly(lambda: check._train_as_sgd(recording(ref.train_linear_regression, calls), w=w,
                                        b=b, seed=seed, runs=400, **check.PROBE))
    assert [len(X) for X, y in calls] == [check.PROBE["num_examples"]]


def test_a_mistake_fails_in_the_probe_before_the_long_run():
    calls = []
    message = failure(lambda: check.train_linear_regression_fits(
        recording(catalogued(LR, "train_three_epochs"), calls)))
    assert "runs 3 epochs (the default), not num_epochs=4" in message
    assert [len(X) for X, y in calls] == [check.PROBE["num_examples"]]


def test_a_correct_trainer_runs_the_probe_then_the_given_arguments():
    calls = []
    quietly(lambda: check.train_linear_regression_fits(
        recording(ref.train_linear_regression, calls), num_examples=1000, lr=0.05,
        num_epochs=2, batch_size=100))
    probes = (check.PROBE, check.SHORT_DATA_PROBE, check.SORTED_PROBE, check.ALL_EXAMPLES_PROBE)
    sizes = [len(X) for X, y in calls]
    assert sizes[:len(probes)] == [probe["num_examples"] for probe in probes]
    reorder = sizes[len(probes):-1]  # until a call reads a new order in its second epoch
    assert reorder and set(reorder) == {len(check.REORDER_X)}
    assert sizes[-1] == 1000


def test_pairs_met_again_counts_pairs_that_share_a_batch_twice():
    first = [onp.array([0, 1, 2]), onp.array([3, 4])]
    assert check._pairs_met_again(first, first, 5) == (4, 4)
    assert check._pairs_met_again(first, [onp.array([0, 3, 1]), onp.array([2, 4])], 5) == (4, 1)


def test_where_02s_trainer_ends_names_the_orders_its_two_epochs_read():
    ends, tolerance = check.reorder_candidates()
    assert apart(ends, tolerance)
    X, y = (np.array(a, dtype="float32") for a in (check.REORDER_X, check.REORDER_Y))
    for seed in range(4):  # a correct trainer, started from w ~ N(0, 0.01^2), is found
        got = check._train(ref.train_linear_regression, X, y, seed=seed, **check.REORDER_RUN)
        assert onp.abs(ends - got).max(axis=1).min() <= tolerance


def test_a_trainer_whose_epochs_read_one_order_fails_and_one_that_reseeds_is_left_alone():
    ends, tolerance = check.reorder_candidates()
    repeated = ends[(check.ORDER_PAIRS[:, 0] == check.ORDER_PAIRS[:, 1]).all(axis=1)]
    message = failure(lambda: check.judge_new_order_every_epoch(
        "train", lambda seed: repeated[seed % len(repeated)], ends, tolerance, 0, "Fix."))
    assert "the second epoch repeated the order of the first each time" in message
    check.judge_new_order_every_epoch("train", lambda seed: repeated[0], ends, tolerance, 0, "")
    check.judge_new_order_every_epoch(  # the 7th call reads a new order
        "train", lambda seed: ends[1] if seed == 6 else repeated[seed % 3], ends, tolerance, 0, "")


# --------------------------------------------------------------------------- distributions

def test_ks_distance_agrees_with_scipy():
    from scipy import stats
    x = onp.random.default_rng(0).normal(0.1, 1.2, 500)
    assert draws.ks_gap(x, draws.normal_cdf(1.0))[0] == pytest.approx(
        stats.kstest(x, "norm").statistic, rel=1e-9)


def test_ks_threshold_keeps_its_false_alarm_rate():
    """At a loose rate (10%), where failures can be seen, the share of correct samples
    beyond the threshold stays below it."""
    rng = onp.random.default_rng(1)
    n, runs = 1000, 400
    beyond = sum(draws.ks_gap(rng.normal(0, 0.01, n), draws.normal_cdf(0.01))[0]
                 > draws.ks_threshold(n, 0.1) for _ in range(runs))
    assert beyond / runs <= 0.1 + 3 * (0.1 * 0.9 / runs) ** 0.5


# --------------------------------------------------------------------------- inputs that break

def test_data_iter_tries_batches_of_one_example():
    stops_early = catalogued(LR, "data_iter_range_stops_early")
    check._judge_batches(stops_early, 103, 10, seed=0, flat_labels=False)   # right there
    message = failure(lambda: check.data_iter_batches(stops_early))
    assert "1 of 4 examples never came" in message and "(batch_size=1, 4 examples)" in message


def test_sgd_names_a_wrong_step_that_stays_within_the_tolerance_of_the_parameters():
    """With lr / batch_size = 4e-5 an uphill step moves a parameter by less than its
    tolerance: the step itself is judged, on the first call already."""
    message = failure(lambda: check.sgd_updates_in_place(
        catalogued(LR, "sgd_gradient_ascent"), shapes=((1,),), lr=0.01, batch_size=256, seed=1))
    assert "the parameters moved up the gradient" in message
    assert "gradients of norm" not in message


def test_the_synthetic_data_template_of_the_mistakes_is_right_as_it_stands():
    namespace = {"np": np, "npx": npx}
    exec(SYNTHETIC, namespace)
    quietly(lambda: check.synthetic_data_statistics(namespace["synthetic_data"]))


def test_the_data_iter_template_of_the_mistakes_is_right_as_it_stands():
    namespace = {"np": np}
    exec(ITERATOR, namespace)
    quietly(lambda: check.data_iter_batches(namespace["data_iter"]))


# --------------------------------------------------------------------------- oracles

CORRECT_ANSWERS = {  # check: another correct answer, with other rounding than the reference's
    "data_iter_batches": ("data_iter", "data_iter_slice_past_the_end"),
    "linreg_matches": ("linreg", "float64"),
    "squared_loss_matches": ("squared_loss", "float64"),
    "sgd_updates_in_place": ("sgd", "sgd_subtract_in_place"),
    "closed_form_matches": ("closed_form", "closed_form_lstsq"),
    "train_linear_regression_fits": ("train_linear_regression", "train_mean_loss"),
    "train_linear_regression_initial_parameters": ("train_linear_regression",
                                                   "train_gluon_l2loss"),
}


@pytest.mark.parametrize("name", CORRECT_ANSWERS)
def test_another_correct_answer_passes_on_the_answers_the_reference_recorded(name):
    """On a passing path, a check asks its oracles about its own inputs only."""
    check_function = getattr(check, name)
    function, other = CORRECT_ANSWERS[name]
    reference = getattr(ref, function)
    other = computed_in(other, reference) if other == "float64" else catalogued(LR, other)
    with replaying(lambda: check_function(reference)):
        quietly(lambda: check_function(other))


def test_a_trainer_wrong_where_no_catalogued_mistake_was_gets_the_same_message_in_a_replay():
    """The student package knows no diagnosis for a run no catalogued mistake failed: it
    says, as the instructor's install does, where minibatch SGD gets."""
    def run(trainer):
        check.train_linear_regression_fits(trainer, num_examples=1000, lr=0.05, num_epochs=2,
                                           batch_size=100)
    wrong = catalogued(LR, "train_init_inside_epoch_loop")
    expected = failure(lambda: run(wrong))
    assert "that is not where minibatch SGD with these arguments gets" in expected
    with replaying(lambda: run(ref.train_linear_regression)):
        assert failure(lambda: run(wrong)) == expected


def test_synthetic_data_is_judged_by_statistics_of_its_own_draws_without_oracles():
    with core.oracle_answers("replay", {}):
        quietly(lambda: check.synthetic_data_statistics(ref.synthetic_data))
