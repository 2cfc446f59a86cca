"""Shared fixtures; helpers and paths live in support.py (a name no other folder uses)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import write_company


@pytest.fixture
def company(tmp_path: Path) -> Path:
    return write_company(tmp_path / "company")
