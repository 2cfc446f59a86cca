"""Lifetime value's inputs use net revenue as every report adds it up: sums of quarters."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from support import SAMPLE
from kamlib.data.engine import connect, open_tables
from kamlib.data.validate import validate_folder
from kamlib.economics.lifetime_value import holdout_check, rfm_summary
from kamlib.economics.net_revenue import account_value, net_revenue

END = date(2026, 9, 30)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    data = validate_folder(SAMPLE).data
    return open_tables(data, connect("duckdb"), tmp_path_factory.mktemp("staging"))


def quarters_summed(tables, start=None, end=END) -> pd.Series:
    quarterly = account_value(tables, grain="quarter", start=start, end=end).frame
    return quarterly.groupby("account_id")["net_revenue"].sum()


def test_net_revenue_is_the_sum_of_the_accounts_quarters(tables):
    quarterly = account_value(tables, grain="quarter", end=END).frame
    assert (quarterly["net_sales"] < 0).any()  # quarters of net refunds, where it matters
    pd.testing.assert_series_equal(net_revenue(tables, None, END), quarters_summed(tables),
                                   check_names=False, rtol=1e-12)
    since = date(2025, 10, 1)
    pd.testing.assert_series_equal(net_revenue(tables, since, END),
                                   quarters_summed(tables, since), check_names=False,
                                   rtol=1e-12)


def test_the_value_per_purchase_is_net_revenue_over_purchases(tables):
    summary = rfm_summary(tables, END)
    net = quarters_summed(tables).reindex(summary.index).fillna(0)
    purchases = summary["frequency"] + 1
    pd.testing.assert_series_equal(summary["monetary_value"] * purchases, net,
                                   check_names=False, rtol=1e-9)


def test_the_holdout_is_the_four_quarters_to_the_end(tables):
    holdout = holdout_check(tables, END)
    assert (holdout.holdout_start, holdout.holdout_end) == (date(2025, 10, 1), END)
    actual = quarters_summed(tables, date(2025, 10, 1)).reindex(holdout.frame.index).fillna(0)
    pd.testing.assert_series_equal(holdout.frame["actual_net_revenue"], actual,
                                   check_names=False, rtol=1e-12)
    # Calibrated on what came before: an account's age counts to 2025-09-30 only.
    first = rfm_summary(tables, date(2025, 9, 30))
    pd.testing.assert_series_equal(holdout.frame["T"], first["T"])
