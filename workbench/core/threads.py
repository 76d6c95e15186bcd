"""Process-wide thread settings for the numeric libraries."""
from __future__ import annotations


def one_blas_thread() -> None:
    """Run BLAS on the calling thread only, for the whole process (the window and every
    command line call this at start; the Python API leaves the choice to the caller).

    The course's networks multiply small matrices (W2: 32 x 64 by 64 x 64), where an
    OpenBLAS helper thread costs more in hand-overs than it saves, and in the window it
    competes for the cores with the training thread, the GUI thread and the worker
    views: W2 headless on 2 busy cores trained 5,900 steps/s with one BLAS thread
    against 1,300 with OpenBLAS's default of two, and the helper thread took 12-15 % of
    a core in the window."""
    from threadpoolctl import threadpool_limits
    threadpool_limits(1, user_api="blas")


def _cpu_model(cpuinfo: str) -> str:
    """The processor's name in the text of ``/proc/cpuinfo`` ("" when absent)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return ""


def _package_of(path: str) -> str:
    """The wheel a shared library came with: ``.../numpy.libs/libx.so`` -> numpy."""
    import os
    folder = os.path.basename(os.path.dirname(path))
    return folder[:-5] if folder.endswith(".libs") else folder


def numeric_libraries() -> dict:
    """What the speed of training depends on, for benchmark reports and bug reports: the
    processor, the versions of Python, NumPy, Numba and SciPy, and each BLAS library
    loaded with its threads and the kernels it chose (Numba's ``np.dot`` calls SciPy's).

    OpenBLAS picks its kernels per processor; ``OPENBLAS_CORETYPE`` overrides that. The
    2-core AMD Zen 5 machines here set it to ``Haswell``: AVX2 kernels, half the speed of
    the AVX-512 ones OpenBLAS would pick there on a 32 x 64 by 64 x 128 product."""
    import os
    import platform
    import sys

    import numba
    import numpy
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            cpu = _cpu_model(f.read(1 << 16)) or cpu
    except OSError:
        pass
    out = {"cpu": cpu, "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
           "numpy": numpy.__version__, "numba": numba.__version__,
           "scipy": sys.modules["scipy"].__version__ if "scipy" in sys.modules else None,
           "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE")}
    try:
        from threadpoolctl import threadpool_info
        out["blas"] = [{"library": os.path.basename(i.get("filepath", "")),
                        "package": _package_of(i.get("filepath", "")),
                        "api": i.get("internal_api"), "version": i.get("version"),
                        "kernels": i.get("architecture"), "threads": i.get("num_threads")}
                       for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # noqa: BLE001 - a report without it is still a report
        out["blas"] = []
    return out


def describe(info: dict) -> str:
    """One line from :func:`numeric_libraries`."""
    blas = ", ".join(f"{b['package']}'s {b['api']} {b['version']} {b['kernels']} kernels "
                     f"({b['threads']} thread{'s' if b['threads'] != 1 else ''})"
                     for b in info["blas"])
    env = info["openblas_coretype_env"]
    return (f"{info['cpu']} ({info['cpu_count']} cores); Python {info['python']}, NumPy "
            f"{info['numpy']}, Numba {info['numba']}, SciPy {info['scipy']}; BLAS: "
            f"{blas or 'none loaded'}" + (f"; OPENBLAS_CORETYPE={env}" if env else ""))
