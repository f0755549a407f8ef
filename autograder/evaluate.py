"""Judge one submission: student code in the sandbox, tests and verdict here.

`evaluate` takes only data (the trusted setup and test code from the source notebook,
and the student's solution-cell sources), so it runs the same in this process, in a
worker process, or on a Dask worker. It returns a `Verdict`, also plain data.
"""
import functools
import time
from typing import Sequence

import numpy as onp

from d2lcourse._mxnet import np, npx
from d2lcourse.checks import hand_derived, properties
from d2lcourse.checks.core import Outcome, call
from d2lcourse.course import Assignment
from d2lcourse.grading import Missing, run_tests
from d2lcourse.autograder import wire
from d2lcourse.autograder.deadline import Deadline, OutOfTime
from d2lcourse.model import (
    InfrastructureFault, Status, SubmissionFault, TestCell, Verdict, graded_by,
    ungraded, unrun)
from d2lcourse.autograder.module_view import sandbox_view
from d2lcourse.autograder.sandbox import Limits, Sandbox, SandboxDied, timed_out


class RemoteFunction:
    """Stands for a student's function in the grader: calls go to the sandbox.

    `source` is its whole solution cell; `analysis` (hand_derived.analyse_submission, one
    per submission) is what the static checks judge it from, once per set of forbidden
    APIs (`source_problems`, kept by core.check_source). Replies arrive checked by
    wire.check_reply; what they report is data, never evidence.
    """

    def __init__(self, sandbox, name, source, analysis=None):
        self.__name__ = name
        self.source = source
        self.source_problems = {}
        self.analysis = analysis
        self._sandbox = sandbox

    def invoke(self, args, kwargs, seed=None, watch=()):
        reply, values = self._sandbox.request(
            {"op": "call", "function": self.__name__, "seed": seed, "watch": list(watch)},
            {"args": list(args), "kwargs": dict(kwargs)})
        violation = self.changed_input(args, kwargs, values)
        copy_back(args, values["args"])
        error = reply["error"] or violation
        if error and error[0] == "MemoryError":
            raise SubmissionFault(Status.MEMORY, f"{self.__name__} ran out of memory")
        return Outcome(values["value"], tuple(error) if error else None, reply["apis_used"])

    @functools.cached_property
    def parameter_names(self):
        return properties.source_parameters(self.source, self.__name__)

    def changed_input(self, args, kwargs, values):
        """The error for an argument the sandbox sent back changed against the contract
        (checks.properties: the runner reports it too, unless a submission broke it)."""
        returned = values["args"] if isinstance(values["args"], (list, tuple)) else []
        violation = properties.changed_input(
            self.__name__, properties.snapshot(args, kwargs, self.parameter_names),
            properties.snapshot(returned, kwargs, self.parameter_names))
        return [properties.VIOLATION, violation, ""] if violation else None

    def __call__(self, *args, **kwargs):
        return call(self, *args, **kwargs)


def copy_back(sent, returned):
    """Mirror in-place updates the sandbox made to the arguments (e.g. `param[:] = ...`):
    only into an array of the same shape and dtype."""
    if isinstance(sent, (np.ndarray, onp.ndarray)) and type(returned) is type(sent):
        if sent.shape != returned.shape or sent.dtype != returned.dtype:
            return
        if isinstance(sent, np.ndarray):
            sent[() if sent.ndim == 0 else slice(None)] = returned
        elif sent.flags.writeable:
            sent[...] = returned
    elif isinstance(sent, (list, tuple)) and isinstance(returned, (list, tuple)):
        for a, b in zip(sent, returned):
            copy_back(a, b)
    elif isinstance(sent, dict) and isinstance(returned, dict):
        for key in sent.keys() & returned.keys():
            copy_back(sent[key], returned[key])


def evaluate(assignment: Assignment, setup, tests: Sequence[TestCell], solution_sources,
             limits=Limits(), sandboxed=True, data_dir=None, spent=0.0, deadline=None):
    """Grade one submission; never raises for anything the submission does.

    Everything it does for the submission spends one `deadline` (`Deadline`; by default
    `limits.seconds` less the `spent` seconds the grader already took to read it), past
    which it is `timeout`. A process that dies is graded again from the start on a fresh
    sandbox, with what is left of that deadline: a death of the same kind twice decides.
    Twice killed from outside (its warm sandbox, the host's OOM killer) leaves it
    UNGRADED; twice dying of itself is the student's (`crashed`).
    """
    npx.set_np()  # MXNet's NumPy mode is per thread, and Dask runs tasks in its own threads
    started = time.monotonic()
    deadline = deadline or Deadline(limits.seconds - spent)
    fault, results, student_seconds, deaths = None, None, 0.0, []
    while results is None:
        try:
            fault, results, student_seconds = judge_once(
                assignment, setup, tests, solution_sources, limits, sandboxed, data_dir,
                deadline)
        except SandboxDied as death:
            deaths.append(death)
            alike = [d for d in deaths if d.outside == death.outside]
            if len(alike) == 2 and death.outside:
                return ungraded(assignment, tests, death.fix, time.monotonic() - started)
            if len(alike) == 2:
                fault = SubmissionFault(Status.CRASHED, f"the notebook's process {twice(alike)} "
                                                         f"while it was being graded{death.hint}")
                results = [unrun(t, assignment, f"not run: {fault}") for t in tests]
        except InfrastructureFault as error:
            return ungraded(assignment, tests, str(error), time.monotonic() - started)
        except OutOfTime:  # delivered as its sandbox closed: the deadline had passed
            fault = timed_out(limits)
            results = [unrun(t, assignment, f"not run: {fault}") for t in tests]
    if deaths and fault is not None and fault.status == Status.TIMEOUT:
        if deaths[-1].outside:  # the time went to a death that was not the student's
            return ungraded(assignment, tests, f"the notebook's process {deaths[-1].how}, "
                            "with too little of its time left to grade it again: check the "
                            "host's OOM killer (dmesg) and rerun", time.monotonic() - started)
        fault = SubmissionFault(Status.TIMEOUT, f"{fault} (its process {deaths[-1].how} "
                                                 "first, and was graded again in the time left)")
        results = [unrun(t, assignment, f"not run: {fault}") for t in tests]
    status, message = (Status.OK, "") if fault is None else (fault.status, str(fault))
    return Verdict(status, message, results, time.monotonic() - started, graded_by(),
                   student_seconds)


def twice(deaths):
    """"was killed by SIGKILL twice", or both ways when the two deaths differ."""
    first, second = deaths
    if first.how == second.how:
        return f"{first.how} twice, the second time in a fresh sandbox"
    return f"{first.how}, then in a fresh sandbox {second.how}"


def judge_once(assignment, setup, tests, solution_sources, limits, sandboxed, data_dir,
               deadline):
    """(fault or None, results, student seconds) of one sandbox's run of the submission
    within `deadline`; raises SandboxDied (try again) or InfrastructureFault."""
    allowed, preload = sandbox_view(assignment, setup)
    results, fault, sandbox = [], None, None
    try:
        sandbox = Sandbox(limits, sandboxed, allowed, data_dir, preload, deadline=deadline)
        fault = deadline.run(judge_in, sandbox, assignment, setup, tests, solution_sources,
                             results)
    except SandboxDied:
        raise
    except OutOfTime:  # the grader's own work for it reached the deadline
        sandbox.kill()  # not a polite exit, which could take seconds more
        fault = timed_out(limits)
    except SubmissionFault as error:
        fault = error
    finally:
        if sandbox is not None:
            sandbox.close()
    results += [unrun(t, assignment, f"not run: {fault}") for t in tests[len(results):]]
    return fault, results, sandbox.student_seconds if sandbox else 0.0


def judge_in(sandbox, assignment, setup, tests, solution_sources, results):
    """Load the submission into `sandbox` and run the tests, appending to `results`, until
    one meets a fault of the submission's own (returned; None if none did)."""
    code = sum(len(source) for source in solution_sources.values())
    if code > hand_derived.MAX_ANALYSED_CHARS:  # each parse of it is one long call into C
        raise too_large(f"{code >> 10} KB of code; the limit is "
                        f"{hand_derived.MAX_ANALYSED_CHARS >> 10} KB")
    try:
        reply, _ = sandbox.request({"op": "load", "functions": list(assignment.functions),
                                    "setup": list(setup), "solutions": solution_sources})
    except wire.WireError as error:  # our own request: the cells are larger than a message
        raise too_large(str(error)) from None
    missing = reply["missing"]  # checked by wire.check_reply: texts, cut to size
    if any("MemoryError" in reason for reason in missing.values()):
        raise SubmissionFault(Status.MEMORY, "a solution cell ran out of memory")
    analysis = hand_derived.analyse_submission(setup, solution_sources)
    functions = {
        name: Missing(name, missing[name], solution_sources.get(name, ""))
        if name in missing else RemoteFunction(sandbox, name, solution_sources.get(name, ""),
                                               analysis)
        for name in assignment.functions}
    try:
        run_tests(assignment, tests, functions, results=results)
    except SandboxDied:
        raise
    except SubmissionFault as error:
        return error
    if sandbox.fault is not None:  # a check caught it, as it catches a student's error
        results.clear()
        raise sandbox.fault
    return None


def too_large(detail):
    return SubmissionFault(Status.INVALID_NOTEBOOK, f"its solution cells are too large to "
                                                     f"grade ({detail}): keep data out of them")
