"""Yearly key-account plans, objectives, stage goals, 90-day targets, 30-day reviews
and executive-sponsor contacts.

Plan hygiene varies the way it does in real programmes: most key accounts have a
signed plan, some have none, some are unsigned drafts, some were never updated
after signing. Managers without KAM training (or weak at planning) miss and
delay more reviews and more of their goals run off track. Sales objectives are
measured against the accounts' actual invoices. The number of plans is bounded
by the roster (tens), so plain loops over plans are fine here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from kamlib.sample import _catalog as cat
from kamlib.sample._accounts import Accounts
from kamlib.sample._lines import Ledger
from kamlib.sample._programme import KEY, NONE, SALES_DIRECTOR, WATCH, People, Roster
from kamlib.sample._timeline import Timeline, quarter_start

Rng = np.random.Generator

CUSTOMER_GOALS = (
    "Expanding into North Africa; values reliability over price",
    "Consolidating suppliers from twelve to four; wants vendor-managed inventory",
    "Cost-down programme of 5% a year; procurement decides on price",
    "Building a new plant in Poland; needs a partner for the first fill",
    "Moving to predictive maintenance; interested in condition monitoring",
    "Family-owned, long-term relationships; decisions taken by the founder",
    "Under private-equity ownership; cash and working capital come first",
    "Sustainability targets for 2030; asks for CO2 data per delivery",
    "Centralising purchasing at group level; plants lose autonomy",
    "Growing fast in the Gulf; short lead times matter more than price",
)
BUSINESS = (
    ("Raise net margin to {t}% of gross revenue", (8, 10, 12, 15), "ratio"),
    ("Cut rush deliveries to at most {t} a month", (2, 3, 4, 5), "upper"),
    ("Vendor-managed inventory live at {t} plants", (1, 2, 3), "count"),
    ("Qualify as preferred supplier for {pl}", (1,), "count"),
    ("Move {t}% of orders to e-procurement (punch-out)", (50, 70, 80), "ratio"),
)
RELATIONSHIP = (
    ("Quarterly business reviews with the procurement director", (4,), "count"),
    ("Executive sponsor meetings with the customer's board", (3, 4), "count"),
    ("Named contacts in engineering and operations", (6, 8, 10), "count"),
    ("Joint planning workshop with the customer's team", (1,), "count"),
)
STAGE_GOALS = (
    ("Second-source qualification for {pl} completed (%)", 0, 100),
    ("Vendor-managed inventory running in the main plant (%)", 0, 100),
    ("Three-year framework agreement signed", 0, 1),
    ("Condition-monitoring pilot on production lines", 0, 4),
    ("Punch-out catalogue connected to e-procurement (%)", 0, 100),
    ("Cost-down savings identified with the customer (EUR k)", 0, 150),
    ("Share of the customer's {pl} spend with us (%)", 20, 35),
)
TARGETS_90 = (
    ("Trial order for {pl} placed", 0, 1),
    ("Maintenance team trained on {pl} (people)", 0, 12),
    ("Meet the new procurement director twice", 0, 2),
    ("Quote for the annual framework agreement accepted", 0, 1),
    ("Rush deliveries down to 4 a month", 12, 4),
    ("Consignment stock agreed for {pl} (%)", 0, 100),
)
OUTCOMES = {"on_track": (1.0, 1.15), "at_risk": (0.7, 0.9), "off_track": (0.2, 0.55)}


@dataclass
class PlanTables:
    plans: dict[str, list] = field(default_factory=dict)
    objectives: dict[str, list] = field(default_factory=dict)
    stage_goals: dict[str, list] = field(default_factory=dict)
    reviews: dict[str, list] = field(default_factory=dict)

    def add(self, table: str, **row) -> None:
        cols = getattr(self, table)
        for key, value in row.items():
            cols.setdefault(key, []).append(value)


@dataclass(frozen=True)
class _Plan:
    plan_id: str
    account_row: int
    year: int
    start: date
    disciplined: bool
    manager: str | None


def build_plans(rng: np.random.Generator, acc: Accounts, roster: Roster, people: People,
                ledger: Ledger, timeline: Timeline) -> PlanTables:
    out = PlanTables()
    for year in plan_years(roster):
        plans = _plans_of_year(rng, acc, roster, people, year, timeline, out)
        for plan in plans:
            _objectives(rng, acc, ledger, timeline, plan, out)
            _goals(rng, timeline, plan, out)
    return out


def plan_years(roster: Roster) -> list[int]:
    """Years whose plans were written while the programme ran: a roster in the first half."""
    return sorted({y for y, q in roster.quarters if q <= 2})


def _plans_of_year(rng: Rng, acc: Accounts, roster: Roster, people: People, year: int,
                   timeline: Timeline, out: PlanTables) -> list[_Plan]:
    in_year = [i for i, (y, _) in enumerate(roster.quarters) if y == year]
    listed = np.isin(roster.status[:, in_year], (KEY, WATCH))
    groups = np.flatnonzero(listed.any(axis=1))
    groups = groups[np.argsort(acc.account_id[roster.groups[groups]], kind="stable")]
    hygiene = _hygiene(rng, len(groups))
    made = []
    for g, kind in zip(groups, hygiene, strict=True):
        first_q = roster.quarters[in_year[int(np.argmax(listed[g]))]]
        start = date(year, 1, 1) if first_q[1] == 1 else quarter_start(*first_q)
        row = int(roster.groups[g])
        m = int(acc.manager[row])
        disciplined = bool(people.disciplined[m]) if m >= 0 else False
        if kind == "none" or start > timeline.end:
            continue
        plan = _Plan(f"P-{year}-{acc.account_id[row]}", row, year, start, disciplined,
                     str(people.manager_id[m]) if m >= 0 else None)
        _plan_row(rng, plan, kind, timeline, out)
        made.append(plan)
    return made


def _hygiene(rng: np.random.Generator, n: int) -> list[str]:
    """At least one missing, one unsigned and two stale plans per year when there are
    enough key accounts; the rest mostly signed and kept up to date."""
    kinds = list(rng.choice(["signed", "stale", "unsigned"], n, p=[0.7, 0.2, 0.1]))
    if n >= 5:
        fixed = rng.permutation(n)[:4]
        for idx, kind in zip(fixed, ("none", "unsigned", "stale", "stale"), strict=True):
            kinds[idx] = kind
    return [str(k) for k in kinds]


def _plan_row(rng: Rng, plan: _Plan, kind: str, timeline: Timeline, out: PlanTables) -> None:
    signed_on = _weekday(plan.start + timedelta(days=int(rng.integers(8, 41))))
    if signed_on > timeline.end:
        kind = "unsigned"
    year_end = min(timeline.end, date(plan.year, 12, 31))
    room = (year_end - signed_on).days
    if kind == "signed" and room > 20:
        updated = _weekday(signed_on + timedelta(days=int(rng.integers(20, room + 1))))
        updated = min(updated, year_end)
    else:
        updated = signed_on
    if kind == "unsigned":
        draft = min(timeline.end, plan.start + timedelta(days=int(rng.integers(5, 61))))
        signed_on, updated = None, (draft if rng.random() < 0.7 else None)
    goals = None if rng.random() < 0.05 else CUSTOMER_GOALS[int(rng.integers(len(CUSTOMER_GOALS)))]
    out.add("plans", plan_id=plan.plan_id, account_id=plan.plan_id.split("-", 2)[2],
            year=plan.year, customer_goals=goals,
            signed_by=SALES_DIRECTOR if signed_on else None, signed_on=signed_on,
            last_updated_on=updated)


def _objectives(rng: Rng, acc: Accounts, ledger: Ledger, timeline: Timeline, plan: _Plan,
                out: PlanTables) -> None:
    elapsed = _elapsed(plan.year, timeline)
    pl = _product_line(rng)
    target, actual = _sales_values(rng, acc, ledger, timeline, plan)
    rows = [("sales", f"Grow gross revenue to EUR {target / 1000:,.0f}k", target, actual,
             "at_least")]
    for kind, pool in (("business", BUSINESS), ("relationship", RELATIONSHIP)):
        text, choices, scale = pool[int(rng.integers(len(pool)))]
        t = float(choices[int(rng.integers(len(choices)))])
        rows.append((kind, text.format(t=int(t), pl=pl), t,
                     _progress_value(rng, t, scale, elapsed),
                     "at_most" if scale == "upper" else "at_least"))
    if rng.random() < 0.4:
        extra = float(np.round(acc.size[plan.account_row] * rng.uniform(0.03, 0.1), -3))
        rows.append(("sales", f"Win the {_product_line(rng)} business at the "
                     f"{acc.country[plan.account_row]} plants",
                     extra, round(extra * rng.uniform(0, 1.2) * elapsed, 2), "at_least"))
    for k, (kind, text, t, a, direction) in enumerate(rows, start=1):
        if plan.year == timeline.end.year and rng.random() < 0.1:
            a = None  # not measured yet this year
        out.add("objectives", objective_id=f"O-{plan.plan_id[2:]}-{k}", plan_id=plan.plan_id,
                kind=kind, description=text, target_value=t, actual_value=a,
                direction=direction)


def _sales_values(rng: Rng, acc: Accounts, ledger: Ledger, timeline: Timeline,
                  plan: _Plan) -> tuple[float, float]:
    """Target from last year's invoices (annualised when partial), actual from this year's."""
    members = acc.group == plan.account_row
    by_year = ledger.gross_by_year[members].sum(axis=0)
    months = np.bincount(timeline.calendar_year_index, minlength=len(by_year))
    years = list(timeline.calendar_years)
    if plan.year - 1 in years and months[years.index(plan.year - 1)] > 0:
        i = years.index(plan.year - 1)
        base = by_year[i] * 12 / months[i]
    else:
        base = acc.size[members].sum()
    target = float(np.round(max(base, 1000.0) * rng.uniform(1.04, 1.15), -3))
    actual = float(by_year[years.index(plan.year)]) if plan.year in years else 0.0
    return target, round(actual, 2)


def _progress_value(rng: Rng, target: float, scale: str, elapsed: float) -> float:
    if scale == "upper":  # a ceiling: actual values scatter around it
        return round(target * rng.uniform(0.6, 2.5), 1)
    if scale == "ratio":
        return round(target * rng.uniform(0.4, 1.2), 1)
    return float(min(target, np.floor(target * elapsed * rng.uniform(0.3, 1.3) + 0.5)))


def _goals(rng: Rng, timeline: Timeline, plan: _Plan, out: PlanTables) -> None:
    specs = _stage_specs(rng, plan) + _target_specs(rng, plan, timeline)
    for k, (kind, text, start, due, base, target) in enumerate(specs, start=1):
        goal_id = f"G-{plan.plan_id[2:]}-{k}"
        out.add("stage_goals", goal_id=goal_id, plan_id=plan.plan_id, goal_type=kind,
                description=text, start_date=start, due_date=due, baseline_value=base,
                target_value=target)
        _reviews(rng, timeline, plan, goal_id, start, due, base, target, out)


def _stage_specs(rng: Rng, plan: _Plan) -> list[tuple]:
    months = list(range(plan.start.month, 13))
    n = min(3 if plan.start.month == 1 else 2, len(months))
    picks = rng.permutation(len(STAGE_GOALS))[:n]
    specs = []
    for chunk, pick in zip(np.array_split(months, n), picks, strict=True):
        text, base, target = STAGE_GOALS[int(pick)]
        start = date(plan.year, int(chunk[0]), 1)
        due = _month_end(plan.year, int(chunk[-1]))
        specs.append(("stage_goal", text.format(pl=_product_line(rng)), start, due,
                      float(base), float(target)))
    return specs


def _target_specs(rng: Rng, plan: _Plan, timeline: Timeline) -> list[tuple]:
    """One 90-day target per quarter from the plan's start, due on day 90."""
    specs = []
    for q in range(1, 5):
        start = quarter_start(plan.year, q)
        if start < plan.start or start > timeline.end:
            continue
        text, base, target = TARGETS_90[int(rng.integers(len(TARGETS_90)))]
        specs.append(("90_day_target", text.format(pl=_product_line(rng)), start,
                      start + timedelta(days=89), float(base), float(target)))
    return specs


def _reviews(rng: Rng, timeline: Timeline, plan: _Plan, goal_id: str, start: date, due: date,
             base: float, target: float, out: PlanTables) -> None:
    """Reviews due every 30 days; some missed, some late; progress on, near or off track."""
    missed, late = (0.05, 0.10) if plan.disciplined else (0.20, 0.30)
    weights = [0.6, 0.25, 0.15] if plan.disciplined else [0.4, 0.3, 0.3]
    outcome = list(OUTCOMES)[int(rng.choice(3, p=weights))]
    pace = rng.uniform(*OUTCOMES[outcome])
    length = (due - start).days + 1
    for k in range(1, max(1, length // 30) + 1):
        draw = rng.random()
        shift = int(rng.integers(5, 22)) if draw < missed + late else int(rng.integers(-3, 3))
        when = _weekday(start + timedelta(days=30 * k - 1 + shift))
        if draw < missed or when > timeline.end:
            continue
        share = np.clip(min(1.0, 30 * k / length) * pace + rng.normal(0, 0.04), 0, 1.1)
        who = plan.manager if rng.random() > 0.05 else None
        out.add("reviews", review_id=f"R-{goal_id[2:]}-{k}", goal_id=goal_id, review_date=when,
                progress_value=round(float(base + (target - base) * share), 1),
                reviewed_by=who)


def build_sponsor_contacts(rng: np.random.Generator, acc: Accounts, roster: Roster,
                           timeline: Timeline) -> dict[str, list]:
    """Contacts while an account is key: most sponsors keep in touch, two have lapsed."""
    cols: dict[str, list] = {k: [] for k in ("executive_id", "account_id", "contact_date",
                                              "contact_type")}
    first = roster.first_key()
    for g in np.argsort(acc.account_id[roster.groups], kind="stable"):
        sponsor = str(roster.sponsor[g])
        if not sponsor:
            continue
        begin = roster.approved_on(int(first[g])) - timedelta(days=30)
        gone = np.flatnonzero(roster.status[g] == NONE)
        gone = gone[gone > first[g]]
        stop = roster.approved_on(int(gone[0])) if len(gone) else timeline.end
        if roster.lapsed[g]:  # in touch at first, silent for the last 200 days or more
            silent = timeline.end - timedelta(days=int(rng.integers(200, 400)))
            stop = min(max(silent, begin + timedelta(days=60)),
                       timeline.end - timedelta(days=200))
        rate = rng.uniform(8, 12) if rng.random() < 0.25 else rng.uniform(3, 6)
        span = max(0, (stop - begin).days)
        n = max(int(roster.lapsed[g]), int(rng.poisson(rate * span / 365)))
        days = np.sort(rng.integers(0, max(1, span), n))
        for d in days:
            cols["executive_id"].append(sponsor if rng.random() < 0.9 else "E01")
            cols["account_id"].append(str(acc.account_id[roster.groups[g]]))
            cols["contact_date"].append(min(timeline.end, _weekday(begin + timedelta(int(d)))))
            cols["contact_type"].append(str(rng.choice(["visit", "meeting", "call"],
                                                       p=[0.4, 0.35, 0.25])))
    return cols


def _elapsed(year: int, timeline: Timeline) -> float:
    if year < timeline.end.year:
        return 1.0
    return min(1.0, ((timeline.end - date(year, 1, 1)).days + 1) / 365)


def _product_line(rng: Rng) -> str:
    return cat.PRODUCT_LINES[int(rng.integers(len(cat.PRODUCT_LINES)))].name


def _month_end(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def _weekday(day: date) -> date:
    """Meetings and signatures happen on working days: weekends move to Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)
