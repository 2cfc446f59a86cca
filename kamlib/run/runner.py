"""Run workbooks and publish their reports: validated parameters, papermill, safe publishing.

A run, in order: parameters are checked against each workbook's pydantic model
(before any kernel starts); the data is validated once, as ``kam validate`` does, into a
run cache (:func:`kamlib.run.cache.run_cache`) whose folder each notebook gets as its
``run_cache`` parameter; each notebook runs with papermill in a work folder next to the
reports (``.running-<workbook>-<pid>@<host>-<random>``); the HTML report (no code, charts
offline; :func:`kamlib.reports.report_exporter.render_html`), the executed notebook,
``run.log`` and, last, ``manifest.json`` (:mod:`kamlib.run.manifest`) are written there;
only then the folder is moved to ``<out>/<period>/<workbook>/`` in one rename,
under a lock of that report (see :func:`kamlib.run.publishing.publish`). Several
workbooks run one after the other or, with ``jobs`` above 1, side by side in threads
(:mod:`kamlib.run.side_by_side`; each waits on its own kernel process). An
earlier report of the same period is kept as ``<workbook>.<its finish time>``; a failed
or interrupted run leaves the published reports untouched, and the next run publishes
the complete reports that runs killed while publishing left behind, and removes their
other work folders (see :func:`recover_publishing`, :func:`clear_stale_work`). With
``all``, each workbook is published on its own merits.
"""

from __future__ import annotations

import difflib
import errno
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ValidationError

from kamlib.data.mapping import read_mapping
from kamlib.data.periods import Quarter
from kamlib.data.ready import reporting_quarter
from kamlib.data.run_cache import RunCache
from kamlib.errors import ParameterError, RunError, SetupError, WorkbooksFailed
from kamlib.run.cache import run_cache
from kamlib.run.kernels import KernelPool, Lease, StartedKernel
from kamlib.run.manifest import write_manifest
from kamlib.run.progress import RunProgress
from kamlib.run.publishing import (
    clear_stale_work,
    publish,
    recover_publishing,
    work_prefix,
)
from kamlib.run.side_by_side import SideBySide
from kamlib.run.workbook_kernel import KERNEL, WorkbookKernelManager, kernel_folder
from kamlib.workbooks.parameters import (
    AccountValueParameters,
    BenchmarkParameters,
    SelectionParameters,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"  # package data
CELL_TIMEOUT = 1800
"""Seconds a single cell may run before the run fails (papermill has no limit by default)."""

@dataclass(frozen=True)
class Workbook:
    name: str
    notebook: str
    title: str
    parameters: type[BaseModel]
    module: str
    """The kamlib module behind the notebook: a kernel started early imports it."""


WORKBOOKS: dict[str, Workbook] = {
    "value": Workbook("value", "account_value.ipynb", "Account value", AccountValueParameters,
                      "kamlib.workbooks.account_value"),
    "selection": Workbook("selection", "key_account_selection.ipynb", "Key account selection",
                          SelectionParameters, "kamlib.workbooks.selection"),
    "benchmark": Workbook("benchmark", "kam_benchmark.ipynb", "Quarterly KAM benchmark",
                          BenchmarkParameters, "kamlib.workbooks.benchmark"),
}


@dataclass
class RunResult:
    workbook: str
    period: str
    folder: Path
    seconds: float


def workbook_parameters(workbook: Workbook, given: dict[str, str]) -> BaseModel:
    """Check text parameters (from --param or --data) against the workbook's model."""
    fields = workbook.parameters.model_fields
    _known(given, fields, f"workbook '{workbook.name}' has no", f"Its parameters: "
           f"{', '.join(fields)}.")
    try:
        return workbook.parameters.model_validate(_input_files(given))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ParameterError(f"{'.'.join(map(str, first['loc']))} {first['msg'].lower()}. "
                             f"Got {first.get('input')!r}.") from None


def _input_files(given: dict[str, str]) -> dict[str, str]:
    """Input files (``*_file`` parameters and the mapping) made absolute, as the kernel runs
    in a folder of its own, and checked to exist before any kernel starts; the mapping is
    read and checked too, as ``--mapping`` is: what it may run or read is refused here; and
    so is the overrides file (a list of complete overrides, one per account)."""
    resolved = dict(given)
    for name, value in given.items():
        if (name.endswith("_file") or name == "mapping") and value not in (None, ""):
            path = Path(value).expanduser().resolve()
            if not path.is_file():
                raise ParameterError(f"{name} must be an existing file. Got '{value}' "
                                     f"(looked for {path}).")
            if name == "mapping":
                read_mapping(path)  # raises MappingError naming the file and line
            if name == "overrides_file":
                # Imported here: kamlib.selection.overrides brings ibis, which only this check needs.
                from kamlib.selection.overrides import read_overrides_file

                read_overrides_file(path)  # raises OverrideError naming the file and line
            resolved[name] = str(path)
    return resolved


def parse_params(pairs: list[str]) -> dict[str, str]:
    """'key=value' strings into a dict; values stay text (an account '00123' stays '00123')."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param must look like key=value. Got '{pair}'.")
        params[key.strip()] = value
    return params


def run(name: str, *, data: Path, out: Path, mapping: Path | None = None,
        period: str | None = None, engine: str | None = None,
        params: dict[str, str] | None = None, progress: RunProgress | None = None,
        quiet: bool = False) -> RunResult:
    """Run one workbook end to end and publish it; raises KamError subclasses on failure.

    progress: told about the workbook and each cell (see kamlib.run.progress); None or
    quiet=True shows nothing.
    """
    with closing(run_workbooks([name], data=data, out=out, mapping=mapping, period=period,
                               engine=engine, params=params, progress=progress,
                               quiet=quiet)) as results:
        return next(results)


def run_workbooks(names: list[str], *, data: Path, out: Path, mapping: Path | None = None,
                  period: str | None = None, engine: str | None = None,
                  params: dict[str, str] | None = None, progress: RunProgress | None = None,
                  quiet: bool = False, jobs: int = 1) -> Iterator[RunResult]:
    """Run workbooks, yielding each result as it is published.

    Every workbook's parameters are checked before anything starts, and the data is
    validated before any notebook runs (several workbooks' kernels start meanwhile); it is
    validated once into a run cache given to every workbook (kamlib.run.cache). With several
    workbooks, a parameter goes to the workbooks that have it and must belong to at least
    one. Up to ``jobs`` notebooks run side by side, each kernel taking the next workbook
    as soon as its notebook has run (kamlib.run.kernels). Each workbook is published on its
    own merits: one that fails while running does not stop the others, and once all have
    ended :class:`WorkbooksFailed` lists those that failed, and why, and those published.
    Anything else (an interrupt, a reports folder that cannot be written) stops those
    still running (they are not published).
    """
    if jobs < 1:
        raise ParameterError(f"jobs must be 1 or more. Got {jobs}.")
    workbooks = [_workbook(name) for name in names]
    # Every path made absolute once, here, before any kernel starts: the kernels run in a
    # folder of their own, and the data in the run cache names its files by these paths.
    data, out = data.expanduser().resolve(), out.expanduser().resolve()
    mapping = mapping.expanduser().resolve() if mapping else None
    given = {**(params or {}), "data_dir": str(data)}
    if mapping:
        if given.get("mapping"):
            raise ParameterError("the mapping is given twice, by --mapping and by --param "
                                 "mapping=. Give it once.")
        given["mapping"] = str(mapping)
    if engine:
        given["engine"] = engine
    if period:
        given["period"] = str(Quarter.parse(period))
    runs = list(zip(workbooks, [workbook_parameters(w, _own(w, given, workbooks))
                                for w in workbooks]))
    # --mapping and --param mapping= alike: the checked, absolute path validates the data.
    mapping = Path(runs[0][1].mapping) if runs[0][1].mapping else None
    shown = RunProgress() if quiet or progress is None else progress
    with _machine_problems(out):
        _check_writable(out)
        _recover(out, shown)  # before validation: unusable data must not leave it stuck
        if len(runs) > 1:
            yield from _side_by_side(runs, jobs, data, mapping, period, out, shown)
            return
        with run_cache(data, mapping, beside=out,
                       prefix=work_prefix("cache")) as (dataset, cache):
            quarter = str(reporting_quarter(dataset, period))
            for workbook, parameters in runs:
                yield _execute(workbook, _for_run(parameters, quarter, cache), quarter, out,
                               shown)


def _for_run(parameters: BaseModel, quarter: str, cache: RunCache) -> BaseModel:
    """The workbook's parameters with the run's quarter and run cache."""
    return parameters.model_copy(update={"period": quarter, "run_cache": str(cache.folder)})


UNWRITABLE = {errno.EROFS: "a read-only file system", errno.EACCES: "permission denied",
              errno.EPERM: "permission denied"}
FULL = {errno.ENOSPC: "no space left on the disk", errno.EDQUOT: "the disk quota is used up"}


@contextmanager
def _machine_problems(out: Path) -> Iterator[None]:
    """A reports folder that cannot be written or is full: said as SetupError, with the
    path and the fix, not as an internal error."""
    try:
        yield
    except OSError as exc:
        where = Path(exc.filename) if exc.filename else out
        concerns_out = where == out or out in where.parents or where in out.parents
        if exc.errno in FULL and (concerns_out or not exc.filename):
            writing = f"writing {where}" if exc.filename else "writing into it"
            raise SetupError(
                f"{FULL[exc.errno]} holding the reports folder {out} ({writing}). "
                "Fix: free space there (a report takes a few MB, the run cache shared by "
                "the workbooks as much as the data) or give --out a folder on another disk; "
                "the reports already there are untouched.") from None
        if exc.errno in FULL:
            raise SetupError(f"{FULL[exc.errno]} writing {where}. Fix: free space on that "
                             "disk; the reports already published are untouched.") from None
        if exc.errno in UNWRITABLE and concerns_out:
            raise _unwritable(out, f"{UNWRITABLE[exc.errno]} writing {where}") from None
        raise


def _check_writable(out: Path) -> None:
    """Before anything runs: the reports folder, or the folder it will be made in, can be
    written by this user (os.access also says no on a read-only file system, even to root)."""
    existing = next(folder for folder in (out, *out.parents) if folder.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        reason = "a read-only file system" if _read_only(existing) else "permission denied"
        raise _unwritable(out, f"{reason} for {existing}")


def _read_only(folder: Path) -> bool:
    return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)


def _unwritable(out: Path, why: str) -> SetupError:
    return SetupError(f"the reports folder {out} cannot be written ({why}). Fix: give --out "
                      "a folder this user can write to, or make this one writable; the "
                      "reports already there are untouched.")


def _side_by_side(runs: list[tuple[Workbook, BaseModel]], jobs: int, data: Path,
                  mapping: Path | None, period: str | None, out: Path,
                  progress: RunProgress) -> Iterator[RunResult]:
    """The workbooks side by side, their kernels started while the data is validated."""
    validated = _Validated()
    # A thread for each workbook, a kernel for at most `jobs`: a workbook writes its
    # report while its kernel runs the next notebook.
    tasks = SideBySide(len(runs))
    kernels = KernelPool(KERNEL, kernel_folder(), jobs)

    def start_kernels() -> None:
        for workbook, parameters in runs:
            tasks.submit(lambda w=workbook, p=parameters: _when_validated(w, p, validated,
                                                                          kernels, out,
                                                                          progress))

    try:
        start_kernels()  # they start while the data is validated
        with run_cache(data, mapping, beside=out,
                       prefix=work_prefix("cache")) as (dataset, cache):
            validated.set(str(reporting_quarter(dataset, period)), cache)
            failed, published = [], []
            for result in tasks.results():
                if isinstance(result, RunError):
                    failed.append(result)
                else:
                    published.append(f"{result.workbook} ({result.folder})")
                    yield result
            if failed:
                raise WorkbooksFailed(failed, published)
    except BaseException:
        tasks.stop()  # the data was unusable, or the run was stopped: so are the kernels
        raise
    finally:
        kernels.close()


class _Validated:
    """The reporting quarter and the run cache, once the data has been validated."""

    def __init__(self):
        self.event = threading.Event()
        self.quarter = ""
        self.cache: RunCache | None = None

    def set(self, quarter: str, cache: RunCache) -> None:
        self.quarter, self.cache = quarter, cache
        self.event.set()

    def wait(self) -> tuple[str, RunCache]:
        while not self.event.wait(0.1):  # short waits: SideBySide.stop() interrupts between
            pass
        return self.quarter, self.cache


def _when_validated(workbook: Workbook, parameters: BaseModel, validated: _Validated,
                    kernels: KernelPool, out: Path, progress: RunProgress
                    ) -> RunResult | RunError:
    """The workbook's result, or how it failed while running: returned, not raised, so
    that the workbooks beside it go on (raised, it would stop them)."""
    lease = kernels.lease([workbook.module, "kamlib.reports.charts"])
    try:
        quarter, cache = validated.wait()
        return _execute(workbook, _for_run(parameters, quarter, cache), quarter, out, progress,
                        lease)
    except RunError as failed:
        lease.discard()  # the kernel is left as the failed cell left it
        return failed
    except BaseException:
        lease.discard()  # failed or stopped: the kernel may be mid-cell
        raise


def _recover(out: Path, progress: RunProgress) -> None:
    """Publish the complete reports that runs killed while publishing left in ``out``,
    then remove their other work folders: first thing once ``out`` is known to be
    writable, so that even a run whose data then turns out unusable restores them."""
    if not out.is_dir():
        return
    for report in recover_publishing(out, WORKBOOKS):  # before clearing: they are work folders
        progress.note(f"Published {report}, the complete report of a run killed while it "
                      "published it.")
    for stale in clear_stale_work(out):
        progress.note(f"Removed {stale.name}, left in {out} by a run that was killed.")


def _known(given: dict[str, str], fields, who: str, listed: str) -> None:
    for name in given:
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(f"{who} parameter '{name}'.{hint} {listed}")


def _own(workbook: Workbook, given: dict[str, str], workbooks: list[Workbook]) -> dict[str, str]:
    """The parameters of ``given`` this workbook has, when it runs with others; each must
    belong to one of them."""
    if len(workbooks) == 1:
        return given
    fields = list(dict.fromkeys(f for w in workbooks for f in w.parameters.model_fields))
    _known(given, fields, "no workbook has a", f"Their parameters: "
           f"{', '.join(fields)}.")
    return {k: v for k, v in given.items() if k in workbook.parameters.model_fields}


def _workbook(name: str) -> Workbook:
    if name not in WORKBOOKS:
        raise ParameterError(f"workbook must be one of {', '.join(WORKBOOKS)}. Got '{name}'.")
    return WORKBOOKS[name]


def _execute(workbook: Workbook, params: BaseModel, period: str, out: Path,
             progress: RunProgress, lease: Lease | None = None) -> RunResult:
    work = Path(tempfile.mkdtemp(prefix=work_prefix(workbook.name), dir=out))
    started, clock = datetime.now(timezone.utc), time.monotonic()
    executed = work / workbook.notebook
    parameters = params.model_dump()
    if "output_dir" in parameters:  # exports land in the report folder
        parameters["output_dir"] = str(work)
    progress.workbook_started(workbook.name, workbook.title)
    try:
        _papermill(workbook, parameters, executed, work / "run.log", progress,
                   lease.kernel if lease else None)
        if lease:
            lease.give_back()  # the next workbook's notebook runs while this report is written
        progress.stage(workbook.name, "writing the report")
        # Imported here, when the first workbook has run, not before the data is validated.
        from kamlib.reports.report_exporter import render_html

        (work / "report.html").write_text(render_html(executed), encoding="utf-8")
        seconds = time.monotonic() - clock
        write_manifest(work, workbook, params, period, started, seconds)
        folder = publish(work, out / period / workbook.name)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        progress.workbook_finished(workbook.name, time.monotonic() - clock, ok=False)
        raise
    progress.workbook_finished(workbook.name, seconds, ok=True)
    return RunResult(workbook.name, period, folder, seconds)


def _papermill(workbook: Workbook, parameters: dict, executed: Path, log: Path,
               progress: RunProgress, kernel: StartedKernel | None = None) -> None:
    """Execute the notebook in ``kernel`` if one was started for it (whoever started it
    shuts it down), else in a new one."""
    # Imported here: papermill is most of a second the kernels need not wait for.
    import papermill as pm

    from kamlib.run.notebook_engine import ENGINE

    handler = logging.FileHandler(log, encoding="utf-8")
    # The logger is papermill's, shared by workbooks running side by side: this log
    # takes the records of the thread running this workbook.
    thread = threading.get_ident()
    handler.addFilter(lambda record: record.thread == thread)
    logger = logging.getLogger("papermill")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # Append mode on both sides: the kernel process writes to run.log through its own
    # file descriptor while papermill's logger writes cell output through another.
    kernel_log = log.open("a", encoding="utf-8")
    given = ({"km": kernel.manager} if kernel else
             {"kernel_log": kernel_log, "kernel_manager_class": WorkbookKernelManager})
    try:
        pm.execute_notebook(NOTEBOOKS / workbook.notebook, executed, parameters=parameters,
                            engine_name=ENGINE, kernel_name=KERNEL, cwd=str(kernel_folder()),
                            log_output=True, execution_timeout=CELL_TIMEOUT,
                            progress_bar=False, progress=progress, workbook=workbook.name,
                            **given)
    except pm.PapermillExecutionError as exc:
        kept = _keep_failed(executed, workbook.name)
        raise RunError(workbook.name, str(exc.exec_count), f"{exc.ename}: {exc.evalue}",
                       kept) from None
    finally:
        logger.removeHandler(handler)
        handler.close()
        if kernel:
            kernel.log_output(kernel_log)
        kernel_log.close()


def _keep_failed(executed: Path, name: str) -> Path:
    failed = executed.parent.parent / "failed"
    failed.mkdir(exist_ok=True)
    kept = failed / f"{name}-{datetime.now():%Y%m%dT%H%M%S}.ipynb"
    shutil.copy2(executed, kept)
    return kept
