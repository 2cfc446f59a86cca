"""What the quarterly KAM benchmark shows: titles, the executive summary, each table as the
reader sees it, the notes and the Excel export.

The rule: :mod:`kamlib.workbooks.benchmark` computes the tables with their own column names
and code values; this module turns them into the report. Every title, header and sentence
is looked up in the catalogue (:mod:`kamlib.words`) when shown and every figure is written by
:mod:`kamlib.words.formats`, so a language is a catalogue away. The Excel export keeps the
computed tables, numbers as numbers, so quarters compare one to one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kamlib.programme import stage_goals, plans
from kamlib.reports.excel import write_tables
from kamlib.reports.spreadsheet_safety import neutralise_formulas
from kamlib.words.catalogue import N_, _, n_
from kamlib.words.formats import day, listing, number, percent, score
from kamlib.words.labels import label, word

if TYPE_CHECKING:  # the workbook imports this module to summarise and export itself
    from kamlib.workbooks.benchmark import BenchmarkWorkbook

TITLES = {
    "summary": N_("Executive summary"),
    "portfolio": N_("The programme at a glance"),
    "plan_hygiene": N_("Plan hygiene per key account"),
    "objectives": N_("Objective attainment"),
    "goals": N_("Stage goals and 90-day targets: where each stands"),
    "ninety_day_path": N_("90-day targets at day 30, 60 and 90"),
    "review_cadence": N_("30-day review cadence per plan"),
    "scorecards": N_("Key account manager scorecards"),
    "manager_comparison": N_("Managers compared fairly: net margin with shrinkage"),
    "skills": N_("Skills and training gaps"),
    "sponsorship": N_("Executive sponsorship per key account"),
    "trend": N_("Quarter by quarter"),
    "account_quartiles": N_("Key accounts: quartiles"),
    "top_quartile": N_("What the top quartile does differently"),
    "external": N_("Against outside benchmarks"),
    "candidates_add": N_("Candidates to add"),
    "candidates_drop": N_("Key accounts failing the criteria"),
    "maturity": N_("KAM maturity scorecard"),
}
"""Each table's title in English, looked up in the catalogue when shown."""


def title(name: str) -> str:
    """The title of the table ``name`` in the reader's words."""
    return _(TITLES[name])


# --- Executive summary -------------------------------------------------------------------


def executive_summary(wb: BenchmarkWorkbook) -> pd.DataFrame:
    """The figures the board reads first, each computed from a table of the report."""
    tb = wb.tables
    portfolio = tb["portfolio"].set_index("figure")["value"]
    rows = [(figure, portfolio[figure], "portfolio") for figure in (
        _("Key accounts on the roster"), _("Share of company net revenue in key accounts"),
        _("Net margin, key accounts"), _("Net margin, long tail"))]
    if "plan_hygiene" in tb:
        hygiene = tb["plan_hygiene"]
        rows.append((_("Key accounts with plan problems"),
                     _of(int(hygiene[list(plans.PROBLEMS)].any(axis=1).sum()), len(hygiene)),
                     "plan_hygiene"))
    if "goals" in tb:
        rows.append((_("90-day targets of the quarter"), _targets_of_the_quarter(wb), "goals"))
    if "review_cadence" in tb:
        c = tb["review_cadence"]
        rows.append((_("30-day reviews on time this year"),
                     _("{share} of {due} due").format(
                         share=percent(c["on time"].sum() / max(c["due"].sum(), 1)),
                         due=number(int(c["due"].sum()))), "review_cadence"))
    if "sponsorship" in tb:
        states = tb["sponsorship"]["state"]
        unsponsored = states.isin(["no sponsor", "lapsed", "sponsor not on the executive team"])
        rows.append((_("Key accounts without a sponsor or with lapsed contact"),
                     _of(int(unsponsored.sum()), len(states)), "sponsorship"))
    if "manager_comparison" in tb:
        verdicts = tb["manager_comparison"]["verdict"].value_counts()
        rows.append((_("Managers distinguishable from the programme on net margin"),
                     _of(int(verdicts.filter(like="the programme").sum()), int(verdicts.sum())),
                     "manager_comparison"))
    if "candidates_add" in tb:
        rows.append((_("Candidates to add"), number(len(tb["candidates_add"])),
                     "candidates_add"))
        rows.append((_("Key accounts failing the criteria"), number(len(tb["candidates_drop"])),
                     "candidates_drop"))
    scores = tb["maturity"]["score"].dropna()
    rows.append((_("KAM maturity, mean of the seven factors (0-4)"),
                 score(scores.mean(), 1) if len(scores) else _("not measurable"), "maturity"))
    return pd.DataFrame([(figure, value, title(table)) for figure, value, table in rows],
                        columns=["figure", "value", "see table"])


def _of(count: int, total: int) -> str:
    """'3 of 12'."""
    return _("{count} of {total}").format(count=number(count), total=number(total))


def _targets_of_the_quarter(wb: BenchmarkWorkbook) -> str:
    """'3 on track, 1 at risk': the 90-day targets running in the quarter, by status."""
    goals = wb.tables["goals"]
    running = goals[(goals["goal_type"] == "90_day_target")
                    & (goals["due_date"] >= pd.Timestamp(wb.quarter.start))
                    & (goals["start_date"] <= pd.Timestamp(wb.as_of))]
    counts = running["status"].value_counts()
    return listing([_("{count} {status}").format(count=number(n), status=word(status))
                    for status, n in counts.items()]) or _("none")


# --- Tables as shown ---------------------------------------------------------------------


RATIOS = {"net_margin", "cost_to_serve_ratio", "net_revenue_growth", "on_time_rate",
          "targets_reached", "attainment", "progress", "projected", "weight", "raw_mean",
          "shrunk", "lower", "upper", "key_account_share_of_net_revenue",
          "net_margin_key_accounts", "cost_to_serve_ratio_key_accounts", "review_on_time_rate",
          "reviews_on_time", "plan_signed", "manager_trained"}
"""Columns (and, in the quartile tables, rows) holding shares, shown as percent."""


CODED = {"status", "current_status", "change", "state", "verdict", "goal_type", "direction"}
"""Columns holding code values (:data:`kamlib.words.labels.CODES`), shown in words."""


def shown(wb: BenchmarkWorkbook, name: str) -> pd.DataFrame:
    """A table as the report shows it: money rounded, shares as percent, plain labels."""
    frame = wb.tables[name]
    if name in ("account_quartiles", "top_quartile"):  # one measure per row: turn it round
        key = frame.columns[0]
        frame = frame.set_index(key).T.rename_axis(None).reset_index(names="")
    elif name == "external":
        return _external_shown(frame)
    frame = frame.copy()
    for column in frame.columns:
        frame[column] = _shown_values(frame[column], str(column))
    return frame.rename(columns=lambda c: str(wb.quarter) if c == "value" else label(str(c)))


def _shown_values(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.map(lambda v: "" if pd.isna(v) else day(v))
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: _("yes"), False: _("no")})
    if column in CODED or column.startswith("day "):  # statuses at day 30, 60, 90 too
        return values.map(word, na_action="ignore").fillna("")
    if not pd.api.types.is_numeric_dtype(values):
        return values.fillna("")
    if column in RATIOS:
        return values.map(lambda v: "" if pd.isna(v) else percent(v, 1))
    # Whole numbers (counts) and large amounts read without decimals, small ones with two.
    whole = values.dropna().mod(1).eq(0).all()
    return values.map(lambda v: "" if pd.isna(v) else number(v, 0 if whole or abs(v) >= 100
                                                             else 2))


def _external_shown(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("ours", "lower_quartile", "median", "upper_quartile"):
        out[column] = [("" if pd.isna(v) else percent(v, 1) if unit == "ratio" else number(v, 1))
                       for v, unit in zip(frame[column], frame["unit"], strict=True)]
    return out.rename(columns=label)


WHY_MISSING = {
    "objectives": N_("no objectives for this year's plans (objectives.csv)."),
    "goals": N_("no stage goals and reviews for this year's plans (stage_goals.csv, "
                "reviews.csv)."),
    "ninety_day_path": N_("no 90-day targets and reviews (stage_goals.csv, reviews.csv)."),
    "review_cadence": N_("no stage goals and reviews (stage_goals.csv, reviews.csv)."),
    "manager_comparison": N_("fewer than two key accounts with figures."),
    "skills": N_("no managers file (managers.csv)."),
    "top_quartile": N_("fewer than four key accounts with figures."),
    "candidates_add": N_("no agreed selection criteria (selection_criteria.yml)."),
    "candidates_drop": N_("no agreed selection criteria (selection_criteria.yml)."),
}
"""Why a table is not shown, in English, looked up in the catalogue when shown."""

SHOWN_COLUMNS = {
    "objectives": ["account", "kind", "description", "target_value", "actual_value",
                   "direction", "attainment", "met"],
    "goals": ["account", "goal_type", "description", "due_date", "review_date", "progress",
              "projected", "status"],
    "ninety_day_path": ["account", "description", "start_date", "due_date", "day 30", "day 60",
                        "day 90"],
    "review_cadence": ["account", "due", "on time", "late", "overdue", "missed",
                       "on_time_rate"],
}
"""The long plan tables show names and results; the Excel workbook keeps every id."""

NO_KEY_ACCOUNTS = N_("no account is key yet (see the notes).")


def view(wb: BenchmarkWorkbook, name: str) -> pd.DataFrame:
    """The table as shown, or a one-line table saying why it is not there."""
    if name in wb.tables:
        frame = shown(wb, name)
        if name in SHOWN_COLUMNS:
            frame = frame[[label(c) for c in SHOWN_COLUMNS[name] if c in wb.tables[name]]]
        return frame if len(frame) else pd.DataFrame({title(name): [_("None.")]})
    why = NO_KEY_ACCOUNTS if wb.key_accounts.empty else WHY_MISSING[name]
    return pd.DataFrame({title(name): [_("Not shown: {why}").format(why=_(why))]})


PATH_ORDER = ("reached", "on track", "at risk", "off track", "not reached", "not reviewed",
              "upcoming")


def path_counts(wb: BenchmarkWorkbook) -> pd.DataFrame:
    """How many 90-day targets stood where at day 30, 60 and 90 (rows), by status."""
    path = wb.tables["ninety_day_path"]
    days = [c for c in path.columns if c.startswith("day ")]
    counts = path[days].apply(lambda c: c.value_counts()).T.fillna(0).astype(int)
    counts.index = [_("day {day}").format(day=d.removeprefix("day ")) for d in counts.index]
    return counts[[s for s in PATH_ORDER if s in counts.columns]]


# --- Sentences around the tables ---------------------------------------------------------


def rules() -> str:
    """The 90-30 rules the plan tables apply, as a Markdown list."""
    rules = (stage_goals.trajectory_rule(), stage_goals.cadence_rule())
    return "\n".join(f"- {rule}" for rule in rules)


def heading(wb: BenchmarkWorkbook) -> str:
    """The report's first line: the quarter, its end and how many key accounts."""
    count = len(wb.key_accounts)
    return n_("**Benchmark for {quarter}** (to {end}): {accounts} key account on the roster; "
              "money over the 12 months to the quarter's end.",
              "**Benchmark for {quarter}** (to {end}): {accounts} key accounts on the roster; "
              "money over the 12 months to the quarter's end.", count).format(
        quarter=wb.quarter, end=day(wb.as_of), accounts=number(count))


def notes_markdown(wb: BenchmarkWorkbook) -> str:
    """The notes as a Markdown list, or one line saying every table was given."""
    return ("\n".join(f"- {note}" for note in wb.notes)
            or "- " + _("Every table the benchmark reads was given."))


def exports_markdown(wb: BenchmarkWorkbook) -> str:
    """The files written beside the report, as a Markdown list."""
    return ("\n".join("- " + _("Export: `{file}` (every table of this report, one sheet each)")
                      .format(file=path.name) for path in wb.exports)
            or "- " + _("No exports written (output_dir not set)."))


CHART_TITLES = {
    "ninety_day_path": N_("90-day targets of {year}, by checkpoint"),
    "trend": N_("Key accounts quarter by quarter"),
    "manager_comparison": N_("Net margin of each manager's key accounts, shrunk, 90% interval"),
    "manager_comparison_axis": N_("Net margin (%)"),
    "maturity": N_("KAM maturity, {quarter}"),
}
"""The charts' titles and axes in English, looked up in the catalogue when drawn."""


def chart_title(wb: BenchmarkWorkbook, name: str) -> str:
    """The title of the chart drawn over the table ``name``."""
    return _(CHART_TITLES[name]).format(year=wb.quarter.year, quarter=wb.quarter)


# --- Excel export ------------------------------------------------------------------------


def write_excel(wb: BenchmarkWorkbook, folder: Path) -> Path:
    """Every table of the report, one sheet each, in the report's order."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kam_benchmark_{wb.quarter}.xlsx"
    sheets = {}
    for name, frame in wb.tables.items():
        safe = neutralise_formulas(frame.reset_index(drop=True))
        for column in safe.columns:
            if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
                safe[column] = safe[column].dt.tz_localize(None)
        sheets[name[:31]] = safe
    write_tables(path, sheets)
    return path
