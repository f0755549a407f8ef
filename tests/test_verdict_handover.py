"""`d2lcourse grade` hands each verdict to nbgrader's run that records it (configured
for that run, no shared state), the gradebook holds the verdict's points as they are
(not nbgrader's reading of the test cells' outputs), and the gradebook's trusted code is
read by the same rules as the source notebook."""
from dataclasses import replace
from html import escape

import pytest

from d2lcourse import notebooks
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import Recorder, Submission, file_digest
from d2lcourse.autograder.nbgrader_plugin import SaveVerdictGrades, trusted_code
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.model import Status, TestResult, Verdict

ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    course = samples.copy_course(tmp_path_factory.mktemp("handover") / "course",
                                 [ASSIGNMENT.id])
    recorder = Recorder(course, ASSIGNMENT)
    recorder.ensure_assignment()
    return recorder


def source():
    return notebooks.read(ASSIGNMENT.source_path())


def every_point():
    return sum(t.points for t in notebooks.graded_tests(source()))


def verdict_on_every_test(passed):
    return Verdict(Status.OK, "", [
        TestResult(t.grade_id, ASSIGNMENT.owner_of(t.grade_id), t.points if passed else 0.0,
                   t.points, "" if passed else f"{t.grade_id}: said by the grader")
        for t in notebooks.graded_tests(source())])


def with_first_test(verdict, **changes):
    """`verdict` with its first test's result changed."""
    first, *rest = verdict.results
    return replace(verdict, results=[replace(first, **changes), *rest])


def recorded_score(recorder, student, replacements, verdict):
    path = samples.write_submission(recorder.course_dir, ASSIGNMENT, student, replacements)
    recorder.record(Submission(student, path, file_digest(path)), verdict)
    with recorder.api.gradebook as gradebook:
        return gradebook.find_submission(ASSIGNMENT.id, student).score


def recorded_test_scores(recorder, student):
    """{grade_id: auto_score} of `student`'s test cells in the gradebook."""
    notebook = ASSIGNMENT.notebook.removesuffix(".ipynb")
    with recorder.api.gradebook as gradebook:
        return {t.grade_id: gradebook.find_grade(t.grade_id, notebook, ASSIGNMENT.id,
                                                 student).auto_score
                for t in notebooks.graded_tests(source())}


def autograded(recorder, student):
    return notebooks.read(recorder.course_dir / "autograded" / student / ASSIGNMENT.id
                          / ASSIGNMENT.notebook)


def test_the_gradebook_records_the_verdict_it_is_handed_not_a_judgement_of_its_own(recorder):
    """A blank notebook with a passing verdict gets every point, the reference with a
    failing one none: nbgrader records what the grader concluded, and judges nothing."""
    assert recorded_score(recorder, "blank", {}, verdict_on_every_test(True)) == every_point()
    reference = notebooks.solution_sources(source())
    assert recorded_score(recorder, "reference", reference, verdict_on_every_test(False)) == 0
    cells = notebooks.cells_by_id(autograded(recorder, "reference"), notebooks.is_test_cell)
    assert [output.evalue for cell in cells.values() for output in cell.outputs] == [
        f"{t.grade_id}: said by the grader" for t in notebooks.graded_tests(source())]


def test_a_partial_score_lands_as_the_verdict_gives_it_and_its_message_reaches_feedback(
        recorder):
    """nbgrader would give a test cell with an error output 0 points: the verdict's half
    of them is what the gradebook holds, and the page tells the student why."""
    first = notebooks.graded_tests(source())[0]
    message = f"{first.grade_id}: half of the cases are wrong, said by the grader"
    verdict = with_first_test(verdict_on_every_test(True), points=first.points / 2,
                              message=message)
    assert recorded_score(recorder, "halved", {}, verdict) == every_point() - first.points / 2
    assert recorded_test_scores(recorder, "halved")[first.grade_id] == first.points / 2
    assert recorder.write_feedback({"halved": verdict}) is None
    page = (recorder.feedback_folder("halved") / ASSIGNMENT.notebook).with_suffix(".html")
    assert escape(message) in page.read_text()


def test_a_passed_test_keeps_its_points_whatever_its_outputs_look_like(recorder):
    """A passed test whose cell shows an error output (nbgrader's sign of a failure)
    keeps its points."""
    first = notebooks.graded_tests(source())[0]
    verdict = with_first_test(verdict_on_every_test(True),
                              message="Traceback (most recent call last): a note, not a failure")
    assert recorded_score(recorder, "noted", {}, verdict) == every_point()
    cell = notebooks.cells_by_id(autograded(recorder, "noted"), notebooks.is_test_cell)[
        first.grade_id]
    assert [output.output_type for output in cell.outputs] == ["error"]


def test_no_test_cell_is_scored_from_its_outputs_without_a_verdict(recorder):
    """Run without SandboxedExecute before it, the step that records the points stops
    rather than score a test cell by nbgrader's reading of its outputs."""
    assert recorded_score(recorder, "unjudged", {}, verdict_on_every_test(False)) == 0
    before = recorded_test_scores(recorder, "unjudged")
    notebook = autograded(recorder, "unjudged")
    for cell in notebooks.cells_by_id(notebook, notebooks.is_test_cell).values():
        cell.outputs = []  # nbgrader's rule would give every point
    resources = {"nbgrader": {"notebook": ASSIGNMENT.notebook.removesuffix(".ipynb"),
                              "assignment": ASSIGNMENT.id, "student": "unjudged",
                              "db_url": recorder.api.coursedir.db_url}}
    with pytest.raises(ValueError, match="SandboxedExecute must judge it before SaveVerdictGrades"):
        SaveVerdictGrades().preprocess(notebook, resources)
    assert recorded_test_scores(recorder, "unjudged") == before


def test_the_gradebook_and_the_source_notebook_are_read_by_one_rule(recorder):
    notebook = source()
    order = list(notebooks.graded_cells(notebook))
    setup, tests, functions = trusted_code(recorder.api.coursedir.db_url, ASSIGNMENT.id,
                                           ASSIGNMENT.notebook.removesuffix(".ipynb"), order)
    assert setup == notebooks.setup_sources(notebook)
    assert tests == notebooks.graded_tests(notebook)
    assert functions == tuple(notebooks.solution_sources(notebook)) == ASSIGNMENT.functions
