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
from kamlib import runner
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
    # The manifest names what the run read: the mapping, the export it maps, the criteria;
    # not the other files of the folder.
    inputs = json.loads((result.folder / "manifest.json").read_text())["inputs"]
    assert sorted(Path(i["path"]).name for i in inputs) == [
        "online_retail_II.yml", "online_retail_II_criteria.yml", "online_retail_II_subset.xlsx"]
