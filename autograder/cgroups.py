"""Per-sandbox control groups: a hard cap on processes and memory, where we may make one.

Resource limits (setrlimit) cannot cap the number of processes of root, and address-space
limits are a poor measure of memory; a cgroup caps both for the whole sandbox. Works
with cgroup v2 (unified) and v1 (`pids` and `memory` hierarchies). Where no cgroup can
be created (not root, read-only cgroupfs) `create` returns None and the sandbox relies
on its rlimits and pid namespace.
"""
import os
import signal
import time
import uuid
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class Cgroup:
    def __init__(self, directories, memory_events):
        self.directories = directories          # one per hierarchy (one for v2)
        self.memory_events = memory_events      # file whose counters show OOM kills

    def join(self):
        """Move the calling process into the group (call in the child before exec)."""
        self.add(os.getpid())

    def add(self, pid):
        """Move process `pid` (with all its threads) into the group."""
        for directory in self.directories:
            (directory / "cgroup.procs").write_text(str(pid))

    def out_of_memory(self):
        try:
            text = self.memory_events.read_text()
        except OSError:
            return False
        counters = dict(line.split()[:2] for line in text.splitlines() if " " in line)
        return int(counters.get("oom_kill", counters.get("under_oom", 0)) or 0) > 0 \
            or int(counters.get("oom", 0) or 0) > 0

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


def create(max_processes, max_memory_bytes):
    """A fresh cgroup with the two limits, or None where that is not possible here."""
    name = f"d2lcourse-{uuid.uuid4().hex[:12]}"
    try:
        if (ROOT / "cgroup.controllers").is_file():
            return _create_v2(name, max_processes, max_memory_bytes)
        if (ROOT / "pids").is_dir() and (ROOT / "memory").is_dir():
            return _create_v1(name, max_processes, max_memory_bytes)
    except OSError:
        return None
    return None


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
    group = Cgroup([pids, memory], memory / "memory.oom_control")
    try:
        (pids / "pids.max").write_text(str(max_processes))
        (memory / "memory.limit_in_bytes").write_text(str(max_memory_bytes))
    except OSError:
        group.remove()
        raise
    return group
