"""Window commands: ``gui`` (the default), ``screenshot`` and ``replay``."""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from ..cli import CliError, load_config_arg


def register(subparsers) -> None:
    g = subparsers.add_parser("gui", help="open the window (the default command)")
    g.add_argument("config", nargs="?", help="run configuration (JSON); default: the demo")
    g.add_argument("--theme", choices=("system", "light", "dark"), help="colour theme")
    g.set_defaults(func=cmd_gui)

    s = subparsers.add_parser("screenshot",
                              help="render the whole window offscreen after N steps")
    s.add_argument("config", help="run configuration (JSON)")
    s.add_argument("--steps", type=int, default=0, help="train this many steps first")
    s.add_argument("--out", required=True, help="PNG file to write")
    s.add_argument("--size", default="1440x900", help="window size WxH (default 1440x900)")
    s.add_argument("--theme", choices=("light", "dark"), default="light")
    s.add_argument("--timeout", type=float, default=120.0,
                   help="seconds to wait for compiling and training")
    s.set_defaults(func=cmd_screenshot)

    r = subparsers.add_parser("replay", help="open a recorded session in the window")
    r.add_argument("session", help="a .wbsession file")
    r.set_defaults(func=cmd_replay)


def _parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or not (200 <= int(m.group(1)) <= 8000 and 200 <= int(m.group(2)) <= 8000):
        raise CliError(f"--size {text!r} is not allowed: WIDTHxHEIGHT, e.g. 1440x900, "
                       "each 200 to 8000")
    return int(m.group(1)), int(m.group(2))


def cmd_gui(args) -> int:
    cfg = load_config_arg(args.config) if args.config else None
    from PySide6 import QtCore

    from .app import ensure_app
    from .main_window import MainWindow
    app = ensure_app()
    win = MainWindow(cfg, theme=args.theme)
    win.show()
    QtCore.QTimer.singleShot(0, win.raise_)
    return int(app.exec())


def render_screenshot(cfg, steps: int, out: str | Path, size=(1440, 900),
                      theme: str = "light", timeout: float = 120.0) -> Path:
    """Train ``steps`` steps in a fresh window and save the whole window as PNG.

    Returns the path written. Raises CliError when the run does not get there in time.
    """
    from PySide6 import QtCore

    from .app import ensure_app
    from .main_window import MainWindow
    app = ensure_app(offscreen=not os.environ.get("DISPLAY") and
                     not os.environ.get("WAYLAND_DISPLAY"))
    settings = QtCore.QSettings(QtCore.QSettings.Format.IniFormat,
                                QtCore.QSettings.Scope.UserScope, "workbench-screenshot")
    settings.clear()
    win = MainWindow(cfg, settings=settings, restore_layout=False, theme=theme)
    try:
        win.resize(*size)
        win.show()
        app.processEvents()
        if (win.width(), win.height()) != tuple(size):
            small = win.minimumSizeHint()
            raise CliError(f"--size {size[0]}x{size[1]} is smaller than this window can be "
                           f"({small.width()}x{small.height()} at least)")
        c = win.controller
        if steps:
            c.step(steps)
        end = time.monotonic() + timeout
        run = c.run
        while time.monotonic() < end:
            app.processEvents()
            snap = c.runner.latest()
            if snap.step >= min(steps, run.step if run.finished else steps) and \
                    snap.status not in ("compiling", "running") and not c.runner.playing:
                if snap.step == run.step:
                    break
            time.sleep(0.01)
        else:
            raise CliError(f"the run did not reach step {steps} within {timeout:g} s")
        for _ in range(3):   # let layouts settle and views arrive
            c.refresh()
            app.processEvents()
            time.sleep(0.05)
        img = win.grab()
        out = Path(out)
        if not img.save(str(out), "PNG"):
            raise CliError(f"cannot write {out}")
        return out
    finally:
        win.shutdown()
        win.close()
        win.deleteLater()
        app.processEvents()


def cmd_screenshot(args) -> int:
    cfg = load_config_arg(args.config)
    if args.steps < 0:
        raise CliError(f"--steps {args.steps} is not allowed: a number >= 0")
    size = _parse_size(args.size)
    out = render_screenshot(cfg, args.steps, args.out, size, args.theme, args.timeout)
    sys.stderr.write(f"wrote {out}\n")
    return 0


def cmd_replay(args) -> int:
    path = Path(args.session)
    if not path.exists():
        raise CliError(f"session file not found: {path}")
    from ..session import SessionError, open_session
    try:
        open_session(path).close()       # refuse a bad file with one line, before Qt
    except SessionError as e:
        raise CliError(str(e)) from None
    from .app import ensure_app
    from .main_window import MainWindow
    app = ensure_app()
    win = MainWindow()
    if not win.open_replay(path):
        return 2
    win.show()
    return int(app.exec())
