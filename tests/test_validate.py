"""Every bad input the foundation issue lists is refused with file, row and column named."""

from __future__ import annotations

from datetime import date

import pytest

from support import TINY, write_company
from kamlib.data.validate import validate_folder

TODAY = date(2026, 9, 30)


def problems_for(tmp_path, files=None, drop=()):
    report = validate_folder(write_company(tmp_path / "data", files, drop), today=TODAY)
    return report


def only_error(report):
    assert len(report.errors) == 1, [p.render() for p in report.errors]
    return report.errors[0]


def with_line(name: str, old: str, new: str) -> dict[str, str]:
    assert old in TINY[name]
    return {name: TINY[name].replace(old, new)}


def test_tiny_company_is_valid(company):
    report = validate_folder(company, today=TODAY)
    assert report.ok, [p.render() for p in report.errors]
    assert report.warnings == []
    accounts = report.data.tables["accounts"]
    assert accounts["account_id"].tolist() == ["00100", "00101", "00200", "00300"]
    assert accounts.loc[2, "account_name"] == "شركة الخليج للتجارة"


def test_missing_required_file(tmp_path):
    problem = only_error(problems_for(tmp_path, drop=("invoice_lines.csv",)))
    assert problem.file == "invoice_lines.csv"
    assert "required table is missing" in problem.render()


def test_missing_required_column(tmp_path):
    text = TINY["invoice_lines.csv"].replace(",cost_of_goods", "").replace(",600.00\n", "\n")
    lines = "\n".join(line.rsplit(",", 1)[0] if i else line
                      for i, line in enumerate(text.splitlines()))
    problem = only_error(problems_for(tmp_path, {"invoice_lines.csv": lines}))
    assert problem.column == "cost_of_goods"
    assert "required column(s) missing" in problem.render()


def test_wrong_type_names_row_and_value(tmp_path):
    report = problems_for(tmp_path, with_line("invoice_lines.csv", "1000.00,100.00", "1k,100.00"))
    problem = only_error(report)
    assert (problem.file, problem.column, problem.rows) == ("invoice_lines.csv", "gross_amount",
                                                            ("row 2",))
    assert "'1k'" in problem.found and "a number" in problem.expected


def test_unparseable_date(tmp_path):
    problem = only_error(problems_for(
        tmp_path, with_line("invoice_lines.csv", "2026-03-10", "2026-13-45")))
    assert (problem.column, problem.rows) == ("invoice_date", ("row 6",))
    assert "'2026-13-45'" in problem.render()


def test_future_date(tmp_path):
    problem = only_error(problems_for(
        tmp_path, with_line("invoice_lines.csv", "2026-03-10", "2027-03-10")))
    assert (problem.column, problem.rows, problem.what) == ("invoice_date", ("row 6",),
                                                            "dates in the future")


def test_negative_value_where_not_allowed(tmp_path):
    problem = only_error(problems_for(tmp_path, with_line("activities.csv", "order,1", "order,-1")))
    assert (problem.file, problem.column, problem.rows) == ("activities.csv", "count", ("row 2",))
    assert problem.what == "negative values"


def test_duplicate_key(tmp_path):
    extra = TINY["accounts.csv"] + "00300,Müller Kopie,,DE,Automotive,EUR,,,\n"
    problem = only_error(problems_for(tmp_path, {"accounts.csv": extra}))
    assert (problem.column, problem.rows, problem.count) == ("account_id", ("rows 5, 6",), 2)
    assert "'00300'" in problem.found


def test_invoice_lines_for_unknown_account(tmp_path):
    problem = only_error(problems_for(
        tmp_path, with_line("invoice_lines.csv", "INV-3,00300", "INV-3,00999")))
    assert (problem.file, problem.column, problem.rows) == ("invoice_lines.csv", "account_id",
                                                            ("row 6",))
    assert "unknown accounts" in problem.what and "'00999'" in problem.found


@pytest.mark.parametrize("old,new,column,what", [
    (",M2,,250000", ",M9,,250000", "key_account_manager", "unknown managers"),
    (",M1,E1,900000", ",M1,E7,900000", "executive_sponsor", "unknown executives"),
    ("00101,Rossi Meccanica S.r.l.,00100", "00101,Rossi Meccanica S.r.l.,00555", "parent_id",
     "unknown accounts"),
])
def test_references_to_unknown_people_or_accounts(tmp_path, old, new, column, what):
    problem = only_error(problems_for(tmp_path, with_line("accounts.csv", old, new)))
    assert (problem.file, problem.column) == ("accounts.csv", column)
    assert what in problem.what


def test_empty_table(tmp_path):
    problem = only_error(problems_for(tmp_path, {"activities.csv": "account_id,activity_date,"
                                                                    "activity,count\n"}))
    assert (problem.file, problem.what) == ("activities.csv", "the table is empty")


def test_cycle_in_parent_ids(tmp_path):
    problem = only_error(problems_for(
        tmp_path, with_line("accounts.csv", "00100,Rossi Holding S.p.A.,,", "00100,Rossi Holding S.p.A.,00101,")))
    assert (problem.column, problem.what) == ("parent_id", "a cycle in the group hierarchy")
    assert problem.count == 2 and "00100 -> 00101" in problem.found


def test_activities_without_unit_cost(tmp_path):
    problem = only_error(problems_for(
        tmp_path, with_line("activities.csv", "rush_delivery", "helicopter_delivery")))
    assert (problem.column, problem.rows) == ("activity", ("row 3",))
    assert problem.what == "activities without a unit cost"


def test_activities_without_any_cost_table(tmp_path):
    problem = only_error(problems_for(tmp_path, drop=("activity_costs.csv",)))
    assert problem.what == "activities without a unit cost"
    assert "activity_costs" in problem.fix


@pytest.mark.parametrize("damaged, drop", [
    ("accounts.csv", ()), ("activity_costs.csv", ()), ("accounts.xlsx", ("accounts.csv",)),
    ("activity_costs.xlsx", ("activity_costs.csv",))])
def test_an_unreadable_table_gives_only_its_own_problem(tmp_path, damaged, drop):
    """Issue 16, item 8: a damaged accounts file (binary bytes, or an xlsx that is no
    workbook) gave a second, false error saying there is no activity_costs table."""
    folder = write_company(tmp_path / "data", drop=drop)
    (folder / damaged).write_bytes(b"PK\x03\x04\x00\xff\xfe\x00 not a table")
    problem = only_error(validate_folder(folder, today=TODAY))
    assert problem.file == damaged
    assert "read" in problem.what or "UTF-8" in problem.what


def test_activity_costs_given_twice_gives_only_that_problem(tmp_path):
    folder = write_company(tmp_path / "data")
    (folder / "activity_costs.xlsx").write_bytes(b"")
    problem = only_error(validate_folder(folder, today=TODAY))
    assert problem.what == "the table is given more than once"


def test_out_of_range_and_not_allowed_values(tmp_path):
    files = {**with_line("managers.csv", "M1,Giulia Bianchi,4", "M1,Giulia Bianchi,9"),
             **with_line("accounts.csv", "00300,Müller & Söhne GmbH,,DE",
                         "00300,Müller & Söhne GmbH,,Germany")}
    report = problems_for(tmp_path, files)
    by_column = {p.column: p for p in report.errors}
    assert set(by_column) == {"skill_financial", "country"}
    assert "between 1 and 5" in by_column["skill_financial"].expected
    assert "'Germany'" in by_column["country"].found


def test_warnings_are_listed_apart_from_errors(tmp_path):
    report = problems_for(tmp_path, with_line("invoice_lines.csv", "500.00,25.00", "500.00,900.00"))
    assert report.ok
    assert [p.what for p in report.warnings] == ["discounts larger than the gross amount"]


def test_missing_optional_table_is_allowed(tmp_path):
    report = problems_for(tmp_path, drop=("activities.csv", "activity_costs.csv", "managers.csv",
                                          "executives.csv"))
    assert report.ok
    assert "activities" not in report.data.tables


def test_every_id_and_reference_of_the_contract_is_an_identifier():
    """The columns refused when they start like a formula: every id and reference, and no
    name or free text (those are neutralised where they are written out)."""
    from kamlib.data.contract import TABLES

    ids = {f"{t.name}.{c.name}" for t in TABLES.values() for c in t.columns if c.identifier}
    assert {"accounts.account_id", "accounts.parent_id", "accounts.key_account_manager",
            "accounts.executive_sponsor", "managers.manager_id", "executives.executive_id",
            "invoice_lines.invoice_id", "activities.activity", "roster.account_id",
            "objectives.plan_id", "reviews.goal_id"} <= ids
    assert not ids & {"accounts.account_name", "roster.reason", "roster.approved_by",
                      "invoice_lines.product_line"}


@pytest.mark.parametrize("first", ["=", "+", "-", "@"])
def test_an_executive_id_starting_like_a_formula_is_refused(tmp_path, first):
    report = problems_for(tmp_path, {
        **with_line("executives.csv", "E1,Layla", f"{first}E1,Layla"),
        **with_line("accounts.csv", ",M1,E1,", f",M1,{first}E1,")})
    found = {(p.file, p.column, p.rows, p.what) for p in report.errors}
    what = "identifiers that start like a spreadsheet formula"
    assert found == {("executives.csv", "executive_id", ("row 2",), what),
                     ("accounts.csv", "executive_sponsor", ("rows 2, 3",), what)}


def test_a_name_starting_with_a_sign_is_not_an_id_and_is_accepted(tmp_path):
    report = problems_for(tmp_path, with_line("accounts.csv", "Rossi Holding", "+Rossi Holding"))
    assert report.ok, [p.render() for p in report.errors]
