"""Datasets, feature transforms and CSV import (numpy only).

>>> from workbench.data import load_dataset
>>> ds = load_dataset({"name": "xor", "n_samples": 100}, seed=0)
>>> ds.X_train.shape, ds.X_test.shape, ds.n_classes
((70, 2), (30, 2), 2)
"""
from .csv_import import CsvError, DataError, load_csv, read_csv_table
from .datasets import LINEAR_SLOPE, Dataset, load_dataset, make_raw
from .features import apply_features, feature_names

__all__ = [
    "LINEAR_SLOPE",
    "CsvError",
    "DataError",
    "Dataset",
    "apply_features",
    "feature_names",
    "load_csv",
    "load_dataset",
    "make_raw",
    "read_csv_table",
]
