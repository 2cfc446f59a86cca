"""The papermill engine `kam run` executes with, on a real kernel: when it writes the
executed notebook, and how a run stopped mid-cell unwinds."""

from __future__ import annotations

import asyncio
import gc
import signal

import nbformat
import papermill as pm
import papermill.engines
import pytest
from jupyter_client.manager import AsyncKernelManager

from kamlib.run import runner
from kamlib.run.notebook_engine import ENGINE
from kamlib.run.progress import RunProgress


class Stopped(BaseException):
    """What kamlib.cli raises in the main thread on SIGTERM."""


def _stop(signum, frame):
    raise Stopped()


def test_the_executed_notebook_is_written_once_when_the_run_ends(tmp_path, monkeypatch):
    """Not at every cell start and end as papermill does: with the charts' data in the
    outputs that is half a megabyte per write. A real kernel runs the notebook."""
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


def test_a_stop_mid_cell_cancels_its_tasks_before_the_kernel_shuts_down(tmp_path, monkeypatch,
                                                                        caplog):
    """As Ctrl-C or SIGTERM stops `kam run`. Left running, the cell's tasks end in
    DeadKernelError once nbclient has shut its kernel down, and asyncio prints "Task
    exception was never retrieved" with a traceback on the user's terminal."""
    class StopInSecondCell(RunProgress):
        def cell_started(self, workbook, index, total, section):
            if index == 1:
                signal.setitimer(signal.ITIMER_REAL, 0.5)

    pending_at_shutdown = []
    shutdown = AsyncKernelManager.shutdown_kernel

    async def watched_shutdown(self, *args, **kwargs):
        pending_at_shutdown.extend(t for t in asyncio.all_tasks()
                                   if t is not asyncio.current_task())
        return await shutdown(self, *args, **kwargs)

    monkeypatch.setattr(AsyncKernelManager, "shutdown_kernel", watched_shutdown)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time"),
                                               nbformat.v4.new_code_cell("time.sleep(60)")])
    source = tmp_path / "in.ipynb"
    nbformat.write(notebook, source)
    previous = signal.signal(signal.SIGALRM, _stop)
    try:
        with pytest.raises(Stopped):
            pm.execute_notebook(source, tmp_path / "out.ipynb", engine_name=ENGINE,
                                kernel_name=runner.KERNEL, progress_bar=False,
                                progress=StopInSecondCell())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    gc.collect()  # a task's unretrieved exception is reported when the task is collected
    assert pending_at_shutdown == []
    assert "never retrieved" not in caplog.text
