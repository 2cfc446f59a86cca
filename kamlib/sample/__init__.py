"""A deterministic synthetic B2B supplier for trying and testing the workbooks.

What it models: an industrial components distributor (reporting currency EUR)
with customers in Europe, the Gulf, Egypt, China, Japan and the US. Account
sizes are heavy-tailed (lognormal: the top fifth of accounts buys about four
fifths of gross revenue); some accounts belong to groups of subsidiaries;
accounts grow, decline, churn or are won during the period; orders follow a
seasonal pattern; a long tail orders rarely. Some large accounts get such
discounts, rebates and service (many small orders, rush deliveries, returns,
tickets, long payment terms) that little or no net revenue is left, which is
what the account value workbook must reveal. Around them sits a KAM programme:
managers and their skills, executives and sponsor contacts, a quarterly
key-account roster, yearly plans with objectives, stage goals, 90-day targets
and 30-day reviews, outside benchmarks and the agreed selection criteria.

Why hand-written: no maintained library generates B2B key-account data
(tools like Faker or SDV produce names or imitate an existing table, not the
linked economics of accounts, invoices, cost to serve and a KAM programme),
and the sample must follow `kamlib.data.contract` exactly: every table's columns
come from the contract, in contract order, and a contract change that the
generator does not cover fails loudly.

Same arguments give byte-identical files. Invoice lines and activities are
generated per block of accounts with their own random stream and written in
chunks, so memory stays bounded for millions of accounts and the data do not
depend on the chunk size or on the file format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from numbers import Integral
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kamlib.data import contract
from kamlib.errors import ParameterError
from kamlib.sample._accounts import Accounts, build_accounts
from kamlib.sample._lines import (
    BLOCK,
    Counters,
    Ledger,
    activity_columns,
    generate_block,
    line_columns,
    order_rates,
)
from kamlib.sample._plans import build_plans, build_sponsor_contacts
from kamlib.sample._programme import (
    KEY,
    People,
    Roster,
    assign_owners,
    assign_scores,
    build_people,
    build_roster,
    managed_groups,
    roster_columns,
)
from kamlib.sample._reference import (
    accounts_columns,
    activity_costs_columns,
    benchmarks_columns,
    criteria_yaml,
    executives_columns,
    managers_columns,
    payment_terms_columns,
)
from kamlib.sample._timeline import Timeline, build_timeline, is_month_end
from kamlib.sample._write import FileFormat, TableWriter, conform, write_table

__all__ = ["DEFAULT_END", "Progress", "SampleSummary", "write_sample"]

DEFAULT_END = date(2026, 9, 30)
"""Last day of the sample: the end of the last complete quarter, fixed so that the
sample never depends on today's date."""
LINES_PER_CHUNK = 250_000
"""Invoice lines held in memory at once when chunk_accounts is not given."""

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as the sample is written, e.g. to drive a
progress bar. During invoice generation done and total count accounts."""

# Independent random streams, so that changing one part leaves the others unchanged.
_ACCOUNTS, _PEOPLE, _SCORES, _ROSTER, _OWNERS, _PLANS, _TERMS = range(1, 8)


@dataclass(frozen=True)
class SampleSummary:
    """What write_sample wrote."""

    out: Path
    file_format: str
    accounts: int
    years: int
    seed: int
    start: date
    end: date
    rows: dict[str, int]
    """Rows written per contract table, in contract order."""
    files: tuple[Path, ...]
    qualifying_groups: int
    """Groups that meet the written selection criteria on this sample (our estimate of
    the account value workbook's features)."""
    current_key_accounts: int
    """Accounts with status key in the latest roster period."""

    @property
    def bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)

    def __str__(self) -> str:
        return (f"{self.accounts:,} accounts, {self.rows['invoice_lines']:,} invoice lines, "
                f"{self.start} to {self.end}, {self.current_key_accounts} key accounts, "
                f"{self.bytes / 1e6:.1f} MB of {self.file_format} in {self.out}")

    def file_sizes(self) -> dict[str, int]:
        return {str(path.relative_to(self.out)): path.stat().st_size for path in self.files}


def write_sample(
    out: Path | str,
    *,
    accounts: int = 1500,
    years: int = 3,
    seed: int = 20261,
    end: date = DEFAULT_END,
    file_format: Literal["csv", "parquet"] = "csv",
    invoice_lines: int | None = None,
    chunk_accounts: int | None = None,
    progress: Progress | None = None,
) -> SampleSummary:
    """Write a synthetic supplier's data into `out`, one file per contract table, plus
    the selection criteria file.

    accounts, years: size of the company and months of history (`years` x 12 months
    ending on `end`, which must be a month's last day).
    invoice_lines: approximate number of invoice lines to generate (credit notes
    included), reached by changing lines per invoice while orders, revenue and cost
    to serve stay as they are; None keeps the natural mix (about 23 lines per account
    and year: some 104,000 lines, 7.9 MB of CSV, for the default sample). A target below
    the natural number of orders thins out the orders instead (one line each).
    file_format: "csv" writes <table>.csv; "parquet" writes <table>.parquet, with invoice
    lines and activities as part files <table>/part-00000.parquet, ... .
    chunk_accounts: accounts generated and written per chunk (rounded up to a multiple
    of 50); it bounds memory and sets the Parquet part size, never the data. Default:
    about 250,000 invoice lines per chunk.
    progress: called as progress(stage, done, total), e.g. to drive a progress bar.
    Files of these tables already in `out` (in either format) are replaced.
    """
    _check(accounts, years, seed, end, file_format, invoice_lines, chunk_accounts)
    report = progress or (lambda stage, done, total: None)
    timeline = build_timeline(end, years)
    company = _build_company(seed, accounts, timeline, invoice_lines)
    output = _Output(Path(out), file_format)
    output.save("accounts", accounts_columns(company.accounts, company.people))
    ledger = _stream(output, company, timeline, seed,
                     _blocks_per_chunk(chunk_accounts, company.expected_lines, accounts), report)
    report("reference tables", 0, 1)
    _write_programme(output, company, ledger, timeline, seed)
    text, qualifying = criteria_yaml(company.accounts, ledger, company.roster, timeline)
    output.save_text(contract.CRITERIA_FILE, text)
    report("done", 1, 1)
    return SampleSummary(output.out, file_format, accounts, years, seed, timeline.start, end,
                         {t: output.rows[t] for t in contract.TABLES}, tuple(output.files),
                         qualifying, int((company.roster.current == KEY).sum()))


@dataclass
class _Company:
    accounts: Accounts
    people: People
    roster: Roster
    expected_lines: float


def _build_company(seed: int, n: int, timeline: Timeline,
                   invoice_lines: int | None) -> _Company:
    """Accounts, people and the roster history; they set the drivers of the invoices."""
    acc = build_accounts(_rng(seed, _ACCOUNTS), n, timeline)
    people = build_people(_rng(seed, _PEOPLE), n, timeline)
    managed = managed_groups(acc, len(people.manager_id))
    assign_scores(_rng(seed, _SCORES), acc, managed)
    roster = build_roster(_rng(seed, _ROSTER), acc, timeline)
    assign_owners(_rng(seed, _OWNERS), acc, roster, people, managed)
    return _Company(acc, people, roster, _scale_lines(acc, timeline, invoice_lines))


@dataclass
class _Output:
    out: Path
    file_format: FileFormat
    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)

    def save(self, table: str, columns: Mapping[str, Any]) -> None:
        if not columns:  # e.g. no plans when the roster started after mid-year
            columns = {name: [] for name in contract.TABLES[table].column_names}
        self.rows[table], paths = write_table(self.out, table, columns, self.file_format)
        self.files.extend(paths)

    def save_text(self, name: str, text: str) -> None:
        path = self.out / name
        path.write_text(text, encoding="utf-8")
        self.files.append(path)


def _write_programme(output: _Output, company: _Company, ledger: Ledger, timeline: Timeline,
                     seed: int) -> None:
    acc, roster = company.accounts, company.roster
    output.save("activity_costs", activity_costs_columns())
    output.save("payment_terms", payment_terms_columns(_rng(seed, _TERMS), acc))
    output.save("managers", managers_columns(company.people))
    output.save("executives", executives_columns())
    plans_rng = _rng(seed, _PLANS)
    output.save("sponsor_contacts", build_sponsor_contacts(plans_rng, acc, roster, timeline))
    output.save("roster", roster_columns(acc, roster))
    plans = build_plans(plans_rng, acc, roster, company.people, ledger, timeline)
    for table in ("plans", "objectives", "stage_goals", "reviews"):
        output.save(table, getattr(plans, table))
    output.save("benchmarks", benchmarks_columns())


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _check(accounts: int, years: int, seed: int, end: date, file_format: str,
           invoice_lines: int | None, chunk_accounts: int | None) -> None:
    """Argument errors say what is expected and what was given (ParameterError, which
    the CLI shows as a message, not a traceback)."""
    if not _integer(accounts, 10):
        raise ParameterError(f"accounts must be an integer of at least 10. Got {accounts!r}.")
    if not _integer(years, 1) or years > 20:
        raise ParameterError(f"years must be an integer from 1 to 20. Got {years!r}.")
    if not _integer(seed, 0):
        raise ParameterError(f"seed must be a non-negative integer. Got {seed!r}.")
    if not isinstance(end, date) or not is_month_end(end):
        raise ParameterError(f"end must be the last day of a month, like 2026-09-30. Got {end!r}.")
    if file_format not in ("csv", "parquet"):
        raise ParameterError(f"file_format must be 'csv' or 'parquet'. Got {file_format!r}.")
    if invoice_lines is not None and not _integer(invoice_lines, 1):
        raise ParameterError(f"invoice_lines must be a positive integer or None. Got "
                         f"{invoice_lines!r}.")
    if chunk_accounts is not None and not _integer(chunk_accounts, 1):
        raise ParameterError(f"chunk_accounts must be a positive integer or None. Got "
                         f"{chunk_accounts!r}.")


def _integer(value: object, minimum: int) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= minimum


def _scale_lines(acc: Accounts, timeline: Timeline, invoice_lines: int | None) -> float:
    """Set each account's line value (and lines per invoice for a line target); return
    the expected number of invoice lines including credit notes."""
    orders = np.concatenate([order_rates(acc, slice(i, i + 20_000), timeline).sum(axis=1)
                             for i in range(0, len(acc), 20_000)])
    returns = 1 + acc.return_rate
    base = float((orders * returns).sum())
    extra = float((orders * acc.lines_mu * returns).sum())
    if invoice_lines is not None:
        k = (invoice_lines - base) / extra if extra > 0 else 0.0
        if k < 0:  # fewer lines than orders: fewer orders, one line each
            acc.orders_per_year = acc.orders_per_year * invoice_lines / base
            base, k = float(invoice_lines), 0.0
        acc.lines_mu = acc.lines_mu * k
        extra *= k
    acc.line_value = acc.size / (acc.orders_per_year * (1 + acc.lines_mu))
    return base + extra


def _blocks_per_chunk(chunk_accounts: int | None, expected_lines: float, n: int) -> int:
    if chunk_accounts is None:
        per_account = max(expected_lines / max(n, 1), 1.0)
        chunk_accounts = int(LINES_PER_CHUNK / per_account)
    return max(1, -(-chunk_accounts // BLOCK))


def _stream(output: _Output, company: _Company, timeline: Timeline, seed: int,
            blocks_per_chunk: int, report: Progress) -> Ledger:
    """Invoice lines and activities, chunk by chunk; only the ledger stays in memory."""
    acc = company.accounts
    counters = Counters.for_timeline(timeline, company.expected_lines)
    ledger = Ledger.empty(len(acc), timeline)
    lines = TableWriter(output.out, "invoice_lines", output.file_format, parts=True)
    activities = TableWriter(output.out, "activities", output.file_format, parts=True)
    n_blocks = -(-len(acc) // BLOCK)
    for first in range(0, n_blocks, blocks_per_chunk):
        blocks = [generate_block(acc, slice(b * BLOCK, min(len(acc), (b + 1) * BLOCK)),
                                 timeline, seed, b, counters, ledger)
                  for b in range(first, min(n_blocks, first + blocks_per_chunk))]
        chunk_lines = _concat([b.lines for b in blocks])
        chunk_activities = _concat([b.activities for b in blocks])
        del blocks  # keep one copy of the chunk in memory, not two
        lines.write(conform("invoice_lines", line_columns(acc, chunk_lines, counters)))
        del chunk_lines
        activities.write(conform("activities", activity_columns(acc, chunk_activities,
                                                                  timeline)))
        del chunk_activities
        report("invoice lines", min(len(acc), (first + blocks_per_chunk) * BLOCK), len(acc))
    for writer in (lines, activities):
        output.files.extend(writer.close())
        output.rows[writer.table] = writer.rows
    return ledger


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
