"""Kernels started before their notebook runs, so that they boot while the data is validated,
and kept for the next workbook.

papermill starts a notebook's kernel when the notebook starts, which in ``kam run`` is
after the data has been validated; each kernel then spends seconds importing what its
workbook computes with (pandas, ibis, scikit-learn, SciPy, plotly). ``kam run all``
instead starts the kernels while it validates, with those modules imported at start-up
(ipykernel's ``exec_lines``), and hands each to papermill (its ``km`` argument), which
runs the notebook in it. A kernel that has run a notebook is lent to the next workbook
(:class:`KernelPool`) with a fresh namespace (:func:`fresh_namespace`): what the first
imported is not imported again, and the second sees nothing the first defined.

What it saves: with the workbooks run one after the other in kernels papermill starts
itself, ``kam run all`` on the sample took 30.5 s instead of 18.4 s and 17.2 CPU-seconds
instead of 12.5 (medians of three runs interleaved on the shared 2-core machine, load 4
to 6). jupyter_client starts a kernel (``AsyncKernelManager``, used here) and papermill
runs a notebook in a kernel it is given (``km``); neither offers kernels started ahead of
their notebook or kept for the next one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from kamlib.run.workbook_kernel import WorkbookKernelManager

REPLY_IN = 120
"""Seconds a kernel may take to import its modules as it starts, or to clear its namespace
between two workbooks."""


@dataclass
class StartedKernel:
    manager: AsyncKernelManager
    output: IO[str]
    """The kernel process's stdout and stderr, kept until the run's log exists."""
    logged: int = 0
    """How much of ``output`` is in a run's log already."""

    @classmethod
    def start(cls, kernel_name: str, imports: list[str], cwd: Path) -> StartedKernel:
        """Start a kernel that imports ``imports`` (module names) as it starts; what they
        made is then left out of later garbage collections (``gc.freeze``): modules live
        as long as the kernel, and a full collection no longer walks through pandas',
        scikit-learn's and plotly's objects each time (clearing a kernel between two
        workbooks took 0.3 s, 0.1 s so)."""
        output = tempfile.TemporaryFile("w+", encoding="utf-8")
        manager = WorkbookKernelManager(kernel_name=kernel_name)
        run_sync(manager.start_kernel)(
            cwd=str(cwd), stdout=output, stderr=output,
            extra_arguments=["--IPKernelApp.exec_lines="
                             f"import {', '.join(imports)}; __import__('gc').freeze()"])
        return cls(manager, output)

    def wait_ready(self) -> None:
        """Return once the kernel has imported its modules and answers."""
        run_sync(self._run)("pass")

    def clear(self) -> None:
        """Give the kernel a fresh namespace for its next workbook (modules stay imported)."""
        run_sync(self._run)("__import__('kamlib.run.kernels').run.kernels.fresh_namespace()")

    async def _run(self, code: str) -> None:
        client = self.manager.client()
        client.start_channels()
        try:
            # A new client's IOPub subscription may not be joined when the kernel announces
            # it is idle (ZeroMQ drops what a subscriber joining late misses), and the
            # execute below would then wait REPLY_IN seconds for it on a loaded machine;
            # wait_for_ready returns once IOPub is seen to deliver.
            await client.wait_for_ready(timeout=REPLY_IN)
            reply = await client.execute_interactive(code, store_history=False,
                                                     allow_stdin=False, timeout=REPLY_IN,
                                                     output_hook=lambda message: None)
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"The kernel could not run {code!r}: {reply['content']}")

    def log_output(self, log: IO[str]) -> None:
        """Add what the kernel process printed since the last call to ``log``."""
        self.output.seek(self.logged)
        shutil.copyfileobj(self.output, log)
        self.logged = self.output.tell()

    def close(self) -> None:
        """Shut the kernel down; once closed, closing again does nothing."""
        if self.output.closed:
            return
        if run_sync(self.manager.is_alive)():
            run_sync(self.manager.shutdown_kernel)(now=True)
        self.output.close()


class KernelPool:
    """At most ``size`` kernels for the workbooks of one run, each lent to one workbook at
    a time (:meth:`lease`) and kept for the next: the workbook gives it back as soon as
    its notebook has run, and writes its report while the kernel runs the next notebook.
    Workbooks waiting for a kernel get one in the order they asked.

    With no core to spare for the command beside the kernels, the first kernel starts
    alone, beside the validation, and the others once it has imported its modules:
    started all together, the first workbook's kernel was ready 1.4 s after the data on
    2 cores, and the whole run took 0.6 s longer (median of 5 runs on the sample).
    """

    def __init__(self, kernel_name: str, cwd: Path, size: int):
        self.kernel_name, self.cwd, self.size = kernel_name, cwd, size
        self.started: list[StartedKernel] = []
        self.free: list[StartedKernel] = []
        self.alive = 0
        self.queue: list[object] = []
        self.lock = threading.Lock()
        self.first_alone = usable_cores() <= size
        self.first_ready = threading.Event()
        self.first_asked = False

    def lease(self, imports: list[str]) -> Lease:
        """A free kernel, cleared, or a new one importing ``imports`` if fewer than
        ``size`` are alive; else waits for one (stoppable as SideBySide stops a task)."""
        turn = object()
        with self.lock:
            self.queue.append(turn)
        try:
            # Polled, not a condition: an exception SideBySide raises in this thread
            # arrives between two short sleeps, never while a lock is half taken.
            while (lease := self._next(turn)) is None:
                time.sleep(0.05)
        finally:
            with self.lock:
                if turn in self.queue:
                    self.queue.remove(turn)
        try:
            if lease.kernel is None:
                lease.kernel = self._start(imports, lease.first)
            else:
                lease.kernel.clear()
        except BaseException:
            lease.discard()
            raise
        return lease

    def _start(self, imports: list[str], first: bool) -> StartedKernel:
        """A new kernel. With no core to spare, the first the pool was asked for starts
        alone and the others once it answers."""
        if not (self.first_alone and first):
            while self.first_alone and not self.first_ready.is_set():  # stoppable, as lease
                time.sleep(0.05)
            return self._started(StartedKernel.start(self.kernel_name, imports, self.cwd))
        try:
            kernel = self._started(StartedKernel.start(self.kernel_name, imports, self.cwd))
            kernel.wait_ready()
            return kernel
        finally:
            self.first_ready.set()  # or failed: the others start

    def _started(self, kernel: StartedKernel) -> StartedKernel:
        with self.lock:
            self.started.append(kernel)
        return kernel

    def _next(self, turn: object) -> Lease | None:
        """The lease for ``turn`` if it is first in the queue and a kernel is free or
        may be started (its kernel None then), else None."""
        with self.lock:
            if self.queue[0] is not turn or not (self.free or self.alive < self.size):
                return None
            self.queue.remove(turn)
            if self.free:
                return Lease(self, self.free.pop())
            self.alive += 1
            first, self.first_asked = not self.first_asked, True
            return Lease(self, None, first=first)

    def _give_back(self, kernel: StartedKernel | None, keep: bool) -> None:
        if not keep and kernel is not None:
            kernel.close()
        with self.lock:
            if keep:
                self.free.append(kernel)
            else:
                self.alive -= 1

    def close(self) -> None:
        """Shut every kernel down, once no workbook uses them."""
        for kernel in self.started:
            kernel.close()


@dataclass
class Lease:
    """A kernel lent to one workbook, given back once (kept or shut down)."""

    pool: KernelPool
    kernel: StartedKernel | None
    first: bool = False
    """For a new kernel: the first the pool was asked to start."""
    returned: bool = False

    def give_back(self) -> None:
        """The notebook has run: the kernel is free for the next workbook."""
        self._end(keep=True)

    def discard(self) -> None:
        """The workbook failed or was stopped, maybe mid-cell: shut the kernel down (a
        lease already given back is left alone)."""
        self._end(keep=False)

    def _end(self, keep: bool) -> None:
        if not self.returned:
            self.returned = True
            self.pool._give_back(self.kernel, keep)


def usable_cores() -> int:
    """The cores this process may use (fewer than the machine's in a container or a job)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fresh_namespace() -> None:
    """Run in a kernel between two workbooks: the namespace as a new kernel has it.

    IPython's reset with a new session empties the user namespace, its history and the
    execution count; the warnings' "already shown" registries are cleared too (leaving a
    ``catch_warnings`` block does that), so the second workbook shows every warning a new
    kernel would. The first workbook's garbage is collected, and what stays (modules it
    imported) is frozen as at the kernel's start.
    """
    import gc
    import warnings

    from IPython import get_ipython

    get_ipython().reset(new_session=True)
    with warnings.catch_warnings():
        pass
    gc.collect()
    gc.freeze()
