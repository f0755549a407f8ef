"""Deny by default: what a hand-derived function may reach, decided statically from the cells
that run in its namespace (the grader runs the setup cells and every solution cell in one
namespace, so a function's names mean what those cells bind), in time linear in their size.

Every name and attribute a hand-derived function reaches must resolve to something allowed:
- a global name: an import, a `def` or lambda (judged in turn), a constant, or an alias of one
  of those (`f = g`); a name nothing binds, or a global bound any other way (a list, a class, a
  loop variable), is a violation;
- an attribute chain from an imported module: each step a module of ALLOWED or a public
  attribute of one, never a forbidden API (core.FORBIDDEN_APIS, the contract's list);
- an attribute of any other value: not a dunder or private attribute, not one that inspects
  the running program (REFLECTIVE), not the name of a forbidden API (`.backward`), never read
  through a string (a computed getattr, str.format fields);
- a module is never a value (`m = np`, `f(np)`, `[np]`): modules are imported by name.

And every cell, reached or not, must leave the namespace to its ordinary bindings (the
EVERY_CELL rules): no exec, eval, globals(), vars(), setattr, no dunder or reflective attribute,
no attribute assignment, no star import, no import or use of a module outside NAMESPACE_MODULES
or inside DYNAMIC_MODULES (importlib, builtins, sys.modules, ...). A cell too large or too deep
to analyse is a violation too: the analysis fails closed. Problems are tuples, (kind,
*details), for core.violation_message to word.
"""
import ast
import builtins
import collections
import functools
import importlib
import inspect
import string
import symtable
import sys
import textwrap
import types

from d2lcourse.checks import cells

# The most characters of solution cells one analysis takes (each costs the grader about 160 bytes
# and 10 us; real cells hold a few thousand): beyond, the hand-derived functions lose their points.
MAX_ANALYSED_CHARS = 256 << 10
# The operator families a hand-derived function may use: None for every public attribute
# (modules among them only if listed here themselves), else the set of attributes.
ALLOWED = {
    **dict.fromkeys(("math", "cmath", "random", "numpy", "numpy.linalg", "numpy.random",
                     "numpy.fft", "mxnet.numpy", "mxnet.numpy.linalg", "mxnet.numpy.random",
                     "mxnet.numpy_extension", "mxnet.numpy_extension.random")),
    "mxnet": {"np", "numpy", "npx", "numpy_extension", "cpu", "gpu", "Context", "current_context"},
    "d2lcourse": {"np", "npx", "try_gpu"},
    "sys": {"stderr", "stdout", "float_info", "maxsize", "version_info"},  # debugging
    "warnings": {"warn", "catch_warnings", "simplefilter", "filterwarnings"},
    "time": {"time", "perf_counter", "monotonic", "sleep"},
}
# Attributes of allowed modules that build names at run time (numpy.load unpickles).
DYNAMIC_ATTRIBUTES = {("numpy", "load")}
# Modules any cell may use (with their submodules) as far as the namespace goes: others' code can
# change what a name means (importlib, builtins, operator.setitem, string.Formatter, ctypes, ...).
NAMESPACE_MODULES = ("math", "cmath", "random", "numpy", "mxnet", "d2lcourse", "d2l", "time",
                     "itertools", "collections", "warnings", "sys", "typing", "dataclasses",
                     "statistics", "os", "tqdm", "matplotlib", "contextlib", "abc", "enum",
                     "numbers", "re", "json", "csv", "heapq", "bisect", "copy", "io", "gzip",
                     "struct", "pathlib", "datetime", "fractions", "decimal", "textwrap", "pprint")
# Modules (with their submodules) that read or write names by string, or call C by name; of sys,
# only the attributes ALLOWED lists.
DYNAMIC_MODULES = ("importlib", "builtins", "operator", "string", "types", "inspect", "ctypes",
                   "gc", "runpy", "code", "codeop", "pickle", "marshal", "imp", "pkgutil",
                   "copyreg", "unittest", "ast", "dis", "weakref", "functools", "numpy.ctypeslib",
                   "numpy.testing", "mxnet.base", "mxnet.library", "mxnet.operator", "mxnet.rtc",
                   "mxnet.libinfo")
# Builtins that build names at run time; getattr with a constant name is an attribute.
DYNAMIC_NAMES = frozenset({"eval", "exec", "compile", "__import__", "globals", "locals", "vars",
                           "setattr", "delattr", "breakpoint", "getattr"})
HARMLESS_DUNDERS = frozenset({"__name__", "__doc__"})
# Attributes that inspect the running program: classes, frames, code.
REFLECTIVE = frozenset({"mro", "f_globals", "f_locals", "f_builtins", "f_back", "f_code",
                        "tb_frame", "tb_next", "gi_frame", "gi_code", "cr_frame", "cr_code",
                        "ag_frame", "ag_code", "func_globals"})
# Methods that read attributes named in a string ("{0.__class__}".format(x)).
FORMAT_METHODS = frozenset({"format", "format_map"})
TRUSTED_PACKAGES = ("d2lcourse.solutions.",)   # what setup cells import: reference code
BUILTIN_NAMES = frozenset(dir(builtins))
# Rules: EVERY_CELL for every cell that runs; REACHED, stricter, for what hand-derived code reaches.
EVERY_CELL, REACHED = "every cell", "reached"
# The parts of an immutable literal: numbers, strings, bytes, None, tuples, arithmetic.
CONSTANT_PARTS = (ast.Constant, ast.Tuple, ast.UnaryOp, ast.BinOp, ast.unaryop, ast.operator,
                  ast.expr_context)
# Expressions that need parentheses before `.attribute` in a message.
OPERATIONS = (ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.Lambda, ast.IfExp,
              ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Starred)
# Nodes that bind a name given as a string (`except E as e`, `case x`, `case {**rest}`).
NAMED_PATTERNS = tuple(getattr(ast, kind) for kind in ("ExceptHandler", "MatchAs", "MatchStar",
                                                        "MatchMapping") if hasattr(ast, kind))
COMPREHENSION_NAMES = {ast.ListComp: "listcomp", ast.SetComp: "setcomp",
                       ast.DictComp: "dictcomp", ast.GeneratorExp: "genexpr"}
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, *COMPREHENSION_NAMES)


def analyse_submission(setup, solution_sources):
    """The grader's analysis of one submission: the trusted setup cells' imports, and each
    solution cell parsed and indexed once (core.check_source asks it through RemoteFunction)."""
    imports, work = {}, collections.Counter()
    for node in (node for source in setup for node in ast.walk(ast.parse(source))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                imports[alias.asname or alias.name] = importlib.import_module(
                    f"{node.module}.{alias.name}") if value is None else value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top, module = alias.name.split(".")[0], importlib.import_module(alias.name)
                imports[alias.asname or top] = module if alias.asname else sys.modules[top]
    solutions, problem = [], ("too_large", MAX_ANALYSED_CHARS)
    if sum(map(len, solution_sources.values())) <= MAX_ANALYSED_CHARS:
        try:
            solutions = [Cell(owner, source, work) for owner, source in solution_sources.items()]
        except MemoryError:
            pass   # too large after all
        else:
            problem = next((cell.problem for cell in solutions if cell.problem), None)
    return Namespace(imports, solutions, work, problem, live=False)


def violation(function, source, forbidden, attributes):
    """The first problem of the hand-derived `function`, whose whole cell is `source`, or None.
    `forbidden`: {id(object): API}; `attributes`: {attribute name: the API it is on any value}.
    The grader's functions carry their submission's `analysis`; any other is judged in its
    globals as they are when it runs, with the cells the grader would run (`<cell ...>`)."""
    namespace = getattr(function, "analysis", None)
    if namespace is None and not isinstance(function, types.FunctionType):
        return None   # no namespace to judge it in (a missing function): its call says why
    try:
        if namespace is None:
            own, values = cached_cell(function.__name__, source), function.__globals__
            ran = [own] + [cell_of(value) for value in list(values.values()) if isinstance(
                value, types.FunctionType) and cells.cell_owner(value.__code__.co_filename)]
            namespace = Namespace(values, ran, collections.Counter(), own.problem, live=True)
        return namespace.violation(function.__name__, forbidden, attributes)
    except RecursionError:
        return ("too_deep",)
    except MemoryError:
        return ("too_large", MAX_ANALYSED_CHARS)


# How a statement binds a global name: "import" (detail: (module, attribute or None)), "def" (or
# lambda), "constant", "alias" (`f = g`, `f = np.exp`), "other", or "value" (detail: known).
Binding = collections.namedtuple("Binding", "kind index node detail", defaults=(None,))


class Cell:
    """One cell's source, parsed once, in one pass over its nodes: `bindings` {name: [Binding]},
    `local_imports` {name: [(module, attribute)]}, per top-level statement the events a verdict
    judges, and `problem`: ("too_deep",) if it cannot be analysed (None if it will not run)."""

    def __init__(self, owner, source, work=None):
        work = collections.Counter() if work is None else work
        self.owner, self.source = owner, source
        self.statements, self.bindings, self.local_imports, self.problem = [], {}, {}, None
        work["parses"] += 1
        try:
            tree = ast.parse(source)
            top = Scope([symtable.symtable(source, "<cell>", "exec")])
        except (SyntaxError, ValueError, RecursionError) as error:
            self.problem = ("too_deep",) if isinstance(error, RecursionError) else None
            return
        for self.index, self.statement in enumerate(tree.body):
            self.events, stack = [], [(self.statement, top)]
            while stack:
                work["nodes"] += 1
                stack.extend(reversed(self.visit(*stack.pop())))
            self.statements.append(self.events)

    def visit(self, node, scope):
        """Record `node`'s events; return the (node, scope) pairs still to visit."""
        if isinstance(node, SCOPES):
            return self.scope(node, scope)
        if isinstance(node, ast.Attribute):
            return self.chain(*attribute_steps(node), scope, not isinstance(node.ctx, ast.Load))
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, (ast.Name, ast.Import, ast.ImportFrom)):
            (self.name if isinstance(node, ast.Name) else self.imports)(node, scope)
            return []
        for name in (getattr(node, "name", None), getattr(node, "rest", None)):
            if isinstance(node, NAMED_PATTERNS) and name:
                self.store(name, node, scope)   # except E as name, case [*name], case {**rest}
        for attribute in getattr(node, "kwd_attrs", ()):   # case C(attribute=pattern)
            self.events.append(("chain", ("expr", node), (attribute,), False))
        if isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and scope.is_global(root.id):
                self.events.append(("subscript_store", root.id))
        return [(child, scope) for child in ast.iter_child_nodes(node)
                if not isinstance(child, ast.expr_context)]

    def scope(self, node, scope):
        """What a scope evaluates where it stands (defaults, decorators, ...), then its body."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.store(node.name, node, scope)
        if isinstance(node, ast.ClassDef):
            outer = node.decorator_list + node.bases + [k.value for k in node.keywords]
            body = node.body
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            annotated = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
            outer = [*a.defaults, *a.kw_defaults, *getattr(node, "decorator_list", ()),
                     *(x.annotation for x in annotated if x), getattr(node, "returns", None)]
            body = node.body if isinstance(node.body, list) else [node.body]
        else:
            first, *rest = node.generators
            outer, body = [first.iter], [first.target, *first.ifs]
            body += [n for g in rest for n in (g.target, g.iter, *g.ifs)]
            body += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        inner = scope.child(node)
        return [(n, scope) for n in outer if n is not None] + [(n, inner) for n in body]

    def chain(self, root, steps, scope, store):
        """An attribute chain `root.a.b` (`steps`: a, b), judged as a whole from its root."""
        if any(step in FORMAT_METHODS for step in steps) and not (
                steps[0] in FORMAT_METHODS and safe_format(root)):
            self.problem_event(REACHED, "by_string", "str.format with a format string that reads "
                                                     "attributes, or one not written out")
        named = isinstance(root, ast.Name) and isinstance(root.ctx, ast.Load)
        where = ("global" if scope.is_global(root.id) else "local") if named else "expr"
        self.events.append(("chain", (where, root.id if named else root), tuple(steps), store))
        return [] if named else [(root, scope)]

    def name(self, node, scope):
        if not isinstance(node.ctx, ast.Load):
            self.store(node.id, node, scope)
        elif not scope.is_global(node.id):
            self.events.append(("local", node.id))
        elif node.id in DYNAMIC_NAMES:
            self.problem_event(EVERY_CELL, "dynamic", node.id)
        elif node.id.startswith("__") and node.id not in HARMLESS_DUNDERS:
            self.problem_event(EVERY_CELL, "dynamic", f"`{node.id}`")
        else:   # a chain of no attribute
            self.events.append(("chain", ("global", node.id), (), False))

    def store(self, name, node, scope):
        if not scope.is_global(name):
            return
        statement, kind = self.statement, "other"
        if node is statement and scope.module and not isinstance(node, ast.ClassDef):
            kind = "def"
        elif scope.module and isinstance(statement, (ast.Assign, ast.AnnAssign)) and (
                node in getattr(statement, "targets", [getattr(statement, "target", None)])):
            value = statement.value   # "constant": an immutable literal, or nothing
            constant = value is None or all(isinstance(n, CONSTANT_PARTS) for n in ast.walk(value))
            kind = "constant" if constant else "def" if isinstance(value, ast.Lambda) else (
                "alias" if isinstance(attribute_steps(value)[0], ast.Name) else "other")
        self.bindings.setdefault(name, []).append(Binding(kind, self.index, statement))

    def call(self, node, scope):
        func, args = node.func, node.args
        pending = [(a, scope) for a in args] + [(k.value, scope) for k in node.keywords]
        if isinstance(func, ast.Name) and func.id == "getattr" and scope.is_global("getattr"):
            if len(args) >= 2 and isinstance(args[1], ast.Constant) and isinstance(
                    args[1].value, str) and not any(isinstance(a, ast.Starred) for a in args[:2]):
                root, steps = attribute_steps(args[0])
                return self.chain(root, steps + [args[1].value], scope, False) + pending[2:]
            self.problem_event(EVERY_CELL, "by_string", "getattr with a computed name")
            return pending
        return [(func, scope)] + pending

    def imports(self, node, scope):
        module = node.module if isinstance(node, ast.ImportFrom) else None
        if isinstance(node, ast.ImportFrom) and (node.level or not module):
            return self.problem_event(REACHED, "dynamic", "a relative import")
        if any(alias.name == "*" for alias in node.names):
            return self.problem_event(EVERY_CELL, "dynamic", f"`from {module} import *`")
        self.events.append(("import", module, [alias.name for alias in node.names]))
        for alias in node.names:
            top = alias.name.split(".")[0]
            name = alias.asname or (alias.name if module else top)
            target = (module, alias.name) if module else (alias.name if alias.asname else top, None)
            if scope.is_global(name):
                self.bindings.setdefault(name, []).append(
                    Binding("import", self.index, node, target))
            else:   # any local of that name, in any function of the cell, may be it
                self.local_imports.setdefault(name, []).append(target)

    def problem_event(self, rules, *problem):
        self.events.append(("problem", rules, problem))


class Scope:
    """A cell's scope: its symbol tables (several where a line holds look-alikes: a global wins)."""

    def __init__(self, tables):
        self.tables, self.children = tables, None
        self.module = any(t.get_type() == "module" for t in tables)
        # The raw {name: flags}: get_symbols() looks each name up in every child (quadratic).
        symbols = [item for table in tables for item in table._table.symbols.items()]
        self.known = {name for name, _ in symbols}
        self.globals = {name for name, flags in symbols if symtable.Symbol(name, flags).is_global()}

    def is_global(self, name):
        return self.module or name in self.globals or name not in self.known

    def child(self, node):
        """The scope of `node` (a function, lambda, class or comprehension) in this one."""
        if self.children is None:
            self.children = {}
            for child in (c for table in self.tables for c in table.get_children()):
                for key in ((child.get_name(), child.get_lineno()), child.get_name()):
                    self.children.setdefault(key, []).append(child)
        name = getattr(node, "name", None) or COMPREHENSION_NAMES.get(type(node), "lambda")
        # on another line numbering: every scope of that name, merged
        key = (name, node.lineno) if (name, node.lineno) in self.children else name
        found = self.children.get(key, [])
        if not isinstance(found, Scope):
            found = self.children[key] = Scope(found)
        return found


def attribute_steps(node):
    """(root, [a, b]) of an attribute chain `root.a.b` (`node` itself and [] for another)."""
    steps = []
    while isinstance(node, ast.Attribute):
        steps.append(node.attr)
        node = node.value
    return node, steps[::-1]


def safe_format(node):
    """True for a format string written out whose fields read no attribute or item."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(node.value) if field]
    except ValueError:
        return True   # it raises when it runs
    return not any("." in field or "[" in field for field in fields)


class Namespace:
    """What names mean where a function runs: the bindings of the cells that ran, by name, the
    `values` known beyond (live: its globals), `problem` (every function's) and `work` (counts)."""

    def __init__(self, values, ran, work, problem, live):
        self.values, self.work, self.problem, self.live = values, work, problem, live
        self.cells = list({id(cell): cell for cell in ran if cell}.values())   # each once
        # rewritten: (cell, problem) of the first cell that breaks EVERY_CELL, once judged
        self.index, self.verdicts, self.rewritten = {}, {}, False
        for cell in self.cells:
            for name, bindings in cell.bindings.items():
                self.index.setdefault(name, []).extend((cell, b) for b in bindings)

    def violation(self, function, forbidden, attributes):
        """The first problem of the hand-derived `function`, or None (memoised): in its cell
        and what it reaches (REACHED rules), then in every cell that ran (EVERY_CELL rules),
        which explains a name nothing binds when one writes names at run time."""
        key = (function, tuple(sorted(forbidden.values())))
        own = next((cell for cell in self.cells if cell.owner == function), None)
        if key not in self.verdicts and own and not self.problem:
            problem = (Judge(self, forbidden, attributes, REACHED).first([own]) or (None, None))[1]
            if not problem or problem[0] == "unresolved":
                if self.rewritten is False:
                    self.rewritten = Judge(self, {}, {}, EVERY_CELL).first(self.cells)
                if self.rewritten:
                    cell, writer = self.rewritten
                    problem = writer if cell is own else ("namespace", cell.owner, writer)
            self.verdicts[key] = problem
        return self.verdicts.get(key, self.problem or own)


cached_cell = functools.lru_cache(maxsize=64)(Cell)   # Cell(owner, source)


def cell_of(function):
    """The Cell a function of a live namespace was defined in, or None (from a file)."""
    filename = function.__code__.co_filename
    source = cells.cached_source(filename, files=False)
    return source and cached_cell(cells.cell_owner(filename) or "another cell", source)


class Judge:
    """Judges statements, each once, under one set of rules (REACHED: and of forbidden APIs)."""

    def __init__(self, notebook, forbidden, attributes, rules):
        self.notebook, self.forbidden, self.attributes = notebook, forbidden, attributes
        self.rules, self.done, self.names = rules, {}, {}

    def first(self, cells_to_judge):
        return next(((cell, problem) for cell in cells_to_judge
                     for index in range(len(cell.statements))
                     if (problem := self.statement(cell, index))), None)

    def statement(self, cell, index):
        key = (id(cell), index)
        if key not in self.done:
            self.done[key] = None   # a statement reached again while judged: judged already
            self.notebook.work["statements"] += 1
            self.done[key] = next(filter(None, (self.event(cell, event)
                                                for event in cell.statements[index])), None)
        return self.done[key]

    def event(self, cell, event):
        kind, subject, reached = event[0], event[1], self.rules == REACHED
        if kind == "problem":
            return event[2] if subject == EVERY_CELL or reached else None
        if kind == "local":
            return ("module_value", subject) if reached and subject in cell.local_imports else None
        if kind == "import":   # importing runs a module: only one that leaves names alone
            return next((self.module(sys.modules.get(m, m), m) for m in
                         ([subject] if subject else event[2]) if not namespace_safe(m)), None)
        if kind == "subscript_store":
            values = self.global_name(cell, subject)[1]
            return ("namespace_write", subject) if any(isinstance(v, types.ModuleType) or (
                callable(v) and getattr(v, "__module__", None)) for v in values) else None
        return self.chain(cell, *event[1:])

    def global_name(self, cell, name):
        """(problem, the modules and objects it may be, if known) of the global `name` in `cell`."""
        if name not in self.names:
            self.names[name] = self.bound(name)
        source, problem, values = self.names[name]
        if problem and problem[0] == "unresolved":
            return (*problem, cell.owner), values
        if problem and source is not None and source is not cell:
            return ("through", name, source.owner, problem), values
        return problem, values

    def bound(self, name):
        """(cell of the problem or None, problem, values) of `name`, once for all its readers."""
        found, values, reached = self.notebook.index.get(name, []), [], self.rules == REACHED
        if name in self.notebook.values:   # a known value: a binding of no cell
            found = found + [(None, Binding("value", -1, None, self.notebook.values[name]))]
        if not found:
            return None, ("unresolved", name) if reached and name not in BUILTIN_NAMES else None, []
        for owner, (kind, index, node, detail) in found:
            self.notebook.work["bindings"] += 1
            problem, source, value = None, None, None
            if kind == "import":
                problem, value = self.imported(*detail)
            elif kind == "value":
                problem, value = self.value(name, detail), detail
            elif reached and kind in ("def", "alias"):
                problem, source = self.statement(owner, index), owner
                if problem and kind == "alias" and problem[0] == "module_value":
                    problem, source = ("module_alias", name, segment(owner, node)), None
            elif reached and kind == "other":
                problem = ("global_value", name, owner.owner, segment(owner, node))
            if problem:
                return source, problem, []
            values.append(value)
        return None, None, [v for v in values if v is not None]

    def imported(self, module, attribute):
        """(problem, value) of `import module` or `from module import attribute` in a student's
        cell: only modules the grader has already imported are looked at."""
        value = sys.modules.get(module, module)
        if (problem := self.module(value, module)) or attribute is None:
            return problem, value
        dotted = f"{module}.{attribute}"
        if isinstance(value, str):
            return self.module(sys.modules.get(dotted, dotted), dotted), None
        return self.step(value, attribute, dotted)

    def value(self, name, value):
        """The problem of a global whose value is known (a notebook's, the setup's)."""
        if isinstance(value, types.ModuleType) or id(value) in self.forbidden:
            return self.module(value, name)
        if self.rules == EVERY_CELL or isinstance(value, (int, float, complex, str, bytes,
                                                         type(None))):
            return None
        # a function of a live namespace: the statements of its cell that define it, or all
        cell = self.notebook.live and isinstance(value, types.FunctionType) and cell_of(value)
        if cell:
            defining = [b.index for b in cell.bindings.get(value.__name__, ()) if b.kind == "def"]
            found = (self.statement(cell, i) for i in defining or range(len(cell.statements)))
            problem = next(filter(None, found), None)
            return problem and ("through", name, cell.owner, problem)
        if allowed_objects().get(id(value)) is value or (
                getattr(value, "__module__", "") or "").startswith(TRUSTED_PACKAGES) or (
                isinstance(value, tuple) and all(isinstance(v, (int, float, str)) for v in value)):
            return None
        return ("global_value", name, None, f"a {type(value).__name__}")

    def module(self, value, written):
        """The problem of reaching the module `value` (or its dotted name, not imported)."""
        if id(value) in self.forbidden:
            return ("forbidden", self.forbidden[id(value)])
        name = value if isinstance(value, str) else value.__name__
        if not namespace_safe(name):
            kind = "dynamic_module" if within(name, DYNAMIC_MODULES) else "unknown_module"
            return (kind, written, name)
        return ("module_not_allowed", written, name) \
            if self.rules == REACHED and name not in ALLOWED else None

    def step(self, owner, attribute, written):
        """(problem, value) of reaching `attribute` of the module or object `owner`."""
        try:
            value = getattr(owner, attribute, None)
        except Exception:   # a trusted object's property that fails: nothing reached
            value = None
        if id(value) in self.forbidden or isinstance(value, types.ModuleType):
            return self.module(value, written), value   # (a problem's value is not read)
        if isinstance(owner, types.ModuleType):
            module, members = owner.__name__, ALLOWED.get(owner.__name__)
            unlisted = members is not None and attribute not in members
            if unlisted and not namespace_safe(module, attribute):
                return ("dynamic_module", written, module), None
            if self.rules == REACHED and (unlisted or (module, attribute) in DYNAMIC_ATTRIBUTES):
                return ("not_allowed", written), None
        return None, value

    def chain(self, cell, origin, steps, store):
        def written(count):   # the chain up to its count-th attribute, as written (cut if long)
            root = origin[-1]
            if origin[0] == "expr":
                root = " ".join((ast.get_source_segment(cell.source, root) or "...").split())
                root = root if len(root) <= 40 else root[:37] + "..."
                root = f"({root})" if isinstance(origin[1], OPERATIONS) else root
            return ".".join([root, *steps[:count]])

        for count, attribute in enumerate(steps, 1):
            kind = ("dunder" if attribute.startswith("__") and attribute not in HARMLESS_DUNDERS
                    else "reflective" if attribute in REFLECTIVE
                    else "private" if self.rules == REACHED and attribute.startswith("_") else None)
            if kind:
                return (kind, written(count))
        if store:
            return ("attribute_write", written(len(steps)))
        problem, values = None, []   # an expression's: not known
        if origin[0] == "local":
            imported = [self.imported(*target) for target in cell.local_imports.get(origin[1], ())]
            problem = next((p for p, _ in imported if p), None)
            values = [v for _, v in imported if v is not None]
        elif origin[0] == "global":
            problem, values = self.global_name(cell, origin[1])
        if problem:
            return (*problem, written(len(steps))) if problem[0] == "module_alias" else problem
        if not values:
            return self.by_name(steps)
        for value in values:
            for count, attribute in enumerate(steps, 1):
                if isinstance(value, str):      # a module the grader has not imported
                    value = f"{value}.{attribute}"
                    problem = self.module(sys.modules.get(value, value), written(count))
                elif not isinstance(value, types.ModuleType) and self.by_name([attribute]):
                    return self.by_name([attribute])   # of an object, a name may be an API
                else:
                    problem, value = self.step(value, attribute, written(count))
                if problem or value is None:   # (None: from here on, what it is is not known)
                    break
            problem = problem or (value is None and self.by_name(steps[count:]))
            if problem:
                return problem
            if self.rules == REACHED and isinstance(value, (types.ModuleType, str)):
                return ("module_value", written(len(steps)))

    def by_name(self, steps):
        """The problem of attributes of a value not known statically: a forbidden API's name
        stands for the API (x.attach_grad(), X.as_nd_ndarray().softmax())."""
        found = [step for step in steps if step in self.attributes]
        return ("forbidden", self.attributes[found[0]]) if found else None


def segment(cell, node):
    line = ((ast.get_source_segment(cell.source, node) or "").splitlines() or [""])[0]
    return line if len(line) <= 80 else line[:77] + "..."


def namespace_safe(module, attribute=None):
    """True if any cell may use `module` (and its `attribute`) as far as the namespace goes."""
    if module == "sys":
        return attribute is None or attribute in ALLOWED["sys"]
    dotted = f"{module}.{attribute}" if attribute else module
    return within(module, NAMESPACE_MODULES) and not within(dotted, DYNAMIC_MODULES)


def within(dotted, modules):
    return any(dotted == m or dotted.startswith(m + ".") for m in modules)


@functools.lru_cache(maxsize=1)
def allowed_objects():
    """{id: object} of the allowed modules' public attributes (they live as long as their
    modules), to recognise a notebook's global by its value."""
    modules = {name: sys.modules.get(name) for name in ALLOWED}
    return {id(value): value for name, module in modules.items() if module is not None
            for attribute in (dir(module) if ALLOWED[name] is None else ALLOWED[name])
            if not attribute.startswith("_") and (name, attribute) not in DYNAMIC_ATTRIBUTES
            for value in [getattr(module, attribute, None)]}


def file_source(function):
    """A function's own source in a file; a lambda's alone, without the line around it."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    try:
        lambdas = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Lambda)] \
            if function.__name__ == "<lambda>" else []
    except SyntaxError:
        return source
    return "\n".join(ast.get_source_segment(source, node) for node in lambdas) or source
