"""The grader/sandbox format carries data only, keeps types, and enforces its limits."""
import io
import json
import struct
import tracemalloc

import numpy as onp
import pytest

from d2lcourse import np
from d2lcourse.autograder import wire
from d2lcourse.checks import core, problems
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
              "callable": problems.cube, "dict": {"a": np.zeros(1)}}
    back = roundtrip(values)
    assert isinstance(back["mx"], np.ndarray) and back["mx"].shape == (2, 3)
    assert type(back["classic"]) is onp.ndarray
    assert back["tuple"] == (1, 2.5, None) and back["list"] == [True, "s"]
    assert onp.isnan(back["nan"]) and back["big"] == 2 ** 70
    assert isinstance(back["generator"], GeneratorResult)
    assert back["ref"] == FashionMNISTRef("test", "labels", 5)
    assert back["callable"] is problems.cube
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
    with pytest.raises(wire.WireError, match="numbers, bools or strings"):
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


# --------------------------------------------------------------------------- hostile replies

def frame(document, arrays=()):
    """A reader over one message as a hostile runner could write it (`document` may be
    raw bytes)."""
    payload = document if isinstance(document, bytes) else json.dumps(document).encode()
    data = wire._LENGTH.pack(len(payload)) + payload
    for array in arrays:
        body = array if isinstance(array, bytes) else wire.save_array(array)
        data += wire._LENGTH.pack(len(body)) + body
    stream = io.BytesIO(data)
    return lambda n: stream.read(n)


def reply(request, document, arrays=()):
    """What Sandbox.request makes of a reply to `request`: received, then checked."""
    return wire.check_reply(request, *wire.receive(frame(document, arrays)))


NONE = {"t": "nonetype", "v": None}
RESULT = {"op": "result", "error": None, "apis_used": [], "arrays": 0,
          "values": {"value": NONE, "args": {"t": "list", "v": []}}}


def result_with(value=NONE, **fields):
    return {**RESULT, "values": {"value": value, "args": {"t": "list", "v": []}}, **fields}


def loaded(**fields):
    return {"op": "loaded", "missing": {}, **fields}


def npy_header(descr="'<f4'", shape="(2,)", version=1, extra=b""):
    text = f"{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}".encode()
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + length + text + extra


MALFORMED = {
    "not JSON": ("call", b"\xff\xfe not json"),
    "a JSON list": ("call", b"[1, 2]"),
    "deeply nested JSON": ("call", b"[" * 100_000 + b"]" * 100_000),
    "NaN": ("call", b'{"op": NaN}'),
    "a huge integer": ("call", b'{"op": ' + b"9" * 5000 + b"}"),
    "an array count that is a string": ("call", b'{"op": "result", "arrays": "3"}'),
    "missing that is a list": ("load", loaded(missing=[])),
    "a reason that is not text": ("load", loaded(missing={"f": 3})),
    "an unknown field": ("load", loaded(grade=100)),
    "another op": ("load", {"op": "result", "missing": {}}),
    "error of the wrong type": ("call", result_with(error=42)),
    "error of the wrong length": ("call", result_with(error=["a", "b"])),
    "error with a dict": ("call", result_with(error=["a", {"x": 1}, "c"])),
    "apis_used a string": ("call", result_with(apis_used="npx.softmax")),
    "apis_used unknown": ("call", result_with(apis_used=["os.system"])),
    "seconds a bool": ("call", result_with(seconds=True)),
    "seconds negative": ("call", result_with(seconds=-1)),
    "no args": ("call", {**RESULT, "values": {"value": NONE}}),
    "values a list": ("call", {**RESULT, "values": []}),
    "an index that is a bool": ("call", result_with({"t": "ndarray", "i": True})),
    "an index out of range": ("call", result_with({"t": "ndarray", "i": 5})),
    "a float tag with garbage": ("call", result_with({"t": "float", "v": "1.5garbage"})),
    "a float tag with a list": ("call", result_with({"t": "float", "v": ["1"]})),
    "a dict tag whose v is a list": ("call", result_with({"t": "dict", "v": [1, 2]})),
    "an int tag with 500 digits": ("call", result_with({"t": "int", "v": "1" * 500})),
    "an int tag with two minus signs": ("call", result_with({"t": "int", "v": "--5"})),
    "an int tag with other digits": ("call", result_with({"t": "int", "v": "\u0661\u0662"})),
    "an unknown field in a value": ("call", result_with({"t": "str", "v": "a", "x": 1})),
    "a tag that is a list": ("call", result_with({"t": ["str"], "v": "a"})),
    "a bool that is a string": ("call", result_with({"t": "bool", "v": "yes"})),
    "a data reference with a bool count": ("call", result_with(
        {"t": "fashion_mnist", "split": "train", "part": "images", "count": True})),
    "a callable from an unknown check module": ("call", result_with(
        {"t": "callable", "module": "d2lcourse.checks.nope", "name": "f"})),
    "a callable imported into a check module": ("call", result_with(
        {"t": "callable", "module": "d2lcourse.checks.core", "name": "dataclass"})),
}


@pytest.mark.parametrize("request_op,document", MALFORMED.values(), ids=list(MALFORMED))
def test_malformed_replies_are_wire_errors_and_nothing_else(request_op, document):
    arrays = [onp.zeros(2)] if isinstance(document, dict) and "values" in document else []
    if arrays:
        document = {**document, "arrays": 1}
    with pytest.raises(wire.WireError):
        reply(request_op, document, arrays)


@pytest.mark.parametrize("array", [
    npy_header(shape="(10**12,)"),                          # allocation on the header's word
    npy_header(shape="(1000000000000,)"),
    npy_header(descr="'O'", extra=b"\0" * 16),              # objects
    npy_header(descr="[('a', '<f4')]", extra=b"\0" * 8),    # structured
    npy_header(version=2, shape="(" + "1," * 3000 + ")"),  # a header too long to parse
    npy_header(version=9),
    b"\x93NUMPY",
    npy_header(extra=b"\0" * 7),                            # data that does not fit the shape
], ids=["10**12 literal", "huge shape", "object", "structured", "long header", "version",
        "truncated", "short data"])
def test_arrays_are_parsed_without_trusting_their_header(array):
    with pytest.raises(wire.WireError):
        reply("call", result_with({"t": "ndarray", "i": 0}, arrays=1), [array])


def test_the_arrays_of_one_message_are_bounded_in_total(monkeypatch):
    monkeypatch.setattr(wire, "MAX_MESSAGE_BYTES", 1 << 20)
    big = onp.zeros(100_000)                                  # 800 kB each
    document = result_with({"t": "list", "v": [{"t": "ndarray", "i": i} for i in range(2)]},
                           arrays=2)
    with pytest.raises(wire.WireError, match="exceeds the limit"):
        reply("call", document, [big, big])


def test_decoded_bytes_are_bounded_however_often_one_array_is_referenced(monkeypatch):
    monkeypatch.setattr(wire, "MAX_DECODED_BYTES", 8 << 20)
    value = {"t": "list", "v": [{"t": "ndarray", "i": 0}] * 10_000}   # 10,000 x 1 MB
    tracemalloc.start()
    try:
        with pytest.raises(wire.WireError, match="decode to more than"):
            reply("call", result_with(value, arrays=1), [onp.zeros(1 << 17)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, f"decoding grew the grader by {peak >> 20} MB"


def test_every_string_from_the_sandbox_is_cut():
    huge = "x" * (700 << 10)
    checked, values = reply("call", result_with(
        {"t": "list", "v": [{"t": "str", "v": huge}, {"t": "unsupported", "type": huge}]},
        error=[huge, huge, huge]))
    text, unsupported = values["value"]
    assert len(text) <= wire.MAX_TEXT + 10 and len(unsupported.type_name) <= wire.MAX_NAME
    assert all(len(part) <= wire.MAX_TEXT + 10 for part in checked["error"])
    load, _ = reply("load", loaded(missing={"f": huge}))
    assert len(load["missing"]["f"]) <= wire.MAX_TEXT + 10
    for tree in ({"t": huge, "v": 1}, {"t": "dict", "v": {huge: NONE}}):
        with pytest.raises(wire.WireError) as error:
            reply("call", result_with(tree))
        assert len(str(error.value)) < 300, "the error echoes what the sandbox sent"


def test_in_place_updates_are_mirrored_only_into_arrays_of_the_same_kind():
    from d2lcourse.autograder.evaluate import copy_back
    sent = [np.zeros(3), onp.zeros(3)]
    copy_back(sent, [onp.ones(3), onp.array(["a", "b", "c"])])
    copy_back(sent, [np.ones(3, dtype="int32"), onp.ones(4)])
    assert float(sent[0].sum()) == 0 and sent[1].sum() == 0
