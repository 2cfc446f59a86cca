"""Shared fixtures; helpers and paths live in support.py (a name no other folder uses)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import SAMPLE, kam, write_company


@pytest.fixture
def company(tmp_path: Path) -> Path:
    return write_company(tmp_path / "company")


@dataclass(frozen=True)
class SampleRun:
    out: Path
    result: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> SampleRun:
    """`kam run all --quiet` once on the sample company, shared by every test that only
    reads its reports (a kernel run per workbook is the slow part of the suite); a test
    that changes the folder works on a copy."""
    out = tmp_path_factory.mktemp("sample-reports")
    result = kam("run", "all", "--data", str(SAMPLE), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    return SampleRun(out, result)
