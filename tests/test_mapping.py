"""Column mapping, proven on the real Online Retail II export.

Data: Chen, D. (2012). Online Retail II [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5CG6D (CC BY 4.0), read from ../shared/datasets.
"""

from __future__ import annotations

from datetime import date

import pytest

from support import ONLINE_RETAIL, REPO, needs_shared, write_company
from kamlib.errors import MappingError
from kamlib.mapping import read_mapping
from kamlib.validate import validate_folder

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
