"""`d2lcourse grade` and `d2lcourse similarity` on a small graded class of 01 with a planted
copy: similarity.csv names the pair and nobody else, and report.html shows the section,
side by side, in Chromium (screenshot)."""
import csv
import random
import subprocess
import sys
from pathlib import Path

import pytest

from d2lcourse import mistakes as catalogue
from d2lcourse.autograder import samples, similarity
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.autograder.pages import REPORT_POLICY
from helpers import copy_of
from test_pages import measure

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import similarity as synthetic  # noqa: E402  (benchmarks/similarity.py)

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="grading needs bubblewrap, which cannot run here")
ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]
D2LCOURSE = [sys.executable, "-m", "d2lcourse.cli"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released_course):
    """Six students who each mix the reference and the catalogue in a style of their own,
    a seventh who copied the first (renamed, reformatted, commented, reordered), a blank,
    graded in a copy of the shared released course."""
    course = copy_of(released_course, tmp_path_factory.mktemp("similar") / "course")
    mistakes, alternatives = catalogue.load(ASSIGNMENT)
    reference = similarity.known_sources(ASSIGNMENT)["reference"]
    choices = {f: [reference[f]] + [m.source for m in [*alternatives, *mistakes]
                                    if m.function == f] for f in ASSIGNMENT.functions}
    rng = random.Random(0)
    students = {f"student{k}": {f: synthetic.styled(rng.choice(v), rng)
                                for f, v in choices.items()} for k in range(6)}
    students["copier"] = {f: synthetic.obfuscate(source, f, "reorder", rng)
                          for f, source in students["student0"].items()}
    students["blank"] = {}
    for student, cells in students.items():
        samples.write_submission(course, ASSIGNMENT, student, cells)
    run = subprocess.run([*D2LCOURSE, "grade", ASSIGNMENT.id, "--course", str(course)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    return course


def rows(course):
    with open(course / "reports" / ASSIGNMENT.id / "similarity.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def test_similarity_csv_names_the_copied_pair_and_no_one_else(graded):
    found = rows(graded)
    students = [r for r in found if r["student_b"].startswith(("student", "copier", "blank"))]
    assert [{r["student_a"], r["student_b"]} for r in students] == [{"student0", "copier"}]
    (pair,) = students
    assert float(pair["similarity"]) > 0.9
    assert set(pair["grade_ids"].split()) >= {"grad_f", "jacobian_linear", "autograd_grad"}
    assert not [r for r in found if "blank" in (r["student_a"], r["student_b"])]


def test_the_command_writes_the_same_pairs_and_a_page(graded):
    before = rows(graded)
    run = subprocess.run([*D2LCOURSE, "similarity", ASSIGNMENT.id, "--course", str(graded)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "not proof" in run.stdout and "similarity.csv" in run.stdout
    assert rows(graded) == before
    assert (graded / "reports" / ASSIGNMENT.id / "similarity.html").is_file()


def test_the_report_shows_the_pair_side_by_side_with_matching_lines_marked(graded, tmp_path):
    page = graded / "reports" / ASSIGNMENT.id / "report.html"
    text = page.read_text()
    assert "id=similarity" in text and "not proof" in text
    layout, dom = measure(page, tmp_path, "similarity", "h3[id^=pair]", REPORT_POLICY)
    assert layout["marks"] == ["copier"]             # one pair shown side by side
    assert layout["wide"] == 0 and layout["scrollWidth"] <= layout["clientWidth"]
    assert dom.count("<mark>") >= 10
