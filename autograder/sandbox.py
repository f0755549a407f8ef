"""One submission's process: forked by a warm bubblewrap sandbox with limits, spoken to
over pipes.

The sandbox sees a read-only system and Python; of the course only what the runner and
`from d2lcourse import ...` import (`course_files`), and of the reference solutions only
the modules of earlier assignments that the notebook's setup cells import; its own empty
/tmp and home; the Fashion-MNIST training files read-only (never the test split, on
which the grader evaluates trained parameters). It has no network, its own user and pid
namespaces, runs as `nobody` when the grader is root, and dies with the grader. Each
submission's process is forked from a zygote (zygote.py) that has already imported MXNet, and
isolates itself from the zygote and from every other submission before it runs any
student code. Every fault (timeout, memory, crash, exit) becomes a `SubmissionFault`
with a status for grades.csv.
"""
import functools
import importlib
import importlib.util
import os
import pwd
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import d2lcourse
from d2lcourse.autograder import cgroups, zygote
from d2lcourse.autograder.deadline import Deadline
from d2lcourse.data import SPLITS_VARIABLE, fashion_mnist_places, split_files
from d2lcourse.model import InfrastructureFault, Status, SubmissionFault
from d2lcourse.autograder.module_view import imported_modules, sandbox_view

RUNNER = [sys.executable, "-m", "d2lcourse.autograder.runner"]
NOBODY = 65534  # the host uid and gid of the sandbox under root, where there is no `nobody`


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's sandbox."""
    seconds: float = 240.0            # wall clock, whole submission
    cpu_seconds: int = 480            # CPU time (all threads)
    memory_bytes: int = 3 << 30       # resident memory (cgroup); address space: twice that
    processes: int = 256              # simultaneous processes and threads
    file_bytes: int = 64 << 20        # largest file it may write
    output_bytes: int = 1 << 20       # stdout+stderr kept; the rest is discarded


def timed_out(limits):
    """The fault of a submission whose deadline passed."""
    return SubmissionFault(Status.TIMEOUT, "the notebook did not finish within "
                                           f"{limits.seconds:.0f} s: look for an endless "
                                           "loop or a very slow cell")


class SandboxDied(SubmissionFault):
    """The submission's process died while it was being graded, and the cause may not be
    its own code: a kill from outside (the host's OOM killer sends SIGKILL) or the death
    of its warm sandbox look the same from here. `evaluate` grades it again from the start
    on a fresh sandbox; a second death of the same kind decides.

    `how` completes "the notebook's process ..."; `outside` is set when the evidence says
    the cause was not the submission, `fix` then says what the instructor does.
    """

    def __init__(self, how, hint="", outside=False, fix=""):
        super().__init__(Status.CRASHED, f"the notebook's process {how} while it was "
                                         f"being graded{hint}")
        self.how, self.hint, self.outside, self.fix = how, hint, outside, fix


class SandboxUnavailable(Exception):
    """bubblewrap cannot run here; the message says why and what to do."""


def bubblewrap_problem():
    """None if bubblewrap can create a sandbox here, as the sandbox's user, else the reason
    and the fix (one line)."""
    executable = shutil.which("bwrap")
    if executable is None:
        return "bubblewrap is not installed: sudo apt-get install bubblewrap"
    problem = sandbox_user_problem()
    if problem:
        return problem
    try:
        probe = subprocess.run(
            [executable, "--unshare-all", "--unshare-user", "--die-with-parent",
             "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True, text=True, timeout=20, preexec_fn=become_sandbox_user(()))
    except (OSError, subprocess.SubprocessError) as error:
        return f"bubblewrap failed to start as uid {sandbox_host_user()[0]}: {error}"
    if probe.returncode != 0:
        uid, _ = sandbox_host_user()
        return (f"bubblewrap cannot create namespaces as uid {uid} here "
                f"({probe.stderr.strip()}): enable unprivileged user namespaces "
                "(sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu "
                "kernel.apparmor_restrict_unprivileged_userns=0)")
    return None


def module_directory(module_name):
    return Path(importlib.import_module(module_name).__file__).resolve().parent


def python_homes():
    return sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()})


def inside(path, folders):
    return any(path == folder or folder in path.parents for folder in folders)


@functools.lru_cache(maxsize=None)
def course_files(allowed_references=()):
    """The course's files that the sandbox sees: the modules that the runner, the zygote
    and `from d2lcourse import ...` import, found by following their imports, the
    functions that checks hand to student code (`checks.problems`), and the reference
    modules in `allowed_references`. Nothing else: not the checks of the assignments
    (their oracles compute the expected values), not d2lcourse.mistakes (whole correct
    cells for every graded function), no other reference solution."""
    allowed = {f"d2lcourse.solutions.{module}" for module in allowed_references}
    pending = ["d2lcourse.autograder.runner", "d2lcourse.checks.problems",
               "d2lcourse.solutions", *sorted(set(d2lcourse._EXPORTS.values())),
               *sorted(allowed)]
    files = {}
    while pending:
        name = pending.pop()
        if name in files or not (name == "d2lcourse" or name.startswith("d2lcourse.")):
            continue
        if name.startswith("d2lcourse.solutions.") and name not in allowed:
            continue
        spec = module_spec(name)
        if spec is None or not spec.has_location:
            continue
        files[name] = Path(spec.origin).resolve()
        pending.append(name.rpartition(".")[0])
        pending += imported_modules([files[name].read_text()])
    return tuple(sorted(files.values()))


def module_spec(name):
    """The spec of module `name`, or None if it names no module (`from module import
    function` names a function too). Of the modules, it runs only the packages above it:
    looking inside a module to see if it is a package would run it (d2lcourse._mxnet
    imports MXNet)."""
    parent = name.rpartition(".")[0]
    if parent and getattr(module_spec(parent), "submodule_search_locations", None) is None:
        return None
    try:
        return importlib.util.find_spec(name)
    except (ImportError, AttributeError, ValueError):
        return None


def course_directories():
    """([the repository], the packages): where the course's own files live, hidden under
    an empty tmpfs before its visible files are bound back, wherever they are (inside
    Python or /usr too). The repository, of an editable install, holds the reference
    solutions, the source assignments, .git and often the gradebook."""
    packages = [module_directory(name) for name in
                ("d2lcourse", "d2lcourse.autograder", "d2lcourse.solutions")]
    repository = packages[0].parent
    return ([] if inside(repository, python_homes()) else [repository]), packages


def visible_files(allowed_references=(), data_dir=None):
    """The course files and the data, which the sandbox sees besides Python and the system."""
    data = [Path(data_dir).absolute()] if data_dir is not None else []
    return [*course_files(tuple(allowed_references)), *data]


def bound_paths(allowed_references=(), data_dir=None):
    """Everything that bubblewrap binds besides the system."""
    return python_homes() + visible_files(allowed_references, data_dir)


def bubblewrap_command(argv, allowed_references=(), data_dir=None):
    """`argv` wrapped in bubblewrap: read-only system, private /tmp, no network; of the
    course only `course_files`; nothing writable but /tmp, /var/tmp and /dev/shm."""
    command = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(zygote.SANDBOX_ID),
               "--gid", str(zygote.SANDBOX_ID), "--die-with-parent", "--new-session",
               "--cap-drop", "ALL", "--hostname", "sandbox"]
    for top in ("/usr", "/etc"):
        command += ["--ro-bind", top, top]
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(link):
            command += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            command += ["--ro-bind", link, link]
    # Fresh /tmp first: what is bound below may itself live under /tmp.
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp",
                "--tmpfs", "/var/tmp"]
    repository, packages = course_directories()
    for folder in repository:  # before Python: a .venv may live in it
        command += ["--tmpfs", str(folder)]
    for path in python_homes():
        command += ["--ro-bind", str(path), str(path)]
    for folder in packages:
        command += ["--tmpfs", str(folder)]
    for path in course_files(tuple(allowed_references)):
        command += ["--ro-bind", str(path), str(path)]
    places = data_places(data_dir)
    for place in places:
        command += ["--tmpfs", str(place)]
        for entry in training_entries(place):
            command += ["--ro-bind", str(entry), str(entry)]
    command += ["--dir", zygote.HOME]
    # bubblewrap's own root, its /dev and the tmpfs above are the sandbox user's: a
    # submission could leave modules there for the next one forked from the same zygote.
    for folder in [*repository, *packages, *places, "/dev", "/"]:
        command += ["--remount-ro", str(folder)]
    command += ["--chdir", zygote.HOME, "--clearenv",
                "--setenv", "HOME", zygote.HOME, "--setenv", "PATH", "/usr/bin:/bin",
                "--setenv", "MPLBACKEND", "Agg", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
                "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MXNET_CPU_WORKER_NTHREADS", "1",
                "--setenv", "OPENBLAS_NUM_THREADS", "1",
                "--setenv", "MXNET_ENGINE_TYPE", "NaiveEngine"]
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            command += ["--setenv", name, os.environ[name]]
    if data_dir is not None:
        command += ["--setenv", "D2LCOURSE_DATA", str(data_dir)]
    command += ["--setenv", SPLITS_VARIABLE, "train"]
    return command + ["--"] + argv


def data_places(data_dir):
    """The folders where the sandbox could find Fashion-MNIST: the data folder, and every
    other place that d2lcourse.data searches and the sandbox binds (the Debian package's,
    under /usr). `bubblewrap_command` shows each without the test split."""
    seen = [Path("/usr"), Path("/etc"), *python_homes()]
    places = [Path(data_dir).absolute()] if data_dir is not None else []
    for _, folder in fashion_mnist_places():
        if folder and os.path.isdir(folder) and inside(Path(folder).absolute(), seen):
            places.append(Path(folder).absolute())
    return list(dict.fromkeys(places))


def training_entries(place):
    """What the sandbox sees of a data folder: all of it but the Fashion-MNIST test split,
    on which the grader evaluates what the trainers return."""
    hidden = set(split_files(("test",)))
    return [place / name for name in sorted(os.listdir(place)) if name not in hidden]


def sandbox_host_user():
    """(uid, gid) that everything in the sandbox runs as on the host: `nobody` when the
    grader is root (so a file of root's with mode 600 stays unreadable), else the
    grader's own, which is then all bubblewrap can map."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return NOBODY, NOBODY
    return nobody.pw_uid, nobody.pw_gid


def sandbox_user_problem():
    """Why the grader cannot become the sandbox's host user (`sandbox_host_user`), or None.

    Root in a user namespace that maps no other id (a rootless container, `unshare
    --map-root-user`) cannot: and the sandbox must not run as the grader's root, whose
    files (mode 600 under /etc, say) it would read."""
    uid, gid = sandbox_host_user()
    if uid == os.geteuid():
        return None
    unmapped = [f"{kind} {number}" for kind, number in (("uid", uid), ("gid", gid))
                if not id_mapped(number, f"/proc/self/{kind}_map")]
    if not unmapped and can_set_groups():
        return None
    return (f"the grader is root in a user namespace (a rootless container) that "
            f"{'maps no ' + ' and no '.join(unmapped) if unmapped else 'denies setgroups'}, "
            "so the sandbox cannot run as an unprivileged user: run `d2lcourse grade` as an "
            "ordinary user, or map a range of subordinate uids and gids into the container "
            "(podman's default; newuidmap/newgidmap)")


def id_mapped(number, map_path):
    """Whether this user namespace maps `number` (a uid or gid) to the outside."""
    try:
        with open(map_path) as stream:
            ranges = [tuple(map(int, line.split())) for line in stream if line.strip()]
    except OSError:
        return True  # no user namespaces here: every id is the host's
    return any(inside <= number < inside + count for inside, _, count in ranges)


def can_set_groups():
    try:
        with open("/proc/self/setgroups") as stream:
            return stream.read().strip() != "deny"
    except OSError:
        return True


def refuse_unreadable(paths):
    """InfrastructureFault unless the sandbox's host user, if not us, can read `paths`
    (a data folder of mode 700 would fail every student's data test)."""
    uid, _ = sandbox_host_user()
    if uid == os.geteuid():
        return
    for path in paths:
        mode = os.stat(path).st_mode
        needed = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
        if mode & needed != needed:
            raise InfrastructureFault(f"the sandbox runs as uid {uid}, which cannot read "
                                      f"{path} ({stat.filemode(mode)}): chmod o+rX it")


def become_sandbox_user(paths):
    """A preexec_fn that starts bubblewrap as `sandbox_host_user`, or None if that is us.

    That user cannot pass a directory such as /root (mode 700), under which Python may be
    installed: each such directory on the way to `paths` is first covered, in a mount
    namespace of bubblewrap's own, by a tmpfs that holds only those paths.
    """
    uid, gid = sandbox_host_user()
    if uid == os.geteuid():
        return None
    covers = {}
    for path in map(Path, paths):
        closed = [folder for folder in reversed(path.parents)
                  if not os.stat(folder).st_mode & stat.S_IXOTH]
        if closed:
            covers.setdefault(str(closed[0]), []).append(str(path))

    def preexec():
        if covers:
            zygote.check(zygote.libc.unshare(zygote.CLONE_NEWNS), "unshare")
            zygote.mount("none", "/", "", zygote.MS_REC | zygote.MS_PRIVATE)
            for folder, kept in covers.items():
                zygote.cover_with_tmpfs(folder, kept, "mode=0755")
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    return preexec


def unsandboxed_environment(data_dir=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("D2LCOURSE_")}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", MXNET_CPU_WORKER_NTHREADS="1",
               MXNET_ENGINE_TYPE="NaiveEngine")
    if data_dir is not None:
        env["D2LCOURSE_DATA"] = str(data_dir)
    env[SPLITS_VARIABLE] = "train"
    return env


class Zygote:
    """A warm bubblewrap sandbox that forks one isolated runner per `spawn` (zygote.py)."""

    def __init__(self, allowed_references=(), data_dir=None, preload=()):
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = RUNNER + ["--zygote", str(theirs.fileno()), *preload]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            bubblewrap_command(argv, allowed_references, data_dir),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            pass_fds=[theirs.fileno()], start_new_session=True,
            preexec_fn=become_sandbox_user(bound_paths(allowed_references, data_dir)))
        theirs.close()

    def spawn(self, limits, deadline):
        """A ForkedRunner, ready and with its pid, for a new submission; or ZygoteError,
        or the submission's timeout once its `deadline` (a Deadline) has passed."""
        stdin, stdout, stderr = os.pipe(), os.pipe(), os.pipe()
        host_end, child_end = zygote.status_socket_pair()
        try:
            zygote.send_spawn(self.control, asdict(limits),
                              [stdin[0], stdout[1], stderr[1]], child_end.fileno())
        finally:
            for fd in (stdin[0], stdout[1], stderr[1]):
                os.close(fd)
            child_end.close()
        process = ForkedRunner(host_end, stdin[1], stdout[0], stderr[0])
        try:
            while process.pid is None:
                if self.process.poll() is not None:
                    raise zygote.ZygoteError(f"the zygote exited: {self.last_words()}")
                if deadline.expired():
                    raise timed_out(limits)
                process.wait_until_ready(timeout=min(1.0, max(deadline.left(), 0.01)))
        except BaseException:
            process.close()
            raise
        return process

    def last_words(self):
        self.log.seek(0)
        text = self.log.read().decode(errors="replace").strip()
        return text.splitlines()[-1][-500:] if text else "no output"

    def close(self):
        self.control.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.log.close()


class WarmSandboxes:
    """A process's zygotes, one per set of mounts and modules, and once they cannot isolate
    submissions here, why (`cold_reason`): then each submission gets a new sandbox."""

    def __init__(self):
        self.zygotes = {}
        self.lock = threading.Lock()
        self.cold_reason = ""

    def get(self, allowed_references, data_dir, preload):
        """The zygote for these mounts and modules, started on first use."""
        key = (tuple(allowed_references), data_dir, tuple(preload))
        with self.lock:
            found = self.zygotes.get(key)
            if found is None or found.process.poll() is not None:
                if found is not None:
                    found.close()  # it died: killed from outside
                found = self.zygotes[key] = Zygote(allowed_references, data_dir, preload)
            return found

    def forget(self, instance):
        with self.lock:
            for key, value in list(self.zygotes.items()):
                if value is instance:
                    del self.zygotes[key]
        instance.close()

    def go_cold(self, reason):
        """From now on start one bubblewrap sandbox per submission: safe, 2 s slower each."""
        if not self.cold_reason:
            self.cold_reason = reason
            print(f"d2lcourse: warm sandboxes cannot isolate submissions here ({reason}); "
                  "starting a new sandbox for each submission instead (about 2 s slower each)",
                  file=sys.stderr)


warm_sandboxes = WarmSandboxes()  # this process's


class ForkedRunner:
    """The handle of a runner forked by a zygote: what the Sandbox uses of a Popen."""

    def __init__(self, status, stdin, stdout, stderr):
        self.status = status
        self.stdin = os.fdopen(stdin, "wb")
        self.stdout = os.fdopen(stdout, "rb")
        self.stderr = os.fdopen(stderr, "rb")
        self.pid = None             # as this process sees it: known once the runner is ready
        self.returncode = None

    def wait_until_ready(self, timeout):
        try:
            message, pid = zygote.receive_status(self.status, timeout)
        except socket.timeout:
            return
        if message == "ready" and pid:
            self.pid = pid
        elif message.startswith("unisolated "):
            raise zygote.IsolationUnavailable(message.split(" ", 1)[1])
        else:
            self._finished(message)
            raise zygote.ZygoteError(f"the submission's process did not start "
                                     f"(status {self.returncode})")

    def _finished(self, message):
        """Record the exit status of "exit <wait status>", or of a lost init as killed."""
        try:
            self.returncode = wait_status_code(int(message.split()[1]))
        except (IndexError, ValueError):
            self.returncode = -signal.SIGKILL
        self.status.close()

    def poll(self):
        if self.returncode is None:
            self.wait(timeout=0)
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is not None:
            return self.returncode
        try:
            message, _ = zygote.receive_status(self.status, timeout)
        except (socket.timeout, BlockingIOError):
            if timeout == 0:
                return None
            raise subprocess.TimeoutExpired("runner", timeout) from None
        self._finished(message)
        return self.returncode

    def close(self):
        for stream in (self.stdin, self.stdout, self.stderr, self.status):
            try:
                stream.close()
            except OSError:
                pass


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def wait_status_code(status):
    """A Popen-style return code (negative for a signal) from a raw wait status."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


class Sandbox:
    """A running runner process; `request` sends one message and waits for the reply.

    Sandboxed processes are forked by this process's zygote (`warm`), or where that
    cannot isolate them, or with `warm=False`, started as a new bubblewrap sandbox. It
    waits on its process only until `deadline` (the submission's, shared by every
    sandbox that grades it; by default `limits.seconds` from now).
    """

    def __init__(self, limits=Limits(), sandboxed=True, allowed_references=(), data_dir=None,
                 preload=(), warm=True, deadline=None):
        self.limits = limits
        self.deadline = deadline or Deadline(limits.seconds)
        self.output = bytearray()
        self.cgroup = cgroups.create(limits.processes, limits.memory_bytes)
        self.student_seconds = 0.0  # as reported by the runner: informative only
        self.process = None
        self.zygote = None          # the warm sandbox that forked it, if one did
        self.fault = None           # why the process died, once it has
        if sandboxed:
            refuse_unreadable(bound_paths(allowed_references, data_dir))
        if sandboxed and warm and not warm_sandboxes.cold_reason:
            try:
                self.process = self._fork(allowed_references, data_dir, preload)
            except zygote.IsolationUnavailable as error:
                warm_sandboxes.go_cold(str(error))
            except BaseException:  # no process to grade: none of its resources stay
                if self.cgroup is not None:
                    self.cgroup.remove()
                raise
        if self.process is None:
            argv = (bubblewrap_command(RUNNER, allowed_references, data_dir) if sandboxed
                    else RUNNER)
            self._become_user = (become_sandbox_user(bound_paths(allowed_references, data_dir))
                                 if sandboxed else None)
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, preexec_fn=self._apply_limits,
                env=None if sandboxed else unsandboxed_environment(data_dir))
        self._drainer = threading.Thread(target=self._drain_output, daemon=True)
        self._drainer.start()

    def _fork(self, allowed_references, data_dir, preload):
        """A runner from this process's zygote, in the cgroup before it sees any code."""
        for attempt in (1, 2):
            forker = warm_sandboxes.get(allowed_references, data_dir, preload)
            try:
                process = forker.spawn(self.limits, self.deadline)
                break
            except zygote.ZygoteError as error:
                warm_sandboxes.forget(forker)
                if isinstance(error, zygote.IsolationUnavailable):
                    raise
                if attempt == 2:  # no student code ran yet: never the student's fault
                    raise InfrastructureFault(
                        f"the warm sandbox could not start a process twice ({error}): "
                        "check the host's memory and processes (dmesg) and rerun") from None
        self.zygote = forker
        if self.cgroup is not None:
            self.cgroup.add(process.pid)
        return process

    def _apply_limits(self):
        """Runs in a Popen child (cold or unsandboxed) before exec: join the cgroup, set
        the same rlimits as a forked runner sets itself, become the sandbox's user."""
        if self.cgroup is not None:
            self.cgroup.join()
        zygote.set_limits(asdict(self.limits))
        if self._become_user is not None:  # last: it gives up root
            self._become_user()

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
        """Send a message and return the reply's (document, values), or raise a fault.

        The reply is checked field by field (wire.check_reply); a reply that breaks the
        format, or a runner that stops reading or answering, is the submission's fault.
        """
        from d2lcourse.autograder import wire  # noqa: PLC0415 (MXNet: not in the coordinator)

        message = wire.pack(document, values)
        started = time.monotonic()
        try:
            self._write_all(message)
            reply, values = wire.check_reply(document["op"], *wire.receive(self._read_exactly))
        except (BrokenPipeError, EOFError, ConnectionResetError):
            raise self._fault() from None
        except wire.WireError as error:
            self.kill()
            raise SubmissionFault(Status.INVALID_REPLY, f"the submission's process sent "
                                                        f"an invalid reply ({error})") from None
        # Informative only: never more than the time this process waited for the reply.
        self.student_seconds += min(reply["seconds"], time.monotonic() - started)
        return reply, values

    def _wait_for(self, fd, event):
        """Wait until `fd` is ready for `event` (select.POLLIN or POLLOUT), within the
        submission's deadline (looked at every second, as its clock may be a test's);
        past it, the submission has timed out."""
        poller = select.poll()
        poller.register(fd, event)
        while True:
            left = self.deadline.left()
            if left <= 0:
                self.kill()
                raise timed_out(self.limits)
            if poller.poll(min(left, 1.0) * 1000):
                return

    def _write_all(self, data):
        """Write to the runner without blocking: a runner that stops reading times out."""
        stdin = self.process.stdin.fileno()
        os.set_blocking(stdin, False)
        view = memoryview(data)
        while view:
            self._wait_for(stdin, select.POLLOUT)
            try:
                view = view[os.write(stdin, view[:1 << 20]):]
            except BlockingIOError:
                pass

    def _read_exactly(self, size):
        data = bytearray(size)
        view, stdout, done = memoryview(data), self.process.stdout.fileno(), 0
        while done < size:
            self._wait_for(stdout, select.POLLIN)
            count = os.readv(stdout, [view[done:done + (1 << 20)]])
            if not count:
                raise EOFError
            done += count
        return data

    def _fault(self):
        """Why the process ended while it was being graded (kept in `self.fault`)."""
        try:  # it ends at once, unless it closed its pipes to linger: not past the deadline
            code = self.process.wait(timeout=min(5.0, max(self.deadline.left(), 0.5)))
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.wait()
        self._drainer.join(timeout=2)
        self.fault = self._diagnose(code, self.output.decode(errors="replace"))
        return self.fault

    def _diagnose(self, code, text):
        # A cold sandbox's bubblewrap exits 128 + N when its runner dies of signal N.
        killed_by = -code if code < 0 else code - 128 if code > 128 and not self.zygote else 0
        if killed_by == signal.SIGKILL and self._zygote_died():
            return SandboxDied("was killed with its warm sandbox", outside=True,
                               fix="the warm sandbox was killed from outside (SIGKILL) "
                                   "twice: check the host's OOM killer (dmesg) and rerun")
        if killed_by == signal.SIGXCPU or "CPU time limit" in text:
            return SubmissionFault(Status.TIMEOUT, "the notebook used more than "
                                                   f"{self.limits.cpu_seconds} s of CPU time")
        out_of_memory = self.cgroup is not None and self.cgroup.out_of_memory()
        if out_of_memory or "MemoryError" in text or "std::bad_alloc" in text:
            return SubmissionFault(Status.MEMORY, "the notebook ran out of memory (limit "
                                                  f"{self.limits.memory_bytes >> 20} MB)")
        if self.cgroup is not None and self.cgroup.killed_by_host_oom():
            return SandboxDied("was killed by the host's OOM killer below its own memory "
                               "limit", outside=True,
                               fix="the host's OOM killer killed the sandbox twice (the "
                                   "host ran out of memory): grade with fewer --workers "
                                   "or free memory, and rerun")
        if killed_by in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
            return SandboxDied(f"crashed (signal {killed_by})")
        if killed_by:
            return SandboxDied(f"was killed by {signal_name(killed_by)}",
                               ", e.g. by os.kill of its own process: remove that call")
        last = text.strip().splitlines()[-1][-300:] if text.strip() else ""
        return SandboxDied(f"exited (status {code})",
                           ", e.g. by calling exit(): remove that call"
                           + (f" (its last output: {last})" if last else ""))

    def _zygote_died(self, seconds=1.0):
        """Whether the warm sandbox that forked the process is gone: its end kills every
        runner it forked, a moment before it is seen to exit itself."""
        if self.zygote is None:
            return False
        try:
            self.zygote.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

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
        from d2lcourse.autograder import wire  # noqa: PLC0415 (MXNet: not in the coordinator)

        if self.process.poll() is None:
            try:
                os.set_blocking(self.process.stdin.fileno(), False)  # never wait on it
                os.write(self.process.stdin.fileno(), wire.pack({"op": "exit"}))
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


def warm_up(assignment, setup, data_dir=None):
    """Start this process's zygote for `assignment` now, so that it is ready sooner."""
    allowed, preload = sandbox_view(assignment, setup)
    warm_sandboxes.get(allowed, data_dir, preload)
