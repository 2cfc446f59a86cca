"""Run the benchmark suite and write BENCHMARKS.md: ``python -m benchmarks.run [--scale small]``.

Each case runs ``--repeat`` times (3 by default) in a fresh process and reports the
median; cases compared with each other run side by side in the same invocation. The
full scale needs about 2.5 GB of disk for its data sets (generated once, cached in
``benchmarks/.data``) and runs in about 40 minutes on 2 cores; ``--scale small
--repeat 1`` runs the same cases on small companies in about five minutes, for trying
things out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from benchmarks import datasets
from benchmarks.measure import PYTHON, ROOT, run_case, run_command

# Sizes per scale: accounts of each company (100 invoice lines each, see datasets).
SCALES = {
    "full": {"value": [200_000, 1_000_000], "pandas": [200_000], "spark": 200_000,
             "selection": [10_000, 100_000, 1_000_000], "validate": [1_000_000]},
    "small": {"value": [10_000, 30_000], "pandas": [10_000, 30_000], "spark": 10_000,
              "selection": [2_000, 10_000], "validate": [30_000]},
}
TARGETS = {"value_ratio": 1.3, "value_peak_mb": 2000, "selection_s": 60, "lifetime_s": 30,
           "runner_ratio": 3.0}


@dataclass
class Row:
    """One line of the results: a case at a size, the median over its runs."""

    group: str
    case: str
    size: str
    runs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and not any("error" in r for r in self.runs)

    def median(self, key: str = "seconds") -> float:
        return statistics.median(r[key] for r in self.runs) if self.ok else float("nan")

    def stage_medians(self) -> dict[str, float]:
        if not self.ok or "stages" not in self.runs[0]:
            return {}
        return {s: statistics.median(r["stages"][s] for r in self.runs)
                for s in self.runs[0]["stages"]}


class Suite:
    def __init__(self, scale: str, repeat: int, log=print) -> None:
        self.scale, self.repeat, self.log = scale, repeat, log
        self.rows: list[Row] = []
        self.checks: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.work = Path(tempfile.mkdtemp(prefix="kam-bench-"))

    def measure(self, group: str, case: str, size: str, function: str, args: dict,
                save: str | None = None) -> Row:
        """Run ``benchmarks.cases.<function>`` ``repeat`` times; the first run saves."""
        row = Row(group, case, size)
        for i in range(self.repeat):
            extra = {"save": save} if save and i == 0 else {}
            row.runs.append(run_case(function, {**args, **extra}))
            self.log(f"  {group} {case} {size} run {i + 1}: {_brief(row.runs[-1])}")
            if "error" in row.runs[-1]:
                break
        self.rows.append(row)
        return row

    def command(self, group: str, case: str, size: str, command: list[str]) -> Row:
        row = Row(group, case, size)
        for i in range(self.repeat):
            row.runs.append(run_command(command))
            self.log(f"  {group} {case} run {i + 1}: {_brief(row.runs[-1])}")
        self.rows.append(row)
        return row

    def find(self, group: str, case: str, size: str) -> Row | None:
        return next((r for r in self.rows if (r.group, r.case, r.size) == (group, case, size)),
                    None)


def _brief(result: dict) -> str:
    if "error" in result:
        return "FAILED " + result["error"].splitlines()[-1]
    return f"{result['seconds']:.2f} s, peak {result.get('peak_mb', float('nan')):,.0f} MB"


def lines_label(accounts: int) -> str:
    return f"{accounts * datasets.LINES_PER_ACCOUNT / 1e6:g}M lines"


def accounts_label(accounts: int) -> str:
    return f"{accounts:,} accounts"


# --- The cases --------------------------------------------------------------------------------


def value_cases(suite: Suite, sizes: dict) -> None:
    for accounts in sizes["value"]:
        folder = str(datasets.ensure(datasets.company(accounts), suite.log))
        size = lines_label(accounts)
        saved = {c: str(suite.work / f"{c}-{accounts}.parquet") for c in ("kamlib", "sql")}
        suite.measure("value", "kamlib", size, "value_kamlib", {"folder": folder},
                      saved["kamlib"])
        suite.measure("value", "hand SQL", size, "value_sql", {"folder": folder}, saved["sql"])
        suite.checks.append((f"value at {size}: kamlib = hand-written SQL",
                             compare(saved["kamlib"], saved["sql"])))
        if accounts in sizes["pandas"]:
            saved["pandas"] = str(suite.work / f"pandas-{accounts}.parquet")
            suite.measure("value", "pandas", size, "value_pandas", {"folder": folder},
                          saved["pandas"])
            suite.checks.append((f"value at {size}: kamlib = pandas",
                                 compare(saved["kamlib"], saved["pandas"])))


def pandas_note(suite: Suite, sizes: dict) -> None:
    """Say why pandas is not run at the largest size, from its measured peak."""
    pandas_sizes = [lines_label(a) for a in sizes["pandas"]]
    skipped = [lines_label(a) for a in sizes["value"] if a not in sizes["pandas"]]
    if skipped and pandas_sizes:
        row = suite.find("value", "pandas", pandas_sizes[-1])
        peak = row.median("peak_mb") if row else float("nan")
        factor = max(sizes["value"]) / max(sizes["pandas"])
        suite.notes.append(
            f"pandas is not run at {', '.join(skipped)}: it holds every line in memory "
            f"({peak:,.0f} MB at {pandas_sizes[-1]}, so about {peak * factor / 1000:,.0f} GB "
            f"at {skipped[-1]}), far beyond the 2 GB budget of this case on a machine "
            "shared with others.")


def compare(left: str, right: str) -> str:
    """'equal' when two saved results hold the same figures (to 1e-9 relative), else why not."""
    try:
        a, b = pd.read_parquet(left), pd.read_parquet(right)
    except OSError as exc:
        return f"not compared ({exc})"
    b = b[a.columns] if set(a.columns) == set(b.columns) else b
    for frame in (a, b):
        frame["period_start"] = pd.to_datetime(frame["period_start"]).astype("datetime64[us]")
    try:
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9)
    except AssertionError as exc:
        return "DIFFERENT: " + " ".join(str(exc).split())[:300]
    return f"equal ({len(a):,} rows, {len(a.columns)} columns, relative tolerance 1e-9)"


def spark_note(suite: Suite) -> None:
    """Why Spark is slower here: the figure is not a verdict on Spark."""
    if any(r.group == "spark" for r in suite.rows):
        suite.notes.append(
            "Spark in local mode on 2 cores is much slower than DuckDB on the same machine "
            "(a JVM, a shuffle through 4 partitions, Parquet read by Spark's own reader, the "
            "result sent to Python); it is measured to show the path works and gives the same "
            "figures. It pays off when the data is spread over a cluster (docs/scale.md).")


def validation_cases(suite: Suite, sizes: dict) -> None:
    for accounts in sizes["validate"]:
        folder = str(datasets.ensure(datasets.company(accounts), suite.log))
        suite.measure("validate", "kam validate", lines_label(accounts), "validate",
                      {"folder": folder})


def model_cases(suite: Suite, sizes: dict) -> None:
    for accounts in sizes["selection"]:
        folder = str(datasets.ensure(datasets.company(accounts), suite.log))
        suite.measure("lifetime", "fit and score", accounts_label(accounts), "lifetime",
                      {"folder": folder})
        suite.measure("selection", "features to explanations", accounts_label(accounts),
                      "selection", {"folder": folder})


def spark_case(suite: Suite, sizes: dict) -> None:
    accounts = sizes["spark"]
    folder = str(datasets.ensure(datasets.company(accounts), suite.log))
    size = lines_label(accounts)
    duck = str(suite.work / f"kamlib-{accounts}.parquet")
    if not Path(duck).is_file():
        suite.measure("value", "kamlib", size, "value_kamlib", {"folder": folder}, duck)
    spark = str(suite.work / f"spark-{accounts}.parquet")
    suite.measure("spark", "kamlib on Spark (local[2,3])", size, "value_spark",
                  {"folder": folder}, spark)
    suite.checks.append((f"value at {size}: Spark = DuckDB", compare(duck, spark)))


def runner_case(suite: Suite) -> None:
    from kamlib.run import runner

    count = len(runner.WORKBOOKS)
    out = suite.work / "reports"
    kam = [str(Path(PYTHON).with_name("kam")), "run", "all", "--data", "data/sample", "--out",
           str(out), "--quiet"]
    suite.command("runner", f"kam run all ({count} workbooks: {', '.join(runner.WORKBOOKS)})",
                  "data/sample", kam)
    suite.command("runner", f"kam run all --jobs {count} (a kernel per workbook, for reference)",
                  "data/sample", [*kam, "--jobs", str(count)])
    suite.command("runner", "kam run all --jobs 1 (the workbooks in turn, for reference)",
                  "data/sample", [*kam, "--jobs", "1"])
    suite.command("runner", f"floor: {count} empty notebooks with papermill", "data/sample",
                  [PYTHON, "-m", "benchmarks.floor", str(count), str(suite.work / "floor")])


# --- BENCHMARKS.md ----------------------------------------------------------------------------


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb
    import ibis

    return (f"{os.cpu_count()} cores, {memory:.1f} GiB memory, {platform.system()} "
            f"{platform.machine()}; Python {platform.python_version()}, DuckDB "
            f"{duckdb.__version__}, ibis {ibis.__version__}, pandas {pd.__version__}")


def write_report(suite: Suite, path: Path, seconds: float) -> None:
    from benchmarks.report import render

    path.write_text(render(suite, machine(), seconds), encoding="utf-8")


def steps(sizes: dict) -> list[tuple[str, object]]:
    """(group, step) in the order they run: quick ones first, so that an interrupted run
    still leaves their figures in BENCHMARKS.md."""
    def only(key: str, values: list[int]) -> dict:
        return {**sizes, key: values}

    small, big = sizes["value"][:-1], sizes["value"][-1:]
    models_small, models_big = sizes["selection"][:-1], sizes["selection"][-1:]
    return [("runner", lambda s: runner_case(s)),
            ("value", lambda s: value_cases(s, only("value", small))),
            ("spark", lambda s: spark_case(s, sizes)),
            ("models", lambda s: model_cases(s, only("selection", models_small))),
            ("value", lambda s: value_cases(s, only("value", big))),
            ("validate", lambda s: validation_cases(s, sizes)),
            ("models", lambda s: model_cases(s, only("selection", models_big)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=["runner", "value", "spark", "models",
                                                      "validate"], help="run only these groups")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    suite, sizes, clock = Suite(args.scale, args.repeat), SCALES[args.scale], time.monotonic()
    for group, step in steps(sizes):
        if not args.only or group in args.only:
            suite.log(f"{group}:")
            step(suite)
            suite.notes = []
            pandas_note(suite, sizes)
            spark_note(suite)
            write_report(suite, args.out, time.monotonic() - clock)  # after every step
    (suite.work / "results.json").write_text(json.dumps(
        [{"group": r.group, "case": r.case, "size": r.size, "runs": r.runs}
         for r in suite.rows], indent=1))
    suite.log(f"wrote {args.out} (raw runs: {suite.work / 'results.json'})")


if __name__ == "__main__":
    sys.exit(main())
