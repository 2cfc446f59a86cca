"""kamlib puts Arrow's memory on jemalloc when it opens an engine, unless the user chose a
pool; importing kamlib, any of it, leaves pyarrow's default pool alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

BACKEND = "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"
EVERY_MODULE = """
import importlib, pkgutil, kamlib
for module in pkgutil.walk_packages(kamlib.__path__, "kamlib."):
    importlib.import_module(module.name)
"""
ENGINE = "from kamlib.data.engine import connect; connect('duckdb')"


def backend(code: str = "", **env: str) -> str:
    """The default pool's backend after running ``code`` in a new Python."""
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", f"{code}\n{BACKEND}"], capture_output=True,
                          text=True, env={**clean, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


def test_importing_kamlib_leaves_the_default_pool_alone():
    untouched = backend()
    assert backend("import kamlib") == untouched
    assert backend(EVERY_MODULE) == untouched


@pytest.mark.skipif(not has_jemalloc(), reason="this pyarrow is built without jemalloc: "
                                                "kamlib keeps its default pool")
def test_opening_an_engine_puts_arrow_on_jemalloc_unless_the_user_names_a_pool():
    assert backend() != "jemalloc"  # else this test would prove nothing
    assert backend(ENGINE) == "jemalloc"
    assert backend(ENGINE, ARROW_DEFAULT_MEMORY_POOL="system") == "system"
    # Once only: a pool the program chose after kamlib's first engine stays its choice.
    chosen_later = f"{ENGINE}; import pyarrow as pa; pa.set_memory_pool(pa.system_memory_pool())"
    assert backend(f"{chosen_later}; {ENGINE}") == "system"
