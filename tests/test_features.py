"""Selection features per account and group, hand-checked on the tiny company."""

from __future__ import annotations

import pandas as pd
import pytest

from kamlib.contract import CRITERION_FEATURES
from kamlib.engine import connect, open_tables
from kamlib.features import account_features, group_features
from kamlib.periods import Quarter
from kamlib.validate import validate_folder


@pytest.fixture
def features(company, tmp_path):
    data = validate_folder(company).data
    tables = open_tables(data, connect("duckdb"), tmp_path / "staging")
    accounts = data.tables["accounts"]
    ltv = pd.Series({"00101": 1000.0, "00200": -50.0, "00300": 400.0})
    by_account = account_features(tables, accounts, Quarter.parse("2026Q1"), ltv)
    return by_account, group_features(tables, accounts, Quarter.parse("2026Q1"), by_account)


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
