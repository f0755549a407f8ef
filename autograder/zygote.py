"""A warm sandbox that forks one fresh, isolated process per submission.

Starting Python and importing MXNet costs about two seconds. The zygote pays it once per
grading process instead of once per notebook: it is an ordinary bubblewrap sandbox
(see `sandbox.bubblewrap_command`) that runs only trusted code. It imports what the
runner needs, reads Fashion-MNIST, and waits. For each submission it forks, and the copy
isolates itself before any student code exists:

    zygote        bubblewrap; imports and data; forks on request; never runs student code
     └ setup      new user, mount, pid, network, IPC and UTS namespaces; a fresh /tmp,
        │         /var/tmp and /dev/shm; then it forks and exits
        └ init    pid 1 of the new pid namespace; waits for the runner and reports its
           │      exit status; when it ends, the kernel kills every process left in the
           │      namespace
           └ runner   rlimits, no capabilities, no new privileges; then `runner.answer`,
                      which first denies it any namespace of its own (seccomp)

The kernel refuses a new /proc inside bubblewrap's, so /proc still lists the zygote and
the setup process. They are out of reach all the same: in another pid namespace (no
signals) and not dumpable (no memory, environment or file descriptors to read).

MXNet runs its NaiveEngine here: with no engine threads the forked copy is
single-threaded, which a new user namespace requires.

The host talks to the zygote over a socket pair (`spawn` sends the new process's pipes
with SCM_RIGHTS) and to each submission's init over a status socket. The runner's first
message on that socket is "ready": with SO_PASSCRED the kernel attaches the runner's pid
*as the host sees it*, which the host puts in the submission's cgroup before it sends any
student code. The init's last message is the runner's wait status.
"""
import array
import ctypes
import errno
import json
import os
import re
import resource
import signal
import socket
import struct
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
CLONE_NEWCGROUP, CLONE_NEWTIME = 0x02000000, 0x00000080
CLONE_NEW_ANY = (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
                 | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 1 << 14, 1 << 18
PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 4, 22, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
# seccomp: classic BPF over struct seccomp_data (nr, arch, instruction pointer, args)
SECCOMP_MODE_FILTER, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 2, 0x7FFF0000, 0x00050000
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH, SECCOMP_DATA_ARG0 = 0, 4, 16  # ARG0: its low 32 bits
BPF_LD_ABS, BPF_JMP_K, BPF_RET = 0x20, 0x05, 0x06
BPF_JEQ, BPF_JGE, BPF_JSET = 0x10, 0x30, 0x40
X32_SYSCALL_BIT = 0x40000000
SYSCALLS = {  # machine: (audit arch, clone, clone3, unshare)
    "x86_64": (0xC000003E, 56, 435, 272),
    "aarch64": (0xC00000B7, 220, 435, 97),
}

SANDBOX_ID = 1000     # the submission's uid and gid inside its user namespace (not root)
HOME = "/tmp/home"    # the submission's home and working folder, on its own /tmp
MAX_MESSAGE = 4096
PROTOCOL_FDS = 3      # the runner's stdin, stdout and stderr, in that order
STATUS_FD = 3         # where the new process finds its status socket
UCRED_BYTES = 12      # struct ucred: pid, uid, gid as 32-bit ints

# --------------------------------------------------------------------------- host side


class ZygoteError(Exception):
    """The zygote is gone or broke its protocol; the host starts a new one."""


class IsolationUnavailable(ZygoteError):
    """This kernel or bubblewrap will not let a sandboxed process make namespaces."""


def send_spawn(control, limits, pipes, status):
    """Ask the zygote for a new process with these pipes and this status socket."""
    message = json.dumps({"limits": limits}).encode()
    fds = array.array("i", [*pipes, status])
    try:
        control.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    except OSError as error:
        raise ZygoteError(f"the zygote is not answering ({error})") from None


def status_socket_pair():
    """(host end with SO_PASSCRED, end for the new process)."""
    host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    host.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    return host, child


def receive_status(host_end, timeout):
    """(message, sender pid as this process sees it); ("", None) when the socket closed."""
    host_end.settimeout(timeout)
    data, ancillary, _, _ = host_end.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(UCRED_BYTES))
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = array.array("i", payload[:UCRED_BYTES])[0]
    return data.decode(errors="replace"), pid


# --------------------------------------------------------------------------- sandbox side

libc = ctypes.CDLL(None, use_errno=True)


def check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def mount(source, target, kind, flags, options=None):
    check(libc.mount(source.encode(), target.encode(), kind.encode(), flags,
                     None if options is None else options.encode()), f"mount {target}")


def serve(control_fd):
    """The zygote's loop: fork a submission process for every request, until EOF."""
    control = socket.socket(fileno=control_fd)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)    # nothing forked may read our memory
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the setup processes
    while True:
        fds = array.array("i")
        try:
            message, ancillary, _, _ = control.recvmsg(
                MAX_MESSAGE, socket.CMSG_SPACE((PROTOCOL_FDS + 1) * fds.itemsize))
        except ConnectionResetError:
            return
        if not message:
            return
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
        if len(fds) != PROTOCOL_FDS + 1:
            for fd in fds:
                os.close(fd)
            continue
        threads = len(os.listdir("/proc/self/task"))
        if threads != 1:
            raise SystemExit(f"zygote: {threads} threads; a user namespace needs one "
                             "(is MXNET_ENGINE_TYPE=NaiveEngine set?)")
        if os.fork() == 0:
            try:
                control.close()
                setup(list(fds), json.loads(message)["limits"])
            except BaseException as error:  # tell the host, which then grades without us
                try:
                    os.write(STATUS_FD, f"unisolated {error}".encode()[:MAX_MESSAGE])
                except OSError:
                    pass
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)


def setup(fds, limits):
    """The forked copy: isolate, then fork the new namespace's init. Never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(PROTOCOL_FDS + 1, 1 << 16)
    uid, gid = os.getuid(), os.getgid()
    check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
                       | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)    # /proc/self/*_map must be ours to write
    with open("/proc/self/setgroups", "w") as stream:
        stream.write("deny")
    with open("/proc/self/uid_map", "w") as stream:
        stream.write(f"{SANDBOX_ID} {uid} 1")
    with open("/proc/self/gid_map", "w") as stream:
        stream.write(f"{SANDBOX_ID} {gid} 1")
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    mount("none", "/", "", MS_REC | MS_PRIVATE)
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(folder):
            fresh_tmpfs(folder, limits["memory_bytes"])
    os.mkdir(HOME)
    os.chdir(HOME)
    if os.fork() == 0:
        init(limits)
    os._exit(0)


def fresh_tmpfs(folder, size):
    """An empty tmpfs on `folder` that keeps what the sandbox bound below it: Python, the
    course or the data may live under /tmp (a CI clone does)."""
    cover_with_tmpfs(folder, mounts_below(folder), f"mode=1777,size={size}")


def cover_with_tmpfs(folder, kept, options):
    """Mount a tmpfs on `folder`, then bind each path of `kept` (below it) back in place."""
    kept = [(point, os.open(point, os.O_PATH | os.O_CLOEXEC)) for point in kept]
    mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for point, fd in kept:
        original = f"/proc/self/fd/{fd}"
        if os.path.isdir(original):
            os.makedirs(point, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(point), exist_ok=True)
            open(point, "a").close()
        mount(original, point, "", MS_BIND | MS_REC)  # read-only if it was bound so
        os.close(fd)


def mounts_below(folder):
    """The outermost mount points strictly below `folder`, from /proc/self/mountinfo."""
    points = []
    with open("/proc/self/mountinfo") as stream:
        for line in stream:
            point = re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)),
                           line.split()[4])  # mountinfo writes a space as \040
            if point.startswith(folder.rstrip("/") + "/"):
                points.append(point)
    outermost = []
    for point in sorted(set(points), key=len):
        if not any(point.startswith(kept + "/") for kept in outermost):
            outermost.append(point)
    return outermost


def init(limits):
    """pid 1 of the submission's namespace: run the runner, report how it ended."""
    try:
        runner = os.fork()
        if runner == 0:
            become_runner(limits)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in range(PROTOCOL_FDS):  # the host sees EOF as soon as the runner is gone
            os.dup2(null, fd)
        status_socket = socket.socket(fileno=STATUS_FD)
        _, status = os.waitpid(runner, 0)
        status_socket.send(f"exit {status}".encode())
    finally:
        os._exit(0)


def become_runner(limits):
    """Give up every privilege, announce ourselves, and serve the runner's protocol."""
    try:
        os.setsid()                           # the host ends its process group with killpg
        set_limits(limits)
        drop_privileges()
        status_socket = socket.socket(fileno=STATUS_FD)
        status_socket.send(b"ready")          # the kernel adds our pid for the host
        status_socket.close()
    except BaseException as error:  # a broken set-up must not run student code
        print(f"zygote: could not prepare the submission's process: {error}", file=sys.stderr)
        os._exit(71)
    from d2lcourse.autograder import runner  # noqa: PLC0415 (the runner imports this module)
    runner.answer()  # which first denies the submission any namespace of its own


def set_limits(limits):
    """Resource limits of a submission's process, from `sandbox.Limits` as a dict."""
    for kind, value in ((resource.RLIMIT_CPU, limits["cpu_seconds"]),
                        (resource.RLIMIT_AS, 2 * limits["memory_bytes"]),
                        (resource.RLIMIT_FSIZE, limits["file_bytes"]),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))
    if os.getuid() != 0:  # root ignores RLIMIT_NPROC: there the cgroup caps processes
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


def drop_privileges():
    """No capabilities (not even in our own user namespace) and no way to regain any."""
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/sys/kernel/cap_last_cap") as stream:
        last = int(stream.read())
    for capability in range(last + 1):
        check(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "drop capability")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    check(libc.capset(header, data), "capset")


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_namespaces():
    """From here on, this process and all it starts cannot create namespaces (seccomp).

    Every user namespace counts against the host's per-user quota
    (/proc/sys/user/max_user_namespaces), which all submissions share: a submission that
    held many would make the next ones fail to start. `unshare` and `clone` with any
    CLONE_NEW* flag fail with EPERM; `clone3`, whose flags seccomp cannot read, fails with
    ENOSYS, on which glibc falls back to `clone` for threads; so does any other ABI (x32,
    i386). Call it while single-threaded: the filter binds the calling thread and what it
    starts.
    """
    machine = os.uname().machine
    if machine not in SYSCALLS:
        raise OSError(errno.ENOSYS, f"no namespace filter for {machine}")
    arch, clone, clone3, unshare = SYSCALLS[machine]
    program = [
        statement(BPF_LD_ABS, SECCOMP_DATA_ARCH), jump(BPF_JEQ, arch, 1, 0),
        statement(BPF_RET, SECCOMP_RET_ERRNO | errno.ENOSYS),
        statement(BPF_LD_ABS, SECCOMP_DATA_NR), jump(BPF_JGE, X32_SYSCALL_BIT, 0, 1),
        statement(BPF_RET, SECCOMP_RET_ERRNO | errno.ENOSYS),
        jump(BPF_JEQ, clone3, 0, 1), statement(BPF_RET, SECCOMP_RET_ERRNO | errno.ENOSYS),
        jump(BPF_JEQ, unshare, 1, 0), jump(BPF_JEQ, clone, 0, 3),
        statement(BPF_LD_ABS, SECCOMP_DATA_ARG0), jump(BPF_JSET, CLONE_NEW_ANY, 0, 1),
        statement(BPF_RET, SECCOMP_RET_ERRNO | errno.EPERM),
        statement(BPF_RET, SECCOMP_RET_ALLOW)]
    code = ctypes.create_string_buffer(b"".join(program))
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                     ctypes.byref(SockFprog(len(program), ctypes.addressof(code))), 0, 0),
          "seccomp")


def statement(code, k):
    """One classic BPF instruction (struct sock_filter)."""
    return struct.pack("HBBI", code, 0, 0, k)


def jump(condition, k, if_true, if_false):
    return struct.pack("HBBI", BPF_JMP_K | condition, if_true, if_false, k)
