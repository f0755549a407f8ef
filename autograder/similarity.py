"""`d2lcourse similarity`: graded solution cells that look copied, pair by pair.

MOSS's method (winnowing: Schleimer, Wilkerson and Aiken, SIGMOD 2003), on code
normalised with Python's own `ast` and `tokenize`, compared function by function
(`grade_id`):

1. `fingerprints` - each statement of a solution cell is rewritten by `ast.unparse`
   (layout, parentheses, quotes, comments and docstrings gone) and becomes tokens in
   which every name a student chooses is `V` and strings are `S`; attribute names,
   keyword arguments, builtins and numbers stay. Hashes of
   K-token windows are taken inside each statement (so reordered statements keep their
   fingerprints) and winnowed (the smallest of each WINDOW consecutive hashes), and one
   hash of each whole statement: two statements that differ in a token differ in a
   fingerprint, so a student's own way of writing a line (`out = ...; return out`, an
   operand commuted) is not read as a part of someone else's code.
2. `weights` - a fingerprint that the released stub has counts for nothing; one that
   many submissions share is an idiom and counts little: weight log(N/df)/log(N) for a
   fingerprint in df of N students.
3. `compare` - for each function, one sparse product of the document x fingerprint
   index gives the weight every pair shares (pairs that share none are never visited).
   A function matches when both share MATCH_SHARE (0.95) of the smaller side's weight:
   what a copy hides behind is seen through, so its smaller side is shared whole, while a
   line of a short function that an independent student wrote their own way costs more
   than that (at 0.9 such near forms matched, and raised the evidence needed). Its
   evidence is
   -log10 of the share of the class that shares as much weight with either side (code
   that many write, or a part of it such as a one-line function, carries little; a
   function only the pair shares carries log10 N).
4. `needed_evidence` - the false-alarm rate: a pair is flagged when its summed evidence
   is one that a pair of students who worked independently reaches with chance
   FALSE_ALARM (1 in 50,000) at most: about 2.5 such pairs expected among the 124,750 of a
   class of 500, 0.1 among the 4,950 of a class of 100. Independent pairs are modelled by
   the class itself: each function matches as often and as closely as in the class's
   pairs, functions independently of each other (the convolution of the functions'
   distributions of evidence; the few copies in them only make it stricter). So three
   functions copied from code that only the pair wrote are found in a large class, while
   three copied from code that a tenth of the class writes look like chance, as they are.

Before fingerprints are taken, a helper of one `return` defined in the cell is inlined
where it is called, so that a function split into helpers reads as the one it was; dead
code needs nothing: the smaller side decides whether a function matches, and statements
only one student wrote add to no one's evidence.

Known sources (the reference solutions, the catalogue's alternatives, d2l's own
functions of the same name) are compared like students, under their own names.
Similarity is evidence for a person to look at, never proof.
"""
import ast
import builtins
import contextlib
import copy
import hashlib
import importlib.util
import html
import io
import keyword
import math
import sys
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as onp
from scipy import sparse

from d2lcourse import authoring, mistakes, notebooks
from d2lcourse.autograder import reports

K = 5                 # tokens per fingerprint
WINDOW = 4            # winnowing window: a match of K + WINDOW - 1 tokens is always seen
MATCH_SHARE = 0.95    # a function matches when both share this much of the smaller side
FALSE_ALARM = 2e-5    # chance that a pair of independent students is flagged: 1 in 50,000
STEP = 0.01           # resolution of evidence (powers of ten) in needed_evidence
KEPT_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"self"}
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENCODING, tokenize.ENDMARKER, tokenize.TYPE_COMMENT}


# --------------------------------------------------------------------------- 1

@dataclass
class Document:
    """One author's cell for one function: {fingerprint: first line it stands for}."""
    owner: tuple          # ("student", id) or ("known", source name)
    source: str
    prints: dict = field(default_factory=dict)


def statements(source):
    """[(line, [normalised token, ...]), ...]: one entry per statement of `source`, each
    rewritten by `ast.unparse` first (layout, parentheses, quotes and comments gone); a
    compound statement stands for its header line. A cell that does not parse is read
    token by token instead."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return logical_lines(source)
    try:
        tree = inlined(tree)
    except RecursionError:
        pass   # a helper too deeply nested to inline is compared as written
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or is_docstring(node):
            continue
        try:
            text = header(node)
        except (RecursionError, ValueError):
            continue
        signature = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        tokens = [_normalised(kind, text_, previous, following, depth and not signature)
                  for kind, text_, previous, following, depth in _with_context(text)]
        if tokens:
            found.append((node.lineno, node.col_offset, tokens))
    return [(line, tokens) for line, _, tokens in sorted(found, key=lambda f: f[:2])]


def inlined(tree):
    """`tree` with every call of a one-expression helper of the cell (a function whose body,
    after its docstring, is one `return`) replaced by that expression, the helper's
    parameters bound to the call's arguments, and the helpers so used left out (unless
    still called, as a recursive one is): a function split into helpers reads as the one
    it was."""
    helpers = {node.name: node for node in tree.body if _returned(node) is not None}
    used = set()

    class Inline(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            helper = helpers.get(getattr(node.func, "id", None))
            bound = _bound(helper, node) if helper else None
            if bound is None:
                return node
            used.add(helper.name)
            return _Substitute(bound).visit(copy.deepcopy(_returned(helper)))

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            Inline().visit(node)
    still_called = {node.func.id for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    tree.body = [node for node in tree.body
                 if getattr(node, "name", None) not in used - still_called]
    return tree


def _returned(node):
    """The expression a one-`return` function returns, else None."""
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return None
    body = [s for s in node.body if not is_docstring(s)]
    if len(body) == 1 and isinstance(body[0], ast.Return):
        return body[0].value
    return None


def _bound(helper, call):
    """{parameter: argument expression} of `call`, or None when the call is not plain."""
    arguments = helper.args
    names = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or len(call.args) > len(
            names) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    bound = dict(zip(names, call.args))
    for word in call.keywords:
        if word.arg not in names or word.arg in bound:
            return None
        bound[word.arg] = word.value
    defaults = dict(zip(names[len(names) - len(arguments.defaults):], arguments.defaults))
    for name in names:
        bound.setdefault(name, defaults.get(name))
    return None if None in bound.values() else bound


class _Substitute(ast.NodeTransformer):
    """Each parameter read in a helper's expression becomes the argument bound to it."""

    def __init__(self, bound):
        self.bound = bound

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.bound:
            return copy.deepcopy(self.bound[node.id])
        return node


def is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


def header(node):
    """A simple statement as `ast.unparse` writes it; a compound one's first line only."""
    if not hasattr(node, "body"):
        return ast.unparse(node)
    bare = copy.copy(node)
    for part in ("body", "orelse", "handlers", "finalbody", "cases"):
        if hasattr(bare, part):
            setattr(bare, part, [ast.Pass()] if part == "body" else [])
    if hasattr(bare, "decorator_list"):
        bare.decorator_list = []
    return ast.unparse(bare).splitlines()[0]


def logical_lines(source):
    """statements() for a cell that does not parse: its logical lines, token by token."""
    found, current, line = [], [], 1
    for kind, text, previous, following, depth, row in _with_context(source, rows=True):
        if kind == tokenize.NEWLINE:
            if current:
                found.append((line, current))
            current = []
            continue
        if not current:
            line = row
        current.append(_normalised(kind, text, previous, following, depth))
    if current:
        found.append((line, current))
    return found


def _with_context(source, rows=False):
    """(kind, text, previous text, following text, bracket depth[, row]) for each token."""
    tokens = list(_tokens(source))
    depth = 0
    for index, (kind, text, row) in enumerate(tokens):
        if kind == tokenize.OP and text in ("(", "[", "{"):
            depth += 1
        elif kind == tokenize.OP and text in (")", "]", "}"):
            depth -= 1
        previous = tokens[index - 1][1] if index else ""
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        yield (kind, text, previous, following, depth, row) if rows else \
            (kind, text, previous, following, depth)


def _tokens(source):
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in SKIPPED:
                yield token.type, token.string, token.start[0]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return  # a cell that does not tokenize keeps what it gave so far


def _normalised(kind, text, previous, following, depth):
    if kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
        return "S"
    if kind == tokenize.NUMBER:
        try:
            return repr(float(text.replace("_", "")))
        except ValueError:
            return text
    if kind == tokenize.NAME and text not in KEPT_NAMES and previous != ".":
        return text if depth and following == "=" else "V"   # keyword arguments stay
    return text


def _hash(tokens):
    digest = hashlib.blake2b("\x1f".join(tokens).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def fingerprints(source):
    """{fingerprint: line} of a cell: winnowed K-token hashes inside each statement, and a
    hash of each whole statement."""
    prints = {}
    for line, tokens in statements(source):
        hashes = ([_hash(tokens[i:i + K]) for i in range(len(tokens) - K + 1)]
                  if len(tokens) >= K else [_hash(tokens)])
        chosen = hashes if len(hashes) <= WINDOW else {
            min(hashes[i:i + WINDOW]) for i in range(len(hashes) - WINDOW + 1)}
        for value in [*chosen, _hash(tokens)]:     # and the whole statement
            prints.setdefault(value, line)
    return prints


# --------------------------------------------------------------------------- 2, 3

@dataclass
class Cohort:
    """What is compared: {student: {grade_id: source}}, the same for known sources (the
    reference, alternatives, d2l), and the released stubs {grade_id: source}."""
    students: dict
    known: dict = field(default_factory=dict)
    stubs: dict = field(default_factory=dict)

    def cell(self, owner, function):
        kind, name = owner
        return (self.students if kind == "student" else self.known).get(name, {}).get(
            function, "")

    @property
    def pairs_of_students(self):
        return len(self.students) * (len(self.students) - 1) // 2


@dataclass
class Pair:
    first: str                   # a student
    second: str                  # a student, or a known source's name
    known: bool                  # whether `second` is a known source
    similarity: float            # shared / smaller side, over the functions both wrote
    evidence: float              # -log10 of the chance of so close a match, summed
    functions: tuple             # grade_ids that match
    lines: dict = field(default_factory=dict)   # grade_id -> (lines of first, of second)

    def owners(self):
        return ("student", self.first), ("known" if self.known else "student", self.second)


def weights(documents, stub_prints, students):
    """{fingerprint: weight}: 0 in the stub, else log(N/df)/log(N), df counted over the
    N students (a fingerprint that every student has weighs 0, one of a kind 1)."""
    counts = defaultdict(int)
    for document in documents:
        if document.owner[0] == "student":
            for value in document.prints:
                counts[value] += 1
    total = max(students, 2)
    return {value: 0.0 if value in stub_prints else
            max(0.0, math.log(total / max(counts.get(value, 0), 1)) / math.log(total))
            for document in documents for value in document.prints}


def closeness(documents, weight):
    """[(i, j, shared weight, closeness)] for every pair of documents that shares a weighted
    fingerprint: one sparse product of the document x fingerprint index. Closeness is the
    share of the smaller side's weight that both hold (added dead code does not lower it)."""
    columns = {value: index for index, value in enumerate(weight)}
    rows, cols, data = [], [], []
    for row, document in enumerate(documents):
        for value in document.prints:
            if weight[value] > 0:
                rows.append(row)
                cols.append(columns[value])
                data.append(weight[value])
    matrix = sparse.csr_matrix((onp.sqrt(data), (rows, cols)),
                               shape=(len(documents), len(columns)))
    shared = (matrix @ matrix.T).tocoo()
    sizes = onp.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    return [(i, j, value, value / min(sizes[i], sizes[j]))
            for i, j, value in zip(shared.row, shared.col, shared.data) if i < j]


def chance(documents, close):
    """as_close(i, shared): how many students share at least that much weight with document
    i. A pair that only matches each other is rare; one whose code half the class matches is
    not, nor is one whose code is a part of many students' code."""
    seen = defaultdict(list)
    for i, j, shared, _ in close:
        if documents[j].owner[0] == "student":
            seen[i].append(shared)
        if documents[i].owner[0] == "student":
            seen[j].append(shared)
    ranked = {i: onp.sort(values) for i, values in seen.items()}

    def as_close(i, shared):
        values = ranked.get(i, onp.empty(0))
        return len(values) - onp.searchsorted(values, shared * (1 - 1e-9))
    return as_close


def needed_evidence(evidence, pairs):
    """The least summed evidence that a pair of independent authors reaches with chance
    FALSE_ALARM at most. `evidence` is {grade_id: [evidence of each pair that matches]}
    over `pairs` pairs; independent authors are modelled as pairs that match in each
    function as often and as closely as the class's pairs do, function by function
    independently (the convolution of the functions' distributions)."""
    if not pairs:
        return math.inf
    total = onp.ones(1)
    for values in evidence.values():
        steps = onp.ceil(onp.asarray(values) / STEP - 1e-9).astype(int)  # rounded up
        histogram = onp.bincount(steps, minlength=1).astype(float)
        histogram[0] += pairs - len(values)
        total = onp.convolve(total, histogram / pairs)
    tail = onp.cumsum(total[::-1])[::-1]         # tail[k]: chance of k * STEP or more
    beyond = onp.flatnonzero(tail <= FALSE_ALARM)
    return beyond[0] * STEP if len(beyond) else math.inf


def compared_among(owner):
    """Whose pairs `owner` is compared among: "student" pairs, or a known source's own."""
    return owner[1] if owner[0] == "known" else "student"


def compare(cohort):
    """Flagged pairs, most similar first.

    Evidence of a function that matches: -log10 of the share of the class that shares as
    much distinctive code with either side. A pair is flagged when its summed evidence is
    one that a pair of independent students reaches with chance FALSE_ALARM at most
    (`needed_evidence`), modelled on the pairs of students, and on each known source's
    own pairs for that source (the reference matches more students than an alternative).
    """
    count = max(len(cohort.students), 2)
    compared = {"student": count * (count - 1) // 2, **{name: count for name in cohort.known}}
    per_function = defaultdict(list)
    for kind, group in (("student", cohort.students), ("known", cohort.known)):
        for name, sources in group.items():
            for function, source in sources.items():
                per_function[function].append(Document((kind, name), source,
                                                       fingerprints(source)))
    totals = defaultdict(lambda: [0.0, 0.0, 0.0, {}])  # shared, smaller, evidence, lines
    observed = {group: defaultdict(list) for group in compared}   # student pairs, each source
    for function, documents in sorted(per_function.items()):
        weight = weights(documents, set(fingerprints(cohort.stubs.get(function, ""))), count)
        close = closeness(documents, weight)
        as_close = chance(documents, close)
        for i, j, shared, value in close:
            if documents[i].owner[0] != "student" or (
                    documents[j].owner[0] == "student" and documents[j].owner < documents[i].owner):
                i, j = j, i   # a student first; two students in the order of their names
            if documents[i].owner[0] != "student":
                continue   # two known sources
            entry = totals[(documents[i].owner, documents[j].owner)]
            entry[0] += shared
            entry[1] += shared / value
            if value >= MATCH_SHARE:
                evidence = -math.log10(max(as_close(i, shared), as_close(j, shared), 1) / count)
                observed[compared_among(documents[j].owner)][function].append(evidence)
                entry[2] += evidence
                entry[3][function] = matching_lines(documents[i], documents[j], weight)
    needed = {name: needed_evidence(observed[name], pairs) for name, pairs in compared.items()}
    pairs = [Pair(a[1], b[1], b[0] == "known", min(1.0, shared / smaller), evidence,
                  tuple(lines), lines)
             for (a, b), (shared, smaller, evidence, lines) in totals.items()
             if evidence >= needed[compared_among(b)]]
    return sorted(pairs, key=lambda p: (-p.similarity, -p.evidence, p.first, p.second))


def matching_lines(first, second, weight):
    """(lines of `first`, lines of `second`) that hold a shared, weighted fingerprint."""
    common = {v for v in first.prints.keys() & second.prints.keys() if weight.get(v, 0) > 0}
    return (sorted({first.prints[v] for v in common}), sorted({second.prints[v] for v in common}))


def clusters(pairs):
    """Groups of three or more students joined by flagged pairs (known sources left out)."""
    parent = {}

    def root(name):
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for pair in pairs:
        if not pair.known:
            parent[root(pair.first)] = root(pair.second)
    groups = defaultdict(list)
    for name in parent:
        groups[root(name)].append(name)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 3), key=lambda g: (-len(g), g))


# --------------------------------------------------------------------------- sources

def known_sources(assignment):
    """{name: {grade_id: source}}: the reference, each catalogued alternative, d2l."""
    found = {}
    try:   # a course of one's own may have no reference module or catalogue
        reference = authoring.reference_source(assignment)
        found["reference"] = {}
        for name in assignment.functions:
            with contextlib.suppress(LookupError):  # not defined there
                found["reference"][name] = notebooks.without_solution_markers(
                    authoring.solution_cell_source(reference, name))
        alternatives = mistakes.load(assignment)[1]
    except ModuleNotFoundError:
        alternatives = []
    for alternative in alternatives:
        found[f"alternative {alternative.name}"] = {alternative.function: alternative.source}
    d2l = d2l_functions(assignment.functions)
    if d2l:
        found["d2l"] = d2l
    return found


def d2l_functions(names):
    """{name: source} of d2l's own functions (d2l/mxnet.py) named like a graded function."""
    spec = importlib.util.find_spec("d2l")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(list(spec.submodule_search_locations)[0]) / "mxnet.py"
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError):
        return {}
    return {node.name: ast.get_source_segment(text, node) for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name in names}


# --------------------------------------------------------------------------- output

CSV_COLUMNS = ["student_a", "student_b", "similarity", "evidence", "grade_ids", "cluster"]


def csv_rows(pairs, groups):
    """similarity.csv's rows: one per flagged pair, most similar first."""
    member = {name: index + 1 for index, group in enumerate(groups) for name in group}
    for pair in pairs:
        cluster = member.get(pair.first)
        yield {"student_a": pair.first, "student_b": pair.second,
               "similarity": round(pair.similarity, 3), "evidence": round(pair.evidence, 1),
               "grade_ids": " ".join(pair.functions),
               "cluster": cluster if cluster and not pair.known
               and cluster == member.get(pair.second) else ""}


def html_section(pairs, groups, cohort, shown=40):
    """The report's section: the table, clusters, and each pair's matching code side by side."""
    escape = html.escape
    title = "<h2 id=similarity>Similar submissions</h2>"
    if not pairs:
        return (f"{title}<p>No pair of submissions shares enough distinctive code to show "
                "(the released stub never counts, and code most of the class writes counts "
                "little).</p>")
    rows = "".join(
        f"<tr><td class=id><a href='#pair{n}'>{escape(p.first)}</a></td>"
        f"<td class=id>{escape(p.second)}{' <small>(known source)</small>' if p.known else ''}"
        f"</td><td class=num>{p.similarity:.2f}</td><td class=num>{p.evidence:.1f}</td>"
        f"<td>{escape(', '.join(p.functions))}</td></tr>" for n, p in enumerate(pairs))
    listed = "".join(f"<li>{escape(', '.join(g))}</li>" for g in groups)
    clustered = f"<p>Groups of three or more:</p><ul>{listed}</ul>" if groups else ""
    views = "".join(side_by_side(n, pair, cohort) for n, pair in enumerate(pairs[:shown]))
    more = (f"<p>The first {shown} of {len(pairs)} pairs are shown side by side; "
            "similarity.csv lists them all.</p>") if len(pairs) > shown else ""
    return f"""{title}
<p>Pairs whose graded functions share distinctive code once names, layout, comments and
docstrings are set aside, compared with each other and with the reference solutions, the
catalogue's alternatives and d2l's code. This is similarity, not proof: read the code side
by side and ask the students. The released stub never counts, code that much of the class
writes counts little, and a short function (a one-line <code>relu</code>) carries little
evidence. A matching function's <em>evidence</em> is -log10 of the share of the class that
shares as much of either side's distinctive code; a pair is listed when the sum is one that a
pair of students who worked independently reaches with chance 1 in {1 / FALSE_ALARM:,.0f} at
most (about {FALSE_ALARM * cohort.pairs_of_students:.2g} such pairs expected among this class's
{cohort.pairs_of_students:,}
pairs). <em>similarity</em> is the share of the smaller side's distinctive code that both
have, over the functions both wrote. {escape(reports.CSV_NOTE)}</p>
<table><tr><th>student</th><th>similar to</th><th class=num>similarity</th>
<th class=num>evidence</th><th>matching functions</th></tr>{rows}</table>{clustered}{more}
{views}"""


def side_by_side(number, pair, cohort):
    """Both sides' cells for each matching function, the lines that match marked."""
    escape = html.escape
    blocks = []
    for function in pair.functions:
        columns = []
        for owner, marked in zip(pair.owners(), pair.lines.get(function, ((), ()))):
            lines = [f"<mark>{escape(text)}</mark>" if index in marked else escape(text)
                     for index, text in enumerate(
                         cohort.cell(owner, function).splitlines(), start=1)]
            columns.append(f"<td><pre>{chr(10).join(lines)}</pre></td>")
        blocks.append(f"<tr><th colspan=2>{escape(function)}</th></tr><tr>{''.join(columns)}</tr>")
    return (f"<h3 id='pair{number}'>{escape(pair.first)} and {escape(pair.second)}: "
            f"{pair.similarity:.2f}</h3><table class=pair><tr><th>{escape(pair.first)}</th>"
            f"<th>{escape(pair.second)}</th></tr>{''.join(blocks)}</table>")


# --------------------------------------------------------------------------- a course

def cohort_of(course_dir, assignment):
    """The readable submissions' graded cells, the known sources and the released stubs."""
    # grade.py imports this module, the sandbox and MXNet: only when a course is read
    from d2lcourse.autograder.grade import (  # noqa: PLC0415 (grade imports us)
        InvalidNotebook, find_submissions, read_submission)
    students = {}
    for submission in find_submissions(course_dir, assignment):
        if submission.refused:
            continue
        try:
            students[submission.student] = read_submission(submission, assignment)
        except InvalidNotebook:
            continue
    release = Path(course_dir) / "release" / assignment.id / assignment.notebook
    stubs = notebooks.solution_sources(notebooks.read(release)) if release.is_file() else {}
    return Cohort(students, known_sources(assignment), stubs)


def write(course_dir, assignment):
    """Write reports/ASSIGNMENT/similarity.csv; return (pairs, clusters, report section)."""
    cohort = cohort_of(course_dir, assignment)
    pairs = compare(cohort)
    groups = clusters(pairs)
    folder = Path(course_dir) / "reports" / assignment.id
    folder.mkdir(parents=True, exist_ok=True)
    reports.write_csv(folder / "similarity.csv", CSV_COLUMNS, csv_rows(pairs, groups))
    return pairs, groups, html_section(pairs, groups, cohort)


def main(course_dir, assignment, out=sys.stdout):
    """`d2lcourse similarity`: similarity.csv and similarity.html; a summary. Exit 0."""
    pairs, groups, section = write(course_dir, assignment)
    folder = Path(course_dir) / "reports" / assignment.id
    (folder / "similarity.html").write_text(reports.page(
        f"{assignment.id}: similar submissions", section))
    print(f"{len(pairs)} pair(s) share distinctive code, {len(groups)} group(s) of three or "
          "more; similarity is not proof: read the code side by side.", file=out)
    for pair in pairs[:10]:
        print(f"  {pair.first}  {pair.second}  {pair.similarity:.2f}  "
              f"{', '.join(pair.functions)}", file=out)
    print(f"reports: {folder / 'similarity.csv'}, {folder / 'similarity.html'}", file=out)
    return 0
