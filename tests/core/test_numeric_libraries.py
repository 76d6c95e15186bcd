"""The machine report that benchmarks and the About box print."""
from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from workbench.core import kernels  # noqa: F401 - loads SciPy's BLAS table, as the app does
from workbench.core.threads import _cpu_model, _package_of, describe, numeric_libraries


def test_cpu_model_is_read_from_cpuinfo_text():
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R45\nflags\t: fpu\n"
    assert _cpu_model(text) == "AMD EPYC 9R45"
    assert _cpu_model("processor : 0\n") == ""


def test_package_of_a_wheel_library():
    assert _package_of("/v/site-packages/scipy.libs/libscipy_openblas-6c.so") == "scipy"
    assert _package_of("/usr/lib/libopenblas.so") == "lib"


def test_report_names_the_blas_the_kernels_call_and_its_threads(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    np.dot(np.ones((8, 8)), np.ones((8, 8)))
    with threadpool_limits(1, user_api="blas"):
        info = numeric_libraries()
        line = describe(info)
    assert info["numpy"] == np.__version__ and info["cpu_count"] >= 1
    scipy_blas = [b for b in info["blas"] if b["package"] == "scipy"]
    assert scipy_blas and all(b["threads"] == 1 for b in info["blas"])
    assert scipy_blas[0]["kernels"]                 # e.g. Haswell, SkylakeX
    assert f"scipy's openblas {scipy_blas[0]['version']}" in line
    assert "(1 thread)" in line and line.endswith("OPENBLAS_CORETYPE=Haswell")
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert "OPENBLAS_CORETYPE" not in describe(numeric_libraries())
