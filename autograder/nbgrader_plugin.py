"""nbgrader integration: a preprocessor that replaces `Execute` in autograding.

In `nbgrader_config.py`::

    from d2lcourse.autograder.nbgrader_plugin import SandboxedExecute
    c.Autograde.autograde_preprocessors = [SandboxedExecute if p is Execute else p ...]

(`d2lcourse.autograder.nbgrader_plugin.configure(c)` does exactly that.) Plain
`nbgrader autograde` then grades safely, one submission at a time. `d2lcourse grade`
computes verdicts in parallel first and hands them to the same preprocessor through
`SandboxedExecute.precomputed`, so nbgrader still writes the gradebook, and
formgrader, `generate_feedback` and `export` keep working.
"""
import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor
from traitlets import Bool, Float, Unicode

from d2lcourse.course import ASSIGNMENTS, Assignment
from d2lcourse.notebooks import grade_id, is_solution_cell, is_test_cell
from d2lcourse.autograder.evaluate import TestCell, evaluate
from d2lcourse.autograder.sandbox import Limits


def trusted_code(db_url, assignment_id, notebook_id, order):
    """(setup sources, test cells, graded function names) from the gradebook's source cells.

    The gradebook holds the instructor's source cells, so no code here comes from the
    submission; `order` (grade_ids as they appear in the notebook) only sorts them.
    """
    def position(cell):
        return (order.index(cell.name) if cell.name in order else len(order), cell.name)

    with Gradebook(db_url) as gradebook:
        notebook = gradebook.find_notebook(notebook_id, assignment_id)
        cells = {c.name: c for c in notebook.source_cells}
        tests = [TestCell(c.name, cells[c.name].source, float(c.max_score))
                 for c in sorted(notebook.grade_cells, key=position)
                 if c.cell_type == "code" and c.name in cells]
        functions = tuple(c.name for c in sorted(notebook.solution_cells, key=position))
        setup = [c.source for c in sorted(cells.values(), key=position)
                 if c.name.startswith("setup") and c.locked and c.cell_type == "code"]
    return setup, tests, functions


def student_solutions(notebook, functions):
    """{grade_id: source} of the submission's code solution cells for graded functions."""
    sources = {}
    for cell in notebook.cells:
        name = grade_id(cell)
        if is_solution_cell(cell) and name in functions and name not in sources:
            sources[name] = cell.source
    return sources


def assignment_for(assignment_id, notebook_id, functions):
    known = ASSIGNMENTS.get(assignment_id)
    if known is not None and known.notebook == f"{notebook_id}.ipynb":
        return known
    return Assignment(assignment_id, f"{notebook_id}.ipynb", functions)


def write_verdict(notebook, verdict):
    """Put each test's result in its cell's outputs, as nbgrader's grading expects."""
    results = {r.grade_id: r for r in verdict.results}
    for cell in notebook.cells:
        if not is_test_cell(cell):
            continue
        result = results.get(grade_id(cell))
        cell.outputs = []
        if result is None:
            continue
        if result.output:
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout",
                                                       text=result.output[-20000:]))
        if result.message:
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="CheckFailure", evalue=result.message,
                traceback=[result.message]))
    notebook.metadata["d2lcourse"] = {"status": verdict.status, "message": verdict.message}


class SandboxedExecute(NbGraderPreprocessor):
    """Judge a submission with its code in a sandbox and the tests in the grader."""

    unsafe_no_sandbox = Bool(False, help="Run student code without bubblewrap "
                                         "(shown in every report)").tag(config=True)
    timeout = Float(Limits.seconds, help="Wall-clock seconds per submission").tag(config=True)
    data_dir = Unicode("", help="Fashion-MNIST folder for the sandbox "
                                "(default: the one d2lcourse finds)").tag(config=True)

    # (student, assignment, notebook) -> Verdict, filled by `d2lcourse grade`.
    precomputed = {}

    def preprocess(self, notebook, resources):
        info = resources["nbgrader"]
        key = (info["student"], info["assignment"], info["notebook"])
        verdict = self.precomputed.get(key)
        if verdict is None:
            order = [grade_id(cell) for cell in notebook.cells if grade_id(cell)]
            setup, tests, functions = trusted_code(info["db_url"], info["assignment"],
                                                   info["notebook"], order)
            assignment = assignment_for(info["assignment"], info["notebook"], functions)
            verdict = evaluate(assignment, setup, tests, student_solutions(notebook, functions),
                               Limits(seconds=self.timeout), not self.unsafe_no_sandbox,
                               self.data_dir or find_data_dir())
        write_verdict(notebook, verdict)
        return notebook, resources


def find_data_dir():
    try:
        from d2lcourse.data import find_fashion_mnist
        return find_fashion_mnist(download=False)
    except Exception:  # grading without data still works for assignments that need none
        return None


def configure(c):
    """Make an nbgrader config grade through the sandbox and hide hidden tests in feedback."""
    from nbgrader.converters import Autograde, GenerateFeedback
    c.Autograde.autograde_preprocessors = [
        SandboxedExecute if step is Execute else step
        for step in Autograde.autograde_preprocessors.default()]
    c.GenerateFeedback.preprocessors = [ClearHiddenTests] + GenerateFeedback.preprocessors.default()
