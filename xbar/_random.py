"""Seeds: every stochastic call takes ``random_state`` (None, int, SeedSequence or Generator)."""

from __future__ import annotations

import numpy as np

RandomState = "None | int | np.random.SeedSequence | np.random.Generator"


def check_random_state(random_state) -> np.random.Generator:
    """Normalise ``random_state`` to a ``numpy.random.Generator``.

    ``None`` means unseeded (fresh OS entropy); an int or ``SeedSequence`` seeds a new PCG64
    generator; a ``Generator`` is returned as is, so callers share its stream.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The randomness (an int must be >= 0).

    Returns
    -------
    numpy.random.Generator
        The generator.

    Raises
    ------
    ConfigError
        For a negative int or an object of another type.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer, np.random.SeedSequence)):
        if isinstance(random_state, (int, np.integer)) and random_state < 0:
            from .exceptions import ConfigError

            raise ConfigError(f"random_state must be a non-negative integer, got {random_state}")
        return np.random.default_rng(random_state)
    from .exceptions import ConfigError

    raise ConfigError(
        "random_state must be None, an int, a SeedSequence or a numpy Generator, "
        f"got {type(random_state).__name__}"
    )


def spawn(random_state, n: int) -> list[np.random.Generator]:
    """Split ``random_state`` into ``n`` independent child generators.

    Used to keep separate streams, e.g. fabrication (device-to-device) and operation (cycle noise).

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The parent randomness (normalised by :func:`check_random_state`; a Generator passed in
        advances its spawn counter).
    n : int
        Number of child generators.

    Returns
    -------
    list of numpy.random.Generator
        ``n`` statistically independent generators, reproducible from an int ``random_state``.
    """
    return check_random_state(random_state).spawn(n)
