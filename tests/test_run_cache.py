"""The run cache (kamlib.data.run_cache): validated data and results shared between
processes working on the same data, computed once, never stale, never half written."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from support import TINY, write_company

from kamlib.data.ready import load_valid
from kamlib.data.run_cache import RunCache


def kernel_view(cache: RunCache) -> RunCache:
    """The cache as a workbook's kernel opens it: from its folder, given as a parameter."""
    return RunCache(str(cache.folder))


def test_without_a_cache_or_before_its_data_is_taken_everything_is_computed(tmp_path):
    folder = write_company(tmp_path / "data")
    cache = RunCache(tmp_path / "cache")
    assert not cache.folder.exists()  # naming a cache writes nothing
    assert load_valid(folder, run_cache=cache).tables["accounts"].shape[0] > 0
    assert not cache.sharing and not cache.folder.exists()
    with cache.staging() as shared:
        assert shared is None


def test_results_are_computed_once_for_everyone_who_took_the_same_data(tmp_path):
    folder = write_company(tmp_path / "data")
    calls = []

    def fit():
        calls.append(1)
        return pd.DataFrame({"clv": [len(calls)]})

    cache = RunCache(tmp_path / "cache")
    cache.keep_validated(folder)
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

class SlowToWrite(int):
    def __reduce__(self):  # pickled as the result is written: killed meanwhile
        with open(sys.argv[3], "a") as log:
            log.write("writing\\n")
        time.sleep(60)
        return int, (int(self),)

def fit():
    with open(sys.argv[3], "a") as log:
        log.write("fitting\\n")
    time.sleep(float(sys.argv[4]))  # the other kernel asks meanwhile, or this one is killed
    return SlowToWrite(42) if sys.argv[5:] == ["slow"] else 42

cache = RunCache(sys.argv[2])
load_valid(Path(sys.argv[1]), run_cache=cache)
print(cache.computed_once("fit", (1,), fit))
"""


def kernel(folder: Path, cache: RunCache, log: Path, seconds: float,
           *how: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", KERNEL, str(folder), str(cache.folder),
                             str(log), str(seconds), *how], stdout=subprocess.PIPE, text=True)


def kill_when_logged(process: subprocess.Popen, log: Path, line: str) -> None:
    deadline = time.monotonic() + 120
    while line not in (log.read_text() if log.exists() else "") \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_workbooks_side_by_side_wait_for_the_first_to_compute(tmp_path):
    """Two kernels of one run ask at the same time: one computes, the other waits."""
    folder = write_company(tmp_path / "data")
    log = tmp_path / "fits.log"
    cache = RunCache(tmp_path / "cache")
    cache.keep_validated(folder)
    kernels = [kernel(folder, cache, log, 1) for _ in range(2)]
    outputs = [k.communicate(timeout=120)[0].strip() for k in kernels]
    assert outputs == ["42", "42"]
    assert log.read_text() == "fitting\n"


def test_a_kernel_killed_while_computing_leaves_nothing_and_the_next_computes(tmp_path):
    folder = write_company(tmp_path / "data")
    log = tmp_path / "fits.log"
    cache = RunCache(tmp_path / "cache")
    cache.keep_validated(folder)
    kill_when_logged(kernel(folder, cache, log, 60), log, "fitting")
    assert not list(cache.folder.glob("fit-*.pickle"))  # no result, not half of one
    after = kernel(folder, cache, log, 0)  # the lock died with the killed kernel
    assert after.communicate(timeout=120)[0].strip() == "42"
    assert len(list(cache.folder.glob("fit-*.pickle"))) == 1
    assert log.read_text() == "fitting\nfitting\n"


def test_a_kernel_killed_while_writing_its_result_leaves_no_part_of_it(tmp_path):
    folder = write_company(tmp_path / "data")
    log = tmp_path / "fits.log"
    cache = RunCache(tmp_path / "cache")
    cache.keep_validated(folder)
    kill_when_logged(kernel(folder, cache, log, 0, "slow"), log, "writing")
    assert not list(cache.folder.glob("fit-*.pickle"))  # at most a hidden .part, never read
    after = kernel(folder, cache, log, 0)
    assert after.communicate(timeout=120)[0].strip() == "42"
    assert log.read_text() == "fitting\nwriting\nfitting\n"
