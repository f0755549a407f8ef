"""Where submissions are judged: step 3 of `d2lcourse grade` (see grade.py).

A `Job` is plain data; `judge` runs jobs in this process, on a local pool of spawned
workers (--workers) or on a Dask cluster (--scheduler), and yields each verdict as it
comes. A job that the infrastructure failed (a worker killed, the scheduler lost) comes
back UNGRADED with its cause, never as a grade.
"""
import collections
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import wait

from d2lcourse.course import Assignment
from d2lcourse.model import InfrastructureFault, Verdict, ungraded
from d2lcourse.autograder.sandbox import Limits, signal_name, warm_up

PR_SET_PDEATHSIG = 1


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
    spent: float = 0.0   # seconds of its deadline the grader spent reading it


def run_job(job):
    """Judge one submission (runs in a worker); returns (student, verdict as JSON). A
    failure of the grader itself leaves the submission UNGRADED, with its cause."""
    from d2lcourse.autograder.evaluate import evaluate  # noqa: PLC0415 (MXNet: in workers alone)

    try:
        verdict = evaluate(job.assignment, job.setup, job.tests, job.solutions, job.limits,
                           job.sandboxed, job.data_dir, job.spent)
    except Exception as error:  # not anything the submission did: evaluate catches that
        verdict = ungraded(job.assignment, job.tests, f"the grader failed judging it "
                           f"({one_line(error)}): rerun, and report it if it repeats")
    return job.student, verdict.to_json()


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
    from dask.distributed import Client, as_completed  # noqa: PLC0415 (only with --scheduler)
    from distributed.scheduler import KilledWorker  # noqa: PLC0415 (only with --scheduler)
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
    context = multiprocessing.get_context("spawn")
    main = sys.modules["__main__"]
    if not hasattr(main, "__spec__"):  # IPython's __main__: grade() called in a notebook
        main.__spec__ = None  # spawn reads it; None starts the workers without it
    waiting, deaths, pool = collections.deque(jobs), collections.Counter(), []
    try:
        while True:
            for worker in [w for w in pool if w.job is None]:
                if waiting and worker.process.is_alive():
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
    except BaseException:  # Ctrl-C, or the grader stopped listening: end them now
        for worker in pool:
            worker.process.kill()
        raise
    finally:
        for worker in pool:
            worker.stop()


class PoolWorker:
    """A spawned process that judges the jobs it is given, one at a time (`serve_jobs`)."""

    def __init__(self, context, first_job):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=serve_jobs, daemon=True,
                                       args=(theirs, first_job, os.getpid()))
        # Started with SIGINT ignored (Python then keeps it so): Ctrl-C in a terminal
        # signals the whole process group, and only the grader must answer it.
        with sigint_ignored():
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


@contextlib.contextmanager
def sigint_ignored():
    """SIGINT ignored in this block (in the main thread; elsewhere Python delivers none)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
