"""`d2lcourse demo`, the contract's main job, end to end on its default assignment."""
import csv
import subprocess
import sys

import pytest

from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.cli import DEFAULT_DEMO_ASSIGNMENT

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="the demo grades in bubblewrap, which cannot run here")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's output, and the course copy it kept."""
    course = tmp_path_factory.mktemp("demo") / "course"
    result = subprocess.run([sys.executable, "-m", "d2lcourse.cli", "demo", "--keep", str(course)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, course


def grades(course):
    path = course / "reports" / DEFAULT_DEMO_ASSIGNMENT / "grades.csv"
    with open(path, newline="") as rows:
        return {row["student_id"]: row for row in csv.DictReader(rows)}


def test_the_demo_grades_the_sample_class_as_each_deserves(demo):
    _, course = demo
    rows = grades(course)
    assert {"reference", "blank"} <= set(rows) and any(s.startswith("mistake_") for s in rows)
    assert all(row["status"] == "ok" for row in rows.values())
    full = float(rows["reference"]["max_total"])
    assert full > 0 and float(rows["reference"]["total"]) == full
    assert float(rows["blank"]["total"]) == 0
    for student, row in rows.items():
        if student.startswith("hostile_"):  # attacks on the grader earn nothing
            assert float(row["total"]) == 0, student
        if student.startswith("mistake_"):  # one mistake loses some points, not all
            assert 0 < float(row["total"]) < full, student


def test_the_demo_prints_the_table_and_where_the_reports_are_and_nothing_else(demo):
    result, course = demo
    for student in grades(course):
        assert student in result.stdout
    report = course / "reports" / DEFAULT_DEMO_ASSIGNMENT / "report.html"
    assert report.is_file() and str(report) in result.stdout
    assert any((course / "feedback").rglob("*.html"))
    for noise in ("Traceback", "INFO:", "WARNING:", "Warning"):
        assert noise not in result.stdout + result.stderr, noise
