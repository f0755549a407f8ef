"""The data-only format spoken between the grader and a sandboxed submission.

A message is one JSON document plus a list of arrays, each stored as `.npy` bytes and
read back with ``allow_pickle=False``: nothing from the sandbox is ever unpickled or
evaluated. Values are tagged so that types survive the trip (an mxnet array stays
distinct from a classic NumPy array, a tuple from a list), and every size is bounded.

Frame on the pipe: ``<8-byte length><JSON>`` then, for each array, ``<8-byte length><npy>``.
"""
import importlib
import inspect
import io
import json
import struct

import numpy as onp

from d2lcourse._mxnet import np
from d2lcourse.checks.core import FashionMNISTRef, GeneratorResult

MAX_JSON_BYTES = 4 << 20
MAX_ARRAY_BYTES = 256 << 20
MAX_ARRAYS = 4096
MAX_DEPTH = 16
MAX_ITEMS = 100_000
CALLABLE_MODULES = ("d2lcourse.checks.",)
_LENGTH = struct.Struct("<Q")


class WireError(Exception):
    """A message broke the format or its limits."""


class Unsupported:
    """Stands for a value of a type the wire does not carry (e.g. a gluon Block)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name}>"


# --------------------------------------------------------------------------- encode

def encode(value, arrays, depth=0):
    """A JSON-able tagged tree for `value`; arrays are appended to `arrays`."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return {"t": type(value).__name__.lower(), "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, np.ndarray):
        grad = getattr(value, "grad", None)
        return {"t": "mxarray", "i": add_array(arrays, value.asnumpy()),
                "grad": None if grad is None else add_array(arrays, grad.asnumpy())}
    if isinstance(value, onp.ndarray):
        return {"t": "ndarray", "i": add_array(arrays, value)}
    if isinstance(value, onp.generic):
        return {"t": "npscalar", "i": add_array(arrays, onp.asarray(value))}
    if isinstance(value, FashionMNISTRef):
        return {"t": "fashion_mnist", "split": value.split, "part": value.part,
                "count": value.count}
    if isinstance(value, GeneratorResult):
        return {"t": "generator", "v": encode_items(value, arrays, depth)}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "v": encode_items(value, arrays, depth)}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"t": "dict", "v": {k: encode(v, arrays, depth + 1) for k, v in value.items()}}
    if inspect.isfunction(value) and value.__module__.startswith(CALLABLE_MODULES):
        return {"t": "callable", "module": value.__module__, "name": value.__qualname__}
    return {"t": "unsupported", "type": f"{type(value).__module__}.{type(value).__qualname__}"}


def encode_items(items, arrays, depth):
    if len(items) > MAX_ITEMS:
        raise WireError(f"more than {MAX_ITEMS} items")
    return [encode(item, arrays, depth + 1) for item in items]


def add_array(arrays, array):
    if array.dtype.hasobject:
        raise WireError("object arrays are not data")
    arrays.append(array)
    if len(arrays) > MAX_ARRAYS:
        raise WireError(f"more than {MAX_ARRAYS} arrays")
    return len(arrays) - 1


# --------------------------------------------------------------------------- decode

def decode(tree, arrays, depth=0):
    """The value a tagged tree stands for (the inverse of `encode`)."""
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise WireError("malformed value")
    tag = tree.get("t")
    if tag in ("nonetype", "bool", "str"):
        value = tree["v"]
        if not (value is None or isinstance(value, (bool, str))):
            raise WireError("malformed scalar")
        return value
    if tag == "int":
        text = str(tree["v"])
        if len(text) > 400:
            raise WireError("integer too long")
        return int(text)
    if tag == "float":
        return float(str(tree["v"])[:64])
    if tag == "mxarray":
        array = np.array(array_at(arrays, tree["i"]), dtype=array_at(arrays, tree["i"]).dtype)
        if tree.get("grad") is not None:
            array.attach_grad()
            array.grad[:] = np.array(array_at(arrays, tree["grad"]))
        return array
    if tag == "ndarray":
        return array_at(arrays, tree["i"]).copy()
    if tag == "npscalar":
        return array_at(arrays, tree["i"])[()]
    if tag == "fashion_mnist":
        count = tree["count"]
        if tree["split"] not in ("train", "test") or tree["part"] not in ("images", "labels"):
            raise WireError("malformed data reference")
        return FashionMNISTRef(tree["split"], tree["part"], None if count is None else int(count))
    if tag in ("list", "tuple", "generator"):
        items = tree["v"]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError("malformed sequence")
        values = [decode(item, arrays, depth + 1) for item in items]
        return {"list": list, "tuple": tuple, "generator": GeneratorResult}[tag](values)
    if tag == "dict":
        return {str(k): decode(v, arrays, depth + 1) for k, v in tree["v"].items()}
    if tag == "callable":
        return trusted_callable(tree["module"], tree["name"])
    if tag == "unsupported":
        return Unsupported(str(tree.get("type", "?"))[:200])
    raise WireError(f"unknown tag {tag!r}")


def array_at(arrays, index):
    if not isinstance(index, int) or not 0 <= index < len(arrays):
        raise WireError("bad array index")
    return arrays[index]


def trusted_callable(module_name, name):
    """A module-level function of d2lcourse.checks, looked up by name (never code)."""
    if not str(module_name).startswith(CALLABLE_MODULES) or not str(name).isidentifier():
        raise WireError(f"callable {module_name}.{name} is not a check function")
    function = getattr(importlib.import_module(module_name), name, None)
    if not inspect.isfunction(function):
        raise WireError(f"{module_name}.{name} is not a function")
    return function


# --------------------------------------------------------------------------- frames

def write_message(stream, document, arrays=()):
    payload = json.dumps(document, allow_nan=False).encode()
    stream.write(_LENGTH.pack(len(payload)) + payload)
    for array in arrays:
        buffer = io.BytesIO()
        onp.save(buffer, onp.asarray(array, order="C"), allow_pickle=False)
        data = buffer.getvalue()
        stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_message(read_exactly):
    """Read one message with `read_exactly(n) -> bytes`; returns (document, arrays)."""
    document = json.loads(read_exactly(checked_length(read_exactly, MAX_JSON_BYTES)))
    if not isinstance(document, dict):
        raise WireError("a message is a JSON object")
    count = document.get("arrays", 0)
    if not isinstance(count, int) or not 0 <= count <= MAX_ARRAYS:
        raise WireError("bad array count")
    arrays = []
    for _ in range(count):
        data = read_exactly(checked_length(read_exactly, MAX_ARRAY_BYTES))
        array = onp.load(io.BytesIO(data), allow_pickle=False)
        arrays.append(array)
    return document, arrays


def checked_length(read_exactly, limit):
    (length,) = _LENGTH.unpack(read_exactly(_LENGTH.size))
    if length > limit:
        raise WireError(f"a frame of {length} bytes exceeds the limit of {limit}")
    return length


def send(stream, document, values=None):
    """Encode `values` (a dict of name -> value) into `document` and write it."""
    arrays = []
    if values is not None:
        document = {**document, "values": {k: encode(v, arrays) for k, v in values.items()}}
    write_message(stream, {**document, "arrays": len(arrays)}, arrays)


def receive(read_exactly):
    """(document, decoded values) of the next message."""
    document, arrays = read_message(read_exactly)
    values = {k: decode(v, arrays) for k, v in document.get("values", {}).items()}
    return document, values


