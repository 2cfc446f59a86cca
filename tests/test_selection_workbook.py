"""The key-account selection workbook on the sample and on the real export.

Real data: Chen, D. (2012). Online Retail II. UCI Machine Learning Repository,
https://doi.org/10.24432/C5CG6D (CC BY 4.0), read from ../shared/datasets.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from support import ONLINE_RETAIL, REPO, needs_shared
from kamlib.reports import report_exporter
from kamlib.run import runner
from kamlib.workbooks import selection as sel

SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="module")
def sample_workbook():
    return sel.build(sel.SelectionParameters(data_dir=str(SAMPLE)))


def test_proposes_between_5_and_25_key_accounts_each_explained(sample_workbook):
    key = sample_workbook.proposal.key_accounts
    assert 5 <= len(key) <= 25
    sentences = sample_workbook.explanation.sentences
    assert set(key) <= set(sentences.index)
    assert sentences.loc[key, "sentence"].str.len().gt(40).all()
    assert sample_workbook.proposal.accounts.loc[key, "reason"].str.len().gt(10).all()


def test_changes_follow_the_roster_with_hysteresis(sample_workbook):
    accounts = sample_workbook.proposal.accounts
    assert set(accounts["change"]) >= {"enter", "stay"}
    leaving = accounts[accounts["change"] == "leave"]
    # Each leaver failed the criteria two periods running, or is excluded by policy.
    assert len(leaving) > 0
    assert ((leaving["failing_periods"] >= 2) | leaving["reason"].str.contains("excluded")).all()


def test_two_runs_give_identical_rosters(sample_workbook):
    again = sel.build(sel.SelectionParameters(data_dir=str(SAMPLE)))
    pd.testing.assert_frame_equal(sample_workbook.proposal.accounts, again.proposal.accounts)
    pd.testing.assert_series_equal(sample_workbook.segmentation.labels_,
                                   again.segmentation.labels_)


def test_exports_are_formula_safe_and_approval_appends(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    accounts = (data / "accounts.csv").read_text(encoding="utf-8")
    first_id = accounts.splitlines()[1].split(",")[0]
    original_name = accounts.splitlines()[1].split(",")[1]
    (data / "accounts.csv").write_text(accounts.replace(
        f"{first_id},{original_name},", f'{first_id},"=HYPERLINK(""http://x"")",', 1),
        encoding="utf-8")
    roster_before = (data / "roster.csv").read_bytes()
    wb = sel.build(sel.SelectionParameters(data_dir=str(data), output_dir=str(tmp_path / "out"),
                                           approve_as="Executive board"))
    csv = pd.read_csv(wb.exports[0], dtype=str, keep_default_na=False)
    assert csv.set_index("account_id").loc[first_id, "account_name"].startswith("'=")
    sheet = openpyxl.load_workbook(wb.exports[1])["Roster"]
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert not any(isinstance(n, str) and n.startswith("=") for n in names)
    assert len(csv) == 1500 and csv["key_account"].eq("True").sum() >= 5
    roster_after = (data / "roster.csv").read_bytes()
    assert roster_after.startswith(roster_before) and wb.approved_rows > 0
    assert "2026Q3" in roster_after[len(roster_before):].decode("utf-8")


@needs_shared(ONLINE_RETAIL)
def test_runs_on_the_real_export_with_example_criteria():
    wb = sel.build(sel.SelectionParameters(
        data_dir=str(ONLINE_RETAIL.parent),
        mapping=str(REPO / "data/examples/online_retail_II.yml"),
        criteria_file=str(REPO / "data/examples/online_retail_II_criteria.yml")))
    assert 5 <= len(wb.proposal.key_accounts) <= 25
    assert any("first selection" in note for note in wb.proposal.notes)


def test_missing_criteria_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "selection_criteria.yml").unlink()
    with pytest.raises(Exception, match="needs the criteria management agreed"):
        sel.build(sel.SelectionParameters(data_dir=str(data)))


@pytest.mark.slow
def test_kam_run_selection_publishes_report_and_roster_exports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative --out, as `make run` passes it
    result = runner.run("selection", data=SAMPLE, out=Path("reports"), quiet=True)
    assert result.folder == tmp_path / "reports" / "2026Q3" / "selection"
    names = sorted(p.name for p in result.folder.iterdir())
    assert {"key_account_roster_2026Q3.csv", "key_account_roster_2026Q3.xlsx",
            "our_key_accounts_2026Q3.html"} <= set(names)
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot") == 1 and "Our " in html and "key accounts for 2026Q3" in html
    assert json.loads((result.folder / "manifest.json").read_text())["workbook"] == "selection"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0",
                                  "@SUM(1)", "-2+3", "**Board** [a](javascript:x) <b>B</b>"])
def test_the_approver_is_shown_exactly_as_typed(name):
    from html import unescape

    html = report_exporter.markdown_output(f"**Approved by {sel.literal_markdown(name)}:** 3 rows")
    assert html.startswith("<p><strong>Approved by ") and html.count("<") == 4  # p, strong
    assert unescape(html) == f"<p><strong>Approved by {name}:</strong> 3 rows</p>\n"


@pytest.mark.slow
def test_kam_run_selection_approve_as_a_formula_writes_text_and_the_next_run_works(tmp_path):
    """approve_as reaches roster.csv, which opens in spreadsheets: never as a formula. The
    next run reads the roster back and works; the report shows the name as typed, as text."""
    import csv

    from support import kam

    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    approver = '=HYPERLINK("http://x","click")'
    before = (data / "roster.csv").read_text(encoding="utf-8")
    first = kam("run", "selection", "--data", str(data), "--param", f"approve_as={approver}",
                "--out", str(tmp_path / "out"), "--quiet")
    assert first.returncode == 0, first.stdout + first.stderr
    after = (data / "roster.csv").read_text(encoding="utf-8")
    assert after.startswith(before)
    appended = list(csv.DictReader(after.splitlines()))[len(before.splitlines()) - 1:]
    assert appended and {row["period"] for row in appended} == {"2026Q3"}
    assert {row["approved_by"] for row in appended} == {"'" + approver}
    for row in appended:  # no appended cell starts a formula (ids are the sample's digits)
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row.values())
    html = (tmp_path / "out" / "2026Q3" / "selection" / "report.html").read_text(
        encoding="utf-8")
    assert "Approved by =HYPERLINK(&quot;http://x&quot;,&quot;click&quot;):</strong>" in html
    assert kam("validate", "--data", str(data)).returncode == 0
    again = kam("run", "selection", "--data", str(data), "--out", str(tmp_path / "again"),
                "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr


@needs_shared(ONLINE_RETAIL)
@pytest.mark.slow
def test_kam_run_selection_on_the_real_export(tmp_path):
    result = runner.run("selection", data=ONLINE_RETAIL.parent, out=tmp_path, quiet=True,
                        mapping=REPO / "data/examples/online_retail_II.yml",
                        params={"criteria_file": str(REPO / "data/examples/"
                                                     "online_retail_II_criteria.yml")})
    assert result.period == "2011Q3"
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert "first selection" in html and "key accounts for 2011Q3" in html
    # How the data was read is stated on the board paper too, as on the other reports.
    assert "504 row(s) repeating an earlier row whole dropped by the mapping" in html
    # The manifest names what the run read: the mapping, the export it maps, the criteria;
    # not the other files of the folder.
    inputs = json.loads((result.folder / "manifest.json").read_text())["inputs"]
    assert sorted(Path(i["path"]).name for i in inputs) == [
        "online_retail_II.yml", "online_retail_II_criteria.yml", "online_retail_II_subset.xlsx"]
