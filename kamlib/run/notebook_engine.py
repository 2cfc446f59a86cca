"""The papermill engine ``kam run`` executes notebooks with: it reports each cell and keeps
the kernel's own output in the run's log.

:class:`KamEngine` is papermill's nbclient engine with three changes: it reports every
cell to a :class:`kamlib.run.progress.RunProgress`; it sends the kernel process's own output
(its start-up warnings, the "KeyboardInterrupt caught in kernel" that jupyter_client's
interrupt-before-shutdown provokes, Spark's JVM logs) to the run's log file instead of
the user's terminal; and a run stopped mid-cell cancels the cell's tasks before the
kernel shuts down. Importing this module imports papermill (most of a second) and
registers the engine as :data:`ENGINE` (papermill's public registry of engines); the
runner does so when a notebook runs, not before its kernels start.

What it saves, and why the libraries' public API does not do it (papermill 2.7, nbclient
0.11): papermill writes the whole notebook when every cell starts and ends, with no option
to write less (``autosave_cell_every`` paces only the saves during a cell); with those
saves ``kam run all`` on the sample took 1.2 CPU-seconds more (13.7 against 12.5) and 2.3
s more wall time (20.7 against 18.4; medians of three runs interleaved with the other
variants on the shared 2-core machine). papermill calls the client's ``execute()`` with no
arguments, so nbclient's way of passing ``stdout``/``stderr`` to the kernel's process is
out of reach without the engine, and neither cancels a stopped cell's tasks. nbclient's
cell hooks (``on_cell_start``, ``on_cell_executed``) could report the cells, but the
manager is replaced for the saves anyway, and its ``cell_start``/``cell_complete`` see
every cell, markdown included, with papermill's own duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from jupyter_core.utils import ensure_event_loop
from nbformat import NotebookNode
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.log import logger
from papermill.utils import merge_kwargs, remove_args

from kamlib.run.progress import RunProgress, cell_sections

ENGINE = "kam"
"""The papermill engine name the runner executes with."""


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
        client = _Client(nb_man, **final_kwargs)
        try:
            return client.execute(**launch)
        finally:
            # A kernel given to papermill (km, see kamlib.run.kernels) stays for the next
            # workbook; only the client's channels to it close.
            if client.kc is not None:
                client.kc.stop_channels()


class _Client(PapermillNotebookClient):
    """papermill's client, whose tasks a stop cancels before the kernel shuts down."""

    @contextmanager
    def setup_kernel(self, **kwargs) -> Iterator[None]:
        with super().setup_kernel(**kwargs):
            try:
                yield
            except BaseException:
                # Stopped or failed mid-cell (Ctrl-C, SIGTERM, kamlib.run.side_by_side): the
                # cell's tasks are cancelled now. Left pending, they would run on while
                # nbclient shuts a kernel it started down, end in DeadKernelError and
                # print "Task exception was never retrieved" with a traceback.
                _cancel_pending(ensure_event_loop())
                raise


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


papermill_engines.register(ENGINE, KamEngine)
