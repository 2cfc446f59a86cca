"""Whale curve figures on small examples worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kamlib.economics.whale_curve import gross_versus_net, whale_curve, whale_summary

NET = pd.Series({"A": 80.0, "B": 50.0, "C": 10.0, "D": -20.0, "E": -20.0})


def test_summary_figures():
    s = whale_summary(NET)
    assert (s.accounts, s.value_destroyers, s.destroyer_share) == (5, 2, 0.4)
    assert s.total_net_revenue == 100
    assert s.peak_share == pytest.approx(1.4)          # 140 of 100 kept
    assert s.destruction_index == pytest.approx(40 / 140)


def test_curve_rises_then_sinks_to_the_total():
    curve = whale_curve(NET)
    assert curve["account_id"].tolist() == ["A", "B", "C", "D", "E"]
    assert curve["cumulative_share"].tolist() == pytest.approx([0.8, 1.3, 1.4, 1.2, 1.0])


def test_peak_is_undefined_when_the_company_loses_money():
    s = whale_summary(pd.Series({"A": 10.0, "B": -30.0}))
    assert math.isnan(s.peak_share) and s.destruction_index == 3


def test_gross_versus_net_flags_big_accounts_that_earn_little():
    frame = pd.DataFrame({"account_id": list("ABCDEFGHIJ"),
                          "gross_sales": [1000, 900, 300, 200, 150, 120, 100, 90, 80, 70.0],
                          "net_revenue": [-50, 120, 60, 40, 30, 25, 20, 15, 10, 5.0]})
    flagged = gross_versus_net(frame).query("looks_big_earns_little")["account_id"].tolist()
    assert flagged == ["A"]
