"""Session files: recording, reading, replay, verify and fork (sqlite3 + numpy).

>>> from workbench.session import open_session, verify, fork   # doctest: +SKIP
>>> with open_session("run.wbsession") as s:                      # doctest: +SKIP
...     s.config, s.last_step, s.metrics()["loss"], s.snapshot_at(500)
"""
from .folder import new_session_path, recent_sessions, sessions_dir
from .format import FORMAT_VERSION, SUFFIX, SessionError, is_session_file
from .reader import REPLAY, SessionReader, SnapshotInfo, open_session
from .recorder import Recorder
from .report import export_csv, html_report
from .rerun import VerifyResult, default_fork_path, fork, verify
from .weights import export_weights, load_weights, read_weights, run_from_weights

__all__ = ["FORMAT_VERSION", "SUFFIX", "REPLAY", "Recorder", "SessionError", "SessionReader",
           "SnapshotInfo", "VerifyResult", "default_fork_path", "export_csv",
           "export_weights", "fork", "html_report", "is_session_file", "load_weights",
           "new_session_path", "open_session", "read_weights", "recent_sessions",
           "run_from_weights", "sessions_dir", "verify"]
