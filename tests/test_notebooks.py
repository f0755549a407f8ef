"""The source notebooks keep the rules of assignments/AUTHORING.md and the contract, and
`notebooks` is the one reader of every notebook, with one rule for each kind of cell."""
import ast
import builtins
import copy

import nbformat
import pytest

from d2lcourse import authoring, grading, notebooks, selfcheck
from d2lcourse.checks import core
from d2lcourse.autograder.grade import InvalidNotebook, Submission, read_submission
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.model import TestCell

IDS = list(ASSIGNMENTS)


def source(assignment_id):
    return notebooks.read(ASSIGNMENTS[assignment_id].source_path())


@pytest.mark.parametrize("assignment_id", IDS)
def test_solution_cells_agree_with_the_reference_library(assignment_id):
    assert authoring.disagreements(ASSIGNMENTS[assignment_id]) == []


def test_a_changed_reference_is_detected(tmp_path, monkeypatch):
    assignment = ASSIGNMENTS["02_linear_regression"]
    course = tmp_path / "course"
    path = assignment.source_path(course)
    path.parent.mkdir(parents=True)
    notebook = source(assignment.id)
    cell = next(c for c in notebook.cells if notebooks.grade_id(c) == "linreg")
    cell.source = cell.source.replace("### END SOLUTION", "    # edited by hand\n### END SOLUTION")
    nbformat.write(notebook, str(path))
    assert authoring.disagreements(assignment, course_dir=course) == [
        f"{path}: solution cell 'linreg' differs from d2lcourse.solutions.linear_regression.linreg"]
    authoring.disagreements(assignment, write=True, course_dir=course)
    assert authoring.disagreements(assignment, course_dir=course) == []


@pytest.mark.parametrize("assignment_id", IDS)
def test_grade_ids_follow_the_contract(assignment_id):
    assignment = ASSIGNMENTS[assignment_id]
    notebook = source(assignment_id)
    solutions = [notebooks.grade_id(c) for c in notebook.cells if notebooks.is_solution_cell(c)]
    assert sorted(solutions) == sorted(assignment.functions)
    tests = [notebooks.grade_id(c) for c in notebook.cells if notebooks.is_test_cell(c)]
    assert tests and all(assignment.owner_of(t) for t in tests), tests
    ids = [notebooks.grade_id(c) for c in notebook.cells if notebooks.grade_id(c)]
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("assignment_id", IDS)
def test_test_cells_are_self_contained(assignment_id):
    """A test cell may use only its imports, its own names and the graded functions."""
    assignment = ASSIGNMENTS[assignment_id]
    for cell in source(assignment_id).cells:
        if not notebooks.is_test_cell(cell):
            continue
        tree = ast.parse(cell.source)
        defined = set(assignment.functions) | set(dir(builtins))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or node.names[0].name
                assert module.startswith("d2lcourse"), ast.unparse(node)
                assert "solutions" not in module, ast.unparse(node)
                defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.Lambda, ast.comprehension)):
                defined |= {a.arg for a in getattr(getattr(node, "args", None), "args", [])}
                if isinstance(node, ast.FunctionDef):
                    defined.add(node.name)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load)}
        assert used <= defined, f"{notebooks.grade_id(cell)} uses {sorted(used - defined)}"


@pytest.mark.parametrize("assignment_id", IDS)
def test_setup_cells_only_import(assignment_id):
    for cell in source(assignment_id).cells:
        if notebooks.is_setup_cell(cell):
            tree = ast.parse(cell.source)
            assert all(isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr)) for n in tree.body), \
                cell.source


@pytest.mark.parametrize("assignment_id", IDS)
def test_later_assignments_never_import_the_reference_they_grade(assignment_id):
    assignment = ASSIGNMENTS[assignment_id]
    for cell in source(assignment_id).cells:
        if notebooks.is_setup_cell(cell):
            assert f"d2lcourse.solutions.{assignment.module}" not in cell.source


def how_this_notebook_works(notebook):
    """The paragraphs of `notebook` that start "**How this notebook works.**"."""
    return [paragraph for cell in notebook.cells if cell.cell_type == "markdown"
            for paragraph in cell.source.split("\n\n")
            if paragraph.startswith("**How this notebook works.**")]


def test_every_introduction_explains_the_notebook_once_and_the_same_way():
    boxes = {assignment_id: how_this_notebook_works(source(assignment_id))
             for assignment_id in IDS}
    assert all(len(found) == 1 for found in boxes.values()), boxes
    first = boxes[IDS[0]][0]
    assert all(found == [first] for found in boxes.values()), boxes
    for promise in ("`d2lcourse check`", "only the setup cell", "each\ngraded function's own "
                    "cell", "a helper in another cell works in Jupyter but not\nin the grader"):
        assert promise in first
    assert all(notebooks.grade_id(source(i).cells[0]) is None for i in IDS)
    assert all(first in source(i).cells[0].source for i in IDS), "it is in the introduction"


def with_copied_cell(assignment_id, name):
    """The source notebook with a second copy of cell `name` right after it."""
    notebook = source(assignment_id)
    index = next(i for i, c in enumerate(notebook.cells) if notebooks.grade_id(c) == name)
    twin = copy.deepcopy(notebook.cells[index])
    twin["id"] = "a-copy"
    notebook.cells.insert(index + 1, twin)
    return notebook


@pytest.mark.parametrize("kind", ["solution", "test"])
def test_a_grade_id_on_two_cells_is_refused_alike_by_check_and_the_grader(tmp_path, capsys,
                                                                          kind):
    """One rule for a duplicated cell: `d2lcourse check` and the grader both refuse the
    notebook and tell the student to delete the copy (no reader keeps one of the two)."""
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    name = assignment.functions[0] if kind == "solution" else f"test_{assignment.functions[0]}"
    path = tmp_path / assignment.notebook
    notebooks.write(with_copied_cell(assignment.id, name), path)
    told = f"the cell {name!r} appears twice: delete the copy"
    with pytest.raises(notebooks.NotebookProblem, match=told):
        notebooks.read(path)
    assert selfcheck.main(path) == 2
    assert told in capsys.readouterr().err
    with pytest.raises(InvalidNotebook, match=told):
        read_submission(Submission("student", path, ""), assignment)


def test_a_setup_cell_is_locked():
    """The contract's setup cell is a *locked* cell named setup...: an unlocked one is the
    student's own code, and neither `check` nor the grader runs it as setup."""
    notebook = source("02_linear_regression")
    setup = next(c for c in notebook.cells if notebooks.is_setup_cell(c))
    assert setup.source in notebooks.setup_sources(notebook)
    setup.metadata.nbgrader.locked = False
    assert not notebooks.is_setup_cell(setup)
    assert setup.source not in notebooks.setup_sources(notebook)


@pytest.mark.parametrize("assignment_id", IDS)
def test_test_cells_are_read_as_data_with_their_points(assignment_id):
    notebook = source(assignment_id)
    tests = notebooks.graded_tests(notebook)
    cells = [c for c in notebook.cells if notebooks.is_test_cell(c)]
    assert [(t.grade_id, t.source, t.points) for t in tests] == [
        (notebooks.grade_id(c), c.source, float(c.metadata.nbgrader.points)) for c in cells]


def test_check_leaves_out_the_hidden_tests_the_grader_runs():
    """The one loop runs a test cell with its hidden tests for the grader, without them
    for `d2lcourse check` (here: a hidden test that always fails)."""
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    notebook = source(assignment.id)
    test = notebooks.graded_tests(notebook)[0]
    hidden = TestCell(test.grade_id, test.source + "\n### BEGIN HIDDEN TESTS\n"
                      "raise AssertionError('hidden')\n### END HIDDEN TESTS\n", test.points)
    functions = grading.define_functions(assignment.functions, notebooks.setup_sources(notebook),
                                         notebooks.solution_sources(notebook))
    seen, graded = (grading.run_tests(assignment, [hidden], functions, hidden=shown)[0]
                    for shown in (False, True))
    assert seen.passed and seen.points == test.points
    assert graded.points == 0 and "AssertionError: hidden" in graded.message


@pytest.mark.parametrize("where", ["at the end", "amid the visible tests"])
def test_one_run_gives_the_graders_and_the_students_results(where):
    """With a StudentView, one run gives what the grader and `d2lcourse check` each give
    (the visible tests' oracle answers recorded, the hidden ones' not), line numbers
    included, wherever the hidden tests stand."""
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    notebook = source(assignment.id)
    test = next(t for t in notebooks.graded_tests(notebook) if "check." in t.source)
    hidden = ("### BEGIN HIDDEN TESTS\nprint('hidden ran')\n"
              "raise ValueError('hidden')\n### END HIDDEN TESTS\n")
    cell_source = (test.source + "\n" + hidden if where == "at the end"
                   else hidden + test.source + "\n")
    cell = TestCell(test.grade_id, cell_source, test.points)
    functions = grading.define_functions(assignment.functions, notebooks.setup_sources(notebook),
                                         notebooks.solution_sources(notebook))
    view = grading.StudentView()
    graded = grading.run_test_cell(assignment, cell, functions, student_view=view)
    answers = {}
    with core.oracle_answers("record", answers):
        seen = grading.run_test_cell(assignment, cell, functions, hidden=False)
    assert view.results == [seen] and seen.passed and seen.output.count("hidden ran") == 0
    assert answers and view.answers.keys() == answers.keys(), "the visible tests' answers"
    assert graded == grading.run_test_cell(assignment, cell, functions)
    assert graded.points == 0 and "ValueError: hidden" in graded.message
    line = cell_source.splitlines().index("raise ValueError('hidden')") + 1
    assert f'"<test cell {test.grade_id}>", line {line}' in graded.output
