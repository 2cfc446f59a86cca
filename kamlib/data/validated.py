"""A data folder's data, validated now, and the files it is read from.

What the run cache (:mod:`kamlib.data.run_cache`) keeps and what it checks for changes,
and what :func:`kamlib.data.ready.load_valid` falls back on without a cache.
"""

from __future__ import annotations

from pathlib import Path

from kamlib.data.dataset import Dataset
from kamlib.data.mapping import read_mapping
from kamlib.data.table_files import input_files
from kamlib.errors import DataError


def validated(data_dir: Path, mapping: Path | None) -> Dataset:
    """The data validated now (never taken from a run cache), or a DataError."""
    # Imported here: pandera (which loads PySpark when installed) is a second per kernel.
    from kamlib.data.validate import validate_folder

    report = validate_folder(Path(data_dir), read_mapping(Path(mapping)) if mapping else None)
    if not report.ok:
        raise DataError(report.problems)
    return report.data


def run_inputs(data_dir: Path, mapping: Path | None = None) -> list[Path]:
    """Every file a run reads its data from: the mapping and the files the loader reads
    (:func:`~kamlib.data.table_files.input_files`), absolute. Reports written into the data folder
    are not among them."""
    root = Path(data_dir).resolve()
    rules = read_mapping(Path(mapping)) if mapping else None
    mapped = [Path(mapping).resolve()] if mapping else []
    return mapped + input_files(root, rules)
