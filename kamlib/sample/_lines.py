"""Invoice lines and monthly activity counts, generated one block of accounts at a time.

Every block of BLOCK accounts draws from its own random stream (seed, stream,
block number), so the data depend only on the sample's arguments and not on
how many blocks are written per chunk or in which file format. Within a block
all work is vectorised over account-months, invoices and lines.

The model, per account and month: orders ~ Poisson(yearly rate / 12 x growth
trend x seasonality) while the account is a customer; one invoice per order
with 1 + Poisson(mu) lines; each line picks a product line from the account's
mix, a list value around the account's typical line value, a unit price, the
account's discount and rebate, and the product line's cost ratio. Some lines
come back as credit notes (returns) a few days to weeks later. Activities
follow the orders: deliveries (some split), rush deliveries, returns (the
credit notes), support tickets, visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from kamlib.sample import _catalog as cat
from kamlib.sample._accounts import Accounts
from kamlib.sample._timeline import Timeline
from kamlib.sample._write import fixed_width_text

BLOCK = 50
"""Accounts per random stream. Chunks are whole numbers of blocks."""
LINES_STREAM = 101
MAX_EXTRA_LINES = 40
LINE_VALUE_SIGMA = 0.8
PRICE_SIGMA = 0.6


@dataclass
class Ledger:
    """Per-account totals collected while streaming, for plans, roster and criteria."""

    gross_by_year: np.ndarray
    """(accounts, calendar years) gross amount including credit notes."""
    trailing: np.ndarray
    """(accounts, 2, 4): last 12 months and the 12 before; gross, net sales (after
    discounts and rebates), margin (net sales - cost of goods), activity cost."""
    product_lines: np.ndarray
    """Product lines bought in the last 12 months."""

    @classmethod
    def empty(cls, n: int, timeline: Timeline) -> Ledger:
        return cls(np.zeros((n, len(timeline.calendar_years))), np.zeros((n, 2, 4)),
                   np.zeros(n, dtype=np.int64))


@dataclass
class Counters:
    """Documents issued so far on each day, across blocks: invoice numbers are the date
    and a daily sequence ("INV-260508-0012"), so they sort by date like an ERP's."""

    invoice: np.ndarray
    credit: np.ndarray
    width: int = 4

    @classmethod
    def for_timeline(cls, timeline: Timeline, expected_lines: float) -> Counters:
        days = int((timeline.end64 - timeline.months[0]).astype(int)) + 1
        per_day = 3 * expected_lines / days  # busy days see about three times the mean
        return cls(np.zeros(days, np.int64), np.zeros(days, np.int64),
                   max(4, len(str(int(per_day)))))

    def number(self, date: np.ndarray, account: np.ndarray, timeline: Timeline,
               kind: str) -> np.ndarray:
        """Daily sequence numbers, in order of date then account (the block's order)."""
        issued = getattr(self, kind)
        day = (date - timeline.months[0]).astype(np.int64)
        order = np.lexsort((account, day))
        d = day[order]
        rank = np.arange(len(d)) - np.searchsorted(d, d, side="left")
        number = np.empty(len(d), np.int64)
        number[order] = issued[d] + rank + 1
        issued += np.bincount(day, minlength=len(issued))
        return number


@dataclass
class Block:
    """Numbers only; text columns are built once per chunk (see line_columns)."""

    lines: dict[str, np.ndarray]
    activities: dict[str, np.ndarray]


@dataclass
class _Invoices:
    account: np.ndarray
    month: np.ndarray
    date: np.ndarray
    number: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


def block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.default_rng([seed, LINES_STREAM, block])


def generate_block(acc: Accounts, rows: slice, timeline: Timeline, seed: int, block: int,
                   counters: Counters, ledger: Ledger) -> Block:
    """Invoice lines and activities of the accounts in `rows` (one block)."""
    rng = block_rng(seed, block)
    orders = _monthly_orders(rng, acc, rows, timeline)
    inv = _invoices(rng, orders, timeline, counters)
    lines = _lines(rng, acc, rows, inv, timeline)
    credits = _credit_notes(rng, lines, acc.return_rate[rows], timeline, counters)
    merged = _merge(lines, credits)
    activities = _activities(rng, acc, rows, orders, credits, timeline)
    _record(ledger, rows.start, merged, activities, timeline)
    return Block(_compact(merged, rows.start), _activity_rows(activities, rows.start))


def _compact(lines: dict[str, np.ndarray], offset: int) -> dict[str, np.ndarray]:
    """What the chunk needs to write the lines, in small types: chunks wait in memory."""
    return {"account": (lines["account"] + offset).astype(np.int32),
            "date": lines["date"], "kind": lines["kind"],
            "number": lines["number"].astype(np.int32), "pl": lines["pl"].astype(np.int8),
            "quantity": lines["quantity"], "gross": lines["gross"],
            "discount": lines["discount"], "rebate": lines["rebate"], "cogs": lines["cogs"]}


def _monthly_orders(rng: np.random.Generator, acc: Accounts, rows: slice,
                    timeline: Timeline) -> np.ndarray:
    return rng.poisson(order_rates(acc, rows, timeline))


def order_rates(acc: Accounts, rows: slice, timeline: Timeline) -> np.ndarray:
    """Expected orders per account (rows) and month (columns)."""
    m = np.arange(timeline.n_months)
    active = (m >= acc.first_month[rows, None]) & (m <= acc.last_month[rows, None])
    trend = acc.growth[rows, None] ** ((m - timeline.n_months / 2) / 12)
    season = 1 + acc.season_amp[rows, None] * (cat.SEASON[timeline.calendar_month] - 1)
    return acc.orders_per_year[rows, None] / 12 * trend * season * active


def _invoices(rng: np.random.Generator, orders: np.ndarray, timeline: Timeline,
              counters: Counters) -> _Invoices:
    n_months = orders.shape[1]
    cell = np.repeat(np.arange(orders.size), orders.ravel())
    account, month = np.divmod(cell, n_months)
    day = (rng.random(len(cell)) * timeline.days_in_month[month]).astype(np.int64)
    date = _weekday(timeline.months[month] + day, timeline.months[month])
    order = np.lexsort((date, account))
    inv = _Invoices(account[order], month[order], date[order])
    inv.number = counters.number(inv.date, inv.account, timeline, "invoice")
    return inv


def _weekday(day: np.ndarray, month_start: np.ndarray) -> np.ndarray:
    """Move weekend dates to the Friday before, or the Monday after at a month's start."""
    weekday = (day.astype(np.int64) + 3) % 7  # 0 = Monday; 1970-01-01 was a Thursday
    back = np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    moved = day - back
    forward = np.where(weekday == 5, 2, 1)
    return np.where(moved < month_start, day + forward, moved)


def _lines(rng: np.random.Generator, acc: Accounts, rows: slice, inv: _Invoices,
           timeline: Timeline) -> dict[str, np.ndarray]:
    mu = acc.lines_mu[rows][inv.account]
    per_invoice = 1 + np.minimum(rng.poisson(mu), MAX_EXTRA_LINES)
    which = np.repeat(np.arange(len(inv.account)), per_invoice)
    a = inv.account[which]
    month = inv.month[which]
    n = len(which)
    pl = _pick_product_lines(rng, acc.mix_cdf[rows], a)
    price = np.round(np.maximum(0.05, cat.PL_PRICE[pl] * timeline.price_index[month]
                                * np.exp(rng.normal(0, PRICE_SIGMA, n))), 2)
    value = acc.line_value[rows][a] * np.exp(
        rng.normal(-LINE_VALUE_SIGMA**2 / 2, LINE_VALUE_SIGMA, n)) * timeline.price_index[month]
    quantity = np.maximum(1, np.rint(value / price)).astype(np.int64)
    gross = np.round(quantity * price, 2)
    rate = np.clip(acc.discount[rows][a] + cat.PL_DISCOUNT[pl] + rng.normal(0, 0.015, n), 0, 0.6)
    cost = cat.PL_COST[pl] * np.exp(rng.normal(0, 0.04, n))
    return {
        "account": a, "month": month, "date": inv.date[which], "kind": np.zeros(n, np.int8),
        "number": inv.number[which], "pl": pl, "quantity": quantity, "gross": gross,
        "discount": np.round(gross * rate, 2),
        "rebate": np.round(gross * acc.rebate[rows][a], 2),
        "cogs": np.round(gross * cost, 2),
    }


def _pick_product_lines(rng: np.random.Generator, mix_cdf: np.ndarray,
                        account: np.ndarray) -> np.ndarray:
    u = rng.random(len(account), dtype=np.float32)
    pl = np.zeros(len(account), dtype=np.int64)
    for p in range(mix_cdf.shape[1] - 1):  # loop over 8 product lines, not over lines
        pl += u > mix_cdf[account, p]
    return pl


def _credit_notes(rng: np.random.Generator, lines: dict[str, np.ndarray],
                  return_rate: np.ndarray, timeline: Timeline,
                  counters: Counters) -> dict[str, np.ndarray]:
    """Returns: a credit note per returned line, 3 to 45 days after the invoice, for
    part or all of the quantity; most goods go back to stock (negative cost of goods)."""
    hit = rng.random(len(lines["gross"])) < return_rate[lines["account"]]
    idx = np.flatnonzero(hit)
    date = lines["date"][idx] + rng.integers(3, 46, len(idx))
    keep = date <= timeline.end64  # goods not yet returned by the end of the data
    idx, date = idx[keep], date[keep]
    qty = lines["quantity"][idx]
    back = np.minimum(qty, np.ceil(qty * rng.uniform(0.1, 1.0, len(idx))).astype(np.int64))
    share = back / qty
    restock = rng.random(len(idx)) < 0.75
    month = (date.astype("datetime64[M]") - timeline.months[0].astype("datetime64[M]")).astype(
        np.int64)
    order = np.lexsort((date, lines["account"][idx]))
    idx, date, back, share, restock, month = (x[order] for x in (idx, date, back, share,
                                                                  restock, month))
    number = counters.number(date, lines["account"][idx], timeline, "credit")

    def negate(col: str) -> np.ndarray:
        return -np.round(lines[col][idx] * share, 2) + 0.0  # + 0.0 turns -0.0 into 0.0

    return {
        "account": lines["account"][idx], "month": month, "date": date,
        "kind": np.ones(len(idx), np.int8), "number": number, "pl": lines["pl"][idx],
        "quantity": -back, "gross": negate("gross"), "discount": negate("discount"),
        "rebate": negate("rebate"), "cogs": np.where(restock, negate("cogs"), 0.0),
    }


def _merge(lines: dict[str, np.ndarray], credits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Invoices and credit notes in one list, by account, date, document."""
    merged = {k: np.concatenate([lines[k], credits[k]]) for k in credits}
    order = np.lexsort((merged["number"], merged["kind"], merged["date"], merged["account"]))
    return {k: v[order] for k, v in merged.items()}


def _activities(rng: np.random.Generator, acc: Accounts, rows: slice, orders: np.ndarray,
                credits: dict[str, np.ndarray], timeline: Timeline) -> np.ndarray:
    """Counts (activities, accounts, months) in the order of catalog.ACTIVITY_NAMES."""
    b, m = orders.shape
    returns = np.bincount(credits["account"] * m + credits["month"], minlength=b * m)
    returns = returns.reshape(b, m)
    months = np.arange(m)
    alive = (months >= acc.first_month[rows, None]) & (months <= acc.last_month[rows, None])

    def rate(values: np.ndarray) -> np.ndarray:
        return values[rows, None]

    counts = {
        "order": orders,
        "delivery": orders + rng.binomial(orders, rate(acc.split_rate)),
        "rush_delivery": rng.binomial(orders, rate(acc.rush_rate)),
        "return": returns,
        "support_ticket": rng.poisson(rate(acc.ticket_rate) * (orders + 3 * returns)),
        "sales_visit": rng.poisson(rate(acc.visit_rate) * alive),
        "technical_visit": rng.poisson(rate(acc.tech_rate) * alive),
        "custom_packaging": rng.binomial(orders, rate(acc.packaging_rate)),
    }
    return np.stack([counts[name] for name in cat.ACTIVITY_NAMES])


def _record(ledger: Ledger, offset: int, lines: dict[str, np.ndarray], activities: np.ndarray,
            timeline: Timeline) -> None:
    b = activities.shape[1]
    a = lines["account"]
    years = len(timeline.calendar_years)
    cal = timeline.calendar_year_index[lines["month"]]
    ledger.gross_by_year[offset:offset + b] += _sum_by(a * years + cal, lines["gross"], b * years
                                                       ).reshape(b, years)
    trailing = np.minimum(timeline.trailing_year[lines["month"]], 2)
    net_sales = lines["gross"] - lines["discount"] - lines["rebate"]
    for col, values in enumerate((lines["gross"], net_sales, net_sales - lines["cogs"])):
        totals = _sum_by(a * 3 + trailing, values, b * 3).reshape(b, 3)[:, :2]
        ledger.trailing[offset:offset + b, :, col] += totals
    cost = np.tensordot(cat.UNIT_COSTS, activities, axes=1)  # (accounts, months)
    for t in (0, 1):
        ledger.trailing[offset:offset + b, t, 3] += cost[:, timeline.trailing_year == t].sum(1)
    recent = (timeline.trailing_year[lines["month"]] == 0) & (lines["kind"] == 0)
    pairs = np.unique(a[recent] * len(cat.PRODUCT_LINES) + lines["pl"][recent])
    ledger.product_lines[offset:offset + b] += np.bincount(
        pairs // len(cat.PRODUCT_LINES), minlength=b)


def _sum_by(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(keys, weights=values, minlength=size)


def line_columns(acc: Accounts, lines: dict[str, np.ndarray],
                 counters: Counters) -> dict[str, pa.Array]:
    """Columns of the invoice_lines table for a chunk of blocks."""
    names = pa.array(cat.PL_NAMES.tolist(), pa.string())
    return {
        "invoice_id": _document_ids(lines, counters.width),
        "account_id": _account_ids(acc, lines["account"]),
        "invoice_date": pa.array(lines["date"], pa.date32()),
        "product_line": names.take(lines["pl"]),
        "quantity": lines["quantity"],
        "gross_amount": lines["gross"],
        "discount_amount": lines["discount"],
        "rebate_amount": lines["rebate"],
        "cost_of_goods": lines["cogs"],
    }


def _document_ids(lines: dict[str, np.ndarray], width: int) -> pa.Array:
    """"INV-260508-0012": document type, issue date (yymmdd), daily sequence."""
    date = lines["date"]
    month = date.astype("datetime64[M]")
    yymmdd = ((month.astype("datetime64[Y]").astype(np.int64) + 1970) % 100 * 10_000
              + (month.astype(np.int64) % 12 + 1) * 100
              + (date - month.astype("datetime64[D]")).astype(np.int64) + 1)
    width = max(width, len(str(int(lines["number"].max(initial=0)))))
    kind = (lines["kind"], (b"INV", b"CRN"))
    return fixed_width_text([kind, b"-", (yymmdd, 6), b"-", (lines["number"], width)])


def _account_ids(acc: Accounts, rows: np.ndarray) -> pa.Array:
    return fixed_width_text([(acc.account_number[rows], acc.id_width)])


def _activity_rows(counts: np.ndarray, offset: int) -> dict[str, np.ndarray]:
    """Long format, one row per account, month and activity with a positive count."""
    by_account = counts.transpose(1, 2, 0)  # (accounts, months, activities): the file order
    a, m, k = np.nonzero(by_account)
    return {"account": (a + offset).astype(np.int32), "month": m.astype(np.int16),
            "activity": k.astype(np.int8), "count": by_account[a, m, k].astype(np.int32)}


def activity_columns(acc: Accounts, rows: dict[str, np.ndarray],
                     timeline: Timeline) -> dict[str, pa.Array]:
    names = pa.array(list(cat.ACTIVITY_NAMES), pa.string())
    return {
        "account_id": _account_ids(acc, rows["account"]),
        "activity_date": pa.array(timeline.months[rows["month"]], pa.date32()),
        "activity": names.take(rows["activity"]),
        "count": rows["count"],
    }
