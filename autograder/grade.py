"""`d2lcourse grade`: judge every submission of an assignment, in parallel, then record.

The pipeline, top to bottom:

1. `find_submissions`  - DIR/submitted/<student>/<assignment>/<notebook>.ipynb
2. `read_submission`   - parse safely (size, UTF-8, JSON, nbformat; the cells by
                         `notebooks`' rules, a duplicated cell refused);
                         a broken notebook becomes a Verdict with its status
3. `judge`             - evaluate the rest in the sandbox: in this process, a local
                         process pool (--workers) or a Dask cluster (--scheduler);
                         workers.py
4. `record`            - only this process writes: nbgrader autograde (gradebook) and a
                         verdict file per submission, so that a rerun after a crash
                         regrades nothing that is already done; a fault that is not the
                         student's (full disk, read-only gradebook, ...) leaves it
                         UNGRADED and the run ends with GradingIncomplete
5. `write_feedback`    - nbgrader generate_feedback for the recorded submissions whose
                         feedback is missing or stale, a batch at a time while the
                         workers judge, and once more at the end
6. `reports.write`     - grades.csv, summary table, plots and an HTML page
"""
import collections
import contextlib
import datetime
import errno
import fcntl
import hashlib
import html
import importlib
import json
import logging
import os
import re
import secrets
import shutil
import sys
import time
import types
from dataclasses import dataclass, replace
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log, temp_attrs
from traitlets.config.loader import Config, PyFileConfigLoader

import d2lcourse
from d2lcourse import notebooks
from d2lcourse.autograder import reports, similarity
from d2lcourse.autograder.nbgrader_plugin import configure, find_data_dir, trusted_code
from d2lcourse.autograder.pages import REPORT_POLICY, content_policy, mathjax_script
from d2lcourse.course import assignment_of, default_course_dir, published
from d2lcourse.autograder.module_view import unpublished_problem
from d2lcourse.model import InfrastructureFault, Status, Verdict, ungraded, unrun
from d2lcourse.autograder.sandbox import Limits, SandboxUnavailable, bubblewrap_problem, warm_up
from d2lcourse.autograder.workers import Job, judge, one_line, sigint_ignored

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_NOTEBOOK_VALUES = 200_000  # JSON values: the course's notebooks hold a few thousand
# What `nbgrader submit` writes beside the notebook and `nbgrader release_feedback` reads
# beside the feedback page (generate_feedback copies them there from autograded/).
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
RECORDING_BUDGET = 2 << 20    # bytes of ungraded cells and outputs nbgrader records
FEEDBACK_BATCH = 8  # nbgrader prepares its templates once per run: not once per student
# The code that judges besides the test cells, part of a grading_basis: the checks, and
# the reference solutions that later assignments' setup cells import.
PACKAGE = Path(d2lcourse.__file__).parent
JUDGING_CODE = (PACKAGE / "checks", Path(importlib.import_module("d2lcourse.solutions").__path__[0]))
# Why a stored verdict is not the grade of a submission as it stands (`out_of_date`):
NOT_RECORDED, CHANGED = "not graded and recorded", "changed since"
# and why `d2lcourse grade` judges again a notebook it graded before, unchanged:
REDONE_LOST = "are gone from nbgrader's gradebook or autograded folder"
REDONE_BASIS = ("were judged by other tests or checks (the gradebook's setup or test cells, "
                "or d2lcourse's checks, changed since)")


@dataclass
class Submission:
    student: str
    path: Path
    digest: str
    refused: str = ""  # why it is refused unread (a symbolic link), else empty


class GradingIncomplete(Exception):
    """The run ended, but some submissions could not be graded or something could not be
    written, through no fault of the students': `causes` holds one line per cause, each
    naming the fix. A plain rerun after the fix grades what is missing."""

    def __init__(self, causes):
        super().__init__("\n".join(causes))
        self.causes = causes


class GradingInterrupted(Exception):
    """Ctrl-C (SIGINT) ended the run; the message says what is graded and recorded."""


class RunInProgress(Exception):
    """Another `d2lcourse grade` holds this course's assignment: nothing was done."""


# --------------------------------------------------------------------------- 1, 2

def find_submissions(course_dir, assignment, students=None):
    """DIR/submitted/<student>/<assignment>/, never following a symbolic link: a student
    folder, assignment folder or file inside that is a link is refused, not read."""
    root = Path(course_dir) / "submitted"
    found = []
    entries = sorted(os.scandir(root), key=lambda e: e.name) if root.is_dir() else []
    for entry in entries:
        student, folder = entry.name, Path(entry.path) / assignment.id
        if students and student not in students:
            continue
        path = folder / assignment.notebook
        if entry.is_symlink():
            found.append(Submission(student, path, "link:", symlink_refusal(student)))
        elif entry.is_dir(follow_symlinks=False) and os.path.lexists(folder):
            link = first_link(folder)
            if link is not None:
                found.append(Submission(student, path, f"link:{link}", symlink_refusal(
                    os.path.join(assignment.id, link) if link else assignment.id)))
            else:
                digest = file_digest(path) if path.is_file() else "missing"
                found.append(Submission(student, path, digest))
    return found


def first_link(folder):
    """The first symbolic link at or under `folder` ('' for the folder itself), or None."""
    if folder.is_symlink():
        return ""
    for parent, folders, files in os.walk(folder):
        for name in sorted(folders + files):
            if os.path.islink(os.path.join(parent, name)):
                return os.path.relpath(os.path.join(parent, name), folder)
    return None


def symlink_refusal(name):
    return f"the submission contains a symbolic link ({printable(name)}): submit the file itself"


def printable(name):
    """A file name or student id as one readable line, whatever bytes it holds."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def unstorable(student):
    """Why nbgrader cannot take `student` as a student id, or ''."""
    if printable(student) != student:
        return (f"cannot grade submitted/{printable(student)}: nbgrader needs a student id "
                "in UTF-8, without line breaks: rename the folder and rerun")
    if student != student.strip():
        return (f"cannot grade submitted/{student}: nbgrader strips the spaces around a "
                "student id, so it would not find this one: rename the folder and rerun")
    if set(student) & set(MARKUP_CHARACTERS):  # its formgrader puts ids in pages unescaped
        return (f"cannot grade submitted/{student}: nbgrader's formgrader shows a student id "
                f"as HTML, so it may not contain any of {MARKUP_CHARACTERS}: rename the "
                "folder and rerun")
    return ""


MARKUP_CHARACTERS = "<>\"'&`"


def grading_basis(setup, tests):
    """A digest of what judges a submission: the setup cells, the test cells and their
    points (from the gradebook), and JUDGING_CODE. A verdict judged on another basis is
    out of date: the instructor fixed a test, or upgraded d2lcourse."""
    hasher = hashlib.sha256()
    for text in [*setup, *(f"{t.grade_id} {t.points!r} {t.source}" for t in tests)]:
        hasher.update(f"{len(text)}:{text}".encode())
    for path in [*(p for folder in JUDGING_CODE for p in sorted(folder.glob("*.py"))),
                 PACKAGE / "grading.py"]:
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def out_of_date(found, submission, held, basis):
    """Why the Stored verdict `found` (or None) is not the grade of `submission` as it
    stands, or None if it is: NOT_RECORDED, CHANGED, REDONE_LOST (`held`:
    Recorder.held_by_nbgrader()) or REDONE_BASIS (unless `basis` is "": not known yet)."""
    if found is None or not found.recorded:
        return NOT_RECORDED
    if found.digest != submission.digest:
        return CHANGED
    if submission.student not in held:
        return REDONE_LOST
    if basis and found.basis != basis:
        return REDONE_BASIS
    return None


def file_digest(path):
    hasher = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


class InvalidNotebook(Exception):
    """The submission cannot be read as the assignment's notebook; says why."""


def read_submission(submission, assignment):
    """{grade_id: source} of the graded solution cells, or raise InvalidNotebook."""
    path = submission.path
    if not path.is_file():
        found = sorted(p.name for p in path.parent.glob("*.ipynb"))
        raise InvalidNotebook(f"{assignment.notebook} is missing from the submission (found: "
                              f"{', '.join(found) or 'no notebook'}): submit your notebook "
                              f"under the name {assignment.notebook}")
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the notebook is {size >> 20} MB; the limit is "
                              f"{MAX_NOTEBOOK_BYTES >> 20} MB: clear large outputs and resubmit")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"the notebook is not UTF-8 text ({error.reason} at byte "
                              f"{error.start})") from None
    notebook = parsed_notebook(text)
    seen = set(notebooks.graded_cells(notebook))
    other = assignment_of(seen)
    if other.named(seen) > assignment.named(seen):
        raise InvalidNotebook(
            f"this is the notebook of {other.id} ({other.notebook}), handed in as "
            f"{assignment.id}: hand in {assignment.notebook} here (`nbgrader fetch_assignment "
            f"{assignment.id}` gives it) and {other.notebook} under {other.id}")
    return notebooks.solution_sources(notebook, assignment.functions)


def parsed_notebook(text):
    """The notebook in `text`, read in time linear in its size: JSON parsed in C, then at
    most MAX_NOTEBOOK_VALUES values walked (nbformat's schema validation, about 30 us a
    value, would take a minute on 20 MB of tiny cells; nbformat's reads only logs what it
    finds anyway), then `notebooks.from_json`; or InvalidNotebook."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidNotebook(f"the notebook is not valid notebook JSON ({error})"[:500]) from None
    if not isinstance(document, dict):
        raise InvalidNotebook("the notebook is not valid notebook JSON (not an object): "
                              "resubmit the released notebook")
    version = document.get("nbformat")
    if version != 4:
        raise InvalidNotebook(f"the notebook has nbformat {str(version)[:20]}; expected 4: "
                              "resubmit the released notebook")
    if json_values(document) > MAX_NOTEBOOK_VALUES:
        raise InvalidNotebook(f"the notebook holds more than {MAX_NOTEBOOK_VALUES} JSON values "
                              "(cells, lines of output, ...): clear its outputs (Kernel > "
                              "Restart & Clear Output) and resubmit")
    try:
        return notebooks.from_json(document)
    except notebooks.NotebookProblem as problem:
        raise InvalidNotebook(str(problem)) from None
    except Exception as error:  # nbformat raises several kinds for a broken notebook
        raise InvalidNotebook(f"the notebook is not valid notebook JSON ({error})"[:500]) from None


def json_values(document, limit=MAX_NOTEBOOK_VALUES):
    """How many values (objects, lists, strings, numbers...) `document` holds, counted up
    to just past `limit`."""
    count, pending = 0, [document]
    while pending and count <= limit:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count


# --------------------------------------------------------------------------- 3

def trusted_parts(recorder, assignment):
    """Setup code and test cells from nbgrader's gradebook, the system of record (plain
    `nbgrader autograde` reads them the same way), in the source notebook's order; and a
    warning if the source notebook's differ (edited since generate_assignment), or ""."""
    path = assignment.source_path(recorder.course_dir)
    source = notebooks.read(path)
    setup, tests, _ = trusted_code(recorder.api.coursedir.db_url, assignment.id,
                                   Path(assignment.notebook).stem,
                                   list(notebooks.graded_cells(source)))
    problem = unpublished_problem(assignment, setup, published(recorder.course_dir))
    if problem:
        raise InfrastructureFault(problem)
    edited = (notebooks.setup_sources(source), notebooks.graded_tests(source)) != (setup, tests)
    warning = (f"warning: the setup or test cells of {path} differ from the gradebook's, "
               f"which grade: run `nbgrader generate_assignment {assignment.id} --force` "
               "first to grade with the edited ones") if edited else ""
    return setup, tests, warning


# --------------------------------------------------------------------------- 4

class Recorder:
    """The one writer: verdict files, nbgrader's gradebook and feedback."""

    def __init__(self, course_dir, assignment):
        self.course_dir = Path(course_dir).resolve()
        self.assignment = assignment
        self.verdicts = self.course_dir / "reports" / assignment.id / "verdicts"
        self.verdicts.mkdir(parents=True, exist_ok=True)
        # nbgrader autogrades a copy of the notebook alone, made here: never a linked or
        # oddly named file of the submission, and the release for a rejected notebook.
        self.staging = self.verdicts.parent / "autograding"
        config = Config()
        if (self.course_dir / "nbgrader_config.py").is_file():
            config.merge(PyFileConfigLoader("nbgrader_config.py",
                                            path=str(self.course_dir)).load_config())
        config.CourseDirectory.root = str(self.course_dir)
        if "root" not in config.Exchange:  # nbgrader's default needs a system folder
            config.Exchange.root = str(self.course_dir / "exchange")
            (self.course_dir / "exchange").mkdir(exist_ok=True)
        configure(config)  # it also puts this environment's `alembic` first on PATH
        config.NbGraderAPI.log_level = "ERROR"  # not its chatter per cell and notebook
        # Nor its tracebacks on stderr: `nbgrader_cause` reads them from the API's result.
        logging.getLogger("traitlets").propagate = False
        config.CourseDirectory.submitted_directory = str(self.staging.relative_to(
            self.course_dir))
        coursedir = CourseDirectory(config=config)
        self.api = NbGraderAPI(coursedir=coursedir, config=config)
        self.feedback_pending = 0
        self.basis = ""  # the run's grading_basis, saved with each verdict

    def ensure_assignment(self):
        """Add the assignment to the gradebook (nbgrader generate_assignment) if needed,
        and its release, which stands in for a rejected notebook."""
        with self.api.gradebook as gradebook:
            known = [a.name for a in gradebook.assignments]
        if self.assignment.id not in known or not self.release.is_file():
            result = interruptible(self.api.generate_assignment(self.assignment.id, force=True))
            if not result["success"]:
                raise self.fault(nbgrader_cause(result),
                                 f"nbgrader generate_assignment {self.assignment.id} failed")

    @property
    def release(self):
        return self.course_dir / "release" / self.assignment.id / self.assignment.notebook

    def verdict_path(self, student):
        """verdicts/<hash of the id>.json (the id is inside): any id has a file name."""
        return self.verdicts / verdict_file_name(student)

    def stored(self):
        return stored_verdicts(self.verdicts)

    def held_by_nbgrader(self):
        """The students whose submission nbgrader holds: in the gradebook, with its
        autograded notebook. A verdict recorded for anyone else was lost since (a deleted
        autograded folder or gradebook) and is graded again."""
        with self.api.gradebook as gradebook:
            known = [s.student_id for s in gradebook.assignment_submissions(self.assignment.id)]
        coursedir = self.api.coursedir
        return {student for student in known if Path(coursedir.format_path(
            coursedir.autograded_directory, student, self.assignment.id),
            self.assignment.notebook).is_file()}

    def save(self, submission, verdict, recorded):
        path = self.verdict_path(submission.student)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"student": submission.student,
                                         "digest": submission.digest, "recorded": recorded,
                                         "basis": self.basis,
                                         "verdict": verdict.to_json()}))
        os.replace(temporary, path)

    def record(self, submission, verdict, rejected=False):
        """Write the verdict into the gradebook (nbgrader autograde), then mark its file
        recorded; returns the verdict as recorded. A rejected notebook, or one that
        nbgrader rejects, is recorded on a copy of the release, with zero points and the
        reason. Raises InfrastructureFault when it cannot be recorded."""
        self.save(submission, verdict, recorded=False)
        shutil.rmtree(self.course_dir / "feedback" / submission.student / self.assignment.id,
                      ignore_errors=True)  # stale now; write_feedback makes the new one
        if not rejected:
            cause = self.autograde(submission, verdict,
                                   within_recording_budget(self.notebook_bytes(submission)))
            if cause is None:
                return self.recorded(submission, verdict)
            self.raise_if_infrastructure(cause)
            reason = (f"nbgrader rejected the notebook ({cause}): start again from the "
                      "released notebook and keep its cells' metadata")
            verdict = Verdict(Status.INVALID_NOTEBOOK, reason,
                              [replace(r, points=0.0, message=f"not graded: {reason}")
                               for r in verdict.results], verdict.seconds, verdict.graded_by)
            self.save(submission, verdict, recorded=False)
        cause = self.autograde(submission, verdict, self.release.read_bytes())
        if cause is not None:
            self.raise_if_infrastructure(cause)
            raise InfrastructureFault(f"nbgrader cannot autograde even the released "
                                      f"{self.assignment.notebook} ({cause}): check the "
                                      f"course with `nbgrader autograde`, then rerun")
        return self.recorded(submission, verdict)

    def recorded(self, submission, verdict):
        self.save(submission, verdict, recorded=True)
        self.feedback_pending += 1
        return verdict

    def notebook_bytes(self, submission):
        """The submitted notebook, as it was when it was judged."""
        descriptor = os.open(submission.path, os.O_RDONLY | os.O_NOFOLLOW)
        with open(descriptor, "rb") as stream:
            data = stream.read()
        if hashlib.sha256(data).hexdigest() != submission.digest:
            raise InfrastructureFault(f"{printable(submission.student)}'s notebook changed "
                                      "while it was being graded: rerun")
        return data

    def autograde(self, submission, verdict, notebook):
        """nbgrader autograde of `notebook` (bytes) as the submission, with `verdict` as
        its result; None when it succeeded, else the cause from nbgrader's log."""
        shutil.rmtree(self.staging, ignore_errors=True)
        folder = self.staging / submission.student / self.assignment.id
        folder.mkdir(parents=True)
        (folder / self.assignment.notebook).write_bytes(notebook)
        if not submission.refused:  # as `nbgrader autograde` copies them into autograded/
            for name in EXCHANGE_FILES:
                found = submission.path.parent / name
                if found.is_file() and not found.is_symlink():
                    shutil.copyfile(found, folder / name)
        try:
            result = interruptible(self.autograde_recording(submission.student, verdict))
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        return None if result["success"] else nbgrader_cause(result)

    def autograde_recording(self, student, verdict):
        """`NbGraderAPI.autograde(assignment, student, force=True)`, as nbgrader's API runs
        it, with this run's SandboxedExecute configured to record `verdict`."""
        with temp_attrs(self.api.coursedir, assignment_id=self.assignment.id,
                        student_id=student):
            run = Autograde(coursedir=self.api.coursedir, parent=self.api)
            run.update_config(Config({"SandboxedExecute": {"verdict": verdict.to_json()}}))
            run.force = True
            run.create_student = True
            return capture_log(run)

    def raise_if_infrastructure(self, cause):
        fault = self.fault(cause)
        if fault is not None:
            raise fault

    def fault(self, error, otherwise=None):
        """`error` (an exception, or a cause from nbgrader's log) as an InfrastructureFault
        whose message names the cause and the fix, if it shows a full disk, an unwritable
        file or a failing gradebook; else one saying `otherwise (error)`, or None."""
        text = error if isinstance(error, str) else one_line(error)
        code = getattr(error, "errno", None)
        if "database" in text:
            place = self.api.coursedir.db_url.replace("sqlite:///", "")
        else:
            place = self.place(getattr(error, "filename", None) or quoted_path(text))
        if code in (errno.ENOSPC, errno.EDQUOT) or any(s in text for s in DISK_FULL):
            return InfrastructureFault(f"disk full writing {place}: free space and rerun")
        if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(s in text for s in UNWRITABLE):
            return InfrastructureFault(f"cannot write {place} (read-only or no permission): "
                                       "make it writable and rerun")
        if otherwise is None and "database" in text:  # e.g. locked: never the student's
            otherwise = f"the gradebook {place} failed"
        if otherwise is not None:
            return InfrastructureFault(f"{otherwise} ({text}): fix that and rerun")
        return None

    def place(self, filename):
        """The course folder that holds `filename` (DIR/feedback, ...), or the file."""
        if not filename:
            return str(self.course_dir)
        try:
            first = Path(filename).resolve().relative_to(self.course_dir).parts[:1]
        except ValueError:
            return str(filename)
        return str(self.course_dir.joinpath(*first))

    def write_feedback(self, verdicts, at_least=0):
        """nbgrader generate_feedback for every autograded submission that lacks it, if
        at least `at_least` were recorded since the last time; the cause if something
        that is not a student's fault failed. A notebook that nbgrader cannot render is
        its student's problem: that student gets `fallback_feedback` and the status
        UNRENDERABLE (in `verdicts` and the verdict file), and the others their pages."""
        if self.feedback_pending < at_least:
            return None
        self.feedback_pending = 0
        try:
            mathjax_script()  # every page carries it: without it, no page renders
        except (OSError, ValueError) as error:
            return str(self.fault(error, "no feedback page was written"))
        result = interruptible(self.api.generate_feedback(self.assignment.id, force=False))
        causes = []
        if not result["success"]:
            failed = failed_students(result, self.course_dir / "autograded", self.assignment.id)
            if not failed:  # not one student's notebook: the run's
                return str(self.fault(nbgrader_cause(result), "nbgrader generate_feedback "
                                                              "failed"))
            for student, cause in failed.items():
                fault = self.fault(cause)
                if fault is not None:
                    causes.append(str(fault))
                elif student in verdicts:
                    try:
                        verdicts[student] = self.unrenderable(student, verdicts[student], cause)
                    except OSError as error:
                        causes.append(str(self.fault(error, "writing feedback failed")))
        for student in verdicts:
            try:
                self.complete_for_release(student)
            except OSError as error:
                causes.append(str(self.fault(error, "writing feedback failed")))
        return "; ".join(dict.fromkeys(causes)) or None  # usually one cause for all

    def late_work(self):
        """{student: reports.Late} of the late submissions, as the gradebook records them:
        nbgrader's LateSubmissionPlugin set each penalty when it autograded."""
        with self.api.gradebook as gradebook:
            return {s.student_id: reports.Late(s.late_submission_penalty, s.total_seconds_late)
                    for s in gradebook.assignment_submissions(self.assignment.id)
                    if s.total_seconds_late > 0}

    def feedback_folder(self, student):
        return self.course_dir / "feedback" / student / self.assignment.id

    def unrenderable(self, student, verdict, cause):
        """`student`'s verdict once nbgrader failed to render their notebook (`cause`):
        status UNRENDERABLE (unless it has a worse one), a page of our own with the
        grades, saved as recorded."""
        reason = (f"nbgrader could not render this notebook as a feedback page ({cause}); "
                  "the grades stand, and the feedback page lists them without the notebook")
        if verdict.status == Status.OK:
            verdict = replace(verdict, status=Status.UNRENDERABLE, message=reason)
        folder = self.feedback_folder(student)
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / Path(self.assignment.notebook).with_suffix(".html").name
        page.write_text(fallback_feedback(self.assignment, verdict, reason))
        stored = self.stored().get(student)
        if stored is not None:
            self.save(Submission(student, None, stored.digest), verdict, recorded=True)
        return verdict

    def complete_for_release(self, student):
        """Give `student`'s feedback folder what `nbgrader release_feedback` reads beside
        the page, from the submission as nbgrader would. A hand-in that did not come
        through `nbgrader submit` has neither: it gets the time of its notebook and a
        fresh secret (as `nbgrader submit` makes one), so that releasing goes on for
        everyone; its page is for you to hand out."""
        folder = self.feedback_folder(student)
        pages = list(folder.glob("*.html")) if folder.is_dir() else []
        if not pages:
            return
        submitted = self.course_dir / "submitted" / student / self.assignment.id
        for name in EXCHANGE_FILES:
            if (folder / name).is_file():
                continue
            if (submitted / name).is_file() and not first_link(submitted):
                shutil.copyfile(submitted / name, folder / name)
                continue
            if name == "timestamp.txt":
                notebook = submitted / self.assignment.notebook
                when = (notebook if notebook.is_file() else pages[0]).stat().st_mtime
                text = datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M:%S.%f %Z")
            else:
                text = secrets.token_hex(64)
            (folder / name).write_text(text)


def failed_students(result, autograded, assignment_id):
    """{student: the first exception nbgrader logged for them} from a failed run of
    generate_feedback (it goes on after a notebook it cannot render, and names each)."""
    text = "\n".join(filter(None, (result.get("log"), result.get("error"))))
    failed = {}
    parts = re.split(r"There was an error processing assignment: ", text)
    for part in parts[1:]:
        path, _, rest = part.partition("\n")
        try:
            student, assignment = Path(path.strip()).relative_to(autograded).parts[:2]
        except ValueError:
            continue
        if assignment == assignment_id:
            failed[student] = nbgrader_cause({"log": rest})
    return failed


def fallback_feedback(assignment, verdict, reason):
    """The feedback page of a notebook that nbgrader cannot render: the reason and each
    test's points and message, every student byte escaped, under a policy with no script."""
    escape = html.escape
    rows = "".join(f"<tr><td>{escape(r.grade_id)}</td><td>{r.points:g}/{r.max_points:g}</td>"
                   f"<td>{escape(r.message)}</td></tr>" for r in verdict.results)
    earned = sum(r.points for r in verdict.results)
    most = sum(r.max_points for r in verdict.results)
    return (f'<!doctype html><html lang="en"><head>{content_policy(REPORT_POLICY)}'
            f'<meta charset="utf-8"><title>{escape(assignment.id)}: feedback</title></head>'
            f"<body><h1>{escape(assignment.id)}</h1><p>{escape(reason)}.</p>"
            f"<p>Points: {earned:g}/{most:g} (status: {escape(verdict.status)}).</p>"
            "<table><tr><th>test</th><th>points</th><th>message</th></tr>"
            f"{rows}</table></body></html>\n")


DISK_FULL = ("No space left on device", "database or disk is full", "Disk quota exceeded")
UNWRITABLE = ("readonly database", "Read-only file system", "Permission denied")
EXCEPTION_LINE = re.compile(r"^[ \t]*(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", re.MULTILINE)


# A verdict file: the notebook's digest, whether nbgrader recorded it, the Verdict, and
# the grading_basis it was judged on ("" in a file written before it existed).
Stored = collections.namedtuple("Stored", "digest recorded verdict basis")


def stored_verdicts(folder):
    """{student: Stored} of every verdict file in `folder`."""
    found = {}
    for path in Path(folder).glob("*.json"):
        try:
            data = json.loads(path.read_text())
            found[data["student"]] = Stored(data["digest"], data["recorded"],
                                            Verdict.from_json(data["verdict"]),
                                            data.get("basis", ""))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a file from an older version, or damaged: graded again
    return found


def interruption(course_dir, assignment, students, recorder=None):
    """The line that says how much of the class a run stopped by Ctrl-C had graded: a
    verdict that the run's `recorder` (once it knows its basis) would judge again is not."""
    stored = stored_verdicts(course_dir / "reports" / assignment.id / "verdicts")
    submissions = [s for s in find_submissions(course_dir, assignment, students)
                   if not unstorable(s.student)]
    basis = recorder.basis if recorder is not None else ""
    held = {s.student for s in submissions}
    if basis:
        with contextlib.suppress(Exception):  # the gradebook unreadable: count the files
            held = recorder.held_by_nbgrader()
    done = sum(out_of_date(stored.get(s.student), s, held, basis) is None for s in submissions)
    return (f"interrupted: {done} of {len(submissions)} submissions are graded and recorded; "
            f"run the same command again to grade the other {len(submissions) - done}")


def within_recording_budget(data):
    """The notebook (bytes) that nbgrader records and renders as feedback: every cell that
    carries nbgrader metadata, and of the student's other cells and of all outputs only the
    first RECORDING_BUDGET bytes, the rest replaced by a note. nbgrader's recording and
    feedback take minutes for a 20 MB notebook of small cells, outside any deadline."""
    try:
        notebook = json.loads(data)
    except ValueError:
        return data   # nbgrader will reject it, with its reason
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return data
    budget, kept, left_out = RECORDING_BUDGET, [], 0
    for cell in cells:
        graded = isinstance(cell.get("metadata"), dict) and "nbgrader" in cell["metadata"]
        outputs = cell.get("outputs")
        if outputs:
            size = len(json.dumps(outputs))
            if size > budget:
                cell["outputs"], left_out = [], left_out + 1
            else:
                budget -= size
        if not graded:   # the rest of the cell (its outputs are counted above)
            size = len(json.dumps({k: v for k, v in cell.items() if k != "outputs"}))
            if size > budget:
                left_out += 1
                continue
            budget -= size
        kept.append(cell)
    if not left_out:
        return data
    kept.append({"cell_type": "markdown", "metadata": {}, "source": (
        f"({left_out} cells or outputs of the submission are not shown here: the notebook "
        f"holds more than {RECORDING_BUDGET >> 20} MB besides its graded cells)")})
    if notebook.get("nbformat_minor", 0) >= 5:   # cell ids since nbformat 4.5
        kept[-1]["id"] = "d2lcourse-trimmed"
    notebook["cells"] = kept
    return json.dumps(notebook).encode()


def verdict_file_name(student):
    return hashlib.sha256(os.fsencode(student)).hexdigest()[:32] + ".json"


def interruptible(result):
    """The result of an NbGraderAPI call, unless Ctrl-C interrupted it: nbgrader catches
    every exception, KeyboardInterrupt too, as a failure (which would record a grade)."""
    if not result["success"] and (result.get("error") or "").rstrip().endswith(
            "KeyboardInterrupt"):
        raise KeyboardInterrupt
    return result


def nbgrader_cause(result):
    """What made an NbGraderAPI call fail: the first exception in its log, not nbgrader's
    "Please see the the above traceback"."""
    text = "\n".join(filter(None, (result.get("log"), result.get("error"))))
    for match in EXCEPTION_LINE.finditer(text):
        if "above traceback" not in match.group(2):
            return f"{match.group(1)}: {match.group(2).strip()}"[:300]
    lines = [line for line in text.strip().splitlines() if "above traceback" not in line]
    return lines[-1].replace("[ERROR] ", "")[:300] if lines else "unknown error"


def quoted_path(text):
    """The first absolute path quoted in `text` (as OSError and nbgrader print them)."""
    match = re.search(r"'(/[^']+)'", text)
    return match.group(1) if match else None


# --------------------------------------------------------------------------- the command

def grade(assignment, course_dir=None, students=None, workers=1, scheduler=None,
          force=False, unsafe_no_sandbox=False, limits=Limits(), out=None):
    """Grade an assignment; returns {student: Verdict} of every submission (`students`
    grades only those; the others keep their stored verdicts in the report). Never stops
    for one submission. Raises SandboxUnavailable (one line: why, and the fix) if the
    sandbox cannot run as it must, RunInProgress if another run holds the assignment, and
    GradingIncomplete at the end if anything could not be graded or written."""
    course_dir = Path(course_dir or default_course_dir()).resolve()
    out = out or sys.stdout
    if not unsafe_no_sandbox:
        problem = bubblewrap_problem()
        if problem:
            raise SandboxUnavailable(f"refusing to grade without a sandbox: {problem} (or "
                                     "pass --unsafe-no-sandbox to run student code "
                                     "unprotected; the report will say so)")
    try:
        with one_run_at_a_time(course_dir, assignment), interrupted_says(
                course_dir, assignment, students) as run:
            recorder = run.recorder = Recorder(course_dir, assignment)
            try:
                recorder.ensure_assignment()
                setup, tests, warning = trusted_parts(recorder, assignment)
                recorder.basis = grading_basis(setup, tests)
                if warning:
                    print(warning, file=out)
            except InfrastructureFault:
                raise
            except Exception as error:  # the gradebook cannot be read or written
                raise recorder.fault(error, "cannot read the gradebook") from None
            return grade_with(recorder, setup, tests, students, workers, scheduler, force,
                              unsafe_no_sandbox, limits, out)
    except OSError as error:  # the course folder itself cannot be written
        raise InfrastructureFault(f"cannot write {error.filename or course_dir} "
                                  f"({error.strerror}): free space or make it writable, "
                                  "and rerun") from None


def grade_with(recorder, setup, tests, students, workers, scheduler, force, unsafe, limits,
               out):
    """`grade` once the run holds the assignment and has its trusted parts."""
    course_dir, assignment = recorder.course_dir, recorder.assignment
    data_dir = find_data_dir()
    data_dir = None if data_dir is None else str(data_dir)
    faults = collections.Counter()  # cause (one line with its fix) -> how many times

    def note(cause):
        if cause:
            faults[cause] += 1

    def record(submission, verdict, rejected=False):
        """recorder.record, or the verdict UNGRADED with its cause noted."""
        try:
            if verdict.status == Status.UNGRADED:
                raise InfrastructureFault(verdict.message)
            return recorder.record(submission, verdict, rejected)
        except InfrastructureFault as fault:
            cause = str(fault)
        except Exception as error:  # nothing the student did: the submission stays ungraded
            cause = str(recorder.fault(error, f"recording {printable(submission.student)} "
                                              "failed"))
        note(cause)
        verdict = ungraded(assignment, tests, cause)
        with contextlib.suppress(OSError):
            recorder.save(submission, verdict, recorded=False)
        return verdict

    try:
        stored, held = recorder.stored(), recorder.held_by_nbgrader()
    except Exception as error:  # the gradebook cannot be read
        raise recorder.fault(error, "cannot read the gradebook") from None
    verdicts, jobs, by_student, skipped = {}, [], {}, 0
    redone = collections.Counter()  # why verdicts of unchanged notebooks are judged again
    outdated = 0  # verdicts a partial run keeps that are not of the notebooks as they stand
    for submission in find_submissions(course_dir, assignment):
        found = stored.get(submission.student)
        why = out_of_date(found, submission, held, recorder.basis)
        if students and submission.student not in students:
            if found:  # a partial run keeps everyone else
                verdicts[submission.student] = found.verdict
                outdated += why is not None
            continue
        if unstorable(submission.student):
            note(unstorable(submission.student))
            continue
        by_student[submission.student] = submission
        if not force and why is None:
            verdicts[submission.student] = found.verdict
            skipped += 1
            continue
        if not force and why in (REDONE_LOST, REDONE_BASIS):
            redone[why] += 1
        reading = time.monotonic()  # the submission's time starts here
        try:
            if submission.refused:
                raise InvalidNotebook(submission.refused)
            solutions = read_submission(submission, assignment)
        except InvalidNotebook as error:
            verdicts[submission.student] = record(submission, Verdict(
                Status.INVALID_NOTEBOOK, str(error),
                [unrun(t, assignment, f"not graded: {error}") for t in tests]), rejected=True)
            continue
        if not jobs and workers <= 1 and not scheduler and not unsafe:
            warm_up(assignment, setup, data_dir)  # the first job: it starts as the rest are read
        jobs.append(Job(submission.student, assignment, setup, tests, solutions, limits,
                        not unsafe, data_dir, spent=time.monotonic() - reading))
    if not by_student:
        print(f"d2lcourse: no submissions under {course_dir / 'submitted'}/*/{assignment.id}/",
              file=out)
    if skipped:
        print(f"{skipped} submission(s) already graded and unchanged (use --force to regrade)",
              file=out)
    for why, count in redone.items():
        print(f"{count} submission(s) graded before {why}: graded again", file=out)
    if outdated:
        print(f"note: {outdated} other submission(s) in the report were graded as they no "
              "longer stand (resubmitted since, lost by nbgrader, or judged by other tests): "
              "run without --student to grade them again", file=out)
    with reports.progress(len(jobs), out) as bar, \
            contextlib.closing(judge(jobs, workers, scheduler)) as results:  # Ctrl-C ends it
        try:
            for student, verdict in results:
                verdicts[student] = record(by_student[student], verdict)
                bar.update(student, verdicts[student])
                note(recorder.write_feedback(verdicts, at_least=FEEDBACK_BATCH))  # while workers judge
        except InfrastructureFault as fault:  # the cluster is gone: nothing more is judged
            for job in jobs:
                if job.student not in verdicts:
                    verdicts[job.student] = record(by_student[job.student],
                                                   ungraded(assignment, tests, str(fault)))
    note(recorder.write_feedback(verdicts))
    try:
        late = recorder.late_work()
    except Exception as error:  # the gradebook cannot be read
        note(str(recorder.fault(error, "reading the late penalties from the gradebook failed")))
        late = {}
    try:
        similar = similarity.write(course_dir, assignment)[2]
    except OSError as error:
        note(str(recorder.fault(error, "writing similarity.csv failed")))
        similar = ""
    try:
        reports.write(course_dir, assignment, tests, verdicts, unsafe, out, late, similar)
    except OSError as error:
        note(str(recorder.fault(error, "writing the report failed")))
    if faults:
        raise GradingIncomplete([cause if count == 1 else f"{cause} ({count} times)"
                                 for cause, count in faults.items()])
    return verdicts


@contextlib.contextmanager
def interrupted_says(course_dir, assignment, students):
    """Turn Ctrl-C into GradingInterrupted, whose message says what is graded (the lock
    is still held while it counts). Yields the run, whose `recorder` the block sets."""
    run = types.SimpleNamespace(recorder=None)
    try:
        yield run
    except KeyboardInterrupt:
        with sigint_ignored():  # nothing interrupts the count
            line = interruption(course_dir, assignment, students, run.recorder)
        raise GradingInterrupted(line) from None


@contextlib.contextmanager
def one_run_at_a_time(course_dir, assignment):
    """Hold DIR/reports/<assignment>/grade.lock (with this pid in it) for the run; raise
    RunInProgress if another run holds it. The lock goes when the process does."""
    folder = course_dir / "reports" / assignment.id
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "grade.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunInProgress(f"another `d2lcourse grade {assignment.id}` (pid {holder}) "
                                f"is grading {course_dir}: wait for it to end, or end it, "
                                "then rerun") from None
        with contextlib.suppress(OSError):  # a full disk: the lock holds without the pid
            lock.seek(0)
            lock.truncate()
            lock.write(str(os.getpid()))
            lock.flush()
        yield
