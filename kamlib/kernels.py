"""Kernels started before their notebook runs, so that they boot while the data is validated.

papermill starts a notebook's kernel when the notebook starts, which in ``kam run`` is
after the data has been validated; each kernel then spends seconds importing what its
workbook computes with (pandas, ibis, scikit-learn, SciPy, plotly). ``kam run all``
instead starts the kernels while it validates, with those modules imported at start-up
(ipykernel's ``exec_lines``), and hands each to papermill (its ``km`` argument), which
runs the notebook in it and shuts it down at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync


@dataclass
class StartedKernel:
    manager: AsyncKernelManager
    output: IO[str]
    """The kernel process's stdout and stderr, kept until the run's log exists."""

    @classmethod
    def start(cls, kernel_name: str, imports: list[str], cwd: Path) -> StartedKernel:
        """Start a kernel that imports ``imports`` (module names) as it starts."""
        output = tempfile.TemporaryFile("w+", encoding="utf-8")
        manager = AsyncKernelManager(kernel_name=kernel_name)
        run_sync(manager.start_kernel)(
            cwd=str(cwd), stdout=output, stderr=output,
            extra_arguments=[f"--IPKernelApp.exec_lines=import {', '.join(imports)}"])
        return cls(manager, output)

    def close(self, log: IO[str] | None = None) -> None:
        """Shut the kernel down unless papermill already has, and add its output to
        ``log``; once closed, closing again does nothing."""
        if self.output.closed:
            return
        if run_sync(self.manager.is_alive)():
            run_sync(self.manager.shutdown_kernel)(now=True)
        if log is not None:
            self.output.seek(0)
            shutil.copyfileobj(self.output, log)
        self.output.close()
