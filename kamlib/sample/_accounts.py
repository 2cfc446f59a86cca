"""Accounts: who they are (the accounts table) and what drives their invoices.

Each account gets visible attributes (name, country, group, industry) and hidden
drivers that the invoice and activity generator reads: a yearly size at list
price drawn from a lognormal (a few accounts make most of the revenue), a growth
trend, months in which it is a customer (new and churned accounts), ordering
habits, product mix, discounts and rebates, and how costly it is to serve.
"demanding" marks large accounts whose discounts, rebates and service needs eat
their margin: the accounts a gross-revenue ranking gets wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kamlib.sample import _catalog as cat
from kamlib.sample._names import COUNTRIES, STR, company_names, subsidiary_names
from kamlib.sample._timeline import Timeline

MEDIAN_SIZE = 14_000.0
"""Median yearly purchases of an account at list price, EUR."""
SIZE_SIGMA = 1.75
"""Lognormal spread of account sizes: the top fifth buys about four fifths (Pareto's
80/20), the top 1 % (future key accounts) over a quarter."""
ORDERS_AT_MEDIAN = 8.2
"""Orders a year from a median-sized account; grows with the square root of size."""


@dataclass
class Accounts:
    """Columns of the accounts table plus the drivers of each account's invoices."""

    account_number: np.ndarray
    """The ERP number behind each account id; ids are it zero-padded to id_width."""
    id_width: int
    account_id: np.ndarray
    name: np.ndarray
    parent: np.ndarray
    """Row index of the group top, -1 for a top or a stand-alone account."""
    country: np.ndarray
    currency: np.ndarray
    industry: np.ndarray
    size: np.ndarray
    growth: np.ndarray
    """Yearly growth factor of the account's orders (1.1 is +10 % a year)."""
    first_month: np.ndarray
    last_month: np.ndarray
    orders_per_year: np.ndarray
    lines_mu: np.ndarray
    """Mean extra lines per invoice (Poisson), before scaling to the line target."""
    season_amp: np.ndarray
    mix_cdf: np.ndarray
    """Cumulative product-line mix, (accounts, product lines), float32."""
    discount: np.ndarray
    rebate: np.ndarray
    return_rate: np.ndarray
    rush_rate: np.ndarray
    split_rate: np.ndarray
    ticket_rate: np.ndarray
    visit_rate: np.ndarray
    tech_rate: np.ndarray
    packaging_rate: np.ndarray
    demanding: np.ndarray
    strain: np.ndarray
    """How demanding: 0 (little margin left) to 1 (clearly destroys value)."""
    terms_days: np.ndarray
    days_to_pay: np.ndarray
    """Average days to pay, NaN when the account pays on terms."""
    line_value: np.ndarray | None = None
    """Mean list value of one invoice line, set once the line target is known."""
    manager: np.ndarray | None = None
    sponsor: np.ndarray | None = None
    wallet: np.ndarray | None = None
    fit: np.ndarray | None = None
    potential: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.account_id)

    @property
    def group(self) -> np.ndarray:
        """Row index of each account's group top (itself when stand-alone)."""
        return np.where(self.parent >= 0, self.parent, np.arange(len(self)))

    def group_sum(self, values: np.ndarray) -> np.ndarray:
        """Per-row group totals, indexed by the top's row (zero for subsidiaries)."""
        return np.bincount(self.group, weights=values, minlength=len(self))


def build_accounts(rng: np.random.Generator, n: int, timeline: Timeline) -> Accounts:
    numbers = 100 + np.cumsum(rng.integers(1, 4, n))  # ERP numbers have gaps
    width = max(6, len(str(int(numbers[-1]))))  # at least six digits: "000123"
    country_idx = rng.choice(len(COUNTRIES), n, p=[c.weight for c in COUNTRIES])
    size = MEDIAN_SIZE * np.exp(SIZE_SIGMA * rng.standard_normal(n))
    rank = np.argsort(np.argsort(-size, kind="stable"), kind="stable")  # 0 = largest
    demanding, strain = _demanding(rng, rank)
    industry = rng.choice(len(cat.INDUSTRIES), n, p=[w for _, w in cat.INDUSTRIES])
    first, last = _lifetimes(rng, size, rank, demanding, timeline.n_months)
    terms, to_pay = _payment(rng, country_idx, demanding, strain)
    acc = Accounts(
        account_number=numbers,
        id_width=width,
        account_id=np.strings.zfill(numbers.astype(STR), width),
        name=np.empty(n, dtype=STR),
        parent=np.full(n, -1),
        country=np.asarray([c.code for c in COUNTRIES], dtype=STR)[country_idx],
        currency=np.asarray([c.currency for c in COUNTRIES], dtype=STR)[country_idx],
        industry=np.asarray([i for i, _ in cat.INDUSTRIES], dtype=STR)[industry],
        size=size,
        growth=_growth(rng, n),
        first_month=first,
        last_month=last,
        orders_per_year=_orders_per_year(rng, size, strain),
        lines_mu=np.clip(0.45 + 0.45 * np.log10(size / MEDIAN_SIZE), 0.15, 2.5),
        season_amp=rng.uniform(0.4, 1.4, n),
        mix_cdf=_product_mix(rng, size, industry, demanding),
        discount=_discounts(rng, size, demanding, strain),
        rebate=_rebates(rng, size, demanding, strain),
        return_rate=np.where(demanding, 0.03 + 0.08 * strain, rng.uniform(0.005, 0.03, n)),
        rush_rate=np.where(demanding, 0.10 + 0.25 * strain, rng.uniform(0.0, 0.05, n)),
        split_rate=rng.uniform(0.02, 0.35, n),
        ticket_rate=np.where(demanding, 0.3 + 0.6 * strain, rng.uniform(0.02, 0.2, n)),
        visit_rate=np.zeros(n),
        tech_rate=np.zeros(n),
        packaging_rate=np.where(rng.random(n) < 0.05, rng.uniform(0.3, 1.0, n), 0.0),
        demanding=demanding,
        strain=strain,
        terms_days=terms,
        days_to_pay=to_pay,
    )
    _form_groups(rng, acc)
    _set_visits(rng, acc)
    return acc


def _demanding(rng: np.random.Generator, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """About one in twelve of the largest accounts is costly to serve, with a strain from
    0 (little margin left) to 1 (clearly destroys value). Two of the top 5 % always
    strain hard, so the whale curve shows large accounts destroying value on any seed."""
    n = len(rank)
    out = (rank < max(15, int(n * 0.15))) & (rng.random(n) < 0.08)
    strain = np.where(out, rng.random(n), 0.0)
    top = np.flatnonzero((rank < max(6, n // 20)) & (rank > 0))
    forced = rng.choice(top, min(2, len(top)), replace=False)
    out[forced] = True
    strain[forced] = rng.uniform(0.5, 1.0, len(forced))
    return out, strain


def _growth(rng: np.random.Generator, n: int) -> np.ndarray:
    """Most accounts drift; a tenth grow fast and a tenth decline."""
    kind = rng.random(n)
    log_growth = np.where(kind < 0.10, rng.normal(0.30, 0.08, n),
                          np.where(kind < 0.20, rng.normal(-0.30, 0.08, n),
                                   rng.normal(0.02, 0.10, n)))
    return np.exp(log_growth)


def _lifetimes(rng: np.random.Generator, size: np.ndarray, rank: np.ndarray,
               demanding: np.ndarray, n_months: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last month as a customer: some are won during the period, some lost
    (no invoices in the last year). The largest accounts are never lost in the sample,
    and demanding accounts are long-standing ones (that is how they got their terms)."""
    n = len(size)
    first = np.zeros(n, dtype=np.int64)
    last = np.full(n, n_months - 1, dtype=np.int64)
    is_new = (rng.random(n) < 0.12) & ~demanding
    first[is_new] = rng.integers(1, max(2, n_months - 2), is_new.sum())
    if n_months >= 16:  # churn needs a year without invoices after some history
        churn_p = np.where(size < MEDIAN_SIZE, 0.10, 0.05)
        churned = (rng.random(n) < churn_p) & (rank >= max(20, n // 50))
        lo = np.maximum(first + 2, n_months // 6)
        stop = rng.integers(lo, np.maximum(lo + 1, n_months - 12))
        churned &= stop <= n_months - 13
        last[churned] = stop[churned]
    return first, last


def _orders_per_year(rng: np.random.Generator, size: np.ndarray,
                     strain: np.ndarray) -> np.ndarray:
    """Order frequency grows with the square root of size; demanding accounts place
    many small orders, the long tail orders a few times a year."""
    style = np.exp(rng.normal(0, 0.3, len(size)))
    orders = ORDERS_AT_MEDIAN * np.sqrt(size / MEDIAN_SIZE) * style
    return np.maximum(0.6, np.where(strain > 0, orders * (2 + 3 * strain), orders))


def _product_mix(rng: np.random.Generator, size: np.ndarray, industry: np.ndarray,
                 demanding: np.ndarray) -> np.ndarray:
    """Dirichlet mix over product lines: small accounts buy one or two lines, large ones
    many; industries lean to their lines, demanding accounts to low-margin ones."""
    names = [p.name for p in cat.PRODUCT_LINES]
    affinity = np.ones((len(cat.INDUSTRIES), len(names)))
    for i, (ind, _) in enumerate(cat.INDUSTRIES):
        for line, factor in cat.INDUSTRY_AFFINITY.get(ind, {}).items():
            affinity[i, names.index(line)] = factor
    concentration = np.clip(0.25 + 1.2 * np.log10(size / 1_000), 0.15, 8.0)
    alpha = cat.PL_POPULARITY * affinity[industry] * concentration[:, None]
    alpha = np.where(demanding[:, None] & cat.LOW_MARGIN_LINES, alpha * 4.0, alpha)
    weights = rng.gamma(alpha) + 1e-9
    mix = weights / weights.sum(axis=1, keepdims=True)
    return np.cumsum(mix, axis=1).astype(np.float32)


def _discounts(rng: np.random.Generator, size: np.ndarray, demanding: np.ndarray,
               strain: np.ndarray) -> np.ndarray:
    """Bigger accounts negotiate bigger discounts; demanding ones the biggest."""
    base = 0.04 + 0.035 * np.log10(np.maximum(size, 1_000) / MEDIAN_SIZE)
    rate = base + rng.normal(0, 0.02, len(size))
    rate = np.where(demanding, 0.12 + 0.10 * strain, rate)
    return np.clip(rate, 0.0, 0.35)


def _rebates(rng: np.random.Generator, size: np.ndarray, demanding: np.ndarray,
             strain: np.ndarray) -> np.ndarray:
    """Year-end rebates only for accounts above about 60k a year."""
    n = len(size)
    rate = np.where(size > 60_000, rng.uniform(0.005, 0.03, n), 0.0)
    return np.where(demanding, 0.015 + 0.03 * strain, rate)


# Agreed payment terms by country (days); southern Europe and the Gulf pay later.
_TERMS = {"IT": (60, 90, 120), "ES": (60, 90), "FR": (45, 60), "DE": (30, 45), "AT": (30, 45),
          "CH": (30,), "PL": (30, 60), "TR": (60, 90), "GB": (30, 60), "US": (30, 45),
          "AE": (90, 120), "SA": (90, 120), "EG": (90, 120), "CN": (60, 90), "JP": (60, 90)}


def _payment(rng: np.random.Generator, country_idx: np.ndarray, demanding: np.ndarray,
             strain: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(country_idx)
    choices = [_TERMS[c.code] for c in COUNTRIES]
    pick = rng.random(n)
    terms = np.zeros(n, dtype=np.int64)
    for ci, options in enumerate(choices):  # one vectorised pick per country
        rows = country_idx == ci
        terms[rows] = np.asarray(options)[(pick[rows] * len(options)).astype(int)]
    terms = np.where(demanding, np.maximum(terms, 90), terms)
    late = np.maximum(0.0, rng.normal(6, 12, n))
    late = np.where(demanding, 15 + 35 * strain, late)
    on_terms = (rng.random(n) < 0.35) & ~demanding
    return terms, np.where(on_terms, np.nan, np.round(terms + late))


def _form_groups(rng: np.random.Generator, acc: Accounts) -> None:
    """A few groups of 2-8 subsidiaries under a large top account, one level deep so
    there are no cycles; subsidiaries are named after the top, at home or abroad."""
    n = len(acc)
    subs, sub_parent = _group_members(rng, acc.size)
    names = np.empty(n, dtype=STR)
    stems = np.empty(n, dtype=STR)
    native = np.zeros(n, dtype=bool)
    for c in COUNTRIES:  # one vectorised naming call per country
        rows = np.flatnonzero(acc.country == c.code)
        made = company_names(rng, c, len(rows))
        names[rows], stems[rows], native[rows] = made.name, made.stem_latin, made.native
    if len(subs):
        at_home = rng.random(len(subs)) < 0.6
        foreign = rng.choice(len(COUNTRIES), len(subs), p=[c.weight for c in COUNTRIES])
        codes = np.asarray([c.code for c in COUNTRIES], dtype=STR)
        sub_country = np.where(at_home, acc.country[sub_parent], codes[foreign])
        currency = dict((c.code, c.currency) for c in COUNTRIES)
        acc.country[subs] = sub_country
        acc.currency[subs] = np.asarray([currency[c] for c in sub_country.tolist()], dtype=STR)
        same_industry = rng.random(len(subs)) < 0.8
        acc.industry[subs] = np.where(same_industry, acc.industry[sub_parent], acc.industry[subs])
        names[subs] = subsidiary_names(rng, names[sub_parent], stems[sub_parent],
                                       native[sub_parent], acc.country[sub_parent], sub_country)
        acc.parent[subs] = sub_parent
    acc.name = _deduplicate(names)


def _group_members(rng: np.random.Generator, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subsidiaries and their tops: tops among the largest accounts, subsidiaries
    among the rest (the very largest stay stand-alone)."""
    n = len(size)
    n_groups = max(1, round(n * 0.025)) if n >= 40 else 0
    if n_groups == 0:
        return np.array([], int), np.array([], int)
    order = np.argsort(-size, kind="stable")
    tops = rng.choice(order[: max(n_groups, int(n * 0.12))], n_groups, replace=False)
    counts = rng.choice(np.arange(2, 9), n_groups,
                        p=[0.30, 0.22, 0.16, 0.12, 0.09, 0.06, 0.05])
    pool = np.setdiff1d(order[max(1, int(n * 0.03)):], tops)
    total = min(int(counts.sum()), len(pool))
    subs = rng.choice(pool, total, replace=False)
    sub_parent = np.repeat(tops, counts)[:total]
    return subs, sub_parent


def _deduplicate(names: np.ndarray) -> np.ndarray:
    """Give repeated names a numbered branch suffix so no two accounts share a name."""
    _, inverse, counts = np.unique(names, return_inverse=True, return_counts=True)
    if counts.max(initial=1) == 1:
        return names
    order = np.argsort(inverse, kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    rank[order] = np.arange(len(names)) - starts
    suffix = np.strings.add(" (", np.strings.add((rank + 1).astype(STR), ")"))
    return np.where(rank > 0, np.strings.add(names, suffix), names)


def _set_visits(rng: np.random.Generator, acc: Accounts) -> None:
    """Sales and technical visits go to large accounts; the tail is served remotely.
    Key accounts get more once the roster is known (see _programme)."""
    n = len(acc)
    scale = np.clip(np.log10(acc.size / 20_000), 0, None)
    acc.visit_rate = np.where(acc.size > 40_000, 0.08 * scale + rng.uniform(0, 0.1, n), 0.0)
    acc.tech_rate = np.where(acc.size > 80_000, 0.05 * scale * rng.uniform(0.5, 1.5, n), 0.0)
    acc.tech_rate = np.where(acc.demanding, acc.tech_rate * 3 + 0.2, acc.tech_rate)
