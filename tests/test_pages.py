"""The pages d2lcourse writes, in a real browser (Debian's Chromium, headless).

A small class of assignment 01 is graded through nbgrader and the sandbox: a student
with a plot, a printed answer and a formula of their own, a NameError and a catalogued
mistake, and a hostile student whose notebook tries to run script in every page that
shows it. The grading report is also written for a synthetic class of the largest
assignment with every submission status. Screenshots go to a temporary folder (their
paths are printed); nothing here is committed. The feedback page's math is typeset by
the MathJax it carries (Debian's MathJax 2, inlined), with the network blocked, under the
page's own script policy.
"""
import base64
import html.parser
import io
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from d2lcourse import mistakes as catalogue
from d2lcourse.autograder import pages, reports, samples
from d2lcourse.autograder.evaluate import TestCell
from d2lcourse.model import Status, TestResult, Verdict
from d2lcourse.autograder.grade import GradingIncomplete, Recorder, grade
from d2lcourse.autograder.pages import REPORT_POLICY, feedback_policy, mathjax_script
from d2lcourse.autograder.sandbox import Limits
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import read, graded_tests

CHROMIUM = "/usr/bin/chromium"
ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]
WIDEST = ASSIGNMENTS["05_mlp"]
WIDTH = 1280
MARK = "PW' + 'NED"  # the attacks write PWNED only if they run


def attack(where):
    """JavaScript that leaves a visible trace (title and DOM) if it ever runs."""
    return (f"document.title='{MARK}-{where}';document.body.insertAdjacentHTML("
            f"'beforeend','<p id=\\'{MARK}-{where}\\'></p>')")


def png():
    """A real matplotlib plot, as a student's notebook holds it."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    figure, axes = plt.subplots(figsize=(4, 2.5))
    axes.plot([0, 1, 2, 3], [0, 1, 4, 9], label="my own loss curve")
    axes.legend()
    stream = io.BytesIO()
    figure.savefig(stream, format="png", dpi=60)
    plt.close(figure)
    return base64.b64encode(stream.getvalue()).decode()


STUDENT_TEX = r"\frac{d}{dx} (3x^2 - 4x) = 6x - 4"


def exercise_cells():
    """A student's own exercises: a formula, a printed answer and a plot (not graded)."""
    formula = nbformat.v4.new_markdown_cell(f"Exercise 1: ${STUDENT_TEX}$, so 2 at $x = 1$.")
    cell = nbformat.v4.new_code_cell("print('exercise 2: the answer is 42')\nplot_my_loss()",
                                     execution_count=7)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="exercise 2: the answer is 42\n"),
                    nbformat.v4.new_output("display_data", data={"image/png": png(),
                                                                 "text/plain": "<Figure>"})]
    return [formula, cell]


SVG_ATTACK = (f'<svg xmlns="http://www.w3.org/2000/svg" onload="{attack("svg-onload")}">'
              f'<script>{attack("svg")}</script><circle r="5"/></svg>')


def hostile_cells():
    """Every place of a notebook that a page might render as HTML, each with a script."""
    svg64 = base64.b64encode(SVG_ATTACK.encode()).decode()
    markdown = nbformat.v4.new_markdown_cell(
        f"<script>{attack('md')}</script>\n\n"
        f"<img src=x onerror=\"{attack('img')}\">\n\n"
        f"[click me](javascript:{attack('link')})\n\n"
        f"<a href=\"javascript:{attack('href')}\">and me</a>\n\n"
        f"<iframe srcdoc=\"<script>{attack('iframe')}</script>\"></iframe>\n\n"
        f"<object data=\"data:text/html,<script>{attack('object')}</script>\"></object>\n\n"
        f"{SVG_ATTACK}\n\n<p class=\"d2l-banner d2l-pass\">ok 99 / 99 points</p>\n\n"
        "![evil](attachment:evil.svg)",
        attachments={"evil.svg": {"image/svg+xml": svg64},
                     "page.html": {"text/html": f"<script>{attack('attachment')}</script>"}})
    outputs = nbformat.v4.new_code_cell("show_off()", execution_count=3)
    outputs.metadata["tags"] = ["fine", f"x\" onmouseover=\"document.title='{MARK}-tag'"]
    outputs.outputs = [
        nbformat.v4.new_output("display_data", data={
            "text/html": f"<b>bold</b><script>{attack('html')}</script>"
                         f"<img src=y onerror=\"{attack('html-img')}\">"}),
        nbformat.v4.new_output("display_data", data={
            "text/html": f"<script>{attack('isolated')}</script>"},
            metadata={"text/html": {"isolated": True}}),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG_ATTACK}),
        nbformat.v4.new_output("display_data", data={"application/javascript": attack("js")}),
        nbformat.v4.new_output("display_data", data={
            "text/markdown": f"<script>{attack('markdown-output')}</script>"}),
        nbformat.v4.new_output("display_data", data={
            "image/png": f"\"><script>{attack('png')}</script>"},
            metadata={"image/png": {"width": f"1 onload={attack('width')}"}}),
        nbformat.v4.new_output("stream", name="stdout", text=f"<script>{attack('stream')}</script>"),
    ]
    raw = nbformat.v4.new_raw_cell(f"<script>{attack('raw')}</script>",
                                   metadata={"raw_mimetype": "text/html"})
    return [markdown, outputs, raw]


def submit(course, student, replacements, extra_cells=()):
    """Submit the release with `replacements` and `extra_cells` after its first cell."""
    path = samples.write_submission(course, ASSIGNMENT, student, replacements)
    notebook = read(path)
    notebook.cells[1:1] = list(extra_cells)
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0, "x": f"</script><script>{attack('w')}"}}
    nbformat.write(notebook, str(path))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Assignment 01 graded for a small class; returns (course, screenshots folder)."""
    root = samples.copy_course(tmp_path_factory.mktemp("pages") / "course", [ASSIGNMENT.id])
    Recorder(root, ASSIGNMENT).ensure_assignment()
    reference = samples.solution_sources(ASSIGNMENT.source_path(root))
    mistake = next(m for m in catalogue.load(ASSIGNMENT)[0] if m.function == "grad_abs")
    name_error = "def numerical_derivative(f, x, h=1e-4):\n    return helper(f, x, h)\n"
    submit(root, "mixed", {**reference, "grad_abs": mistake.source,
                           "numerical_derivative": name_error}, exercise_cells())
    submit(root, "hostile_html", {}, hostile_cells())
    grade(ASSIGNMENT, root, limits=Limits(seconds=120), out=io.StringIO())
    return root, tmp_path_factory.mktemp("screenshots")


def feedback(root, student):
    return root / "feedback" / student / ASSIGNMENT.id / "ndarray_autograd.html"


# --------------------------------------------------------------------------- the browser

def chromium(page, *arguments, profile):
    """Run Debian's Chromium, headless, on `page` (a file, or a URL) in a window 1280 px
    wide (and tall enough for a screenshot to show the summaries); returns the finished
    process (what it printed: stdout, stderr)."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               f"--window-size={WIDTH},2400", *arguments,
               page if isinstance(page, str) else Path(page).as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


MEASURE = """<script>
window.addEventListener('load', function () {
  var marks = Array.from(document.querySelectorAll(QUERY)).map(function (e) {
    return e.textContent.trim().split(/\\s+/)[0]; });
  var wide = Array.from(document.querySelectorAll('pre, table')).filter(function (e) {
    return e.getBoundingClientRect().right > WIDTH || e.scrollWidth > e.clientWidth + 1; }).length;
  document.title = 'MEASURED' + JSON.stringify({scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth, marks: marks, wide: wide});
});
</script>"""


def measure(page, folder, name, query, policy):
    """Layout facts of `page` at 1280 px and its DOM after scripts ran, from a copy with
    a measuring script of ours; the copy drops the page's script policy, so cleaning alone
    must stop the attacks. Also takes a screenshot 1280 px wide (its path is printed)."""
    text = page.read_text()
    assert_policy_first(text, policy)
    copy_path = page.with_name(f"measured-{name}.html")
    script = MEASURE.replace("QUERY", json.dumps(query)).replace("WIDTH", str(WIDTH))
    page_text, end = POLICY_META.sub("", text).rsplit("</body>", 1)  # MathJax's code has one too
    copy_path.write_text(page_text + script + "</body>" + end)
    picture = folder / f"{name}.png"
    dom = chromium(copy_path, "--dump-dom", f"--screenshot={picture}",
                   profile=folder / f"profile-{name}").stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {picture}")
    title = re.search(r"<title>MEASURED(.*?)</title>", dom, re.S)
    assert title, dom[:2000]
    return json.loads(html.unescape(title.group(1))), dom


POLICY_META = re.compile(r"<meta[^>]*Content-Security-Policy[^>]*>")


def assert_policy_first(text, policy):
    """The page's first tag after <html> and <head> is its script policy."""
    tag, attributes = Tags(text).tags[2]
    assert (tag, attributes.get("http-equiv"), attributes.get("content")) == \
        ("meta", "Content-Security-Policy", policy)


class Tags(html.parser.HTMLParser):
    """Every start tag of a page, with its attributes, and the end of each <svg> ("/svg")."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.tags.append(("/svg", {}))


# What the report's charts (reports.bar_chart) draw with: no link, image or foreign object.
CHART_TAGS = ("rect", "text")


def assert_nothing_executable(text):
    """No script, event handler, javascript: URL or frame (but the page's own MathJax);
    SVG only as bars and text."""
    in_svg = False
    for tag, attributes in Tags(text.replace(mathjax_script(), "")).tags:
        if in_svg:
            assert tag in CHART_TAGS + ("/svg",), (tag, attributes)
        assert tag not in ("iframe", "object", "embed", "base", "form", "script"), \
            (tag, attributes)
        in_svg = tag == "svg" or (in_svg and tag != "/svg")
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, value)
            assert not (value or "").strip().lower().startswith(("javascript:", "data:text")), \
                (tag, name, value)


# --------------------------------------------------------------------------- feedback

def test_feedback_marks_each_test_and_sums_points_by_function(course):
    root, shots = course
    page = feedback(root, "mixed")
    text = page.read_text()
    assert "Summary by function" in text
    assert text.count("d2l-banner d2l-fail") >= 3  # grad_abs and numerical_derivative's two
    assert "d2l-banner d2l-pass" in text
    summary = text.split("Summary by function")[1].split("</table>")[0]
    assert re.search(r"numerical_derivative</code></a></td>\s*<td>0 / \d", summary)
    assert "NameError" in summary and "helper" in summary
    assert "Test cell" not in text
    facts, _ = measure(page, shots, "feedback-mixed", ".d2l-banner", feedback_policy())
    assert facts["marks"].count("FAILED") >= 3 and "ok" in facts["marks"]
    assert facts["scrollWidth"] <= facts["clientWidth"] <= WIDTH, facts
    assert facts["wide"] == 0, facts  # messages wrap: no box scrolls sideways


def test_feedback_keeps_the_students_own_outputs_marked_not_rerun(course):
    root, _ = course
    text = feedback(root, "mixed").read_text()
    assert "exercise 2: the answer is 42" in text
    assert 'src="data:image/png;base64,' in text
    assert f'alt="{pages.IMAGE_ALT}"' in text  # for screen readers
    assert "Output as submitted: not re-run by the grader" in text


def test_no_page_runs_a_script_from_the_student(course):
    root, shots = course
    page = feedback(root, "hostile_html")
    text = page.read_text()
    assert_nothing_executable(text)
    assert "&lt;script&gt;" in text  # shown as text, so the reader sees what was tried
    autograded = read(root / "autograded" / "hostile_html" / ASSIGNMENT.id / ASSIGNMENT.notebook)
    kept = [output.get("data", {}) for cell in autograded.cells if cell.cell_type == "code"
            for output in cell.outputs]  # what formgrader shows the instructor
    assert not [data for data in kept if "application/javascript" in data
                or "<script" in data.get("text/html", "")]
    for cell in autograded.cells:  # formgrader renders markdown and raw cells raw
        if cell.cell_type != "code":
            assert_nothing_executable(cell.source)
    assert text.count(mathjax_script()) == 1
    assert_policy_first(text, feedback_policy())
    _, dom = measure(page, shots, "feedback-hostile", ".d2l-banner", feedback_policy())
    assert "PWNED" not in dom  # cleaning alone stops them; the page's policy is a second wall


# --------------------------------------------------------------------------- MathJax

NO_NETWORK = "--host-resolver-rules=MAP * ~NOTFOUND"  # every host name fails to resolve


def typeset_math(dom):
    """Each TeX source MathJax found in a page's DOM, with whether it was typeset."""
    found = re.findall(r'<script type="math/tex[^"]*" id="(MathJax-Element-\d+)">(.*?)</script>',
                       dom, re.S)
    return [(tex, f'id="{element}-Frame"' in dom) for element, tex in found]


def test_feedback_math_is_typeset_offline_under_the_pages_policy(course):
    """With no network, the MathJax the page carries typesets the lecture's and the
    student's math under the page's own policy; without its hash in the policy, or
    altered by one character, it does not run (so the test can fail)."""
    root, shots = course
    page = feedback(root, "mixed")
    text = page.read_text()
    policy = feedback_policy()
    assert_policy_first(text, policy)
    assert "https://" not in policy and "'unsafe-eval'" not in policy
    script = mathjax_script()
    altered = script.replace("(function () {", "(function () { ", 1)
    variants = {"page": text,
                "no-hash": text.replace(policy, re.sub(r"'sha256-[^']*'", "'none'", policy)),
                "altered": text.replace(script, altered)}
    for name, variant in variants.items():
        assert name == "page" or variant != text
        page.with_name(f"math-{name}.html").write_text(variant)

    def run(name):  # the DOM once MathJax is done, and the console (CSP violations)
        return chromium(page.with_name(f"math-{name}.html"), NO_NETWORK, "--dump-dom",
                        "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
                        profile=shots / f"profile-math-{name}")
    with ThreadPoolExecutor(len(variants)) as pool:
        runs = dict(zip(variants, pool.map(run, variants)))

    math = typeset_math(runs["page"].stdout)
    assert len(math) >= 20, math  # the lecture's formulas (dozens) and the student's
    assert (STUDENT_TEX, True) in math and all(typeset for _, typeset in math), math
    assert f"${STUDENT_TEX}$" not in runs["page"].stdout
    assert not re.search(r'class="[^"]*merror', runs["page"].stdout)  # no TeX error
    assert "Content Security Policy" not in runs["page"].stderr, runs["page"].stderr[-3000:]
    for name in ("no-hash", "altered"):
        assert f"${STUDENT_TEX}$" in runs[name].stdout, name  # left as TeX
        assert not typeset_math(runs[name].stdout), name
        console = [line for line in runs[name].stderr.splitlines()
                   if "Content Security Policy" in line]
        assert any("inline script" in line and "violates" in line for line in console), \
            (name, runs[name].stderr[-3000:])


def test_without_mathjax_grade_says_so_and_a_rerun_writes_feedback(tmp_path, monkeypatch):
    """No feedback page can be written without the MathJax it carries: `grade` records
    the grades and ends with that cause and its fix (no student's notebook is blamed);
    once MathJax is there, a plain rerun writes the pages."""
    root = samples.copy_course(tmp_path / "course", [ASSIGNMENT.id])
    Recorder(root, ASSIGNMENT).ensure_assignment()
    samples.write_submission(root, ASSIGNMENT, "blank", {})
    monkeypatch.setenv("D2LCOURSE_MATHJAX", str(tmp_path / "no-mathjax"))
    with pytest.raises(GradingIncomplete) as raised:
        grade(ASSIGNMENT, root, limits=Limits(seconds=120), out=io.StringIO())
    assert raised.value.causes == [
        f"no feedback page was written (FileNotFoundError: MathJax 2 is not in {tmp_path}/"
        "no-mathjax: install Debian's libjs-mathjax (make install does), or set "
        "D2LCOURSE_MATHJAX to the folder of a MathJax 2.7 release): fix that and rerun"]
    assert not feedback(root, "blank").exists()
    grades = (root / "reports" / ASSIGNMENT.id / "grades.csv").read_text()
    assert '\n"blank","ok",' in grades  # graded, not blamed

    monkeypatch.delenv("D2LCOURSE_MATHJAX")
    grade(ASSIGNMENT, root, limits=Limits(seconds=120), out=io.StringIO())
    assert feedback(root, "blank").read_text().count(mathjax_script()) == 1


# --------------------------------------------------------------------------- report.html

HOSTILE_ID = f"<script>{attack('id')}</script>"


def widest_tests():
    source = read(WIDEST.source_path())
    return [TestCell(t.grade_id, "", t.points) for t in graded_tests(source)]


def verdicts_of_every_kind(tests):
    """A class of the largest assignment with every status and failure a class has."""
    def results(message_of=lambda test: ""):
        return [TestResult(t.grade_id, WIDEST.owner_of(t.grade_id), 0.0 if message_of(t)
                           else t.points, t.points, message_of(t)) for t in tests]

    def unrun(reason):
        return results(lambda t: f"not run: {reason}")

    name_error = "relu: raised NameError at line 2: return helper(x): name 'helper' is not defined"
    verdicts = {f"student_{i:02d}_with_a_long_id": Verdict("ok", "", results()) for i in range(6)}
    verdicts.update({
        "name_error": Verdict("ok", "", results(
            lambda t: name_error if WIDEST.owner_of(t.grade_id) == "relu" else "")),
        "check_a": Verdict("ok", "", results(
            lambda t: "sigmoid: overflows for x = -1000: use the stable form"
            if t.grade_id.startswith("test_sigmoid") else "")),
        "check_b": Verdict("ok", "", results(
            lambda t: "sigmoid: overflows for x = -1000: use the stable form"
            if t.grade_id.startswith("test_sigmoid") else "")),
        "slow": Verdict("timeout", "the notebook ran longer than 60 s", unrun("timeout")),
        "hungry": Verdict("memory", "the notebook used more than 2 GB", unrun("memory")),
        "crash": Verdict("crashed", "the sandbox process died (signal 11)", unrun("crashed")),
        "broken": Verdict("invalid_notebook", "the notebook is not valid notebook JSON",
                          results(lambda t: "not graded: the notebook is not valid notebook JSON")),
        "old_format": Verdict("invalid_notebook", "the notebook has nbformat 3; expected 4",
                              results(lambda t: "not graded: the notebook has nbformat 3")),
        "later": Verdict("ungraded", "disk full writing feedback: free space and rerun",
                         unrun("ungraded")),
        HOSTILE_ID: Verdict("ok", "", results(
            lambda t: f"tanh: <img src=x onerror=\"{attack('message')}\">")),
    })
    return verdicts


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    tests = widest_tests()
    reports.write(root, WIDEST, tests, verdicts_of_every_kind(tests), False, io.StringIO())
    return root / "reports" / WIDEST.id / "report.html", tmp_path_factory.mktemp("shots")


def cause_rows(text):
    section = text.split("Most common failures")[1].split("</table>")[0]
    return [html.unescape(re.sub(r"<[^>]+>", " ", row.replace("<wbr>", "")))
            for row in section.split("<tr")[2:]]


def test_report_groups_failures_by_cause(report):
    page, _ = report
    rows = cause_rows(page.read_text())
    def row(*words):
        found = [r for r in rows if all(w in r for w in words)]
        assert len(found) == 1, (words, rows)
        return found[0]
    assert "name_error" in row("NameError", "relu")
    assert re.search(r"\b2\b", row("sigmoid: overflows"))
    for status, student in (("timeout", "slow"), ("memory", "hungry"), ("crashed", "crash"),
                            ("ungraded", "later")):
        assert student in row(status)
    invalid = row("invalid_notebook")  # one row per status, each student's reason in it
    assert re.match(r"> 2 ", invalid) and "broken" in invalid and "old_format" in invalid
    assert "not valid notebook JSON" in invalid and "nbformat 3" in invalid
    assert not [r for r in rows if "not run:" in r]


def test_report_fits_1280_px_escapes_ids_and_counts_whole_students(report):
    page, shots = report
    text = page.read_text()
    assert_nothing_executable(text)
    assert html.escape(HOSTILE_ID) in text
    facts, dom = measure(page, shots, "report", "td.total", REPORT_POLICY)
    assert "PWNED" not in dom
    assert facts["scrollWidth"] <= facts["clientWidth"] <= WIDTH, facts
    assert len(facts["marks"]) == len(verdicts_of_every_kind(widest_tests())), facts


def test_histogram_counts_whole_students_in_their_ranges():
    """Each range holds its lower edge (the last also its upper one); an ungraded
    submission is in none."""
    table = [{"status": "ok", "total": total, "max_total": 10.0} for total in (0, 4, 4, 10)]
    table.append({"status": Status.UNGRADED, "total": 0, "max_total": 10.0})
    chart = reports.score_histogram(table)
    bars = re.findall(r">([\d.]+)-([\d.]+) points</text>.*?>(\d+) students?</text>", chart)
    assert [(low, high) for low, high, _ in bars] == [
        ("0", "2"), ("2", "4"), ("4", "6"), ("6", "8"), ("8", "10")]
    assert [int(count) for _, _, count in bars] == [1, 0, 2, 0, 1]


def test_cells_that_nbformat_would_reject_are_cleaned_too():
    """Fields a hand-edited notebook may carry past nbgrader reach no page as markup."""
    cell = nbformat.from_dict({
        "cell_type": "code", "id": 'x" onclick="alert(1)', "execution_count": "<script>",
        "source": "", "metadata": {"tags": ['a" onclick="b', "ok"], "jupyter": {"x": "<b>"}},
        "outputs": [{"output_type": "display_data", "metadata": {
            "image/png": {"width": "1 onload=alert(1)", "height": 30}, "filenames": {"x": "y"}},
            "data": {"application/javascript": "alert(1)", "image/png": "\"><script>",
                     "text/html": "<script>alert(1)</script><i>fine</i>"}},
            {"output_type": "execute_result", "execution_count": "<b>", "data": {}},
            {"output_type": "unknown", "data": {"text/html": "<script>"}}]})
    pages.sanitize_cell(cell)
    assert "id" not in cell and cell.execution_count is None
    assert cell.metadata == {"tags": ["ok"]}
    assert cell.outputs[:1] == [{"output_type": "display_data",
                                 "metadata": {"image/png": {"height": 30}},
                                 "data": {"text/html": "&lt;script&gt;alert(1)&lt;/script&gt;<i>fine</i>"}}]
    note = cell.outputs[1].data["text/plain"]  # what was dropped is said, never shown
    assert len(cell.outputs) == 2 and note.startswith("(not shown: ")
    for dropped in ("an output of type unknown", "application/javascript", "image/png"):
        assert dropped in note
    locked = {"nbgrader": {"grade_id": "intro", "locked": True, "grade": False,
                           "solution": False, "schema_version": 3}}
    for metadata in ({}, locked):  # the student's own cell, and the instructor's
        markdown = nbformat.from_dict({"cell_type": "markdown", "metadata": metadata,
                                       "source": "![x](attachment:missing.png)",
                                       "attachments": {}})
        assert not pages.renders(markdown)  # it would stop generate_feedback for the class
        pages.sanitize_cell(markdown)
        assert pages.renders(markdown) and "(attachment:" not in markdown.source
    assert markdown.source == "![x](missing-attachment:missing.png)"


def test_report_causes_keep_apart_what_differs_and_together_what_does_not():
    """One mistake seen by two tests (other numbers) is one cause; two messages of one
    exception type both show; a long message is cut at a word, with an ellipsis."""
    def failing(grade_id, function, message):
        return TestResult(grade_id, function, 0.0, 1.0, message)
    long_tail = "word " * 100
    verdicts = {
        "ann": Verdict("ok", "", [
            failing("test_sgd", "sgd", "sgd: changed params[0].grad in place: 0.5 is 0.25"),
            failing("test_sgd_hidden", "sgd", "sgd: changed params[0].grad in place: 3 is 1.5")]),
        "ben": Verdict("ok", "", [failing("test_relu", "relu", "relu: raised TypeError: bad x")]),
        "cy": Verdict("ok", "", [failing("test_relu", "relu", "relu: raised TypeError: bad y")]),
        "dee": Verdict("ok", "", [failing("test_tanh", "tanh", f"tanh: {long_tail}")]),
    }
    causes = {(c.kind, c.what): c for c in reports.common_failures(verdicts)}
    in_place = causes[("check", "sgd")]
    assert in_place.students == {"ann"} and in_place.where == {"test_sgd", "test_sgd_hidden"}
    assert len([c for c in causes.values() if c.what == "sgd"]) == 1
    assert causes[("exception", "TypeError in relu")].messages == [
        "relu: raised TypeError: bad x", "relu: raised TypeError: bad y"]
    (cut,) = causes[("check", "tanh")].messages
    assert cut.endswith("word…") and len(cut) <= reports.MESSAGE_CHARACTERS
