"""Faults of the machine, not of kam: a reports folder that cannot be written or is on a
full disk. Each is exit 2 with the path and the fix, no traceback, and the reports already
there untouched. A Jupyter kernel never installed is no fault: kam needs none."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import SAMPLE, kam


@contextmanager
def _tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A small file system of its own at ``folder``, always unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; this test runs as another user")
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _earlier_report(out: Path) -> dict[Path, tuple[float, bytes]]:
    """A report published before, and what it holds, to compare after the run."""
    folder = out / "2026Q3" / "value"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html>the earlier report</html>")
    (folder / "manifest.json").write_text('{"finished": "2026-10-05T06:30:00+00:00"}')
    return _snapshot(out)


def _snapshot(out: Path) -> dict[Path, tuple[float, bytes]]:
    return {p: (p.stat().st_mtime, p.read_bytes() if p.is_file() else b"")
            for p in out.rglob("*")}


def _refused(result: subprocess.CompletedProcess, *said: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())  # as one line, however the console wrapped it
    for text in said:
        assert text in message, message
    assert "Fix:" in message and "untouched" in message
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in message


def test_a_read_only_reports_folder_is_refused_with_its_path_and_the_fix(tmp_path):
    """Root writes through file permissions, so as root the folder is a tmpfs remounted
    read-only (as a read-only share would be); as another user, permissions suffice."""
    with _read_only_folder(tmp_path / "reports") as out:
        before = _snapshot(out)
        for where in (out, out / "new"):
            result = kam("run", "value", "--data", str(SAMPLE), "--out", str(where),
                         "--quiet")
            _refused(result, f"the reports folder {where} cannot be written", str(out))
        assert _snapshot(out) == before


@contextmanager
def _read_only_folder(folder: Path) -> Iterator[Path]:
    if os.geteuid() == 0:
        with _tmpfs(folder, "1m") as out:
            _earlier_report(out)
            subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
            yield out
        return
    _earlier_report(folder)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755)


def test_a_full_reports_disk_is_refused_with_its_path_and_the_fix(tmp_path):
    with _tmpfs(tmp_path / "reports", "2m") as out:
        before = _earlier_report(out)
        result = kam("run", "value", "--data", str(SAMPLE), "--out", str(out), "--quiet")
        _refused(result, f"no space left on the disk holding the reports folder {out}",
                 "another disk")
        assert _snapshot(out) == before  # nothing half-written left either


def test_kam_runs_a_workbook_where_no_kernel_was_ever_installed(tmp_path):
    """kam in an environment where no Jupyter kernel was installed: a virtual environment
    of its own (kernel specs are looked up under its prefix) that imports kamlib and its
    dependencies from this one, with an empty Jupyter data folder. The workbook runs on
    kam's own Python (``kam run all`` there: tests/test_installed_package.py)."""
    venv = tmp_path / "venv"
    subprocess.run([str(Path(sys.base_prefix) / "bin" / "python3"), "-m", "venv",
                    "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # nbconvert's templates are data files of this environment; its kernels stay unseen.
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env |= {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "JUPYTER_PATH": str(shared),
            "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"), "COLUMNS": "200"}
    listed = subprocess.run([str(python), "-c", "from jupyter_client.kernelspec import "
                             "KernelSpecManager; print(*KernelSpecManager().find_kernel_specs())"],
                            capture_output=True, text=True, timeout=120, env=env, check=True)
    assert "kam-workbooks" not in listed.stdout.split()  # else this test would prove nothing
    out = tmp_path / "reports"
    result = subprocess.run(
        [str(python), "-c", "from kamlib.cli import app; app(prog_name='kam')", "run",
         "value", "--data", str(SAMPLE), "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / "2026Q3" / "value" / "report.html").is_file()
