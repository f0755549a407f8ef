"""The grading model (d2lcourse/model.py): one vocabulary of statuses, written as the same
texts as ever, and the sandbox's side of the autograder apart from the grader's."""
import ast
import csv
import io
import json
from pathlib import Path

import pytest

from d2lcourse.autograder import reports
from d2lcourse.model import Status, SubmissionFault, TestResult, Verdict

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = {"d2lcourse": REPOSITORY / "d2lcourse",
            "d2lcourse.autograder": REPOSITORY / "autograder",
            "d2lcourse.solutions": REPOSITORY / "solutions"}
MODEL = REPOSITORY / "d2lcourse" / "model.py"
# The same words meaning something else: (file, text) -> what it means there.
OTHER_MEANINGS = {
    ("autograder/cgroups.py", "memory"): "the cgroup v1 memory controller",
    ("d2lcourse/cli.py", "timeout"): "the --timeout option",
    ("d2lcourse/doctor.py", "ok"): "a finding of `d2lcourse doctor`",
}
SANDBOX_SIDE = ["d2lcourse.autograder.sandbox", "d2lcourse.autograder.zygote",
                "d2lcourse.autograder.runner", "d2lcourse.autograder.wire",
                "d2lcourse.autograder.cgroups"]
GRADER_SIDE = {"d2lcourse.autograder.evaluate", "d2lcourse.autograder.workers",
               "d2lcourse.autograder.grade", "d2lcourse.autograder.reports",
               "d2lcourse.autograder.nbgrader_plugin"}


def modules():
    """{module name: path} of the course's own Python files."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            found[".".join((package, *parts)).removesuffix(".__init__")] = path
    return found


def imports(path, known):
    """The course modules that `path` imports anywhere (inside functions too)."""
    named = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            named |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            named |= {a.name for a in node.names}
    return named & known.keys()


def test_a_status_is_written_as_its_text_everywhere():
    """grades.csv, the verdict files (JSON), the progress bar and the summary table."""
    stream = io.StringIO()
    csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC).writerow(
        [reports.spreadsheet_cell(Status.INVALID_NOTEBOOK)])
    assert stream.getvalue() == '"invalid_notebook"\r\n'
    assert json.dumps({"status": Status.NO_SUBMISSION}) == '{"status": "no submission"}'
    assert f"{Status.TIMEOUT}|{Status.OK:<4}|{Status.UNGRADED!s}" == "timeout|ok  |ungraded"
    assert Status.MEMORY == "memory" and {"crashed": 1}[Status.CRASHED] == 1


def test_a_verdict_holds_a_status_and_comes_back_from_its_file_the_same():
    verdict = Verdict("invalid_reply", "sent garbage", [TestResult("test_a", "a", 0.0, 1.0)])
    assert verdict.status is Status.INVALID_REPLY
    again = Verdict.from_json(json.loads(json.dumps(verdict.to_json())))
    assert again == verdict and again.status is Status.INVALID_REPLY
    with pytest.raises(ValueError):
        Verdict("finished")  # no such status: a verdict file with it is graded again
    assert SubmissionFault(Status.MEMORY, "out of memory").status == "memory"


def test_no_status_is_spelled_outside_the_model():
    statuses = {status.value for status in Status}
    known = modules()
    spelled = []
    for path in known.values():
        if path == MODEL:
            continue
        where = path.relative_to(REPOSITORY).as_posix()
        spelled += [(where, node.lineno, node.value)
                    for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Constant) and node.value in statuses
                    and (where, node.value) not in OTHER_MEANINGS]
    assert spelled == [], "use d2lcourse.model.Status"


@pytest.mark.parametrize("module", SANDBOX_SIDE)
def test_the_sandbox_side_never_imports_the_grader_side(module):
    known = modules()
    reached, pending = set(), [module]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending += imports(known[name], known)
    assert not reached & GRADER_SIDE
