"""The exceptions and warnings xbar raises.

``XbarError`` is the root.  ``ConfigError`` is also a ``ValueError`` so that callers catching
``ValueError`` for bad arguments keep working.  Messages name the argument, the allowed range and
the value received.
"""

import warnings

#: What a solver or programming loop does with items that did not converge (``on_failure=``).
ON_FAILURE = ("raise", "warn", "ignore")


class XbarError(Exception):
    """Base class of every xbar exception."""


class ConfigError(XbarError, ValueError):
    """An argument or configuration value is invalid (wrong shape, range, type or unknown name)."""


class ConvergenceError(XbarError, RuntimeError):
    """An iterative solve did not reach its tolerance.

    Parameters
    ----------
    message : str
        The error message (names the solve, its tolerance and what was reached).
    iterations : int, default -1
        Iterations used (-1: not reported).  Kept as the attribute ``iterations``.
    residual : float, default nan
        Final residual (units given by the raiser: A for circuit solves).  Kept as the
        attribute ``residual``.
    """

    def __init__(self, message: str, iterations: int = -1, residual: float = float("nan")):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual


class ResourceLimitError(XbarError, MemoryError):
    """A requested array, batch or map would not fit in memory (checked before allocating).

    Parameters
    ----------
    message : str
        The error message (names the request and the limit).
    needed : float, default nan
        Estimated bytes the request needs.  Kept as the attribute ``needed``.
    available : float, default nan
        Bytes available.  Kept as the attribute ``available``.
    """

    def __init__(self, message: str, needed: float = float("nan"), available: float = float("nan")):
        super().__init__(message)
        self.needed = needed
        self.available = available


class ConvergenceWarning(UserWarning):
    """A solver adapted itself (e.g. restarted) or converged only loosely."""


class UnitWarning(UserWarning):
    """A value is physically implausible in the unit xbar expects (likely a unit slip: ns given
    as s, mV as V, ...); the message names the argument, the value and the likely mistake."""


def handle_failure(on_failure: str, error: Exception, *, stacklevel: int = 3) -> None:
    """Apply ``on_failure`` (one of :data:`ON_FAILURE`) to a failure described by ``error``.

    ``"raise"`` raises ``error``; ``"warn"`` issues a :class:`ConvergenceWarning` with its
    message (``stacklevel`` as for ``warnings.warn``, counted from this function);
    ``"ignore"`` does nothing: the caller's result already reports the failure.

    Parameters
    ----------
    on_failure : {"raise", "warn", "ignore"}
        What to do (one of :data:`ON_FAILURE`).
    error : Exception
        The failure: raised as is for ``"raise"``; its message is the warning's for ``"warn"``.
    stacklevel : int, default 3
        As for ``warnings.warn``, counted from this function (3: the caller's caller).
    """
    if on_failure == "raise":
        raise error
    if on_failure == "warn":
        warnings.warn(str(error), ConvergenceWarning, stacklevel=stacklevel)
