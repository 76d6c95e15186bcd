"""CSV import: good files, the classification/regression rule, and every bad case."""
import gzip

import numpy as np
import pytest

from workbench.data import CsvError, DataError, load_csv, load_dataset
from workbench.data.datasets import DIGITS_PATH


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_header_and_classification(tmp_path):
    p = write(tmp_path, "x1,x2,label\n0.5,1,3\n-1,2e-1,7\n2,3,3\n\n4, 5 ,5\n")
    X, y, task = load_csv(p)
    assert task == "classification"
    np.testing.assert_array_equal(X, [[0.5, 1], [-1, 0.2], [2, 3], [4, 5]])
    assert X.dtype == np.float64 and X.shape == (4, 2)
    # Labels 3, 5, 7 are remapped from their sorted order.
    np.testing.assert_array_equal(y, [0, 2, 0, 1])
    assert y.dtype == np.int64 and y.shape == (4,)


def test_no_header(tmp_path):
    X, y, task = load_csv(write(tmp_path, "1,2,0\n3,4,1\n5,6,1\n"))
    assert task == "classification" and X.shape == (3, 2)
    np.testing.assert_array_equal(y, [0, 1, 1])


def test_regression_target(tmp_path):
    _X, y, task = load_csv(write(tmp_path, "a,b\n1,0.5\n2,1.5\n3,2.25\n"))
    assert task == "regression" and y.shape == (3, 1) and y.dtype == np.float64
    np.testing.assert_array_equal(y[:, 0], [0.5, 1.5, 2.25])


def test_many_integer_values_is_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 3}" for i in range(21))
    assert load_csv(write(tmp_path, rows))[2] == "regression"
    rows = "\n".join(f"{i},{i % 20}" for i in range(40))
    assert load_csv(write(tmp_path, rows))[2] == "classification"


@pytest.mark.parametrize("sep", [";", "\t"])
def test_other_separators(tmp_path, sep):
    X, y, _task = load_csv(write(tmp_path, f"x{sep}y\n1{sep}0\n2{sep}1\n"))
    np.testing.assert_array_equal(X, [[1], [2]])
    np.testing.assert_array_equal(y, [0, 1])


def test_quoted_header_and_bom(tmp_path):
    p = tmp_path / "q.csv"
    p.write_bytes('\ufeff"width","height","kind"\r\n1,2,0\r\n3,4,1\r\n'.encode("utf-8"))
    X, _y, task = load_csv(p)
    assert X.shape == (2, 2) and task == "classification"


def test_gzip_and_digits_file(tmp_path):
    p = tmp_path / "d.csv.gz"
    p.write_bytes(gzip.compress(b"1,2,0\n3,4,1\n"))
    assert load_csv(p)[0].shape == (2, 2)
    X, y, task = load_csv(DIGITS_PATH)
    assert X.shape == (1797, 64) and task == "classification" and y.max() == 9


def test_load_dataset_csv(tmp_path):
    p = write(tmp_path, "width,height,kind\n" + "\n".join(
        f"{i},{i % 7},{i % 3}" for i in range(30)))
    ds = load_dataset({"name": "csv", "path": str(p), "test_fraction": 0.2,
                       "features": ["x1^2"], "scale": 2.0, "noise_features": 1}, seed=0)
    assert ds.task == "classification" and ds.n_classes == 3 and ds.raw_dim == 2
    assert ds.feature_names == ["width", "height", "noise1"]  # features ignored for CSV
    assert ds.X_train.shape == (24, 3) and ds.X_test.shape == (6, 3)
    np.testing.assert_array_equal(ds.X_train[:, :2], 2 * ds.raw_train)
    reg = write(tmp_path, "1,0.5\n2,0.25\n3,0.125\n", "reg.csv")
    ds = load_dataset({"name": "csv", "path": str(reg), "test_fraction": 0.0}, seed=0)
    assert ds.task == "regression" and ds.n_classes is None
    assert ds.feature_names == ["x1"] and ds.y_train.shape == (3, 1)


BAD = [
    ("missing", None, r"not found: .*nope\.csv"),
    ("empty", "", r"empty"),
    ("blank lines only", "\n  \n\n", r"empty"),
    ("ragged", "a,b,c,d\n1,2,3,4\n5,6,7,8\n1,2,3,4\n1,2,3\n", r"row 5 has 3 columns, expected 4"),
    ("ragged long", "1,2\n3,4,5\n", r"row 2 has 3 columns, expected 2"),
    ("not a number", "x1,x2,y\n1,2,0\n1,2,1\n1,2,0\n1,2,1\n1,2,0\n1,abc,1\n",
     r"row 7, column 2 \('x2'\): 'abc' is not a number"),
    ("not a number no header", "1,2,0\n3,x,1\n", r"row 2, column 2: 'x' is not a number"),
    ("empty cell", "a,b,y\n1,2,0\n3,,1\n", r"row 3, column 2 \('b'\) is empty"),
    ("nan", "a,b,y\n1,2,0\n3,nan,1\n", r"row 3, column 2 \('b'\): 'nan' is NaN"),
    ("inf", "a,b,y\n1,2,0\n3,4,-inf\n", r"row 3, column 3 \('y'\): '-inf' is infinite"),
    ("single column", "y\n1\n2\n", r"only one column"),
    ("single column no header", "1\n2\n3\n", r"only one column"),
    ("constant target", "a,y\n1,4\n2,4\n3,4\n", r"target column 2 \('y'\) is constant"),
    ("one data row", "a,y\n1,0\n", r"1 data row; need at least 2"),
    ("header only", "a,y\n", r"0 data rows; need at least 2"),
    # binary: the csv module's own message spoke of "universal-newline mode"
    ("binary", "1,2\n\x89PNG\r\x1a\n\x00\x00\rIHDR", r"not a text CSV file.*line 3"),
    ("nul in a cell", "a,y\n1,0\n2\x00,1\n", r"NUL byte \(line 3\)"),   # was "'2' is not a number"
    ("utf-16", "a,y\n1,0\n".encode("utf-16").decode("latin-1"), r"not a text CSV file"),
]


@pytest.mark.parametrize("case,text,message", BAD, ids=[b[0] for b in BAD])
def test_bad_csv(tmp_path, case, text, message):
    p = tmp_path / "nope.csv" if text is None else write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        load_csv(p)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError) and CsvError is DataError


def test_folder_is_refused(tmp_path):
    with pytest.raises(DataError, match="folder"):
        load_csv(tmp_path)


def test_rows_count_blank_lines(tmp_path):
    # Rows are numbered as in the file, blank lines included.
    with pytest.raises(DataError, match=r"row 4, column 1: 'q'"):
        load_csv(write(tmp_path, "1,0\n\n2,1\nq,0\n"))


def test_bad_csv_through_load_dataset(tmp_path):
    p = write(tmp_path, "a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="row 3 has 1 column, expected 2"):
        load_dataset({"name": "csv", "path": str(p)}, seed=0)
