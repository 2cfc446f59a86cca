"""The kernel the workbooks run on: the Python that runs ``kam``, wherever kamlib is installed.

The notebooks name their kernel ``kam-workbooks``. Jupyter looks kernels up in kernel
specs installed in its data folders, which ``pip install kam-workbooks`` does not write
(``make env`` installs one, for JupyterLab and for the notebook tests). ``kam`` needs
none: it runs the workbooks on its own interpreter (``sys.executable``), the one that
has kamlib and everything the workbooks import, with the command line
``python -m ipykernel install`` would write for it. So a package installed with pip runs
its workbooks without a further step, and a kernel spec of the same name installed for
another environment can never send them to a Python without kamlib. Other kernel names
are looked up as Jupyter does.

The kernels run in a temporary folder of their own (:func:`kernel_folder`), not in the
installed notebooks' folder, which may be read-only, nor where ``kam`` was started.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path

from ipykernel.kernelspec import get_kernel_dict
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import default

KERNEL = "kam-workbooks"
"""The kernel name the notebooks' metadata and ``make env`` use."""
DISPLAY_NAME = "KAM Workbooks"


def workbook_kernel_spec() -> KernelSpec:
    """The spec ``python -m ipykernel install --name kam-workbooks`` writes for this
    interpreter: what this ipykernel declares (its protocol, debugger, encryption), with
    frozen modules off from Python 3.11 as ipykernel 7 sets them for its debugger, which
    otherwise warns about them as the kernel starts. The command line is built here:
    ipykernel below 7 has no argument for the flag."""
    frozen_off = ["-Xfrozen_modules=off"] if sys.version_info >= (3, 11) else []
    argv = [sys.executable, *frozen_off, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return KernelSpec(name=KERNEL, **get_kernel_dict() | {"argv": argv,
                                                          "display_name": DISPLAY_NAME})


class WorkbookKernelSpecs(KernelSpecManager):
    """Jupyter's kernel specs, with ``kam-workbooks`` always this interpreter."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == KERNEL:
            return workbook_kernel_spec()
        return super().get_kernel_spec(kernel_name)


class WorkbookKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager that finds ``kam-workbooks`` without an installed
    spec; give it to papermill as ``kernel_manager_class``, or make kernels with it."""

    @default("kernel_spec_manager")
    def _workbook_kernel_specs(self) -> KernelSpecManager:
        return WorkbookKernelSpecs(data_dir=self.data_dir)


@functools.cache
def kernel_folder() -> Path:
    """The folder the workbooks' kernels run in: one of this process's own, removed when
    it exits. Not the notebooks' folder, which an installed package may not let anyone
    write to, and not the user's working folder: whatever a library writes beside itself
    lands here and goes. The runner gives the workbooks absolute paths only."""
    folder = Path(tempfile.mkdtemp(prefix="kam-kernels-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
