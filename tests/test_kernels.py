"""Kernels lent to workbooks and kept for the next: the second notebook sees a new
kernel's namespace and warnings, and the modules the first imported; workbooks waiting
for a kernel get one in turn. Real kernels, real papermill."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import nbformat
import papermill as pm

from kamlib.run import kernels as kernels_module
from kamlib.run import runner
from kamlib.run.kernels import KernelPool
from kamlib.run.notebook_engine import ENGINE

WARNER = '''import warnings


def warn():
    warnings.warn("shown in every workbook")
'''


def _run(kernel, cells: list[str], folder: Path, name: str) -> list[str]:
    """The notebook's outputs, one text per code cell."""
    source, executed = folder / f"{name}.ipynb", folder / f"{name}-out.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c)
                                                   for c in cells]), source)
    pm.execute_notebook(source, executed, engine_name=ENGINE, kernel_name=runner.KERNEL,
                        km=kernel.manager, progress_bar=False, cwd=str(folder))
    return ["".join(o.get("text", "") for o in cell.outputs)
            for cell in nbformat.read(executed, as_version=4).cells]


def test_the_next_workbook_gets_a_fresh_namespace_in_the_same_kernel(tmp_path):
    (tmp_path / "warner.py").write_text(WARNER)
    kernels = KernelPool(runner.KERNEL, tmp_path, size=1)
    try:
        lease = kernels.lease(["json"])
        first = lease.kernel
        pid = first.manager.provisioner.process.pid
        before = _run(first, ["print(get_ipython().execution_count)",
                              "import warner\nwarner.warn()\nleft_behind = 1"], tmp_path,
                      "first")
        assert "shown in every workbook" in before[1]
        lease.give_back()
        lease.discard()  # given back already: nothing happens
        second = kernels.lease(["json"]).kernel
        assert second is first and second.manager.provisioner.process.pid == pid
        outputs = _run(second, [
            "print(get_ipython().execution_count)",
            "print('left_behind' in globals(), 'json' in __import__('sys').modules)",
            "import warner\nwarner.warn()",
            "print(__import__('gc').get_freeze_count() > 0)"], tmp_path, "second")
        assert outputs[0] == before[0]  # counted from the start again: a new session
        assert outputs[1].strip() == "False True"
        assert "shown in every workbook" in outputs[2]  # not "already shown" by the first
        assert outputs[3].strip() == "True"  # what stays is left out of collections
    finally:
        kernels.close()
    assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    assert first.output.closed


def test_a_discarded_kernel_is_shut_down_and_the_next_lease_starts_a_new_one(tmp_path):
    kernels = KernelPool(runner.KERNEL, tmp_path, size=1)
    try:
        lease = kernels.lease(["json"])
        first = lease.kernel
        lease.discard()
        assert first.output.closed and not first.manager.has_kernel
        second = kernels.lease(["json"]).kernel
        assert second is not first
        assert _run(second, ["print(1 + 1)"], tmp_path, "after")[0].strip() == "2"
    finally:
        kernels.close()
    assert all(k.output.closed for k in kernels.started)


def test_workbooks_wait_for_a_kernel_and_get_it_in_the_order_they_asked(tmp_path):
    kernels = KernelPool(runner.KERNEL, tmp_path, size=1)
    served: list[str] = []

    def workbook(name: str) -> None:
        lease = kernels.lease(["json"])
        served.append(name)
        lease.give_back()

    try:
        first = kernels.lease(["json"])
        waiting = []
        for asked, name in enumerate(("second", "third"), start=1):
            waiting.append(threading.Thread(target=workbook, args=(name,)))
            waiting[-1].start()
            # Each has asked before the next asks: its turn is in the pool's queue (a fixed
            # sleep was a race on a busy machine, the order the test checks left to chance).
            deadline = time.monotonic() + 60
            while len(kernels.queue) < asked and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(kernels.queue) == asked
        assert served == []  # the one kernel is lent out
        first.give_back()
        for thread in waiting:
            thread.join(timeout=60)
        assert served == ["second", "third"]
        assert len(kernels.started) == 1  # never more kernels than the pool's size
    finally:
        kernels.close()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_with_no_core_to_spare_the_first_kernel_starts_alone(tmp_path, monkeypatch):
    """The second kernel's process starts once the first kernel answers: started together,
    with the command validating beside them, the first was slowed by the second."""
    monkeypatch.setattr(kernels_module, "usable_cores", lambda: 2)
    ready = kernels_module.StartedKernel.wait_ready
    answered: dict[int, float] = {}

    def wait_ready(kernel) -> None:
        ready(kernel)
        answered[id(kernel)] = time.clock_gettime(time.CLOCK_BOOTTIME)

    monkeypatch.setattr(kernels_module.StartedKernel, "wait_ready", wait_ready)
    kernels = KernelPool(runner.KERNEL, tmp_path, size=2)
    try:
        threads = [threading.Thread(target=kernels.lease, args=(["json"],)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        first, second = kernels.started
        assert list(answered) == [id(first)]  # the first is waited for, alone
        # Started together, the second would start a second or more before the first
        # answers (0.4 s here). A process's start time is counted in clock ticks.
        tick = 1 / os.sysconf("SC_CLK_TCK")
        assert _process_start(second) >= answered[id(first)] - tick
        assert answered[id(first)] - _process_start(first) > 0.2
    finally:
        kernels.close()


def _process_start(kernel) -> float:
    """When the kernel's process started, in seconds since boot."""
    pid = kernel.manager.provisioner.process.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")
