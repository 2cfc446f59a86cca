"""Files written whole or not at all.

A report, a staged table, the roster or a manifest is read by people and by the next run;
a run killed half-way must leave the earlier file as it was, never a part of the new one.
Every file kamlib writes for keeps goes through :func:`replaced_atomically`: the new
content is written to a hidden file beside the target, flushed to disk, given the
target's permissions and then renamed over it in one step (``os.replace``).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; when the block ends without an
    error it replaces ``path``, otherwise it is removed and ``path`` is left as it was."""
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else _new_file_mode())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path``, whole or not at all."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replaced_atomically(path) as temporary:
        temporary.write_bytes(data)


def _new_file_mode() -> int:
    """rw for everyone the umask allows, as a file written with open() would get."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
