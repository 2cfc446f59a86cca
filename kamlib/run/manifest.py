"""A report's manifest: what made it, so that it can be made again and checked.

``manifest.json`` is written last in a report's work folder, whole or not at all: a work
folder with a manifest is a complete report (see :mod:`kamlib.run.publishing`). It records
the workbook, the period, the parameters (not the run cache, which is gone after the
run), every input file with its size and SHA-256, the packages' versions, Python, the git
commit and when the run started and finished.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from kamlib.data.files import write_atomically
from kamlib.data.validated import run_inputs

if TYPE_CHECKING:
    from kamlib.run.runner import Workbook

PACKAGES = ("kam-workbooks", "pandas", "ibis-framework", "duckdb", "plotly", "papermill",
            "nbconvert", "pydantic", "pyspark")


def write_manifest(work: Path, workbook: Workbook, params: BaseModel, period: str,
                   started: datetime, seconds: float) -> None:
    """Write ``manifest.json`` into the work folder, last, whole or not at all."""
    values = params.model_dump(exclude={"run_cache"})  # gone after the run; nothing to redo
    named = [Path(v) for k, v in values.items() if k.endswith("_file") and v]
    inputs = run_inputs(Path(values["data_dir"]), values.get("mapping")) + named
    manifest = {
        "workbook": workbook.name,
        "title": workbook.title,
        "period": period,
        "status": "succeeded",
        "parameters": values,
        "inputs": [_describe(f) for f in dict.fromkeys(inputs)],
        "packages": {p: _version(p) for p in PACKAGES},
        "python": platform.python_version(),
        "git_commit": _git_commit(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "duration_seconds": round(seconds, 2),
    }
    # Last, and whole or not at all: a work folder with a manifest is a complete report.
    write_atomically(work / "manifest.json", json.dumps(manifest, indent=2,
                                                         ensure_ascii=False))


def _describe(path: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """The commit of the checkout kamlib runs from; None for an installed package, even
    one installed in a folder some other repository holds (its commit says nothing)."""
    package = Path(__file__).resolve().parents[1]
    try:
        result = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"],
                                capture_output=True, text=True, cwd=package, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    top, _, commit = result.stdout.strip().partition("\n")
    if result.returncode or not top or Path(top).resolve() != package.parent:
        return None
    return commit or None
