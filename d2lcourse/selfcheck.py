"""`d2lcourse check NOTEBOOK`: a student's notebook against its visible tests.

Runs the notebook's setup and solution cells in this process (it is the student's own
code on the student's own machine), then each visible test cell, and prints one line
per graded function: `ok`, or what is wrong and what to try. The assignment is the one
whose graded functions the notebook's cells name, whatever the file is called; a note
names the setup and test cells changed since the release (the grader runs the released
ones). Exit status 1 if any fails, 2 if the file is not a notebook or has no graded test
cells, 130 on Ctrl-C (naming the test that was running).
"""
import sys
import traceback
from pathlib import Path

from d2lcourse.course import ASSIGNMENTS, assignment_of, of_notebook
from d2lcourse.notebooks import (grade_id, graded_tests, is_setup_cell, is_test_cell,
                                 nbgrader_metadata, read, setup_sources, solution_sources)


def assignment_for(path, notebook):
    """(assignment, note): the course assignment whose graded functions the notebook's
    cells name (whatever the file is called, with a note when its name says otherwise),
    else an ad-hoc one of its solution cells."""
    ids = [grade_id(cell) for cell in notebook.cells if grade_id(cell)]
    found = assignment_of(ids)
    if found.named(ids):
        note = "" if path.name == found.notebook else (
            f"note: {path.name} is the notebook of {found.id} ({found.notebook}): "
            f"checked as {found.id}")
        return found, note
    return of_notebook(path.parent.name, path, notebook), ""


def edited_since_release(notebook):
    """The note naming the setup and test cells that differ from their release (nbgrader's
    checksum, which generate_assignment stored, no longer matches), or ""."""
    from nbgrader.utils import compute_checksum
    edited = [grade_id(cell) for cell in notebook.cells
              if (is_setup_cell(cell) or is_test_cell(cell))
              and "checksum" in nbgrader_metadata(cell)
              and compute_checksum(cell) != nbgrader_metadata(cell)["checksum"]]
    if not edited:
        return ""
    return (f"note: {', '.join(edited)} changed since the release; the grader runs the "
            "released cells, not these: copy them back from the released notebook")


def not_a_course_notebook(path):
    """The one-line error for a notebook without graded test cells."""
    known = ", ".join(a.notebook for a in ASSIGNMENTS.values())
    return (f"d2lcourse check: {path} has no graded test cells (cells with nbgrader "
            f"metadata), so it is not a course notebook; expected one of {known}: run it on "
            f"the notebook released for the assignment, or on a copy saved from it")


def summarize(functions, results):
    """One line per graded function, in the given order; returns (lines, all passed)."""
    lines, all_passed = [], True
    for function in functions:
        own = [r for r in results if r.function == function]
        if not own:
            all_passed = False
            lines.append(f"FAIL {function}: not checked: its test cell is not in this "
                         "notebook, and the grader runs it. Copy the cell back from the "
                         "released notebook")
            continue
        failed = [r for r in own if not r.passed]
        if failed:
            all_passed = False
            message = failed[0].message
            prefix = f"{function}: "
            lines.append(f"FAIL {function}: {message[len(prefix):] if message.startswith(prefix) else message}")
        else:
            lines.append(f"ok   {function}")
    earned = sum(r.points for r in results)
    possible = sum(r.max_points for r in results)
    lines.append(f"{earned:g}/{possible:g} points from the visible tests "
                 f"({sum(r.passed for r in results)} of {len(results)} tests pass)")
    return lines, all_passed


class CheckInterrupted(KeyboardInterrupt):
    """Ctrl-C while the visible tests ran: the message names the test that was running."""


def visible_results(assignment, notebook):
    """The TestResults of the notebook's visible tests, as `grading.grade` gives them;
    Ctrl-C raises CheckInterrupted naming the cell or test that was running."""
    from d2lcourse import grading
    try:
        functions = grading.define_functions(assignment.functions, setup_sources(notebook),
                                             solution_sources(notebook))
    except KeyboardInterrupt as interrupt:
        cells = [frame.f_code.co_filename[1:-1] for frame, _ in
                 traceback.walk_tb(interrupt.__traceback__)
                 if frame.f_code.co_filename.startswith(("<cell ", "<setup cell "))]
        where = cells[-1] if cells else "the notebook's cells"
        raise CheckInterrupted(f"interrupted while {where} ran, before any test: if it never "
                               "ends, look there for a loop outside any def") from None
    tests, results = graded_tests(notebook), []
    try:
        return grading.run_tests(assignment, tests, functions, hidden=False, results=results)
    except KeyboardInterrupt:
        if len(results) == len(tests):  # after the last test: nothing was left running
            raise
        test = tests[len(results)]
        owner = assignment.owner_of(test.grade_id) or test.grade_id
        raise CheckInterrupted(
            f"interrupted while {test.grade_id} checked {owner} ({len(results)} of {len(tests)} "
            f"tests done): if it never ends, look in {owner} for a loop whose condition never "
            "changes") from None


def main(path):
    path = Path(path)
    try:
        notebook = read(path)
    except Exception as error:  # a student's file: say what is wrong with it (wrong input)
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        print(f"d2lcourse check: cannot read {path} as a notebook ({first}): check the "
              "notebook you saved from the released one", file=sys.stderr)
        return 2
    assignment, note = assignment_for(path, notebook)
    for line in (note, edited_since_release(notebook)):
        if line:
            print(line)
    results = visible_results(assignment, notebook)
    if not results:
        print(not_a_course_notebook(path), file=sys.stderr)
        return 2
    in_notebook = list(solution_sources(notebook))
    order = [f for f in in_notebook if f in assignment.functions]
    lines, all_passed = summarize(order + [f for f in assignment.functions if f not in order],
                                  results)
    print("\n".join(lines))
    return 0 if all_passed else 1
