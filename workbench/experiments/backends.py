"""Where the runs of a sweep execute: in this process, a local process pool, or Dask.

Each backend takes a list of tasks and hands every result to ``on_result`` in the
calling thread as soon as it arrives; ``cancel()`` is polled a few times a second. On
cancel (or Ctrl-C) runs not yet started are dropped, running ones are stopped, and
the backend returns ``False``; it returns ``True`` when every task finished. Results
that already arrived have been handed over either way.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import threading
from typing import Callable

from .tasks import execute_task, execute_task_dask, init_pool_worker

POLL_S = 0.1


class SweepError(ValueError):
    """A sweep that cannot start (no Dask, scheduler unreachable, bad directory); one line."""


def _error_result(task: dict, exc: BaseException) -> dict:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return {"name": task.get("name", ""), "status": "error",
            "error": f"{type(exc).__name__}: {msg}", "findings": [], "steps": 0,
            "wall_s": 0.0, "theta": None, "curves": {}, "extra": {}, "session": None}


def run_serial(tasks: list[dict], on_result: Callable[[dict], None],
               cancel: Callable[[], bool]) -> bool:
    """Run the tasks one after another in this thread."""
    for t in tasks:
        if cancel():
            return False
        res = execute_task(t, cancel)
        if res.get("status") == "cancelled":
            return False        # stopped part way: not a result (a resume runs it again)
        on_result(res)
    return True


def default_workers() -> int:
    """The core count this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def pool_context():
    """``fork`` where it is safe (Linux, no other Python thread, no Qt application):
    the workers start at once with the compiled kernels inherited; otherwise ``spawn``
    (a program with threads, like the window, must not fork)."""
    qt = sys.modules.get("PySide6.QtCore")
    gui = qt is not None and qt.QCoreApplication.instance() is not None  # native threads
    if sys.platform.startswith("linux") and threading.active_count() == 1 and not gui:
        return mp.get_context("fork")
    return mp.get_context("spawn")


def run_pool(tasks: list[dict], on_result: Callable[[dict], None],
             cancel: Callable[[], bool], workers: int) -> bool:
    """Run the tasks on a pool of ``workers`` fresh processes (see :func:`pool_context`)."""
    if not tasks:
        return True
    ctx = pool_context()
    pool = ctx.Pool(min(workers, len(tasks)), initializer=init_pool_worker)
    results: queue.Queue = queue.Queue()
    finished = False
    try:
        for t in tasks:
            pool.apply_async(execute_task, (t,), callback=results.put,
                             error_callback=lambda e, t=t: results.put(_error_result(t, e)))
        remaining = len(tasks)
        while remaining:
            if cancel():
                return False
            try:
                r = results.get(timeout=POLL_S)
            except queue.Empty:
                continue
            remaining -= 1
            on_result(r)
        finished = True
        return True
    finally:
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()


def connect_dask(address, timeout: str = "5s"):
    """Return ``(client, owned)`` for a scheduler address or an existing Client.

    Raises
    ------
    SweepError
        Dask is not installed, or nothing answers at ``address``.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise SweepError("Dask is not installed; install the sweep extra: "
                         "pip install -e \".[sweep]\"") from None
    if isinstance(address, Client):
        return address, False
    try:
        return Client(address, timeout=timeout, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SweepError(f"cannot reach the Dask scheduler at {address}: {first}") from None


def run_dask(tasks: list[dict], on_result: Callable[[dict], None],
             cancel: Callable[[], bool], address) -> bool:
    """Run the tasks on a Dask distributed cluster (``address`` or a ``Client``)."""
    client, owned = connect_dask(address)
    from dask.distributed import wait
    futures = {}
    try:
        for t in tasks:
            f = client.submit(execute_task_dask, t, pure=False)
            futures[f] = t
        pending = set(futures)
        while pending:
            if cancel():
                client.cancel(list(pending))
                return False
            try:
                with client.as_current():  # wait() looks the client up; ours is not default
                    wait(list(pending), timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            for f in [f for f in pending if f.done()]:
                pending.discard(f)
                try:
                    r = f.result()
                except Exception as e:  # the task could not run on the worker
                    r = _error_result(futures[f], e)
                on_result(r)
        return True
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        if owned:
            client.close()


def execute(tasks: list[dict], on_result: Callable[[dict], None],
            cancel: Callable[[], bool] | None = None, workers: int | None = None,
            dask=None) -> bool:
    """Run ``tasks`` where asked: Dask when ``dask`` is given, else a pool of ``workers``
    processes (default the core count), or in this thread when ``workers`` is 0 or 1.

    Returns
    -------
    bool
        True when every task finished, False when cancelled.
    """
    cancel = cancel or (lambda: False)
    if dask is not None:
        return run_dask(tasks, on_result, cancel, dask)
    n = default_workers() if workers is None else int(workers)
    if n <= 1 or len(tasks) <= 1:
        return run_serial(tasks, on_result, cancel)
    return run_pool(tasks, on_result, cancel, n)
