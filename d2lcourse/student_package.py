"""The student package: the library and the visible tests, without the answers.

    python -m d2lcourse.student_package --published "01_ndarray_autograd ..." --out dist/student
    python -m d2lcourse.student_package --verify 04_softmax_regression

Instructors install the repository (everything); students install the wheel this module
builds (``make student-wheel``). It holds the library, ``d2lcourse check`` and
``doctor``, the checks of the released notebooks' visible tests, and the reference
solutions of the *published* assignments only. It has no solution of an unpublished
assignment, no mistakes catalogue, no autograder, no demo, no hidden test, and no
oracle's code: every function a check marks with :func:`checks.core.oracle` keeps its
signature and loses its body, which becomes a lookup of the answers that oracle gave on
the visible tests, recorded by `d2lcourse.recordings` from runs of the reference solution,
the released stub, every catalogued mistake and every alternative (so their messages are
the same as in the instructor's install). ``--verify`` replays those runs from the
recorded answers alone and lists every message that differs.
"""
import argparse
import ast
import configparser
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import d2lcourse
from d2lcourse import authoring, recordings
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS, REPOSITORY, TABLE, write_table
from d2lcourse.autograder.module_view import unpublished_references

PACKAGE = recordings.PACKAGE
# What only instructors install: paths inside the d2lcourse package (the reference
# solutions and the autograder live elsewhere in the repository, see setup.cfg).
INSTRUCTOR_ONLY = ("demo.py", "authoring.py", "scaffold.py", "student_package.py",
                   "recordings.py", "mistakes", "__pycache__")
STUDENT_SUBPACKAGES = ("d2lcourse", "d2lcourse.checks", "d2lcourse.solutions")
# The students' requirements: the instructor's, less what only grading uses (d2l is the
# textbook's code, answers included: the similarity report's known source), with MXNet's
# CPU build (a wheel cannot ask for an extra by itself) and a Jupyter kernel.
GRADING_ONLY_REQUIREMENTS = ("dask", "bleach", "d2l")
STUDENT_REQUIREMENTS = ("ipykernel",)
CACHE = recordings.CACHE


# --------------------------------------------------------------------------- the package

def is_oracle(function):
    return any(ast.unparse(decorator) in ("core.oracle", "oracle")
               for decorator in function.decorator_list)


def without_oracles(source, module):
    """A checks module's source whose oracles keep their signature and look their answers up.
    Comments go too (the module is written back from its syntax tree)."""
    tree = ast.parse(source)
    oracles = [node for node in tree.body if isinstance(node, ast.FunctionDef) and is_oracle(node)]
    if not oracles:
        return source
    lookup_of = "return core.recorded({name!r}, dict(locals()))"
    for node in oracles:
        node.decorator_list = []
        node.body = ast.parse(lookup_of.format(name=f"{module}.{node.name}")).body
    return ast.unparse(tree) + "\n"


def requirements():
    config = configparser.ConfigParser()
    config.read(REPOSITORY / "setup.cfg")
    lines = [line.strip() for line in (config["options"]["install_requires"]
                                       + config["options.extras_require"]["cpu"]).splitlines()]
    return [line for line in lines if line and not line.startswith("#")
            and not line.startswith(GRADING_ONLY_REQUIREMENTS)] + list(STUDENT_REQUIREMENTS)


def stage(published, folder):
    """Write the student package's source tree into `folder`."""
    shutil.copytree(PACKAGE, folder / "d2lcourse",
                    ignore=shutil.ignore_patterns(*INSTRUCTOR_ONLY, "*.pyc"))
    checks = folder / "d2lcourse" / "checks"
    for path in checks.glob("*.py"):    # an assignment's checks, and oracles they share
        path.write_text(without_oracles(path.read_text(), f"d2lcourse.checks.{path.stem}"))
    (checks / core.RECORDED_ANSWERS).write_bytes(pickle.dumps(recordings.recorded_answers(),
                                                              protocol=4))
    write_table(folder / "d2lcourse", ASSIGNMENTS)   # students have no source notebooks
    solutions = recordings.reference_folder()
    (folder / "d2lcourse" / "solutions").mkdir()
    shutil.copy(solutions / "__init__.py", folder / "d2lcourse" / "solutions")
    for assignment_id in published:
        shutil.copy(solutions / f"{ASSIGNMENTS[assignment_id].module}.py",
                    folder / "d2lcourse" / "solutions")
    requires = "".join(f"\n    {line}" for line in requirements())
    (folder / "setup.cfg").write_text(
        f"[metadata]\nname = d2lcourse\nversion = {d2lcourse.__version__}+student\n"
        "description = d2lcourse for students: the library and the visible tests\n\n"
        "[options]\npython_requires = >=3.8, <3.12\n"
        f"packages =\n    " + "\n    ".join(STUDENT_SUBPACKAGES) + "\n"
        f"install_requires ={requires}\n\n"
        f"[options.package_data]\nd2lcourse = {TABLE}\n"
        f"d2lcourse.checks = {core.RECORDED_ANSWERS}\n\n"
        "[options.entry_points]\nconsole_scripts =\n    d2lcourse = d2lcourse.cli:main\n")
    shutil.copy(REPOSITORY / "pyproject.toml", folder)


def build(published, out):
    """Build the student wheel with these published assignments' solutions into `out`."""
    unknown = [a for a in published if a not in ASSIGNMENTS]
    if unknown:
        raise SystemExit(f"student_package: unknown assignment(s) {', '.join(unknown)}: "
                         f"PUBLISHED takes ids of {', '.join(ASSIGNMENTS)}")
    for assignment_id in published:
        missing = unpublished_references(
            [authoring.reference_source(ASSIGNMENTS[assignment_id])], published)
        if missing:
            raise SystemExit(f"student_package: {assignment_id}'s reference solutions import "
                             f"those of {', '.join(missing)}: publish them too")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("d2lcourse-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        stage(published, Path(folder))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                        "-w", str(out.resolve()), folder], check=True)
    wheels = list(out.glob("d2lcourse-*.whl"))
    print(f"student wheel: {wheels[0]} (published: {', '.join(published) or 'none'})")
    return wheels[0]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m d2lcourse.student_package",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--verify", nargs="+", metavar="ASSIGNMENT",
                        help="replay these assignments' visible tests from recorded answers")
    parser.add_argument("--no-training", action="store_true",
                        help="with --verify: leave out the trainers' cases (minutes each)")
    parser.add_argument("--published", default="",
                        help="assignment ids whose reference solutions the package carries")
    parser.add_argument("--out", help="build the student wheel into this folder")
    args = parser.parse_args(argv)
    if args.out:
        build(args.published.split(), args.out)
        return 0
    if args.verify:
        return max(recordings.verify(a, training=not args.no_training) for a in args.verify)
    parser.error("nothing to do")


if __name__ == "__main__":
    sys.exit(main())
