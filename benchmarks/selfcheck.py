"""How long `d2lcourse check` takes on the calculus notebook beyond importing MXNet.

Runs, side by side in one run, `python -c "import d2lcourse.checks.core"` (MXNet's import
and the checking library) and `d2lcourse check` on the reference calculus notebook, a
few times each, and prints the medians and `check_beyond_import_seconds: X` (goal: <= 3).

    .venv/bin/python benchmarks/selfcheck.py [--repeat 5]
"""
import argparse
import statistics
import subprocess
import sys
import time

from d2lcourse.course import ASSIGNMENTS

NOTEBOOK = str(ASSIGNMENTS["01_ndarray_autograd"].source_path())


def seconds(command):
    started = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    imports, checks = [], []
    for _ in range(args.repeat):
        imports.append(seconds([sys.executable, "-c", "import d2lcourse.checks.core"]))
        checks.append(seconds([sys.executable, "-m", "d2lcourse.cli", "check", NOTEBOOK]))
    print(f"import MXNet + checks (median of {args.repeat}): {statistics.median(imports):.2f} s")
    print(f"d2lcourse check calculus (median of {args.repeat}): {statistics.median(checks):.2f} s")
    print(f"check_beyond_import_seconds: "
          f"{statistics.median(checks) - statistics.median(imports):.2f}")


if __name__ == "__main__":
    main()
