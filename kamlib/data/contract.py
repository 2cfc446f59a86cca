"""The data contract: every input table KAM Workbooks reads, defined once.

Loaders, validation messages, the reference page ``docs/data-contract.md`` and
the sample generator all derive from the definitions here. Nothing else in
kamlib names an input column by hand without going through this module.

Conventions that hold for every table:

- Identifiers are text, so that leading zeros survive (``00123`` stays ``00123``), and
  never start with a character that makes a spreadsheet cell a formula
  (:data:`FORMULA_STARTS`): ids are written back into ``roster.csv`` and exports as they
  are, so one is refused rather than altered. An id like ``-5`` is refused too: no ERP
  numbers its accounts or invoices below zero, so it is a formula or a sign typed into
  the id.
- Numbers read from Parquet are never NaN: an empty cell is null there, and a NaN is
  refused as the text ``NaN`` is in a CSV file.
- Every input file lies inside the data folder: a symbolic link leading out of it is
  refused (:func:`outside_folder`).
- Money is in the company's reporting currency, as plain numbers (no symbols).
- Credit notes are invoice lines with negative quantity and negative amounts.
- Dates are calendar dates (``2026-03-31``); times of day are dropped.
- Numbers are finite and within a plausible magnitude (:data:`LARGEST_NUMBER`); dates lie
  in a plausible range (:data:`EARLIEST_DATE` to :data:`YEARS_AHEAD` years after today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

# The selection criteria file is an input too: declared in its own module, named here
# with the tables so that the contract lists every input.
from kamlib.data.criteria import (  # noqa: F401
    CRITERIA_FILE,
    CRITERION_FEATURES,
    Criterion,
    Exclusion,
    Hysteresis,
    PortfolioSize,
    SelectionCriteria,
)

Kind = Literal["text", "integer", "number", "date", "boolean"]

SKILLS: tuple[str, ...] = ("financial", "consulting", "planning", "communication", "influence")
"""The key account manager's role skills, scored 1 (novice) to 5 (expert)."""

ACTIVITIES: tuple[str, ...] = (
    "order",
    "delivery",
    "rush_delivery",
    "return",
    "support_ticket",
    "sales_visit",
    "technical_visit",
)
"""Cost-to-serve activities every company has; ``activity_costs`` may add others."""

OBJECTIVE_KINDS: tuple[str, ...] = ("business", "sales", "relationship")
OBJECTIVE_DIRECTIONS: tuple[str, ...] = ("at_least", "at_most")
GOAL_TYPES: tuple[str, ...] = ("stage_goal", "90_day_target")
ROSTER_STATUSES: tuple[str, ...] = ("key", "watch", "removed")

LARGEST_NUMBER = 1e12
"""No number in any table may exceed this in size (a trillion of the reporting currency on
one line, or a trillion units): no real invoice line, count or target comes near it, while
sums of 100 million such lines stay below 1e20, far from what a float can hold (1.8e308).
A larger value, or inf, -inf (``Infinity`` in some exports), is an export error (an id or a
product code in an amount column, a formula divided by zero) and is refused with its rows,
before it overflows a sum or flips a decision."""
EARLIEST_DATE = date(1980, 1, 1)
"""No date in any table may lie before this. No ERP export in use holds lines older, and
the zero dates exports write for a missing date (1899-12-30 and 1900-01-01 in Excel,
1970-01-01 in Unix systems) fall before it, so they are refused rather than read as a
45-year relationship."""
TIMESTAMP_YEARS = (1678, 2261)
"""The whole years a pandas timestamp holds: dates outside are refused as impossible."""
YEARS_AHEAD = 5
"""Dates allowed in the future (goals' due dates) lie at most this many years after the
day of validation; dates that must not be in the future stop at that day."""


FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet run a cell as a formula (OWASP's list)."""


def outside_folder(root: Path, paths: list[Path]) -> list[Path]:
    """The ``paths`` that resolve outside the data folder ``root``, by a symbolic link of
    the file or of a folder on its way: reading them would take the reader elsewhere."""
    folder = Path(root).resolve()
    return [p for p in paths if not Path(p).resolve().is_relative_to(folder)]


def latest_date(today: date, not_future: bool) -> date:
    """The last plausible date of a column, validated on ``today``."""
    if not_future:
        return today
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28) + timedelta(days=1)


@dataclass(frozen=True)
class Column:
    """One column of an input table and the rules its values follow."""

    name: str
    kind: Kind
    description: str
    required: bool = True
    """The column must be present in the file (it may still allow empty cells)."""
    nullable: bool = False
    """Empty cells are allowed."""
    unique: bool = False
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    references: tuple[str, str] | None = None
    """(table, column) that every non-empty value must exist in."""
    not_future: bool = False
    """Dates must not lie after the day the data is validated."""
    example: str = ""

    @property
    def identifier(self) -> bool:
        """An id or a reference to one: unique, referring to another table, or named ``*_id``."""
        return self.kind == "text" and (self.unique or self.references is not None
                                        or self.name.endswith("_id"))

    def __post_init__(self) -> None:
        # Every number is finite and of plausible size: bounds not stated are LARGEST_NUMBER,
        # so that inf, -inf and 1e308 break a range rule like any value out of range.
        if self.kind in ("number", "integer"):
            if self.min_value is None:
                object.__setattr__(self, "min_value", -LARGEST_NUMBER)
            if self.max_value is None:
                object.__setattr__(self, "max_value", LARGEST_NUMBER)


@dataclass(frozen=True)
class Table:
    """One input table: a file in the data folder, its columns and its key."""

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    required: bool = False
    key: tuple[str, ...] = ()
    without_it: str = ""
    """What the workbooks cannot compute when this optional table is missing."""
    repeated_rows: str = ""
    """When set, a row repeated whole (every column of the export equal) is an error: a
    double export, which adds its amounts twice to the total of this column. A mapping's
    ``duplicate_lines`` declares repeats genuine (keep) or drops them, with its reason."""
    date_order: tuple[tuple[str, str], ...] = ()
    """Pairs of date columns (start, end): the end must not lie before the start."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"Table '{self.name}' has no column '{name}'.")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns if col.required)


def _text(name: str, description: str, **rules) -> Column:
    return Column(name, "text", description, **rules)


def _date(name: str, description: str, **rules) -> Column:
    return Column(name, "date", description, not_future=True, **rules)


def _money(name: str, description: str, **rules) -> Column:
    return Column(name, "number", description, **rules)


def _skill(skill: str) -> Column:
    return Column(
        f"skill_{skill}",
        "integer",
        f"Assessed {skill} skill, 1 (novice) to 5 (expert).",
        min_value=1,
        max_value=5,
        example="3",
    )


ACCOUNTS = Table(
    name="accounts",
    title="Accounts",
    description="One row per customer account we invoice.",
    required=True,
    key=("account_id",),
    columns=(
        _text("account_id", "Account identifier as in the ERP, kept as text.", unique=True,
              example="00123"),
        _text("account_name", "Legal or trading name of the account.", example="Rossi Meccanica S.p.A."),
        _text("parent_id", "Account id of the group (parent) this account belongs to; empty "
              "for a stand-alone account or the group's top.", required=False, nullable=True,
              references=("accounts", "account_id"), example="00100"),
        _text("country", "Country, ISO 3166 two-letter code.", example="IT"),
        _text("industry", "Industry or sector of the account.", example="Machinery"),
        _text("currency", "Billing currency, ISO 4217 code (amounts elsewhere are in the "
              "reporting currency).", example="EUR"),
        _text("key_account_manager", "manager_id of the account's key account manager or "
              "account owner.", required=False, nullable=True,
              references=("managers", "manager_id"),
              example="M007"),
        _text("executive_sponsor", "executive_id of the account's executive sponsor.",
              required=False, nullable=True, references=("executives", "executive_id"), example="E02"),
        _money("estimated_wallet", "The account's estimated total yearly spend in our "
               "categories, with all suppliers; share of wallet is our net sales over it.",
               required=False, nullable=True, min_value=0, example="2500000"),
        Column("strategic_fit", "number", "Management's score of the account's fit with our "
               "strategy, 0 (none) to 10 (perfect).", required=False, nullable=True,
               min_value=0, max_value=10, example="7"),
        Column("growth_potential", "number", "Management's score of the account's growth "
               "potential for us, 0 to 10.", required=False, nullable=True, min_value=0,
               max_value=10, example="6"),
    ),
)

INVOICE_LINES = Table(
    name="invoice_lines",
    title="Invoice lines",
    description="One row per invoice or credit-note line. Credit notes and returns are "
    "lines with negative quantity and negative amounts.",
    required=True,
    columns=(
        _text("invoice_id", "Invoice or credit-note number.", example="INV-2026-000123"),
        _text("account_id", "The invoiced account.", references=("accounts", "account_id"),
              example="00123"),
        _date("invoice_date", "Date of the invoice.", example="2026-03-31"),
        _text("product_line", "Product line or category of the item.", example="Hydraulics"),
        Column("quantity", "number", "Units invoiced; negative on credit notes.", example="12"),
        _money("gross_amount", "Amount at list price before any discount; negative on "
               "credit notes.", example="1440.00"),
        _money("discount_amount", "On-invoice discounts, same sign as the gross amount.",
               example="144.00"),
        _money("rebate_amount", "Off-invoice rebates and bonuses attributed to the line, "
               "same sign as the gross amount. Missing column means no rebates.",
               required=False, nullable=True, example="28.80"),
        _money("cost_of_goods", "Cost of the goods sold on the line; negative on returns "
               "that come back to stock.", example="860.00"),
    ),
    repeated_rows="gross_amount",
)

ACTIVITIES_TABLE = Table(
    name="activities",
    title="Cost-to-serve activities",
    description="Counts of the activities an account causes, per date: orders, deliveries, "
    "rush deliveries, returns, support tickets, visits and any other activity with a unit cost.",
    columns=(
        _text("account_id", "The account served.", references=("accounts", "account_id"),
              example="00123"),
        _date("activity_date", "Date (or first day of the month) of the activities.",
              example="2026-03-01"),
        _text("activity", "Activity name, one of activity_costs.activity.",
              references=("activity_costs", "activity"), example="rush_delivery"),
        Column("count", "number", "How many times the activity happened.", min_value=0,
               example="3"),
    ),
    # One row holds an account's count of an activity on a date: the same row twice is the
    # same export read twice, never a second occurrence (that is a larger count).
    repeated_rows="count",
    without_it="Cost to serve falls back to a share of gross revenue (a parameter), "
    "so net revenue is an estimate and cost-to-serve pools are not shown.",
)

ACTIVITY_COSTS = Table(
    name="activity_costs",
    title="Activity unit costs",
    description="What one occurrence of each activity costs us, and the cost pool it belongs to.",
    key=("activity",),
    columns=(
        _text("activity", "Activity name.", unique=True, example="rush_delivery"),
        _text("cost_pool", "Cost pool the activity is reported under.", example="logistics"),
        _money("unit_cost", "Cost of one occurrence in the reporting currency.", min_value=0,
               example="180.00"),
    ),
    without_it="Activities cannot be costed; cost to serve falls back to a share of gross "
    "revenue.",
)

PAYMENT_TERMS = Table(
    name="payment_terms",
    title="Payment terms",
    description="Agreed and actual payment behaviour per account, for the carrying cost of "
    "receivables.",
    key=("account_id",),
    columns=(
        _text("account_id", "The account.", unique=True, references=("accounts", "account_id"),
              example="00123"),
        Column("terms_days", "integer", "Agreed payment terms in days.", min_value=0,
               max_value=365, example="60"),
        Column("average_days_to_pay", "number", "Average days the account actually takes to "
               "pay; empty means it pays on terms.", required=False, nullable=True,
               min_value=0, max_value=730, example="74"),
    ),
    without_it="The carrying cost of receivables assumes the default payment terms "
    "(a parameter) for every account.",
)

MANAGERS = Table(
    name="managers",
    title="Key account managers",
    description="Account managers, their assessed role skills and their KAM training.",
    key=("manager_id",),
    columns=(
        _text("manager_id", "Manager identifier.", unique=True, example="M007"),
        _text("manager_name", "Full name.", example="Giulia Bianchi"),
        *(_skill(skill) for skill in SKILLS),
        _date("kam_training_completed_on", "Date the KAM role training was completed; empty "
              "if not trained.", nullable=True, example="2025-05-20"),
    ),
    without_it="Manager scorecards show no skills profile or training gaps, and the "
    "references from accounts to managers are not checked.",
)

EXECUTIVES = Table(
    name="executives",
    title="Executives",
    description="Members of the executive team who can sponsor key accounts.",
    key=("executive_id",),
    columns=(
        _text("executive_id", "Executive identifier.", unique=True, example="E02"),
        _text("executive_name", "Full name.", example="Layla Haddad"),
        _text("title", "Job title.", example="Chief Operating Officer"),
        Column("board_member", "boolean", "Sits on the executive board.", example="true"),
        Column("programme_lead", "boolean", "Leads the KAM programme and reports to top "
               "management.", example="false"),
    ),
    without_it="Sponsorship cannot be checked against the executive team, and the KAM "
    "maturity scorecard cannot tell whether a programme lead is named.",
)

SPONSOR_CONTACTS = Table(
    name="sponsor_contacts",
    title="Executive-sponsor contacts",
    description="Each contact between an executive sponsor and a key account.",
    columns=(
        _text("executive_id", "The executive.", references=("executives", "executive_id"),
              example="E02"),
        _text("account_id", "The account contacted.", references=("accounts", "account_id"),
              example="00123"),
        _date("contact_date", "Date of the contact.", example="2026-02-14"),
        _text("contact_type", "Kind of contact.", allowed=("visit", "meeting", "call"),
              example="visit"),
    ),
    without_it="Executive sponsorship shows who sponsors each key account but not whether "
    "contact is kept up.",
)

ROSTER = Table(
    name="roster",
    title="Key-account roster and its history",
    description="The official key-account roster of each period, as approved. The latest "
    "period is the current roster; earlier periods are its history and are never rewritten.",
    key=("period", "account_id"),
    columns=(
        _text("period", "Quarter the roster was approved for, like 2026Q2.", example="2026Q2"),
        _text("account_id", "The account (or group).", references=("accounts", "account_id"),
              example="00100"),
        _text("status", "key, watch (at risk of leaving) or removed.", allowed=ROSTER_STATUSES,
              example="key"),
        _text("reason", "Why the account has this status.", example="Meets all criteria"),
        Column("override", "boolean", "Status set against the criteria by management.",
               example="false"),
        _text("approved_by", "Who approved the roster.", example="E01"),
        _date("approved_on", "Date of approval.", example="2026-04-10"),
    ),
    without_it="Selection cannot compare with the last roster, so every proposed key "
    "account shows as new and no hysteresis applies.",
)

PLANS = Table(
    name="plans",
    title="Yearly key-account plans",
    description="One plan per key account and year, written and signed at the start of the year.",
    key=("account_id", "year"),
    columns=(
        _text("plan_id", "Plan identifier.", unique=True, example="P-2026-00100"),
        _text("account_id", "The key account.", references=("accounts", "account_id"),
              example="00100"),
        Column("year", "integer", "Plan year.", min_value=2000, max_value=2100, example="2026"),
        _text("customer_goals", "What we know of the customer's culture and goals.",
              nullable=True, example="Expanding into North Africa; values reliability"),
        _text("signed_by", "Sales director who signed the plan; empty if unsigned.",
              nullable=True, example="Marco Conti"),
        _date("signed_on", "Date signed; empty if unsigned.", nullable=True,
              example="2026-01-20"),
        _date("last_updated_on", "Last date the plan was revised.", nullable=True,
              example="2026-06-30"),
    ),
    without_it="The benchmark cannot check plan hygiene or attainment; it says so in its report.",
)

OBJECTIVES = Table(
    name="objectives",
    title="Plan objectives",
    description="The business, sales and relationship objectives of each yearly plan.",
    key=("objective_id",),
    columns=(
        _text("objective_id", "Objective identifier.", unique=True, example="O-2026-00100-1"),
        _text("plan_id", "The plan.", references=("plans", "plan_id"), example="P-2026-00100"),
        _text("kind", "business, sales or relationship.", allowed=OBJECTIVE_KINDS,
              example="sales"),
        _text("description", "The objective in words.", example="Grow net revenue by 8%"),
        Column("target_value", "number", "Target to reach by year end.", example="1200000"),
        Column("actual_value", "number", "Value reached so far; empty if not measured yet.",
               nullable=True, example="830000"),
        _text("direction", "at_least (reach the target or more) or at_most (a ceiling, like "
              "rush deliveries a month); empty means at_least.", required=False, nullable=True,
              allowed=OBJECTIVE_DIRECTIONS, example="at_least"),
    ),
    without_it="Objective attainment is not shown.",
)

STAGE_GOALS = Table(
    name="stage_goals",
    title="Stage goals and 90-day targets",
    description="Milestones of a plan: stage goals over the year, and 90-day targets "
    "(the point to reach with the customer within 90 days, reviewed every 30 days).",
    key=("goal_id",),
    columns=(
        _text("goal_id", "Goal identifier.", unique=True, example="G-2026-00100-3"),
        _text("plan_id", "The plan.", references=("plans", "plan_id"), example="P-2026-00100"),
        _text("goal_type", "stage_goal or 90_day_target.", allowed=GOAL_TYPES,
              example="90_day_target"),
        _text("description", "The point to reach.", example="Qualified as second-source supplier"),
        Column("start_date", "date", "First day of the goal's period.", example="2026-04-01"),
        Column("due_date", "date", "Day the goal is due (day 90 for a 90-day target).",
               example="2026-06-29"),
        Column("baseline_value", "number", "Value at the start.", example="0"),
        Column("target_value", "number", "Value to reach by the due date.", example="100"),
    ),
    date_order=(("start_date", "due_date"),),
    without_it="Stage-goal attainment and the 90-30 trajectory are not shown.",
)

REVIEWS = Table(
    name="reviews",
    title="30-day reviews",
    description="Progress reviews of stage goals and 90-day targets, due every 30 days.",
    key=("review_id",),
    columns=(
        _text("review_id", "Review identifier.", unique=True, example="R-2026-00100-3-1"),
        _text("goal_id", "The goal reviewed.", references=("stage_goals", "goal_id"),
              example="G-2026-00100-3"),
        _date("review_date", "Date the review took place.", example="2026-05-02"),
        Column("progress_value", "number", "Value reached at the review.", example="35"),
        _text("reviewed_by", "Who held the review.", nullable=True, example="M007"),
    ),
    without_it="Review cadence and the 90-30 trajectory cannot be checked.",
)

BENCHMARKS = Table(
    name="benchmarks",
    title="External benchmarks",
    description="Published or purchased reference figures for KAM programmes, by metric.",
    key=("metric", "source", "year"),
    columns=(
        _text("metric", "Metric name, as used in the benchmark report.",
              example="key_account_share_of_net_revenue"),
        _text("source", "Where the figure comes from.", example="Industry KAM survey"),
        Column("year", "integer", "Year of the figure.", min_value=2000, max_value=2100,
               example="2025"),
        Column("lower_quartile", "number", "25th percentile.", nullable=True, example="0.35"),
        Column("median", "number", "Median.", example="0.48"),
        Column("upper_quartile", "number", "75th percentile.", nullable=True, example="0.62"),
        _text("unit", "Unit of the figure (ratio, days, count, ...).", example="ratio"),
    ),
    without_it="The benchmark compares with earlier quarters and across accounts only, not "
    "with outside figures.",
)

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        ACCOUNTS,
        INVOICE_LINES,
        ACTIVITIES_TABLE,
        ACTIVITY_COSTS,
        PAYMENT_TERMS,
        MANAGERS,
        EXECUTIVES,
        SPONSOR_CONTACTS,
        ROSTER,
        PLANS,
        OBJECTIVES,
        STAGE_GOALS,
        REVIEWS,
        BENCHMARKS,
    )
}
"""Every input table, in the order they are documented and validated."""
