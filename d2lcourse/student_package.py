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
the visible tests, recorded here by running them with the reference solution, the
released stub, every catalogued mistake and every alternative (so their messages are the
same as in the instructor's install). ``--verify`` replays those runs from the recorded
answers alone and lists every message that differs.
"""
import argparse
import copy
import sys

from nbgrader.preprocessors import ClearSolutions

from d2lcourse import grading, mistakes, notebooks
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS


def visible_cases(assignment, training=True):
    """{case name: solution sources} of the runs the visible tests are recorded on.
    `training=False` leaves out the cases of trainers (their tests train for minutes)."""
    source = notebooks.read(assignment.source_path())
    reference = grading.solution_sources(source)
    released, _ = ClearSolutions().preprocess(copy.deepcopy(source), {})
    cases = {"reference": reference, "released_stub": grading.solution_sources(released)}
    found, alternatives = mistakes.load(assignment)
    for kind, catalogue in (("mistake", found), ("alternative", alternatives)):
        for case in catalogue:
            if training or not case.function.startswith("train_"):
                cases[f"{kind}/{case.function}/{case.name}"] = {**reference,
                                                                case.function: case.source}
    return cases


def run_visible_tests(assignment, sources, training=True):
    """[(grade_id, points, message)] of the visible tests with these solution cells."""
    source = notebooks.read(assignment.source_path())
    functions = grading.define_functions(assignment.functions, grading.setup_sources(source),
                                         sources)
    results = []
    for cell in source.cells:
        if notebooks.is_test_cell(cell) and (
                training or not assignment.owner_of(notebooks.grade_id(cell)).startswith("train_")):
            result = grading.run_test_cell(assignment, cell, functions, hidden=False)
            results.append((result.grade_id, result.points, result.message))
    return results


def record(assignment, training=True):
    """(answers, results): the oracles' answers on every visible-test run, and its results."""
    answers, results = {}, {}
    with core.oracle_answers("record", answers):
        for name, sources in visible_cases(assignment, training).items():
            results[name] = run_visible_tests(assignment, sources, training)
    return answers, results


def replay_differences(assignment, answers, results, training=True):
    """The runs whose results differ when every oracle answers from `answers` alone."""
    differences = []
    with core.oracle_answers("replay", answers):
        for name, sources in visible_cases(assignment, training).items():
            replayed = run_visible_tests(assignment, sources, training)
            if replayed != results[name]:
                differences.append((name, results[name], replayed))
    return differences


def verify(assignment_id, training=True):
    """Record and replay one assignment's visible tests; print what differs; exit status."""
    assignment = ASSIGNMENTS[assignment_id]
    answers, results = record(assignment, training)
    differences = replay_differences(assignment, answers, results, training)
    for name, want, got in differences:
        print(f"{assignment_id} {name}:")
        for before, after in zip(want, got):
            if before != after:
                print(f"  instructor: {before}\n  student:    {after}")
    print(f"{assignment_id}: {len(results)} runs of the visible tests, {len(answers)} oracle "
          f"answers recorded, {len(differences)} runs differ when replayed")
    return 1 if differences else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m d2lcourse.student_package",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--verify", nargs="+", metavar="ASSIGNMENT",
                        help="replay these assignments' visible tests from recorded answers")
    parser.add_argument("--no-training", action="store_true",
                        help="with --verify: leave out the trainers' cases (minutes each)")
    args = parser.parse_args(argv)
    if args.verify:
        return max(verify(a, training=not args.no_training) for a in args.verify)
    parser.error("nothing to do")


if __name__ == "__main__":
    sys.exit(main())
