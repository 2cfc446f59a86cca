"""The account value workbook, run as analysts run it: through papermill with a real kernel.

Real data: Chen, D. (2012). Online Retail II. UCI Machine Learning Repository,
https://doi.org/10.24432/C5CG6D (CC BY 4.0), read from ../shared/datasets.
"""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

from conftest import ONLINE_RETAIL, REPO, needs_shared
from kamlib.workbooks import account_value as av

NOTEBOOK = REPO / "notebooks" / "account_value.ipynb"
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
