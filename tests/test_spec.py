"""The check engine (d2lcourse/checks/spec.py): checks that are data.

tests/test_checks_* test what the converted checks decide; these test that they are specs
(and how many of the course's entry points are), that their entry points take what test
cells pass, that every message a spec can give is produced by a catalogued case, and that
a case materialises as data, also from the student package's recorded answers alone.
"""
import ast
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

from d2lcourse.checks import core, mlp, spec
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import is_test_cell, read
from d2lcourse.solutions import mlp as ref

from helpers import quietly, replaying

# The number of the course's entry points that are specs: it may grow, never shrink.
SPECS_AT_LEAST = 42


def spec_entry_points(module):
    """{name: the syntax tree of its value} of the module's `name = spec.check(...)`."""
    tree = ast.parse(Path(module.__file__).read_text())
    return {node.targets[0].id: node.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "spec.check"}


def called_by_test_cells(assignment):
    """The names `check.<name>(...)` that the source notebook's test cells call."""
    cells = [cell.source for cell in read(assignment.source_path()).cells if is_test_cell(cell)]
    return set(re.findall(r"\bcheck\.(\w+)\(", "\n".join(cells)))


def defined_functions(module):
    tree = ast.parse(Path(module.__file__).read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def checks_module(assignment):
    return importlib.import_module(f"d2lcourse.checks.{assignment.module}")


def specs_called_by_test_cells(assignment):
    """The entry points of `assignment` that test cells call and that are specs: a
    `name = spec.check(...)` with no def of that name in its checks module."""
    module = checks_module(assignment)
    return sorted((set(spec_entry_points(module)) - defined_functions(module))
                  & called_by_test_cells(assignment))


# {assignment id: (checks module, its entry points that are specs)}, found, not listed: a
# new assignment's specs are tested as they stand.
SPEC_ENTRY_POINTS = {a.id: (checks_module(a), specs_called_by_test_cells(a))
                     for a in ASSIGNMENTS.values() if specs_called_by_test_cells(a)}
REFERENCES = {module: importlib.import_module(f"d2lcourse.solutions.{module.__name__.split('.')[-1]}")
              for module, _ in SPEC_ENTRY_POINTS.values()}
CASES = [pytest.param(module, name, id=name)
         for module, names in SPEC_ENTRY_POINTS.values() for name in names]


@pytest.mark.parametrize("module,names", [pytest.param(*value, id=key) for key, value
                                          in SPEC_ENTRY_POINTS.items()])
def test_converted_entry_points_are_specs_without_a_def_of_their_own(module, names):
    assert sorted(spec_entry_points(module)) == sorted(names)
    assert not set(names) & defined_functions(module)
    for name in names:
        entry = getattr(module, name)
        assert entry.func is spec.run and isinstance(entry.args[0], spec.Spec), name


def test_the_entry_points_that_are_specs_are_counted_and_do_not_regress():
    """Entry points are what test cells call; a spec is a `name = spec.check(...)` with no
    def of that name in its checks module."""
    entry_points = {(a.id, name) for a in ASSIGNMENTS.values() for name in called_by_test_cells(a)}
    specs = {(key, name) for key, (_, names) in SPEC_ENTRY_POINTS.items() for name in names}
    print(f"{len(specs)} of the {len(entry_points)} entry points are specs")
    assert len(specs) >= SPECS_AT_LEAST


def messages_of(one_spec):
    """Every message the spec can fail with from its data: its mistakes' and its advice
    (a spec whose own `wrong` writes the message has none)."""
    _, cases = spec.case(one_spec)
    texts = [] if one_spec.wrong else [text for one in cases for _, text in one.mistakes]
    texts += [one_spec.finite] if one_spec.finite else []
    texts += [spec.DIVISION] if one_spec.overflow_from else []
    texts += [one_spec.transposed.rsplit("}", 1)[-1]] if one_spec.transposed else []  # its words
    return texts + ([one_spec.kink.advice] if one_spec.kink else [])


@pytest.mark.parametrize("assignment_id", SPEC_ENTRY_POINTS)
def test_every_message_of_a_spec_is_given_to_a_catalogued_case(assignment_id):
    golden = json.loads((Path(__file__).with_name("golden") / f"{assignment_id}.json").read_text())
    given = "\n".join(message for messages in golden.values() for message in messages)
    module, names = SPEC_ENTRY_POINTS[assignment_id]
    never = {(name, text) for name in names for text in messages_of(getattr(module, name).args[0])
             if text not in given}
    assert not never, f"no catalogued case of {assignment_id} gets these messages: {never}"


def test_an_entry_point_takes_the_parameters_of_its_input_builder():
    parameters = inspect.signature(mlp.sigmoid_stable).parameters
    assert list(parameters) == ["function", "magnitude", "shape", "seed"]
    assert parameters["magnitude"].default == 1e4
    assert "on 6 N(0, 2^2) inputs" in quietly(lambda: mlp.relu_matches(ref.relu, (3, 2), 2.0))
    with pytest.raises(TypeError):
        mlp.relu_matches(ref.relu, size=(3, 2))


# The parameters of a public case and of another one, where the default's differ.
OTHER_CASES = {"max_stable_lr_matches": (dict(curvatures=(5.0,)), dict(curvatures=(6.0,))),
               "gd_matches": (dict(x0=3.0), dict(x0=4.0)),
               "grad_f_at": (dict(x=1.0), dict(x=-2.5)),
               "numerical_derivative_central": (dict(x=1.5), dict(x=-0.7)),
               "gd_2d_matches": (dict(x0=(1.0, 2.0)), dict(x0=(2.0, 1.0))),
               "init_mlp_params_shapes": (dict(num_hiddens=3), dict(num_hiddens=4))}


@pytest.mark.parametrize("module,name", CASES)
def test_a_public_case_materialises_from_the_recorded_answers_alone(module, name):
    entry = getattr(module, name)
    one_spec = entry.args[0]
    public, other = OTHER_CASES.get(name, (dict(seed=3), dict(seed=4)))
    params, cases = spec.case(one_spec, **public)
    assert public.items() <= params.items() and cases
    with replaying(lambda: entry(getattr(REFERENCES[module], one_spec.name), **public)):
        _, replayed = spec.case(one_spec, **public)
        with pytest.raises(core.UnknownAnswer):
            spec.case(one_spec, **other)
    assert ([core.case_key("case", one._asdict()) for one in cases]
            == [core.case_key("case", one._asdict()) for one in replayed])


def test_a_pair_names_its_entries_as_a_student_writes_them():
    """The worst entry of a pair or list is named in the arrays' order ("w[1, 0]", "b"),
    computed for that entry alone (05's parameters have 200,000 entries)."""
    names, shapes = ["w", "b"], [(2, 3), (1,)]
    written = [spec.entry_name(names, shapes, k) for k in range(7)]
    assert written == ["w[0, 0]", "w[0, 1]", "w[0, 2]", "w[1, 0]", "w[1, 1]", "w[1, 2]", "b"]
    with pytest.raises(IndexError):
        spec.entry_name(names, shapes, 7)
