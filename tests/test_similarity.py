"""The similarity report's engine (autograder/similarity.py): what it sees through, what
never counts, and what it writes. The synthetic class comes from benchmarks/similarity.py."""
import csv
import math
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


def test_a_line_written_another_way_is_not_read_as_part_of_someone_elses_code():
    # a student of the synthetic class who shifts O in place; another who also names the
    # result: every K-token window of the first is in the second, the whole lines are not
    own = ("def softmax(O):\n    O -= np.max(O, axis=-1, keepdims=True)\n    E = np.exp(O)\n"
           "    return E / np.sum(E, keepdims=True, axis=1)\n")
    other = own.replace("    return E /", "    out = E /") + "    return out\n"
    assert not similarity.fingerprints(own).keys() <= similarity.fingerprints(other).keys()


def test_a_copy_shares_all_of_a_function_and_a_line_written_another_way_does_not_match():
    copied = synthetic.obfuscate(SOFTMAX, "softmax", "helpers", random.Random(0))
    near = SOFTMAX.replace("return E / E.sum(", "return E / np.sum(E, ")
    documents = [similarity.Document(("student", name), source, similarity.fingerprints(source))
                 for name, source in (("own", SOFTMAX), ("copy", copied), ("near", near))]
    uniform = dict.fromkeys((v for d in documents for v in d.prints), 1.0)
    shares = {(i, j): share for i, j, _, share in similarity.closeness(documents, uniform)}
    assert shares[0, 1] == pytest.approx(1.0)             # renamed, split, dead code, comments
    assert shares[0, 2] < similarity.MATCH_SHARE


SPLIT = '''def shifted(logits, axis=1):
    return logits - logits.max(axis=axis, keepdims=True)


def softmax(O):
    E = np.exp(shifted(O))
    return E / E.sum(axis=1, keepdims=True)
'''


def test_a_function_split_into_a_helper_of_its_cell_reads_as_the_one_it_was():
    assert similarity.fingerprints(SPLIT).keys() == similarity.fingerprints(SOFTMAX).keys()
    kept = SPLIT.replace("E = np.exp(shifted(O))", "E = np.exp(shifted(O, 0))")
    assert similarity.fingerprints(kept).keys() != similarity.fingerprints(SOFTMAX).keys()
    recursive = "def f(n):\n    return 1 if n == 0 else n * f(n - 1)\n"
    assert len(similarity.statements(recursive)) == 2    # still there, header and return


def test_the_evidence_needed_is_what_independent_pairs_reach_with_chance_false_alarm():
    # three functions, in each 1 pair of 100 matches with evidence 2: a sum of 4 comes with
    # chance 3e-4, above FALSE_ALARM (2e-5); more than 4 only with all three, chance 1e-6
    assert 4 < similarity.needed_evidence({f: [2.0] * 100 for f in "abc"}, 10_000) <= 6
    # one such function: no sum is rare enough, nothing is flagged
    assert similarity.needed_evidence({"a": [2.0] * 100}, 10_000) == math.inf


COPIED = ("softmax_cross_entropy", "accuracy", "train_softmax_regression")
# Of the copied functions, those the source wrote and nobody else in the class did: what a
# partial copy is found by (benchmarks/similarity.py's `findable`).
DISTINCTIVE = ("softmax_cross_entropy", "train_softmax_regression")


def writers(students, function):
    """{student: the fingerprints of their `function`}."""
    return {n: similarity.fingerprints(cells.get(function, "")).keys()
            for n, cells in students.items()}


def wrote_alone(by_function, name):
    """Whether no other student's function holds all of `name`'s fingerprints, for each
    {student: fingerprints} of `by_function`."""
    return all(not any(other != name and theirs >= prints[name]
                       for other, theirs in prints.items())
               for prints in by_function)


@pytest.fixture(scope="module")
def synthetic_class():
    """120 students of 04 who mix the catalogue in styles of their own (benchmarks/
    similarity.py), among them: a renamed copy of x000, a copy of x001 split into helpers,
    a reordered copy of only 3 of x002's 7 functions, and 3 blank submissions."""
    rng = random.Random(5)
    variants = synthetic.variants()

    def student():
        return {f: synthetic.styled(rng.choice(v), rng) for f, v in variants.items()}

    students = {f"x{n:03d}": student() for n in range(114)}
    # x002, whose 3 functions are copied, is a student who wrote DISTINCTIVE alone (a draw
    # of the catalogue's variants and styles may give two students the same function)
    distinctive = [writers(students, f) for f in DISTINCTIVE]
    alone = next(n for n in sorted(students)[2:] if wrote_alone(distinctive, n))
    students["x002"], students[alone] = students[alone], students["x002"]
    planted = {"renamed": ("x000", "rename", synthetic.ASSIGNMENT.functions),
               "split": ("x001", "helpers", synthetic.ASSIGNMENT.functions),
               "partial": ("x002", "reorder", COPIED)}
    for name, (source, level, functions) in planted.items():
        own = student()
        students[name] = {f: synthetic.obfuscate(students[source][f], f, level, rng)
                          if f in functions else own[f] for f in own}
    blanks = {f"blank{n}" for n in range(3)}
    students.update({name: {} for name in blanks})
    pairs = similarity.compare(similarity.Cohort(
        students, similarity.known_sources(synthetic.ASSIGNMENT)))
    return students, {frozenset((copy, source)) for copy, (source, _, _) in planted.items()}, \
        blanks, pairs


def test_planted_copies_are_found_and_independent_students_are_not(synthetic_class):
    students, planted, blanks, pairs = synthetic_class
    flagged = {frozenset((p.first, p.second)) for p in pairs if not p.known}
    assert flagged == planted
    assert not [p for p in pairs if p.first in blanks or p.second in blanks]


def test_a_copy_of_3_of_7_functions_is_found_by_their_evidence_added(synthetic_class):
    students, _, _, pairs = synthetic_class
    (partial,) = [p for p in pairs if {p.first, p.second} == {"partial", "x002"}]
    assert set(partial.functions) == set(COPIED)
    # what makes it stand out: two of the three functions nobody else in the class wrote
    for function in DISTINCTIVE:
        copied = similarity.fingerprints(students["x002"][function]).keys()
        assert not [n for n, cells in students.items() if n not in ("x002", "partial")
                    and similarity.fingerprints(cells.get(function, "")).keys() >= copied]


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


HABITUAL = """def f(x, y):
    x -= x.max(axis=1, keepdims=True)
    n = x.shape[0]
    return -np.log(x.sum(axis=1) ** 2 + 1) / n + (y == 1)
"""


def test_a_students_habits_change_the_code_but_not_what_it_computes():
    import numpy
    rng = numpy.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), numpy.array([1, 0, 1, 2])

    def run(source):
        namespace = {"np": numpy}
        exec(source, namespace)
        return namespace["f"](x.copy(), y)

    never = dict.fromkeys(synthetic.HABITS, 0.0)
    assert similarity.fingerprints(synthetic.styled(HABITUAL, random.Random(0), never)).keys() \
        == similarity.fingerprints(HABITUAL).keys()
    for seed in range(5):
        always = synthetic.styled(HABITUAL, random.Random(seed),
                                  dict.fromkeys(synthetic.HABITS, 1.0))
        assert numpy.allclose(run(always), run(HABITUAL))
        assert similarity.fingerprints(always).keys() != similarity.fingerprints(HABITUAL).keys()


def test_a_copy_is_findable_only_when_its_functions_are_not_what_many_others_wrote():
    reference = {f: versions[0] for f, versions in synthetic.variants().items()}
    cells = {f"x{n:02d}": dict(reference) for n in range(20)}
    unusual = {f: source.rstrip() + f"\n    unusual = {n}.5\n"   # numbers stay in fingerprints
               for n, (f, source) in enumerate(reference.items())}
    cells.update({"common": dict(reference), "copies common": dict(reference),
                  "unusual": unusual, "copies unusual": dict(unusual)})
    planted = [synthetic.Planted("common", "copies common", "rename", "3 of 7", COPIED),
               synthetic.Planted("unusual", "copies unusual", "rename", "3 of 7", COPIED)]
    assert synthetic.findable(cells, planted, set()) == {"copies common": False,
                                                         "copies unusual": True}
