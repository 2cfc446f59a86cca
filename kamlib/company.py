"""A company's data, ready for a workbook: validated, its reporting quarter, on an engine.

The one path every workbook and the runner take from a data folder to figures, so
they validate, choose the quarter and stage tables the same way.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import ibis

from kamlib.engine import connect, open_tables
from kamlib.errors import DataError
from kamlib.load import Dataset
from kamlib.mapping import read_mapping
from kamlib.periods import Quarter
from kamlib.validate import validate_folder


def load_valid(data_dir: Path, mapping: Path | None = None) -> Dataset:
    """The validated data, or a DataError listing every problem (file, rows, column)."""
    report = validate_folder(Path(data_dir), read_mapping(Path(mapping)) if mapping else None)
    if not report.ok:
        raise DataError(report.problems)
    return report.data


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
