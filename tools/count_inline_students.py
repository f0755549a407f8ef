"""Count the student-style functions written inline in tests/test_checks_*.py (issue 16).

A student-style function stands for a student's graded function, written in the test file
rather than taken from the catalogue (d2lcourse/mistakes/) or the reference (solutions/):

- a `def` named after a graded function of the course (factories' inner defs aside);
- a `def`, a lambda, or a `name = lambda` handed to a check as the student's function: the
  first argument of `check.x(...)` (any module imported from d2lcourse.checks), the second
  of a helper given the check first (`message_of(check.x, student)`), the first of a check
  passed in as a parameter (`run(student)`), directly, through a name, or through a
  `pytest.mark.parametrize` list (one per lambda or function there);
- a call of a factory (a module-level function returning a function it defines): one per
  call, or one per parametrize row when the call takes parametrized arguments.

    .venv/bin/python tools/count_inline_students.py [files...]

prints the count per file and the total.
"""
import ast
import sys
from pathlib import Path

from d2lcourse.course import ASSIGNMENTS

GRADED = {name for assignment in ASSIGNMENTS.values() for name in assignment.functions}
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
ENGINE = {"core", "spec", "properties"}   # checks modules whose functions take no student


def check_modules(tree):
    """The names under which a module imports d2lcourse.checks modules."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("d2lcourse.checks"):
            names.update(alias.asname or alias.name for alias in node.names
                         if alias.name not in ENGINE)
    return names


def bindings(body):
    """{name: node} of the defs and assignments directly in `body` (not in nested defs)."""
    found = {}
    for statement in body:
        inside = [] if isinstance(statement, FUNCTIONS) else walk_scope(statement)
        for node in [statement, *inside]:
            if isinstance(node, FUNCTIONS):
                found[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                found[node.targets[0].id] = node.value
    return found


def walk_scope(node):
    """The nodes inside `node`, not descending into nested function definitions."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, FUNCTIONS):
            yield from walk_scope(child)


def parametrized(function):
    """{argument name: [value per row]} of a test's pytest.mark.parametrize decorators."""
    rows = {}
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith(
                "mark.parametrize") and len(decorator.args) >= 2):
            continue
        names = [n.strip() for n in ast.literal_eval(decorator.args[0]).split(",")]
        values = decorator.args[1]
        if not isinstance(values, (ast.List, ast.Tuple)):
            continue
        for index, name in enumerate(names):
            rows[name] = [row.elts[index] if len(names) > 1 else row for row in values.elts]
    return rows


class Counter:
    def __init__(self, tree):
        self.modules = check_modules(tree)
        self.module_scope = bindings(tree.body)
        self.factories = {name for name, node in self.module_scope.items()
                          if isinstance(node, FUNCTIONS) and self.returns_inner_def(node)}
        self.factory_defs = {id(inner) for name in self.factories
                             for inner in ast.walk(self.module_scope[name])
                             if isinstance(inner, FUNCTIONS)
                             and inner is not self.module_scope[name]}
        self.students = {}   # id(node) -> (line, what, weight)
        for name, node in self.module_scope.items():
            if isinstance(node, FUNCTIONS):
                self.visit_function(node, [self.module_scope])
        for node in ast.walk(tree):
            if isinstance(node, FUNCTIONS) and node.name in GRADED \
                    and id(node) not in self.factory_defs:
                self.add(node, f"def {node.name}")

    @staticmethod
    def returns_inner_def(function):
        inner = {n.name for n in function.body if isinstance(n, FUNCTIONS)}
        return any(isinstance(n, ast.Return) and n.value is not None
                   and any(isinstance(name, ast.Name) and name.id in inner
                           for name in ast.walk(n.value)) for n in function.body)

    def add(self, node, what, weight=1):
        self.students.setdefault(id(node), (node.lineno, what, weight))

    def visit_function(self, function, scopes, rows=None):
        rows = {**(rows or {}), **parametrized(function)}
        loops = [node.target for node in ast.walk(function) if isinstance(node, ast.For)]
        parameters = {a.arg for a in function.args.args} | {
            name.id for target in loops for name in ast.walk(target)
            if isinstance(name, ast.Name)}
        scopes = [bindings(function.body), *scopes]
        for node in walk_scope(function):
            if isinstance(node, FUNCTIONS):
                self.visit_function(node, scopes, rows)
            elif isinstance(node, ast.Call):
                student = self.student_argument(node, parameters)
                if student is not None:
                    self.resolve(student, scopes, rows)

    def is_check(self, node):
        return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id in self.modules and not node.attr.isupper()

    def student_argument(self, call, parameters):
        if not call.args:
            return None
        if self.is_check(call.func) or (isinstance(call.func, ast.Name)
                                        and call.func.id in parameters):
            return call.args[0]
        if self.is_check(call.args[0]) and len(call.args) > 1:
            return call.args[1]
        return None

    def resolve(self, node, scopes, rows, depth=0):
        if depth > 5:
            return
        if isinstance(node, ast.Lambda):
            self.add(node, "lambda")
        elif isinstance(node, FUNCTIONS):
            self.add(node, f"def {node.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in self.factories:
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            weight = max([len(rows[name]) for name in used if name in rows] or [1])
            self.add(node, f"{node.func.id}(...)", weight)
        elif isinstance(node, ast.Name):
            for scope in scopes:
                if node.id in scope:
                    return self.resolve(scope[node.id], scopes, rows, depth + 1)
            for value in rows.get(node.id, []):
                self.resolve(value, scopes, rows, depth + 1)

    def total(self):
        return sum(weight for _, _, weight in self.students.values())


def main(paths):
    paths = paths or sorted(Path(__file__).resolve().parent.parent.glob(
        "tests/test_checks_*.py"))
    total = 0
    for path in map(Path, paths):
        count = Counter(ast.parse(path.read_text())).total()
        total += count
        print(f"{count:4d}  {path.name}")
    print(f"{total:4d}  total")


if __name__ == "__main__":
    main(sys.argv[1:])
