"""What grading shows: a progress bar with ETA, a summary table, grades.csv, charts, HTML."""
import bisect
import contextlib
import csv
import html
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tqdm import tqdm

from d2lcourse.model import Status


class Progress:
    def __init__(self, total, out):
        self.bar = tqdm(total=total, file=out, unit="notebook", desc="grading",
                        dynamic_ncols=True, disable=total == 0,
                        bar_format="{desc}: {n}/{total} |{bar}| {elapsed}<{remaining} {postfix}")

    def update(self, student, verdict):
        self.bar.set_postfix_str(f"{student}: {verdict.status}", refresh=False)
        self.bar.update(1)


@contextlib.contextmanager
def progress(total, out):
    bar = Progress(total, out)
    try:
        yield bar
    finally:
        bar.bar.close()


@dataclass(frozen=True)
class Late:
    """A late submission as nbgrader's gradebook records it (its LateSubmissionPlugin set
    the penalty when it autograded, after any extension)."""
    penalty: float
    seconds: float

    def text(self):
        """"late by 2 d 3 h: penalty 21"."""
        minutes = int(self.seconds // 60)
        days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
        parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours)
        when = " ".join(parts[:2]) or f"{max(minutes, 1)} min"
        return f"late by {when}: penalty {self.penalty:g}"


LATE_COLUMNS = ["late_penalty", "score"]
TOTAL_MEANING = ("total is the points of the tests (nbgrader's raw_score); late_penalty is "
                 "the penalty that nbgrader's gradebook records for a late submission "
                 "(c.LateSubmissionPlugin.penalty_method, after extensions), and score = "
                 "max(0, total - late_penalty), as `nbgrader export` computes it.")


def rows(tests, verdicts, late=None):
    """grades.csv rows: student_id, status, one column per test, total, max_total,
    late_penalty and score (see TOTAL_MEANING); `late` is {student: Late}.

    An ungraded submission has no points at all (empty cells), never a 0 that would
    read as a grade."""
    late = late or {}
    max_total = sum(t.points for t in tests)
    for student in sorted(verdicts):
        verdict = verdicts[student]
        row = {"student_id": student, "status": verdict.status, "max_total": max_total}
        if verdict.status == Status.UNGRADED:
            row.update({t.grade_id: "" for t in tests}, total="", late_penalty="", score="")
        else:
            points = {r.grade_id: r.points for r in verdict.results}
            row.update({t.grade_id: points.get(t.grade_id, 0.0) for t in tests})
            row["total"] = sum(row[t.grade_id] for t in tests)
            row["late_penalty"] = late[student].penalty if student in late else 0.0
            row["score"] = max(0.0, row["total"] - row["late_penalty"])
        yield row


def graded(table):
    """The rows that carry points (not the ungraded ones)."""
    return [row for row in table if row["status"] != Status.UNGRADED]


def write(course_dir, assignment, tests, verdicts, unsafe, out, late=None, similar=""):
    """Write grades.csv and report.html (with its charts); print the summary table. `late` is
    {student: Late} from the gradebook; `similar` the similarity section (HTML)."""
    late = {student: late[student] for student in verdicts if student in (late or {})}
    folder = Path(course_dir) / "reports" / assignment.id
    folder.mkdir(parents=True, exist_ok=True)
    table = list(rows(tests, verdicts, late))
    columns = (["student_id", "status"] + [t.grade_id for t in tests] + ["total", "max_total"]
               + LATE_COLUMNS)
    write_csv(folder / "grades.csv", columns, table)
    failures = common_failures(verdicts)
    write_html(folder, assignment, tests, table, failures, unsafe, late, similar)
    print_summary(table, tests, unsafe, folder, out, late)


# OWASP's CSV injection: a spreadsheet runs a cell that starts with one of these as a
# formula (also after spaces); fullwidth and minus-sign lookalikes are treated alike.
FORMULA_START = re.compile(r"\s*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20\u2212]")
CSV_NOTE = ("In the CSV files, text that begins with = + - @ (or a tab or carriage return, "
            "also after spaces) has a ' put before it so that no spreadsheet runs it as a "
            "formula: drop that first ' to read the original student id.")


def spreadsheet_cell(value):
    """`value` for a CSV file that spreadsheets open: the numbers we computed stay numbers;
    text a spreadsheet would run as a formula gets a leading ' (OWASP)."""
    if isinstance(value, str) and FORMULA_START.match(value):
        return "'" + value
    return value


def write_csv(path, columns, rows):
    """Write `rows` (dicts) under the header `columns` at `path`, atomically: every text
    field quoted and neutralised by `spreadsheet_cell`, numbers unquoted. Every CSV file
    d2lcourse writes goes through here."""
    temporary = Path(path).with_name(Path(path).name + ".tmp")
    with open(temporary, "w", newline="") as stream:
        writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow([spreadsheet_cell(column) for column in columns])
        writer.writerows([spreadsheet_cell(row.get(column, "")) for column in columns]
                         for row in rows)
    os.replace(temporary, path)


EXCEPTION = re.compile(r"(?P<function>\w+): (?:its cell )?raised (?P<type>[\w.]+)")
NOT_IMPLEMENTED = re.compile(r"(?P<function>\w+): not implemented yet")


KINDS = ["submission", "exception", "not implemented", "check"]


@dataclass
class Cause:
    """One reason for lost points, and every student it cost."""
    kind: str            # "submission", "exception", "not implemented" or "check"
    what: str            # the status, the exception and function, or the function
    messages: list = field(default_factory=list)  # distinct first lines, first seen first
    students: set = field(default_factory=set)
    where: set = field(default_factory=set)  # functions or tests it appeared in

    def add(self, student, message):
        """Count `student`; keep every distinct message of a status, and up to
        EXAMPLES distinct messages of any other cause."""
        self.students.add(student)
        line = shortened((message.splitlines() or [""])[0])
        if line not in self.messages and (self.kind == "submission"
                                          or len(self.messages) < EXAMPLES):
            self.messages.append(line)


EXAMPLES = 3
MESSAGE_CHARACTERS = 300
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|\b(?:nan|inf)\b", re.IGNORECASE)


def shortened(line, limit=MESSAGE_CHARACTERS):
    """`line` cut at a word boundary before `limit` characters, with an ellipsis."""
    if len(line) <= limit:
        return line
    cut = line[:limit - 1]
    return (cut[:cut.rfind(" ")] if " " in cut[limit // 2:] else cut).rstrip(" ,;:") + "…"


def cause_of(verdict, result):
    """(kind, what, key) of a failed test; None when the submission's status says it all.
    Check failures whose messages (which start with the function's name) differ only in
    their numbers, the values of one mistake seen by two tests, are one cause."""
    line = result.message.splitlines()[0] if result.message.strip() else ""
    if not line or (verdict.status != Status.OK and line.startswith(("not run:", "not graded:"))):
        return None
    exception = EXCEPTION.match(line)
    if exception:
        what = f"{exception['type']} in {exception['function']}"
        return "exception", what, what
    if NOT_IMPLEMENTED.match(line):
        return "not implemented", "functions left as released", "not implemented"
    return "check", result.function, NUMBER.sub("#", line)


def common_failures(verdicts, limit=15):
    """Causes of lost points, most students first: submission statuses (timeout, memory,
    crashed, invalid_notebook, ungraded, ...), exceptions by type and function, functions
    not implemented, and check failures by message. A student counts once per cause."""
    causes = {}
    for student, verdict in verdicts.items():
        if verdict.status != Status.OK:
            causes.setdefault(("submission", verdict.status), Cause(
                "submission", verdict.status)).add(student, verdict.message)
        for result in verdict.results:
            found = cause_of(verdict, result)
            if found is None:
                continue
            kind, what, key = found
            cause = causes.setdefault((kind, key), Cause(kind, what))
            cause.add(student, result.message)
            cause.where.add(result.function if kind == "not implemented" else result.grade_id)
    ranked = sorted(causes.values(), key=lambda c: (-len(c.students), KINDS.index(c.kind),
                                                    c.what))
    return ranked[:limit]


CHART_WIDTH, BAR_HEIGHT, CHAR_WIDTH = 640, 20, 7  # px; CHAR_WIDTH: a 12 px sans-serif letter


def bar_chart(title, bars, colour):
    """An inline SVG of horizontal bars under `title`: `bars` is [(label, fraction of the
    full width, the value as written after the bar)]. Text only: nothing to load."""
    label_width = min(CHART_WIDTH - 200, CHAR_WIDTH * max(len(label) for label, _, _ in bars) + 8)
    room = CHART_WIDTH - label_width - 60  # the longest bar leaves room for its value
    height = 28 + BAR_HEIGHT * len(bars)
    escape = html.escape
    rows = []
    for k, (label, fraction, value) in enumerate(bars):
        y, width = 24 + BAR_HEIGHT * k, round(room * max(0.0, min(1.0, fraction)), 1)
        rows.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end">'
                    f"{escape(label)}</text>"
                    f'<rect x="{label_width}" y="{y + 3}" width="{width}" '
                    f'height="{BAR_HEIGHT - 6}" fill="{colour}"/>'
                    f'<text x="{label_width + width + 4}" y="{y + 14}">{escape(value)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
            f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{escape(title)}" '
            f'font-family="sans-serif" font-size="12"><text x="0" y="14" font-weight="bold">'
            f'{escape(title)}</text>{"".join(rows)}</svg>')


def score_histogram(table):
    """The score distribution of the graded rows: one bar per range of points, each
    labelled with its whole number of students."""
    table = graded(table)
    bins, top = min(20, max(5, len(table))), table[0]["max_total"] or 1
    edges = [top * k / bins for k in range(bins + 1)]
    counts = [0] * bins
    for row in table:  # a range holds its lower edge; the last one also its upper edge
        counts[min(bins - 1, bisect.bisect_right(edges, row["total"]) - 1)] += 1
    bars = [(f"{low:.3g}-{high:.3g} points", count / max(counts),
             f"{count} student{'s' * (count != 1)}")
            for low, high, count in zip(edges, edges[1:], counts)]
    return bar_chart("Score distribution", bars, "#4c72b0")


def pass_rates(tests, table):
    """The fraction of graded students who pass each test, one bar per test."""
    table = graded(table)
    bars = []
    for test in tests:
        passing = sum(row[test.grade_id] >= test.points for row in table)
        bars.append((test.grade_id, passing / len(table), f"{passing / len(table):.0%}"))
    return bar_chart("Pass rate per test", bars, "#55a868")


def charts(tests, table):
    """The report's charts (inline SVG): none before anything is graded."""
    if not graded(table):
        return ""
    return score_histogram(table) + pass_rates(tests, table)


def breakable(name):
    """An escaped identifier that may wrap after its underscores."""
    return html.escape(name).replace("_", "_<wbr>")


def students_list(students, shown=8):
    names = sorted(students)
    text = ", ".join(html.escape(name) for name in names[:shown])
    return text + (f" and {len(names) - shown} more" if len(names) > shown else "")


def messages_text(messages, shown=3):
    text = "\n".join(html.escape(m) for m in messages[:shown])
    more = len(messages) - shown
    return text + (f"\n(and {more} other message{'s' * (more > 1)})" if more > 0 else "")


def failure_rows(failures):
    return "".join(
        f"<tr><td class=num>{len(c.students)}</td><td>{html.escape(c.kind)}</td>"
        f"<td>{breakable(c.what)}"
        + (f"<br><small>in {', '.join(breakable(w) for w in sorted(c.where))}</small>"
           if c.where else "")
        + f"</td><td class=msg>{messages_text(c.messages)}</td>"
        f"<td>{students_list(c.students)}</td></tr>" for c in failures)


def grade_rows(folder, assignment, tests, table, late):
    """One row per student: id (linked to the feedback page), total (and the penalty of a
    late submission), status, and points per graded function (each test's points in the
    cell's tooltip)."""
    groups = tests_by_function(assignment, tests)
    course_dir = folder.parent.parent
    page = Path(assignment.notebook).with_suffix(".html").name
    lines = []
    for row in table:
        student = row["student_id"]
        feedback = course_dir / "feedback" / student / assignment.id / page
        name = html.escape(student)
        if feedback.is_file():
            link = f"../../feedback/{quote(student)}/{quote(assignment.id)}/{quote(page)}"
            name = f'<a href="{html.escape(link)}">{name}</a>'
        cells = [f"<td class=id>{name}</td>",
                 f"<td class=total>{score_text(row)}{late_note(row, late)}</td>",
                 f"<td class=status>{html.escape(row['status'])}</td>"]
        if row["status"] == Status.UNGRADED:
            cells.append(f'<td colspan={len(groups)}>not graded yet: see the cause above; '
                         'a rerun grades it</td>')
            lines.append("<tr>" + "".join(cells) + "</tr>")
            continue
        for function, members in groups:
            earned = sum(row[t.grade_id] for t in members)
            most = sum(t.points for t in members)
            tip = "\n".join(f"{t.grade_id}: {row[t.grade_id]:g}/{t.points:g}" for t in members)
            mark = "full" if earned >= most else "zero" if earned == 0 else "part"
            cells.append(f'<td class="num {mark}" title="{html.escape(tip)}">'
                         f"{earned:g}/{most:g}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f'<th title="{html.escape(", ".join(t.grade_id for t in members))}">'
                   f"{breakable(function)}</th>" for function, members in groups)
    return f"<tr><th>student</th><th>total</th><th>status</th>{head}</tr>" + "".join(lines)


def tests_by_function(assignment, tests):
    """[(function, its tests)] in the order of the tests."""
    groups = {}
    for test in tests:
        groups.setdefault(assignment.owner_of(test.grade_id) or test.grade_id, []).append(test)
    return list(groups.items())


def late_note(row, late):
    """The late penalty under a student's total, or ''."""
    if row["student_id"] not in late:
        return ""
    return (f"<br><small class=late>{html.escape(late[row['student_id']].text())}, score "
            f"{row['score']:g}</small>")


def late_paragraph(late):
    if not late:
        return "<p>No late submissions.</p>"
    return (f"<p class=late>Late ({len(late)}): " + "; ".join(
        f"{html.escape(student)} {html.escape(late[student].text())}"
        for student in sorted(late)) + ".</p>")


def write_html(folder, assignment, tests, table, failures, unsafe, late=None, similar=""):
    late = late or {}
    escape = html.escape
    warning = ("<p class=warn>Graded WITHOUT the sandbox (--unsafe-no-sandbox): student "
               "code ran with the grader's rights.</p>") if unsafe else ""
    body = f"""<h1>{escape(assignment.id)}</h1>{warning}
<p>{len(table)} submissions, generated {time.strftime('%Y-%m-%d %H:%M')}.</p>
{charts(tests, table)}
<h2>Most common failures</h2>
<p>By cause; a student counts once per cause, and messages that differ only in their
numbers are one cause. A rejected notebook (invalid_notebook) earns nothing and an ungraded
one has no points yet; after a timeout, memory or crashed, the tests that finished before
keep their points.</p>
<table><tr><th class=num>students</th><th class=num>kind</th><th>cause</th><th>message</th>
<th>students affected</th></tr>
{failure_rows(failures)}</table>
<h2>Grades</h2>
<p>Points per graded function; hover over a cell for each test's points. A student's id
links to their feedback page. In grades.csv, {escape(TOTAL_MEANING)}</p>
{late_paragraph(late)}
<p>{escape(CSV_NOTE)}</p>
<table>{grade_rows(folder, assignment, tests, table, late)}</table>
{similar}"""
    (folder / "report.html").write_text(page(f"{assignment.id}: grading report", body))


STYLE = """body{font-family:sans-serif;margin:1em 2em;max-width:1200px}
td,th{border:1px solid #ccc;padding:2px 5px;vertical-align:top;overflow-wrap:break-word}
td.id,td.msg{overflow-wrap:anywhere}
table{border-collapse:collapse;margin:1em 0;width:100%} th{text-align:left}
svg{max-width:100%;height:auto;vertical-align:top;margin-right:1em}
.warn{color:#b00;font-weight:bold} .num,.total{white-space:nowrap}
.total{font-weight:bold} .late{color:#b00} .msg{white-space:pre-wrap} td.full{background:#e3f5e6}
td.part{background:#fff4d6} td.zero{background:#fde7e6} small{color:#555}
table.pair td{width:50%} table.pair pre{margin:0;white-space:pre-wrap} mark{background:#ffe27a}"""


def page(title, body):
    """A whole page of ours: the report's policy (no script), style and `body` (HTML)."""
    from d2lcourse.autograder.pages import REPORT_POLICY, content_policy
    return (f'<!doctype html><html lang="en"><head>{content_policy(REPORT_POLICY)}\n'
            f'<meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head><body>\n{body}\n</body></html>\n")


def score_text(row):
    """"12/17", or "-/17" for a submission that is not graded."""
    total = "-" if row["total"] == "" else f"{row['total']:g}"
    return f"{total}/{row['max_total']:g}"


def print_summary(table, tests, unsafe, folder, out, late=None):
    late = late or {}
    width = max([len("student")] + [len(row["student_id"]) for row in table])
    print(f"\n{'student':<{width}}  {'status':<16} {'total':>11}", file=out)
    for row in table:
        note = (f"  {late[row['student_id']].text()}, score {row['score']:g}"
                if row["student_id"] in late else "")
        print(f"{row['student_id']:<{width}}  {row['status']:<16} {score_text(row):>11}{note}",
              file=out)
    scored = graded(table)
    if scored:
        mean = sum(row["total"] for row in scored) / len(scored)
        print(f"{len(scored)} graded, mean {mean:.1f}/{scored[0]['max_total']:g}", file=out)
    if late:
        print(f"{len(late)} late, with the gradebook's penalty: see late_penalty and score "
              "in grades.csv", file=out)
    if unsafe:
        print("WARNING: graded without the sandbox (--unsafe-no-sandbox)", file=out)
    print(f"reports: {folder / 'grades.csv'}, {folder / 'report.html'}", file=out)
