"""Deprecation helpers: one way to rename a keyword, attribute or module for one release."""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed_kwarg", "warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is a deprecated spelling of ``new`` (removed in the next release).

    Parameters
    ----------
    old : str
        The deprecated name.
    new : str
        The name to use instead.
    stacklevel : int, default 3
        ``warnings.warn``'s stack level: 3 points at the caller of the function that calls this.
    """
    warnings.warn(
        f"{old!r} is deprecated and will be removed in the next release; use {new!r}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed_kwarg(**renames: str):
    """Decorator: accept each ``old=new`` keyword under its old name with a DeprecationWarning.

    Passing both the old and the new name is a TypeError.

    Parameters
    ----------
    **renames : str
        ``old_name="new_name"`` pairs of keyword arguments.

    Returns
    -------
    callable
        The decorator.
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{func.__qualname__}() got both {old!r} (deprecated) and {new!r}"
                        )
                    warn_renamed(old, new)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate
