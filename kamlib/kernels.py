"""Kernels started before their notebook runs, so that they boot while the data is validated,
and kept for the next workbook.

papermill starts a notebook's kernel when the notebook starts, which in ``kam run`` is
after the data has been validated; each kernel then spends seconds importing what its
workbook computes with (pandas, ibis, scikit-learn, SciPy, plotly). ``kam run all``
instead starts the kernels while it validates, with those modules imported at start-up
(ipykernel's ``exec_lines``), and hands each to papermill (its ``km`` argument), which
runs the notebook in it. A kernel that has run a workbook runs the next one in the same
thread (:class:`KernelPerThread`), with a fresh namespace (:func:`fresh_namespace`): what
the first imported is not imported again, and the second sees nothing the first defined.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

CLEARED_IN = 60
"""Seconds a kernel may take to clear its namespace between two workbooks."""


@dataclass
class StartedKernel:
    manager: AsyncKernelManager
    output: IO[str]
    """The kernel process's stdout and stderr, kept until the run's log exists."""
    logged: int = 0
    """How much of ``output`` is in a run's log already."""

    @classmethod
    def start(cls, kernel_name: str, imports: list[str], cwd: Path) -> StartedKernel:
        """Start a kernel that imports ``imports`` (module names) as it starts."""
        output = tempfile.TemporaryFile("w+", encoding="utf-8")
        manager = AsyncKernelManager(kernel_name=kernel_name)
        run_sync(manager.start_kernel)(
            cwd=str(cwd), stdout=output, stderr=output,
            extra_arguments=[f"--IPKernelApp.exec_lines=import {', '.join(imports)}"])
        return cls(manager, output)

    def clear(self) -> None:
        """Give the kernel a fresh namespace for its next workbook (modules stay imported)."""
        run_sync(self._run)("__import__('kamlib.kernels').kernels.fresh_namespace()")

    async def _run(self, code: str) -> None:
        client = self.manager.client()
        client.start_channels()
        try:
            reply = await client.execute_interactive(code, store_history=False,
                                                     allow_stdin=False, timeout=CLEARED_IN,
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


@dataclass
class KernelPerThread:
    """A kernel for each thread that runs workbooks, kept for the thread's next workbook."""

    kernel_name: str
    cwd: Path
    started: list[StartedKernel] = field(default_factory=list)
    local: threading.local = field(default_factory=threading.local)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, imports: list[str]) -> StartedKernel:
        """This thread's kernel, cleared, or a new one importing ``imports``."""
        kernel = getattr(self.local, "kernel", None)
        if kernel is not None:
            kernel.clear()
            return kernel
        kernel = self.local.kernel = StartedKernel.start(self.kernel_name, imports, self.cwd)
        with self.lock:
            self.started.append(kernel)
        return kernel

    def discard(self) -> None:
        """Shut this thread's kernel down: its workbook failed or was stopped."""
        kernel = self.local.__dict__.pop("kernel", None)
        if kernel is not None:
            kernel.close()

    def close(self) -> None:
        """Shut every kernel down, once no thread uses them."""
        for kernel in self.started:
            kernel.close()


def fresh_namespace() -> None:
    """Run in a kernel between two workbooks: the namespace as a new kernel has it.

    IPython's reset with a new session empties the user namespace, its history and the
    execution count; the warnings' "already shown" registries are cleared too (leaving a
    ``catch_warnings`` block does that), so the second workbook shows every warning a new
    kernel would.
    """
    import gc
    import warnings

    from IPython import get_ipython

    get_ipython().reset(new_session=True)
    with warnings.catch_warnings():
        pass
    gc.collect()
