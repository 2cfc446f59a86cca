"""Publishing a finished report into the reports folder, safe under concurrency and kills.

A run writes its report into a work folder beside the reports
(``.running-<workbook>-<pid>@<host>-<random>``), ``manifest.json`` last; :func:`publish`
then moves it into ``<out>/<period>/<workbook>/`` under a lock of that report, keeping
the report it replaces as ``<workbook>.<its finish time>``. The next run publishes the
complete reports that killed runs left (:func:`recover_publishing`) and removes their
other work folders (:func:`clear_stale_work`).
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import re
import shutil
import socket
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from pathlib import Path

from filelock import FileLock

from kamlib.data.periods import Quarter
from kamlib.errors import KamError

STALE_AFTER = timedelta(days=2)
"""A work folder whose run cannot be checked (another host, an older kam) is removed after
this long: no live run is that old, each of its cells times out after the runner's CELL_TIMEOUT."""


def publish(work: Path, target: Path) -> Path:
    """Move the finished run into place; keep an earlier report as a dated version.

    The rule, for runs at once into one reports folder and for a run killed at any instant:

    - a work folder is a complete report once its ``manifest.json`` exists: the manifest
      is written last, and atomically (written aside, then renamed);
    - one run at a time publishes a given report: it holds the lock ``.<workbook>.lock``
      beside it (the system releases it when the run dies) from choosing names to its
      last rename;
    - the newest report (by the manifest's finish time) is current; the one it replaces
      becomes ``<workbook>.<its finish time>``, with ``-2``, ``-3``, ... when two reports
      finished in the same second, so no rename ever lands on a folder;
    - the next run publishes, by this same rule, every complete work folder a killed run
      left, before it clears the other work folders (see :func:`clear_stale_work`).

    A kill before the manifest is complete leaves a work folder the next run removes; a
    kill after it, before either rename or between them (no current report at that
    instant), leaves a complete report the next run publishes. A run interrupted between
    the renames (Ctrl-C, SIGTERM) puts the earlier report back itself.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(_lock(target)):
        return _place(work, target)


def _place(work: Path, target: Path) -> Path:
    """The renames of :func:`publish`, under its lock."""
    if target.exists() and _finished(target) > _finished(work):  # a late, older report
        dated = target.with_name(_dated_name(target, _finished(work)))
        os.rename(work, dated)
        return dated
    archive = _dated_name(target, _finished(target)) if target.exists() else None
    if archive:
        os.rename(target, target.with_name(archive))
    try:
        os.rename(work, target)
    except BaseException:
        if archive:
            os.rename(target.with_name(archive), target)
        raise
    return target


def _lock(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _dated_name(target: Path, stamp: str) -> str:
    """``<workbook>.<finish time>``, made unique with ``-2``, ``-3``, ... when it is taken."""
    name = f"{target.name}.{stamp}"
    taken = {p.name for p in target.parent.glob(f"{glob.escape(name)}*")}
    candidates = itertools.chain([name], (f"{name}-{i}" for i in itertools.count(2)))
    return next(n for n in candidates if n not in taken)


def _finished(folder: Path) -> str:
    """When the report in ``folder`` finished, as it names a dated version (UTC)."""
    try:
        stamp = json.loads((folder / "manifest.json").read_text())["finished"]
    except (OSError, KeyError, ValueError):
        stamp = datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc).isoformat()
    return stamp[:19].replace(":", "-")


# --- Work folders left by killed runs -----------------------------------------------------

_WORK = re.compile(r"^\.running-(?P<workbook>.+)-(?P<pid>\d+)@(?P<host>.+)-[^-]+$")


def work_prefix(workbook: str) -> str:
    """Work folders carry the pid and host of their run, so a later run can tell whether
    that run is still alive."""
    return f".running-{workbook}-{os.getpid()}@{socket.gethostname()}-"


def recover_publishing(out: Path, workbooks: Collection[str],
                       now: datetime | None = None) -> list[Path]:
    """Publish the complete reports runs killed while publishing left in ``out`` (stale
    work folders holding a manifest, see :func:`publish`); return where each went.
    Each is published under its report's lock, so only one run publishes it."""
    published = []
    for folder in _stale_work(out, now):
        target = _target_of(folder, out, workbooks)
        if target is None:
            continue
        target.parent.mkdir(exist_ok=True)
        with FileLock(_lock(target)):
            if folder.is_dir():  # not published meanwhile by another run
                published.append(_place(folder, target))
    return published


def _target_of(work: Path, out: Path, workbooks: Collection[str] | None = None) -> Path | None:
    """Where a complete work folder is published, from its manifest; None if incomplete."""
    try:
        manifest = json.loads((work / "manifest.json").read_text(encoding="utf-8"))
        workbook, period = manifest["workbook"], manifest["period"]
        if not re.fullmatch(r"[a-z_]+", workbook) or (workbooks and workbook not in workbooks) \
                or str(Quarter.parse(period)) != period:
            return None
    except (OSError, ValueError, KeyError, TypeError, KamError):
        return None
    return out / period / workbook


def clear_stale_work(out: Path, now: datetime | None = None) -> list[Path]:
    """Remove the work folders of runs that were killed; return what was removed.

    Only ``.running-*`` folders directly in ``out`` are considered, never published
    reports. A folder of a run on this host is stale once its process is gone; one
    whose run cannot be checked (another host sharing ``out``, an older kam, or a pid
    that may have been reused) once it is older than :data:`STALE_AFTER`. A complete
    report among them is published instead (:func:`recover_publishing`, run first).
    """
    removed = []
    for folder in _stale_work(out, now):
        if _target_of(folder, out) is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _stale_work(out: Path, now: datetime | None) -> list[Path]:
    now = now or datetime.now(timezone.utc)
    return [folder for folder in sorted(out.glob(".running-*"))
            if folder.is_dir() and not folder.is_symlink() and _is_stale(folder, now)]


def _is_stale(folder: Path, now: datetime) -> bool:
    try:
        age = now - datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc)
    except FileNotFoundError:  # another run removed it first
        return False
    if age > STALE_AFTER:
        return True
    owner = _WORK.match(folder.name)
    if owner is None or owner["host"] != socket.gethostname():
        return False
    return not _alive(int(owner["pid"]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: checks the process exists, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to another user
        return True
    return True
