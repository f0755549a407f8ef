"""How well `d2lcourse similarity` finds copies, and how fast, on a synthetic class of 04.

    .venv/bin/python benchmarks/similarity.py [--students 500] [--seed 0]

Independent students mix, per function, the reference, the catalogued alternatives and
mistakes, each written in a style of their own (operands commuted, method or function
form, temporaries, keyword order: changes that survive the normalisation, as real
students' own choices do). Planted among them: 50 copied pairs and 5 clusters of 3-4,
each copy hidden at one obfuscation level (every level adds to the one before), some
copying only 3 of the 7 functions, and 20 copies of the reference; also blank and
stub-only submissions, which must never be flagged. Prints recall per level, the false
pairs among all pairs of students, and the time, last.
"""
import argparse
import ast
import builtins
import itertools
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from d2lcourse import authoring, mistakes  # noqa: E402
from d2lcourse.autograder import similarity  # noqa: E402
from d2lcourse.course import ASSIGNMENTS  # noqa: E402

ASSIGNMENT = ASSIGNMENTS["04_softmax_regression"]
LEVELS = ("rename", "format", "comments", "reorder", "dead code", "helpers")
METHODS = {"sum", "max", "exp", "log", "mean", "min"}
DEAD = ("unused = 0", "if False:\n    print('debug')", "checked = None",
        "assert True", "debug = []")


# --------------------------------------------------------------------------- styles

class Style(ast.NodeTransformer):
    """An independent student's own way of writing the same code: each choice below is
    made at random, node by node, as different students make it."""

    def __init__(self, rng):
        self.rng = rng

    def coin(self):
        return self.rng.random() < 0.5

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Mult)) and self.coin():
            node.left, node.right = node.right, node.left
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
                and node.right.value == 2 and self.coin():      # x ** 2 -> x * x
            return ast.BinOp(node.left, ast.Mult(), node.left)
        if isinstance(node.op, ast.Div) and self.coin():       # a / b -> a * (1.0 / b)
            return ast.BinOp(node.left, ast.Mult(), ast.BinOp(ast.Constant(1.0), ast.Div(),
                                                              node.right))
        return node

    def visit_keyword(self, node):
        self.generic_visit(node)
        if node.arg == "axis" and isinstance(node.value, ast.Constant) \
                and node.value.value == 1 and self.coin():
            node.value = ast.UnaryOp(ast.USub(), ast.Constant(1))
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if len(node.keywords) > 1 and self.coin():
            node.keywords.reverse()
        function = node.func
        if (isinstance(function, ast.Attribute) and function.attr in METHODS
                and isinstance(function.value, ast.Name) and function.value.id != "np"
                and self.coin()):   # x.sum(...) -> np.sum(x, ...)
            return ast.Call(ast.Attribute(ast.Name("np", ast.Load()), function.attr,
                                          ast.Load()), [function.value, *node.args],
                            node.keywords)
        return node


def hoist(tree, rng):
    """Give call arguments and returned values names of their own, as some students do."""
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        body = []
        for statement in function.body:
            if isinstance(statement, ast.Return) and statement.value is not None \
                    and not isinstance(statement.value, ast.Name) and rng.random() < 0.4:
                name = rng.choice(["result", "out", "answer", "value"])
                body += [ast.Assign([ast.Name(name, ast.Store())], statement.value, lineno=0),
                         ast.Return(ast.Name(name, ast.Load()))]
                continue
            if isinstance(statement, (ast.Assign, ast.Return)) and statement.value is not None:
                calls = [c for c in ast.walk(statement.value) if isinstance(c, ast.Call)
                         and c.args and isinstance(c.args[0], (ast.BinOp, ast.Call))]
                if calls and rng.random() < 0.5:
                    call = rng.choice(calls)
                    name = f"t{rng.randrange(100)}"
                    body.append(ast.Assign([ast.Name(name, ast.Store())], call.args[0],
                                           lineno=0))
                    call.args[0] = ast.Name(name, ast.Load())
            body.append(statement)
        function.body = body
    return tree


def styled(source, rng):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    tree = hoist(Style(rng).visit(tree), rng)
    return ast.unparse(ast.fix_missing_locations(tree))


# --------------------------------------------------------------------------- obfuscation

class Rename(ast.NodeTransformer):
    def __init__(self, keep, rng):
        self.names, self.keep, self.rng = {}, keep, rng

    def new(self, name):
        if name in self.keep:
            return name
        return self.names.setdefault(name, f"{self.rng.choice('abcdefghuvwz')}{len(self.names)}_")

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store) or node.id in self.names:
            node.id = self.new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.new(node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.new(node.name)
        self.generic_visit(node)
        return node


def independent(body):
    """Adjacent assignments that neither reads nor writes the other's names."""
    pairs = []
    for i in range(len(body) - 1):
        first, second = body[i], body[i + 1]
        if isinstance(first, ast.Assign) and isinstance(second, ast.Assign):
            written = {n.id for t in first.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            read = {n.id for n in ast.walk(second) if isinstance(n, ast.Name)}
            written2 = {n.id for t in second.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            read1 = {n.id for n in ast.walk(first.value) if isinstance(n, ast.Name)}
            if not (written & read) and not (written2 & read1):
                pairs.append(i)
    return pairs


def obfuscate(source, function, level, rng):
    """`source` hidden at `level` and every level before it."""
    steps = LEVELS[:LEVELS.index(level) + 1]
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    keep = {function, "np", "npx", "onp", "math", "d2lcourse", *dir(builtins)}
    tree = Rename(keep, rng).visit(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(getattr(node.body[0], "value", None), ast.Constant):
            node.body = node.body[1:] or [ast.Pass()]   # the docstring goes
        if isinstance(node, ast.FunctionDef) and "reorder" in steps:
            for i in independent(node.body):
                node.body[i], node.body[i + 1] = node.body[i + 1], node.body[i]
        if isinstance(node, ast.FunctionDef) and "dead code" in steps and node.name == function \
                and rng.random() < 0.5:
            node.body.insert(rng.randrange(len(node.body)), ast.parse(rng.choice(DEAD)).body[0])
    if "helpers" in steps:
        tree = split_helper(tree, function, rng)
    text = ast.unparse(ast.fix_missing_locations(tree))
    if "format" in steps:
        text = "\n\n".join(line.replace(", ", " , ").replace("(", "( ").replace(")", " )")
                           for line in text.splitlines())
    if "comments" in steps:
        text = '"""My own answer."""\n' + "\n".join(
            f"{line}  # step {i}" if line.strip() and not line.rstrip().endswith((":", "\\"))
            else line for i, line in enumerate(text.splitlines()))
    return text


def split_helper(tree, function, rng):
    """Move one assignment's value into a helper function of the cell."""
    main = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function),
                None)
    if main is None:
        return tree
    candidates = [s for s in main.body if isinstance(s, ast.Assign)]
    if not candidates:
        return tree
    statement = rng.choice(candidates)
    used = sorted({n.id for n in ast.walk(statement.value) if isinstance(n, ast.Name)
                   and n.id not in {"np", "npx", "onp", "math"}})
    helper = ast.FunctionDef(f"helper_{rng.randrange(1000)}",
                             ast.arguments([], [ast.arg(u) for u in used], None, [], [], None, []),
                             [ast.Return(statement.value)], [], None, None)
    statement.value = ast.Call(ast.Name(helper.name, ast.Load()),
                               [ast.Name(u, ast.Load()) for u in used], [])
    tree.body.insert(tree.body.index(main), helper)
    return tree


# --------------------------------------------------------------------------- the class

def variants():
    """{function: [source, ...]}: the reference first, then alternatives and mistakes."""
    module = authoring.reference_module(ASSIGNMENT)
    found = {f: [similarity.without_markers(authoring.solution_cell_source(module, f))]
             for f in ASSIGNMENT.functions}
    catalogued, alternatives = mistakes.load(ASSIGNMENT)
    for item in [*alternatives, *catalogued]:
        if item.function in found:
            found[item.function].append(item.source)
    return found


def build(count, rng):
    """(cells, planted): {student: {grade_id: source}}, [(a, b, level, kind)]."""
    choices = variants()
    reference = {f: v[0] for f, v in choices.items()}

    def student():
        return {f: styled(v[0] if rng.random() < 0.3 else rng.choice(v), rng)
                for f, v in choices.items()}

    cells, planted, number = {}, [], itertools.count()

    def add(sources):
        name = f"s{next(number):03d}"
        cells[name] = sources
        return name

    def copy_of(sources, level, functions):
        own = student()
        return {f: obfuscate(sources[f], f, level, rng) if f in functions else own[f]
                for f in sources}

    for i in range(50):
        level = LEVELS[i % len(LEVELS)]
        functions = (rng.sample(ASSIGNMENT.functions, 3) if i % 5 == 4
                     else ASSIGNMENT.functions)
        source = add(student())
        kind = "pair" if len(functions) == len(ASSIGNMENT.functions) else "3 of 7"
        planted.append((source, add(copy_of(cells[source], level, functions)), level, kind))
    for i in range(5):
        source = add(student())
        for j in range(2 + i % 2):
            level = LEVELS[(i + j) % len(LEVELS)]
            planted.append((source, add(copy_of(cells[source], level, ASSIGNMENT.functions)),
                            level, "cluster"))
    for i in range(20):
        level = LEVELS[i % len(LEVELS)]
        planted.append(("reference", add(copy_of(reference, level, ASSIGNMENT.functions)),
                        level, "reference"))
    blanks = set()
    for i in range(10):
        blanks.add(add({}))          # blank: every function left as released
    while len(cells) < count:
        add(student())
    return cells, planted, blanks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    cells, planted, blanks = build(args.students, rng)
    started = time.perf_counter()
    # No release is built here: code that every student shares counts nothing anyway.
    cohort = similarity.Cohort(cells, similarity.known_sources(ASSIGNMENT))
    pairs = similarity.compare(cohort)
    groups = similarity.clusters(pairs)
    seconds = time.perf_counter() - started
    flagged = {frozenset((p.first, p.second)) for p in pairs}
    copies = {}   # source -> its copies: copies of one source are expected to match
    for source, copy, _, _ in planted:
        copies.setdefault(source, {source}).add(copy)
    expected = {frozenset(pair) for group in copies.values()
                for pair in itertools.combinations(sorted(group), 2)}
    print(f"{len(cells)} submissions of {ASSIGNMENT.id}, {len(planted)} planted copies, "
          f"seed {args.seed}")
    for level in LEVELS:
        found = [frozenset((a, b)) in flagged for a, b, lv, _ in planted if lv == level]
        print(f"recall {level:>9}: {sum(found)}/{len(found)} = {sum(found) / len(found):.2f}")
    for kind in ("pair", "3 of 7", "cluster", "reference"):
        found = [frozenset((a, b)) in flagged for a, b, _, k in planted if k == kind]
        print(f"recall {kind:>9}: {sum(found)}/{len(found)}")
    students = [p for p in pairs if not p.known]
    false = [p for p in students if frozenset((p.first, p.second)) not in expected]
    total_pairs = len(cells) * (len(cells) - 1) // 2
    print(f"false pairs: {len(false)} of {total_pairs} (expected at the stated rate, 1 in "
          f"{1 / similarity.FALSE_ALARM:,.0f}: {similarity.FALSE_ALARM * total_pairs:.1f})")
    for pair in false[:5]:
        print(f"  {pair.first} {pair.second} {pair.similarity:.2f} {pair.evidence:.1f} "
              f"{pair.functions}")
    blank_flags = [p for p in pairs if p.first in blanks or p.second in blanks]
    print(f"blank submissions flagged: {len(blank_flags)}")
    known_flags = [p for p in pairs if p.known and frozenset((p.first, p.second)) not in expected]
    print(f"students flagged against a known source without being planted: {len(known_flags)}")
    print(f"clusters found: {len(groups)} (planted 5)")
    print(f"time: {seconds:.1f} s for the comparison of {len(cells)} submissions")


if __name__ == "__main__":
    main()
