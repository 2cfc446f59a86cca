"""Net revenue after cost to serve: hand-checked figures and reconciliation to the cent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from support import write_company
from kamlib.economics.net_revenue import (ValueSettings, account_value, add_ratios, by_group,
                              company_total, group_of, positions)
from kamlib.data.engine import connect, open_tables
from kamlib.data.validate import validate_folder


def value_of(folder: Path, tmp_path: Path, **kwargs):
    report = validate_folder(folder)
    assert report.ok, [p.render() for p in report.errors]
    tables = open_tables(report.data, connect("duckdb"), tmp_path / "staging")
    return report.data, account_value(tables, **kwargs)


@pytest.fixture
def tiny(tmp_path):
    return value_of(write_company(tmp_path / "data"), tmp_path)


def test_waterfall_matches_a_hand_calculation(tiny):
    _, value = tiny
    row = value.frame.set_index("account_id").loc["00200"]
    # 2000 gross, a -200 credit note, 300 - 30 discounts, 1300 - 130 cost of goods,
    # 2 rush deliveries at 180, 30 days of receivables at 8% on 1530 net sales.
    assert row["net_sales"] == pytest.approx(2000 - 200 - 270)
    assert row["cost_of_goods"] == pytest.approx(1170)
    assert row["cts_logistics"] == pytest.approx(360)
    assert row["cts_receivables"] == pytest.approx(1530 * 30 / 365 * 0.08)
    assert row["net_revenue"] == pytest.approx(1530 - 1170 - 360 - 1530 * 30 / 365 * 0.08)


def test_gross_minus_every_deduction_and_cost_equals_net(tiny):
    _, value = tiny
    f = value.frame
    rebuilt = (f["gross_sales"] + f["credit_notes"] - f["discounts"] - f["rebates"]
               - f["cost_of_goods"] - f[value.pools].sum(axis=1))
    assert (rebuilt - f["net_revenue"]).abs().max() < 0.005


def test_sum_over_accounts_and_groups_equals_the_company_total(tiny):
    data, value = tiny
    total = company_total(value)
    lines = data.tables["invoice_lines"]
    assert total["gross_sales"] + total["credit_notes"] == pytest.approx(
        lines["gross_amount"].sum(), abs=0.005)
    groups = by_group(value, data.tables["accounts"])
    assert (groups[value.measures].sum() - total).abs().max() < 0.005
    assert set(groups["group_id"]) == {"00100", "00200", "00300"}


def test_payment_terms_change_the_carrying_cost(tmp_path):
    folder = write_company(tmp_path / "data", {
        "payment_terms.csv": "account_id,terms_days,average_days_to_pay\n00200,60,90\n00300,45,\n"})
    _, value = value_of(folder, tmp_path, settings=ValueSettings(cost_of_capital=0.10))
    carrying = value.frame.set_index("account_id")["cts_receivables"]
    assert carrying["00200"] == pytest.approx(1530 * 90 / 365 * 0.10)
    assert carrying["00300"] == pytest.approx(475 * 45 / 365 * 0.10)
    assert carrying["00101"] == pytest.approx(1150.5 * 30 / 365 * 0.10)  # default terms


def test_without_activities_the_fallback_is_used_and_said(tmp_path):
    folder = write_company(tmp_path / "data", drop=("activities.csv", "activity_costs.csv"))
    _, value = value_of(folder, tmp_path, settings=ValueSettings(cost_to_serve_fallback_share=0.1))
    assert value.pools == ["cts_estimated", "cts_receivables"]
    assert value.frame.set_index("account_id").loc["00300", "cts_estimated"] == pytest.approx(50)
    assert "estimated as 10% of gross sales" in value.notes[0]


def test_grains_and_windows(tiny, tmp_path):
    data, quarterly = tiny
    tables = open_tables(data, connect("duckdb"), tmp_path / "s2")
    monthly = account_value(tables, grain="month")
    assert sorted(monthly.frame["period_start"].dt.month.unique()) == [1, 2, 3]
    assert monthly.frame["net_revenue"].sum() == pytest.approx(quarterly.frame["net_revenue"].sum())
    feb = account_value(tables, grain="year", start=pd.Timestamp("2026-02-01").date(),
                        end=pd.Timestamp("2026-02-28").date())
    assert feb.frame["account_id"].tolist() == ["00200"]


@pytest.mark.parametrize("starts", [[date(2024, 10, 1), date(2025, 10, 1)],
                                    [date(2024, 10, 1)]], ids=["two windows", "one window"])
def test_windows_are_their_quarters_added_up_in_one_pass(tmp_path, starts):
    """12-month windows at once: each the sum of its quarters (a quarter of net
    refunds carries no receivable), as the value report adds them up."""
    from support import SAMPLE

    data = validate_folder(SAMPLE).data
    tables = open_tables(data, connect("duckdb"), tmp_path / "staging")
    windows = account_value(tables, grain=starts, end=date(2026, 9, 30)).frame
    quarterly = account_value(tables, grain="quarter", start=starts[0],
                              end=date(2026, 9, 30)).frame
    window = pd.Series(pd.Timestamp(starts[0]), quarterly.index)
    for later in starts[1:]:
        window = window.mask(quarterly["period_start"] >= pd.Timestamp(later),
                             pd.Timestamp(later))
    summed = (quarterly.assign(period_start=window.astype("datetime64[s]"))
              .groupby(["account_id", "period_start"], as_index=False).sum())
    pd.testing.assert_frame_equal(windows, summed, rtol=1e-12)
    assert (quarterly["net_sales"] < 0).any()  # the case where it matters is there
    with pytest.raises(ValueError, match=r"first day of a quarter. Got \[2025-11-01\]"):
        account_value(tables, grain=[date(2025, 11, 1)])
    with pytest.raises(ValueError, match="give no start"):
        account_value(tables, grain=starts, start=date(2025, 1, 1))


def test_ratios_are_undefined_without_positive_net_sales():
    frame = pd.DataFrame({"net_sales": [100.0, 0.0, -5.0], "gross_margin": [40.0, 0, -2],
                          "cost_to_serve": [10.0, 3, 1], "net_revenue": [30.0, -3, -3]})
    ratios = add_ratios(frame)
    assert ratios["net_margin"].iloc[0] == pytest.approx(0.3)
    assert ratios["net_margin"].iloc[1:].isna().all()


def test_group_of_follows_the_chain_to_the_top():
    accounts = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                             "parent_id": [None, "A", "B", None]})
    assert group_of(accounts).to_dict() == {"A": "A", "B": "A", "C": "A", "D": "D"}


def test_engine_waterfall_is_the_pandas_arithmetic_to_the_last_bit(tmp_path):
    """The waterfall runs on the engine (one result, converted once); its columns must be
    exactly what the same formulas give in pandas from the summed columns."""
    from support import REPO

    _, value = value_of(REPO / "data" / "sample", tmp_path)
    f = value.frame
    assert list(f.columns) == ["account_id", "period_start", *value.measures[:4],
                               "cost_of_goods", *value.pools[:-1], "net_sales",
                               "gross_margin", "cts_receivables", "cost_to_serve",
                               "net_revenue"]
    assert f["period_start"].dtype == "datetime64[s]"
    assert f.equals(f.sort_values(["account_id", "period_start"], ignore_index=True))
    net_sales = f["gross_sales"] + f["credit_notes"] - f["discounts"] - f["rebates"]
    pd.testing.assert_series_equal(f["net_sales"], net_sales, check_names=False, rtol=0)
    pd.testing.assert_series_equal(f["gross_margin"], net_sales - f["cost_of_goods"],
                                   check_names=False, rtol=0)
    cost = f[value.pools].sum(axis=1)
    pd.testing.assert_series_equal(f["cost_to_serve"], cost, check_names=False, rtol=0)
    pd.testing.assert_series_equal(f["net_revenue"], f["gross_margin"] - cost,
                                   check_names=False, rtol=0)


def test_an_empty_window_gives_an_empty_typed_frame(tiny, tmp_path):
    data, _ = tiny
    tables = open_tables(data, connect("duckdb"), tmp_path / "again")
    empty = account_value(tables, start=pd.Timestamp("2030-01-01").date())
    assert empty.frame.empty
    assert (empty.frame[empty.measures].dtypes == "float64").all()


@pytest.mark.parametrize("dtype", ["str", object])
def test_positions_are_those_get_indexer_gives(dtype):
    ids = pd.Index(["00101", "00200", "00300", "0101"], dtype=dtype)
    labels = pd.Series(["00300", "101", None, "00101", "00300", "0101"], dtype=dtype)
    found = positions(labels, ids)
    assert found.tolist() == [2, -1, -1, 0, 2, 3]  # leading zeros count; no id: -1
    assert found.tolist() == ids.get_indexer(labels).tolist()
