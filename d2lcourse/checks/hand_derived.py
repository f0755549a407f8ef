"""What a hand-derived function may reach, decided from the source of its whole cell.

The grader holds every student's solution cells, so it decides from them, never from
what the sandbox reports about a call. Instead of looking for the forbidden APIs by
name (which renaming evades), an allow-list says what such a cell may reach: Python's
builtins, `math`, `random`, classic NumPy and mxnet.numpy (`np`), a few harmless
attributes of `npx` and `mxnet`, its own names, and the functions it calls from the
setup or other cells, which are checked the same way. A name it cannot resolve from its
source (a computed `getattr`, `exec`, `eval`, `__import__`, `importlib`, `globals()`,
`__dict__`, ...) is a violation of its own.

`first_violation` returns the first problem found as a tuple, for `core.check_source`
to word: ("forbidden", api), ("dynamic", what) or ("through", name, owner, problem).
"""
import ast
import builtins
import importlib
import inspect
import symtable
import sys
import textwrap
import types

from d2lcourse.checks import cells

# Modules a hand-derived cell may use: None for every public attribute, else the set.
ALLOWED = {
    "math": None, "cmath": None, "random": None, "numpy": None, "numpy.random": None,
    "numpy.linalg": None, "mxnet.numpy": None, "mxnet.numpy.random": None,
    "mxnet.numpy.linalg": None,
    "mxnet": {"np", "numpy", "cpu", "gpu", "context", "Context", "current_context"},
    "mxnet.numpy_extension": {"set_np", "reset_np", "is_np_array", "cpu", "gpu", "num_gpus",
                              "current_context", "seed", "waitall"},
    "d2lcourse": {"np", "npx", "try_gpu"},
    "sys": {"stderr", "stdout", "float_info", "maxsize", "version_info"},  # debugging
    "warnings": {"warn", "catch_warnings", "simplefilter", "filterwarnings"},
    "time": {"time", "perf_counter", "monotonic", "sleep"},
}
# Reaching these builds names at run time: nothing about them can be told statically.
DYNAMIC_NAMES = {"eval", "exec", "compile", "__import__", "globals", "locals", "vars",
                 "setattr", "delattr", "breakpoint"}
DYNAMIC_MODULES = {"importlib", "sys", "builtins", "operator", "types", "inspect", "ctypes",
                   "gc", "runpy", "code", "codeop", "pickle", "marshal", "imp", "pkgutil",
                   "functools"}
HARMLESS_DUNDERS = {"__name__", "__doc__"}
TRUSTED_PACKAGES = ("d2lcourse.solutions.",)   # what setup cells import: reference code


def first_violation(source, forbidden, attributes, lookup, seen=None):
    """The first problem of the cell `source`, or None.

    `forbidden` maps id(object) -> API name for the forbidden objects; `attributes` maps
    an attribute name (`attach_grad`, `softmax`, ...) to the API it stands for, wherever
    it is used; `lookup(name)` resolves a name the cell does not bind (an object, a cell's
    source as a str with its owner as ("cell", owner, source), or None if unknown).
    """
    seen = set() if seen is None else seen
    if source in seen:
        return None
    seen.add(source)
    try:
        tree = ast.parse(source)
        table = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # it will not run either: the call reports that
    walker = Walker(forbidden, attributes)
    problem = walker.imports(tree)
    if problem:
        return problem
    for name in sorted(free_names(table) - cells.bound_names(source)):
        found = lookup(name)
        if isinstance(found, (types.ModuleType, str)):
            walker.modules[name] = found
        elif found is not None:
            problem = walker.judge_object(name, found, lookup, seen)
            if problem:
                return problem
    return walker.walk(tree)


def free_names(table):
    """Global names some scope of the cell reads (top level included)."""
    names, pending = set(), [table]
    while pending:
        scope = pending.pop()
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (symbol.is_global() or scope.get_type() == "module"):
                names.add(symbol.get_name())
        pending += scope.get_children()
    return names - set(dir(builtins))


class Walker:
    """One cell's imports and attribute chains, judged against the allow-list."""

    def __init__(self, forbidden, attributes):
        self.forbidden = forbidden
        self.attributes = attributes
        self.modules = {}            # name -> module object or dotted module name

    def imports(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.name if alias.asname else alias.name.split(".")[0]
                    self.modules[alias.asname or bound] = sys.modules.get(bound, bound)
            elif isinstance(node, ast.ImportFrom):
                problem = self.import_from(node)
                if problem:
                    return problem
        return None

    def import_from(self, node):
        if node.level or not node.module:
            return ("dynamic", "a relative import")
        module = sys.modules.get(node.module, node.module)
        for alias in node.names:
            if alias.name == "*":
                return ("dynamic", "a star import")
            value = getattr(module, alias.name, None) if not isinstance(module, str) else None
            if value is None:
                value = sys.modules.get(f"{node.module}.{alias.name}")
            if isinstance(value, types.ModuleType):
                self.modules[alias.asname or alias.name] = value
                continue
            problem = self.step(module, alias.name, f"{node.module}.{alias.name}")
            if problem:
                return problem
        return None

    def judge_object(self, name, value, lookup, seen):
        """A free name's value: a module (recorded), a forbidden API, another cell's
        function (checked in turn), trusted library code, or plain data."""
        if id(value) in self.forbidden:
            return ("forbidden", self.forbidden[id(value)])
        if isinstance(value, tuple) and value[0] == "cell":
            _, owner, source = value
            problem = first_violation(source, self.forbidden, self.attributes, lookup, seen)
            return ("through", name, owner, problem) if problem else None
        if isinstance(value, types.FunctionType):
            module = getattr(value, "__module__", "") or ""
            if module.startswith(TRUSTED_PACKAGES) or self.allowed(module, value.__name__):
                return None
            own = cell_source(value)
            if own is None:   # library code that is not on the allow-list
                return ("forbidden", f"{module}.{value.__qualname__}")
            problem = first_violation(own, self.forbidden, self.attributes,
                                      globals_lookup(value), seen)
            return ("through", name, value.__qualname__, problem) if problem else None
        if callable(value) and not isinstance(value, type):
            module = getattr(value, "__module__", None) or type(value).__module__
            if not self.allowed(module, getattr(value, "__name__", "")):
                return ("forbidden", name)
        return None

    def allowed(self, module, attribute):
        members = ALLOWED.get(module, ())
        return not attribute.startswith("_") and (members is None or attribute in members)

    def step(self, owner, attribute, written):
        """Reaching `attribute` of the module `owner` (an object or a dotted name)."""
        if attribute.startswith("_") and attribute not in HARMLESS_DUNDERS:
            return ("dynamic", f"`{written}`")
        name = owner if isinstance(owner, str) else owner.__name__
        value = None if isinstance(owner, str) else getattr(owner, attribute, None)
        if value is not None and id(value) in self.forbidden:
            return ("forbidden", self.forbidden[id(value)])
        if isinstance(value, types.ModuleType) and value.__name__ in ALLOWED:
            return None
        if self.allowed(name, attribute):
            return None
        if name.split(".")[0] in DYNAMIC_MODULES:
            return ("dynamic", f"`{written}`")
        return ("forbidden", written)

    def walk(self, tree):
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            problem = None
            if isinstance(node, ast.Attribute):
                problem = self.attribute(node.attr, node.value)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                problem = self.name(node, parents.get(node))
            if problem:
                return problem
        return None

    def attribute(self, attribute, value):
        """`value.attribute`: by its name alone, then along a chain from a module."""
        written = f"{chain(value)}.{attribute}"
        if attribute.startswith("_") and attribute not in HARMLESS_DUNDERS:
            return ("dynamic", f"`{written}`")
        if attribute in self.attributes:
            return ("forbidden", self.attributes[attribute])
        owner = self.resolve(value)
        if owner is None:
            return None
        return self.step(owner, attribute, written)

    def resolve(self, node):
        """The module a name or attribute chain stands for, if it is one."""
        if isinstance(node, ast.Name):
            return self.modules.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self.resolve(node.value)
            if isinstance(owner, types.ModuleType):
                value = getattr(owner, node.attr, None)
                return value if isinstance(value, types.ModuleType) else None
            if isinstance(owner, str):
                return f"{owner}.{node.attr}"
        return None

    def name(self, node, parent):
        if node.id in DYNAMIC_NAMES:
            return ("dynamic", node.id)
        if node.id.startswith("__") and node.id not in HARMLESS_DUNDERS:
            return ("dynamic", f"`{node.id}`")
        if node.id == "getattr":
            return self.getattr_call(node, parent)
        module = self.modules.get(node.id)
        if module is None or isinstance(parent, ast.Attribute):
            return None
        dotted = module if isinstance(module, str) else module.__name__
        if ALLOWED.get(dotted, ()) is None:
            return None
        if dotted.split(".")[0] in DYNAMIC_MODULES:
            return ("dynamic", f"`{node.id}` as a value")
        return ("forbidden", node.id)   # a module handed around as a value

    def getattr_call(self, node, parent):
        """getattr(x, "name") is x.name; any other use of getattr builds names."""
        if isinstance(parent, ast.Call) and parent.func is node and len(parent.args) >= 2 \
                and isinstance(parent.args[1], ast.Constant) \
                and isinstance(parent.args[1].value, str):
            return self.attribute(parent.args[1].value, parent.args[0])
        return ("dynamic", "getattr with a computed name")


def chain(node):
    """`a.b.c` as written, for messages ("..." for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{chain(node.value)}.{node.attr}"
    return "..."


def cell_source(function):
    """The whole notebook cell `function` was defined in, or None for a function from a file."""
    return cells.cached_source(function.__code__.co_filename, files=False)


def file_source(function):
    """A function's own source in a file; a lambda's alone, without the line around it."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    if function.__name__ != "<lambda>":
        return source
    try:
        lambdas = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Lambda)]
    except SyntaxError:
        return source
    return "\n".join(ast.get_source_segment(source, node) for node in lambdas) or source


def globals_lookup(function):
    """Resolve free names where `function` finds them when it runs: its module's globals."""
    namespace = getattr(function, "__globals__", {})

    def lookup(name):
        return namespace.get(name)
    return lookup


def cells_lookup(setup, solution_cells, owner):
    """Resolve free names as the grader's run of a notebook does: a name another solution
    cell binds (its import, or ("cell", function, source) to check that cell), else the
    setup cells' imports. Only the trusted setup imports anything here."""
    imported = {}
    for source in setup:
        imported.update(imports_of(source, importlib_module))

    def lookup(name):
        for function, source in solution_cells.items():
            if function != owner and name in cells.bound_names(source):
                found = imports_of(source, sys.modules.get)
                return found.get(name) if name in found else ("cell", function, source)
        return imported.get(name)
    return lookup


def imports_of(source, find_module):
    """{name: module, object or dotted name} that the imports of `source` bind;
    `find_module(dotted)` returns a module or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            module = find_module(node.module)
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                value = getattr(module, alias.name, None) or find_module(dotted)
                bound[alias.asname or alias.name] = dotted if value is None else value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                dotted = alias.name if alias.asname else alias.name.split(".")[0]
                bound[alias.asname or dotted] = find_module(dotted) or dotted
    return bound


def importlib_module(name):
    """A module named by the (trusted) setup cells, imported; None if it is not one."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
