"""Shared fixtures for the session tests."""
import numpy as np
import pytest

from workbench.core import warmup

from session_helpers import record_w1


@pytest.fixture(scope="session", autouse=True)
def _compiled():
    warmup(np.float64)


@pytest.fixture(scope="module")
def w1_session(tmp_path_factory):
    path = tmp_path_factory.mktemp("w1") / "w1.wbsession"
    run = record_w1(path)
    return path, run
