"""Results come back from DuckDB through a temporary Parquet file: the same frame as
fetched straight from the query, and the file removed whatever happens."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

import kamlib.data.engine
from kamlib.data.engine import connect, fetch_frame, read_by_column


@pytest.fixture
def temp(tmp_path: Path, monkeypatch) -> Path:
    """The system temp folder, for this test only (checked empty after each fetch)."""
    connect("duckdb")  # the spill folder is chosen once per process, not in tmp_path
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def straight(expr: ibis.Table) -> pd.DataFrame:
    """The result fetched straight from the query, as kamlib did before."""
    return expr.to_pyarrow().to_pandas(date_as_object=False)


def test_the_same_frame_as_fetched_straight_and_the_file_removed(temp):
    rows = 300_000  # several Parquet row groups, read back in order
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "account_id": [f"A{i:06d}" for i in range(rows)],
        "day": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), "D"),
        "amount": rng.normal(size=rows),
        "count": rng.integers(0, 10, rows),
        "note": pd.Series(["x", None, "z"] * (rows // 3), dtype="str"),
    })
    table = connect("duckdb").create_table("lines", frame)
    expr = table.select(table.account_id, day=table.day.cast("date"), amount=table.amount,
                        count=table["count"], note=table.note,
                        empty=ibis.null().cast("float64")).order_by(ibis.desc("account_id"))
    fetched = fetch_frame(expr)
    pd.testing.assert_frame_equal(fetched, straight(expr), check_exact=True)
    assert fetched["account_id"].iloc[0] == "A299999"
    dtypes = {"day": "datetime64[s]", "count": "float64"}
    pd.testing.assert_frame_equal(fetch_frame(expr, dtypes), straight(expr).astype(dtypes),
                                  check_exact=True)
    assert list(temp.iterdir()) == []


def test_an_empty_result_keeps_its_columns_and_types(temp):
    table = connect("duckdb").create_table("one", pd.DataFrame({
        "account_id": ["A"], "day": [date(2026, 1, 1)], "amount": [1.0]}))
    expr = table.select(table.account_id, day=table.day.cast("date"), amount=table.amount)
    fetched = fetch_frame(expr.filter(expr.amount > 2))
    assert fetched.empty
    pd.testing.assert_frame_equal(fetched, straight(expr).iloc[:0])
    assert list(temp.iterdir()) == []


def test_the_file_is_removed_when_the_query_fails(temp):
    table = connect("duckdb").create_table("bad", pd.DataFrame({"code": ["1", "x"]}))
    with pytest.raises(Exception, match="x"):
        fetch_frame(table.select(number=table.code.cast("int64")))
    assert list(temp.iterdir()) == []


def test_results_pass_beside_the_spill_files_when_their_folder_is_named(
        temp, tmp_path, monkeypatch):
    spill = tmp_path / "big-disk" / "spill"
    monkeypatch.setenv("KAM_DUCKDB_TEMP_DIRECTORY", str(spill))
    seen = []

    def read(path, dtypes=None):
        seen.append(path)
        return read_by_column(path, dtypes)

    monkeypatch.setattr(kamlib.data.engine, "read_by_column", read)
    table = connect("duckdb").create_table("few", pd.DataFrame({"a": [1, 2]}))
    assert fetch_frame(table)["a"].tolist() == [1, 2]
    assert seen[0].parent.parent == spill
    assert list(spill.iterdir()) == [] and list(temp.iterdir()) == []


def test_reading_by_column_is_reading_the_whole_table(tmp_path):
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"a": ["p", "q", None], "b": [1.5, np.nan, 3.0],
                          "c": pd.to_datetime(["2026-01-01", None, "2026-03-01"])})
    frame.to_parquet(path, row_group_size=2)
    pd.testing.assert_frame_equal(read_by_column(path), pd.read_parquet(path))
    pd.testing.assert_frame_equal(read_by_column(path, {"c": "datetime64[s]"}),
                                  pd.read_parquet(path).astype({"c": "datetime64[s]"}))
