"""Where the heavy work runs: ibis expressions on embedded DuckDB (default) or Spark.

Input tables reach the engine as typed Parquet files, read where they are:

- a data folder already in contract shape as Parquet (large companies) is read in
  place, without passing through pandas;
- anything else (CSV, Excel, mapped exports) is loaded and validated by
  :mod:`kamlib.data.load`, then *staged*: written once as Parquet with the contract's
  types into a staging folder, which both engines read.

Only small results (one row per account and period) come back as pandas frames.
Everything reaches the engines as Parquet or ``ibis.memtable``, the two ways that
behave the same on DuckDB and Spark.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kamlib.data.contract import TABLES, Table
from kamlib.data.dataset import Dataset
from kamlib.data.duckdb_settings import duckdb_config
from kamlib.data.files import replaced_atomically
from kamlib.data.parquet_files import columns_of, parquet_rows, type_fits
from kamlib.errors import ParameterError
from kamlib.words.catalogue import _

ENGINES: tuple[str, ...] = ("duckdb", "spark")

_ARROW_TYPES = {"text": pa.string(), "number": pa.float64(), "integer": pa.int64(),
                "date": pa.date32(), "boolean": pa.bool_()}


def connect(engine: str = "duckdb") -> ibis.BaseBackend:
    """A connection to the chosen engine; Spark runs in local mode unless configured.
    The first one puts Arrow's memory on jemalloc (see :func:`_arrow_memory_on_jemalloc`)."""
    _arrow_memory_on_jemalloc()
    if engine == "duckdb":
        return ibis.duckdb.connect(**duckdb_config())
    if engine == "spark":
        return ibis.pyspark.connect(spark_session())
    raise ParameterError(_("engine must be one of {engines}. Got '{engine}'.").format(
        engines=", ".join(ENGINES), engine=engine))


_ARROW_POOL_CHOSEN = False


def _arrow_memory_on_jemalloc() -> None:
    """Arrow's memory (pandas' text columns, results from the engines) from jemalloc rather
    than pyarrow's default mimalloc, unless ``ARROW_DEFAULT_MEMORY_POOL`` names a pool.
    Once per process, when kamlib first opens an engine: importing kamlib changes nothing,
    and a pool chosen later in the process stays chosen.

    Measured at a million accounts on 2 cores: proposing the roster, which writes and
    reorders hundreds of MB of reasons, took 7.5 to 11 s against 12.5 to 18 s (mimalloc
    gave freed memory back and faulted it in again), and the value aggregation at 100M
    lines peaked at 1.76 GB against 1.89 GB. A pyarrow built without jemalloc keeps its
    default.
    """
    global _ARROW_POOL_CHOSEN
    if _ARROW_POOL_CHOSEN or os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    _ARROW_POOL_CHOSEN = True
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:
        pass


_SPARK = None


# Two cores; a task that fails is tried again up to 3 times in all (plain local mode gives
# it one attempt).
LOCAL_MASTER = "local[2,3]"


def _direct_results(builder):
    """Local mode: every task result goes straight to the driver, in the same JVM.

    Above 1 MB a result is otherwise kept in the block manager and fetched back over the
    block transfer service, where a loaded machine lost one (TaskResultLost) in about
    seven runs at 20 million lines. Results here are a share of one row per account and
    period (about 60 MB a task at 20 million lines); the limit is capped by the message
    size, so both are raised.
    """
    return (builder.config("spark.task.maxDirectResultSize", "1g")
            .config("spark.rpc.message.maxSize", "1024"))


def spark_session():
    """One local Spark session per process, reused across calls (starting one takes seconds)."""
    global _SPARK
    if _SPARK is None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ParameterError(_("engine 'spark' needs PySpark: pip install "
                                   "'kam-workbooks[spark]' (and Java 17).")) from None
        log4j = Path(__file__).with_name("spark-log4j2.properties")
        master = os.environ.get("KAM_SPARK_MASTER", LOCAL_MASTER)
        builder = SparkSession.builder.master(master)
        if master.startswith("local"):
            builder = _direct_results(builder)
        _SPARK = (builder
                  .appName("kam-workbooks")
                  # UTC everywhere, or Spark shifts dates by the machine's time zone.
                  .config("spark.sql.session.timeZone", "UTC")
                  # C1 JIT only: Spark local starts about twice as fast.
                  .config("spark.driver.extraJavaOptions",
                          f"-Dlog4j2.configurationFile=file:{log4j} -Duser.timezone=UTC "
                          "-XX:TieredStopAtLevel=1")
                  .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="kam-spark-"))
                  .config("spark.ui.enabled", "false")
                  .config("spark.ui.showConsoleProgress", "false")
                  .config("spark.sql.shuffle.partitions", "4")
                  .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                  .getOrCreate())
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def fetch_frame(expr: ibis.Table, dtypes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """An expression's result as pandas (with the ``dtypes`` asked for), built while the
    engine gives its working memory back rather than beside it.

    On DuckDB the query writes its result to a temporary Parquet file (working within its
    memory limit, spilling if need be); DuckDB's idle threads hand their memory back within
    a second, while the file is read column by column. Fetched straight from the query,
    the result sat in memory beside everything DuckDB held until the last row (100 million
    invoice lines over a million accounts: 9 million rows, 1.2 GB, on top of DuckDB's
    1 GB). The file is removed whatever happens. Other engines go through ibis' to_pyarrow.
    """
    dtypes = dict(dtypes or {})
    backend = expr.get_backend()
    if getattr(backend, "name", None) != "duckdb":
        return expr.to_pyarrow().to_pandas(date_as_object=False, self_destruct=True,
                                           split_blocks=True).astype(dtypes)
    with tempfile.TemporaryDirectory(prefix="kam-result-", dir=_result_folder()) as folder:
        path = Path(folder) / "result.parquet"
        backend.con.sql(str(ibis.to_sql(expr, dialect="duckdb"))).to_parquet(str(path))
        return read_by_column(path, dtypes)


def _result_folder() -> str | None:
    """Where results pass on their way to pandas: beside the spill files when
    ``KAM_DUCKDB_TEMP_DIRECTORY`` names a folder (a disk chosen for its room), else the
    system's temp folder."""
    folder = os.environ.get("KAM_DUCKDB_TEMP_DIRECTORY")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    return folder or None


def read_by_column(path: Path, dtypes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A Parquet file as pandas, read one column at a time and converted to its dtype as
    it arrives, so that only one column is ever held twice (a whole Arrow table first
    would be a second copy of everything, and converting after the whole frame is built
    adds a copy of a column at the peak)."""
    file, dtypes = pq.ParquetFile(path), dtypes or {}
    columns = {}
    for name in file.schema_arrow.names:
        column = file.read(columns=[name]).column(0).to_pandas(date_as_object=False)
        columns[name] = column.astype(dtypes[name]) if name in dtypes else column
    return pd.DataFrame(columns, copy=False)


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([(c.name, _ARROW_TYPES[c.kind]) for c in table.columns])


def stage(data: Dataset, folder: Path) -> dict[str, Path]:
    """Write each loaded table as typed Parquet in ``folder`` unless it is there already
    (whole: each file is written under another name first); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in data.tables.items():
        path = paths[name] = folder / f"{name}.parquet"
        if not path.is_file():
            with replaced_atomically(path) as partial:
                pq.write_table(_to_arrow(frame, TABLES[name]), partial)
    return paths


def _to_arrow(frame: pd.DataFrame, table: Table) -> pa.Table:
    columns = {}
    for col in table.columns:
        values = frame[col.name]
        if col.kind == "date":
            values = values.dt.date
        columns[col.name] = pa.array(values.astype(object).where(values.notna(), None),
                                     type=_ARROW_TYPES[col.kind])
    return pa.table(columns, schema=arrow_schema(table))


def read_tables(con: ibis.BaseBackend, paths: dict[str, Path]) -> dict[str, ibis.Table]:
    """The staged (or in-place Parquet) tables as ibis tables on the connection."""
    return {name: con.read_parquet(_parquet_glob(path), table_name=f"kam_{name}")
            for name, path in paths.items()}


def _parquet_glob(path: Path) -> str:
    return str(path / "*.parquet") if path.is_dir() else str(path)


def open_tables(data: Dataset, con: ibis.BaseBackend, staging: Path) -> dict[str, ibis.Table]:
    """Engine tables for a validated dataset: Parquet inputs in place, the rest staged."""
    in_place = {name: _parquet_origin(data, name) for name in data.tables}
    in_place |= {name: large.origin for name, large in data.large.items()}
    to_stage = Dataset(root=data.root, tables={n: f for n, f in data.tables.items()
                                               if in_place[n] is None})
    paths = {**stage(to_stage, staging), **{n: p for n, p in in_place.items() if p}}
    return read_tables(con, paths)


def _parquet_origin(data: Dataset, name: str) -> Path | None:
    """The Parquet file or folder a table was read from unchanged, if it was: every file
    holds every contract column with a type the engines can use, and every row was kept.
    Otherwise (dates or amounts stored as text, ids as numbers, a mapping's renamed
    columns or dropped rows) the validated frame, typed by the loader, is staged instead,
    so the engines never meet a type or a row that validation did not."""
    files = {data.root / s.file for s in data.sources[name].segments}
    if not files or any(f.suffix.lower() not in (".parquet", ".pq") for f in files):
        return None
    if not _in_contract_shape(sorted(files), TABLES[name], len(data.tables[name])):
        return None
    folder = data.root / name
    if len(files) > 1 or folder.is_dir():
        return folder
    return files.pop()


def _in_contract_shape(files: list[Path], table: Table, rows: int) -> bool:
    for file in files:
        columns = columns_of([file])
        if not all(c.name in columns and type_fits(c.kind, columns[c.name])
                   for c in table.columns):
            return False
    rows_in_files = parquet_rows(files)
    return rows_in_files is not None and sum(rows_in_files) == rows
