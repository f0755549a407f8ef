"""Running a notebook's test cells against a student's graded functions.

The pipeline, top to bottom:

1. `define_functions` runs the source notebook's setup cells and the student's solution
   cells, and returns the graded functions they define (or a `Missing` in their place);
2. `run_test_cell` runs one test cell (a `TestCell`: trusted code from the *source*
   notebook) in a namespace where only the graded functions are bound, and returns a
   `TestResult`; `run_tests` is the one loop over test cells;
3. `grade_sources` does both for solution cells, `grade` for a whole notebook.

`d2lcourse check`, the student package and the course's tests use this directly. The
autograder calls `run_tests` with sandbox proxies bound instead of the functions
themselves, so the verdict never runs where student code runs.
"""

import contextlib
import io
import linecache
import traceback
from dataclasses import dataclass, field

from d2lcourse.model import SubmissionFault, TestResult
from d2lcourse.checks.core import CheckFailure, Outcome, describe_error, oracle_answers
from d2lcourse.notebooks import (
    graded_tests,
    setup_sources,
    solution_sources,
    visible_then_hidden,
    without_hidden_tests,
)


MAX_MESSAGE_CHARS = 4000  # of a test's failure message
MAX_OUTPUT_CHARS = 20000  # of what a test cell printed


@dataclass
class StudentView:
    """What a student's copy of d2lcourse makes of a run (`run_test_cell`): each test's
    result without its hidden tests, and the answers its oracles gave meanwhile
    (checks.core.oracle_answers), which the student package ships."""

    results: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)


class Missing:
    """Stands for a graded function that the student's cell did not define."""

    def __init__(self, name, reason, source=""):
        self.__name__ = name
        self.reason = reason
        self.source = source

    def invoke(self, args, kwargs, seed=None, watch=()):
        return Outcome(error=("Missing", self.reason, ""))


def exec_cell(source, namespace, label):
    """Run a cell's code so that `inspect.getsource` finds its functions later."""
    filename = f"<{label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def define_functions(function_names, setup, solution_sources):
    """Run the setup code, then each solution cell; return {function name: function}.

    `solution_sources` maps grade_id to the student's cell source. A cell that is
    missing, does not run, or does not define its function yields a `Missing`.
    """
    namespace = {"__name__": "__student__"}
    for index, source in enumerate(setup):
        exec_cell(source, namespace, f"setup cell {index + 1}")
    functions = {}
    for name in function_names:
        source = solution_sources.get(name)
        if source is None:
            functions[name] = Missing(
                name,
                f"the solution cell {name!r} is missing from "
                "the notebook: restore it from the release",
            )
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(
                io.StringIO()
            ):
                exec_cell(source, namespace, f"cell {name}")
        except Exception as error:  # the student's cell itself failed
            kind, message, where = describe_error(error)
            if isinstance(error, SyntaxError):
                where = f"line {error.lineno}: {(error.text or '').strip()}"
            functions[name] = Missing(name, f"its cell raised {kind} at {where}: {message}", source)
            continue
        function = namespace.get(name)
        functions[name] = (
            function
            if callable(function)
            else Missing(name, f"the cell {name!r} ran but did not define a function named {name}")
        )
    return functions


def run_test_cell(assignment, test, functions, hidden=True, student_view=None):
    """Run one test cell (a `TestCell`) against `functions` and score it; `hidden=False`
    leaves its hidden tests out, as the student sees it. A `StudentView` also gets the
    student's result from the same run: the visible tests run first, with the oracles
    recording their answers, then the hidden ones."""
    namespace = {"__name__": "__test__", **functions}
    output = io.StringIO()
    if not hidden:
        parts = (without_hidden_tests(test.source), "")
    elif student_view is None:
        parts = (test.source, "")
    else:
        parts = visible_then_hidden(test.source)
        if parts is None:  # hidden tests amid the visible ones: the student's run apart
            run_test_cell(assignment, test, functions, False, student_view)
            parts, student_view = (test.source, ""), None
    first, then = parts
    if student_view is None:
        recording = contextlib.nullcontext()
    else:
        recording = oracle_answers("record", student_view.answers)
    with recording:
        message = run_test_code(assignment, test, first, namespace, output)
    if student_view is not None:
        student_view.results.append(scored(assignment, test, message, output))
    if then and not message:
        message = run_test_code(assignment, test, then, namespace, output)
    return scored(assignment, test, message, output)


def run_test_code(assignment, test, source, namespace, output):
    """Run test code in `namespace`, its prints into `output`: the failure message, or ""."""
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            exec(compile(source, f"<test cell {test.grade_id}>", "exec"), namespace)
    except CheckFailure as failure:
        return str(failure)
    except SubmissionFault:
        raise
    except Exception as error:  # a check that broke, or a test cell raising on its own
        output.write(traceback.format_exc())
        owner = assignment.owner_of(test.grade_id) or "?"
        return f"{owner}: the test itself failed ({type(error).__name__}: {error})"
    return ""


def scored(assignment, test, message, output):
    return TestResult(
        test.grade_id,
        assignment.owner_of(test.grade_id) or "?",
        0.0 if message else test.points,
        test.points,
        shortened(message, MAX_MESSAGE_CHARS),
        shortened(output.getvalue(), MAX_OUTPUT_CHARS),
    )


def shortened(text, limit):
    """`text`, cut in the middle to at most about `limit` characters: a message may quote
    a student's value, and it goes into the verdict, the notebook and the feedback."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def run_tests(
    assignment, tests, functions, hidden=True, only=None, results=None, student_view=None
):
    """Run `tests` (TestCells) in order against `functions`, those of the graded functions
    `only` (default: all), appending each TestResult to `results`, which it returns. A
    SubmissionFault ends the loop; `results` then holds the tests run before it."""
    results = [] if results is None else results
    for test in tests:
        if only is None or assignment.owner_of(test.grade_id) in only:
            results.append(run_test_cell(assignment, test, functions, hidden, student_view))
    return results


def grade_sources(assignment, source_notebook, sources, hidden=True, only=None, student_view=None):
    """The TestResults of the source notebook's tests (of the functions `only`, default
    all) on the solution cells `sources` ({grade_id: source}), in this process."""
    functions = define_functions(assignment.functions, setup_sources(source_notebook), sources)
    tests = graded_tests(source_notebook)
    return run_tests(assignment, tests, functions, hidden, only, student_view=student_view)


def grade(assignment, source_notebook, student_notebook, hidden=True):
    """Grade a student's notebook in this process (no sandbox): a list of TestResults."""
    return grade_sources(assignment, source_notebook, solution_sources(student_notebook), hidden)
