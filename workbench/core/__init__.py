"""The math: Numba kernels, the Network, optimizers and exact solvers (numpy + numba)."""
# first: registers SciPy's BLAS table before Numba's CPU target starts (see blas.py)
from . import blas  # noqa: F401
from .network import Network, Layout
from .optimizers import SGD, Adagrad, RMSprop, Adam, make_optimizer
from .closed_form import normal_equations, coordinate_descent
from .warmup import warmup

__all__ = ["Network", "Layout", "SGD", "Adagrad", "RMSprop", "Adam", "make_optimizer",
           "normal_equations", "coordinate_descent", "warmup"]
