"""Generated columns to contract tables, written as CSV or Parquet.

The column names, their order and their types come from `kamlib.data.contract`
only: `conform` walks the contract's columns and fails loudly when the
generator does not produce a required column (after a contract change) or
produces one the contract does not know. Tables are Arrow tables, so Parquet
is written without a detour through pandas; CSV goes through pandas for its
number formatting (money with two decimals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kamlib.data import contract

FileFormat = Literal["csv", "parquet"]

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}


class SampleContractError(RuntimeError):
    """The generator and the data contract disagree; update kamlib/sample."""


def conform(table: str, columns: Mapping[str, Any]) -> pa.Table:
    """An Arrow table with exactly the contract's columns of `table`, in contract order.

    Number columns given as integers stay int64 here so CSV shows them without
    decimals; `arrow_schema` casts them to float64 for Parquet.
    """
    spec = contract.TABLES[table]
    unknown = sorted(set(columns) - set(spec.column_names))
    if unknown:
        raise SampleContractError(
            f"The sample generator writes columns {unknown} that table '{table}' of the "
            "data contract does not define. Remove them from kamlib/sample.")
    n = len(next(iter(columns.values()))) if columns else 0
    arrays: dict[str, pa.Array] = {}
    for col in spec.columns:
        if col.name in columns:
            arrays[col.name] = _arrow(columns[col.name], col.kind)
        elif col.nullable:
            arrays[col.name] = pa.nulls(n, _ARROW_TYPES[col.kind])
        else:
            raise SampleContractError(
                f"The data contract requires column '{col.name}' in table '{table}', but the "
                "sample generator does not produce it. Add it to kamlib/sample.")
    return pa.table(arrays)


def _arrow(values: Any, kind: str) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if kind == "date":
        values = np.asarray(values, dtype="datetime64[D]")
    elif kind == "number" and isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return pa.array(values, pa.int64())  # whole numbers: quantities, counts
    return pa.array(values, _ARROW_TYPES[kind], from_pandas=True)  # NaN, NaT, None -> null


def whole(values: np.ndarray) -> pa.Array:
    """Scores, whole euros and days: whole numbers with gaps, written without decimals."""
    return pa.array(np.rint(values), pa.int64(), from_pandas=True)


def fixed_width_text(parts: Sequence[bytes | tuple]) -> pa.Array:
    """ASCII strings of one width built from digits, fast: parts are literal bytes,
    (numbers, width) zero-padded, or (codes, options) choosing among equal-length bytes."""
    n = next(len(p[0]) for p in parts if isinstance(p, tuple))
    width = sum(len(p) if isinstance(p, bytes) else
                (p[1] if isinstance(p[1], int) else len(p[1][0])) for p in parts)
    buf = np.empty((n, width), np.uint8)
    col = 0
    for part in parts:
        if isinstance(part, bytes):
            buf[:, col:col + len(part)] = np.frombuffer(part, np.uint8)
            col += len(part)
        elif isinstance(part[1], int):
            values, digits = np.asarray(part[0], np.int64), part[1]
            for i in range(digits - 1, -1, -1):  # one pass per digit, not per string
                buf[:, col + i] = 48 + values % 10
                values = values // 10
            col += digits
        else:
            options = np.frombuffer(b"".join(part[1]), np.uint8).reshape(len(part[1]), -1)
            buf[:, col:col + options.shape[1]] = options[np.asarray(part[0], np.int64)]
            col += options.shape[1]
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets),
                                                        pa.py_buffer(buf)]).cast(pa.string())


def arrow_schema(table: str) -> pa.Schema:
    """Arrow types derived from the contract's column kinds."""
    return pa.schema([
        pa.field(col.name, _ARROW_TYPES[col.kind], nullable=col.nullable,
                 metadata={"description": col.description})
        for col in contract.TABLES[table].columns
    ])


def _csv_frame(table: pa.Table) -> pd.DataFrame:
    """Dates as ISO text, booleans as true/false, integers without decimals."""
    for i, field in enumerate(table.schema):
        if pa.types.is_date(field.type) or pa.types.is_boolean(field.type):
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.string()))
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


class TableWriter:
    """Writes one contract table: a CSV file, a Parquet file, or Parquet part files.

    Part files (`out/<table>/part-00000.parquet`, ...) let a table grow beyond memory;
    CSV chunks are appended to one file.
    """

    def __init__(self, out: Path, table: str, file_format: FileFormat, parts: bool = False):
        self.table = table
        self.file_format = file_format
        self.parts = parts and file_format == "parquet"
        self.rows = 0
        self.files: list[Path] = []
        self._schema = arrow_schema(table)
        self._folder = out / table
        self._file = out / f"{table}.{file_format}"
        remove_table(out, table)
        if self.parts:
            self._folder.mkdir(parents=True)

    def write(self, data: pa.Table) -> None:
        if self.parts:
            path = self._folder / f"part-{len(self.files):05d}.parquet"
            _write_parquet(data.cast(self._schema), path)
            self.files.append(path)
        elif self.file_format == "parquet":
            if self.files:
                raise RuntimeError(f"{self.table} is written as one Parquet file; use parts.")
            _write_parquet(data.cast(self._schema), self._file)
            self.files.append(self._file)
        else:
            _csv_frame(data).to_csv(
                self._file, mode="a" if self.files else "w", header=not self.files,
                index=False, float_format="%.2f", na_rep="", lineterminator="\n",
                encoding="utf-8")
            self.files[:] = [self._file]
        self.rows += data.num_rows

    def close(self) -> list[Path]:
        if not self.files:  # an empty table still gets a file with its header or schema
            self.write(self._schema.empty_table())
        return list(self.files)


def _write_parquet(data: pa.Table, path: Path) -> None:
    """Dictionary-encode only repetitive text (account ids, product lines): encoding
    unique ids and numbers costs time and saves nothing."""
    repetitive = [f.name for f in data.schema if pa.types.is_string(f.type)
                  and pc.count_distinct(data.column(f.name)).as_py() < 0.5 * data.num_rows]
    pq.write_table(data, path, compression="zstd", use_dictionary=repetitive)


def write_table(out: Path, table: str, columns: Mapping[str, Any],
                file_format: FileFormat) -> tuple[int, list[Path]]:
    writer = TableWriter(out, table, file_format)
    writer.write(conform(table, columns))
    return writer.rows, writer.close()


def remove_table(out: Path, table: str) -> None:
    """Remove an earlier sample's files of this table, in either format, so a folder
    never holds two versions of one table."""
    for suffix in ("csv", "parquet"):
        (out / f"{table}.{suffix}").unlink(missing_ok=True)
    folder = out / table
    if folder.is_dir():
        for part in folder.glob("part-*.parquet"):
            part.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()
