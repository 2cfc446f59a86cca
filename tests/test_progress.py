"""What `kam run` shows while it works: cell sections and the plain log for schedulers."""

from __future__ import annotations

import io
import re

import nbformat
from rich.console import Console

from kamlib.run import runner
from kamlib.run.progress import SLOW_CELL_SECONDS, PlainDisplay, cell_sections


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


def test_live_display_keeps_a_bar_per_workbook_running_side_by_side():
    from kamlib.run.progress import RichDisplay

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


def test_live_display_draws_every_section_however_quick_its_cells():
    """A section whose cells run between two of the display's ticks is still shown."""
    from kamlib.run.progress import RichDisplay

    buffer = io.StringIO()
    sections = ["1. From gross sales to net revenue", "2. Cost to serve by pool",
                "3. The whale curve"]
    with RichDisplay(Console(file=buffer, width=120, force_terminal=True),
                     workbooks=1) as display:
        display.workbook_started("value", "Account value")
        for index, section in enumerate(s for s in sections for _ in range(2)):  # 2 cells each
            display.cell_started("value", index, 6, section)
            display.cell_finished("value", index, 0.0)
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buffer.getvalue())
    assert all(f"Account value: {section}" in drawn for section in sections)
