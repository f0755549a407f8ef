"""Helpers shared by the test modules (importable as `helpers`: pytest puts tests/ on the path)."""
import contextlib
import functools
import io

import pytest

from d2lcourse import data, grading, np
from d2lcourse import mistakes as catalogue
from d2lcourse.checks import core
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import is_test_cell, read


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
