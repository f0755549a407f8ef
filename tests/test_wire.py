"""The grader/sandbox format carries data only, keeps types, and enforces its limits."""
import io

import numpy as onp
import pytest

from d2lcourse import np
from d2lcourse.autograder import wire
from d2lcourse.checks import core
from d2lcourse.checks.core import FashionMNISTRef, GeneratorResult


def roundtrip(values):
    stream = io.BytesIO()
    wire.send(stream, {"op": "x"}, values)
    stream.seek(0)
    return wire.receive(lambda n: stream.read(n))[1]


def test_types_survive_the_trip():
    values = {"mx": np.arange(6).reshape(2, 3), "classic": onp.eye(2), "tuple": (1, 2.5, None),
              "list": [True, "s"], "nan": float("nan"), "big": 2 ** 70,
              "generator": GeneratorResult([np.ones(2)]), "ref": FashionMNISTRef("test", "labels", 5),
              "callable": core.numerical_gradient, "dict": {"a": np.zeros(1)}}
    back = roundtrip(values)
    assert isinstance(back["mx"], np.ndarray) and back["mx"].shape == (2, 3)
    assert type(back["classic"]) is onp.ndarray
    assert back["tuple"] == (1, 2.5, None) and back["list"] == [True, "s"]
    assert onp.isnan(back["nan"]) and back["big"] == 2 ** 70
    assert isinstance(back["generator"], GeneratorResult)
    assert back["ref"] == FashionMNISTRef("test", "labels", 5)
    assert back["callable"] is core.numerical_gradient
    assert isinstance(back["dict"]["a"], np.ndarray)


def test_attached_gradient_survives():
    array = core.with_grad(np.ones(3), np.full(3, 2.0))
    back = roundtrip({"p": array})["p"]
    assert back.grad is not None and back.grad.asnumpy().tolist() == [2.0, 2.0, 2.0]


def test_unknown_objects_become_named_placeholders():
    back = roundtrip({"net": object()})["net"]
    assert isinstance(back, wire.Unsupported) and back.type_name == "builtins.object"


def test_pickled_arrays_are_refused():
    payload = b'{"values": {}, "arrays": 1}'
    evil = io.BytesIO()
    onp.save(evil, onp.array([object()], dtype=object), allow_pickle=True)
    stream = io.BytesIO(wire._LENGTH.pack(len(payload)) + payload
                        + wire._LENGTH.pack(len(evil.getvalue())) + evil.getvalue())
    with pytest.raises(ValueError, match="allow_pickle"):
        wire.receive(lambda n: stream.read(n))


def test_only_check_functions_are_callable_by_name():
    for module, name in (("os", "system"), ("d2lcourse.solutions.x", "f"),
                         ("d2lcourse.checks.core", "__import__")):
        with pytest.raises(wire.WireError):
            wire.decode({"t": "callable", "module": module, "name": name}, [])


def test_oversized_frames_are_refused():
    stream = io.BytesIO(wire._LENGTH.pack(wire.MAX_JSON_BYTES + 1))
    with pytest.raises(wire.WireError, match="exceeds the limit"):
        wire.receive(lambda n: stream.read(n))



def test_zero_dimensional_arrays_keep_their_shape():
    back = roundtrip({"item": np.arange(6).reshape(2, 3)[1, 2], "classic": onp.float64(2.5)})
    assert back["item"].shape == () and float(back["item"]) == 5
    assert back["classic"] == 2.5


def test_in_place_updates_are_mirrored_back_for_any_shape():
    from d2lcourse.autograder.evaluate import copy_back
    sent = [np.zeros(()), (np.zeros((2, 3)),), {"v": onp.zeros(2)}]
    copy_back(sent, [np.ones(()), (np.ones((2, 3)),), {"v": onp.ones(2)}])
    assert float(sent[0]) == 1 and float(sent[1][0].sum()) == 6 and sent[2]["v"].sum() == 2
