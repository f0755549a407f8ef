"""The grading model: what the grader concludes about a submission, as plain data.

Here, not in the autograder, because `d2lcourse check` (grading.py) speaks it too, in
the student package, which has no autograder.

A submission's `Verdict` has one `Status` (grades.csv's status column) and a `TestResult`
per `TestCell`. A `SubmissionFault` ends the grading of a submission with a status of its
own (the student's: timeout, memory, ...); an `InfrastructureFault` leaves it UNGRADED.
"""

import enum
import os
import socket
from dataclasses import asdict, dataclass, field
from typing import List


class Status(str, enum.Enum):
    """A submission's status; its value is the text in grades.csv, the verdict files, the
    reports and the notebook's metadata."""

    OK = "ok"  # graded (its points may still be 0)
    TIMEOUT = "timeout"  # out of wall-clock or CPU time
    MEMORY = "memory"  # out of memory
    CRASHED = "crashed"  # its process died of itself, twice
    INVALID_REPLY = "invalid_reply"  # its process broke the wire format
    INVALID_NOTEBOOK = "invalid_notebook"  # rejected: we or nbgrader cannot read it
    UNRENDERABLE = "unrenderable"  # graded, but nbgrader cannot render its feedback
    UNGRADED = "ungraded"  # an InfrastructureFault: a rerun grades it
    NO_SUBMISSION = "no submission"  # `nbgrader export`: nothing was handed in

    def __str__(self):
        return self.value


@dataclass(frozen=True)
class TestCell:
    """A test cell as data: trusted code from the source notebook (`notebooks.graded_tests`)
    or from nbgrader's gradebook (`nbgrader_plugin.trusted_code`)."""

    __test__ = False  # not a pytest class
    grade_id: str
    source: str
    points: float


@dataclass
class TestResult:
    __test__ = False  # not a pytest class
    grade_id: str
    function: str
    points: float
    max_points: float
    message: str = ""  # why it failed; empty when it passed
    output: str = ""  # what the checks printed

    @property
    def passed(self):
        return self.points == self.max_points


@dataclass
class Verdict:
    """Everything the grader concluded about one submission."""

    status: Status  # OK, or why it could not be graded fully
    message: str = ""
    results: List[TestResult] = field(default_factory=list)
    seconds: float = 0.0
    graded_by: str = ""  # host:pid of the process that judged it
    student_seconds: float = 0.0  # of `seconds`, running the student's code

    def __post_init__(self):
        self.status = Status(self.status)  # ValueError for a text that is no status

    def to_json(self):
        return asdict(self)

    @classmethod
    def from_json(cls, data):
        return cls(
            data["status"],
            data["message"],
            [TestResult(**r) for r in data["results"]],
            data["seconds"],
            data.get("graded_by", ""),
            data.get("student_seconds", 0.0),
        )


class SubmissionFault(Exception):
    """The submission's process failed as a whole (timeout, memory, crash, ...).

    `status` (a Status) goes into grades.csv; the message is for the student and the
    instructor.
    """

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class InfrastructureFault(Exception):
    """Grading failed for a reason that is not the student's (full disk, unwritable
    gradebook, a sandbox or worker killed from outside, a lost scheduler, an internal
    error). The submission stays *ungraded* (Status.UNGRADED, never a final 0), the run
    exits non-zero, and the next run grades it again without --force.

    The message is one line that names the cause and the fix, e.g.
    "disk full writing DIR/feedback: free space and rerun".
    """


def graded_by():
    """host:pid of this process, for the verdict."""
    return f"{socket.gethostname()}:{os.getpid()}"


def unrun(test, assignment, message):
    """A zero result, with `message`, for a test that could not run."""
    return TestResult(
        test.grade_id, assignment.owner_of(test.grade_id) or "?", 0.0, test.points, message
    )


def ungraded(assignment, tests, cause, seconds=0.0):
    """The verdict on a submission that the infrastructure failed: `cause` is one line
    that names the problem and the fix; a rerun grades it."""
    return Verdict(
        Status.UNGRADED,
        cause,
        [unrun(t, assignment, f"not graded: {cause}") for t in tests],
        seconds,
        graded_by(),
    )
