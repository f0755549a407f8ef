"""The nbgrader semester loop through a real exchange, in a temporary root (issue 20).

One shared class of assignment 01 (the fastest): the instructor releases it; alice and
bob fetch and submit through the exchange, each from a home of their own (their id comes
from their nbgrader config, as JupyterHub users' from their login); carol's notebook is
handed in by hand, without nbgrader's timestamp.txt and submission_secret.txt. The due
date has passed for everyone, the late penalty is nbgrader's "zero", and bob has an
extension. Then: collect, `d2lcourse grade`, generate_feedback, release_feedback,
fetch_feedback by each student, and export.
"""
import csv
import datetime
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from d2lcourse.autograder import samples
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import grade_id, is_solution_cell, read
from helpers import copy_of

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")
ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]
NBGRADER = str(Path(sys.executable).parent / "nbgrader")
D2LCOURSE = [sys.executable, "-m", "d2lcourse.cli"]
COURSE_ID = "semester"
EXCHANGE_STUDENTS = ("alice", "bob")
# bob leaves one function as released: his feedback and score differ from alice's.
BLANK_FOR = {"bob": "grad_z_w"}


def run(command, cwd, home=None):
    """Run a command as the instructor (home None) or a student; its completed process."""
    env = dict(os.environ, HOME=str(home or cwd))
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


def succeeded(process):
    assert process.returncode == 0, process.stdout + process.stderr
    return process


def student_config(home, exchange, student):
    home.mkdir(parents=True)
    (home / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.student_id = {student!r}\n")


def answer(path, student, reference):
    """Fill the fetched notebook at `path` with the reference, sign it with a markdown cell."""
    notebook = read(path)
    for cell in notebook.cells:
        if is_solution_cell(cell) and grade_id(cell) != BLANK_FOR.get(student):
            cell.source = reference[grade_id(cell)]
    notebook.cells.append(nbformat.v4.new_markdown_cell(f"Signed: the notebook of {student}."))
    nbformat.write(notebook, str(path))


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    root = tmp_path_factory.mktemp("semester")
    course, exchange = root / "course", root / "exchange"
    exchange.mkdir(mode=0o777)
    samples.copy_course(course, [ASSIGNMENT.id])
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
                     f"c.Exchange.root = {str(exchange)!r}\n"
                     "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    succeeded(run([NBGRADER, "generate_assignment", ASSIGNMENT.id], course))
    succeeded(run([NBGRADER, "release_assignment", ASSIGNMENT.id], course))
    reference = samples.solution_sources(ASSIGNMENT.source_path(course))
    homes = {student: root / "home" / student for student in EXCHANGE_STUDENTS}
    for student, home in homes.items():
        student_config(home, exchange, student)
        succeeded(run([NBGRADER, "fetch_assignment", ASSIGNMENT.id], home))
        answer(home / ASSIGNMENT.id / ASSIGNMENT.notebook, student, reference)
        succeeded(run([NBGRADER, "submit", ASSIGNMENT.id], home))
    hand_in = course / "submitted" / "carol" / ASSIGNMENT.id
    hand_in.mkdir(parents=True)
    (hand_in / ASSIGNMENT.notebook).write_bytes(
        samples.release_path(course, ASSIGNMENT).read_bytes())
    now = datetime.datetime.utcnow()
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT.id,
                                              duedate=now - datetime.timedelta(days=1))
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own, making a submission
        gradebook.update_or_create_student("bob")
        gradebook.update_or_create_submission(ASSIGNMENT.id, "bob",
                                              extension=datetime.timedelta(days=2))
    succeeded(run([NBGRADER, "collect", ASSIGNMENT.id], course))
    steps = {"grade": run(D2LCOURSE + ["grade", ASSIGNMENT.id, "--course", str(course)],
                          course)}
    for step in ("generate_feedback", "release_feedback", "export"):
        steps[step] = run([NBGRADER, step, ASSIGNMENT.id] if step != "export"
                          else [NBGRADER, step], course)
    fetched = {}
    for student, home in homes.items():
        steps[f"fetch_feedback {student}"] = run([NBGRADER, "fetch_feedback", ASSIGNMENT.id],
                                                 home)
        fetched[student] = sorted((home / ASSIGNMENT.id / "feedback").glob("*/*.html"))
    return {"course": course, "steps": steps, "fetched": fetched}


def csv_rows(path):
    with open(path, newline="") as stream:
        return {row["student_id"]: row for row in csv.DictReader(stream)}


def test_every_step_of_the_semester_succeeds(semester):
    for step, process in semester["steps"].items():
        assert process.returncode == 0, f"{step}: {process.stdout}{process.stderr}"
        assert "Traceback" not in process.stderr, f"{step}: {process.stderr}"


def test_each_student_fetches_their_own_feedback(semester):
    for student, pages in semester["fetched"].items():
        assert [page.name for page in pages] == [Path(ASSIGNMENT.notebook).stem + ".html"]
        text = pages[0].read_text()
        assert f"the notebook of {student}." in text
        others = set(EXCHANGE_STUDENTS) - {student}
        assert not any(f"the notebook of {other}." in text for other in others)


def test_a_hand_in_without_exchange_files_keeps_its_feedback_and_is_not_late(semester):
    course = semester["course"]
    folder = course / "feedback" / "carol" / ASSIGNMENT.id
    assert (folder / Path(ASSIGNMENT.notebook).with_suffix(".html").name).is_file()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT.id, "carol")
        assert submission.timestamp is None and submission.total_seconds_late == 0


def test_late_penalty_and_extension_apply_as_nbgrader_records_them(semester):
    course = semester["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        alice = gradebook.find_submission(ASSIGNMENT.id, "alice")
        bob = gradebook.find_submission(ASSIGNMENT.id, "bob")
        duedate = gradebook.find_assignment(ASSIGNMENT.id).duedate
        assert alice.total_seconds_late > 0 and alice.score > 0
        assert alice.late_submission_penalty == alice.score  # the "zero" method
        assert bob.timestamp > duedate and bob.total_seconds_late == 0  # the extension
        assert bob.late_submission_penalty == 0 and bob.score > 0
    summary = semester["steps"]["grade"].stdout
    late_lines = [line for line in summary.splitlines() if "late by" in line]
    assert len(late_lines) == 1 and late_lines[0].startswith("alice"), summary
    report = (course / "reports" / ASSIGNMENT.id / "report.html").read_text()
    assert "Late (1): alice late by" in report


def test_gradebook_export_and_grades_csv_agree(semester):
    course = semester["course"]
    ours = csv_rows(course / "reports" / ASSIGNMENT.id / "grades.csv")
    exported = csv_rows(course / "grades.csv")
    assert set(ours) == set(exported) == {"alice", "bob", "carol"}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, row in ours.items():
            submission = gradebook.find_submission(ASSIGNMENT.id, student)
            assert float(row["total"]) == submission.score == float(
                exported[student]["raw_score"])
            assert float(row["late_penalty"]) == submission.late_submission_penalty == float(
                exported[student]["late_submission_penalty"])
            assert float(row["score"]) == float(exported[student]["score"])
            assert float(row["max_total"]) == float(exported[student]["max_score"])
    assert float(ours["alice"]["score"]) == 0 < float(ours["alice"]["total"])
    assert float(ours["bob"]["score"]) == float(ours["bob"]["total"]) < float(
        ours["alice"]["total"])


def test_ctrl_c_stops_grading_with_one_line_and_a_rerun_grades_the_rest(released_course,
                                                                       tmp_path):
    """SIGINT to the whole process group (a terminal's Ctrl-C) once a verdict is saved."""
    course = copy_of(released_course, tmp_path / "course")
    reference = samples.solution_sources(ASSIGNMENT.source_path(course))
    students = [f"s{number}" for number in range(3)]
    for student in students:
        samples.write_submission(course, ASSIGNMENT, student, reference)
    command = D2LCOURSE + ["grade", ASSIGNMENT.id, "--course", str(course), "--workers", "2"]
    grading = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    verdicts = course / "reports" / ASSIGNMENT.id / "verdicts"
    while grading.poll() is None and not list(verdicts.glob("*.json")):
        time.sleep(0.05)
    os.killpg(grading.pid, signal.SIGINT)
    _, stderr = grading.communicate(timeout=120)
    assert grading.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        r"d2lcourse grade: interrupted: [0-2] of 3 submissions are graded and recorded; run "
        r"the same command again to grade the other [1-3]", lines[0]), stderr
    left = subprocess.run(["ps", "-o", "stat=,args=", "-g", str(grading.pid)],
                          capture_output=True, text=True).stdout.splitlines()
    assert [line for line in left if not line.lstrip().startswith("Z")] == []  # all ended
    rerun = succeeded(run(command, course))
    rows = csv_rows(course / "reports" / ASSIGNMENT.id / "grades.csv")
    assert sorted(rows) == students and {row["status"] for row in rows.values()} == {"ok"}
    assert len({row["total"] for row in rows.values()}) == 1, rerun.stdout
