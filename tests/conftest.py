"""Test set-up: headless Qt and a private Numba cache, set before anything imports them."""
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), "wb-numba-cache"))
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_orphan_graphics(request):
    """Fail a Qt test that leaves a graphics item alive in no scene and under no parent.
    Nothing deletes such an item before PySide's clean-up at exit, and deleting an
    orphaned plot there crashed the process after the last test had passed (a segfault
    that failed CI). Runs after the test's own fixtures have closed its widgets, and
    deletes what they scheduled for deletion (``tests/ui``'s clean-up leaves that here)."""
    yield
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        return
    import gc

    from PySide6 import QtCore, QtWidgets
    from shiboken6 import isValid
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    gc.collect()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    # issubclass(type(o)): isinstance asks o.__class__, which a dead weakref.proxy among
    # the collected objects answers with ReferenceError
    found = [o for o in gc.get_objects()
             if issubclass(type(o), QtWidgets.QGraphicsItem) and isValid(o)
             and o.scene() is None
             and o.parentItem() is None and all(o is not k for k in _REPORTED)]
    # each reported once, so only the test that leaked it fails (deleting them here
    # crashes, as at exit)
    _REPORTED.extend(found)
    assert not found, ("graphics items left alive outside any scene: "
                       f"{sorted(type(o).__name__ for o in found)}")


_REPORTED: list = []


def flip_snapshot_byte(path, order: str = "id", after_step: int = 0) -> int:
    """Flip one bit of one stored snapshot of the session file ``path`` (its checksum then
    fails): the first one after ``after_step`` by ``order`` ("id", or "step DESC" for the
    last). Returns that snapshot's step."""
    import sqlite3
    con = sqlite3.connect(path)
    try:
        rid, step, blob = con.execute(
            f"SELECT id, step, data FROM snapshots WHERE step > ? ORDER BY {order} LIMIT 1",
            (after_step,)).fetchone()
        b = bytearray(blob)
        b[20] ^= 0x10
        con.execute("UPDATE snapshots SET data = ? WHERE id = ?", (bytes(b), rid))
        con.commit()
    finally:
        con.close()
    return int(step)


@pytest.fixture
def flip_snapshot():
    """:func:`flip_snapshot_byte`, for tests in any folder."""
    return flip_snapshot_byte
