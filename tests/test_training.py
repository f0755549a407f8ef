"""d2lcourse.training: accuracy, the general loop and the fast concise path."""
import os
import subprocess
import sys

import pytest

from d2lcourse import data, gluon, mx, np, training

REAL_DIR = "/usr/share/datasets/fashion-mnist"
needs_real_data = pytest.mark.skipif(
    not os.path.isdir(REAL_DIR), reason=f"needs Debian package dataset-fashion-mnist ({REAL_DIR})")


def test_accuracy_counts_rows_whose_argmax_is_the_label():
    y_hat = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([1, 0, 0, 0], dtype="int32")
    result = training.accuracy(y_hat, y)
    assert type(result) is float and result == 3.0
    assert training.accuracy(np.array([1, 0, 1, 1]), y) == 2.0  # predicted labels


def test_evaluate_accuracy_on_a_handmade_net():
    # The "nets": doubling predicts each row's argmax, flipping predicts 2 - argmax.
    X = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype="float32")
    y = np.array([0, 1, 2, 2, 2], dtype="int32")
    batches = data.ArrayBatches(X, y, batch_size=2)
    assert training.evaluate_accuracy(lambda X: 2 * X, batches) == pytest.approx(3 / 5)
    flipped = training.evaluate_accuracy(lambda X: np.flip(X, axis=1), batches)
    assert flipped == pytest.approx(2 / 5)


def test_evaluate_accuracy_refuses_empty_data():
    with pytest.raises(ValueError, match="no example"):
        training.evaluate_accuracy(lambda X: X, [])


def test_timer_records_each_stop_and_sums_them():
    timer = training.Timer()
    first = timer.stop()
    timer.start()
    second = timer.stop()
    assert timer.times == [first, second] and min(timer.times) >= 0
    assert timer.sum() == first + second
    assert timer.avg() == pytest.approx((first + second) / 2)
    assert timer.cumsum() == [first, first + second]
    with pytest.raises(ValueError, match="call stop"):
        training.Timer().avg()


def test_accumulator_sums_numbers_and_arrays_as_d2ls_does():
    from d2l import mxnet as d2l
    ours, theirs = training.Accumulator(3), d2l.Accumulator(3)
    for values in [(1.5, np.array([1, 0, 1]).sum(), 3), (0.5, np.array(2), 3)]:
        ours.add(*values)
        theirs.add(*values)
    assert ours.data == theirs.data == [2.0, 4.0, 6.0]
    assert all(type(total) is float for total in ours.data)
    assert ours[1] / ours[2] == pytest.approx(2 / 3)
    ours.reset()
    assert ours.data == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="2 values for 3 sums"):
        ours.add(1.0, 2.0)


def test_plots_and_training_helpers_work_without_d2l():
    code = ("import sys; sys.modules['d2l'] = None  # any import of d2l now fails\n"
            "import d2lcourse.data, d2lcourse.plots as plots, d2lcourse.training as training\n"
            "from matplotlib.figure import Figure\n"
            "plots.set_figsize((4, 3)); plots.use_svg_display()\n"
            "plots.plot([0, 1], [[0, 1], [1, 0]], legend=['up', 'down'], axes=Figure().subplots())\n"
            "plots.training_animator(2).add(1, (0.5, 0.8, 0.7))\n"
            "training.Timer().stop(); training.Accumulator(2).add(1, 2)\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr


@pytest.fixture(scope="module")
def fashion_mnist():
    if not os.path.isdir(REAL_DIR):
        pytest.skip(f"needs {REAL_DIR}")
    return data.read_fashion_mnist("train", REAL_DIR), data.read_fashion_mnist("test", REAL_DIR)


def scratch_softmax_regression():
    W = np.random.normal(0, 0.01, (784, 10))
    b = np.zeros(10)
    for param in (W, b):
        param.attach_grad()
    return (lambda X: np.dot(X.reshape(-1, 784), W) + b), [W, b]


class WithoutLength:
    """A re-iterable of batches that cannot tell its length, like a student's data_iter."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


@needs_real_data
def test_train_scratch_softmax_regression_on_a_subset(fashion_mnist, capsys):
    mx.random.seed(0)
    (X, y), (X_test, y_test) = fashion_mnist
    train_iter = WithoutLength(data.ArrayBatches(X[:12000], y[:12000], 256, shuffle=True))
    test_iter = data.ArrayBatches(X_test, y_test, 1000)
    net, params = scratch_softmax_regression()

    def sgd(batch_size):
        for param in params:
            param[:] = param - 0.1 * param.grad / batch_size

    history = training.train(net, train_iter, test_iter, gluon.loss.SoftmaxCrossEntropyLoss(),
                             3, sgd, progress=True, plot=False)
    assert len(history.train_loss) == len(history.test_acc) == len(history.epoch_seconds) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.7
    assert 0.6 < history.train_acc[-1] <= 1
    assert "epoch 3/3" in capsys.readouterr().err  # the tqdm bar


@needs_real_data
def test_train_with_a_gluon_trainer(fashion_mnist):
    mx.random.seed(0)
    (X, y), (X_test, y_test) = fashion_mnist
    net = training.concise_softmax_regression()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    history = training.train(net, data.ArrayBatches(X[:12000], y[:12000], 256, shuffle=True),
                             data.ArrayBatches(X_test, y_test, 1000),
                             gluon.loss.SoftmaxCrossEntropyLoss(), 2, trainer,
                             progress=False, plot=False)
    assert history.test_acc[-1] > 0.7


@needs_real_data
def test_train_concise_mlp_on_full_data(fashion_mnist, capsys):
    mx.random.seed(0)
    (X, y), (X_test, y_test) = fashion_mnist
    net = training.concise_mlp()
    history = training.train_concise(net, data.ArrayBatches(X, y, 256, shuffle=True),
                                     data.ArrayBatches(X_test, y_test, 256), 2, 0.1)
    assert capsys.readouterr().err == ""  # no bar when stderr is not a terminal
    assert history.train_loss[1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.75
    # The history's accuracy is the net's, measured independently.
    assert history.test_acc[-1] == pytest.approx(
        training.evaluate_accuracy(net, data.ArrayBatches(X_test, y_test, 1000)))
    assert net[0].weight.shape == (256, 784) and net[1].weight.shape == (10, 256)


@needs_real_data
def test_train_concise_loss_is_the_mean_cross_entropy(fashion_mnist):
    """With lr=0 nothing moves, so the reported loss is the loss of the initial net."""
    (X, y), (X_test, y_test) = fashion_mnist
    net = training.concise_softmax_regression()
    history = training.train_concise(net, data.ArrayBatches(X[:1000], y[:1000], 300),
                                     data.ArrayBatches(X_test[:100], y_test[:100], 100), 1, 0.0,
                                     progress=False)
    expected = gluon.loss.SoftmaxCrossEntropyLoss()(net(X[:1000]), y[:1000]).mean()
    assert history.train_loss[0] == pytest.approx(float(expected), rel=1e-5)
    assert history.train_acc[0] == pytest.approx(training.accuracy(net(X[:1000]), y[:1000]) / 1000)


@needs_real_data
def test_train_concise_matches_train_with_a_gluon_trainer(fashion_mnist):
    """The fast path is plain SGD: same seed, same batches, same numbers as gluon's Trainer."""
    (X, y), (X_test, y_test) = fashion_mnist
    histories = []
    for fast in (True, False):
        mx.random.seed(7)
        train_iter = data.ArrayBatches(X[:6000], y[:6000], 256, shuffle=True)
        test_iter = data.ArrayBatches(X_test[:2000], y_test[:2000], 500)
        net = training.concise_mlp()
        if fast:
            histories.append(training.train_concise(net, train_iter, test_iter, 2, 0.1,
                                                    progress=False))
        else:
            trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
            histories.append(training.train(net, train_iter, test_iter,
                                            gluon.loss.SoftmaxCrossEntropyLoss(), 2, trainer,
                                            progress=False, plot=False))
    fast, reference = histories
    assert fast.train_loss == pytest.approx(reference.train_loss, rel=1e-4)
    assert fast.train_acc == pytest.approx(reference.train_acc, abs=1e-3)
    assert fast.test_acc == pytest.approx(reference.test_acc, abs=1e-3)
