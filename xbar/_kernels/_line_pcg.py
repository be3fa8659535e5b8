"""Compatibility names for the kernels that lived in one ``_line_pcg`` extension until 0.x.

The linear PCG is in :mod:`xbar._kernels._pcg`, Newton in :mod:`xbar._kernels._newton`, the
scratch pool in :mod:`xbar._kernels._scratch`.  Kept (without a warning: the library itself still
imports it) for ``xbar/circuit/crossbar.py`` and ``.ci/asan`` until they import those modules.
"""
from ._newton import newton
from ._pcg import solve
from ._scratch import give, take

__all__ = ["give", "newton", "solve", "take"]
