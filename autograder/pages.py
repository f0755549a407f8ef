"""The HTML pages d2lcourse writes, safe to open: student content never runs as script.

Everything a student controls (markdown and raw cells, outputs, attachments, metadata,
execution counts, messages, ids) is cleaned before it reaches a page, and each page also
carries a Content-Security-Policy that forbids scripts from anywhere but MathJax's CDN.

The feedback page (`nbgrader generate_feedback`) is nbconvert's HTML exporter with the
`d2lcourse_feedback` template, after `SanitizeStudentContent` and `FeedbackSummary`.
"""
import html
import re
from pathlib import Path

import bleach
import nbformat
from nbconvert.preprocessors import Preprocessor

from d2lcourse.notebooks import grade_id, is_test_cell

TEMPLATES = Path(__file__).parent / "templates"
# nbconvert's page loads MathJax 2.7.7's latest.js, which (finding itself as the current
# script) loads MathJax.js and the rest from that same folder; MathJax 2 runs the page's
# configuration block through eval, hence 'unsafe-eval' (scripts only from MathJax). The
# page tests typeset a feedback page under this policy with Debian's MathJax 2.
MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"
FEEDBACK_POLICY = ("default-src 'none'; script-src " + MATHJAX + " 'unsafe-eval'; "
                   "style-src 'unsafe-inline' https:; font-src https: data:; img-src data:; "
                   "base-uri 'none'; form-action 'none'")
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:"


def content_policy(policy):
    """The <meta> that makes the browser refuse every script the policy does not allow."""
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TAGS = HEADINGS | {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "hr", "i", "img", "ins", "kbd",
    "li", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var"}
LINK = re.compile(r"(https?://|mailto:|#)|[^:]*\Z", re.I)  # web, mail, anchor or relative
IMAGE_SOURCE = re.compile(r"(https?://|data:image/(png|jpeg|gif|svg\+xml);base64,)", re.I)
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif"}
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT_CHARS = 20000        # of a stream or an error, as for the grader's own outputs
MAX_OUTPUT_CHARS = 2 << 20    # of one output's data (a plot is ~50 kB)
OUTPUT_TYPES = {"text/plain", "text/html", "text/markdown", "text/latex", "image/png",
                "image/jpeg", "image/svg+xml"}  # an SVG is shown as an <img>: no script runs


def allowed_attribute(tag, name, value):
    """bleach's attribute filter; bleach itself then drops unsafe URL schemes."""
    if name == "class":  # our own marks (d2l-...) cannot be imitated
        return not any(word.startswith("d2l") for word in value.split())
    if name == "title" or (name == "id" and tag in HEADINGS):
        return True
    if tag == "a":
        return name == "href" and LINK.match(value) is not None
    if tag == "img":
        return name in ("alt", "width", "height") or (
            name == "src" and IMAGE_SOURCE.match(value.strip()) is not None)
    return tag in ("td", "th") and name in ("colspan", "rowspan", "align")


CLEANER = bleach.Cleaner(tags=TAGS, attributes=allowed_attribute,
                         protocols={"http", "https", "mailto", "data"}, strip_comments=True)


def safe_html(text):
    """Student HTML with every script, event handler, frame and unsafe URL removed (a
    forbidden tag is shown as text, so the reader sees what was tried)."""
    return CLEANER.clean(str(text))


def safe_markdown(source):
    """A student's markdown as cleaned HTML, for viewers that render markdown raw
    (formgrader shows the autograded notebook so): links and images cleaned as in
    `safe_html`; attachments are not shown."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    text = str(source).replace("attachment:", "missing-attachment:")
    try:
        return safe_html(markdown2html_mistune(text))
    except Exception:  # markdown that mistune cannot render: shown as text
        return f"<pre>{html.escape(text)}</pre>"


def sanitized_outputs(outputs):
    """The outputs a page may show: known types, cleaned HTML, well-formed images."""
    kept = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") in ("stdout", "stderr"):
            kept.append({"output_type": kind, "name": output["name"],
                         "text": str(output.get("text", ""))[-MAX_TEXT_CHARS:]})
        elif kind == "error":
            kept.append({"output_type": kind, "ename": str(output.get("ename", ""))[:200],
                         "evalue": str(output.get("evalue", ""))[:MAX_TEXT_CHARS],
                         "traceback": [str(line)[:MAX_TEXT_CHARS]
                                       for line in output.get("traceback", [])[:100]]})
        elif kind in ("display_data", "execute_result"):
            data = sanitized_data(output.get("data", {}))
            if data:
                cleaned = {"output_type": kind, "data": data,
                           "metadata": image_sizes(output.get("metadata", {}))}
                if kind == "execute_result":
                    cleaned["execution_count"] = execution_count(output)
                kept.append(cleaned)
    return [nbformat.from_dict(output) for output in kept]


def sanitized_data(data):
    kept = {}
    for mime, value in data.items():
        value = "".join(value) if isinstance(value, list) else value
        if mime not in OUTPUT_TYPES or not isinstance(value, str):
            continue
        if len(value) > MAX_OUTPUT_CHARS:
            kept["text/plain"] = f"(a {mime} output of {len(value) >> 20} MB is too large to show)"
            break
        if mime in ("image/png", "image/jpeg") and not BASE64.fullmatch(value):
            continue
        kept[mime] = safe_html(value) if mime == "text/html" else value
    return kept


def image_sizes(metadata):
    """Only integer width and height of images survive from an output's metadata."""
    kept = {}
    for mime in ("image/png", "image/jpeg"):
        sizes = {key: value for key, value in dict(metadata.get(mime) or {}).items()
                 if key in ("width", "height") and type(value) is int}
        if sizes:
            kept[mime] = sizes
    return kept


def execution_count(item):
    count = item.get("execution_count")
    return count if type(count) is int else None


def sanitize_cell(cell):
    """Clean one cell in place for a page: metadata, id, execution count, attachments,
    outputs (markdown and raw sources are cleaned by the template when rendered)."""
    metadata = cell.get("metadata", {})
    tags = [t for t in metadata.get("tags", []) if isinstance(t, str) and SAFE_NAME.fullmatch(t)]
    cell["metadata"] = nbformat.from_dict({key: value for key, value in (
        ("nbgrader", metadata.get("nbgrader")), ("tags", tags)) if value})
    if "id" in cell and not (isinstance(cell["id"], str) and SAFE_NAME.fullmatch(cell["id"])):
        del cell["id"]
    if cell.get("attachments"):
        images = {name: {mime: data for mime, data in dict(bundle).items()
                         if mime in IMAGE_TYPES and isinstance(data, str)
                         and BASE64.fullmatch(data)}
                  for name, bundle in dict(cell["attachments"]).items()
                  if isinstance(bundle, dict) and SAFE_NAME.fullmatch(str(name).replace(".", "_"))}
        cell["attachments"] = {name: bundle for name, bundle in images.items() if bundle}
    if cell.get("cell_type") == "code":
        cell["execution_count"] = execution_count(cell)
        cell["outputs"] = sanitized_outputs(cell.get("outputs", []))
    elif cell.get("cell_type") == "markdown" and not renders(cell):
        cell["source"] = str(cell.get("source", "")).replace("attachment:", "missing-attachment:")


def renders(cell):
    """Whether nbconvert can render this markdown cell; one that names an attachment it
    lacks would stop `generate_feedback` for the whole class."""
    if "attachment:" not in str(cell.get("source", "")):
        return True
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}))
    try:
        MarkdownWithMath(renderer=renderer).render(str(cell.get("source", "")))
    except Exception:  # nbconvert's InvalidNotebook, or its StopIteration on an empty bundle
        return False
    return True


class SanitizeStudentContent(Preprocessor):
    """Feedback step: only content that cannot run reaches the page."""

    enabled = True

    def preprocess(self, nb, resources):
        nb.metadata = {key: nb.metadata[key] for key in ("kernelspec", "language_info",
                                                         "d2lcourse") if key in nb.metadata}
        for cell in nb.cells:
            sanitize_cell(cell)
        return nb, resources


class FeedbackSummary(Preprocessor):
    """Feedback step (after nbgrader's GetGrades): points and first failure per graded
    function, and each test cell's result, for the template (`resources['d2lcourse']`)."""

    enabled = True

    def preprocess(self, nb, resources):
        verdict = nb.metadata.get("d2lcourse", {})
        owners = verdict.get("functions", {})
        functions, tests = {}, {}
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            name = grade_id(cell)
            score = float(cell.metadata.nbgrader.get("score") or 0)
            points = float(cell.metadata.nbgrader.get("points") or 0)
            test = {"function": str(owners.get(name) or name), "score": score,
                    "points": points, "passed": score >= points}
            tests[name] = test
            summary = functions.setdefault(test["function"], {
                "name": test["function"], "score": 0.0, "points": 0.0, "anchor": name,
                "message": ""})
            summary["score"] += score
            summary["points"] += points
            if not test["passed"] and not summary["message"]:
                summary["anchor"] = name
                summary["message"] = first_error(cell) or f"{name} earned {score:g}/{points:g}"
        for summary in functions.values():
            summary["passed"] = summary["score"] >= summary["points"]
        resources["d2lcourse"] = {
            "functions": list(functions.values()), "tests": tests,
            "status": str(verdict.get("status", "ok")), "message": str(verdict.get("message", "")),
            "policy": content_policy(FEEDBACK_POLICY)}
        return nb, resources


def first_error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return str(output.get("evalue", ""))
    return ""


def configure_feedback(exporter_config):
    """Configure the HTML exporter of `nbgrader generate_feedback` (pass
    `c.GenerateFeedback.HTMLExporter`, so that formgrader's own exporter is untouched)."""
    exporter_config.template_name = "d2lcourse_feedback"
    exporter_config.extra_template_basedirs = [str(TEMPLATES)]
    exporter_config.sanitize_html = True  # nbconvert's own blocks: no script, no widget
    exporter_config.embed_images = False  # never read a file that student markdown names
    exporter_config.filters = {"safe_html": "d2lcourse.autograder.pages.safe_html"}
