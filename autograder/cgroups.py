"""Per-sandbox control groups: a hard cap on processes and memory, where we may make one.

Resource limits (setrlimit) cannot cap the number of processes of root, and address-space
limits are a poor measure of memory; a cgroup caps both for the whole sandbox. Works
with cgroup v2 (unified) and v1 (`pids` and `memory` hierarchies). Where no cgroup can
be created (not root, read-only cgroupfs) `create` returns None and the sandbox relies
on its rlimits and pid namespace.

A group's name holds the pid of the process that made it (`d2lcourse-PID-...`): a grader
killed before it removed its groups leaves them empty, and the next `create` on the
machine removes the empty groups whose maker is gone (live runs' groups stay).
"""
import functools
import os
import signal
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class Cgroup:
    def __init__(self, directories, memory_events, limit_hits=None):
        self.directories = directories          # one per hierarchy (one for v2)
        self.memory_events = memory_events      # file whose counters show OOM kills
        self.limit_hits = limit_hits            # v1: memory.failcnt (v2: "oom" in events)

    def join(self):
        """Move the calling process into the group (call in the child before exec)."""
        self.add(os.getpid())

    def add(self, pid):
        """Move process `pid` (with all its threads) into the group."""
        for directory in self.directories:
            (directory / "cgroup.procs").write_text(str(pid))

    def _memory_counters(self):
        """The memory counters: "oom_kill" (processes killed by any OOM killer) and
        "limit" (times the group's own memory limit was reached)."""
        try:
            counters = {name: int(value) for name, value in
                        (line.split()[:2] for line in self.memory_events.read_text().splitlines()
                         if " " in line)}
            if self.limit_hits is not None:
                counters["limit"] = int(self.limit_hits.read_text().split()[0])
            else:
                counters["limit"] = counters.get("oom", 0)
        except (OSError, ValueError, IndexError):
            return {}
        counters.setdefault("oom_kill", 0)
        return counters

    def out_of_memory(self):
        """The group reached its own memory limit: the submission used too much."""
        counters = self._memory_counters()
        if self.limit_hits is None:  # v2 counts in "oom" only what its own limit caused
            return counters.get("limit", 0) > 0
        return counters.get("limit", 0) > 0 and (counters["oom_kill"] > 0
                                                 or counters.get("under_oom", 0) > 0)

    def killed_by_host_oom(self):
        """An OOM killer ended a process of the group below its own limit: the host ran
        out of memory, not the submission."""
        counters = self._memory_counters()
        return counters.get("oom_kill", 0) > 0 and counters.get("limit", 0) == 0

    def kill_all(self):
        """SIGKILL every process still in the group (daemons included)."""
        for _ in range(50):
            pids = set()
            for directory in self.directories:
                try:
                    pids.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
                except OSError:
                    pass
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self):
        for directory in self.directories:
            try:
                directory.rmdir()
            except OSError:
                pass


PREFIX = "d2lcourse-"


def create(max_processes, max_memory_bytes):
    """A fresh cgroup with the two limits, or None where that is not possible here."""
    remove_abandoned_once()
    name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    try:
        if (ROOT / "cgroup.controllers").is_file():
            return _create_v2(name, max_processes, max_memory_bytes)
        if (ROOT / "pids").is_dir() and (ROOT / "memory").is_dir():
            return _create_v1(name, max_processes, max_memory_bytes)
    except OSError:
        return None
    return None


def maker_alive(name):
    """Whether the process that made the group `name` may still run (names without a
    pid come from an older grader, which is gone by now)."""
    parts = name[len(PREFIX):].split("-")
    if len(parts) != 2 or not parts[0].isdigit():
        return False
    try:
        with open(f"/proc/{parts[0]}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone
    except (OSError, IndexError):
        return False


@functools.cache
def remove_abandoned_once():
    """`remove_abandoned`, on this process's first `create`."""
    remove_abandoned()


def remove_abandoned():
    """Remove the empty groups that graders which are no longer running left behind."""
    for hierarchy in (ROOT, ROOT / "pids", ROOT / "memory"):
        try:
            directories = list(hierarchy.glob(PREFIX + "*"))
        except OSError:
            continue
        for directory in directories:
            if directory.is_dir() and not maker_alive(directory.name):
                try:
                    directory.rmdir()  # refused while a process is still in it
                except OSError:
                    pass


def _create_v2(name, max_processes, max_memory_bytes):
    directory = ROOT / name
    directory.mkdir()
    try:
        (directory / "pids.max").write_text(str(max_processes))
        (directory / "memory.max").write_text(str(max_memory_bytes))
        if (directory / "memory.swap.max").exists():
            (directory / "memory.swap.max").write_text("0")
    except OSError:
        directory.rmdir()
        raise
    return Cgroup([directory], directory / "memory.events")


def _create_v1(name, max_processes, max_memory_bytes):
    pids, memory = ROOT / "pids" / name, ROOT / "memory" / name
    pids.mkdir()
    try:
        memory.mkdir()
    except OSError:
        pids.rmdir()
        raise
    group = Cgroup([pids, memory], memory / "memory.oom_control", memory / "memory.failcnt")
    try:
        (pids / "pids.max").write_text(str(max_processes))
        (memory / "memory.limit_in_bytes").write_text(str(max_memory_bytes))
    except OSError:
        group.remove()
        raise
    return group
