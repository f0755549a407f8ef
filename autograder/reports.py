"""What grading shows: a progress bar with ETA, a summary table, grades.csv, plots, HTML."""
import collections
import contextlib
import csv
import html
import os
import time
from pathlib import Path

class Progress:
    def __init__(self, total, out):
        from tqdm import tqdm
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


def rows(tests, verdicts):
    """grades.csv rows: student_id, status, one column per test, total, max_total."""
    max_total = sum(t.points for t in tests)
    for student in sorted(verdicts):
        verdict = verdicts[student]
        points = {r.grade_id: r.points for r in verdict.results}
        row = {"student_id": student, "status": verdict.status}
        row.update({t.grade_id: points.get(t.grade_id, 0.0) for t in tests})
        row.update(total=sum(points.get(t.grade_id, 0.0) for t in tests), max_total=max_total)
        yield row


def write(course_dir, assignment, tests, verdicts, unsafe, out):
    """Write grades.csv, plots and report.html; print the summary table."""
    folder = Path(course_dir) / "reports" / assignment.id
    folder.mkdir(parents=True, exist_ok=True)
    table = list(rows(tests, verdicts))
    columns = ["student_id", "status"] + [t.grade_id for t in tests] + ["total", "max_total"]
    temporary = folder / "grades.csv.tmp"
    with open(temporary, "w", newline="") as stream:
        writer = csv.DictWriter(stream, columns)
        writer.writeheader()
        writer.writerows(table)
    os.replace(temporary, folder / "grades.csv")
    failures = common_failures(verdicts)
    plots = write_plots(folder, tests, table)
    write_html(folder, assignment, tests, table, failures, plots, unsafe)
    print_summary(table, tests, unsafe, folder, out)


def common_failures(verdicts, limit=10):
    counter = collections.Counter()
    for verdict in verdicts.values():
        for result in verdict.results:
            if result.message:
                counter[(result.grade_id, result.message.splitlines()[0][:300])] += 1
    return counter.most_common(limit)


def write_plots(folder, tests, table):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    paths = {}
    if not table:
        return paths
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.hist([row["total"] for row in table], bins=min(20, max(5, len(table))),
              range=(0, table[0]["max_total"] or 1), color="#4c72b0")
    axes.set(xlabel="points", ylabel="students", title="Score distribution")
    figure.tight_layout()
    paths["scores"] = "scores.png"
    figure.savefig(folder / paths["scores"], dpi=100)
    plt.close(figure)
    figure, axes = plt.subplots(figsize=(7, 0.3 * len(tests) + 1.2))
    rates = [sum(row[t.grade_id] >= t.points for row in table) / len(table) for t in tests]
    axes.barh([t.grade_id for t in tests], rates, color="#55a868")
    axes.set(xlim=(0, 1), xlabel="fraction of students passing", title="Pass rate per test")
    axes.invert_yaxis()
    figure.tight_layout()
    paths["pass_rate"] = "pass_rate.png"
    figure.savefig(folder / paths["pass_rate"], dpi=100)
    plt.close(figure)
    return paths


def write_html(folder, assignment, tests, table, failures, plots, unsafe):
    escape = html.escape
    warning = ("<p class=warn>Graded WITHOUT the sandbox (--unsafe-no-sandbox): student "
               "code ran with the grader's rights.</p>") if unsafe else ""
    images = "".join(f'<img src="{escape(p)}" alt="{escape(k)}">' for k, p in plots.items())
    failure_rows = "".join(f"<tr><td>{n}</td><td>{escape(test)}</td><td>{escape(msg)}</td></tr>"
                           for (test, msg), n in failures)
    head = "".join(f"<th>{escape(c)}</th>" for c in ["student", "status"]
                   + [t.grade_id for t in tests] + ["total"])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in
                         [row["student_id"], row["status"]] + [row[t.grade_id] for t in tests]
                         + [f"{row['total']:g}/{row['max_total']:g}"]) + "</tr>"
        for row in table)
    page = f"""<!doctype html><meta charset="utf-8">
<title>{escape(assignment.id)}: grading report</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{border:1px solid #ccc;padding:2px 6px}}
table{{border-collapse:collapse;margin:1em 0}} .warn{{color:#b00;font-weight:bold}}</style>
<h1>{escape(assignment.id)}</h1>{warning}
<p>{len(table)} submissions, generated {time.strftime('%Y-%m-%d %H:%M')}.</p>{images}
<h2>Most common failures</h2><table><tr><th>students</th><th>test</th><th>message</th></tr>
{failure_rows}</table>
<h2>Grades</h2><table><tr>{head}</tr>{body}</table>
"""
    (folder / "report.html").write_text(page)


def print_summary(table, tests, unsafe, folder, out):
    width = max([len("student")] + [len(row["student_id"]) for row in table])
    print(f"\n{'student':<{width}}  {'status':<16} {'score':>11}", file=out)
    for row in table:
        score = f"{row['total']:g}/{row['max_total']:g}"
        print(f"{row['student_id']:<{width}}  {row['status']:<16} {score:>11}", file=out)
    if table:
        mean = sum(row["total"] for row in table) / len(table)
        print(f"{len(table)} graded, mean {mean:.1f}/{table[0]['max_total']:g}", file=out)
    if unsafe:
        print("WARNING: graded without the sandbox (--unsafe-no-sandbox)", file=out)
    print(f"reports: {folder / 'grades.csv'}, {folder / 'report.html'}", file=out)
