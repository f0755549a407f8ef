"""The grader's time for the static analysis of one submission, for the costliest shapes
of solution cells it takes (hand_derived.MAX_ANALYSED_CHARS), against compiling them.

    .venv/bin/python benchmarks/static_analysis.py

Each shape fills the cap: a function reading thousands of free names defined in a large
other cell (63 s before the analysis was linear), one name bound and read thousands of
times, a flat list of names no cell binds. Beyond the cap the analysis parses nothing.
Prints, per shape, the characters, the analysis' seconds, what compiling the same cells
takes (Python does that in the sandbox anyway) and the ratio; the machine's load last.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from d2lcourse.autograder.evaluate import RemoteFunction  # noqa: E402
from d2lcourse.checks import core, hand_derived  # noqa: E402

SETUP = ["from d2lcourse import np, npx, autograd"]


def shapes(cap):
    """{name: solution cells} of about `cap` characters each."""
    helpers = cap // 75
    names = cap // 10
    return {
        "free names x a large cell": {
            "double": "def double(x):\n    return [" + ", ".join(
                f"f{i}(x)" for i in range(helpers)) + "]\n",
            "triple": "".join(f"def f{i}(x):\n    return x * {i} + np.exp(x) - np.log(x)\n"
                              for i in range(helpers))},
        "one name bound and read": {
            "double": "def double(x):\n    return [" + ", ".join(["g"] * names) + "]\n",
            "triple": "g = 1\n" * names},
        "names no cell binds": {
            "double": "def double(x):\n    return [" + ", ".join(
                f"n{i}" for i in range(cap // 8)) + "]\n",
            "triple": "x = 1\n"},
        "beyond the cap": {"double": "def double(x):\n    return x\n", "triple": "#" * (20 << 20)},
    }


def analyse(cells):
    analysis = hand_derived.analyse_submission(SETUP, cells)
    function = RemoteFunction(None, "double", cells["double"], analysis)
    return core.source_problem(function, tuple(core.HAND_DERIVED))


def seconds(run):
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main():
    cap = hand_derived.MAX_ANALYSED_CHARS
    print(f"cap: {cap:,} characters of solution cells")
    for name, cells in shapes(cap).items():
        size = sum(map(len, cells.values()))
        analysis = seconds(lambda: analyse(cells))
        compiling = 0.0 if size > cap else seconds(
            lambda: [compile(source, name, "exec") for source in cells.values()])
        ratio = f"{analysis / compiling:.1f}x compiling" if compiling else "not parsed"
        print(f"{name:28} {size:>11,} chars  {analysis:6.2f} s  ({ratio})")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
