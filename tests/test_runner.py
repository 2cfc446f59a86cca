"""`kam run` end to end, as analysts and schedulers use it: real papermill, real kernel."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from support import KAM, SAMPLE, TINY, kam, write_company

KERNEL_NOISE = ("[IPKernelApp]", "KeyboardInterrupt", "Executing:")
"""What the kernel process and papermill's tqdm bar used to print on the user's terminal."""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def published(sample_run, tmp_path_factory):
    """A copy of the sample run's reports, for tests that run again into the same folder."""
    out = tmp_path_factory.mktemp("reports")
    shutil.copytree(sample_run.out, out, dirs_exist_ok=True)
    return out, sample_run.result


@pytest.mark.slow
def test_success_publishes_report_notebook_log_and_manifest(sample_run):
    out, result = sample_run.out, sample_run.result
    folder = out / "2026Q3" / "value"
    assert f"value: report for 2026Q3 in {folder}" in result.stdout
    assert sorted(p.name for p in folder.iterdir()) == [
        "account_value.ipynb", "manifest.json", "report.html", "run.log"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "succeeded" and manifest["period"] == "2026Q3"
    inputs = {Path(i["path"]).name: i for i in manifest["inputs"]}
    assert set(inputs) == {p.name for p in SAMPLE.iterdir()}  # every table and the criteria
    assert len(inputs["invoice_lines.csv"]["sha256"]) == 64
    assert inputs["invoice_lines.csv"]["bytes"] == (SAMPLE / "invoice_lines.csv").stat().st_size
    assert manifest["packages"]["papermill"] and manifest["duration_seconds"] > 0
    assert not list(out.glob(".running-*"))


def test_the_manifest_names_the_commit_of_the_checkout_kamlib_runs_from(sample_run):
    """Installed as a package, kamlib names none (tests/test_installed_package.py)."""
    from kamlib.run.runner import NOTEBOOKS

    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                          cwd=NOTEBOOKS.parent)
    if head.returncode:
        pytest.skip("kamlib does not run from a git checkout here")
    manifest = json.loads((sample_run.out / "2026Q3" / "value" / "manifest.json").read_text())
    assert manifest["git_commit"] == head.stdout.strip()


@pytest.mark.slow
def test_quiet_prints_plain_log_lines_and_no_kernel_noise(sample_run):
    out, result = sample_run.out, sample_run.result
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    lines = result.stdout.splitlines()  # the workbooks run side by side: lines interleave
    assert any(re.fullmatch(rf"{stamp} value: started \(Account value\)", line)
               for line in lines)
    finished = next(i for i, line in enumerate(lines) if " value: finished" in line)
    assert re.fullmatch(rf"{stamp} value: finished after \d+ s", lines[finished])
    assert lines[finished + 1].startswith("value: report for 2026Q3")
    assert not any(noise in result.stdout + result.stderr for noise in KERNEL_NOISE)
    assert "━" not in result.stderr  # no progress bar
    # The kernel process's own output is kept, in the run's log.
    assert "Executing notebook with kernel: kam-workbooks" in (
        out / "2026Q3" / "value" / "run.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_has_charts_no_code_and_nothing_from_the_network(sample_run):
    out = sample_run.out
    html = (out / "2026Q3" / "value" / "report.html").read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot") == 7
    assert "av.build(" not in html and "import " not in html.split("<body", 1)[1][:20000]
    assert not re.findall(r'<script[^>]+src="https?://', html)
    assert len(html.encode()) < 8_000_000
    # plotly.js is put into the report once, and is not carried in the executed notebook.
    assert html.count("* plotly.js v") == 1
    notebook = (out / "2026Q3" / "value" / "account_value.ipynb").read_text(encoding="utf-8")
    assert "* plotly.js v" not in notebook and len(notebook.encode()) < 2_000_000


@pytest.mark.slow
def test_reports_are_as_accessible_as_nbconvert_makes_them(sample_run, tmp_path):
    """The report exporter adds nbconvert's keyboard and screen-reader attributes (output
    areas focusable, an alt text on every image) without nbconvert's pass over the page:
    the same tags with the same attributes as nbconvert's own exporter gives."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from kamlib.reports.report_exporter import TEMPLATES, markdown_output, report_exporter

    def marked(html: str) -> list[tuple]:
        tags = BeautifulSoup(html, "html.parser").find_all(["div", "img"])
        return [(t.name, t.get("class"), t.get("tabindex"), t.get("alt")) for t in tags]

    images = tmp_path / "images.ipynb"  # the workbooks show no images: a notebook that does
    nbformat.write(new_notebook(cells=[
        new_markdown_cell("![a described chart](chart.png) and ![](bare.png)"),
        new_code_cell(outputs=[
            new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
            new_output("display_data", data={"text/html": '<img src="a.png"><img\nsrc="b.png"'
                                                          ' alt="kept"><div class="x">y</div>'}),
            new_output("stream", name="stdout", text="printed")])]), images)
    stock = HTMLExporter(template_name="kam_report", extra_template_basedirs=[str(TEMPLATES)],
                         exclude_input=True, exclude_input_prompt=True,
                         exclude_output_prompt=True)
    stock.register_filter("markdown_output", markdown_output)
    for notebook in [*sorted(sample_run.out.glob("2026Q3/*/*.ipynb")), images]:
        ours, theirs = (exporter.from_filename(str(notebook))[0]
                        for exporter in (report_exporter(), stock))
        assert marked(ours) == marked(theirs), notebook.name
        assert 'tabindex="0"' in ours
    assert "No description has been provided for this image" in ours  # images without alt


@pytest.mark.slow
def test_rerun_keeps_the_earlier_report_as_a_dated_version(published, tmp_path):
    """Run without --quiet on a terminal: the live display counts every cell."""
    out, _ = published
    first = json.loads((out / "2026Q3" / "value" / "manifest.json").read_text())
    result = kam("run", "value", "--data", str(SAMPLE), "--out", str(out),
                 env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    display = ANSI.sub("", result.stderr)
    cells = len(json.loads((out / "2026Q3" / "value" / "account_value.ipynb").read_text())
                ["cells"])
    assert re.search(rf"Account value: published\s+━+ {cells}/{cells} ", display), display[-500:]
    assert "Account value: 1. From gross sales to net revenue" in display
    assert re.search(r"Workbooks\s+━+ 1/1 ", display)
    assert not any(noise in display for noise in KERNEL_NOISE)
    versions = sorted(p.name for p in (out / "2026Q3").glob("value*"))
    assert len(versions) == 2 and versions[0] == "value"
    kept = json.loads((out / "2026Q3" / versions[1] / "manifest.json").read_text())
    assert kept["finished"] == first["finished"]


@pytest.mark.slow
def test_bad_parameter_is_refused_before_any_kernel_with_a_suggestion(tmp_path):
    result = kam("run", "value", "--data", str(SAMPLE), "--out", str(tmp_path),
                 "--param", "top_m=3")
    assert result.returncode == 2
    assert "has no parameter 'top_m'. Did you mean 'top_n'?" in result.stderr
    result = kam("run", "value", "--data", str(SAMPLE), "--out", str(tmp_path),
                 "--period", "2026-13")
    assert result.returncode == 2
    assert "period must look like 2026Q3. Got '2026-13'." in result.stderr
    result = kam("run", "selection", "--data", str(SAMPLE), "--out", str(tmp_path),
                 "--param", "criteria_file=no_such_criteria.yml")
    assert result.returncode == 2
    assert "criteria_file must be an existing file. Got 'no_such_criteria.yml'" in result.stderr
    assert not any(tmp_path.iterdir())


BAD_OVERRIDES = {  # kind -> file content, the line named, what the message says
    "a-number": ("42\n", 1,
                 "must be a YAML list of overrides ('- account_id: ...'). Got the value 42"),
    "a-mapping": ("account_id: A0001\naction: add\n", 1, "must be a YAML list of overrides"),
    "a-text-item": ("- A0001\n", 1, "Override 1 (not a mapping)"),
    "no-reason": ("- {account_id: A0002, action: keep, reason: Strategic, approved_by: Board}\n"
                  "- {account_id: A0001, action: add, approved_by: Board}\n", 2,
                  "Override 2 (A0001): reason must say why"),
    "no-approver": ("- {account_id: A0001, action: add, reason: Strategic}\n", 1,
                    "Override 1 (A0001): approved_by must name who approved"),
    "unknown-action": ("- account_id: A0001\n  action: promote\n  reason: Strategic\n"
                       "  approved_by: Board\n", 2,
                       "Override 1 (A0001): action: Input should be 'add', 'keep' or 'remove'"),
    "one-account-twice": (
        "- {account_id: A0001, action: add, reason: Strategic, approved_by: Board}\n"
        "- {account_id: A0001, action: remove, reason: Churned, approved_by: Board}\n", 2,
        "at most one override. Got two or more for account A0001 (overrides 1 and 2)"),
}


@pytest.mark.parametrize("kind", BAD_OVERRIDES)
def test_a_bad_overrides_file_is_refused_before_any_kernel_starts(tmp_path, kind):
    """Before: the overrides file was read only inside the selection's kernel, so a bad
    one failed the run (exit 3) after the data was validated and the notebook started,
    and a file holding 42 ended in a TypeError. Now `kam run all` refuses it with the
    file, the line, the override and the fix (exit 2) before any kernel starts."""
    overrides = tmp_path / "overrides.yml"
    text, line, says = BAD_OVERRIDES[kind]
    overrides.write_text(text)
    process = subprocess.Popen([str(KAM), "run", "all", "--data", str(SAMPLE), "--out",
                                str(tmp_path / "out"), "--quiet", "--param",
                                f"overrides_file={overrides}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    kernels = _kernels_until_done(process)
    stdout, stderr = process.communicate(timeout=60)
    said = " ".join(stderr.split())
    assert process.returncode == 2, stderr
    assert f"overrides_file {overrides}, line {line}: " in said and says in said
    assert "Fix: " in said and "Traceback" not in said and not stdout
    assert not kernels and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_bad_data_is_refused_with_file_row_column(tmp_path):
    bad = write_company(tmp_path / "data", {"invoice_lines.csv": TINY["invoice_lines.csv"]
                                            .replace("2026-03-10", "2026-13-10")})
    result = kam("run", "value", "--data", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "invoice_lines.csv, column 'invoice_date', row 6" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_data_stops_the_kernels_started_while_validating(tmp_path):
    """`kam run all` starts the kernels while it validates: unusable data stops them,
    and nothing is written to the reports folder."""
    bad = write_company(tmp_path / "data", {"invoice_lines.csv": TINY["invoice_lines.csv"]
                                            .replace("2026-03-10", "2026-13-10")})
    process = subprocess.Popen([str(KAM), "run", "all", "--data", str(bad), "--out",
                                str(tmp_path / "out"), "--quiet"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    kernels = _kernels_until_done(process)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "invoice_lines.csv, column 'invoice_date', row 6" in stderr
    assert "Traceback" not in stderr and "started" not in stdout
    assert kernels and _gone(kernels)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_failing_cell_exits_3_keeps_the_notebook_and_earlier_reports(published):
    out, _ = published
    before = {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")}
    result = kam("run", "value", "--data", str(SAMPLE), "--out", str(out), "--quiet",
                 "--param", "focus=NO-SUCH-ACCOUNT")
    assert result.returncode == 3
    assert "workbook 'value' failed in cell" in result.stderr
    assert "focus must be an account or group id" in result.stderr
    assert not any(noise in result.stdout + result.stderr for noise in KERNEL_NOISE)
    kept = re.search(r"kept at (\S+\.ipynb)", result.stderr.replace("\n", ""))
    assert kept and Path(kept[1]).exists()
    assert {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")} == before


@pytest.mark.slow
def test_killed_run_leaves_no_half_written_report_and_the_next_run_clears_up(published):
    out, _ = published
    before = {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")}
    process = subprocess.Popen([str(KAM), "run", "value", "--data", str(SAMPLE), "--out",
                                str(out), "--quiet"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".running-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the kernel is executing cells now
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")} == before
    left = sorted(out.glob(".running-*"))  # the run cache, the work folder
    assert [f.name.split("-")[1] for f in left] == ["cache", "value"]
    assert all(f"-{process.pid}@" in f.name for f in left)

    result = kam("run", "value", "--data", str(SAMPLE), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    for folder in left:
        assert f"Removed {folder.name}, left in {out} by a run that was killed." in result.stdout
    assert not list(out.glob(".running-*"))


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "code", "said"), [
    (signal.SIGTERM, 143, "stopped (SIGTERM) before finishing"),
    (signal.SIGINT, 130, "interrupted (Ctrl-C) before finishing")])
def test_interrupted_run_cleans_up_and_keeps_the_earlier_report(published, stop, code, said):
    """A scheduler stops a task with SIGTERM, a person with Ctrl-C: the run unwinds."""
    out, _ = published
    before = {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")}
    process = subprocess.Popen([str(KAM), "run", "value", "--data", str(SAMPLE), "--out",
                                str(out), "--quiet"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".running-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # the kernel is executing cells now
    process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert said in stderr and "Traceback" not in stderr
    assert "value: failed after" in stdout
    assert not list(out.glob(".running-*"))
    assert {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")} == before


def _kernels(pid: int) -> set[int]:
    """The kernels a run started, from /proc; none once it has ended."""
    try:
        children = {child for task in Path(f"/proc/{pid}/task").iterdir()
                    for child in (task / "children").read_text().split()}
        return {int(c) for c in children
                if b"ipykernel" in Path(f"/proc/{c}/cmdline").read_bytes()}
    except OSError:
        return set()


def _kernels_until_done(process: subprocess.Popen) -> set[int]:
    """Every kernel the run started, watched until it ends."""
    kernels: set[int] = set()
    while process.poll() is None:
        kernels |= _kernels(process.pid)
        time.sleep(0.05)
    return kernels


def _gone(pids: set[int], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not any(Path(f"/proc/{p}").exists() for p in pids)


@pytest.mark.slow
@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_workbooks_side_by_side_all_stop_and_clean_up(published, stop, code):
    """Three kernels at once: a stop reaches every one, and every work folder goes."""
    out, _ = published
    before = {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")}
    process = subprocess.Popen([str(KAM), "run", "all", "--jobs", "3", "--data", str(SAMPLE),
                                "--out", str(out), "--quiet"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob(".running-*"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)  # the run cache and one work folder per workbook
    time.sleep(3)  # the kernels are executing cells now
    kernels = _kernels(process.pid)
    assert len(kernels) == 3
    process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "before finishing" in stderr and "Traceback" not in stderr
    assert sorted(re.findall(r"(\w+): failed after", stdout)) == ["benchmark", "selection",
                                                                  "value"]
    assert _gone(kernels)
    assert not list(out.glob(".running-*"))
    assert {p: p.stat().st_mtime for p in (out / "2026Q3").rglob("*")} == before


@pytest.mark.slow
def test_each_workbook_of_all_is_published_on_its_own_merits(published, tmp_path):
    """Before: the first workbook that failed stopped the others, though they would have
    succeeded, and none of them was published. Here the overrides file (read by the
    selection alone) is complete, but adds an account the data does not have, which
    only the selection can tell once it has the candidates: the selection fails, the
    value and benchmark workbooks are published, and the command says which is which."""
    out, _ = published
    overrides = tmp_path / "overrides.yml"
    overrides.write_text("- {account_id: Z9999, action: add, reason: New partner, "
                         "approved_by: Board}\n")
    selection = {p: p.stat().st_mtime for p in (out / "2026Q3" / "selection").rglob("*")}
    process = subprocess.Popen([str(KAM), "run", "all", "--jobs", "3", "--data", str(SAMPLE),
                                "--out", str(out), "--quiet", "--param",
                                f"overrides_file={overrides}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    kernels = _kernels_until_done(process)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 3, stderr
    said = " ".join(stderr.split())
    assert "1 of 3 workbooks failed; each of the others was published on its own." in said
    assert "workbook 'selection' failed in cell" in said
    assert "Override for account 'Z9999': the account must be a candidate" in said
    kept = re.search(r"kept at (\S+\.ipynb)", said)
    assert kept and Path(kept[1]).exists()
    for name in ("value", "benchmark"):
        assert f"{name}: report for 2026Q3 in {out / '2026Q3' / name}" in stdout
        assert f"{name} ({out / '2026Q3' / name})" in said
        assert len(list((out / "2026Q3").glob(f"{name}.*"))) >= 1  # the earlier one, dated
    assert "Traceback" not in stderr
    assert {p: p.stat().st_mtime for p in (out / "2026Q3" / "selection").rglob("*")} == selection
    assert len(kernels) == 3 and _gone(kernels)
    assert not list(out.glob(".running-*"))


def test_only_work_folders_of_dead_or_old_runs_are_cleared(tmp_path):
    from kamlib.run.publishing import clear_stale_work

    finished = subprocess.Popen(["true"])
    finished.wait()
    host = socket.gethostname()
    folders = {name: tmp_path / name for name in (
        f".running-value-{finished.pid}@{host}-dead1", f".running-value-{os.getpid()}@{host}-live1",
        f".running-value-{finished.pid}@elsewhere-recent1", ".running-value-1@elsewhere-old1",
        ".running-value-olderkam1", ".running-value-olderkam2", "2026Q3/value")}
    for folder in folders.values():
        folder.mkdir(parents=True)
        (folder / "report.html").write_text("<html></html>")
    three_days_ago = time.time() - 3 * 24 * 3600
    for name in (".running-value-1@elsewhere-old1", ".running-value-olderkam2"):
        os.utime(folders[name], (three_days_ago, three_days_ago))
    (tmp_path / ".running-a-file").write_text("not a folder")
    (tmp_path / ".running-link").symlink_to(folders["2026Q3/value"])

    removed = {p.name for p in clear_stale_work(tmp_path)}
    assert removed == {f".running-value-{finished.pid}@{host}-dead1",
                       ".running-value-1@elsewhere-old1", ".running-value-olderkam2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        ".running-a-file", ".running-link", f".running-value-{os.getpid()}@{host}-live1",
        f".running-value-{finished.pid}@elsewhere-recent1", ".running-value-olderkam1",
        "2026Q3"])
    assert (folders["2026Q3/value"] / "report.html").exists()


@pytest.mark.parametrize("name", ["value", "selection", "benchmark"])
def test_parameters_cells_match_the_workbook_models(name):
    """The notebook's parameters cell declares exactly the fields of its pydantic model."""
    import ast

    import nbformat

    from kamlib.run import runner

    workbook = runner.WORKBOOKS[name]
    notebook = nbformat.read(runner.NOTEBOOKS / workbook.notebook, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    declared = [t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                for t in node.targets]
    assert declared == list(workbook.parameters.model_fields)
    defaults = workbook.parameters()
    namespace: dict = {}
    exec(cell.source, namespace)
    assert {k: namespace[k] for k in declared} == defaults.model_dump()


@pytest.mark.slow
def test_relative_paths_reach_the_kernel_absolute(tmp_path):
    """Before: a Parquet company given as a relative --data failed in the kernel (it
    runs in notebooks/) with "No files found ... notebooks/data/invoice_lines.parquet"."""
    made = kam("sample", "--out", "company", "--accounts", "60", "--years", "2",
               "--format", "parquet", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert list((tmp_path / "company").glob("*.parquet"))
    result = kam("run", "value", "--data", "company", "--out", "reports", "--quiet",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "reports" / "2026Q3" / "value"
    assert (folder / "report.html").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"]["data_dir"] == str((tmp_path / "company").resolve())


def test_when_every_workbook_failed_the_message_does_not_speak_of_others(tmp_path):
    from kamlib.errors import RunError, WorkbooksFailed

    failed = [RunError(name, "3", "ValueError: no history", tmp_path / f"{name}.ipynb")
              for name in ("value", "selection")]
    message = str(WorkbooksFailed(failed, []))
    assert message.startswith("2 of 2 workbooks failed.\n")
    assert "each of the others" not in message
    assert message.endswith("No workbook was published.")
