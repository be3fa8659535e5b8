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

    Attributes
    ----------
    iterations : int
        Iterations used.
    residual : float
        Final residual (units given by the raiser, amperes for circuit solves).
    """

    def __init__(self, message: str, iterations: int = -1, residual: float = float("nan")):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual


class ResourceLimitError(XbarError, MemoryError):
    """A requested array, batch or map would not fit in memory (checked before allocating).

    Attributes
    ----------
    needed, available : float
        Estimated bytes the request needs, and bytes available.
    """

    def __init__(self, message: str, needed: float = float("nan"),
                 available: float = float("nan")):
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
    """
    if on_failure == "raise":
        raise error
    if on_failure == "warn":
        warnings.warn(str(error), ConvergenceWarning, stacklevel=stacklevel)
