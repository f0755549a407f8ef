"""Grading speed: `d2lcourse grade --workers 2` against stock `nbgrader autograde`.

Builds one class of submissions of 04_softmax_regression (reference, blank and typical
mistakes, in rotation) and grades it twice in this run, each in its own copy of the
course: once with d2lcourse (sandbox and trusted verdicts on), once with stock nbgrader
(its own Execute, a Jupyter kernel per notebook). Prints both wall times, the
per-submission overhead of ours and, last, `ratio: X` (ours / stock). The overhead is
our grading time per notebook (wall time x workers / submissions) minus the mean time
the submissions spent in the student's own code (start-up, imports, tests, verdicts,
nbgrader's gradebook and feedback all count as overhead); `judging` is the part of it
spent in the workers (sandbox, wire, checks), the rest is start-up, nbgrader's gradebook
and feedback in the coordinator. The machine is shared: compare runs by their ratio, and
read the load averages printed before and after each half.

    .venv/bin/python benchmarks/grading.py [--students 40] [--workers 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from d2lcourse import mistakes
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import Recorder
from d2lcourse.course import ASSIGNMENTS

ASSIGNMENT = ASSIGNMENTS["04_softmax_regression"]
BIN = Path(sys.executable).parent
STOCK_CONFIG = """c = get_config()
c.CourseDirectory.course_id = "d2lcourse"
c.Exchange.root = {exchange!r}
c.Execute.timeout = 600
"""


def build_class(course, count):
    """`count` submissions cycling through the sample class (no hostile ones)."""
    catalogue, _ = mistakes.load(ASSIGNMENT)
    kinds = samples.sample_class(course, ASSIGNMENT, catalogue, hostile=False)
    names = list(kinds)
    for index in range(count):
        kind = names[index % len(names)]
        samples.write_submission(course, ASSIGNMENT, f"s{index:03d}_{kind}", kinds[kind])


def load():
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def timed(command, cwd=None):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    print(f"  before: {load()}")
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    print(f"  after:  {load()}")
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="d2lcourse-bench-") as scratch:
        ours = samples.copy_course(Path(scratch) / "ours", [ASSIGNMENT.id])
        Recorder(ours, ASSIGNMENT).ensure_assignment()
        build_class(ours, args.students)
        stock = samples.copy_course(Path(scratch) / "stock", [ASSIGNMENT.id])
        (stock / "nbgrader_config.py").write_text(
            STOCK_CONFIG.format(exchange=str(stock / "exchange")))
        subprocess.run([BIN / "nbgrader", "generate_assignment", ASSIGNMENT.id, "--force"],
                       cwd=stock, check=True, capture_output=True)
        subprocess.run(["cp", "-r", str(ours / "submitted"), str(stock)], check=True)

        print(f"{args.students} submissions of {ASSIGNMENT.id}, {os.cpu_count()} cores")
        our_seconds = timed([sys.executable, "-m", "d2lcourse.cli", "grade", ASSIGNMENT.id,
                             "--course", str(ours), "--workers", str(args.workers)])
        print(f"d2lcourse grade --workers {args.workers}: {our_seconds:.1f} s")
        stock_seconds = timed([str(BIN / "nbgrader"), "autograde", ASSIGNMENT.id], cwd=stock)
        print(f"nbgrader autograde (stock):   {stock_seconds:.1f} s")

        verdicts = [json.loads(p.read_text())["verdict"] for p in
                    (ours / "reports" / ASSIGNMENT.id / "verdicts").glob("*.json")]
        per_notebook = our_seconds * args.workers / len(verdicts)
        student = statistics.mean(v["student_seconds"] for v in verdicts)
        judging = statistics.median(v["seconds"] - v["student_seconds"] for v in verdicts)
        print(f"per notebook: {per_notebook:.2f} worker-seconds, of which the student's "
              f"code {student:.2f} s (mean over the class)")
        print(f"overhead_per_notebook: {per_notebook - student:.2f} s (judging: median "
              f"{judging:.2f} s)")
        print(f"ratio: {our_seconds / stock_seconds:.2f}")


if __name__ == "__main__":
    main()
