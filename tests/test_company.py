"""The data is validated once per `kam run` into a run cache the workbooks are given, never
stale; results the workbooks share are computed once (kamlib.data.run_cache)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
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


def test_a_run_computes_shared_results_once_for_all_its_workbooks(tmp_path):
    folder = write_company(tmp_path / "data")
    calls = []

    def fit():
        calls.append(1)
        return pd.DataFrame({"clv": [len(calls)]})

    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        unopened = kernel_view(cache)  # its data not taken: it shares nothing
        assert unopened.computed_once("fit", (1,), fit).iloc[0, 0] == 1
        first = kernel_view(cache)  # what each kernel of the run does
        load_valid(folder, run_cache=first)
        assert first.computed_once("fit", (1,), fit).iloc[0, 0] == 2
        again = kernel_view(cache)
        load_valid(folder, run_cache=again)
        assert again.computed_once("fit", (1,), fit).iloc[0, 0] == 2  # kept, not refitted
        assert again.computed_once("fit", (2,), fit).iloc[0, 0] == 3  # another key
        (folder / "accounts.csv").write_text(TINY["accounts.csv"] + "\n", encoding="utf-8")
        changed = kernel_view(cache)
        load_valid(folder, run_cache=changed)  # validated again: nothing of the run is reused
        assert changed.computed_once("fit", (1,), fit).iloc[0, 0] == 4
    assert len(calls) == 4


KERNEL = """
import sys, time
from pathlib import Path
from kamlib.data.ready import load_valid
from kamlib.data.run_cache import RunCache

def fit():
    with open(sys.argv[3], "a") as log:
        log.write("fitting\\n")
    time.sleep(float(sys.argv[4]))  # the other kernel asks meanwhile, or this one is killed
    return 42

cache = RunCache(sys.argv[2])
load_valid(Path(sys.argv[1]), run_cache=cache)
print(cache.computed_once("fit", (1,), fit))
"""


def kernel(folder: Path, cache: RunCache, log: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", KERNEL, str(folder), str(cache.folder),
                             str(log), str(seconds)], stdout=subprocess.PIPE, text=True)


def test_workbooks_side_by_side_wait_for_the_first_to_compute(tmp_path):
    """Two kernels of one run ask at the same time: one computes, the other waits."""
    folder = write_company(tmp_path / "data")
    log = tmp_path / "fits.log"
    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        kernels = [kernel(folder, cache, log, 1) for _ in range(2)]
        outputs = [k.communicate(timeout=120)[0].strip() for k in kernels]
    assert outputs == ["42", "42"]
    assert log.read_text() == "fitting\n"


def test_a_kernel_killed_while_computing_leaves_nothing_and_the_next_computes(tmp_path):
    folder = write_company(tmp_path / "data")
    log = tmp_path / "fits.log"
    with cache_of_a_run(folder, tmp_path / "out") as (_, cache):
        killed = kernel(folder, cache, log, 60)
        deadline = time.monotonic() + 120
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert not list(cache.folder.glob("fit-*.pickle"))  # no result, not half of one
        after = kernel(folder, cache, log, 0)  # the lock died with the killed kernel
        assert after.communicate(timeout=120)[0].strip() == "42"
        assert len(list(cache.folder.glob("fit-*.pickle"))) == 1
    assert log.read_text() == "fitting\nfitting\n"


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
