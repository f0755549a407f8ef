"""Helpers shared by the test modules (importable as `helpers`: pytest puts tests/ on the path)."""
import contextlib
import io

import pytest

from d2lcourse import data
from d2lcourse.checks import core
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
