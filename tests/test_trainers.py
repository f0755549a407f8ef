"""Trainers learn from the data they are given, and are judged on data the sandbox cannot
read: the sandbox sees Fashion-MNIST's training split only, a trainer that reaches for the
test split scores what a blank notebook scores, and the gates of checks.core (hyperparameters
used, relabelled data learnt as relabelled) hold what they claim.

Which trainer mistakes each gate catches, and that the reference and the catalogued
alternatives pass, is tests/test_course.py's; benchmarks/repeatability.py runs the gates on
20 seeds of the grader's randomness."""
import os
import textwrap

import numpy as onp
import pytest

from d2lcourse import data, grading, notebooks
from d2lcourse.autograder.evaluate import RemoteFunction, evaluate
from d2lcourse.autograder.sandbox import Limits, Sandbox, bubblewrap_problem
from d2lcourse.checks import core, optimization
from d2lcourse.course import ASSIGNMENTS
from helpers import failure, needs_data

needs_sandbox = pytest.mark.skipif(bubblewrap_problem() is not None,
                                   reason="bubblewrap cannot run here")
SOFTMAX = ASSIGNMENTS["04_softmax_regression"]
TRAINER = "train_softmax_regression"
TEST_FILES = data.split_files(("test",))
TRAIN_FILES = data.split_files(("train",))


def data_dir():
    return data.find_fashion_mnist(download=False)


# --------------------------------------------------------------------------- the sandbox

# Every way a submission could reach the test split: the course's loader (when its cell
# runs, and during a graded call, where no split is read), and the IDX files by path in each
# place the loader searches, MXNet's cache (the sandbox's and the grader's user's) and the
# grader's own data folder, whose path a student can learn.
READ_EVERY_WAY = textwrap.dedent("""
    import gzip, os
    import mxnet
    from d2lcourse import data

    def places(grader_folder):
        return [os.environ.get("D2LCOURSE_DATA", ""), grader_folder, data.DEBIAN_DIR,
                data.mxnet_cache_dir(), os.path.join(mxnet.base.data_dir(), "datasets",
                                                     "fashion-mnist"),
                "/root/.mxnet/datasets/fashion-mnist"]

    def attempt(read):
        try:
            return len(read())
        except Exception as error:
            return type(error).__name__ + ": " + str(error)[:200]

    WHEN_THE_CELL_RUNS = attempt(lambda: data.read_fashion_mnist("test")[1])

    def probe(grader_folder, names):
        found = {"loader": WHEN_THE_CELL_RUNS,
                 "loader in the call": attempt(lambda: data.read_fashion_mnist("test")[1])}
        for place in places(grader_folder):
            for name in names:
                found[os.path.join(place, name)] = attempt(
                    lambda: gzip.open(os.path.join(place, name)).read())
            found[place + " listed"] = attempt(lambda: [n for n in os.listdir(place)
                                                         if n in names])
        return found
    """)


def readable(found):
    """The ways that read something."""
    return {way: outcome for way, outcome in found.items()
            if isinstance(outcome, int) and outcome > 0}


def ask_sandbox(folder, cell, *args):
    sandbox = Sandbox(Limits(seconds=120), data_dir=folder)
    try:
        reply, _ = sandbox.request({"op": "load", "functions": ["probe"], "setup": [],
                                    "solutions": {"probe": cell}})
        assert reply["missing"] == {}
        return core.call(RemoteFunction(sandbox, "probe", cell), *args)
    finally:
        sandbox.close()


def linked_copy(folder, target):
    """A data folder of symbolic links to the real files (another place the grader may
    have been pointed at); readable by the sandbox's user."""
    target.mkdir()
    target.chmod(0o755)
    for name in data.FASHION_MNIST_FILES:
        (target / name).symlink_to(os.path.join(folder, name))
    return target


@needs_data
@needs_sandbox
@pytest.mark.parametrize("where", ["found", "linked"])
def test_the_sandbox_reads_the_training_split_and_never_the_test_split(where, tmp_path):
    folder = data_dir() if where == "found" else str(linked_copy(data_dir(), tmp_path / "d"))
    found = ask_sandbox(folder, READ_EVERY_WAY, folder, TEST_FILES)
    assert readable(found) == {}, readable(found)
    assert "test split is not available while grading" in found["loader"]
    assert "probe read the Fashion-MNIST test split during its call" in found["loader in the call"]
    training = ask_sandbox(folder, READ_EVERY_WAY.replace('"test"', '"train"'), folder,
                           TRAIN_FILES)
    assert training["loader"] == 60000
    assert "probe read the Fashion-MNIST train split during its call" in training["loader in the call"]
    assert training[os.path.join(folder, TRAIN_FILES[1])] > 0


HOSTILE_TRAINERS = {
    "the course's loader": """
        from d2lcourse.data import read_fashion_mnist
        def test_split():
            return read_fashion_mnist("test")
        """,
    "the IDX files by path, in every place": """
        import gzip, os
        import numpy
        from d2lcourse import data
        def test_split():
            for place in (os.environ.get("D2LCOURSE_DATA", ""), data.DEBIAN_DIR,
                          data.mxnet_cache_dir(), "/root/.mxnet/datasets/fashion-mnist"):
                try:
                    pixels = gzip.open(os.path.join(place, "t10k-images-idx3-ubyte.gz")).read()
                    labels = gzip.open(os.path.join(place, "t10k-labels-idx1-ubyte.gz")).read()
                except OSError:
                    continue
                X = numpy.frombuffer(pixels, numpy.uint8, offset=16).reshape(-1, 784) / 255
                return np.array(X, dtype="float32"), np.array(
                    numpy.frombuffer(labels, numpy.uint8, offset=8), dtype="int32")
            raise FileNotFoundError("no test split anywhere")
        """,
    "MXNet's cache": """
        import os
        import mxnet
        from d2lcourse import data
        def test_split():
            cache = os.path.join(mxnet.base.data_dir(), "datasets", "fashion-mnist")
            return data.read_fashion_mnist("test", cache)
        """,
}
# Ignores its arguments: fits softmax regression to the test split.
FITS_THE_TEST_SPLIT = """
def train_softmax_regression(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
    X, y = test_split()
    X = X.reshape(X.shape[0], -1)
    W, b = np.zeros((784, 10)), np.zeros(10)
    for p in (W, b):
        p.attach_grad()
    for epoch in range(3):
        for i in range(0, X.shape[0], 100):
            with autograd.record():
                loss = softmax_cross_entropy(X[i:i + 100] @ W + b, y[i:i + 100])
            loss.backward()
            for p in (W, b):
                p[:] = p - 0.5 * p.grad / 100
    return W, b
"""


def trainer_verdict(trainer_cell):
    """The sandboxed verdict on the trainer's test cells, the other cells the reference's."""
    source = notebooks.read(SOFTMAX.source_path())
    sources = {**grading.solution_sources(source), TRAINER: trainer_cell}
    tests = [test for test in notebooks.graded_tests(source)
             if SOFTMAX.owner_of(test.grade_id) == TRAINER]
    return evaluate(SOFTMAX, grading.setup_sources(source), tests, sources, Limits(seconds=200),
                    data_dir=data_dir())


@needs_data
@needs_sandbox
@pytest.mark.parametrize("way", HOSTILE_TRAINERS)
def test_a_trainer_that_fits_the_test_split_scores_what_a_blank_one_scores(way):
    blank = trainer_verdict(f"def {TRAINER}(X_train, y_train, num_epochs=10, lr=0.1, "
                            f"batch_size=256):\n    raise NotImplementedError()\n")
    hostile = trainer_verdict(textwrap.dedent(HOSTILE_TRAINERS[way]) + FITS_THE_TEST_SPLIT)
    assert [r.points for r in hostile.results] == [r.points for r in blank.results] == [0, 0]
    # it failed for want of the data, not for what it did with them
    assert all("raised" in r.message for r in hostile.results), hostile.results


@needs_data
def test_without_the_test_split_the_loader_says_so_and_still_reads_the_training_split(
        tmp_path, monkeypatch):
    only_training = linked_copy(data_dir(), tmp_path / "d")
    for name in TEST_FILES:
        (only_training / name).unlink()
    monkeypatch.setenv("D2LCOURSE_DATA", str(only_training))
    monkeypatch.setenv(data.SPLITS_VARIABLE, "train")
    assert data.find_fashion_mnist(download=False) == str(only_training)
    assert data.fashion_mnist_arrays("train", str(only_training))[1].shape == (60000,)
    with pytest.raises(data.DataError, match="test split is not available while grading"):
        data.read_fashion_mnist("test")


# --------------------------------------------------------------------------- the gates

def test_with_lr_zero_a_mean_of_minibatch_means_misses_the_full_data_loss_by_far():
    """The claim of optimization.judge_lr_zero, for every example that may come last."""
    n, batch_size = optimization.LR_ZERO_RUN["n"], optimization.LR_ZERO_RUN["batch_size"]
    for seed in range(50):
        X, y = optimization.lr_zero_problem(seed)
        losses = y.astype(onp.float64).reshape(-1) ** 2 / 2
        full_mean = losses.mean()
        worst = min(abs(onp.mean([onp.delete(losses, last)[i:i + batch_size].mean()
                                  for i in range(0, n - 1, batch_size)] + [losses[last]])
                        - full_mean) for last in range(n))
        assert worst >= 0.5 and abs(X[:, 0] - y[:, 0]).max() < 1


class Submitted:
    """A trainer whose code cannot change, as the sandbox's proxy of a submission's; it
    counts its calls."""

    def __init__(self, trainer):
        self.__name__ = "train_softmax_regression"
        self.calls = 0
        local = core.local_invoker(trainer)

        def invoke(*args, **kwargs):
            self.calls += 1
            return local(*args, **kwargs)
        self.invoke = invoke


def softmax_trainer(step_lr=None, epochs=None):
    """Plain minibatch SGD for softmax regression; `step_lr`/`epochs` replace the
    arguments when given (trainers that ignore them)."""
    from mxnet import autograd, np

    def train(X_train, y_train, num_epochs=10, lr=0.1, batch_size=256):
        X = X_train.reshape(X_train.shape[0], -1)
        W, b = np.random.normal(0, 0.01, (X.shape[1], 10)), np.zeros(10)
        for p in (W, b):
            p.attach_grad()
        for _ in range(num_epochs if epochs is None else epochs):
            order = np.arange(X.shape[0])
            np.random.shuffle(order)
            for i in range(0, X.shape[0], batch_size):
                batch = order[i:i + batch_size]
                with autograd.record():
                    O = X[batch] @ W + b
                    loss = (np.log(np.exp(O).sum(axis=1)) - O[np.arange(len(batch)),
                                                               y_train[batch]]).sum()
                loss.backward()
                for p in (W, b):
                    p[:] = p - (lr if step_lr is None else step_lr) * p.grad / len(batch)
        return W, b
    return train


def gates(trainer):
    core.trainer_gates(trainer, lambda value: value[1], "b", predictions, seed=0)


def predictions(value, X):
    return (X @ core.to_numpy(value[0]) + core.to_numpy(value[1])).argmax(axis=1)


@needs_data
def test_a_submission_is_gated_once_and_a_notebook_function_every_time():
    correct = Submitted(softmax_trainer())
    gates(correct)
    calls = correct.calls
    gates(correct)
    assert calls >= 5 and correct.calls == calls
    ignores_lr = Submitted(softmax_trainer(step_lr=0.1))
    first = failure(lambda: gates(ignores_lr))
    calls = ignores_lr.calls
    assert failure(lambda: gates(ignores_lr)) == first and ignores_lr.calls == calls
    assert "ignores lr: trained with lr=0" in first
    calls = []

    def train_softmax_regression(*args, **kwargs):
        calls.append(kwargs)
        return softmax_trainer()(*args, **kwargs)
    gates(train_softmax_regression)
    once = len(calls)
    gates(train_softmax_regression)
    assert once >= 5 and len(calls) == 2 * once


@needs_data
def test_the_probe_margins_are_exact_where_nothing_is_learnt_and_grow_with_the_steps():
    trainer = softmax_trainer()
    bias = lambda value: value[1]   # noqa: E731
    assert core.probe_margin(trainer, bias, 0, lr=0) == 0.0
    assert core.probe_margin(trainer, bias, 0, num_epochs=0) == 0.0
    one = core.probe_margin(trainer, bias, 0, lr=core.STEPS_LR, batch_size=128)
    eight = core.probe_margin(trainer, bias, 0, lr=core.STEPS_LR, batch_size=16)
    assert 7.5 < eight / one <= 8   # plain SGD: 8 steps, in the nearly linear regime
    message = failure(lambda: core.probe_steps(softmax_trainer(epochs=3), bias, "b", 0))
    assert ": ignores num_epochs: " in message and "(2 steps)" in message
