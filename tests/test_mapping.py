"""Column mapping, proven on the real Online Retail II export.

Data: Chen, D. (2012). Online Retail II [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5CG6D (CC BY 4.0), read from ../shared/datasets.
"""

from __future__ import annotations

import json
import os
from re import escape as re_escape
from datetime import date
from pathlib import Path

import pytest

from support import ONLINE_RETAIL, REPO, kam, needs_shared, write_company
from kamlib.data.mapping import read_mapping
from kamlib.data.validate import validate_folder
from kamlib.errors import MappingError

MAPPING = REPO / "data" / "examples" / "online_retail_II.yml"


@pytest.fixture(scope="module")
def retail():
    report = validate_folder(ONLINE_RETAIL.parent, read_mapping(MAPPING), today=date(2026, 11, 22))
    assert report.ok, [p.render() for p in report.errors]
    return report.data


@needs_shared(ONLINE_RETAIL)
class TestOnlineRetailExport:
    def test_both_yearly_sheets_are_read_and_lines_without_customer_set_aside(self, retail):
        lines = retail.tables["invoice_lines"]
        assert len(lines) + 601 + 504 == 34_766
        assert any("601 row(s) set aside" in note for note in retail.notes)
        assert any("504 row(s) repeating an earlier row whole dropped" in note
                   for note in retail.notes)
        assert {s.sheet for s in retail.sources["invoice_lines"].segments} == {
            "Year 2009-2010", "Year 2010-2011"}

    def test_float_looking_ids_become_text(self, retail):
        accounts = retail.tables["accounts"]
        assert len(accounts) == 262
        assert "12417" in set(accounts["account_id"])
        assert not accounts["account_id"].str.contains(r"\.").any()

    def test_credit_notes_are_negative(self, retail):
        lines = retail.tables["invoice_lines"]
        credit = lines["invoice_id"].str.startswith("C")
        assert credit.sum() > 700
        assert (lines.loc[credit, ["quantity", "gross_amount", "cost_of_goods"]] <= 0).all().all()
        assert (lines.loc[~credit, "gross_amount"] >= 0).all()

    def test_non_product_codes_get_their_own_product_lines(self, retail):
        product_lines = retail.tables["invoice_lines"]["product_line"]
        assert {"Postage and carriage", "Manual adjustments", "Discounts",
                "Adjustments"} <= set(product_lines)
        assert product_lines.str.startswith("Range ").mean() > 0.9

    def test_revenue_reconciles_with_the_export(self, retail):
        import pandas as pd

        raw = pd.concat(pd.read_excel(ONLINE_RETAIL, sheet_name=None, engine="calamine").values())
        raw = raw[raw["Customer ID"].notna()]
        # Less the lines exported twice (the yearly sheets overlap), as the mapping declares.
        raw = raw.drop_duplicates()
        expected = (raw["Quantity"] * raw["Price"]).sum()
        assert retail.tables["invoice_lines"]["gross_amount"].sum() == pytest.approx(expected,
                                                                                     abs=0.01)

    def test_accounts_have_iso_countries_and_gbp(self, retail):
        accounts = retail.tables["accounts"]
        assert set(accounts["country"]) == {"BE", "CA", "FR", "IT", "LB", "NL", "PT", "ES", "CH",
                                            "ZZ"}
        assert set(accounts["currency"]) == {"GBP"}


def test_mapping_naming_an_unknown_header_says_which(tmp_path):
    folder = write_company(tmp_path / "data")
    mapping = tmp_path / "m.yml"
    mapping.write_text("tables:\n  accounts:\n    columns: {account_id: Kundennummer}\n")
    with pytest.raises(MappingError, match="'Kundennummer'.*the export has"):
        validate_folder(folder, read_mapping(mapping))


@pytest.mark.parametrize("text,message", [
    ("tables:\n  clients: {}\n", "table must be one of"),
    ("tables:\n  accounts:\n    columns: {acount_id: X}\n", "'acount_id' is not a column"),
    ("tables: [\n", "not valid YAML"),
    ("- tables\n", "line 1: a mapping file must be a YAML mapping"),
    ("tables: [accounts]\n", "line 1, tables: Input should be a valid dictionary"),
    ("tables:\n  accounts:\n    delimiter: '(a+)+b'\n", "line 3, .*delimiter must be one "),
    ("tables:\n  accounts:\n    encoding: base64\n", "line 3, .*must name a text encoding"),
    ("tables:\n  accounts:\n    classify:\n      country:\n        source: C\n        rules:\n"
     "          - {pattern: '(I)taly', value: '\\9'}\n", "line 7, .*groups of the pattern"),
])
def test_invalid_mapping_files_are_refused(tmp_path, text, message):
    mapping = tmp_path / "m.yml"
    mapping.write_text(text)
    with pytest.raises(MappingError, match=message):
        read_mapping(mapping)


def test_scale_negate_and_defaults(tmp_path):
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    (folder / "export.csv").write_text(
        "Doc;Customer;Date;Family;Qty;Cents;Disc\n"
        "F1;00101;15.01.2026;Hydraulics;10;100000;-10000\n", encoding="utf-8")
    mapping = tmp_path / "m.yml"
    mapping.write_text("""
tables:
  invoice_lines:
    file: export.csv
    columns: {invoice_id: Doc, account_id: Customer, invoice_date: Date,
              product_line: Family, quantity: Qty, gross_amount: Cents, discount_amount: Disc}
    scale: {gross_amount: 0.01, discount_amount: 0.01}
    negate: [discount_amount]
    compute: {cost_of_goods: "gross_amount * 0.5"}
""")
    report = validate_folder(folder, read_mapping(mapping), today=date(2026, 9, 30))
    assert report.ok, [p.render() for p in report.errors]
    line = report.data.tables["invoice_lines"].iloc[0]
    assert (line["gross_amount"], line["discount_amount"], line["cost_of_goods"]) == (1000.0, 100.0,
                                                                                     500.0)
    assert str(line["invoice_date"].date()) == "2026-01-15"


# --- A mapping is untrusted: nothing in it runs code, reads outside the data folder or hangs

EXPORT = ("Doc,Customer,Date,Family,Qty,Gross,Unit Price,Disc,Cost\n"
          "F1,00101,2026-01-15,Hydraulics,10,1000,100,-100,600\n"
          "F2,00200,2026-02-03,Seals,-2,-200,100,0,-130\n")
COLUMNS = ("{invoice_id: Doc, account_id: Customer, invoice_date: Date, product_line: Family, "
           "quantity: Qty, cost_of_goods: Cost}")


def _exported(tmp_path: Path, compute: dict[str, str], extra: str = "") -> tuple[Path, Path]:
    """The tiny company with its invoice lines as an export, and a mapping computing
    ``compute``; the expressions are on lines 6 and after of the mapping file."""
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    (folder / "export.csv").write_text(EXPORT, encoding="utf-8")
    mapping = tmp_path / "hostile.yml"
    mapping.write_text("tables:\n  invoice_lines:\n    file: export.csv\n"
                       f"    columns: {COLUMNS}\n    compute:\n"
                       + "".join(f"      {k}: {json.dumps(v)}\n" for k, v in compute.items())
                       + extra, encoding="utf-8")
    return folder, mapping


ATTACKS = [  # (expression writing the marker file M if it ran, token the refusal names)
    ("Gross + @pd.io.common.os.system('touch M')", "unexpected '@'"),
    ("Gross + __import__('os').system('touch M')", "'__import__('os').system'"),
    ("Gross + Gross.to_csv('M')", "'Gross.to_csv' in"),
    ("(lambda: __import__('os').system('touch M'))()", "is a lambda"),
    ("[__import__('os').system('touch M') for x in [1]]", "is a comprehension"),
    ("Gross + len(open('M', 'w').name)", "a call of 'len'"),
]


@pytest.mark.parametrize("expression,token", ATTACKS, ids=["pandas-at", "import", "attribute",
                                                            "lambda", "comprehension", "call"])
def test_kam_validate_refuses_code_in_an_expression_and_runs_none(tmp_path, expression, token):
    marker = tmp_path / "pwned"
    folder, mapping = _exported(tmp_path, {"gross_amount": expression.replace("M", str(marker))})
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{mapping}: line 6, tables.invoice_lines.compute.gross_amount:" in result.stderr
    assert token in result.stderr and "Allowed: export headers" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not marker.exists()


@pytest.mark.parametrize("given", ["--param", "--mapping"])
def test_kam_run_refuses_a_hostile_mapping_before_any_kernel(tmp_path, given):
    marker = tmp_path / "pwned"
    folder, mapping = _exported(tmp_path, {"gross_amount": f"Gross + @pd.io.common.os.system("
                                                           f"'touch {marker}')"})
    option = ["--param", f"mapping={mapping}"] if given == "--param" else ["--mapping",
                                                                           str(mapping)]
    result = kam("run", "value", "--data", str(folder), "--out", str(tmp_path / "out"),
                 "--quiet", *option, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{mapping}: line 6" in result.stderr and "unexpected '@'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_expressions_compute_over_headers_with_the_allowed_functions(tmp_path):
    folder, mapping = _exported(tmp_path, {
        "gross_amount": "`Unit Price` * Qty",
        "discount_amount": "max(-Disc, 0) + abs(min(Qty, 0)) * (1 - 0.5)",
    })
    report = validate_folder(folder, read_mapping(mapping), today=date(2026, 9, 30))
    assert report.ok, [p.render() for p in report.errors]
    lines = report.data.tables["invoice_lines"]
    assert list(lines["gross_amount"]) == [1000.0, -200.0]
    assert list(lines["discount_amount"]) == [100.0, 1.0]


def test_a_name_that_is_no_column_is_refused_with_file_and_line(tmp_path):
    folder, mapping = _exported(tmp_path, {"gross_amount": "Qty * Prcie"})
    with pytest.raises(MappingError, match=rf"{mapping}, line 6: .*reads 'Prcie', which is "
                                           r"neither an export header.*'Unit Price'"):
        validate_folder(folder, read_mapping(mapping))


@pytest.mark.parametrize("field", ["{account_id.__class__.__mro__}", "{account_id[0]}",
                                   "{0}", "{}", "{account_id!r}", "{account_id:{x}}",
                                   "{account_id"])
def test_defaults_take_plain_column_fields_only(tmp_path, field):
    mapping = tmp_path / "m.yml"
    mapping.write_text(f"tables:\n  accounts:\n    defaults:\n"
                       f"      account_name: {json.dumps('Customer ' + field)}\n")
    with pytest.raises(MappingError, match=r"line 4, tables.accounts.defaults.account_name: "
                                           r".*(not a plain column field|unbalanced braces)"):
        read_mapping(mapping)


def test_a_default_naming_a_column_not_mapped_is_refused(tmp_path):
    folder, mapping = _exported(tmp_path, {"gross_amount": "Gross"},
                                "  accounts:\n    defaults: {industry: '{sector}'}\n")
    with pytest.raises(MappingError, match="names 'sector', which is not a column mapped"):
        validate_folder(folder, read_mapping(mapping))


@pytest.mark.parametrize("pattern,said", [
    ("/etc/passwd", "absolute path"), ("../../etc/passwd", "climbs out with '..'"),
    ("**/../..", "climbs out with '..'"), ("sub/../../x.csv", "climbs out"),
])
def test_a_file_pattern_cannot_leave_the_data_folder(tmp_path, pattern, said):
    mapping = tmp_path / "m.yml"
    mapping.write_text(f"tables:\n  invoice_lines:\n    file: {json.dumps(pattern)}\n")
    with pytest.raises(MappingError, match=rf"line 3, tables.invoice_lines.file: .*{said}"):
        read_mapping(mapping)


def test_a_mapped_file_linking_outside_the_data_folder_is_not_read(tmp_path):
    folder, mapping = _exported(tmp_path, {"gross_amount": "Gross"})
    secret = tmp_path / "secret.csv"
    secret.write_text(EXPORT, encoding="utf-8")
    (folder / "export.csv").unlink()
    os.symlink(secret, folder / "export.csv")
    with pytest.raises(MappingError, match=r"matches .*export.csv, a link to .*secret.csv, "
                                           r"outside the data folder"):
        validate_folder(folder, read_mapping(mapping))


@pytest.mark.parametrize("pattern,said", [
    ("(a)\\1", "no backreferences"),
    ("(?=a)a", "no lookarounds"),
    ("\\bx", "a word boundary"),
    ("[\\W]", "inside [...]"),
    ("a" * 201, "at most 200 characters"),
    ("(unclosed", "missing )"),
])
def test_patterns_the_linear_time_engine_cannot_match_are_refused(tmp_path, pattern, said):
    mapping = tmp_path / "m.yml"
    mapping.write_text("tables:\n  invoice_lines:\n    drop:\n      - {column: account_id, "
                       f"reason: test, pattern: {json.dumps(pattern)}}}\n")
    with pytest.raises(MappingError, match=rf"line 4, tables.invoice_lines.drop.0.pattern: "
                                           rf".*{re_escape(said)}"):
        read_mapping(mapping)


def test_a_pattern_that_would_backtrack_for_ever_runs_in_linear_time(tmp_path):
    """Nested repeats were refused while Python's engine matched patterns; RE2 matches them
    in linear time, so they run, on a long value of letters from other scripts too (where
    pandas would fall back to Python's engine)."""
    folder, mapping = _exported(tmp_path, {"gross_amount": "Gross", "discount_amount": "-Disc"}, (
        "    drop:\n      - {column: product_line, reason: test, "
        "pattern: '(\\w+\\s?)+!'}\n"
        "      - {column: product_line, reason: test, pattern: '\\w*\\w*\\w*!'}\n"
        "    classify:\n      product_line:\n        source: Family\n        rules:\n"
        "          - {pattern: '(\\w+) .*', value: '\\1'}\n"))
    export = folder / "export.csv"
    export.write_text(EXPORT.replace("Hydraulics", "Müller Hydraulik").replace(
        "Seals", "ü" * 5_000), encoding="utf-8")
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping),
                 "--today", "2026-09-30", timeout=300)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert "Traceback" not in said
    report = validate_folder(folder, read_mapping(mapping), today=date(2026, 9, 30))
    assert list(report.data.tables["invoice_lines"]["product_line"]) == ["Müller", "ü" * 5_000]


def test_a_computed_value_from_a_division_by_zero_or_text_is_refused_with_its_rows(tmp_path):
    folder, mapping = _exported(tmp_path, {"gross_amount": "Gross",
                                           "rebate_amount": "Gross * Cost / (Qty - 10)",
                                           "discount_amount": "-Disc"})
    (folder / "export.csv").write_text(EXPORT + "F3,00200,2026-02-04,Seals,2,200,100,0,n/a\n",
                                       encoding="utf-8")
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping),
                 "--today", "2026-09-30", timeout=120)
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Traceback" not in said
    assert (f"export.csv, column 'rebate_amount', row 2 (1 row): rebate_amount computed by the "
            f"mapping ({mapping}, line 7) as 'Gross * Cost / (Qty - 10)' is no number") in said
    assert "a division by zero" in said
    assert (f"export.csv, column 'Cost', row 4 (1 row): a value that is not a number, read by "
            f"the mapping ({mapping}, line 7)") in said and "found 'n/a'" in said
    assert said.count("Fix:") >= 2


@pytest.mark.parametrize("expression,token", [
    ("Gross * (1/0)", "'1/0'"), ("Gross * " + "9" * 400, "'99999"),
    ("Gross + 1e999", "'1e999'"), ("max(Gross, 1e308 * 10)", "'1e308 * 10'"),
])
def test_a_constant_that_is_no_finite_number_is_refused_with_file_and_line(tmp_path,
                                                                          expression, token):
    folder, mapping = _exported(tmp_path, {"gross_amount": expression})
    result = kam("validate", "--data", str(folder), "--mapping", str(mapping), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{mapping}: line 6, tables.invoice_lines.compute.gross_amount:" in result.stderr
    assert token in result.stderr and "is not a finite number" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("expression", ["abs(Gross)(1)", "(Gross + 1)(2)"])
def test_a_call_of_a_call_is_named_as_such(tmp_path, expression):
    folder, mapping = _exported(tmp_path, {"gross_amount": expression})
    with pytest.raises(MappingError, match=rf"line 6, .*'{re_escape(expression)}' in .* is a "
                                           r"call of the result of an expression"):
        read_mapping(mapping)


def test_nesting_thousands_deep_is_refused_with_line_and_column(tmp_path):
    mapping = tmp_path / "deep.yml"
    mapping.write_text("tables: " + "[" * 3000 + "\n")
    result = kam("validate", "--data", str(write_company(tmp_path / "data")), "--mapping",
                 str(mapping), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (f"{mapping}, line 1, column 58: not valid YAML: lists or mappings nested more than "
            "50 levels deep") in result.stderr and "Fix: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("text,where,said", [
    ("tables:\n  accounts:\n\tcolumns: {}\n", "line 3, column 1", "a tab character"),
    ("tables:\n  accounts: {columns: {account_id: Kunde}\n", "line 3, column 1",
     "ends before a bracket or brace is closed (the part that starts at line 2)"),
    ("tables:\n  accounts:\n    columns: {account_id: A}\n  accounts: {}\n",
     "line 4, column 3", "the key 'accounts' is given twice (first at line 2)"),
    ("tables:\n  accounts:\n    columns:\n      account_id: A: B\n", "line 4, column 20",
     "a colon where a value was expected"),
])
def test_yaml_syntax_errors_name_line_column_and_fix(tmp_path, text, where, said):
    mapping = tmp_path / "m.yml"
    mapping.write_text(text)
    with pytest.raises(MappingError, match=rf"m.yml, {where}: not valid YAML: .*"
                                           rf"{re_escape(said)}.* Fix: "):
        read_mapping(mapping)


@pytest.mark.parametrize("text,said", [
    ("agreed_by: board\nagreed_on: 2026-01-01\ncriteria:\n  - feature: net_revenue\n"
     "   threshold: 1\n", "not valid YAML at line 5, column 4"),
    ("- agreed_by: board\n", "not a YAML mapping"),
    ("agreed_by: board\nagreed_by: CEO\n", "the key 'agreed_by' is given twice"),
    ("agreed_by: board\nagreed_on: 2026-01-01\ncriteria: []\n",
     "found line 3, criteria: Tuple should have at least 1 item"),
])
def test_criteria_file_errors_name_the_line_without_a_traceback(tmp_path, text, said):
    folder = write_company(tmp_path / "data", {"selection_criteria.yml": text})
    result = kam("validate", "--data", str(folder), "--today", "2026-09-30", timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "selection_criteria.yml" in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_kam_run_takes_the_mapping_once(tmp_path):
    folder, mapping = _exported(tmp_path, {"gross_amount": "Gross"})
    result = kam("run", "value", "--data", str(folder), "--out", str(tmp_path / "out"),
                 "--quiet", "--mapping", str(mapping), "--param", f"mapping={mapping}",
                 timeout=300)
    assert result.returncode == 2 and "the mapping is given twice" in result.stderr
    assert not (tmp_path / "out").exists()
