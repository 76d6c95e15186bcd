"""The start-up shortcut of core/blas.py: Numba gets SciPy's BLAS table without the
``scipy.linalg`` package being imported, and the kernels' BLAS products still work."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from workbench.core.blas import NAME, preload_cython_blas

ROOT = Path(__file__).resolve().parents[2]


def test_numba_finds_blas_without_importing_scipy_linalg():
    code = textwrap.dedent("""
        import sys
        import workbench.core                      # preloads the BLAS table
        import numba.np.arraymath as am            # Numba's CPU target checks for BLAS
        from numba.np.linalg import ensure_blas
        ensure_blas()
        print(am._HAVE_BLAS, "scipy.linalg" in sys.modules,
              "scipy.linalg.cython_blas" in sys.modules,
              hasattr(sys.modules["scipy.linalg.cython_blas"], "__pyx_capi__"))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True", "True"]


def test_preloaded_table_is_the_one_scipy_exports():
    assert preload_cython_blas()
    import scipy.linalg  # the package imported now keeps working beside the preload
    mod = sys.modules[NAME]
    assert "dgemm" in mod.__pyx_capi__ and "sgemm" in mod.__pyx_capi__
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(scipy.linalg.solve(np.eye(2) * 2, a), a / 2)
