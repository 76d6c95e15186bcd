"""Load SciPy's BLAS table for Numba without importing ``scipy.linalg``.

``np.dot`` inside a kernel calls OpenBLAS through the function pointers that
``scipy.linalg.cython_blas`` exports, and Numba imports that module when its CPU target
starts (``numba.np.arraymath`` checks for BLAS). Importing it the usual way runs
``scipy.linalg``'s package ``__init__`` first, which pulls in most of SciPy's linear
algebra and its array-API layer (NumPy's f2py, testing and masked arrays with it):
about 0.2 s of a 0.85 s start to the first trained step on the 2-core machines. The
extension module itself needs none of that, so it is loaded on its own and registered
under its full name, where Numba's import finds it. Anything unexpected (another SciPy
layout, an import hook) leaves the usual import to happen later.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

NAME = "scipy.linalg.cython_blas"


def preload_cython_blas() -> bool:
    """Register ``scipy.linalg.cython_blas`` in ``sys.modules`` without importing its
    package. Returns True when the module is there (loaded now or before)."""
    if NAME in sys.modules:
        return True
    try:
        import scipy
        folder = Path(scipy.__file__).parent / "linalg"
        candidates = [folder / f"cython_blas{s}" for s in importlib.machinery.EXTENSION_SUFFIXES]
        path = next(p for p in candidates if p.is_file())
        loader = importlib.machinery.ExtensionFileLoader(NAME, str(path))
        spec = importlib.util.spec_from_loader(NAME, loader, origin=str(path))
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        if not hasattr(module, "__pyx_capi__"):       # not the table Numba reads
            return False
    except Exception:  # noqa: BLE001 - any failure: the usual import happens later
        return False
    sys.modules[NAME] = module
    return True


preload_cython_blas()       # on import: workbench.core imports this module first
