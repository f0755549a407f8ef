"""What the sandbox sees, the host uid it runs as, and the namespaces it may not create:
hostile submissions against the real bubblewrap sandbox (see tests/test_sandbox.py)."""
import os
import platform
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from d2lcourse.autograder import sandbox as sandboxes
from d2lcourse import notebooks
from d2lcourse.autograder.evaluate import evaluate
from d2lcourse.autograder.sandbox import Sandbox, bubblewrap_problem, sandbox_host_user
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.model import InfrastructureFault, Status
from test_sandbox import ASSIGNMENT, GOOD, QUICK, SETUP, TEST_DOUBLE, grade, points, probe

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")

COURSE = sandboxes.module_directory("d2lcourse")
REPOSITORY = COURSE.parent
SOLUTIONS = sandboxes.module_directory("d2lcourse.solutions")
NOT_SHOWN = ("/proc", "/sys", "/dev", "/usr", "/etc", "/tmp", "/var/tmp",
             *map(str, sandboxes.python_homes()))

LIST_EVERYTHING = textwrap.dedent(f"""
    def probe():
        import os
        found = []
        for folder, subfolders, files in os.walk("/"):
            subfolders[:] = [s for s in subfolders
                             if os.path.join(folder, s) not in {NOT_SHOWN!r}
                             or {str(REPOSITORY)!r}.startswith(os.path.join(folder, s) + "/")]
            found += [os.path.join(folder, name) for name in files]
        return sorted(found)
    """)


def test_of_the_course_the_sandbox_sees_only_the_files_the_runner_and_setup_import():
    seen = probe(LIST_EVERYTHING)
    assert seen == sorted(map(str, sandboxes.course_files(())))
    assert not [p for p in seen if "/mistakes/" in p or "/assignments/" in p or "/.git/" in p]
    assert [p for p in seen if p.startswith(str(SOLUTIONS))] == [str(SOLUTIONS / "__init__.py")]
    oracles = {f"{a.module}.py" for a in ASSIGNMENTS.values()}  # checks with expected values
    assert not [p for p in seen if p.startswith(str(COURSE / "checks")) and Path(p).name in oracles]


def test_answers_are_neither_readable_nor_importable(tmp_path):
    gradebook = tmp_path / "course" / "gradebook.db"
    gradebook.parent.mkdir()
    gradebook.write_text("grades")
    secrets = {
        "catalogue": COURSE / "mistakes" / "softmax_regression.py",
        "oracle": COURSE / "checks" / "softmax_regression.py",
        "reference": SOLUTIONS / "softmax_regression.py",
        "source": REPOSITORY / "assignments" / "source" / "04_softmax_regression"
                  / "softmax_regression.ipynb",
        "git": REPOSITORY / ".git" / "HEAD",
        "gradebook": gradebook,
        "setup.cfg": REPOSITORY / "setup.cfg",
    }
    assert all(path.exists() for path in secrets.values())
    seen = probe(textwrap.dedent(f"""
        def probe():
            import importlib, os
            seen = {{}}
            for name, path in {({k: str(v) for k, v in secrets.items()})!r}.items():
                for how, where in (("path", path), ("root", "/proc/self/root" + path),
                                   ("cwd", os.path.relpath(path))):
                    try:
                        open(where).read()
                        seen[f"{{name}} by {{how}}"] = "read"
                    except OSError as error:
                        seen[f"{{name}} by {{how}}"] = type(error).__name__
            for module in ("d2lcourse.mistakes", "d2lcourse.mistakes.softmax_regression",
                           "d2lcourse.checks.softmax_regression",
                           "d2lcourse.solutions.softmax_regression", "d2lcourse.cli"):
                try:
                    importlib.import_module(module)
                    seen[module] = "imported"
                except ImportError:
                    seen[module] = "refused"
            import sys
            seen["loaded"] = sorted(m for m in sys.modules if m.startswith("d2lcourse"))
            return seen
        """))
    loaded = seen.pop("loaded")
    assert set(seen.values()) <= {"FileNotFoundError", "refused"}, seen
    oracles = {f"d2lcourse.checks.{a.module}" for a in ASSIGNMENTS.values()}
    assert not [m for m in loaded if m.startswith(("d2lcourse.mistakes", "d2lcourse.solutions."))
                or m in oracles], loaded


@pytest.mark.parametrize("warm", [True, False])
def test_nothing_the_sandbox_sees_of_the_course_is_writable(warm):
    """A module or bytecode left there would run in the next submission."""
    seen = probe(textwrap.dedent(f"""
        def probe():
            seen = {{}}
            for path in ({str(COURSE / "planted.py")!r}, {str(COURSE / "__pycache__")!r},
                         {str(REPOSITORY / "planted.py")!r}, "/planted.py", "/dev/planted",
                         {str(COURSE / "checks" / "__pycache__" / "core.cpython-311.pyc")!r},
                         "/tmp/own", "/var/tmp/own", "/dev/shm/own"):
                try:
                    open(path, "w").write("x = 1")
                    seen[path] = "written"
                except OSError as error:
                    seen[path] = type(error).__name__
            return seen
        """), warm=warm)
    assert [path for path, outcome in seen.items() if outcome == "written"] \
        == ["/tmp/own", "/var/tmp/own", "/dev/shm/own"], seen


def course_notebook(assignment):
    """(setup, tests, reference solution cells) of an assignment's source notebook."""
    path = REPOSITORY / "assignments" / "source" / assignment.id / assignment.notebook
    notebook = notebooks.read(path)
    return (notebooks.setup_sources(notebook), notebooks.graded_tests(notebook),
            notebooks.solution_sources(notebook))


def total(verdict):
    return sum(r.points for r in verdict.results)


def test_a_submission_that_runs_the_catalogue_or_the_references_scores_as_blank():
    """Each of its cells tries to define its function from every answer on this machine:
    the mistakes catalogue (imported, or read and run), the reference module, the
    source notebook's solution cells. Outside the sandbox the same cells earn points. The
    reference still earns full marks: what the checks hand to student code is visible."""
    assignment = ASSIGNMENTS["01_ndarray_autograd"]
    setup, tests, reference = course_notebook(assignment)
    blank = dict.fromkeys(reference, "")
    source = REPOSITORY / "assignments" / "source" / assignment.id / assignment.notebook
    steal = textwrap.dedent(f"""
        import importlib, json
        for module in ("d2lcourse.mistakes.{assignment.module}",
                       "d2lcourse.solutions.{assignment.module}"):
            try:
                found = importlib.import_module(module)
            except ImportError:
                continue
            for answer in getattr(found, "ALTERNATIVES", ()):
                exec(answer.source, globals())
            globals().update(vars(found))
        for path in ({str(COURSE / "mistakes" / (assignment.module + ".py"))!r},
                     {str(SOLUTIONS / (assignment.module + ".py"))!r}):
            try:
                exec(open(path).read(), globals())
            except OSError:
                pass
        try:
            for cell in json.load(open({str(source)!r}))["cells"]:
                if "BEGIN SOLUTION" in "".join(cell["source"]):
                    exec("".join(cell["source"]), globals())
        except OSError:
            pass
        """)
    hostile = {name: steal for name in blank}
    verdict = evaluate(assignment, setup, tests, hostile, QUICK)
    assert verdict.status == "ok", verdict.message
    assert total(verdict) == total(evaluate(assignment, setup, tests, blank, QUICK))
    full = evaluate(assignment, setup, tests, reference, QUICK)
    assert total(full) == sum(t.points for t in tests), full.message
    unsandboxed = evaluate(assignment, setup, tests, hostile, QUICK, sandboxed=False)
    assert total(unsandboxed) > total(verdict), "the attack works where the answers are"


# --------------------------------------------------------------------------- host uid

def host_uids(pid):
    """The real, effective, saved and filesystem uids of a host process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return {int(uid) for uid in line.split()[1:]}


def descendants(pid):
    """`pid` and every process below it, from the host's /proc."""
    parents = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, pending = [], [pid]
    while pending:
        found.append(pending.pop())
        pending += parents.get(found[-1], [])
    return found


@pytest.mark.parametrize("warm", [True, False])
def test_student_code_runs_as_an_unprivileged_host_uid(warm):
    sandbox = Sandbox(QUICK, warm=warm)
    try:
        assert ask(sandbox, "import os\ndef probe():\n    return os.getuid()\n") == 1000
        uids = {pid: host_uids(pid) for pid in descendants(sandbox.process.pid)}
    finally:
        sandbox.close()
    expected = sandbox_host_user()[0]
    assert len(uids) >= (1 if warm else 2)
    assert all(found == {expected} for found in uids.values()), uids
    if os.geteuid() == 0:
        assert expected not in (0, os.getuid())


def test_files_of_the_graders_user_with_mode_600_stay_unreadable(tmp_path):
    """Under root: a secret in /etc, in the venv, and in the data folder that the sandbox
    binds (under /tmp/pytest-of-root, mode 700) are there but unreadable to it."""
    name = f"d2lcourse-secret-{uuid.uuid4().hex}"
    data = tmp_path / "data"
    data.mkdir()
    (data / "public.txt").write_text("visible")
    secrets = [Path("/etc") / name, Path(sys.prefix) / name, data / name]
    try:
        for secret in secrets:
            secret.write_text("the answer")
            secret.chmod(0o600)
        sandbox = Sandbox(QUICK, data_dir=data)
        try:
            seen = ask(sandbox, textwrap.dedent(f"""
                def probe():
                    import os
                    seen = {{"public": open({str(data / "public.txt")!r}).read()}}
                    for path in {list(map(str, secrets)) + ["/etc/shadow"]!r}:
                        attempts = {{"open": lambda: open(path).read(),
                                     "root": lambda: open("/proc/self/root" + path).read()}}
                        for how, attempt in attempts.items():
                            try:
                                attempt()
                                seen[path + " " + how] = "read"
                            except OSError as error:
                                seen[path + " " + how] = type(error).__name__
                        fd = os.open(path, os.O_PATH)
                        try:
                            open(f"/proc/self/fd/{{fd}}").read()
                            seen[path + " fd"] = "read"
                        except OSError as error:
                            seen[path + " fd"] = type(error).__name__
                        try:
                            os.chmod(path, 0o644)
                            seen[path + " chmod"] = "changed"
                        except OSError as error:
                            seen[path + " chmod"] = type(error).__name__
                    for become in (lambda: os.setuid(0), lambda: os.setresuid(0, 0, 0)):
                        try:
                            become()
                            seen["root"] = "became"
                        except OSError:  # EPERM, or EINVAL: no uid 0 in its namespace
                            seen["root"] = "refused"
                    return seen
                """))
        finally:
            sandbox.close()
    finally:
        for secret in secrets:
            secret.unlink(missing_ok=True)
    assert (seen.pop("public"), seen.pop("root")) == ("visible", "refused")
    assert "read" not in seen.values() and "changed" not in seen.values(), seen
    # each secret is there, refused for want of permission (chmod may meet EROFS first)
    assert {k: v for k, v in seen.items()
            if v != "PermissionError" and not k.endswith("chmod")} == {}


def test_data_the_sandbox_user_cannot_read_leaves_the_submission_ungraded(tmp_path):
    """Not a student's fault: every data test would fail. (As root; as any other user
    the sandbox reads what the grader reads.)"""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    if os.geteuid() != 0:
        assert sandboxes.refuse_unreadable([data]) is None
        return
    with pytest.raises(InfrastructureFault, match=f"cannot read {data} .*chmod o\\+rX"):
        Sandbox(QUICK, data_dir=data)
    verdict = evaluate(ASSIGNMENT, SETUP, [TEST_DOUBLE], {"double": GOOD}, QUICK, data_dir=data)
    assert verdict.status == Status.UNGRADED and "chmod" in verdict.message


def ask(sandbox, cell):
    """Load `cell` into a running sandbox and return what its `probe()` returns."""
    from d2lcourse.autograder.evaluate import RemoteFunction
    from d2lcourse.checks import core
    reply, _ = sandbox.request({"op": "load", "functions": ["probe"], "setup": [],
                                "solutions": {"probe": cell}})
    assert reply["missing"] == {}
    return core.call(RemoteFunction(sandbox, "probe", cell))


# --------------------------------------------------------------------------- namespaces

MAKE_NAMESPACES = textwrap.dedent(f"""
    import ctypes, errno, os, subprocess, threading
    libc = ctypes.CDLL(None, use_errno=True)
    CLONE, CLONE3, UNSHARE = {dict(x86_64=(56, 435, 272), aarch64=(220, 435, 97))
                              [platform.machine()]!r}
    NEWUSER, NEWNET, NEWNS, SIGCHLD = 0x10000000, 0x40000000, 0x20000, 17

    def attempt(call):
        result = call()
        if result == 0 and call is not unshare_user:  # a clone's child: leave at once
            os._exit(0)
        return "made" if result >= 0 else errno.errorcode[ctypes.get_errno()]

    def unshare_user():
        return libc.unshare(NEWUSER)

    def probe():
        clone3_args = (ctypes.c_uint64 * 11)(NEWUSER, 0, 0, 0, SIGCHLD)
        seen = {{
            "unshare user": attempt(unshare_user),
            "unshare net": attempt(lambda: libc.unshare(NEWNET)),
            "unshare mount": attempt(lambda: libc.unshare(NEWNS)),
            "clone": attempt(lambda: libc.syscall(CLONE, NEWUSER | SIGCHLD, 0, 0, 0, 0)),
            "clone3": attempt(lambda: libc.syscall(CLONE3, clone3_args, ctypes.sizeof(clone3_args))),
            "unshare -U": subprocess.run(["unshare", "-U", "true"],
                                         capture_output=True).returncode,
        }}
        if CLONE == 56:  # the x32 ABI's unshare on x86_64
            seen["x32"] = attempt(lambda: libc.syscall(0x40000000 | UNSHARE, NEWUSER))
        worker = threading.Thread(target=lambda: seen.update(thread="ran"))
        worker.start()
        worker.join()
        seen["subprocess"] = subprocess.run(["true"]).returncode
        return seen
    """)


@pytest.mark.parametrize("warm", [True, False])
def test_student_code_cannot_create_namespaces(warm):
    seen = probe(MAKE_NAMESPACES, warm=warm)
    assert seen.pop("thread") == "ran" and seen.pop("subprocess") == 0, "honest code still runs"
    assert seen.pop("unshare -U") != 0
    assert "made" not in seen.values(), seen


def test_a_submission_hoarding_namespaces_makes_none_and_the_next_is_graded():
    hoard = textwrap.dedent("""
        import ctypes, os, time
        libc = ctypes.CDLL(None, use_errno=True)

        def double(x):
            made = 0
            for _ in range(20):  # children that each hold what they made, as long as they live
                reader, writer = os.pipe()
                if os.fork() == 0:
                    count = sum(libc.unshare(0x10000000) == 0 for _ in range(50))
                    os.write(writer, bytes([count]))
                    time.sleep(300)
                    os._exit(0)
                made += os.read(reader, 1)[0]
            return made
        """)
    verdict = grade(hoard)
    assert verdict.status == "ok" and points(verdict) == {"test_double": 0.0}
    for _ in range(3):
        verdict = grade(GOOD)
        assert (verdict.status, points(verdict)) == ("ok", {"test_double": 2.0})
    assert probe(hoard.replace("def double(x):", "def probe():")) == 0
