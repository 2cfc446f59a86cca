"""A company's data, ready for a workbook: validated, its reporting quarter, on an engine.

The one path every workbook and the runner take from a data folder to figures, so
they validate, choose the quarter and stage tables the same way.

Validated once per run: ``kam run`` validates the data folder before any kernel starts
and hands the validated data to the kernels it runs (the giving side is
:func:`kamlib.run.handover.handed_over`), so a workbook does not parse and check the same
files again. The hand-over is a pickle in a private folder next to the run's reports,
written and read by the same user's processes during one run and removed after it; it is
used only while every file the validation read (:func:`run_inputs`: the tables' files,
the criteria, the mapping; not reports written into the data folder) has the size and
modification time it had before validation (and on the same day, as validation checks
for dates in the future); otherwise the kernel validates the data itself.
Results the workbooks of a run all need, such as the lifetime-value fit and the tables
staged for the engine, are computed by the first and kept beside the hand-over for the
others (:func:`computed_once`, :func:`on_engine`); workbooks running side by side wait for
the first rather than compute them again.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from filelock import FileLock

from kamlib.data.files import replaced_atomically
from kamlib.data.load import Dataset, input_files
from kamlib.data.mapping import read_mapping
from kamlib.data.periods import Quarter
from kamlib.errors import DataError

if TYPE_CHECKING:
    import ibis

T = TypeVar("T")

HANDED_OVER = "KAM_VALIDATED_DATA"
"""Environment variable naming the runner's hand-over file, inherited by its kernels."""


def load_valid(data_dir: Path, mapping: Path | None = None) -> Dataset:
    """The validated data, or a DataError listing every problem (file, rows, column)."""
    handed = _handed_over_data(Path(data_dir), mapping)
    return handed if handed is not None else validated(data_dir, mapping)


def validated(data_dir: Path, mapping: Path | None) -> Dataset:
    """The data validated now (never taken from a hand-over), or a DataError."""
    # Imported here: pandera (which loads PySpark when installed) is a second per kernel.
    from kamlib.data.validate import validate_folder

    report = validate_folder(Path(data_dir), read_mapping(Path(mapping)) if mapping else None)
    if not report.ok:
        raise DataError(report.problems)
    return report.data


def _handed_over_data(data_dir: Path, mapping: Path | None) -> Dataset | None:
    """The runner's validated data, if it was made from these very files today."""
    path = os.environ.get(HANDED_OVER)
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            fingerprint, data = pickle.load(handle)
        if fingerprint != inputs_fingerprint(data_dir, mapping):
            return None
    except Exception:  # gone, unreadable, another kamlib: the kernel validates as usual
        return None
    data.handover_folder = Path(path).parent
    return data


def computed_once(data: Dataset, name: str, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, once per ``kam run``: a workbook that got the runner's data keeps the
    result for the workbooks after it, which get it for the same name and key (plain
    values the result depends on besides the data); elsewhere simply computed."""
    if data.handover_folder is None:
        return compute()
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    path = data.handover_folder / f"{name}-{digest}.pickle"
    with FileLock(path.with_suffix(".lock")):  # released by the system if a kernel dies
        if path.is_file():
            with path.open("rb") as handle:
                return pickle.load(handle)
        result = compute()
        with replaced_atomically(path) as partial:  # whole or absent if the kernel is killed
            partial.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return result


def run_inputs(data_dir: Path, mapping: Path | None = None) -> list[Path]:
    """Every file a run reads its data from: the mapping and the files the loader reads
    (:func:`~kamlib.data.load.input_files`), absolute. Reports written into the data folder
    are not among them."""
    root = Path(data_dir).resolve()
    rules = read_mapping(Path(mapping)) if mapping else None
    mapped = [Path(mapping).resolve()] if mapping else []
    return mapped + input_files(root, rules)


def inputs_fingerprint(data_dir: Path, mapping: Path | None) -> tuple:
    """What the validation depends on: the files it reads (name, size, modification
    time) and the day."""
    stats = [(str(p), (s := p.stat()).st_size, s.st_mtime_ns)
             for p in run_inputs(data_dir, mapping) if p.exists()]
    return str(Path(data_dir).resolve()), stats, date.today()


def reporting_quarter(data: Dataset, period: str | None = None) -> Quarter:
    """The quarter asked for, or the latest complete quarter in the invoice lines."""
    if period:
        return Quarter.parse(period)
    return Quarter.latest_complete(data.column_max("invoice_lines", "invoice_date").date())


def on_engine(data: Dataset, engine: str = "duckdb") -> dict[str, ibis.Table]:
    """The tables on the engine. Tables not read from Parquet are staged as Parquet once
    per ``kam run``, beside the hand-over (removed with it); elsewhere in a folder removed
    when the process ends."""
    # Imported here: ibis is a second `kam run` would spend before validating.
    from kamlib.data.engine import connect, open_tables

    con = connect(engine)
    if data.handover_folder is None:
        staging = Path(tempfile.mkdtemp(prefix="kam-staging-"))
        atexit.register(shutil.rmtree, staging, ignore_errors=True)
        return open_tables(data, con, staging)
    staging = data.handover_folder / "staged"
    with FileLock(staging.with_suffix(".lock")):  # the first workbook stages, others wait
        return open_tables(data, con, staging)
