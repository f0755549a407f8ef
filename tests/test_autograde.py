"""The real course through real nbgrader and the real sandbox: `d2lcourse grade`.

The suite's shared graded course (tests/conftest.py's graded_course) holds the
assignments but the demo's (test_demo grades the demo's larger class of that one). Each
has a small class: the reference, the blank release, a catalogued mistake, and the
nbgrader exploit (a blank notebook whose first cell installs an IPython input
transformer). Assignment 01 also has broken and tampered notebooks. A test that grades
again works on a copy of the shared released course (conftest's released_course).
"""
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from d2lcourse import mistakes as catalogue
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import grade, verdict_file_name
from d2lcourse.autograder.sandbox import (Limits, SandboxUnavailable, bubblewrap_problem,
                                           warm_sandboxes)
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.model import Status
from d2lcourse.notebooks import is_test_cell, read
from helpers import BROKEN, D2LCOURSE, GRADED, class_grades, copy_of, csv_grades, max_points

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")


@pytest.fixture(scope="module")
def course(graded_course):
    """The course after `d2lcourse grade` of each assignment of GRADED (one of them with a
    pool of two workers: helpers.POOLED), and {assignment id: that run}."""
    root, outputs = graded_course
    return root, {a: subprocess.CompletedProcess("grade", *outputs[a]) for a in GRADED}


@pytest.mark.parametrize("assignment_id", GRADED)
def test_grade_exits_zero_and_prints_the_summary(course, assignment_id):
    result = course[1][assignment_id]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reference" in result.stdout and "grades.csv" in result.stdout


@pytest.mark.parametrize("assignment_id", GRADED)
def test_reference_full_blank_and_exploit_zero_through_the_sandbox(course, assignment_id):
    root, _ = course
    assignment = ASSIGNMENTS[assignment_id]
    rows = class_grades(root, assignment_id)
    total = max_points(assignment)
    assert float(rows["reference"]["total"]) == total == float(rows["reference"]["max_total"]), \
        verdict_messages(root, assignment_id, "reference")
    assert float(rows["blank"]["total"]) == 0
    assert float(rows["hostile_input_transformer"]["total"]) == 0
    assert rows["reference"]["status"] == rows["blank"]["status"] == "ok"


@pytest.mark.parametrize("assignment_id", GRADED)
def test_mistake_loses_points_through_the_sandbox(course, assignment_id):
    root, _ = course
    mistake = catalogue.load(ASSIGNMENTS[assignment_id])[0][0]
    row = class_grades(root, assignment_id)[f"mistake_{mistake.name}"]
    lost = [k for k, v in row.items() if k.startswith(f"test_{mistake.function}")
            and float(v) == 0]
    assert lost, verdict_messages(root, assignment_id, f"mistake_{mistake.name}")


def verdict_messages(root, assignment_id, student):
    path = root / "reports" / assignment_id / "verdicts" / verdict_file_name(student)
    results = json.loads(path.read_text())["verdict"]["results"]
    return "\n".join(f"{r['grade_id']}: {r['message']}" for r in results if r["message"])


@pytest.mark.parametrize("student,reason", [
    ("invalid_json", "not valid notebook JSON"), ("not_utf8", "not UTF-8"),
    ("nbformat3", "nbformat 3"), ("duplicated_cell", "appears twice"),
    ("huge", "limit is 20 MB")])
def test_broken_notebooks_are_named_and_others_still_graded(course, student, reason):
    root, _ = course
    rows = class_grades(root, BROKEN)
    assert rows[student]["status"] == "invalid_notebook"
    assert float(rows[student]["total"]) == 0
    assert reason in verdict_messages(root, BROKEN, student)


def test_deleted_or_retyped_solution_cells_cost_only_that_function(course):
    root, _ = course
    rows = class_grades(root, BROKEN)
    for student in ("deleted_cell", "retyped_cell"):
        assert float(rows[student]["total"]) == 0  # blank release otherwise
        assert rows[student]["status"] in ("ok", "invalid_notebook")


def test_gradebook_matches_the_csv_without_duplicates(course):
    root, _ = course
    rows = class_grades(root, BROKEN)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submissions = gradebook.assignment_submissions(BROKEN)
        students = [s.student.id for s in submissions]
        assert len(students) == len(set(students))
        for submission in submissions:
            assert submission.score == pytest.approx(float(rows[submission.student.id]["total"]))


def test_feedback_shows_results_but_no_hidden_tests_or_solutions(course):
    root, _ = course
    assignment = ASSIGNMENTS[BROKEN]
    source = read(assignment.source_path())
    hidden = [line.strip() for c in source.cells if is_test_cell(c)
              for line in c.source.split("### BEGIN HIDDEN TESTS")[1:2]
              for line in line.split("### END HIDDEN TESTS")[0].splitlines() if line.strip()]
    assert hidden, "the assignment has hidden tests"
    page = (root / "feedback" / "blank" / BROKEN / "ndarray_autograd.html").read_text()
    assert "not implemented yet" in page
    assert not [line for line in hidden if line in page]
    release = samples.release_path(root, assignment).read_text()
    for name, cell in samples.solution_sources(assignment.source_path()).items():
        region = cell.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        secret = [line.strip() for line in region.splitlines()
                  if len(line.strip()) > 12 and line.strip() not in release]
        assert not [line for line in secret if line in page], name


def test_report_has_its_charts_and_html(course):
    """The charts are inline SVG (nothing to load): the score distribution counts every
    graded student once, and the pass rates have one bar per test."""
    root, _ = course
    folder = root / "reports" / BROKEN
    page = (folder / "report.html").read_text()
    assert "Most common failures" in page and "not implemented yet" in page
    scores, rates = re.findall(r'<svg [^>]*aria-label="([^"]+)"(.*?)</svg>', page)
    graded = [row for row in class_grades(root, BROKEN).values()
              if row["status"] != Status.UNGRADED]
    counts = [int(n) for n in re.findall(r">(\d+) students?</text>", scores[1])]
    assert scores[0] == "Score distribution" and sum(counts) == len(graded) > 0
    tests = [c for c in read(ASSIGNMENTS[BROKEN].source_path()).cells if is_test_cell(c)]
    assert rates[0] == "Pass rate per test"
    assert rates[1].count("<rect ") == len(tests) > 0
    assert not list(folder.glob("*.png"))


def test_rerun_regrades_nothing_unless_forced(graded_course):
    root, outputs = graded_course  # the rerun is the shared course's last
    returncode, stdout, _ = outputs["rerun"]
    assert returncode == 0
    assert "already graded and unchanged" in stdout
    assert class_grades(root, BROKEN) == csv_grades(outputs["grades before the rerun"])


def test_a_rerun_with_nothing_to_judge_starts_no_sandbox(graded_course, tmp_path):
    """Its warm sandbox would import MXNet for nothing (3 s of CPU in a 5 s rerun)."""
    root = copy_of(graded_course[0], tmp_path / "course")
    before = dict(warm_sandboxes.zygotes)
    out = io.StringIO()
    verdicts = grade(ASSIGNMENTS[GRADED[1]], root, out=out)
    assert verdicts and "already graded and unchanged" in out.getvalue()
    assert warm_sandboxes.zygotes == before


def test_kill_9_mid_run_then_rerun_gives_the_same_grades(course, released_course, tmp_path):
    root, _ = course
    assignment = ASSIGNMENTS[BROKEN]
    fresh = copy_of(released_course, tmp_path / "course")
    students = samples.sample_class(fresh, assignment, catalogue.load(assignment)[0][:2],
                                    hostile=False)
    for student, replacements in students.items():
        samples.write_submission(fresh, assignment, student, replacements)
    command = D2LCOURSE + ["grade", BROKEN, "--course", str(fresh)]
    grader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    verdicts = fresh / "reports" / BROKEN / "verdicts"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(verdicts.glob("*.json"))) < 1:
        time.sleep(0.2)
    os.killpg(grader.pid, signal.SIGKILL)
    grader.wait()
    assert subprocess.run(command, capture_output=True, timeout=600).returncode == 0
    rows = class_grades(fresh, BROKEN)
    assert set(rows) == set(students)
    expected = class_grades(root, BROKEN)
    for student in ("reference", "blank"):
        assert rows[student]["total"] == expected[student]["total"]
    with Gradebook(f"sqlite:///{fresh / 'gradebook.db'}") as gradebook:
        names = [s.student.id for s in gradebook.assignment_submissions(BROKEN)]
    assert sorted(names) == sorted(students)
    page = Path(assignment.notebook).with_suffix(".html").name
    assert [s for s in students if not (fresh / "feedback" / s / BROKEN / page).is_file()] == []


def test_plain_nbgrader_autograde_uses_the_sandbox(released_course, tmp_path):
    assignment = ASSIGNMENTS[BROKEN]
    fresh = copy_of(released_course, tmp_path / "plain")
    blank = samples.solution_sources(samples.release_path(fresh, assignment))
    first = assignment.functions[0]
    samples.write_submission(fresh, assignment, "exploit",
                             {first: blank[first] + "\n" + samples.HOSTILE_CELLS["input_transformer"]})
    samples.write_submission(fresh, assignment, "reference",
                             samples.solution_sources(assignment.source_path()))
    nbgrader = os.path.join(os.path.dirname(sys.executable), "nbgrader")
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run([nbgrader, "autograde", BROKEN, f"--Exchange.root={fresh}/exchange"],
                            cwd=fresh, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    with Gradebook(f"sqlite:///{fresh / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(BROKEN)}
    assert scores["exploit"] == 0
    assert scores["reference"] == max_points(assignment)


def test_refuses_without_a_sandbox_unless_told(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    with pytest.raises(SandboxUnavailable, match="--unsafe-no-sandbox"):
        grade(ASSIGNMENTS[BROKEN], tmp_path, limits=Limits(seconds=10))
