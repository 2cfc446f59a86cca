"""Tasks side by side: results as they finish, and one failure or an interrupt stops all."""

from __future__ import annotations

import threading
import time

import pytest

from kamlib.run.side_by_side import SideBySide


def _until_stopped(seen: list[str], name: str, started: threading.Event) -> None:
    """A long task, like a cell that computes for minutes, that records how it ended."""
    started.set()
    try:
        while True:
            time.sleep(0.01)
    except KeyboardInterrupt:
        seen.append(f"{name} interrupted")
        raise


def test_results_come_as_tasks_finish():
    tasks = SideBySide(jobs=2)
    tasks.submit(lambda: (time.sleep(0.3), "slow")[1])
    tasks.submit(lambda: "quick")
    assert list(tasks.results()) == ["quick", "slow"]


def test_jobs_bounds_how_many_run_at_once():
    running, most = [], []
    lock = threading.Lock()

    def task():
        with lock:
            running.append(1)
            most.append(len(running))
        time.sleep(0.1)
        with lock:
            running.pop()

    tasks = SideBySide(jobs=2)
    for _ in range(5):
        tasks.submit(task)
    list(tasks.results())
    assert max(most) == 2


def test_a_failure_stops_the_running_tasks_and_the_waiting_ones_never_start():
    seen, started = [], threading.Event()
    tasks = SideBySide(jobs=2)
    tasks.submit(lambda: _until_stopped(seen, "long", started))

    def fails():
        started.wait(5)
        raise ValueError("cell 4 failed")

    tasks.submit(fails)
    tasks.submit(lambda: seen.append("third started"))  # waits for a free thread
    with pytest.raises(ValueError, match="cell 4 failed"):
        list(tasks.results())
    assert seen == ["long interrupted"]
    assert not any(t.name.startswith("kam-workbook") for t in threading.enumerate())


def test_closing_early_stops_the_others_before_it_returns():
    """The runner's caller closes the results on Ctrl-C or SIGTERM while it is printing."""
    seen, started = [], threading.Event()
    tasks = SideBySide(jobs=2)
    tasks.submit(lambda: "first")
    tasks.submit(lambda: _until_stopped(seen, "long", started))
    results = tasks.results()
    assert next(results) == "first"
    started.wait(5)
    results.close()
    assert seen == ["long interrupted"]
