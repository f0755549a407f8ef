"""One submission's process: started under bubblewrap with limits, spoken to over pipes.

The sandbox sees a read-only system, Python and the course library; its own empty
/tmp and home; the Fashion-MNIST files read-only; and of the reference solutions only
the modules of earlier assignments that the notebook's setup cells import. It has no
network, its own pid namespace, and dies with the grader. Every fault (timeout,
memory, crash, exit) becomes a `SubmissionFault` with a status for grades.csv.
"""
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from d2lcourse.autograder import cgroups, wire
from d2lcourse.grading import SubmissionFault

RUNNER = [sys.executable, "-m", "d2lcourse.autograder.runner"]


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's sandbox."""
    seconds: float = 240.0            # wall clock, whole submission
    cpu_seconds: int = 480            # CPU time (all threads)
    memory_bytes: int = 3 << 30       # resident memory (cgroup); address space: twice that
    processes: int = 256              # simultaneous processes and threads
    file_bytes: int = 64 << 20        # largest file it may write
    output_bytes: int = 1 << 20       # stdout+stderr kept; the rest is discarded


class SandboxUnavailable(Exception):
    """bubblewrap cannot run here; the message says why and what to do."""


def bubblewrap_problem():
    """None if bubblewrap can create a sandbox here, else the reason and the fix."""
    executable = shutil.which("bwrap")
    if executable is None:
        return "bubblewrap is not installed: sudo apt-get install bubblewrap"
    try:
        probe = subprocess.run(
            [executable, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
             "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap failed to start: {error}"
    if probe.returncode != 0:
        return (f"bubblewrap cannot create namespaces here ({probe.stderr.strip()}); "
                "run as root, or enable unprivileged user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1)")
    return None


def module_directory(module_name):
    import importlib
    return Path(importlib.import_module(module_name).__file__).resolve().parent


def bubblewrap_command(argv, allowed_references=(), data_dir=None):
    """`argv` wrapped in bubblewrap: read-only system, private /tmp, no network."""
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--cap-drop", "ALL", "--hostname", "sandbox"]
    for top in ("/usr", "/etc", "/opt"):
        if os.path.isdir(top):
            command += ["--ro-bind", top, top]
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            command += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            command += ["--ro-bind", link, link]
    # Fresh /tmp first: what is bound below may itself live under /tmp.
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"]
    python_homes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    package_dirs = {module_directory("d2lcourse"), module_directory("d2lcourse.autograder")}
    for path in sorted(python_homes | package_dirs):
        command += ["--ro-bind", str(path), str(path)]
    solutions = module_directory("d2lcourse.solutions")
    command += ["--tmpfs", str(solutions),
                "--ro-bind", str(solutions / "__init__.py"), str(solutions / "__init__.py")]
    for module in allowed_references:
        path = solutions / f"{module}.py"
        command += ["--ro-bind", str(path), str(path)]
    if data_dir is not None:
        command += ["--ro-bind", str(data_dir), str(data_dir)]
    command += ["--dir", "/tmp/home", "--chdir", "/tmp/home", "--clearenv",
                "--setenv", "HOME", "/tmp/home", "--setenv", "PATH", "/usr/bin:/bin",
                "--setenv", "MPLBACKEND", "Agg", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MXNET_CPU_WORKER_NTHREADS", "1",
                "--setenv", "OPENBLAS_NUM_THREADS", "1"]
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            command += ["--setenv", name, os.environ[name]]
    if data_dir is not None:
        command += ["--setenv", "D2LCOURSE_DATA", str(data_dir)]
    return command + ["--"] + argv


def unsandboxed_environment(data_dir=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("D2LCOURSE_")}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MXNET_CPU_WORKER_NTHREADS="1")
    if data_dir is not None:
        env["D2LCOURSE_DATA"] = str(data_dir)
    return env


class Sandbox:
    """A running runner process; `request` sends one message and waits for the reply."""

    def __init__(self, limits=Limits(), sandboxed=True, allowed_references=(), data_dir=None):
        self.limits = limits
        argv = (bubblewrap_command(RUNNER, allowed_references, data_dir) if sandboxed
                else RUNNER)
        self.deadline = time.monotonic() + limits.seconds
        self.output = bytearray()
        self.cgroup = cgroups.create(limits.processes, limits.memory_bytes)
        self.student_seconds = 0.0  # as reported by the runner: informative only
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=self._apply_limits,
            env=None if sandboxed else unsandboxed_environment(data_dir))
        self._drainer = threading.Thread(target=self._drain_output, daemon=True)
        self._drainer.start()

    def _apply_limits(self):
        """Runs in the child before exec: join the cgroup, set rlimits."""
        if self.cgroup is not None:
            self.cgroup.join()
        limits = self.limits
        for kind, value in ((resource.RLIMIT_CPU, limits.cpu_seconds),
                            (resource.RLIMIT_AS, 2 * limits.memory_bytes),
                            (resource.RLIMIT_FSIZE, limits.file_bytes),
                            (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(kind, (value, value))
        if os.getuid() != 0:  # root ignores RLIMIT_NPROC: there the cgroup caps processes
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

    def _drain_output(self):
        stream = self.process.stderr
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                return
            room = self.limits.output_bytes - len(self.output)
            if room > 0:
                self.output += chunk[:room]

    def request(self, document, values=None):
        """Send a message and return the reply's (document, values), or raise a fault."""
        try:
            wire.send(self.process.stdin, document, values)
            reply, values = wire.receive(self._read_exactly)
        except (BrokenPipeError, EOFError, ConnectionResetError):
            raise self._fault() from None
        except wire.WireError as error:
            self.kill()
            raise SubmissionFault("invalid_reply", f"the submission's process sent an "
                                                   f"invalid reply ({error})") from None
        seconds = reply.get("seconds")
        if isinstance(seconds, (int, float)) and 0 <= seconds < 1e6:
            self.student_seconds += seconds
        return reply, values

    def _read_exactly(self, size):
        chunks = []
        stdout = self.process.stdout.fileno()
        while size:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
                self.kill()
                raise SubmissionFault("timeout", f"the notebook did not finish within "
                                                 f"{self.limits.seconds:.0f} s: look for "
                                                 "an endless loop or a very slow cell")
            chunk = os.read(stdout, min(size, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _fault(self):
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.wait()
        self._drainer.join(timeout=2)
        text = self.output.decode(errors="replace")
        if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU) or "CPU time limit" in text:
            return SubmissionFault("timeout", "the notebook used more than "
                                              f"{self.limits.cpu_seconds} s of CPU time")
        out_of_memory = self.cgroup is not None and self.cgroup.out_of_memory()
        if out_of_memory or "MemoryError" in text or "std::bad_alloc" in text:
            return SubmissionFault("memory", "the notebook ran out of memory (limit "
                                             f"{self.limits.memory_bytes >> 20} MB)")
        if code in (-signal.SIGSEGV, 128 + signal.SIGSEGV, -signal.SIGABRT,
                    128 + signal.SIGABRT, -signal.SIGBUS):
            return SubmissionFault("crashed", f"the notebook's process crashed "
                                              f"(signal {abs(code) % 128})")
        last = text.strip().splitlines()[-1][-300:] if text.strip() else ""
        return SubmissionFault("crashed", f"the notebook's process exited (status {code}) "
                                          "while it was being graded, e.g. by calling "
                                          "exit(): remove that call"
                               + (f" (its last output: {last})" if last else ""))

    def kill(self):
        """End the sandbox and everything in it (its pid namespace dies with it)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def close(self):
        if self.process.poll() is None:
            try:
                wire.send(self.process.stdin, {"op": "exit"})
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.remove()
