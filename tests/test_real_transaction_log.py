"""A real transaction log run as a user would: the CDNOW master log through the real CLI.

Data: the CDNOW master log (Fader and Hardie; 23,570 customers, 69,659 purchases from
1997-01 to 1998-06) as shipped in the ``lifetimes`` wheel (test dependency, read for its
data files only, never imported). It is converted to an invoice-lines export (customer,
date, quantity, amount), mapped with a small mapping file, and run with the Online Retail
II criteria as a stand-in: no CDNOW customer meets them, so no account is key yet.

Also the rules behind what the issue found on it: no warning text, path or source line
reaches a report (warnings become notes in words, their text stays in run.log), and a
benchmark with no key account publishes what it can and says why the rest is missing.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import warnings
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup
from support import REPO, SAMPLE, kam

from kamlib.economics.value import IntervalWarning
from kamlib.reports.report_exporter import ReportExporter
from kamlib.selection.segments import SegmentationWarning
from kamlib.workbooks import benchmark as bm
from kamlib.workbooks import benchmark_report as report
from kamlib.workbooks.notes import LIFETIME_INTERVAL, technical, warnings_as_notes

CRITERIA = REPO / "data" / "examples" / "online_retail_II_criteria.yml"
QUARTER = "1998Q2"  # the log ends on 1998-06-30
MAPPING = """\
description: CDNOW master log (Fader and Hardie), one line per purchase.
tables:
  invoice_lines:
    file: invoice_lines.csv
    columns:
      invoice_id: Purchase
      account_id: Customer
      invoice_date: Date
      quantity: CDs
      gross_amount: Dollars
    compute:
      cost_of_goods: "gross_amount * 0.60"
    defaults:
      product_line: CDs
      discount_amount: 0
  accounts:
    derive_from: invoice_lines
    columns:
      account_id: Customer
    defaults:
      account_name: "Customer {account_id}"
      industry: Music retail
      currency: USD
      country: US
"""
SOURCE_LINE = "random_state=params.random_state).fit("
"""The source line Python printed under the segmentation warning on the board paper."""


def _cdnow_master() -> Path:
    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the CDNOW master log ships with the 'lifetimes' package (test "
                    "dependency lifetimes==0.11.3, data files only)")
    path = Path(str(dist.locate_file("lifetimes/datasets/CDNOW_master.txt")))
    if not path.is_file():
        pytest.skip(f"CDNOW_master.txt not found in the installed lifetimes package ({path})")
    return path


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory) -> tuple[Path, Path]:
    """The export folder and its mapping file, as a user would prepare them."""
    root = tmp_path_factory.mktemp("cdnow")
    raw = pd.read_csv(_cdnow_master(), sep=r"\s+", dtype={"customer_id": str, "date": str})
    assert raw["customer_id"].nunique() == 23_570
    line = raw.groupby(["customer_id", "date"]).cumcount() + 1
    export = pd.DataFrame({
        "Purchase": "CD" + raw["customer_id"] + "-" + raw["date"] + "-" + line.astype(str),
        "Customer": raw["customer_id"],
        "Date": pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
        "CDs": raw["number_of_cds"],
        "Dollars": raw["dollar_value"],
    })
    data = root / "data"
    data.mkdir()
    export.to_csv(data / "invoice_lines.csv", index=False)
    mapping = root / "cdnow.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return data, mapping


@pytest.fixture(scope="module")
def run_all(cdnow, tmp_path_factory) -> Path:
    data, mapping = cdnow
    out = tmp_path_factory.mktemp("cdnow-reports")
    result = kam("run", "all", "--data", str(data), "--mapping", str(mapping), "--param",
                 f"criteria_file={CRITERIA}", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return out / QUARTER


def visible_text(html: str) -> str:
    """What a reader sees: the page without its scripts (plotly.js has its own 'Warning:'
    strings) and styles."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return soup.get_text(" ")


@pytest.mark.slow
@pytest.mark.parametrize("workbook", ["value", "selection", "benchmark"])
def test_no_warning_text_path_or_source_line_reaches_a_report(run_all, workbook):
    html = (run_all / workbook / "report.html").read_text(encoding="utf-8")
    text = visible_text(html)
    assert "Warning:" not in text
    assert not re.search(r"\.py:\d+", text), re.search(r".{80}\.py:\d+.{80}", text)
    assert SOURCE_LINE not in html


@pytest.mark.slow
def test_the_segmentation_sample_is_said_in_words_and_its_warning_kept_in_run_log(run_all):
    text = visible_text((run_all / "selection" / "report.html").read_text(encoding="utf-8"))
    said = "computed on a random sample of 10,000 of the 23,570 accounts"
    assert text.count(said) == 1  # once: the note and its warning are the same words
    log = (run_all / "selection" / "run.log").read_text(encoding="utf-8")
    assert "SegmentationWarning" in log and said in log


@pytest.mark.slow
def test_benchmark_with_no_key_account_publishes_and_says_so(cdnow, tmp_path):
    data, mapping = cdnow
    result = kam("run", "benchmark", "--data", str(data), "--mapping", str(mapping), "--param",
                 f"criteria_file={CRITERIA}", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    folder = tmp_path / QUARTER / "benchmark"
    text = visible_text((folder / "report.html").read_text(encoding="utf-8"))
    assert "No account is key yet" in text
    assert "Not shown: no account is key yet" in text  # each missing table: one line
    assert (folder / f"kam_benchmark_{QUARTER}.xlsx").exists()


# --- The rules, without a kernel ----------------------------------------------------------


def test_warnings_while_building_become_notes_in_words_and_are_shown_after():
    with pytest.warns(Warning) as shown:  # shown after the block, as Python would
        with warnings_as_notes() as said:
            warnings.warn("The number of segments were computed on a sample.",
                          SegmentationWarning, stacklevel=1)
            warnings.warn("fitted BGNBD likelihood is nearly flat", IntervalWarning,
                          stacklevel=1)
            warnings.warn("fitted BGNBD likelihood is nearly flat", IntervalWarning,
                          stacklevel=1)
            warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=1)
    assert said == ["The number of segments were computed on a sample.", LIFETIME_INTERVAL,
                    technical(1)]
    assert {w.category for w in shown} == {SegmentationWarning, IntervalWarning,
                                           RuntimeWarning}
    for note in said:
        assert ".py" not in note and "Warning" not in note


def test_the_report_leaves_the_cells_standard_error_out():
    warning = "/x/kamlib/workbooks/selection.py:82: SegmentationWarning: The number ...\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=warning),
        nbformat.v4.new_output("stream", name="stdout", text="Shown to the reader")])])
    html, _ = ReportExporter(exclude_input=True).from_notebook_node(nb)
    assert "Shown to the reader" in html
    assert "SegmentationWarning" not in html and "selection.py" not in html
    assert len(nb.cells[0].outputs) == 2  # the executed notebook keeps it


def test_benchmark_with_criteria_no_account_meets_shows_what_it_can(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    (data / "roster.csv").unlink()
    criteria = yaml.safe_load((data / "selection_criteria.yml").read_text(encoding="utf-8"))
    criteria["criteria"][0]["threshold"] = 1e12  # net revenue, a must-have: nobody
    (data / "selection_criteria.yml").write_text(yaml.safe_dump(criteria), encoding="utf-8")
    wb = bm.build(bm.BenchmarkParameters(data_dir=str(data), output_dir=str(tmp_path / "out")))
    assert wb.key_accounts.empty
    assert wb.notes[0].startswith("No account is key yet")
    assert {"summary", "portfolio", "candidates_add", "candidates_drop", "maturity"} <= set(
        wb.tables)
    for name in ("plan_hygiene", "scorecards", "sponsorship", "trend", "external"):
        assert report.view(wb, name).iloc[0, 0] == f"Not shown: {report.NO_KEY_ACCOUNTS}"
    summary = wb.tables["summary"].set_index("figure")["value"]
    assert summary["Key accounts on the roster"] == "0"
    assert summary["Net margin, key accounts"] == "n/a"
    assert not any("technical warning" in note for note in wb.notes)  # no 0/0 on the way
    assert wb.exports and wb.exports[0].exists()
