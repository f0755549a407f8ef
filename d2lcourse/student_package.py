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
the visible tests, recorded here (`record`) by running them with the reference solution, the
released stub, every catalogued mistake and every alternative (so their messages are the
same as in the instructor's install). ``--verify`` replays those runs from the recorded
answers alone and lists every message that differs.
"""
import argparse
import ast
import configparser
import copy
import functools
import hashlib
import importlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.preprocessors import ClearSolutions

import d2lcourse
from d2lcourse import authoring, grading, mistakes, notebooks
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS, REPOSITORY, TABLE, is_trainer, write_table
from d2lcourse.autograder.module_view import unpublished_references

PACKAGE = Path(d2lcourse.__file__).parent
# What only instructors install: paths inside the d2lcourse package (the reference
# solutions and the autograder live elsewhere in the repository, see setup.cfg).
INSTRUCTOR_ONLY = ("demo.py", "authoring.py", "scaffold.py", "student_package.py", "mistakes",
                   "__pycache__")
STUDENT_SUBPACKAGES = ("d2lcourse", "d2lcourse.checks", "d2lcourse.solutions")
# The students' requirements: the instructor's, less what only grading uses (d2l is the
# textbook's code, answers included: the similarity report's known source), with MXNet's
# CPU build (a wheel cannot ask for an extra by itself) and a Jupyter kernel.
GRADING_ONLY_REQUIREMENTS = ("dask", "bleach", "d2l")
STUDENT_REQUIREMENTS = ("ipykernel",)
CACHE = REPOSITORY / "build" / "student"


def visible_cases(assignment, source, training=True):
    """{case name: (solution sources, graded functions whose visible tests run)} of the
    assignment's `source` notebook: the reference and the released stub on every test;
    each catalogued mistake and alternative on the tests that can see its cell
    (`mistakes.tested_functions`, as tests/test_course.py grades them).
    `training=False` leaves trainers out altogether."""
    reference = grading.solution_sources(source)
    released, _ = ClearSolutions().preprocess(copy.deepcopy(source), {})
    everything = tuple(f for f in assignment.functions if training or not is_trainer(f))
    cases = {"reference": (reference, everything),
             "released_stub": (grading.solution_sources(released), everything)}
    found, alternatives = mistakes.load(assignment)
    for kind, catalogue in (("mistake", found), ("alternative", alternatives)):
        for case in catalogue:
            if training or not is_trainer(case.function):
                cases[f"{kind}/{case.function}/{case.name}"] = (
                    {**reference, case.function: case.source},
                    mistakes.tested_functions(assignment, case))
    return cases


def as_recorded(results):
    """TestResults as a Recording keeps them: [(grade_id, points, message)]."""
    return [(r.grade_id, r.points, r.message) for r in results]


@dataclass
class Recording:
    """An assignment's visible-test runs in the instructor's install (`visible_cases`):
    the answers its oracles gave, each run's [(grade_id, points, message)], and the
    questions (oracle case keys) each run asked: a run that asked none runs the same code
    in the student package."""

    answers: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    questions: dict = field(default_factory=dict)

    def add(self, name, view):
        """Add the run `name`, as a grading.StudentView saw it."""
        self.results[name] = as_recorded(view.results)
        self.answers.update(view.answers)
        self.questions[name] = frozenset(view.answers)


def record(assignment, training=True):
    """The assignment's Recording: every case of `visible_cases` run once."""
    recording = Recording()
    source = notebooks.read(assignment.source_path())
    for name, (sources, tested) in visible_cases(assignment, source, training).items():
        view = grading.StudentView()
        grading.grade_sources(assignment, source, sources, hidden=False, only=tested,
                              student_view=view)
        recording.add(name, view)
    return recording


def replay_differences(assignment, recording, training=True):
    """The runs whose results differ when every oracle answers from the recording alone."""
    differences = []
    source = notebooks.read(assignment.source_path())
    with core.oracle_answers("replay", recording.answers):
        for name, (sources, tested) in visible_cases(assignment, source, training).items():
            replayed = as_recorded(grading.grade_sources(assignment, source, sources,
                                                         hidden=False, only=tested))
            if replayed != recording.results[name]:
                differences.append((name, recording.results[name], replayed))
    return differences


def verify(assignment_id, training=True):
    """Record and replay one assignment's visible tests; print what differs; exit status."""
    assignment = ASSIGNMENTS[assignment_id]
    recording = record(assignment, training)
    differences = replay_differences(assignment, recording, training)
    for name, want, got in differences:
        print(f"{assignment_id} {name}:")
        for before, after in zip(want, got):
            if before != after:
                print(f"  instructor: {before}\n  student:    {after}")
    print(f"{assignment_id}: {len(recording.results)} runs of the visible tests, "
          f"{len(recording.answers)} oracle answers recorded, {len(differences)} runs differ "
          f"when replayed")
    return 1 if differences else 0


# --------------------------------------------------------------------------- the package

@functools.cache
def sources_digest():
    """A digest of the files that the recordings depend on: the checks, the loop over test
    cells, the catalogue, the solutions, the source notebooks and the Recording itself."""
    sources = sorted([*(PACKAGE / "checks").glob("*.py"), *(PACKAGE / "mistakes").glob("*.py"),
                      *(PACKAGE / name for name in ("grading.py", "model.py", "notebooks.py",
                                                    "student_package.py")),
                      *Path(importlib.import_module("d2lcourse.solutions").__path__[0]).glob("*.py"),
                      *(a.source_path() for a in ASSIGNMENTS.values())])
    return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]


def recording_path(assignment):
    """Where the assignment's Recording is cached (build/student/, by `sources_digest`)."""
    return CACHE / f"recording-{assignment.id}-{sources_digest()}.pickle"


def save_recording(assignment, recording):
    """Cache the assignment's Recording (tests/test_course.py saves the one its run makes),
    in place of those recorded from other versions of its files."""
    path = recording_path(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(pickle.dumps(recording, protocol=4))
    partial.replace(path)
    for old in path.parent.glob(f"recording-{assignment.id}-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)


def recording(assignment):
    """The assignment's Recording, as cached (`record` when it is not)."""
    path = recording_path(assignment)
    if not path.exists():
        save_recording(assignment, record(assignment))
    return pickle.loads(path.read_bytes())  # as the next build reads it: cached or not


def recorded_answers():
    """{case key: answer} of every oracle on every assignment's visible-test runs."""
    return {key: answer for assignment in ASSIGNMENTS.values()
            for key, answer in recording(assignment).answers.items()}


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
    (checks / core.RECORDED_ANSWERS).write_bytes(pickle.dumps(recorded_answers(), protocol=4))
    write_table(folder / "d2lcourse", ASSIGNMENTS)   # students have no source notebooks
    solutions = Path(importlib.import_module("d2lcourse.solutions").__path__[0])
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
        return max(verify(a, training=not args.no_training) for a in args.verify)
    parser.error("nothing to do")


if __name__ == "__main__":
    sys.exit(main())
