"""Large Parquet tables are checked in DuckDB with the same findings and words as loaded ones.

Each case validates the same Parquet files twice: once loaded into pandas (the path of
small tables) and once checked in place by SQL (the path of tables above
``kamlib.data.large.LARGE_ROWS`` rows, forced here by lowering the threshold), and requires
identical problems, summaries and figures.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support import write_company
from kamlib.data import large
from kamlib.data.describe import missing_tables, summarize
from kamlib.data.engine import connect
from kamlib.data.ready import on_engine, reporting_quarter
from kamlib.data.validate import validate_folder
from kamlib.economics.net_revenue import account_value

TODAY = date(2026, 9, 30)


def lines_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "invoice_id": ["INV-1", "INV-1", "INV-2", "CN-1", "INV-3", "INV-4"],
        "account_id": ["00101", "00101", "00200", "00200", "00300", "00300"],
        "invoice_date": pd.to_datetime(["2026-01-15", "2026-01-15", "2026-02-03",
                                        "2026-02-20", "2026-03-10", "2026-04-02"]).date,
        "product_line": ["Hydraulics", "Bearings", "Hydraulics", "Hydraulics", "Seals", "Seals"],
        "quantity": [10.0, 5, 20, -2, 100, 3],
        "gross_amount": [1000.0, 250.5, 2000, -200, 500, 90],
        "discount_amount": [100.0, 0, 300, -30, 25, 9],
        "rebate_amount": [10.0, None, 20, None, 5, 0],
        "cost_of_goods": [600.0, 150.25, 1300, -130, 310, 50],
    })


def activities_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["00101", "00200", "00300"],
        "activity_date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]).date,
        "activity": ["order", "rush_delivery", "order"],
        "count": [1.0, 2, 4],
    })


def write_parquet(folder, lines: pd.DataFrame, activities: pd.DataFrame):
    """The tiny company with invoice lines (in two parts) and activities as Parquet."""
    write_company(folder, drop=("invoice_lines.csv", "activities.csv"))
    (folder / "invoice_lines").mkdir()
    lines.iloc[:4].to_parquet(folder / "invoice_lines" / "part-0.parquet", index=False)
    lines.iloc[4:].to_parquet(folder / "invoice_lines" / "part-1.parquet", index=False)
    activities.to_parquet(folder / "activities.parquet", index=False)
    return folder


def both_ways(folder, monkeypatch):
    """(loaded into pandas, checked in place) validation reports of the same folder."""
    monkeypatch.setattr(large, "LARGE_ROWS", 10**12)
    loaded = validate_folder(folder, today=TODAY)
    monkeypatch.setattr(large, "LARGE_ROWS", 0)
    in_place = validate_folder(folder, today=TODAY)
    assert sorted(loaded.data.tables) == sorted([*in_place.data.tables, *in_place.data.large])
    assert set(in_place.data.large) == {"invoice_lines", "activities"}
    return loaded, in_place


def rendered(report) -> list[str]:
    return sorted(p.render() for p in report.problems)


def test_valid_company_reads_the_same_both_ways(tmp_path, monkeypatch):
    folder = write_parquet(tmp_path, lines_frame(), activities_frame())
    loaded, in_place = both_ways(folder, monkeypatch)
    assert loaded.ok and in_place.ok
    assert rendered(loaded) == rendered(in_place)
    assert summarize(loaded.data) == summarize(in_place.data)
    assert missing_tables(loaded.data) == missing_tables(in_place.data)
    assert reporting_quarter(loaded.data) == reporting_quarter(in_place.data)
    figures = [account_value(on_engine(r.data)).frame for r in (loaded, in_place)]
    pd.testing.assert_frame_equal(*figures)


def test_every_rule_gives_the_same_problem_both_ways(tmp_path, monkeypatch):
    lines = lines_frame()
    lines.loc[1, "invoice_id"] = "  "                      # blank text: an empty cell
    lines.loc[2, "account_id"] = "99999"                   # unknown account
    lines.loc[3, "gross_amount"] = np.nan                  # NaN: an empty cell
    lines.loc[4, "invoice_date"] = date(2027, 1, 5)        # in the future
    lines.loc[5, "gross_amount"] = 0.0                     # warning: zero amount
    lines.loc[0, "discount_amount"] = 5000.0               # warning: discount above gross
    acts = activities_frame()
    acts.loc[0, "count"] = -1.0                            # below the minimum
    acts.loc[1, "activity"] = "teleportation"              # no unit cost
    acts.loc[2, "account_id"] = None                       # empty cell
    folder = write_parquet(tmp_path, lines, acts)
    loaded, in_place = both_ways(folder, monkeypatch)
    assert rendered(loaded) == rendered(in_place)
    problems = {(p.table, p.column, p.what) for p in in_place.problems}
    assert problems >= {
        ("invoice_lines", "invoice_id", "empty cells"),
        ("invoice_lines", "gross_amount", "empty cells"),
        ("invoice_lines", "account_id", "references to unknown accounts"),
        ("invoice_lines", "invoice_date", "dates in the future"),
        ("invoice_lines", "gross_amount", "lines with a zero gross amount"),
        ("invoice_lines", "discount_amount", "discounts larger than the gross amount"),
        ("activities", "count", "negative values"),
        ("activities", "activity", "activities without a unit cost"),
        ("activities", "account_id", "empty cells"),
    }
    future = next(p for p in in_place.problems if p.what == "dates in the future")
    assert (future.file, future.rows, future.found) == ("invoice_lines/part-1.parquet",
                                                         ("row 1",), "2027-01-05")


def test_non_finite_numbers_old_dates_and_repeated_rows_give_the_same_problems_both_ways(
        tmp_path, monkeypatch):
    lines = lines_frame()
    lines.loc[1, "gross_amount"] = np.inf                  # not finite
    lines.loc[2, "cost_of_goods"] = -np.inf                # not finite
    lines.loc[4, "quantity"] = 1e308                       # absurd
    lines.loc[3, "invoice_date"] = date(1901, 2, 20)       # before the earliest date
    lines = pd.concat([lines, lines.iloc[[0, 5, 0]]], ignore_index=True)  # 3 repeats
    acts = activities_frame()
    acts.loc[0, "count"] = np.inf
    acts.loc[1, "activity_date"] = date(2999, 2, 1)        # a year no timestamp holds
    acts = pd.concat([acts, acts.iloc[[2]]], ignore_index=True)
    folder = write_parquet(tmp_path, lines, acts)
    loaded, in_place = both_ways(folder, monkeypatch)
    assert rendered(loaded) == rendered(in_place)
    problems = {(p.table, p.column, p.what, p.count) for p in in_place.problems}
    assert problems >= {
        ("invoice_lines", "gross_amount", "numbers that are not finite", 1),
        ("invoice_lines", "cost_of_goods", "numbers that are not finite", 1),
        ("invoice_lines", "quantity", "values out of range", 1),
        ("invoice_lines", "invoice_date", "dates before 1980-01-01", 1),
        ("invoice_lines", "all columns", "rows repeated whole", 3),
        ("activities", "count", "numbers that are not finite", 1),
        ("activities", "activity_date", "dates outside the plausible range", 1),
        ("activities", "all columns", "rows repeated whole", 1),
    }
    repeats = next(p for p in in_place.problems if p.what == "rows repeated whole"
                   and p.table == "invoice_lines")
    assert (repeats.file, repeats.rows) == ("invoice_lines/part-1.parquet", ("rows 3, 4, 5",))
    assert "adding 2,090.00 to gross_amount" in repeats.found


def test_formula_ids_nan_and_list_columns_give_the_same_problems_both_ways(tmp_path,
                                                                            monkeypatch):
    lines = lines_frame()
    lines.loc[0, "invoice_id"] = "=1+1"                    # an id that is a formula
    lines.loc[2, "account_id"] = "-00200"                  # a sign typed into the id
    lines = pd.concat([lines, lines.iloc[[4]]], ignore_index=True)  # a repeat
    lines["tags"] = [[1], [2], [3], [4], [5, 6], [7], [5, 6]]  # a list column
    acts = activities_frame()
    acts.loc[1, "activity"] = "@order"
    folder = write_parquet(tmp_path, lines, acts)
    part = pq.read_table(folder / "invoice_lines" / "part-0.parquet")
    rebates = pa.array([1.0, float("nan"), None, 0.0], pa.float64(), from_pandas=False)
    pq.write_table(part.set_column(part.schema.get_field_index("rebate_amount"),
                                   "rebate_amount", rebates),
                   folder / "invoice_lines" / "part-0.parquet")
    loaded, in_place = both_ways(folder, monkeypatch)
    assert rendered(loaded) == rendered(in_place)
    problems = {(p.table, p.column, p.what, p.rows) for p in in_place.problems}
    formula = "identifiers that start like a spreadsheet formula"
    assert problems >= {
        ("invoice_lines", "invoice_id", formula, ("row 1",)),
        ("invoice_lines", "account_id", formula, ("row 3",)),
        ("invoice_lines", "rebate_amount", "values that are not numbers", ("row 2",)),
        ("invoice_lines", "all columns", "rows repeated whole", ("row 3",)),
        ("activities", "activity", formula, ("row 2",)),
    }


def test_an_id_starting_with_a_tab_is_refused_in_place(tmp_path, monkeypatch):
    """The loader trims an id (a loaded id never starts with a tab); in place it is read
    as written, so the engines would carry the tab into the roster: it is refused."""
    lines = lines_frame()
    lines.loc[5, "invoice_id"] = "\tINV-4"
    folder = write_parquet(tmp_path, lines, activities_frame())
    monkeypatch.setattr(large, "LARGE_ROWS", 0)
    report = validate_folder(folder, today=TODAY)
    assert [(p.column, p.rows, p.found) for p in report.errors] == [
        ("invoice_id", ("row 2",), repr("\tINV-4"))]


def test_activities_without_unit_costs_and_accounts_without_lines(tmp_path, monkeypatch):
    lines = lines_frame()
    lines = lines[lines["account_id"] != "00300"]
    folder = write_parquet(tmp_path, lines, activities_frame())
    (folder / "activity_costs.csv").unlink()
    loaded, in_place = both_ways(folder, monkeypatch)
    assert rendered(loaded) == rendered(in_place)
    assert {p.what for p in in_place.problems} >= {"activities without a unit cost",
                                                   "accounts without any invoice line"}


def test_a_column_of_the_wrong_type_is_refused_with_its_fix(tmp_path, monkeypatch):
    lines = lines_frame().assign(gross_amount=lambda f: f["gross_amount"].astype(str))
    folder = write_parquet(tmp_path, lines, activities_frame())
    monkeypatch.setattr(large, "LARGE_ROWS", 0)
    report = validate_folder(folder, today=TODAY)
    problem = next(p for p in report.errors if p.column == "gross_amount")
    assert problem.file == "invoice_lines/part-0.parquet, invoice_lines/part-1.parquet"
    assert problem.found.startswith("a Parquet column of type") and "string" in problem.found
    assert "write 'gross_amount' with its contract type" in problem.fix


def test_small_parquet_tables_are_still_loaded(tmp_path):
    folder = write_parquet(tmp_path, lines_frame(), activities_frame())
    report = validate_folder(folder, today=TODAY)
    assert report.data.large == {} and "invoice_lines" in report.data.tables


@pytest.mark.parametrize("count", [0, 1, 3])
def test_counts_and_first_rows_span_part_files(tmp_path, monkeypatch, count):
    lines = lines_frame()
    bad = lines.index[-count:] if count else []
    lines.loc[bad, "product_line"] = None
    folder = write_parquet(tmp_path, lines, activities_frame())
    loaded, in_place = both_ways(folder, monkeypatch)
    assert rendered(loaded) == rendered(in_place)
    assert len(in_place.errors) == (1 if count else 0)
    if count:
        assert in_place.errors[0].count == count


def test_duckdb_works_within_its_memory_limit_and_spills_to_a_temp_folder(monkeypatch):
    monkeypatch.setenv("KAM_DUCKDB_MEMORY_LIMIT", "300MB")
    con = connect("duckdb")
    limit, spill = con.raw_sql("SELECT current_setting('memory_limit'), "
                               "current_setting('temp_directory')").fetchone()
    plain = duckdb.connect(config={"memory_limit": "300MB"})
    assert limit == plain.sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit != duckdb.connect().sql("SELECT current_setting('memory_limit')").fetchone()[0]
    # Never DuckDB's default '.tmp' in the working directory (notebooks/ for a workbook).
    assert Path(spill).parent == Path(tempfile.gettempdir())
    assert not Path(spill).exists()  # DuckDB makes it only when it spills
