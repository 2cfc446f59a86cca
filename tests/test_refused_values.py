"""Values that used to pass validation and change figures, or fail later without naming
a file, are refused with file, row and column (issue 16, items 2, 4, 5 and 6): non-finite
and absurd numbers, rows repeated whole, implausible dates, goals due before they start,
criteria that all weigh zero, and Parquet columns of a type the engines cannot use."""

from __future__ import annotations

import shutil
from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support import ONLINE_RETAIL, REPO, SAMPLE, TINY, kam, needs_shared, write_company
from kamlib.data.large import LARGE_ROWS
from kamlib.data.criteria import read_criteria
from kamlib.data.load import load_data
from kamlib.data.mapping import read_mapping
from kamlib.data.ready import on_engine
from kamlib.data.validate import validate_folder
from kamlib.economics.net_revenue import account_value

TODAY = date(2026, 9, 30)
LINES = TINY["invoice_lines.csv"]
SECOND_LINE = LINES.splitlines()[2]  # INV-1 Bearings, gross 250.50

PLANS = """plan_id,account_id,year,customer_goals,signed_by,signed_on,last_updated_on
P-1,00100,2026,Grow together,Marco Conti,2026-01-20,2026-06-30
"""
GOALS = """goal_id,plan_id,goal_type,description,start_date,due_date,baseline_value,target_value
G-1,P-1,stage_goal,Framework agreement,2026-01-01,2026-04-30,0,1
G-2,P-1,90_day_target,Second source,2026-07-01,2026-03-29,0,100
G-3,P-1,90_day_target,Pilot line,2026-04-01,2026-06-29,0,4
"""
CRITERIA = """agreed_by: Executive board
agreed_on: 2026-01-15
criteria:
  - {feature: net_revenue, threshold: 1000, weight: 0}
  - {feature: net_margin, threshold: 0.1, weight: 0}
"""


def report_for(tmp_path, files=None, drop=(), mapping=None):
    folder = write_company(tmp_path / "data", files, drop)
    return validate_folder(folder, read_mapping(mapping) if mapping else None, today=TODAY)


def only_error(report):
    assert len(report.errors) == 1, [p.render() for p in report.errors]
    return report.errors[0]


def replaced(old: str, new: str, name: str = "invoice_lines.csv") -> dict[str, str]:
    assert old in TINY[name]
    return {name: TINY[name].replace(old, new)}


def refused_by_cli(folder, *where: str) -> str:
    """`kam validate` exits 1 naming each of ``where``, with no traceback."""
    result = kam("validate", "--data", str(folder), "--today", TODAY.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    for part in where:
        assert part in message, message
    return message


# --- Item 2: non-finite and absurd numbers ---------------------------------------------


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "-Infinity"])
def test_non_finite_amounts_in_csv_are_refused_with_their_row(tmp_path, text):
    problem = only_error(report_for(tmp_path, replaced("1000.00,100.00", f"{text},100.00")))
    assert (problem.file, problem.column, problem.rows) == ("invoice_lines.csv", "gross_amount",
                                                            ("row 2",))
    assert problem.what == "numbers that are not finite" and "inf" in problem.found
    assert "finite numbers between -1e+12 and 1e+12" in problem.expected


def test_an_absurd_amount_is_refused_as_out_of_range(tmp_path):
    problem = only_error(report_for(tmp_path, replaced("600.00", "1e308")))
    assert (problem.column, problem.rows, problem.what) == ("cost_of_goods", ("row 2",),
                                                            "values out of range")
    assert "1e+308" in problem.found


def test_every_number_column_of_every_table_is_checked(tmp_path):
    files = {**replaced("order,1", "order,inf", "activities.csv"),
             **replaced("order handling,35", "order handling,-Infinity", "activity_costs.csv"),
             **replaced("INV-3,00300,2026-03-10,Seals,100", "INV-3,00300,2026-03-10,Seals,1e13")}
    report = report_for(tmp_path, files)
    found = {(p.file, p.column, p.rows) for p in report.errors}
    assert found == {("activities.csv", "count", ("row 2",)),
                     ("activity_costs.csv", "unit_cost", ("row 2",)),
                     ("invoice_lines.csv", "quantity", ("row 6",))}


def test_non_finite_floats_in_parquet_and_absurd_ones_in_excel_are_refused(tmp_path):
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    lines = pd.read_csv(pd.io.common.StringIO(LINES), dtype={"account_id": str})
    lines["quantity"] = lines["quantity"].astype(float)
    lines.loc[1, "quantity"] = np.inf
    lines.loc[3, "cost_of_goods"] = -np.inf
    lines.to_parquet(folder / "invoice_lines.parquet", index=False)
    report = validate_folder(folder, today=TODAY)
    assert {(p.file, p.column, p.rows, p.what) for p in report.errors} == {
        ("invoice_lines.parquet", "quantity", ("row 2",), "numbers that are not finite"),
        ("invoice_lines.parquet", "cost_of_goods", ("row 4",), "numbers that are not finite")}

    (folder / "invoice_lines.parquet").unlink()
    lines.loc[[1, 3], ["quantity", "cost_of_goods"]] = [[10, 1e300], [-2, -130]]
    lines.to_excel(folder / "invoice_lines.xlsx", sheet_name="2026", index=False)
    problem = only_error(validate_folder(folder, today=TODAY))
    assert (problem.file, problem.column) == ("invoice_lines.xlsx", "cost_of_goods")
    assert problem.rows == ("sheet '2026' row 3",)


def test_cli_refuses_an_infinite_amount_naming_file_column_and_row(tmp_path):
    folder = write_company(tmp_path / "data", replaced("1000.00,100.00", "inf,100.00"))
    refused_by_cli(folder, "invoice_lines.csv, column 'gross_amount', row 2",
                   "numbers that are not finite")


# --- Item 4: rows repeated whole --------------------------------------------------------


def test_lines_repeated_whole_are_an_error_with_rows_and_the_amount_they_add(tmp_path):
    repeated = LINES + SECOND_LINE + "\n" + SECOND_LINE + "\n"
    problem = only_error(report_for(tmp_path, {"invoice_lines.csv": repeated}))
    assert (problem.file, problem.rows, problem.count) == ("invoice_lines.csv",
                                                           ("rows 7, 8",), 2)
    assert problem.what == "rows repeated whole"
    assert "adding 501.00 to gross_amount" in problem.found
    assert "remove the repeated export" in problem.fix and "duplicate_lines" in problem.fix


def test_lines_alike_in_some_columns_only_are_not_repeats(tmp_path):
    almost = LINES + SECOND_LINE.replace("INV-1", "INV-9") + "\n"
    assert report_for(tmp_path, {"invoice_lines.csv": almost}).ok


def test_activities_repeated_whole_are_an_error(tmp_path):
    files = {"activities.csv": TINY["activities.csv"] + "00200,2026-02-01,rush_delivery,2\n"}
    problem = only_error(report_for(tmp_path, files))
    assert (problem.file, problem.table, problem.rows) == ("activities.csv", "activities",
                                                           ("row 4",))
    assert "adding 2.00 to count" in problem.found


MAPPING = """tables:
  invoice_lines:
    columns: {{invoice_id: invoice_id, account_id: account_id, invoice_date: invoice_date,
               product_line: product_line, quantity: quantity, gross_amount: gross_amount,
               discount_amount: discount_amount, cost_of_goods: cost_of_goods}}
    duplicate_lines: {{action: {action}, reason: "{reason}"}}
"""


@pytest.mark.parametrize("action, lines", [("keep", 6), ("drop", 5)])
def test_a_mapping_declares_repeats_genuine_or_drops_them_and_the_notes_say_so(
        tmp_path, action, lines):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(MAPPING.format(action=action, reason="one order entered twice"))
    report = report_for(tmp_path, {"invoice_lines.csv": LINES + SECOND_LINE + "\n"},
                        mapping=mapping)
    assert report.ok, [p.render() for p in report.errors]
    assert len(report.data.tables["invoice_lines"]) == lines
    note = next(n for n in report.data.notes if "repeating an earlier row" in n)
    assert "one order entered twice" in note and "250.50 to gross_amount" in note


def test_a_table_entry_with_only_the_declaration_keeps_the_exports_headers(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("tables:\n  activities:\n    duplicate_lines: {action: drop, reason: "
                       "\"activities exported twice by the CRM\"}\n")
    files = {"activities.csv": TINY["activities.csv"] + "00200,2026-02-01,rush_delivery,2\n"}
    report = report_for(tmp_path, files, mapping=mapping)
    assert report.ok, [p.render() for p in report.errors]
    assert len(report.data.tables["activities"]) == 2
    assert any("activities exported twice by the CRM" in n for n in report.data.notes)


def test_a_declaration_on_a_table_without_the_rule_is_refused(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("tables:\n  accounts:\n    duplicate_lines: {action: keep, reason: x}\n")
    with pytest.raises(Exception, match="accounts.duplicate_lines applies only to "
                       "invoice_lines, activities"):
        read_mapping(mapping)


def test_a_declaration_without_its_reason_is_refused(tmp_path):
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(MAPPING.format(action="keep", reason="").replace(', reason: ""', ""))
    with pytest.raises(Exception, match="duplicate_lines.reason"):
        read_mapping(mapping)


def test_cli_refuses_a_double_export(tmp_path):
    folder = write_company(tmp_path / "data", {"invoice_lines.csv": LINES + SECOND_LINE + "\n"})
    refused_by_cli(folder, "invoice_lines.csv, column 'all columns', row 7",
                   "rows repeated whole", "adding 250.50 to gross_amount")


@needs_shared(ONLINE_RETAIL)
def test_the_real_export_drops_the_lines_its_overlapping_sheets_repeat():
    mapping = read_mapping(REPO / "data/examples/online_retail_II.yml")
    report = validate_folder(ONLINE_RETAIL.parent, mapping)
    assert report.ok, [p.render() for p in report.errors]
    assert any(n.startswith("invoice_lines: 504 row(s) repeating an earlier row whole dropped")
               and "would have added 10,329.77 to gross_amount" in n for n in report.data.notes)
    lines = report.data.tables["invoice_lines"]
    assert len(lines) == 34_165 - 504
    assert lines["gross_amount"].sum() == pytest.approx(1_226_324.08 - 10_329.77, abs=0.01)


# --- Item 5: dates out of range, goals due before they start, criteria of no weight --------


@pytest.mark.parametrize("day, what", [("1901-01-15", "dates before 1980-01-01"),
                                       ("1970-01-01", "dates before 1980-01-01"),
                                       ("2999-01-15", "dates outside the plausible range"),
                                       ("15/01/2999", "dates outside the plausible range")])
def test_implausible_dates_in_csv_are_refused_with_their_row(tmp_path, day, what):
    problem = only_error(report_for(tmp_path, replaced("2026-01-15,Hydraulics",
                                                       f"{day},Hydraulics")))
    assert (problem.file, problem.column, problem.rows) == ("invoice_lines.csv",
                                                            "invoice_date", ("row 2",))
    assert problem.what == what and "1980-01-01" in problem.expected


def test_year_2999_in_excel_and_parquet_date_cells_is_refused(tmp_path):
    folder = write_company(tmp_path / "data", drop=("activities.csv", "invoice_lines.csv"))
    activities = pd.read_csv(pd.io.common.StringIO(TINY["activities.csv"]), dtype=str)
    activities["activity_date"] = [date(2026, 1, 1), date(2999, 2, 1)]
    activities["count"] = activities["count"].astype(float)
    activities.to_parquet(folder / "activities.parquet", index=False)
    lines = pd.read_csv(pd.io.common.StringIO(LINES), dtype=str)
    lines["invoice_date"] = [datetime(2026, 1, 15)] * 4 + [datetime(2999, 3, 10)]
    lines.to_excel(folder / "invoice_lines.xlsx", index=False)
    report = validate_folder(folder, today=TODAY)
    assert {(p.file, p.column, p.rows, p.found) for p in report.errors} == {
        ("activities.parquet", "activity_date", ("row 2",), "'2999-02-01'"),
        ("invoice_lines.xlsx", "invoice_date", ("sheet 'Sheet1' row 6",), "'2999-03-10'")}


def test_a_goal_due_before_it_starts_is_refused_and_far_future_dates_too(tmp_path):
    goals = GOALS.replace("2026-04-01,2026-06-29", "2026-04-01,2046-06-29")
    report = report_for(tmp_path, {"plans.csv": PLANS, "stage_goals.csv": goals})
    by_what = {p.what: p for p in report.errors}
    assert set(by_what) == {"due_date before start_date", "dates more than 5 years ahead"}
    early = by_what["due_date before start_date"]
    assert (early.file, early.column, early.rows) == ("stage_goals.csv",
                                                      "start_date, due_date", ("row 3",))
    assert early.found == "2026-07-01 to 2026-03-29"
    late = by_what["dates more than 5 years ahead"]
    assert (late.column, late.rows, late.expected) == ("due_date", ("row 4",),
                                                       "dates from 1980-01-01 to 2031-09-30")


def test_criteria_that_all_weigh_zero_are_invalid(tmp_path):
    path = tmp_path / "selection_criteria.yml"
    path.write_text(CRITERIA)
    with pytest.raises(Exception, match="at least one criterion must have a weight above 0"):
        read_criteria(path)
    path.write_text(CRITERIA.replace("weight: 0}", "weight: 1}", 1))
    assert read_criteria(path).criteria[0].weight == 1


def test_cli_refuses_year_2999_and_criteria_of_no_weight(tmp_path):
    folder = write_company(tmp_path / "data", {
        **replaced("2026-02-03,Hydraulics", "2999-02-03,Hydraulics"),
        "selection_criteria.yml": CRITERIA})
    refused_by_cli(folder, "invoice_lines.csv, column 'invoice_date', row 4",
                   "dates outside the plausible range", "selection_criteria.yml",
                   "weight above 0")


# --- Item 6: Parquet columns the engines cannot use ---------------------------------------


def parquet_with_text_types(folder):
    """The tiny company with invoice lines and activities as Parquet whose dates (and the
    activity counts) are stored as text, as some exporters write them."""
    folder = write_company(folder, drop=("invoice_lines.csv", "activities.csv"))
    lines = pd.read_csv(pd.io.common.StringIO(LINES), dtype=str)  # dates stay text
    amounts = ["quantity", "gross_amount", "discount_amount", "cost_of_goods"]
    lines[amounts] = lines[amounts].astype(float)
    lines.to_parquet(folder / "invoice_lines.parquet", index=False)
    activities = pd.read_csv(pd.io.common.StringIO(TINY["activities.csv"]), dtype=str)
    activities.to_parquet(folder / "activities.parquet", index=False)
    return folder


def test_parquet_with_dates_as_text_reaches_the_engine_typed(tmp_path):
    report = validate_folder(parquet_with_text_types(tmp_path / "data"), today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    figures = account_value(on_engine(report.data)).frame
    csv = validate_folder(write_company(tmp_path / "csv"), today=TODAY)
    pd.testing.assert_frame_equal(figures, account_value(on_engine(csv.data)).frame)


def test_cli_runs_a_workbook_on_parquet_with_dates_as_text(tmp_path):
    """The sample company with its invoice lines as Parquet whose dates are text: the
    workbook runs (it failed with IbisTypeError when the engine read the file in place)."""
    folder = tmp_path / "data"
    folder.mkdir()
    for path in SAMPLE.iterdir():
        if path.name != "invoice_lines.csv":
            shutil.copy(path, folder / path.name)
    lines = pd.read_csv(SAMPLE / "invoice_lines.csv", dtype=str)
    amounts = ["quantity", "gross_amount", "discount_amount", "rebate_amount", "cost_of_goods"]
    lines[amounts] = lines[amounts].astype(float)
    lines.to_parquet(folder / "invoice_lines.parquet", index=False)
    result = kam("run", "value", "--data", str(folder), "--out", str(tmp_path / "out"),
                 "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert list((tmp_path / "out").glob("*/value/report.html"))


def test_cli_refuses_a_large_parquet_table_whose_dates_are_text(tmp_path):
    """A table too large to load is read in place, so its types must be the contract's:
    dates stored as text are refused with the file, column, type found and the fix."""
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    rows = LARGE_ROWS + 1
    lines = pd.read_csv(pd.io.common.StringIO(LINES), dtype=str).iloc[[0]]
    columns = {name: pa.array(np.repeat(lines[name].to_numpy(dtype=object), rows), pa.string())
               for name in ("invoice_id", "account_id", "invoice_date", "product_line")}
    columns |= {name: pa.array(np.repeat(float(lines[name].iloc[0]), rows))
                for name in ("quantity", "gross_amount", "discount_amount", "cost_of_goods")}
    pq.write_table(pa.table(columns), folder / "invoice_lines.parquet")
    message = refused_by_cli(folder, "invoice_lines.parquet, column 'invoice_date'",
                             "a Parquet column of type string")
    assert "a date like 2026-03-31" in message
    assert "write 'invoice_date' with its contract type" in message


def test_a_double_export_dropped_by_declaration_gives_the_clean_figures(tmp_path):
    clean = load_data(write_company(tmp_path / "clean")).tables["invoice_lines"]
    doubled = LINES + "".join(LINES.splitlines(True)[1:])
    folder = write_company(tmp_path / "data", {"invoice_lines.csv": doubled})
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("tables:\n  invoice_lines:\n    duplicate_lines: {action: drop, reason: "
                       "\"January was exported twice\"}\n")
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping), "--today",
                 TODAY.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 row(s) repeating an earlier row whole dropped" in " ".join(result.stdout.split())
    got = load_data(folder, read_mapping(mapping)).tables["invoice_lines"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), clean)
