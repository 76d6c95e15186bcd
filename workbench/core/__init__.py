"""The math: Numba kernels, the Network, optimizers and exact solvers (numpy + numba)."""
from .blas import preload_cython_blas

preload_cython_blas()       # before Numba's CPU target starts (see blas.py)

from .network import Network, Layout
from .optimizers import SGD, Adagrad, RMSprop, Adam, make_optimizer
from .closed_form import normal_equations, coordinate_descent
from .warmup import warmup

__all__ = ["Network", "Layout", "SGD", "Adagrad", "RMSprop", "Adam", "make_optimizer",
           "normal_equations", "coordinate_descent", "warmup"]
