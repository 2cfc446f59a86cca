"""The value pipeline gives the same figures on DuckDB and on Spark (local mode, real JVM)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from support import REPO
from kamlib.economics import account_value
from kamlib.engine import connect, open_tables
from kamlib.lifetime import purchase_history
from kamlib.validate import validate_folder

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
        pd.testing.assert_frame_equal(duck[name], spark[name], check_dtype=False, rtol=1e-9,
                                      atol=0, obj=name)
