"""nbconvert's HTML exporter for the reports, without its last pass over the whole page.

nbconvert's ``HTMLExporter`` (7.x) ends ``from_notebook_node`` by parsing the rendered page
with BeautifulSoup to add attributes for keyboard and screen-reader users: ``tabindex="0"``
on input and output areas, and a placeholder alt text on images that have none. It has no
option to leave that pass out, and parsing and writing the page again costs about as
much as rendering it: 0.55 CPU-seconds for the sample's three reports against 0.25
without it, and 0.7 CPU-seconds of a whole ``kam run all`` (13.2 against 12.5, median of
three runs interleaved with the others on the shared 2-core machine).
:class:`ReportExporter` is an ``HTMLExporter`` configured through its public hooks (a
preprocessor, filters) that renders with the template exporter it is built on and adds
the same attributes to the tags the template writes, with one regular expression each;
tests/test_runner.py checks the tags against nbconvert's own pass. :func:`render_html`
writes a report with it, plotly.js added once, after the export.

What a cell wrote to standard error (a Python warning with its file path and source line,
a library's log) is left out of the page: it stays in the executed notebook and in
``run.log``, and what a reader must know of it the workbook says in its notes.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.preprocessors import Preprocessor

TEMPLATES = Path(__file__).resolve().parent / "templates"
PLOTLY_PLACE = "<!-- kam: plotly.js -->"  # in the report template's head
NO_ALT = "No description has been provided for this image"  # nbconvert's words
_AREA = re.compile(r'<div(?=\s)(?![^>]*\stabindex=)([^>]*\sclass="(?:[^"]*\s)?'
                   r'jp-(?:OutputArea-output|Cell-inputWrapper)(?=[\s"]))')
_IMAGE = re.compile(r"<img(?=[\s/>])(?![^>]*\salt=)")


class DropStandardError(Preprocessor):
    """Leave out every cell's standard-error stream (on the exporter's copy of the notebook)."""

    def preprocess_cell(self, cell, resources, index):
        if "outputs" in cell:
            cell.outputs = [out for out in cell.outputs
                            if not (out.get("output_type") == "stream"
                                    and out.get("name") == "stderr")]
        return cell, resources


class ReportExporter(HTMLExporter):
    """``HTMLExporter`` whose accessibility attributes are added without parsing the page,
    and which leaves the cells' standard error out of the page.

    HTMLExporter registers two filters per notebook before rendering; here they are
    registered once: code highlighting (never applied, as the reports leave the code out,
    but the template names it) and nbconvert's default data-type filter (the widget-aware
    one differs only for widget views, which the reports have none of).
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        self.register_preprocessor(DropStandardError(parent=self), enabled=True)
        self.register_filter("highlight_code",
                             Highlight2HTML(pygments_lexer="ipython3", parent=self))

    def from_notebook_node(self, nb, resources=None, **kw):
        # The template exporter's rendering, without HTMLExporter's BeautifulSoup pass.
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return accessible(html), resources


def accessible(html: str) -> str:
    """Input and output areas reachable by keyboard, an alt text on every image."""
    return _IMAGE.sub(f'<img alt="{NO_ALT}"', _AREA.sub(r'<div tabindex="0"\1', html))


def render_html(notebook: Path) -> str:
    """The report: outputs only, no code, nothing fetched from the network."""
    from kamlib.reports.charts import plotly_library

    with _EXPORTING:  # one exporter for the run's reports; it is not for two threads at once
        html, _ = report_exporter().from_filename(str(notebook))
    # plotly.js goes in after the export, whose HTML clean-up would parse its 4.6 MB.
    library = plotly_library() if "Plotly.newPlot(" in html else ""
    return html.replace(PLOTLY_PLACE, library, 1)


_EXPORTING = threading.Lock()


@functools.cache
def report_exporter():
    """nbconvert's HTML exporter with our template, made once: it compiles the templates,
    most of a second per report otherwise."""
    exporter = ReportExporter(template_name="kam_report",
                              extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
                              exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_filter("markdown_output", markdown_output)
    return exporter


def markdown_output(source: str) -> str:
    """A Markdown output as HTML, with any raw HTML in it escaped and no javascript: links.

    nbconvert passes raw HTML in Markdown through (right for the notebook's own cells);
    outputs quote the data, where an account named "<img onerror=...>" must stay a name.
    """
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=True, allow_harmful_protocols=False)
    return MarkdownWithMath(renderer=renderer).render(source)
