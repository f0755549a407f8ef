"""How well `d2lcourse similarity` finds copies, and how fast, on a synthetic class of 04.

    .venv/bin/python benchmarks/similarity.py [--students 500] [--seed 0]

Independent students mix, per function, the reference, the catalogued alternatives and
mistakes. Two classes are built from each seed, and recall is printed for both:

- personal choices (the goal is measured here): each student has habits of their own,
  drawn per student (`habits_of`): how often they commute operands, call np.sum(x) rather
  than x.sum(), name temporaries, write x.shape[0] as len(x), -x as -1.0 * x, x -= y as
  x = x - y, give an axis by position... Semantics-preserving choices that the
  normalisation does not erase, as in a real class, where independent students seldom
  write the same code line for line, one-liners aside.
- catalogue only (the worst case, the class of earlier versions): six of those choices,
  each made with chance 1/2 wherever it applies; a short function is then written
  identically by up to a third of the class, and a copy of three such functions carries
  no evidence that any method could use.

A copier inherits the source's code, choices and all. Planted in each class: 50 copied
pairs and 5 clusters of 3-4, each copy hidden at one obfuscation level (every level adds
to the one before), some copying only 3 of the 7 functions, and 20 copies of the
reference; also blank submissions (every function as released), never to be flagged. The
obfuscations are the same in both classes. Each recall is followed by its ceiling (how
many of those copies any method could find at the stated false-alarm rate: `findable`).
Prints recall per level, the false pairs among all pairs of students, and the time, last.
"""
import argparse
import ast
import builtins
import copy
import itertools
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from d2lcourse import authoring, mistakes, notebooks  # noqa: E402
from d2lcourse.autograder import similarity  # noqa: E402
from d2lcourse.course import ASSIGNMENTS  # noqa: E402

ASSIGNMENT = ASSIGNMENTS["04_softmax_regression"]
LEVELS = ("rename", "format", "comments", "reorder", "dead code", "helpers")
METHODS = {"sum", "max", "exp", "log", "mean", "min"}
DEAD = ("unused = 0", "if False:\n    print('debug')", "checked = None",
        "assert True", "debug = []")


# --------------------------------------------------------------------------- styles

HABITS = ("commute", "square", "reciprocal", "negative axis", "keywords reversed",
          "function form", "positional axis", "len", "negation", "augmented", "temporaries")


def habits_of(rng):
    """{habit: how often this student writes it}, drawn per student: the personal choices
    of a real class, which the normalisation does not erase."""
    return {habit: rng.random() for habit in HABITS}


class Style(ast.NodeTransformer):
    """An independent student's own way of writing the same code. Without `habits` (the
    catalogue-only class, the worst case), the first six choices of HABITS are made with
    chance 1/2 wherever they apply; with them, every choice, each as often as the student's
    habit. (`hoist` adds temporaries, in both classes.)"""

    def __init__(self, rng, habits=None):
        self.rng, self.habits = rng, habits

    def coin(self, habit="commute"):
        if self.habits is None:
            return self.rng.random() < 0.5
        return self.rng.random() < self.habits[habit]

    def has(self, habit):
        """coin() for a choice that the catalogue-only class never makes."""
        return self.habits is not None and self.coin(habit)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Mult)) and self.coin("commute"):
            node.left, node.right = node.right, node.left
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
                and node.right.value == 2 and self.coin("square"):      # x ** 2 -> x * x
            return ast.BinOp(node.left, ast.Mult(), node.left)
        if isinstance(node.op, ast.Div) and self.coin("reciprocal"):   # a / b -> a * (1.0 / b)
            return ast.BinOp(node.left, ast.Mult(), ast.BinOp(ast.Constant(1.0), ast.Div(),
                                                              node.right))
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)) \
                and self.has("commute"):                                  # a == b -> b == a
            node.left, node.comparators = node.comparators[0], [node.left]
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant) \
                and self.has("negation"):                                 # -x -> -1.0 * x
            return ast.BinOp(ast.Constant(-1.0), ast.Mult(), node.operand)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if (isinstance(node.value, ast.Attribute) and node.value.attr == "shape"
                and isinstance(node.slice, ast.Constant) and node.slice.value == 0
                and self.has("len")):                                   # x.shape[0] -> len(x)
            return ast.Call(ast.Name("len", ast.Load()), [node.value.value], [])
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if self.has("augmented"):                                       # x -= y -> x = x - y
            read = copy.deepcopy(node.target)
            for part in ast.walk(read):
                if hasattr(part, "ctx"):
                    part.ctx = ast.Load()
            return ast.Assign([node.target], ast.BinOp(read, node.op, node.value), lineno=0)
        return node

    def visit_keyword(self, node):
        self.generic_visit(node)
        if node.arg == "axis" and isinstance(node.value, ast.Constant) \
                and node.value.value == 1 and self.coin("negative axis"):
            node.value = ast.UnaryOp(ast.USub(), ast.Constant(1))
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if len(node.keywords) > 1 and self.coin("keywords reversed"):
            node.keywords.reverse()
        function = node.func
        if (isinstance(function, ast.Attribute) and function.attr in METHODS
                and isinstance(function.value, ast.Name) and function.value.id != "np"
                and self.coin("function form")):   # x.sum(...) -> np.sum(x, ...)
            node = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), function.attr,
                                          ast.Load()), [function.value, *node.args],
                            node.keywords)
        axis = [k for k in node.keywords if k.arg == "axis"]
        positional = 1 if isinstance(node.func, ast.Attribute) and isinstance(
            node.func.value, ast.Name) and node.func.value.id == "np" else 0
        if (isinstance(node.func, ast.Attribute) and node.func.attr in METHODS | {"argmax"}
                and axis and len(node.args) == positional and self.has("positional axis")):
            node.args.append(axis[0].value)                   # x.sum(axis=1) -> x.sum(1)
            node.keywords.remove(axis[0])
        return node


def hoist(tree, rng, habits=None):
    """Give call arguments and returned values names of their own, as some students do
    (with `habits`, as often as the student's habit of temporaries, also an index)."""
    often = 0.5 if habits is None else habits["temporaries"]
    kinds = (ast.BinOp, ast.Call) if habits is None else (ast.BinOp, ast.Call, ast.Subscript,
                                                         ast.UnaryOp)
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        body = []
        for statement in function.body:
            if isinstance(statement, ast.Return) and statement.value is not None \
                    and not isinstance(statement.value, ast.Name) and rng.random() < 0.8 * often:
                name = rng.choice(["result", "out", "answer", "value"])
                body += [ast.Assign([ast.Name(name, ast.Store())], statement.value, lineno=0),
                         ast.Return(ast.Name(name, ast.Load()))]
                continue
            if isinstance(statement, (ast.Assign, ast.Return)) and statement.value is not None:
                calls = [c for c in ast.walk(statement.value) if isinstance(c, ast.Call)
                         and c.args and isinstance(c.args[0], kinds)]
                if calls and rng.random() < often:
                    call = rng.choice(calls)
                    name = f"t{rng.randrange(100)}"
                    body.append(ast.Assign([ast.Name(name, ast.Store())], call.args[0],
                                           lineno=0))
                    call.args[0] = ast.Name(name, ast.Load())
            body.append(statement)
        function.body = body
    return tree


def styled(source, rng, habits=None):
    """`source` as a student with `habits` (or one of the catalogue-only class) writes it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    tree = hoist(Style(rng, habits).visit(tree), rng, habits)
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
    reference = authoring.reference_source(ASSIGNMENT)
    found = {f: [notebooks.without_solution_markers(authoring.solution_cell_source(reference, f))]
             for f in ASSIGNMENT.functions}
    catalogued, alternatives = mistakes.load(ASSIGNMENT)
    for item in [*alternatives, *catalogued]:
        if item.function in found:
            found[item.function].append(item.source)
    return found


def build(count, rng, personal=True):
    """(cells, planted, blanks): {student: {grade_id: source}}, [Planted, ...], {blank
    student}. With `personal`, each independent student has habits of their own (habits_of);
    without, the catalogue-only class (the worst case). A copier inherits the source's code."""
    choices = variants()
    reference = {f: v[0] for f, v in choices.items()}

    def student():
        habits = habits_of(rng) if personal else None
        return {f: styled(v[0] if rng.random() < 0.3 else rng.choice(v), rng, habits)
                for f, v in choices.items()}

    cells, planted, number = {}, [], itertools.count()

    def add(sources):
        name = f"s{next(number):03d}"
        cells[name] = sources
        return name

    def copy_of(source, sources, level, functions, kind):
        own = student()
        copied = add({f: obfuscate(sources[f], f, level, rng) if f in functions else own[f]
                      for f in sources})
        planted.append(Planted(source, copied, level, kind, tuple(functions)))

    for i in range(50):
        level = LEVELS[i % len(LEVELS)]
        functions = (rng.sample(ASSIGNMENT.functions, 3) if i % 5 == 4
                     else ASSIGNMENT.functions)
        source = add(student())
        kind = "pair" if len(functions) == len(ASSIGNMENT.functions) else "3 of 7"
        copy_of(source, cells[source], level, functions, kind)
    for i in range(5):
        source = add(student())
        for j in range(2 + i % 2):
            copy_of(source, cells[source], LEVELS[(i + j) % len(LEVELS)],
                    ASSIGNMENT.functions, "cluster")
    for i in range(20):
        copy_of("reference", reference, LEVELS[i % len(LEVELS)], ASSIGNMENT.functions,
                "reference")
    blanks = set()
    for i in range(10):
        blanks.add(add({}))          # blank: every function left as released
    while len(cells) < count:
        add(student())
    return cells, planted, blanks


@dataclass
class Planted:
    source: str          # a student, or "reference"
    copy: str
    level: str
    kind: str            # "pair", "3 of 7", "cluster" or "reference"
    functions: tuple     # the functions copied


# --------------------------------------------------------------------------- the ceiling

def findable(cells, planted, blanks):
    """{copy: whether it can be found at all}. The most a detector can know of a copied
    function is how many independent students wrote the same normalised function (the same
    fingerprints): a copy whose functions' evidence, -log10 of that share, sums below what
    independent pairs reach with chance FALSE_ALARM is found by no method that keeps that
    rate. Each copy's source code is counted, before obfuscation."""
    copies = {name for p in planted for name in (p.source, p.copy)}
    independent = [n for n in cells if n not in copies and n not in blanks]
    total = len(independent)
    forms = {f: Counter(frozenset(similarity.fingerprints(cells[n][f])) for n in independent)
             for f in ASSIGNMENT.functions}

    def evidence(count):
        return math.log10(total / count)

    among_students = least_evidence(
        {f: [evidence(c) for c in counts.values() if c > 1 for _ in range(c * (c - 1) // 2)]
         for f, counts in forms.items()}, total * (total - 1) // 2)
    known = variants()
    reference = {f: forms[f][frozenset(similarity.fingerprints(known[f][0]))]
                 for f in ASSIGNMENT.functions}
    against_reference = least_evidence(
        {f: [evidence(c)] * c for f, c in reference.items() if c}, total)
    found = {}
    for planted_copy in planted:
        source, functions = planted_copy.source, planted_copy.functions
        if source == "reference":
            shared, needed = [reference[f] for f in functions], against_reference
        else:
            shared = [forms[f][frozenset(similarity.fingerprints(cells[source][f]))]
                      for f in functions]
            needed = among_students
        found[planted_copy.copy] = sum(evidence(c + 1) for c in shared) >= needed
    return found


def least_evidence(evidence, pairs):
    """similarity.needed_evidence, or just more than independent pairs ever reach when no sum
    they reach is as rare as FALSE_ALARM (a copy is not among them here)."""
    found = similarity.needed_evidence(evidence, pairs)
    return found if found < math.inf else similarity.STEP + sum(
        max(values, default=0) for values in evidence.values())


# --------------------------------------------------------------------------- measured

@dataclass
class Measured:
    planted: list
    found: dict          # copy -> whether its pair was flagged
    findable: dict       # copy -> whether any method could find it (findable)
    false: list          # flagged pairs of students that were not planted
    blanks_flagged: int
    known_false: int     # students flagged against a known source without being planted
    clusters: int
    seconds: float


def measure(count, seed, personal):
    """Build a class and compare it: what was found, and how fast."""
    cells, planted, blanks = build(count, random.Random(seed), personal)
    started = time.perf_counter()
    # No release is built here: code that every student shares counts nothing anyway.
    cohort = similarity.Cohort(cells, similarity.known_sources(ASSIGNMENT))
    pairs = similarity.compare(cohort)
    groups = similarity.clusters(pairs)
    seconds = time.perf_counter() - started
    flagged = {frozenset((p.first, p.second)) for p in pairs}
    copies = {}   # source -> its copies: copies of one source are expected to match
    for planted_copy in planted:
        copies.setdefault(planted_copy.source, {planted_copy.source}).add(planted_copy.copy)
    expected = {frozenset(pair) for group in copies.values()
                for pair in itertools.combinations(sorted(group), 2)}
    return Measured(
        planted, {c.copy: frozenset((c.source, c.copy)) in flagged for c in planted},
        findable(cells, planted, blanks),
        [p for p in pairs if not p.known and frozenset((p.first, p.second)) not in expected],
        len([p for p in pairs if p.first in blanks or p.second in blanks]),
        len([p for p in pairs if p.known and frozenset((p.first, p.second)) not in expected]),
        len(groups), seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    classes = {"personal choices": measure(args.students, args.seed, True),
               "catalogue only": measure(args.students, args.seed, False)}
    first = classes["personal choices"]
    total_pairs = args.students * (args.students - 1) // 2
    print(f"{args.students} submissions of {ASSIGNMENT.id}, {len(first.planted)} planted "
          f"copies, seed {args.seed}; found/planted (at most: the ceiling, findable)")
    print(f"{'':>17}" + "".join(f"{name:>22}" for name in classes) + "  (worst case)")
    groups = [("recall", "level", level) for level in LEVELS] + [
        ("recall", "kind", kind) for kind in ("pair", "3 of 7", "cluster", "reference")]
    for word, attribute, value in groups:
        cells = []
        for measured in classes.values():
            chosen = [c for c in measured.planted if getattr(c, attribute) == value]
            found = sum(measured.found[c.copy] for c in chosen)
            most = sum(measured.findable[c.copy] for c in chosen)
            cells.append(f"{found:>3}/{len(chosen):<3}= {found / len(chosen):.2f} (≤{most:>3})")
        print(f"{word} {value:>10}" + "".join(f"{cell:>22}" for cell in cells))
    print(f"false pairs of {total_pairs:,} (expected at the stated rate, 1 in "
          f"{1 / similarity.FALSE_ALARM:,.0f}: {similarity.FALSE_ALARM * total_pairs:.1f}): "
          + ", ".join(f"{len(m.false)} ({name})" for name, m in classes.items()))
    for name, measured in classes.items():
        for pair in measured.false[:5]:
            print(f"  {name}: {pair.first} {pair.second} {pair.similarity:.2f} "
                  f"{pair.evidence:.1f} {pair.functions}")
    for words, attribute in (("blank submissions flagged", "blanks_flagged"),
                             ("students flagged against a known source without being "
                              "planted", "known_false"), ("clusters found (planted 5)",
                                                          "clusters")):
        print(f"{words}: " + ", ".join(f"{getattr(m, attribute)} ({name})"
                                      for name, m in classes.items()))
    print(f"time: {first.seconds:.1f} s for the comparison of {args.students} submissions "
          f"(catalogue only: {classes['catalogue only'].seconds:.1f} s)")


if __name__ == "__main__":
    main()
