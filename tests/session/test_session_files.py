"""Bad and damaged files are refused with one clear line; the CLI exits 2."""
import sqlite3

import numpy as np
import pytest

from workbench.cli import main
from workbench.session import SessionError, is_session_file, open_session
from workbench.session import format as F


def refused(path, capsys, match):
    with pytest.raises(SessionError, match=match) as e:
        with open_session(path) as s:
            s.metrics()
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return msg


def test_missing_empty_text_and_folder(tmp_path, capsys):
    refused(tmp_path / "nope.wbsession", capsys, "no such file")
    (tmp_path / "empty.wbsession").write_bytes(b"")
    refused(tmp_path / "empty.wbsession", capsys, "is empty")
    (tmp_path / "t.wbsession").write_text("step,loss\n1,0.5\n")
    refused(tmp_path / "t.wbsession", capsys, "not an SQLite database")
    refused(tmp_path, capsys, "is a folder")


def test_sqlite_file_of_another_program(tmp_path, capsys):
    p = tmp_path / "other.wbsession"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    con.execute("INSERT INTO contacts VALUES ('a', '1')")
    con.commit()
    con.close()
    refused(p, capsys, "SQLite database of another program")
    assert not is_session_file(p)


def test_newer_format_version(w1_session, tmp_path, capsys):
    path, _ = w1_session
    p = tmp_path / "newer.wbsession"
    p.write_bytes(path.read_bytes())
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version = {F.FORMAT_VERSION + 1}")
    con.commit()
    con.close()
    msg = refused(p, capsys, "written by a newer workbench")
    assert f"format {F.FORMAT_VERSION + 1}" in msg


def test_older_format_without_migration_is_refused(w1_session, tmp_path, capsys):
    path, _ = w1_session
    p = tmp_path / "older.wbsession"
    p.write_bytes(path.read_bytes())
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version = 0")
    con.commit()
    con.close()
    refused(p, capsys, "damaged")


def test_truncated_files(w1_session, tmp_path, capsys):
    path, _ = w1_session
    data = path.read_bytes()
    for frac in (0.5, 0.9):
        p = tmp_path / f"trunc{frac}.wbsession"
        p.write_bytes(data[:int(len(data) * frac)])
        refused(p, capsys, "damaged")
    p = tmp_path / "head.wbsession"
    p.write_bytes(data[:60])
    refused(p, capsys, "damaged")


def test_flipped_bytes_never_give_a_traceback(w1_session, tmp_path, capsys):
    """Random byte flips: the file is refused with one line, or it still reads consistently
    (a flip inside unused space); reading never raises anything but SessionError."""
    path, _ = w1_session
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    refusals = 0
    for trial in range(12):
        b = bytearray(data)
        for pos in rng.integers(100, len(b), 8):
            b[pos] ^= 0xFF
        p = tmp_path / f"flip{trial}.wbsession"
        p.write_bytes(bytes(b))
        try:
            with open_session(p) as s:
                s.metrics(), s.evaluations(), s.events()
                for info in s.snapshots():
                    s.snapshot_state(info)
        except SessionError as e:
            assert "\n" not in str(e)
            refusals += 1
    # header flips are refused by SQLite itself
    b = bytearray(data)
    b[16:24] = b"\xff" * 8            # page size and versions
    (tmp_path / "hdr.wbsession").write_bytes(bytes(b))
    refused(tmp_path / "hdr.wbsession", capsys, "damaged|cannot be read|not a")
    assert refusals >= 6


def test_damaged_metric_row_is_named(w1_session, tmp_path):
    path, _ = w1_session
    p = tmp_path / "row.wbsession"
    p.write_bytes(path.read_bytes())
    con = sqlite3.connect(p)
    rid, blob = con.execute("SELECT id, data FROM chunks ORDER BY id LIMIT 1").fetchone()
    b = bytearray(blob)
    b[len(b) // 2] ^= 1
    con.execute("UPDATE chunks SET data = ? WHERE id = ?", (bytes(b), rid))
    con.commit()
    con.close()
    with pytest.raises(SessionError, match=rf"metrics row {rid}\) is damaged"):
        open_session(p)


def test_verify_and_export_refuse_bad_files(tmp_path, capsys):
    p = tmp_path / "t.wbsession"
    p.write_text("hello")
    assert main(["verify", str(p)]) == 2
    assert main(["export", str(p), "--csv", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("not a session file" in e for e in err)
    assert not (tmp_path / "out").exists()
