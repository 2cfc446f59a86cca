"""Small reference tables (accounts, people, costs, terms, benchmarks) and the
selection criteria file, whose thresholds are set from the generated data so that
roughly fifteen groups qualify."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import yaml

from kamlib.data import contract
from kamlib.sample import _catalog as cat
from kamlib.sample._accounts import Accounts
from kamlib.sample._lines import Ledger
from kamlib.sample._programme import EXECUTIVES, KEY, WATCH, People, Roster
from kamlib.sample._timeline import Timeline
from kamlib.sample._write import whole

TARGET_QUALIFYING = 15


def accounts_columns(acc: Accounts, people: People) -> dict[str, object]:
    parent = np.where(acc.parent >= 0, acc.account_id[np.maximum(acc.parent, 0)], "")
    manager = np.where(acc.manager >= 0, people.manager_id[np.maximum(acc.manager, 0)], "")
    return {
        "account_id": acc.account_id,
        "account_name": acc.name,
        "parent_id": _blank_to_none(parent),
        "country": acc.country,
        "industry": acc.industry,
        "currency": acc.currency,
        "key_account_manager": _blank_to_none(manager),
        "executive_sponsor": _blank_to_none(acc.sponsor),
        "estimated_wallet": whole(acc.wallet),
        "strategic_fit": whole(acc.fit),
        "growth_potential": whole(acc.potential),
    }



def _blank_to_none(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values).astype(object)
    out[np.asarray(values) == ""] = None
    return out


def managers_columns(people: People) -> dict[str, object]:
    cols: dict[str, object] = {"manager_id": people.manager_id,
                               "manager_name": people.manager_name}
    for i, skill in enumerate(contract.SKILLS):
        cols[f"skill_{skill}"] = people.skills[:, i]
    cols["kam_training_completed_on"] = people.trained_on
    return cols


def executives_columns() -> dict[str, list]:
    ids, names, titles, board, lead = (list(col) for col in zip(*EXECUTIVES, strict=True))
    return {"executive_id": ids, "executive_name": names, "title": titles,
            "board_member": board, "programme_lead": lead}


def activity_costs_columns() -> dict[str, list]:
    return {"activity": list(cat.ACTIVITY_NAMES),
            "cost_pool": [cat.ACTIVITY_COSTS[a][0] for a in cat.ACTIVITY_NAMES],
            "unit_cost": [cat.ACTIVITY_COSTS[a][1] for a in cat.ACTIVITY_NAMES]}


def payment_terms_columns(rng: np.random.Generator, acc: Accounts) -> dict[str, object]:
    """Terms for almost every account; a few small ones were never set up in the ERP."""
    keep = (rng.random(len(acc)) > 0.03) | (acc.manager >= 0)
    return {"account_id": acc.account_id[keep], "terms_days": acc.terms_days[keep],
            "average_days_to_pay": whole(acc.days_to_pay[keep])}


BENCHMARKS: tuple[tuple[str, str, int, float | None, float, float | None, str], ...] = (
    ("key_account_share_of_net_revenue", "Industry KAM survey", 2024, 0.22, 0.34, 0.48, "ratio"),
    ("key_account_share_of_net_revenue", "Industry KAM survey", 2025, 0.24, 0.36, 0.50, "ratio"),
    ("key_account_share_of_net_revenue", "Distributor peer group", 2025, None, 0.30, None,
     "ratio"),
    ("net_margin_key_accounts", "Industry KAM survey", 2024, 0.06, 0.11, 0.16, "ratio"),
    ("net_margin_key_accounts", "Industry KAM survey", 2025, 0.07, 0.12, 0.17, "ratio"),
    ("cost_to_serve_ratio", "Industry KAM survey", 2024, 0.03, 0.05, 0.08, "ratio"),
    ("cost_to_serve_ratio", "Industry KAM survey", 2025, 0.03, 0.05, 0.07, "ratio"),
    ("cost_to_serve_ratio", "Distributor peer group", 2025, None, 0.06, None, "ratio"),
    ("review_on_time_rate", "Industry KAM survey", 2025, 0.55, 0.72, 0.86, "ratio"),
    ("sponsor_contacts_per_year", "Industry KAM survey", 2025, 2.0, 4.0, 6.0, "count"),
    ("accounts_per_manager", "Industry KAM survey", 2025, 2.0, 4.0, 7.0, "count"),
)
"""Figures of a fictional survey and peer group. The sample's programme sits below them
on key-account share (it chose by gross revenue) and on key accounts per manager,
near the median on reviews and sponsor contacts."""


def benchmarks_columns() -> dict[str, list]:
    names = ("metric", "source", "year", "lower_quartile", "median", "upper_quartile", "unit")
    return {name: [row[i] for row in BENCHMARKS] for i, name in enumerate(names)}


# --- selection criteria -------------------------------------------------------------


@dataclass(frozen=True)
class GroupFeatures:
    """Group-level features, estimated the way the account value workbook defines them."""

    tops: np.ndarray
    net_revenue: np.ndarray
    net_margin: np.ndarray
    cost_to_serve_ratio: np.ndarray
    strategic_fit: np.ndarray
    growth_potential: np.ndarray
    product_lines: np.ndarray
    industry: np.ndarray


def group_features(acc: Accounts, ledger: Ledger) -> GroupFeatures:
    last = ledger.trailing[:, 0, :]
    gross, net_sales, margin, cts = last.T
    days = np.where(np.isnan(acc.days_to_pay), acc.terms_days, acc.days_to_pay)
    carrying = np.maximum(net_sales, 0) * cat.CARRYING_RATE * days / 365
    tops = np.flatnonzero(acc.parent < 0)

    def total(values: np.ndarray) -> np.ndarray:
        return acc.group_sum(values)[tops]

    g_gross = total(gross)
    with np.errstate(divide="ignore", invalid="ignore"):
        margin_ratio = np.where(g_gross > 0, total(margin - cts - carrying) / g_gross, np.nan)
        cts_ratio = np.where(g_gross > 0, total(cts + carrying) / g_gross, np.nan)
    lines = np.zeros(len(acc))
    np.maximum.at(lines, acc.group, ledger.product_lines)
    return GroupFeatures(tops, total(margin - cts - carrying), margin_ratio, cts_ratio,
                         acc.fit[tops], acc.potential[tops], lines[tops], acc.industry[tops])


@dataclass(frozen=True)
class _Rule:
    feature: str
    threshold: float
    direction: str
    weight: float
    why: str
    must_have: bool = False


def _rules(net_threshold: float) -> list[_Rule]:
    return [
        _Rule("net_revenue", net_threshold, "at_least", 3, "Net revenue after discounts and "
              "cost to serve, last 12 months, EUR: the value the account creates.", True),
        _Rule("net_margin", 0.05, "at_least", 2, "At least 5% of net sales left after "
              "goods, cost to serve and receivables."),
        _Rule("cost_to_serve_ratio", 0.08, "at_most", 1, "Serving it costs no more than 8% "
              "of net sales (the survey's upper quartile)."),
        _Rule("strategic_fit", 6, "at_least", 1, "Management's strategic-fit score."),
        _Rule("growth_potential", 5, "at_least", 1, "Management's growth-potential score."),
        _Rule("product_lines", 3, "at_least", 1, "Buys from three product lines or more: "
              "a relationship, not a single-product deal."),
    ]


def _met(rule: _Rule, f: GroupFeatures) -> np.ndarray:
    values = getattr(f, rule.feature)
    values = np.where(np.isnan(values), -np.inf if rule.direction == "at_least" else np.inf,
                      values)
    return values >= rule.threshold if rule.direction == "at_least" else values <= rule.threshold


def _qualifying(rules: list[_Rule], f: GroupFeatures, excluded: np.ndarray,
                score_threshold: float) -> np.ndarray:
    total = sum(r.weight for r in rules)
    score = sum(r.weight * _met(r, f) for r in rules) / total
    must = np.all([_met(r, f) for r in rules if r.must_have], axis=0)
    return (score >= score_threshold) & must & ~excluded


def criteria_yaml(acc: Accounts, ledger: Ledger, roster: Roster, timeline: Timeline,
                  score_threshold: float = 0.6) -> tuple[str, int]:
    """The criteria file's text and how many groups qualify on the sample."""
    f = group_features(acc, ledger)
    defence = f.industry == "Defence"
    on_roster = np.isin(f.tops, roster.groups[np.isin(roster.current, (KEY, WATCH))])
    # Without the revenue rule, which groups pass the rest? The revenue threshold then
    # cuts that list at about TARGET_QUALIFYING, rounded to two significant digits.
    probe = _qualifying(_rules(-np.inf), f, defence, score_threshold)
    litigation = _litigation_account(f, probe, on_roster)
    excluded = defence | (f.tops == litigation)
    ranked = np.sort(f.net_revenue[probe & ~excluded])[::-1]
    exact = _between(ranked, TARGET_QUALIFYING)
    for digits in (2, 3, 6):  # a round number, unless rounding moves many groups
        rules = _rules(_round(exact, digits))
        qualifying = int(_qualifying(rules, f, excluded, score_threshold).sum())
        if abs(qualifying - min(TARGET_QUALIFYING, len(ranked))) <= 2:
            break
    text = _render(rules, roster, timeline, acc, litigation, score_threshold, qualifying)
    contract.SelectionCriteria.model_validate(yaml.safe_load(text))  # fail here, not later
    return text, qualifying


def _litigation_account(f: GroupFeatures, probe: np.ndarray, on_roster: np.ndarray) -> int:
    """A large group that would qualify but is excluded while a dispute runs."""
    candidates = np.flatnonzero(probe & ~on_roster)
    if not len(candidates):
        candidates = np.flatnonzero(~on_roster)
    best = candidates[np.argsort(-f.net_revenue[candidates], kind="stable")]
    return int(f.tops[best[min(2, len(best) - 1)]])


def _between(ranked: np.ndarray, k: int) -> float:
    """A value between the k-th and the (k+1)-th largest, so that k pass."""
    if len(ranked) == 0:
        return 0.0
    if len(ranked) <= k:
        return float(ranked[-1])
    return float((ranked[k - 1] + ranked[k]) / 2)


def _round(value: float, digits: int) -> float:
    """Round to significant digits, as a board would write a threshold."""
    if value <= 0:
        return 0.0
    step = 10 ** (np.floor(np.log10(value)) - digits + 1)
    return float(np.round(value / step) * step)


def _render(rules: list[_Rule], roster: Roster, timeline: Timeline, acc: Accounts,
            litigation: int, score_threshold: float, qualifying: int) -> str:
    agreed_on = roster.approved_on(0) - timedelta(days=21)
    review_by = date(agreed_on.year + 2, agreed_on.month, min(agreed_on.day, 28))
    q = json.dumps  # JSON strings are valid YAML strings, accents and all
    lines = [
        "# Key-account selection criteria, agreed by senior management (not by sales).",
        "# Synthetic sample written by `kam sample`: the net revenue threshold was set on",
        f"# this data so that {qualifying} groups qualify (last 12 months to {timeline.end}).",
        "# Change the criteria here, never in a notebook, and record who agreed and when.",
        f"agreed_by: {q('Executive board: A. Ferri (CEO), K. Engel (CFO), M. Conti (Sales)')}",
        f"agreed_on: {agreed_on.isoformat()}",
        f"review_by: {review_by.isoformat()}",
        "select_groups: true  # subsidiaries roll up to their group's top account",
        f"score_threshold: {score_threshold}  # weighted share of criteria a group must meet",
        "criteria:",
    ]
    for r in rules:
        lines += [f"  # {r.why}", f"  - feature: {r.feature}",
                  f"    threshold: {_number(r.threshold)}", f"    direction: {r.direction}",
                  f"    weight: {_number(r.weight)}"]
        if r.must_have:
            lines.append("    must_have: true  # no score makes up for too little net revenue")
    lines += [
        "exclusions:",
        f"  - reason: {q('Company policy: no key-account commitments in defence')}",
        "    industries: [Defence]",
        f"  - reason: {q('In litigation over a 2025 warranty claim; review when settled')}",
        f"    account_ids: [{q(str(acc.account_id[litigation]))}]",
        "portfolio_size:  # start small; even large suppliers keep fewer than 100",
        "  minimum: 5",
        "  maximum: 20",
        "hysteresis:  # adding is easy, withdrawing key status is hard",
        "  exit_after_periods: 2",
        "  entry_margin: 0.1",
    ]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
