"""Files kamlib keeps are written whole or not at all (kamlib.data.files)."""
from __future__ import annotations

import os

import pytest

from kamlib.data.files import replaced_atomically, write_atomically


def test_a_written_file_replaces_the_old_one_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "roster.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["roster.csv"]


def test_a_new_file_gets_the_permissions_the_umask_allows(tmp_path):
    mask = os.umask(0o027)
    try:
        write_atomically(tmp_path / "manifest.json", b"{}")
    finally:
        os.umask(mask)
    assert (tmp_path / "manifest.json").stat().st_mode & 0o777 == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_part(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("earlier report")
    with pytest.raises(RuntimeError), replaced_atomically(target) as temporary:
        temporary.write_text("half of a new")
        raise RuntimeError("killed half-way")
    assert target.read_text() == "earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
