"""A run cache: a declared folder in which workbooks working on the same data share the
validated data and what they compute once, instead of each doing it again.

The rule: a result is shared only between processes that took the very same validated
data from the cache, and only while every file that data was read from is unchanged.

Whoever runs several workbooks on one data folder (``kam run`` does) makes a
:class:`RunCache` for a folder of its own, validates the data into it
(:meth:`RunCache.keep_validated`) and gives each workbook the folder as an ordinary
parameter (``run_cache``); the workbook opens ``RunCache(folder)`` and passes it down
explicitly: ``load_valid(..., run_cache=cache)``, ``on_engine(..., run_cache=cache)``,
``selection_features(..., run_cache=cache)``, ``account_lifetime_values(...,
run_cache=cache)``. Without a cache (a notebook run by hand, or by papermill alone) each
of them computes everything itself.

What the folder holds, and the guarantees:

- ``data.pickle``: the validated data with the fingerprint of its inputs (each file's
  name, size and modification time, taken *before* validation, and the day, as
  validation checks for dates in the future; see :func:`inputs_fingerprint`).
  :meth:`RunCache.data_for` gives it out only while the fingerprint still matches;
  otherwise the workbook validates the data itself and this cache object then shares
  nothing (:meth:`computed_once` computes, :meth:`staging` is not offered), so a result
  computed from other data is never reused.
- ``<name>-<key digest>.pickle``: a result computed once (:meth:`computed_once`). A
  lock file beside it (released by the system if its holder dies) makes processes
  side by side wait for the first instead of computing it again; results are written
  whole or not at all (:mod:`kamlib.data.files`), so a process killed while computing or
  writing leaves no result behind, and the next one computes it.
- ``staged/``: tables staged as Parquet for the engine, written by the first under a lock.

The folder is private to its user (made with mode 0700) and its maker removes it; it
holds pickles, which are only ever read from a folder of the same user.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TypeVar

from filelock import FileLock

from kamlib.data.files import replaced_atomically
from kamlib.data.dataset import Dataset
from kamlib.data.validated import run_inputs, validated

T = TypeVar("T")

DATA = "data.pickle"


def inputs_fingerprint(data_dir: Path, mapping: Path | None) -> tuple:
    """What the validation depends on: the folder, the files it reads (name, size,
    modification time) and the day."""
    stats = [(str(p), (s := p.stat()).st_size, s.st_mtime_ns)
             for p in run_inputs(data_dir, mapping) if p.exists()]
    return str(Path(data_dir).resolve()), stats, date.today()


class RunCache:
    """The run cache in ``folder`` (see the module docstring). ``RunCache(folder)`` only
    names the folder; nothing is read or written until a method is called."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.sharing = False
        """True once :meth:`data_for` gave out the cache's data: results may be shared."""

    def __repr__(self) -> str:
        return f"RunCache({str(self.folder)!r})"

    def keep_validated(self, data_dir: Path, mapping: Path | None = None) -> Dataset:
        """Validate the data now (a DataError if it is not valid) and keep it for the
        processes using this cache. The folder is made only once the data is valid."""
        # Fingerprint first: a file rewritten while it is being validated counts as changed.
        fingerprint = inputs_fingerprint(Path(data_dir), mapping)
        data = validated(data_dir, mapping)
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self.folder.mkdir(mode=0o700, exist_ok=True)  # readable by this user only
        with replaced_atomically(self.folder / DATA) as partial:
            partial.write_bytes(pickle.dumps((fingerprint, data),
                                             protocol=pickle.HIGHEST_PROTOCOL))
        return data

    def data_for(self, data_dir: Path, mapping: Path | None = None) -> Dataset | None:
        """The cache's validated data if it was made from these very files today, else
        None (and then this object shares nothing)."""
        try:
            with (self.folder / DATA).open("rb") as handle:
                fingerprint, data = pickle.load(handle)
            matches = fingerprint == inputs_fingerprint(Path(data_dir), mapping)
        except Exception:  # gone, unreadable, another kamlib: validated as usual
            matches = False
        self.sharing = matches
        return data if matches else None

    def computed_once(self, name: str, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()``, once for every process sharing this cache: the first keeps the
        result under ``name`` and ``key`` (plain values the result depends on besides
        the data), the others get it. Simply computed while the cache is not sharing."""
        if not self.sharing:
            return compute()
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        path = self.folder / f"{name}-{digest}.pickle"
        with FileLock(path.with_suffix(".lock")):  # released by the system if a holder dies
            if path.is_file():
                with path.open("rb") as handle:
                    return pickle.load(handle)
            result = compute()
            with replaced_atomically(path) as partial:  # whole or absent if killed
                partial.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        return result

    @contextmanager
    def staging(self) -> Iterator[Path | None]:
        """The shared folder for tables staged for the engine, held by this process for
        the block (the first stages, the others wait and reuse); None while the cache is
        not sharing."""
        if not self.sharing:
            yield None
            return
        folder = self.folder / "staged"
        with FileLock(folder.with_suffix(".lock")):
            yield folder
