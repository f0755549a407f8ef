"""Every test, hidden ones and the trainers' included, of the reference and of every
catalogued alternative on many seeds of the grader's randomness: a correct solution must
never fail by chance. Prints, per test cell, how many runs it had, its worst margin, how
many failed (with the first failure's message), and the number of failures last, which
must be 0. The margin is the closeness of tolerance comparisons (the largest
|got - want| / (atol + rtol |want|) a test passed with: it fails above 1) or, for tests
that compare a measured value with a threshold ("accuracy 0.843 >= 0.70" in their pass
line: the trainers' accuracy tests), the smallest value minus its threshold; "-" for
tests that compare exactly.
For pass lines "value <= bound" the margin is value / bound (it fails above 1).

The grader's randomness is every seed a check uses: the inputs it builds
(`numpy.random.default_rng(seed)`) and the seeding of the student's call
(`checks.core.seeded`), which for a trainer is its initialisation and its minibatches.
Run k shifts each of them by k times a prime; run 0 is the grader as it is. The trainer
gates' own margins are printed by benchmarks/repeatability.py. Slow (about half an hour
for 20 seeds; `--only quick` leaves the trainers out).

    .venv/bin/python benchmarks/seed_robustness.py [--seeds 20] [--only quick|trainers]
        [--assignment ID ...]
"""
import argparse
import collections
import contextlib
import inspect
import re

import numpy as onp

from d2lcourse import grading, notebooks
from d2lcourse import mistakes as catalogue
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS, is_trainer

SHIFT = 7919  # a prime: shifted seeds never meet the unshifted ones of another check
NUMBER = r"(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(%?)"
AT_LEAST = re.compile(f"{NUMBER} >= {NUMBER}")   # "test accuracy 84.1% >= 80%"
AT_MOST = re.compile(f"{NUMBER} <= {NUMBER}")    # "the noise floor (4.8e-05 <= 0.00011)"


def shifted(seed, run):
    return seed + run * SHIFT if isinstance(seed, (int, onp.integer)) else seed


@contextlib.contextmanager
def grader_seeds(run):
    """The grader's randomness of run `run` (0: unchanged) inside the block."""
    default_rng, seeded = onp.random.default_rng, core.seeded
    onp.random.default_rng = lambda seed=None: default_rng(shifted(seed, run))
    core.seeded = lambda seed: seeded(None if seed is None else shifted(seed, run))
    try:
        yield
    finally:
        onp.random.default_rng, core.seeded = default_rng, seeded


@contextlib.contextmanager
def closeness_seen(worst, test_id):
    """Inside the block, every passing tolerance comparison of the checks raises
    `worst[test_id]` to its closeness."""
    close, assert_close = core.close, core.assert_close
    close_args, assert_args = inspect.signature(close), inspect.signature(assert_close)

    def see(got, want, rtol, atol):
        got, want = core.to_numpy(got), core.to_numpy(want)
        if got.shape == want.shape and got.size and onp.isfinite(want).all():
            ratio = onp.abs(got.astype(float) - want) / (atol + rtol * onp.abs(want))
            worst[test_id] = max(worst[test_id], float(onp.nanmax(ratio)))

    def seen_close(*args, **kwargs):
        result = close(*args, **kwargs)
        if result:
            bound = close_args.bind(*args, **kwargs)
            bound.apply_defaults()
            see(**bound.arguments)
        return result

    def seen_assert_close(*args, **kwargs):
        assert_close(*args, **kwargs)  # raises when it fails
        bound = assert_args.bind(*args, **kwargs)
        bound.apply_defaults()
        see(bound.arguments["actual"], bound.arguments["expected"], bound.arguments["rtol"],
            bound.arguments["atol"])

    core.close, core.assert_close = seen_close, seen_assert_close
    try:
        yield
    finally:
        core.close, core.assert_close = close, assert_close


def cases(assignment, only):
    """[(name, solution sources, functions whose tests run)]: the reference on every
    function `only` selects (quick ones, trainers, or all), each alternative of one of
    them on its own."""
    source = notebooks.read(assignment.source_path())
    reference = grading.solution_sources(source)
    tested = [f for f in assignment.functions
              if only == "all" or (only == "trainers") == is_trainer(f)]
    found = [("reference", reference, tested)] if tested else []
    for alternative in catalogue.load(assignment)[1]:
        if alternative.function in tested:
            found.append((alternative.name, {**reference, alternative.function: alternative.source},
                          [alternative.function]))
    return source, found


def number(text, percent):
    return float(text) / (100 if percent else 1)


def threshold_margins(output):
    """(smallest value - threshold of the "value >= threshold" pass lines, largest
    value / bound of the "value <= bound" ones) in `output`, None where there are none."""
    over = [number(v, p) - number(t, q) for v, p, t, q in AT_LEAST.findall(output)]
    under = [number(v, p) / number(t, q) for v, p, t, q in AT_MOST.findall(output)]
    return min(over) if over else None, max(under) if under else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", choices=["all", "quick", "trainers"], default="all")
    parser.add_argument("--assignment", action="append", help="this one only (repeatable)")
    args = parser.parse_args()
    runs, failures = collections.Counter(), collections.defaultdict(list)
    worst, above, below = collections.defaultdict(float), {}, {}
    for assignment in ASSIGNMENTS.values():
        if args.assignment and assignment.id not in args.assignment:
            continue
        source, found = cases(assignment, args.only)
        setup = grading.setup_sources(source)
        for run in range(args.seeds):
            with grader_seeds(run):
                for name, sources, tested in found:
                    functions = grading.define_functions(assignment.functions, setup, sources)
                    for test in notebooks.graded_tests(source):
                        test_id = test.grade_id
                        if assignment.owner_of(test_id) in tested:
                            with closeness_seen(worst, test_id):
                                result = grading.run_test_cell(assignment, test, functions)
                            runs[test_id] += 1
                            over, under = threshold_margins(result.output)
                            if result.passed and over is not None:
                                above[test_id] = min(above.get(test_id, over), over)
                            if result.passed and under is not None:
                                below[test_id] = max(below.get(test_id, under), under)
                            if not result.passed:
                                failures[test_id].append(f"{name}, run {run}: {result.message}")
        print(f"done: {assignment.id}", flush=True)
    print(f"{'test cell':42} {'runs':>5} {'margin':>16} {'failures':>8}  first failure")
    for test_id, count in runs.items():
        first = failures[test_id][0][:160] if failures[test_id] else ""
        if test_id in above:
            margin = f"{above[test_id]:+.3f} over bar"
        elif test_id in below:
            margin = f"{below[test_id]:.3f} of bound"
        else:
            margin = f"{worst[test_id]:.3f} of tol" if test_id in worst else "-"
        print(f"{test_id:42} {count:5d} {margin:>16} {len(failures[test_id]):8d}  {first}")
    total = sum(len(found) for found in failures.values())
    print(f"failures: {total} of {sum(runs.values())} runs")
    raise SystemExit(1 if total else 0)


if __name__ == "__main__":
    main()
