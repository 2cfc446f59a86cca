"""The workbooks' kernel is kam's own Python, with no kernel spec to install, and runs in a
folder of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

import kamlib
from kamlib.run.workbook_kernel import (
    KERNEL,
    WorkbookKernelManager,
    kernel_folder,
    workbook_kernel_spec,
)
from support import REPO


def test_the_spec_is_the_one_ipykernel_installs_for_this_python(tmp_path):
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(tmp_path),
                    "--name", KERNEL, "--display-name", "KAM Workbooks"],
                   capture_output=True, check=True, timeout=120)
    installed = tmp_path / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    written = json.loads(installed.read_text(encoding="utf-8"))
    ours = workbook_kernel_spec().to_dict()
    assert {key: ours[key] for key in written} == written


def test_a_spec_of_the_same_name_installed_elsewhere_is_not_used(tmp_path, monkeypatch):
    """One left by another environment, whose Python may not have kamlib."""
    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["/elsewhere/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "KAM Workbooks", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert KernelSpecManager().get_kernel_spec(KERNEL).argv[0] == "/elsewhere/bin/python"

    assert WorkbookKernelManager(kernel_name=KERNEL).kernel_spec.argv[0] == sys.executable
    assert WorkbookKernelManager(kernel_name="python3").kernel_spec.language == "python"


def test_kernels_run_in_a_writable_folder_of_their_own():
    folder = kernel_folder()
    assert folder.is_dir() and os.access(folder, os.W_OK)
    assert folder == kernel_folder()  # one for the process
    assert not folder.is_relative_to(Path(kamlib.__file__).parent)  # maybe not writable
    assert not folder.is_relative_to(REPO)
