"""The `d2lcourse` command line: check, doctor, and the errors of grade."""
import subprocess
import sys

import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from d2lcourse import cli, notebooks
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


def test_check_names_an_unreadable_notebook(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    result = run("check", str(path))
    assert result.returncode == 1 and "cannot read" in result.stderr


def test_doctor_reports_and_exits_zero_here():
    result = run("doctor")
    assert result.returncode == 0, result.stdout
    assert "MXNet" in result.stdout and "1.9.1" in result.stdout


def test_grade_rejects_unknown_assignments_and_bad_worker_counts():
    with pytest.raises(SystemExit, match="unknown assignment '06_cnn'.*01_ndarray_autograd"):
        cli.main(["grade", "06_cnn"])
    with pytest.raises(SystemExit, match="--workers must be at least 1"):
        cli.main(["grade", "01_ndarray_autograd", "--workers", "0"])
