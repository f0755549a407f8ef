"""Reading course notebooks: their cells by kind (setup, solution, test) and grade_id.

Students' installs have this module; keeping solution cells equal to `solutions/` is
the instructors' (`d2lcourse.authoring`).
"""
import re

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
                          re.MULTILINE | re.DOTALL)


# --------------------------------------------------------------------------- cells

def nbgrader_metadata(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    return nbgrader_metadata(cell).get("grade_id")


def is_solution_cell(cell):
    return cell.get("cell_type") == "code" and bool(nbgrader_metadata(cell).get("solution"))


def is_test_cell(cell):
    meta = nbgrader_metadata(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_setup_cell(cell):
    """Locked code cells whose grade_id starts with `setup`: imports every grader needs."""
    return (cell.get("cell_type") == "code" and not is_solution_cell(cell)
            and not is_test_cell(cell) and str(grade_id(cell) or "").startswith("setup"))


def cells_by_id(notebook, predicate):
    return {grade_id(c): c for c in notebook.cells if predicate(c)}


def without_hidden_tests(source):
    """Test-cell source as the student sees it."""
    return HIDDEN_TESTS.sub("", source)


def read(path):
    # nbformat is imported here, not at the top: the sandbox runner imports this module,
    # and nbformat (through jsonschema) takes a second or more to import.
    import nbformat
    return nbformat.read(str(path), as_version=4)
