"""A notebook that nbgrader cannot render, or one of another assignment, is that student's
problem, never the class's (issue 15, class 4; issue 20, item 4).

One class of assignment 01, in a copy of the suite's shared released course: the
reference, notebooks shaped to break nbgrader's feedback (a missing attachment, an
attachment that is not base64, a huge output, metadata of the wrong types, outputs the
template cannot show), and the 05 notebook handed in as 01.
Every student gets a feedback page, the run exits 0, and a rerun does the same.
"""
import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from d2lcourse.autograder import samples
from d2lcourse.model import Status
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS
from helpers import class_grades, copy_of, submit

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")
ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]
OTHER = ASSIGNMENTS["05_mlp"]
D2LCOURSE = [sys.executable, "-m", "d2lcourse.cli"]


def markdown(source, **extra):
    return {"cell_type": "markdown", "metadata": {}, "source": source, **extra}


def code_with_outputs(outputs, **extra):
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "source": "1",
            "outputs": outputs, **extra}


# Each adds cells (or changes the notebook) so that rendering it may fail. The first
# three are valid notebooks: graded in full; the last two break nbformat's schema, which
# nbgrader's autograde rejects (as for any invalid notebook), by name.
BREAKERS = {
    "missing_attachment": lambda nb: nb["cells"].append(
        markdown("![plot](attachment:plot.png)")),
    "broken_attachment": lambda nb: nb["cells"].append(markdown(
        "![plot](attachment:plot.png)",
        attachments={"plot.png": {"image/png": "not base64 at all!"}})),
    "huge_output": lambda nb: nb["cells"].append(code_with_outputs([
        {"output_type": "stream", "name": "stdout", "text": "x" * (12 << 20)}])),
    "metadata_types": lambda nb: (
        nb["metadata"].update(kernelspec="python", language_info=3),
        nb["cells"].append(markdown("text", metadata={"tags": "one", "jupyter": 5}))),
    "template_choke": lambda nb: nb["cells"].append(code_with_outputs([
        {"output_type": "display_data", "metadata": {"image/png": "wide"},
         "data": {"text/markdown": "![x](attachment:nothing.png)", "image/png": 12}},
        {"output_type": "execute_result", "execution_count": "three", "metadata": {},
         "data": {"text/plain": ["a", 5]}}])),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released_course):
    """The class graded, then graded again. Not in the shared graded course: its
    report shows three messages of a status, which that class's broken notebooks fill."""
    course = copy_of(released_course, tmp_path_factory.mktemp("feedback") / "course")
    reference = samples.solution_sources(ASSIGNMENT.source_path(course))
    path = samples.write_submission(course, ASSIGNMENT, "reference", reference)
    notebook = json.loads(path.read_text())
    for student, breaks in BREAKERS.items():
        broken = copy.deepcopy(notebook)
        breaks(broken)
        submit(course, ASSIGNMENT, student, json.dumps(broken).encode())
    submit(course, ASSIGNMENT, "other_assignment", OTHER.source_path(course).read_bytes())
    notebook["cells"].append(markdown("text", metadata={"nbgrader": 7}))
    submit(course, ASSIGNMENT, "nbgrader_metadata_int", json.dumps(notebook).encode())
    command = D2LCOURSE + ["grade", ASSIGNMENT.id, "--course", str(course)]
    runs = [subprocess.run(command, capture_output=True, text=True, timeout=900)
            for _ in range(2)]
    return course, runs, class_grades(course, ASSIGNMENT.id)


def test_the_run_and_its_rerun_exit_zero(graded):
    _, runs, _ = graded
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Traceback" not in run.stderr


SCHEMA_BREAKERS = ("metadata_types", "template_choke")


def test_every_student_gets_a_feedback_page_with_their_grades(graded):
    course, _, rows = graded
    page = Path(ASSIGNMENT.notebook).with_suffix(".html").name
    for student in list(BREAKERS) + ["reference"]:
        text = (course / "feedback" / student / ASSIGNMENT.id / page).read_text()
        assert "regions" in text, student
        if student in SCHEMA_BREAKERS:
            assert rows[student]["status"] == "invalid_notebook", rows[student]
            assert "NotebookValidationError" in text
            continue
        assert rows[student]["total"] == rows["reference"]["total"], student
        assert rows[student]["status"] in ("ok", Status.UNRENDERABLE), rows[student]
        if rows[student]["status"] == Status.UNRENDERABLE:
            assert "nbgrader could not render this notebook" in text
    assert rows["reference"]["status"] == "ok"


def test_a_notebook_of_another_assignment_is_named_once(graded):
    course, runs, rows = graded
    row = rows["other_assignment"]
    assert row["status"] == "invalid_notebook" and float(row["total"]) == 0
    report = (course / "reports" / ASSIGNMENT.id / "report.html").read_text()
    assert report.count(f"this is the notebook of {OTHER.id} ({OTHER.notebook}") == 1
    assert "does not have a grade_id" not in report


def test_nbgrader_metadata_of_the_wrong_type_is_named(graded):
    course, runs, rows = graded
    assert rows["nbgrader_metadata_int"]["status"] == "invalid_notebook"
    report = (course / "reports" / ASSIGNMENT.id / "report.html").read_text()
    assert "has nbgrader metadata of type int, not a mapping" in report
