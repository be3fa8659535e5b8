"""Parameter schemas: what a sweep task accepts, as data.

A task declares its parameters as a table of :class:`Param` entries (type, allowed range or
choices, default, unit): ``Param`` is :class:`xbar.config.Constraint`, the declaration the
configuration dataclasses use for their fields.  Spec validation, the error messages for bad
specs and the tests that generate invalid values all read the same table, so a new parameter
needs one line.
"""

from __future__ import annotations

import difflib

from ..config.declare import Constraint
from ..exceptions import ConfigError

Param = Constraint
"""A sweep task's parameter: :class:`xbar.config.Constraint`, the one declaration also behind the
dataclass fields of the periphery, array and hardware configurations (whose fields become sweep
parameters through :func:`xbar.config.hardware.hardware_params`)."""


SEED = Param(
    int,
    default=0,
    low=0,
    doc="random seed of the point (passed to the task separately, as its random_state)",
)
"""Every task accepts ``seed``; it is an ordinary axis (``seed = [0, 1, 2]``) or a base value.
The spec key keeps the conventional name; the task receives it as its ``random_state``."""


def unknown_name(name: str, known, what: str, where: str) -> ConfigError:
    """A ConfigError for an unknown name, with the closest known names suggested.

    Parameters
    ----------
    name : str
        The name that was not found.
    known : iterable of str
        The valid names (listed in the message, sorted).
    what : str
        What the name is, e.g. ``"task"`` or ``"parameter"``.
    where : str
        Where it was found, e.g. ``"[sweep] task"``.

    Returns
    -------
    ConfigError
        The error (returned, not raised: the caller raises it).
    """
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown {what} {name!r} in {where}{hint}; known: {', '.join(known)}")
