"""Deprecated: the measured-data validation report moved to :mod:`xbar.reports.measured` (a
report generator is no part of the device models; this path is removed in the next release)."""

from __future__ import annotations

from .._deprecate import warn_renamed
from ..reports import measured as _new

warn_renamed("xbar.devices._measured", "xbar.reports.measured", stacklevel=2)


def __getattr__(name):
    return getattr(_new, name)
