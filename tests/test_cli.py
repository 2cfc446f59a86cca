"""The `kam` command line: help, version, exit codes and messages, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import ONLINE_RETAIL, REPO, TINY, needs_shared, write_company

KAM = Path(sys.executable).parent / "kam"


def kam(*args: str) -> subprocess.CompletedProcess:
    """A minimal environment, as cron gives; PYTHONPATH kept, for a checkout it points at."""
    kept = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
    return subprocess.run([str(KAM), *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", **kept})


def test_version():
    result = kam("--version")
    assert result.returncode == 0 and result.stdout.startswith("kam 0.")


@pytest.mark.parametrize("command", ["validate", "sample", "contract"])
def test_every_command_has_help(command):
    result = kam(command, "--help")
    assert result.returncode == 0 and "Usage: kam " + command in result.stdout


def test_validate_good_data_prints_summary(company):
    result = kam("validate", "--data", str(company), "--today", "2026-09-30")
    assert result.returncode == 0, result.stderr
    assert "the data is usable" in result.stdout
    assert "Gross amount, credit notes included" in result.stdout and "3,550.50" in result.stdout
    assert "Not given: Payment terms" in result.stdout


def test_validate_bad_data_exits_1_with_file_row_column(tmp_path):
    bad = TINY["invoice_lines.csv"].replace("2026-03-10", "2026-02-30")
    folder = write_company(tmp_path, {"invoice_lines.csv": bad})
    result = kam("validate", "--data", str(folder), "--today", "2026-09-30")
    assert result.returncode == 1
    assert "invoice_lines.csv, column 'invoice_date', row 6 (1 row)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_folder_and_bad_mapping_are_usage_errors(tmp_path):
    for command in ("validate", "run value"):
        result = kam(*command.split(), "--data", str(tmp_path / "nowhere"))
        assert result.returncode == 2, result.stderr
        assert f"--data {tmp_path / 'nowhere'}: the data folder does not exist" in result.stderr
        assert "Fix: give --data the folder" in result.stderr
    mapping = tmp_path / "m.yml"
    mapping.write_text("tables: {clients: {}}\n")
    result = kam("validate", "--data", str(tmp_path), "--mapping", str(mapping))
    assert result.returncode == 2 and "table must be one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_contract_page_that_cannot_be_written_is_a_usage_error(tmp_path):
    result = kam("contract", "--out", str(tmp_path / "nowhere" / "contract.md"))
    assert result.returncode == 2, result.stderr
    assert "cannot be written" in result.stderr and "Fix: give --out" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_value_is_a_usage_error(company):
    result = kam("validate", "--data", str(company), "--today", "30/09/2026")
    assert result.returncode == 2 and "--today must look like 2026-09-30" in result.stderr


@needs_shared(ONLINE_RETAIL)
def test_validate_accepts_the_real_export_with_its_mapping():
    result = kam("validate", "--data", str(ONLINE_RETAIL.parent), "--mapping",
                 str(REPO / "data/examples/online_retail_II.yml"))
    assert result.returncode == 0, result.stderr
    assert "262 in 10 countries" in result.stdout
    assert "601 row(s) set aside" in result.stdout
