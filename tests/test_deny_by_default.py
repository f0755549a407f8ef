"""Deny by default (issue 15, class 1): a hand-derived function and every helper it
reaches must resolve statically to allowed operators; what the grader cannot resolve, and
any cell that rewrites the shared namespace, costs the function its points with a message
of its own; every operator the contract does not forbid is allowed; the analysis is
linear in the notebook's size and fails closed.

Submissions are judged as the grader judges them (hand_derived.analyse_submission, the
RemoteFunction that carries it, core.check_source), and as `d2lcourse check` and the
notebook's own test cells do (grading.define_functions runs the cells for real).
"""
import math
import sys
import textwrap
import types
from pathlib import Path

import numpy as onp
import pytest

from d2lcourse import grading
from d2lcourse._mxnet import np, npx
from d2lcourse.autograder.evaluate import RemoteFunction, TestCell, evaluate
from d2lcourse.autograder.sandbox import Limits, bubblewrap_problem
from d2lcourse.checks import core, hand_derived
from d2lcourse.course import Assignment

SETUP = ["import math\n\nfrom d2lcourse import np, npx, autograd, gluon"]
OTHER = "def triple(x):\n    return 3 * x\n"
FUNCTIONS = ("double", "triple")


def analysed(double, triple=OTHER):
    """The grader's analysis of a submission of these cells of `double` and `triple`."""
    return hand_derived.analyse_submission(
        SETUP, {"double": textwrap.dedent(double), "triple": textwrap.dedent(triple)})


def grader_message(double, triple=OTHER, forbidden=core.HAND_DERIVED, analysis=None):
    """What the grader's static check says of `double` (None: nothing)."""
    function = RemoteFunction(None, "double", textwrap.dedent(double),
                              analysis or analysed(double, triple))
    return core.source_problem(function, tuple(forbidden))


def notebook_message(double, triple=OTHER, forbidden=core.HAND_DERIVED):
    """What `d2lcourse check` says of `double`, its cells run in one namespace."""
    sources = {"double": textwrap.dedent(double), "triple": textwrap.dedent(triple)}
    functions = grading.define_functions(FUNCTIONS, SETUP, sources)
    assert isinstance(functions["double"], types.FunctionType), functions["double"].reason
    return core.source_problem(functions["double"], tuple(forbidden))


# --------------------------------------------------------------------------- evasions

# (cell of double, cell of triple, words the message must hold). Each runs as Python: the
# notebook path defines it for real.
EVASIONS = {
    # The issue's: a module bound by assignment, in another cell.
    "a module bound by assignment": (
        "def double(x):\n    return 2 * x + 0 * _n.float_info.epsilon\n",
        "import numpy\n_n = numpy.sys\n" + OTHER,
        "reaches `_n.float_info.epsilon` through `_n`, a module bound by assignment "
        "(`_n = numpy.sys`)"),
    # The issue's: a name no cell binds in its source, bound by another cell at run time.
    "globals().update in another cell": (
        "def double(x):\n    return 2 * (positive(x) - positive(-x))\n",
        "globals().update({'positive': npx.relu})\n" + OTHER,
        "because the cell of triple builds the name of a function at run "
        "time (globals)"),
    "a with target": (
        "def double(x):\n    with npx as ops:\n        return 2 * (ops.relu(x) - ops.relu(-x))\n",
        OTHER,
        "uses the module `npx` as a value"),
    "a for target": (
        "def double(x):\n    for ops in (npx,):\n        return 2 * (ops.relu(x) - ops.relu(-x))\n",
        OTHER, "uses the module `npx` as a value"),
    "a walrus": (
        "def double(x):\n    (ops := npx)\n    return 2 * x\n", OTHER,
        "uses the module `npx` as a value"),
    "tuple unpacking": (
        "def double(x):\n    a, ops = np, npx\n    return 2 * x\n", OTHER,
        "uses the module `np` as a value"),
    "a lambda default": (
        "def double(x):\n    r = lambda y, op=npx.relu: op(y)\n    return 2 * (r(x) - r(-x))\n",
        OTHER, "`npx.relu`, which this exercise forbids"),
    "a decorator from another cell": (
        "@as_relu\ndef double(x):\n    return x\n",
        "def as_relu(function):\n    return lambda x: 2 * (npx.relu(x) - npx.relu(-x))\n" + OTHER,
        "uses `as_relu` (from the cell of triple), which uses `npx.relu`"),
    "a class body": (
        "def double(x):\n    return 2 * (Ops.r(x) - Ops.r(-x))\n",
        "class Ops:\n    r = npx.relu\n" + OTHER,
        "reads the global `Ops`, bound by `class Ops:` in the cell of triple"),
    "a comprehension": (
        "def double(x):\n    ops = [m for m in [npx]][0]\n    return 2 * x\n", OTHER,
        "uses the module `npx` as a value"),
    "star-args into getattr": (
        "def double(x):\n    r = getattr(*[npx, 're' + 'lu'])\n    return 2 * (r(x) - r(-x))\n",
        OTHER, "reads attributes named by a string (getattr with a computed name)"),
    "a subscript of a module's dict": (
        "def double(x):\n    r = npx.__dict__['re' + 'lu']\n    return 2 * (r(x) - r(-x))\n",
        OTHER, "reaches `npx.__dict__`, a dunder attribute"),
    "type(x).mro": (
        "def double(x):\n    base = type(x).mro()[1]\n    return 2 * x\n", OTHER,
        "reaches `type(x).mro`, which inspects the running program"),
    "an f-string": (
        "def double(x):\n    label = f'{x.__class__}'\n    return 2 * x\n", OTHER,
        "reaches `x.__class__`, a dunder attribute"),
    "a format string that reads attributes": (
        "def double(x):\n    label = '{0.__class__.__name__}'.format(x)\n    return 2 * x\n",
        OTHER, "reads attributes named by a string (str.format"),
    "operator.attrgetter": (
        "import operator\ndef double(x):\n    r = operator.attrgetter('re' + 'lu')(npx)\n"
        "    return 2 * (r(x) - r(-x))\n", OTHER,
        "uses `operator`, with which code builds the name of a function at run time"),
    "vars() of a module": (
        "def double(x):\n    r = vars(npx)['re' + 'lu']\n    return 2 * (r(x) - r(-x))\n",
        OTHER, "builds the name of a function at run time (vars)"),
    "sys.modules": (
        "import sys\ndef double(x):\n    ops = sys.modules['mxnet.numpy_extension']\n"
        "    return 2 * x\n", OTHER,
        "uses `sys.modules` of `sys`, with which code builds the name"),
    "builtins written by another cell": (
        "def double(x):\n    return 2 * (positive(x) - positive(-x))\n",
        "import builtins\nbuiltins.positive = npx.relu\n" + OTHER,
        "because the cell of triple uses `builtins`, with which code builds the name"),
    "setattr on a module in another cell": (
        "def double(x):\n    return 2 * np.maximum(x, 0) - 2 * np.maximum(-x, 0)\n",
        "setattr(np, 'maximum', np.maximum)\n" + OTHER,
        "because the cell of triple builds the name of a function at run "
        "time (setattr)"),
    "an operator replaced in another cell": (
        "def double(x):\n    return 2 * x\n",
        "np.exp = np.exp\n" + OTHER,
        "sets an attribute (`np.exp = ...`), which can change a module or a class"),
    "exec in another cell": (
        "def double(x):\n    return 2 * x\n",
        "exec('positive = 1')\n" + OTHER,
        "builds the name of a function at run time (exec)"),
    "a global rebound from inside a function": (
        "def helper(x):\n    return x\ndef double(x):\n    return 2 * helper(x)\n",
        "def triple(x):\n    global helper\n    helper = npx.relu\n    return 3 * x\n",
        "reads the global `helper`, bound by `def triple(x):` in the cell of triple"),
    "a match capture": (
        "def helper(x):\n    return x\ndef double(x):\n    return 2 * helper(x)\n",
        "match npx.relu:\n    case helper:\n        pass\n" + OTHER,
        "reads the global `helper`, bound by `match npx.relu:` in the cell of triple"),
    "an except target": (
        "def double(x):\n    return 2 * (found.args[0](x) - found.args[0](-x))\n",
        "try:\n    raise ValueError(npx.relu)\nexcept ValueError as found:\n    keep = found\n"
        "found = keep\n" + OTHER,
        "reads the global `found`"),
    "a global container": (
        "OPS = {}\ndef double(x):\n    return 2 * (OPS['r'](x) - OPS['r'](-x))\n",
        "OPS['r'] = npx.relu\n" + OTHER,
        "reads the global `OPS`, bound by `OPS = {}` in the cell of double"),
    "a local import": (
        "def double(x):\n    import mxnet.ndarray as legacy\n    return 2 * legacy.abs(x)\n",
        OTHER, "reaches the module `mxnet.ndarray`"),
    "a local import used by a nested function": (
        "def double(x):\n    import mxnet.ndarray as legacy\n    def inner(y):\n"
        "        return legacy.abs(y)\n    return 2 * x\n", OTHER,
        "reaches the module `mxnet.ndarray`"),
    "a legacy method through the class": (
        "def double(x):\n    return 2 * (np.ndarray.relu(x) - np.ndarray.relu(-x))\n", OTHER,
        "`npx.relu`, which this exercise forbids"),
    "a class pattern that reads attributes": (
        "def double(x):\n    match x:\n        case object(__class__=kind):\n"
        "            return 2 * x\n", OTHER, "a dunder attribute"),
    "the legacy operators of mxnet": (
        "import mxnet as mx\ndef double(x):\n    return 2 * mx.nd.abs(x.as_nd_ndarray())\n",
        OTHER, "reaches the module `mxnet.ndarray` (`mx.nd`)"),
    "a frame's globals": (
        "def double(x):\n    frame = (i for i in [0]).gi_frame\n    return 2 * x\n", OTHER,
        "reaches `(i for i in [0]).gi_frame`, which inspects the running program"),
    "a private attribute": (
        "import sys\ndef double(x):\n    frame = sys._getframe()\n    return 2 * x\n", OTHER,
        "reaches `sys._getframe`, a private attribute"),
    "a closure over a module": (
        "def make():\n    ops = npx\n    return lambda y: ops.relu(y)\n"
        "def double(x):\n    r = make()\n    return 2 * (r(x) - r(-x))\n", OTHER,
        "uses the module `npx` as a value"),
    "a module passed by keyword": (
        "def double(x):\n    table = dict(ops=npx)\n    return 2 * x\n", OTHER,
        "uses the module `npx` as a value"),
    "__builtins__": (
        "def double(x):\n    b = __builtins__\n    return 2 * x\n", OTHER,
        "builds the name of a function at run time (`__builtins__`)"),
    "a name only an ungraded cell binds": (
        "def double(x):\n    return 2 * scratch(x)\n", OTHER,
        "uses `scratch`, which no cell the grader runs defines"),
    "numpy.load, which unpickles": (
        "import numpy\ndef double(x):\n    loader = numpy.load\n    return 2 * x\n", OTHER,
        "uses `numpy.load`, which hand-derived functions may not use"),
    "a star import": (
        "from mxnet.numpy_extension import *\ndef double(x):\n    return 2 * x\n", OTHER,
        "builds the name of a function at run time (`from mxnet.numpy_extension import *`)"),
}


@pytest.mark.parametrize("double,triple,words", EVASIONS.values(), ids=list(EVASIONS))
def test_the_grader_denies_what_it_cannot_resolve(double, triple, words):
    message = grader_message(double, triple)
    assert message is not None and words in message, message


NOT_RUNNABLE = {"a decorator from another cell"}   # its cell raises NameError where it runs


@pytest.mark.parametrize("double,triple,words",
                         [v for k, v in EVASIONS.items() if k not in NOT_RUNNABLE],
                         ids=[k for k in EVASIONS if k not in NOT_RUNNABLE])
def test_the_notebook_path_denies_them_too(double, triple, words):
    """The cells run for real; a name's value then stands for what the cell binds."""
    message = notebook_message(double, triple)
    assert message is not None, "an evasion passed the notebook path"
    assert any(words in message for words in (
        "forbids", "cannot", "may not", "as a value", "at run time", "bound by",
        "private attribute", "no cell the grader runs defines")), message


def test_a_module_bound_by_assignment_and_read_alone_is_named_with_its_binding():
    """`_n = numpy.sys` in another cell and `_n` read without an attribute (stored, passed):
    the message names the binding, on both paths (the check raised TypeError: the problem
    lacked what the function writes)."""
    double = "def double(x):\n    keep = [_n]\n    return 2 * x\n"
    triple = "import numpy\n_n = numpy.sys\n" + OTHER
    for message in (grader_message(double, triple), notebook_message(double, triple)):
        assert "reaches `_n` through `_n`, a module bound by assignment (`_n = numpy.sys`)" \
            in message, message


def test_each_kind_of_violation_has_a_message_of_its_own():
    """Every kind hand_derived reports is worded for people, and no two alike."""
    messages = {}
    for kind, message in core.VIOLATIONS.items():
        details = ["x"] * message.__code__.co_argcount if kind != "too_large" else [1 << 20]
        messages[kind] = core.violation_message((kind, *details))
    assert len(set(messages.values())) == len(messages) > 10
    assert all(len(text) < 300 and "Error" not in text for text in messages.values())


# --------------------------------------------------------------------------- allowed

HONEST = {
    "cross_entropy with npx.pick": "def double(x):\n    return -np.log(npx.pick(x, x, axis=1))\n",
    "a log-sum-exp that picks with npx.pick": (
        "def double(O, y):\n    m = O.max(axis=1, keepdims=True)\n"
        "    lse = (m + np.log(np.exp(O - m).sum(axis=1, keepdims=True))).reshape(-1)\n"
        "    return lse - npx.pick(O, y, axis=1)\n"),
    "np.linalg and classic NumPy": (
        "import numpy as onp\ndef double(x):\n    n = np.linalg.norm(x)\n"
        "    return x * onp.float32(2) + 0 * n\n"),
    "math and a constant": "EPS = 1e-12\ndef double(x):\n    return x * math.exp(math.log(2)) + EPS\n",
    "a helper in its own cell and an alias": (
        "times = np.multiply\ndef helper(x):\n    return times(x, 2)\n"
        "def double(x):\n    return helper(x)\n"),
    "a helper from another cell that uses autograd elsewhere": (
        "def double(x):\n    return twice(x)\n",
        "def twice(x):\n    return x + x\ndef triple(x):\n    x = x.copy()\n"
        "    x.attach_grad()\n    with autograd.record():\n        y = (3 * x).sum()\n"
        "    y.backward()\n    return x.grad\n"),
    "a local import and a lambda": (
        "def double(x):\n    import numpy as onp\n    f = lambda y: y * onp.float32(2)\n"
        "    return f(x)\n"),
    "isinstance, f-strings and format": (
        "def double(x):\n    assert isinstance(x, np.ndarray), f'got {type(x)}'\n"
        "    label = '{:.3f}'.format(float(x.sum()))\n    return 2 * x\n"),
    "npx helpers that reshape and encode": (
        "def double(x):\n    flat = npx.batch_flatten(x.reshape(2, -1))\n"
        "    return 2 * npx.reshape(flat, x.shape)\n"),
    "a nested function, a comprehension and try": (
        "def double(x):\n    def scale(v, k=2):\n        return v * k\n"
        "    try:\n        parts = [scale(r) for r in x]\n    except TypeError:\n"
        "        parts = []\n    return np.stack(parts)\n"),
}


@pytest.mark.parametrize("case", HONEST.values(), ids=list(HONEST))
def test_honest_solutions_pass(case):
    double, triple = (case, OTHER) if isinstance(case, str) else case
    assert grader_message(double, triple) is None
    assert notebook_message(double, triple) is None


def public_callables(module):
    return sorted(name for name in dir(module) if not name.startswith("_")
                  and callable(getattr(module, name))
                  and not isinstance(getattr(module, name), types.ModuleType))


FORBIDDEN_NAMES = {name for name, (module, attribute) in core.FORBIDDEN_APIS.items()
                   if module.startswith("mxnet.numpy")}
# Every operator family the contract allows: (how the cell writes the module, its import,
# the module). numpy.load is the one exception: it unpickles, which builds names.
FAMILIES = {
    "mxnet.numpy": ("np", "", np),
    "mxnet.numpy.linalg": ("np.linalg", "", np.linalg),
    "mxnet.numpy.random": ("np.random", "", np.random),
    "mxnet.numpy_extension": ("npx", "", npx),
    "numpy": ("onp", "import numpy as onp\n", onp),
    "numpy.linalg": ("onp.linalg", "import numpy as onp\n", onp.linalg),
    "numpy.random": ("onp.random", "import numpy as onp\n", onp.random),
    "math": ("math", "import math\n", math),
}


def family_cell(written, imports, names):
    uses = "".join(f"    _ = {written}.{name}\n" for name in names)
    return f"{imports}def double(x):\n{uses}    return 2 * x\n"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_allowed_operator_passes_and_every_forbidden_one_is_named(family):
    written, imports, module = FAMILIES[family]
    names = public_callables(module)
    forbidden = {n for n in names if f"{written}.{n}" in FORBIDDEN_NAMES
                 or (family, n) in hand_derived.DYNAMIC_ATTRIBUTES}
    allowed = [n for n in names if n not in forbidden]
    assert len(allowed) > 10
    message = grader_message(family_cell(written, imports, allowed), forbidden=core.HAND_WRITTEN_TANH)
    assert message is None, message
    for name in forbidden:
        message = grader_message(family_cell(written, imports, [name]),
                                 forbidden=core.HAND_WRITTEN_TANH)
        assert message is not None and name in message, (name, message)


WRITTEN_FORMS = {
    "autograd.record": "with autograd.record():\n        pass",
    "autograd.grad": "g = autograd.grad",
    "autograd.backward": "autograd.backward([x])",
    "attach_grad": "x.attach_grad()",
    "backward": "x.backward()",
    "autograd": "on = autograd.is_recording()",
    "gluon": "layer = gluon.nn.Dense(1)",
}


@pytest.mark.parametrize("api", core.FORBIDDEN_APIS)
def test_every_api_of_the_contracts_list_is_reported_by_name(api):
    use = WRITTEN_FORMS.get(api, f"y = {api}(x)")
    cell = f"def double(x):\n    {use}\n    return 2 * x\n"
    message = grader_message(cell, forbidden=core.HAND_WRITTEN_TANH)
    assert message is not None and f"`{api}`" in message and "forbids" in message, message


# The APIs that are a module or a module's attribute in this MXNet, imported under
# another name: no text names them, the analysis follows the import.
RENAMED = [api for api, (module, attribute) in core.FORBIDDEN_APIS.items()
           if module in sys.modules and core.api_object(module, attribute) is not None]


@pytest.mark.parametrize("api", RENAMED)
def test_a_forbidden_api_imported_under_another_name_is_reported_by_name(api):
    module, attribute = core.FORBIDDEN_APIS[api]
    value = core.api_object(module, attribute)
    use = "hidden.is_np_array" if isinstance(value, types.ModuleType) else "hidden"
    cell = (f"from {module} import {attribute} as hidden\n"
            f"def double(x):\n    y = {use}\n    return 2 * x\n")
    message = grader_message(cell, forbidden=core.HAND_WRITTEN_TANH)
    assert message is not None and f"`{api}`" in message and "forbids" in message, message


def test_np_tanh_is_forbidden_only_where_the_exercise_says():
    cell = "def double(x):\n    return 2 * np.tanh(x)\n"
    assert "`np.tanh`" in grader_message(cell, forbidden=core.HAND_WRITTEN_TANH)
    assert grader_message(cell, forbidden=core.HAND_DERIVED) is None


def test_the_forbidden_list_is_one_table():
    assert set(core.HAND_DERIVED) | set(core.SINGLE_EXERCISE_APIS) == set(core.FORBIDDEN_APIS)
    assert set(core.OPERATOR_APIS) <= set(core.HAND_DERIVED)
    groups = (core.AUTOGRAD_APIS, core.OPERATOR_APIS, core.SINGLE_EXERCISE_APIS)
    assert len(core.FORBIDDEN_APIS) == sum(map(len, groups))   # each API in one group
    assert core.HAND_WRITTEN_TANH is core.FORBIDDEN_APIS and core.WATCHABLE_APIS is core.FORBIDDEN_APIS
    elsewhere = [path.name for path in Path(core.__file__).parent.glob("*.py")
                 if path.name != "core.py" and any(f'"{api}"' in path.read_text()
                                                   for api in core.OPERATOR_APIS)]
    assert elsewhere == []


# --------------------------------------------------------------------------- cost

def hostile_notebook(names):
    """A function reading `names` free names, each defined in a large other cell."""
    reads = ", ".join(f"f{i}(x)" for i in range(names))
    double = f"def double(x):\n    return [{reads}]\n"
    triple = "".join(f"def f{i}(x):\n    return x * {i} + np.exp(x) - np.log(x + {i})\n"
                     for i in range(names)) + OTHER
    return double, triple


def work_of(names):
    double, triple = hostile_notebook(names)
    analysis = analysed(double, triple)
    assert grader_message(double, triple, analysis=analysis) is None
    return analysis.work, len(double) + len(triple)


def test_the_analysis_parses_each_cell_once_and_its_work_is_linear():
    """Thousands of free names resolved against a cell of 200 kB: each cell is parsed once,
    each node visited once, each statement judged once."""
    small, small_size = work_of(750)
    large, large_size = work_of(3000)
    assert hand_derived.MAX_ANALYSED_CHARS > large_size > 200_000
    assert small["parses"] == large["parses"] == 2
    statements = 3000 + 2                   # the helpers, triple, double
    assert large["statements"] <= 2 * statements   # once per set of rules
    assert large["bindings"] <= 2 * statements
    assert large["nodes"] <= 1.2 * small["nodes"] * large_size / small_size


def test_a_name_bound_and_read_thousands_of_times_is_resolved_once():
    double = "def double(x):\n    return [" + ", ".join(["g"] * 20000) + "]\n"
    triple = "g = 1\n" * 20000 + OTHER
    analysis = analysed(double, triple)
    assert grader_message(double, triple, analysis=analysis) is None
    assert 0 < analysis.work["bindings"] <= 2 * 20000


def test_a_notebook_larger_than_the_analysis_takes_is_a_violation_without_parsing():
    huge = OTHER + "#" * (3 << 20)
    analysis = analysed("def double(x):\n    return 2 * x\n", huge)
    message = grader_message("def double(x):\n    return 2 * x\n", huge, analysis=analysis)
    assert analysis.work["parses"] == 0
    assert message.startswith("cannot be checked: the solution cells hold more than")


def test_a_cell_too_deep_to_analyse_is_a_violation_not_a_pass():
    deep = "def double(x):\n    return " + " + ".join(["x"] * 50_000) + "\n"
    assert "nested too deeply" in grader_message(deep)


def test_helpers_nested_too_deeply_to_follow_are_a_violation_not_a_crash():
    chain = "".join(f"def h{i}(x):\n    return h{i + 1}(x)\n" for i in range(5000))
    double = chain + "def h5000(x):\n    return x\ndef double(x):\n    return h0(x)\n"
    assert "nested too deeply" in grader_message(double)


# --------------------------------------------------------------------------- end to end

ASSIGNMENT = Assignment("00_sandbox", "sandbox.ipynb", FUNCTIONS)
TESTS = [TestCell("test_double", "from d2lcourse.checks import core\nx = core.random_array("
                                 "(3, 4), seed=0)\ncore.assert_close(double, core.call(double, "
                                 "x), 2 * x)\n", 2.0),
         TestCell("test_double_by_hand", "from d2lcourse.checks import core\nx = core."
                  "random_array((3, 4), seed=0)\ncore.assert_close(double, core.call(double, "
                  "x, forbidden=core.HAND_DERIVED), 2 * x)\n", 3.0)]


@pytest.mark.skipif(bubblewrap_problem() is not None, reason="bubblewrap cannot run here")
@pytest.mark.parametrize("evasion", ["a module bound by assignment",
                                     "globals().update in another cell"])
def test_in_the_sandbox_the_evasion_loses_only_the_hand_derived_points(evasion):
    double, triple, words = EVASIONS[evasion]
    verdict = evaluate(ASSIGNMENT, SETUP, TESTS, {"double": double, "triple": triple},
                       Limits(seconds=30))
    points = {r.grade_id: r.points for r in verdict.results}
    assert points == {"test_double": 2.0, "test_double_by_hand": 0.0}, verdict.results
    assert words in verdict.results[1].message


def test_a_module_the_grader_does_not_know_is_denied_in_any_cell():
    """Importing runs a module, which may rebind names; an unknown one is denied anywhere."""
    message = grader_message("def double(x):\n    return 2 * x\n",
                             "import antigravity_of_the_student\n" + OTHER)
    assert message.startswith("cannot be checked, because the cell of triple uses "
                              "`antigravity_of_the_student`, a module the grader cannot tell "
                              "leaves names alone"), message
    assert grader_message("def double(x):\n    return 2 * x\n",
                          "import matplotlib.pyplot as plt\nimport collections\n" + OTHER) is None
