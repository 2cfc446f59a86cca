"""The account value workbook, run as analysts run it: through papermill with a real kernel.

Real data: Chen, D. (2012). Online Retail II. UCI Machine Learning Repository,
https://doi.org/10.24432/C5CG6D (CC BY 4.0), read from ../shared/datasets.
"""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

from support import ONLINE_RETAIL, REPO, TINY, kam, needs_shared, write_company
from kamlib.workbooks import account_value as av

NOTEBOOK = REPO / "kamlib" / "notebooks" / "account_value.ipynb"
RETAIL = {"data_dir": str(ONLINE_RETAIL.parent),
          "mapping": str(REPO / "data" / "examples" / "online_retail_II.yml")}


def run_notebook(tmp_path: Path, **parameters) -> dict:
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(NOTEBOOK, out, parameters=parameters, kernel_name="kam-workbooks",
                        cwd=str(NOTEBOOK.parent), execution_timeout=600, progress_bar=False)
    return json.loads(out.read_text(encoding="utf-8"))


def charts_in(notebook: dict) -> int:
    return sum("Plotly.newPlot" in "".join(o.get("data", {}).get("text/html", ""))
               for cell in notebook["cells"] for o in cell.get("outputs", []))


@pytest.fixture(scope="module")
def retail_workbook():
    return av.build(av.AccountValueParameters(**RETAIL))


@needs_shared(ONLINE_RETAIL)
class TestOnRealExport:
    def test_window_is_the_latest_complete_quarter(self, retail_workbook):
        assert str(retail_workbook.quarter) == "2011Q3"
        assert str(retail_workbook.window_start) == "2010-10-01"

    def test_fallback_note_shows_without_activities(self, retail_workbook):
        assert any("No cost-to-serve activities" in n for n in retail_workbook.notes)
        assert retail_workbook.quarterly.pools == ["cts_estimated", "cts_receivables"]

    def test_accounts_reconcile_with_the_company_total(self, retail_workbook):
        total = av.window_total(retail_workbook)
        accounts = retail_workbook.accounts
        for measure in ("gross_sales", "cost_to_serve", "net_revenue"):
            assert accounts[measure].sum() == pytest.approx(total[measure], abs=0.005)
        groups = retail_workbook.groups
        assert groups["net_revenue"].sum() == pytest.approx(total["net_revenue"], abs=0.005)

    def test_every_account_has_a_lifetime_value_with_an_interval(self, retail_workbook):
        ltv = retail_workbook.accounts[["lifetime_value", "lifetime_value_lower",
                                        "lifetime_value_upper"]]
        assert ltv.notna().all().all()
        assert ((ltv["lifetime_value_lower"] <= ltv["lifetime_value"] + 1e-9)
                & (ltv["lifetime_value"] <= ltv["lifetime_value_upper"] + 1e-9)).all()

    def test_holdout_error_is_reported(self, retail_workbook):
        totals = retail_workbook.holdout.totals()
        assert list(totals["measure"]) == ["Purchases", "Net revenue"]
        assert totals["actual"].gt(0).all()
        assert totals["error"].abs().lt(0.5).all()  # within 50% on a year never seen

    @pytest.mark.slow
    def test_notebook_runs_through_papermill(self, tmp_path):
        notebook = run_notebook(tmp_path, **RETAIL)
        assert charts_in(notebook) == 7
        text = json.dumps(notebook)
        assert "No cost-to-serve activities were given" in text
        assert "Traceback" not in text


SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="module")
def sample_workbook():
    return av.build(av.AccountValueParameters(data_dir=str(SAMPLE)))


class TestOnSample:
    def test_reconciles_to_the_cent_with_the_raw_files(self, sample_workbook):
        """Engine totals against an independent pandas calculation from the CSV files."""
        import pandas as pd

        lines = pd.read_csv(SAMPLE / "invoice_lines.csv", parse_dates=["invoice_date"])
        acts = pd.read_csv(SAMPLE / "activities.csv", parse_dates=["activity_date"])
        costs = pd.read_csv(SAMPLE / "activity_costs.csv")
        end = pd.Timestamp(sample_workbook.window_end)
        lines, acts = lines[lines["invoice_date"] <= end], acts[acts["activity_date"] <= end]
        frame = sample_workbook.quarterly.frame
        gross = lines["gross_amount"]
        assert frame["gross_sales"].sum() == pytest.approx(gross[gross > 0].sum(), abs=0.005)
        assert frame["credit_notes"].sum() == pytest.approx(gross[gross < 0].sum(), abs=0.005)
        assert frame["discounts"].sum() == pytest.approx(lines["discount_amount"].sum(), abs=0.005)
        assert frame["rebates"].sum() == pytest.approx(lines["rebate_amount"].fillna(0).sum(),
                                                       abs=0.005)
        assert frame["cost_of_goods"].sum() == pytest.approx(lines["cost_of_goods"].sum(),
                                                             abs=0.005)
        activity_cost = acts.merge(costs, on="activity").eval("count * unit_cost").sum()
        pools = [p for p in sample_workbook.quarterly.pools if p != "cts_receivables"]
        assert frame[pools].sum().sum() == pytest.approx(activity_cost, abs=0.005)
        rebuilt = (frame["gross_sales"] + frame["credit_notes"] - frame["discounts"]
                   - frame["rebates"] - frame["cost_of_goods"]
                   - frame[sample_workbook.quarterly.pools].sum(axis=1))
        assert (rebuilt - frame["net_revenue"]).abs().max() < 0.005

    def test_some_large_accounts_destroy_value(self, sample_workbook):
        giants = sample_workbook.ranks.query("looks_big_earns_little")
        assert len(giants) >= 5
        assert 0 < sample_workbook.whale.destroyer_share < 0.5

    def test_holdout_predictions_are_close(self, sample_workbook):
        errors = sample_workbook.holdout.totals().set_index("measure")["error"]
        assert abs(errors["Purchases"]) < 0.15 and abs(errors["Net revenue"]) < 0.25

    def test_same_input_same_figures(self, sample_workbook):
        again = av.build(av.AccountValueParameters(data_dir=str(SAMPLE)))
        import pandas as pd

        pd.testing.assert_frame_equal(sample_workbook.accounts, again.accounts)

    @pytest.mark.slow
    def test_notebook_runs_through_papermill_with_every_chart(self, tmp_path):
        notebook = run_notebook(tmp_path, data_dir=str(SAMPLE), period="2026Q2",
                                focus="000264")
        assert charts_in(notebook) == 7
        text = json.dumps(notebook)
        assert "Twelve months from 2025-07-01 to 2026-06-30" in text
        assert "Kurt Makina" in text


REPEATS = ("INV-4,00101,2026-02-16,Hydraulics,5,500.00,50.00,300.00\n"
           "INV-5,00200,2026-03-02,Hydraulics,4,400.00,40.00,260.00\n"
           "INV-6,00300,2026-03-20,Seals,50,250.00,10.00,150.00\n")
"""A second purchase day for each tiny account, all within the reporting year."""


def test_with_less_than_a_year_of_history_the_report_says_the_backtest_is_not_shown(tmp_path):
    """A company whose repeat purchases all fall in the last year: the lifetime models fit,
    the backtest (calibrated on the year before) has nothing to learn from and is one note."""
    folder = write_company(tmp_path / "data", {"invoice_lines.csv": TINY["invoice_lines.csv"]
                                               + REPEATS})
    result = kam("run", "value", "--data", str(folder), "--out", str(tmp_path / "out"),
                 "--period", "2026Q1", "--quiet")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "2026Q1" / "value" / "report.html").read_text(encoding="utf-8")
    assert "Not shown: the backtest calibrates the model on the data before 2025-04-01" in page
    assert "Purchases in the holdout year" not in page  # no empty chart


def test_with_no_repeat_purchase_the_run_says_what_lifetime_value_needs(tmp_path):
    folder = write_company(tmp_path / "data")  # every tiny account bought on one day
    result = kam("run", "value", "--data", str(folder), "--out", str(tmp_path / "out"),
                 "--period", "2026Q1", "--quiet")
    assert result.returncode == 3
    assert ("lifetime value needs accounts that bought again" in result.stderr
            and "none of the 3 accounts" in result.stderr and "Fix:" in result.stderr)
    assert "frequency is empty" not in result.stderr
