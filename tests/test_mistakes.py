"""The catalogue of mistakes: every edit of a reference cell applies, and one that no
longer does says which mistake and which text (tests/test_course.py grades them)."""
import ast

import pytest

from d2lcourse import mistakes
from d2lcourse.course import ASSIGNMENTS


def edited_cases():
    return [pytest.param(case, id=f"{assignment.id}-{case.name}")
            for assignment in ASSIGNMENTS.values()
            for case in [*mistakes.load(assignment)[0], *mistakes.load(assignment)[1]]
            if isinstance(case.cell, mistakes.Edit)]


@pytest.mark.parametrize("case", edited_cases())
def test_every_edit_applies_and_changes_the_code(case):
    reference = mistakes.reference_cells(case.cell.module)[case.function]
    assert ast.dump(ast.parse(case.source)) != ast.dump(ast.parse(reference)), (
        f"{case.name}: the edit leaves the code of {case.function} as it is")
    assert "### BEGIN SOLUTION" not in case.source
    defined = [node.name for node in ast.parse(case.source).body
               if isinstance(node, ast.FunctionDef)]
    assert case.function in defined


def test_an_edit_that_no_longer_applies_names_the_mistake_and_the_text():
    edit = mistakes.editor("d2lcourse.mistakes.ndarray_autograd")
    stale = mistakes.Mistake("stale_forward_difference", "numerical_derivative",
                             edit(("(f(x + h) - f(x)) / h", "(f(x) - f(x - h)) / h")),
                             "backward difference")
    with pytest.raises(mistakes.EditError,
                       match=r"'stale_forward_difference' of numerical_derivative .*"
                             r"'\(f\(x \+ h\) - f\(x\)\) / h' occurs 0 times"):
        stale.source


def test_an_ambiguous_edit_is_refused():
    edit = mistakes.editor("d2lcourse.mistakes.ndarray_autograd")
    ambiguous = mistakes.Alternative("ambiguous", "numerical_derivative", edit(("h", "2")))
    with pytest.raises(mistakes.EditError, match="occurs [0-9]+ times"):
        ambiguous.source


def test_edits_are_applied_in_order():
    edit = mistakes.editor("d2lcourse.mistakes.ndarray_autograd")
    case = mistakes.Mistake("two_steps", "grad_f", edit(("6 * x", "y"), ("y - 4", "6 * x + 4")),
                            "wrong sign")
    assert "return 6 * x + 4" in case.source


def test_an_edit_of_a_case_that_is_not_catalogued_says_so():
    edit = mistakes.editor("d2lcourse.mistakes.optimization")
    orphan = mistakes.Mistake("orphan", "gd", edit(("x", "y"), like="gd_renamed_away"), "x")
    with pytest.raises(mistakes.EditError, match="'orphan' of gd .* edits 'gd_renamed_away', "
                                                 "which names 0 catalogued cases of gd"):
        orphan.source
