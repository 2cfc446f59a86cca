"""The `kam` command line: a thin layer over kamlib for people and schedulers.

Exit codes a scheduler can act on: 0 success; 1 the data is unusable (the
problems are listed); 2 a usage or set-up error (bad option, missing path, invalid
mapping or parameter; a reports folder that cannot be written or is on a full disk: the
message names the path and the fix); 3 a workbook
failed while running (the failed notebook is kept; with several, the others are
published); 4 an unexpected internal error (please report it with the log); 130 interrupted
(Ctrl-C) and 143 stopped (SIGTERM, as schedulers stop a task), both after cleaning up.
"""

from __future__ import annotations

import os
import signal
from contextlib import closing, contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from kamlib import __version__
from kamlib.errors import DataError, KamError, Problem, RunError
from kamlib.words.catalogue import _
from kamlib.words.formats import number

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_RUN, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_STOPPED = 128 + signal.SIGINT, 128 + signal.SIGTERM

app = typer.Typer(
    name="kam",
    help="KAM Workbooks: key account management on evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DataOption = Annotated[Path, typer.Option("--data", help="Folder holding the input tables.",
                                          show_default=False)]
MappingOption = Annotated[Path | None, typer.Option(
    "--mapping", help="Column-mapping file (YAML) for an ERP export.", show_default=False)]


def _version(value: bool) -> None:
    if value:
        out.print(f"kam {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """KAM Workbooks: key account management on evidence."""


def _fail(message: str, code: int) -> None:
    err.print(f"[bold red]{_('Error:')}[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


class Stopped(BaseException):
    """SIGTERM arrived. Python's default is to die at once, leaving a work folder and
    a kernel behind; raised instead, it unwinds the run like Ctrl-C does."""


def _raise_stopped(signum, frame) -> None:
    raise Stopped()


def _guarded(action):
    """Run an action; user-fixable problems print a message, never a traceback."""
    try:
        return action()
    except Stopped:
        _fail(_("stopped (SIGTERM) before finishing; a workbook still running was not "
                "published, and published reports are untouched."), EXIT_STOPPED)
    except KeyboardInterrupt:
        _fail(_("interrupted (Ctrl-C) before finishing; a workbook still running was not "
                "published, and published reports are untouched."), EXIT_INTERRUPTED)
    except DataError as exc:
        _print_problems(_("Errors"), [p for p in exc.problems if p.severity == "error"], "red")
        _fail(_("the data cannot be used until these errors are fixed (see kam validate)."),
              EXIT_DATA)
    except RunError as exc:
        _fail(str(exc), EXIT_RUN)
    except KamError as exc:
        _fail(str(exc), EXIT_USAGE)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # last resort: a short message, the traceback only on request
        if os.environ.get("KAM_DEBUG"):
            raise
        _fail(_("unexpected internal error ({kind}: {error}). Set KAM_DEBUG=1 to see the "
                "traceback and please report it.").format(kind=type(exc).__name__, error=exc),
              EXIT_INTERNAL)


@app.command()
def validate(
    data: DataOption,
    mapping: MappingOption = None,
    today: Annotated[str | None, typer.Option(
        help="Validate as of this date (YYYY-MM-DD) instead of today.")] = None,
) -> None:
    """Check a data folder against the data contract and summarise what it holds."""
    from kamlib.data.describe import missing_tables, summarize
    from kamlib.data.mapping import read_mapping
    from kamlib.data.validate import validate_folder

    as_of = _parse_day(today) if today else None
    _data_folder(data)
    report = _guarded(lambda: validate_folder(data, read_mapping(mapping) if mapping else None,
                                              as_of))
    _print_problems(_("Errors"), report.errors, "red")
    _print_problems(_("Warnings"), report.warnings, "yellow")
    if not report.ok:
        err.print("[bold red]" + _("{folder}: {count} error(s); the data cannot be used until "
                                   "they are fixed.").format(folder=data,
                                                             count=len(report.errors)) + "[/]")
        raise typer.Exit(EXIT_DATA)
    _print_summary(data, report.data, summarize(report.data), missing_tables(report.data))


def _data_folder(data: Path) -> None:
    """A --data that is no folder is a usage error (exit 2), not unusable data."""
    if not data.is_dir():
        _fail(_("--data {folder}: the data folder does not exist (looked for {path}). Fix: "
                "give --data the folder that holds the export's tables.").format(
                    folder=data, path=data.expanduser().resolve()), EXIT_USAGE)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(_("--today must look like 2026-09-30. Got '{text}'.").format(text=text),
              EXIT_USAGE)


def _print_problems(title: str, problems: list[Problem], colour: str) -> None:
    if not problems:
        return
    err.print(f"[bold {colour}]" + _("{title} ({count}):").format(title=title,
                                                                  count=len(problems)) + "[/]")
    for problem in problems:
        err.print(f"  [{colour}]•[/] {problem.render()}", soft_wrap=True)


def _print_summary(folder: Path, data, facts, missing) -> None:
    out.print("[bold green]" + _("{folder}: the data is usable.").format(folder=folder) + "[/]",
              soft_wrap=True)
    table = RichTable(show_header=False)
    for label, value in facts:
        table.add_row(label, value)
    out.print(table)
    for note in data.notes:
        out.print(_("Note: {note}").format(note=note), soft_wrap=True)
    for title, consequence in missing:
        out.print(_("Not given: {table}. {consequence}").format(table=title,
                                                                consequence=consequence),
                  soft_wrap=True)


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the sample into.")],
    accounts: Annotated[int, typer.Option(min=10, help="Number of accounts.")] = 1500,
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of history.")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")]
    = 20261,
    file_format: Annotated[str, typer.Option(
        "--format", help="csv, or parquet for large sizes (written in chunks).")] = "csv",
    invoice_lines: Annotated[int | None, typer.Option(
        min=1, help="Target number of invoice lines (for benchmarks); default: natural mix.")]
    = None,
) -> None:
    """Write a realistic synthetic B2B company (deterministic for a given seed)."""
    from rich.progress import Progress

    from kamlib.sample import write_sample

    if file_format not in ("csv", "parquet"):
        _fail(_("--format must be csv or parquet. Got '{format}'.").format(format=file_format),
              EXIT_USAGE)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(_("Generating"), total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage.capitalize(), completed=done, total=total)

        summary = _guarded(lambda: write_sample(
            out_dir, accounts=accounts, years=years, seed=seed, file_format=file_format,
            invoice_lines=invoice_lines, progress=report))
    out.print(_("Sample company written to {folder}: {summary}").format(folder=out_dir,
                                                                         summary=summary),
              soft_wrap=True)


@app.command()
def contract(
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write the reference page here instead of printing it.")] = None,
) -> None:
    """Print (or write) the data contract's reference page, generated from kamlib."""
    from kamlib.data.describe import contract_markdown

    page = contract_markdown()
    if out_file is None:
        out.print(page, markup=False)
    else:
        try:
            out_file.write_text(page, encoding="utf-8")
        except OSError as exc:
            _fail(_("--out {file} cannot be written ({error}). Fix: give --out a file in a "
                    "folder you can write to.").format(file=out_file,
                                                       error=exc.strerror or exc), EXIT_USAGE)
        out.print(_("Wrote {file}").format(file=out_file))


@app.command("run")
def run_command(
    workbook: Annotated[str, typer.Argument(help="A workbook (value, selection, ...), or all.")],
    data: DataOption,
    mapping: MappingOption = None,
    period: Annotated[str | None, typer.Option(
        help="Quarter to report, like 2026Q3; default: the latest complete one.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Reports folder.")] = Path("reports"),
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="A workbook parameter as key=value; repeat for more.")] = None,
    engine: Annotated[str | None, typer.Option(help="duckdb (default) or spark.")] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", help="No live progress display: plain timestamped lines, for schedulers.")]
    = False,
    jobs: Annotated[int | None, typer.Option(
        min=1, help="How many workbooks of 'all' run side by side; default: one per core, "
        "up to all of them. Each holds its own data in memory: use 1 on a large company "
        "when memory is short.")] = None,
) -> None:
    """Run workbooks and publish their reports into OUT/<period>/<workbook>/."""
    from kamlib.run import runner
    from kamlib.run.kernels import usable_cores

    names = list(runner.WORKBOOKS) if workbook == "all" else [workbook]
    # One kernel per core by default: a kernel that has run its notebook runs the next
    # one without starting and importing again (kamlib.run.kernels), which on 2 cores
    # beats a third kernel competing for them (measured, BENCHMARKS.md).
    jobs = jobs or min(len(names), usable_cores())
    extra = _guarded(lambda: runner.parse_params(param or []))
    _data_folder(data)
    signal.signal(signal.SIGTERM, _raise_stopped)
    with _run_display(quiet, len(names)) as progress:
        # closing: the run cache shared by the kernels is removed however the run ends
        with closing(runner.run_workbooks(names, data=data, out=out_dir, mapping=mapping,
                                          period=period, engine=engine, params=extra,
                                          progress=progress, jobs=jobs)) as results:
            while (result := _guarded(lambda: next(results, None))) is not None:
                out.print(_("{workbook}: report for {period} in {folder} ({seconds} s): open "
                            "{page}").format(
                    workbook=result.workbook, period=result.period, folder=result.folder,
                    seconds=number(result.seconds, grouped=False),
                    page=result.folder / "report.html"), soft_wrap=True)


@contextmanager
def _run_display(quiet: bool, workbooks: int):
    """Plain log lines with --quiet, otherwise a live display on stderr."""
    from kamlib.run.progress import PlainDisplay, RichDisplay

    if quiet:
        yield PlainDisplay(out)
        return
    with RichDisplay(err, workbooks) as display:
        yield display


