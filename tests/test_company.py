"""The data is validated once per `kam run` into a run cache the workbooks are given, never
stale; results the workbooks share are computed once (kamlib.data.run_cache)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from support import SAMPLE, TINY, write_company

from kamlib.data.periods import Quarter
from kamlib.data.ready import load_valid, on_engine
from kamlib.data.run_cache import RunCache
from kamlib.errors import DataError, ParameterError
from kamlib.run.cache import run_cache
from kamlib.run.runner import run_workbooks


def cache_of_a_run(folder: Path, out: Path):
    """What `kam run` makes: the data validated into a run cache in ``out``."""
    return run_cache(folder, None, beside=out, prefix=".running-cache-test-")


def kernel_view(cache: RunCache) -> RunCache:
    """The cache as a workbook's kernel opens it: from its folder, given as a parameter."""
    return RunCache(str(cache.folder))


def test_cached_data_is_used_while_every_file_is_unchanged(tmp_path):
    folder = write_company(tmp_path / "data")
    with cache_of_a_run(folder, tmp_path / "out") as (validated, cache):
        assert cache.folder.parent == tmp_path / "out"
        assert (cache.folder.stat().st_mode & 0o777) == 0o700
        received = kernel_view(cache)
        data = load_valid(folder, run_cache=received)  # what a kernel of the run gets
        assert received.sharing
        pd.testing.assert_frame_equal(data.tables["accounts"], validated.tables["accounts"])

        accounts = folder / "accounts.csv"
        accounts.write_text(TINY["accounts.csv"] + "00400,Dupont SA,,FR,Retail,EUR,,,\n",
                            encoding="utf-8")
        changed = kernel_view(cache)
        data = load_valid(folder, run_cache=changed)  # changed after validation: again
        assert not changed.sharing
        assert "00400" in set(data.tables["accounts"]["account_id"])
    assert not cache.folder.exists()
    assert "KAM_VALIDATED_DATA" not in os.environ  # no hidden channel


def test_files_linked_into_the_data_folder_are_watched_too(tmp_path):
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    exports = write_company(folder / "exports")  # a link may not lead out of the folder
    (folder / "invoice_lines.csv").symlink_to(exports / "invoice_lines.csv")
    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        assert kernel_view(cache).data_for(folder) is not None
        (exports / "invoice_lines.csv").write_text(TINY["invoice_lines.csv"].replace(
            "1000.00", "1100.00"), encoding="utf-8")
        assert kernel_view(cache).data_for(folder) is None


def test_reports_written_into_the_data_folder_leave_the_cache_in_use(tmp_path):
    """`kam run --out` inside `--data`: the run's own reports are not input, so the
    kernels keep the validated data while the workbooks publish beside it."""
    folder = write_company(tmp_path / "data")
    with cache_of_a_run(folder, folder / "reports") as (_, cache):
        report = folder / "reports" / "2026Q3" / "value" / "report.html"
        report.parent.mkdir(parents=True)
        report.write_text("<html></html>", encoding="utf-8")
        (folder / "readme.txt").write_text("not a table", encoding="utf-8")
        assert kernel_view(cache).data_for(folder) is not None
        shutil.copy(SAMPLE / "selection_criteria.yml", folder)
        assert kernel_view(cache).data_for(folder) is None  # criteria are input


def test_another_folder_or_an_unreadable_cache_is_validated_as_usual(tmp_path):
    folder = write_company(tmp_path / "data")
    other = write_company(tmp_path / "other")
    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        elsewhere = kernel_view(cache)
        assert set(load_valid(other, run_cache=elsewhere).tables["accounts"]["account_id"])
        assert not elsewhere.sharing
    gone = RunCache(tmp_path / "gone")
    assert load_valid(folder, run_cache=gone).tables and not gone.sharing
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "data.pickle").write_bytes(b"not a pickle")
    bad = RunCache(tmp_path / "bad")
    assert load_valid(folder, run_cache=bad).tables and not bad.sharing


def test_parameters_go_to_the_workbooks_having_them_and_bad_data_stops_every_one(tmp_path):
    bad = write_company(tmp_path / "data", {"invoice_lines.csv": TINY["invoice_lines.csv"]
                                            .replace("2026-03-10", "2026-13-10")})
    # A parameter only the selection has is fine for all workbooks; the data is then
    # validated before any kernel starts, and refused.
    with pytest.raises(DataError):
        next(run_workbooks(["value", "selection"], data=bad, out=tmp_path / "out",
                           params={"segmentation": "gmm"}))
    assert not (tmp_path / "out").exists()  # nothing written before the data is valid


def test_a_parameter_no_workbook_has_is_refused_naming_it(tmp_path):
    with pytest.raises(ParameterError, match="no workbook has a parameter 'segmentatoin'. "
                                             "Did you mean 'segmentation'"):
        next(run_workbooks(["value", "selection"], data=Path(tmp_path), out=tmp_path / "out",
                           params={"segmentatoin": "gmm"}))


def test_a_run_stages_its_tables_once_for_all_its_workbooks(tmp_path):
    """Each workbook opens the tables on the engine; the Parquet is written by the first."""
    folder = write_company(tmp_path / "data")
    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        first = kernel_view(cache)
        tables = on_engine(load_valid(folder, run_cache=first), run_cache=first)
        staged = cache.folder / "staged"
        written = {p.name: p.stat().st_mtime_ns for p in staged.iterdir()}
        second = kernel_view(cache)
        again = on_engine(load_valid(folder, run_cache=second), run_cache=second)
        assert {p.name: p.stat().st_mtime_ns for p in staged.iterdir()} == written
        assert "accounts.parquet" in written and not list(staged.glob("*.part"))
        pd.testing.assert_frame_equal(again["accounts"].to_pandas(),
                                      tables["accounts"].to_pandas())
    assert not staged.exists()  # removed with the cache


def test_the_selection_and_the_benchmark_share_one_computation_of_the_features(
        tmp_path, monkeypatch):
    from kamlib.selection import features
    from kamlib.selection.features import selection_features

    folder = SAMPLE  # the tiny company has too few buyers for the lifetime-value fit
    options = dict(select_groups=True, horizon_years=3.0, discount_rate=0.1, random_state=0)
    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        first = kernel_view(cache)
        data = load_valid(folder, run_cache=first)
        computed = selection_features(on_engine(data, run_cache=first), data,
                                      Quarter.parse("2026Q3"), run_cache=first, **options)
        kept = list(cache.folder.glob("selection_features-*.pickle"))
        assert len(kept) == 1
        assert len(list(cache.folder.glob("lifetime_value-*.pickle"))) == 1
        monkeypatch.setattr(features, "account_features", None)  # computing again would fail
        second = kernel_view(cache)  # the other workbook's kernel
        data = load_valid(folder, run_cache=second)
        shared = selection_features(on_engine(data, run_cache=second), data,
                                    Quarter.parse("2026Q3"), run_cache=second, **options)
    for ours, theirs in zip(computed, shared):
        pd.testing.assert_frame_equal(ours, theirs)
