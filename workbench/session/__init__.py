"""Session files: recording, reading, replay, verify and fork (sqlite3 + numpy).

>>> from workbench.session import open_session, verify, fork   # doctest: +SKIP
>>> with open_session("run.wbsession") as s:                      # doctest: +SKIP
...     s.config, s.last_step, s.metrics()["loss"], s.snapshot_at(500)
"""
from .format import FORMAT_VERSION, SUFFIX, SessionError, is_session_file
from .reader import REPLAY, SessionReader, SnapshotInfo, open_session
from .recorder import Recorder
from .rerun import VerifyResult, default_fork_path, fork, verify

__all__ = ["FORMAT_VERSION", "SUFFIX", "REPLAY", "Recorder", "SessionError", "SessionReader",
           "SnapshotInfo", "VerifyResult", "default_fork_path", "fork", "is_session_file",
           "open_session", "verify"]
