"""Epoch time of d2l's scratch MLP against the course's concise path, on Fashion-MNIST.

Both train a 784-256-10 ReLU MLP with SGD (lr 0.1, batch 256) in this one process.
The d2l side is written as d2l-en's "Implementation of Multilayer Perceptrons from
Scratch" (MXNet) does it: parameters W1, b1, W2, b2 with sigma 0.01, ``train_epoch_ch3``
with a per-batch ``float(l.sum())`` and ``accuracy``, ``d2l.sgd``, and a gluon
DataLoader with ``ToTensor`` over uint8 images and 4 workers (d2l's
``load_data_fashion_mnist``, which cannot be used itself: it downloads).

A third line times the same scratch MLP on the course's in-memory batches, to show
how much of the difference is d2l's per-example data loading. A "floor" line times the
first layer's forward and weight-gradient products alone, batch by batch as in training:
the part of the concise epoch that only faster matrix products could shorten.

Usage: python benchmarks/training.py [--epochs N]
(MXNet's OpenMP threads can be set with MXNET_OMP_MAX_THREADS or OMP_NUM_THREADS.)
"""
import argparse
import os
import statistics
import time

from d2l import mxnet as d2l

from d2lcourse import data, gluon, mx, np, npx
from d2lcourse.training import concise_mlp, evaluate_accuracy, train_concise

NUM_INPUTS, NUM_HIDDENS, NUM_OUTPUTS = 784, 256, 10
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS")
BATCH_SIZE, LR = 256, 0.1


# ---------------------------------------------------------------- d2l-en, chapter mlp-scratch

def d2l_load_data_fashion_mnist(batch_size):
    """d2l's loader over the same files: uint8 HWC images, ToTensor, DataLoader, 4 workers."""
    def dataset(split):
        X, y = data.read_fashion_mnist(split)
        images = (X * 255).round().astype("uint8").transpose(0, 2, 3, 1)  # back to raw pixels
        return gluon.data.ArrayDataset(images, y.asnumpy())

    trans = gluon.data.vision.transforms.ToTensor()
    workers = d2l.get_dataloader_workers()
    return (gluon.data.DataLoader(dataset("train").transform_first(trans), batch_size,
                                  shuffle=True, num_workers=workers),
            gluon.data.DataLoader(dataset("test").transform_first(trans), batch_size,
                                  shuffle=False, num_workers=workers))


def d2l_scratch_mlp():
    W1 = np.random.normal(scale=0.01, size=(NUM_INPUTS, NUM_HIDDENS))
    b1 = np.zeros(NUM_HIDDENS)
    W2 = np.random.normal(scale=0.01, size=(NUM_HIDDENS, NUM_OUTPUTS))
    b2 = np.zeros(NUM_OUTPUTS)
    params = [W1, b1, W2, b2]
    for param in params:
        param.attach_grad()

    def relu(X):
        return np.maximum(X, 0)

    def net(X):
        X = X.reshape((-1, NUM_INPUTS))
        H = relu(np.dot(X, W1) + b1)
        return np.dot(H, W2) + b2

    return net, params


def d2l_train_epoch_ch3(net, train_iter, loss, updater):
    metric = d2l.Accumulator(3)  # sum of loss, correct predictions, examples
    for X, y in train_iter:
        with mx.autograd.record():
            y_hat = net(X)
            l = loss(y_hat, y)
        l.backward()
        updater(X.shape[0])
        metric.add(float(l.sum()), d2l.accuracy(y_hat, y), y.size)
    return metric[0] / metric[2], metric[1] / metric[2]


def run_d2l_scratch(num_epochs, in_memory=False):
    """d2l's scratch MLP on d2l's loader, or (``in_memory``) on the course's batches."""
    loader = data.load_data_fashion_mnist if in_memory else d2l_load_data_fashion_mnist
    train_iter, test_iter = loader(BATCH_SIZE)
    net, params = d2l_scratch_mlp()
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    times = []
    for _ in range(num_epochs):
        start = time.perf_counter()
        d2l_train_epoch_ch3(net, train_iter, loss, lambda n: d2l.sgd(params, LR, n))
        times.append(time.perf_counter() - start)
    return times, evaluate_accuracy(net, test_iter)


# ---------------------------------------------------------------- the course's concise path

def run_concise(num_epochs):
    train_iter, test_iter = data.load_data_fashion_mnist(BATCH_SIZE)
    net = concise_mlp(NUM_HIDDENS, NUM_OUTPUTS)
    history = train_concise(net, train_iter, test_iter, num_epochs, LR, progress=False)
    return history.epoch_seconds, history.test_acc[-1]


def first_layer_floor(num_batches, repeats=5):
    """Median seconds of one epoch of the first layer's products alone (forward and the
    weight gradient, as in training), and their GFLOP/s: a floor for the concise epoch."""
    X = np.random.uniform(size=(BATCH_SIZE, NUM_INPUTS))
    W = np.random.normal(scale=0.01, size=(NUM_HIDDENS, NUM_INPUTS))
    b = np.zeros(NUM_HIDDENS)
    W.attach_grad()
    b.attach_grad()
    times = []
    for _ in range(repeats):
        mx.nd.waitall()
        start = time.perf_counter()
        for _ in range(num_batches):
            with mx.autograd.record():
                H = npx.fully_connected(X, W, b, num_hidden=NUM_HIDDENS)
            H.backward()
        mx.nd.waitall()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    flops = num_batches * 2 * (2 * BATCH_SIZE * NUM_INPUTS * NUM_HIDDENS)
    return seconds, flops / seconds / 1e9


def report(name, times, test_acc):
    print(f"{name}: epoch seconds {' '.join(f'{t:.3f}' for t in times)}; "
          f"median {statistics.median(times):.3f} s; test acc {test_acc:.4f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per model (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    threads = ", ".join(f"{name}={os.environ[name]}" for name in THREAD_VARIABLES
                        if name in os.environ) or "MXNet's default"
    print(f"MXNet {mx.__version__}, {os.cpu_count()} CPUs, OpenMP threads: {threads}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{args.epochs} epochs each", flush=True)
    for split in ("train", "test"):
        data.read_fashion_mnist(split)  # parse the files outside the timings

    # The concise path goes first, before d2l's loader forks workers and OpenBLAS starts threads.
    mx.random.seed(args.seed)
    concise_times, concise_acc = run_concise(args.epochs)
    mx.random.seed(args.seed)
    d2l_times, d2l_acc = run_d2l_scratch(args.epochs)
    report("d2l scratch MLP (d2l's DataLoader)", d2l_times, d2l_acc)
    mx.random.seed(args.seed)
    report("d2l scratch MLP on in-memory batches (for reference)",
           *run_d2l_scratch(args.epochs, in_memory=True))
    report("course concise MLP", concise_times, concise_acc)
    batches = -(-len(data.fashion_mnist_arrays("train")[1]) // BATCH_SIZE)  # as in training
    floor, gflops = first_layer_floor(batches)
    print(f"floor: the first layer's forward and weight-gradient products alone take "
          f"{floor:.3f} s per epoch ({gflops:.0f} GFLOP/s)", flush=True)
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"speedup_vs_d2l: {statistics.median(d2l_times) / statistics.median(concise_times):.2f}")


if __name__ == "__main__":
    main()
