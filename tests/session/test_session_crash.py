"""Crash safety: recording processes killed with SIGKILL at random moments leave files that
open, hold everything committed intact, and miss at most the last second of steps."""
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from workbench.session import open_session, verify

from session_helpers import W1

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")

# A warm server: imports and compiles once, then forks one recording process per trial,
# so each trial costs only its own training time.
SERVER = r"""
import json, os, sys, time
from workbench.core import warmup
warmup()
from workbench.run import Run
import workbench.session
cfg = json.loads(sys.argv[1])
os.write(1, b"ready\n")
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "go":
        pid = os.fork()
        if pid == 0:
            try:
                run = Run(cfg, session=cmd[1])
                os.write(1, b"S 0\n")
                last = 0.0
                while True:
                    run.run_steps(40)
                    now = time.monotonic()
                    if now - last > 0.01:
                        os.write(1, f"S {run.step}\n".encode())
                        last = now
            finally:
                os._exit(3)
        os.write(1, f"pid {pid}\n".encode())
    elif cmd[0] == "wait":
        os.waitpid(int(cmd[1]), 0)
        os.write(1, b"reaped\n")
    else:
        break
"""


def _reader(stream, q):
    for line in stream:
        q.put((time.monotonic(), line.strip()))
    q.put((time.monotonic(), None))


def _expect(q, prefix, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        t, line = q.get(timeout=max(0.01, end - time.monotonic()))
        if line is None:
            raise AssertionError("server ended")
        if line.startswith(prefix):
            return t, line
    raise AssertionError(f"no {prefix!r} from the server")


def test_sigkill_at_random_moments(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(W1)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            bufsize=1, env=dict(os.environ))
    q: queue.Queue = queue.Queue()
    th = threading.Thread(target=_reader, args=(proc.stdout, q), daemon=True)
    th.start()
    rng = np.random.default_rng(7)
    results = []
    try:
        _expect(q, "ready")
        for trial in range(22):
            path = tmp_path / f"k{trial}.wbsession"
            proc.stdin.write(f"go {path}\n")
            t0, line = _expect(q, "pid")
            pid = int(line.split()[1])
            # early kills hit the creation of the file (timed from the fork); later ones
            # hit training and commits (timed from the run's first record, so that a slow,
            # busy machine does not turn them into early kills)
            progress = []
            if trial < 4:
                kill_at = t0 + float(rng.uniform(0.0, 0.15))
            else:
                t1, _ = _expect(q, "S 0")
                progress.append((t1, 0))
                kill_at = t1 + float(rng.uniform(0.05, 1.5))
            while True:
                try:
                    t, line = q.get(timeout=max(0.0, kill_at - time.monotonic()))
                except queue.Empty:
                    break
                if line.startswith("S "):
                    progress.append((t, int(line.split()[1])))
                if time.monotonic() >= kill_at:
                    break
            os.kill(pid, signal.SIGKILL)
            t_kill = time.monotonic()
            proc.stdin.write(f"wait {pid}\n")
            while True:   # everything the child wrote arrives before "reaped"
                t, line = q.get(timeout=30)
                if line == "reaped":
                    break
                if line and line.startswith("S "):
                    progress.append((t, int(line.split()[1])))
            results.append((path, t_kill, progress))
    finally:
        proc.stdin.write("quit\n")
        proc.stdin.close()
        proc.wait(10)
        th.join(10)

    opened = 0
    lost = []
    for i, (path, t_kill, progress) in enumerate(results):
        if not progress:
            # killed while the run was being built: no file, or a complete one
            if path.exists():
                with open_session(path) as s:
                    assert s.check() == []
            continue
        with open_session(path) as s:      # it opens
            opened += 1
            assert s.check() == [], path
            m = s.metrics()
            last = s.last_step
            assert np.array_equal(m["step"], np.arange(1, m["loss"].size + 1))
            assert np.all(np.isfinite(m["loss"]))
            # everything reported more than a second before the kill is in the file
            old = [step for t, step in progress if t <= t_kill - 1.0]
            if old:
                assert last >= max(old), (path, last, max(old))
            # nothing beyond what the run did: its last report, plus what it could train
            # until the next one (reports are at most every 10 ms; W1 trains 600,000
            # steps a second on the fast machines, so a +40 margin failed now and then)
            span = progress[-1][0] - progress[0][0]
            rate = (progress[-1][1] - progress[0][1]) / span if span > 0 else 0.0
            assert last <= progress[-1][1] + 40 + rate * 0.02, (path, last, progress[-1])
            reached = [t for t, step in progress if step >= last]
            lost.append(t_kill - reached[0] if reached else 0.0)
            for info in s.snapshots():
                assert s.snapshot_state(info)["counters"][0] == info.step
            assert all(r["step"] <= last for r in s.evaluation_rows())
        if i % 5 == 0:
            assert verify(path).ok, path
    assert opened >= 18
    # seconds of training missing from each file (kill time - when its last step was done)
    print(f"\n{opened} killed recordings opened; seconds lost: max {max(lost):.3f}, "
          f"median {float(np.median(lost)):.3f}")
    assert max(lost) <= 1.0
