"""What `kam run` shows while it works: cell sections and the plain log for schedulers."""

from __future__ import annotations

import io
import re

import nbformat
from rich.console import Console

from kamlib import runner
from kamlib.notebook_engine import ENGINE
from kamlib.progress import SLOW_CELL_SECONDS, PlainDisplay, cell_sections


def test_cells_are_named_by_the_section_they_belong_to():
    notebook = nbformat.read(runner.NOTEBOOKS / runner.WORKBOOKS["value"].notebook,
                             as_version=4)
    sections = cell_sections(notebook)
    assert len(sections) == len(notebook.cells)
    assert sections[0] == "Set-up"  # the title (level 1) is not a step
    assert sections[-1] == "7. How well does the model predict?"
    whale = next(i for i, c in enumerate(notebook.cells) if "charts.whale_curve" in c.source)
    assert sections[whale] == "3. The whale curve"


def test_plain_log_names_the_workbook_slow_cells_and_the_outcome():
    buffer = io.StringIO()
    display = PlainDisplay(Console(file=buffer, width=200))
    display.workbook_started("value", "Account value")
    display.cell_started("value", 3, 26, "1. From gross sales to net revenue")
    display.cell_finished("value", 3, SLOW_CELL_SECONDS + 2)
    display.cell_started("value", 4, 26, "2. Cost to serve by pool")
    display.cell_finished("value", 4, 0.5)  # quick cells stay out of the log
    display.workbook_finished("value", 42.4, ok=False)
    lines = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", line)
             for line in buffer.getvalue().splitlines()]
    assert lines == ["value: started (Account value)",
                     "value: cell 4 (1. From gross sales to net revenue) took 12 s",
                     "value: failed after 42 s"]


def test_the_executed_notebook_is_written_once_when_the_run_ends(tmp_path, monkeypatch):
    """Not at every cell start and end as papermill does: with the charts' data in the
    outputs that is half a megabyte per write. A real kernel runs the notebook."""
    import papermill as pm
    import papermill.engines

    writes = []
    write = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb",
                        lambda nb, path: (writes.append(path), write(nb, path)))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = {i}")
                                               for i in range(5)])
    source, executed = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(notebook, source)
    pm.execute_notebook(source, executed, engine_name=ENGINE, kernel_name=runner.KERNEL,
                        progress_bar=False)
    assert writes == [str(executed)]
    cells = nbformat.read(executed, as_version=4).cells
    assert all(c.metadata.papermill.status == "completed" for c in cells)


def test_live_display_keeps_a_bar_per_workbook_running_side_by_side():
    from kamlib.progress import RichDisplay

    buffer = io.StringIO()
    with RichDisplay(Console(file=buffer, width=120), workbooks=2) as display:
        display.workbook_started("value", "Account value")
        display.workbook_started("selection", "Key account selection")
        display.cell_started("selection", 2, 20, "3. Segments")
        display.cell_started("value", 5, 26, "2. Cost to serve by pool")
        display.cell_finished("value", 5, 0.1)
        display.workbook_finished("selection", 8.0, ok=False)
        display.stage("value", "writing the report")
        tasks = {t.description.strip(): (t.completed, t.total)
                 for t in display.progress.tasks}
    assert tasks == {"Workbooks": (1, 2), "Account value: writing the report": (6, 26),
                     "Key account selection: [red]failed[/]": (2, 20)}
