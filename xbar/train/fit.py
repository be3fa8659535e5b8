"""Deprecated: the training loop moved to :mod:`xbar.train.loop` (``xbar.devices.fit`` is device
fitting; this name is removed in the next release).

``xbar.train.fit`` stays the function :func:`xbar.train.loop.fit`; only importing this module
path (``import xbar.train.fit``, ``from xbar.train.fit import ...``) is deprecated.
"""

from __future__ import annotations

import sys
import types

from .._deprecate import warn_renamed
from . import loop as _loop

warn_renamed("xbar.train.fit (module)", "xbar.train.loop", stacklevel=2)


class _CallableShim(types.ModuleType):
    """Importing a submodule rebinds the package attribute ``xbar.train.fit`` to the module; a
    callable module keeps ``xbar.train.fit(...)`` working as the function afterwards."""

    def __call__(self, *args, **kwargs):
        return _loop.fit(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(_loop, name)


sys.modules[__name__].__class__ = _CallableShim
