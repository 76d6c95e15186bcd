"""Read a user's CSV file into inputs and a target.

The last column is the target; every other column is an input. A first row with any
non-numeric cell is a header. Cells are separated by commas; a semicolon or a tab is
accepted instead when the file uses it consistently. A target of at most
:data:`MAX_CLASSES` distinct integer values (and more than one) is a class label;
anything else is a regression target.

A file that cannot describe a dataset raises :class:`DataError` with one line that names
the problem and, where it applies, the row (1-based, as a text editor counts lines) and
the column (1-based, with its header name when there is a header).
"""
from __future__ import annotations

import csv
import gzip
import io
import math
from pathlib import Path

import numpy as np

MAX_CLASSES = 20
_DELIMITERS = (",", ";", "\t")


class DataError(ValueError):
    """Data that cannot be used for a run; the message is one line."""


#: The CSV reader's errors are data errors like any other; the alias keeps call sites
#: that think in terms of "CSV problems" readable.
CsvError = DataError


def load_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Read a CSV file whose last column is the target.

    Parameters
    ----------
    path : str or Path
        The file; a name ending in ``.gz`` is read through gzip.

    Returns
    -------
    X : np.ndarray, shape (n, d), float64
        The input columns, d >= 1.
    y : np.ndarray
        ``(n,)`` int64 labels 0..C-1 for classification (the sorted distinct target
        values mapped to 0, 1, ...), or ``(n, 1)`` float64 for regression.
    task : str
        ``"classification"`` or ``"regression"``.

    Raises
    ------
    DataError
        Missing or empty file, ragged rows, non-numeric, NaN or infinite cells, fewer
        than two columns, fewer than two data rows, or a constant target.
    """
    X, y, task, _ = read_csv_table(path)
    return X, y, task


def read_csv_table(path: str | Path) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """Like :func:`load_csv`, and also return the input column names.

    Returns
    -------
    X, y, task
        As :func:`load_csv`.
    names : list of str, length d
        The header names of the input columns, or ``x1 .. xd`` without a header.
    """
    p = Path(path)
    text = _read_text(p)
    rows = _rows(text, p)
    if not rows:
        raise DataError(f"CSV file is empty: {p}")

    first_line, first = rows[0]
    header: list[str] | None = None
    if any(_parse(c) is None for c in first):
        header = first
        rows = rows[1:]
    n_cols = len(first)
    if n_cols < 2:
        what = f"header '{first[0]}'" if header else "one column"
        raise DataError(f"{p}: only one column ({what} on row {first_line}); need at "
                        "least one input column and the target as the last column")

    def col(j: int) -> str:
        # j is 0-based; messages use the 1-based number a spreadsheet user sees.
        return f"column {j + 1} ('{header[j]}')" if header else f"column {j + 1}"

    values = np.empty((len(rows), n_cols), dtype=np.float64)
    for i, (line, cells) in enumerate(rows):
        if len(cells) != n_cols:
            raise DataError(f"{p}: row {line} has {len(cells)} column"
                            f"{'s' if len(cells) != 1 else ''}, expected {n_cols}")
        for j, cell in enumerate(cells):
            v = _parse(cell)
            if v is None:
                if cell == "":
                    raise DataError(f"{p}: row {line}, {col(j)} is empty; fill or remove "
                                    "missing values")
                raise DataError(f"{p}: row {line}, {col(j)}: '{_short(cell)}' is not a "
                                "number")
            if math.isnan(v):
                raise DataError(f"{p}: row {line}, {col(j)}: '{_short(cell)}' is NaN; "
                                "fill or remove missing values")
            if math.isinf(v):
                raise DataError(f"{p}: row {line}, {col(j)}: '{_short(cell)}' is "
                                "infinite")
            values[i, j] = v

    if len(rows) < 2:
        raise DataError(f"{p}: {len(rows)} data row{'s' if len(rows) != 1 else ''}; "
                        "need at least 2")
    target = values[:, -1]
    distinct = np.unique(target)
    if distinct.size == 1:
        raise DataError(f"{p}: the target {col(n_cols - 1)} is constant "
                        f"(every row is {distinct[0]:g}); there is nothing to learn")

    X = np.ascontiguousarray(values[:, :-1])
    if distinct.size <= MAX_CLASSES and np.all(distinct == np.round(distinct)):
        # searchsorted against the sorted distinct values is the remapping to 0..C-1.
        y = np.searchsorted(distinct, target).astype(np.int64)
        task = "classification"
    else:
        y = target.reshape(-1, 1).copy()
        task = "regression"
    names = ([h if h else f"x{j + 1}" for j, h in enumerate(header[:-1])] if header
             else [f"x{j + 1}" for j in range(n_cols - 1)])
    return X, y, task, names


# --- helpers -------------------------------------------------------------------------

def _read_text(p: Path) -> str:
    try:
        raw = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"CSV file not found: {p}") from None
    except IsADirectoryError:
        raise DataError(f"CSV path is a folder, not a file: {p}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read CSV file {p}: {e}") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        # no text CSV holds a NUL byte: binary data or UTF-16 (the csv module's own
        # message then spoke of universal-newline mode, and a NUL inside a cell was
        # invisible in "'2' is not a number")
        line = raw.count(b"\n", 0, nul) + 1
        raise DataError(f"{p} is not a text CSV file: it holds a NUL byte (line {line}); "
                        "save it as CSV text (UTF-8)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on some systems still save Latin-1; every byte decodes, and any
        # real garbage then surfaces as a "not a number" cell with its row and column.
        return raw.decode("latin-1")


def _rows(text: str, p: Path) -> list[tuple[int, list[str]]]:
    """Split the text into (line number, stripped cells) for every non-blank row."""
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        return []
    delim = _pick_delimiter(first, lines)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows = []
    line_start = 1
    try:
        for cells in reader:
            # line_num counts physical lines read so far; a row starts on the line after
            # the previous row ended (quoted cells may span lines).
            line = line_start
            line_start = reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            rows.append((line, [c.strip() for c in cells]))
    except csv.Error as e:
        raise DataError(f"{p}: row {reader.line_num}: {e}") from None
    return rows


def _pick_delimiter(first: str, lines: list[str]) -> str:
    present = [d for d in _DELIMITERS if d in first]
    if len(present) <= 1:
        return present[0] if present else ","
    # Several candidates on the first line (e.g. a header "a;b,c"): take the first one,
    # in order of preference, that splits every row into the same number of cells.
    body = [ln for ln in lines if ln.strip()]
    for d in present:
        if len({ln.count(d) for ln in body}) == 1:
            return d
    return present[0]


def _parse(cell: str) -> float | None:
    if "_" in cell:
        # Python's float() accepts "1_000"; no CSV writer means that, so refuse it.
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _short(cell: str, limit: int = 40) -> str:
    return cell if len(cell) <= limit else cell[:limit - 3] + "..."
