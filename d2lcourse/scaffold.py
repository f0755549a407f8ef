"""Scaffold a new assignment: the four files of a working bundle, and nothing else.

    python -m d2lcourse.scaffold 06_dropout "Dropout" --function dropout --function l2_penalty

writes (STEM is the id without its number, here `dropout`)

    assignments/source/<id>/<STEM>.ipynb   the notebook: introduction, setup cell, and per
                                           function a section, its solution cell and its
                                           test cell (nbgrader metadata set)
    solutions/<STEM>.py                    the reference solutions (`make notebooks`
                                           writes the solution cells from them)
    d2lcourse/checks/<STEM>.py             one check per function, a spec (checks.spec)
    d2lcourse/mistakes/<STEM>.py           three mistakes and an alternative per function

and registers the assignment by being there (d2lcourse.course). Every function starts as
a placeholder, twice its input, so that the bundle releases, self-checks and grades as
written; AUTHORING.md walks through replacing it. Instructors' install only.
"""
import argparse
import keyword
import re
import sys
from pathlib import Path

from d2lcourse import authoring, notebooks
from d2lcourse.course import REPOSITORY, assignments_in, is_trainer
from d2lcourse.model import TestCell

ID = re.compile(r"(\d+)_([a-z][a-z0-9_]*)")
FUNCTION = re.compile(r"[a-z][a-z0-9_]*")
POINTS = 2   # of each function's test cell
SETUP = "from d2lcourse import np"
NOTEBOOK_METADATA = {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}}


class ScaffoldError(ValueError):
    """Wrong input: the message says what to change."""


def bundle_paths(root, assignment_id, stem):
    """{what: path} of the four files of assignment `assignment_id` in repository `root`."""
    root = Path(root)
    return {"notebook": root / "assignments" / "source" / assignment_id / f"{stem}.ipynb",
            "reference": root / "solutions" / f"{stem}.py",
            "checks": root / "d2lcourse" / "checks" / f"{stem}.py",
            "mistakes": root / "d2lcourse" / "mistakes" / f"{stem}.py"}


def problem(root, assignment_id, functions):
    """Why this assignment cannot be scaffolded in `root`, or ""."""
    match = ID.fullmatch(assignment_id)
    if not match:
        return (f"{assignment_id!r} is not an assignment id: write it as NN_name, a number, "
                f"an underscore and a lowercase name (e.g. 06_dropout)")
    if not functions:
        return "name at least one graded function: --function NAME"
    for folder in ("solutions", "d2lcourse/checks", "d2lcourse/mistakes"):
        if not (Path(root) / folder).is_dir():
            return f"{root} has no {folder}/: pass --root with the course's repository"
    course = assignments_in(Path(root) / "assignments" / "source")
    stem = match.group(2)
    taken = {a.module: a.id for a in course.values()}
    graded = {f: a.id for a in course.values() for f in a.functions}
    if assignment_id in course:
        return f"the course already has {assignment_id}: choose another id"
    if stem in taken:
        return f"{stem}.ipynb is the notebook of {taken[stem]}: choose another name"
    for name in functions:
        if not FUNCTION.fullmatch(name) or keyword.iskeyword(name):
            return f"{name!r} is not a function name: lowercase letters, digits and underscores"
        if name.startswith(("test", "setup")) or is_trainer(name):
            return (f"{name!r} starts like a test, setup or trainer cell's grade_id: trainers' "
                    f"checks are written by hand (AUTHORING.md); name the function otherwise")
        if name in graded:
            return (f"{name} is already graded in {graded[name]}: graded functions have "
                    f"unique names")
    if len(set(functions)) < len(functions):
        return "a function is named twice: name each once"
    existing = [str(p) for p in bundle_paths(root, assignment_id, stem).values() if p.exists()]
    if existing:
        return f"{', '.join(existing)} already exist: the scaffold writes only new files"
    return ""


# --------------------------------------------------------------------------- the four files

def reference_module(assignment_id, title, functions):
    parts = [f'"""Reference solutions of assignment {assignment_id}: {title}."""\n']
    for name in functions:
        parts.append(f'''

def {name}(x):
    """Twice x, elementwise: the scaffold's placeholder, replace it with {name}'s own."""
    return 2 * x
''')
    return "".join(parts)


def checks_module(assignment_id, title, stem, functions):
    parts = [f'''"""Checks of assignment {assignment_id}, {title} (``{stem}.ipynb``).

Test cells call ``check.<function>_matches(<function>, shape=..., scale=..., seed=...)``.
Each check is a spec (:mod:`d2lcourse.checks.spec`): the inputs, the oracle of the right
answer and the oracle of the catalogued mistakes' answers (float64 classic NumPy, marked
``@core.oracle``: the student package ships their answers on the visible tests, not
their code), and the words of the messages. The scaffold wrote placeholders, twice the
input: write each function's own.
"""
import numpy as onp

from d2lcourse.checks import core, spec

MXNET_FIX = "build it with mxnet.np operations, or convert it with .as_np_ndarray()"


def normal_inputs(shape=(4, 6), scale=3.0, seed=0):
    """float32 draws from N(0, scale^2), of the test cell's shape, scale and seed."""
    return onp.random.default_rng(seed).normal(0.0, scale, shape).astype(onp.float32)
''']
    for name in functions:
        parts.append(f'''

# --------------------------------------------------------------------------- {name}

@core.oracle
def _{name}(x):
    return 2 * x


@core.oracle
def _{name}_mistakes(x):
    return [(x + 2, "computed x + 2: {name}(x) is 2 x, a product"),
            (x * x, "computed x squared: {name}(x) is 2 x")]


{name.upper()} = spec.Spec(
    name="{name}", inputs=normal_inputs, oracle=_{name}, mistakes=_{name}_mistakes,
    shown_as="2 x", passed="2 x on {{size}} N(0, {{scale:g}}^2) inputs", forbidden={{}},
    legacy_fix=MXNET_FIX)
{name}_matches = spec.check({name.upper()})
''')
    return "".join(parts)


def mistakes_module(assignment_id, functions):
    mistakes, alternatives = [], []
    for name in functions:
        mistakes.append(f"""    Mistake("{name}_plus_two", "{name}", '''
def {name}(x):
    return x + 2
''', "computed x + 2"),
    Mistake("{name}_squared", "{name}", '''
def {name}(x):
    return x * x
''', "computed x squared"),
    Mistake("{name}_in_place", "{name}", '''
def {name}(x):
    x *= 2
    return x
''', "changed its argument x in place"),
""")
        alternatives.append(f"""    Alternative("{name}_sum", "{name}", '''
def {name}(x):
    return x + x
'''),
""")
    return (f'"""Typical mistakes and alternative correct answers of {assignment_id}."""\n'
            "from d2lcourse.mistakes import Alternative, Mistake\n\n"
            f"MISTAKES = [\n{''.join(mistakes)}]\n\nALTERNATIVES = [\n{''.join(alternatives)}]\n")


def cell(source, **nbgrader):
    """A setup or solution cell with nbgrader metadata (locked unless a solution cell);
    test cells are `notebooks.new_test_cell`'s."""
    metadata = {"grade": False, "solution": False, "locked": True, "schema_version": 3,
                **nbgrader}
    return notebooks.code_cell(source, metadata)


def notebook(assignment_id, title, stem, functions, reference_path):
    """The source notebook: the solution cells from the reference module at
    `reference_path`, as `make notebooks` writes them."""
    reference = Path(reference_path).read_text()
    number = int(ID.fullmatch(assignment_id).group(1))
    cells = [notebooks.markdown_cell(
                 f"# Assignment {number}: {title}\n\n"
                 "What this assignment teaches, in a few lines, with the math in LaTeX."),
             cell(SETUP, grade_id="setup"),
             notebooks.markdown_cell(
                 "The cell above is the setup cell: besides each other and what their own "
                 "cells define, it is all the graded functions may use.")]
    for section, name in enumerate(functions, 1):
        cells += [notebooks.markdown_cell(
                      f"## {section}. `{name}`\n\nWrite `{name}(x)`: twice `x`, elementwise, "
                      "$2x$."),
                  cell(authoring.solution_cell_source(reference, name), grade_id=name,
                       solution=True, locked=False),
                  notebooks.new_test_cell(TestCell(
                      f"test_{name}",
                      f"from d2lcourse.checks import {stem} as check\n\n"
                      f"check.{name}_matches({name})\n"
                      "### BEGIN HIDDEN TESTS\n"
                      f"check.{name}_matches({name}, shape=(7, 3), scale=100.0, seed=1)\n"
                      "### END HIDDEN TESTS", POINTS))]
    return notebooks.new_notebook(cells, NOTEBOOK_METADATA)


def scaffold(root, assignment_id, title, functions):
    """Write the bundle's four files into repository `root`; returns their paths."""
    reason = problem(root, assignment_id, functions)
    if reason:
        raise ScaffoldError(reason)
    stem = ID.fullmatch(assignment_id).group(2)
    paths = bundle_paths(root, assignment_id, stem)
    paths["reference"].write_text(reference_module(assignment_id, title, functions))
    paths["checks"].write_text(checks_module(assignment_id, title, stem, functions))
    paths["mistakes"].write_text(mistakes_module(assignment_id, functions))
    paths["notebook"].parent.mkdir(parents=True)
    notebooks.write(notebook(assignment_id, title, stem, functions, paths["reference"]),
                    paths["notebook"])
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m d2lcourse.scaffold",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the new assignment's id, e.g. 06_dropout")
    parser.add_argument("title", help="its title, e.g. \"Dropout and weight decay\"")
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="a graded function (repeat for each, in notebook order)")
    parser.add_argument("--root", default=str(REPOSITORY),
                        help="the repository to write into (default: this install's)")
    args = parser.parse_args(argv)
    try:
        paths = scaffold(args.root, args.assignment, args.title, args.function)
    except ScaffoldError as error:
        print(f"scaffold: {error}", file=sys.stderr)
        return 2
    print("\n".join(f"wrote {path}" for path in paths.values()))
    print(f"next: AUTHORING.md (write the reference, the checks and the mistakes, then "
          f"`make notebooks` and `d2lcourse check {paths['notebook']}`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
