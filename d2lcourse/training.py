"""Training loops for classifiers: a general one and a fast one for gluon nets.

``train`` runs any net (scratch or gluon) with any updater, as d2l's former
``train_ch3`` did. ``train_concise`` trains a gluon net fast: forward pass and loss
in one hybridized graph with static memory; backward from the head gradient
lr / batch size, so that SGD is one in-place subtraction per parameter; loss and
accuracy summed on the device and read once per epoch.

Both show a progress bar in a terminal and a live plot in a notebook, and return
a :class:`History`. ``Timer`` and ``Accumulator`` work as d2l's of the same names.
"""
import collections
import dataclasses
import itertools
import sys
import time

from tqdm import tqdm

from d2lcourse._mxnet import autograd, gluon, init, mx

MAX_BATCHES_IN_FLIGHT = 8  # how far Python may run ahead of the device (bounds memory)


class Timer:
    """Records running times in seconds: ``stop()`` records the time since ``start()``
    (or creation) and returns it."""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        self.started = time.perf_counter()

    def stop(self):
        self.times.append(time.perf_counter() - self.started)
        return self.times[-1]

    def avg(self):
        """Mean of the recorded times."""
        if not self.times:
            raise ValueError("Timer.avg: no time recorded yet: call stop() first")
        return sum(self.times) / len(self.times)

    def sum(self):
        return sum(self.times)

    def cumsum(self):
        """Running totals of the recorded times, as a list."""
        return list(itertools.accumulate(self.times))


class Accumulator:
    """Running sums of ``n`` quantities (e.g. loss, correct predictions, examples)."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *values):
        """Add one value (a number or a 0-d array) to each of the n sums."""
        if len(values) != len(self.data):
            raise ValueError(f"Accumulator.add: {len(values)} values for {len(self.data)} "
                             f"sums: give one value per sum")
        self.data = [total + float(value) for total, value in zip(self.data, values)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, index):
        return self.data[index]


@dataclasses.dataclass
class History:
    """Per-epoch metrics of a training run; ``epoch_seconds`` times the training pass."""
    train_loss: list = dataclasses.field(default_factory=list)
    train_acc: list = dataclasses.field(default_factory=list)
    test_acc: list = dataclasses.field(default_factory=list)
    epoch_seconds: list = dataclasses.field(default_factory=list)

    def add(self, train_loss, train_acc, test_acc, seconds):
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.test_acc.append(test_acc)
        self.epoch_seconds.append(seconds)

    def summary(self, epoch=-1):
        """One line for ``epoch`` (default: the last), e.g. for a log."""
        return (f"loss {self.train_loss[epoch]:.3f}, train acc {self.train_acc[epoch]:.3f}, "
                f"test acc {self.test_acc[epoch]:.3f}, {self.epoch_seconds[epoch]:.2f} s")


# ---------------------------------------------------------------- accuracy

def correct_predictions(y_hat, y):
    """Number of correct predictions as a 0-d array on the device (no host sync).

    ``y_hat`` holds one row of scores per example (argmax taken) or predicted labels.
    """
    if y_hat.ndim > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    return (y_hat.astype("int64").reshape(-1) == y.astype("int64").reshape(-1)).sum()


def accuracy(y_hat, y):
    """Number of rows of ``y_hat`` whose argmax equals the label in ``y``, as a Python float."""
    return float(correct_predictions(y_hat, y))


def evaluate_accuracy(net, data_iter, device=None):
    """Fraction of examples of ``data_iter`` that ``net`` (any callable giving scores) gets right.

    With ``device``, each batch is moved there first.
    """
    correct, count = 0, 0
    for X, y in data_iter:
        if device is not None:
            X, y = X.as_in_ctx(device), y.as_in_ctx(device)
        correct = correct + correct_predictions(net(X), y)
        count += y.shape[0]
    if count == 0:
        raise ValueError("evaluate_accuracy: the data iterator yielded no example")
    return float(correct) / count


# ---------------------------------------------------------------- progress display

class _Progress:
    """A tqdm bar in a terminal and/or a live Animator plot in a notebook."""

    def __init__(self, num_epochs, batches_per_epoch, progress, plot):
        from d2lcourse.plots import in_jupyter  # noqa: PLC0415 (loads matplotlib)
        notebook = in_jupyter()
        if progress is None:
            progress = not notebook and sys.stderr.isatty()
        if plot is None:
            plot = notebook
        self.bar = self.animator = None
        if progress:
            total = num_epochs * batches_per_epoch if batches_per_epoch else None
            self.bar = tqdm(total=total, unit="batch",
                            desc=f"epoch 1/{num_epochs}", leave=True)
        if plot:
            from d2lcourse.plots import training_animator  # noqa: PLC0415 (loads matplotlib)
            self.animator = training_animator(num_epochs)
        self.num_epochs = num_epochs

    def batch_done(self):
        if self.bar is not None:
            self.bar.update()

    def epoch_done(self, history):
        epoch = len(history.train_loss)
        if self.bar is not None:
            self.bar.set_description(f"epoch {min(epoch + 1, self.num_epochs)}/{self.num_epochs}")
            self.bar.set_postfix_str(history.summary())
        if self.animator is not None:
            self.animator.add(epoch, (history.train_loss[-1], history.train_acc[-1],
                                      history.test_acc[-1]))

    def close(self):
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------- general training loop

def _length(batches):
    """Number of batches per epoch, or None for an iterable without ``len``."""
    return len(batches) if hasattr(batches, "__len__") else None


def _limit_in_flight(in_flight, latest):
    """Wait for the batch MAX_BATCHES_IN_FLIGHT back, so queued work stays bounded."""
    in_flight.append(latest)
    if len(in_flight) > MAX_BATCHES_IN_FLIGHT:
        in_flight.popleft().wait_to_read()


def _fit(batch_step, train_iter, test_accuracy, num_epochs, progress, plot):
    """Run ``batch_step(X, y) -> (summed loss, correct count)`` over ``train_iter`` for
    ``num_epochs``, with the test accuracy from ``test_accuracy()``; return the History.

    Sums stay arrays on the device and are read once per epoch.
    """
    history = History()
    display = _Progress(num_epochs, _length(train_iter), progress, plot)
    try:
        for _ in range(num_epochs):
            start = time.perf_counter()
            loss_sum, correct, count = 0, 0, 0
            in_flight = collections.deque()
            for X, y in train_iter:
                batch_loss, batch_correct = batch_step(X, y)
                loss_sum = loss_sum + batch_loss
                correct = correct + batch_correct
                count += X.shape[0]
                _limit_in_flight(in_flight, loss_sum)
                display.batch_done()
            train_loss, train_acc = float(loss_sum) / count, float(correct) / count
            seconds = time.perf_counter() - start
            history.add(train_loss, train_acc, test_accuracy(), seconds)
            display.epoch_done(history)
    finally:
        display.close()
    return history


class TrainingError(RuntimeError):
    """Training stopped on an error whose message names the function to look at."""

    def _render_traceback_(self):
        # IPython shows this instead of a traceback into the training loop.
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


def _breaks_backward(loss, y_hat, y):
    """True if ``loss`` alone cannot be differentiated w.r.t. its predictions."""
    probe = y_hat.detach().copy()
    probe.attach_grad()
    try:
        with autograd.record():
            losses = loss(probe, y)
        losses.backward()
    except mx.base.MXNetError:
        return True
    return False


def _called(function):
    """How to name ``function`` in a message: its name, or for a lambda the functions it
    calls (e.g. ``lambda X: softmax_regression(X, W, b)``)."""
    name = getattr(function, "__name__", type(function).__name__)
    code = getattr(function, "__code__", None)
    if name != "<lambda>" or code is None:
        return name
    names = dict(zip(code.co_freevars, (c.cell_contents for c in function.__closure__ or ())))
    names.update((n, function.__globals__.get(n)) for n in code.co_names)
    called = [n for n, value in names.items() if callable(value)]
    return " and ".join(called) if called else "the net"


def train(net, train_iter, test_iter, loss, num_epochs, updater, progress=None, plot=None):
    """Train classifier ``net`` for ``num_epochs``; return its :class:`History`.

    ``loss(y_hat, y)`` gives one loss per example; ``updater`` is a gluon ``Trainer``
    or a function of the batch size (e.g. ``lambda n: sgd(params, lr, n)``).
    ``progress``/``plot``: progress bar and live plot (default: bar in a terminal,
    plot in a notebook).
    """
    update = updater.step if isinstance(updater, gluon.Trainer) else updater

    def batch_step(X, y):
        with autograd.record():
            y_hat = net(X)
            losses = loss(y_hat, y)
        try:
            losses.backward()
        except mx.base.MXNetError:
            culprit = _called(loss if _breaks_backward(loss, y_hat, y) else net)
            raise TrainingError(
                f"train: loss.backward() failed: the result of {culprit} cannot be "
                f"differentiated (it went through .asnumpy() or classic NumPy, or changed "
                f"an array in place): use mxnet.numpy operations only, in {culprit} and the "
                f"functions it calls; their tests say which one") from None
        update(X.shape[0])
        return losses.sum(), correct_predictions(y_hat, y)

    return _fit(batch_step, train_iter, lambda: evaluate_accuracy(net, test_iter),
                num_epochs, progress, plot)


# ---------------------------------------------------------------- fast concise path

def concise_mlp(num_hiddens=256, num_outputs=10, sigma=0.01):
    """Gluon MLP with one ReLU hidden layer, weights ~ N(0, sigma^2) (d2l's concise MLP)."""
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(num_hiddens, activation="relu"), gluon.nn.Dense(num_outputs))
    net.initialize(init.Normal(sigma))
    return net


def concise_softmax_regression(num_outputs=10, sigma=0.01):
    """Gluon softmax regression: one dense layer giving logits, weights ~ N(0, sigma^2)."""
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(num_outputs))
    net.initialize(init.Normal(sigma))
    return net


class _LossAndCorrect(gluon.HybridBlock):
    """Forward pass and softmax cross-entropy in one graph: (summed loss, correct count)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def hybrid_forward(self, F, X, y):
        logits = self.net(X)
        loss_sum = -F.npx.pick(F.npx.log_softmax(logits), y).sum()
        predictions = F.np.argmax(logits, axis=1).astype("int32")
        correct = F.np.equal(predictions, y.astype("int32")).sum()
        return loss_sum, correct


def _trainable(net):
    """(weight, gradient) array pairs of the parameters of ``net`` that learn."""
    return [(param.data(), param.grad()) for param in net.collect_params().values()
            if param.grad_req != "null"]


def train_concise(net, train_iter, test_iter, num_epochs, lr, progress=None, plot=None):
    """Train gluon classifier ``net`` with softmax cross-entropy and SGD; return its History.

    ``train_iter``/``test_iter`` yield ``(X, y)`` batches (e.g. :class:`ArrayBatches`),
    moved to the device of ``net``'s parameters when they are elsewhere.
    """
    device = next(iter(net.collect_params().values())).list_ctx()[0]
    loss_and_correct = _LossAndCorrect(net)
    loss_and_correct.hybridize(static_alloc=True, static_shape=True)
    step_sizes = {}  # batch size -> lr / batch size, as the head gradient of the summed loss
    pairs = []

    def batch_step(X, y):
        if X.ctx != device:
            X, y = X.as_in_ctx(device), y.as_in_ctx(device)
        if X.shape[0] not in step_sizes:
            step_sizes[X.shape[0]] = mx.np.array(lr / X.shape[0], ctx=device)
        try:
            with autograd.record():
                batch_loss, batch_correct = loss_and_correct(X, y)
            batch_loss.backward(step_sizes[X.shape[0]])
        except mx.base.MXNetError as error:
            last = [line for line in str(error).splitlines() if line.strip()][-1].strip()
            raise TrainingError(f"train_concise: the net {type(net).__name__} failed on a "
                                f"batch of shape {X.shape}: {last.rstrip('.')}. Look at its "
                                f"layers and its forward (hybrid_forward): a hybridized net "
                                f"may use only operators of F (F.np, F.npx), no .asnumpy() "
                                f"and no classic NumPy") from None
        if not pairs:  # parameters exist after the first forward
            pairs.extend(_trainable(net))
        for weight, scaled_grad in pairs:
            weight -= scaled_grad
        return batch_loss, batch_correct

    return _fit(batch_step, train_iter, lambda: evaluate_accuracy(net, test_iter, device),
                num_epochs, progress, plot)
