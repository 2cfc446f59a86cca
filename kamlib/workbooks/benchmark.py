"""The quarterly KAM benchmark workbook: plans and the 90-30 rhythm, manager scorecards,
executive sponsorship, benchmarks, programme review and the KAM maturity scorecard.

For the sales director, the KAM programme lead and the executive board, each quarter.
Every table the report shows is in :attr:`BenchmarkWorkbook.tables` under a stable
name; the executive summary is computed from those tables (each figure names its
table), and the Excel export writes the same tables, so quarters compare one to one.
Key accounts are the accounts on the roster for the quarter (key or on watch); with
no roster, the accounts the agreed criteria select, with a note. When no account is key
yet (no roster, and none meets the criteria), the benchmark still publishes what does not
need key accounts: the company's figures, the criteria's candidates and the maturity
scorecard; every other table is one line saying no account is key yet.

This module computes the tables, with their column names and code values;
:mod:`kamlib.workbooks.benchmark_report` writes them as the report shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from kamlib.data.describe import missing_tables
from kamlib.data.criteria import read_criteria
from kamlib.data.dataset import Dataset
from kamlib.data.periods import Quarter
from kamlib.data.ready import load_valid, on_engine, reporting_quarter
from kamlib.data.run_cache import RunCache
from kamlib.economics.net_revenue import ValueSettings, account_value, group_of
from kamlib.errors import ParameterError
from kamlib.programme import comparison, maturity, stage_goals, plans, sponsorship
from kamlib.programme.managers import manager_of, scorecards, skills_gaps
from kamlib.words.catalogue import _
from kamlib.words.formats import day, money, number, percent
from kamlib.selection.features import selection_features
from kamlib.selection.roster_history import ON_ROSTER
from kamlib.selection.roster_proposal import Proposal, propose_roster
from kamlib.workbooks.benchmark_report import executive_summary, write_excel
from kamlib.workbooks.notes import not_given, warnings_as_notes
from kamlib.workbooks.parameters import BenchmarkParameters


@dataclass
class BenchmarkWorkbook:
    params: BenchmarkParameters
    data: Dataset
    quarter: Quarter
    key_accounts: pd.DataFrame
    """One row per key account (index account_id): name, status, manager_id and its
    value over the 12 months (net sales, cost to serve, net revenue, lifetime value...)."""
    proposal: Proposal | None
    shrinkage: comparison.Shrinkage | None
    points: pd.DataFrame | None = None
    """Every 30-day checkpoint with its review
    (:func:`kamlib.programme.stage_goals.match_reviews`)."""
    discipline: pd.DataFrame | None = None
    """Per key account over the 12 months: reviews due and on time, targets and reached."""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    exports: list[Path] = field(default_factory=list)

    @property
    def as_of(self) -> date:
        return self.quarter.end


def build(params: BenchmarkParameters) -> BenchmarkWorkbook:
    """Every table of the benchmark; warnings raised on the way become notes in words
    (:mod:`kamlib.workbooks.notes`)."""
    with warnings_as_notes() as said:
        wb = _build(params)
    wb.notes += [note for note in said if note not in wb.notes]
    return wb


def _build(params: BenchmarkParameters) -> BenchmarkWorkbook:
    cache = RunCache(params.run_cache) if params.run_cache else None
    data = load_valid(Path(params.data_dir), params.mapping, run_cache=cache)
    if params.criteria_file:  # a copy: the data may be shared with other workbooks
        data = replace(data, criteria=read_criteria(Path(params.criteria_file)))
    quarter = reporting_quarter(data, params.period)
    tables = on_engine(data, params.engine, run_cache=cache)
    select_groups = data.criteria.select_groups if data.criteria else True
    features, by_account = selection_features(
        tables, data, quarter, select_groups=select_groups, horizon_years=params.horizon_years,
        discount_rate=params.discount_rate, random_state=params.random_state, run_cache=cache)
    roster = _roster_up_to(data.tables.get("roster"), quarter)
    proposal = (propose_roster(features, data.criteria, roster)
                if data.criteria is not None else None)
    wb = BenchmarkWorkbook(params, data, quarter, _key_accounts(data, roster, proposal, features),
                           proposal, None)
    wb.notes += data.notes + [not_given(table, why) for table, why in missing_tables(data)]
    if wb.key_accounts.empty:
        wb.notes.insert(0, no_key_accounts_note(wb))
    else:
        if current_roster(roster).empty:
            wb.notes.append(_("No roster approved for {quarter} or before: the key accounts "
                              "here are those the agreed criteria select now.").format(
                quarter=quarter))
        _plan_tables(wb)
        _people_tables(wb)
        _benchmark_tables(wb, tables, by_account, select_groups)
    _programme_tables(wb, by_account, select_groups)
    wb.tables["maturity"] = maturity.scorecard(_evidence(wb, roster))
    wb.tables = {"summary": executive_summary(wb), **wb.tables}
    if params.output_dir:
        wb.exports = [write_excel(wb, Path(params.output_dir))]
    return wb


# --- Key accounts ------------------------------------------------------------------------


def _roster_up_to(roster: pd.DataFrame | None, quarter: Quarter) -> pd.DataFrame | None:
    """The roster history up to the quarter: later periods are not known yet."""
    if roster is None:
        return None
    periods = roster["period"].str.strip().str.upper()
    known = roster[periods.map(lambda p: Quarter.parse(p) <= quarter)]
    return known if len(known) else None


def current_roster(roster: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of the latest period of the roster, on the roster (key or watch)."""
    if roster is None:
        return pd.DataFrame(columns=["account_id", "status"])
    latest = max(roster["period"], key=Quarter.parse)
    rows = roster[(roster["period"] == latest) & roster["status"].isin(ON_ROSTER)]
    return rows[["account_id", "status"]]


def _key_accounts(data: Dataset, roster: pd.DataFrame | None, proposal: Proposal | None,
                  features: pd.DataFrame) -> pd.DataFrame:
    listed = current_roster(roster)
    if listed.empty and proposal is not None:
        chosen = proposal.accounts[proposal.accounts["status"] == "key"]
        listed = pd.DataFrame({"account_id": chosen.index, "status": "key"})
    if listed.empty and proposal is None:
        raise ParameterError(_("the benchmark needs key accounts: add roster.csv (the "
                               "approved key-account roster) or selection_criteria.yml to the "
                               "data folder."))
    accounts = data.tables["accounts"]
    names = accounts.set_index("account_id")["account_name"]
    frame = listed.set_index("account_id").assign(name=lambda f: f.index.map(names))
    frame["manager_id"] = manager_of(frame.index, accounts)
    value = features.reindex(frame.index)[["net_sales", "cost_to_serve", "net_revenue",
                                           "previous_net_revenue", "lifetime_value",
                                           "net_margin", "cost_to_serve_ratio",
                                           "net_revenue_growth"]]
    return frame.join(value)


def no_key_accounts_note(wb: BenchmarkWorkbook) -> str:
    """Said first when no roster was approved and no account meets the agreed criteria."""
    crit = wb.data.criteria
    return _("No account is key yet: no roster was approved for {quarter} or before, and "
             "no account meets the criteria {agreed_by} agreed on {agreed_on}. "
             "Plans, managers, sponsors and the benchmarks are about key accounts and are not "
             "shown; the company's figures, the candidates and the maturity scorecard are.").format(
        quarter=wb.quarter, agreed_by=crit.agreed_by, agreed_on=day(crit.agreed_on))


def _members_of(data: Dataset, key: pd.Index, select_groups: bool) -> pd.Index:
    """Every account served as key: the key accounts and, for groups, all their members."""
    if not select_groups:
        return key
    groups = group_of(data.tables["accounts"])
    return groups.index[groups.isin(key)]


# --- 1. Plans and the 90-30 rhythm -------------------------------------------------------


def _plan_tables(wb: BenchmarkWorkbook) -> None:
    t, year = wb.data.tables, wb.quarter.year
    names = wb.key_accounts["name"]
    goals, reviews = t.get("stage_goals"), t.get("reviews")
    year_plans = t["plans"][t["plans"]["year"] == year] if "plans" in t else None
    points = None
    if goals is not None and reviews is not None:
        points = stage_goals.match_reviews(stage_goals.checkpoints(goals, wb.as_of), reviews,
                                           wb.as_of)
    last_review = (stage_goals.last_review_by_plan(goals, reviews, wb.as_of)
                   if points is not None else None)
    wb.tables["plan_hygiene"] = plans.plan_hygiene(names, t.get("plans"), last_review, year,
                                                   wb.as_of)
    if year_plans is None:
        wb.notes.append(_("No plans file: plan hygiene shows every key account without a "
                          "plan, and attainment, trajectory and review cadence are not shown."))
        return
    owner = year_plans.set_index("plan_id")["account_id"]
    account = owner.map(t["accounts"].set_index("account_id")["account_name"])

    def named(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(account_id=frame["plan_id"].map(owner),
                            account=frame["plan_id"].map(account))

    if "objectives" in t:
        mine = t["objectives"][t["objectives"]["plan_id"].isin(owner.index)]
        wb.tables["objectives"] = named(plans.objective_attainment(mine))
    if points is None:
        wb.notes.append(_("No stage goals or reviews file: the 90-30 trajectory and the "
                          "review cadence are not shown."))
        return
    this_year = goals[goals["plan_id"].isin(owner.index)]
    wb.tables["goals"] = named(stage_goals.trajectory(this_year, points, wb.as_of))
    wb.tables["ninety_day_path"] = named(stage_goals.ninety_day_path(points, this_year))
    wb.tables["review_cadence"] = named(stage_goals.review_cadence(
        points[points["plan_id"].isin(owner.index)]))
    wb.points = points
    wb.discipline = _discipline_by_account(wb, points)


# --- 2. and 3. Managers and sponsors -----------------------------------------------------


def _people_tables(wb: BenchmarkWorkbook) -> None:
    t, key = wb.data.tables, wb.key_accounts
    values = key.reset_index()
    discipline = _discipline_by_manager(wb)
    wb.tables["scorecards"] = scorecards(values, t.get("managers"), discipline)
    margins = key["net_margin"].dropna()
    if margins.size >= 2:
        wb.shrinkage = comparison.shrunk_means(margins, key["manager_id"].fillna("(none)"))
        wb.tables["manager_comparison"] = wb.shrinkage.groups.rename(
            columns={"group": "manager_id"})
    if "managers" in t:
        wb.tables["skills"] = skills_gaps(t["managers"], pd.Index(key["manager_id"].dropna()),
                                          wb.params.role_skill_level)
    wb.tables["sponsorship"] = sponsorship.sponsorship(
        key["name"], t["accounts"], t.get("executives"), t.get("sponsor_contacts"), wb.as_of,
        wb.params.sponsor_contact_days)


def _discipline_by_manager(wb: BenchmarkWorkbook) -> pd.DataFrame | None:
    """Review on-time rate and 90-day targets reached over the 12 months, per manager."""
    if wb.discipline is None:
        return None
    per_account = wb.discipline
    manager = wb.key_accounts["manager_id"].fillna("(none)")
    grouped = per_account.join(manager).groupby("manager_id")
    return pd.DataFrame({
        "on_time_rate": grouped["on_time"].sum() / grouped["due"].sum().replace(0, np.nan),
        "targets_reached": grouped["reached"].sum() / grouped["targets"].sum().replace(0, np.nan),
    })


def _discipline_by_account(wb: BenchmarkWorkbook, points: pd.DataFrame) -> pd.DataFrame:
    """Per key account over the 12 months to the report date: reviews due and on time,
    90-day targets due and reached."""
    start = pd.Timestamp(wb.quarter.shift(-3).start)
    owner = wb.data.tables["plans"].set_index("plan_id")["account_id"]
    window = points[(points["checkpoint_date"] >= start) & (points["cadence"] != "upcoming")]
    window = window.assign(account_id=window["plan_id"].map(owner))
    goals = wb.data.tables["stage_goals"]
    ended = goals[(goals["goal_type"] == "90_day_target") & (goals["due_date"] >= start)
                  & (goals["due_date"] <= pd.Timestamp(wb.as_of))]
    status = stage_goals.trajectory(ended, points, wb.as_of).assign(
        account_id=lambda f: f["plan_id"].map(owner))
    frame = pd.DataFrame({
        "due": window.groupby("account_id").size(),
        "on_time": window[window["cadence"] == "on time"].groupby("account_id").size(),
        "targets": status.groupby("account_id").size(),
        "reached": status[status["status"] == "reached"].groupby("account_id").size(),
    })
    return frame.reindex(wb.key_accounts.index).fillna(0)


# --- 4. Benchmarks -----------------------------------------------------------------------


def _benchmark_tables(wb: BenchmarkWorkbook, tables, by_account: pd.DataFrame,
                      select_groups: bool) -> None:
    wb.tables["trend"] = _trend(wb, tables, select_groups)
    key = wb.key_accounts
    wb.tables["account_quartiles"] = pd.DataFrame({
        m: comparison.quartiles(key[m].dropna()) for m in
        ("net_revenue", "net_margin", "cost_to_serve_ratio", "lifetime_value")}).T.rename_axis(
        "measure").reset_index()
    practices = _practices(wb)
    if len(practices.dropna(subset=["net_margin"])) >= 4:
        wb.tables["top_quartile"] = comparison.quartile_contrast(
            practices.dropna(subset=["net_margin"]), "net_margin",
            [c for c in practices.columns if c != "net_margin"])
    wb.tables["external"] = comparison.against_external(
        _our_metrics(wb, by_account, select_groups), wb.data.tables.get("benchmarks"))


def _practices(wb: BenchmarkWorkbook) -> pd.DataFrame:
    """Per key account: net margin and the practices that may explain it."""
    key = wb.key_accounts
    frame = key[["net_margin", "cost_to_serve_ratio"]].copy()
    spons = wb.tables["sponsorship"].set_index("account_id")
    frame["sponsor_contacts_last_12_months"] = spons["contacts_last_12_months"]
    hygiene = wb.tables["plan_hygiene"].set_index("account_id")
    frame["plan_signed"] = (hygiene["plan_id"].notna() & ~hygiene["unsigned"]).astype(float)
    if "skills" in wb.tables:
        trained = wb.tables["skills"].set_index("manager_id")["trained"]
        frame["manager_trained"] = key["manager_id"].map(trained).astype(float)
    if wb.discipline is not None:
        d = wb.discipline
        frame["reviews_on_time"] = d["on_time"] / d["due"].replace(0, np.nan)
        frame["targets_reached"] = d["reached"] / d["targets"].replace(0, np.nan)
    return frame


def _our_metrics(wb: BenchmarkWorkbook, by_account: pd.DataFrame,
                 select_groups: bool) -> pd.Series:
    """Our figures under the metric names of the benchmarks table."""
    key = wb.key_accounts
    members = _members_of(wb.data, key.index, select_groups)
    company = by_account["net_revenue"].sum()
    figures = {
        "key_account_share_of_net_revenue": by_account["net_revenue"].reindex(members).sum()
        / company,
        "net_margin_key_accounts": key["net_revenue"].sum() / key["net_sales"].sum(),
        "cost_to_serve_ratio": key["cost_to_serve"].sum() / key["net_sales"].sum(),
        "sponsor_contacts_per_year": wb.tables["sponsorship"]["contacts_last_12_months"].median(),
        "accounts_per_manager": key["manager_id"].value_counts().median(),
    }
    cadence = wb.tables.get("review_cadence")
    if cadence is not None and cadence["due"].sum():
        figures["review_on_time_rate"] = cadence["on time"].sum() / cadence["due"].sum()
    return pd.Series(figures, dtype=float)


def _trend(wb: BenchmarkWorkbook, tables, select_groups: bool) -> pd.DataFrame:
    """Key accounts against the company, quarter by quarter, each quarter with its roster."""
    first = wb.quarter.shift(1 - wb.params.trend_quarters)
    value = account_value(tables, grain="quarter", start=first.start, end=wb.as_of,
                          settings=ValueSettings()).frame
    groups = group_of(wb.data.tables["accounts"])
    unit = groups if select_groups else pd.Series(groups.index, groups.index)
    value = value.assign(unit=value["account_id"].map(unit))
    roster = wb.data.tables.get("roster")
    rows = []
    for start, frame in value.groupby("period_start"):
        q = Quarter.containing(start.date())
        listed = current_roster(_roster_up_to(roster, q))["account_id"]
        if roster is None:
            listed = pd.Series(wb.key_accounts.index)
        key = frame[frame["unit"].isin(listed)]
        rows.append(_quarter_row(wb, q, frame, key, len(listed)))
    return pd.DataFrame(rows)


def _quarter_row(wb: BenchmarkWorkbook, q: Quarter, company: pd.DataFrame, key: pd.DataFrame,
                 listed: int) -> dict:
    key_sales = key["net_sales"].sum()
    row = {"quarter": str(q), "key_accounts": listed,
           "key_net_revenue": key["net_revenue"].sum(),
           "company_net_revenue": company["net_revenue"].sum(),
           "key_account_share_of_net_revenue": key["net_revenue"].sum()
           / company["net_revenue"].sum(),
           # A quarter before the programme had key accounts has no key-account ratios.
           "net_margin_key_accounts": key["net_revenue"].sum() / key_sales if key_sales
           else np.nan,
           "cost_to_serve_ratio_key_accounts": key["cost_to_serve"].sum() / key_sales
           if key_sales else np.nan}
    points = wb.points
    if points is not None:
        inside = points[(points["checkpoint_date"] >= pd.Timestamp(q.start))
                        & (points["checkpoint_date"] <= pd.Timestamp(q.end))
                        & (points["cadence"] != "upcoming")]
        row["review_on_time_rate"] = ((inside["cadence"] == "on time").mean()
                                      if len(inside) else np.nan)
    contacts = wb.data.tables.get("sponsor_contacts")
    if contacts is not None:
        row["sponsor_contacts"] = int(contacts["contact_date"].between(
            pd.Timestamp(q.start), pd.Timestamp(q.end)).sum())
    return row


# --- 5. Programme review -----------------------------------------------------------------


def _programme_tables(wb: BenchmarkWorkbook, by_account: pd.DataFrame,
                      select_groups: bool) -> None:
    key = wb.key_accounts
    members = _members_of(wb.data, key.index, select_groups)
    is_key = by_account.index.isin(members)
    rows = [(_("Key accounts on the roster"), number(len(key))),
            (_("of which on watch"), number(int((key["status"] == "watch").sum())))]
    if wb.data.criteria is not None:
        size = wb.data.criteria.portfolio_size
        rows.append((_("Agreed portfolio size"), _("{minimum} to {maximum}").format(
            minimum=number(size.minimum), maximum=number(size.maximum))))
    company = by_account["net_revenue"].sum()
    key_revenue = by_account.loc[is_key, "net_revenue"].sum()
    rows += [(_("Company net revenue, 12 months"), money(company)),
             (_("Key accounts' net revenue, 12 months"), money(key_revenue)),
             (_("Share of company net revenue in key accounts"), percent(key_revenue / company,
                                                                         1))]
    for margin, cost, part in (
            (_("Net margin, key accounts"), _("Cost to serve / net sales, key accounts"),
             by_account[is_key]),
            (_("Net margin, long tail"), _("Cost to serve / net sales, long tail"),
             by_account[~is_key])):
        sales = part["net_sales"].sum()  # none when no account is key yet: "n/a"
        rows += [(margin, percent(part["net_revenue"].sum() / sales if sales else np.nan, 1)),
                 (cost, percent(part["cost_to_serve"].sum() / sales if sales else np.nan, 1))]
    wb.tables["portfolio"] = pd.DataFrame(rows, columns=["figure", "value"])
    if wb.proposal is None:
        wb.notes.append(_("No selection criteria: candidates to add and drop are not shown."))
        return
    decided = wb.proposal.accounts
    columns = ["name", "current_status", "status", "change", "score", "net_revenue", "reason"]
    wb.tables["candidates_add"] = decided[decided["change"] == "enter"][columns].reset_index()
    failing = decided["current_status"].isin(ON_ROSTER) & ~decided["eligible"].fillna(False)
    wb.tables["candidates_drop"] = decided[failing][[*columns, "failing_periods"]].reset_index()
    wb.notes += list(wb.proposal.warnings)


# --- 6. Maturity -------------------------------------------------------------------------


def _evidence(wb: BenchmarkWorkbook, roster: pd.DataFrame | None) -> maturity.Evidence:
    t, tb, crit = wb.data.tables, wb.tables, wb.data.criteria
    hygiene = tb.get("plan_hygiene")
    cadence = tb.get("review_cadence")
    spons = tb.get("sponsorship")
    skills = tb.get("skills")
    execs = t.get("executives")
    bench = t.get("benchmarks")
    periods = sorted(set(roster["period"]), key=Quarter.parse) if roster is not None else []
    return maturity.Evidence(
        programme_years=((wb.quarter.end - Quarter.parse(periods[0]).start).days / 365.25
                         if periods else None),
        plan_share=(float((~hygiene["no_plan"]).mean())
                    if "plans" in t and hygiene is not None else None),
        on_time_rate=(float(cadence["on time"].sum() / cadence["due"].sum())
                      if cadence is not None and cadence["due"].sum() else None),
        sponsor_kept_up_share=float((spons["state"].eq("kept up")
                                     & spons["board_level"].eq(True)).mean())
        if execs is not None and spons is not None else None,
        programme_leads=(execs.loc[execs["programme_lead"].fillna(False).astype(bool),
                                   "executive_name"].tolist() if execs is not None else None),
        criteria_agreed_by=crit.agreed_by if crit else None,
        criteria_agreed_on=crit.agreed_on if crit else None,
        criteria_review_by=crit.review_by if crit else None,
        size_within_guidance=(crit.portfolio_size.minimum <= len(wb.key_accounts)
                              <= crit.portfolio_size.maximum) if crit else None,
        override_share=(float(wb.proposal.accounts["override"].sum() / len(wb.key_accounts))
                        if wb.proposal is not None and len(wb.key_accounts) else None),
        trained_share=float(skills["trained"].mean()) if skills is not None else None,
        no_gap_share=(float(skills["skills_below_need"].eq("none").mean())
                      if skills is not None else None),
        activity_costs_given="activities" in t and "activity_costs" in t,
        payment_terms_given="payment_terms" in t,
        external_benchmark_year=int(bench["year"].max()) if bench is not None else None,
        quarters_of_history=len(periods),
        roster_changes_last_year=_roster_changes(roster, wb.quarter),
        report_end=wb.as_of,
    )


def _roster_changes(roster: pd.DataFrame | None, quarter: Quarter) -> int | None:
    """Accounts added to or dropped from the roster over the last four quarters."""
    if roster is None:
        return None
    on = roster[roster["status"].isin(ON_ROSTER)]
    sets = {p: set(rows["account_id"]) for p, rows in on.groupby("period")}
    ordered = sorted(sets, key=Quarter.parse)
    recent = [p for p in ordered if Quarter.parse(p) > quarter.shift(-4)]
    changes = 0
    for p in recent:
        i = ordered.index(p)
        if i:
            changes += len(sets[p] ^ sets[ordered[i - 1]])
    return changes
