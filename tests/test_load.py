"""Formats and locales: CSV variants, Excel with several sheets, Parquet, ERP header styles."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd

from support import SAMPLE, TINY, write_company
from kamlib.data.load import load_data
from kamlib.data.table_files import input_files
from kamlib.data.validate import validate_folder
from kamlib.data.values import parse_text

TODAY = date(2026, 9, 30)


def load_ok(folder):
    report = validate_folder(folder, today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    return report.data


def italian(text: str) -> str:
    """The same table as an Italian export: semicolons, decimal commas, day-first dates."""
    rows = []
    for line in text.splitlines():
        cells = [c.replace(".", ",") if c.replace(".", "").replace("-", "").isdigit() else c
                 for c in line.split(",")]
        cells = [f"{c[8:10]}/{c[5:7]}/{c[:4]}" if len(c) == 10 and c[4] == "-" else c
                 for c in cells]
        rows.append(";".join(cells))
    return "\n".join(rows) + "\n"


def test_semicolon_decimal_comma_and_bom(tmp_path):
    files = {"invoice_lines.csv": "\ufeff" + italian(TINY["invoice_lines.csv"])}
    data = load_ok(write_company(tmp_path, files))
    lines = data.tables["invoice_lines"]
    assert lines["gross_amount"].tolist() == [1000.0, 250.5, 2000.0, -200.0, 500.0]
    assert lines["invoice_date"].iloc[0] == pd.Timestamp("2026-01-15")


def test_thousands_separators(tmp_path):
    text = TINY["invoice_lines.csv"].replace("2000.00,300.00", '"2,000.00",300.00')
    semicolons = italian(TINY["invoice_lines.csv"]).replace("2000,00;", "2.000,00;")
    assert "2.000,00" in semicolons
    for folder, files in (("a", {"invoice_lines.csv": text}),
                          ("b", {"invoice_lines.csv": semicolons})):
        data = load_ok(write_company(tmp_path / folder, files))
        assert data.tables["invoice_lines"]["gross_amount"].iloc[2] == 2000.0


def test_non_latin_names_round_trip_and_ids_keep_leading_zeros(tmp_path):
    data = load_ok(write_company(tmp_path))
    accounts = data.tables["accounts"].set_index("account_id")
    assert accounts.loc["00200", "account_name"] == "شركة الخليج للتجارة"
    assert accounts.loc["00300", "account_name"] == "Müller & Söhne GmbH"
    assert accounts.loc["00101", "parent_id"] == "00100"


def test_not_utf8_is_refused_with_the_fix(tmp_path):
    folder = write_company(tmp_path, drop=("accounts.csv",))
    (folder / "accounts.csv").write_bytes(TINY["accounts.csv"].replace(
        "شركة الخليج للتجارة", "Caffè").encode("cp1252"))
    report = validate_folder(folder, today=TODAY)
    problem = report.errors[0]
    assert problem.file == "accounts.csv" and "not UTF-8" in problem.what
    assert "encoding" in problem.fix


def test_excel_with_several_sheets_of_one_table(tmp_path):
    folder = write_company(tmp_path, drop=("invoice_lines.csv",))
    lines = pd.read_csv(pd.io.common.StringIO(TINY["invoice_lines.csv"]), dtype=str)
    with pd.ExcelWriter(folder / "invoice_lines.xlsx") as xlsx:
        lines.iloc[:2].to_excel(xlsx, sheet_name="2025", index=False)
        lines.iloc[2:].to_excel(xlsx, sheet_name="2026", index=False)
    data = load_ok(folder)
    assert len(data.tables["invoice_lines"]) == 5
    files, rows = data.locate("invoice_lines", [3])
    assert (files, rows) == ("invoice_lines.xlsx", ("sheet '2026' row 3",))


def test_excel_numeric_ids_become_text(tmp_path):
    folder = write_company(tmp_path, drop=("accounts.csv", "invoice_lines.csv", "activities.csv"))
    accounts = pd.DataFrame({"account_id": [12417.0, 12395.0], "account_name": ["A", "B"],
                             "country": ["BE", "BE"], "industry": ["Gifts"] * 2,
                             "currency": ["EUR"] * 2})
    lines = pd.DataFrame({"invoice_id": [490397, 490398], "account_id": [12417.0, 12395.0],
                          "invoice_date": pd.to_datetime(["2026-01-02", "2026-01-03"]),
                          "product_line": ["Mugs", "Mugs"], "quantity": [6, 2],
                          "gross_amount": [17.7, 5.0], "discount_amount": [0, 0],
                          "cost_of_goods": [10.0, 3.0]})
    accounts.to_excel(folder / "accounts.xlsx", index=False)
    lines.to_excel(folder / "invoice_lines.xlsx", index=False)
    data = load_ok(folder)
    assert data.tables["accounts"]["account_id"].tolist() == ["12417", "12395"]
    assert data.tables["invoice_lines"]["invoice_id"].tolist() == ["490397", "490398"]


def test_parquet_folder_of_parts(tmp_path):
    folder = write_company(tmp_path, drop=("invoice_lines.csv",))
    lines = pd.read_csv(pd.io.common.StringIO(TINY["invoice_lines.csv"]),
                        dtype={"account_id": str}, parse_dates=["invoice_date"])
    (folder / "invoice_lines").mkdir()
    lines.iloc[:3].to_parquet(folder / "invoice_lines" / "part-0.parquet")
    lines.iloc[3:].to_parquet(folder / "invoice_lines" / "part-1.parquet")
    data = load_ok(folder)
    assert data.tables["invoice_lines"]["gross_amount"].sum() == lines["gross_amount"].sum()
    assert data.locate("invoice_lines", [4]) == ("invoice_lines/part-1.parquet", ("row 2",))


def test_input_files_are_what_the_loader_reads_and_nothing_else(tmp_path):
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    (folder / "invoice_lines").mkdir()
    for part in ("part-0.parquet", "part-1.parquet"):
        (folder / "invoice_lines" / part).touch()
    (folder / "invoice_lines" / "_SUCCESS").touch()  # a marker Spark writes, not a part
    shutil.copy(SAMPLE / "selection_criteria.yml", folder)
    (folder / "notes.txt").write_text("not a table")
    (folder / "reports" / "2026Q3").mkdir(parents=True)  # reports written into the folder
    (folder / "reports" / "2026Q3" / "accounts.csv").write_text("a report's own table")
    found = [str(p.relative_to(folder)) for p in input_files(folder)]
    assert found == sorted(["accounts.csv", "activities.csv", "activity_costs.csv",
                            "executives.csv", "managers.csv", "invoice_lines/part-0.parquet",
                            "invoice_lines/part-1.parquet", "selection_criteria.yml"])
    assert input_files(tmp_path / "missing") == []
    assert not load_data(tmp_path / "missing").tables  # the loader reads nothing there either


def test_friendly_headers_match_the_contract(tmp_path):
    text = TINY["accounts.csv"].replace("account_id,account_name", "Account ID,Account Name")
    data = load_ok(write_company(tmp_path, {"accounts.csv": text}))
    assert data.tables["accounts"]["account_name"].iloc[0] == "Rossi Holding S.p.A."


def test_a_table_given_twice_is_refused(tmp_path):
    folder = write_company(tmp_path)
    (folder / "managers.xlsx").write_bytes(b"")
    report = validate_folder(folder, today=TODAY)
    assert [p.what for p in report.errors] == ["the table is given more than once"]


def test_float_looking_text_ids_are_written_back_as_integers_only_where_whole():
    values = pd.Series(["12417.0", " 00123 ", None, "", "A.0", "-5.00", 12.0, "7.5"],
                       dtype=object)
    assert parse_text(values, identifier=True).tolist()[:2] == ["12417", "00123"]
    assert parse_text(values, identifier=True).tolist()[4:] == ["A.0", "-5", "12", "7.5"]
    assert parse_text(values).tolist()[0] == "12417.0"  # not an identifier: kept as written


# --- Rows split by the wrong delimiter (issue 16, item 8) ---------------------------------

SEMICOLON_ACCOUNTS = TINY["accounts.csv"].replace(",", ";")


def only_problem(folder, mapping=None):
    report = validate_folder(folder, mapping, today=TODAY)
    assert len(report.errors) == 1, [p.render() for p in report.errors]
    return report.errors[0]


def test_semicolon_rows_under_a_comma_header_are_named_not_called_empty(tmp_path):
    header, *rows = SEMICOLON_ACCOUNTS.splitlines()
    text = TINY["accounts.csv"].splitlines()[0] + "\n" + "\n".join(rows) + "\n"
    problem = only_problem(write_company(tmp_path, {"accounts.csv": text}))
    assert (problem.file, problem.what) == ("accounts.csv", "rows split by the wrong delimiter")
    assert problem.rows == ("line 2",) and problem.count == 4
    assert "1 field(s) split by the comma, the header 9" in problem.found
    assert "split by the semicolon, line 2 has the header's 9" in problem.found
    assert "one delimiter" in problem.fix


def test_a_semicolon_file_whose_header_sniffs_as_comma_names_the_right_delimiter(tmp_path):
    text = SEMICOLON_ACCOUNTS.replace("estimated_wallet", "wallet, EUR", 1)  # a comma
    folder = write_company(tmp_path, {"accounts.csv": text})
    problem = only_problem(folder)
    assert problem.rows == ("line 2",) and "split by the comma" in problem.found
    assert "split by the semicolon, both have 9" in problem.found
    assert 'set delimiter: ";" for accounts in a mapping file' in problem.fix
    # The fix works: a mapping entry with only the delimiter reads the folder as it is.
    from kamlib.data.mapping import Mapping
    report = validate_folder(folder, Mapping.model_validate(
        {"tables": {"accounts": {"delimiter": ";"}}}), today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    assert report.data.tables["accounts"]["country"].tolist() == ["IT", "IT", "AE", "DE"]


def test_a_line_with_more_fields_than_the_header_names_line_and_delimiter(tmp_path):
    text = TINY["accounts.csv"].replace("00300,Müller & Söhne GmbH", "00300,Müller, Söhne GmbH")
    problem = only_problem(write_company(tmp_path, {"accounts.csv": text}))
    assert (problem.what, problem.rows) == ("rows split by the wrong delimiter", ("line 5",))
    assert "line 5 has 10 field(s) split by the comma, the header 9" in problem.found
    assert "quote the values that contain a comma" in problem.fix


def test_a_mapping_delimiter_that_does_not_split_the_header_is_named(tmp_path):
    from kamlib.data.mapping import Mapping
    folder = write_company(tmp_path, {"accounts.csv": TINY["accounts.csv"].replace(",", "\t")})
    problem = only_problem(folder, Mapping.model_validate(
        {"tables": {"accounts": {"delimiter": ";"}}}))
    assert problem.rows == ("line 1",)
    assert "the header has 1 field(s) split by the semicolon" in problem.found
    assert 'set delimiter: "\\t"' in problem.fix


def test_rows_with_empty_trailing_cells_are_not_taken_for_a_wrong_delimiter(tmp_path):
    text = TINY["accounts.csv"] + "00400,Nuova; sede di Roma; uffici,,IT,Machinery,EUR,,,\n"
    data = load_ok(write_company(tmp_path, {"accounts.csv": text}))
    assert data.tables["accounts"]["account_name"].iloc[-1] == "Nuova; sede di Roma; uffici"


def test_kam_validate_names_a_wrong_delimiter_without_a_traceback(tmp_path):
    from support import kam
    header, *rows = SEMICOLON_ACCOUNTS.splitlines()
    text = TINY["accounts.csv"].splitlines()[0] + "\n" + "\n".join(rows) + "\n"
    folder = write_company(tmp_path, {"accounts.csv": text})
    result = kam("validate", "--data", str(folder), "--today", "2026-09-30")
    said = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1 and "Traceback" not in said
    assert "accounts.csv, line 2 and 3 more (4 rows): rows split by the wrong delimiter" in said
    assert "empty cells" not in said and "unknown accounts" not in said


def test_a_mapping_delimiter_other_than_the_usual_four_is_named_for_a_wrong_split(tmp_path):
    """Before: a mapping's `delimiter: ":"` with a line split by commas gave "KeyError: ':'"
    as the reason the file could not be read."""
    from support import kam
    header, first, *rows = TINY["invoice_lines.csv"].splitlines()
    text = "\n".join([header.replace(",", ":"), first.replace(",", ":"), rows[0],
                      *(row.replace(",", ":") for row in rows[1:])]) + "\n"
    folder = write_company(tmp_path / "company", {"invoice_lines.csv": text})
    mapping = tmp_path / "colon.yml"
    mapping.write_text('tables:\n  invoice_lines:\n    delimiter: ":"\n')
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping),
                 "--today", str(TODAY))
    said = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1 and "Traceback" not in said and "KeyError" not in said
    assert "invoice_lines.csv, line 3 (1 row): rows split by the wrong delimiter" in said
    assert "line 3 has 1 field(s) split by the delimiter ':', the header 8" in said
    assert "split by the comma, line 3 has the header's 8" in said


def test_a_link_inside_the_data_folder_is_read_and_one_out_of_it_is_not(tmp_path):
    """Without a mapping as with one (test_mapping.py): a table file, a partition folder or
    one of its parts that resolves outside the data folder is refused, naming it."""
    folder = write_company(tmp_path / "data", drop=("activities.csv",))
    (folder / "exports").mkdir()
    (folder / "exports" / "acts.csv").write_text(TINY["activities.csv"], encoding="utf-8")
    (folder / "activities.csv").symlink_to(folder / "exports" / "acts.csv")
    assert len(load_ok(folder).tables["activities"]) == 2
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "activities.csv").unlink()
    (folder / "activities").mkdir()
    (folder / "activities" / "part-0.csv").write_text(TINY["activities.csv"], encoding="utf-8")
    (outside / "part-1.csv").write_text(TINY["activities.csv"], encoding="utf-8")
    (folder / "activities" / "part-1.csv").symlink_to(outside / "part-1.csv")
    assert _linked_out(folder, outside) == "activities/part-1.csv"
    (folder / "activities" / "part-1.csv").unlink()
    shutil.move(folder / "activities", outside / "activities")
    (folder / "activities").symlink_to(outside / "activities")
    assert _linked_out(folder, outside) == "activities"


def _linked_out(folder, outside) -> str:
    """The file the only error names, which must be a link out of the data folder."""
    report = validate_folder(folder, today=TODAY)
    assert [p.what for p in report.errors] == ["a file that links outside the data folder"]
    assert str(outside) in report.errors[0].found and "activities" not in report.data.tables
    return report.errors[0].file


def test_a_parquet_list_column_is_compared_by_its_values(tmp_path):
    folder = write_company(tmp_path, drop=("invoice_lines.csv",))
    lines = load_data(write_company(tmp_path / "csv")).tables["invoice_lines"]
    lines.assign(tags=[[1], [1, 2], [], [2, 1], [1, 2, 3]]).to_parquet(
        folder / "invoice_lines.parquet", index=False)
    assert len(load_ok(folder).tables["invoice_lines"]) == 5
