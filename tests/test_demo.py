"""`make demo` (`d2lcourse demo --keep`), the contract's main job, end to end on its
default assignment.

Its class is also the suite's grading of that assignment through the sandbox
(test_autograde grades the other four): the reference, the blank release, three
catalogued mistakes and the hostile notebooks.
"""
import subprocess
from pathlib import Path

import pytest

from d2lcourse import demo as demos
from d2lcourse import mistakes as catalogue
from d2lcourse.autograder import samples
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.cli import DEFAULT_DEMO_ASSIGNMENT
from d2lcourse.course import ASSIGNMENTS
from helpers import class_grades, max_points

REPOSITORY = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="the demo grades in bubblewrap, which cannot run here")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`make demo KEEP=...`'s output (installation taken as done), and the course it kept,
    over the folder of an earlier demo."""
    course = tmp_path_factory.mktemp("demo") / "course"
    course.mkdir()
    (course / demos.MARK).write_text("")
    (course / "stale.txt").write_text("from an earlier demo")
    result = subprocess.run(["make", "--no-print-directory", "-o", "install", "demo",
                             f"KEEP={course}"], cwd=REPOSITORY,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, course


def grades(course):
    return class_grades(course, DEFAULT_DEMO_ASSIGNMENT)


def test_the_demo_grades_the_sample_class_as_each_deserves(demo):
    _, course = demo
    rows = grades(course)
    assert {"reference", "blank", "hostile_input_transformer"} <= set(rows)
    assert any(s.startswith("mistake_") for s in rows)
    assert all(row["status"] == "ok" for row in rows.values())
    full = float(rows["reference"]["max_total"])
    assert full == max_points(ASSIGNMENTS[DEFAULT_DEMO_ASSIGNMENT]) > 0
    assert float(rows["reference"]["total"]) == full
    assert float(rows["blank"]["total"]) == 0
    for student, row in rows.items():
        if student.startswith("hostile_"):  # attacks on the grader earn nothing
            assert float(row["total"]) == 0, student
        if student.startswith("mistake_"):  # one mistake loses some points, not all
            assert 0 < float(row["total"]) < full, student


def test_each_mistake_loses_the_points_of_its_own_function(demo):
    _, course = demo
    rows = grades(course)
    mistakes, _ = catalogue.load(ASSIGNMENTS[DEFAULT_DEMO_ASSIGNMENT])
    for mistake in samples.varied(mistakes, 3):
        row = rows[f"mistake_{mistake.name}"]
        assert [k for k, v in row.items() if k.startswith(f"test_{mistake.function}")
                and float(v) == 0], mistake.name


def test_the_demo_prints_the_table_and_where_the_reports_are_and_nothing_else(demo):
    result, course = demo
    for student in grades(course):
        assert student in result.stdout
    report = course / "reports" / DEFAULT_DEMO_ASSIGNMENT / "report.html"
    assert report.is_file() and str(report) in result.stdout
    assert str(report.with_name("grades.csv")) in result.stdout
    assert "<h2 id=similarity>" in report.read_text()   # its class shares the reference:
    assert report.with_name("similarity.csv").is_file()  # no pair stands out
    assert any((course / "feedback").rglob("*.html"))
    for noise in ("Traceback", "INFO:", "WARNING:", "Warning"):
        assert noise not in result.stdout + result.stderr, noise


def test_the_demo_replaces_its_earlier_course_and_says_how_to_open_the_report(demo):
    result, course = demo
    assert not (course / "stale.txt").exists() and (course / demos.MARK).is_file()
    report = course / "reports" / DEFAULT_DEMO_ASSIGNMENT / "report.html"
    assert f"xdg-open {report}" in result.stdout
    assert f"python3 -m http.server -d {course} " in result.stdout
    assert f"/reports/{DEFAULT_DEMO_ASSIGNMENT}/report.html" in result.stdout


def test_make_demo_keeps_its_course_in_demo_course_by_default():
    dry_run = subprocess.run(["make", "-n", "-o", "install", "demo"], cwd=REPOSITORY,
                             capture_output=True, text=True, check=True).stdout
    assert "d2lcourse demo --keep demo-course" in dry_run
    ignored = subprocess.run(["git", "check-ignore", "demo-course/"], cwd=REPOSITORY,
                             capture_output=True, text=True)
    assert ignored.returncode == 0, "demo-course/ must be git-ignored"


def test_keep_takes_a_new_an_empty_or_an_earlier_demos_folder_only(tmp_path):
    assert demos.keep_problem(tmp_path / "new") is None
    assert demos.keep_problem(tmp_path) is None
    (tmp_path / "notes.txt").write_text("mine")
    assert "no earlier demo made it" in demos.keep_problem(tmp_path)
    (tmp_path / demos.MARK).write_text("")
    assert demos.keep_problem(tmp_path) is None
