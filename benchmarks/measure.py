"""Timing and peak memory of one benchmark case, each in a fresh Python process.

What is measured:

- **seconds**: wall-clock time of the timed stages only (``time.perf_counter``), after
  imports and untimed set-up (for example validating the data a case then aggregates);
- **peak memory**: the peak resident set size (Linux ``VmHWM``) of the case's process
  plus that of its child processes (the Java VM for Spark), counted from the start of
  the timed stages: the set-up's peak is reset through ``/proc/self/clear_refs``. It is
  memory actually held in RAM: DuckDB's spill files on disk are not in it.

A case writes its figures as JSON to the file named by its last argument; the parent
(:func:`run_case`) starts it, waits, and reads them back.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


class Measurement:
    """Stage timings and peak memory, collected inside the case's process."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.extra: dict[str, object] = {}

    def start(self) -> None:
        """Forget the set-up's memory peak: from here on the case is measured. What the
        set-up left resident (imports, validated data) is noted as ``start_mb``."""
        _reset_peak()
        self.extra["start_mb"] = _rss_kb() * 1024 / 1e6

    @contextmanager
    def stage(self, name: str):
        clock = time.perf_counter()
        yield
        self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - clock

    def result(self) -> dict:
        return {"seconds": sum(self.stages.values()), "stages": self.stages,
                "peak_mb": peak_mb(), **self.extra}


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux: the peak then includes the set-up
        pass


def _hwm_kb(pid: int | str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"VmHWM:\s+(\d+)", status)
    return int(found.group(1)) if found else 0


def _rss_kb() -> int:
    found = re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text())
    return int(found.group(1)) if found else 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            children = [int(c) for c in task.read_text().split()]
            found += children
            todo += children
    return found


def peak_mb() -> float:
    """Peak resident memory of this process and its children, in MB (10^6 bytes)."""
    pid = os.getpid()
    total_kb = _hwm_kb(pid) + sum(_hwm_kb(child) for child in _descendants(pid))
    return total_kb * 1024 / 1e6


def run_case(case: str, args: dict, timeout: float = 3600) -> dict:
    """Run ``benchmarks.cases.<case>(**args)`` in a fresh process; its measured figures."""
    out = ROOT / "benchmarks" / ".data" / f".result-{os.getpid()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    command = [PYTHON, "-m", "benchmarks.cases", case, json.dumps(args), str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if done.returncode != 0 or not out.is_file():
        return {"error": f"exit code {done.returncode}: {_cause(done.stderr)}"}
    return json.loads(out.read_text())


def _cause(stderr: str) -> str:
    """The error lines worth keeping: the first exception named (a Java stack trace
    puts the cause at the top), every Java "Caused by" (Py4J wraps the real error in
    one) and the last lines."""
    lines = stderr.strip().splitlines()
    named = [line for line in lines if "Exception" in line or "Error" in line][:2]
    causes = [line for line in lines if line.lstrip().startswith("Caused by")]
    return "\n".join(dict.fromkeys([*named, *causes, *lines[-15:]]))


def run_command(command: list[str], timeout: float = 3600) -> dict:
    """Wall-clock seconds of a whole command (for ``kam run`` against its floor)."""
    clock = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - clock
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        return {"error": f"exit code {done.returncode}: {tail}"}
    return {"seconds": seconds}
