"""Every quick test, hidden ones included, of the reference and of every catalogued
alternative on many seeds of the grader's randomness: a correct solution must never fail
by chance. Prints, per test cell, how many runs it had and how many failed (with the
first failure's message), and the number of failures last, which must be 0.

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

import numpy as onp

from d2lcourse import grading, notebooks
from d2lcourse import mistakes as catalogue
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS

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


def cases(assignment):
    """[(name, solution sources, functions whose tests run)]: the reference on every quick
    function, each alternative of a quick function on its own."""
    source = notebooks.read(assignment.source_path())
    reference = grading.solution_sources(source)
    quick = [f for f in assignment.functions if not f.startswith("train_")]
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
                            result = grading.run_test_cell(assignment, cell, functions)
                            runs[test_id] += 1
                            if not result.passed:
                                failures[test_id].append(f"{name}, run {run}: {result.message}")
        print(f"done: {assignment.id}", flush=True)
    print(f"{'test cell':46} {'runs':>6} {'failures':>8}  first failure")
    for test_id, count in runs.items():
        first = failures[test_id][0][:160] if failures[test_id] else ""
        print(f"{test_id:46} {count:6d} {len(failures[test_id]):8d}  {first}")
    total = sum(len(found) for found in failures.values())
    print(f"failures: {total} of {sum(runs.values())} runs")
    raise SystemExit(1 if total else 0)


if __name__ == "__main__":
    main()
