"""Run tasks side by side in threads and stop them all the way Ctrl-C stops one.

``kam run all --jobs N`` runs workbooks side by side: each papermill run waits on its
own kernel process, so threads are enough, and the run cache and progress display stay
in one process. A workbook run in the main thread is stopped by Ctrl-C or SIGTERM: the
exception unwinds papermill, nbclient shuts its kernel down and the runner removes the
work folder. Threads get no signals, so :meth:`SideBySide.stop` raises the same
exception inside each running task (CPython's ``PyThreadState_SetAsyncExc``; no library
offers this, and a flag checked between cells would leave a long cell running), and
waits until every task has unwound: every kernel stopped, every work folder removed.
The rest is the standard library's ``ThreadPoolExecutor`` (``as_completed``, and
``shutdown(cancel_futures=True)`` for the tasks not yet started).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")


class SideBySide:
    """At most ``jobs`` tasks at once; :meth:`results` yields them as they finish."""

    def __init__(self, jobs: int):
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="kam-workbook")
        self.futures: list[Future] = []
        self.running: set[int] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def submit(self, task: Callable[[], T]) -> None:
        self.futures.append(self.pool.submit(self._tracked, task))

    def results(self) -> Iterator[T]:
        """Each task's result as it finishes. The first failure, an interrupt, or closing
        the iterator early stops the other tasks before it goes on."""
        try:
            for future in as_completed(self.futures):
                yield future.result()
        except BaseException:
            self.stop()
            raise
        finally:
            self.pool.shutdown(wait=True)

    def stop(self) -> None:
        """Cancel the tasks not yet started, interrupt the running ones (as Ctrl-C would)
        and wait until they have unwound."""
        with self.lock:
            self.stopping = True  # a task starting from now stops at once (_tracked)
            for thread in self.running:
                _raise_in_thread(thread, KeyboardInterrupt)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _tracked(self, task: Callable[[], T]) -> T:
        with self.lock:
            if self.stopping:
                raise KeyboardInterrupt("stopped before it started")
            self.running.add(threading.get_ident())
        try:
            return task()
        except BaseException:
            self.stopping = True  # the tasks still waiting must not start
            raise
        finally:
            # Under the lock: stop() raises only in threads still inside their task.
            with self.lock:
                self.running.discard(threading.get_ident())


def _raise_in_thread(thread: int, exception: type[BaseException]) -> None:
    """``exception`` is raised in that thread at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread),
                                               ctypes.py_object(exception))
