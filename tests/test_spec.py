"""The check engine (d2lcourse/checks/spec.py): checks that are data.

tests/test_checks_mlp.py and tests/test_checks_ndarray_autograd.py test what the converted
checks decide; these test that they are specs, that their entry points take what test cells
pass, that every message a spec can give is produced by a catalogued case, and that a case
materialises as data, also from the student package's recorded answers alone.
"""
import ast
import inspect
import json
from pathlib import Path

import numpy as onp
import pytest

from d2lcourse.checks import core, mlp, ndarray_autograd, spec
from d2lcourse.solutions import mlp as ref
from d2lcourse.solutions import ndarray_autograd as ref_ndarray_autograd

from helpers import quietly, replaying

SPEC_ENTRY_POINTS = {
    "01_ndarray_autograd": (ndarray_autograd, ["grad_f_matches"]),
    "05_mlp": (mlp, [
        "relu_matches", "sigmoid_matches", "sigmoid_stable", "tanh_matches", "tanh_stable",
        "relu_grad_matches", "sigmoid_grad_matches", "tanh_grad_matches"])}
REFERENCES = {ndarray_autograd: ref_ndarray_autograd, mlp: ref}
CASES = [pytest.param(module, name, id=name)
         for module, names in SPEC_ENTRY_POINTS.values() for name in names]


def spec_entry_points(module):
    """{name: the syntax tree of its value} of the module's `name = spec.check(...)`."""
    tree = ast.parse(Path(module.__file__).read_text())
    return {node.targets[0].id: node.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "spec.check"}


def defined_functions(module):
    tree = ast.parse(Path(module.__file__).read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("module,names", [pytest.param(*value, id=key) for key, value
                                          in SPEC_ENTRY_POINTS.items()])
def test_converted_entry_points_are_specs_without_a_def_of_their_own(module, names):
    assert sorted(spec_entry_points(module)) == sorted(names)
    assert not set(names) & defined_functions(module)
    for name in names:
        entry = getattr(module, name)
        assert entry.func is spec.run and isinstance(entry.args[0], spec.Spec), name


def messages_of(one_spec):
    """Every message the spec can fail with but the engine's own reports."""
    _, _, _, mistakes = spec.case(one_spec)
    texts = [text for _, text in mistakes]
    texts += [one_spec.finite] if one_spec.finite else []
    texts += [spec.DIVISION] if one_spec.overflow_from else []
    return texts + ([one_spec.kink.advice] if one_spec.kink else [])


@pytest.mark.parametrize("assignment_id", SPEC_ENTRY_POINTS)
def test_every_message_of_a_spec_is_given_to_a_catalogued_case(assignment_id):
    golden = json.loads(Path(__file__).with_name("golden_messages.json").read_text())
    given = "\n".join(message for key, messages in golden.items()
                      if key.startswith(f"{assignment_id}/") for message in messages)
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


@pytest.mark.parametrize("module,name", CASES)
def test_a_public_case_materialises_from_the_recorded_answers_alone(module, name):
    entry = getattr(module, name)
    one_spec = entry.args[0]
    params, x, expected, mistakes = spec.case(one_spec, seed=3)
    assert x.dtype == onp.float32 and params["seed"] == 3
    with replaying(lambda: entry(getattr(REFERENCES[module], one_spec.name), seed=3)):
        _, replayed_x, replayed, replayed_mistakes = spec.case(one_spec, seed=3)
        with pytest.raises(core.UnknownAnswer):
            spec.case(one_spec, seed=4)
    assert onp.array_equal(replayed_x, x) and onp.array_equal(replayed, expected)
    assert [text for _, text in replayed_mistakes] == [text for _, text in mistakes]
