"""The KAM maturity scorecard: the seven success factors of a KAM programme, scored from data.

Each factor scores 0 (absent) to 4 (in place) by a stated rule on evidence the data
holds; a factor the data cannot show scores nothing and says which table would show
it. Shares turn into scores as ``round(4 * share)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd


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
    return "not measured" if share is None or pd.isna(share) else f"{share:.0%}"


def scorecard(e: Evidence) -> pd.DataFrame:
    rows = [_organisation(e), _top_support(e), _programme_lead(e), _criteria(e),
            _managers(e), _net_value(e), _benchmarking(e)]
    return pd.DataFrame(rows, columns=["success_factor", "score", "evidence", "rule"])


def _organisation(e: Evidence) -> tuple:
    years = None if e.programme_years is None else min(e.programme_years / 3, 1.0)
    return ("1. KAM as an organisational change",
            _share_score(years, e.plan_share, e.on_time_rate),
            f"Programme running {e.programme_years or 0:.1f} years; key accounts with a plan "
            f"this year {_pct(e.plan_share)}; 30-day reviews on time {_pct(e.on_time_rate)}.",
            "Mean of: years running out of 3, plan coverage, on-time review rate.")


def _top_support(e: Evidence) -> tuple:
    return ("2. Top-level support", _share_score(e.sponsor_kept_up_share),
            f"Key accounts with a board-level sponsor in contact within the agreed rhythm: "
            f"{_pct(e.sponsor_kept_up_share)}.",
            "Share of key accounts with a board sponsor who kept up contact.")


def _programme_lead(e: Evidence) -> tuple:
    if e.programme_leads is None:
        return ("3. A programme lead", None, "No executives table: cannot tell.",
                "4 when exactly one executive is named programme lead.")
    named = ", ".join(e.programme_leads) or "nobody"
    score = 4 if len(e.programme_leads) == 1 else (2 if e.programme_leads else 0)
    return ("3. A programme lead", score, f"Programme lead named: {named}.",
            "4 for one named lead, 2 for a shared lead, 0 for none.")


def _criteria(e: Evidence) -> tuple:
    if e.criteria_agreed_by is None:
        return ("4. Clear criteria, stuck to", 0, "No agreed selection criteria.",
                "2 agreed, +1 not past their review date, +1 size within guidance "
                "with at most 10% overrides.")
    current = e.criteria_review_by is None or e.criteria_review_by >= e.report_end
    steady = bool(e.size_within_guidance) and (e.override_share or 0) <= 0.1
    review = f"review by {e.criteria_review_by}" if e.criteria_review_by else "no review date"
    return ("4. Clear criteria, stuck to", 2 + int(current) + int(steady),
            f"Agreed by {e.criteria_agreed_by} on {e.criteria_agreed_on} ({review}"
            f"{'' if current else ', overdue'}); portfolio size "
            f"{'within' if e.size_within_guidance else 'outside'} guidance; overrides "
            f"{_pct(e.override_share)} of key accounts.",
            "2 agreed, +1 not past their review date, +1 size within guidance with at most "
            "10% overrides.")


def _managers(e: Evidence) -> tuple:
    return ("5. Trained key account managers", _share_score(e.trained_share, e.no_gap_share),
            f"Managers of key accounts trained for the role {_pct(e.trained_share)}; "
            f"without a skill below the role's need {_pct(e.no_gap_share)}.",
            "Mean of the trained share and the share without skill gaps (managers table).")


def _net_value(e: Evidence) -> tuple:
    score = 2 + 1 * e.activity_costs_given + 1 * e.payment_terms_given
    return ("6. Measure net value", score,
            "Scorecards on net revenue after cost to serve and lifetime value; cost to serve "
            f"from {'activity costs' if e.activity_costs_given else 'a fallback share'}; "
            f"receivables {'from payment terms' if e.payment_terms_given else 'at default terms'}.",
            "2 for net-value scorecards, +1 activity-based cost to serve, +1 actual payment "
            "terms.")


def _benchmarking(e: Evidence) -> tuple:
    recent = (e.external_benchmark_year is not None
              and e.external_benchmark_year >= e.report_end.year - 1)
    trend = e.quarters_of_history >= 4
    moved = bool(e.roster_changes_last_year)
    outside = (f"outside figures of {e.external_benchmark_year}" if e.external_benchmark_year
               else "no outside figures")
    return ("7. Benchmark and keep improving", 2 * recent + int(trend) + int(moved),
            f"{outside.capitalize()}; {e.quarters_of_history} quarters of roster history; "
            f"{e.roster_changes_last_year or 0} roster changes in the last four quarters.",
            "2 for outside figures from this year or last, +1 four quarters of trend, +1 the "
            "roster was reviewed (accounts added or dropped) in the last year.")
