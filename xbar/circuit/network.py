"""Deprecated: the nodal network moved to :mod:`xbar.circuit.nodal` (class ``NodalNetwork``).

``xbar.circuit.network`` and its class ``Network`` are kept for one release; import
``xbar.circuit.nodal`` and use ``NodalNetwork`` instead.
"""

from __future__ import annotations

import warnings

from .nodal import (
    FLOOR_EPS,
    NodalNetwork,
    Problem,
    build_problem,
    check_connected,
    current_errors,
    line_labels,
    node_currents,
    terminal_pattern,
)

warnings.warn(
    "'xbar.circuit.network' is deprecated and will be removed in the next release; use "
    "'xbar.circuit.nodal' (class 'NodalNetwork' instead of 'Network')",
    DeprecationWarning,
    stacklevel=2,
)

#: Deprecated alias of :class:`xbar.circuit.nodal.NodalNetwork`.
Network = NodalNetwork

__all__ = [
    "Network",
    "NodalNetwork",
    "Problem",
    "FLOOR_EPS",
    "build_problem",
    "check_connected",
    "current_errors",
    "line_labels",
    "node_currents",
    "terminal_pattern",
]
