"""Selection features per account and group, hand-checked on the tiny company."""

from __future__ import annotations

import pandas as pd
import pytest

from kamlib.data.contract import CRITERION_FEATURES
from kamlib.data.engine import connect, open_tables
from kamlib.data.periods import Quarter
from kamlib.data.validate import validate_folder
from kamlib.economics.net_revenue import account_value, group_of
from kamlib.selection.features import (
    GroupCodes,
    ProductLinesBought,
    account_features,
    group_features,
    unit_features,
)
from support import SAMPLE


@pytest.fixture
def features(company, tmp_path):
    data = validate_folder(company).data
    tables = open_tables(data, connect("duckdb"), tmp_path / "staging")
    accounts = data.tables["accounts"]
    ltv = pd.Series({"00101": 1000.0, "00200": -50.0, "00300": 400.0})
    quarter = Quarter.parse("2026Q1")
    by_account = account_features(tables, accounts, quarter, ltv)
    bought = ProductLinesBought.of(tables, quarter)
    return by_account, group_features(accounts, quarter, by_account, bought)


def test_every_criterion_feature_is_computed(features):
    by_account, by_group = features
    for frame in (by_account, by_group):
        assert set(CRITERION_FEATURES) <= set(frame.columns)


def test_account_figures(features):
    by_account, _ = features
    gulf = by_account.loc["00200"]
    assert gulf["net_sales"] == pytest.approx(1530)
    assert gulf["net_margin"] == pytest.approx(gulf["net_revenue"] / 1530)
    assert gulf["share_of_wallet"] == pytest.approx(1530 / 250000)
    assert gulf["product_lines"] == 1
    assert gulf["relationship_years"] == pytest.approx((pd.Timestamp("2026-03-31")
                                                        - pd.Timestamp("2026-02-03")).days / 365.25)
    assert pd.isna(gulf["net_revenue_growth"])  # nothing the year before: growth undefined


def test_group_rolls_up_its_subsidiaries(features):
    by_account, by_group = features
    rossi = by_group.loc["00100"]
    assert rossi["members"] == 1 and rossi["name"] == "Rossi Holding S.p.A."
    assert rossi["net_revenue"] == pytest.approx(by_account.loc["00101", "net_revenue"])
    assert rossi["share_of_wallet"] == pytest.approx(1150.5 / 900000)  # the holding's wallet
    assert rossi["product_lines"] == 2 and rossi["lifetime_value"] == 1000
    assert pd.isna(by_group.loc["00300", "share_of_wallet"])  # no estimate: empty, not zero


@pytest.fixture(scope="module")
def sample_features(tmp_path_factory):
    data = validate_folder(SAMPLE).data
    tables = open_tables(data, connect("duckdb"), tmp_path_factory.mktemp("staging"))
    quarter = Quarter.parse("2026Q3")
    by_account = account_features(tables, data.tables["accounts"], quarter)
    bought = ProductLinesBought.of(tables, quarter)
    by_group = group_features(data.tables["accounts"], quarter, by_account, bought)
    return data, tables, quarter, by_account, by_group


def test_twelve_month_figures_are_the_quarters_of_the_value_report_added_up(sample_features):
    """As the account value workbook shows them: a quarter of net refunds carries no
    receivable, whatever else the 12 months hold."""
    _, tables, quarter, by_account, _ = sample_features
    quarterly = account_value(tables, grain="quarter", start=quarter.shift(-7).start,
                              end=quarter.end).frame
    recent = quarterly["period_start"] >= pd.Timestamp(quarter.shift(-3).start)
    money = ["gross_sales", "net_sales", "cost_to_serve", "net_revenue"]
    current = quarterly[recent].groupby("account_id")[money].sum()
    previous = quarterly[~recent].groupby("account_id")["net_revenue"].sum()
    pd.testing.assert_frame_equal(by_account[money], current.reindex(by_account.index)
                                  .fillna(0.0), rtol=1e-12, check_names=False)
    pd.testing.assert_series_equal(by_account["previous_net_revenue"],
                                   previous.reindex(by_account.index).fillna(0.0),
                                   rtol=1e-12, check_names=False)


def test_first_purchase_and_product_lines_match_the_invoice_lines(sample_features):
    data, _, quarter, by_account, by_group = sample_features
    lines = data.tables["invoice_lines"]
    bought = lines[(lines["gross_amount"] > 0)
                   & (lines["invoice_date"] <= pd.Timestamp(quarter.end))]
    first = bought.groupby("account_id")["invoice_date"].min()
    pd.testing.assert_series_equal(by_account["first_purchase"],
                                   first.reindex(by_account.index).astype("datetime64[s]"),
                                   check_names=False)
    window = bought[bought["invoice_date"] >= pd.Timestamp(quarter.shift(-3).start)]
    own = window.groupby("account_id")["product_line"].nunique()
    assert (by_account["product_lines"] == own.reindex(by_account.index).fillna(0)).all()
    group = group_of(data.tables["accounts"])
    shared = window.groupby(window["account_id"].map(group))["product_line"].nunique()
    assert (by_group["members"] > 1).sum() >= 10  # groups of several accounts are covered
    assert (by_group["product_lines"] == shared.reindex(by_group.index).fillna(0)).all()


def test_features_from_the_lifetime_fit_are_those_read_from_the_lines(sample_features):
    """The selection takes first purchases from the lifetime-value fit, which counts them
    the same way, instead of another pass over the lines."""
    from kamlib.economics.lifetime_value import fit_lifetime_value, rfm_summary

    data, tables, quarter, by_account, by_group = sample_features
    lifetime = fit_lifetime_value(rfm_summary(tables, quarter.end), horizon_years=3.0,
                                  discount_rate=0.1, n_draws=0).frame
    groups, accounts = unit_features(tables, data.tables["accounts"], quarter, lifetime,
                                     select_groups=True)
    for ours, read in ((accounts, by_account), (groups, by_group)):
        pd.testing.assert_frame_equal(ours.drop(columns="lifetime_value"),
                                      read.drop(columns="lifetime_value"))
    pd.testing.assert_series_equal(accounts["lifetime_value"],
                                   lifetime["clv"].reindex(accounts.index), check_names=False)


def test_group_codes_number_groups_in_id_order(company):
    accounts = validate_folder(company).data.tables["accounts"]
    groups = GroupCodes.of(accounts)
    expected = group_of(accounts)
    assert groups.ids.tolist() == sorted(set(expected))
    assert groups.ids[groups.code].tolist() == expected.tolist()  # each account's own group
    top_ids = accounts["account_id"].to_numpy()[groups.top].tolist()
    assert top_ids == groups.ids.tolist()  # a group's top account carries the group's id
    assert groups.ids[groups.code[accounts["account_id"].tolist().index("00101")]] == "00100"


def test_group_codes_leave_unknown_accounts_out_of_the_members(company):
    accounts = validate_folder(company).data.tables["accounts"]
    groups = GroupCodes.of(accounts)
    by_account = pd.DataFrame({"net_sales": [1.0, 2.0, 3.0]},
                              index=pd.Index(["00101", "99999", "00200"], name="account_id"))
    members = groups.members(by_account)
    assert members["net_sales"].tolist() == [1.0, 3.0]
    assert groups.ids[members["group_code"]].tolist() == ["00100", "00200"]
