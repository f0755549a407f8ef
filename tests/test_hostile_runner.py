"""A hostile runner: student code that speaks the protocol itself, stops reading it, lies
in its reports or hides what it calls. Each such submission scores what a blank one
scores, and the grader's own time and memory stay bounded.

The attacks are real submissions through the real bubblewrap sandbox: a solution cell
finds the runner's protocol pipe (a dup of fd 1, see runner.protocol_streams) in
/proc/self/fd and writes its own frames there, or patches the runner's modules.
"""
import csv
import functools
import io
import textwrap
import threading
import time
import tracemalloc

import psutil
import pytest

from d2lcourse.autograder import samples, wire
from d2lcourse.autograder.evaluate import TestCell, evaluate
from d2lcourse.autograder.sandbox import Limits, bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS, Assignment
from test_process_faults import markers, sleepy

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")

ASSIGNMENT = Assignment("00_sandbox", "sandbox.ipynb", ("double", "triple"))
SETUP = ["from d2lcourse import np, npx, autograd"]
TEST_DOUBLE = TestCell("test_double", textwrap.dedent("""
    from d2lcourse.checks import core
    x = core.random_array((3, 4), seed=0)
    core.assert_close(double, core.expect_array(double, core.call(double, x)), 2 * x)
    """), 2.0)
# The same, for a double that must be derived by hand (no autograd, no npx operators).
TEST_HAND_DERIVED = TestCell("test_double_by_hand", textwrap.dedent("""
    from d2lcourse.checks import core
    x = core.random_array((3, 4), seed=0)
    got = core.call(double, x, forbidden=core.HAND_DERIVED)
    core.assert_close(double, core.expect_array(double, got), 2 * x)
    """), 3.0)
TESTS = [TEST_DOUBLE, TEST_HAND_DERIVED]
GOOD = "def double(x):\n    return 2 * x\n"
BLANK = "def double(x):\n    raise NotImplementedError()\n"
QUICK = Limits(seconds=30)

# Student code: the runner's protocol output is the write-only pipe that is not fd 2.
RAW_FRAMES = textwrap.dedent('''
    import fcntl, os, stat, struct

    def protocol_fd():
        stderr = os.fstat(2).st_ino
        for name in os.listdir("/proc/self/fd"):
            try:
                status = os.fstat(int(name))
            except OSError:
                continue
            if stat.S_ISFIFO(status.st_mode) and status.st_ino != stderr and \\
                    fcntl.fcntl(int(name), fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                return int(name)

    def send_raw(payload, arrays=()):
        data = struct.pack("<Q", len(payload)) + payload
        for array in arrays:
            data += struct.pack("<Q", len(array)) + array
        fd = protocol_fd()
        while data:
            data = data[os.write(fd, data):]
    ''')


def grade(double_cell, triple_cell="def triple(x):\n    return 3 * x\n", limits=QUICK):
    return evaluate(ASSIGNMENT, SETUP, TESTS, {"double": double_cell, "triple": triple_cell},
                    limits)


@functools.lru_cache(maxsize=1)
def blank_verdict():
    return grade(BLANK)


def points(verdict):
    return {r.grade_id: r.points for r in verdict.results}


def frame_at_call(payload_expression, arrays_expression="()", prelude=""):
    """A double whose call answers with a frame of its own, then never returns."""
    return RAW_FRAMES + prelude + textwrap.dedent(f"""
        import json, time
        def double(x):
            send_raw({payload_expression}, {arrays_expression})
            time.sleep(600)
        """)


RESULT = '{"op": "result", "error": None, "apis_used": [], "arrays": 0, "values": ' \
         '{"value": %s, "args": {"t": "list", "v": []}}}'

HOSTILE_FRAMES = {
    "not JSON": 'b"\\xff\\xfe this is not json"',
    "JSON that is not an object": 'b"[1, 2, 3]"',
    "error of the wrong shape": 'json.dumps({"op": "result", "error": 42, "apis_used": [], '
                                '"values": {"value": {"t": "nonetype", "v": None}, '
                                '"args": {"t": "list", "v": []}}}).encode()',
    "an index that is a bool": 'json.dumps(%s).encode()' % (RESULT % '{"t": "ndarray", "i": True}'),
    "a float tag with garbage": 'json.dumps(%s).encode()' % (RESULT % '{"t": "float", "v": "1e5x"}'),
    "a 3 MB type tag": 'json.dumps(%s).encode()' % (RESULT % '{"t": "x" * (3 << 20), "v": 1}'),
    "a frame longer than allowed": 'b"{" * (5 << 20)',
}


@pytest.mark.parametrize("frame", HOSTILE_FRAMES.values(), ids=list(HOSTILE_FRAMES))
def test_a_malformed_reply_is_the_students_fault_only(frame):
    verdict = grade(frame_at_call(frame))
    assert verdict.status == "invalid_reply", verdict.message
    assert points(verdict) == {"test_double": 0.0, "test_double_by_hand": 0.0}
    assert len(verdict.message) < 500 and all(len(r.message) < 1000 for r in verdict.results)
    honest = grade(GOOD)   # the next submission is graded as if nothing happened
    assert (honest.status, points(honest)) == ("ok", {"test_double": 2.0,
                                                      "test_double_by_hand": 3.0})


def test_a_reply_written_while_the_cell_loads_is_invalid_too():
    garbage = RAW_FRAMES + 'send_raw(b"not json")\nimport time\ntime.sleep(600)\n' + GOOD
    verdict = grade(garbage)
    assert verdict.status == "invalid_reply" and sum(points(verdict).values()) == 0


def test_a_runner_that_stops_reading_times_out_instead_of_hanging_the_grader():
    """The runner answers "loaded" and never reads again; the grader's next request is
    larger than a pipe holds, so only a deadline on writes ends it, and the sandbox with
    it (a `sleep <marker>` started by the cell stands for what the submission runs)."""
    marker = f"4888.{time.monotonic_ns() % 100000}"
    stalls = sleepy(textwrap.dedent("""
        import d2lcourse.autograder.wire as wire
        wire.receive = lambda read_exactly: time.sleep(600)
        """) + GOOD, marker, seconds=0)
    big = TestCell("test_big", "from d2lcourse.checks import core\nfrom d2lcourse import np\n"
                               "core.call(double, np.zeros((4 << 20,)))\n", 1.0)
    found = {}
    assert grade(GOOD).status == "ok"  # the warm sandbox is ready: the 6 s go to the stall

    def run():
        found["verdict"] = evaluate(ASSIGNMENT, SETUP, [big], {"double": stalls},
                                    Limits(seconds=6))
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    started = []
    while worker.is_alive() and not started:
        worker.join(timeout=0.05)
        started = markers(marker)
    worker.join(timeout=60)
    assert not worker.is_alive(), "a runner that stopped reading hung the grader"
    verdict = found["verdict"]
    assert verdict.status == "timeout" and "did not finish within 6 s" in verdict.message
    assert started and not psutil.wait_procs(started, timeout=10)[1], "the sandbox outlived it"


def test_the_graders_memory_stays_bounded_however_a_reply_refers_to_its_arrays():
    """One 8 MB array referred to 400 times: 3.2 GB if every reference were decoded.
    tracemalloc sees every buffer and NumPy array the grader allocates for it."""
    value = '{"t": "list", "v": [{"t": "ndarray", "i": 0}] * 400}'
    payload = ('json.dumps({"op": "result", "error": None, "apis_used": [], "arrays": 1, '
               '"values": {"value": %s, "args": {"t": "list", "v": []}}}).encode()' % value)
    prelude = "import io, numpy\nnpy = io.BytesIO()\nnumpy.save(npy, numpy.zeros(1 << 20))\n"
    cell = frame_at_call(payload, "[npy.getvalue()]", prelude)
    tracemalloc.start()
    try:
        verdict = grade(cell)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verdict.status == "invalid_reply" and "decode to more than" in verdict.message
    assert peak < wire.MAX_DECODED_BYTES + (64 << 20), f"the grader grew by {peak >> 20} MB"


SILENCED_SPY = textwrap.dedent("""
    import contextlib
    import d2lcourse.checks.core as checks

    @contextlib.contextmanager
    def recording(names):
        yield []          # the sandbox's report: no forbidden API was used
    checks.recording = recording
    """)

EVASIONS = {
    "getattr with a computed name": SILENCED_SPY + textwrap.dedent("""
        def double(x):
            relu = getattr(npx, 're' + 'lu')
            return 2 * (relu(x) - relu(-x))
        """),
    "autograd under computed names": SILENCED_SPY + textwrap.dedent("""
        def double(x):
            x = x.copy()
            getattr(x, 'attach' + '_grad')()
            with getattr(autograd, 'rec' + 'ord')():
                y = (x * x).sum()
            getattr(y, 'back' + 'ward')()
            return getattr(x, 'gr' + 'ad') * 1
        """),
    "an aliased import": textwrap.dedent("""
        from mxnet.numpy_extension import relu as positive_part
        def double(x):
            return 2 * (positive_part(x) - positive_part(-x))
        """),
    "an imported autograd module": textwrap.dedent("""
        import mxnet.autograd as ag
        def double(x):
            x = x.copy()
            x.attach_grad()
            with ag.record():
                y = (x * x).sum()
            y.backward()
            return x.grad * 1
        """),
    "vars of a module": "def double(x):\n    r = vars(npx)['re' + 'lu']\n"
                        "    return 2 * (r(x) - r(-x))\n",
    "eval": "def double(x):\n    r = eval('npx.' + 're' + 'lu')\n    return 2 * (r(x) - r(-x))\n",
    "__import__": "def double(x):\n    r = __import__('mxnet').numpy_extension.relu\n"
                  "    return 2 * (r(x) - r(-x))\n",
    "importlib": "import importlib\ndef double(x):\n"
                 "    r = importlib.import_module('mxnet.numpy_extension').relu\n"
                 "    return 2 * (r(x) - r(-x))\n",
    "a legacy NDArray method": "def double(x):\n    r = lambda a: a.as_nd_ndarray().relu()."
                               "as_np_ndarray()\n    return 2 * (r(x) - r(-x))\n",
    "a module's __dict__": "def double(x):\n    r = npx.__dict__['re' + 'lu']\n"
                           "    return 2 * (r(x) - r(-x))\n",
}


@pytest.mark.parametrize("cell", EVASIONS.values(), ids=list(EVASIONS))
def test_hidden_forbidden_apis_score_what_a_blank_notebook_scores(cell):
    blank, verdict = blank_verdict(), grade(cell)
    assert verdict.status == "ok", verdict.message
    by_hand = verdict.results[1]
    assert by_hand.points == points(blank)["test_double_by_hand"] == 0.0
    assert "builds the name of a function at run time" in by_hand.message \
        or "which this exercise forbids" in by_hand.message \
        or "which hand-derived functions may not use" in by_hand.message, by_hand.message
    assert points(verdict)["test_double"] == 2.0, "the cell itself works: only the rule fails it"


def test_a_forbidden_api_bound_in_another_cell_is_found_there():
    verdict = grade("def double(x):\n    return 2 * (positive(x) - positive(-x))\n",
                    "positive = npx.relu\ndef triple(x):\n    return 3 * x\n")
    by_hand = verdict.results[1]
    assert by_hand.points == 0.0 and "from the cell of triple" in by_hand.message


def test_reported_seconds_are_never_more_than_the_grader_waited():
    lying = RAW_FRAMES + "import json\nsend_raw(json.dumps({'op': 'loaded', 'missing': {}, " \
                         "'seconds': 999999.0}).encode())\n" + GOOD
    verdict = grade(lying)
    assert verdict.student_seconds <= verdict.seconds


# --------------------------------------------------------------------------- a whole class

def test_a_class_with_hostile_runners_is_graded_and_the_others_keep_their_grades(tmp_path):
    """01_ndarray_autograd through `grade`: the reference, a blank notebook, a runner that
    writes garbage frames, and autograd hidden in the hand-derived grad_abs."""
    from d2lcourse.autograder.grade import Recorder
    from d2lcourse.autograder.grade import grade as grade_class
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    samples.copy_course(tmp_path, [assignment.id])
    Recorder(tmp_path, assignment).ensure_assignment()
    reference = samples.solution_sources(assignment.source_path(tmp_path))
    blank = samples.solution_sources(samples.release_path(tmp_path, assignment))
    first = assignment.functions[0]
    hidden_autograd = textwrap.dedent("""
        def grad_abs(x):
            x = x.copy()
            getattr(x, 'attach' + '_grad')()
            with getattr(autograd, 'rec' + 'ord')():
                y = np.abs(x).sum()
            getattr(y, 'back' + 'ward')()
            return getattr(x, 'gr' + 'ad') * 1
        """)
    students = {"reference": reference, "blank": {},
                "garbage_frames": {first: blank[first] + "\n" + RAW_FRAMES
                                   + 'send_raw(b"\\x00garbage")\n'},
                "hidden_autograd": {"grad_abs": hidden_autograd}}
    for student, replacements in students.items():
        samples.write_submission(tmp_path, assignment, student, replacements)
    verdicts = grade_class(assignment, tmp_path, limits=Limits(seconds=60), out=io.StringIO())
    with open(tmp_path / "reports" / assignment.id / "grades.csv") as stream:
        rows = {row["student_id"]: row for row in csv.DictReader(stream)}
    assert float(rows["reference"]["total"]) == float(rows["reference"]["max_total"]) > 0
    assert rows["garbage_frames"]["status"] == "invalid_reply"
    for hostile in ("garbage_frames", "hidden_autograd"):
        assert float(rows[hostile]["total"]) == float(rows["blank"]["total"]), \
            [r.message for r in verdicts[hostile].results if r.message]
    grad_abs = [r for r in verdicts["hidden_autograd"].results if r.function == "grad_abs"]
    assert grad_abs and all("builds the name" in r.message or "uses `autograd`" in r.message
                            for r in grad_abs)


# --------------------------------------------------------------------------- the notebook path

SOFTMAX_EVASIONS = {
    "the issue's getattr": "def softmax(O):\n    return getattr(npx, 'soft' + 'max')(O)\n",
    "an alias from an import": "from mxnet.numpy_extension import softmax as normalised\n"
                               "def softmax(O):\n    return normalised(O)\n",
    "a module bound to a name": "def softmax(O):\n    ops = npx\n"
                                "    return getattr(ops, 'soft' 'max')(O)\n",
    "globals()": "def softmax(O):\n    return globals()['n' + 'px'].softmax(O)\n",
}


@pytest.mark.parametrize("cell", SOFTMAX_EVASIONS.values(), ids=list(SOFTMAX_EVASIONS))
def test_the_notebook_path_judges_the_whole_cell_too(cell):
    """`d2lcourse check` and the notebook's own test cells (grading.define_functions puts
    each cell in linecache, as Jupyter does) reach the same verdict as the grader."""
    from d2lcourse import grading, notebooks
    assignment = ASSIGNMENTS["04_softmax_regression"]
    source = notebooks.read(assignment.source_path())
    sources = {**grading.solution_sources(source), "softmax": cell}
    results = grading.grade_sources(assignment, source, sources, only=("softmax",))
    assert results and all(r.points == 0 for r in results), [r.message for r in results]
    assert all("builds the name" in r.message or "forbids" in r.message
               or "as a value" in r.message for r in results)


def test_a_message_quoting_a_huge_student_value_is_cut_before_it_is_stored():
    """What a test reports may quote the student's value: its size is capped in the grader."""
    from d2lcourse.grading import MAX_MESSAGE_CHARS, MAX_OUTPUT_CHARS, run_test_cell
    quoting = TestCell("test_double", textwrap.dedent("""
        from d2lcourse.checks import core
        value = double(1)
        print(value)
        core.fail(double, f"returned {value!r}")
        """), 2.0)
    def double(x):
        return "x" * 10**7
    result = run_test_cell(ASSIGNMENT, quoting, {"double": double})
    assert result.points == 0
    assert result.message.startswith("double: returned 'xxx")
    assert "characters cut" in result.message and len(result.message) < MAX_MESSAGE_CHARS + 100
    assert len(result.output) < MAX_OUTPUT_CHARS + 100
