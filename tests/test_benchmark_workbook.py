"""The quarterly KAM benchmark workbook on the sample, for two quarters, and with tables missing.

Real data: Chen, D. (2012). Online Retail II. UCI Machine Learning Repository,
https://doi.org/10.24432/C5CG6D (CC BY 4.0), read from ../shared/datasets.
"""

from __future__ import annotations

import shutil

import nbformat
import openpyxl
import pandas as pd
import pytest
from support import ONLINE_RETAIL, REPO, needs_shared

from kamlib.run import runner
from kamlib.workbooks import benchmark as bm
from kamlib.workbooks import benchmark_report as report

SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="module")
def q3(tmp_path_factory):
    out = tmp_path_factory.mktemp("q3")
    return bm.build(bm.BenchmarkParameters(data_dir=str(SAMPLE), output_dir=str(out)))


@pytest.fixture(scope="module")
def q2(tmp_path_factory):
    out = tmp_path_factory.mktemp("q2")
    return bm.build(bm.BenchmarkParameters(data_dir=str(SAMPLE), period="2026Q2",
                                           output_dir=str(out)))


def test_every_summary_figure_names_a_table_the_report_shows(q3):
    notebook = nbformat.read(runner.NOTEBOOKS / "kam_benchmark.ipynb", as_version=4)
    headings = [line for cell in notebook.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("#")]
    by_title = {title: name for name, title in report.TITLES.items()}
    summary = q3.tables["summary"]
    assert len(summary) >= 10
    for title in summary["see table"]:
        assert by_title[title] in q3.tables, title
        assert any(heading.endswith(title) for heading in headings), title


def test_summary_figures_are_those_of_their_tables(q3):
    summary = q3.tables["summary"].set_index("figure")["value"]
    portfolio = q3.tables["portfolio"].set_index("figure")["value"]
    assert summary["Key accounts on the roster"] == portfolio["Key accounts on the roster"]
    hygiene = q3.tables["plan_hygiene"]
    assert summary["Key accounts with plan problems"] == (
        f"{(hygiene['problems'] != 'in order').sum()} of {len(hygiene)}")
    cadence = q3.tables["review_cadence"]
    assert summary["30-day reviews on time this year"].startswith(
        f"{cadence['on time'].sum() / cadence['due'].sum():.0%} of {cadence['due'].sum()} due")
    states = q3.tables["sponsorship"]["state"]
    assert summary["Key accounts without a sponsor or with lapsed contact"] == (
        f"{(states != 'kept up').sum()} of {len(states)}")


def test_key_accounts_are_the_roster_of_the_quarter(q3, q2):
    roster = pd.read_csv(SAMPLE / "roster.csv", dtype=str)
    for wb, period in ((q3, "2026Q2"), (q2, "2026Q2")):  # no roster approved for 2026Q3 yet
        listed = roster[(roster["period"] == period) & roster["status"].isin(["key", "watch"])]
        assert sorted(wb.key_accounts.index) == sorted(listed["account_id"])
    # Each quarter of the trend uses the roster current then.
    trend = q3.tables["trend"].set_index("quarter")
    assert trend.loc["2025Q1", "key_accounts"] == len(roster[(roster["period"] == "2025Q1")
                                                             & (roster["status"] != "removed")])


def test_plan_problems_match_the_plans_file(q3):
    plans = pd.read_csv(SAMPLE / "plans.csv", dtype=str)
    mine = plans[plans["year"] == "2026"].set_index("account_id")
    hygiene = q3.tables["plan_hygiene"].set_index("account_id")
    assert set(hygiene.index[hygiene["no_plan"]]) == set(hygiene.index) - set(mine.index)
    unsigned = set(mine.index[mine["signed_on"].isna()]) & set(hygiene.index)
    assert set(hygiene.index[hygiene["unsigned"]]) == unsigned


def test_scorecards_and_comparison_are_on_net_value_and_show_uncertainty(q3):
    card = q3.tables["scorecards"]
    assert {"net_revenue", "cost_to_serve", "lifetime_value", "net_margin"} <= set(card.columns)
    assert not any("gross" in c for c in card.columns)
    assert card["net_revenue"].sum() == pytest.approx(q3.key_accounts["net_revenue"].sum())
    comparison = q3.tables["manager_comparison"]
    assert (comparison["lower"] < comparison["upper"]).all()
    few = comparison[comparison["accounts"] < 3]
    assert (few["verdict"] == "too few accounts to judge").all()


def test_the_external_benchmark_and_maturity_have_evidence(q3):
    external = q3.tables["external"]
    assert external["ours"].notna().all() and external["position"].str.len().gt(5).all()
    card = q3.tables["maturity"]
    assert len(card) == 7 and card["score"].between(0, 4).all()
    assert card.set_index("success_factor").loc["3. A programme lead", "evidence"].endswith(
        "Sofia Marchetti.")


def test_excel_has_every_table_with_the_same_structure_each_quarter(q3, q2):
    assert q3.exports[0].name == "kam_benchmark_2026Q3.xlsx"
    assert q2.exports[0].name == "kam_benchmark_2026Q2.xlsx"
    sheets = [openpyxl.load_workbook(wb.exports[0], read_only=True).sheetnames
              for wb in (q3, q2)]
    assert sheets[0] == sheets[1] == [name[:31] for name in q3.tables]
    for name in q3.tables:
        assert list(q3.tables[name].columns) == list(q2.tables[name].columns), name


def test_without_plans_and_people_tables_the_report_says_what_is_missing(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    for table in ("plans", "objectives", "stage_goals", "reviews", "managers", "executives",
                  "sponsor_contacts", "benchmarks"):
        (data / f"{table}.csv").unlink()
    accounts = pd.read_csv(data / "accounts.csv", dtype=str, keep_default_na=False)
    accounts.drop(columns=["key_account_manager", "executive_sponsor"]).to_csv(
        data / "accounts.csv", index=False)
    wb = bm.build(bm.BenchmarkParameters(data_dir=str(data)))
    assert any("No plans file" in note for note in wb.notes)
    assert (wb.tables["plan_hygiene"]["problems"] == "no plan").all()
    for name in ("objectives", "goals", "review_cadence", "skills"):
        assert report.view(wb, name).iloc[0, 0].startswith("Not shown: ")
    assert (wb.tables["sponsorship"]["state"] == "no sponsor").all()
    assert wb.tables["external"].empty
    summary = wb.tables["summary"].set_index("figure")
    assert "30-day reviews on time this year" not in summary.index


@needs_shared(ONLINE_RETAIL)
def test_runs_on_the_real_export_without_roster_or_plans():
    wb = bm.build(bm.BenchmarkParameters(
        data_dir=str(ONLINE_RETAIL.parent),
        mapping=str(REPO / "data" / "examples" / "online_retail_II.yml"),
        criteria_file=str(REPO / "data" / "examples" / "online_retail_II_criteria.yml")))
    # The first selection by the example criteria: 9 accounts. Customer 12567 was a tenth
    # only while the lines both yearly sheets hold (1-9 December 2010) counted twice.
    assert len(wb.key_accounts) == 9
    assert (wb.key_accounts["status"] == "key").all()
    assert any("No plans file" in note for note in wb.notes)
    assert any("the agreed criteria select now" in note for note in wb.notes)
    assert wb.tables["summary"]["figure"].iloc[0] == "Key accounts on the roster"


@pytest.mark.slow
def test_kam_run_benchmark_publishes_the_report_and_excel_for_the_quarter_before(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    kam = Path(sys.executable).parent / "kam"
    # A relative criteria_file is taken from where kam runs, not from the notebooks folder.
    result = subprocess.run([str(kam), "run", "benchmark", "--data", str(SAMPLE), "--period",
                             "2026Q2", "--out", str(tmp_path), "--quiet", "--param",
                             "criteria_file=data/sample/selection_criteria.yml"],
                            capture_output=True, text=True, timeout=900, cwd=REPO,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "2026Q2" / "benchmark"
    assert (folder / "kam_benchmark_2026Q2.xlsx").exists()
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot") == 4
    for title in report.TITLES.values():
        assert title in html, title
    assert "bm.build(" not in html and "Benchmark for 2026Q2" in html
