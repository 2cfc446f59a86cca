"""kamlib puts Arrow's memory on jemalloc, unless the user chose a pool."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

POOL = "import kamlib, pyarrow; print(pyarrow.default_memory_pool().backend_name)"


def backend(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", POOL], capture_output=True, text=True,
                          env={**clean, **env}, check=True)
    return done.stdout.strip()


def has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not has_jemalloc(), reason="this pyarrow is built without jemalloc: "
                                                "kamlib keeps its default pool")
def test_kamlib_uses_jemalloc_unless_the_user_names_a_pool():
    assert backend() == "jemalloc"
    assert backend(ARROW_DEFAULT_MEMORY_POOL="system") == "system"
