"""The run's cache: validate a company's data once per ``kam run`` and
give every workbook of the run the same cache.

The cache and its guarantees are :mod:`kamlib.data.run_cache`; the runner makes it in a
private folder next to the reports, validates the data into it, passes its folder to each
notebook as the ``run_cache`` parameter, and removes it when the run ends.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kamlib.data.dataset import Dataset
from kamlib.data.run_cache import RunCache


@contextmanager
def run_cache(data_dir: Path, mapping: Path | None, *, beside: Path,
              prefix: str) -> Iterator[tuple[Dataset, RunCache]]:
    """The validated data (a DataError if it is not valid) and the run cache holding it,
    for the block. The cache lives in a folder of its own made in ``beside``, named with
    ``prefix`` (the runner's work-folder names, so that a later run clears it if this one
    is killed), and is removed when the block ends; nothing is written to ``beside``
    before the data is found valid."""
    cache = RunCache(beside / f"{prefix}{secrets.token_hex(6)}")
    try:
        yield cache.keep_validated(data_dir, mapping), cache
    finally:
        shutil.rmtree(cache.folder, ignore_errors=True)
