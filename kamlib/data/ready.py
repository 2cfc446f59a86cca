"""A company's data, ready for a workbook: validated, its reporting quarter, on an engine.

The one path every workbook and the runner take from a data folder to figures, so
they validate, choose the quarter and stage tables the same way.

Each function takes an optional run cache (:class:`kamlib.data.run_cache.RunCache`): given
one, the data validated into it and the tables it staged are reused while the data's
files are unchanged; without one, everything is done here, as a notebook run by hand does.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from kamlib.data.dataset import Dataset
from kamlib.data.periods import Quarter
from kamlib.data.validated import validated

if TYPE_CHECKING:
    import ibis

    from kamlib.data.run_cache import RunCache


def load_valid(data_dir: Path, mapping: Path | None = None, *,
               run_cache: RunCache | None = None) -> Dataset:
    """The validated data, or a DataError listing every problem (file, rows, column):
    the run cache's if it holds the data of these very files, else validated now."""
    cached = run_cache.data_for(Path(data_dir), mapping) if run_cache else None
    return cached if cached is not None else validated(data_dir, mapping)


def reporting_quarter(data: Dataset, period: str | None = None) -> Quarter:
    """The quarter asked for, or the latest complete quarter in the invoice lines."""
    if period:
        return Quarter.parse(period)
    return Quarter.latest_complete(data.column_max("invoice_lines", "invoice_date").date())


def on_engine(data: Dataset, engine: str = "duckdb", *,
              run_cache: RunCache | None = None) -> dict[str, ibis.Table]:
    """The tables on the engine. Tables not read from Parquet are staged as Parquet: once
    for everyone sharing the run cache, in its folder; without one, in a folder removed
    when the process ends."""
    # Imported here: ibis is a second a run would spend before validating.
    from kamlib.data.engine import connect, open_tables

    con = connect(engine)
    if run_cache is not None:
        with run_cache.staging() as shared:  # the first stages, the others wait
            if shared is not None:
                return open_tables(data, con, shared)
    staging = Path(tempfile.mkdtemp(prefix="kam-staging-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    return open_tables(data, con, staging)
