"""The trainer gates on many seeds of the grader's randomness: the reference and every
catalogued alternative of the four trainers must pass each of them on every seed. Prints,
per gate, the worst value over trainers and seeds next to its threshold (the margin), and
the number of failures, which must be 0.

Gates (checks.core and checks.optimization/linear_regression): with lr=0 and num_epochs=0
the trainer starts from scratch, and with lr=0 or num_epochs=0 nothing is learnt (exact: the
probe's margin, 03's losses, 02's b); more steps move the probe's margin further (ratios at
least 2 for 8 times the steps, 1.25 for 2 epochs); trained on relabelled images of three
classes, the model predicts the given labels for at least 70 % of the held-out images of
those classes, the original ones less often, and another class for at most 10 % of all
held-out images; on ten black images, one of each class, in one minibatch, the output bias
stays at zero (exact); 02's and 03's epochs read new orders (judge_new_order_every_epoch,
failures counted). Slow (a few minutes).

    .venv/bin/python benchmarks/repeatability.py [--seeds 20]
"""
import argparse
import functools

import numpy as onp

from d2lcourse import grading, notebooks
from d2lcourse import mistakes as catalogue
from d2lcourse.checks import core, mlp, optimization, softmax_regression
from d2lcourse.checks import linear_regression
from d2lcourse.course import ASSIGNMENTS


def trainers(assignment_id, function):
    """{name: the trainer}: the reference and the catalogued alternatives of `function`."""
    assignment = ASSIGNMENTS[assignment_id]
    source = notebooks.read(assignment.source_path())
    _, alternatives = catalogue.load(assignment)
    found = {}
    for name, replacement in [("reference", {}), *[(a.name, {function: a.source})
                                                   for a in alternatives
                                                   if a.function == function]]:
        sources = {**grading.solution_sources(source), **replacement}
        found[name] = grading.define_functions(assignment.functions,
                                               grading.setup_sources(source), sources)[function]
    return found


class Worst:
    """The worst value seen per gate, against its threshold."""

    def __init__(self):
        self.rows = {}

    def see(self, gate, value, threshold, above, where):
        """`above`: the gate passes when value >= threshold (else when value <= threshold)."""
        failed = not (value >= threshold if above else value <= threshold)
        worst, _, _, failures, at = self.rows.get(gate, (value, threshold, above, 0, where))
        if failed or (value < worst if above else value > worst):
            worst, at = value, where
        self.rows[gate] = (worst, threshold, above, failures + failed, at)

    def show(self):
        print(f"{'gate':62} {'worst':>10} {'threshold':>10} {'failures':>8}  worst at")
        for gate, (worst, threshold, above, failures, where) in self.rows.items():
            sign = ">=" if above else "<="
            print(f"{gate:62} {worst:10.4g} {sign}{threshold:9.4g} {failures:8d}  {where}")
        return sum(row[3] for row in self.rows.values())


def fashion_mnist_gates(worst, label, where, trainer, seed, output_bias, predict, **kwargs):
    def margin(**setting):
        return core.probe_margin(trainer, output_bias, seed, **{**kwargs, **setting})

    worst.see(f"{label}: |margin| with lr=0 and num_epochs=0", abs(margin(lr=0, num_epochs=0)),
              core.STILL, False, where)
    for name in ("lr", "num_epochs"):
        worst.see(f"{label}: |margin| with {name}=0", abs(margin(**{name: 0})), core.STILL,
                  False, where)
    worst.see(f"{label}: |b| moved on balanced images", core.balanced_moved(
        trainer, output_bias, seed, **kwargs), core.STILL, False, where)
    one = margin(lr=core.STEPS_LR, batch_size=core.PROBE_EXAMPLES)
    worst.see(f"{label}: ratio, 8 steps (batch_size) / 1",
              margin(lr=core.STEPS_LR, batch_size=core.MANY_STEPS_BATCH) / one,
              core.STEP_RATIOS["batch_size"], True, where)
    worst.see(f"{label}: ratio, 2 epochs / 1",
              margin(lr=core.STEPS_LR, batch_size=core.PROBE_EXAMPLES, num_epochs=2) / one,
              core.STEP_RATIOS["num_epochs"], True, where)
    given, original, outside, _ = core.relabelled_outcome(trainer, functools.partial(
        predict, trainer), seed, **kwargs)
    worst.see(f"{label}: relabelled, share predicted as given", given,
              core.RELABELLED_MIN_ACCURACY, True, where)
    worst.see(f"{label}: relabelled, original minus given", original - given, 0.0, False,
              where)
    worst.see(f"{label}: relabelled, share predicted outside", outside,
              core.RELABELLED_MAX_OUTSIDE, False, where)


def new_order_failed(judge):
    """1 if `judge()` fails (a CheckFailure), else 0."""
    try:
        judge()
    except core.CheckFailure:
        return 1
    return 0


def lr_zero_minibatch(worst, label, where, trainer, seed):
    X, y = optimization.lr_zero_problem(seed)
    run = optimization.LR_ZERO_RUN
    losses = core.to_numpy(core.call(trainer, core.np.array(X), core.np.array(y),
                                     run["batch_size"], 0.0, run["num_epochs"], seed=seed))
    start = float((y.astype(onp.float64) ** 2).mean() / 2)
    worst.see(f"{label}: lr=0, relative change of the loss", float(abs(losses / start - 1).max()),
              core.RTOL, False, where)
    worst.see(f"{label}: new order every epoch, failed", new_order_failed(
        lambda: optimization.judge_new_order(trainer, seed)), 0, False, where)


def lr_zero_linear_regression(worst, label, where, trainer, seed):
    X, y = linear_regression.regression_data(20, onp.linspace(-2, 2, 400), 1.0, seed)
    w, b = core.call(trainer, X, y, lr=0.0, num_epochs=2, batch_size=5, seed=seed)
    worst.see(f"{label}: lr=0, |b|", abs(float(core.to_numpy(b)[0])), 0.0, False, where)
    worst.see(f"{label}: new order every epoch, failed", new_order_failed(
        lambda: linear_regression.judge_new_order(trainer, seed)), 0, False, where)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    worst = Worst()
    runs = [
        ("02_linear_regression", "train_linear_regression", lr_zero_linear_regression),
        ("03_optimization", "train_minibatch", lr_zero_minibatch),
        ("04_softmax_regression", "train_softmax_regression", functools.partial(
            fashion_mnist_gates, output_bias=lambda value: value[1],
            predict=softmax_regression._predictions)),
        ("05_mlp", "train_mlp", functools.partial(
            fashion_mnist_gates, output_bias=lambda params: params[3],
            predict=mlp._gate_predictions, num_hiddens=mlp.PROBE_HIDDENS)),
    ]
    for assignment_id, function, gates in runs:
        for name, trainer in trainers(assignment_id, function).items():
            for seed in range(args.seeds):
                gates(worst, function, f"{name}, seed {seed}", trainer, seed)
            print(f"done: {function}/{name}", flush=True)
    failures = worst.show()
    print(f"failures: {failures}")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
