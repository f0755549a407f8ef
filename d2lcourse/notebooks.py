"""The one reader (and writer) of course notebooks: cells by kind and grade_id.

Everything that needs a notebook's cells asks here (only the feedback pages,
`autograder/pages.py`, handle nbformat themselves, to render). One rule for each
question: what makes a cell a solution, test or setup cell (`cell_kind`, which also
judges the gradebook's copies of the cells), and what makes a notebook unreadable
(`NotebookProblem`: broken nbgrader metadata, or a grade_id on two cells, which the
student is told to delete). Test cells come out as data (`model.TestCell`).

Students' installs have this module; keeping solution cells equal to `solutions/` is
the instructors' (`d2lcourse.authoring`).
"""

import re

from d2lcourse.model import TestCell

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    re.MULTILINE | re.DOTALL,
)
SOLUTION, TEST, SETUP = "solution", "test", "setup"


class NotebookProblem(ValueError):
    """The notebook cannot be read as a course notebook; the message says why and what
    to do, for the student."""


# --------------------------------------------------------------------------- cells


def nbgrader_metadata(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    return nbgrader_metadata(cell).get("grade_id")


def cell_kind(cell_type, name, locked, graded, solution):
    """SOLUTION, TEST, SETUP or None, from a cell's nbgrader metadata (or its gradebook
    entry). A setup cell (COURSE_CONTRACT.md) is a locked code cell, neither solution
    nor test, whose grade_id starts with `setup`: the imports every grader runs."""
    if cell_type != "code":
        return None
    if solution:
        return SOLUTION
    if graded:
        return TEST
    if locked and str(name or "").startswith("setup"):
        return SETUP
    return None


def kind_of(cell):
    meta = nbgrader_metadata(cell)
    return cell_kind(
        cell.get("cell_type"),
        meta.get("grade_id"),
        meta.get("locked"),
        meta.get("grade"),
        meta.get("solution"),
    )


def is_solution_cell(cell):
    return kind_of(cell) == SOLUTION


def is_test_cell(cell):
    return kind_of(cell) == TEST


def is_setup_cell(cell):
    return kind_of(cell) == SETUP


def malformed(cell):
    """What makes `cell` unreadable as an nbgrader cell, or ''."""
    if not isinstance(cell, dict) or not isinstance(cell.get("metadata", {}), dict):
        return "is not a cell with metadata"
    info = cell.get("metadata", {}).get("nbgrader", {})
    if not isinstance(info, dict):
        return f"has nbgrader metadata of type {type(info).__name__}, not a mapping"
    if not isinstance(info.get("grade_id", ""), str):
        return f"has a grade_id of type {type(info['grade_id']).__name__}, not text"
    return ""


def graded_cells(notebook):
    """{grade_id: cell} of every cell that has a grade_id, in order; NotebookProblem for
    a cell with broken nbgrader metadata or a grade_id on two cells (the first found)."""
    cells = notebook.get("cells", [])
    found = {}
    for number, cell in enumerate(cells if isinstance(cells, list) else [None], 1):
        problem = malformed(cell)
        if problem:
            raise NotebookProblem(
                f"cell {number} of the notebook {problem}: start again from "
                "the released notebook and keep its cells' metadata"
            )
        name = grade_id(cell)
        if name is None:
            continue
        if name in found:
            raise NotebookProblem(f"the cell {name!r} appears twice: delete the copy")
        found[name] = cell
    return found


def cells_by_id(notebook, predicate):
    return {name: cell for name, cell in graded_cells(notebook).items() if predicate(cell)}


def solution_sources(notebook, functions=None):
    """{grade_id: source} of the solution cells (of the graded `functions` only, if given)."""
    return {
        name: str(cell.get("source", ""))
        for name, cell in graded_cells(notebook).items()
        if is_solution_cell(cell) and (functions is None or name in functions)
    }


def setup_sources(notebook):
    """The code of the setup cells, in order."""
    return [cell.source for cell in graded_cells(notebook).values() if is_setup_cell(cell)]


def graded_tests(notebook):
    """The test cells, in order, as `TestCell`s."""
    return [
        TestCell(name, cell.source, float(nbgrader_metadata(cell).get("points", 0)))
        for name, cell in graded_cells(notebook).items()
        if is_test_cell(cell)
    ]


def without_hidden_tests(source):
    """Test-cell source as the student sees it."""
    return HIDDEN_TESTS.sub("", source)


def visible_then_hidden(source):
    """(visible part, hidden part) of a test cell whose one hidden block ends it at the top
    level, the hidden part padded with blank lines so that its line numbers are the cell's;
    (source, "") for a cell without hidden tests; None when the cell cannot be run in two
    parts like that (hidden tests inside a block, or visible code after them)."""
    blocks = list(HIDDEN_TESTS.finditer(source))
    if not blocks:
        return source, ""
    block = blocks[0]
    if len(blocks) > 1 or source[block.end() :].strip() or source[block.start()] in " \t":
        return None
    visible = source[: block.start()]
    return visible, "\n" * visible.count("\n") + source[block.start() :]


def without_solution_markers(source):
    """A generated solution cell as a student's would read: without nbgrader's markers."""
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION)
    )


# --------------------------------------------------------------------------- files


def nbformat():
    """The nbformat module, imported on first use, not with this module: the sandbox
    runner imports this module, and nbformat (through jsonschema) takes a second or more
    to import."""
    import nbformat

    return nbformat


def read(path):
    """The notebook at `path`; NotebookProblem if its cells break `graded_cells`' rules."""
    notebook = nbformat().read(str(path), as_version=4)
    graded_cells(notebook)
    return notebook


def from_json(document):
    """The notebook in `document` (parsed JSON of nbformat 4), converted without
    nbformat's schema validation (slow on large notebooks: autograder/grade.py bounds
    the document first); NotebookProblem as `read`."""
    notebook = nbformat().v4.to_notebook_json(document)
    graded_cells(notebook)
    return notebook


def write(notebook, path):
    nbformat().write(notebook, str(path))


def code_cell(source, nbgrader=None):
    """A new code cell, with this `nbgrader` metadata if given."""
    return nbformat().v4.new_code_cell(source, metadata={"nbgrader": nbgrader} if nbgrader else {})


def markdown_cell(source):
    return nbformat().v4.new_markdown_cell(source)


def new_notebook(cells, metadata):
    return nbformat().v4.new_notebook(cells=cells, metadata=metadata)


def new_test_cell(test):
    """A locked test cell holding `test` (a TestCell)."""
    return code_cell(
        test.source,
        {
            "grade": True,
            "solution": False,
            "locked": True,
            "grade_id": test.grade_id,
            "points": test.points,
            "schema_version": 3,
        },
    )


def stream_output(text):
    return nbformat().v4.new_output("stream", name="stdout", text=text)


def error_output(name, message):
    return nbformat().v4.new_output("error", ename=name, evalue=message, traceback=[message])
