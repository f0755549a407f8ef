"""The student package holds no answer, and its visible tests say what the instructor's say.

For two schedules (nothing published; 01-04 published), `make student-wheel` builds the
wheel. The first is installed into a fresh virtual environment with its pinned
dependencies (downloaded from the package index once, into build/student/), the second
over it, as a student upgrades. There:

- no file has a significant line (whitespace, comments and docstrings dropped; a line
  that computes something, of 14 characters or more, not in the released stub and not an
  idiom of unrelated code) of an unpublished assignment's reference solution or
  catalogued alternative, or of any hidden test;
- the mistakes catalogue, the autograder, the demo and unpublished solutions cannot be
  imported, and the command line has only `check` and `doctor`;
- every released notebook whose setup is satisfied self-checks with the same results as
  in the instructor's install, for the reference, the released stub, and every catalogued
  mistake and alternative whose visible tests ask an oracle a question that no run before
  them asked (the others run the same code, on answers a replay has confirmed, in both
  installs); with 01-04 published, only the notebooks whose setup imports a
  published solution (the two wheels differ in those solutions alone, so the others
  self-check as with nothing published);
- the grader shows later setup cells the published solutions only.

The recordings the wheels ship come from tests/test_course.py's runs when it ran first
(conftest.py puts both files on one xdist worker, in that order).
"""
import ast
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tokenize
import zipfile

import nbformat
import pytest

from d2lcourse import mistakes, notebooks, recordings, student_package
from d2lcourse.autograder.module_view import unpublished_references
from d2lcourse.course import ASSIGNMENTS, REPOSITORY
from d2lcourse.notebooks import HIDDEN_TESTS

SCHEDULES = {"none": (), "01-04": tuple(list(ASSIGNMENTS)[:4])}
MIN_SIGNIFICANT = 14  # characters of a normalised line: shorter ones are idioms


# Lines that compute nothing of their own: a block's header, names bound to names.
HEADERS = {"for", "while", "with", "if", "elif", "else", "try", "except", "finally", "def",
           "class", "import", "from"}
RENAMING = re.compile(r"^[\w,()]+=[\w.]+$")


def normalised_lines(source, computing=False):
    """The lines of Python `source` without whitespace, comments and docstrings (with
    `computing`, only those that compute something)."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant):
            docstrings.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    lines = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                          tokenize.DEDENT) or token.start[0] in docstrings:
            continue
        lines.setdefault(token.start[0], []).append(token.string)
    return {"".join(tokens) for tokens in lines.values() if not computing or not (
        tokens[0] in HEADERS or RENAMING.match("".join(tokens)))}


def significant(source, released=""):
    """Normalised lines of `source` that compute something, long enough to tell, and not
    in the released stub."""
    common = normalised_lines(released) if released else set()
    return {line for line in normalised_lines(source, computing=True)
            if len(line) >= MIN_SIGNIFICANT and line not in common}


def answers(published):
    """{normalised line: where it comes from} that the student package must not hold: of
    the unpublished assignments, the reference solutions and the alternatives; of every
    assignment, the hidden tests. A line that a published solution has too is public."""
    found, public = {}, set()
    for assignment in ASSIGNMENTS.values():
        notebook = notebooks.read(assignment.source_path())
        for cell in notebook.cells:
            if notebooks.is_test_cell(cell):
                for hidden in HIDDEN_TESTS.findall(cell.source):
                    for line in significant(hidden.replace("### BEGIN HIDDEN TESTS", "")
                                            .replace("### END HIDDEN TESTS", "")):
                        found[line] = f"a hidden test of {notebooks.grade_id(cell)}"
        solutions = notebooks.cells_by_id(notebook, notebooks.is_solution_cell)
        if assignment.id in published:
            public.update(*(significant(cell.source) for cell in solutions.values()))
            continue
        stubs = "\n".join(recordings.visible_cases(assignment, notebook, training=False)
                          ["released_stub"][0].values())
        for name, cell in solutions.items():
            for line in significant(cell.source, stubs):
                found[line] = f"the reference solution of {name}"
        for alternative in mistakes.load(assignment)[1]:
            for line in significant(alternative.source, stubs):
                found[line] = f"the alternative {alternative.name}"
    return {line: where for line, where in found.items() if line not in public}


def venv_python(venv):
    return str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def wheelhouse():
    """The student package's pinned dependencies, downloaded from the package index once
    (kept in build/student/ by a digest of the requirements and the Python version)."""
    requirements = "\n".join(student_package.requirements()) + "\n"
    digest = hashlib.sha256(f"{sys.version_info[:2]}{requirements}".encode()).hexdigest()[:12]
    folder = student_package.CACHE / f"wheelhouse-{digest}"
    if not (folder / "complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "requirements.txt").write_text(requirements)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(folder),
                        "-r", str(folder / "requirements.txt")], check=True)
        (folder / "complete").touch()
    return folder


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """{schedule: the student wheel `make student-wheel` builds for it}."""
    built = {}
    for schedule, published in SCHEDULES.items():
        dist = tmp_path_factory.mktemp(f"student-{schedule}") / "dist"
        subprocess.run(["make", "-s", "student-wheel", f"PUBLISHED={' '.join(published)}",
                        f"STUDENT_DIST={dist}"], cwd=REPOSITORY, check=True)
        found = list(dist.glob("*.whl"))
        assert len(found) == 1, f"expected one wheel in {dist}: {found}"
        built[schedule] = found[0]
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment, which the schedules' wheels are installed into in turn."""
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder


@pytest.fixture(scope="module", params=list(SCHEDULES))
def student_venv(request, wheelhouse, wheels, venv):
    """(published ids, the venv) with the student wheel of that schedule installed: the
    first one into the fresh venv with its pinned dependencies, the next one over it, as a
    student upgrades when solutions are published (the wheels differ in those alone)."""
    installed = list(venv.glob("lib/python*/site-packages/d2lcourse-*.dist-info"))
    upgrade = ["--force-reinstall", "--no-deps"] if installed else []
    subprocess.run([venv_python(venv), "-m", "pip", "install", "-q", "--no-compile",
                    "--no-index", "--find-links", str(wheelhouse), *upgrade,
                    str(wheels[request.param])], check=True)
    return SCHEDULES[request.param], venv


def wheel_files(wheel):
    """{path: bytes} of the wheel's files but its RECORD (a list of the others)."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()
                if not name.endswith(".dist-info/RECORD")}


def test_the_schedules_differ_only_in_the_published_solutions(wheels):
    """Publishing adds the published reference solutions and changes nothing else (the
    recorded answers neither: the first build may record them, the second reads them from
    build/student/), so an assignment whose setup cells import no reference solution
    self-checks the same in every schedule (test_visible_tests_say_what_the_instructors_say
    relies on it)."""
    nothing, published = (wheel_files(wheels[schedule]) for schedule in SCHEDULES)
    added = {f"d2lcourse/solutions/{ASSIGNMENTS[a].module}.py" for a in SCHEDULES["01-04"]}
    assert set(published) - set(nothing) == added
    assert set(nothing) <= set(published)
    assert [name for name in nothing if nothing[name] != published[name]] == []


TEXT = {".py", ".pyi", ".pyx", ".txt", ".md", ".rst", ".json", ".ipynb", ".cfg", ".toml",
        ".html", ".js", ".j2", ".tpl", ".pickle", ""}


def text_files(venv):
    for path in venv.rglob("*"):
        if path.suffix in TEXT and path.is_file() and not path.is_symlink():
            yield path


def normalised_file(path):
    text = path.read_bytes().decode("utf-8", errors="ignore")
    return {"".join(line.split("#")[0].split()) for line in text.splitlines()}


@pytest.fixture(scope="module")
def forbidden_lines():
    """{published ids: answers(published)} of each schedule."""
    return {published: answers(published) for published in SCHEDULES.values()}


@pytest.fixture(scope="module")
def answer_lines(forbidden_lines):
    """The normalised lines of a file that are answers of some schedule. A file is read
    again only when it changed: upgrading the venv rewrites the d2lcourse package alone,
    so the dependencies' files are read once for both schedules."""
    anywhere = set().union(*forbidden_lines.values())
    read = {}

    def lines(path):
        stat = path.stat()
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if path not in read or read[path][0] != signature:
            read[path] = signature, normalised_file(path) & anywhere
        return read[path][1]
    return lines


def test_no_file_holds_an_answer(student_venv, forbidden_lines, answer_lines):
    """A significant line of an answer is in no file of the venv, except where it is an
    idiom of code that has nothing to do with the course (another package has it too)."""
    published, venv = student_venv
    forbidden = forbidden_lines[published]
    assert forbidden, "the answers to look for were found"
    site = next(venv.glob("lib/python*/site-packages"))
    course = [site / "d2lcourse", site / "d2l"]
    found, idioms = {}, set()
    for path in text_files(venv):
        lines = answer_lines(path) & forbidden.keys()
        if any(folder in path.parents for folder in course):
            for line in lines:
                found.setdefault(line, []).append(path.relative_to(venv))
        else:
            idioms |= lines
    leaks = [f"{where[0]}: {forbidden[line]}: {line}" for line, where in found.items()
             if line not in idioms]
    assert not leaks, "the student package holds answers:\n" + "\n".join(sorted(leaks)[:40])
    unpublished = {a.module for a in ASSIGNMENTS.values() if a.id not in published}
    shipped = [path for path in (site / "d2lcourse" / "solutions").rglob("*")
               if path.name.split(".")[0] in unpublished]  # as source or as bytecode
    assert not shipped, shipped


def test_answers_cannot_be_imported_and_the_tools_work(student_venv):
    published, venv = student_venv
    for module in ("d2lcourse.mistakes", "d2lcourse.autograder", "d2lcourse.demo",
                   *(f"d2lcourse.solutions.{a.module}" for a in ASSIGNMENTS.values()
                     if a.id not in published)):
        found = subprocess.run([venv_python(venv), "-c", f"import {module}"],
                               capture_output=True, text=True, cwd=venv)
        assert found.returncode != 0 and "ModuleNotFoundError" in found.stderr, module
    if published:  # in one process: each loads MXNet
        modules = ", ".join(f"d2lcourse.solutions.{ASSIGNMENTS[a].module}" for a in published)
        subprocess.run([venv_python(venv), "-c", f"import {modules}"], check=True, cwd=venv)
    commands = subprocess.run([str(venv / "bin" / "d2lcourse"), "--help"], cwd=venv,
                              capture_output=True, text=True, check=True).stdout
    assert "check" in commands and "doctor" in commands
    assert not {"demo", "grade", "similarity"} & set(commands.split()), commands
    doctor = subprocess.run([str(venv / "bin" / "d2lcourse"), "doctor"], cwd=venv,
                            capture_output=True, text=True)
    assert doctor.returncode == 0 and "The course can run here." in doctor.stdout, doctor.stdout
    kernels = subprocess.run([str(venv / "bin" / "jupyter"), "kernelspec", "list"], cwd=venv,
                             capture_output=True, text=True, check=True).stdout
    assert "python3" in kernels, kernels


# Runs in the student's venv: each case's visible tests, as `d2lcourse check` runs them.
SELF_CHECK = """
import json, sys
from d2lcourse import grading, notebooks
from d2lcourse.course import ASSIGNMENTS
cases = json.load(open(sys.argv[1]))
results = {}
for assignment_id, runs in cases.items():
    assignment = ASSIGNMENTS[assignment_id]
    notebook = notebooks.read(sys.argv[2] + "/" + assignment.notebook)
    setup = grading.setup_sources(notebook)
    for name, (sources, tested) in runs.items():
        functions = grading.define_functions(assignment.functions, setup, sources)
        results[assignment_id + "/" + name] = [
            (r.grade_id, r.points, r.message) for r in grading.run_tests(
                assignment, notebooks.graded_tests(notebook), functions, hidden=False,
                only=tested)]
json.dump(results, open(sys.argv[3], "w"))
"""


def grading_setup(assignment):
    from d2lcourse import grading
    return grading.setup_sources(notebooks.read(assignment.source_path()))


def replays(assignment, published):
    """Whether a schedule replays the assignment's visible tests: every ready one with
    nothing published; else those whose setup cells import a reference solution (the
    package runs the others as with nothing published: see
    test_the_schedules_differ_only_in_the_published_solutions)."""
    return not published or bool(unpublished_references(grading_setup(assignment), ()))


def replayed_runs(recording):
    """The runs a replay needs: the reference's and the released stub's (every test), then
    each run (by name) that asks an oracle a question that no run before it asked. The
    others cannot differ: the student package's checks differ from the instructor's in the
    oracles alone, and their oracles give the answers that a replayed run has confirmed
    (05's trainer alternatives, for one, ask only what the reference asks)."""
    replayed = {"reference", "released_stub"}
    asked = set().union(*(recording.questions[name] for name in replayed))
    for name in sorted(recording.questions.keys() - replayed):
        if not recording.questions[name] <= asked:
            replayed.add(name)
            asked |= recording.questions[name]
    return replayed


def test_visible_tests_say_what_the_instructors_say(student_venv, tmp_path):
    published, venv = student_venv
    ready = [a for a in ASSIGNMENTS.values()
             if not unpublished_references(grading_setup(a), published)]
    expected_ready = {"01_ndarray_autograd", "02_linear_regression", "04_softmax_regression"}
    assert {a.id for a in ready} == (set(ASSIGNMENTS) if published else expected_ready)
    replayed = [a for a in ready if replays(a, published)]
    assert {a.id for a in replayed} == ({"03_optimization", "05_mlp"} if published
                                        else expected_ready)
    released = tmp_path / "released"
    released.mkdir()
    cases, expected = {}, {}
    for assignment in replayed:
        notebook = notebooks.read(assignment.source_path())
        for cell in notebook.cells:  # what the student sees: no hidden test
            if notebooks.is_test_cell(cell):
                cell.source = notebooks.without_hidden_tests(cell.source)
        nbformat.write(notebook, str(released / assignment.notebook))
        recording = recordings.recording(assignment)
        runs = {name: run for name, run in recordings.visible_cases(
            assignment, notebook).items() if name in replayed_runs(recording)}
        cases[assignment.id] = runs
        expected.update({f"{assignment.id}/{name}": [list(r) for r in recording.results[name]]
                         for name in runs})
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "self_check.py").write_text(SELF_CHECK)
    subprocess.run([venv_python(venv), str(tmp_path / "self_check.py"), str(tmp_path / "cases.json"),
                    str(released), str(tmp_path / "results.json")], check=True,
                   env={**os.environ, "MPLBACKEND": "Agg"}, cwd=tmp_path)
    got = json.loads((tmp_path / "results.json").read_text())
    differ = [f"{name}:\n  instructor: {expected[name]}\n  student:    {got[name]}"
              for name in expected if got[name] != expected[name]]
    assert not differ, "\n".join(differ[:10])
    for assignment in replayed:
        reference = got[f"{assignment.id}/reference"]
        stub = got[f"{assignment.id}/released_stub"]
        assert reference and all(points > 0 for _, points, _ in reference), reference
        assert all(points == 0 for _, points, _ in stub), stub


def test_the_grader_shows_published_solutions_only(tmp_path, capsys):
    """03's setup imports 02's reference: with 02 unpublished, grading 03 stops before any
    submission runs, naming the fix; published, the sandbox may show exactly those."""
    from d2lcourse import cli
    from d2lcourse.autograder import samples
    from d2lcourse.autograder.module_view import sandbox_view
    optimization, mlp = ASSIGNMENTS["03_optimization"], ASSIGNMENTS["05_mlp"]
    setup = grading_setup(mlp)
    assert unpublished_references(setup, ()) == [
        "02_linear_regression", "03_optimization", "04_softmax_regression"]
    assert unpublished_references(setup, SCHEDULES["01-04"]) == []
    allowed, _ = sandbox_view(mlp, setup)
    assert set(allowed) == {"linear_regression", "optimization", "softmax_regression"}

    course = samples.copy_course(tmp_path / "course", [optimization.id])
    (course / "published.txt").write_text("01_ndarray_autograd  # after its deadline\n")
    release = course / "release" / optimization.id
    release.mkdir(parents=True)
    notebook = notebooks.read(optimization.source_path())
    nbformat.write(notebook, str(release / optimization.notebook))
    samples.write_submission(course, optimization, "ada", {})
    assert cli.main(["grade", optimization.id, "--course", str(course)]) == 1
    error = capsys.readouterr().err
    assert ("03_optimization's setup cells import the reference solutions of "
            "02_linear_regression, which are not published: add them to the course's "
            "published.txt") in error
    assert not (course / "feedback").exists()

    (course / "published.txt").write_text("nothing_of_this_course\n")
    assert cli.main(["grade", optimization.id, "--course", str(course)]) == 2
    assert "names nothing_of_this_course, not an assignment of the course" in \
        capsys.readouterr().err
