"""The similarity report's engine (autograder/similarity.py): what it sees through, what
never counts, and what it writes. The synthetic class comes from benchmarks/similarity.py."""
import csv
import random
import sys
from pathlib import Path

import pytest

from d2lcourse.autograder import reports, similarity
from d2lcourse.course import ASSIGNMENTS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import similarity as synthetic  # noqa: E402  (benchmarks/similarity.py)

SOFTMAX = '''def softmax(O):
    """Row-wise softmax."""
    E = np.exp(O - O.max(axis=1, keepdims=True))  # shift
    return E / E.sum(axis=1, keepdims=True)
'''
HIDDEN = '''def softmax(logits):
    # my own
    exps = np.exp(
        logits - logits.max(axis=1, keepdims=True)
    )

    return exps / exps.sum(axis=1, keepdims=True)
'''


def test_names_layout_comments_and_docstrings_leave_the_fingerprints_unchanged():
    assert similarity.fingerprints(SOFTMAX).keys() == similarity.fingerprints(HIDDEN).keys()


def test_reordered_statements_keep_their_fingerprints():
    first = "def f(a, b):\n    x = np.exp(a) * 2\n    y = np.log(b) + 3\n    return x + y\n"
    second = "def f(a, b):\n    y = np.log(b) + 3\n    x = np.exp(a) * 2\n    return x + y\n"
    assert similarity.fingerprints(first).keys() == similarity.fingerprints(second).keys()


def test_other_code_has_other_fingerprints():
    other = "def softmax(O):\n    E = np.exp(O)\n    return E / E.sum(axis=0)\n"
    assert similarity.fingerprints(SOFTMAX).keys() != similarity.fingerprints(other).keys()


@pytest.fixture(scope="module")
def synthetic_class():
    """120 independent students of 04 (catalogue mixes in styles of their own), one
    renamed-and-commented copy, one reordered copy of 3 functions, blanks."""
    rng = random.Random(3)
    cells, planted, blanks = synthetic.build(0, rng)  # planted copies only
    keep = {name for pair in planted[:2] for name in pair[:2]}
    students = {name: cells[name] for name in keep}
    while len(students) < 120:
        students[f"x{len(students):03d}"] = {f: synthetic.styled(rng.choice(v), rng)
                                            for f, v in synthetic.variants().items()}
    students.update({name: {} for name in list(blanks)[:3]})
    pairs = similarity.compare(similarity.Cohort(
        students, similarity.known_sources(synthetic.ASSIGNMENT)))
    return students, planted[:2], blanks, pairs


def test_planted_copies_are_found_and_independent_students_are_not(synthetic_class):
    students, planted, blanks, pairs = synthetic_class
    flagged = {frozenset((p.first, p.second)) for p in pairs if not p.known}
    assert {frozenset(p[:2]) for p in planted} <= flagged
    assert flagged == {frozenset(p[:2]) for p in planted}
    assert not [p for p in pairs if p.first in blanks or p.second in blanks]


def test_a_class_that_is_all_stub_or_one_line_functions_is_never_flagged():
    stubs = {"relu": "def relu(X):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"}
    cells = {f"s{i}": dict(stubs) for i in range(5)}
    cells.update({f"r{i}": {"relu": "def relu(X):\n    return np.maximum(X, 0)\n"}
                  for i in range(5)})
    assert similarity.compare(similarity.Cohort(cells, stubs=stubs)) == []


def test_the_csv_and_the_section_show_each_pair_and_escape_what_students_wrote(tmp_path):
    pair = similarity.Pair("=cmd|'/c calc'!A1", "<b>bob</b>", False, 0.93, 11.0, ("softmax",),
                           {"softmax": ([3], [4])})
    cohort = similarity.Cohort({pair.first: {"softmax": SOFTMAX},
                                pair.second: {"softmax": HIDDEN + "<script>"}})
    reports.write_csv(tmp_path / "similarity.csv", similarity.CSV_COLUMNS,
                      similarity.csv_rows([pair], []))
    with open(tmp_path / "similarity.csv", newline="") as stream:
        (row,) = list(csv.DictReader(stream))
    assert row["student_a"] == "'=cmd|'/c calc'!A1" and row["grade_ids"] == "softmax"
    assert float(row["similarity"]) == 0.93
    section = similarity.html_section([pair], [], cohort)
    assert "<script>" not in section and "&lt;b&gt;bob&lt;/b&gt;" in section
    assert "<mark>" in section and "not proof" in section


def test_known_sources_are_the_reference_the_alternatives_and_d2l():
    known = similarity.known_sources(ASSIGNMENTS["02_linear_regression"])
    assert set(known["reference"]) == set(ASSIGNMENTS["02_linear_regression"].functions)
    assert {"synthetic_data", "linreg", "squared_loss", "sgd"} <= set(known["d2l"])
    assert any(name.startswith("alternative ") for name in known)
