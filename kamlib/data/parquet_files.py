"""What a Parquet file says about itself: its rows and its columns' types, read from the
metadata alone, and whether a column type holds a contract kind as it is.

Both the loader (is a table large? are its columns the contract's?) and the engine (can a
file be read in place?) ask these questions, without reading a row.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def parquet_rows(files: list[Path]) -> list[int] | None:
    """Rows per Parquet file from the metadata alone; None if one cannot be read."""
    try:
        return [pq.ParquetFile(f).metadata.num_rows for f in files]
    except Exception:  # a damaged file is reported by the ordinary loader
        return None


def columns_of(files: list[Path]) -> dict[str, pa.DataType]:
    """Column names and types, from the first part's schema (parts share one schema)."""
    schema = pq.read_schema(files[0])
    return {name: schema.field(name).type for name in schema.names}


def type_fits(kind: str, dtype: pa.DataType) -> bool:
    """Whether a Parquet column type holds a contract kind without conversion."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if kind == "text":
        return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)
    if kind == "number":
        return pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(
            dtype)
    if kind == "integer":
        return pa.types.is_integer(dtype)
    if kind == "date":
        return pa.types.is_date(dtype) or pa.types.is_timestamp(dtype)
    return pa.types.is_boolean(dtype)
