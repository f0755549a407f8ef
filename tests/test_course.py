"""The course's tests discriminate: on every assignment's real source notebook,

1. the reference solutions get full marks,
2. the released stub gets 0 on every test,
3. each catalogued mistake loses points on its own function's tests, with a message
   that names it, and nowhere else (on the tests that can see its cell: the others run
   the reference's code on the same inputs, as a trace of the reference's run confirms),
4. each alternative correct answer gets full marks,
5. a correct answer that writes to stderr and raises warnings keeps full marks,
6. every failure a check module can raise is asserted by a catalogued mistake.

These run the test cells in-process (d2lcourse.grading); tests/test_autograde.py runs
the same notebooks through nbgrader and the sandbox.
"""
import ast
import contextlib
import copy
import fcntl
import functools
import json
import os
import re
import sys
from pathlib import Path

import pytest
from nbgrader.preprocessors import ClearSolutions

from d2lcourse import mistakes as catalogue
from d2lcourse import grading, notebooks, recordings
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS, is_trainer
from helpers import reference_cells

ASSIGNMENT_IDS = list(ASSIGNMENTS)


@functools.lru_cache(maxsize=None)
def source_notebook(assignment_id):
    return notebooks.read(ASSIGNMENTS[assignment_id].source_path())


def grade(assignment_id, replacements=None, only=None, case=None):
    """Grade the reference notebook with some solution cells replaced.

    `only`: the graded functions whose tests run (default: all). The run of a `case` of
    the student package's recording (recordings.visible_cases) is recorded too.
    """
    assignment, source = ASSIGNMENTS[assignment_id], source_notebook(assignment_id)
    sources = {**grading.solution_sources(source), **(replacements or {})}
    if case is None:
        return grading.grade_sources(assignment, source, sources, only=only)
    view = grading.StudentView()
    results = grading.grade_sources(assignment, source, sources, only=only, student_view=view)
    record(assignment, case, view)
    return results


# The student package's recording of each assignment (recordings.Recording) comes
# from the runs above: each case's visible tests run first, with the oracles recording
# their answers, then its hidden tests. Once every case of an assignment has run, it is
# saved where `make student-wheel` reads it, and tests/test_student_package.py (after
# this file, on the same xdist worker: see conftest.py) does not run them again.
RECORDINGS = {}


def record(assignment, case, view):
    recording = RECORDINGS.setdefault(assignment.id, recordings.Recording())
    recording.add(case, view)
    if recording.results.keys() == visible_cases(assignment.id):
        recordings.save_recording(assignment, recording)


@functools.lru_cache(maxsize=None)
def visible_cases(assignment_id):
    assignment = ASSIGNMENTS[assignment_id]
    return recordings.visible_cases(assignment, source_notebook(assignment_id)).keys()


def report(results):
    return "\n".join(f"{r.grade_id}: {r.points}/{r.max_points} {r.message}" for r in results)


# Every message of every catalogued case, as the checks wrote it, one file per assignment
# (tests/golden/<id>.json): a refactoring of the checks leaves these files byte-identical.
# They are compared by same_message: the words exactly, the numbers up to float32 rounding.
# A change of behaviour rewrites its assignment's file on purpose
# (D2LCOURSE_UPDATE_GOLDEN=1 pytest tests/test_course.py -k <id>), in a commit of its own
# that says which messages changed and why.
GOLDEN = Path(__file__).with_name("golden")
UPDATE_GOLDEN = os.environ.get("D2LCOURSE_UPDATE_GOLDEN") == "1"


def golden_messages(assignment_id):
    """{case key: its messages} recorded for the assignment ({} before the first record)."""
    path = GOLDEN / f"{assignment_id}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def assert_golden(assignment_id, case, results):
    key = f"{assignment_id}/{case}"
    got = [f"{r.grade_id}: {r.points:g}/{r.max_points:g} {r.message}" for r in results]
    path = GOLDEN / f"{assignment_id}.json"
    if UPDATE_GOLDEN:
        with open(path, "a+") as file:     # pytest-xdist's workers take turns
            fcntl.flock(file, fcntl.LOCK_EX)
            golden = {**golden_messages(assignment_id), key: got}
            path.write_text(json.dumps(dict(sorted(golden.items())), indent=1,
                                       ensure_ascii=False) + "\n")
    golden = golden_messages(assignment_id)
    assert key in golden, f"{key} is not in {path}: run with D2LCOURSE_UPDATE_GOLDEN=1"
    assert len(got) == len(golden[key]) and all(map(same_message, got, golden[key])), (
        f"the messages of {key} changed:\n" + "\n".join(got))


# A number in a message, with its sign and exponent ("-3.893135", "2.01e-07", "0/2").
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d*)?(?:e[-+]?\d+)?")


def same_message(got, recorded):
    """Whether `got` says what `recorded` says: the same words, and each number within the
    rounding of float32 arithmetic (rtol 1e-4, atol 1e-6). MXNet's kernels round
    differently on another CPU (AVX-512 or not): a message's numbers computed from float32
    results move in their last printed digits, while its words, indices and counts stay."""
    words, numbers = NUMBER.split(got), NUMBER.findall(got)
    recorded_words, recorded_numbers = NUMBER.split(recorded), NUMBER.findall(recorded)
    return words == recorded_words and all(
        abs(float(a) - float(b)) <= 1e-4 * max(abs(float(a)), abs(float(b))) + 1e-6
        for a, b in zip(numbers, recorded_numbers))


def test_golden_messages_compare_words_exactly_and_numbers_up_to_float32_rounding():
    recorded = "row 1 sums to 65.126, got -3.893135 (noise std 1.876e-07; 4 of 40 wrong)"
    rounded = "row 1 sums to 65.1261, got -3.893136 (noise std 2.01e-07; 4 of 40 wrong)"
    assert same_message(rounded, recorded)
    for changed in ("row 0 sums to 65.126, got -3.893135 (noise std 1.876e-07; 4 of 40 wrong)",
                    "row 1 sums to 65.2, got -3.893135 (noise std 1.876e-07; 4 of 40 wrong)",
                    "row 1 sums to 65.126, got 3.893135 (noise std 1.876e-07; 4 of 40 wrong)",
                    "row 1 sums to 65.126, got -3.893135 (noise std 1.876e-07; 4 of 41 wrong)",
                    "row 1 adds to 65.126, got -3.893135 (noise std 1.876e-07; 4 of 40 wrong)",
                    "row 1 sums to 65.126, got -3.893135 (noise std 1.876e-07; 4 of 40)"):
        assert not same_message(changed, recorded), changed


def mistakes(kind):
    cases = []
    for assignment_id in ASSIGNMENT_IDS:
        for case in catalogue.load(ASSIGNMENTS[assignment_id])[kind == "alternatives"]:
            cases.append(pytest.param(assignment_id, case, id=f"{assignment_id}-{case.name}"))
    return cases


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_the_golden_file_holds_the_catalogued_cases_only(assignment_id):
    """A case that left the catalogue (or became an alternative) leaves its golden file."""
    found, alternatives = catalogue.load(ASSIGNMENTS[assignment_id])
    cases = {f"{assignment_id}/{kind}/{case.function}/{case.name}"
             for kind, listed in (("mistake", found), ("alternative", alternatives))
             for case in listed}
    recorded = {key for key in golden_messages(assignment_id) if key.count("/") == 3}
    assert recorded <= cases, f"not catalogued: {sorted(recorded - cases)}"


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_reference_gets_full_marks(assignment_id):
    results = grade(assignment_id, case="reference")
    assert results, "no test cells found"
    assert_golden(assignment_id, "reference", results)
    assert all(r.passed for r in results), report(results)
    owners = {r.function for r in results}
    assert owners == set(ASSIGNMENTS[assignment_id].functions), "every function is tested"


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_released_stub_gets_zero_everywhere(assignment_id):
    released = copy.deepcopy(source_notebook(assignment_id))
    released, _ = ClearSolutions().preprocess(released, {})
    results = grade(assignment_id, grading.solution_sources(released), case="released_stub")
    passing = [r for r in results if r.points > 0]
    assert not passing, "a stub passes these tests:\n" + report(passing)
    assert all("not implemented yet" in r.message for r in results), report(results)
    assert_golden(assignment_id, "released_stub", results)


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_catalogue_has_three_mistakes_per_assignment(assignment_id):
    found, _ = catalogue.load(ASSIGNMENTS[assignment_id])
    assert len(found) >= 3


@contextlib.contextmanager
def recorded_failures():
    """Record every CheckFailure made inside the block: its message, and the lines of
    d2lcourse/checks/ on the stack where it was made."""
    records = []
    checks_dir = str(CHECKS_DIR)

    def record(failure, *args):
        AssertionError.__init__(failure, *args)
        frame, lines = sys._getframe(1), []
        while frame is not None:
            if frame.f_code.co_filename.startswith(checks_dir):
                lines.append((frame.f_code.co_filename, frame.f_lineno))
            frame = frame.f_back
        records.append((str(failure), tuple(lines)))

    core.CheckFailure.__init__ = record
    try:
        yield records
    finally:
        del core.CheckFailure.__init__


CHECKS_DIR = Path(core.__file__).parent


@functools.lru_cache(maxsize=None)
def graded_mistake(assignment_id, mistake):
    """(results, recorded failures) of the reference notebook with `mistake` in it.
    Cached: the hint coverage test reuses the runs of the mistake tests."""
    only = catalogue.tested_functions(ASSIGNMENTS[assignment_id], mistake)
    with recorded_failures() as records:
        results = grade(assignment_id, {mistake.function: mistake.source}, only,
                        case=f"mistake/{mistake.function}/{mistake.name}")
    return results, tuple(records)


@pytest.mark.parametrize("assignment_id,mistake", mistakes("mistakes"))
def test_mistake_loses_points_only_in_its_function(assignment_id, mistake):
    results, _ = graded_mistake(assignment_id, mistake)
    assert_golden(assignment_id, f"mistake/{mistake.function}/{mistake.name}", results)
    failed = [r for r in results if not r.passed]
    own = [r for r in failed if r.function == mistake.function]
    assert own, f"{mistake.name} passes every test of {mistake.function}:\n{report(results)}"
    assert any(mistake.message.lower() in r.message.lower() for r in own), report(own)
    elsewhere = [r for r in failed if r.function not in (mistake.function, *mistake.also_fails)]
    assert not elsewhere, f"{mistake.name} costs points elsewhere:\n{report(elsewhere)}"


@pytest.mark.parametrize("assignment_id,alternative", mistakes("alternatives"))
def test_alternative_gets_full_marks(assignment_id, alternative):
    results = grade(assignment_id, {alternative.function: alternative.source},
                    only=catalogue.tested_functions(ASSIGNMENTS[assignment_id], alternative),
                    case=f"alternative/{alternative.function}/{alternative.name}")
    assert_golden(assignment_id, f"alternative/{alternative.function}/{alternative.name}",
                  results)
    assert results and all(r.passed for r in results), report(results)


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_a_case_is_graded_on_every_test_that_calls_its_function(assignment_id):
    """While the reference's quick tests run, each graded function called comes from a
    test of its own or of one of its `callers`, so a case graded on `tested_functions`
    misses no test that its cell could change."""
    assignment = ASSIGNMENTS[assignment_id]
    setup, sources = reference_cells(assignment_id)
    functions = grading.define_functions(assignment.functions, setup, sources)
    names = {function.__code__: name for name, function in functions.items()}
    called = set()

    def trace(frame, event, argument):
        if event == "call" and frame.f_code in names:
            called.add(names[frame.f_code])
    for test in notebooks.graded_tests(source_notebook(assignment_id)):
        owner = assignment.owner_of(test.grade_id)
        if is_trainer(owner):
            continue  # a trainer's tests run for its own cases alone
        called.clear()
        sys.setprofile(trace)
        try:
            grading.run_test_cell(assignment, test, functions)
        finally:
            sys.setprofile(None)
        unseen = {name for name in called - {owner}
                  if owner not in catalogue.callers(assignment)[name]}
        assert not unseen, f"{test.grade_id} calls {unseen}, which callers() misses"
        assert owner in called, f"the trace sees no call of {owner} in {test.grade_id}"


def test_also_fails_names_callers_only():
    """A mistake may fail the tests of other functions only where they can see its cell."""
    for assignment in ASSIGNMENTS.values():
        for mistake in catalogue.load(assignment)[0]:
            assert set(mistake.also_fails) <= catalogue.callers(assignment)[mistake.function], (
                f"{assignment.id} {mistake.name}: also_fails {mistake.also_fails}")


NOISY_WRAPPER = '''
import sys as _sys, warnings as _warnings
_quiet_{name} = {name}
def {name}(*args, **kwargs):
    print("debug: calling {name}", file=_sys.stderr)
    _warnings.warn("a student's own warning in {name}")
    return _quiet_{name}(*args, **kwargs)
'''


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_stderr_and_warnings_keep_full_marks(assignment_id):
    sources = grading.solution_sources(source_notebook(assignment_id))
    noisy = {name: source + NOISY_WRAPPER.format(name=name) for name, source in sources.items()}
    # Every function is noisy; the slow training tests are left out (same mechanism).
    results = grade(assignment_id, noisy,
                    only=[f for f in ASSIGNMENTS[assignment_id].functions if not is_trainer(f)])
    assert results and all(r.passed for r in results), report(results)


def failure_sites(path):
    """(first line, last line, text) of every `core.fail(...)` and `core.CheckFailure(...)`
    in a checks module: each is a message some mistake must produce."""
    sites = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "core"
                and node.func.attr in ("fail", "CheckFailure")):
            sites.append((node.lineno, node.end_lineno, ast.unparse(node)))
    return sorted(sites)


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_every_hint_is_asserted_by_a_mistake(assignment_id):
    """A failure site counts as tested when a catalogued mistake's asserted message was
    raised there (or by a helper called from there)."""
    assignment = ASSIGNMENTS[assignment_id]
    path = str(CHECKS_DIR / f"{assignment.module}.py")
    reached = set()
    for mistake in catalogue.load(assignment)[0]:
        _, records = graded_mistake(assignment_id, mistake)
        for message, lines in records:
            if mistake.message.lower() in message.lower():
                reached.update(line for file, line in lines if file == path)
    shown = Path(path).relative_to(CHECKS_DIR.parent.parent)
    untested = [f"{shown}:{first}: {text[:160]}" for first, last, text in failure_sites(path)
                if not any(first <= line <= last for line in reached)]
    assert not untested, ("no catalogued mistake asserts these messages (add one to "
                          f"d2lcourse/mistakes/{assignment.module}.py, or delete a message "
                          "no input reaches):\n" + "\n".join(untested))
