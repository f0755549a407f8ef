"""The data-only format spoken between the grader and a sandboxed submission.

A message is one JSON document plus a list of arrays, each stored as `.npy` bytes and
read back by our own parser: nothing from the sandbox is ever unpickled or evaluated.
Values are tagged so that types survive the trip (an mxnet array stays distinct from a
classic NumPy array, a tuple from a list).

The sandbox is hostile, so a message from it is checked before anything is built from
it: every frame, the arrays of a message together, the bytes its values decode to
(however often they refer to one array), every name and every text are bounded, every
field has one type, and any breach is a `WireError`, never another exception.

Frame on the pipe: ``<8-byte length><JSON>`` then, for each array, ``<8-byte length><npy>``.
"""

import ast
import importlib
import inspect
import io
import json
import math
import struct

import numpy as onp

from d2lcourse._mxnet import mx, np
from d2lcourse.checks.core import WATCHABLE_APIS, FashionMNISTRef, GeneratorResult

MAX_JSON_BYTES = 4 << 20
MAX_ARRAY_BYTES = 256 << 20
MAX_MESSAGE_BYTES = 256 << 20  # all the arrays of one message
MAX_DECODED_BYTES = 256 << 20  # array data one message's values decode to, in total
MAX_ARRAYS = 4096
MAX_DEPTH = 16
MAX_ITEMS = 100_000
MAX_NAME = 200  # tags, dict keys, type, module and function names
MAX_TEXT = 2000  # strings, error messages, reasons (longer are cut)
MAX_INT_DIGITS = 400
MAX_NPY_HEADER = 4096
ARRAY_KINDS = "biufcSU"  # numbers, bools and fixed-size strings: data only
MX_DTYPES = {
    onp.dtype(t)
    for t in ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")
}
CALLABLE_MODULES = ("d2lcourse.checks.",)
_LENGTH = struct.Struct("<Q")
FIELDS = {
    "nonetype": {"v"},
    "bool": {"v"},
    "str": {"v"},
    "int": {"v"},
    "float": {"v"},
    "mxarray": {"i", "grad"},
    "ndarray": {"i"},
    "npscalar": {"i"},
    "fashion_mnist": {"split", "part", "count"},
    "list": {"v"},
    "tuple": {"v"},
    "generator": {"v"},
    "dict": {"v"},
    "callable": {"module", "name"},
    "unsupported": {"type"},
}


class WireError(Exception):
    """A message broke the format or its limits."""


class Unsupported:
    """Stands for a value of a type the wire does not carry (e.g. a gluon Block)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name}>"


def shown(value, limit=40):
    """A short repr of a value that broke the format, for an error message."""
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def text(value, what="text"):
    """A string from a message, cut to MAX_TEXT characters."""
    if not isinstance(value, str):
        raise WireError(f"{what} is not a string")
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + " [cut]"


def name(value, what="a name"):
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise WireError(f"{what} is not a string of at most {MAX_NAME} characters")
    return value


# --------------------------------------------------------------------------- encode


def encode(value, arrays, depth=0):
    """A JSON-able tagged tree for `value`; arrays are appended to `arrays`."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if isinstance(value, str):
        return {"t": "str", "v": text(value)}
    if value is None or isinstance(value, bool):
        return {"t": type(value).__name__.lower(), "v": value}
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_DIGITS * 3:
            raise WireError(f"an integer of more than {MAX_INT_DIGITS} digits")
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, np.ndarray):
        grad = getattr(value, "grad", None)
        return {
            "t": "mxarray",
            "i": add_array(arrays, value.asnumpy()),
            "grad": None if grad is None else add_array(arrays, grad.asnumpy()),
        }
    if isinstance(value, onp.ndarray):
        return {"t": "ndarray", "i": add_array(arrays, value)}
    if isinstance(value, onp.generic):
        return {"t": "npscalar", "i": add_array(arrays, onp.asarray(value))}
    if isinstance(value, FashionMNISTRef):
        return {
            "t": "fashion_mnist",
            "split": value.split,
            "part": value.part,
            "count": value.count,
        }
    if isinstance(value, GeneratorResult):
        return {"t": "generator", "v": encode_items(value, arrays, depth)}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "v": encode_items(value, arrays, depth)}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {
            "t": "dict",
            "v": {name(k, "a dict key"): encode(v, arrays, depth + 1) for k, v in value.items()},
        }
    if inspect.isfunction(value) and value.__module__.startswith(CALLABLE_MODULES):
        return {"t": "callable", "module": value.__module__, "name": value.__qualname__}
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    return {"t": "unsupported", "type": kind[:MAX_NAME]}


def encode_items(items, arrays, depth):
    if len(items) > MAX_ITEMS:
        raise WireError(f"more than {MAX_ITEMS} items")
    return [encode(item, arrays, depth + 1) for item in items]


def add_array(arrays, array):
    if array.dtype.hasobject or array.dtype.kind not in ARRAY_KINDS:
        raise WireError(f"arrays of dtype {array.dtype} are not data")
    arrays.append(array)
    if len(arrays) > MAX_ARRAYS:
        raise WireError(f"more than {MAX_ARRAYS} arrays")
    if sum(a.nbytes for a in arrays) > MAX_MESSAGE_BYTES:
        raise WireError(f"the arrays take more than {MAX_MESSAGE_BYTES >> 20} MB")
    return len(arrays) - 1


# --------------------------------------------------------------------------- decode


class Budget:
    """How many more bytes of array data, and how many more arrays, one message's values
    may decode to: each reference to an array builds one (an mxnet array costs the
    grader about 0.1 ms however small), and `encode` never makes more than MAX_ARRAYS."""

    def __init__(self):
        self.left, self.arrays_left = MAX_DECODED_BYTES, MAX_ARRAYS

    def spend(self, array):
        self.left -= array.nbytes
        self.arrays_left -= 1
        if self.left < 0:
            raise WireError(
                f"the values decode to more than {MAX_DECODED_BYTES >> 20} MB of arrays"
            )
        if self.arrays_left < 0:
            raise WireError(f"the values refer to arrays more than {MAX_ARRAYS} times")
        return array


def decode(tree, arrays, budget=None, depth=0):
    """The value a tagged tree stands for (the inverse of `encode`)."""
    budget = budget or Budget()
    if depth > MAX_DEPTH or not isinstance(tree, dict):
        raise WireError("malformed value")
    tag = tree.get("t")
    if not isinstance(tag, str) or tag not in FIELDS:
        raise WireError(f"unknown tag {shown(tag)}")
    if set(tree) != FIELDS[tag] | {"t"}:
        raise WireError(f"a {tag} value with other fields than {sorted(FIELDS[tag])}")
    if tag == "nonetype":
        if tree["v"] is not None:
            raise WireError("malformed None")
        return None
    if tag == "bool":
        if not isinstance(tree["v"], bool):
            raise WireError("malformed bool")
        return tree["v"]
    if tag == "str":
        return text(tree["v"], "a str value")
    if tag == "int":
        digits = tree["v"]
        if (
            not isinstance(digits, str)
            or len(digits) > MAX_INT_DIGITS
            or not digits.isascii()
            or not digits[digits.startswith("-") :].isdigit()
        ):
            raise WireError("malformed integer")
        return int(digits)
    if tag == "float":
        return parse_float(tree["v"])
    if tag == "mxarray":
        return mx_array(
            array_at(arrays, tree["i"], budget),
            None if tree["grad"] is None else array_at(arrays, tree["grad"], budget),
        )
    if tag == "ndarray":
        return array_at(arrays, tree["i"], budget).copy()
    if tag == "npscalar":
        scalar = array_at(arrays, tree["i"], budget)
        if scalar.shape != ():
            raise WireError("a NumPy scalar that is not 0-d")
        return scalar[()]
    if tag == "fashion_mnist":
        count = tree["count"]
        if (
            tree["split"] not in ("train", "test")
            or tree["part"] not in ("images", "labels")
            or not (count is None or type(count) is int and 0 <= count <= 10**6)
        ):
            raise WireError("malformed data reference")
        return FashionMNISTRef(tree["split"], tree["part"], count)
    if tag in ("list", "tuple", "generator"):
        items = tree["v"]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise WireError("malformed sequence")
        values = [decode(item, arrays, budget, depth + 1) for item in items]
        return {"list": list, "tuple": tuple, "generator": GeneratorResult}[tag](values)
    if tag == "dict":
        if not isinstance(tree["v"], dict) or len(tree["v"]) > MAX_ITEMS:
            raise WireError("malformed dict")
        return {
            name(k, "a dict key"): decode(v, arrays, budget, depth + 1)
            for k, v in tree["v"].items()
        }
    if tag == "callable":
        return trusted_callable(tree["module"], tree["name"])
    return Unsupported(text(tree["type"], "a type name")[:MAX_NAME])


def parse_float(digits):
    if not isinstance(digits, str) or len(digits) > 64:
        raise WireError("malformed float")
    try:
        return float(digits)
    except ValueError:
        raise WireError(f"malformed float {shown(digits)}") from None


def array_at(arrays, index, budget):
    if type(index) is not int or not 0 <= index < len(arrays):
        raise WireError("bad array index")
    return budget.spend(arrays[index])


def mx_array(values, grad):
    """An mxnet array (with its gradient, if any) from classic arrays of the message."""
    if (
        values.dtype not in MX_DTYPES
        or grad is not None
        and (grad.dtype not in MX_DTYPES or grad.shape != values.shape)
    ):
        raise WireError("an mxnet array of another dtype or gradient shape")
    try:
        array = np.array(values, dtype=values.dtype)
        if grad is not None:
            array.attach_grad()
            array.grad[:] = np.array(grad, dtype=grad.dtype)
    except mx.base.MXNetError as error:
        raise WireError(f"mxnet refused the array ({str(error)[:100]})") from None
    return array


def trusted_callable(module_name, function_name):
    """A function defined in a module of d2lcourse.checks, looked up by name (never code)."""
    module_name, function_name = name(module_name), name(function_name)
    if not module_name.startswith(CALLABLE_MODULES) or not function_name.isidentifier():
        raise WireError(
            f"callable {shown(module_name)}.{shown(function_name)} is not a check function"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise WireError(f"no check module {shown(module_name)}") from None
    function = getattr(module, function_name, None)
    if not inspect.isfunction(function) or function.__module__ != module_name:
        raise WireError(f"{module_name}.{function_name} is not a check function")
    return function


# --------------------------------------------------------------------------- arrays


def save_array(array):
    buffer = io.BytesIO()
    onp.save(buffer, onp.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def load_array(data):
    """A read-only array from `.npy` bytes, or WireError: a small header, a plain dtype of
    ARRAY_KINDS, and exactly the bytes its shape needs (nothing is allocated from the
    header's word alone)."""
    view = memoryview(data)
    if len(view) < 12 or bytes(view[:6]) != b"\x93NUMPY" or view[6] not in (1, 2, 3):
        raise WireError("an array that is not in .npy format")
    size, start = (
        (struct.unpack("<H", view[8:10])[0], 10)
        if view[6] == 1
        else (struct.unpack("<I", view[8:12])[0], 12)
    )
    if size > MAX_NPY_HEADER:
        raise WireError("an array header that is too long")
    try:
        header = ast.literal_eval(bytes(view[start : start + size]).decode("latin1"))
        if (
            not isinstance(header, dict)
            or set(header) != {"descr", "fortran_order", "shape"}
            or not isinstance(header["descr"], str)
        ):
            raise ValueError
        dtype = onp.dtype(header["descr"])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise WireError("a malformed array header") from None
    shape = header["shape"]
    if (
        dtype.kind not in ARRAY_KINDS
        or dtype.hasobject
        or dtype.itemsize == 0
        or not isinstance(shape, tuple)
        or len(shape) > 32
        or not all(type(n) is int and n >= 0 for n in shape)
        or not isinstance(header["fortran_order"], bool)
    ):
        raise WireError("an array of another type than numbers, bools or strings")
    count = math.prod(shape)
    body = view[start + size :]
    if count * dtype.itemsize != len(body):
        raise WireError("an array whose data does not match its shape")
    flat = onp.frombuffer(body, dtype=dtype, count=count) if count else onp.empty(0, dtype)
    array = flat.reshape(shape, order="F" if header["fortran_order"] else "C")
    array.flags.writeable = False
    return array


# --------------------------------------------------------------------------- frames


def pack(document, values=None):
    """One message as bytes: `values` (a dict of name -> value) encoded into `document`."""
    arrays = []
    if values is not None:
        document = {**document, "values": {k: encode(v, arrays) for k, v in values.items()}}
    payload = json.dumps({**document, "arrays": len(arrays)}, allow_nan=False).encode()
    if len(payload) > MAX_JSON_BYTES:
        raise WireError(f"the message takes more than {MAX_JSON_BYTES >> 20} MB of JSON")
    frames = [_LENGTH.pack(len(payload)), payload]
    for array in arrays:
        data = save_array(array)
        frames += [_LENGTH.pack(len(data)), data]
    return b"".join(frames)


def send(stream, document, values=None):
    """Encode `values` into `document` and write the message to `stream`."""
    stream.write(pack(document, values))
    stream.flush()


def no_constant(constant):
    raise WireError(f"{constant} is not JSON")


def bounded_int(digits):
    if len(digits) > MAX_INT_DIGITS:
        raise WireError("an integer that is too long")
    return int(digits)


def read_message(read_exactly):
    """Read one message with `read_exactly(n) -> bytes`; returns (document, arrays)."""
    payload = read_exactly(checked_length(read_exactly, MAX_JSON_BYTES))
    try:
        document = json.loads(payload, parse_int=bounded_int, parse_constant=no_constant)
    except (ValueError, RecursionError) as error:
        raise WireError(f"a message that is not JSON ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise WireError("a message is a JSON object")
    count = document.get("arrays", 0)
    if type(count) is not int or not 0 <= count <= MAX_ARRAYS:
        raise WireError("bad array count")
    arrays, left = [], MAX_MESSAGE_BYTES
    for _ in range(count):
        length = checked_length(read_exactly, min(MAX_ARRAY_BYTES, left))
        left -= length
        arrays.append(load_array(read_exactly(length)))
    return document, arrays


def checked_length(read_exactly, limit):
    (length,) = _LENGTH.unpack(read_exactly(_LENGTH.size))
    if length > limit:
        raise WireError(f"a frame of {length} bytes exceeds the limit of {limit}")
    return length


def receive(read_exactly):
    """(document, decoded values) of the next message."""
    document, arrays = read_message(read_exactly)
    tree = document.get("values", {})
    if not isinstance(tree, dict):
        raise WireError("malformed values")
    budget = Budget()
    values = {name(k, "a value name"): decode(v, arrays, budget) for k, v in tree.items()}
    return document, values


# --------------------------------------------------------------------------- replies


def check_reply(request_op, document, values):
    """The runner's reply to a `request_op` request, checked field by field: (document,
    values) with every text cut to MAX_TEXT, or WireError."""
    op, fields, value_names = {
        "load": ("loaded", {"missing"}, set()),
        "call": ("result", {"error", "apis_used"}, {"value", "args"}),
    }[request_op]
    allowed = {"op", "arrays", "seconds", "values"} | fields
    if (
        document.get("op") != op
        or not fields <= set(document) <= allowed
        or set(values) != value_names
    ):
        raise WireError(f"a {request_op} reply that is not {op} with fields {sorted(fields)}")
    checked = {"op": op, "seconds": seconds(document.get("seconds", 0.0))}
    if op == "loaded":
        missing = document["missing"]
        if not isinstance(missing, dict) or len(missing) > MAX_ITEMS:
            raise WireError("malformed missing functions")
        checked["missing"] = {
            name(k, "a function name"): text(v, "a reason") for k, v in missing.items()
        }
        return checked, values
    error, used = document["error"], document["apis_used"]
    if error is not None and not (isinstance(error, list) and len(error) == 3):
        raise WireError("malformed error")
    checked["error"] = None if error is None else [text(part, "an error") for part in error]
    if (
        not isinstance(used, list)
        or len(used) > len(WATCHABLE_APIS)
        or not all(isinstance(api, str) and api in WATCHABLE_APIS for api in used)
    ):
        raise WireError("malformed list of APIs used")
    checked["apis_used"] = used
    return checked, values


def seconds(value):
    """A reported duration (informative only)."""
    if type(value) not in (int, float) or not 0 <= value < 1e6:
        raise WireError("malformed seconds")
    return float(value)
