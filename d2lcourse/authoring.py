"""Course authoring: the source notebooks' solution regions equal `solutions/`.

`solutions/<module>.py` is the one source of truth for reference code. Each graded
function `f` appears in the source notebook as the solution cell with `grade_id` `f`:
its signature and docstring, then its body inside ``### BEGIN SOLUTION`` /
``### END SOLUTION`` (which `nbgrader generate_assignment` turns into a stub).

    python -m d2lcourse.authoring            # report notebooks that disagree (exit 1)
    python -m d2lcourse.authoring --write    # rewrite their solution cells

Instructors' install only (the student package has no reference solution to sync).
"""
import argparse
import ast
import importlib.util
import re
import sys
from pathlib import Path

from d2lcourse.course import ASSIGNMENTS
from d2lcourse import notebooks
from d2lcourse.notebooks import BEGIN_SOLUTION, END_SOLUTION, cells_by_id, is_solution_cell, read

REFERENCE_PACKAGE = "d2lcourse.solutions"  # the reference modules: solutions/ in the repository


def reference_source(assignment):
    """The text of the assignment's reference module (see module_source)."""
    return module_source(assignment.module)


def module_source(module):
    """The text of the reference module d2lcourse.solutions.<module>, read without
    importing it (it imports MXNet); ModuleNotFoundError if there is none."""
    name = f"{REFERENCE_PACKAGE}.{module}"
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    return Path(spec.origin).read_text(encoding="utf-8")


def solution_cell_source(source, function_name):
    """The solution cell for `function_name`, generated from the reference module's text."""
    lines = source.splitlines()
    tree = ast.parse("\n".join(lines))
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.name == function_name), None)
    if node is None:
        raise LookupError(f"the reference module has no function {function_name!r}")
    first_body = node.body[0]
    has_docstring = (isinstance(first_body, ast.Expr)
                     and isinstance(getattr(first_body, "value", None), ast.Constant)
                     and isinstance(first_body.value.value, str))
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    header_end = first_body.end_lineno if has_docstring else first_body.lineno - 1
    body = lines[header_end:node.end_lineno]
    while body and not body[0].strip():
        body.pop(0)
    indent = re.match(r"\s*", body[0]).group(0) if body else "    "
    return "\n".join(lines[start:header_end] + [indent + BEGIN_SOLUTION] + body
                     + [indent + END_SOLUTION])


def disagreements(assignment, write=False, course_dir=None):
    """Solution cells of the assignment's source notebook that differ from solutions/.

    Returns human-readable lines; with `write`, also rewrites the notebook to agree.
    """
    path = assignment.source_path(course_dir)
    notebook = read(path)
    reference = reference_source(assignment)
    solutions = cells_by_id(notebook, is_solution_cell)
    problems = []
    for name in assignment.functions:
        if name not in solutions:
            problems.append(f"{path}: no solution cell with grade_id {name!r}")
            continue
        expected = solution_cell_source(reference, name)
        if solutions[name].source != expected:
            problems.append(f"{path}: solution cell {name!r} differs from "
                            f"d2lcourse.solutions.{assignment.module}.{name}")
            solutions[name].source = expected
    if write and problems:
        notebooks.write(notebook, path)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="rewrite notebook solution cells from solutions/")
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    args = parser.parse_args(argv)
    problems = []
    for assignment_id in args.assignments:
        problems += disagreements(ASSIGNMENTS[assignment_id], write=args.write)
    for line in problems:
        print(("fixed: " if args.write else "") + line)
    return 0 if args.write or not problems else 1


if __name__ == "__main__":
    sys.exit(main())
