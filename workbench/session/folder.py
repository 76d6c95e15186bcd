"""The sessions folder in the user's data directory, where the window records every run."""
from __future__ import annotations

import re
import time
from pathlib import Path

from .format import SUFFIX


def sessions_dir(create: bool = True) -> Path:
    """``platformdirs.user_data_dir("workbench") / "sessions"`` (created when asked)."""
    import platformdirs
    d = Path(platformdirs.user_data_dir("workbench")) / "sessions"
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def session_name(config=None, when: float | None = None) -> str:
    """A readable file name: ``20261126-105203-spiral-sgd-lr0.03.wbsession``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when or time.time()))
    parts = [stamp]
    if config is not None:
        try:
            parts += [str(config["data.name"]), str(config["optimizer.name"]),
                      f"lr{config['optimizer.lr']:g}"]
        except (KeyError, TypeError):
            pass
    name = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name) + SUFFIX


def new_session_path(config=None, folder=None, when: float | None = None) -> Path:
    """A new, unused path in the sessions folder (or ``folder``) for a run of ``config``."""
    d = Path(folder) if folder is not None else sessions_dir()
    d.mkdir(parents=True, exist_ok=True)
    base = session_name(config, when)
    p = d / base
    k = 2
    while p.exists():
        p = d / base.replace(SUFFIX, f"-{k}{SUFFIX}")
        k += 1
    return p


def recent_sessions(n: int = 10, folder=None) -> list[Path]:
    """The ``n`` most recently modified session files of the folder, newest first."""
    d = Path(folder) if folder is not None else sessions_dir(create=False)
    if not d.is_dir():
        return []
    files = [p for p in d.glob("*" + SUFFIX) if p.is_file()]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)[:n]
