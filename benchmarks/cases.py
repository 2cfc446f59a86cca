"""The benchmark cases; each runs in its own process: ``python -m benchmarks.cases CASE ARGS OUT``.

A case does its untimed set-up, calls ``m.start()`` (the memory peak counts from
there), runs its timed stages in ``m.stage(...)`` and returns ``m.result()``. Cases
that others are compared against can save their result frame (``save``), outside the
timed stages, for the equality checks of :mod:`benchmarks.run`.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.measure import Measurement
from kamlib.economics.cost_to_serve import pool_column
from kamlib.economics.net_revenue import KEYS, ValueSettings

SETTINGS = ValueSettings()


# --- Value aggregation: kamlib, hand-written SQL, pandas, Spark ----------------------------


def value_kamlib(folder: str, save: str | None = None, engine: str = "duckdb") -> dict:
    """kamlib.economics.net_revenue.account_value per account and quarter, through
    kamlib.data.ready."""
    from kamlib.data.ready import on_engine
    from kamlib.economics.net_revenue import account_value

    m = Measurement()
    data = _loaded(folder)
    if engine == "spark":  # the session starts once per process; timed on its own
        from kamlib.data.engine import spark_session

        with m.stage("spark session"):
            spark_session()
    m.start()
    with m.stage("open tables"):
        tables = on_engine(data, engine)
    with m.stage("account value"):
        frame = account_value(tables, grain="quarter", settings=SETTINGS).frame
    m.extra["rows"] = len(frame)
    return _save(frame, save, m.result())


def value_spark(folder: str, save: str | None = None) -> dict:
    return value_kamlib(folder, save, engine="spark")


def value_sql(folder: str, save: str | None = None) -> dict:
    """The same columns from one hand-written DuckDB query over the Parquet files."""
    from kamlib.data.duckdb_settings import duckdb_config

    m = Measurement()
    m.start()
    with m.stage("query"):
        con = duckdb.connect(config=duckdb_config())
        pools = _pools(con, folder)
        frame = con.sql(hand_sql(folder, pools)).df()
    m.extra["rows"] = len(frame)
    return _save(frame, save, m.result())


def _pools(con: duckdb.DuckDBPyConnection, folder: str) -> dict[str, list[str]]:
    names = con.sql(f"SELECT DISTINCT cost_pool FROM '{folder}/activity_costs.parquet' "
                    "WHERE cost_pool IS NOT NULL").fetchall()
    pools: dict[str, list[str]] = {}
    for (name,) in names:
        pools.setdefault(pool_column(name), []).append(name)
    return dict(sorted(pools.items()))


def hand_sql(folder: str, pools: dict[str, list[str]]) -> str:
    """Gross-to-net waterfall per account and quarter, written by hand for DuckDB."""
    s = SETTINGS
    pool_sums = ",\n".join(
        f"sum(CASE WHEN c.cost_pool IN ({', '.join(repr(n) for n in names)}) "
        f"THEN a.count * c.unit_cost ELSE 0 END) AS {pool}" for pool, names in pools.items())
    pool_columns = ", ".join(f"coalesce(a.{p}, 0) AS {p}" for p in pools)
    pool_total = " + ".join(pools) or "0"
    return f"""
    WITH sales AS (
      SELECT account_id, date_trunc('quarter', invoice_date)::DATE AS period_start,
             sum(greatest(gross_amount, 0)) AS gross_sales,
             sum(least(gross_amount, 0)) AS credit_notes,
             sum(discount_amount) AS discounts,
             sum(coalesce(rebate_amount, 0)) AS rebates,
             sum(cost_of_goods) AS cost_of_goods
      FROM read_parquet('{folder}/invoice_lines/*.parquet')
      GROUP BY ALL),
    activity AS (
      SELECT a.account_id, date_trunc('quarter', a.activity_date)::DATE AS period_start,
             {pool_sums}
      FROM read_parquet('{folder}/activities/*.parquet') a
      JOIN '{folder}/activity_costs.parquet' c USING (activity)
      GROUP BY ALL),
    terms AS (
      SELECT account_id, coalesce(average_days_to_pay, terms_days)::DOUBLE AS days
      FROM '{folder}/payment_terms.parquet'),
    joined AS (
      SELECT coalesce(s.account_id, a.account_id) AS account_id,
             coalesce(s.period_start, a.period_start) AS period_start,
             coalesce(gross_sales, 0) AS gross_sales, coalesce(credit_notes, 0) AS credit_notes,
             coalesce(discounts, 0) AS discounts, coalesce(rebates, 0) AS rebates,
             coalesce(cost_of_goods, 0) AS cost_of_goods, {pool_columns}
      FROM sales s FULL JOIN activity a USING (account_id, period_start)),
    net AS (
      SELECT *, gross_sales + credit_notes - discounts - rebates AS net_sales
      FROM joined),
    costed AS (
      SELECT net.*, net_sales - cost_of_goods AS gross_margin,
             greatest(net_sales, 0) * coalesce(t.days, {s.default_payment_days}) / 365
               * {s.cost_of_capital} AS cts_receivables
      FROM net LEFT JOIN terms t USING (account_id))
    SELECT *, {pool_total} + cts_receivables AS cost_to_serve,
           gross_margin - ({pool_total} + cts_receivables) AS net_revenue
    FROM costed ORDER BY account_id, period_start
    """


def value_pandas(folder: str, save: str | None = None) -> dict:
    """The same waterfall in pandas, for reference: every line is read into memory."""
    m = Measurement()
    m.start()
    with m.stage("read"):
        lines = _read(folder, "invoice_lines", ["account_id", "invoice_date", "gross_amount",
                                                 "discount_amount", "rebate_amount",
                                                 "cost_of_goods"])
        acts = _read(folder, "activities", ["account_id", "activity_date", "activity", "count"])
        costs = pd.read_parquet(f"{folder}/activity_costs.parquet")
        terms = pd.read_parquet(f"{folder}/payment_terms.parquet")
    with m.stage("aggregate"):
        frame = pandas_waterfall(lines, acts, costs, terms)
    m.extra["rows"] = len(frame)
    return _save(frame, save, m.result())


def _read(folder: str, table: str, columns: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    # date_as_object=False: pandas 3 would otherwise make Python date objects (slow, large).
    return pq.read_table(f"{folder}/{table}", columns=columns).to_pandas(date_as_object=False)


def pandas_waterfall(lines: pd.DataFrame, acts: pd.DataFrame, costs: pd.DataFrame,
                     terms: pd.DataFrame) -> pd.DataFrame:
    s = SETTINGS
    sales = pd.DataFrame({
        "account_id": lines["account_id"],
        "period_start": lines["invoice_date"].dt.to_period("Q").dt.start_time,
        "gross_sales": lines["gross_amount"].clip(lower=0),
        "credit_notes": lines["gross_amount"].clip(upper=0),
        "discounts": lines["discount_amount"],
        "rebates": lines["rebate_amount"].fillna(0),
        "cost_of_goods": lines["cost_of_goods"],
    }).groupby(KEYS, sort=False).sum()
    joined = acts.merge(costs, on="activity")
    cost = joined["count"] * joined["unit_cost"]
    pools = {}
    for name in costs["cost_pool"].dropna().unique():
        pools.setdefault(pool_column(name), []).append(name)
    activity = pd.DataFrame({
        "account_id": joined["account_id"],
        "period_start": joined["activity_date"].dt.to_period("Q").dt.start_time,
        **{p: cost.where(joined["cost_pool"].isin(n), 0.0) for p, n in sorted(pools.items())},
    }).groupby(KEYS, sort=False).sum()
    frame = sales.join(activity, how="outer").fillna(0.0).reset_index()
    frame = frame.sort_values(KEYS, ignore_index=True)
    frame["net_sales"] = (frame["gross_sales"] + frame["credit_notes"] - frame["discounts"]
                          - frame["rebates"])
    frame["gross_margin"] = frame["net_sales"] - frame["cost_of_goods"]
    days = terms.set_index("account_id")["average_days_to_pay"].fillna(
        terms.set_index("account_id")["terms_days"]).astype("float64")
    account_days = frame["account_id"].map(days).fillna(s.default_payment_days)
    frame["cts_receivables"] = (frame["net_sales"].clip(lower=0) * account_days / 365
                                * s.cost_of_capital)
    frame["cost_to_serve"] = frame[[*sorted(pools), "cts_receivables"]].sum(axis=1)
    frame["net_revenue"] = frame["gross_margin"] - frame["cost_to_serve"]
    return frame


def _save(frame: pd.DataFrame, path: str | None, result: dict) -> dict:
    """Keep the figures for the equality checks, after measuring (saving is not timed)."""
    if path:
        frame.to_parquet(path)
    return result


# --- Validation ----------------------------------------------------------------------------


def validate(folder: str) -> dict:
    """kam validate's work: load and check every table against the data contract."""
    from kamlib.data.validate import validate_folder

    m = Measurement()
    m.start()
    with m.stage("validate"):
        report = validate_folder(Path(folder), today=date(2026, 9, 30))
    m.extra["errors"] = len(report.errors)
    return m.result()


# --- Selection and lifetime value ------------------------------------------------------------


def _loaded(folder: str):
    """The data as the workbooks get it, without re-running the rules: validation has
    a case of its own (kam validate), and at a million accounts it would triple the
    untimed set-up of every run."""
    from kamlib.data.load import load_data

    data = load_data(Path(folder))
    assert not data.problems, [p.render() for p in data.problems]
    return data


def _company(folder: str):
    """The data, its quarter and its tables on DuckDB (the untimed set-up)."""
    from kamlib.data.ready import on_engine, reporting_quarter

    data = _loaded(folder)
    return data, reporting_quarter(data), on_engine(data)


def _lifetime_values(folder: str, tables, quarter) -> pd.DataFrame:
    """Each account's lifetime value and first purchase, the selection's input: computed
    by the first run and kept next to the data set (the fit is seeded, so every run would
    get the same)."""
    from kamlib.economics.lifetime_value import fit_lifetime_value, rfm_summary

    cache = Path(folder).with_suffix(".lifetime.parquet")
    if cache.is_file():  # days, as the fit gives them (Parquet keeps milliseconds)
        return pd.read_parquet(cache).astype({"first_purchase": "datetime64[s]"})
    frame = fit_lifetime_value(rfm_summary(tables, quarter.end), horizon_years=3.0,
                               discount_rate=0.10).frame[["clv", "first_purchase"]]
    frame.to_parquet(cache)
    return frame


def lifetime(folder: str) -> dict:
    """Lifetime value as the workbooks compute it: purchase histories, BG/NBD and
    Gamma-Gamma fits, and every account scored with a 90% interval (200 draws)."""
    from kamlib.economics.lifetime_value import fit_lifetime_value, rfm_summary

    m = Measurement()
    data, quarter, tables = _company(folder)
    m.start()
    with m.stage("purchase histories"):
        summary = rfm_summary(tables, quarter.end)
    with m.stage("fit and score"):
        model = fit_lifetime_value(summary, horizon_years=3.0, discount_rate=0.10)
    m.extra["accounts"] = len(model.frame)
    return m.result()


def selection(folder: str) -> dict:
    """The key-account selection workbook's decision, stage by stage (as in
    kamlib.workbooks.selection.build; lifetime value, its own case, is set-up here)."""
    from kamlib.selection.features import twelve_month_windows, unit_features
    from kamlib.selection.explanations import explain_selection
    from kamlib.selection.long_tail import serve_long_tail
    from kamlib.selection.portfolio_matrix import portfolio_matrix
    from kamlib.selection.roster_proposal import propose_roster
    from kamlib.selection.segments import AccountSegmentation
    from kamlib.workbooks.selection import SEGMENT_FEATURES, _key_members, long_tail_input

    m = Measurement()
    data, quarter, tables = _company(folder)
    lifetime = _lifetime_values(folder, tables, quarter)
    m.start()
    with m.stage("features"):
        value = twelve_month_windows(tables, quarter)
        features, by_account = unit_features(tables, data.tables["accounts"], quarter,
                                             lifetime, select_groups=data.criteria.select_groups,
                                             value=value)
    with m.stage("segments and stability"):
        inputs = features[SEGMENT_FEATURES].fillna(features[SEGMENT_FEATURES].median())
        segmentation = AccountSegmentation(random_state=0).fit(inputs)
        features = features.assign(cluster=segmentation.labels_)
    with m.stage("criteria"):
        proposal = propose_roster(features, data.criteria, data.tables.get("roster"))
        matrix = portfolio_matrix(features)
    with m.stage("explanations"):
        explain_selection(proposal, matrix)
    with m.stage("long tail"):
        serve_long_tail(long_tail_input(by_account, value, quarter),
                        _key_members(proposal, data))
    m.extra["units"] = len(features)
    m.extra["key_accounts"] = len(proposal.key_accounts)
    return m.result()


CASES = {f.__name__: f for f in (value_kamlib, value_spark, value_sql, value_pandas, validate,
                                 lifetime, selection)}


if __name__ == "__main__":
    case, args, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    out.write_text(json.dumps(CASES[case](**args)))
