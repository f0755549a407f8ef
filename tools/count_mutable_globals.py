"""Count the mutable module globals of the code (issue 16): `global` statements, and
module-level dicts, lists and sets (literals, comprehensions, or calls of dict, list, set,
Counter, defaultdict, OrderedDict, deque, WeakKeyDictionary, WeakValueDictionary, WeakSet)
that some code mutates: item assignment or deletion, augmented assignment, or a mutating
method (append, update, setdefault, ...), in their module or as `module.NAME` elsewhere; and
module-level instances of a class of their module whose methods (other than __init__)
change the instance's attributes. Caches (functools.lru_cache) and context variables are
not counted.

    .venv/bin/python tools/count_mutable_globals.py [folders or files...]

(d2lcourse and autograder by default) prints each one, where it is mutated, and the count.
"""
import ast
import sys
from pathlib import Path

CONTAINERS = {"dict", "list", "set", "Counter", "defaultdict", "OrderedDict", "deque",
              "WeakKeyDictionary", "WeakValueDictionary", "WeakSet"}
DISPLAYS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
            "add", "discard", "popitem", "appendleft", "popleft", "sort", "reverse",
            "difference_update", "intersection_update", "__setitem__"}


def is_container(value):
    if isinstance(value, DISPLAYS):
        return True
    function = getattr(value, "func", None)
    return getattr(function, "id", getattr(function, "attr", None)) in CONTAINERS


def module_containers(tree):
    """{name: line} of the module-level names bound to a new container."""
    found = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        for target in targets:
            if isinstance(target, ast.Name) and is_container(node.value):
                found[target.id] = node.lineno
    return found


def stateful_instances(tree):
    """{name: line} of the module-level names bound to an instance of a class of the module
    that changes its own attributes after __init__."""
    stateful = {node.name for node in tree.body if isinstance(node, ast.ClassDef)
                and any(changes_self(method) for method in node.body
                        if isinstance(method, ast.FunctionDef) and method.name != "__init__")}
    return {target.id: node.lineno for node in tree.body if isinstance(node, ast.Assign)
            and getattr(getattr(node.value, "func", None), "id", None) in stateful
            for target in node.targets if isinstance(target, ast.Name)}


def changes_self(method):
    """Whether `method` assigns an attribute of self or mutates one."""
    def on_self(expression):
        while isinstance(expression, (ast.Attribute, ast.Subscript)):
            expression = expression.value
        return isinstance(expression, ast.Name) and expression.id == "self"
    assigned = [target for node in ast.walk(method) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Attribute)]
    mutated = [expression for _, expression in mutated_objects(method)]
    return any(on_self(expression) for expression in assigned + mutated
               if isinstance(expression, (ast.Attribute, ast.Subscript)))


def mutated_objects(tree):
    """(line, the expression mutated) of every mutation in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.Delete)):
            for target in node.targets:
                if isinstance(target, ast.Subscript):
                    yield node.lineno, target.value
        elif isinstance(node, ast.AugAssign):
            yield node.lineno, getattr(node.target, "value", node.target)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in MUTATORS:
            yield node.lineno, node.func.value


def refers(expression, name, module, own):
    """True if `expression` is the global `name` of `module` (read in its own module, or as
    module.name)."""
    if own and isinstance(expression, ast.Name):
        return expression.id == name
    return isinstance(expression, ast.Attribute) and expression.attr == name \
        and isinstance(expression.value, ast.Name) and expression.value.id == module


def main(arguments):
    paths = [Path(a) for a in arguments or ("d2lcourse", "autograder")]
    files = sorted(f for p in paths for f in (p.rglob("*.py") if p.is_dir() else [p]))
    trees = {f: ast.parse(f.read_text()) for f in files}
    found = []
    for path, tree in trees.items():
        found += [f"{path}:{node.lineno}: global {', '.join(node.names)}"
                  for node in ast.walk(tree) if isinstance(node, ast.Global)]
        for name, line in module_containers(tree).items():
            where = sorted({f"{other}:{at}" for other, other_tree in trees.items()
                            for at, expression in mutated_objects(other_tree)
                            if refers(expression, name, path.stem, other == path)})
            if where:
                found.append(f"{path}:{line}: {name}, mutated at {', '.join(where)}")
        found += [f"{path}:{line}: {name}, an instance that changes its attributes"
                  for name, line in stateful_instances(tree).items()]
    print("\n".join(found))
    print(f"{len(found)} mutable module globals")


if __name__ == "__main__":
    main(sys.argv[1:])
