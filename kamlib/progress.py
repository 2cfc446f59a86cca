"""What a run shows while it works: a papermill engine that reports each cell, and two displays.

papermill's own progress bar is a tqdm bar that knows nothing of workbooks and writes
over log files. :class:`KamEngine` is papermill's nbclient engine with two changes:
it reports every cell to a :class:`RunProgress`, and it sends the kernel process's
own output (its start-up warnings, the "KeyboardInterrupt caught in kernel" that
jupyter_client's interrupt-before-shutdown provokes, Spark's JVM logs) to the run's
log file instead of the user's terminal.

Displays: :class:`RichDisplay` (a live bar over the workbooks and one per running
workbook over its cells, for people) and :class:`PlainDisplay` (timestamped lines, for
schedulers and ``--quiet``). Every event names its workbook, as workbooks may run side by
side (``kam run all --jobs``), each in its own thread.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import IO

from jupyter_core.utils import ensure_event_loop
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args
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

ENGINE = "kam"
"""The papermill engine name the runner executes with."""
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


class _ReportingManager(NotebookExecutionManager):
    """papermill's execution manager (metadata, autosave) that also reports each cell."""

    def __init__(self, nb: NotebookNode, progress: RunProgress, workbook: str, **kwargs):
        super().__init__(nb, progress_bar=False, **kwargs)
        self.progress = progress
        self.workbook = workbook
        self.sections = cell_sections(nb)

    def save(self, **kwargs) -> None:
        # papermill writes the whole notebook whenever a cell starts or ends: with the
        # charts' data, half a megabyte each time, 60 times a workbook. The runner reads it
        # only when the run has ended, so it is written then, and during long cells every
        # autosave_cell_every seconds, as papermill's autosave does.
        since = (self.now() - self.last_save_time).total_seconds()
        due = self.autosave_cell_every and since >= self.autosave_cell_every  # 0: never
        if self.end_time is not None or due:
            super().save(**kwargs)

    def cell_start(self, cell: NotebookNode, cell_index: int | None = None, **kwargs) -> None:
        super().cell_start(cell, cell_index, **kwargs)
        self.progress.cell_started(self.workbook, cell_index, len(self.nb.cells),
                                   self.sections[cell_index])

    def cell_complete(self, cell: NotebookNode, cell_index: int | None = None,
                      **kwargs) -> None:
        super().cell_complete(cell, cell_index, **kwargs)
        self.progress.cell_finished(self.workbook, cell_index,
                                    cell.metadata.papermill.get("duration") or 0.0)


class KamEngine(NBClientEngine):
    """papermill's nbclient engine, reporting cells and keeping kernel output in the log.

    Extra keyword arguments of ``papermill.execute_notebook``: ``progress`` (a
    :class:`RunProgress`), ``workbook`` (the name its events carry) and ``kernel_log``
    (an open file for the kernel process's stdout and stderr).
    """

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=False,
                         log_output=False, autosave_cell_every=30,
                         progress: RunProgress | None = None, workbook: str = "",
                         **kwargs):
        # Engine.execute_notebook with our manager in place of papermill's (and its tqdm bar).
        manager = _ReportingManager(nb, progress or RunProgress(), workbook,
                                    output_path=output_path,
                                    log_output=log_output,
                                    autosave_cell_every=autosave_cell_every)
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.notebook_complete()
        return manager.nb

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                 stderr_file=None, start_timeout=60, execution_timeout=None,
                                 kernel_log: IO[str] | None = None, **kwargs):
        # NBClientEngine.execute_managed_notebook, except that the kernel process's stdout
        # and stderr go to kernel_log: execute(**kw) hands them to the kernel's Popen.
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
            log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
        launch = {"stdout": kernel_log, "stderr": kernel_log} if kernel_log else {}
        client = PapermillNotebookClient(nb_man, **final_kwargs)
        try:
            return client.execute(**launch)
        except BaseException:
            # Stopped or failed mid-cell (kamlib.side_by_side): the client's tasks are
            # cancelled now, rather than fail later against a kernel shut down meanwhile.
            _cancel_pending(ensure_event_loop())
            raise
        finally:
            # A kernel given to papermill (km, see kamlib.kernels) stays for the next
            # workbook; only the client's channels to it close.
            if client.kc is not None:
                client.kc.stop_channels()


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


papermill_engines.register(ENGINE, KamEngine)
