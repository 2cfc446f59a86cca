"""Lifetime value of each account: expected discounted net revenue over a horizon.

Purchase histories come from the engine (one row per account); the models come
from :mod:`kamlib.economics.value`: BG/NBD for how often an account will still buy, and
Gamma-Gamma for the net revenue per purchase. Stated choices:

- a *purchase* is a day with at least one positive invoice line (credit-note-only
  days are not purchases); time is measured in weeks, an account's age (T) up to the
  end of the window's last day;
- the value per purchase is the account's net revenue (after cost to serve) in the
  calibration window divided by its purchases, so lifetime value is net of cost to
  serve like everything else in the product;
- net revenue, over any span, is the sum of the account's quarters, as every report
  adds it up (a quarter of net refunds carries no receivable);
- the holdout check calibrates on all data before the last four quarters to the period
  end and compares predicted with actual purchases and net revenue in those quarters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd

from kamlib.data.periods import Quarter
from kamlib.data.run_cache import RunCache
from kamlib.errors import KamError
from kamlib.economics.net_revenue import ValueSettings, net_revenue
from kamlib.economics.value import BGNBD, GammaGamma, gamma_gamma_eligible, lifetime_value
from kamlib.words.catalogue import _
from kamlib.words.formats import number

WEEKS_PER_YEAR = 52.0


class NotEnoughHistory(KamError):
    """No account has bought on two different days with a positive net revenue."""

    def __init__(self, summary: pd.DataFrame):
        found = (_("none of the {accounts} accounts that bought up to the period's end "
                   "bought on two different days with a positive net revenue").format(
                       accounts=number(len(summary))) if len(summary)
                 else _("no account bought anything up to the period's end (choose a later "
                        "--period)"))
        super().__init__(_(
            "lifetime value needs accounts that bought again, as the models learn how often "
            "and how much an account buys from its repeat purchases; {found}. Fix: give the "
            "invoice lines of a longer period (a year or more), as exported from the ERP."
        ).format(found=found))


@dataclass
class LifetimeValue:
    frame: pd.DataFrame
    """Per account: frequency, recency, T, monetary_value, first_purchase, p_alive, clv,
    clv_lower, clv_upper."""
    bgnbd: BGNBD
    gamma_gamma: GammaGamma


def purchase_lines(tables: dict[str, ibis.Table], end: date) -> ibis.Table:
    """The invoice lines that make purchases (positive lines) up to ``end``."""
    lines = tables["invoice_lines"]
    return lines.filter([lines.gross_amount > 0, lines.invoice_date <= end])


def purchase_history(tables: dict[str, ibis.Table], end: date,
                     start: date | None = None) -> pd.DataFrame:
    """First and last purchase day and number of purchase days per account, up to ``end``."""
    sales = purchase_lines(tables, end)
    if start is not None:
        sales = sales.filter(sales.invoice_date >= start)
    days = sales.select("account_id", "invoice_date").distinct()
    history = days.group_by("account_id").aggregate(
        first_purchase=days.invoice_date.min(), last_purchase=days.invoice_date.max(),
        purchases=days.invoice_date.count())
    frame = history.to_pandas().sort_values("account_id", ignore_index=True)
    for column in ("first_purchase", "last_purchase"):
        frame[column] = pd.to_datetime(frame[column])
    return frame.set_index("account_id")


def rfm_summary(tables: dict[str, ibis.Table], end: date, **value_options) -> pd.DataFrame:
    """BG/NBD and Gamma-Gamma inputs per account, in weeks, up to ``end``, and the day
    of the first purchase they count from."""
    history = purchase_history(tables, end)
    net = net_revenue(tables, None, end, **value_options)
    weeks = pd.Timedelta(days=7)
    return pd.DataFrame({
        "frequency": history["purchases"] - 1,
        "recency": (history["last_purchase"] - history["first_purchase"]) / weeks,
        # Age runs to the end of the last day, so a first purchase on that day has T > 0.
        "T": (pd.Timestamp(end) + pd.Timedelta(days=1) - history["first_purchase"]) / weeks,
        "monetary_value": net.reindex(history.index).fillna(0) / history["purchases"],
        "first_purchase": history["first_purchase"],
    })


def fit_lifetime_value(summary: pd.DataFrame, *, horizon_years: float, discount_rate: float,
                       random_state: int = 0, n_draws: int = 200) -> LifetimeValue:
    """Fit both models on ``summary`` and value every account over the horizon; raise
    :class:`NotEnoughHistory` when no account has bought again with a positive net revenue,
    which both models need to learn from."""
    eligible = gamma_gamma_eligible(summary["frequency"], summary["monetary_value"])
    if not eligible.any():
        raise NotEnoughHistory(summary)
    bgnbd = BGNBD().fit(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma = GammaGamma().fit(summary.loc[eligible, "frequency"],
                                   summary.loc[eligible, "monetary_value"])
    clv = lifetime_value(bgnbd, gamma_gamma, summary["frequency"], summary["recency"],
                         summary["T"], summary["monetary_value"],
                         horizon=horizon_years * WEEKS_PER_YEAR, discount_rate=discount_rate,
                         periods_per_year=WEEKS_PER_YEAR, n_draws=n_draws,
                         random_state=random_state)
    return LifetimeValue(summary.join(clv), bgnbd, gamma_gamma)


def account_lifetime_values(tables: dict[str, ibis.Table], end: date, *,
                            horizon_years: float, discount_rate: float, random_state: int = 0,
                            settings: ValueSettings = ValueSettings(),
                            run_cache: RunCache | None = None) -> LifetimeValue:
    """Every account's lifetime value as the workbooks show it; with a run cache, fitted
    once for the workbooks sharing it (the value, selection and benchmark workbooks share
    the fit; at a million accounts it takes about a minute)."""
    def fit() -> LifetimeValue:
        return fit_lifetime_value(rfm_summary(tables, end, settings=settings),
                                  horizon_years=horizon_years, discount_rate=discount_rate,
                                  random_state=random_state)

    if run_cache is None:
        return fit()
    key = (end, horizon_years, discount_rate, random_state, settings.model_dump())
    return run_cache.computed_once("lifetime_value", key, fit)


@dataclass
class Holdout:
    frame: pd.DataFrame
    """Per account: predicted and actual purchases and net revenue in the holdout year."""
    holdout_start: date
    holdout_end: date

    def totals(self) -> pd.DataFrame:
        sums = self.frame[["predicted_purchases", "actual_purchases", "predicted_net_revenue",
                           "actual_net_revenue"]].sum()
        rows = [(_("Purchases"), sums["predicted_purchases"], sums["actual_purchases"]),
                (_("Net revenue"), sums["predicted_net_revenue"], sums["actual_net_revenue"])]
        out = pd.DataFrame(rows, columns=["measure", "predicted", "actual"])
        return out.assign(error=(out["predicted"] - out["actual"]) / out["actual"].abs())

    def by_frequency(self) -> pd.DataFrame:
        """Mean predicted and actual purchases by calibration frequency (as in the BG/NBD
        paper's conditional-expectation figure), frequencies of 7 and more pooled."""
        bucket = self.frame["frequency"].clip(upper=7).astype(int)
        return (self.frame.groupby(bucket)[["predicted_purchases", "actual_purchases"]].mean()
                .rename_axis("repeat_purchases").reset_index())


def holdout_check(tables: dict[str, ibis.Table], end: date, *, random_state: int = 0,
                  **value_options) -> Holdout | None:
    """Calibrate on the data before the four quarters to ``end`` (a quarter's last day);
    predict those quarters and compare. None when the data before them has no account that
    bought again: there is nothing to calibrate on."""
    holdout_start = Quarter.containing(end).shift(-3).start
    calibration_end = holdout_start - timedelta(days=1)
    summary = rfm_summary(tables, calibration_end, **value_options)
    try:
        model = fit_lifetime_value(summary, horizon_years=1, discount_rate=0.0, n_draws=0,
                                   random_state=random_state)  # point predictions only
    except NotEnoughHistory:
        return None  # the report says the backtest needs a longer history
    weeks = (end - calibration_end).days / 7
    predicted = model.bgnbd.expected_purchases(weeks, summary["frequency"], summary["recency"],
                                               summary["T"])
    actual = purchase_history(tables, end, start=holdout_start)
    actual_net = net_revenue(tables, holdout_start, end, **value_options)
    frame = summary.assign(
        predicted_purchases=np.asarray(predicted, dtype=float),
        actual_purchases=actual["purchases"].reindex(summary.index).fillna(0),
        predicted_net_revenue=np.asarray(predicted, dtype=float)
        * model.frame["expected_margin"].to_numpy(),
        actual_net_revenue=actual_net.reindex(summary.index).fillna(0),
    )
    return Holdout(frame, holdout_start, end)
