"""Array codecs of the session format and the recorder's snapshot cadence."""
import json
import time
import zlib

import numpy as np
import pytest

from workbench.run import Run
from workbench.session import format as F
from workbench.session import open_session
from workbench.session import recorder as R

from session_helpers import W1


def test_deflate_is_plain_zlib_for_any_pattern_of_zero_blocks():
    rng = np.random.default_rng(5)
    sizes = [0, 1, 4095, 4096, 16383, 16384, 16385, 3 * 4096 + 7, 200_000, 1_000_003]
    for n in sizes * 3:
        a = np.zeros(n, np.uint8)
        for _ in range(int(rng.integers(0, 12))):
            if n:
                s = int(rng.integers(0, n))
                a[s:s + int(rng.integers(1, 9000))] = rng.integers(1, 256)
        raw = a.tobytes()
        z = F.deflate(raw)
        assert zlib.decompress(z) == raw, n
    # all zero: spliced blocks, much smaller than the input, still plain zlib
    raw = bytes(2_000_000)
    assert zlib.decompress(F.deflate(raw)) == raw and len(F.deflate(raw)) < 20_000


@pytest.mark.parametrize("codec", ["raw", "zshuf", "zxor", "auto"])
def test_every_codec_round_trips(codec):
    arrays = {"f64": np.linspace(0, 1, 7), "empty": np.zeros((0, 3), np.float32),
              "flags": np.zeros(50_000, np.int8), "lr": np.full(50_000, 0.03),
              "sat": np.repeat(np.float32([0, 0.125, 0.25]), 20_000).reshape(-1, 3),
              "noisy": np.random.default_rng(1).random((40_000, 3)).astype(np.float32),
              "perm": np.random.default_rng(2).permutation(700), "b": np.array([True, False])}
    d, blob = F.encode_arrays(arrays, codec)
    out = F.decode_arrays(d, blob, "test")
    for k, a in arrays.items():
        assert out[k].dtype == a.dtype and out[k].shape == a.shape, k
        np.testing.assert_array_equal(out[k], a)
    if codec == "auto":
        used = {e["name"]: e["codec"] for e in json.loads(d)}
        # constant or rarely changing: deflated; noisy: raw (deflate costs more than
        # writing the bytes it saves)
        assert used["flags"] == used["lr"] == used["sat"] == "zxor"
        assert used["noisy"] == used["perm"] == "raw"


def test_a_flipped_byte_in_a_spliced_record_is_refused():
    d, blob = F.encode_arrays({"lr": np.full(100_000, 0.03)}, "zxor")
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0x40
    with pytest.raises(F.SessionError, match="damaged"):
        F.decode_arrays(d, bytes(bad), "rec")


def _interval_snapshots(path):
    with open_session(path) as s:
        return [i for i in s.snapshots() if i.reason == "interval"]


def test_snapshot_cadence_is_cost_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "SNAPSHOT_SECONDS", 1000.0)
    monkeypatch.setattr(R, "SNAPSHOT_GAP_MAX", 1000.0)
    # free snapshots: one every SNAPSHOT_STEPS steps
    monkeypatch.setattr(R, "SNAPSHOT_COST_SHARE", 0.0)
    run = Run(W1, session=tmp_path / "free.wbsession")
    run.run_steps(20_000)
    run.finish()
    free = _interval_snapshots(tmp_path / "free.wbsession")
    assert 18 <= len(free) <= 21
    assert all(b.step - a.step >= R.SNAPSHOT_STEPS for a, b in zip(free, free[1:]))
    # a snapshot that costs 3 ms: at most 1 % of the training time goes to them
    monkeypatch.setattr(R, "SNAPSHOT_COST_SHARE", 0.01)
    put = R.Recorder._put

    def slow_put(self, item):
        if item[0] == "snapshot":
            time.sleep(0.003)
        put(self, item)
    monkeypatch.setattr(R.Recorder, "_put", slow_put)
    run = Run(W1, session=tmp_path / "dear.wbsession")
    tic = time.perf_counter()
    run.run_steps(20_000)
    elapsed = time.perf_counter() - tic
    run.finish()
    dear = _interval_snapshots(tmp_path / "dear.wbsession")
    assert len(dear) * 0.003 <= 0.01 * elapsed + 0.003
    assert len(dear) < len(free), (len(dear), len(free))
