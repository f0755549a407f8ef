"""The `d2lcourse` command line: demo, grade, similarity, check, doctor (COURSE_CONTRACT.md).

Exit status: 0 done; 1 done, but something failed (a check, a submission that could
not be graded, an internal error); 2 wrong input, named on one line with the fix, and
nothing created or changed; 130 interrupted (Ctrl-C). No traceback reaches the user
without `--debug`.
"""
import argparse
import gc
import importlib.util
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from d2lcourse import __version__, doctor, selfcheck
from d2lcourse.course import ASSIGNMENTS, default_course_dir, published
from d2lcourse.model import InfrastructureFault

DEFAULT_DEMO_ASSIGNMENT = "04_softmax_regression"
USAGE_ERROR = 2
INTERNAL_ERROR = 1
INTERRUPTED = 130                # 128 + SIGINT, as shells report a command ended by Ctrl-C
SCHEDULER_PORT = 8786            # Dask's default
SCHEDULER_CHECK_SECONDS = 3
COURSE_HELP = ("nbgrader course root (default: this folder if it is one, else the "
               "repository's assignments/)")


class UsageError(Exception):
    """Wrong input: the message names the problem and the fix (exit status 2)."""


class DefaultsShown(argparse.HelpFormatter):
    """Help that shows each option's default. `--timeout`'s is the sandbox's limit,
    imported only when the help is printed (importing the sandbox loads MXNet)."""

    def _get_help_string(self, action):
        default = action.default
        if action.dest == "timeout":
            from d2lcourse.autograder.sandbox import Limits
            default = f"{Limits.seconds:g}"
        if not action.option_strings or default in (None, False, argparse.SUPPRESS):
            return action.help
        return f"{action.help} (default: {default})"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="d2lcourse", description="Deep Learning Basics: the course's command line.")
    parser.add_argument("--version", action="version", version=f"d2lcourse {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error")

    def command(name, help):
        return commands.add_parser(name, help=help, description=help, parents=[common],
                                   formatter_class=DefaultsShown)

    # The student package has no autograder: its command line is check and doctor.
    if importlib.util.find_spec("d2lcourse.autograder") is not None:
        demo = command("demo", "grade a sample class on a throw-away copy of the course")
        demo.add_argument("assignment", nargs="?", default=DEFAULT_DEMO_ASSIGNMENT,
                          help=f"assignment to demonstrate (default: {DEFAULT_DEMO_ASSIGNMENT})")
        demo.add_argument("--workers", type=int, default=2, metavar="N",
                          help="submissions graded at once")
        demo.add_argument("--keep", metavar="DIR",
                          help="build the course copy in DIR and keep it (a DIR from an earlier "
                               "demo is replaced)")

        grade = command("grade", "grade every submission of an assignment")
        grade.add_argument("assignment")
        grade.add_argument("--course", metavar="DIR", help=COURSE_HELP)
        grade.add_argument("--student", action="append", metavar="ID",
                           help="grade only this student (repeatable)")
        grade.add_argument("--workers", type=int, default=1, metavar="N",
                           help="submissions graded at once on this machine")
        grade.add_argument("--scheduler", metavar="ADDRESS",
                           help="Dask scheduler, e.g. tcp://127.0.0.1:8786")
        grade.add_argument("--force", action="store_true",
                           help="regrade submissions that are already graded and unchanged")
        grade.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                           help="wall-clock limit per submission")
        grade.add_argument("--unsafe-no-sandbox", action="store_true",
                           help="run student code without bubblewrap (only where it cannot run; "
                                "the report says so)")

        similarity = command("similarity", "list submissions whose graded functions look copied")
        similarity.add_argument("assignment")
        similarity.add_argument("--course", metavar="DIR", help=COURSE_HELP)

    check = command("check", "check your notebook against its public tests")
    check.add_argument("notebook")

    command("doctor", "is this machine ready for the course?")
    return parser


class NeverLostInterrupt:
    """A SIGINT handler whose KeyboardInterrupt always arrives. Python drops one raised
    inside a weakref callback or `__del__` (nbgrader's gradebook, through SQLAlchemy, runs
    many, and says "Exception ignored" for each): until `main` has caught one, SIGINT is
    sent again every RESEND_SECONDS, and those dropped ones are not printed. Nor is the
    traceback SQLAlchemy's connection pool logs for one that lands while it resets a
    connection (it raises it again)."""

    RESEND_SECONDS = 0.5

    def __init__(self):
        self.pending = False
        self.lock = threading.Lock()
        self.previous = signal.signal(signal.SIGINT, self)
        self.unraisable = sys.unraisablehook
        sys.unraisablehook = self.drop_lost_interrupts
        # Where Python's last resort would print the pool's errors: the same, but these.
        self.pool_errors = logging.StreamHandler()
        self.pool_errors.setLevel(logging.WARNING)
        self.pool_errors.addFilter(lambda record: not (
            record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt)))
        logging.getLogger("sqlalchemy.pool").addHandler(self.pool_errors)

    def __call__(self, signum, frame):
        with self.lock:
            if not self.pending:
                self.pending = True
                threading.Thread(target=self.resend, daemon=True).start()
        raise KeyboardInterrupt

    def drop_lost_interrupts(self, unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.unraisable(unraisable)

    def resend(self):
        while True:
            time.sleep(self.RESEND_SECONDS)
            with self.lock:
                if not self.pending:
                    return
                os.kill(os.getpid(), signal.SIGINT)

    def restore(self):
        """Stop resending, and put back the handlers found."""
        with self.lock:
            self.pending = False
        signal.signal(signal.SIGINT, self.previous)
        sys.unraisablehook = self.unraisable
        logging.getLogger("sqlalchemy.pool").removeHandler(self.pool_errors)


def main(argv=None):
    args = build_parser().parse_args(argv)
    interrupt = (NeverLostInterrupt() if threading.current_thread() is threading.main_thread()
                 else None)
    try:
        return run(args)
    except KeyboardInterrupt as error:
        if args.debug:
            raise
        print(f"d2lcourse {args.command}: {str(error) or 'interrupted'}", file=sys.stderr)
        return INTERRUPTED
    except UsageError as error:
        print(f"d2lcourse {args.command}: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # the output went to `head` or a pager that quit: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as Python's docs do
        return INTERNAL_ERROR
    except Exception as error:  # a bug or an unforeseen failure: one line unless --debug
        if args.debug:
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(f"d2lcourse: internal error: {type(error).__name__}: {first_line} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return INTERNAL_ERROR
    finally:
        if interrupt is not None:
            interrupt.restore()


def run(args):
    if args.command == "doctor":
        return doctor.main()
    if args.command == "check":
        if not Path(args.notebook).is_file():
            raise UsageError(f"no notebook at {args.notebook}: give the path of your .ipynb file")
        return selfcheck.main(args.notebook)
    if args.command == "grade":
        return run_grade(args)
    if args.command == "similarity":
        return run_similarity(args)
    return run_demo(args)


def known_assignment(assignment_id):
    if assignment_id not in ASSIGNMENTS:
        raise UsageError(f"unknown assignment {assignment_id!r}; the course has: "
                         f"{', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[assignment_id]


def at_least_one_worker(workers):
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, not {workers}")


def course_folder(course, assignment):
    """The course root, after checking that it is an nbgrader course with `assignment`."""
    here = Path.cwd()
    folder = Path(course or (here if (here / "nbgrader_config.py").is_file()
                             and (here / "source").is_dir() else default_course_dir()))
    if not folder.is_dir():
        raise UsageError(f"the course folder {folder} does not exist: pass --course with your "
                         "nbgrader course root (the folder holding source/)")
    source = assignment.source_path(folder)
    if not source.is_file():
        raise UsageError(f"{folder} is not an nbgrader course with {assignment.id}: "
                         f"{source} is missing; pass --course with the right folder")
    return folder


def submissions_to_grade(folder, assignment, students):
    """Check that there is something to grade: each asked-for student has a submission."""
    from d2lcourse.autograder.grade import find_submissions
    found = {s.student for s in find_submissions(folder, assignment, students)}
    missing = sorted(set(students or ()) - found)
    if missing:
        submitted = ", ".join(s.student for s in find_submissions(folder, assignment)) or "none"
        raise UsageError(f"no submission from {', '.join(missing)} in {folder / 'submitted'}"
                         f"/<student>/{assignment.id}/: check the --student ids (submitted: "
                         f"{submitted})")
    if not found:
        raise UsageError(f"no submissions in {folder / 'submitted'}/*/{assignment.id}/: "
                         f"collect them first (`nbgrader collect {assignment.id}` in {folder})")


def reachable_scheduler(address):
    """Fail within seconds, not Dask's 30, when nothing listens at the scheduler's address."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return  # other transports (inproc, ucx) cannot be probed with a TCP connect
    try:
        host, port = parts.hostname, parts.port or SCHEDULER_PORT
    except ValueError as error:
        raise UsageError(f"--scheduler {address} is not an address ({error}): "
                         "write it as tcp://HOST:8786") from None
    if not host:
        raise UsageError(f"--scheduler {address} names no host: write it as tcp://HOST:8786")
    try:
        socket.create_connection((host, port), timeout=SCHEDULER_CHECK_SECONDS).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(f"no Dask scheduler answers at {address} ({reason}): start "
                         f"`dask scheduler` there, or fix --scheduler") from None


def run_demo(args):
    from d2lcourse import demo  # noqa: PLC0415 (instructors only: not in the student package)
    assignment = known_assignment(args.assignment)
    at_least_one_worker(args.workers)
    problem = args.keep and demo.keep_problem(args.keep)
    if problem:
        raise UsageError(problem)
    return demo.main(assignment.id, workers=args.workers, keep=args.keep)


def run_similarity(args):
    from d2lcourse.autograder import similarity
    assignment = known_assignment(args.assignment)
    folder = course_folder(args.course, assignment)
    submissions_to_grade(folder, assignment, None)
    return similarity.main(folder, assignment)


def published_solutions(folder):
    try:
        return published(folder)
    except ValueError as error:
        raise UsageError(str(error)) from None


def run_grade(args):
    assignment = known_assignment(args.assignment)
    at_least_one_worker(args.workers)
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, not {args.timeout:g}")
    folder = course_folder(args.course, assignment)
    submissions_to_grade(folder, assignment, args.student)
    published_solutions(folder)
    if args.scheduler:
        reachable_scheduler(args.scheduler)

    from d2lcourse.autograder.grade import (GradingIncomplete, GradingInterrupted,
                                            RunInProgress, grade)
    from d2lcourse.autograder.sandbox import Limits, SandboxUnavailable
    limits = Limits() if args.timeout is None else replace(Limits(), seconds=args.timeout)
    try:
        grade(assignment, folder, args.student, args.workers,
              args.scheduler, args.force, args.unsafe_no_sandbox, limits)
    except (RunInProgress, SandboxUnavailable) as error:
        raise UsageError(str(error)) from None
    except (GradingIncomplete, InfrastructureFault) as error:
        for cause in getattr(error, "causes", [str(error)]):
            print(f"d2lcourse grade: {cause}", file=sys.stderr)
        return 1
    except GradingInterrupted as error:
        if args.debug:
            raise
        print(f"d2lcourse grade: {error}", file=sys.stderr)
        gc.freeze()  # exit now: not seconds of collecting the grader's objects at exit
        return INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
