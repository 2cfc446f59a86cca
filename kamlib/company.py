"""A company's data, ready for a workbook: validated, its reporting quarter, on an engine.

The one path every workbook and the runner take from a data folder to figures, so
they validate, choose the quarter and stage tables the same way.

Validated once per run: ``kam run`` validates the data folder before any kernel starts
and hands the validated data to the kernels it runs (:func:`handed_over`), so a
workbook does not parse and check the same files again. The hand-over is a pickle in a
private temporary folder, written and read by the same user's processes during one
run and removed after it; it is used only while every file of the data folder and the
mapping has the size and modification time it had when validated (and on the same
day, as validation checks for dates in the future); otherwise the kernel validates
the data itself. Results the workbooks of a run all need, such as the lifetime-value
fit, are computed by the first and kept beside the hand-over for the others
(:func:`computed_once`).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TypeVar

import ibis

from kamlib.engine import connect, open_tables
from kamlib.errors import DataError
from kamlib.load import Dataset
from kamlib.mapping import read_mapping
from kamlib.periods import Quarter

T = TypeVar("T")

HANDED_OVER = "KAM_VALIDATED_DATA"
"""Environment variable naming the runner's hand-over file, inherited by its kernels."""


def load_valid(data_dir: Path, mapping: Path | None = None) -> Dataset:
    """The validated data, or a DataError listing every problem (file, rows, column)."""
    handed = _handed_over_data(Path(data_dir), mapping)
    if handed is not None:
        return handed
    # Imported here: pandera (which loads PySpark when installed) is a second per kernel.
    from kamlib.validate import validate_folder

    report = validate_folder(Path(data_dir), read_mapping(Path(mapping)) if mapping else None)
    if not report.ok:
        raise DataError(report.problems)
    return report.data


@contextmanager
def handed_over(data: Dataset, data_dir: Path, mapping: Path | None = None) -> Iterator[Path]:
    """Offer validated data to the kernels started inside the block (see the module
    docstring); the hand-over file is removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="kam-validated-"))  # readable by this user only
    path = folder / "data.pickle"
    with path.open("wb") as handle:
        pickle.dump((_fingerprint(Path(data_dir), mapping), data), handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
    before = os.environ.get(HANDED_OVER)
    os.environ[HANDED_OVER] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(HANDED_OVER, None)
        else:
            os.environ[HANDED_OVER] = before
        shutil.rmtree(folder, ignore_errors=True)


def _handed_over_data(data_dir: Path, mapping: Path | None) -> Dataset | None:
    """The runner's validated data, if it was made from these very files today."""
    path = os.environ.get(HANDED_OVER)
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            fingerprint, data = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return None  # gone or unreadable: validate as usual
    if fingerprint != _fingerprint(data_dir, mapping):
        return None
    data.run_folder = Path(path).parent
    return data


def computed_once(data: Dataset, name: str, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, once per ``kam run``: a workbook that got the runner's data keeps the
    result for the workbooks after it, which get it for the same name and key (plain
    values the result depends on besides the data); elsewhere simply computed."""
    if data.run_folder is None:
        return compute()
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    path = data.run_folder / f"{name}-{digest}.pickle"
    if path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle)
    result = compute()
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)  # whole or absent, even if this kernel is killed
    return result


def _fingerprint(data_dir: Path, mapping: Path | None) -> tuple:
    """What the validation depends on: the files (name, size, modification time), the
    mapping's too, and the day."""
    def files(base: Path) -> list[tuple[str, int, int]]:
        found = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        return [(str(p), (s := p.stat()).st_size, s.st_mtime_ns) for p in found]

    return (str(data_dir.resolve()), files(data_dir.resolve()),
            files(Path(mapping).resolve()) if mapping else None, date.today())


def reporting_quarter(data: Dataset, period: str | None = None) -> Quarter:
    """The quarter asked for, or the latest complete quarter in the invoice lines."""
    if period:
        return Quarter.parse(period)
    return Quarter.latest_complete(data.column_max("invoice_lines", "invoice_date").date())


def on_engine(data: Dataset, engine: str = "duckdb") -> dict[str, ibis.Table]:
    """The tables on the engine; staged copies are removed when the process ends."""
    staging = Path(tempfile.mkdtemp(prefix="kam-staging-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    return open_tables(data, connect(engine), staging)
