"""The grader's own time is inside each submission's limit (issue 15, class 6).

One `Deadline` per submission is spent by everything the grader does for it: the
sandbox's waits, a death graded again, and the grader's own work (static analysis,
decoding, checks), which a watchdog interrupts. Nothing here measures wall time: each
test asserts the status a deadline decides, and would get another one if the grader's
time escaped it again (benchmarks/worst_case.py measures the seconds).
"""
import io
import json
import shutil
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy
import pytest

from d2lcourse.autograder import samples, wire
from d2lcourse.autograder.deadline import Deadline, OutOfTime
from d2lcourse.autograder.evaluate import TestCell, evaluate
from d2lcourse.autograder.sandbox import Limits, bubblewrap_problem, warm_up
from d2lcourse.autograder.grade import (
    MAX_NOTEBOOK_VALUES, RECORDING_BUDGET, InvalidNotebook, Submission, read_submission,
    within_recording_budget)
from d2lcourse.checks.hand_derived import MAX_ANALYSED_CHARS
from d2lcourse.course import ASSIGNMENTS, REPOSITORY
from test_process_faults import Killer, runner_of, sleepy
from test_sandbox import ASSIGNMENT, GOOD, SETUP, TEST_DOUBLE, points

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")
LIMITS = Limits(seconds=30)
# Trusted test code whose grader-side work never ends by itself (as a slow oracle or
# comparison on a submission's value would not), and which swallows every Exception.
ENDLESS_CHECK = TestCell("test_endless_check", textwrap.dedent("""
    import time
    from d2lcourse.checks import core
    core.call(double, core.random_array((3, 4), seed=0))
    stop = time.monotonic() + 120
    while time.monotonic() < stop:
        try:
            sum(range(1000))
        except Exception:
            pass
    """), 1.0)


@pytest.fixture(scope="module", autouse=True)
def warm():
    """The warm sandbox is started before any deadline runs."""
    warm_up(ASSIGNMENT, SETUP)


class ShiftedClock:
    """The monotonic clock, plus a shift that a test moves forward."""

    def __init__(self):
        self.shift = 0.0

    def __call__(self):
        return time.monotonic() + self.shift


def test_a_death_near_the_deadline_is_graded_again_only_in_the_time_left():
    """The runner is killed from outside with 3 s of 30 left: graded again, the cell
    (which sleeps 10 s) cannot finish in those 3 s. Given a fresh deadline, it would."""
    clock = ShiftedClock()
    deadline = Deadline(LIMITS.seconds, clock)
    marker = f"4777.{time.monotonic_ns() % 100000}"

    def near_the_deadline(process):
        clock.shift += deadline.left() - 3.0
        return runner_of(process)

    killer = Killer(marker, near_the_deadline)
    try:
        verdict = evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE],
                           {"double": sleepy(GOOD, marker, seconds=10)}, LIMITS,
                           deadline=deadline)
    finally:
        killed = killer.stop()
    assert len(killed) == 1
    assert verdict.status == "timeout", verdict.message
    assert points(verdict) == {"test_double": 0.0}


def test_the_graders_own_work_for_a_submission_is_inside_its_deadline():
    """A check that would run for two minutes ends at the deadline, as `timeout`; the
    test that finished before it keeps its points."""
    verdict = evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE, ENDLESS_CHECK], {"double": GOOD},
                       Limits(seconds=15))
    assert verdict.status == "timeout", verdict.message
    assert points(verdict) == {"test_double": 2.0, "test_endless_check": 0.0}
    assert evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE], {"double": GOOD}, LIMITS).status == "ok"


def test_the_time_spent_reading_a_notebook_is_spent_from_its_deadline():
    verdict = evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE], {"double": GOOD}, LIMITS,
                       spent=LIMITS.seconds)
    assert verdict.status == "timeout"
    assert points(verdict) == {"test_double": 0.0}


def test_a_watchdog_never_fires_after_its_run_returned():
    assert Deadline(0.2).run(sum, range(10)) == 45
    time.sleep(0.5)  # past that deadline: an OutOfTime raised now would end this test
    with pytest.raises(OutOfTime):
        Deadline(0.0).run(busy_for, 60)


def busy_for(seconds):
    """Python work that ends by itself only after `seconds`."""
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        sum(range(1000))


@pytest.mark.parametrize("padding", [
    "x" * (MAX_ANALYSED_CHARS + 1),                  # more code than the grader parses
    "\x01" * (wire.MAX_JSON_BYTES // 6 + 1),         # less, but more than one message
], ids=["code", "message"])
def test_solution_cells_too_large_to_grade_are_the_students_not_ungraded(padding):
    verdict = evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE], {"double": f"{GOOD}# {padding}\n"},
                       LIMITS)
    assert verdict.status == "invalid_notebook"
    assert "too large to grade" in verdict.message
    assert points(verdict) == {"test_double": 0.0}


def test_a_notebook_of_more_values_than_the_cap_is_refused_once_parsed(tmp_path):
    """nbformat's validation of 20 MB of tiny cells took a minute of the grader's time,
    before any deadline; the cap refuses them after JSON's parse, linear and in C."""
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    notebook = json.loads(assignment.source_path(REPOSITORY / "assignments").read_text())
    notebook["cells"] += [{"cell_type": "markdown", "metadata": {}, "source": ""}] \
        * (MAX_NOTEBOOK_VALUES // 4)
    path = tmp_path / assignment.notebook
    path.write_text(json.dumps(notebook))
    with pytest.raises(InvalidNotebook, match=f"more than {MAX_NOTEBOOK_VALUES} JSON values"):
        read_submission(Submission("many", path, "digest"), assignment)


def reply_referring(times):
    """A result message whose value refers to its one (empty) array `times` times."""
    value = {"t": "list", "v": [{"t": "mxarray", "i": 0, "grad": None}] * times}
    document = json.dumps({"op": "result", "error": None, "apis_used": [], "arrays": 1,
                           "values": {"value": value, "args": {"t": "list", "v": []}}})
    npy = wire.save_array(numpy.zeros(0, "float32"))
    data = io.BytesIO(struct.pack("<Q", len(document)) + document.encode()
                      + struct.pack("<Q", len(npy)) + npy)
    return lambda size: data.read(size)


def test_a_reply_decodes_to_at_most_as_many_arrays_as_a_message_may_carry():
    """Each reference builds an mxnet array (0.1 ms each): 100,000 of them cost the
    grader 10 s, in budget by bytes."""
    _, values = wire.receive(reply_referring(wire.MAX_ARRAYS))
    assert len(values["value"]) == wire.MAX_ARRAYS
    with pytest.raises(wire.WireError, match=f"refer to arrays more than {wire.MAX_ARRAYS}"):
        wire.receive(reply_referring(wire.MAX_ARRAYS + 1))


@pytest.fixture
def rootless_course(tmp_path):
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    course = samples.copy_course(tmp_path / "course", [assignment.id])
    folder = course / "submitted" / "alice" / assignment.id
    folder.mkdir(parents=True)
    shutil.copy(assignment.source_path(course), folder)
    return course, assignment


def in_rootless_container(*argv):
    """A d2lcourse command as root in a user namespace that maps no other id."""
    command = [str(Path(sys.executable).parent / "d2lcourse"), *argv]
    return subprocess.run(["unshare", "--user", "--map-root-user", *command],
                          capture_output=True, text=True, timeout=300)


def test_in_a_rootless_container_grade_names_the_fix_on_one_line_and_exits_2(
        rootless_course):
    course, assignment = rootless_course
    before = sorted(path.name for path in course.iterdir())
    result = in_rootless_container("grade", assignment.id, "--course", str(course))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "rootless container" in result.stderr and "map a range of" in result.stderr
    assert sorted(path.name for path in course.iterdir()) == before, "nothing is written"
    problem = result.stderr.split("without a sandbox: ", 1)[1].split(" (or pass")[0]
    doctor = in_rootless_container("doctor")
    assert problem in doctor.stdout


def test_what_nbgrader_records_is_bounded_whatever_the_notebook_holds():
    """nbgrader's recording and feedback run after the deadline: they get every graded cell
    and at most RECORDING_BUDGET bytes of the rest, whatever the student added."""
    release = json.loads(ASSIGNMENTS["01_ndarray_autograd"].source_path().read_text())
    graded = [c for c in release["cells"] if "nbgrader" in c.get("metadata", {})]
    noise = [{"cell_type": "markdown", "metadata": {}, "source": f"note {i} " + "x" * 200}
             for i in range(40_000)]
    printing = {**graded[0], "outputs": [{"output_type": "stream", "name": "stdout",
                                          "text": "y" * (3 << 20)}]}
    submitted = {**release, "cells": noise[:20_000] + [printing] + graded[1:] + noise[20_000:]}
    data = json.dumps(submitted).encode()
    recorded = json.loads(within_recording_budget(data))
    kept = [c for c in recorded["cells"] if "nbgrader" in c.get("metadata", {})]
    assert [c["metadata"]["nbgrader"] for c in kept] == [c["metadata"]["nbgrader"] for c in graded]
    assert kept[0]["outputs"] == []                       # 3 MB of print: left out
    others = [c for c in recorded["cells"] if "nbgrader" not in c.get("metadata", {})]
    assert sum(len(json.dumps(c)) for c in others) <= RECORDING_BUDGET + 1000
    assert "not shown here" in recorded["cells"][-1]["source"]
    small = json.dumps(release).encode()
    assert within_recording_budget(small) == small        # an ordinary notebook as it is
