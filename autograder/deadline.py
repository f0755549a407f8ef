"""One submission's time limit, which everything the grader does for it spends.

A `Deadline` is made once per submission (`evaluate`), with `--timeout` seconds. The
sandbox waits on its runner only until then; a death graded again gets only what is
left; and the grader's own work for the submission (the static analysis, decoding
replies, every check's comparisons and oracles) runs through `Deadline.run`: at the
deadline a watchdog raises `OutOfTime` in the judging thread, wherever its Python
code is.

What a watchdog cannot interrupt is one call into C (NumPy, MXNet, `ast.parse`). Those
the grader makes on a submission's data are linear in the data, which is capped: a
reply's by the wire (wire.py), the solution cells' by evaluate (the size the static
analysis takes), the notebook's by grade.read_submission. So the overrun is bounded by
a constant, which benchmarks/worst_case.py measures.
"""
import ctypes
import sys
import threading
import time

WATCH_INTERVAL = 0.1   # seconds between the watchdog's looks at the clock
REFIRE_INTERVAL = 1.0  # seconds before it raises again, should something swallow it


class OutOfTime(BaseException):
    """Raised in the judging thread at the deadline. A BaseException, so that no
    `except Exception` on the way (a check's, a library's) can swallow it."""


class Deadline:
    """`seconds` from now, on `clock` (monotonic; a test may pass its own)."""

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.ends = clock() + seconds

    def left(self):
        return self.ends - self.clock()

    def expired(self):
        return self.left() <= 0

    def run(self, work, *args):
        """work(*args), under a watchdog that raises OutOfTime in this thread once the
        deadline has passed (again every REFIRE_INTERVAL, should something swallow it),
        and never once `run` has returned."""
        watchdog = Watchdog(self, threading.get_ident(), sys._getframe())
        watchdog.start()
        try:
            return work(*args)
        finally:
            while watchdog.is_alive():
                try:
                    watchdog.stop()
                except OutOfTime:  # raised again on the way here: the first one goes on
                    pass


class Watchdog(threading.Thread):
    """Raises OutOfTime in thread `target` while the deadline is past and `frame` (that
    of Deadline.run) is on the thread's stack, until stopped."""

    def __init__(self, deadline, target, frame):
        super().__init__(daemon=True, name="deadline watchdog")
        self.deadline, self.target, self.frame = deadline, target, frame
        self.stopped, self.lock = threading.Event(), threading.Lock()

    def run(self):
        pause = 0.0  # REFIRE_INTERVAL once it has fired
        while not self.stopped.wait(max(min(self.deadline.left(), WATCH_INTERVAL), pause)):
            with self.lock:
                if self.stopped.is_set() or not self.deadline.expired():
                    continue
                if not self.still_running():
                    return
                raise_in(self.target, OutOfTime)
                pause = REFIRE_INTERVAL

    def still_running(self):
        """Whether the target thread is still inside Deadline.run (even should an
        exception have skipped `stop`)."""
        frame = sys._current_frames().get(self.target)
        while frame is not None and frame is not self.frame:
            frame = frame.f_back
        return frame is not None

    def stop(self):
        with self.lock:
            self.stopped.set()
            raise_in(self.target, None)  # cancel one not yet delivered
        self.join()


def raise_in(thread_id, exception):
    """Raise `exception` (a class; None cancels) in a thread at its next bytecode."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), None if exception is None else ctypes.py_object(exception))
