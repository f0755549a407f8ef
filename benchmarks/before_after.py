"""Grading time of two versions of d2lcourse, side by side in one run.

Each version is a Python whose d2lcourse is that version (a checkout with its own
`.venv`, e.g. `git worktree add ../old REV && make -C ../old install`). Both grade the
same kind of class (6 reference and 2 blank submissions, made from their own release)
with `d2lcourse grade --workers 2`, in alternating order, and the wall times and the
ratio of the medians are printed, last.

    .venv/bin/python benchmarks/before_after.py OLD_PYTHON [--assignment ID] [--rounds 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

GRADE_ONE_CLASS = """
import subprocess, sys, tempfile, time
from pathlib import Path
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import Recorder
from d2lcourse.course import ASSIGNMENTS
A = ASSIGNMENTS[sys.argv[1]]
with tempfile.TemporaryDirectory() as scratch:
    course = samples.copy_course(Path(scratch) / "course", [A.id])
    Recorder(course, A).ensure_assignment()
    reference = samples.solution_sources(A.source_path(course))
    for i in range(6):
        samples.write_submission(course, A, f"reference{i}", reference)
    for i in range(2):
        samples.write_submission(course, A, f"blank{i}", {})
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "d2lcourse.cli", "grade", A.id, "--course",
                    str(course), "--workers", "2"], check=True, capture_output=True)
    print(time.monotonic() - started)
"""


def seconds(python, assignment):
    """The wall time of one graded class under `python`, run from a neutral folder (a
    repository's folder first on sys.path would lend its d2lcourse to the other Python)."""
    with tempfile.TemporaryDirectory() as neutral:
        result = subprocess.run([python, "-c", GRADE_ONE_CLASS, assignment], cwd=neutral,
                                capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{python}: grading failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the Python of the version to compare with")
    parser.add_argument("--assignment", default="04_softmax_regression")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times = {"old": [], "new": []}
    for round_number in range(args.rounds):
        order = [("old", args.old), ("new", sys.executable)]
        for name, python in order if round_number % 2 == 0 else order[::-1]:
            times[name].append(seconds(python, args.assignment))
            print(f"{name}: {times[name][-1]:.1f} s (load {os.getloadavg()[0]:.1f})")
    old, new = (statistics.median(times[k]) for k in ("old", "new"))
    print(f"{args.assignment}, 8 submissions, {args.rounds} rounds: median old {old:.1f} s, "
          f"new {new:.1f} s")
    print(f"ratio: {new / old:.3f}")


if __name__ == "__main__":
    main()
