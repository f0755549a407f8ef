"""Hostile submissions against the real bubblewrap sandbox and the real runner.

A tiny inline assignment (one function `double`) keeps these fast; the course's real
notebooks go through the same path in tests/test_autograde.py.
"""
import os
import socket
import subprocess
import textwrap
import time

import pytest

from d2lcourse.autograder import sandbox as sandboxes
from d2lcourse.autograder.evaluate import RemoteFunction, TestCell, evaluate
from d2lcourse.autograder.sandbox import Limits, Sandbox, bubblewrap_problem
from d2lcourse.checks import core
from d2lcourse.course import Assignment

ASSIGNMENT = Assignment("00_sandbox", "sandbox.ipynb", ("double",))
SETUP = ["from d2lcourse import np, npx"]
TEST_DOUBLE = TestCell("test_double", textwrap.dedent("""
    from d2lcourse.checks import core
    from d2lcourse import np
    x = core.random_array((3, 4), seed=0)
    core.assert_close(double, core.expect_array(double, core.call(double, x)), 2 * x)
    """), 2.0)
GOOD = "def double(x):\n    return 2 * x\n"
QUICK = Limits(seconds=60)

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")


def grade(double_cell, limits=QUICK):
    return evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE], {"double": double_cell}, limits)


def points(verdict):
    return {r.grade_id: r.points for r in verdict.results}


def probe(cell, limits=QUICK, warm=True):
    """Run `probe()` from `cell` inside a sandbox; return what it observed, and the sandbox."""
    sandbox = Sandbox(limits, warm=warm)
    try:
        reply, _ = sandbox.request({"op": "load", "functions": ["probe"], "setup": SETUP,
                                    "solutions": {"probe": cell}})
        assert reply["missing"] == {}
        return core.call(RemoteFunction(sandbox, "probe", cell))
    finally:
        sandbox.close()
        probe.last_sandbox = sandbox


def test_correct_submission_gets_full_marks():
    verdict = grade(GOOD)
    assert verdict.status == "ok"
    assert points(verdict) == {"test_double": 2.0}


def test_no_network_not_even_to_the_graders_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        seen = probe(textwrap.dedent(f"""
            def probe():
                import socket
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=3)
                    return {{"loopback": "connected"}}
                except OSError as error:
                    return {{"loopback": type(error).__name__}}
            """))
    finally:
        server.close()
    assert seen["loopback"] != "connected"


def test_no_view_of_course_files_solutions_or_other_students(tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    import d2lcourse.solutions
    reference = os.path.join(os.path.dirname(d2lcourse.solutions.__file__), "mlp.py")
    seen = probe(textwrap.dedent(f"""
        def probe():
            import os
            seen = {{}}
            for name, path in (("course", {str(secret)!r}), ("reference", {reference!r})):
                try:
                    open(path).read()
                    seen[name] = "read"
                except OSError as error:
                    seen[name] = type(error).__name__
            try:
                from d2lcourse.solutions import mlp
                seen["import_reference"] = "imported"
            except ImportError:
                seen["import_reference"] = "refused"
            try:
                open("/usr/lib/planted", "w")
                seen["system"] = "written"
            except OSError as error:
                seen["system"] = type(error).__name__
            with open(os.path.expanduser("~/scratch.txt"), "w") as own:
                own.write("mine")
            seen["home"] = "written"
            seen["processes"] = len([p for p in os.listdir("/proc") if p.isdigit()])
            return seen
        """))
    assert seen["course"] == "FileNotFoundError"
    assert seen["reference"] == "FileNotFoundError"
    assert seen["import_reference"] == "refused"
    assert seen["system"] in ("OSError", "PermissionError")
    assert seen["home"] == "written"
    assert seen["processes"] < 10, "the sandbox sees only its own processes"


def test_patching_checks_or_ipython_inside_the_sandbox_changes_nothing():
    tampering = textwrap.dedent("""
        import sys
        import d2lcourse.checks.core as core
        core.assert_close = lambda *args, **kwargs: None
        core.CheckFailure = Exception
        sys.meta_path.insert(0, None)
        try:
            get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])
        except NameError:
            pass

        def double(x):
            return 3 * x
        """)
    verdict = grade(tampering)
    assert verdict.status == "ok"
    assert points(verdict)["test_double"] == 0.0
    assert "wrong" in verdict.results[0].message


def test_returned_objects_are_data_not_code():
    sneaky = textwrap.dedent("""
        class Anything:
            def __eq__(self, other):
                return True
            def asnumpy(self):
                raise SystemExit

        def double(x):
            return Anything()
        """)
    verdict = grade(sneaky)
    assert points(verdict)["test_double"] == 0.0
    assert "expected mxnet.numpy.ndarray" in verdict.results[0].message


@pytest.mark.parametrize("cell,status", [
    ("def double(x):\n    while True:\n        pass\n", "timeout"),
    ("import os\ndef double(x):\n    os._exit(0)\n", "crashed"),
    ("import ctypes\ndef double(x):\n    return ctypes.string_at(0)\n", "crashed"),
    ("def double(x):\n    hog = []\n    while True:\n        hog.append(bytearray(1 << 28))\n",
     "memory"),
    ("import os, signal\ndef double(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n"
     "    os.kill(os.getpid(), signal.SIGKILL)\n", "memory|crashed"),
])
def test_faults_stay_local_and_are_named(cell, status):
    # An endless loop runs until the wall-clock limit: a short one is as endless and not
    # waited out; the other faults keep room to start a sandbox on a loaded machine.
    limits = Limits(seconds=3 if status == "timeout" else 20, memory_bytes=1 << 30)
    verdict = grade(cell, limits=limits)
    assert verdict.status in status.split("|"), verdict.message
    assert all(r.points == 0 for r in verdict.results)
    assert verdict.message


def sandboxed_processes():
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if "sleep 4242" in line]


def test_fork_bombs_and_daemons_are_ended_with_the_submission():
    bomb = textwrap.dedent("""
        import os, subprocess
        subprocess.Popen(["sleep", "4242"], start_new_session=True)
        def double(x):
            if os.fork() == 0:
                os.setsid()
                while True:
                    try:
                        os.fork()
                    except OSError:
                        pass
            return 2 * x
        """)
    verdict = grade(bomb, limits=Limits(seconds=20))
    assert (verdict.status, points(verdict)) == ("ok", {"test_double": 2.0}) or (
        verdict.status == "timeout" and "did not finish within 20 s" in verdict.message)
    time.sleep(0.5)
    assert sandboxed_processes() == [], "a process outlived its sandbox"


def test_output_floods_are_bounded():
    seen = probe(textwrap.dedent("""
        import sys
        def probe():
            for _ in range(100000):
                print("x" * 100)
                print("y" * 100, file=sys.stderr)
            return "done"
        """), Limits(seconds=60, output_bytes=4096))
    assert seen == "done", "a flood neither blocks the pipe nor corrupts the protocol"
    assert len(probe.last_sandbox.output) == 4096


def test_a_submission_leaves_nothing_for_the_next_one():
    leave = textwrap.dedent("""
        def probe():
            import os
            for folder in ("/tmp", os.path.expanduser("~"), "/var/tmp", "/dev/shm"):
                try:
                    with open(os.path.join(folder, "poison"), "w") as planted:
                        planted.write("x")
                except OSError:
                    pass
            return sorted(os.listdir("/tmp"))
        """)
    look = leave.replace('open(os.path.join(folder, "poison"), "w")',
                         'open(os.path.join(folder, "poison"))')
    assert "poison" in probe(leave)
    assert "poison" not in probe(look)


ESCAPE_THE_ZYGOTE = textwrap.dedent("""
    def probe():
        import os, signal
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
        own = {os.readlink("/proc/self")} | set(os.listdir("/proc/self/task"))
        seen = {"uid": os.getuid(), "capabilities": [status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd")],
                "reached": []}
        for pid in [p for p in os.listdir("/proc") if p.isdigit() and p not in own]:
            for part in ("mem", "environ", "fd"):
                try:
                    if part == "fd":  # the numbers may be listed; what they are must not show
                        for fd in os.listdir(f"/proc/{pid}/fd"):
                            os.readlink(f"/proc/{pid}/fd/{fd}")
                            seen["reached"].append(f"{pid}/fd/{fd}")
                    else:
                        open(f"/proc/{pid}/{part}", "rb").read(1)
                        seen["reached"].append(f"{pid}/{part}")
                except OSError:
                    pass
        for pid in range(1, 100):
            if pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return seen
    """)


def test_a_warm_sandbox_process_cannot_reach_the_zygote_or_regain_privileges():
    seen = probe(ESCAPE_THE_ZYGOTE)
    assert seen["uid"] != 0
    assert seen["capabilities"] == ["0000000000000000"] * 3
    assert seen["reached"] == [], "another process's memory, environment or files were readable"
    verdict = grade(GOOD)  # the zygote survived the kill attempts and still isolates
    assert (verdict.status, points(verdict)) == ("ok", {"test_double": 2.0})


def test_cold_sandboxes_isolate_as_well():
    seen = probe(ESCAPE_THE_ZYGOTE, warm=False)
    assert seen["uid"] != 0
    assert seen["capabilities"] == ["0000000000000000"] * 3
    # The one other process there is bubblewrap's own init for this very sandbox.
    assert {reached.split("/")[0] for reached in seen["reached"]} <= {"1"}


def test_where_user_namespaces_are_blocked_each_submission_gets_its_own_sandbox(monkeypatch):
    """Simulates a machine that forbids nested user namespaces with bubblewrap's own
    --disable-userns: the zygote cannot isolate, so grading falls back, still sandboxed."""
    original = sandboxes.bubblewrap_command

    def blocking_userns(argv, *args, **kwargs):
        command = original(argv, *args, **kwargs)
        return command[:1] + ["--disable-userns"] + command[1:] if "--zygote" in argv else command

    monkeypatch.setattr(sandboxes, "bubblewrap_command", blocking_userns)
    monkeypatch.setattr(sandboxes, "warm_sandboxes", sandboxes.WarmSandboxes())
    verdict = grade(GOOD)
    assert (verdict.status, points(verdict)) == ("ok", {"test_double": 2.0})
    assert "unshare" in sandboxes.warm_sandboxes.cold_reason, "the fallback was not taken"


def test_what_is_bound_below_tmp_stays_visible_in_a_warm_sandbox(tmp_path):
    """A CI clone keeps Python and the course under /tmp: the fresh /tmp of each forked
    submission must not hide them. A data folder under /tmp stands in for them here."""
    assert str(tmp_path).startswith("/tmp/")
    tmp_path.chmod(0o755)  # pytest makes it 700; under root the sandbox runs as nobody
    (tmp_path / "marker.txt").write_text("bound")
    sandbox = Sandbox(QUICK, data_dir=tmp_path)
    try:
        reply, _ = sandbox.request({"op": "load", "functions": ["probe"], "setup": SETUP,
                                    "solutions": {"probe": textwrap.dedent(f"""
            def probe():
                import os
                with open("/tmp/mine.txt", "w") as own:
                    own.write("writable")
                return open({str(tmp_path / "marker.txt")!r}).read(), sorted(os.listdir("/tmp"))
            """)}})
        assert reply["missing"] == {}
        marker, listing = core.call(RemoteFunction(sandbox, "probe", ""))
    finally:
        sandbox.close()
    assert marker == "bound"
    assert "mine.txt" in listing
