"""Publishing a report: runs at once into one reports folder, and runs killed at any
instant while they publish, never leave the folder stuck and never lose a report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from support import KAM, SAMPLE, TINY, kam, write_company

CHILD = r"""
import json, os, signal, sys, tempfile
from datetime import datetime, timezone
from pathlib import Path
from kamlib.run import manifest, publishing, runner

out, stop_at, data = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
work = Path(tempfile.mkdtemp(prefix=publishing.work_prefix("value"), dir=out))  # as a run does
(work / "report.html").write_text("C")
print(work, flush=True)

CHANGES = {"os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod",
           "os.link", "os.symlink", "shutil.rmtree", "fcntl.flock"}
WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
steps = []

def kill_at_step(event, args):
    if event in CHANGES or (event == "open" and args[2] & WRITES):
        steps.append(event)
        if len(steps) == stop_at:
            os.kill(os.getpid(), signal.SIGKILL)

sys.addaudithook(kill_at_step)
workbook = runner.WORKBOOKS["value"]
manifest.write_manifest(work, workbook, workbook.parameters(data_dir=data), "2026Q3",
                        datetime.now(timezone.utc), 1.0)
publishing.publish(work, out / "2026Q3" / "value")
print(json.dumps(steps), flush=True)
"""
"""Writes report C's manifest, the last step of a run, then publishes it, as _execute
does; killed just before its change number ``stop_at`` to the file system."""


def _publish_in_child(out: Path, stop_at: int, data: Path) -> subprocess.CompletedProcess:
    """CHILD publishing report C into ``out``, killed before step ``stop_at`` (0: never)."""
    return subprocess.run([sys.executable, "-c", CHILD, str(out), str(stop_at), str(data)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def _work_folder(out: Path) -> Path:
    """A work folder as a run makes it (named with this process, which is alive)."""
    from kamlib.run.publishing import work_prefix

    return Path(tempfile.mkdtemp(prefix=work_prefix("value"), dir=out))


def _report(folder: Path, name: str, finished: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.html").write_text(name)
    (folder / "manifest.json").write_text(json.dumps({"finished": finished}))


def _before(out: Path) -> None:
    """Report B current, report A dated; both finished in the same second, long ago."""
    _report(out / "2026Q3" / "value.2001-10-05T06-30-00", "A", "2001-10-05T06:30:00+00:00")
    _report(out / "2026Q3" / "value", "B", "2001-10-05T06:30:00.5+00:00")


def _reports(out: Path) -> dict[str, str]:
    """Each report folder of the period, by name, with the report it holds."""
    return {p.name: (p / "report.html").read_text() for p in (out / "2026Q3").iterdir()
            if not p.name.startswith(".")}


def test_a_kill_at_any_step_of_publishing_is_completed_by_the_next_run(company, tmp_path):
    """A real SIGKILL before each step of publish, then what the next run does first.

    A child Python process writes the manifest of a finished report C (a run's last step
    before publishing) and publishes C onto a folder holding the current report B and
    the dated report A, which finished in the same second as B (their dated names
    collide). The child kills itself with SIGKILL just before its k-th change to the
    file system, seen through Python's audit hooks (every rename, removal, folder made,
    lock taken or released, file opened for writing raises an audit event before it
    happens): the product has no code for the test. Between two changes the folder does
    not change, so a kill before each change, for every k, reaches every state a kill at
    any instant can leave. After each kill the test does what the next ``kam run`` does
    before it runs anything (:func:`recover_publishing`, then :func:`clear_stale_work`)
    and publishes a report D as that run would. Afterwards C is current if its manifest
    was complete (B and A dated), B otherwise (C was not finished: nothing published is
    lost); after D, D is current and every other report is kept, dated.
    """
    from kamlib.run.publishing import clear_stale_work, publish, recover_publishing

    counted = tmp_path / "counted"
    _before(counted)
    steps = json.loads(_publish_in_child(counted, 0, company).stdout.splitlines()[-1])
    assert steps.count("os.rename") == 3  # the manifest's, then the two reports'
    manifest_complete = steps.index("os.rename") + 1  # a kill at a later step leaves it
    for step in range(1, len(steps) + 2):
        out = tmp_path / f"kill-at-{step}"
        _before(out)
        child = _publish_in_child(out, step, company)
        assert child.returncode == (-signal.SIGKILL if step <= len(steps) else 0), child.stderr
        work = Path(child.stdout.split()[0])

        recover_publishing(out, ("value",))
        clear_stale_work(out)
        reports = _reports(out)
        expected = "C" if step > manifest_complete else "B"
        assert reports.pop("value") == expected, f"killed before step {step}"
        assert sorted(reports.values()) == (["A", "B"] if expected == "C" else ["A"])
        assert not work.exists() and not list(out.glob(".running-*"))

        d = _work_folder(out)
        _report(d, "D", "2999-01-01T00:00:00+00:00")
        publish(d, out / "2026Q3" / "value")
        reports = _reports(out)
        assert reports.pop("value") == "D"
        assert sorted(reports.values()) == (["A", "B", "C"] if step > manifest_complete
                                            else ["A", "B"]), f"killed before step {step}"


def _killed_between_the_renames(tmp_path: Path, company: Path) -> Path:
    """A reports folder where report C's publish was killed between the current report's
    rename to its dated name and C's rename into place: no current report at all."""
    out = tmp_path / "out"
    _before(out)
    counted = tmp_path / "counted"
    _before(counted)
    steps = json.loads(_publish_in_child(counted, 0, company).stdout.splitlines()[-1])
    last_rename = len(steps) - steps[::-1].index("os.rename")  # the new report into place
    assert _publish_in_child(out, last_rename, company).returncode == -signal.SIGKILL
    assert "value" not in _reports(out)  # the state the issue found stuck
    return out


@pytest.mark.slow
def test_a_run_after_a_kill_between_the_two_renames_publishes_the_killed_report(company,
                                                                                tmp_path):
    """The real next run: after a kill between the current report's rename to its dated
    name and the new one's rename into place (no current report at that instant), `kam
    run` completes the killed publish first, then publishes its own."""
    out = _killed_between_the_renames(tmp_path, company)

    result = kam("run", "value", "--data", str(SAMPLE), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert (f"Published {out / '2026Q3' / 'value'}, the complete report of a run killed "
            "while it published it.") in result.stdout
    reports = _reports(out)
    assert "<html" in reports.pop("value")
    assert sorted(reports.values()) == ["A", "B", "C"]
    assert not list(out.glob(".running-*"))


def test_a_run_whose_data_is_unusable_still_restores_the_report_a_kill_left(company,
                                                                          tmp_path):
    """Before: the next run completed a killed publish only once its data validated, so
    a run on unusable data (exit 1) left the folder without a current report. Now the
    run recovers first, as soon as it knows the reports folder can be written."""
    out = _killed_between_the_renames(tmp_path, company)
    broken = tmp_path / "broken"
    write_company(broken, {"invoice_lines.csv": TINY["invoice_lines.csv"].replace(
        "2026-02-03", "2026-02-31")})

    result = kam("run", "value", "--data", str(broken), "--out", str(out), "--quiet")
    assert result.returncode == 1, result.stderr
    assert "invoice_date" in result.stderr and "Traceback" not in result.stderr
    assert (f"Published {out / '2026Q3' / 'value'}, the complete report of a run killed "
            "while it published it.") in result.stdout
    reports = _reports(out)
    assert reports.pop("value") == "C"
    assert sorted(reports.values()) == ["A", "B"]
    assert not list(out.glob(".running-*"))


@pytest.mark.slow
def test_two_runs_at_once_into_one_folder_both_publish(tmp_path):
    """Two schedulers start the same workbook into one reports folder at once: both
    publish, one report is current and the other is kept dated."""
    out = tmp_path / "out"
    runs = [subprocess.Popen([str(KAM), "run", "value", "--data", str(SAMPLE), "--out",
                              str(out), "--quiet"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for run in runs:
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr
        assert f"value: report for 2026Q3 in {out / '2026Q3' / 'value'}" in stdout
    folders = sorted(p.name for p in (out / "2026Q3").iterdir() if not p.name.startswith("."))
    assert len(folders) == 2 and folders[0] == "value" and folders[1].startswith("value.")
    for folder in folders:
        assert (out / "2026Q3" / folder / "report.html").exists()
    assert not list(out.glob(".running-*"))


def test_same_second_reports_get_distinct_dated_names(tmp_path):
    """Before: the third report finishing in the same second as the second renamed onto
    the second's dated folder, and every later run failed (Directory not empty)."""
    from kamlib.run.publishing import publish

    out = tmp_path / "out"
    _before(out)
    for name in "CD":
        work = _work_folder(out)
        _report(work, name, "2001-10-05T06:30:00+00:00")
        publish(work, out / "2026Q3" / "value")
    assert _reports(out) == {"value": "D", "value.2001-10-05T06-30-00": "A",
                             "value.2001-10-05T06-30-00-2": "B",
                             "value.2001-10-05T06-30-00-3": "C"}
