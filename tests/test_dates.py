"""The order of day and month (issue 16, item 3): decided from evidence that cannot be
wrong, said in the summary, and refused when every date reads two ways."""

from __future__ import annotations

from datetime import date

import pandas as pd

from support import kam, write_company
from kamlib.data.load import load_data
from kamlib.data.mapping import Mapping
from kamlib.data.validate import validate_folder

TODAY = date(2026, 9, 30)

# Billed on the first days of each month of 2026Q2: every day-of-month is 12 or less.
EARLY_IN_MONTH = """invoice_id,account_id,invoice_date,product_line,quantity,gross_amount,discount_amount,cost_of_goods
INV-1,00101,2026-04-01,Hydraulics,10,1000.00,100.00,600.00
INV-1,00101,2026-04-01,Bearings,5,250.50,0,150.25
INV-2,00200,2026-05-02,Hydraulics,20,2000.00,300.00,1300.00
CN-1,00200,2026-05-02,Hydraulics,-2,-200.00,-30.00,-130.00
INV-3,00300,2026-06-03,Seals,100,500.00,25.00,310.00
"""
US_MAPPING = 'tables:\n  invoice_lines:\n    date_format: "%m/%d/%Y"\n'


def written(text: str, order: str) -> str:
    """The table's ISO dates written month-first (US) or day-first, as exports do."""
    def one(cell: str) -> str:
        if len(cell) != 10 or cell[4] != "-":
            return cell
        year, month, day = cell.split("-")
        return f"{month}/{day}/{year}" if order == "month" else f"{day}/{month}/{year}"
    return "\n".join(",".join(map(one, line.split(","))) for line in text.splitlines()) + "\n"


def test_a_us_export_billed_early_in_each_month_is_refused_naming_both_readings(tmp_path):
    folder = write_company(tmp_path / "data", {"invoice_lines.csv":
                                               written(EARLY_IN_MONTH, "month")})
    result = kam("validate", "--data", str(folder), "--today", "2026-09-30")
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    message = " ".join(result.stderr.split())
    assert "invoice_lines.csv, column 'invoice_date'" in message
    assert "dates that read two ways" in message
    assert "04/01/2026: 4 April 2026 or 1 April 2026" not in message  # the readings differ
    assert "04/01/2026: 4 January 2026 or 1 April 2026" in message
    assert 'date_format: "%m/%d/%Y"' in message and "2026-01-04" in message
    assert "empty cells" not in message  # the refused dates are not also called empty


def test_the_same_us_export_with_date_format_in_a_mapping_gives_the_right_quarter(tmp_path):
    folder = write_company(tmp_path / "data", {"invoice_lines.csv":
                                               written(EARLY_IN_MONTH, "month")})
    mapping = tmp_path / "us.yml"
    mapping.write_text(US_MAPPING, encoding="utf-8")
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping),
                 "--today", "2026-09-30")
    assert result.returncode == 0, result.stderr
    assert "2026-04-01 to 2026-06-03" in result.stdout  # 2026Q2, not 2025Q4
    report = validate_folder(folder, Mapping.model_validate(
        {"tables": {"invoice_lines": {"date_format": "%m/%d/%Y"}}}), today=TODAY)
    quarters = report.data.tables["invoice_lines"]["invoice_date"].dt.to_period("Q")
    assert set(quarters.astype(str)) == {"2026Q2"}


def test_a_month_first_export_with_a_day_above_12_is_read_month_first_and_noted(tmp_path):
    text = written(EARLY_IN_MONTH.replace("2026-06-03", "2026-06-23"), "month")
    folder = write_company(tmp_path / "data", {"invoice_lines.csv": text})
    result = kam("validate", "--data", str(folder), "--today", "2026-09-30")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "2026-04-01 to 2026-06-23" in result.stdout
    note = " ".join(result.stdout.split())
    assert "Note: invoice_lines: dates in invoice_date read month-first" in note
    assert "'06/23/2026'" in note


def test_a_day_first_export_with_ambiguous_and_certain_dates_is_read_day_first(tmp_path):
    text = written(EARLY_IN_MONTH.replace("2026-06-03", "2026-06-23"), "day")
    report = validate_folder(write_company(tmp_path, {"invoice_lines.csv": text}), today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    dates = report.data.tables["invoice_lines"]["invoice_date"]
    assert dates.tolist() == list(pd.to_datetime(["2026-04-01", "2026-04-01", "2026-05-02",
                                                  "2026-05-02", "2026-06-23"]))
    assert any("read day-first" in note for note in report.data.notes)


def test_dates_of_both_orders_in_one_table_are_refused(tmp_path):
    text = written(EARLY_IN_MONTH.replace("2026-06-03", "2026-06-23"), "month")
    text = text.replace("04/01/2026", "13/04/2026", 1)  # one line written day-first
    report = validate_folder(write_company(tmp_path, {"invoice_lines.csv": text}), today=TODAY)
    [problem] = report.errors
    assert (problem.file, problem.column) == ("invoice_lines.csv", "invoice_date")
    assert "'13/04/2026'" in problem.found and "'06/23/2026'" in problem.found


def test_evidence_is_taken_across_the_date_columns_of_a_table(tmp_path):
    """One export program writes all its dates one way: a day above 12 in signed_on says
    how to read last_updated_on, whose days are all 12 or less."""
    plans = ("plan_id,account_id,year,customer_goals,signed_by,signed_on,last_updated_on\n"
             "P-1,00100,2026,Grow,Anna,01/20/2026,02/03/2026\n"
             "P-2,00200,2026,Keep,Omar,02/05/2026,03/04/2026\n")
    data = load_data(write_company(tmp_path, {"plans.csv": plans}))
    assert data.problems == []
    frame = data.tables["plans"]
    assert frame["last_updated_on"].tolist() == list(pd.to_datetime(["2026-02-03",
                                                                     "2026-03-04"]))
    assert frame["signed_on"].iloc[1] == pd.Timestamp("2026-02-05")
    assert any("signed_on, last_updated_on read month-first" in n for n in data.notes)


def test_real_date_cells_and_iso_text_are_never_ambiguous(tmp_path):
    folder = write_company(tmp_path, {"invoice_lines.csv": EARLY_IN_MONTH},
                           drop=("activities.csv",))
    lines = pd.read_csv(folder / "invoice_lines.csv", dtype=str)
    lines["invoice_date"] = pd.to_datetime(lines["invoice_date"])  # Excel date cells
    lines.to_excel(folder / "invoice_lines.xlsx", index=False)
    (folder / "invoice_lines.csv").unlink()
    for_excel = validate_folder(folder, today=TODAY)
    assert for_excel.ok and for_excel.data.notes == []
    assert for_excel.data.tables["invoice_lines"]["invoice_date"].iloc[-1] == \
        pd.Timestamp("2026-06-03")
    iso = validate_folder(write_company(tmp_path / "iso", {"invoice_lines.csv":
                                                           EARLY_IN_MONTH}), today=TODAY)
    assert iso.ok and iso.data.notes == []


def test_dates_with_day_equal_to_month_need_no_order(tmp_path):
    text = EARLY_IN_MONTH.replace("2026-04-01", "2026-04-04").replace(
        "2026-05-02", "2026-05-05").replace("2026-06-03", "2026-06-06")
    report = validate_folder(write_company(tmp_path, {"invoice_lines.csv":
                                                      written(text, "month")}), today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    assert report.data.tables["invoice_lines"]["invoice_date"].iloc[-1] == \
        pd.Timestamp("2026-06-06")


def test_a_mapping_with_only_date_format_reads_the_folder_as_it_is(tmp_path):
    folder = write_company(tmp_path, {"invoice_lines.csv": written(EARLY_IN_MONTH, "day")})
    report = validate_folder(folder, Mapping.model_validate(
        {"tables": {"invoice_lines": {"date_format": "%d/%m/%Y"}}}), today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    lines = report.data.tables["invoice_lines"]
    assert lines["invoice_date"].iloc[0] == pd.Timestamp("2026-04-01")
    assert lines["gross_amount"].tolist() == [1000.0, 250.5, 2000.0, -200.0, 500.0]


def test_date_format_reads_the_text_and_leaves_excel_date_cells_as_they_are(tmp_path):
    folder = write_company(tmp_path, {"invoice_lines.csv": EARLY_IN_MONTH},
                           drop=("activities.csv",))
    lines = pd.read_csv(folder / "invoice_lines.csv", dtype=str)
    cells = list(pd.to_datetime(lines["invoice_date"]))
    cells[-1] = "06/03/2026"  # one date typed as text, US style, among date cells
    lines["invoice_date"] = pd.Series(cells, dtype=object)
    lines.to_excel(folder / "invoice_lines.xlsx", index=False)
    (folder / "invoice_lines.csv").unlink()
    report = validate_folder(folder, Mapping.model_validate(
        {"tables": {"invoice_lines": {"date_format": "%m/%d/%Y"}}}), today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    assert report.data.tables["invoice_lines"]["invoice_date"].tolist() == list(
        pd.to_datetime(["2026-04-01", "2026-04-01", "2026-05-02", "2026-05-02", "2026-06-03"]))
