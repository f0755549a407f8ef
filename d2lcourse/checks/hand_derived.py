"""Deny by default: what a hand-derived function may reach, decided statically from the
cells that run in its namespace.

The grader runs the setup cells and every solution cell in one namespace, so what a
function's names mean is what those cells bind. Each cell is parsed once into the names
it binds and, per top-level statement, the events the verdict needs (`Cell`); a verdict
follows the names a function reads through the statements that bind them, judging each
statement once (`Judge`), so the analysis is linear in the notebook's size.

Every name and attribute a hand-derived function reaches must resolve to something allowed:

- a global name: an import, a `def` or lambda (judged in turn), a constant, or an alias of
  one of those (`f = g`). A name nothing binds, or a global bound any other way (a list, a
  class, a loop variable), is a violation;
- an attribute chain from an imported module: each step a module of ALLOWED or a public
  attribute of one, never a forbidden API (core.FORBIDDEN_APIS, the contract's list);
- an attribute of any other value: not a dunder or private attribute, not one that
  inspects the running program (REFLECTIVE), not the name of a forbidden API
  (`.backward`), never read through a string (a computed getattr, str.format fields);
- a module is never a value (`m = np`, `f(np)`, `[np]`): modules are imported by name.

And every cell, reached or not, must leave the namespace to its ordinary bindings (the
EVERY_CELL rules): no exec, eval, globals(), vars(), setattr, no dunder or reflective
attribute, no attribute assignment, no star import, no import or use of a module outside
NAMESPACE_MODULES or inside DYNAMIC_MODULES (importlib, builtins, sys.modules, ...). A
cell too large or too deep to analyse is a violation too: the analysis fails closed.

Problems are tuples, (kind, *details), for core.violation_message to word.
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

# The most characters of solution cells one analysis takes (a parsed character costs the
# grader about 160 bytes and 10 us): a submission beyond it is not analysed, its
# hand-derived functions lose their points. Real solution cells hold a few thousand.
MAX_ANALYSED_CHARS = 256 << 10

# The operator families a hand-derived function may use: None for every public attribute
# (modules among them only if listed here themselves), else the set of attributes.
ALLOWED = {
    "math": None, "cmath": None, "random": None,
    "numpy": None, "numpy.linalg": None, "numpy.random": None, "numpy.fft": None,
    "mxnet.numpy": None, "mxnet.numpy.linalg": None, "mxnet.numpy.random": None,
    "mxnet.numpy_extension": None, "mxnet.numpy_extension.random": None,
    "mxnet": {"np", "numpy", "npx", "numpy_extension", "cpu", "gpu", "Context",
              "current_context"},
    "d2lcourse": {"np", "npx", "try_gpu"},
    "sys": {"stderr", "stdout", "float_info", "maxsize", "version_info"},  # debugging
    "warnings": {"warn", "catch_warnings", "simplefilter", "filterwarnings"},
    "time": {"time", "perf_counter", "monotonic", "sleep"},
}
# Attributes of allowed modules that build names at run time (numpy.load unpickles).
DYNAMIC_ATTRIBUTES = {("numpy", "load")}
# Modules any cell may use (with their submodules), as far as the namespace goes: code
# from the others can change what a name means (importlib, builtins, operator.setitem,
# string.Formatter, functools.update_wrapper, ctypes, ...).
NAMESPACE_MODULES = ("math", "cmath", "random", "numpy", "mxnet", "d2lcourse", "d2l",
                     "time", "itertools", "collections", "warnings", "sys", "typing",
                     "dataclasses", "statistics", "os", "tqdm", "matplotlib", "contextlib",
                     "abc", "enum", "numbers", "re", "json", "csv", "heapq", "bisect",
                     "copy", "io", "gzip", "struct", "pathlib", "datetime", "fractions",
                     "decimal", "textwrap", "pprint")
# Modules (with their submodules) that read or write names by string, or call C by name;
# of sys, only the attributes ALLOWED lists.
DYNAMIC_MODULES = ("importlib", "builtins", "operator", "string", "types", "inspect",
                   "ctypes", "gc", "runpy", "code", "codeop", "pickle", "marshal", "imp",
                   "pkgutil", "copyreg", "unittest", "ast", "dis", "weakref", "functools",
                   "numpy.ctypeslib", "numpy.testing", "mxnet.base", "mxnet.library",
                   "mxnet.operator", "mxnet.rtc", "mxnet.libinfo")
# Builtins that build names at run time; getattr with a constant name is an attribute.
DYNAMIC_NAMES = frozenset({"eval", "exec", "compile", "__import__", "globals", "locals",
                           "vars", "setattr", "delattr", "breakpoint", "getattr"})
HARMLESS_DUNDERS = frozenset({"__name__", "__doc__"})
# Attributes that inspect the running program: classes, frames, code.
REFLECTIVE = frozenset({"mro", "f_globals", "f_locals", "f_builtins", "f_back", "f_code",
                        "tb_frame", "tb_next", "gi_frame", "gi_code", "cr_frame", "cr_code",
                        "ag_frame", "ag_code", "func_globals"})
# Methods that read attributes named in a string ("{0.__class__}".format(x)).
FORMAT_METHODS = frozenset({"format", "format_map"})
TRUSTED_PACKAGES = ("d2lcourse.solutions.",)   # what setup cells import: reference code
BUILTIN_NAMES = frozenset(dir(builtins))

# The two sets of rules: EVERY_CELL for every cell that runs, REACHED for what a
# hand-derived function reaches (which includes the first).
EVERY_CELL, REACHED = "every cell", "reached"
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
          ast.SetComp, ast.DictComp, ast.GeneratorExp)
# Load, Store, Del: nothing to judge.
CONTEXTS = (ast.expr_context,)
# Expressions that need parentheses before `.attribute` in a message.
OPERATIONS = (ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.Lambda, ast.IfExp,
              ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Starred)
# Nodes that bind a name given as a string (`except E as e`, `case x`, `case {**rest}`).
NAMED_PATTERNS = tuple(getattr(ast, kind) for kind in ("ExceptHandler", "MatchAs", "MatchStar",
                                                        "MatchMapping")
                       if hasattr(ast, kind))
COMPREHENSION_NAMES = {ast.ListComp: "listcomp", ast.SetComp: "setcomp",
                       ast.DictComp: "dictcomp", ast.GeneratorExp: "genexpr"}


# --------------------------------------------------------------------------- entry points

def analyse_submission(setup, solution_sources):
    """The analysis of one submission, for the grader: every solution cell parsed and
    indexed once. `violation(function, forbidden, attributes)` then judges each of its
    functions (core.check_source asks it through RemoteFunction.analysis)."""
    return Notebook(setup, solution_sources)


def violation(function, source, forbidden, attributes):
    """The first problem of the hand-derived `function`, whose whole cell is `source`, or
    None. `forbidden` maps id(object) -> API name for the forbidden objects; `attributes`
    maps an attribute name (`attach_grad`, `softmax`, ...) to the API it stands for on
    any value. The grader's functions carry their submission's analysis (`analysis`);
    any other resolves its names through its globals, as they are when it runs."""
    notebook = getattr(function, "analysis", None)
    if notebook is None and not isinstance(function, types.FunctionType):
        return None   # no namespace to judge it in (a missing function): its call says why
    try:
        if notebook is None:
            notebook = Values(getattr(function, "__globals__", {}), source,
                              getattr(function, "__name__", "?"))
        return notebook.violation(function.__name__, forbidden, attributes)
    except RecursionError:
        return ("too_deep",)
    except MemoryError:
        return ("too_large", MAX_ANALYSED_CHARS)


# --------------------------------------------------------------------------- one cell

class Binding:
    """How one statement of a cell binds a global name: "import" (detail: (module, attribute
    or None)), "def" (a function or lambda), "constant", "alias" (`f = g`, `f = np.exp`),
    or "other" (anything else: the statement says how)."""

    def __init__(self, kind, index, node, detail=None):
        self.kind, self.index, self.node, self.detail = kind, index, node, detail


class Cell:
    """One cell's source, parsed once: `bindings` {name: [Binding]} and, per top-level
    statement, the events a verdict judges. `problem` is set when it could not be
    analysed (too deep), None when it does not parse (it will not run either). `work`
    counts the analysis' "parses" and "nodes" (its namespace's, for tests of its cost)."""

    def __init__(self, owner, source, work):
        self.owner, self.source, self.work = owner, source, work
        self.statements, self.bindings, self.local_imports = [], {}, {}
        self.problem = None
        work["parses"] += 1
        try:
            tree = ast.parse(source)
            table = symtable.symtable(source, "<cell>", "exec")
        except (SyntaxError, ValueError):
            return
        except RecursionError:
            self.problem = ("too_deep",)
            return
        top = Scope([table])
        for index, statement in enumerate(tree.body):
            self.statements.append(Collector(self, index, statement).run(top))

    def bind(self, name, binding):
        self.bindings.setdefault(name, []).append(binding)


class Scope:
    """The symbol tables of one scope of a cell (several, merged, where one line holds
    look-alike scopes: a name global in any of them counts as global)."""

    def __init__(self, tables):
        self.tables = tables
        self.module = any(t.get_type() == "module" for t in tables)
        self.globals, self.known = set(), set()
        for table in tables:
            # The raw {name: flags}: SymbolTable.get_symbols() looks each name up among all
            # the children, quadratic in a cell of many functions.
            for name, flags in table._table.symbols.items():
                self.known.add(name)
                if symtable.Symbol(name, flags).is_global():
                    self.globals.add(name)
        self.children = None

    def is_global(self, name):
        return self.module or name in self.globals or name not in self.known

    def child(self, node):
        """The scope of `node` (a function, lambda, class or comprehension) in this one."""
        if self.children is None:
            self.children = {}
            for table in self.tables:
                for child in table.get_children():
                    self.children.setdefault((child.get_name(), child.get_lineno()),
                                             []).append(child)
                    self.children.setdefault(child.get_name(), []).append(child)
        name = getattr(node, "name", None) or COMPREHENSION_NAMES.get(type(node), "lambda")
        key = (name, node.lineno)
        if key not in self.children:
            key = name   # another line numbering: every scope of that name, merged
        found = self.children.get(key, [])
        if not isinstance(found, Scope):
            found = self.children[key] = Scope(found)
        return found


class Collector:
    """The events of one top-level statement, in one pass over its nodes."""

    def __init__(self, cell, index, statement):
        self.cell, self.index, self.statement = cell, index, statement
        self.events = []

    def run(self, top):
        stack = [(self.statement, top)]
        while stack:
            node, scope = stack.pop()
            self.cell.work["nodes"] += 1
            pending = self.visit(node, scope)
            stack.extend(reversed(pending))
        return self.events

    def problem(self, rules, *problem):
        self.events.append(("problem", rules, problem))

    def visit(self, node, scope):
        """Record `node`'s events; return the (node, scope) pairs still to visit."""
        if isinstance(node, SCOPES):
            return self.scope(node, scope)
        if isinstance(node, ast.Attribute):
            root, steps = attribute_steps(node)
            return self.chain_from(root, steps, scope, not isinstance(node.ctx, ast.Load))
        if isinstance(node, ast.Name):
            self.name(node, scope)
            return []
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, scope)
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
                if not isinstance(child, CONTEXTS)]

    def scope(self, node, scope):
        inner = scope.child(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.store(node.name, node, scope)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            outer = list(arguments.defaults) + [d for d in arguments.kw_defaults if d]
            if not isinstance(node, ast.Lambda):
                everything = arguments.posonlyargs + arguments.args + arguments.kwonlyargs \
                    + [a for a in (arguments.vararg, arguments.kwarg) if a]
                outer += node.decorator_list + [a.annotation for a in everything if a.annotation]
                outer += [node.returns] if node.returns else []
            body = node.body if isinstance(node.body, list) else [node.body]
        elif isinstance(node, ast.ClassDef):
            outer = node.decorator_list + node.bases + [k.value for k in node.keywords]
            body = node.body
        else:
            first, *rest = node.generators
            outer = [first.iter]
            body = [first.target, *first.ifs]
            for generator in rest:
                body += [generator.target, generator.iter, *generator.ifs]
            body += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        return [(n, scope) for n in outer] + [(n, inner) for n in body]

    def chain_from(self, root, steps, scope, store):
        """An attribute chain `root.a.b` (`steps`: a, b), judged as a whole from its root."""
        if any(step in FORMAT_METHODS for step in steps) and not (
                steps[0] in FORMAT_METHODS and safe_format(root)):
            self.problem(REACHED, "by_string", "str.format with a format string that reads "
                                               "attributes, or one not written out")
        pending = []
        if isinstance(root, ast.Name) and isinstance(root.ctx, ast.Load):
            origin = self.origin(root.id, scope)
        else:
            origin = ("expr", root)
            pending.append((root, scope))
        self.events.append(("chain", origin, tuple(steps), store))
        return pending

    def origin(self, name, scope):
        """Where a name read in `scope` is looked up: ("global", name) or ("local", name)."""
        return ("global", name) if scope.is_global(name) else ("local", name)

    def name(self, node, scope):
        if not isinstance(node.ctx, ast.Load):
            self.store(node.id, node, scope)
        elif not scope.is_global(node.id):
            self.events.append(("local", node.id))
        elif node.id in DYNAMIC_NAMES:
            self.problem(EVERY_CELL, "dynamic", node.id)
        elif node.id.startswith("__") and node.id not in HARMLESS_DUNDERS:
            self.problem(EVERY_CELL, "dynamic", f"`{node.id}`")
        else:
            self.events.append(("name", node.id))

    def store(self, name, node, scope):
        """`name` bound by `node` in `scope`: a binding of the cell if it is global."""
        if not scope.is_global(name):
            return
        statement = self.statement
        kind = "other"
        if node is statement and scope.module:
            kind = "def" if not isinstance(node, ast.ClassDef) else "other"
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and scope.module and (
                node in getattr(statement, "targets", ()) or node is getattr(statement, "target", None)):
            kind = value_kind(statement.value)
        self.cell.bind(name, Binding(kind, self.index, statement))

    def call(self, node, scope):
        func, args = node.func, node.args
        pending = [(a, scope) for a in args] + [(k.value, scope) for k in node.keywords]
        if isinstance(func, ast.Name) and func.id == "getattr" and scope.is_global("getattr"):
            if len(args) >= 2 and constant_string(args[1]) and not any(
                    isinstance(a, ast.Starred) for a in args[:2]):
                root, steps = attribute_steps(args[0])
                return self.chain_from(root, steps + [args[1].value], scope, False) + pending[2:]
            self.problem(EVERY_CELL, "by_string", "getattr with a computed name")
            return pending
        return [(func, scope)] + pending

    def imports(self, node, scope):
        if isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                self.problem(REACHED, "dynamic", "a relative import")
                return
            if any(alias.name == "*" for alias in node.names):
                self.problem(EVERY_CELL, "dynamic", f"`from {node.module} import *`")
                return
            bound = [(alias.asname or alias.name, (node.module, alias.name))
                     for alias in node.names]
        else:
            bound = [(alias.asname or alias.name.split(".")[0],
                      (alias.name if alias.asname else alias.name.split(".")[0], None))
                     for alias in node.names]
        self.events.append(("import", node.module if isinstance(node, ast.ImportFrom)
                            else None, [alias.name for alias in node.names]))
        for name, target in bound:
            if scope.is_global(name):
                self.cell.bind(name, Binding("import", self.index, node, target))
            else:   # any local of that name, in any function of the cell, may be it
                self.cell.local_imports.setdefault(name, []).append(target)


def attribute_steps(node):
    """(root, [a, b]) of an attribute chain `root.a.b` (`node` itself and [] for another)."""
    steps = []
    while isinstance(node, ast.Attribute):
        steps.append(node.attr)
        node = node.value
    return node, steps[::-1]


def value_kind(value):
    """How `name = value` binds a name: "constant", "alias", "def" (a lambda) or "other"."""
    if value is None or is_constant(value):
        return "constant"
    if isinstance(value, ast.Lambda):
        return "def"
    while isinstance(value, ast.Attribute):
        value = value.value
    return "alias" if isinstance(value, ast.Name) else "other"


def is_constant(node):
    """An immutable literal: a number, string, bytes, None, or a tuple or arithmetic of them."""
    pending = [node]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Tuple):
            pending += node.elts
        elif isinstance(node, ast.UnaryOp):
            pending.append(node.operand)
        elif isinstance(node, ast.BinOp):
            pending += [node.left, node.right]
        elif not isinstance(node, ast.Constant):
            return False
    return True


def constant_string(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def safe_format(node):
    """True for a format string written out whose fields read no attribute or item."""
    if not constant_string(node):
        return False
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(node.value) if field]
    except ValueError:
        return True   # it raises when it runs
    return not any("." in field or "[" in field for field in fields)


# --------------------------------------------------------------------------- namespaces

class Namespace:
    """What names mean where a function runs: the bindings of the cells that ran, indexed
    by name, and the `values` known beyond them."""

    def __init__(self, values, cells_that_ran, work):
        self.values, self.work = values, work   # work: the analysis' (see Cell)
        self.index = {}
        for cell in cells_that_ran:
            for name, bindings in cell.bindings.items():
                self.index.setdefault(name, []).extend((cell, b) for b in bindings)
        self.rewritten = False   # (cell, problem) of the first cell that breaks EVERY_CELL

    def bindings(self, name):
        """[(cell, Binding)] of every binding of `name`; a known value is (None, value)."""
        found = self.index.get(name, [])
        if name in self.values:
            found = found + [(None, Binding("value", -1, None, self.values[name]))]
        return found


class Notebook(Namespace):
    """The grader's view of one submission: the trusted setup cells' imports, and every
    solution cell, parsed once and indexed by the names it binds."""

    def __init__(self, setup, solution_sources):
        imports, work = {}, collections.Counter()
        for source in setup:
            imports.update(trusted_imports(source))
        self.cells, self.problem, self.verdicts = [], None, {}
        if sum(len(source) for source in solution_sources.values()) > MAX_ANALYSED_CHARS:
            self.problem = ("too_large", MAX_ANALYSED_CHARS)
        else:
            try:
                self.cells = [Cell(owner, source, work)
                              for owner, source in solution_sources.items()]
            except MemoryError:
                self.problem = ("too_large", MAX_ANALYSED_CHARS)
            self.problem = self.problem or next((c.problem for c in self.cells if c.problem),
                                                None)
        super().__init__(imports, self.cells, work)

    def cell_of(self, function):
        """The cell of a function that is a value here: none is (setup code is trusted)."""
        return None

    def violation(self, function, forbidden, attributes):
        """The first problem of the hand-derived `function`, or None (memoised)."""
        key = (function, tuple(sorted(forbidden.values())))
        if key not in self.verdicts:
            own = next((c for c in self.cells if c.owner == function), None)
            self.verdicts[key] = self.problem or (own and verdict(
                self, own, self.cells, forbidden, attributes))
        return self.verdicts[key]


class Values(Namespace):
    """A function's namespace as it is when the function runs (a notebook, `d2lcourse
    check`, the sandbox): a global name is its value; a function from a cell is judged
    from that cell's source. The cells the grader would run (`<cell ...>`, as
    grading.exec_cell names them) are held to the namespace rules too."""

    def __init__(self, namespace, source, owner):
        self.own = cached_cell(owner, source)
        ran = {id(self.own): self.own}
        for value in list(namespace.values()):
            if isinstance(value, types.FunctionType) \
                    and cells.cell_owner(value.__code__.co_filename):
                cell = self.cell_of(value)
                ran.setdefault(id(cell), cell)
        self.ran = [cell for cell in ran.values() if cell]
        super().__init__(namespace, self.ran, collections.Counter())

    def cell_of(self, function):
        """The Cell a function of this namespace was defined in, or None (from a file)."""
        code = getattr(function, "__code__", None)
        source = code and cells.cached_source(code.co_filename, files=False)
        return source and cached_cell(cells.cell_owner(code.co_filename) or "another cell",
                                      source)

    def violation(self, function, forbidden, attributes):
        return self.own.problem or verdict(self, self.own, self.ran, forbidden, attributes)


def verdict(namespace, own, ran, forbidden, attributes):
    """The first problem of the function whose cell is `own`, given the cells that `ran`
    in its namespace: its own cell and what it reaches (REACHED rules), then every
    cell that ran (EVERY_CELL rules). A name nothing binds is explained by a cell that
    writes the namespace at run time, when there is one."""
    found = Judge(namespace, forbidden, attributes, REACHED).first([own])
    problem = found and found[1]
    if problem and problem[0] != "unresolved":
        return problem
    if namespace.rewritten is False:
        namespace.rewritten = Judge(namespace, {}, {}, EVERY_CELL).first(ran)
    found = namespace.rewritten
    if found:
        cell, writer = found
        return writer if cell is own else ("namespace", cell.owner, writer)
    return problem


@functools.lru_cache(maxsize=64)
def cached_cell(owner, source):
    return Cell(owner, source, collections.Counter())


def trusted_imports(source):
    """{name: module or object} that the imports of a (trusted) setup cell bind."""
    bound = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if value is None:
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                bound[alias.asname or alias.name] = value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                module = importlib.import_module(alias.name)
                bound[alias.asname or top] = module if alias.asname else sys.modules[top]
    return bound


# --------------------------------------------------------------------------- judging

class Judge:
    """Judges statements under one set of rules (and, for REACHED, one set of
    forbidden APIs), each statement once."""

    def __init__(self, notebook, forbidden, attributes, rules):
        self.notebook, self.forbidden, self.attributes = notebook, forbidden, attributes
        self.rules = rules
        self.done, self.names = {}, {}

    def first(self, cells_to_judge):
        """(cell, problem) of the first problem in these cells' statements, or None."""
        for cell in cells_to_judge:
            for index in range(len(cell.statements)):
                problem = self.statement(cell, index)
                if problem:
                    return cell, problem
        return None

    def statement(self, cell, index):
        key = (id(cell), index)
        if key not in self.done:
            self.done[key] = None   # a statement reached again while judged: judged already
            self.notebook.work["statements"] += 1
            for event in cell.statements[index]:
                problem = self.event(cell, event)
                if problem:
                    self.done[key] = problem
                    break
        return self.done[key]

    def event(self, cell, event):
        kind = event[0]
        if kind == "problem":
            _, rules, problem = event
            return problem if rules == EVERY_CELL or self.rules == REACHED else None
        if kind == "name":
            problem, values = self.global_name(cell, event[1])
            if problem:
                return problem
            if self.rules == REACHED and any(isinstance(v, (types.ModuleType, str))
                                             for v in values):
                return ("module_value", event[1])
            return None
        if kind == "local":
            return ("module_value", event[1]) \
                if self.rules == REACHED and event[1] in cell.local_imports else None
        if kind == "import":   # importing runs a module: only one that leaves names alone
            modules = [event[1]] if event[1] else event[2]
            return next((self.module(sys.modules.get(m, m), m) for m in modules
                         if not namespace_safe(m)), None)
        if kind == "subscript_store":
            _, values = self.global_name(cell, event[1])
            if any(isinstance(v, types.ModuleType) or module_of(v) for v in values):
                return ("namespace_write", event[1])
            return None
        return self.chain(cell, *event[1:])

    def global_name(self, cell, name):
        """(problem, values): what reading the global `name` in `cell` reaches, and the
        modules and objects it may be (empty when not known statically)."""
        if name not in self.names:
            self.names[name] = self.bound(name)
        source, problem, values = self.names[name]
        if problem and problem[0] == "unresolved":
            return (*problem, cell.owner), values
        if problem and source is not None and source is not cell:
            return ("through", name, source.owner, problem), values
        return problem, values

    def bound(self, name):
        """(cell whose statement has the problem, or None; problem; values) of `name`,
        judged once for every cell that reads it."""
        found = self.notebook.bindings(name)
        if not found:
            if name in BUILTIN_NAMES or self.rules == EVERY_CELL:
                return None, None, []
            return None, ("unresolved", name), []
        values = []
        for owner, binding in found:
            self.notebook.work["bindings"] += 1
            problem, source = None, None
            if binding.kind == "import":
                problem, value = self.imported(*binding.detail)
                values.append(value)
            elif binding.kind == "value":
                problem = self.value(name, binding.detail)
                values.append(binding.detail)
            elif self.rules == REACHED and binding.kind in ("def", "alias"):
                problem, source = self.statement(owner, binding.index), owner
                if problem and binding.kind == "alias" and problem[0] == "module_value":
                    problem, source = ("module_alias", name, segment(owner, binding.node)), None
            elif self.rules == REACHED and binding.kind == "other":
                problem = ("global_value", name, owner.owner, segment(owner, binding.node))
            if problem:
                return source, problem, []
        return None, None, [v for v in values if v is not None]

    def imported(self, module, attribute):
        """(problem, value) of `import module` or `from module import attribute` in a
        student's cell: only modules the grader has already imported are looked at."""
        value = sys.modules.get(module, module)
        problem = self.module(value, module)
        if problem or attribute is None:
            return problem, value
        dotted = f"{module}.{attribute}"
        if isinstance(value, str):
            return self.module(sys.modules.get(dotted, dotted), dotted), None
        return self.step(value, attribute, dotted)

    def value(self, name, value):
        """The problem of a global whose value is known (a notebook's, the setup's)."""
        if isinstance(value, types.ModuleType):
            return self.module(value, name)
        if id(value) in self.forbidden:
            return ("forbidden", self.forbidden[id(value)])
        if self.rules == EVERY_CELL or isinstance(value, (int, float, complex, str, bytes,
                                                         bool, type(None))):
            return None
        cell = self.notebook.cell_of(value) if isinstance(value, types.FunctionType) else None
        if cell is not None:   # the statements of its cell that define it, or all of them
            defining = [b.index for b in cell.bindings.get(value.__name__, ()) if b.kind == "def"]
            for index in defining or range(len(cell.statements)):
                problem = self.statement(cell, index)
                if problem:
                    return ("through", name, cell.owner, problem)
            return None
        if known_object(value) or trusted(value) or (
                isinstance(value, tuple) and all(isinstance(v, (int, float, str)) for v in value)):
            return None
        return ("global_value", name, None, f"a {type(value).__name__}")

    def module(self, value, written):
        """The problem of reaching the module `value` (or its dotted name, not imported)."""
        if id(value) in self.forbidden:
            return ("forbidden", self.forbidden[id(value)])
        name = value if isinstance(value, str) else value.__name__
        if self.rules == REACHED and name not in ALLOWED and namespace_safe(name):
            return ("module_not_allowed", written, name)
        if not namespace_safe(name):
            return ("dynamic_module" if within(name, DYNAMIC_MODULES) else "unknown_module",
                    written, name)
        return None

    def step(self, owner, attribute, written):
        """(problem, value) of reaching `attribute` of the module or object `owner`."""
        try:
            value = getattr(owner, attribute, None)
        except Exception:   # a trusted object's property that fails: nothing reached
            value = None
        if id(value) in self.forbidden:
            return ("forbidden", self.forbidden[id(value)]), None
        if isinstance(value, types.ModuleType):
            return self.module(value, written), value
        if isinstance(owner, types.ModuleType):
            members = ALLOWED.get(owner.__name__)
            if members is not None and attribute not in members and not namespace_safe(
                    owner.__name__, attribute):
                return ("dynamic_module", written, owner.__name__), None
            if self.rules == REACHED and (
                    members is not None and attribute not in members
                    or (owner.__name__, attribute) in DYNAMIC_ATTRIBUTES):
                return ("not_allowed", written), None
        return None, value

    def chain(self, cell, origin, steps, store):
        written = chain_text(cell, origin, steps)
        for count, attribute in enumerate(steps, 1):
            if attribute.startswith("__") and attribute not in HARMLESS_DUNDERS:
                return ("dunder", written(count))
            if attribute in REFLECTIVE:
                return ("reflective", written(count))
            if self.rules == REACHED and attribute.startswith("_"):
                return ("private", written(count))
        if store:
            return ("attribute_write", written(len(steps)))
        if origin[0] == "expr":
            return self.by_name(steps)
        if origin[0] == "local":
            imported = [self.imported(*target) for target in cell.local_imports.get(origin[1], ())]
            problem = next((p for p, _ in imported if p), None)
            values = [v for _, v in imported if v is not None]
        else:
            problem, values = self.global_name(cell, origin[1])
        if problem and problem[0] == "module_alias":
            return (*problem, written(len(steps)))
        if problem:
            return problem
        if not values:
            return self.by_name(steps)
        for value in values:
            for count, attribute in enumerate(steps, 1):
                if isinstance(value, str):      # a module the grader has not imported
                    dotted = f"{value}.{attribute}"
                    problem = self.module(sys.modules.get(dotted, dotted), written(count))
                    value = dotted
                else:   # of a class or object, its name may stand for an API too
                    problem = None if isinstance(value, types.ModuleType) \
                        else self.by_name([attribute])
                    problem, value = problem and (problem, None) or self.step(
                        value, attribute, written(count))
                if problem:
                    return problem
                if value is None:               # from here on, what it is is not known
                    problem = self.by_name(steps[count:])
                    break
            if problem:
                return problem
            if self.rules == REACHED and steps and isinstance(value, (types.ModuleType, str)):
                return ("module_value", written(len(steps)))
        return None

    def by_name(self, steps):
        """The problem of attributes of a value not known statically: a forbidden API's
        name stands for the API (x.attach_grad(), X.as_nd_ndarray().softmax())."""
        if self.rules == REACHED:
            for attribute in steps:
                if attribute in self.attributes:
                    return ("forbidden", self.attributes[attribute])
        return None


def chain_text(cell, origin, steps):
    """written(n): the chain up to its n-th attribute, as written (a long expression cut)."""
    def written(count):
        root = origin[-1]
        if origin[0] == "expr":
            root = " ".join((ast.get_source_segment(cell.source, root) or "...").split())
            root = root if len(root) <= 40 else root[:37] + "..."
            root = f"({root})" if isinstance(origin[1], OPERATIONS) else root
        return ".".join([root, *steps[:count]])
    return written


def segment(cell, node):
    """The first line of a statement of `cell`, for messages."""
    text = ast.get_source_segment(cell.source, node) or ""
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 80 else line[:77] + "..."


def namespace_safe(module, attribute=None):
    """True if any cell may use `module` (and its `attribute`) as far as the namespace goes."""
    if module == "sys":
        return attribute is None or attribute in ALLOWED["sys"]
    dotted = f"{module}.{attribute}" if attribute else module
    return within(module, NAMESPACE_MODULES) and not within(dotted, DYNAMIC_MODULES)


def within(dotted, modules):
    """True if the module `dotted` is one of `modules` or in one of them."""
    return any(dotted == m or dotted.startswith(m + ".") for m in modules)


def module_of(value):
    """The module an object comes from, if it is not a plain value."""
    return getattr(value, "__module__", None) if callable(value) else None


def trusted(value):
    return (getattr(value, "__module__", "") or "").startswith(TRUSTED_PACKAGES)


@functools.lru_cache(maxsize=1)
def allowed_objects():
    """{id: object} of every public attribute of the allowed modules (they live as long
    as their modules), to recognise a notebook's global by its value."""
    found = {}
    for name, members in ALLOWED.items():
        module = sys.modules.get(name)
        if module is None:
            continue
        for attribute in (members if members is not None else dir(module)):
            if not attribute.startswith("_") and (name, attribute) not in DYNAMIC_ATTRIBUTES:
                value = getattr(module, attribute, None)
                found[id(value)] = value
    return found


def known_object(value):
    return allowed_objects().get(id(value)) is value


# --------------------------------------------------------------------------- sources

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
