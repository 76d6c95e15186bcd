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
