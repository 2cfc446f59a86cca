"""The value pipeline gives the same figures on DuckDB and on Spark (local mode, real JVM)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from support import REPO
from kamlib.data.engine import connect, open_tables, spark_session
from kamlib.data.validate import validate_folder
from kamlib.economics.lifetime_value import purchase_history
from kamlib.economics.net_revenue import account_value

pytest.importorskip("pyspark", reason="the Spark path needs PySpark (installed by make test)")
pytestmark = pytest.mark.skipif(shutil.which("java") is None,
                                reason="Spark needs a Java runtime (17) on the PATH")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    report = validate_folder(REPO / "data" / "sample")
    assert report.ok
    return report.data, tmp_path_factory.mktemp("staging")


def pipeline(data, staging, engine: str) -> dict[str, pd.DataFrame]:
    tables = open_tables(data, connect(engine), staging / engine)
    return {
        "quarterly": account_value(tables, grain="quarter").frame,
        "yearly": account_value(tables, grain="year").frame,
        "history": purchase_history(tables, end=pd.Timestamp("2026-09-30").date()).reset_index(),
    }


@pytest.mark.slow
def test_duckdb_and_spark_agree_on_the_sample(sample):
    data, staging = sample
    duck, spark = pipeline(data, staging, "duckdb"), pipeline(data, staging, "spark")
    for name in duck:
        assert len(duck[name]) > 100
        # Both engines sum in parallel, in an order that depends on the cores: a sum of
        # refunds and sales that cancels can end at 1e-12 on one and -3e-12 on the other.
        # A millionth of a currency unit absolute, besides the relative tolerance, is far
        # below any figure a report shows.
        pd.testing.assert_frame_equal(duck[name], spark[name], check_dtype=False, rtol=1e-9,
                                      atol=1e-6, obj=name)


@pytest.mark.slow
def test_local_spark_tries_a_failed_task_again(tmp_path, monkeypatch):
    """A task that fails once (as a result lost on a loaded machine did) is run again: plain
    local mode gives a task one attempt and the whole query fails."""
    monkeypatch.delenv("KAM_SPARK_MASTER", raising=False)
    spark = spark_session()
    failed_once = tmp_path / "failed-once"

    def fails_the_first_time(value: int) -> int:
        if not failed_once.exists():
            failed_once.touch()
            raise RuntimeError("the first attempt fails")
        return value

    assert spark.sparkContext.parallelize([1, 2, 3], 1).map(fails_the_first_time).collect() == [
        1, 2, 3]
    assert failed_once.exists()
    # Results go straight to the driver, not through the block manager, where one was lost.
    assert spark.sparkContext.getConf().get("spark.task.maxDirectResultSize") == "1g"
