"""The account value workbook: everything its notebook shows, computed here where tests reach it.

For analysts and finance: what each account really earns after discounts and cost
to serve, now and over its lifetime, and who creates or destroys value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from kamlib.data.describe import missing_tables
from kamlib.data.dataset import Dataset
from kamlib.data.periods import Quarter
from kamlib.data.ready import load_valid, on_engine, reporting_quarter
from kamlib.data.run_cache import RunCache
from kamlib.economics.lifetime_value import (
    Holdout,
    LifetimeValue,
    account_lifetime_values,
    holdout_check,
)
from kamlib.economics.net_revenue import (
    AccountValue,
    account_value,
    add_ratios,
    by_group,
    company_total,
    group_of,
)
from kamlib.economics.whale_curve import WhaleSummary, gross_versus_net, whale_curve, whale_summary
from kamlib.errors import ParameterError
from kamlib.words.catalogue import N_, _
from kamlib.words.formats import day, money, number, percent, score
from kamlib.words.labels import label
from kamlib.workbooks.notes import not_given, warnings_as_notes
from kamlib.workbooks.parameters import AccountValueParameters


@dataclass
class AccountValueWorkbook:
    params: AccountValueParameters
    data: Dataset
    quarter: Quarter
    window_start: date
    quarterly: AccountValue
    accounts: pd.DataFrame
    """One row per account over the 12-month window: names, waterfall, ratios, lifetime value."""
    groups: pd.DataFrame
    whale: WhaleSummary
    curve: pd.DataFrame
    ranks: pd.DataFrame
    lifetime: LifetimeValue
    holdout: Holdout | None
    """The backtest of the last year; None when the data before it has no repeat buyer."""
    notes: list[str] = field(default_factory=list)

    @property
    def window_end(self) -> date:
        return self.quarter.end

    @property
    def names(self) -> pd.Series:
        return self.data.tables["accounts"].set_index("account_id")["account_name"]


def build(params: AccountValueParameters) -> AccountValueWorkbook:
    """Validate the data, run the economics on the engine, value the accounts; warnings
    raised on the way become notes in words (:mod:`kamlib.workbooks.notes`)."""
    with warnings_as_notes() as said:
        wb = _build(params)
    wb.notes += [note for note in said if note not in wb.notes]
    return wb


def _build(params: AccountValueParameters) -> AccountValueWorkbook:
    cache = RunCache(params.run_cache) if params.run_cache else None
    data = load_valid(Path(params.data_dir), params.mapping, run_cache=cache)
    quarter = reporting_quarter(data, params.period)
    start = quarter.shift(-3).start
    tables = on_engine(data, params.engine, run_cache=cache)
    settings = params.settings
    quarterly = account_value(tables, grain="quarter", end=quarter.end, settings=settings)
    window = _window(quarterly, start)
    lifetime = account_lifetime_values(tables, quarter.end, settings=settings,
                                       horizon_years=params.horizon_years,
                                       discount_rate=params.discount_rate,
                                       random_state=params.random_state, run_cache=cache)
    holdout = holdout_check(tables, quarter.end, settings=settings,
                            random_state=params.random_state)
    accounts = _per_account(data, window, lifetime)
    groups = add_ratios(by_group(AccountValue(window, quarterly.pools), data.tables["accounts"])
                        .groupby("group_id")[quarterly.measures].sum().reset_index())
    return AccountValueWorkbook(
        params=params, data=data, quarter=quarter, window_start=start, quarterly=quarterly,
        accounts=accounts, groups=groups,
        whale=whale_summary(accounts.set_index("account_id")["net_revenue"]),
        curve=whale_curve(accounts.set_index("account_id")["net_revenue"]),
        ranks=gross_versus_net(accounts[["account_id", "gross_sales", "net_revenue"]]),
        lifetime=lifetime, holdout=holdout,
        notes=data.notes + quarterly.notes + [not_given(table, why)
                                              for table, why in missing_tables(data)],
    )


def _window(quarterly: AccountValue, start: date) -> pd.DataFrame:
    return quarterly.frame[quarterly.frame["period_start"] >= pd.Timestamp(start)]


def _per_account(data: Dataset, window: pd.DataFrame, lifetime: LifetimeValue) -> pd.DataFrame:
    accounts = data.tables["accounts"][["account_id", "account_name", "country", "industry"]]
    measures = [c for c in window.columns if c not in ("account_id", "period_start")]
    totals = window.groupby("account_id", as_index=False)[measures].sum()
    clv = lifetime.frame[["p_alive", "clv", "clv_lower", "clv_upper"]].rename(
        columns={"clv": "lifetime_value", "clv_lower": "lifetime_value_lower",
                 "clv_upper": "lifetime_value_upper"})
    merged = (accounts.merge(totals, on="account_id", how="inner")
              .merge(clv, left_on="account_id", right_index=True, how="left")
              .assign(group_id=lambda f: f["account_id"].map(group_of(data.tables["accounts"]))))
    return add_ratios(merged).sort_values("net_revenue", ascending=False, ignore_index=True)


# --- What the notebook shows ---------------------------------------------------------


ACCOUNT_COLUMNS = ["account_id", "account_name", "country", "gross_sales", "net_sales",
                   "cost_to_serve", "net_revenue", "net_margin", "cost_to_serve_ratio"]
LIFETIME_COLUMNS = ["account_id", "account_name", "net_revenue", "p_alive", "lifetime_value",
                    "lifetime_value_lower", "lifetime_value_upper"]


def window_total(wb: AccountValueWorkbook) -> pd.Series:
    """The company's waterfall over the 12-month window."""
    window = AccountValue(_window(wb.quarterly, wb.window_start), wb.quarterly.pools)
    return company_total(window)


def key_figures(wb: AccountValueWorkbook) -> pd.DataFrame:
    total = window_total(wb)
    rows = [
        (_("Accounts invoiced in the window"), number(len(wb.accounts))),
        (label("gross_sales"), money(total["gross_sales"])),
        (label("net_sales"), money(total["net_sales"])),
        (label("cost_to_serve"), money(total["cost_to_serve"])),
        (label("net_revenue"), money(total["net_revenue"])),
        (_("Net revenue / net sales"), percent(total["net_revenue"] / total["net_sales"], 1)),
        (_("Accounts destroying value"), _("{accounts} ({share})").format(
            accounts=number(wb.whale.value_destroyers),
            share=percent(wb.whale.destroyer_share, 1))),
        (_("Peak of the whale curve"), percent(wb.whale.peak_share, 1)),
        (_("Value destruction index"), percent(wb.whale.destruction_index, 1)),
        (_("Lifetime value, {years} years at {rate}").format(
            years=number(wb.params.horizon_years, 6, trim=True),
            rate=percent(wb.params.discount_rate)), money(wb.accounts["lifetime_value"].sum())),
    ]
    return pd.DataFrame(rows, columns=[_("Figure"), _("12 months to {end}").format(
        end=day(wb.window_end))])


def focus_id(wb: AccountValueWorkbook) -> str:
    """The account or group the second waterfall shows."""
    if wb.params.focus:
        known = set(wb.accounts["account_id"]) | set(wb.accounts["group_id"])
        if wb.params.focus not in known:
            raise ParameterError(_("focus must be an account or group id invoiced in the "
                                   "window. Got '{focus}'.").format(focus=wb.params.focus))
        return wb.params.focus
    return wb.groups.sort_values("gross_sales", ascending=False)["group_id"].iloc[0]


def focus_totals(wb: AccountValueWorkbook, focus: str) -> pd.Series:
    rows = wb.accounts[(wb.accounts["account_id"] == focus) | (wb.accounts["group_id"] == focus)]
    return rows[wb.quarterly.measures].sum()


def company_by_quarter(wb: AccountValueWorkbook) -> pd.DataFrame:
    measures = wb.quarterly.measures
    return wb.quarterly.frame.groupby("period_start", as_index=False)[measures].sum()


def value_table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Accounts as shown to readers: labelled columns, money rounded, ratios as percent."""
    shown = frame[columns].copy()
    for column in columns:
        if column in ("net_margin", "cost_to_serve_ratio", "gross_margin_ratio", "p_alive"):
            shown[column] = shown[column].map(lambda v: percent(v, 1))
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(money)
        elif pd.api.types.is_integer_dtype(shown[column]):  # ranks: 1340 of 1347, ungrouped
            shown[column] = shown[column].map(lambda v: number(v, grouped=False))
    return shown.rename(columns=label)


def misleading_giants(wb: AccountValueWorkbook) -> pd.DataFrame:
    giants = wb.ranks[wb.ranks["looks_big_earns_little"]].assign(
        account_name=lambda f: f["account_id"].map(wb.names))
    return value_table(giants, ["account_id", "account_name", "gross_rank", "net_rank",
                                "gross_sales", "net_revenue"])


def model_parameters(wb: AccountValueWorkbook) -> pd.DataFrame:
    models = ((_("BG/NBD (purchases, weeks)"), wb.lifetime.bgnbd.params_),
              (_("Gamma-Gamma (net revenue per purchase)"), wb.lifetime.gamma_gamma.params_))
    # Rounded to four decimals, written with six as the report has always shown them.
    rows = [(model, name, score(round(value, 4), 6)) for model, params in models
            for name, value in params.items()]
    return pd.DataFrame(rows, columns=[_("Model"), _("Parameter"), _("Estimate")])


def no_holdout(wb: AccountValueWorkbook) -> str:
    """What the backtest section says when there was nothing to calibrate on."""
    start = wb.quarter.shift(-3).start
    return _("Not shown: the backtest calibrates the model on the data before {start} and "
             "predicts the year since, but before that day no account had bought on two "
             "different days. It is shown once the data holds more than a year of history."
             ).format(start=day(start))


def holdout_table(wb: AccountValueWorkbook) -> pd.DataFrame:
    totals = wb.holdout.totals()
    return pd.DataFrame({
        _("Holdout {start} to {end}").format(start=day(wb.holdout.holdout_start),
                                             end=day(wb.holdout.holdout_end)):
            totals["measure"],
        _("Predicted"): totals["predicted"].map(money),
        _("Actual"): totals["actual"].map(money),
        _("Error"): totals["error"].map(lambda v: percent(v, 1)),
    })


# --- The sentences around the tables and charts ------------------------------------------


def heading(wb: AccountValueWorkbook) -> str:
    """The report's first line: the window, its last quarter, the data and the engine."""
    return _("**Twelve months from {start} to {end}** ({quarter} is the last quarter), data "
             "from `{folder}`, engine {engine}.").format(
        start=day(wb.window_start), end=day(wb.window_end), quarter=wb.quarter,
        folder=wb.data.root, engine=wb.params.engine)


def notes_markdown(wb: AccountValueWorkbook) -> str:
    """The notes as a Markdown list, or one line saying every table was given."""
    return "\n".join(f"- {note}" for note in wb.notes) or "- " + _("Every table was given.")


CHART_TITLES = {
    "company": N_("The company, 12 months"),
    "focus": N_("{name} ({focus}), with its subsidiaries"),
    "cost_pools": N_("Cost to serve by pool"),
    "whale_curve": N_("Whale curve: {destroyers} of {accounts} accounts destroy value, "
                      "peak {peak}"),
    "gross_versus_net": N_("Gross sales against net revenue"),
    "lifetime_value": N_("Lifetime value per account"),
    "lifetime_value_axis": N_("Lifetime value"),
    "holdout": N_("Purchases in the holdout year by past repeat purchases"),
}
"""The charts' titles in English, looked up in the catalogue when drawn."""


def chart_title(wb: AccountValueWorkbook, name: str, focus: str | None = None) -> str:
    """The title of the chart ``name`` (``focus``: the account or group of its waterfall)."""
    return _(CHART_TITLES[name]).format(
        name=wb.names.get(focus, focus), focus=focus,
        destroyers=number(wb.whale.value_destroyers, grouped=False),
        accounts=number(wb.whale.accounts, grouped=False), peak=percent(wb.whale.peak_share))
