"""The ``.wbsession`` file format: an SQLite database in WAL mode (stdlib sqlite3 + numpy).

Layout (format version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)      JSON values: format, app_version, config,
                                                created, origin, parent, fork_step, ...
    events(id, step, time, kind, payload)       payload JSON
    chunks(id, start, count, time, arrays, data) per-step metrics of steps
                                                start+1 .. start+count
    evaluations(id, step, time, row)            row JSON
    snapshots(id, step, n_applied, reason, time, arrays, data)
                                                everything Run.get_state() returns
    findings(id, step, time, findings)          JSON list of Finding.to_dict()
    blobs(name, info, arrays, data)             named extras: "dataset" when the run's
                                                data cannot be rebuilt from the config
                                                (points placed by hand, a CSV file)

Numeric records are one blob holding several arrays; ``arrays`` is a JSON directory
``[{"name", "dtype", "shape", "codec", "offset", "nbytes", "crc"}, ...]``. Codecs are
``raw`` (the array's bytes, little endian), ``zshuf`` (bytes shuffled by significance,
then zlib) and ``zxor`` (each row XOR the previous one, shuffled, then zlib); every zlib
stream is a plain one (see :func:`deflate`). Writers may ask for ``auto``: ``zxor`` where
a series is constant or rarely changes, else ``raw`` (the directory names the codec
used). Only numeric dtypes are accepted on reading; nothing is ever unpickled or
evaluated. Files are written in 32 kB pages.

The file carries ``PRAGMA application_id`` (so another program's SQLite file is told
apart), ``PRAGMA user_version`` (the format version) and the same version in ``meta``.
Older versions are upgraded by the functions in :data:`MIGRATIONS`.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

FORMAT_VERSION = 1
APPLICATION_ID = 0x57427365  # "WBse"
SQLITE_MAGIC = b"SQLite format 3\x00"
SUFFIX = ".wbsession"
PAGE_SIZE = 32768
WAL_PAGES = 128           # checkpoint the WAL into the file every 4 MB (SQLite's default)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, "
    "time REAL NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY, start INTEGER NOT NULL, "
    "count INTEGER NOT NULL, time REAL NOT NULL, arrays TEXT NOT NULL, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS evaluations (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, "
    "time REAL NOT NULL, row TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshots (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, "
    "n_applied INTEGER NOT NULL, reason TEXT NOT NULL, time REAL NOT NULL, "
    "arrays TEXT NOT NULL, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS findings (id INTEGER PRIMARY KEY, step INTEGER NOT NULL, "
    "time REAL NOT NULL, findings TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, info TEXT NOT NULL, "
    "arrays TEXT NOT NULL, data BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS snapshots_step ON snapshots(step)",
)
TABLES = ("meta", "events", "chunks", "evaluations", "snapshots", "findings", "blobs")

# The dtypes a session may hold; anything else in a file is refused (no object arrays).
DTYPES = {name: np.dtype(name).newbyteorder("<") for name in (
    "float64", "float32", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint8",
    "bool")}


class SessionError(Exception):
    """A session file cannot be used; the message is one line naming file and problem."""


# --- array records ----------------------------------------------------------------------
def _shuffle(raw: bytes, itemsize: int) -> bytes:
    """Group the bytes of each significance together (like Blosc's shuffle filter)."""
    if itemsize == 1:
        return raw
    return np.frombuffer(raw, np.uint8).reshape(-1, itemsize).T.tobytes()


def _unshuffle(raw: bytes, itemsize: int) -> bytes:
    if itemsize == 1:
        return raw
    return np.frombuffer(raw, np.uint8).reshape(itemsize, -1).T.tobytes()


def _enc_raw(a: np.ndarray) -> bytes:
    return a.tobytes()


def _dec_raw(b: bytes, itemsize: int) -> bytes:
    return b


_ZBLOCK = 4096
_ZERO_BLOCK: bytes = b""


def _zero_block() -> bytes:
    """Deflate blocks for _ZBLOCK zero bytes that stand anywhere in a stream: a literal
    zero, then matches at distance 1 only (Z_RLE), byte-aligned by a full flush."""
    global _ZERO_BLOCK
    if not _ZERO_BLOCK:
        co = zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
        _ZERO_BLOCK = co.compress(bytes(_ZBLOCK)) + co.flush(zlib.Z_FULL_FLUSH)
    return _ZERO_BLOCK


def deflate(raw: bytes) -> bytes:
    """``zlib.compress(raw, 1)``, the same format (any zlib inflates it), but runs of
    zero bytes cost next to nothing: the 4 kB blocks that are all zero are spliced in
    ready-made, deflate runs only on the others (each run of them ends in a full flush,
    so nothing refers back across a splice). A series that rarely changes, XORed with
    itself, is almost all such blocks; zlib spends ~3 ns a byte even on zeros."""
    n = len(raw)
    nb = n // _ZBLOCK
    if nb < 4:
        return zlib.compress(raw, 1)
    a = np.frombuffer(raw, np.uint8)
    nz = a[:nb * _ZBLOCK].view(np.uint64).reshape(nb, _ZBLOCK // 8).max(axis=1) != 0
    if np.count_nonzero(nz) * 2 > nb:
        return zlib.compress(raw, 1)
    zb = _zero_block()
    mv = memoryview(raw)
    co = zlib.compressobj(1, zlib.DEFLATED, -15)
    parts = [b"\x78\x01"]           # zlib header: deflate, 32 kB window, fastest level
    edges = (np.flatnonzero(nz[1:] != nz[:-1]) + 1).tolist()
    adler = 1
    for s, e in zip([0] + edges, edges + [nb]):
        if nz[s]:
            part = mv[s * _ZBLOCK:e * _ZBLOCK]
            parts.append(co.compress(part))
            parts.append(co.flush(zlib.Z_FULL_FLUSH))
            adler = zlib.adler32(part, adler)
        else:
            parts.append(zb * (e - s))
            # Adler-32 over zeros: the byte sum stays, the sum of sums grows by it each byte
            lo = adler & 0xFFFF
            adler = (((adler >> 16) + lo * (e - s) * _ZBLOCK) % 65521) << 16 | lo
    tail = mv[nb * _ZBLOCK:]
    parts.append(co.compress(tail))
    parts.append(co.flush(zlib.Z_FINISH))       # the final block
    parts.append(zlib.adler32(tail, adler).to_bytes(4, "big"))
    return b"".join(parts)


def _enc_zshuf(a: np.ndarray) -> bytes:
    return deflate(_shuffle(a.tobytes(), a.dtype.itemsize))


def _dec_zshuf(b: bytes, itemsize: int) -> bytes:
    return _unshuffle(zlib.decompress(b), itemsize)


_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _enc_zxor(a: np.ndarray) -> bytes:
    """XOR each row's bit pattern with the previous row's (slowly changing series turn
    into leading zero bytes, as in Gorilla compression), then shuffle and deflate."""
    return deflate(_shuffle(_xor_rows(a).tobytes(), a.dtype.itemsize))


def _dec_zxor(b: bytes, itemsize: int) -> bytes:
    raise NotImplementedError  # needs the row width: see decode_arrays


CODECS: dict[str, tuple[Callable[[np.ndarray], bytes], Callable[[bytes, int], bytes]]] = {
    "raw": (_enc_raw, _dec_raw),
    "zshuf": (_enc_zshuf, _dec_zshuf),
    "zxor": (_enc_zxor, _dec_zxor),
}


def _unxor(raw: bytes, itemsize: int, shape: tuple) -> bytes:
    u = np.frombuffer(raw, _UINT[itemsize])
    rows = shape[0] if shape else 1
    u = u.reshape(rows, u.size // rows if rows else 0)
    return np.bitwise_xor.accumulate(u, axis=0).tobytes()


def _xor_rows(a: np.ndarray) -> np.ndarray:
    """Each row's bit pattern XOR the previous row's (the first row as is)."""
    rows = a.shape[0] if a.ndim else 1
    u = a.reshape(rows, a.size // rows if rows else 0).view(_UINT[a.dtype.itemsize])
    x = u.copy()
    x[1:] ^= u[:-1]
    return x


# "auto": zxor when the XOR of consecutive rows is almost all zero bytes (a constant or
# rarely changing series: zlib then runs at memory speed and shrinks it ~100x), else raw.
# On noisy series deflate costs ~15 ns a byte to save a few bytes, while SQLite writes a
# byte for ~4 ns: raw is cheaper there.
AUTO_NONZERO = 0.03      # at most this share of nonzero XOR bytes for zxor
_AUTO_SAMPLE = 1024      # rows tested first (a noisy series is refused after this many)

# dtype -> session dtype name without numpy's slow ``dtype.name`` property
_NAMES = {dt: name for name, dt in DTYPES.items()}
_NAMES.update({dt.newbyteorder("="): name for name, dt in DTYPES.items()})


def _encode_auto(a: np.ndarray) -> tuple[str, bytes]:
    if a.ndim == 0 or a.shape[0] < 2 or a.size == 0:
        return "raw", a.tobytes()
    head = a[:_AUTO_SAMPLE]
    x = _xor_rows(head)
    if np.count_nonzero(x.view(np.uint8)) > AUTO_NONZERO * x.nbytes:
        return "raw", a.tobytes()
    if a.shape[0] > head.shape[0]:
        x = _xor_rows(a)
        if np.count_nonzero(x.view(np.uint8)) > AUTO_NONZERO * x.nbytes:
            return "raw", a.tobytes()
    return "zxor", deflate(_shuffle(x.tobytes(), a.dtype.itemsize))


def encode_arrays(arrays: dict[str, np.ndarray],
                  codec: str | dict[str, str] = "raw") -> tuple[str, bytes]:
    """Pack named arrays into one blob.

    Parameters
    ----------
    arrays : dict of str to np.ndarray
        Numeric arrays of any shape (stored C-ordered, little endian).
    codec : str or dict of str to str
        A key of :data:`CODECS`, or ``"auto"`` (``zxor`` where it is cheap and pays,
        else ``raw``; the directory names the codec used), or one per array name
        (missing names: ``raw``).

    Returns
    -------
    directory : str
        JSON list with name, dtype, shape, codec, offset, nbytes and crc32 per array.
    blob : bytes
    """
    parts, directory, off = [], [], 0
    for name, a in arrays.items():
        c = codec if isinstance(codec, str) else codec.get(name, "raw")
        a = np.ascontiguousarray(a)
        dname = _NAMES.get(a.dtype)
        if dname is None:
            if a.dtype.name not in DTYPES:
                raise TypeError(f"array {name} has dtype {a.dtype}, not a session dtype")
            dname = a.dtype.name
        if a.dtype != DTYPES[dname]:
            a = a.astype(DTYPES[dname])
        if c == "auto":
            c, b = _encode_auto(a)
        elif c == "raw":
            b = memoryview(a).cast("B") if a.size else b""   # no copy: joined below
        else:
            b = CODECS[c][0](a)
        directory.append({"name": name, "dtype": dname, "shape": list(a.shape),
                          "codec": c, "offset": off, "nbytes": len(b),
                          "crc": zlib.crc32(b)})
        parts.append(b)
        off += len(b)
    return json.dumps(directory), b"".join(parts)


def decode_arrays(directory: str, blob: bytes, what: str) -> dict[str, np.ndarray]:
    """Unpack a blob written by :func:`encode_arrays`; SessionError naming ``what`` when
    the directory, a checksum, a codec or a size does not hold."""
    try:
        entries = json.loads(directory)
        out = {}
        for e in entries:
            name, dtype, shape = str(e["name"]), e["dtype"], tuple(int(s) for s in e["shape"])
            if dtype not in DTYPES:
                raise ValueError(f"dtype {dtype!r} is not allowed")
            if e["codec"] not in CODECS:
                raise ValueError(f"unknown codec {e['codec']!r}")
            off, n = int(e["offset"]), int(e["nbytes"])
            if off < 0 or n < 0 or off + n > len(blob):
                raise ValueError("array outside its record")
            b = bytes(blob[off:off + n])
            if zlib.crc32(b) != int(e["crc"]):
                err = SessionError(f"{what} is damaged: checksum of {name} does not match")
                err.array = name
                raise err
            dt = DTYPES[dtype]
            if e["codec"] == "zxor":
                raw = _unxor(_unshuffle(zlib.decompress(b), dt.itemsize), dt.itemsize,
                             shape)
            else:
                raw = CODECS[e["codec"]][1](b, dt.itemsize)
            count = int(np.prod(shape)) if shape else 1
            if len(raw) != count * dt.itemsize:
                raise ValueError(f"{name} has {len(raw)} bytes for shape {shape}")
            out[name] = np.frombuffer(raw, dt).reshape(shape).astype(dt.newbyteorder("="))
        return out
    except SessionError:
        raise
    except (ValueError, KeyError, TypeError, zlib.error, json.JSONDecodeError) as e:
        raise SessionError(f"{what} is damaged: {e}") from None


# --- opening files -------------------------------------------------------------------------
def _migrate_noop(conn: sqlite3.Connection) -> None:  # pragma: no cover - template
    pass


# version -> function upgrading a file of that version to version + 1 (in one transaction)
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {}


def check_header(path: Path) -> None:
    """Refuse, with one line, what is not an SQLite file before SQLite sees it."""
    if not path.exists():
        raise SessionError(f"{path}: no such file")
    if path.is_dir():
        raise SessionError(f"{path} is a folder, not a session file")
    size = path.stat().st_size
    if size == 0:
        raise SessionError(f"{path} is empty: not a session file")
    with open(path, "rb") as fh:
        head = fh.read(100)
    if not head.startswith(SQLITE_MAGIC):
        raise SessionError(f"{path} is not a session file (not an SQLite database)")
    if len(head) < 100:
        raise SessionError(f"{path} is damaged: truncated to {size} bytes")


#: An unclosed session file whose data have not changed for this long is taken to have
#: no live writer (a recorder commits about every second while its run trains; a killed
#: one never closes its file).
QUIET_SECONDS = 10.0


def side_files(path) -> tuple[Path, Path]:
    """SQLite's write-ahead log and shared-memory index beside the session file ``path``."""
    return Path(str(path) + "-wal"), Path(str(path) + "-shm")


def seconds_unwritten(path) -> float:
    """Seconds since the session file ``path`` or its write-ahead log last changed (0.0
    when neither exists)."""
    times = []
    for q in (Path(path), side_files(path)[0]):
        try:
            times.append(q.stat().st_mtime)
        except OSError:
            pass
    return time.time() - max(times) if times else 0.0


def remove_files(path) -> None:
    """Delete the session file ``path`` with its side files (those missing are fine)."""
    for q in (Path(path), *side_files(path)):
        q.unlink(missing_ok=True)


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open an existing SQLite file without ever creating one (autocommit mode)."""
    uri = Path(os.path.abspath(path)).as_uri() + ("?mode=ro" if readonly else "?mode=rw")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                           timeout=5.0)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def db_error(path, e: BaseException) -> SessionError:
    """Translate an SQLite error into the one-line message a user sees."""
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if "malformed" in msg or "not a database" in msg or "disk image" in msg:
        return SessionError(f"{path} is damaged ({msg})")
    if "locked" in msg or "busy" in msg:
        return SessionError(f"{path} is locked by another program ({msg})")
    return SessionError(f"{path} cannot be read ({msg})")


#: What reading a damaged file's contents raises beyond SessionError (a number stored as
#: text, a list where a record was, bytes that are not UTF-8): the readers turn these
#: into :func:`damaged` errors.
CONTENT_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError,
                  UnicodeDecodeError)


def damaged(path, e: BaseException) -> SessionError:
    """The one-line error for a file whose contents could not be read."""
    return SessionError(f"{path} is damaged ({type(e).__name__}: {' '.join(str(e).split())})")


def check_identity(conn: sqlite3.Connection, path, quick_check: bool = True) -> int:
    """Check application id, format version and integrity; return the format version."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise SessionError(f"{path} is an SQLite database of another program, "
                           "not a workbench session")
    if version > FORMAT_VERSION:
        raise SessionError(f"{path} was written by a newer workbench (session format "
                           f"{version}; this version reads up to {FORMAT_VERSION}): "
                           "update the workbench to open it")
    if version < 1:
        raise SessionError(f"{path} is damaged (format version {version})")
    if quick_check:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
        if not rows or rows[0][0] != "ok":
            detail = " ".join(str(rows[0][0]).split()) if rows else "no answer"
            raise SessionError(f"{path} is damaged ({detail})")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [t for t in TABLES if t not in names]
    if missing:
        raise SessionError(f"{path} is damaged (missing tables: {', '.join(missing)})")
    return version


def migrate(conn: sqlite3.Connection, version: int, path) -> int:
    """Upgrade a file of an older format version in place; return the new version."""
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SessionError(f"{path} has session format {version}, which this "
                               "version cannot upgrade")
        conn.execute("BEGIN IMMEDIATE")
        step(conn)
        version += 1
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (json.dumps(version),))
        conn.execute("COMMIT")
    return version


def create(path: Path) -> sqlite3.Connection:
    """Create a fresh session database at ``path`` (which must not exist)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    # 32 kB pages: a metric record of a few hundred kB costs SQLite ~40 % less CPU to
    # write (and checkpoint) than in 4 kB pages; an empty session is ~300 kB
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
    conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode: a killed process loses nothing committed (only a power cut can
    # lose the last commits); FULL would fsync every 250 ms commit.
    conn.execute("PRAGMA synchronous = NORMAL")
    for stmt in SCHEMA:
        conn.execute(stmt)
    return conn


def is_session_file(path) -> bool:
    """True when ``path`` looks like a session file (header and application id)."""
    p = Path(path)
    try:
        check_header(p)
        conn = connect(p, readonly=True)
        try:
            return conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        finally:
            conn.close()
    except (SessionError, sqlite3.Error, OSError):
        return False
