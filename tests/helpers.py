"""Helpers shared by the test modules (importable as `helpers`: pytest puts tests/ on the path)."""
import contextlib
import csv
import fcntl
import functools
import io
import json
import os
import shutil
import subprocess
import sys

import nbformat
import numpy as onp
import pytest

from d2lcourse import data, grading, np
from d2lcourse import mistakes as catalogue
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import Recorder
from d2lcourse.checks import core
from d2lcourse.cli import DEFAULT_DEMO_ASSIGNMENT
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import is_test_cell, read


def numerical_gradient(function, x, h=1e-5):
    """Central-difference gradient of scalar `function` (float64 NumPy in, float out)."""
    x = onp.array(x, dtype=onp.float64)
    gradient = onp.zeros_like(x)
    for index in onp.ndindex(x.shape):
        step = onp.zeros_like(x)
        step[index] = h
        gradient[index] = (function(x + step) - function(x - step)) / (2 * h)
    return gradient


def apart(ends, tolerance):
    """Whether every two of the `ends` (rows) are more than twice `tolerance` apart, so that
    the end nearest a run within `tolerance` of its own is its own."""
    gaps = onp.abs(ends[:, None] - ends[None]).max(axis=2)
    onp.fill_diagonal(gaps, onp.inf)
    return gaps.min() > 2 * tolerance


def failure(run):
    """The message of the CheckFailure that `run()` raises (its printed output hidden)."""
    with pytest.raises(core.CheckFailure) as caught:
        with contextlib.redirect_stdout(io.StringIO()):
            run()
    return str(caught.value)


def quietly(run):
    """Run `run()` and return what it printed."""
    with contextlib.redirect_stdout(io.StringIO()) as output:
        run()
    return output.getvalue()


@contextlib.contextmanager
def replaying(record):
    """Inside the block, oracles answer as in the student package: only from the answers
    that running `record()` (printing nothing) made them give."""
    answers = {}
    with core.oracle_answers("record", answers):
        quietly(record)
    assert answers, "the check computes its answers with oracles"
    with core.oracle_answers("replay", answers):
        yield


@functools.lru_cache(maxsize=None)
def reference_cells(assignment_id):
    """(setup cells, {graded function: reference solution cell}) of a source notebook."""
    source = read(ASSIGNMENTS[assignment_id].source_path())
    return tuple(grading.setup_sources(source)), grading.solution_sources(source)


def catalogued(assignment_id, name):
    """The function of the catalogued mistake or alternative `name` (d2lcourse/mistakes/),
    defined as the grader defines it: after the setup cells, beside the reference cells of
    the other graded functions, which it may call. A fresh definition per call."""
    assignment = ASSIGNMENTS[assignment_id]
    cases = [case for kind in catalogue.load(assignment) for case in kind if case.name == name]
    assert len(cases) == 1, f"{assignment_id} catalogues {len(cases)} cases named {name!r}"
    setup, sources = reference_cells(assignment_id)
    functions = grading.define_functions(assignment.functions, setup,
                                         {**sources, cases[0].function: cases[0].source})
    return functions[cases[0].function]


def recording(function, calls):
    """`function`, appending the positional arguments of every call to `calls`."""
    @functools.wraps(function)
    def recorded(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return recorded


def computed_in(dtype, function):
    """`function` computing in `dtype`: its array and float arguments, also inside lists,
    cast first. A correct answer whose results differ from the reference's in the last bits
    (float64), or that keeps only float32's digits where the reference computes with
    Python floats."""
    def cast(value):
        if isinstance(value, (list, tuple)):
            return type(value)(cast(item) for item in value)
        if isinstance(value, float):
            return np.array(value, dtype=dtype)
        return value.astype(dtype) if hasattr(value, "astype") else value

    @functools.wraps(function)
    def computed(*args, **kwargs):
        return function(*map(cast, args), **kwargs)
    return computed


def max_points(assignment):
    """The points of all the test cells of `assignment`'s source notebook."""
    source = read(assignment.source_path())
    return sum(float(c.metadata.nbgrader.points) for c in source.cells if is_test_cell(c))


def has_fashion_mnist():
    try:
        data.find_fashion_mnist(download=False)
    except data.DataError:
        return False
    return True


needs_data = pytest.mark.skipif(not has_fashion_mnist(), reason="needs the Fashion-MNIST files")


# ------------------------------------------------------------- the shared graded course
# Grading a class through nbgrader and the sandbox costs seconds of start-up per run
# whatever the class: the slow end-to-end tests share one released course and one graded
# course, made once per test run (by the first xdist worker that asks; the other waits).

D2LCOURSE = [sys.executable, "-m", "d2lcourse.cli"]
GRADED = [a for a in ASSIGNMENTS if a != DEFAULT_DEMO_ASSIGNMENT]  # test_demo grades it
BROKEN = "01_ndarray_autograd"  # its class in the graded course also has broken notebooks
# Graded with a pool of two workers; the others in the grader's process. Its trainers take
# long enough for the pool to pay: for the others its start costs more than it saves.
POOLED = "05_mlp"


def built_once(tmp_path_factory, name, build):
    """The folder `name` that `build(folder)` fills, once per test run: the first xdist
    worker to ask builds it under a lock, the others wait and read it (a test that
    changes it works on its own copy)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' folders are in the run's
        base = base.parent
    folder = base / name
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # until the file closes
        if not (base / f"{name}.built").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed halfway
            build(folder)
            (base / f"{name}.built").touch()
    return folder


def release_course(folder):
    """A course with the assignments of GRADED released (nbgrader generate_assignment)."""
    samples.copy_course(folder, GRADED)
    for assignment_id in GRADED:
        Recorder(folder, ASSIGNMENTS[assignment_id]).ensure_assignment()


def copy_of(course, destination):
    """A copy of a shared course, for a test that changes it."""
    return shutil.copytree(course, destination, symlinks=True)


def make_class(course, assignment):
    """The reference, the blank release, the first catalogued mistake, and the nbgrader
    exploit (a blank notebook whose first cell installs an IPython input transformer)."""
    mistakes, _ = catalogue.load(assignment)
    students = samples.sample_class(course, assignment, mistakes[:1])
    students.pop("hostile_daemon")
    for student, replacements in students.items():
        samples.write_submission(course, assignment, student, replacements)


def submit(course, assignment, student, data):
    """Hand in the notebook `data` (bytes) as `student`'s, without exchange files."""
    folder = course / "submitted" / student / assignment.id
    folder.mkdir(parents=True)
    (folder / assignment.notebook).write_bytes(data)


def write_broken_notebooks(course, assignment):
    """Notebooks that are not valid JSON, not UTF-8, of nbformat 3, too big, or whose
    solution cells are duplicated, deleted or retyped."""
    release = read(samples.release_path(course, assignment))

    def edited(change):
        notebook = nbformat.from_dict(json.loads(nbformat.writes(release)))
        change(notebook)
        return nbformat.writes(notebook).encode()

    first = next(i for i, c in enumerate(release.cells) if "solution" in
                 c.metadata.get("nbgrader", {}) and c.metadata.nbgrader.solution)
    submit(course, assignment, "invalid_json", b'{"cells": [')
    submit(course, assignment, "not_utf8",
           nbformat.writes(release).encode().replace(b"YOUR CODE", b"\xff\xfe CODE"))
    submit(course, assignment, "nbformat3", json.dumps(
        {"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}).encode())
    submit(course, assignment, "duplicated_cell",
           edited(lambda nb: nb.cells.insert(first, nb.cells[first])))
    submit(course, assignment, "deleted_cell", edited(lambda nb: nb.cells.pop(first)))
    submit(course, assignment, "retyped_cell",
           edited(lambda nb: nb.cells[first].update(cell_type="markdown")))
    submit(course, assignment, "huge",
           edited(lambda nb: nb.cells[0].update(source="x" * (100 << 20))))
    (course / "submitted" / "huge" / assignment.id / "extra.bin").write_bytes(b"\0" * 1024)


def grade_course(folder, released):
    """`d2lcourse grade` of each assignment of GRADED (POOLED's with `--workers 2`) on a
    copy of `released`, a class each (make_class; BROKEN's also write_broken_notebooks),
    then a rerun of BROKEN's: folder/course, and in folder/outputs.json each run's
    (returncode, stdout, stderr) and BROKEN's grades.csv before the rerun."""
    course = copy_of(released, folder / "course")
    outputs = {}
    for assignment in map(ASSIGNMENTS.get, GRADED):
        make_class(course, assignment)
        if assignment.id == BROKEN:
            write_broken_notebooks(course, assignment)
        outputs[assignment.id] = graded(course, assignment, *(
            ["--workers", "2"] if assignment.id == POOLED else []))
    outputs["grades before the rerun"] = grades_csv(course, BROKEN).read_text()
    outputs["rerun"] = graded(course, ASSIGNMENTS[BROKEN])
    (folder / "outputs.json").write_text(json.dumps(outputs))


def graded(course, assignment, *options):
    """(returncode, stdout, stderr) of `d2lcourse grade` of `assignment` in `course`."""
    result = subprocess.run(D2LCOURSE + ["grade", assignment.id, "--course", str(course),
                                         *options],
                            capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout, result.stderr


def grades_csv(course, assignment_id):
    return course / "reports" / assignment_id / "grades.csv"


def csv_grades(text):
    """{student: row} of the text of a grades.csv."""
    return {row["student_id"]: row for row in csv.DictReader(io.StringIO(text))}


def class_grades(course, assignment_id):
    """{student: row} of the assignment's grades.csv in `course`."""
    return csv_grades(grades_csv(course, assignment_id).read_text())
