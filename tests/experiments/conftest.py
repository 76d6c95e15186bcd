"""Experiments tests: fail any test that leaves a thread running behind it."""
from __future__ import annotations

import threading
import time

import pytest

# Dask keeps these process-wide singletons alive once used (its offload executor and the
# event loop its clients share), and so does the run's evaluation thread (one daemon per
# process, started by the first overlapped evaluation); they are not per-sweep threads.
DASK_SINGLETONS = ("Dask-Offload", "IO loop", "wb-eval")


@pytest.fixture(autouse=True)
def no_thread_leaks():
    before = set(threading.enumerate())
    yield
    end = time.monotonic() + 5.0
    while True:  # pools and clusters shut their helper threads down asynchronously
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()
                 and not t.name.startswith(DASK_SINGLETONS)]
        if not extra or time.monotonic() > end:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
