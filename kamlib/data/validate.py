"""Validate a loaded data folder against the data contract.

Per-table rules (empty cells, ranges, allowed values, formats) run as pandera
schemas generated from :mod:`kamlib.data.contract`; every number has a range there, so
``inf``, ``-inf`` and absurd sizes break one like any value out of range. Rules across
rows and tables (unknown references, duplicate keys, parent cycles, activities without
a unit cost, dates outside the plausible range, ends before starts) are checked here;
rows repeated whole are found while loading, where the export's own lines are. Every
finding becomes a :class:`Problem` naming file, column and rows; errors make the data
unusable, warnings are suspicious but usable. Large Parquet tables (:mod:`kamlib.data.large`)
get the same rules as SQL queries run by DuckDB where the files are, and the same wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from kamlib.data.contract import (
    EARLIEST_DATE,
    FORMULA_STARTS,
    TABLES,
    YEARS_AHEAD,
    Column,
    Table,
    latest_date,
)
from kamlib.data.dates import impossible_dates_problem
from kamlib.data.findings import Finding
from kamlib.data.large import (
    LargeTable,
    Rule,
    distinct_values,
    findings,
    repeated_rows,
    rules,
    unknown_references,
)
from kamlib.data.dataset import Dataset
from kamlib.data.load import load_data
from kamlib.data.mapping import Mapping
from kamlib.data.periods import QUARTER_PATTERN
from kamlib.data.repeated_rows import repeated_rows_problem
from kamlib.data.values import EXPECTED, unparseable_fix
from kamlib.errors import ROW_EXAMPLES, Problem
from kamlib.words.catalogue import N_, _
from kamlib.words.formats import number

IDENTIFIER_PATTERNS = {
    "country": (r"^[A-Z]{2}$", N_("a two-letter ISO 3166 country code like IT")),
    "currency": (r"^[A-Z]{3}$", N_("a three-letter ISO 4217 currency code like EUR")),
    "period": (QUARTER_PATTERN, N_("a quarter like 2026Q2")),
}


@dataclass
class ValidationReport:
    data: Dataset
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_folder(root: Path, mapping: Mapping | None = None,
                    today: date | None = None) -> ValidationReport:
    """Load and validate a data folder; never raises for problems in the data."""
    return validate(load_data(root, mapping), today)


def validate(data: Dataset, today: date | None = None) -> ValidationReport:
    today = today or date.today()
    problems = list(data.problems)
    already_bad = {(p.table, p.column) for p in problems}
    for name, frame in data.tables.items():
        table = TABLES[name]
        if frame.empty:
            problems.append(_empty(table, data.sources[name].files))
            continue
        problems += _column_rules(data, table, frame, already_bad)
        problems += _date_range(data, table, frame, today)
        problems += _date_order(data, table, frame)
        problems += _duplicate_keys(data, table, frame)
    for name, large in data.large.items():
        problems += _large_table_rules(data, TABLES[name], large, today)
    problems += _references(data)
    problems += _parent_cycles(data)
    problems += _suspicious_lines(data)
    problems += _accounts_without_lines(data)
    return ValidationReport(data, problems)


# --- Rules within one table --------------------------------------------------------------


def contract_schema(table: Table, present: list[str]) -> pa.DataFrameSchema:
    """The pandera schema of a contract table, for the columns the file has."""
    columns = {}
    for col in table.columns:
        if col.name in present:
            columns[col.name] = pa.Column(checks=_checks(col), nullable=col.nullable,
                                          required=False, name=col.name)
    return pa.DataFrameSchema(columns, name=table.name)


def _checks(col: Column) -> list[pa.Check]:
    checks = []
    if col.min_value is not None:
        checks.append(pa.Check.ge(col.min_value))
    if col.max_value is not None:
        checks.append(pa.Check.le(col.max_value))
    if col.allowed:
        checks.append(pa.Check.isin(col.allowed))
    if col.name in IDENTIFIER_PATTERNS:
        checks.append(pa.Check.str_matches(IDENTIFIER_PATTERNS[col.name][0]))
    if col.identifier:
        checks.append(pa.Check(_no_formula_start, name="formula_start"))
    return checks


def _no_formula_start(values: pd.Series) -> pd.Series:
    """Ids that a spreadsheet would not run as a formula: they are written back as they are
    (roster.csv, exports), so one that starts like a formula is refused, not altered."""
    return ~values.astype(str).str.startswith(FORMULA_STARTS)


def _column_rules(data: Dataset, table: Table, frame: pd.DataFrame,
                  already_bad: set) -> list[Problem]:
    try:
        contract_schema(table, list(frame.columns)).validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    problems = []
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        if (table.name, column) in already_bad and check == "not_nullable":
            continue  # unparseable values became empty; they are reported already
        col = table.column(column)
        positions = group["index"].dropna().astype(int).unique()
        problems.append(_column_problem(data, table, col, str(check), positions,
                                        group["failure_case"]))
    return problems


def _column_problem(data: Dataset, table: Table, col: Column, check: str, positions,
                    found_values: pd.Series, count: int | None = None) -> Problem:
    """``count`` is the number of bad rows when ``positions`` holds only the first few."""
    files, rows = data.locate(table.name, positions)
    found = ", ".join(repr(str(v)) for v in found_values.dropna().unique()[:ROW_EXAMPLES])
    what, expected, fix = _column_words(col, check, found_values)
    if check == "not_nullable":
        found = _("empty cells")
    return Problem("error", table.name, files, what, expected, found or _("empty"),
                   fix.format(column=col.name), column=col.name, rows=rows,
                   count=len(positions) if count is None else count)


def _column_words(col: Column, check: str, found_values: pd.Series) -> tuple[str, str, str]:
    """What is wrong, what was expected, and the fix (a template of ``{column}``) for rows
    that break a column's rule; pandera's name of the rule says which."""
    bounds = {"low": col.min_value, "high": col.max_value}
    if check == "not_nullable":
        return (_("empty cells"), _("a value in every row ({description})").format(
            description=col.description), _("fill in '{column}' on these rows"))
    if check.startswith(("greater_than", "less_than")) and _infinite(found_values):
        return (_("numbers that are not finite"),
                _("finite numbers between {low:g} and {high:g}").format(**bounds),
                _("correct '{column}' on these rows: inf, -inf or Infinity come from a "
                  "division by zero or an overflow in the export"))
    if check.startswith("greater_than") and col.min_value == 0:
        return _("negative values"), _("zero or more"), _("correct the signs in '{column}'")
    if check.startswith(("greater_than", "less_than")):
        return (_("values out of range"), _("values between {low:g} and {high:g}").format(
            **bounds), _("correct '{column}' to the allowed range"))
    if check == "formula_start":
        starts = " ".join(repr(c)[1:-1] for c in FORMULA_STARTS)
        return (_("identifiers that start like a spreadsheet formula"),
                _("an identifier that does not start with any of {starts} (a spreadsheet runs "
                  "such a cell as a formula when roster.csv or an export is opened)").format(
                    starts=starts),
                _("correct '{column}' on these rows to the id your ERP gives (a leading "
                  "= + - @ is a formula or a sign typed into the id)"))
    if check == "not_a_number":  # a Parquet NaN, worded as the loader words a text NaN
        # unparseable_fix is worded already: its braces, if any, must survive the format.
        fix = unparseable_fix(col, "'NaN'").replace("{", "{{").replace("}", "}}")
        return (_("values that are not {kind}s").format(kind=col.kind), _(EXPECTED[col.kind]),
                fix)
    if check.startswith("isin"):
        return (_("values not allowed"), _("one of {values}").format(
            values=", ".join(col.allowed)), _("use only the allowed values in '{column}'"))
    return (_("badly formatted values"), _(IDENTIFIER_PATTERNS[col.name][1]),
            _("write '{column}' in the expected format"))


def _infinite(values: pd.Series) -> bool:
    """Whether a range rule's found values include inf or -inf (read as text or number)."""
    numbers = pd.to_numeric(values.astype(str), errors="coerce")
    return bool(np.isinf(numbers).any())


def _date_range(data: Dataset, table: Table, frame: pd.DataFrame, today: date) -> list[Problem]:
    """Dates before EARLIEST_DATE, or after the column's latest plausible date."""
    problems = []
    for col in table.columns:
        if col.kind != "date" or col.name not in frame:
            continue
        bounds = {"not_before": frame[col.name] < pd.Timestamp(EARLIEST_DATE),
                  "not_future": frame[col.name] > pd.Timestamp(latest_date(today, col.not_future))}
        for check, outside in bounds.items():
            if outside.any():
                dates = [d.date() for d in frame.loc[outside, col.name].unique()[:ROW_EXAMPLES]]
                problems.append(_date_problem(data, table, col, today, check, Finding(
                    int(outside.sum()), tuple(outside[outside].index[:ROW_EXAMPLES]),
                    tuple(dates))))
    return problems


def _date_problem(data: Dataset, table: Table, col: Column, today: date, check: str,
                  finding: Finding) -> Problem:
    files, rows = data.locate(table.name, finding.positions)
    latest = latest_date(today, col.not_future)
    if check == "not_before":
        what, fix = (_("dates before {earliest}"), _(
            "correct '{column}'; such dates are usually a missing date written as a zero "
            "date (1900-01-01, 1970-01-01) or a typing error"))
    elif col.not_future:
        what, fix = (_("dates in the future"), _(
            "correct '{column}'; future dates usually mean a day/month swap or a typing "
            "error"))
    else:
        what, fix = (_("dates more than {years} years ahead"), _(
            "correct '{column}'; such dates are usually a typing error in the year"))
    return Problem("error", table.name, files,
                   what.format(earliest=EARLIEST_DATE, years=YEARS_AHEAD),
                   _("dates from {earliest} to {latest}").format(earliest=EARLIEST_DATE,
                                                                 latest=latest),
                   ", ".join(map(str, finding.values)), fix.format(column=col.name),
                   column=col.name, rows=rows, count=finding.count)


def _date_order(data: Dataset, table: Table, frame: pd.DataFrame) -> list[Problem]:
    """Each (start, end) pair of the contract: the end must not lie before the start."""
    problems = []
    for start, end in table.date_order:
        if start not in frame or end not in frame:
            continue
        early = (frame[end] < frame[start]).fillna(False).astype(bool)
        if early.any():
            files, rows = data.locate(table.name, early[early].index)
            found = ", ".join(_("{start} to {end}").format(start=s.date(), end=e.date())
                              for s, e in frame.loc[early, [start, end]].head(
                                  ROW_EXAMPLES).itertuples(False))
            problems.append(Problem(
                "error", table.name, files, _("{end} before {start}").format(end=end,
                                                                             start=start),
                _("{end} on or after {start}").format(end=end, start=start), found,
                _("correct '{start}' or '{end}' on these rows (a day/month swap or the wrong "
                  "year is the usual cause)").format(start=start, end=end),
                column=f"{start}, {end}", rows=rows, count=int(early.sum())))
    return problems


def _large_table_rules(data: Dataset, table: Table, large: LargeTable,
                       today: date) -> list[Problem]:
    """The rules of _column_rules, _date_range and repeated rows, as SQL where the files are."""
    if large.total_rows == 0:
        return [_empty(table, data.sources[table.name].files)]
    problems = []
    for rule, finding in findings(large, rules(table, _present(large), today)).items():
        col = table.column(rule.column)
        if rule.check == "impossible_year":
            problems.append(impossible_dates_problem(data, table, col, finding))
        elif rule.check in ("not_future", "not_before"):
            problems.append(_date_problem(data, table, col, today, rule.check, finding))
        else:
            problems.append(_column_problem(data, table, col, rule.check, finding.positions,
                                            pd.Series(finding.values, dtype=object),
                                            finding.count))
    repeats = repeated_rows(large, table.repeated_rows) if table.repeated_rows else None
    if repeats is not None:
        problems.append(repeated_rows_problem(data, table, *repeats))
    return problems


def _present(large: LargeTable) -> list[str]:
    return [name for (name,) in large.sql("SELECT column_name FROM (DESCRIBE t)")]


def _duplicate_keys(data: Dataset, table: Table, frame: pd.DataFrame) -> list[Problem]:
    """The table's key, and every column marked unique, must not repeat."""
    keys = [list(table.key)] + [[c.name] for c in table.columns
                                if c.unique and [c.name] != list(table.key)]
    return [p for key in keys if key for p in _duplicates(data, table, frame, key)]


def _duplicates(data: Dataset, table: Table, frame: pd.DataFrame, key: list[str]) -> list[Problem]:
    dup = frame.duplicated(key, keep=False) & frame[key].notna().all(axis=1)
    if not dup.any():
        return []
    files, rows = data.locate(table.name, dup[dup].index)
    found = ", ".join(repr(" / ".join(map(str, v)))
                      for v in frame.loc[dup, key].drop_duplicates().head(5).itertuples(False))
    return [Problem("error", table.name, files, _("duplicate keys"),
                    _("each {key} once").format(key=" + ".join(key)),
                    _("repeated {values}").format(values=found),
                    _("remove or merge the duplicate rows"), column=", ".join(key), rows=rows,
                    count=int(dup.sum()))]


def _empty(table: Table, files: str) -> Problem:
    fix = (_("export the table again with its rows") if table.required
           else _("fill the table or remove the file (the table is optional)"))
    return Problem("error", table.name, files, _("the table is empty"), _("at least one row"),
                   _("a header without rows"), fix)


# --- Rules across tables -----------------------------------------------------------------


def _references(data: Dataset) -> list[Problem]:
    problems = []
    for name in [*data.tables, *data.large]:
        present = _columns(data, name)
        for col in TABLES[name].columns:
            if col.references is None or col.name not in present:
                continue
            target_table, target_col = col.references
            if target_table not in data.tables:
                # Activities cannot be costed without unit costs; but a table given and not
                # read (its own problem is reported) is not absent, nor is any other table.
                if target_table == "activity_costs" and target_table not in data.unread:
                    problems.append(_no_unit_costs(data, _row_count(data, name)))
                continue
            known = set(data.tables[target_table][target_col].dropna())
            finding = _unknown(data, name, col.name, known)
            if finding is not None:
                problems.append(_unknown_reference(data, name, col, finding))
    return problems


def _columns(data: Dataset, name: str) -> list[str]:
    return _present(data.large[name]) if name in data.large else list(data.tables[name].columns)


def _row_count(data: Dataset, name: str) -> int:
    return data.large[name].total_rows if name in data.large else len(data.tables[name])


def _unknown(data: Dataset, name: str, column: str, known: set) -> Finding | None:
    """Rows whose ``column`` is not among the ``known`` values of the referenced table."""
    if name in data.large:
        return unknown_references(data.large[name], column, sorted(known))
    values = data.tables[name][column]
    unknown = values.notna() & ~values.isin(known)
    if not unknown.any():
        return None
    return Finding(int(unknown.sum()), tuple(unknown[unknown].index[:ROW_EXAMPLES]),
                   tuple(values[unknown].unique()[:ROW_EXAMPLES]))


def _unknown_reference(data: Dataset, name: str, col: Column, finding: Finding) -> Problem:
    target_table, target_col = col.references
    files, rows = data.locate(name, finding.positions)
    found = ", ".join(repr(v) for v in finding.values)
    if name == "activities" and col.name == "activity":
        what, fix = (_("activities without a unit cost"), _(
            "add a row per activity to activity_costs, or correct the activity names"))
    else:
        what = _("references to unknown {things}").format(things=target_table.replace("_", " "))
        fix = _("add them to {table} or correct '{column}'").format(table=target_table,
                                                                    column=col.name)
    return Problem("error", name, files, what,
                   _("values of {table}.{column}").format(table=target_table, column=target_col),
                   found, fix, column=col.name, rows=rows, count=finding.count)


def _no_unit_costs(data: Dataset, rows: int) -> Problem:
    return Problem("error", "activities", data.sources["activities"].files,
                   _("activities without a unit cost"), _("an activity_costs table with each "
                                                           "activity's unit cost"),
                   _("no activity_costs table"),
                   _("add activity_costs.csv (activity, cost_pool, unit_cost), or remove the "
                     "activities file to use the cost-to-serve fallback"), column="activity",
                   count=rows)


def _parent_cycles(data: Dataset) -> list[Problem]:
    accounts = data.tables.get("accounts")
    if accounts is None or "parent_id" not in accounts:
        return []
    parent = dict(zip(accounts["account_id"], accounts["parent_id"]))
    in_cycle = {a for a in parent if _reaches_itself(a, parent)}
    if not in_cycle:
        return []
    mask = accounts["account_id"].isin(in_cycle)
    files, rows = data.locate("accounts", mask[mask].index)
    found = ", ".join(f"{a} -> {parent[a]}" for a in sorted(in_cycle)[:ROW_EXAMPLES])
    return [Problem("error", "accounts", files, _("a cycle in the group hierarchy"),
                    _("each group to end at a top account with an empty parent_id"), found,
                    _("correct parent_id so that no account is, through its parents, its own "
                      "parent"), column="parent_id", rows=rows, count=int(mask.sum()))]


def _reaches_itself(account, parent: dict) -> bool:
    seen, current = set(), parent.get(account)
    while isinstance(current, str) and current in parent and current not in seen:
        if current == account:
            return True
        seen.add(current)
        current = parent.get(current)
    return current == account


# --- Warnings: usable but suspicious -----------------------------------------------------


_SUSPICIOUS = [  # in English; looked up when a problem is worded
    ("gross_amount", N_("lines with a zero gross amount"), N_("a non-zero amount"),
     N_("check whether these are free goods or missing prices")),
    ("discount_amount", N_("discounts larger than the gross amount"),
     N_("a discount below the gross amount"),
     N_("check the sign convention of discounts (use negate in a mapping)")),
]


def _suspicious_lines(data: Dataset) -> list[Problem]:
    found = _suspicious_findings(data)
    problems = []
    for (column, what, expected, fix), finding in zip(_SUSPICIOUS, found):
        if finding is not None:
            files, rows = data.locate("invoice_lines", finding.positions)
            problems.append(Problem("warning", "invoice_lines", files, _(what), _(expected),
                                    _("{count} such lines").format(
                                        count=number(finding.count)), _(fix), column=column,
                                    rows=rows, count=finding.count))
    return problems


def _suspicious_findings(data: Dataset) -> list[Finding | None]:
    """Zero gross amounts, then discounts larger than the gross amount (ignoring signs)."""
    if "invoice_lines" in data.large:
        large = data.large["invoice_lines"]
        checks = [Rule("gross_amount", "zero", "gross_amount = 0", "gross_amount"),
                  Rule("discount_amount", "larger", "NOT isnan(discount_amount::DOUBLE) AND "
                       "abs(discount_amount) > abs(gross_amount)", "discount_amount")]
        found = findings(large, checks)
        return [found.get(rule) for rule in checks]
    lines = data.tables.get("invoice_lines")
    if lines is None or lines.empty:
        return [None, None]
    masks = [lines["gross_amount"] == 0,
             lines["discount_amount"].abs() > lines["gross_amount"].abs()]
    return [_finding(mask.fillna(False).astype(bool)) for mask in masks]


def _finding(mask: pd.Series) -> Finding | None:
    if not mask.any():
        return None
    return Finding(int(mask.sum()), tuple(mask[mask].index[:ROW_EXAMPLES]))


def _accounts_without_lines(data: Dataset) -> list[Problem]:
    accounts = data.tables.get("accounts")
    if accounts is None or accounts.empty or not data.has("invoice_lines"):
        return []
    if "invoice_lines" in data.large:
        invoiced = distinct_values(data.large["invoice_lines"], "account_id")
    else:  # distinct first: a set of the ids loops over every line in Python, and isin
        # against the whole column is slower still (0.1 and 1 s; 0.02 s so, on the sample)
        invoiced = data.tables["invoice_lines"]["account_id"].dropna().unique()
    idle = ~accounts["account_id"].isin(invoiced)
    is_parent = accounts["account_id"].isin(set(accounts.get("parent_id", pd.Series()).dropna()))
    idle &= ~is_parent  # a group's top account is often not invoiced itself
    if not idle.any():
        return []
    files, rows = data.locate("accounts", idle[idle].index)
    return [Problem("warning", "accounts", files, _("accounts without any invoice line"),
                    _("invoice lines for each account"),
                    _("{count} accounts").format(count=number(int(idle.sum()))),
                    _("fine for prospects or dormant accounts; otherwise check the account ids "
                      "in invoice_lines"), column="account_id", rows=rows, count=int(idle.sum()))]
