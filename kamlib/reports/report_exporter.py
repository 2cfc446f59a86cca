"""nbconvert's HTML exporter for the reports, without its last pass over the whole page.

nbconvert's ``HTMLExporter`` (7.x) ends by parsing the rendered page with BeautifulSoup
to add attributes for keyboard and screen-reader users: ``tabindex="0"`` on input and
output areas, and a placeholder alt text on images that have none. Parsing and writing
the page again costs about as much as rendering it (0.2 to 0.3 CPU-seconds a report on
the sample, most of a second per ``kam run all``). :class:`ReportExporter` renders the
same way and adds the same attributes to the tags the template writes with one regular
expression each; tests/test_runner.py checks the tags against nbconvert's own pass.

What a cell wrote to standard error (a Python warning with its file path and source line,
a library's log) is left out of the page: it stays in the executed notebook and in
``run.log``, and what a reader must know of it the workbook says in its notes.
"""

from __future__ import annotations

import re

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor

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
    and which leaves the cells' standard error out of the page."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.register_preprocessor(DropStandardError(parent=self), enabled=True)

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node up to its BeautifulSoup pass (nbconvert 7.17).
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return accessible(html), resources


def accessible(html: str) -> str:
    """Input and output areas reachable by keyboard, an alt text on every image."""
    return _IMAGE.sub(f'<img alt="{NO_ALT}"', _AREA.sub(r'<div tabindex="0"\1', html))
