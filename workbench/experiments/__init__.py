"""Many runs at once: sweeps, learning-rate tests, range test, loss landscapes,
learning curves and capacity sweeps (numpy and stdlib only; Dask when asked for).

Every compute function runs synchronously in the calling thread, takes a
``progress(done, total, item)`` callback and a ``cancel`` flag (a ``threading.Event``
or a callable), and returns plain data with a one-line ``verdict`` where it answers a
question of the debugging checklist.
"""
from .backends import SweepError, default_workers
from .grid import Axis, make_axis, parse_axis
from .sweep import (RunResult, SweepResult, SweepSpec, load_sweep, read_summary,
                    resume_sweep, run_sweep)

__all__ = ["Axis", "make_axis", "parse_axis", "SweepSpec", "SweepResult", "RunResult",
           "SweepError", "run_sweep", "resume_sweep", "load_sweep", "read_summary",
           "default_workers"]
