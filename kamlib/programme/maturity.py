"""The KAM maturity scorecard: the seven success factors of a KAM programme, scored from data.

Each factor scores 0 (absent) to 4 (in place) by a stated rule on evidence the data
holds; a factor the data cannot show scores nothing and says which table would show
it. Shares turn into scores as ``round(4 * share)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from kamlib.words.catalogue import _, n_
from kamlib.words.formats import day, listing, number, percent


@dataclass(frozen=True)
class Evidence:
    """What the benchmark measured, as the scorecard needs it (None: not measurable)."""

    programme_years: float | None
    plan_share: float | None
    on_time_rate: float | None
    sponsor_kept_up_share: float | None
    programme_leads: list[str] | None
    criteria_agreed_by: str | None
    criteria_agreed_on: date | None
    criteria_review_by: date | None
    size_within_guidance: bool | None
    override_share: float | None
    trained_share: float | None
    no_gap_share: float | None
    activity_costs_given: bool
    payment_terms_given: bool
    external_benchmark_year: int | None
    quarters_of_history: int
    roster_changes_last_year: int | None
    report_end: date


def _share_score(*shares: float | None) -> int | None:
    known = [s for s in shares if s is not None and pd.notna(s)]
    return round(4 * sum(known) / len(known)) if known else None


def _pct(share: float | None) -> str:
    return _("not measured") if share is None or pd.isna(share) else percent(share)


def scorecard(e: Evidence) -> pd.DataFrame:
    rows = [_organisation(e), _top_support(e), _programme_lead(e), _criteria(e),
            _managers(e), _net_value(e), _benchmarking(e)]
    return pd.DataFrame(rows, columns=["success_factor", "score", "evidence", "rule"])


def _organisation(e: Evidence) -> tuple:
    years = None if e.programme_years is None else min(e.programme_years / 3, 1.0)
    return (_("1. KAM as an organisational change"),
            _share_score(years, e.plan_share, e.on_time_rate),
            _("Programme running {years} years; key accounts with a plan this year {plans}; "
              "30-day reviews on time {reviews}.").format(
                years=number(e.programme_years or 0, 1), plans=_pct(e.plan_share),
                reviews=_pct(e.on_time_rate)),
            _("Mean of: years running out of 3, plan coverage, on-time review rate."))


def _top_support(e: Evidence) -> tuple:
    return (_("2. Top-level support"), _share_score(e.sponsor_kept_up_share),
            _("Key accounts with a board-level sponsor in contact within the agreed rhythm: "
              "{share}.").format(share=_pct(e.sponsor_kept_up_share)),
            _("Share of key accounts with a board sponsor who kept up contact."))


def _programme_lead(e: Evidence) -> tuple:
    if e.programme_leads is None:
        return (_("3. A programme lead"), None, _("No executives table: cannot tell."),
                _("4 when exactly one executive is named programme lead."))
    named = listing(e.programme_leads) or _("nobody")
    score = 4 if len(e.programme_leads) == 1 else (2 if e.programme_leads else 0)
    return (_("3. A programme lead"), score,
            _("Programme lead named: {named}.").format(named=named),
            _("4 for one named lead, 2 for a shared lead, 0 for none."))


def _criteria(e: Evidence) -> tuple:
    rule = _("2 agreed, +1 not past their review date, +1 size within guidance with at most "
             "10% overrides.")
    if e.criteria_agreed_by is None:
        return _("4. Clear criteria, stuck to"), 0, _("No agreed selection criteria."), rule
    current = e.criteria_review_by is None or e.criteria_review_by >= e.report_end
    steady = bool(e.size_within_guidance) and (e.override_share or 0) <= 0.1
    if e.criteria_review_by is None:
        review = _("no review date")
    elif current:
        review = _("review by {date}").format(date=day(e.criteria_review_by))
    else:
        review = _("review by {date}, overdue").format(date=day(e.criteria_review_by))
    size = (_("portfolio size within guidance") if e.size_within_guidance
            else _("portfolio size outside guidance"))
    return (_("4. Clear criteria, stuck to"), 2 + int(current) + int(steady),
            _("Agreed by {agreed_by} on {agreed_on} ({review}); {size}; overrides {overrides} "
              "of key accounts.").format(
                agreed_by=e.criteria_agreed_by, agreed_on=day(e.criteria_agreed_on),
                review=review, size=size, overrides=_pct(e.override_share)),
            rule)


def _managers(e: Evidence) -> tuple:
    return (_("5. Trained key account managers"),
            _share_score(e.trained_share, e.no_gap_share),
            _("Managers of key accounts trained for the role {trained}; without a skill below "
              "the role's need {no_gap}.").format(trained=_pct(e.trained_share),
                                                  no_gap=_pct(e.no_gap_share)),
            _("Mean of the trained share and the share without skill gaps (managers table)."))


def _net_value(e: Evidence) -> tuple:
    score = 2 + 1 * e.activity_costs_given + 1 * e.payment_terms_given
    source = _("activity costs") if e.activity_costs_given else _("a fallback share")
    terms = _("from payment terms") if e.payment_terms_given else _("at default terms")
    return (_("6. Measure net value"), score,
            _("Scorecards on net revenue after cost to serve and lifetime value; cost to serve "
              "from {source}; receivables {terms}.").format(source=source, terms=terms),
            _("2 for net-value scorecards, +1 activity-based cost to serve, +1 actual payment "
              "terms."))


def _benchmarking(e: Evidence) -> tuple:
    recent = (e.external_benchmark_year is not None
              and e.external_benchmark_year >= e.report_end.year - 1)
    trend = e.quarters_of_history >= 4
    moved = bool(e.roster_changes_last_year)
    outside = (_("Outside figures of {year}").format(year=e.external_benchmark_year)
               if e.external_benchmark_year else _("No outside figures"))
    history = n_("{count} quarter of roster history", "{count} quarters of roster history",
                 e.quarters_of_history).format(count=number(e.quarters_of_history))
    changes = e.roster_changes_last_year or 0
    changed = n_("{count} roster change in the last four quarters",
                 "{count} roster changes in the last four quarters",
                 changes).format(count=number(changes))
    return (_("7. Benchmark and keep improving"), 2 * recent + int(trend) + int(moved),
            _("{outside}; {history}; {changes}.").format(outside=outside, history=history,
                                                         changes=changed),
            _("2 for outside figures from this year or last, +1 four quarters of trend, +1 the "
              "roster was reviewed (accounts added or dropped) in the last year."))
