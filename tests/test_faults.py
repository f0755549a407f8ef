"""A grading run whose every recorded grade is true, whatever fails around it (issue 10).

Real faults on a tiny inline assignment (one function `double`, two test cells): a
read-only gradebook (a read-only bind mount), a full disk (a small tmpfs), two runs at
once, symbolic links, names the OS or nbgrader cannot take, rejected notebooks and
nbgrader's own errors. After each fault is removed, a plain rerun must give exactly the
grades of an undisturbed run.
"""
import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins import CsvExportPlugin

from d2lcourse import cli
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import (
    GradingIncomplete, Recorder, RunInProgress, find_submissions, grade, interruption,
    verdict_file_name)
from d2lcourse.autograder.sandbox import Limits, bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS, Assignment
from d2lcourse.model import Status

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")

ASSIGNMENT = Assignment("00_faults", "faults.ipynb", ("double",))
GOOD = "def double(x):\n    return 2 * x\n"
WRONG = "def double(x):\n    return x\n"
LIMITS = Limits(seconds=60)
LONG_ID = "s" * 252
SECRET = "TOP-SECRET-BYTES-0451"
# Students graded in the fault tests: a full score, a zero, and a deleted test cell.
CLASS = ("good", "wrong", "deleted_test")
# `d2lcourse grade` in a subprocess, with the inline assignment known to the course.
CLI = [sys.executable, "-c", "import sys; from d2lcourse import cli, course; from "
       "d2lcourse.course import Assignment; course.ASSIGNMENTS['00_faults'] = Assignment("
       "'00_faults', 'faults.ipynb', ('double',)); sys.exit(cli.main(sys.argv[1:]))"]


@pytest.fixture(scope="module", autouse=True)
def known_assignment():
    ASSIGNMENTS[ASSIGNMENT.id] = ASSIGNMENT
    yield
    ASSIGNMENTS.pop(ASSIGNMENT.id)


def cell(source, **nbgrader):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade": False, "solution": False, "locked": False, "schema_version": 3, **nbgrader}})


def write_source(course):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        cell("from d2lcourse import np, npx", grade_id="setup", locked=True),
        cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n",
             grade_id="double", solution=True),
        cell(textwrap.dedent("""\
            from d2lcourse.checks import core
            x = core.random_array((3, 4), seed=0)
            core.assert_close(double, core.expect_array(double, core.call(double, x)), 2 * x)
            """), grade_id="test_double", grade=True, locked=True, points=2),
        cell("from d2lcourse.checks import core\n"
             "assert core.call(double, 3) == 6, 'double(3) should be 6'\n",
             grade_id="test_double_int", grade=True, locked=True, points=1)]
    path = ASSIGNMENT.source_path(course)
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, str(path))
    shutil.copy(samples.default_course_dir() / "nbgrader_config.py", course)


def submit(course, student, data=None, name=None):
    """Submit bytes as the notebook (`name` instead of the notebook's name), or the
    release with GOOD filled in (data=None); returns the submission's folder."""
    if data is None:
        samples.write_submission(course, ASSIGNMENT, student, {"double": GOOD})
    folder = Path(course) / "submitted" / student / ASSIGNMENT.id
    folder.mkdir(parents=True, exist_ok=True)
    if data is not None:
        (folder / (name or ASSIGNMENT.notebook)).write_bytes(data)
    return folder


def edited(course, change, solution=GOOD):
    notebook = nbformat.read(str(samples.release_path(course, ASSIGNMENT)), 4)
    for each in notebook.cells:
        if each.metadata.get("nbgrader", {}).get("grade_id") == "double":
            each.source = solution
    change(notebook)
    return nbformat.writes(notebook).encode()


def cell_index(notebook, name):
    return next(i for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == name)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """An ungraded course: the class of the fault tests, rejected notebooks, symlinks and
    odd names (`CLASS` and everything else)."""
    course = tmp_path_factory.mktemp("template") / "course"
    write_source(course)
    Recorder(course, ASSIGNMENT).ensure_assignment()
    submit(course, "good")
    submit(course, "wrong", edited(course, lambda nb: None, WRONG))
    submit(course, "deleted_test", edited(course, lambda nb: nb.cells.pop(
        cell_index(nb, "test_double_int"))))
    submit(course, "renamed_cell", edited(course, lambda nb: nb.cells[
        cell_index(nb, "double")].metadata.nbgrader.update(grade_id="double_v2")))
    submit(course, "invalid_json", b'{"cells": [')
    submit(course, "nbformat3", json.dumps({"nbformat": 3, "nbformat_minor": 0,
                                            "worksheets": [], "metadata": {}}).encode())
    submit(course, "wrong_name", edited(course, lambda nb: None), name="mine.ipynb")
    submit(course, "empty_folder", b"", name="timestamp.txt")
    submit(course, "duplicated_cell", edited(course, lambda nb: nb.cells.insert(
        1, nb.cells[cell_index(nb, "double")])))
    secret = course.parent / "secret.txt"
    secret.write_text(SECRET)
    submitted = course / "submitted"
    (submitted / "linked_student").symlink_to("good")
    (submitted / "linked_assignment").mkdir()
    (submitted / "linked_assignment" / ASSIGNMENT.id).symlink_to(
        submitted / "good" / ASSIGNMENT.id)
    submit(course, "linked_secret", b"").joinpath(ASSIGNMENT.notebook).unlink()
    (submitted / "linked_secret" / ASSIGNMENT.id / ASSIGNMENT.notebook).symlink_to(secret)
    submit(course, "linked_extra").joinpath("data.txt").symlink_to(secret)
    extra = submit(course, LONG_ID)  # with a file whose name is not UTF-8
    Path(os.fsdecode(os.fsencode(extra) + b"/notes-\xff\xfe.txt")).write_text("notes")
    return course


def copy_of(template, destination, students=None):
    """A copy of the ungraded template (only `students`, if given)."""
    submitted = str(template / "submitted")
    shutil.copytree(template, destination, symlinks=True, ignore=lambda folder, names: [
        n for n in names if students is not None and folder == submitted and n not in students])
    return destination


@pytest.fixture(scope="module")
def graded(template, tmp_path_factory):
    """The template graded by an undisturbed run."""
    course = copy_of(template, tmp_path_factory.mktemp("graded") / "course")
    grade(ASSIGNMENT, course, limits=LIMITS, out=open(os.devnull, "w"))
    return course


def grades(course):
    """{student: (status, total)}; an ungraded row has no total (None), never a 0."""
    with open(course / "reports" / ASSIGNMENT.id / "grades.csv", newline="") as stream:
        return {row["student_id"]: (row["status"], float(row["total"]) if row["total"] else None)
                for row in csv.DictReader(stream)}


def stored(course, student):
    path = course / "reports" / ASSIGNMENT.id / "verdicts" / verdict_file_name(student)
    return json.loads(path.read_text())


def gradebook_scores(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT.id)}


def exported_scores(course, tmp_path):
    """What `nbgrader export` writes (its CSV plugin, on the same gradebook)."""
    path = tmp_path / "export.csv"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        CsvExportPlugin(to=str(path)).export(gradebook)
    with open(path, newline="") as stream:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}


def feedback_page(course, student):
    return (course / "feedback" / student / ASSIGNMENT.id / "faults.html").read_text()


def quietly():
    return open(os.devnull, "w")


# --------------------------------------------------------------------------- undisturbed

def test_undisturbed_run_grades_the_class(graded):
    rows = grades(graded)
    assert rows["good"] == rows[LONG_ID] == ("ok", 3.0)
    assert rows["wrong"] == ("ok", 0.0)
    assert rows["deleted_test"] == ("ok", 3.0)  # points come from the source's test cells


def test_the_course_export_says_why_a_submission_has_no_points(graded, tmp_path):
    """`nbgrader export` under this course's config has the grader's status per row."""
    from d2lcourse.autograder.nbgrader_plugin import NeutralisedCsvExport
    path = tmp_path / "course-export.csv"
    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}") as gradebook:
        NeutralisedCsvExport(to=str(path), course_dir=str(graded)).export(gradebook)
    with open(path, newline="") as stream:
        exported = {row["student_id"]: row["status"] for row in csv.DictReader(stream)}
    statuses = {student: status for student, (status, _) in grades(graded).items()}
    assert exported == statuses
    assert "invalid_notebook" in statuses.values() and "ok" in statuses.values()


def test_gradebook_csv_export_and_feedback_agree_for_every_student(graded, tmp_path):
    rows = grades(graded)
    submitted = {os.fsdecode(p.name) for p in (graded / "submitted").iterdir()}
    assert set(rows) == submitted
    totals = {student: total for student, (_, total) in rows.items()}
    assert gradebook_scores(graded) == totals
    assert exported_scores(graded, tmp_path) == totals
    for student in rows:
        assert feedback_page(graded, student)
    assert all(stored(graded, s)["recorded"] for s in rows)


@pytest.mark.parametrize("student,reason", [
    ("invalid_json", "not valid notebook JSON"), ("nbformat3", "nbformat 3"),
    ("wrong_name", "faults.ipynb is missing"), ("empty_folder", "faults.ipynb is missing"),
    ("duplicated_cell", "appears twice"),
    ("renamed_cell", "nbgrader cell does not have a grade_id")])
def test_rejected_notebooks_are_recorded_with_their_reason_and_get_feedback(
        graded, student, reason):
    assert grades(graded)[student] == ("invalid_notebook", 0.0)
    verdict = stored(graded, student)["verdict"]
    assert reason in verdict["message"]
    assert "above traceback" not in verdict["message"]
    assert gradebook_scores(graded)[student] == 0
    assert reason in feedback_page(graded, student)


@pytest.mark.parametrize("student,link", [
    ("linked_student", "linked_student"), ("linked_assignment", ASSIGNMENT.id),
    ("linked_secret", f"{ASSIGNMENT.id}/faults.ipynb"),
    ("linked_extra", f"{ASSIGNMENT.id}/data.txt")])
def test_symbolic_links_are_refused_never_followed(graded, student, link):
    assert grades(graded)[student] == ("invalid_notebook", 0.0)
    message = stored(graded, student)["verdict"]["message"]
    assert f"symbolic link ({link})" in message and "submit the file itself" in message
    assert gradebook_scores(graded)[student] == 0


def test_nothing_from_a_linked_file_is_copied_anywhere(graded):
    for parent, _, files in os.walk(graded):
        for name in files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                with open(path, "rb") as stream:
                    assert SECRET.encode() not in stream.read(), path


# --------------------------------------------------------------------------- names

def test_a_student_id_nbgrader_cannot_take_is_named_and_the_class_still_graded(
        template, tmp_path):
    course = copy_of(template, tmp_path / "course", ["good"])
    submit(course, "two\nlines")
    with pytest.raises(GradingIncomplete) as caught:
        grade(ASSIGNMENT, course, limits=LIMITS, out=quietly())
    assert caught.value.causes == [
        "cannot grade submitted/two\\nlines: nbgrader needs a student id in UTF-8, without "
        "line breaks: rename the folder and rerun"]
    assert grades(course) == {"good": ("ok", 3.0)}
    assert gradebook_scores(course) == {"good": 3.0}


# --------------------------------------------------------------------------- partial runs

def test_a_partial_run_keeps_everyone_else(graded, tmp_path, capsys):
    course = copy_of(graded, tmp_path / "course")
    before = grades(course)
    assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course), "--student", "wrong",
                     "--force"]) == 0
    assert grades(course) == before
    page = (course / "reports" / ASSIGNMENT.id / "report.html").read_text()
    assert "good" in page and "linked_extra" in page
    assert "note:" not in capsys.readouterr().out
    shutil.rmtree(course / "autograded" / "good")  # its grade is lost: the note says so
    assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course), "--student",
                     "wrong"]) == 0
    assert ("note: 1 other submission(s) in the report were graded as they no longer stand "
            "(resubmitted since, lost by nbgrader, or judged by other tests): run without "
            "--student to grade them again") in capsys.readouterr().out


def test_a_rerun_regrades_what_nbgrader_lost_or_other_tests_judged(graded, tmp_path, capsys):
    """A TA deletes a student's autograded folder, or the whole gradebook; the instructor
    fixes a test cell and regenerates the assignment: each rerun says so and judges those
    submissions again, with the gradebook's tests, so the gradebook, the feedback and the
    report hold them again (before, it skipped them as graded and unchanged). A test fixed
    in the source alone is named, not used: the gradebook's grade, as in nbgrader."""
    course = copy_of(graded, tmp_path / "course")
    for folder in (course / "submitted").iterdir():
        if folder.name not in ("good", "wrong"):
            shutil.rmtree(folder) if not folder.is_symlink() else folder.unlink()
    before = gradebook_scores(course)

    def regraded():
        assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course)]) == 0
        return capsys.readouterr().out

    for folder in ("autograded", "feedback"):
        shutil.rmtree(course / folder / "good")
    said = regraded()
    assert ("1 submission(s) graded before are gone from nbgrader's gradebook or autograded "
            "folder: graded again") in said
    assert "1 submission(s) already graded and unchanged" in said
    assert "test_double" in feedback_page(course, "good")

    source = ASSIGNMENT.source_path(course)
    notebook = nbformat.read(str(source), 4)
    notebook.cells[cell_index(notebook, "test_double")].source += "\n# fixed by the instructor"
    nbformat.write(notebook, str(source))
    said = regraded()
    assert (f"warning: the setup or test cells of {source} differ from the gradebook's, which "
            f"grade: run `nbgrader generate_assignment {ASSIGNMENT.id} --force` first") in said
    assert "2 submission(s) already graded and unchanged" in said
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT.id,
                    "--force"], cwd=course, check=True, capture_output=True)
    assert "2 submission(s) graded before were judged by other tests or checks" in regraded()

    (course / "gradebook.db").unlink()
    assert "2 submission(s) graded before are gone" in regraded()
    assert gradebook_scores(course) == {student: before[student] for student in ("good", "wrong")}


def test_ctrl_c_counts_as_graded_only_what_the_run_would_not_judge_again(graded, tmp_path):
    """The line after Ctrl-C counts a verdict as graded only if it is of the run's basis
    and nbgrader still holds it: a run stopped while it regraded a class judged by other
    tests must not say that everyone is graded."""
    course = copy_of(graded, tmp_path / "course")
    students = [s.student for s in find_submissions(course, ASSIGNMENT)
                if stored(course, s.student)["recorded"]]
    recorder = Recorder(course, ASSIGNMENT)
    recorder.basis = stored(course, "good")["basis"]

    def done():
        line = interruption(course, ASSIGNMENT, None, recorder)
        return int(line.split(": ")[1].split(" of ")[0])
    assert done() == len(students)
    shutil.rmtree(course / "autograded" / "good")
    assert done() == len(students) - 1
    recorder.basis = "another"
    assert done() == 0


def test_an_unknown_student_changes_nothing_and_lists_who_submitted(graded, tmp_path,
                                                                    capsys):
    course = copy_of(graded, tmp_path / "course")
    report = course / "reports" / ASSIGNMENT.id / "grades.csv"
    before = report.read_bytes()
    capsys.readouterr()
    assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course),
                     "--student", "nosuchid"]) == 2
    error = capsys.readouterr().err
    assert "nosuchid" in error and "empty_folder, good, invalid_json" in error
    assert report.read_bytes() == before


# --------------------------------------------------------------------------- faults

@contextlib.contextmanager
def read_only(path):
    """`path` read-only through a bind mount (root ignores file permissions)."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


@contextlib.contextmanager
def small_disk(path, size):
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def assert_true_or_ungraded(course, expected):
    """Every row is either the undisturbed grade (recorded) or ungraded (not recorded)."""
    for student, (status, total) in grades(course).items():
        if status == Status.UNGRADED:
            assert total is None
            assert not stored(course, student)["recorded"]
        else:
            assert (status, total) == expected[student]


def test_read_only_gradebook_leaves_the_class_ungraded_then_a_rerun_grades_it(
        template, graded, tmp_path, capsys):
    course = copy_of(template, tmp_path / "course", CLASS)
    expected = {s: grades(graded)[s] for s in CLASS}
    command = ["grade", ASSIGNMENT.id, "--course", str(course)]
    with read_only(course / "gradebook.db"):
        assert cli.main(command) == 1
    error = capsys.readouterr().err
    assert (f"d2lcourse grade: cannot write {course / 'gradebook.db'} (read-only or no "
            "permission): make it writable and rerun (3 times)") in error
    assert {s: row[0] for s, row in grades(course).items()} == dict.fromkeys(CLASS, Status.UNGRADED)
    assert_true_or_ungraded(course, expected)
    assert cli.main(command) == 0
    assert "already graded" not in capsys.readouterr().out
    assert grades(course) == expected
    assert gradebook_scores(course) == {s: total for s, (_, total) in expected.items()}


def test_read_only_feedback_folder_keeps_the_true_grades_and_a_rerun_writes_it(
        template, graded, tmp_path, capsys):
    course = copy_of(template, tmp_path / "course", CLASS)
    expected = {s: grades(graded)[s] for s in CLASS}
    command = ["grade", ASSIGNMENT.id, "--course", str(course)]
    (course / "feedback").mkdir()
    with read_only(course / "feedback"):
        assert cli.main(command) == 1
    assert (f"d2lcourse grade: cannot write {course / 'feedback'} (read-only or no "
            "permission): make it writable and rerun") in capsys.readouterr().err
    assert grades(course) == expected
    assert cli.main(command) == 0
    assert "3 submission(s) already graded" in capsys.readouterr().out
    for student in CLASS:
        assert feedback_page(course, student)


def test_read_only_reports_folder_stops_the_run_before_anything_is_graded(
        template, tmp_path, capsys):
    course = copy_of(template, tmp_path / "course", CLASS)
    with read_only(course / "reports"):
        assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course)]) == 1
    lock = course / "reports" / ASSIGNMENT.id / "grade.lock"
    assert (f"d2lcourse grade: cannot write {lock} (Read-only file system): free space or "
            "make it writable, and rerun") in capsys.readouterr().err
    assert gradebook_scores(course) == {}


def test_full_disk_never_records_a_wrong_grade_and_a_rerun_completes(
        template, graded, tmp_path):
    expected = {s: grades(graded)[s] for s in CLASS}
    with small_disk(tmp_path / "disk", "1m") as disk:
        course = copy_of(template, disk / "course", CLASS)
        filler = disk / "filler"
        with open(filler, "wb") as stream:  # leave about 32 KB free
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            stream.write(b"\0" * max(0, free - (32 << 10)))
        with pytest.raises(GradingIncomplete) as caught:
            grade(ASSIGNMENT, course, limits=LIMITS, out=quietly())
        assert any(cause.startswith("disk full writing ") and "free space and rerun" in cause
                   for cause in caught.value.causes), caught.value.causes
        with contextlib.suppress(FileNotFoundError):  # the report itself may not fit
            assert_true_or_ungraded(course, expected)
        filler.unlink()
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        grade(ASSIGNMENT, course, limits=LIMITS, out=quietly())
        assert grades(course) == expected
        assert gradebook_scores(course) == {s: total for s, (_, total) in expected.items()}
        for student in CLASS:
            assert feedback_page(course, student)


def test_a_second_run_refuses_at_once_naming_the_first(template, graded, tmp_path, capsys):
    course = copy_of(template, tmp_path / "course", CLASS)
    lock = course / "reports" / ASSIGNMENT.id / "grade.lock"
    log = tmp_path / "first.log"
    first = subprocess.Popen(CLI + ["grade", ASSIGNMENT.id, "--course", str(course)],
                             stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None and not (
                lock.is_file() and lock.read_text() == str(first.pid)):
            time.sleep(0.05)
        with pytest.raises(RunInProgress, match=f"pid {first.pid}"):
            grade(ASSIGNMENT, course, limits=LIMITS, out=quietly())
        assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course)]) == 2
        assert f"(pid {first.pid}) is grading" in capsys.readouterr().err
        assert first.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
    assert grades(course) == {s: grades(graded)[s] for s in CLASS}
