"""The `d2lcourse` command line: check, doctor, help, and wrong input to every command."""
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, ComputeChecksums

from d2lcourse import __version__, cli, doctor, notebooks
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import InvalidNotebook, find_submissions, read_submission
from d2lcourse.autograder.sandbox import Limits
from d2lcourse.course import ASSIGNMENTS

CALCULUS = ASSIGNMENTS["01_ndarray_autograd"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "d2lcourse.cli", *args],
                          capture_output=True, text=True, timeout=600)


def released_copy(tmp_path, replace=None):
    """The student's version of the calculus notebook, with some cells replaced."""
    notebook = notebooks.read(CALCULUS.source_path())
    notebook, _ = ClearSolutions().preprocess(notebook, {})
    notebook, _ = ClearHiddenTests().preprocess(notebook, {})
    for cell in notebook.cells:
        if notebooks.grade_id(cell) in (replace or {}):
            cell.source = replace[notebooks.grade_id(cell)]
    path = tmp_path / CALCULUS.notebook
    nbformat.write(notebook, str(path))
    return path


def test_check_passes_the_reference_notebook():
    result = run("check", str(CALCULUS.source_path()))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["ok"] * len(CALCULUS.functions)
    earned, possible = lines[-1].split()[0].split("/")
    assert earned == possible and float(possible) > 0


def test_check_says_what_is_wrong_one_line_per_function(tmp_path):
    path = released_copy(tmp_path, {"grad_quadratic_form": (
        "def grad_quadratic_form(A, x):\n    return 2 * A @ x\n")})
    result = run("check", str(path))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(CALCULUS.functions) + 1
    wrong = [line for line in lines if line.startswith("FAIL grad_quadratic_form")]
    assert wrong and "symmetric" in wrong[0]
    assert all("not implemented yet" in line for line in lines[:-1]
               if line.startswith("FAIL") and "grad_quadratic_form" not in line)


def test_check_names_setup_and_test_cells_changed_since_the_release(tmp_path):
    """The grader runs the released setup and test cells: a check that ran a student's
    edited ones says so (nbgrader's checksums, as `nbgrader validate` reads them)."""
    path = released_copy(tmp_path)
    notebook = notebooks.read(path)
    notebook, _ = ComputeChecksums().preprocess(notebook, {})
    nbformat.write(notebook, str(path))
    assert not run("check", str(path)).stdout.startswith("note:")
    for cell in notebook.cells:
        if notebooks.grade_id(cell) in ("test_grad_relu", "test_regions"):
            cell.source = "pass  # the student's own test\n"
    nbformat.write(notebook, str(path))
    result = run("check", str(path))
    assert result.stdout.splitlines()[0] == (
        "note: test_regions, test_grad_relu changed since the release; the grader runs the "
        "released cells, not these: copy them back from the released notebook")


def test_check_names_a_function_whose_test_cell_was_deleted(tmp_path):
    """A deleted test cell leaves its function unchecked, not unmentioned: the grader
    still runs the test."""
    path = released_copy(tmp_path)
    notebook = notebooks.read(path)
    notebook.cells = [c for c in notebook.cells if notebooks.grade_id(c) != "test_grad_relu"]
    nbformat.write(notebook, str(path))
    result = run("check", str(path))
    assert result.returncode == 1
    assert ("FAIL grad_relu: not checked: its test cell is not in this notebook, and the "
            "grader runs it. Copy the cell back from the released notebook"
            ) in result.stdout.splitlines()


ENDLESS_CALL = "def grad_relu(x):\n    open({started!r}, 'w').close()\n    while True:\n        pass\n"
ENDLESS_CELL = "open({started!r}, 'w').close()\nwhile True:\n    pass\n"


@pytest.mark.parametrize("endless,said", [
    (ENDLESS_CALL, "interrupted while test_grad_relu checked grad_relu ({done} of {tests} "
                   "tests done): if it never ends, look in grad_relu for a loop whose "
                   "condition never changes"),
    (ENDLESS_CELL, "interrupted while cell grad_relu ran, before any test: if it never ends, "
                   "look there for a loop outside any def")])
def test_ctrl_c_in_an_endless_loop_names_where_it_ran(tmp_path, endless, said):
    """A student stops a check that never ends: one line names the test or the cell that
    was running and where to look, with status 130 (before, only "interrupted")."""
    started = tmp_path / "started"
    path = released_copy(tmp_path, {"grad_relu": endless.format(started=str(started))})
    check = subprocess.Popen([sys.executable, "-m", "d2lcourse.cli", "check", str(path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not started.exists() and check.poll() is None:
            time.sleep(0.1)
        check.send_signal(signal.SIGINT)
        stdout, stderr = check.communicate(timeout=60)
    finally:
        check.kill()
    tests = [test.grade_id for test in notebooks.graded_tests(notebooks.read(path))]
    assert check.returncode == cli.INTERRUPTED and stdout == ""
    assert stderr.strip().splitlines() == ["d2lcourse check: " + said.format(
        done=tests.index("test_grad_relu"), tests=len(tests))]


@pytest.mark.parametrize("content", ["{not json", "", '{"cells": 7}'])
def test_check_names_an_unreadable_notebook_as_wrong_input(tmp_path, content):
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    result = run("check", str(path))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"d2lcourse check: cannot read {path} as a notebook")


def test_check_judges_a_notebook_by_its_cells_not_its_file_name(tmp_path):
    """01's released notebook saved under 05's name is checked as 01, and says so."""
    path = released_copy(tmp_path).rename(tmp_path / ASSIGNMENTS["05_mlp"].notebook)
    result = run("check", str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == (f"note: mlp.ipynb is the notebook of {CALCULUS.id} "
                        f"({CALCULUS.notebook}): checked as {CALCULUS.id}")
    assert [line.split()[1].rstrip(":") for line in lines[1:-1]] == list(CALCULUS.functions)
    assert lines[-1].startswith("0/")


def test_doctor_reports_and_exits_zero_here():
    result = run("doctor")
    assert result.returncode == 0, result.stdout
    assert "MXNet" in result.stdout and "1.9.1" in result.stdout


def tree(folder):
    """Every path under `folder`, with its size: to show that nothing was written."""
    return {(str(p), p.stat().st_size) for p in Path(folder).rglob("*")}


@pytest.fixture
def course(tmp_path):
    """A course with the calculus assignment released and one submission."""
    folder = samples.copy_course(tmp_path / "course", [CALCULUS.id])
    release = folder / "release" / CALCULUS.id
    release.mkdir(parents=True)
    released_copy(release)
    samples.write_submission(folder, CALCULUS, "ada", {})
    return folder


def usage_error(capsys, *args):
    """stderr of `d2lcourse ARGS`, after checking that it is a one- or two-line usage error."""
    assert cli.main(list(args)) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert 1 <= len(captured.err.strip().splitlines()) <= 2, captured.err
    return captured.err


@pytest.mark.parametrize("args, named", [
    (["06_cnn"], "unknown assignment '06_cnn'; the course has: 01_ndarray_autograd"),
    (["01_ndarray_autograd", "--workers", "0"], "--workers must be at least 1"),
    (["01_ndarray_autograd", "--timeout", "0"], "--timeout must be positive"),
    (["05_mlp"], "is not an nbgrader course with 05_mlp"),
    (["01_ndarray_autograd", "--student", "bo"], "no submission from bo in"),
    (["01_ndarray_autograd", "--student", "ada", "--student", "bo"], "(submitted: ada)"),
    (["01_ndarray_autograd", "--scheduler", "tcp://127.0.0.1:1"],
     "no Dask scheduler answers at tcp://127.0.0.1:1"),
])
def test_grade_names_wrong_input_and_changes_nothing(course, capsys, args, named):
    before, running = tree(course), children()
    assert named in usage_error(capsys, "grade", *args, "--course", str(course))
    assert tree(course) == before
    assert children() == running, "wrong input started a sandbox, a worker or a Dask client"


def children():
    """The pids of this process's descendants."""
    return {child.pid for child in psutil.Process().children(recursive=True)}


def test_grade_of_a_missing_course_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    error = usage_error(capsys, "grade", CALCULUS.id, "--course", str(missing))
    assert f"the course folder {missing} does not exist" in error
    assert not missing.exists()


def test_grade_without_submissions_names_the_folder_it_looked_in(course, capsys):
    shutil.rmtree(course / "submitted")
    before = tree(course)
    error = usage_error(capsys, "grade", CALCULUS.id, "--course", str(course))
    assert f"no submissions in {course / 'submitted'}/*/{CALCULUS.id}/" in error
    assert f"nbgrader collect {CALCULUS.id}" in error
    assert tree(course) == before


def test_other_commands_name_wrong_input(tmp_path, capsys):
    assert "no notebook at" in usage_error(capsys, "check", str(tmp_path / "none.ipynb"))
    assert "unknown assignment" in usage_error(capsys, "demo", "06_cnn")
    assert "--workers must be at least 1" in usage_error(capsys, "demo", "--workers", "0")
    (tmp_path / "notes.txt").write_text("mine")
    assert "no earlier demo made it" in usage_error(capsys, "demo", "--keep", str(tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_internal_error_is_one_line_unless_debug(monkeypatch, capsys):
    def broken():
        raise RuntimeError("the disk is on fire\nsecond line")

    monkeypatch.setattr(doctor, "main", broken)
    assert cli.main(["doctor"]) == 1
    assert capsys.readouterr().err == (
        "d2lcourse: internal error: RuntimeError: the disk is on fire "
        "(rerun with --debug for the traceback)\n")
    with pytest.raises(RuntimeError, match="on fire"):
        cli.main(["doctor", "--debug"])


def test_grade_help_shows_the_defaults_and_version_is_there(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["grade", "--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "on this machine (default: 1)" in help_text
    assert f"wall-clock limit per submission (default: {Limits.seconds:g})" in help_text
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out == f"d2lcourse {__version__}\n"


def test_a_renamed_notebook_is_named_with_the_expected_name(course):
    folder = course / "submitted" / "ada" / CALCULUS.id
    (folder / CALCULUS.notebook).rename(folder / "ndarray_autograd-Copy1.ipynb")
    (submission,) = find_submissions(course, CALCULUS)
    with pytest.raises(InvalidNotebook) as caught:
        read_submission(submission, CALCULUS)
    assert str(caught.value) == (
        "ndarray_autograd.ipynb is missing from the submission (found: "
        "ndarray_autograd-Copy1.ipynb): submit your notebook under the name "
        "ndarray_autograd.ipynb")


def test_the_graders_coordinator_and_nbgrader_commands_start_without_mxnet():
    """MXNet is for judging (the pool's workers, the sandbox): the coordinator of `d2lcourse
    grade --workers N` and every nbgrader command of a course (its plugin) load none, also
    as they follow each assignment's setup cells to the reference modules they import
    (which import MXNet), and neither does a pool worker before it starts its zygote."""
    code = ("import sys, d2lcourse.cli, d2lcourse.autograder.grade, "
            "d2lcourse.autograder.nbgrader_plugin\n"
            "from d2lcourse import notebooks\n"
            "from d2lcourse.course import ASSIGNMENTS\n"
            "from d2lcourse.autograder import module_view, sandbox\n"
            "for a in ASSIGNMENTS.values():\n"
            "    setup = notebooks.setup_sources(notebooks.read(a.source_path()))\n"
            "    allowed = module_view.sandbox_view(a, setup)[0]\n"
            "    sandbox.bound_paths(allowed)\n"
            "    if module_view.unpublished_problem(a, setup, ()):\n"
            "        print(a.id, allowed)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mxnet'))")
    *followed, loaded = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout.splitlines()
    assert any("softmax_regression" in line for line in followed), followed
    assert loaded == "[]"


def test_ctrl_c_while_the_gradebooks_pool_resets_a_connection_prints_no_traceback():
    """SQLAlchemy's pool logs a KeyboardInterrupt that lands while it rolls a connection
    back, with its traceback, then raises it again: under `grade`'s handler the interrupt
    arrives and the log does not; the pool's other errors still print."""
    script = """
import logging, sqlalchemy
from d2lcourse import cli
engine = sqlalchemy.create_engine("sqlite://")
connection = engine.connect()
handler = cli.NeverLostInterrupt()
def interrupted(dbapi_connection):
    raise KeyboardInterrupt
engine.dialect.do_rollback = interrupted
try:
    connection.close()
except KeyboardInterrupt:
    print("interrupted")
logging.getLogger("sqlalchemy.pool.impl.QueuePool").error(
    "another pool error", exc_info=(ValueError, ValueError("broken"), None))
handler.restore()
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "interrupted\n", run.stderr
    assert "KeyboardInterrupt" not in run.stderr, run.stderr
    assert "Exception during reset" not in run.stderr, run.stderr
    assert "another pool error" in run.stderr and "ValueError: broken" in run.stderr
