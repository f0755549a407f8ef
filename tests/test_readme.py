"""README.md's shell blocks for students and instructors, run as written.

The ```sh blocks under "## For students" and "## For instructors" are what a newcomer
types. They run here with bash, one shell per block, from the root of a fresh "clone":
a copy of the course (assignments/) next to a link to this repository's .venv, with a
PATH that has no venv on it (nobody activated it) and a home of its own. So the README
cannot drift from the code.
"""
import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from d2lcourse import notebooks
from d2lcourse.autograder import samples
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS
from helpers import needs_data

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
SOFTMAX = ASSIGNMENTS["04_softmax_regression"]  # the assignment the README's blocks use
CALCULUS = ASSIGNMENTS["01_ndarray_autograd"]
NBGRADER_NOISE = ("Traceback", "WARNING", "Warning", "ERROR")

pytestmark = [needs_data, pytest.mark.skipif(bubblewrap_problem() is not None,
                                             reason="grading needs bubblewrap")]


def shell_blocks(heading):
    """The ```sh blocks of the README's section `heading`, in order."""
    section = README.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, re.S | re.M)


def fresh_clone(root):
    """A checkout as a newcomer has it: the course and the installed .venv."""
    samples.copy_course(root / "assignments", list(ASSIGNMENTS))
    shutil.copy(REPOSITORY / "assignments" / "AUTHORING.md", root / "assignments")
    (root / ".venv").symlink_to(REPOSITORY / ".venv")
    (root / "home").mkdir()
    return root


def shell_environment(home):
    """This process's environment as a fresh login shell would have it: no venv on PATH."""
    venv = str(REPOSITORY / ".venv")
    env = {name: value for name, value in os.environ.items()
           if name not in ("VIRTUAL_ENV", "D2LCOURSE_COURSE", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(entry for entry in os.environ["PATH"].split(os.pathsep)
                                  if not entry.startswith(venv))
    env["HOME"] = str(home)
    return env


def run_block(block, clone, cwd=None):
    result = subprocess.run(["bash", "-e", "-c", block], cwd=cwd or clone,
                            env=shell_environment(clone / "home"),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
    return result


def submit_through_the_exchange(clone, student, replacements):
    """What a student does: fill in the released notebook and `nbgrader submit` it."""
    course = clone / "assignments"
    made = samples.write_submission(course, SOFTMAX, student, replacements).parent
    work = clone / "students" / student
    work.mkdir(parents=True)
    shutil.move(str(made), str(work / SOFTMAX.id))
    shutil.rmtree(course / "submitted")  # only `nbgrader collect` may fill it
    run_block(f"{REPOSITORY}/.venv/bin/nbgrader submit {SOFTMAX.id} --course d2lcourse "
              f"--student {student} --Exchange.root={course / 'exchange'}", clone, cwd=work)


@pytest.fixture(scope="module")
def instructor(tmp_path_factory):
    """The instructors' blocks, run in order, with two students submitting in between."""
    clone = fresh_clone(tmp_path_factory.mktemp("clone"))
    release, collect, grade = shell_blocks("For instructors")
    outputs = {"release": run_block(release, clone)}
    reference = samples.solution_sources(SOFTMAX.source_path(clone / "assignments"))
    for student, replacements in {"ada": reference, "bo": {}}.items():
        submit_through_the_exchange(clone, student, replacements)
    outputs["collect"] = run_block(collect, clone)
    outputs["grade"] = run_block(grade, clone)
    return clone / "assignments", outputs


def test_release_block_makes_release_without_an_activated_venv(instructor):
    course, outputs = instructor
    assert (course / "release" / SOFTMAX.id / SOFTMAX.notebook).is_file()
    assert (course / "exchange" / "d2lcourse" / "outbound" / SOFTMAX.id).is_dir()
    import sqlite3  # the gradebook is complete: nbgrader found alembic
    with sqlite3.connect(course / "gradebook.db") as gradebook:
        assert gradebook.execute("SELECT version_num FROM alembic_version").fetchall()
    for noise in NBGRADER_NOISE:
        assert noise not in outputs["release"].stderr, outputs["release"].stderr


def test_collect_block_fills_submitted(instructor):
    course, _ = instructor
    for student in ("ada", "bo"):
        assert (course / "submitted" / student / SOFTMAX.id / SOFTMAX.notebook).is_file()


def test_grade_block_grades_the_class_and_writes_the_reports(instructor):
    course, outputs = instructor
    folder = course / "reports" / SOFTMAX.id
    with open(folder / "grades.csv", newline="") as rows:
        grades = {row["student_id"]: row for row in csv.DictReader(rows)}
    assert set(grades) == {"ada", "bo"}
    assert all(row["status"] == "ok" for row in grades.values())
    assert float(grades["ada"]["total"]) == float(grades["ada"]["max_total"]) > 0
    assert float(grades["bo"]["total"]) == 0
    assert (folder / "report.html").is_file()
    for student in grades:
        assert any((course / "feedback" / student / SOFTMAX.id).glob("*.html"))
    assert "Traceback" not in outputs["grade"].stdout + outputs["grade"].stderr


def test_plain_nbgrader_warns_only_about_what_is_wrong(instructor):
    """Of the test cells, all with hidden tests, only the one the student edited is
    reported ("checksum has changed"); feedback has no display_data_priority warning."""
    course, _ = instructor
    submitted = course / "submitted" / "bo" / SOFTMAX.id / SOFTMAX.notebook
    notebook = notebooks.read(submitted)
    (edited,) = [cell for cell in notebook.cells if notebooks.grade_id(cell) == "test_softmax"]
    edited.source = "pass"
    nbformat.write(notebook, str(submitted))
    for step in ("autograded", "feedback"):
        shutil.rmtree(course / step / "bo")
    autograde, feedback = (
        run_block(f"../.venv/bin/nbgrader {command} {SOFTMAX.id} --student bo "
                  "--log-level=WARN", course.parent, cwd=course)
        for command in ("autograde", "generate_feedback"))
    assert [line.split(" (")[0] for line in autograde.stderr.splitlines()] == [
        "[AutogradeApp | WARNING] Attribute 'checksum' for cell test_softmax has changed!"]
    assert autograde.stdout + feedback.stdout + feedback.stderr == ""
    assert (course / "feedback" / "bo" / SOFTMAX.id / "softmax_regression.html").is_file()


def test_students_block_checks_a_finished_notebook_and_the_machine(tmp_path):
    clone = fresh_clone(tmp_path)
    (block,) = shell_blocks("For students")
    shutil.copy(CALCULUS.source_path(), clone / CALCULUS.notebook)  # a finished notebook
    lines = run_block(block, clone).stdout.splitlines()
    checks = [line for line in lines if line.split()[:1] in (["ok"], ["FAIL"])
              and line.split()[1] in CALCULUS.functions]
    assert [line.split()[:2] for line in checks] == [["ok", f] for f in CALCULUS.functions]
    assert lines[-1] == "The course can run here."
