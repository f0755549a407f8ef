"""What a student is told, where the student is: in the notebook's kernel, by
`d2lcourse check`, by the sandboxed grader and by the training loops.

The kernel is a real IPython shell running the real setup cells of a course notebook;
the grader is the real sandbox, with the small inline assignment of test_sandbox.py.
"""
import contextlib
import io
import textwrap

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell

from d2lcourse import gluon, grading, notebooks, np, selfcheck
from d2lcourse.autograder.evaluate import TestCell, evaluate
from d2lcourse.autograder.sandbox import Limits
from d2lcourse.checks import cells, core
from d2lcourse.course import ASSIGNMENTS, Assignment
from d2lcourse.training import TrainingError, train, train_concise

from helpers import failure

SOFTMAX = ASSIGNMENTS["04_softmax_regression"]
LOGSUMEXP_CELL = '''
def logsumexp(O):
    m = O.max(axis=1, keepdims=True)
    return m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))
'''
SOFTMAX_CELL = '''
def softmax(O):
    return np.exp(O - logsumexp(O))
'''
TEST_SOFTMAX = '''
from d2lcourse.checks import softmax_regression as check
check.softmax_matches(softmax)
'''
ADVICE = ("the grader runs only the setup cells and each function's own cell, so define "
          "(or import) `logsumexp` in the cell of softmax")


def source_notebook(assignment):
    return notebooks.read(assignment.source_path())


@pytest.fixture
def kernel():
    """A fresh IPython shell (a Jupyter kernel's interpreter) that ran 04's setup cells."""
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    for source in grading.setup_sources(source_notebook(SOFTMAX)):
        assert shell.run_cell(source).success

    def run(*sources):
        """Run cells in order; the error of the last one (None if it passed)."""
        with contextlib.redirect_stdout(io.StringIO()):
            results = [shell.run_cell(source) for source in sources]
        return results[-1].error_in_exec
    yield run
    shell.reset(new_session=False)


# --------------------------------------------------------------------------- item 10

def test_kernel_names_a_helper_defined_in_another_cell(kernel):
    error = kernel(LOGSUMEXP_CELL, SOFTMAX_CELL, TEST_SOFTMAX)
    assert isinstance(error, core.CheckFailure)
    assert str(error) == (f"softmax: uses `logsumexp`, which is defined in another cell: "
                          f"{ADVICE}")


def test_kernel_accepts_helpers_of_the_own_cell_setup_names_and_graded_functions(kernel):
    assert kernel(LOGSUMEXP_CELL + SOFTMAX_CELL, TEST_SOFTMAX) is None
    # softmax_regression calls the graded softmax and math from the setup cell.
    model = '''
def softmax_regression(X, W, b):
    assert math.pi > 3
    return softmax(X.reshape(-1, W.shape[0]) @ W + b)
'''
    test = ("from d2lcourse.checks import softmax_regression as check\n"
            "check.softmax_regression_matches(softmax_regression)")
    assert kernel(model, test) is None


def test_kernel_names_an_import_and_a_variable_of_another_cell(kernel):
    error = kernel("import numpy as onp\nnum_classes = 10",
                   "def softmax(O):\n"
                   "    E = np.exp(O - O.max(axis=1, keepdims=True))\n"
                   "    assert num_classes and onp.pi > 3\n"
                   "    return E / E.sum(axis=1, keepdims=True)\n", TEST_SOFTMAX)
    assert "uses `num_classes` and `onp`, which are defined in another cell" in str(error)


def test_kernel_without_the_source_notebook_still_names_a_helper_function(kernel, monkeypatch):
    monkeypatch.setattr(cells, "setup_names", lambda name: None)   # e.g. installed elsewhere
    error = kernel(LOGSUMEXP_CELL, SOFTMAX_CELL, TEST_SOFTMAX)
    assert str(error) == f"softmax: uses `logsumexp`, which is defined in another cell: {ADVICE}"
    # An import cannot be told from the setup's then: the grader's NameError will say it.
    assert kernel("import numpy as onp",
                  "def softmax(O):\n"
                  "    E = np.exp(O - O.max(axis=1, keepdims=True))\n"
                  "    assert onp.pi > 3\n"
                  "    return E / E.sum(axis=1, keepdims=True)\n", TEST_SOFTMAX) is None


def student_notebook_with_helper_cell():
    """04's setup, softmax's cells and a cell of its own for softmax's helper (the rest
    of the notebook is left out: its tests take minutes)."""
    notebook = source_notebook(SOFTMAX)
    kept = [c for c in notebook.cells if notebooks.is_setup_cell(c)
            or notebooks.grade_id(c) == "softmax" or notebooks.is_test_cell(c)
            and SOFTMAX.owner_of(notebooks.grade_id(c)) == "softmax"]
    index, cell = next((i, c) for i, c in enumerate(kept) if notebooks.grade_id(c) == "softmax")
    cell.source = SOFTMAX_CELL
    kept.insert(index, nbformat.v4.new_code_cell(LOGSUMEXP_CELL))
    notebook.cells = kept
    return notebook


def test_check_and_grader_give_the_same_advice(tmp_path):
    notebook = student_notebook_with_helper_cell()
    results = grading.grade(SOFTMAX, notebook, notebook)
    messages = [r.message for r in results if r.function == "softmax"]
    # The grader's static analysis finds the unbound name before the call.
    assert messages and all("`logsumexp`" in m and m.endswith(ADVICE)
                            for m in messages), messages

    path = tmp_path / SOFTMAX.notebook
    nbformat.write(notebook, str(path))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert selfcheck.main(path) == 1
    line = next(l for l in output.getvalue().splitlines() if l.startswith("FAIL softmax:"))
    assert line.endswith(ADVICE)


SANDBOX = Assignment("00_sandbox", "sandbox.ipynb", ("double",))
SANDBOX_SETUP = ["from d2lcourse import np, npx"]
QUICK = Limits(seconds=60)


def sandbox_messages(test_source, double_cell):
    verdict = evaluate(SANDBOX, SANDBOX_SETUP, [TestCell("test_double", test_source, 1.0)],
                       {"double": double_cell}, QUICK)
    assert verdict.status == "ok", verdict.message
    return verdict.results[0].message


def test_the_sandboxed_grader_gives_the_same_advice():
    message = sandbox_messages(
        "from d2lcourse.checks import core\ncore.call(double, core.random_array((2,), 0))",
        "def double(x):\n    return twice(x)\n")
    assert message.endswith("name 'twice' is not defined: " + cells.advice(["twice"], "double"))


# --------------------------------------------------------------------------- item 11

def test_the_bool_hint_says_what_mxnet_does_with_a_bool_times_a_float():
    X = np.array([-1.0, 2.0, 3.0])
    scaled = (X > 0) * 0.5
    assert str(scaled.dtype) == "int64" and not scaled.any()
    message = failure(lambda: core.expect_float_array("g", X > 0))
    assert "(X > 0) * 0.5 gives int64 zeros" in message and "still bool" not in message


# --------------------------------------------------------------------------- item 12

def softmax_through_numpy(O):
    import numpy as onp
    o = O.asnumpy()
    E = onp.exp(o - o.max(axis=1, keepdims=True))
    return np.array(E / E.sum(axis=1, keepdims=True), dtype=O.dtype)


def test_a_softmax_through_classic_numpy_fails_its_own_test():
    from d2lcourse.checks import softmax_regression as check
    check.softmax_stable(softmax_through_numpy)     # right values: the gradient is the problem
    message = failure(lambda: check.softmax_matches(softmax_through_numpy))
    assert message == ("softmax_through_numpy: the result cannot be differentiated (it went "
                       "through .asnumpy() or classic NumPy): use mxnet.numpy operations only")


TEST_GRADIENT = textwrap.dedent("""
    from d2lcourse.checks import core
    (gradient,) = core.gradients(double, core.random_array((3,), seed=0))
    assert gradient.asnumpy().tolist() == [2.0, 2.25, 2.5], gradient  # 2 * the weights
    """)


def test_the_gradient_is_computed_in_the_sandbox():
    assert sandbox_messages(TEST_GRADIENT, "def double(x):\n    return 2 * x\n") == ""
    message = sandbox_messages(TEST_GRADIENT,
                               "def double(x):\n    return np.array(2 * x.asnumpy())\n")
    assert message == ("double: the result cannot be differentiated (it went through "
                       ".asnumpy() or classic NumPy): use mxnet.numpy operations only")


def test_train_names_the_function_that_cannot_be_differentiated():
    W, b = np.zeros((4, 3)), np.zeros(3)
    batches = [(np.ones((5, 4)), np.array([0, 1, 2, 0, 1], dtype="int32"))]

    def softmax_regression(X, W, b):
        return softmax_through_numpy(X @ W + b)

    def cross_entropy(y_hat, y):
        return -np.log(y_hat[np.arange(y_hat.shape[0]), y])

    with pytest.raises(TrainingError, match=r"^train: loss.backward\(\) failed: the result of "
                                            r"softmax_regression cannot be differentiated"):
        train(lambda X: softmax_regression(X, W, b), batches, batches, cross_entropy, 1,
              lambda n: None, progress=False, plot=False)

    def numpy_loss(y_hat, y):
        return np.array(cross_entropy(y_hat, y).asnumpy())

    with pytest.raises(TrainingError, match="the result of numpy_loss cannot be differentiated"):
        train(lambda X: X @ W + b, batches, batches, numpy_loss, 1, lambda n: None,
              progress=False, plot=False)


def test_train_concise_names_the_net():
    class NumpyNet(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.dense = gluon.nn.Dense(3)

        def hybrid_forward(self, F, X):
            return np.array(self.dense(X).asnumpy())

    net = NumpyNet()
    net.initialize()
    batches = [(np.ones((5, 4)), np.array([0, 1, 2, 0, 1], dtype="int32"))]
    with pytest.raises(TrainingError, match=r"^train_concise: the net NumpyNet failed .* "
                                            r"Look at its layers and its forward"):
        train_concise(net, batches, batches, 1, 0.1, progress=False, plot=False)


# --------------------------------------------------------------------------- item 13

@pytest.mark.parametrize("metadata", [True, False], ids=["not_a_course_notebook",
                                                         "lost_its_metadata"])
def test_check_refuses_a_notebook_without_graded_cells(tmp_path, capsys, metadata):
    if metadata:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        path = tmp_path / "scratch.ipynb"
    else:
        notebook = source_notebook(SOFTMAX)
        for cell in notebook.cells:
            cell.metadata.pop("nbgrader", None)
        path = tmp_path / SOFTMAX.notebook
    nbformat.write(notebook, str(path))
    assert selfcheck.main(path) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "not a course notebook" in captured.err
    assert "softmax_regression.ipynb" in captured.err and "released" in captured.err
