"""`d2lcourse grade` hands each verdict to nbgrader's run that records it (configured
for that run, no shared state), and the gradebook's trusted code is read by the same
rules as the source notebook."""
import pytest

from d2lcourse import notebooks
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import Recorder, Submission, file_digest
from d2lcourse.autograder.nbgrader_plugin import trusted_code
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


def verdict_on_every_test(passed):
    return Verdict(Status.OK, "", [
        TestResult(t.grade_id, ASSIGNMENT.owner_of(t.grade_id), t.points if passed else 0.0,
                   t.points, "" if passed else f"{t.grade_id}: said by the grader")
        for t in notebooks.graded_tests(source())])


def recorded_score(recorder, student, replacements, verdict):
    path = samples.write_submission(recorder.course_dir, ASSIGNMENT, student, replacements)
    recorder.record(Submission(student, path, file_digest(path)), verdict)
    with recorder.api.gradebook as gradebook:
        return gradebook.find_submission(ASSIGNMENT.id, student).score


def test_the_gradebook_records_the_verdict_it_is_handed_not_a_judgement_of_its_own(recorder):
    """A blank notebook with a passing verdict gets every point, the reference with a
    failing one none: nbgrader records what the grader concluded, and judges nothing."""
    most = sum(t.points for t in notebooks.graded_tests(source()))
    assert recorded_score(recorder, "blank", {}, verdict_on_every_test(True)) == most
    reference = notebooks.solution_sources(source())
    assert recorded_score(recorder, "reference", reference, verdict_on_every_test(False)) == 0
    autograded = notebooks.read(recorder.course_dir / "autograded" / "reference"
                                / ASSIGNMENT.id / ASSIGNMENT.notebook)
    cells = notebooks.cells_by_id(autograded, notebooks.is_test_cell)
    assert [output.evalue for cell in cells.values() for output in cell.outputs] == [
        f"{t.grade_id}: said by the grader" for t in notebooks.graded_tests(source())]


def test_the_gradebook_and_the_source_notebook_are_read_by_one_rule(recorder):
    notebook = source()
    order = list(notebooks.graded_cells(notebook))
    setup, tests, functions = trusted_code(recorder.api.coursedir.db_url, ASSIGNMENT.id,
                                           ASSIGNMENT.notebook.removesuffix(".ipynb"), order)
    assert setup == notebooks.setup_sources(notebook)
    assert tests == notebooks.graded_tests(notebook)
    assert functions == tuple(notebooks.solution_sources(notebook)) == ASSIGNMENT.functions
