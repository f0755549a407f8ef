"""The costliest submissions we can build, and the grader's time for each against --timeout.

Each attack is a notebook of 04_softmax_regression (the reference with hostile cells)
graded as `d2lcourse grade` grades one submission: read and decoded from disk, then
judged (its sandbox, the static analysis, every check's work in the grader, decoding the
replies, retries) by `evaluate`, with the reading time spent from its deadline. Printed
per attack: the grader's wall time, the status, and the overrun past the timeout; the
worst overrun, last, is the constant of README's bound (a submission costs the class at
most its timeout plus that). nbgrader's recording and feedback come after, per notebook,
and are not counted here. The warm sandbox is started first, as `grade` does.

    .venv/bin/python benchmarks/worst_case.py [--timeout 20] [--only NAME ...]
"""
import argparse
import json
import os
import tempfile
import textwrap
import time
from pathlib import Path

from d2lcourse import notebooks
from d2lcourse.autograder.evaluate import evaluate
from d2lcourse.autograder.sandbox import warm_up
from d2lcourse.autograder.grade import (
    MAX_NOTEBOOK_BYTES, MAX_NOTEBOOK_VALUES, InvalidNotebook, Submission, read_submission)
from d2lcourse.autograder.sandbox import Limits
from d2lcourse.autograder.wire import MAX_ARRAYS, MAX_JSON_BYTES, MAX_MESSAGE_BYTES
from d2lcourse.checks.hand_derived import MAX_ANALYSED_CHARS
from d2lcourse.course import ASSIGNMENTS, REPOSITORY

ASSIGNMENT = ASSIGNMENTS["04_softmax_regression"]
SOURCE = REPOSITORY / "assignments" / "source" / ASSIGNMENT.id / ASSIGNMENT.notebook

# Student code that replaces the runner's replies to calls by a frame of its own (it
# patches the runner's wire module in its own process): `FRAME` is built once.
REPLACE_REPLIES = '''
import struct
import d2lcourse.autograder.wire as _wire
_send = _wire.send
def _reply(stream, document, values=None):
    if document.get("op") != "result":
        return _send(stream, document, values)
    stream.write(FRAME)
    stream.flush()
_wire.send = _reply
'''


def reply_flood():
    """Every reply as costly to decode as the wire lets it be: MAX_ARRAYS references to
    arrays (each one an mxnet array to build) and the rest of the JSON budget in items."""
    return {"softmax": textwrap.dedent(f'''
        import json
        array = {{"t": "mxarray", "i": 0, "grad": None}}
        item = {{"t": "float", "v": "1.5"}}
        arrays = [{{"t": "list", "v": [array] * 1000}}] * ({MAX_ARRAYS} // 1000)
        items = [{{"t": "list", "v": [item] * 1000}}] * ({MAX_JSON_BYTES} // 33000)
        value = {{"t": "list", "v": arrays + items}}
        document = json.dumps({{"op": "result", "error": None, "apis_used": [], "arrays": 1,
                               "values": {{"value": value,
                                          "args": {{"t": "list", "v": []}}}}}}).encode()
        npy = _wire.save_array(__import__("numpy").zeros((4, 5), "float32"))
        FRAME = struct.pack("<Q", len(document)) + document + struct.pack("<Q", len(npy)) + npy
        ''') + REPLACE_REPLIES + "def softmax(O):\n    return O\n"}


def huge_arrays():
    """Every function returns the largest array the wire lets through: the grader reads
    it, builds an mxnet array of it, and the checks convert it to float64."""
    count = (MAX_MESSAGE_BYTES >> 2) - (1 << 20)
    shared = f"from d2lcourse import np\nBIG = np.ones(({count},), dtype='float32')\n"
    return {name: (shared if name == "softmax" else "")
            + f"def {name}{signature}:\n    return BIG\n"
            for name, signature in SIGNATURES.items()}


def static_analysis():
    """The shape the static analysis once paid names x cell size for: a hand-derived
    function that reads thousands of helpers, all defined in one other cell, as large
    as the analysis takes (MAX_ANALYSED_CHARS)."""
    count = (MAX_ANALYSED_CHARS - (16 << 10)) // 60
    helpers = "".join(f"def helper_{i}(x):\n    return x + {i}\n" for i in range(count))
    uses = ", ".join(f"helper_{i}(0)" for i in range(count))
    return {"softmax": f"def softmax(O):\n    return O * 0 + sum([{uses}])\n",
            "cross_entropy": helpers + "def cross_entropy(y_hat, y):\n    return y_hat\n"}


def death_before_deadline(timeout):
    """Dies (SIGSEGV) a moment before the deadline, every time: once, graded again."""
    return {"softmax": textwrap.dedent(f"""
        import os, signal, time
        _loaded = time.monotonic()
        def softmax(O):
            time.sleep(max(0.0, {timeout} - 2.5 - (time.monotonic() - _loaded)))
            os.kill(os.getpid(), signal.SIGSEGV)
        """)}


def linger_without_pipes(timeout):
    """Closes its pipes to the grader a moment before the deadline and keeps running:
    the grader waits for an exit that does not come, then diagnoses, then retries."""
    return {"softmax": textwrap.dedent(f"""
        import os, time
        _loaded = time.monotonic()
        def softmax(O):
            time.sleep(max(0.0, {timeout} - 2.5 - (time.monotonic() - _loaded)))
            for fd in range(3, 1024):
                try:
                    os.close(fd)
                except OSError:
                    pass
            time.sleep(3600)
        """)}


def huge_notebook():
    """A notebook just under the size cap: as much solution code as the grader takes
    (each parse of it is one call into C), the rest in a markdown cell."""
    code = "".join(f"value_{i} = {i}\n" for i in range(MAX_ANALYSED_CHARS // 10))
    return {"softmax": code[:MAX_ANALYSED_CHARS - (16 << 10)] + "def softmax(O):\n    return O\n"}


def many_values():
    """A notebook as large as the cap, of tiny cells: more JSON values than a notebook
    may hold, found after parsing (in C) and before anything else reads it."""
    return {}


def values_under_cap():
    """As many cells as the value cap lets through, each as large as the size cap lets
    them be: all of it read, converted and handed on."""
    return {}


def endless_loop():
    """The plain timeout, for comparison."""
    return {"softmax": "def softmax(O):\n    while True:\n        pass\n"}


SIGNATURES = {"softmax": "(O)", "cross_entropy": "(y_hat, y)",
              "softmax_cross_entropy": "(O, y)", "softmax_cross_entropy_grad": "(O, y)",
              "accuracy": "(y_hat, y)", "softmax_regression": "(X, W, b)",
              "train_softmax_regression": "(X_train, y_train, num_epochs=10, lr=0.1, "
                                          "batch_size=256)"}
ATTACKS = {
    "reply_flood": lambda timeout: reply_flood(),
    "huge_arrays": lambda timeout: huge_arrays(),
    "static_analysis": lambda timeout: static_analysis(),
    "death_before_deadline": death_before_deadline,
    "linger_without_pipes": linger_without_pipes,
    "huge_notebook": lambda timeout: huge_notebook(),
    "many_values": lambda timeout: many_values(),
    "values_under_cap": lambda timeout: values_under_cap(),
    "endless_loop": lambda timeout: endless_loop(),
}


# Cells that fill an attack's notebook up to the size cap: (number of cells, characters
# in each; None: as many, or as large, as fills it). A markdown cell holds 5 JSON values
# (itself, cell_type, id, metadata, source) in 80 characters around its text.
PADDING = {"huge_notebook": (1, None), "many_values": (None, 1),
           "values_under_cap": (MAX_NOTEBOOK_VALUES // 5 - 1000, None)}


def write_notebook(folder, name, replacements):
    """The source notebook with `replacements` in its solution cells, filled up to the
    size cap as PADDING says."""
    notebook = notebooks.read(SOURCE)
    for function, cell in notebooks.cells_by_id(notebook, notebooks.is_solution_cell).items():
        cell.source = replacements.get(function, cell.source)
    path = Path(folder) / ASSIGNMENT.notebook
    notebooks.write(notebook, path)
    if name in PADDING:
        count, size = PADDING[name]
        room = MAX_NOTEBOOK_BYTES - path.stat().st_size - (64 << 10)
        count = count or room // (size + 80)
        size = size or room // count - 80
        notebook.cells += [{"cell_type": "markdown", "id": f"p{index}", "metadata": {},
                            "source": "x" * size} for index in range(count)]
        path.write_text(json.dumps(notebook))
    return path


def grader_time(path, setup, tests, limits):
    """(seconds, status, message) of reading and judging one submission, as `grade`
    does (a notebook it refuses to read is not judged)."""
    started = time.monotonic()
    try:
        solutions = read_submission(Submission("attacker", path, "digest"), ASSIGNMENT)
    except InvalidNotebook as error:
        return time.monotonic() - started, "invalid_notebook", str(error)
    verdict = evaluate(ASSIGNMENT, setup, tests, solutions, limits,
                       spent=time.monotonic() - started)
    return time.monotonic() - started, verdict.status, verdict.message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", choices=list(ATTACKS), default=list(ATTACKS))
    args = parser.parse_args()
    source = notebooks.read(SOURCE)
    setup = notebooks.setup_sources(source)
    tests = notebooks.graded_tests(source)
    limits = Limits(seconds=args.timeout)
    warm_up(ASSIGNMENT, setup)
    print(f"load {os.getloadavg()[0]:.1f}; --timeout {args.timeout:g} s; "
          f"{ASSIGNMENT.id}, {len(tests)} tests")
    worst = None
    with tempfile.TemporaryDirectory(prefix="d2lcourse-worst-") as scratch:
        for name in args.only:
            folder = Path(scratch) / name
            folder.mkdir()
            path = write_notebook(folder, name, ATTACKS[name](args.timeout))
            seconds, status, message = grader_time(path, setup, tests, limits)
            over = seconds - args.timeout
            print(f"{name:<24} {seconds:6.1f} s  (timeout {args.timeout:g} s, over by "
                  f"{over:+5.1f} s)  {path.stat().st_size >> 20:>2} MB  {status}: "
                  f"{message[:90]}", flush=True)
            if worst is None or over > worst[1]:
                worst = (name, over, seconds)
    name, over, seconds = worst
    print(f"worst: {name}, {seconds:.1f} s under --timeout {args.timeout:g}: "
          f"over by {over:+.1f} s")


if __name__ == "__main__":
    main()
