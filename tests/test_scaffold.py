"""An assignment is one bundle, registered by its files (d2lcourse.course), and
`python -m d2lcourse.scaffold` writes a bundle that releases, self-checks and grades.

The scaffolded toy assignment lives in a temporary repository of its own (the four
folders the scaffold writes into), never in this checkout: other test processes read the
course while this one runs. Its commands run in subprocesses that add the temporary
folders to the search paths of d2lcourse.checks, .mistakes and .solutions (BOOTSTRAP)
and point the course at the temporary course root (D2LCOURSE_COURSE); the sandbox is the
real one, and the bundle needs nothing in it (its checks run in the grader).
"""
import csv
import json
import os
import re
import runpy
import shutil
import subprocess
import sys

import pytest

from d2lcourse import course, notebooks, scaffold
from d2lcourse.autograder import samples
from d2lcourse.autograder.grade import verdict_file_name
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS, REPOSITORY

TOY = "06_toy"
FUNCTION = "double"
# Run module argv[2] as __main__ with argv[3:], the bundle at argv[1] importable.
BOOTSTRAP = """
import runpy, sys
import d2lcourse.checks, d2lcourse.mistakes, d2lcourse.solutions
root, module = sys.argv[1:3]
for package, folder in ((d2lcourse.checks, "d2lcourse/checks"),
                        (d2lcourse.mistakes, "d2lcourse/mistakes"),
                        (d2lcourse.solutions, "solutions")):
    package.__path__.append(f"{root}/{folder}")
sys.argv = sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


# --------------------------------------------------------------------------- registration

def contract_assignments():
    """[(id, notebook, {functions})] of COURSE_CONTRACT.md's "The assignments", in order."""
    text = (REPOSITORY / "COURSE_CONTRACT.md").read_text()
    sections = re.split(r"^### `(\w+)` — `([\w.]+)`.*$", text, flags=re.M)[1:]
    found = []
    for assignment_id, notebook, body in zip(sections[::3], sections[1::3], sections[2::3]):
        rows = [line.split("|")[1] for line in body.splitlines() if line.startswith("| `")]
        found.append((assignment_id, notebook,
                      {name for row in rows for name in re.findall(r"`(\w+)\(", row)}))
    return found


def test_the_course_registers_the_contracts_assignments_from_their_notebooks():
    listed = contract_assignments()
    assert [a for a, _, _ in listed] == list(ASSIGNMENTS)[:len(listed)]
    for assignment_id, notebook, functions in listed:
        assignment = ASSIGNMENTS[assignment_id]
        assert assignment.notebook == notebook
        assert set(assignment.functions) == functions, assignment_id
        # in notebook order: the solution cells', which is the test cells' order too
        tests = [assignment.owner_of(notebooks.grade_id(cell)) for cell in
                 notebooks.read(assignment.source_path()).cells if notebooks.is_test_cell(cell)]
        assert list(dict.fromkeys(tests)) == list(assignment.functions), assignment_id


def probe(code):
    """What `code` prints in a fresh process, as words."""
    result = subprocess.run([sys.executable, "-c", f"import sys\n{code}"], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "D2LCOURSE_COURSE": str(
                                REPOSITORY / "assignments")})
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_importing_the_course_or_the_checks_reads_no_notebook_and_discovery_no_mxnet():
    assert probe("from d2lcourse import course; read = 'nbformat' in sys.modules\n"
                 "print(read, len(course.ASSIGNMENTS), 'mxnet' in sys.modules)") == [
        "False", str(len(ASSIGNMENTS)), "False"]
    assert probe("from d2lcourse.checks import core, spec\nprint('nbformat' in sys.modules)"
                 ) == ["False"]


def test_a_students_install_reads_the_table_the_student_package_writes(tmp_path):
    """A student's install has no source notebooks: its course comes from the table."""
    shutil.copytree(REPOSITORY / "d2lcourse", tmp_path / "d2lcourse",
                    ignore=shutil.ignore_patterns("__pycache__"))
    course.write_table(tmp_path / "d2lcourse", ASSIGNMENTS)
    probe = ("import json; from d2lcourse import course; assert course.__file__.startswith("
             f"{str(tmp_path)!r}); print(json.dumps([[a.id, a.notebook, a.functions] for a in "
             "course.ASSIGNMENTS.values()]))")
    env = {k: v for k, v in os.environ.items() if k != "D2LCOURSE_COURSE"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path, env={**env, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[a.id, a.notebook, list(a.functions)]
                                         for a in ASSIGNMENTS.values()]


# --------------------------------------------------------------------------- the scaffold

def empty_repository(root):
    """The folders the scaffold writes into, and an nbgrader course root."""
    for folder in ("assignments/source", "solutions", "d2lcourse/checks", "d2lcourse/mistakes"):
        (root / folder).mkdir(parents=True)
    shutil.copy(REPOSITORY / "assignments" / "nbgrader_config.py", root / "assignments")
    return root


def files_in(root):
    return {path.relative_to(root) for path in root.rglob("*") if path.is_file()}


def run_in(root, module, *args):
    """`python -m module args` with the bundle at `root` importable and its course root."""
    return subprocess.run([sys.executable, "-c", BOOTSTRAP, str(root), module, *map(str, args)],
                          capture_output=True, text=True, timeout=600, cwd=root / "assignments",
                          env={**os.environ, "D2LCOURSE_COURSE": str(root / "assignments")})


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """(root, the files before, the scaffold's exit status) of a scaffolded 06_toy."""
    root = empty_repository(tmp_path_factory.mktemp("scaffold") / "repository")
    before = files_in(root)
    status = scaffold.main([TOY, "A toy", "--function", FUNCTION, "--root", str(root)])
    return root, before, status


def toy(root):
    return course.assignments_in(root / "assignments" / "source")[TOY]


def test_the_scaffold_writes_the_four_files_of_a_registered_assignment(bundle):
    root, before, status = bundle
    assert status == 0
    assert files_in(root) - before == {
        p.relative_to(root) for p in scaffold.bundle_paths(root, TOY, "toy").values()}
    assert toy(root) == course.Assignment(TOY, "toy.ipynb", (FUNCTION,))


def test_the_scaffold_refuses_to_overwrite_or_reuse_a_name(bundle, capsys):
    root, _, _ = bundle
    written = {path: path.read_bytes() for path in root.rglob("*.py*")}
    assert scaffold.main([TOY, "Again", "--function", "triple", "--root", str(root)]) == 2
    assert scaffold.main(["07_toy", "Again", "--function", "triple", "--root", str(root)]) == 2
    assert scaffold.main(["07_more", "More", "--function", FUNCTION, "--root", str(root)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"scaffold: the course already has {TOY}: choose another id",
        f"scaffold: toy.ipynb is the notebook of {TOY}: choose another name",
        f"scaffold: {FUNCTION} is already graded in {TOY}: graded functions have unique names"]
    assert {path: path.read_bytes() for path in root.rglob("*.py*")} == written


def test_the_scaffolded_notebook_self_checks_and_agrees_with_its_reference(bundle):
    root, _, _ = bundle
    checked = run_in(root, "d2lcourse.cli", "check", toy(root).source_path(root / "assignments"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines() == [
        f"ok   {FUNCTION}", "2/2 points from the visible tests (1 of 1 tests pass)"]
    synced = run_in(root, "d2lcourse.authoring", TOY)
    assert (synced.returncode, synced.stdout) == (0, ""), synced.stderr


@pytest.fixture(scope="module")
def graded(bundle):
    """The toy released with nbgrader, a class of the reference, the blank release and the
    catalogue's cases submitted, graded by `d2lcourse grade` in the sandbox."""
    root, _, _ = bundle
    assignment, folder = toy(root), root / "assignments"
    released = run_in(root, "nbgrader", "generate_assignment", TOY)
    assert released.returncode == 0, released.stderr
    catalogue = runpy.run_path(str(root / "d2lcourse" / "mistakes" / "toy.py"))
    reference = samples.solution_sources(assignment.source_path(folder))
    students = {"reference": reference, "blank": {}, **{
        case.name: {case.function: case.source}
        for case in catalogue["MISTAKES"] + catalogue["ALTERNATIVES"]}}
    for student, replacements in students.items():
        samples.write_submission(folder, assignment, student, replacements)
    result = run_in(root, "d2lcourse.cli", "grade", TOY, "--course", folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, catalogue


def messages(folder, student):
    path = folder / "reports" / TOY / "verdicts" / verdict_file_name(student)
    return [r["message"] for r in json.loads(path.read_text())["verdict"]["results"]]


@pytest.mark.skipif(bubblewrap_problem() is not None, reason="bubblewrap cannot run here")
def test_the_toy_grades_through_the_sandbox_as_scaffolded(graded):
    folder, catalogue = graded
    release = notebooks.read(folder / "release" / TOY / "toy.ipynb")
    assert "2 * x" not in str(release.cells) and "HIDDEN" not in str(release.cells)
    with open(folder / "reports" / TOY / "grades.csv") as stream:
        totals = {row["student_id"]: float(row["total"]) for row in csv.DictReader(stream)}
    full = scaffold.POINTS
    assert totals.pop("reference") == full and totals.pop("blank") == 0
    for alternative in catalogue["ALTERNATIVES"]:
        assert totals.pop(alternative.name) == full, messages(folder, alternative.name)
    for mistake in catalogue["MISTAKES"]:
        assert totals.pop(mistake.name) == 0
        assert mistake.message in messages(folder, mistake.name)[0]
    assert not totals
