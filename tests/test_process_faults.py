"""Processes killed from outside while grading: real SIGKILLs of runners, warm sandboxes,
pool workers, the grader itself and the Dask scheduler (issue 10, rows 2, 9 and 10).

An outside kill is graded again and earns exactly the grade of an undisturbed run; a
submission that kills itself still ends `crashed`; nothing of a killed run stays alive.
Each victim is found through a marker: the student's cell starts `sleep <marker>`, whose
ancestors are the runner, the pool worker and the grader.
"""
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import nbformat
import psutil
import pytest

from d2lcourse.autograder import cgroups, samples
from d2lcourse.autograder import sandbox as sandboxes
from d2lcourse.autograder.grade import Recorder, grade as grade_course
from d2lcourse.autograder.workers import Job, judge
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS, REPOSITORY
from d2lcourse.model import Status
from test_dask import BIN, free_port, wait_for_port
from test_sandbox import ASSIGNMENT, GOOD, QUICK, SETUP, TEST_DOUBLE, grade, points

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")
COURSE_ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]


def sleepy(cell, marker, seconds=2):
    """`cell` that first starts `sleep <marker>` and waits, so that a test can kill."""
    return (f"import subprocess, time\nsubprocess.Popen(['sleep', '{marker}'])\n"
            f"time.sleep({seconds})\n{cell}")


def markers(marker):
    return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", marker]]


class Killer(threading.Thread):
    """Each time a new `sleep <marker>` appears (up to `times`), SIGKILL `victim(process)`."""

    def __init__(self, marker, victim, times=1):
        super().__init__(daemon=True)
        self.marker, self.victim, self.times = marker, victim, times
        self.killed, self.stopped = [], threading.Event()
        self.start()

    def run(self):
        seen = set()
        while len(self.killed) < self.times and not self.stopped.wait(0.05):
            for process in markers(self.marker):
                if process.pid not in seen:
                    seen.add(process.pid)
                    try:
                        target = self.victim(process)
                        os.kill(target, signal.SIGKILL)
                        self.killed.append(target)
                    except (psutil.Error, ProcessLookupError, StopIteration):
                        pass  # gone already, or not (yet) where we look: fails the count

    def stop(self):
        self.stopped.set()
        self.join()
        return self.killed


def runner_of(marker):
    return marker.parent().pid


def warm_sandbox_of(marker):
    """The zygote that forked the marker's runner: the oldest Python process in the
    bubblewrap sandbox that holds the marker."""
    with sandboxes.warm_sandboxes.lock:
        bubblewraps = {z.process.pid for z in sandboxes.warm_sandboxes.zygotes.values()}
    bubblewrap = psutil.Process(ancestor_among(marker, bubblewraps))
    pythons = [p for p in bubblewrap.children(recursive=True)
               if "--zygote" in command_line(p) and "bwrap" not in command_line(p)]
    return min(pythons, key=lambda p: p.create_time()).pid


def ancestor_among(process, pids):
    return next(p.pid for p in process.parents() if p.pid in pids)


def command_line(process):
    """Its command line, or "" once it is gone (a zombie has none)."""
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def killed_while_graded(cell, victim, times=1, limits=QUICK):
    marker = f"{4000 + len(cell) % 1000}.{time.monotonic_ns() % 100000}"
    killer = Killer(marker, victim, times)
    try:
        verdict = grade(sleepy(cell, marker), limits)
    finally:
        killed = killer.stop()
    assert len(killed) == times, f"killed {killed}, meant {times} kill(s)"
    return verdict


@pytest.fixture(scope="module")
def undisturbed():
    return grade(sleepy(GOOD, "4999.1", seconds=0))


@pytest.mark.parametrize("victim", [runner_of, warm_sandbox_of])
def test_a_sandbox_killed_from_outside_is_graded_again_from_the_start(victim, undisturbed):
    verdict = killed_while_graded(GOOD, victim)
    assert (verdict.status, verdict.message) == (undisturbed.status, undisturbed.message) \
        == ("ok", "")
    assert points(verdict) == points(undisturbed) == {"test_double": 2.0}


def test_a_warm_sandbox_killed_twice_leaves_the_submission_ungraded():
    verdict = killed_while_graded(GOOD, warm_sandbox_of, times=2)
    assert verdict.status == Status.UNGRADED
    assert verdict.message == ("the warm sandbox was killed from outside (SIGKILL) twice: "
                               "check the host's OOM killer (dmesg) and rerun")
    assert [r.message for r in verdict.results] == [f"not graded: {verdict.message}"]
    assert grade(GOOD).status == "ok", "the next submission gets a new warm sandbox"


@pytest.mark.parametrize("dying,evidence", [
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
     "was killed by SIGKILL twice, the second time in a fresh sandbox"),
    ("import os\nos._exit(3)\n", "exited (status 3) twice, the second time in a fresh sandbox"),
])
def test_a_submission_that_kills_itself_cannot_dodge_its_grade(dying, evidence):
    verdict = grade(dying + GOOD)
    assert verdict.status == "crashed"
    assert evidence in verdict.message
    assert "remove that call" in verdict.message
    assert points(verdict) == {"test_double": 0.0}


# --------------------------------------------------------------------------- pools and runs

def nbgrader_cell(source, grade_id, **flags):
    """A code cell with nbgrader's metadata (`solution`, `grade`, `points`)."""
    metadata = {"grade": False, "solution": False, "locked": True, "schema_version": 3,
                "grade_id": grade_id, **flags}
    if metadata["solution"]:
        metadata["locked"] = False
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": metadata})


@pytest.fixture(scope="module")
def sandbox_course(tmp_path_factory):
    """An nbgrader course whose one assignment is test_sandbox's (`double`, 2 points)."""
    course = tmp_path_factory.mktemp("sandbox") / "course"
    source = course / "source" / ASSIGNMENT.id
    source.mkdir(parents=True)
    shutil.copy(REPOSITORY / "assignments" / "nbgrader_config.py", course)
    notebook = nbformat.v4.new_notebook(cells=[
        nbgrader_cell(SETUP[0], "setup"),
        nbgrader_cell(f"### BEGIN SOLUTION\n{GOOD}### END SOLUTION\n", "double",
                      solution=True),
        nbgrader_cell(TEST_DOUBLE.source, "test_double", grade=True, points=2.0)])
    nbformat.write(notebook, str(source / ASSIGNMENT.notebook))
    Recorder(course, ASSIGNMENT).ensure_assignment()
    return course


@pytest.fixture(scope="module")
def released_course(tmp_path_factory):
    """A course with assignment 01 in its gradebook and no submissions yet."""
    course = samples.copy_course(tmp_path_factory.mktemp("released") / "course",
                                 [COURSE_ASSIGNMENT.id])
    Recorder(course, COURSE_ASSIGNMENT).ensure_assignment()
    return course


def submit(course, assignment, students):
    for student, replacements in students.items():
        samples.write_submission(course, assignment, student, replacements)


class NotebookMain:
    """The `__main__` that IPython installs (no __spec__): grade() from a notebook."""


def test_the_local_pool_survives_a_killed_worker(sandbox_course, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "__main__", NotebookMain())
    course = shutil.copytree(sandbox_course, tmp_path / "course")
    submit(course, ASSIGNMENT, {"good": {"double": GOOD},
                                "sleepy": {"double": sleepy(GOOD, "4242.9", seconds=3)}})
    own = psutil.Process()

    def worker_judging(marker):
        return ancestor_among(marker, {p.pid for p in own.children()})

    killer = Killer("4242.9", worker_judging)
    try:
        verdicts = grade_course(ASSIGNMENT, course, workers=2, out=io.StringIO())
    finally:
        killed = killer.stop()
    assert len(killed) == 1
    assert {s: (v.status, points(v)) for s, v in verdicts.items()} == {
        "good": ("ok", {"test_double": 2.0}), "sleepy": ("ok", {"test_double": 2.0})}
    assert verdicts["sleepy"].graded_by.rsplit(":", 1)[1] != str(killed[0])
    assert alive(p for p in own.children() if "spawn_main" in command_line(p)) == [], \
        "the pool's workers outlived the run"


def test_killing_grade_ends_its_workers_warm_sandboxes_and_cgroups(released_course, tmp_path):
    course = shutil.copytree(released_course, tmp_path / "course")
    reference = samples.solution_sources(COURSE_ASSIGNMENT.source_path(course))
    first = COURSE_ASSIGNMENT.functions[0]
    submit(course, COURSE_ASSIGNMENT, {
        "blank": {}, "sleepy": {**reference, first: sleepy(reference[first], "4343.9", 30)}})
    grader = subprocess.Popen([sys.executable, "-m", "d2lcourse.cli", "grade",
                               COURSE_ASSIGNMENT.id, "--course", str(course), "--workers", "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not markers("4343.9") and grader.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not markers("4343.9"):
            grader.kill()
            pytest.fail(f"the sleepy submission never ran: {grader.communicate()[1][-2000:]}")
        run = psutil.Process(grader.pid).children(recursive=True)
        names = {p.pid: command_line(p) for p in run}
        workers = [p.pid for p in psutil.Process(grader.pid).children()]
        running = cgroups_of(workers)  # the sleepy submission's, while it runs
    finally:
        grader.kill()
        grader.wait()
    assert any("resource_tracker" in n for n in names.values())
    assert sum("bwrap" in n and "--zygote" in n for n in names.values()) >= 2
    deadline = time.monotonic() + 10
    while alive(run) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [names.get(p.pid) for p in alive(run)] == [], "outlived the killed grader"
    assert running, "a running submission has its cgroups"
    # The killed run cannot remove them: the next start does (another test's grade on the
    # other xdist worker may be that start, so they may be gone already).
    cgroups.remove_abandoned()
    assert cgroups_of(workers) == []


def alive(processes):
    living = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                living.append(process)
        except psutil.NoSuchProcess:
            pass
    return living


def cgroups_of(pids):
    return [path for pid in pids for hierarchy in (cgroups.ROOT, cgroups.ROOT / "pids",
                                                   cgroups.ROOT / "memory")
            for path in hierarchy.glob(f"{cgroups.PREFIX}{pid}-*")]


# --------------------------------------------------------------------------- Dask

def test_a_lost_dask_scheduler_leaves_the_rest_ungraded_with_one_line(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "cluster.log", "w")
    scheduler = subprocess.Popen([f"{BIN}/dask", "scheduler", "--host", "127.0.0.1", "--port",
                                  str(port), "--no-dashboard"], stdout=log, stderr=log)
    processes = [scheduler]
    try:
        wait_for_port(port)
        processes.append(subprocess.Popen(
            [f"{BIN}/dask", "worker", address, "--nthreads", "1", "--no-nanny",
             "--no-dashboard", "--host", "127.0.0.1"], stdout=log, stderr=log))
        jobs = [Job(student, ASSIGNMENT, SETUP, [TEST_DOUBLE], {"double": cell}, QUICK, True,
                    None) for student, cell in (("first", sleepy(GOOD, "4444.9", 30)),
                                                ("second", GOOD))]
        killer = Killer("4444.9", lambda _: scheduler.pid)
        try:
            verdicts = dict(judge(jobs, scheduler=address))
        finally:
            killer.stop()
    finally:
        for process in processes:
            process.kill()
            process.wait()
        log.close()
    assert verdicts["first"].status == Status.UNGRADED
    assert verdicts["second"].status in ("ok", Status.UNGRADED)  # judged before the loss, or not
    assert verdicts["first"].message == f"lost the Dask scheduler at {address}: restart it and rerun"
