"""CLI info / verify / export, weights files, HTML report, the sessions folder."""
import csv
import json
import sqlite3

import numpy as np
import pytest

from workbench.cli import main
from workbench.run import Run
from workbench.session import SessionError, open_session
from workbench.session import format as F
from workbench.session.commands import findings_of
from workbench.session.folder import new_session_path, recent_sessions, session_name
from workbench.session.report import png_bytes
from workbench.session.weights import (export_weights, load_weights, read_weights,
                                       run_from_weights)

from session_helpers import TINY, W1


def test_info_text_and_json(w1_session, capsys):
    path, run = w1_session
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "steps 0..5377  complete" in out and "step 2100: hparams {'lr': 0.1}" in out
    assert "data spiral" in out and "MB, session format 1" in out
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["steps"] == 5377 and info["closed"] is True
    assert info["config"]["optimizer"]["lr"] == 0.03 and len(info["events"]) == 3
    assert info["findings"] == [f.to_dict() for f in run.findings()]
    assert info["size_bytes"] == path.stat().st_size
    assert findings_of(path) == info["findings"]


def test_verify_cli_exit_codes(w1_session, tmp_path, capsys):
    path, _ = w1_session
    assert main(["verify", str(path)]) == 0
    assert capsys.readouterr().out.startswith("pass: ")
    p = tmp_path / "bad.wbsession"
    p.write_bytes(path.read_bytes())
    con = sqlite3.connect(p)
    rid, d, blob = con.execute("SELECT id, arrays, data FROM snapshots WHERE reason = "
                               "'interval' ORDER BY id LIMIT 1 OFFSET 2").fetchone()
    step = con.execute("SELECT step FROM snapshots WHERE id = ?", (rid,)).fetchone()[0]
    a = F.decode_arrays(d, blob, "x")
    a["vel"] = a["vel"] * 2
    d2, b2 = F.encode_arrays(a)
    con.execute("UPDATE snapshots SET arrays = ?, data = ? WHERE id = ?", (d2, b2, rid))
    con.commit()
    con.close()
    assert main(["verify", str(p), "--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    assert res["ok"] is False and res["step"] == step and res["array"] == "vel"


def test_export_csv(w1_session, tmp_path, capsys):
    path, run = w1_session
    out = tmp_path / "csv"
    assert main(["export", str(path), "--csv", str(out)]) == 0
    with open(out / "metrics.csv") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["step", "loss", "lr", "flags"] and "gnorm_3" in rows[0]
    assert len(rows) == 1 + run.step
    h = run.history.steps()
    assert float(rows[2101][1]) == h["loss"][2100] and float(rows[2101][2]) == 0.1
    with open(out / "evaluations.csv") as fh:
        ev = list(csv.DictReader(fh))
    assert len(ev) == len(run.evaluations)
    assert float(ev[-1]["test_acc"]) == run.evaluations[-1]["test_acc"]
    with open(out / "events.csv") as fh:
        evs = list(csv.DictReader(fh))
    assert [e["kind"] for e in evs] == ["hparams", "weight", "hparams"]
    assert main(["export", str(path)]) == 2
    assert "at least one of" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_weights_round_trip(w1_session, tmp_path, suffix, capsys):
    path, run = w1_session
    f = tmp_path / f"w{suffix}"
    assert main(["export", str(path), "--weights", str(f)]) == 0
    layers, info = read_weights(f)
    assert info["step"] == run.step and info["config"] == run.config.to_dict()
    assert [W.shape for W, _ in layers] == [(8, 2), (8, 8), (1, 8)]   # (n_out, n_in)
    for (W, b), (Wr, br) in zip(layers, run.network.weights):
        assert np.array_equal(W, Wr) and np.array_equal(b, br)
    # start a run from the file: same predictions, and it trains on from there
    r2 = run_from_weights(f, session=tmp_path / f"from{suffix}.wbsession")
    X = run.train_data[0]
    assert np.array_equal(r2.predict(X) if hasattr(r2, "predict") else r2.network.predict(X),
                          run.network.predict(X))
    r2.run_steps(200)
    r2.finish()
    with open_session(tmp_path / f"from{suffix}.wbsession") as s:
        assert s.origin == "weights" and s.last_step == 200
    from workbench.session import verify
    assert verify(tmp_path / f"from{suffix}.wbsession").ok


def test_weights_of_a_session_step_and_bad_files(w1_session, tmp_path):
    path, _ = w1_session
    export_weights(path, tmp_path / "w100.npz", step=100)
    with open_session(path) as s:
        theta = s.state_at(100)["theta"]
    r = Run(W1, diagnostics=False)
    load_weights(r, tmp_path / "w100.npz")
    assert r.network.theta.tobytes() == theta.tobytes()
    small = Run(TINY, diagnostics=False)
    with pytest.raises(SessionError, match="layers; the network has|layer 1 W is"):
        load_weights(small, tmp_path / "w100.npz")
    (tmp_path / "junk.json").write_text("{\"a\": 1}")
    with pytest.raises(SessionError, match="not a readable weights file"):
        read_weights(tmp_path / "junk.json")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 nonsense")
    with pytest.raises(SessionError, match="not a readable weights file"):
        read_weights(tmp_path / "junk.npz")
    with pytest.raises(SessionError, match=".npz or .json"):
        export_weights(path, tmp_path / "w.txt")


def test_html_report_is_self_contained(w1_session, tmp_path, capsys):
    path, run = w1_session
    out = tmp_path / "report.html"
    assert main(["export", str(path), "--html", str(out)]) == 0
    text = out.read_text()
    assert text.count("data:image/png;base64,") == 3    # loss, accuracy, decision map
    assert "src=\"http" not in text and "<script" not in text
    assert "&quot;lr&quot;: 0.1" in text or "{&quot;lr&quot;: 0.1}" in text
    for f in run.findings():
        assert f.code in text
    assert "&quot;name&quot;: &quot;spiral&quot;" in text


def test_html_report_and_reader_of_a_session_with_no_evaluation(tmp_path, capsys):
    # a session recorded with --steps 0 (or killed before its first evaluation was
    # written) held no evaluation row, and the reader's arrays failed to reshape
    path = tmp_path / "s0.wbsession"
    assert main(["train", json_file(tmp_path, TINY), "--steps", "0", "--out", str(path)]) == 0
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM evaluations")
    with open_session(path) as r:
        ev = r.evaluations()
        assert ev["step"].shape == (0,) and ev["eval_dead"].shape == (0, max(r.n_layers, 1))
    out = tmp_path / "s0.html"
    assert main(["export", str(path), "--html", str(out)]) == 0
    assert "<html" in out.read_text().lower()


def json_file(tmp_path, cfg) -> str:
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps(cfg))
    return str(p)


def test_png_writer_produces_a_valid_png():
    import struct
    import zlib
    img = np.zeros((3, 4, 3), np.uint8)
    img[1, 2] = (255, 0, 10)
    b = png_bytes(img)
    assert b[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", b[16:24])
    assert (w, h) == (4, 3)
    idat = b[b.index(b"IDAT") + 4:b.index(b"IEND") - 8]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(3, 13)
    assert np.array_equal(raw[:, 1:].reshape(3, 4, 3), img)


def test_sessions_folder_helpers(tmp_path):
    from workbench.config import load_config
    cfg = load_config(W1)
    name = session_name(cfg, when=0)
    assert name.endswith(".wbsession") and "spiral-sgd-lr0.03" in name
    a = new_session_path(cfg, folder=tmp_path, when=0)
    a.write_bytes(b"")
    b = new_session_path(cfg, folder=tmp_path, when=0)
    assert a != b and b.name.endswith("-2.wbsession")
    b.write_bytes(b"")
    assert set(recent_sessions(folder=tmp_path)) == {a, b}
    assert recent_sessions(folder=tmp_path / "none") == []


def test_train_cli_records_a_session(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    out = tmp_path / "t.wbsession"
    assert main(["train", str(cfg), "--steps", "300", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 300
    assert main(["verify", str(out)]) == 0


def test_train_cli_refuses_an_unwritable_out(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    assert main(["train", str(cfg), "--steps", "5", "--out",
                 str(tmp_path / "no" / "dir" / "x.wbsession")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot create session file") and err.count("\n") == 1
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(["train", str(cfg), "--steps", "5", "--out", str(tmp_path / "notes.txt")]) == 2
    assert "not overwritten" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "keep me"
