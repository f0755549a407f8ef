"""`d2lcourse similarity`: graded solution cells that look copied, pair by pair.

MOSS's method (winnowing: Schleimer, Wilkerson and Aiken, SIGMOD 2003), on code
normalised with Python's own `tokenize`, compared function by function (`grade_id`):

1. `fingerprints` - each solution cell becomes tokens in which every name a student
   chooses is `V`, strings are `S` and comments, docstrings, blank lines and layout are
   gone; attribute names, keyword arguments, builtins and numbers stay. Hashes of
   K-token windows are taken inside each statement (so reordered statements keep their
   fingerprints) and winnowed (the smallest of each WINDOW consecutive hashes).
2. `weights` - a fingerprint that the released stub has counts for nothing; one that
   many submissions share is an idiom and counts little: weight log(N/df)/log(N) for a
   fingerprint in df of N submissions, 0 once more than IDIOM_SHARE of them have it.
3. `compare` - for each function, one sparse product of the document x fingerprint
   index gives the weighted fingerprints every pair shares (pairs that share none are
   never visited). A function matches when the shared weight covers MATCH_SHARE of the
   smaller side; a pair is flagged when its matching functions share at least
   MIN_EVIDENCE weighted fingerprints. A one-line function can never reach that alone.

Known sources (the reference solutions, the catalogue's alternatives, d2l's own
functions of the same name) are compared like students, under their own names.
Similarity is evidence for a person to look at, never proof.
"""
import ast
import builtins
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

from d2lcourse import mistakes, notebooks
from d2lcourse.autograder import reports

K = 5                 # tokens per fingerprint
WINDOW = 4            # winnowing window: a match of K + WINDOW - 1 tokens is always seen
IDIOM_SHARE = 0.5     # a fingerprint in more than this share of submissions is an idiom
MATCH_SHARE = 0.8     # a function matches when its closeness (shared / both sides) reaches this
MIN_EVIDENCE = 8.0    # a pair is listed when independent students match so only 1 in 10**8 times
KEPT_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"self"}
SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
           tokenize.ENCODING, tokenize.ENDMARKER, tokenize.TYPE_COMMENT}


# --------------------------------------------------------------------------- 1

@dataclass
class Document:
    """One author's cell for one function: {fingerprint: first line it stands for}."""
    owner: str
    function: str
    source: str
    prints: dict = field(default_factory=dict)


def statements(source):
    """[(line, [normalised token, ...]), ...]: one entry per logical line of `source`."""
    found, current, line, depth = [], [], 1, 0
    tokens = list(_tokens(source))
    for index, (kind, text, row) in enumerate(tokens):
        if kind == tokenize.NEWLINE:
            if current and not (len(current) == 1 and current[0] == "S"):  # docstrings
                found.append((line, current))
            current = []
            continue
        if not current:
            line = row
        depth += text in "([{" and kind == tokenize.OP
        depth -= text in ")]}" and kind == tokenize.OP
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        current.append(_normalised(kind, text, tokens[index - 1][1] if index else "",
                                   following, depth))
    if current:
        found.append((line, current))
    return found


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
    """{fingerprint: line} of a cell: winnowed K-token hashes inside each statement."""
    prints = {}
    for line, tokens in statements(source):
        hashes = ([_hash(tokens[i:i + K]) for i in range(len(tokens) - K + 1)]
                  if len(tokens) >= K else [_hash(tokens)])
        chosen = hashes if len(hashes) <= WINDOW else {
            min(hashes[i:i + WINDOW]) for i in range(len(hashes) - WINDOW + 1)}
        for value in chosen:
            prints.setdefault(value, line)
    return prints


# --------------------------------------------------------------------------- 2, 3

@dataclass
class Pair:
    first: str
    second: str
    similarity: float            # shared / smaller side, over the functions both wrote
    evidence: float              # weighted fingerprints shared by the matching functions
    functions: tuple             # grade_ids that match
    lines: dict = field(default_factory=dict)   # grade_id -> (lines of first, of second)


def weights(documents, stub_prints, students):
    """{fingerprint: weight} for one function's documents (df counted over students)."""
    counts = defaultdict(int)
    for document in documents:
        if document.owner in students:
            for value in document.prints:
                counts[value] += 1
    total = max(len(students), 2)
    weight = {}
    for document in documents:
        for value in document.prints:
            share = counts.get(value, 0)
            if value in stub_prints or share > IDIOM_SHARE * total:
                weight[value] = 0.0
            else:
                weight[value] = math.log(total / max(share, 1)) / math.log(total)
    return weight


def shared_weights(documents, weight):
    """(shared, sizes): shared[i, j] = weight both documents i and j hold; sizes[i]."""
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
    return shared, sizes


def compare(cells, stubs, known=None):
    """Flagged pairs, most similar first.

    `cells` is {student: {grade_id: source}}; `stubs` {grade_id: released source};
    `known` {source name: {grade_id: source}} for the reference, alternatives, d2l.
    """
    known = known or {}
    students = set(cells)
    everyone = max(len(students) * (len(students) - 1) // 2, 1)
    per_function = defaultdict(list)
    for owner, sources in [*cells.items(), *known.items()]:
        for function, source in sources.items():
            per_function[function].append(Document(owner, function, source,
                                                   fingerprints(source)))
    totals = defaultdict(lambda: [0.0, 0.0, 0.0, []])  # shared, smaller, evidence, matches
    documents_of = {}
    for function, documents in sorted(per_function.items()):
        stub_prints = set(fingerprints(stubs.get(function, "")))
        weight = weights(documents, stub_prints, students)
        shared, sizes = shared_weights(documents, weight)
        found = []
        for i, j, value in zip(shared.row, shared.col, shared.data):
            first, second = documents[i], documents[j]
            if i >= j or (first.owner not in students and second.owner not in students):
                continue
            if first.owner not in students:
                first, second, i, j = second, first, j, i
            smaller = min(sizes[i], sizes[j])
            if smaller > 0:
                found.append(((first.owner, second.owner), value, (sizes[i], sizes[j])))
        between_students = onp.sort([closeness(v, s) for (a, b), v, s in found
                                     if a in students and b in students])
        for key, value, sides in found:
            smaller = min(sides)
            as_often = len(between_students) - onp.searchsorted(
                between_students, closeness(value, sides) - 1e-9)
            surprise = -math.log10(max(as_often, 1) / everyone)
            entry = totals[key]
            entry[0] += value
            entry[1] += smaller
            if closeness(value, sides) >= MATCH_SHARE:
                entry[2] += surprise
                entry[3].append(function)
        documents_of[function] = ({d.owner: d for d in documents}, weight)
    pairs = []
    for (a, b), (value, smaller, evidence, functions) in totals.items():
        if evidence >= MIN_EVIDENCE and functions:
            lines = {f: matching_lines(documents_of[f][0][a], documents_of[f][0][b],
                                       documents_of[f][1]) for f in functions}
            pairs.append(Pair(a, b, min(1.0, value / smaller), evidence, tuple(functions),
                              lines))
    return sorted(pairs, key=lambda p: (-p.similarity, -p.evidence, p.first, p.second))


def closeness(shared, sides):
    """Shared weight over the geometric mean of both sides' (1 for the same code)."""
    return shared / math.sqrt(sides[0] * sides[1])


def matching_lines(first, second, weight):
    """(lines of `first`, lines of `second`) that hold a shared, weighted fingerprint."""
    common = {v for v in first.prints.keys() & second.prints.keys() if weight.get(v, 0) > 0}
    return (sorted({first.prints[v] for v in common}), sorted({second.prints[v] for v in common}))


def clusters(pairs, students):
    """Groups of three or more students joined by flagged pairs (known sources left out)."""
    parent = {}

    def root(name):
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for pair in pairs:
        if pair.first in students and pair.second in students:
            parent[root(pair.first)] = root(pair.second)
    groups = defaultdict(list)
    for name in parent:
        groups[root(name)].append(name)
    return sorted((sorted(g) for g in groups.values() if len(g) >= 3), key=lambda g: (-len(g), g))


# --------------------------------------------------------------------------- sources

def known_sources(assignment):
    """{name: {grade_id: source}}: the reference, each catalogued alternative, d2l."""
    module = notebooks.reference_module(assignment)
    reference = {name: _without_markers(notebooks.solution_cell_source(module, name))
                 for name in assignment.functions}
    found = {"reference": reference}
    for alternative in mistakes.load(assignment)[1]:
        found[f"alternative:{alternative.name}"] = {alternative.function: alternative.source}
    d2l = d2l_functions(assignment.functions)
    if d2l:
        found["d2l"] = d2l
    return found


def _without_markers(source):
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def d2l_functions(names):
    """{name: source} of d2l's own functions (d2l/mxnet.py) named like a graded function."""
    spec = importlib.util.find_spec("d2l")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = f"{list(spec.submodule_search_locations)[0]}/mxnet.py"
    try:
        text = open(path, encoding="utf-8").read()
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
        same = member.get(pair.first) is not None and member.get(pair.first) == member.get(
            pair.second)
        yield {"student_a": pair.first, "student_b": pair.second,
               "similarity": round(pair.similarity, 3), "evidence": round(pair.evidence, 1),
               "grade_ids": " ".join(pair.functions),
               "cluster": member[pair.first] if same else ""}


def html_section(pairs, groups, cells, shown=40):
    """The report's section: the table, clusters, and each pair's matching code side by side."""
    escape = html.escape
    if not pairs:
        return ("<h2 id=similarity>Similar submissions</h2><p>No pair of submissions shares "
                "enough distinctive code to show (the released stub and code most of the "
                "class writes never count).</p>")
    rows = "".join(
        f"<tr><td class=id><a href='#pair{n}'>{escape(p.first)}</a></td>"
        f"<td class=id>{escape(p.second)}</td><td class=num>{p.similarity:.2f}</td>"
        f"<td class=num>{p.evidence:.0f}</td><td>{escape(', '.join(p.functions))}</td></tr>"
        for n, p in enumerate(pairs))
    listed = "".join(f"<li>{escape(', '.join(g))}</li>" for g in groups)
    clustered = f"<p>Groups of three or more:</p><ul>{listed}</ul>" if groups else ""
    views = "".join(side_by_side(n, pair, cells) for n, pair in enumerate(pairs[:shown]))
    more = (f"<p>The first {shown} of {len(pairs)} pairs are shown side by side; "
            "similarity.csv lists them all.</p>") if len(pairs) > shown else ""
    return f"""<h2 id=similarity>Similar submissions</h2>
<p>Pairs whose graded functions share distinctive code after names, layout, comments and
docstrings are set aside. This is similarity, not proof: look at the code and ask. The
released stub never counts, code that most of the class writes counts little, and a short
function (a one-line <code>relu</code>) carries little evidence, so a pair is listed only
when its matching functions share at least {MIN_EVIDENCE:g} weighted fingerprints
(<em>evidence</em>). <em>similarity</em> is the share of the smaller side's distinctive code
that both have, over the functions both wrote.</p>
<table><tr><th>student</th><th>similar to</th><th class=num>similarity</th>
<th class=num>evidence</th><th>matching functions</th></tr>{rows}</table>{clustered}{more}
{views}"""


def side_by_side(number, pair, cells):
    """Both sides' cells for each matching function, the lines that match marked."""
    escape = html.escape
    blocks = []
    for function in pair.functions:
        first_lines, second_lines = pair.lines.get(function, ((), ()))
        columns = []
        for owner, marked in ((pair.first, first_lines), (pair.second, second_lines)):
            source = cells.get(owner, {}).get(function, "")
            lines = [f"<mark>{escape(text)}</mark>" if index in marked else escape(text)
                     for index, text in enumerate(source.splitlines(), start=1)]
            columns.append(f"<td><pre>{chr(10).join(lines)}</pre></td>")
        blocks.append(f"<tr><th colspan=2>{escape(function)}</th></tr><tr>{''.join(columns)}</tr>")
    return (f"<h3 id='pair{number}'>{escape(pair.first)} and {escape(pair.second)}: "
            f"{pair.similarity:.2f}</h3><table class=pair><tr><th>{escape(pair.first)}</th>"
            f"<th>{escape(pair.second)}</th></tr>{''.join(blocks)}</table>")


# --------------------------------------------------------------------------- a course

def class_cells(course_dir, assignment):
    """{student: {grade_id: source}} of the readable submissions; {grade_id: stub}."""
    # grade.py imports the sandbox and MXNet: only when a course is read
    from d2lcourse.autograder.grade import InvalidNotebook, find_submissions, read_submission
    cells = {}
    for submission in find_submissions(course_dir, assignment):
        if submission.refused:
            continue
        try:
            cells[submission.student] = read_submission(submission, assignment)
        except InvalidNotebook:
            continue
    release = Path(course_dir) / "release" / assignment.id / assignment.notebook
    stubs = ({name: cell.source for name, cell in notebooks.cells_by_id(
        notebooks.read(release), notebooks.is_solution_cell).items()} if release.is_file() else {})
    return cells, stubs


def analyse(course_dir, assignment):
    """(pairs, clusters, cells including the known sources) for one assignment."""
    cells, stubs = class_cells(course_dir, assignment)
    known = known_sources(assignment)
    pairs = compare(cells, stubs, known)
    return pairs, clusters(pairs, set(cells)), {**known, **cells}


def write(course_dir, assignment):
    """Write reports/ASSIGNMENT/similarity.csv; return (pairs, clusters, report section)."""
    pairs, groups, cells = analyse(course_dir, assignment)
    folder = Path(course_dir) / "reports" / assignment.id
    folder.mkdir(parents=True, exist_ok=True)
    reports.write_csv(folder / "similarity.csv", CSV_COLUMNS, csv_rows(pairs, groups))
    return pairs, groups, html_section(pairs, groups, cells)


def main(course_dir, assignment, out=sys.stdout):
    """`d2lcourse similarity`: similarity.csv and similarity.html; a summary. Exit 0."""
    pairs, groups, section = write(course_dir, assignment)
    folder = Path(course_dir) / "reports" / assignment.id
    (folder / "similarity.html").write_text(reports.page(
        f"{assignment.id}: similar submissions", section))
    print(f"{len(pairs)} pairs share distinctive code ({len(groups)} groups of three or "
          f"more); similarity is not proof: look at the code side by side.", file=out)
    for pair in pairs[:10]:
        print(f"  {pair.first}  {pair.second}  {pair.similarity:.2f}  "
              f"{', '.join(pair.functions)}", file=out)
    print(f"reports: {folder / 'similarity.csv'}, {folder / 'similarity.html'}", file=out)
    return 0
