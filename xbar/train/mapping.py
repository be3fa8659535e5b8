"""Deprecated: moved to :mod:`xbar.train.pulse_mapping` (``xbar.periphery.mapping`` maps weights
to conductances; this name is removed in the next release)."""

from __future__ import annotations

from .._deprecate import warn_renamed
from . import pulse_mapping as _new

warn_renamed("xbar.train.mapping", "xbar.train.pulse_mapping", stacklevel=2)


def __getattr__(name):
    return getattr(_new, name)
