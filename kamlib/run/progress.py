"""What a run shows while it works: the events a run reports, and two displays.

papermill's own progress bar is a tqdm bar that knows nothing of workbooks and writes
over log files; kamlib.run.notebook_engine reports every cell to a :class:`RunProgress`
instead. Displays: :class:`RichDisplay` (a live bar over the workbooks and one per running
workbook over its cells, for people) and :class:`PlainDisplay` (timestamped lines, for
schedulers and ``--quiet``). Every event names its workbook, as workbooks may run side by
side (``kam run all --jobs``), each in its own thread.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode

SLOW_CELL_SECONDS = 10.0
"""A cell that takes longer is named in the plain log, so slow steps show in scheduler logs."""


class RunProgress:
    """What the runner reports while it works; this base shows nothing. Events of
    workbooks running side by side come from their own threads."""

    def workbook_started(self, workbook: str, title: str) -> None:
        """A workbook's run begins (before its kernel starts)."""

    def cell_started(self, workbook: str, index: int, total: int, section: str) -> None:
        """Cell ``index`` (from 0) of ``total`` starts; ``section`` is its heading."""

    def cell_finished(self, workbook: str, index: int, seconds: float) -> None:
        """Cell ``index`` has finished, successfully or not."""

    def stage(self, workbook: str, text: str) -> None:
        """The workbook's run moves to a step outside the notebook ("writing the report")."""

    def workbook_finished(self, workbook: str, seconds: float, ok: bool) -> None:
        """The workbook is published (ok) or has failed."""

    def note(self, message: str) -> None:
        """Something the user should know that is not an error."""


class PlainDisplay(RunProgress):
    """One timestamped line per event that matters, for logs (``kam run --quiet``)."""

    def __init__(self, console: Console):
        self.console = console
        self.sections: dict[str, str] = {}

    def _line(self, text: str) -> None:
        self.console.print(f"{datetime.now():%Y-%m-%d %H:%M:%S} {text}", markup=False,
                           highlight=False, soft_wrap=True)

    def workbook_started(self, workbook: str, title: str) -> None:
        self._line(f"{workbook}: started ({title})")

    def cell_started(self, workbook: str, index: int, total: int, section: str) -> None:
        self.sections[workbook] = section

    def cell_finished(self, workbook: str, index: int, seconds: float) -> None:
        if seconds >= SLOW_CELL_SECONDS:
            self._line(f"{workbook}: cell {index + 1} ({self.sections[workbook]}) took "
                       f"{seconds:.0f} s")

    def workbook_finished(self, workbook: str, seconds: float, ok: bool) -> None:
        self._line(f"{workbook}: {'finished' if ok else 'failed'} after {seconds:.0f} s")

    def note(self, message: str) -> None:
        self._line(message)


class RichDisplay(RunProgress):
    """A live display: one bar over the workbooks, one over each running workbook's cells.

    Use as a context manager around the whole ``kam run``; it draws on ``console``
    (stderr, so stdout keeps only the results).
    """

    def __init__(self, console: Console, workbooks: int):
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console)
        self.overall = self.progress.add_task("Workbooks", total=workbooks)
        self.cells: dict[str, TaskID] = {}
        self.titles: dict[str, str] = {}
        self.sections: dict[str, str] = {}

    def __enter__(self) -> RichDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def workbook_started(self, workbook: str, title: str) -> None:
        self.titles[workbook] = title
        self.cells[workbook] = self.progress.add_task(f"  {title}: starting the kernel",
                                                      total=None)

    def cell_started(self, workbook: str, index: int, total: int, section: str) -> None:
        self.progress.update(self.cells[workbook], total=total, completed=index,
                             description=f"  {self.titles[workbook]}: {_short(section)}")
        if self.sections.get(workbook) != section:
            self.sections[workbook] = section
            self.progress.refresh()  # drawn now: a step quicker than a tick still shows

    def cell_finished(self, workbook: str, index: int, seconds: float) -> None:
        self.progress.update(self.cells[workbook], completed=index + 1)

    def stage(self, workbook: str, text: str) -> None:
        self.progress.update(self.cells[workbook],
                             description=f"  {self.titles[workbook]}: {text}")

    def workbook_finished(self, workbook: str, seconds: float, ok: bool) -> None:
        done = "published" if ok else "[red]failed[/]"
        self.progress.update(self.cells[workbook],
                             description=f"  {self.titles[workbook]}: {done}")
        self.progress.stop_task(self.cells[workbook])
        self.progress.advance(self.overall)

    def note(self, message: str) -> None:
        self.progress.console.print(message, markup=False, highlight=False, soft_wrap=True)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cell_sections(nb: NotebookNode) -> list[str]:
    """For each cell, the last Markdown heading at or before it: what a person would call
    the step ("3. The whale curve") rather than "cell 12"."""
    sections, current = [], "Set-up"
    for cell in nb.cells:
        if cell.cell_type == "markdown":  # level 1 is the notebook's title, not a step
            heading = re.search(r"^#{2,}\s*(.+)$", cell.source, re.MULTILINE)
            current = heading[1].strip() if heading else current
        sections.append(current)
    return sections
