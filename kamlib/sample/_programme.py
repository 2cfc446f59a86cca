"""The KAM programme's people and its key-account roster history.

The roster tells a story the workbooks should be able to see through: key
accounts chosen mostly by size (including a large, costly-to-serve account that
a net-revenue view would question), one added because its boss knows ours
(an override the criteria reject), a strategic override into a new market, a
declining account put on watch and then removed, one that recovered, and
fast-growing accounts that joined later. Decisions here also set account
drivers (decline, growth, visit intensity) before invoices are generated, so
the data agree with the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from kamlib.data import contract
from kamlib.sample._accounts import Accounts
from kamlib.sample._names import PERSON_NAMES, STR
from kamlib.sample._timeline import Timeline, label, quarter_start, roster_quarters

Rng = np.random.Generator
NONE, KEY, WATCH, REMOVED = 0, 1, 2, 3
STATUS = {KEY: "key", WATCH: "watch", REMOVED: "removed"}
assert set(STATUS.values()) == set(contract.ROSTER_STATUSES)

EXECUTIVES: tuple[tuple[str, str, str, bool, bool], ...] = (
    ("E01", "Alessandro Ferri", "Chief Executive Officer", True, False),
    ("E02", "Layla Haddad", "Chief Operating Officer", True, False),
    ("E03", "Katharina Engel", "Chief Financial Officer", True, False),
    ("E04", "Marco Conti", "Sales Director", True, False),
    ("E05", "Pierre Lambert", "Chief Technology Officer", True, False),
    ("E06", "Sofia Marchetti", "Head of Key Account Management", False, True),
    ("E07", "Yusuf Demir", "Supply Chain Director", False, False),
)
"""(id, name, title, board member, programme lead): one programme lead, off the board."""
SALES_DIRECTOR = "Marco Conti"
APPROVER = "E01"
SPONSORS = ("E01", "E02", "E03", "E04", "E05", "E07")


@dataclass
class People:
    manager_id: np.ndarray
    manager_name: np.ndarray
    skills: np.ndarray
    """(managers, len(contract.SKILLS)), 1 to 5."""
    trained_on: np.ndarray
    """datetime64[D], NaT when not trained."""

    @property
    def disciplined(self) -> np.ndarray:
        """Trained managers with planning skill plan and review on time."""
        planning = self.skills[:, contract.SKILLS.index("planning")]
        return ~np.isnat(self.trained_on) & (planning >= 3)


@dataclass
class Roster:
    quarters: list[tuple[int, int]]
    groups: np.ndarray
    """Row index of each roster group's top account."""
    status: np.ndarray
    """(groups, quarters) NONE/KEY/WATCH/REMOVED."""
    key_reason: np.ndarray
    watch_reason: np.ndarray
    override: np.ndarray
    sponsor: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=STR))
    """Executive id per group while it is key, '' for none."""
    lapsed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))

    def approved_on(self, q: int) -> date:
        day = quarter_start(*self.quarters[q]) + timedelta(days=9)
        return day + timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)

    @property
    def current(self) -> np.ndarray:
        return self.status[:, -1]

    def first_key(self) -> np.ndarray:
        return np.argmax(self.status > NONE, axis=1)


def build_people(rng: np.random.Generator, n_accounts: int, timeline: Timeline) -> People:
    n = int(np.clip(round(8 + n_accounts / 250), 12, 20))
    names = np.asarray(PERSON_NAMES, dtype=STR)[rng.permutation(len(PERSON_NAMES))[:n]]
    arabic = np.asarray([PERSON_NAMES[17]], dtype=STR)  # keep one name in Arabic script
    if arabic[0] not in names:
        names[-1] = arabic[0]
    skills = _skills(rng, n)
    trained = rng.random(n) < 0.7
    trained[rng.permutation(n)[:3]] = False  # a training gap to show, whatever the seed
    earliest = np.datetime64("2021-01-01")
    span = max(1, int((timeline.end64 - earliest).astype(int)))
    trained_on = earliest + rng.integers(0, span, n).astype("timedelta64[D]")
    trained_on = np.where(trained, trained_on, np.datetime64("NaT"))
    ids = np.asarray([f"M{i:03d}" for i in range(1, n + 1)], dtype=STR)
    return People(ids, names, skills, trained_on)


def _skills(rng: np.random.Generator, n: int) -> np.ndarray:
    """Archetypes: the star salesperson (communication, influence) is often not the best
    key account manager (financial, consulting, planning)."""
    archetypes = np.array([[2, 2, 2, 5, 5],   # hunter
                           [4, 4, 4, 3, 3],   # consultant
                           [3, 3, 3, 3, 3],   # rounded
                           [2, 2, 3, 2, 2]])  # junior
    kind = rng.choice(len(archetypes), n, p=[0.35, 0.25, 0.25, 0.15])
    return np.clip(archetypes[kind] + rng.integers(-1, 2, (n, len(contract.SKILLS))), 1, 5)


def build_roster(rng: np.random.Generator, acc: Accounts, timeline: Timeline) -> Roster:
    """Choose the roster history and adjust the drivers of the accounts concerned."""
    quarters = roster_quarters(timeline)
    p = len(quarters)
    tops = np.flatnonzero(acc.parent < 0)
    group_size = acc.group_sum(acc.size)[tops]
    first_q_month = _month_of(timeline, quarter_start(*quarters[0]))
    alive = ((acc.first_month[tops] <= first_q_month)
             & (acc.last_month[tops] == timeline.n_months - 1))
    fit = np.nan_to_num(acc.fit[tops], nan=5.0)
    rank_value = np.where(alive, group_size * (0.6 + 0.08 * fit), -1.0)
    order = tops[np.argsort(-rank_value, kind="stable")]
    n_key = int(np.clip(round(len(tops) * 0.01), 6, 13))
    chosen: dict[int, tuple[list[int], str, str, bool]] = {}

    def add(row: int, statuses: list[int], key_reason: str, watch_reason: str = "",
            override: bool = False) -> None:
        chosen[int(row)] = (statuses, key_reason, watch_reason, override)

    initial = list(order[:n_key])
    whale = _costliest(acc, order[: n_key * 3])
    if whale is not None and whale not in initial:
        initial[-1] = whale
    for row in initial:
        add(row, [KEY] * p, "Meets all criteria")
    _story(rng, acc, order, initial, whale, p, add, chosen)
    groups = np.asarray(sorted(chosen), dtype=np.int64)
    status = np.asarray([chosen[g][0] for g in groups], dtype=np.int64).reshape(len(groups), p)
    key_reason = np.asarray([chosen[g][1] for g in groups], dtype=object)
    watch_reason = np.asarray([chosen[g][2] for g in groups], dtype=object)
    override = np.asarray([chosen[g][3] for g in groups], dtype=bool)
    roster = Roster(quarters, groups, status, key_reason, watch_reason, override)
    _intensify_service(rng, acc, roster)
    return roster


def _story(rng: Rng, acc: Accounts, order: np.ndarray, initial: list[int], whale: int | None,
           p: int, add: Callable[..., None], chosen: dict[int, tuple]) -> None:
    """Changes over time; each needs enough quarters and is skipped otherwise."""
    n_key = len(initial)
    others = [r for r in initial[3:] if r != whale]
    if p >= 2 and others:  # decline: watch, then removed after two failing periods
        row = others[-1]
        w = max(1, p // 2)
        statuses = [KEY] * w + [WATCH] + [REMOVED] + [NONE] * max(0, p - w - 2)
        add(row, statuses[:p], "Meets all criteria", "Net revenue below threshold; declining")
        members = acc.group == row
        acc.growth[members] = np.minimum(acc.growth[members], np.exp(-0.45))
        acc.potential[members] = np.minimum(acc.potential[members], 3.0)
    if p >= 3 and len(others) > 1:  # dipped for one quarter, then back above criteria
        add(others[0], [KEY, WATCH] + [KEY] * (p - 2), "Meets all criteria",
            "Net margin dipped below threshold")
    if p >= 2 and whale is not None:  # the value destroyer finally questioned
        add(whale, [KEY] * (p - 1) + [WATCH], "Meets all criteria",
            "Net margin below 5% after cost to serve")
    golf = order[min(len(order) - 1, n_key * 4 + int(rng.integers(0, n_key * 2)))]
    add(golf, [KEY] * p, "Management override: long-standing relationship at CEO level",
        override=True)
    acc.fit[golf] = 3.0
    market = [r for r in order[n_key * 2: n_key * 6]
              if acc.country[r] in ("AE", "SA", "CN") and int(r) not in chosen]
    if p >= 3 and market:
        start = max(1, p // 3)
        add(market[0], [NONE] * start + [KEY] * (p - start),
            "Management override: reference customer for entering a new market", override=True)
    candidates = [r for r in order[n_key: n_key * 3]
                  if int(r) not in chosen and not acc.demanding[r]]  # recent, careful choices
    entries = sorted({min(p - 1, e) for e in (p // 4 + 1, p // 2 + 1, p - 1)}) if p >= 2 else []
    for row, start in zip(candidates, entries, strict=False):  # fewer entries if short
        add(row, [NONE] * start + [KEY] * (p - start), "Meets all criteria; fast growth")
        members = acc.group == row
        acc.growth[members] = np.maximum(acc.growth[members], 1.3)
        acc.potential[members] = np.maximum(acc.potential[members], 7.0)


def _costliest(acc: Accounts, rows: np.ndarray) -> int | None:
    """The large account that strains hardest: key by gross revenue, but not by net."""
    hits = rows[acc.demanding[rows]]
    return int(hits[np.argmax(acc.strain[hits])]) if len(hits) else None


def _month_of(timeline: Timeline, day: date) -> int:
    return int(np.searchsorted(timeline.months, np.datetime64(day, "D"), side="right") - 1)


def _intensify_service(rng: np.random.Generator, acc: Accounts, roster: Roster) -> None:
    """Key accounts get monthly sales visits and regular technical visits."""
    key_tops = roster.groups
    k = len(key_tops)
    acc.visit_rate[key_tops] = rng.uniform(1.2, 2.5, k)
    acc.tech_rate[key_tops] = np.maximum(acc.tech_rate[key_tops], rng.uniform(0.3, 1.0, k))
    subs = np.isin(acc.parent, key_tops)
    acc.visit_rate[subs] = np.maximum(acc.visit_rate[subs], rng.uniform(0.2, 0.5, subs.sum()))


def assign_scores(rng: np.random.Generator, acc: Accounts, managed_groups: np.ndarray) -> None:
    """Management scores and wallet estimates exist only for managed accounts."""
    n = len(acc)
    managed = np.isin(acc.group, managed_groups)
    top_fit = np.clip(np.rint(rng.normal(5.5, 2.0, n)), 0, 10)
    fit = np.clip(top_fit[acc.group] + rng.integers(-1, 2, n), 0, 10)
    potential = np.clip(np.rint(5 + 6 * np.log(acc.growth) + rng.normal(0, 1.5, n)), 0, 10)
    share = rng.uniform(0.12, 0.75, n)
    wallet = np.round(acc.size * (1 - acc.discount) / share, -3)
    acc.fit = np.where(managed, fit, np.nan)
    acc.potential = np.where(managed, potential, np.nan)
    acc.wallet = np.where(managed & (rng.random(n) < 0.9), wallet, np.nan)


def managed_groups(acc: Accounts, n_managers: int) -> np.ndarray:
    """The largest 30 % of groups (at most 150 per manager) have a named manager."""
    tops = np.flatnonzero(acc.parent < 0)
    size = acc.group_sum(acc.size)[tops]
    keep = min(int(len(tops) * 0.3), 150 * n_managers)
    return tops[np.argsort(-size, kind="stable")[:keep]]


def assign_owners(rng: np.random.Generator, acc: Accounts, roster: Roster, people: People,
                  managed: np.ndarray) -> None:
    """Managers for managed groups; key accounts go to a few of them (the KAMs, two or
    three key accounts each, trained or not); sponsors for key accounts (two left
    without), two sponsors' contacts lapsed."""
    n, m = len(acc), len(people.manager_id)
    group_manager = np.full(n, -1)
    group_manager[managed] = rng.integers(0, m, len(managed))
    k = len(roster.groups)
    kams = rng.permutation(m)[: min(m, max(2, int(np.ceil(k / 2.5))))]
    group_manager[roster.groups] = kams[np.arange(k) % len(kams)]
    manager = group_manager[acc.group]
    moved = (acc.parent >= 0) & (manager >= 0) & (rng.random(n) < 0.2)
    manager[moved] = rng.integers(0, m, moved.sum())  # a local owner for some subsidiaries
    acc.manager = manager
    sponsor = np.asarray(SPONSORS, dtype=STR)[rng.permutation(k) % len(SPONSORS)]
    current = roster.current
    live = np.flatnonzero(np.isin(current, (KEY, WATCH)) & ~roster.override)
    unsponsored = rng.choice(live, min(2, len(live)), replace=False) if len(live) > 2 else []
    sponsor[unsponsored] = ""
    roster.sponsor = sponsor
    lapsed = np.zeros(k, dtype=bool)
    candidates = np.setdiff1d(live, unsponsored)
    lapsed[rng.choice(candidates, min(2, len(candidates)), replace=False)] = True
    roster.lapsed = lapsed
    acc.sponsor = np.full(n, "", dtype=STR)
    on_roster = np.isin(current, (KEY, WATCH))
    acc.sponsor[roster.groups[on_roster]] = sponsor[on_roster]


def roster_columns(acc: Accounts, roster: Roster) -> dict[str, list]:
    cols: dict[str, list] = {name: [] for name in ("period", "account_id", "status", "reason",
                                                   "override", "approved_by", "approved_on")}
    ids = acc.account_id[roster.groups]
    for q in range(len(roster.quarters)):
        listed = np.flatnonzero(roster.status[:, q] > NONE)
        for g in listed[np.argsort(ids[listed], kind="stable")]:
            status = int(roster.status[g, q])
            cols["period"].append(label(roster.quarters[q]))
            cols["account_id"].append(str(ids[g]))
            cols["status"].append(STATUS[status])
            cols["reason"].append(_reason(roster, g, q, status))
            cols["override"].append(bool(roster.override[g]) and status == KEY)
            cols["approved_by"].append(APPROVER)
            cols["approved_on"].append(roster.approved_on(q))
    return cols


def _reason(roster: Roster, g: int, q: int, status: int) -> str:
    if status == REMOVED:
        return "Failed the criteria two periods in a row"
    if status == WATCH:
        return str(roster.watch_reason[g])
    if q > 0 and roster.status[g, q - 1] == WATCH:
        return "Back above the criteria"
    if q > 0 and roster.status[g, q - 1] == KEY and not roster.override[g]:
        return "Meets all criteria"
    return str(roster.key_reason[g])
