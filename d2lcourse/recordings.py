"""The recordings of the visible tests, from which the student package answers them.

A student's install holds no oracle's code (see `d2lcourse.student_package`): each
oracle's body becomes a lookup of the answers it gave on the released notebooks' visible
tests. This module makes those answers: it runs the visible tests of every case of an
assignment (the reference solution, the released stub, every catalogued mistake and every
alternative) in the instructor's install, recording what each oracle answered and what
each run said, and caches the Recording in build/student/ by a digest of the files it
depends on. `verify` replays the runs from the recorded answers alone.
"""
import copy
import functools
import hashlib
import importlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.preprocessors import ClearSolutions

import d2lcourse
from d2lcourse import authoring, grading, mistakes, notebooks
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS, REPOSITORY, is_trainer

PACKAGE = Path(d2lcourse.__file__).parent
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


def reference_folder():
    """The folder of the reference solutions (solutions/ in the repository)."""
    return Path(importlib.import_module(authoring.REFERENCE_PACKAGE).__path__[0])


@functools.cache
def sources_digest():
    """A digest of the files that the recordings depend on: the checks, the loop over test
    cells, the catalogue, the solutions, the source notebooks and this module."""
    sources = sorted([*(PACKAGE / "checks").glob("*.py"), *(PACKAGE / "mistakes").glob("*.py"),
                      *(PACKAGE / name for name in ("grading.py", "model.py", "notebooks.py",
                                                    "recordings.py")),
                      *reference_folder().glob("*.py"),
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
