"""nbgrader integration: the preprocessors that replace `Execute` and `SaveAutoGrades`
in autograding, and the course's feedback, formgrader and export settings.

In `nbgrader_config.py`::

    from d2lcourse.autograder.nbgrader_plugin import configure
    configure(get_config())

swaps `Execute` for `SandboxedExecute` and `SaveAutoGrades` for `SaveVerdictGrades` (one
needs the other). Plain `nbgrader autograde` then grades safely, one submission at a
time. `d2lcourse grade` computes verdicts in parallel first and hands each to the same
preprocessor in the configuration of the nbgrader run that records it
(`SandboxedExecute.verdict`), so nbgrader still writes the gradebook, and formgrader,
`generate_feedback` and `export` keep working.

A test cell's points in the gradebook are the verdict's, as they are: SandboxedExecute
hands them to SaveVerdictGrades in the run's resources. nbgrader's own rule (points from
the cell's outputs: an error output or stderr is 0, anything else full points) is never
applied to a test cell, so a partial score lands as it is and a passed test keeps its
points whatever its outputs look like. A failure's message stays an error output of its
test cell, where feedback and formgrader show it.
"""
import os
import sys
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExportPlugin
from nbgrader.preprocessors import (ClearHiddenTests, ClearOutput, Execute, GetGrades,
                                    NbGraderPreprocessor, OverwriteCells, SaveAutoGrades)
from traitlets import Bool, Dict, Float, List, Unicode

from d2lcourse import notebooks
from d2lcourse.course import ASSIGNMENTS, Assignment, published
from d2lcourse.autograder.module_view import unpublished_problem
from d2lcourse.model import Status, TestCell, Verdict
from d2lcourse.autograder.reports import write_csv
from d2lcourse.autograder.pages import (FeedbackExporter, FeedbackSummary, SanitizeStudentContent,
                                        configure_feedback, configure_formgrader, sanitize_notebook)
from d2lcourse.autograder.sandbox import Limits
from d2lcourse.data import find_fashion_mnist

VERDICT_POINTS = "d2lcourse_verdict_points"  # SandboxedExecute's {grade_id: points}, in resources


def trusted_code(db_url, assignment_id, notebook_id, order):
    """(setup sources, test cells, graded function names) from the gradebook's source cells.

    The gradebook holds the instructor's source cells, so no code here comes from the
    submission; `order` (grade_ids as they appear in the notebook) only sorts them.
    """
    def position(cell):
        return (order.index(cell.name) if cell.name in order else len(order), cell.name)

    with Gradebook(db_url) as gradebook:
        notebook = gradebook.find_notebook(notebook_id, assignment_id)
        points = {c.name: float(c.max_score) for c in notebook.grade_cells}
        solutions = {c.name for c in notebook.solution_cells}
        cells = [(c, notebooks.cell_kind(c.cell_type, c.name, c.locked, c.name in points,
                                         c.name in solutions))
                 for c in sorted(notebook.source_cells, key=position)]
        setup = [c.source for c, kind in cells if kind == notebooks.SETUP]
        tests = [TestCell(c.name, c.source, points[c.name])
                 for c, kind in cells if kind == notebooks.TEST]
        functions = tuple(c.name for c, kind in cells if kind == notebooks.SOLUTION)
    return setup, tests, functions


def assignment_for(assignment_id, notebook_id, functions):
    known = ASSIGNMENTS.get(assignment_id)
    if known is not None and known.notebook == f"{notebook_id}.ipynb":
        return known
    return Assignment(assignment_id, f"{notebook_id}.ipynb", functions)


def write_verdict(notebook, verdict):
    """Put each test's result in its cell's outputs, for feedback and formgrader to show
    (its points reach the gradebook apart, see `SaveVerdictGrades`); the rest of the
    notebook is cleaned of anything that could run in a page first (formgrader shows this
    notebook without cleaning it, see `pages.sanitize_notebook`)."""
    sanitize_notebook(notebook)
    results = {r.grade_id: r for r in verdict.results}
    for name, cell in notebooks.cells_by_id(notebook, notebooks.is_test_cell).items():
        result = results.get(name)
        cell.outputs = []
        if result is None:
            continue
        if result.output:
            cell.outputs.append(notebooks.stream_output(result.output[-20000:]))
        if result.message:
            cell.outputs.append(notebooks.error_output("CheckFailure", result.message))
    notebook.metadata["d2lcourse"] = {"status": verdict.status, "message": verdict.message,
                                      "functions": {r.grade_id: r.function
                                                    for r in verdict.results}}


class SandboxedExecute(NbGraderPreprocessor):
    """Judge a submission with its code in a sandbox and the tests in the grader."""

    unsafe_no_sandbox = Bool(False, help="Run student code without bubblewrap "
                                         "(shown in every report)").tag(config=True)
    timeout = Float(Limits.seconds, help="Wall-clock seconds per submission").tag(config=True)
    data_dir = Unicode("", help="Fashion-MNIST folder for the sandbox "
                                "(default: the one d2lcourse finds)").tag(config=True)

    verdict = Dict(default_value=None, allow_none=True, help="The verdict (Verdict.to_json()) to record "
                   "instead of judging: `d2lcourse grade` sets it for each run of nbgrader "
                   "autograde, which records one submission").tag(config=True)

    def preprocess(self, notebook, resources):
        info = resources["nbgrader"]
        order = list(notebooks.graded_cells(notebook))
        setup, tests, functions = trusted_code(info["db_url"], info["assignment"],
                                               info["notebook"], order)
        if self.verdict is not None:
            verdict = Verdict.from_json(self.verdict)
        else:
            assignment = assignment_for(info["assignment"], info["notebook"], functions)
            course_root = CourseDirectory(config=self.config).root
            problem = unpublished_problem(assignment, setup, published(course_root))
            if problem:
                raise RuntimeError(problem)
            from d2lcourse.autograder.evaluate import evaluate  # noqa: PLC0415 (MXNet: only to judge)

            verdict = evaluate(assignment, setup, tests,
                               notebooks.solution_sources(notebook, functions),
                               Limits(seconds=self.timeout), not self.unsafe_no_sandbox,
                               self.data_dir or find_data_dir())
        restore_deleted_tests(notebook, tests)
        write_verdict(notebook, verdict)
        resources[VERDICT_POINTS] = {r.grade_id: r.points for r in verdict.results}
        return notebook, resources


class SaveVerdictGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, with each test cell's points the verdict's.

    SandboxedExecute hands them over in the run's resources, which nbgrader makes afresh
    for each notebook, not in the notebook, whose metadata the student wrote. A test cell
    the verdict gives no points stops the run rather than fall back to nbgrader's reading
    of its outputs; other graded cells (none in this course) keep nbgrader's rule.
    """

    def _add_score(self, cell, resources):
        if not notebooks.is_test_cell(cell):
            return super()._add_score(cell, resources)
        name = notebooks.grade_id(cell)
        points = resources.get(VERDICT_POINTS, {})
        if name not in points:
            raise ValueError(f"no verdict gives points to the test cell {name!r}: "
                             "SandboxedExecute must judge it before SaveVerdictGrades records "
                             "it (nbgrader_plugin.configure sets up both)")
        grade = self.gradebook.find_grade(name, self.notebook_id, self.assignment_id,
                                          self.student_id)
        grade.auto_score = points[name]
        grade.needs_manual_grade = grade.manual_score is not None  # as nbgrader decides
        self.gradebook.db.commit()


def restore_deleted_tests(notebook, tests):
    """Append the test cells the submission lacks (from the gradebook): their points come
    from the source, so deleting a test cell changes no grade."""
    present = notebooks.graded_cells(notebook)
    notebook.cells += [notebooks.new_test_cell(test) for test in tests
                       if test.grade_id not in present]


def find_data_dir():
    try:
        return find_fashion_mnist(download=False)
    except Exception:  # grading without data still works for assignments that need none
        return None


class RestoreHiddenTests(OverwriteCells):
    """nbgrader's OverwriteCells, silent about the hidden tests that the release lacks.

    A released test cell has its hidden tests cut out, so its checksum never matches the
    source cell's and stock nbgrader warns "Attribute 'checksum' ... has changed!" for
    every such cell. Here a locked cell that is exactly the released one gets its source
    back first; only a cell that was really edited is still reported (and overwritten).
    """

    def preprocess_cell(self, cell, resources, cell_index):
        name = notebooks.grade_id(cell)
        if name is not None:
            try:
                source = self.gradebook.find_source_cell(name, self.notebook_id,
                                                         self.assignment_id)
            except MissingEntry:
                source = None  # OverwriteCells reports it
            if source is not None and source.locked and cell.source == self.released(source):
                cell.source = source.source
        return super().preprocess_cell(cell, resources, cell_index)

    def released(self, source_cell):
        """The source cell's text as `nbgrader generate_assignment` released it."""
        cell = notebooks.code_cell(source_cell.source)
        ClearHiddenTests(config=self.config)._remove_hidden_test_region(cell)
        return cell.source


class ClearHiddenTestsInFeedback(ClearHiddenTests):
    """ClearHiddenTests that accepts the HTML exporter's `display_data_priority`.

    The exporter configures it for every `NbConvertBase`; nbgrader's preprocessors
    redeclare it without `config=True`, so traitlets warns "Config option
    display_data_priority not recognized by ClearHiddenTests". nbgrader's own feedback
    step, GetGrades, declares it configurable: so does this one.
    """

    display_data_priority = List(GetGrades.display_data_priority.default_value).tag(config=True)


class NeutralisedCsvExport(ExportPlugin):
    """`nbgrader export` for this course: the columns of nbgrader's CSV exporter, written
    by `reports.write_csv` (every text quoted, spreadsheet formulas neutralised: student
    ids come from folder names the students choose), and `status`: the grader's status
    of the submission (`ok`, `invalid_notebook`, `timeout`, ...; `no submission`), so
    that a 0 for a rejected notebook does not read as an earned 0."""

    COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
               "email", "raw_score", "late_submission_penalty", "score", "max_score", "status"]
    course_dir = Unicode("", help="the course root (default: nbgrader's, or this folder)"
                         ).tag(config=True)

    def export(self, gradebook):
        write_csv(Path(self.to or "grades.csv"), self.COLUMNS, self.with_status(
            self.rows(gradebook)))

    def with_status(self, rows):
        """The rows with the status `d2lcourse grade` recorded for each submission."""
        from d2lcourse.autograder.grade import stored_verdicts  # noqa: PLC0415 (grade imports us)
        coursedir = getattr(self.parent, "coursedir", None)
        root = Path(self.course_dir or getattr(coursedir, "root", "") or ".")
        verdicts = {}
        for row in rows:
            if row["assignment"] not in verdicts:
                verdicts[row["assignment"]] = stored_verdicts(
                    root / "reports" / row["assignment"] / "verdicts")
            found = verdicts[row["assignment"]].get(row["student_id"])
            status = found[2].status if found else (
                "" if row["timestamp"] else Status.NO_SUBMISSION)
            yield {**row, "status": status}

    def rows(self, gradebook):
        """One row per assignment and student, as nbgrader's exporter (no submission:
        zero points), for the assignments and students asked for (default: all)."""
        for assignment in gradebook.assignments:
            if self.assignment and assignment.name not in self.assignment:
                continue
            for student in gradebook.students:
                if self.student and student.id not in self.student:
                    continue
                row = {"assignment": assignment.name, "duedate": text_of(assignment.duedate),
                       "student_id": student.id, "last_name": text_of(student.last_name),
                       "first_name": text_of(student.first_name),
                       "email": text_of(student.email), "max_score": float(assignment.max_score),
                       "timestamp": "", "raw_score": 0.0, "late_submission_penalty": 0.0,
                       "score": 0.0}
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    yield row
                    continue
                penalty = float(submission.late_submission_penalty or 0.0)
                yield {**row, "timestamp": text_of(submission.timestamp),
                       "raw_score": float(submission.score), "late_submission_penalty": penalty,
                       "score": max(0.0, float(submission.score) - penalty)}


def text_of(value):
    return "" if value is None else str(value)


def put_environment_first_on_path():
    """nbgrader's gradebook runs `alembic` from PATH: make it this environment's, even
    when the venv is not activated (`../.venv/bin/nbgrader ...`)."""
    bin_dir = os.path.dirname(sys.executable)
    path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep)
            if entry and entry != bin_dir]
    os.environ["PATH"] = os.pathsep.join([bin_dir, *path])


def configure(c):
    """Make an nbgrader config grade through the sandbox and record the verdict's points
    as they are, hide hidden tests in feedback, restore them without false warnings,
    silence nbgrader's SQLAlchemy warnings, find this environment's `alembic`, write
    feedback pages that run no student script (`pages.py`), with the outputs of non-test
    cells as submitted, typeset math offline in feedback and formgrader, and make
    `nbgrader export` write a CSV that no spreadsheet runs as formulas."""
    put_environment_first_on_path()
    warnings.filterwarnings("ignore", module="nbgrader")  # its SQLAlchemy warnings
    c.Autograde.sanitize_preprocessors = [  # no ClearOutput: feedback shows them as submitted
        RestoreHiddenTests if step is OverwriteCells else step
        for step in Autograde.sanitize_preprocessors.default() if step is not ClearOutput]
    replacements = {Execute: SandboxedExecute, SaveAutoGrades: SaveVerdictGrades}
    c.Autograde.autograde_preprocessors = [
        replacements.get(step, step) for step in Autograde.autograde_preprocessors.default()]
    c.GenerateFeedback.preprocessors = ([ClearHiddenTestsInFeedback, SanitizeStudentContent]
                                        + GenerateFeedback.preprocessors.default()
                                        + [FeedbackSummary])
    c.GenerateFeedback.exporter_class = FeedbackExporter
    configure_feedback(c.GenerateFeedback.HTMLExporter)
    # Formgrader's view carries MathJax itself, as the feedback pages do: math is typeset
    # with no network (an exam room, a firewalled JupyterHub).
    configure_formgrader(c.HTMLExporter)
    c.ExportApp.plugin_class = NeutralisedCsvExport
