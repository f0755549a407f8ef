"""Every quick test, hidden ones included, of the reference and of every catalogued
alternative on many seeds of the grader's randomness: a correct solution must never fail
by chance. Prints, per test cell, how many runs it had, the worst closeness it passed
with (the largest |got - want| / (atol + rtol |want|) of its tolerance comparisons: a
test fails above 1; "-" for tests that compare exactly or by statistics), how many
failed (with the first failure's message), and the number of failures last, which must
be 0.

The grader's randomness is every seed a check uses: the inputs it builds
(`numpy.random.default_rng(seed)`) and the seeding of the student's call
(`checks.core.seeded`). Run k shifts each of them by k times a prime; run 0 is the
grader as it is. The trainers' tests are left out: their gates are the subject of
benchmarks/repeatability.py, and one training is minutes. Slow (minutes).

    .venv/bin/python benchmarks/seed_robustness.py [--seeds 20]
"""
import argparse
import collections
import contextlib
import inspect

import numpy as onp

from d2lcourse import grading, notebooks
from d2lcourse import mistakes as catalogue
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS, is_trainer

SHIFT = 7919  # a prime: shifted seeds never meet the unshifted ones of another check


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


def cases(assignment):
    """[(name, solution sources, functions whose tests run)]: the reference on every quick
    function, each alternative of a quick function on its own."""
    source = notebooks.read(assignment.source_path())
    reference = grading.solution_sources(source)
    quick = [f for f in assignment.functions if not is_trainer(f)]
    found = [("reference", reference, quick)]
    for alternative in catalogue.load(assignment)[1]:
        if alternative.function in quick:
            found.append((alternative.name, {**reference, alternative.function: alternative.source},
                          [alternative.function]))
    return source, found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    runs, failures = collections.Counter(), collections.defaultdict(list)
    worst = collections.defaultdict(float)
    for assignment in ASSIGNMENTS.values():
        source, found = cases(assignment)
        setup = grading.setup_sources(source)
        for run in range(args.seeds):
            with grader_seeds(run):
                for name, sources, tested in found:
                    functions = grading.define_functions(assignment.functions, setup, sources)
                    for cell in source.cells:
                        test_id = notebooks.grade_id(cell)
                        if notebooks.is_test_cell(cell) and assignment.owner_of(test_id) in tested:
                            with closeness_seen(worst, test_id):
                                result = grading.run_test_cell(assignment, cell, functions)
                            runs[test_id] += 1
                            if not result.passed:
                                failures[test_id].append(f"{name}, run {run}: {result.message}")
        print(f"done: {assignment.id}", flush=True)
    print(f"{'test cell':42} {'runs':>5} {'closeness':>9} {'failures':>8}  first failure")
    for test_id, count in runs.items():
        first = failures[test_id][0][:160] if failures[test_id] else ""
        closeness = f"{worst[test_id]:9.3f}" if test_id in worst else f"{'-':>9}"
        print(f"{test_id:42} {count:5d} {closeness} {len(failures[test_id]):8d}  {first}")
    total = sum(len(found) for found in failures.values())
    print(f"failures: {total} of {sum(runs.values())} runs")
    raise SystemExit(1 if total else 0)


if __name__ == "__main__":
    main()
