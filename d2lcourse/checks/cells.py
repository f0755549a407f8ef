"""Which cell a graded function's names come from.

The grader runs only the setup cells and the solution cells of a notebook, each graded function
in its own cell; in Jupyter a function also sees every other cell the student ran, so a helper
defined in a cell of its own works there and fails in the grader with a NameError.
:func:`defined_elsewhere` finds those names in the kernel, before the call;
:func:`name_error_advice` explains the NameError where the grader (or `d2lcourse check`) runs.
"""
import ast
import builtins
import dis
import functools
import linecache
import os
import re
import types

from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import read, setup_sources

UNDEFINED_NAME = re.compile(r"name '(\w+)' is not defined")


def advice(names, owner):
    """The one sentence every message about a name from another cell ends with."""
    listed = " and ".join(f"`{name}`" for name in names)
    return (f"the grader runs only the setup cells and each function's own cell, so define "
            f"(or import) {listed} in the cell of {owner}")


def name_error_advice(message, filename):
    """`message` of a NameError raised in the grader's cell `filename` (as named by
    grading.exec_cell), with the advice."""
    name, owner = UNDEFINED_NAME.search(message), cell_owner(filename)
    if name is None or owner is None:
        return message
    return f"{message}: {advice([name.group(1)], owner)}"


def cell_owner(filename):
    """The graded function whose cell the grader ran as `filename` (`<cell relu>`: relu),
    or None for another file."""
    return filename[len("<cell "):].rstrip(">") if filename.startswith("<cell ") else None


def defined_elsewhere(function):
    """The global names a notebook's `function` reads (itself or through helpers of its
    own cell) that the grader would not define: neither builtins, nor its own cell, nor
    the setup cells, nor another graded function's cell. Empty where that cannot be told
    (no source)."""
    code = getattr(function, "__code__", None)
    if code is None or function.__module__ != "__main__":
        return []   # a module's, or the grader's (whose NameError says it: see above)
    namespace = function.__globals__
    own = bound_in_file(code.co_filename)
    if own is None or "*" in own:
        return []
    assignment = grading_assignment(function.__name__)
    graded = assignment.functions if assignment else ()
    available = set(dir(builtins)) | own | set(graded)
    for name in graded:
        other = getattr(namespace.get(name), "__code__", None)
        if other is not None:
            available |= bound_in_file(other.co_filename) or set()
    setup = setup_names(function.__name__)
    if setup is not None and "*" in setup:
        return []
    found = []
    for name in sorted(reads_through_own_cell(code, namespace) - available):
        if name not in namespace:
            continue  # a NameError that speaks for itself
        if setup is not None:
            if name not in setup:
                found.append(name)
        elif defined_in_a_cell(namespace[name], function):
            found.append(name)
    return found


def reads_through_own_cell(code, namespace):
    """Global names read by `code`, and by the functions of the same file it reads."""
    names, pending = set(), [code]
    while pending:
        for name in global_reads(pending.pop()) - names:
            names.add(name)
            helper = getattr(namespace.get(name), "__code__", None)
            if helper is not None and helper.co_filename == code.co_filename:
                pending.append(helper)
    return names


def global_reads(code):
    """Names that `code` and the code nested in it (lambdas, inner functions,
    comprehensions) load as globals."""
    names = {instruction.argval for instruction in dis.get_instructions(code)
             if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= global_reads(constant)
    return names


def defined_in_a_cell(value, function):
    """True unless `value` is a module or comes from one (then an import made it)."""
    if isinstance(value, types.ModuleType):
        return False
    return getattr(value, "__module__", function.__module__) == function.__module__


def bound_in_file(filename):
    """Names bound at the top level of the cell (or file) `filename`, or None if unknown;
    "*" stands for a star import."""
    source = cached_source(filename)
    return None if source is None else bound_names(source)


def cached_source(filename, files=True):
    """The source linecache holds for `filename`: a notebook cell (Jupyter's, or one the
    grader ran, which no file holds) or, with `files`, a real file; None if it holds none."""
    lines = linecache.getlines(filename)
    if not lines or (not files and os.path.exists(filename)):
        return None
    return "".join(lines)


@functools.lru_cache(maxsize=256)
def bound_names(source):
    """Names that running `source` binds at its top level ("*" for a star import)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return frozenset()
    names, pending = set(), list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if not isinstance(node, ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def grading_assignment(name):
    """The course assignment that grades a function called `name`, or None."""
    return next((a for a in ASSIGNMENTS.values() if name in a.functions), None)


@functools.lru_cache(maxsize=None)
def setup_names(name):
    """Names bound by the setup cells of the assignment that grades `name`, or None when
    its source notebook is not at hand."""
    assignment = grading_assignment(name)
    if assignment is None or not assignment.source_path().exists():
        return None
    return frozenset().union(*map(bound_names, setup_sources(read(assignment.source_path()))))
