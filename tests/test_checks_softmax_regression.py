"""Focused tests of d2lcourse.checks.softmax_regression: tolerances and diagnoses that the
course-wide harness (tests/test_course.py, which compares every catalogued mistake's
messages with tests/golden/) does not reach: other inputs, correct answers at
every magnitude, and what the checks say of answers the catalogue does not hold."""
import math
import re

import numpy as onp
import pytest

from d2lcourse import autograd, np
from d2lcourse.checks import core, oracles
from d2lcourse.checks import softmax_regression as check
from d2lcourse.mistakes.softmax_regression import TRAINER
from d2lcourse.solutions import softmax_regression as ref

from helpers import (catalogued, computed_in, failure, needs_data, numerical_gradient,
                     quietly, recording)


def message_of(check_function, *args, **kwargs):
    return failure(lambda: check_function(*args, **kwargs))


def alternative(name):
    """The catalogued alternative `name` of 04."""
    return catalogued("04_softmax_regression", name)


# --------------------------------------------------------------------------- softmax

@pytest.mark.parametrize("candidate", [
    lambda: ref.softmax, lambda: alternative("softmax_log_domain"),
    lambda: computed_in("float64", ref.softmax)], ids=["reference", "log_domain", "float64"])
@pytest.mark.parametrize("magnitude", [30, 100, 1e4])
def test_exact_algorithms_pass_at_every_magnitude(candidate, magnitude):
    candidate = candidate()
    check.softmax_stable(candidate, magnitude=magnitude)
    check.softmax_stable(candidate, num_classes=7, magnitude=magnitude, seed=5)


def test_large_logit_rows_break_the_naive_formula_in_float32():
    # The inputs must make the naive formula fail (else the stability test tests nothing).
    _, O = check._large_logits(5, 1e4, seed=0)
    with onp.errstate(all="ignore"):
        E = onp.exp(O)
        naive = E / E.sum(axis=1, keepdims=True)
    assert onp.isnan(naive[0]).all()      # inf / inf
    assert onp.isnan(naive[1]).all()      # 0 / 0
    assert onp.isfinite(oracles.softmax(O.astype(onp.float64))).all()


def test_tolerance_at_1e4_is_a_few_ulps_not_percent():
    assert core.ulp_tolerance(1e4) < 0.01
    message = message_of(check.softmax_stable, lambda O: ref.softmax(O) * 1.02)
    assert "softmax(O) is wrong" in message and "rtol=0.0095" in message


def test_mismatch_message_names_the_worst_index():
    def softmax_one_entry_off(O):
        P = ref.softmax(O)
        P[1, 2] += 0.01
        P[1, 3] -= 0.01   # the row still sums to 1
        return P
    message = message_of(check.softmax_matches, softmax_one_entry_off)
    # both entries are off by 0.01; (1, 3) has the smaller expected value, so the tighter limit
    assert "worst at index (1, 3)" in message and "expected" in message and "got" in message


def test_classic_numpy_result_is_named():
    message = message_of(check.softmax_matches, lambda O: oracles.softmax(O.asnumpy()))
    assert "returned numpy.ndarray" in message and "mxnet" in message


# --------------------------------------------------------------------------- losses

@pytest.mark.parametrize("candidate", [
    lambda: ref.softmax_cross_entropy, lambda: alternative("softmax_cross_entropy_log_softmax")],
    ids=["reference", "log_softmax"])
@pytest.mark.parametrize("magnitude", [100, 1e4])
def test_exact_losses_pass_with_the_ulp_tolerance(candidate, magnitude):
    candidate = candidate()
    check.softmax_cross_entropy_stable(candidate, magnitude=magnitude)
    check.softmax_cross_entropy_stable(candidate, num_classes=8, magnitude=magnitude, seed=3)


def test_stable_loss_inputs_include_a_confidently_wrong_row():
    O, y = check._large_logit_calls(5, 1e4, 0, labelled=True)[0].args
    loss = check._logsumexp(O.astype(onp.float64)) - O[onp.arange(len(y)), y]
    assert loss.max() > 1e4 and loss.min() >= 0


@pytest.mark.parametrize("num_classes", [2, 3, 10])
def test_cross_entropy_is_tried_at_the_edges_of_its_contract(num_classes):
    """Among the probabilities the check hands the function (float32 rows that sum to 1):
    a true class of probability 1e-30, 1e-8, 0 and 1, and a row whose other classes are
    exactly 0."""
    calls = []
    check.cross_entropy_matches(recording(ref.cross_entropy, calls), num_classes=num_classes)
    given = [(y_hat.asnumpy(), y.asnumpy()) for y_hat, y in calls]
    probabilities = [(p, y) for p, y in given if (p >= 0).all() and onp.allclose(p.sum(1), 1)]
    y_hat = onp.concatenate([p for p, _ in probabilities])
    labels = onp.concatenate([y for _, y in probabilities])
    true = y_hat[onp.arange(len(labels)), labels]
    assert true.dtype == onp.float32
    assert set(true.tolist()) >= {onp.float32(1e-30), onp.float32(1e-8), 0.0, 1.0}
    others_zero = [(onp.delete(row, label) == 0).all() for row, label in zip(y_hat, labels)]
    assert any(others_zero[r] and 0 < true[r] for r in range(len(labels)))


@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("num_classes", [2, 3])
def test_exact_cross_entropy_passes_the_edges(label_dtype, num_classes):
    check.cross_entropy_matches(ref.cross_entropy, n=3, num_classes=num_classes, seed=1,
                                label_dtype=label_dtype)


# --------------------------------------------------------------------------- gradient

def test_one_hot_labels_as_wide_as_the_largest_label_are_named_where_they_broadcast():
    grad = catalogued("04_softmax_regression", "grad_one_hot_as_wide_as_the_labels")
    # With 3 classes and 8 labels the largest label is 2: only the example of 2 classes
    # labelled 0 shows the mistake, where the one-column one-hot broadcasts.
    message = message_of(check.softmax_cross_entropy_grad_matches, grad, n=8, num_classes=3)
    assert "for one example of 2 classes" in message and "a single column" in message


def test_gradient_of_one_example_is_not_mistaken_for_a_division_by_n():
    check.softmax_cross_entropy_grad_matches(ref.softmax_cross_entropy_grad, n=1,
                                             num_classes=3)


def test_oracle_gradient_matches_central_differences():
    rng = onp.random.default_rng(1)
    O, y = rng.normal(0, 2, (3, 4)), onp.array([2, 0, 2])

    def total_loss(values):
        return float((check._logsumexp(values) - values[onp.arange(3), y]).sum())
    numeric = numerical_gradient(total_loss, O)
    assert onp.allclose(numeric, oracles.softmax(O) - check._onehot(y, 4), atol=1e-6)


# --------------------------------------------------------------------------- accuracy

def test_accuracy_accepts_an_int_count_of_one_row():
    check.accuracy_counts(alternative("accuracy_item"), n=1, num_classes=10, seed=2)


def tie_counts(scores, labels):
    """The counts of the first-index rule and of three wrong rules for ties."""
    label_scores = scores[onp.arange(len(labels)), labels][:, None]
    last = scores.shape[1] - 1 - scores[:, ::-1].argmax(axis=1)
    first = (scores.argmax(axis=1) == labels).sum()
    tie_right = (label_scores == scores.max(axis=1)[:, None]).sum()
    tie_wrong = ((scores >= label_scores).sum(axis=1) == 1).sum()
    return first, tie_right, tie_wrong, (last == labels).sum()


@pytest.mark.parametrize("num_classes", [2, 3, 10])
def test_tied_rows_tell_the_first_index_from_other_rules(num_classes):
    _, scores, labels = check._tied_rows(num_classes)
    counts = tie_counts(scores, labels)
    assert counts[0] == check._correct_count(scores, labels) and len(set(counts)) == 4


@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("num_classes", [2, 3])
def test_argmax_accuracy_passes_the_ties(label_dtype, num_classes):
    check.accuracy_counts(alternative("accuracy_item"), n=4, num_classes=num_classes, label_dtype=label_dtype)


# --------------------------------------------------------------------------- training

def class_templates():
    """A quick, decent (W, b): each class's mean training image, centred (~0.6 accuracy)."""
    from d2lcourse.data import read_fashion_mnist
    images, labels = read_fashion_mnist("train")
    X = images[:6000].asnumpy().reshape(6000, -1).astype(onp.float64)
    y = labels[:6000].asnumpy()
    means = onp.stack([X[y == c].mean(axis=0) for c in range(10)], axis=1)
    W = means - means.mean(axis=1, keepdims=True)
    b = -0.5 * (W * means).sum(axis=0)
    return W, b


def trainer(cell):
    """The train_softmax_regression defined by a whole cell (see mistakes.softmax_regression)."""
    namespace = dict(np=np, autograd=autograd, math=math,
                     softmax_cross_entropy=ref.softmax_cross_entropy)
    exec(cell, namespace)
    return namespace["train_softmax_regression"]


SMALL = dict(count=2000, num_epochs=2, batch_size=64)   # about 0.7 for a correct trainer


@needs_data
def test_a_correct_small_trainer_passes_the_small_setting():
    check.train_reaches_test_accuracy(trainer(TRAINER), threshold=0.6, **SMALL)


@needs_data
def test_the_probe_finds_nothing_wrong_with_correct_trainers():
    from d2lcourse.solutions.softmax_regression import train_softmax_regression
    for correct in (trainer(TRAINER), train_softmax_regression):
        check._probe_first(correct, seed=0, setting="the probe")
    assert 0.15 < check._probe(trainer(TRAINER), seed=0)[1] < 0.25


# Correct trainers whose steps differ from plain SGD's: a cosine decay of the rate without
# momentum (the slowest schedule the probe's ratios allow for), a batch_size capped at n.
COSINE_DECAY = TRAINER.replace(
    "    for epoch in range(num_epochs):\n",
    "    num_steps, step = num_epochs * -(-n // batch_size), 0\n"
    "    for epoch in range(num_epochs):\n").replace(
    "            for p in (W, b):\n",
    "            rate = lr * (1 + math.cos(math.pi * step / num_steps)) / 2\n"
    "            step += 1\n            for p in (W, b):\n").replace("p - lr *", "p - rate *")
BATCH_CAPPED_AT_N = TRAINER.replace("    n = X.shape[0]\n",
                                    "    n = X.shape[0]\n    batch_size = min(batch_size, n)\n")


@pytest.mark.parametrize("cell", [TRAINER, COSINE_DECAY, BATCH_CAPPED_AT_N],
                         ids=["plain", "cosine_decay", "batch_capped_at_n"])
def test_correct_trainers_use_the_values_given_above_the_defaults(cell):
    assert "rate" in COSINE_DECAY and "min(batch_size, n)" in BATCH_CAPPED_AT_N
    core.probe_steps(trainer(cell), lambda value: value[1], "b", seed=0)


@pytest.mark.parametrize("cap", ["lr = min(lr, 0.5)", "batch_size = min(batch_size, 384)",
                                 "num_epochs = min(num_epochs, 15)"])
def test_a_cap_above_the_defaults_is_named(cap):
    capped = trainer(TRAINER.replace("    n = X.shape[0]\n", f"    n = X.shape[0]\n    {cap}\n"))
    name = cap.split(" = ")[0]
    message = failure(lambda: core.probe_steps(capped, lambda value: value[1], "b", seed=0))
    assert f"does not use {name}=" in message, message


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape, num_outputs", [((4, 1, 28, 28), 10), ((3, 2, 3, 3), 4),
                                                ((5, 784), 10)])
def test_the_reference_model_passes_one_example_and_large_logits(seed, shape, num_outputs):
    calls = check._model_inputs(shape, num_outputs, seed)
    X, W, b = calls[2].args
    assert len(calls[1].args[0]) == 1 and (X.reshape(1, -1) @ W + b)[0, 0] > check.EXP_OVERFLOW
    quietly(lambda: check.softmax_regression_matches(ref.softmax_regression, shape=shape,
                                                     num_outputs=num_outputs, seed=seed))


@needs_data
def test_a_wrong_update_fails_in_the_probe_before_the_long_training():
    uphill = trainer(TRAINER.replace("p - lr", "p + lr"))
    message = message_of(check.train_reaches_test_accuracy, uphill)
    assert "the training on all 60000 training images" in message and "was skipped" in message


@needs_data
def test_sorted_subset_is_sorted_and_flat():
    X, y = check.sorted_subset(300)
    assert X.shape == (300, 784) and X.dtype == onp.float32
    assert (onp.diff(y) >= 0).all() and set(y.tolist()) == set(range(10))


@needs_data
def test_class_templates_are_evaluated_on_the_test_images():
    W, b = class_templates()
    accuracy, predictions = check.evaluate(core.fashion_mnist_features("test")[0] @ W + b)
    assert 0.5 < accuracy < 0.8 and predictions.shape == (10000,)


def test_a_name_error_on_a_line_about_dtypes_gets_no_dtype_hint():
    def accuracy(y_hat, y):
        return float((y_hat.argmax(axis=1).astype(y.dtype) == labels_of(y)).sum())  # noqa: F821
    message = message_of(check.accuracy_counts, accuracy)
    assert "name 'labels_of' is not defined" in message and "argmax returns int64" not in message


@needs_data
def test_a_near_miss_of_the_accuracy_bar_gets_a_second_independent_run():
    """Plain SGD's last noisy steps can leave a correct trainer just under the bar on one
    seed: a run within NEAR_MISS of it trains again on another seed; a clear miss does not."""
    count = 3000
    settings = dict(num_epochs=2, count=count)
    reached = float(re.search(r"test accuracy ([\d.]+)%", quietly(
        lambda: check.train_reaches_test_accuracy(ref.train_softmax_regression, threshold=0.0,
                                                  **settings))).group(1)) / 100
    for above, runs in ((check.NEAR_MISS / 2, 2), (check.NEAR_MISS * 2, 1)):
        calls = []
        trainer = recording(ref.train_softmax_regression, calls)
        message = failure(lambda: check.train_reaches_test_accuracy(
            trainer, threshold=reached + above, **settings))
        assert "of the test images correctly" in message
        assert sum(len(args[0]) == count for args in calls) == runs
