"""The HTML pages d2lcourse writes, safe to open: student content never runs as script.

Everything a student controls (markdown and raw cells, outputs, attachments, metadata,
execution counts, messages, ids) is cleaned before it reaches a page, by deny by default:
what is not known to be safe once cleaned is dropped, with a note. That includes the
autograded notebook, which nbgrader's formgrader shows the instructor as it is, with no
cleaning and no script policy (`sanitize_notebook`, from `SandboxedExecute`). Our own
pages also carry a Content-Security-Policy that allows one script: MathJax, which the
page carries itself (`mathjax_script`), so that math is typeset with no network.

The feedback page (`nbgrader generate_feedback`) is `FeedbackExporter` (nbconvert's HTML
exporter) with the `d2lcourse_feedback` template, after `SanitizeStudentContent` and
`FeedbackSummary`.
"""
import base64
import contextlib
import contextvars
import functools
import hashlib
import html
import json
import os
import re
from pathlib import Path

import bleach
import nbformat
import nbgrader
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import (IPythonRenderer, MarkdownWithMath,
                                                markdown2html_mistune)
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor

from d2lcourse.model import Status
from d2lcourse.notebooks import grade_id, is_test_cell

TEMPLATES = Path(__file__).parent / "templates"
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:"
# MathJax 2.7 (Debian's libjs-mathjax), inlined: release_feedback carries the feedback's
# .html file alone to the student, who may open it with no network (an exam room, a
# firewalled JupyterHub), and formgrader may run where no CDN is reachable. The page holds
# MathJax.js and every file it may ask for to typeset TeX as SVG (no web fonts to fetch),
# and runs each file from the page when MathJax asks for it (MATHJAX_LOADER).
DEBIANS_MATHJAX = "/usr/share/javascript/mathjax"
MATHJAX_FILES = ("jax/input/TeX/*.js", "jax/element/mml/**/*.js", "jax/output/SVG/*.js",
                 "jax/output/SVG/autoload/*.js", "jax/output/SVG/fonts/TeX/**/*.js",
                 "extensions/*.js", "extensions/TeX/*.js")
MATHJAX_CONFIG = {  # nbconvert's MathJax configuration, with SVG output and the Safe extension
    "root": "mathjax", "jax": ["input/TeX", "output/SVG"], "extensions": ["tex2jax.js", "Safe.js"],
    "TeX": {"extensions": ["AMSmath.js", "AMSsymbols.js", "noErrors.js", "noUndefined.js"],
            "equationNumbers": {"autoNumber": "AMS", "useLabelIds": True}},
    "tex2jax": {"inlineMath": [["$", "$"], ["\\(", "\\)"]],
                "displayMath": [["$$", "$$"], ["\\[", "\\]"]],
                "processEscapes": True, "processEnvironments": True},
    "displayAlign": "center", "messageStyle": "none", "SVG": {"linebreaks": {"automatic": True}}}
MATHJAX_LOADER = """(function () {
var FILES = {%s};
var CONFIG = %s;
CONFIG.AuthorInit = function () {  // MathJax asks for a file: run it from the page
  MathJax.Ajax.loader.JS = function (file, callback) {
    var name = file.substr(this.config.root.length + 1);
    this.loading[file] = {callback: callback, status: this.STATUS.OK};
    this.loading[file].message = MathJax.Message.File(this.fileName(file));  // as MathJax's
    if (FILES.hasOwnProperty(name)) {FILES[name]()} else {this.loadTimeout(file)}
  };
};
window.MathJax = CONFIG;
})();
"""


def mathjax_script():
    """The <script> element that holds MathJax (about 1.7 MB): it typesets the page's
    TeX with no network. MathJax 2.7 is Debian's, or that of $D2LCOURSE_MATHJAX."""
    return inlined_mathjax(Path(os.environ.get("D2LCOURSE_MATHJAX", DEBIANS_MATHJAX)))


@functools.lru_cache(maxsize=None)
def inlined_mathjax(root):
    if not (root / "MathJax.js").is_file():
        raise FileNotFoundError(
            f"MathJax 2 is not in {root}: install Debian's libjs-mathjax (make install does), "
            "or set D2LCOURSE_MATHJAX to the folder of a MathJax 2.7 release")
    files = ",\n".join(
        f"{json.dumps(path.relative_to(root).as_posix())}:function(){{"
        f"{path.read_text(encoding='utf-8')}\n}}"
        for pattern in MATHJAX_FILES for path in sorted(root.glob(pattern)))
    code = (MATHJAX_LOADER % (files, json.dumps(MATHJAX_CONFIG))
            + (root / "MathJax.js").read_text(encoding="utf-8"))
    if "<script" in code.lower() or "</script" in code.lower():  # would end the element
        raise ValueError(f"MathJax in {root} cannot be inlined: it contains <script")
    return f"<script>{code}</script>"


def inline_mathjax(url=None):
    """Template filter for nbconvert's `mathjax(url)` macro (templates/base): MathJax
    inlined; the URL nbconvert passes is not used."""
    return mathjax_script()


def feedback_policy():
    """The feedback page's Content-Security-Policy: its one script is the inlined MathJax
    (allowed by its hash); no fetch, frame, form or base URL."""
    code = mathjax_script()[len("<script>"):-len("</script>")]
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def content_policy(policy):
    """The <meta> that makes the browser refuse every script the policy does not allow."""
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
TAGS = HEADINGS | {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "hr", "i", "img", "ins", "kbd",
    "li", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var"}
LINK = re.compile(r"(https?://|mailto:|#)", re.I)  # a click away: web, mail or anchor
IMAGE_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
               "image/gif": (b"GIF87a", b"GIF89a")}
# Only inline images: an <img> never fetches anything from the network.
IMAGE_SOURCE = re.compile(r"data:(image/(?:png|jpeg|gif));base64,(.*)\Z", re.I | re.S)
CLASSES = {"dataframe"}  # pandas' tables; no class of ours, formgrader's or Bootstrap's
SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT_CHARS = 20000        # of a stream or an error, as for the grader's own outputs
MAX_OUTPUT_CHARS = 2 << 20    # of one output's data (a plot is ~50 kB)
# MathJax typesets the text of a page (formgrader's too): these TeX commands set links,
# styles, classes, ids or attributes, or load extensions, so student TeX loses them.
TEX_COMMANDS = re.compile(r"\\(?=(?:href|url|style|class|cssId|require|unicode|html\w*|data|"
                          r"bbox|enclose|mmlToken|mathtip|texttip|toggle|action|fragile)"
                          r"(?![A-Za-z]))")
TEX_BACKSLASH = "\u29f5"  # REVERSE SOLIDUS OPERATOR: looks like \, starts no command
CHARACTER_REFERENCE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def allowed_attribute(tag, name, value):
    """bleach's attribute filter; bleach itself then drops unsafe URL schemes."""
    if name == "class":
        return set(value.split()) <= CLASSES
    if name == "title":
        return True
    if tag == "a":
        return name == "href" and LINK.match(value.strip()) is not None
    if tag == "img":
        return name in ("alt", "width", "height") or (
            name == "src" and is_image_url(value.strip()))
    return tag in ("td", "th") and name in ("colspan", "rowspan", "align")


def is_image_url(url):
    found = IMAGE_SOURCE.match(url)
    return found is not None and is_image(found.group(1).lower(), found.group(2))


def is_image(mime, data):
    """Whether `data` is base64 of a PNG, JPEG or GIF image of type `mime`."""
    if mime not in IMAGE_MAGIC or not isinstance(data, str):
        return False
    try:
        image = base64.b64decode("".join(data.split()), validate=True)
    except ValueError:
        return False
    return image.startswith(IMAGE_MAGIC[mime])


CLEANER = bleach.Cleaner(tags=TAGS, attributes=allowed_attribute,
                         protocols={"http", "https", "mailto", "data"}, strip_comments=True)


def safe_html(text):
    """Student HTML with every script, event handler, frame, style, class, remote image
    and unsafe URL removed, and its TeX unable to set links or styles (a forbidden tag is
    shown as text, so the reader sees what was tried). HTML nested deeper than MAX_NESTING
    is shown as text: the HTML parser's time grows faster than its depth."""
    text = str(text)
    reason = too_costly(text)
    if reason:
        return f"<p>(shown as text: {reason})</p><pre>{html.escape(text)}</pre>"
    return defuse_tex(CLEANER.clean(text))


def too_costly(text):
    """Why cleaning `text` as HTML would cost the grader too much, or ''. The HTML parser
    takes about 10 s a megabyte, and longer the deeper tags nest: a notebook gets
    CLEANING_BUDGET characters of it (`cleaning_budget`), one text at most MAX_CLEANED."""
    if nesting(text) > MAX_NESTING:
        return f"HTML nested more than {MAX_NESTING} deep"
    budget = BUDGET.get()
    if len(text) > (MAX_CLEANED if budget is None else min(MAX_CLEANED, budget[0])):
        return "more HTML than a page of feedback shows"
    if budget is not None:
        budget[0] -= len(text)
    return ""


@contextlib.contextmanager
def cleaning_budget(characters=None):
    """Within it, at most `characters` (CLEANING_BUDGET) of student HTML are cleaned."""
    token = BUDGET.set([CLEANING_BUDGET if characters is None else characters])
    try:
        yield
    finally:
        BUDGET.reset(token)


MAX_CLEANED = 200_000          # characters of one text cleaned as HTML
CLEANING_BUDGET = 1_000_000    # characters cleaned as HTML per notebook
BUDGET = contextvars.ContextVar("cleaning_budget", default=None)   # [characters left]
MAX_NESTING = 200   # honest HTML (a pandas table, a lecture's lists) nests under 20
TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr", "p", "li"}


def nesting(text):
    """How deep the tags of `text` open (closing tags counted back), in one linear pass."""
    depth = deepest = 0
    for closing, name in TAG.findall(text):
        if name.lower() in VOID_TAGS:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


def defuse_tex(text):
    """`text` (cleaned HTML or TeX) with every TeX command in TEX_COMMANDS broken, also
    when character references spell it: what MathJax reads is the decoded text."""
    return TEX_COMMANDS.sub(TEX_BACKSLASH, CHARACTER_REFERENCE.sub(decoded_reference, text))


def decoded_reference(match):
    character = html.unescape(match.group(0))
    return match.group(0) if character in "<>&\"'" or len(character) != 1 else character


def safe_markdown(source):
    """A student's markdown as cleaned HTML (links and images cleaned as in `safe_html`;
    attachments are not shown)."""
    text = str(source).replace("attachment:", "missing-attachment:")
    reason = too_costly(text)
    if reason:
        return f"<p>(shown as text: {reason})</p><pre>{html.escape(text)}</pre>"
    try:
        return safe_html(markdown2html_mistune(text))
    except Exception:  # markdown that mistune cannot render: shown as text
        return f"<pre>{html.escape(text)}</pre>"


def verbatim_markdown(cleaned):
    """Cleaned HTML as a markdown cell's source that every viewer (formgrader renders
    markdown raw) shows as it is: one line of HTML, which markdown passes through."""
    return "<div>" + cleaned.replace("\r", "&#13;").replace("\n", "&#10;") + "</div>"


def not_shown(kinds, named=8):
    """The note that stands where outputs of `kinds` were dropped."""
    names = sorted(kinds)
    more = f" and {len(names) - named} more" if len(names) > named else ""
    return nbformat.v4.new_output("display_data", data={"text/plain": (
        f"(not shown: {', '.join(names[:named])}{more}; the grader shows only text, PNG, "
        "JPEG and GIF images, and cleaned HTML, markdown and LaTeX)")})


def mapping(value):
    """`value` if it is a dict, else an empty one: a hand-edited notebook may hold any
    JSON where nbformat expects an object."""
    return value if isinstance(value, dict) else {}


def sequence(value):
    return value if isinstance(value, list) else []


def text(value):
    """A string, or a list of strings joined (nbformat's multiline text); else None."""
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return value if isinstance(value, str) else None


def sanitized_outputs(outputs):
    """The outputs a page may show: text, cleaned HTML, real images; a note for the rest."""
    kept, dropped = [], set()
    for output in map(mapping, sequence(outputs)):
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") in ("stdout", "stderr"):
            kept.append({"output_type": kind, "name": output["name"],
                         "text": str(text(output.get("text")) or "")[-MAX_TEXT_CHARS:]})
        elif kind == "error":
            kept.append({"output_type": kind, "ename": str(output.get("ename", ""))[:200],
                         "evalue": str(output.get("evalue", ""))[:MAX_TEXT_CHARS],
                         "traceback": [str(line)[:MAX_TEXT_CHARS]
                                       for line in sequence(output.get("traceback"))[:100]]})
        elif kind in ("display_data", "execute_result"):
            data, refused = sanitized_data(mapping(output.get("data")))
            dropped |= refused
            if data:
                cleaned = {"output_type": kind, "data": data,
                           "metadata": image_metadata(data, mapping(output.get("metadata")))}
                if kind == "execute_result":
                    cleaned["execution_count"] = execution_count(output)
                kept.append(cleaned)
        else:
            dropped.add(f"an output of type {str(kind)[:40]}")
    outputs = [nbformat.from_dict(output) for output in kept]
    return outputs + [not_shown(dropped)] if dropped else outputs


def sanitized_data(data):
    """(the MIME bundle's cleaned data, the MIME types dropped from it)."""
    kept, dropped = {}, set()
    for mime, value in data.items():
        value = text(value)
        if value is None:
            dropped.add(str(mime)[:60])
        elif len(value) > MAX_OUTPUT_CHARS:
            return {"text/plain": f"(a {mime} output of {len(value) >> 20} MB is too large "
                                  "to show)"}, set()
        elif mime == "text/plain":
            kept[mime] = value
        elif mime == "text/html":
            kept[mime] = safe_html(value)
        elif mime == "text/markdown":  # cleaned once, then shown as HTML by every viewer
            kept.setdefault("text/html", safe_markdown(value))
        elif mime == "text/latex":
            kept[mime] = defuse_tex(value)
        elif is_image(mime, value):
            kept[mime] = value
        else:
            dropped.add(str(mime)[:60])
    return kept, dropped


IMAGE_ALT = "An image that this cell showed when the student ran it"


def image_metadata(data, metadata):
    """Only integer width and height of images survive from an output's metadata; each
    image of `data` gets our alt text (the template writes it on its <img>)."""
    kept = {}
    for mime in IMAGE_MAGIC:
        sizes = {key: value for key, value in mapping(metadata.get(mime)).items()
                 if key in ("width", "height") and type(value) is int}
        if mime in data:
            sizes["alt"] = IMAGE_ALT
        if sizes:
            kept[mime] = sizes
    return kept


def execution_count(item):
    count = item.get("execution_count")
    return count if type(count) is int else None


def is_instructors(cell):
    """Whether nbgrader has put the instructor's source back in this cell: a locked cell
    with a grade_id (nbgrader's OverwriteCells deletes every grade_id not in the gradebook
    and restores the source of the locked ones)."""
    info = mapping(cell.get("metadata")).get("nbgrader")
    return isinstance(info, dict) and info.get("locked") is True and \
        isinstance(info.get("grade_id"), str) and SAFE_NAME.fullmatch(info["grade_id"]) is not None


def sanitize_cell(cell):
    """Clean one cell in place for every page that shows it (ours, and formgrader's, which
    renders the autograded notebook without cleaning): metadata (nbgrader's only with a
    gradebook grade_id; tags), id, execution count, attachments (real images only),
    outputs, and the markdown and raw sources that are not the instructor's."""
    metadata = mapping(cell.get("metadata"))
    tags = [t for t in sequence(metadata.get("tags"))
            if isinstance(t, str) and SAFE_NAME.fullmatch(t)]
    info = metadata.get("nbgrader")
    if not (isinstance(info, dict) and isinstance(info.get("grade_id"), str)
            and SAFE_NAME.fullmatch(info["grade_id"])):
        info = None
    cell["metadata"] = nbformat.from_dict({key: value for key, value in (
        ("nbgrader", info), ("tags", tags)) if value})
    if "id" in cell and not (isinstance(cell["id"], str) and SAFE_NAME.fullmatch(cell["id"])):
        del cell["id"]
    if "attachments" in cell:
        images = {name: {mime: data for mime, data in bundle.items() if is_image(mime, data)}
                  for name, bundle in mapping(cell["attachments"]).items()
                  if isinstance(bundle, dict) and SAFE_NAME.fullmatch(str(name).replace(".", "_"))}
        cell["attachments"] = {name: bundle for name, bundle in images.items() if bundle}
    kind = cell.get("cell_type")
    if kind == "code":
        cell["execution_count"] = execution_count(cell)
        cell["outputs"] = sanitized_outputs(cell.get("outputs", []))
    elif is_instructors(cell):
        if kind == "markdown" and not renders(cell):
            cell["source"] = str(cell.get("source", "")).replace("attachment:",
                                                                 "missing-attachment:")
    elif kind in ("markdown", "raw"):
        clean = safe_markdown if kind == "markdown" else safe_html
        cell["source"] = verbatim_markdown(clean(text(cell.get("source")) or ""))
        if kind == "raw":  # shown as the HTML it now is
            cell["metadata"]["raw_mimetype"] = "text/html"


def sanitize_notebook(notebook):
    """Clean a notebook in place for every page: its cells, and its metadata down to the
    kernel's names (no widget state, no title, nothing a template might show)."""
    metadata = mapping(notebook.get("metadata"))
    kept = {}
    kernel = metadata.get("kernelspec")
    if isinstance(kernel, dict):
        kept["kernelspec"] = {key: str(kernel[key])[:64] for key in
                              ("name", "display_name", "language") if key in kernel}
    language = mapping(metadata.get("language_info")).get("name")
    if isinstance(language, str) and SAFE_NAME.fullmatch(language):
        kept["language_info"] = {"name": language}
    if "d2lcourse" in metadata:  # the grader's own verdict
        kept["d2lcourse"] = metadata["d2lcourse"]
    notebook["metadata"] = nbformat.from_dict(kept)
    with cleaning_budget():
        for cell in sequence(notebook.get("cells")):
            sanitize_cell(cell)


def renders(cell):
    """Whether nbconvert can render this markdown cell; one that names an attachment it
    lacks would stop `generate_feedback` for the whole class."""
    if "attachment:" not in str(cell.get("source", "")):
        return True
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
        sanitize_notebook(nb)
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
            "status": str(verdict.get("status", Status.OK)), "message": str(verdict.get("message", "")),
            "policy": content_policy(feedback_policy())}
        return nb, resources


def first_error(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return str(output.get("evalue", ""))
    return ""


FILTERS = {"safe_html": "d2lcourse.autograder.pages.safe_html",
           "inline_mathjax": "d2lcourse.autograder.pages.inline_mathjax"}


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter without the pass it makes over every finished page with
    BeautifulSoup (a quarter of a feedback page's time): that pass gives an <img> without
    one an alt text, which ours get from `image_metadata`, and marks JupyterLab's cells,
    which the classic template of our pages does not have. The page's filters are those
    HTMLExporter registers (nbconvert 7); a notebook's widget state never reaches a page."""

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        self.register_filter("highlight_code", Highlight2HTML(
            pygments_lexer=language.get("pygments_lexer", language.get("name")), parent=self))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata={}, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def configure_feedback(exporter_config):
    """Configure the HTML exporter of `nbgrader generate_feedback` (pass
    `c.GenerateFeedback.HTMLExporter`, so that formgrader's own exporter is untouched)."""
    exporter_config.template_name = "d2lcourse_feedback"
    exporter_config.extra_template_basedirs = [str(TEMPLATES)]
    exporter_config.sanitize_html = True  # nbconvert's own blocks: no script, no widget
    exporter_config.embed_images = False  # never read a file that student markdown names
    exporter_config.filters = FILTERS


def configure_formgrader(exporter_config):
    """Make formgrader's HTML exporter (pass `c.HTMLExporter`) inline MathJax, as our
    feedback does: its `mathjax()` macro is ours (templates/base), before nbgrader's
    templates (which formgrader itself would put there)."""
    formgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / \
        "formgrader" / "templates"
    exporter_config.extra_template_basedirs = [str(TEMPLATES), str(formgrader_templates)]
    exporter_config.filters = FILTERS
