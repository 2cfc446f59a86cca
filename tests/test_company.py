"""The data is validated once per `kam run` and handed to the kernels, never stale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import SAMPLE, TINY, write_company

from kamlib.data.ready import HANDED_OVER, computed_once, load_valid, on_engine

from kamlib.data.periods import Quarter
from kamlib.errors import DataError, ParameterError
from kamlib.run.handover import handed_over
from kamlib.run.runner import run_workbooks


def hand_over(folder: Path, out: Path):
    return handed_over(folder, None, beside=out, prefix=".running-handover-test-")


def test_handed_over_data_is_used_while_every_file_is_unchanged(tmp_path):
    folder = write_company(tmp_path / "data")
    with hand_over(folder, tmp_path / "out") as validated:
        path = Path(os.environ[HANDED_OVER])
        assert path.parent.parent == tmp_path / "out"
        received = load_valid(folder)  # what a kernel of the run gets
        assert received.handover_folder == path.parent
        pd.testing.assert_frame_equal(received.tables["accounts"], validated.tables["accounts"])

        accounts = folder / "accounts.csv"
        accounts.write_text(TINY["accounts.csv"] + "00400,Dupont SA,,FR,Retail,EUR,,,\n",
                            encoding="utf-8")
        changed = load_valid(folder)  # a file changed after validation: validated again
        assert changed.handover_folder is None
        assert "00400" in set(changed.tables["accounts"]["account_id"])
    assert HANDED_OVER not in os.environ and not path.parent.exists()


def test_files_linked_into_the_data_folder_are_watched_too(tmp_path):
    folder = write_company(tmp_path / "data", drop=("invoice_lines.csv",))
    exports = write_company(folder / "exports")  # a link may not lead out of the folder
    (folder / "invoice_lines.csv").symlink_to(exports / "invoice_lines.csv")
    with hand_over(folder, tmp_path / "out"):
        assert load_valid(folder).handover_folder is not None
        (exports / "invoice_lines.csv").write_text(TINY["invoice_lines.csv"].replace(
            "1000.00", "1100.00"), encoding="utf-8")
        assert load_valid(folder).handover_folder is None


def test_reports_written_into_the_data_folder_leave_the_hand_over_in_use(tmp_path):
    """`kam run --out` inside `--data`: the run's own reports are not input, so the
    kernels keep the validated data while the workbooks publish beside it."""
    folder = write_company(tmp_path / "data")
    with hand_over(folder, folder / "reports"):
        report = folder / "reports" / "2026Q3" / "value" / "report.html"
        report.parent.mkdir(parents=True)
        report.write_text("<html></html>", encoding="utf-8")
        (folder / "readme.txt").write_text("not a table", encoding="utf-8")
        assert load_valid(folder).handover_folder is not None
        shutil.copy(SAMPLE / "selection_criteria.yml", folder)
        assert load_valid(folder).handover_folder is None  # criteria are input


def test_other_folder_or_unreadable_hand_over_is_validated_as_usual(tmp_path, monkeypatch):
    folder = write_company(tmp_path / "data")
    other = write_company(tmp_path / "other")
    with hand_over(folder, tmp_path / "out"):
        assert load_valid(other).handover_folder is None
    monkeypatch.setenv(HANDED_OVER, str(tmp_path / "gone.pickle"))
    assert load_valid(folder).handover_folder is None
    (tmp_path / "bad.pickle").write_bytes(b"not a pickle")
    monkeypatch.setenv(HANDED_OVER, str(tmp_path / "bad.pickle"))
    assert load_valid(folder).handover_folder is None


def test_parameters_go_to_the_workbooks_having_them_and_bad_data_stops_every_one(tmp_path):
    bad = write_company(tmp_path / "data", {"invoice_lines.csv": TINY["invoice_lines.csv"]
                                            .replace("2026-03-10", "2026-13-10")})
    # A parameter only the selection has is fine for all workbooks; the data is then
    # validated before any kernel starts, and refused.
    with pytest.raises(DataError):
        next(run_workbooks(["value", "selection"], data=bad, out=tmp_path / "out",
                           params={"segmentation": "gmm"}))
    assert HANDED_OVER not in os.environ
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

    assert computed_once(load_valid(folder), "fit", (1,), fit).iloc[0, 0] == 1  # no run
    with hand_over(folder, tmp_path / "out"):
        first = load_valid(folder)  # what each kernel of the run gets
        assert computed_once(first, "fit", (1,), fit).iloc[0, 0] == 2
        again = load_valid(folder)
        assert computed_once(again, "fit", (1,), fit).iloc[0, 0] == 2  # kept, not refitted
        assert computed_once(again, "fit", (2,), fit).iloc[0, 0] == 3  # another key
        (folder / "accounts.csv").write_text(TINY["accounts.csv"] + "\n", encoding="utf-8")
        changed = load_valid(folder)  # validated again: nothing of the run is reused
        assert computed_once(changed, "fit", (1,), fit).iloc[0, 0] == 4
    assert len(calls) == 4


SIDE_BY_SIDE_KERNEL = """
import sys, time
from pathlib import Path
from kamlib.data.ready import computed_once, load_valid

def fit():
    with open(sys.argv[2], "a") as log:
        log.write("fitted\\n")
    time.sleep(1)  # the other kernel asks meanwhile
    return 42

print(computed_once(load_valid(Path(sys.argv[1])), "fit", (1,), fit))
"""


def test_workbooks_side_by_side_wait_for_the_first_to_compute(tmp_path):
    """Two kernels of one run ask at the same time: one computes, the other waits."""
    folder = write_company(tmp_path / "data")
    log = tmp_path / "fits.log"
    with hand_over(folder, tmp_path / "out"):
        kernels = [subprocess.Popen([sys.executable, "-c", SIDE_BY_SIDE_KERNEL, str(folder),
                                     str(log)], stdout=subprocess.PIPE, text=True)
                   for _ in range(2)]
        outputs = [kernel.communicate(timeout=120)[0].strip() for kernel in kernels]
    assert outputs == ["42", "42"]
    assert log.read_text() == "fitted\n"


def test_a_run_stages_its_tables_once_for_all_its_workbooks(tmp_path):
    """Each workbook opens the tables on the engine; the Parquet is written by the first."""
    folder = write_company(tmp_path / "data")
    with hand_over(folder, tmp_path / "out"):
        first = on_engine(load_valid(folder))
        staged = load_valid(folder).handover_folder / "staged"
        written = {p.name: p.stat().st_mtime_ns for p in staged.iterdir()}
        second = on_engine(load_valid(folder))
        assert {p.name: p.stat().st_mtime_ns for p in staged.iterdir()} == written
        assert "accounts.parquet" in written and not list(staged.glob("*.partial"))
        pd.testing.assert_frame_equal(second["accounts"].to_pandas(),
                                      first["accounts"].to_pandas())
    assert not staged.exists()  # removed with the hand-over


def test_the_selection_and_the_benchmark_share_one_computation_of_the_features(
        tmp_path, monkeypatch):
    from kamlib.selection.features import selection_features
    from kamlib.selection import features

    folder = SAMPLE  # the tiny company has too few buyers for the lifetime-value fit
    options = dict(select_groups=True, horizon_years=3.0, discount_rate=0.1, random_state=0)
    with hand_over(folder, tmp_path / "out"):
        first = load_valid(folder)
        computed = selection_features(on_engine(first), first, Quarter.parse("2026Q3"),
                                      **options)
        kept = list(first.handover_folder.glob("selection_features-*.pickle"))
        assert len(kept) == 1
        monkeypatch.setattr(features, "account_features", None)  # computing again would fail
        second = load_valid(folder)  # the other workbook's kernel
        shared = selection_features(on_engine(second), second, Quarter.parse("2026Q3"),
                                    **options)
    for ours, theirs in zip(computed, shared):
        pd.testing.assert_frame_equal(ours, theirs)
