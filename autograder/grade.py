"""`d2lcourse grade`: judge every submission of an assignment, in parallel, then record.

The pipeline, top to bottom:

1. `find_submissions`  - DIR/submitted/<student>/<assignment>/<notebook>.ipynb
2. `read_submission`   - parse safely (size, UTF-8, JSON, nbformat, duplicate cells);
                         a broken notebook becomes a Verdict with its status
3. `judge`             - evaluate the rest in the sandbox: in this process, a local
                         process pool (--workers) or a Dask cluster (--scheduler)
4. `record`            - only this process writes: nbgrader autograde (gradebook) and a
                         verdict file per submission, so that a rerun after a crash
                         regrades nothing that is already done
5. `write_feedback`    - nbgrader generate_feedback for the recorded submissions whose
                         feedback is missing or stale, a batch at a time while the
                         workers judge, and once more at the end
6. `reports.write`     - grades.csv, summary table, plots and an HTML page
"""
import collections
import ctypes
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from d2lcourse.course import Assignment, default_course_dir
from d2lcourse.notebooks import grade_id, is_solution_cell, read
from d2lcourse.grading import InfrastructureFault
from d2lcourse.autograder.evaluate import Verdict, evaluate, ungraded, unrun, warm_up
from d2lcourse.autograder.sandbox import Limits, bubblewrap_problem, signal_name

MAX_NOTEBOOK_BYTES = 20 << 20
PR_SET_PDEATHSIG = 1
FEEDBACK_BATCH = 8  # nbgrader prepares its templates once per run: not once per student


@dataclass
class Submission:
    student: str
    path: Path
    digest: str


@dataclass
class Job:
    """Everything a worker needs to judge one submission: plain data only."""
    student: str
    assignment: Assignment
    setup: list
    tests: list
    solutions: dict
    limits: Limits
    sandboxed: bool
    data_dir: str


def run_job(job):
    """Judge one submission (runs in a worker); returns (student, verdict as JSON). A
    failure of the grader itself leaves the submission UNGRADED, with its cause."""
    try:
        verdict = evaluate(job.assignment, job.setup, job.tests, job.solutions, job.limits,
                           job.sandboxed, job.data_dir)
    except Exception as error:  # not anything the submission did: evaluate catches that
        verdict = ungraded(job.assignment, job.tests, f"the grader failed judging it "
                           f"({one_line(error)}): rerun, and report it if it repeats")
    return job.student, verdict.to_json()


# --------------------------------------------------------------------------- 1, 2

def find_submissions(course_dir, assignment, students=None):
    root = Path(course_dir) / "submitted"
    found = []
    for folder in sorted(root.glob(f"*/{assignment.id}")):
        student = folder.parent.name
        if students and student not in students:
            continue
        path = folder / assignment.notebook
        digest = file_digest(path) if path.is_file() else "missing"
        found.append(Submission(student, path, digest))
    return found


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
    try:
        notebook = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except Exception as error:  # nbformat raises several kinds for broken JSON
        raise InvalidNotebook(f"the notebook is not valid notebook JSON ({error})"[:500]) from None
    if notebook.get("nbformat") != 4:
        raise InvalidNotebook(f"the notebook has nbformat {notebook.get('nbformat')}; "
                              "expected 4: resubmit the released notebook")
    sources, seen = {}, set()
    for cell in notebook.get("cells", []):
        name = grade_id(cell)
        if name is None:
            continue
        if name in seen:
            raise InvalidNotebook(f"the cell {name!r} appears twice: delete the copy")
        seen.add(name)
        if is_solution_cell(cell) and name in assignment.functions:
            sources[name] = str(cell.get("source", ""))
    return sources


# --------------------------------------------------------------------------- 3

def trusted_parts(recorder, assignment):
    """Setup code and test cells from nbgrader's gradebook, the system of record (plain
    `nbgrader autograde` reads them the same way), in the source notebook's order."""
    from d2lcourse.autograder.nbgrader_plugin import trusted_code
    source = read(assignment.source_path(recorder.course_dir))
    order = [grade_id(cell) for cell in source.cells if grade_id(cell)]
    setup, tests, _ = trusted_code(recorder.api.coursedir.db_url, assignment.id,
                                   Path(assignment.notebook).stem, order)
    return setup, tests


def warm_up_worker(job):
    """Start the worker's zygote while the worker imports the rest."""
    if job.sandboxed:
        warm_up(job.assignment, job.setup, job.data_dir)


def judge(jobs, workers=1, scheduler=None):
    """Yield (student, Verdict) as each job finishes. A job that the infrastructure failed
    (workers killed, the scheduler lost) comes back UNGRADED, with its cause."""
    if scheduler:
        yield from judge_on_dask(jobs, scheduler)
    elif workers > 1 and jobs:
        yield from judge_in_pool(jobs, workers)
    else:
        for job in jobs:
            yield unpack(run_job(job))


def judge_on_dask(jobs, scheduler):
    """Judge on a Dask cluster; it gives the job of a worker that dies to another."""
    from dask.distributed import Client, as_completed
    from distributed.scheduler import KilledWorker
    try:
        client = Client(scheduler, timeout="30s")
    except (OSError, TimeoutError) as error:
        raise InfrastructureFault(f"cannot reach the Dask scheduler at {scheduler} "
                                  f"({one_line(error)}): start it or fix --scheduler") from None
    with client:
        left = {client.submit(run_job, job, key=f"grade-{job.assignment.id}-{job.student}",
                              pure=False): job for job in jobs}
        for future in as_completed(list(left)):
            job = left.pop(future)
            try:
                yield unpack(future.result())
                continue
            except KilledWorker:
                cause = ("Dask workers died judging it again and again: read the workers' "
                         "logs and the host's OOM killer (dmesg), and rerun")
            except Exception as error:  # run_job itself never raises
                if client.status != "running":  # every result still pending is lost
                    left[future] = job
                    break
                cause = (f"the Dask cluster failed judging it ({one_line(error)}): read "
                         "the scheduler's and workers' logs, and rerun")
            yield job.student, ungraded(job.assignment, job.tests, cause)
        if left:  # our line says it: not the client's tracebacks as it gives up
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
        for job in left.values():
            yield job.student, ungraded(job.assignment, job.tests, f"lost the Dask scheduler "
                                        f"at {scheduler}: restart it and rerun")


def judge_in_pool(jobs, workers):
    """Judge on `workers` spawned processes. A worker that dies was killed from outside
    (student code runs in a sandbox, not in the worker): a new worker takes its job, and
    a job that two workers died on stays UNGRADED."""
    from multiprocessing.connection import wait
    context = multiprocessing.get_context("spawn")
    waiting, deaths, pool = collections.deque(jobs), collections.Counter(), []
    try:
        while True:
            for worker in [w for w in pool if w.job is None]:
                if waiting:
                    worker.give(waiting.popleft())
                else:
                    pool.remove(worker)
                    worker.stop()
            while waiting and len(pool) < workers:
                pool.append(PoolWorker(context, waiting[0]))
                pool[-1].give(waiting.popleft())
            if not pool:
                return
            ready = wait([w.connection for w in pool] + [w.process.sentinel for w in pool])
            for worker in [w for w in pool if {w.connection, w.process.sentinel} & set(ready)]:
                result = worker.result()
                if result is not None:
                    worker.job = None
                    yield unpack(result)
                    continue
                pool.remove(worker)
                job, how = worker.job, worker.stop()
                if job is None:
                    continue
                deaths[job.student] += 1
                if deaths[job.student] == 1:
                    waiting.appendleft(job)
                else:
                    yield job.student, ungraded(
                        job.assignment, job.tests, f"two pool workers died judging it (the "
                        f"last {how}): check the host's OOM killer (dmesg) and rerun")
    finally:
        for worker in pool:
            worker.stop()


class PoolWorker:
    """A spawned process that judges the jobs it is given, one at a time (`serve_jobs`)."""

    def __init__(self, context, first_job):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=serve_jobs, daemon=True,
                                       args=(theirs, first_job, os.getpid()))
        self.process.start()
        theirs.close()
        self.job = None

    def give(self, job):
        self.job = job
        try:
            self.connection.send(job)
        except OSError:
            pass  # it died: `judge_in_pool` sees that next

    def result(self):
        """The result of its job, or None if it died."""
        try:
            return self.connection.recv()
        except (EOFError, OSError):
            return None

    def stop(self):
        """End it (it exits when its connection closes); how it ended."""
        self.connection.close()
        self.process.join(timeout=10)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
        code = self.process.exitcode
        return f"killed by {signal_name(-code)}" if code < 0 else f"exited ({code})"


def serve_jobs(connection, first_job, grader):
    """A pool worker's life: judge each job that arrives until the connection closes. It
    dies with the grader (pid `grader`), and its warm sandbox dies with it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != grader:  # the grader ended before the line above
        os._exit(1)
    warm_up_worker(first_job)
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        connection.send(run_job(job))


def unpack(result):
    student, verdict = result
    return student, Verdict.from_json(verdict)


def one_line(error):
    """An exception as a short line."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}"


# --------------------------------------------------------------------------- 4

class Recorder:
    """The one writer: verdict files, nbgrader's gradebook and feedback."""

    def __init__(self, course_dir, assignment):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader, Config

        from d2lcourse.autograder.nbgrader_plugin import configure
        self.course_dir = Path(course_dir).resolve()
        self.assignment = assignment
        self.verdicts = self.course_dir / "reports" / assignment.id / "verdicts"
        self.verdicts.mkdir(parents=True, exist_ok=True)
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
        coursedir = CourseDirectory(config=config)
        self.api = NbGraderAPI(coursedir=coursedir, config=config)
        self.feedback_pending = 0

    def ensure_assignment(self):
        """Add the assignment to the gradebook (nbgrader generate_assignment) if needed."""
        with self.api.gradebook as gradebook:
            known = [a.name for a in gradebook.assignments]
        if self.assignment.id not in known:
            result = self.api.generate_assignment(self.assignment.id, force=True)
            if not result["success"]:
                raise SystemExit(f"d2lcourse: nbgrader generate_assignment "
                                 f"{self.assignment.id} failed:\n{result.get('error')}")

    def verdict_path(self, student):
        return self.verdicts / f"{student}.json"

    def done(self, submission):
        """The stored verdict, if this exact submission was already graded and recorded."""
        path = self.verdict_path(submission.student)
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if stored.get("digest") != submission.digest or not stored.get("recorded"):
            return None
        return Verdict.from_json(stored["verdict"])

    def save(self, submission, verdict, recorded):
        path = self.verdict_path(submission.student)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"digest": submission.digest, "recorded": recorded,
                                         "verdict": verdict.to_json()}))
        os.replace(temporary, path)

    def record(self, submission, verdict):
        """Write the verdict into nbgrader (gradebook + feedback); returns the verdict."""
        from d2lcourse.autograder.nbgrader_plugin import SandboxedExecute
        self.save(submission, verdict, recorded=False)
        if verdict.status == "invalid_notebook":
            self.save(submission, verdict, recorded=True)
            return verdict
        key = (submission.student, self.assignment.id, Path(self.assignment.notebook).stem)
        SandboxedExecute.precomputed[key] = verdict
        shutil.rmtree(self.course_dir / "feedback" / submission.student / self.assignment.id,
                      ignore_errors=True)  # stale now; write_feedback makes the new one
        try:
            result = self.api.autograde(self.assignment.id, submission.student, force=True)
            if result["success"]:
                self.feedback_pending += 1
            else:
                verdict = Verdict("invalid_notebook", "nbgrader could not autograde it: "
                                  + last_error_line(result),
                                  [replace(r, points=0.0,
                                           message="not graded: the notebook is invalid")
                                   for r in verdict.results], verdict.seconds)
        finally:
            SandboxedExecute.precomputed.pop(key, None)
        self.save(submission, verdict, recorded=True)
        return verdict

    def write_feedback(self, out, at_least=0):
        """nbgrader generate_feedback for every autograded submission that lacks it, if
        at least `at_least` were recorded since the last time."""
        if self.feedback_pending < at_least:
            return
        self.feedback_pending = 0
        result = self.api.generate_feedback(self.assignment.id, force=False)
        if not result["success"]:
            print(f"d2lcourse: nbgrader generate_feedback failed: {last_error_line(result)}",
                  file=out)


def last_error_line(result):
    """The last line of what an NbGraderAPI call that failed reported."""
    lines = (result.get("error") or result.get("log") or "").strip().splitlines()
    return lines[-1] if lines else "unknown error"


# --------------------------------------------------------------------------- the command

def grade(assignment, course_dir=None, students=None, workers=1, scheduler=None,
          force=False, unsafe_no_sandbox=False, limits=Limits(), out=sys.stdout):
    """Grade an assignment; returns {student: Verdict}. Never stops for one submission."""
    from d2lcourse.autograder import reports
    course_dir = Path(course_dir or default_course_dir()).resolve()
    if not unsafe_no_sandbox:
        problem = bubblewrap_problem()
        if problem:
            raise SystemExit(f"d2lcourse: refusing to grade without a sandbox: {problem}.\n"
                             "Pass --unsafe-no-sandbox to run student code unprotected "
                             "(the report will say so).")
    recorder = Recorder(course_dir, assignment)
    recorder.ensure_assignment()
    setup, tests = trusted_parts(recorder, assignment)
    from d2lcourse.autograder.nbgrader_plugin import find_data_dir
    data_dir = find_data_dir()
    data_dir = None if data_dir is None else str(data_dir)
    if workers <= 1 and not scheduler and not unsafe_no_sandbox:
        warm_up(assignment, setup, data_dir)  # it starts while the submissions are read

    verdicts, jobs, by_student, skipped = {}, [], {}, 0
    for submission in find_submissions(course_dir, assignment, students):
        by_student[submission.student] = submission
        previous = None if force else recorder.done(submission)
        if previous is not None:
            verdicts[submission.student] = previous
            skipped += 1
            continue
        try:
            solutions = read_submission(submission, assignment)
        except InvalidNotebook as error:
            verdicts[submission.student] = recorder.record(submission, Verdict(
                "invalid_notebook", str(error),
                [unrun(t, assignment, f"not graded: {error}") for t in tests]))
            continue
        jobs.append(Job(submission.student, assignment, setup, tests, solutions, limits,
                        not unsafe_no_sandbox, data_dir))
    if not by_student:
        print(f"d2lcourse: no submissions under {course_dir / 'submitted'}/*/{assignment.id}/",
              file=out)
    if skipped:
        print(f"{skipped} submission(s) already graded and unchanged (use --force to regrade)",
              file=out)
    with reports.progress(len(jobs), out) as bar:
        for student, verdict in judge(jobs, workers, scheduler):
            verdicts[student] = recorder.record(by_student[student], verdict)
            bar.update(student, verdicts[student])
            recorder.write_feedback(out, at_least=FEEDBACK_BATCH)  # while workers judge
    recorder.write_feedback(out)
    reports.write(course_dir, assignment, tests, verdicts, unsafe_no_sandbox, out)
    return verdicts
