"""README.md's shell blocks for students and instructors, run as written.

The ```sh blocks under "## For students" and "## For instructors" are what a newcomer
types. They run here with bash, one shell per block, in the order of a semester: the
instructor releases 01 from the root of a fresh "clone" (a copy of the course next to a
link to this repository's .venv, with a PATH that has no venv on it: nobody activated
it); ada, a student of a JupyterHub (the venv on her PATH, the course's
student_nbgrader_config.py installed as docs/jupyterhub.md says), fetches it, answers it,
checks and submits it; bo hands in the blank release; the instructor collects, grades,
releases the feedback and exports; ada fetches her feedback. So the README cannot drift
from the code. The reference pages' commands are in ```console blocks (benchmarks, minutes
each) and ```text (synopses), which are not run.
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
from helpers import class_grades, needs_data

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
CALCULUS = ASSIGNMENTS["01_ndarray_autograd"]  # the assignment the README's blocks use
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
    shutil.copy(REPOSITORY / "assignments" / "student_nbgrader_config.py",
                root / "assignments")
    (root / ".venv").symlink_to(REPOSITORY / ".venv")
    (root / "home").mkdir()
    return root


def shell_environment(home, clone, student=False):
    """This process's environment as a fresh login shell would have it: no venv on PATH
    for the instructor; a student's JupyterHub image has the course's tools on PATH."""
    venv = str(REPOSITORY / ".venv")
    env = {name: value for name, value in os.environ.items()
           if name not in ("VIRTUAL_ENV", "D2LCOURSE_COURSE", "PYTHONPATH")}
    path = [entry for entry in os.environ["PATH"].split(os.pathsep) if not entry.startswith(venv)]
    env["PATH"] = os.pathsep.join(([f"{venv}/bin"] if student else []) + path)
    env["HOME"] = str(home)
    env["D2LCOURSE_EXCHANGE"] = str(clone / "assignments" / "exchange")
    return env


def run_block(block, clone, cwd=None, student=None):
    home = clone / "students" / student if student else clone / "home"
    result = subprocess.run(["bash", "-e", "-c", block], cwd=cwd or (home if student else clone),
                            env=shell_environment(home, clone, bool(student)),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
    return result


def jupyterhub_student(clone, student):
    """A student's home as the JupyterHub image gives it: the course's student config
    (here in ~/.jupyter; /etc/jupyter on a hub), the login name as the student id."""
    config = clone / "students" / student / ".jupyter"
    config.mkdir(parents=True)
    shipped = (clone / "assignments" / "student_nbgrader_config.py").read_text()
    (config / "nbgrader_config.py").write_text(
        f"{shipped}\nc.CourseDirectory.student_id = {student!r}  # the hub's user name\n")


def answer(path, reference):
    notebook = nbformat.read(str(path), as_version=4)
    for cell in notebook.cells:
        if notebooks.is_solution_cell(cell):
            cell.source = reference[notebooks.grade_id(cell)]
    nbformat.write(notebook, str(path))


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    """Every block of both sections, in a semester's order."""
    clone = fresh_clone(tmp_path_factory.mktemp("clone"))
    release, grade, feedback = shell_blocks("For instructors")
    fetch, submit, fetch_feedback = shell_blocks("For students")
    outputs = {"release": run_block(release, clone)}
    reference = samples.solution_sources(CALCULUS.source_path(clone / "assignments"))
    for student in ("ada", "bo"):
        jupyterhub_student(clone, student)
        outputs[f"fetch {student}"] = run_block(fetch, clone, student=student)
    work = clone / "students" / "ada" / CALCULUS.id / CALCULUS.notebook
    answer(work, reference)
    outputs["submit"] = run_block(submit, clone, student="ada")
    run_block(f"nbgrader submit {CALCULUS.id}", clone, student="bo")   # bo: the blank release
    outputs["grade"] = run_block(grade, clone)
    outputs["feedback"] = run_block(feedback, clone)
    outputs["fetch_feedback"] = run_block(fetch_feedback, clone, student="ada")
    return clone, outputs


def test_release_block_makes_release_without_an_activated_venv(semester):
    clone, outputs = semester
    course = clone / "assignments"
    assert (course / "release" / CALCULUS.id / CALCULUS.notebook).is_file()
    assert (course / "exchange" / "d2lcourse" / "outbound" / CALCULUS.id).is_dir()
    import sqlite3  # the gradebook is complete: nbgrader found alembic
    with sqlite3.connect(course / "gradebook.db") as gradebook:
        assert gradebook.execute("SELECT version_num FROM alembic_version").fetchall()
    for noise in NBGRADER_NOISE:
        assert noise not in outputs["release"].stderr, outputs["release"].stderr


def test_a_jupyterhub_student_fetches_checks_and_submits_with_plain_nbgrader(semester):
    clone, outputs = semester
    fetched = clone / "students" / "bo" / CALCULUS.id / CALCULUS.notebook
    assert fetched.is_file()
    lines = outputs["submit"].stdout.splitlines()
    checks = [line.split()[:2] for line in lines if line.split()[:1] in (["ok"], ["FAIL"])]
    assert checks == [["ok", f] for f in CALCULUS.functions]
    for student in ("ada", "bo"):
        assert (clone / "assignments" / "submitted" / student / CALCULUS.id
                / CALCULUS.notebook).is_file()


def test_grade_block_grades_the_class_and_writes_the_reports(semester):
    clone, outputs = semester
    course = clone / "assignments"
    folder = course / "reports" / CALCULUS.id
    grades = class_grades(course, CALCULUS.id)
    assert set(grades) == {"ada", "bo"}
    assert all(row["status"] == "ok" for row in grades.values())
    assert float(grades["ada"]["total"]) == float(grades["ada"]["max_total"]) > 0
    assert float(grades["bo"]["total"]) == 0
    assert (folder / "report.html").is_file() and (folder / "similarity.csv").is_file()
    assert "Traceback" not in outputs["grade"].stdout + outputs["grade"].stderr


def test_feedback_reaches_the_student_and_the_export_has_the_class(semester):
    clone, outputs = semester
    feedback = clone / "students" / "ada" / CALCULUS.id / "feedback"
    assert list(feedback.rglob("ndarray_autograd.html"))
    with open(clone / "assignments" / "grades.csv", newline="") as rows:
        exported = {row["student_id"]: row for row in csv.DictReader(rows)}
    assert {"ada", "bo"} <= set(exported)
    assert float(exported["ada"]["score"]) > float(exported["bo"]["score"]) == 0
    for noise in ("Traceback", "ERROR"):
        assert noise not in outputs["feedback"].stderr + outputs["fetch_feedback"].stderr


def test_plain_nbgrader_warns_only_about_what_is_wrong(semester):
    """Of the test cells, all with hidden tests, only the one the student edited is
    reported ("checksum has changed"); feedback has no display_data_priority warning."""
    clone, _ = semester
    course = clone / "assignments"
    submitted = course / "submitted" / "bo" / CALCULUS.id / CALCULUS.notebook
    notebook = notebooks.read(submitted)
    (edited,) = [cell for cell in notebook.cells
                 if notebooks.grade_id(cell) == f"test_{CALCULUS.functions[0]}"]
    edited.source = "pass"
    nbformat.write(notebook, str(submitted))
    for step in ("autograded", "feedback"):
        shutil.rmtree(course / step / "bo")
    autograde, feedback = (
        run_block(f"../.venv/bin/nbgrader {command} {CALCULUS.id} --student bo "
                  "--log-level=WARN", clone, cwd=course)
        for command in ("autograde", "generate_feedback"))
    assert [line.split(" (")[0] for line in autograde.stderr.splitlines()] == [
        "[AutogradeApp | WARNING] Attribute 'checksum' for cell "
        f"test_{CALCULUS.functions[0]} has changed!"]
    assert autograde.stdout + feedback.stdout + feedback.stderr == ""
    assert (course / "feedback" / "bo" / CALCULUS.id / CALCULUS.notebook).with_suffix(
        ".html").is_file()


def test_the_readme_is_short_and_links_its_reference_pages():
    text = README.read_text()
    assert len(text.splitlines()) <= 150
    for page in re.findall(r"\]\(((?:docs|assignments)/[^)]+|[A-Z_]+\.md)\)", text):
        assert (REPOSITORY / page).is_file(), page
