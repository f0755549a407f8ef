"""`d2lcourse grade --scheduler`: a real Dask scheduler and two workers on 127.0.0.1."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from d2lcourse import mistakes as catalogue
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import verdict_file_name
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS
from helpers import class_grades, copy_of

ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two single-threaded workers, each its own process."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = [open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "w1", "w2")]
    processes = [subprocess.Popen([f"{BIN}/dask", "scheduler", "--host", "127.0.0.1",
                                   "--port", str(port), "--no-dashboard"],
                                  stdout=logs[0], stderr=logs[0])]
    wait_for_port(port)
    for log in logs[1:]:
        processes.append(subprocess.Popen(
            [f"{BIN}/dask", "worker", address, "--nthreads", "1", "--no-nanny",
             "--no-dashboard", "--host", "127.0.0.1"], stdout=log, stderr=log))
    yield address, [p.pid for p in processes[1:]]
    for process in reversed(processes):  # the workers first: they close with the scheduler
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    for log in logs:
        log.close()


@pytest.mark.skipif(bubblewrap_problem() is not None, reason="bubblewrap cannot run here")
def test_grading_through_a_dask_cluster(cluster, released_course, tmp_path):
    address, worker_pids = cluster
    course = copy_of(released_course, tmp_path / "course")
    students = samples.sample_class(course, ASSIGNMENT, catalogue.load(ASSIGNMENT)[0][:1],
                                    hostile=False)
    for student, replacements in students.items():
        samples.write_submission(course, ASSIGNMENT, student, replacements)
    result = subprocess.run([sys.executable, "-m", "d2lcourse.cli", "grade", ASSIGNMENT.id,
                             "--course", str(course), "--scheduler", address],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = class_grades(course, ASSIGNMENT.id)
    assert set(rows) == set(students)
    verdicts = course / "reports" / ASSIGNMENT.id / "verdicts"
    reference = json.loads((verdicts / verdict_file_name("reference")).read_text())["verdict"]
    assert float(rows["reference"]["total"]) == float(rows["reference"]["max_total"]) > 0, \
        [(r["grade_id"], r["message"], r["output"][-2000:]) for r in reference["results"]
         if r["message"]]
    assert float(rows["blank"]["total"]) == 0
    graders = {json.loads((verdicts / verdict_file_name(s)).read_text())["verdict"]["graded_by"]
               for s in students}
    pids = {int(g.rsplit(":", 1)[1]) for g in graders}
    assert pids <= set(worker_pids), f"judged by {graders}, workers are {worker_pids}"
