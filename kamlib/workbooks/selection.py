"""The key-account selection workbook: a decision paper for senior management.

Features come from the account value figures (:mod:`kamlib.selection.features`), segments from
:mod:`kamlib.selection.segments`, the decision from :mod:`kamlib.selection.roster_proposal`: clustering
informs, the agreed criteria decide, and the report shows where the two disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from html import escape
from pathlib import Path

import pandas as pd

from kamlib.data.criteria import read_criteria
from kamlib.data.dataset import Dataset
from kamlib.data.periods import Quarter
from kamlib.data.ready import load_valid, on_engine, reporting_quarter
from kamlib.data.run_cache import RunCache
from kamlib.economics.net_revenue import AccountValue, group_of
from kamlib.errors import ParameterError
from kamlib.reports.excel import write_tables
from kamlib.reports.spreadsheet_safety import neutralise_formulas
from kamlib.selection.features import (
    aligned,
    current_window,
    selection_features,
    twelve_month_windows,
)
from kamlib.selection.explanations import Explanation, explain_selection
from kamlib.selection.long_tail import long_tail_summary, serve_long_tail
from kamlib.selection.overrides import read_overrides_file
from kamlib.selection.portfolio_matrix import portfolio_matrix
from kamlib.selection.roster_file import append_roster, roster_rows
from kamlib.selection.roster_proposal import Proposal, propose_roster
from kamlib.selection.segments import AccountSegmentation
from kamlib.words.catalogue import _, n_
from kamlib.words.formats import day, number, score
from kamlib.words.labels import label, word
from kamlib.workbooks.notes import warnings_as_notes
from kamlib.workbooks.parameters import SelectionParameters

SEGMENT_FEATURES = ["net_revenue", "net_revenue_growth", "net_margin", "cost_to_serve_ratio",
                    "lifetime_value", "product_lines", "relationship_years"]
"""Features the segmentation uses: those every company has (no wallet or scores)."""


@dataclass
class SelectionWorkbook:
    params: SelectionParameters
    data: Dataset
    quarter: Quarter
    features: pd.DataFrame
    segmentation: AccountSegmentation
    proposal: Proposal
    matrix: pd.DataFrame
    explanation: Explanation
    long_tail: pd.DataFrame
    exports: list[Path]
    approved_rows: int
    notes: list[str] = field(default_factory=list)
    """Warnings raised while it was built, in words (segmentation notes among them)."""


def build(params: SelectionParameters) -> SelectionWorkbook:
    """The proposal, its explanations and exports; warnings raised on the way become
    notes in words (:mod:`kamlib.workbooks.notes`)."""
    with warnings_as_notes() as said:
        wb = _build(params)
    wb.notes = said
    return wb


def _build(params: SelectionParameters) -> SelectionWorkbook:
    cache = RunCache(params.run_cache) if params.run_cache else None
    data = load_valid(Path(params.data_dir), params.mapping, run_cache=cache)
    if params.criteria_file:  # a copy: the data may be shared with other workbooks
        data = replace(data, criteria=read_criteria(Path(params.criteria_file)))
    if data.criteria is None:
        raise ParameterError(_("the selection needs the criteria management agreed: add "
                               "selection_criteria.yml to the data folder (see "
                               "docs/data-contract.md)."))
    quarter = reporting_quarter(data, params.period)
    tables = on_engine(data, params.engine, run_cache=cache)
    value = twelve_month_windows(tables, quarter)  # shared by the features and the long tail
    features, by_account = selection_features(
        tables, data, quarter, select_groups=data.criteria.select_groups,
        horizon_years=params.horizon_years, discount_rate=params.discount_rate,
        random_state=params.random_state, value=value, run_cache=cache)
    segmentation = AccountSegmentation(method=params.segmentation,
                                       random_state=params.random_state).fit(
        features[SEGMENT_FEATURES].fillna(features[SEGMENT_FEATURES].median()))
    names = segmentation.profiles_["name"]
    features = features.assign(cluster=segmentation.labels_,
                               cluster_name=segmentation.labels_.map(names))
    # checked by the runner before the kernel started; read again here, as it is now
    overrides = (read_overrides_file(Path(params.overrides_file)) if params.overrides_file
                 else ())
    proposal = propose_roster(features, data.criteria, data.tables.get("roster"), overrides)
    matrix = portfolio_matrix(features)
    long_tail = serve_long_tail(long_tail_input(by_account, value, quarter),
                                _key_members(proposal, data))
    workbook = SelectionWorkbook(params, data, quarter, features, segmentation, proposal, matrix,
                                 explain_selection(proposal, matrix), long_tail, [], 0)
    if params.output_dir:
        workbook.exports = write_exports(workbook, Path(params.output_dir))
    if params.approve_as:
        workbook.approved_rows = approve(workbook, params.approve_as)
    return workbook


def long_tail_input(by_account: pd.DataFrame, value: AccountValue,
                    quarter: Quarter) -> pd.DataFrame:
    """Each account's figures and cost-to-serve pools over the 12 months, for the long tail."""
    per_account = current_window(value, quarter)[value.pools]
    # a left join, the ids matched once by position (joining on a million text ids took
    # most of a second)
    figures = by_account[["name", "net_revenue", "gross_sales", "cost_to_serve"]]
    return pd.concat([figures, aligned(per_account, figures.index)], axis=1)


def _key_members(proposal: Proposal, data: Dataset) -> list[str]:
    """Accounts served as key: the key accounts and, for groups, all their members."""
    groups = group_of(data.tables["accounts"])
    key = set(proposal.key_accounts)
    return sorted(set(groups[groups.isin(key)].index) | key)


# --- Outputs ----------------------------------------------------------------------------


def company_roster(wb: SelectionWorkbook) -> pd.DataFrame:
    """Every account with whether it is key and why, for the whole company."""
    accounts = wb.data.tables["accounts"].set_index("account_id")
    group = group_of(wb.data.tables["accounts"])
    decision = wb.proposal.accounts
    unit = group if wb.data.criteria.select_groups else pd.Series(group.index, group.index)
    status = unit.map(decision["status"]).fillna("none")
    reason = unit.map(decision["reason"]).fillna(_("Not invoiced in the last two years."))
    return pd.DataFrame({
        "account_id": accounts.index,
        "account_name": accounts["account_name"].to_numpy(),
        "group_id": unit.reindex(accounts.index).to_numpy(),
        "key_account": status.reindex(accounts.index).eq("key").to_numpy(),
        "status": status.reindex(accounts.index).to_numpy(),
        "why": reason.reindex(accounts.index).to_numpy(),
    })


def write_exports(wb: SelectionWorkbook, folder: Path) -> list[Path]:
    """The roster for the whole company as CSV and Excel, safe against formula injection,
    and the one-page "our key accounts and why" as a standalone HTML page."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = neutralise_formulas(company_roster(wb))
    stem = f"key_account_roster_{wb.quarter}"
    csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
    page = folder / f"our_key_accounts_{wb.quarter}.html"
    page.write_text(one_pager_html(wb), encoding="utf-8")
    roster.to_csv(csv_path, index=False, encoding="utf-8-sig")
    write_tables(xlsx_path, {"Roster": roster,
                             "Criteria": neutralise_formulas(wb.explanation.criteria)})
    return [csv_path, xlsx_path, page]


def approve(wb: SelectionWorkbook, approver: str) -> int:
    """Append the proposal to roster.csv: the explicit approval step."""
    rows = roster_rows(wb.proposal, str(wb.quarter), approver, date.today())
    return append_roster(Path(wb.params.data_dir) / "roster.csv", rows)


def decision_summary(wb: SelectionWorkbook) -> pd.DataFrame:
    changes = wb.proposal.accounts["change"].value_counts()
    rows = [
        (_("Key accounts proposed"), len(wb.proposal.key_accounts)),
        (_("Entering"), int(changes.get("enter", 0))),
        (_("Staying"), int(changes.get("stay", 0))),
        (_("Leaving"), int(changes.get("leave", 0))),
        (_("On the watch list"), len(wb.proposal.watch_list)),
        (_("Overrides"), int(wb.proposal.accounts["override"].sum())),
    ]
    return pd.DataFrame([(decision, number(count)) for decision, count in rows],
                        columns=[_("Decision"), str(wb.quarter)])


def segment_profiles(wb: SelectionWorkbook) -> pd.DataFrame:
    """Segments in business words, their size and bootstrap stability (below 0.6: unstable)."""
    columns = ["name", "size", "share", "stability", "unstable",
               *(f"{f} median" for f in ("net_revenue", "net_margin", "cost_to_serve_ratio"))]
    return wb.segmentation.profiles_[columns].reset_index()


def one_pager_html(wb: SelectionWorkbook) -> str:
    """The one-pager as a page anyone can open: names are escaped, nothing is fetched."""
    key = wb.proposal.accounts[wb.proposal.accounts["status"] == "key"]
    items = "".join(f"<li><b>{escape(row['name'])}</b> ({escape(account)}): "
                    f"{escape(row['reason'])}</li>" for account, row in key.iterrows())
    title = escape(_("Our key accounts for {quarter}").format(quarter=wb.quarter))
    chosen = escape(_("Chosen by the criteria {agreed_by} agreed on {agreed_on}, on net revenue "
                      "after cost to serve.").format(agreed_by=wb.data.criteria.agreed_by,
                                                     agreed_on=day(wb.data.criteria.agreed_on)))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body style='font-family:sans-serif;max-width:60em;margin:2em auto'>"
            f"<h1>{title}</h1><p>{chosen}</p><ol>{items}</ol></body></html>")


def one_pager(wb: SelectionWorkbook) -> str:
    """'Our key accounts and why', in plain words for everyone in the company."""
    key = wb.proposal.accounts[wb.proposal.accounts["status"] == "key"]
    lines = [n_("**Our {count} key account for {quarter}**, chosen by the criteria "
                "{agreed_by} agreed on {agreed_on}:",
                "**Our {count} key accounts for {quarter}**, chosen by the criteria "
                "{agreed_by} agreed on {agreed_on}:", len(key)).format(
        count=number(len(key)), quarter=wb.quarter, agreed_by=wb.data.criteria.agreed_by,
        agreed_on=day(wb.data.criteria.agreed_on)), ""]
    lines += [f"- **{row['name']}** ({account}): {row['reason']}"
              for account, row in key.iterrows()]
    return "\n".join(lines)


def disagreements(wb: SelectionWorkbook) -> pd.DataFrame:
    """Where clustering and criteria disagree: segments mostly key holding non-key
    accounts, and key accounts in segments that are mostly not key."""
    status = wb.proposal.accounts["status"].reindex(wb.features.index).eq("key")
    share = status.groupby(wb.features["cluster"]).mean()
    majority = wb.features["cluster"].map(share) >= 0.5
    odd = wb.features[(status != majority) & (share.reindex(wb.features["cluster"]).to_numpy()
                                              > 0)]
    return odd.assign(key=status.reindex(odd.index))[["name", "cluster_name", "key",
                                                      "net_revenue"]]


def long_tail_table(wb: SelectionWorkbook) -> pd.DataFrame:
    return long_tail_summary(wb.long_tail)


def proposal_table(wb: SelectionWorkbook, status: str) -> pd.DataFrame:
    rows = wb.proposal.accounts[wb.proposal.accounts["status"] == status]
    return _shown(rows, ["name", "change", "score", "net_revenue", "reason"])


def changes_table(wb: SelectionWorkbook) -> pd.DataFrame:
    return _shown(wb.proposal.changes, ["name", "current_status", "change", "status", "reason"])


def overrides_table(wb: SelectionWorkbook) -> pd.DataFrame:
    log = wb.proposal.overrides
    if log.empty:
        return pd.DataFrame({_("Overrides"): [_("None: every decision follows the "
                                                "criteria.")]})
    return log.rename(columns=label)


def approval_markdown(wb: SelectionWorkbook) -> str:
    """Who approved the roster and what was written, the name exactly as typed."""
    return n_("**Approved by {approver}:** {rows} row appended to the roster for {quarter}.",
              "**Approved by {approver}:** {rows} rows appended to the roster for {quarter}.",
              wb.approved_rows).format(approver=literal_markdown(wb.params.approve_as or ""),
                                       rows=number(wb.approved_rows, grouped=False),
                                       quarter=wb.quarter)


def literal_markdown(text: str) -> str:
    """Text that Markdown shows as it is: every punctuation mark escaped (CommonMark), so
    no emphasis, link or autolink is made of a name (the page escapes HTML itself)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", text)


_MARKDOWN_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")  # ASCII punctuation


def explanations_markdown(wb: SelectionWorkbook) -> str:
    return "\n".join(f"- {s}" for s in wb.explanation.sentences["sentence"])


def _shown(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    shown = frame[columns].reset_index()
    for coded in ("status", "current_status", "change"):
        if coded in shown:
            shown[coded] = shown[coded].map(word, na_action="ignore")
    if "net_revenue" in shown:
        shown["net_revenue"] = shown["net_revenue"].map(number)
    if "score" in shown:
        shown["score"] = shown["score"].map(score)
    return shown.rename(columns=label)


def notes(wb: SelectionWorkbook) -> list[str]:
    """Warnings and notes the decision paper must show: size guidance, first selection,
    lapsed overrides, how the segmentation was computed, and how the data was read (rows a
    mapping set aside or dropped as repeats, the order of day and month of its dates)."""
    said = [*wb.proposal.warnings, *wb.proposal.notes, *wb.segmentation.notes_, *wb.notes,
            *wb.data.notes]
    return list(dict.fromkeys(said))  # a segmentation note is also its warning: said once


# --- The sentences around the tables and charts ------------------------------------------


def heading(wb: SelectionWorkbook) -> str:
    """The report's first line: the quarter, who agreed the criteria, and what is selected."""
    criteria = wb.data.criteria
    what = (_("groups (parents with their subsidiaries) are selected.")
            if criteria.select_groups else _("accounts are selected one by one."))
    return _("**Selection for {quarter}**, criteria agreed by {agreed_by} on {agreed_on}; "
             "{what}").format(quarter=wb.quarter, agreed_by=criteria.agreed_by,
                              agreed_on=day(criteria.agreed_on), what=what)


def notes_markdown(wb: SelectionWorkbook) -> str:
    """The notes as a Markdown list, or one line saying the proposal is within guidance."""
    return ("\n".join(f"- {note}" for note in notes(wb))
            or "- " + _("The proposal is within the agreed portfolio size."))


def exports_markdown(wb: SelectionWorkbook) -> str:
    """The files written beside the report, as a Markdown list."""
    return ("\n".join("- " + _("Export: `{file}`").format(file=path.name) for path in wb.exports)
            or "- " + _("No exports written (output_dir not set)."))


def matrix_title(wb: SelectionWorkbook) -> str:
    return _("KAM portfolio matrix, {quarter}").format(quarter=wb.quarter)
