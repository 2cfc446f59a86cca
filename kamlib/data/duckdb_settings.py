"""How much memory a DuckDB connection may use, and where it spills: one setting for every
connection kamlib opens (the engine's, the checks of large tables) and for the benchmarks'.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

DUCKDB_MEMORY_LIMIT = "1GB"
"""DuckDB's working memory by default (``KAM_DUCKDB_MEMORY_LIMIT`` overrides it, e.g.
``8GB``). Aggregations that need more spill to disk instead of failing, so 100 million
invoice lines fit in a process under 2 GB; DuckDB's own default (80% of RAM) would let a
workbook crowd out everything else on a shared machine."""


def duckdb_config() -> dict[str, str]:
    """Memory limit and spill folder for DuckDB connections (kamlib's and the benchmarks')."""
    spill = os.environ.get("KAM_DUCKDB_TEMP_DIRECTORY") or _spill_folder()
    return {"memory_limit": os.environ.get("KAM_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT),
            # Spill into the system's temp folder, never into the working directory (a
            # notebook runs in notebooks/, where DuckDB's default '.tmp' would land).
            "temp_directory": spill}


@functools.cache
def _spill_folder() -> str:
    """A spill folder for this process. DuckDB creates it only when it spills and removes
    it when the connection closes; creating it here leaked empty folders whenever a
    kernel was killed before its exit handlers ran."""
    folder = Path(tempfile.gettempdir()) / f"kam-duckdb-{os.getpid()}"
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # after a crash mid-spill
    return str(folder)
