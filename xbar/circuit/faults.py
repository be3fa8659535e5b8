"""Fabrication faults of a crossbar: stuck-at-on, stuck-at-off and stuck-open (unformed) cells.

Each cell fails independently at fabrication with the given probabilities, the three faults being
mutually exclusive.  A stuck cell keeps a fixed conductance whatever it is programmed to: the
on conductance (stuck-at-on / SA1, e.g. a filament that cannot be reset), the off conductance
(stuck-at-off / SA0, a cell that cannot be set) or none at all (stuck-open: unformed or broken,
``G = 0``).  This is the usual defect model of RRAM arrays (e.g. the stuck-at-fault studies behind
aihwkit's and CrossSim's fault options; measured SA0/SA1 rates are of order 1-10 %).

>>> G_faulty, mask = sample_faults(G, p_stuck_on=0.01, p_stuck_off=0.05, g_on=1e-4, g_off=1e-6,
...                                random_state=0)
>>> xb = xbar.Crossbar(G_faulty, r_wordline=1.0, r_bitline=1.0)

Writes to a stuck cell must not change it: keep ``mask`` and reapply :func:`apply_faults` after
every programming step.
"""

from __future__ import annotations

import numpy as np

from .._random import check_random_state
from .._validation import as_float_array, check_positive, check_scalar
from ..exceptions import ConfigError

HEALTHY = 0
STUCK_ON = 1
STUCK_OFF = 2
STUCK_OPEN = 3
FAULT_NAMES = {
    HEALTHY: "healthy",
    STUCK_ON: "stuck-on",
    STUCK_OFF: "stuck-off",
    STUCK_OPEN: "stuck-open",
}

__all__ = [
    "sample_faults",
    "apply_faults",
    "HEALTHY",
    "STUCK_ON",
    "STUCK_OFF",
    "STUCK_OPEN",
    "FAULT_NAMES",
]


def _level(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = as_float_array(value, name)
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ConfigError(
            f"{name} must be a scalar or broadcast to G's shape {shape}, got {arr.shape}"
        ) from None
    check_positive(arr, name, unit="S")
    return arr


def sample_faults(
    G,
    *,
    p_stuck_on: float = 0.0,
    p_stuck_off: float = 0.0,
    p_open: float = 0.0,
    g_on=None,
    g_off=None,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample fabrication faults and return the faulted conductances and the fault mask.

    Parameters
    ----------
    G : (M, N) array_like
        Conductances the cells would have without faults, S (>= 0).
    p_stuck_on, p_stuck_off, p_open : float
        Probability that a cell is stuck at ``g_on``, stuck at ``g_off``, or open (G = 0), each in
        [0, 1] with a sum <= 1.  Cells fail independently; the faults are exclusive.
    g_on, g_off : float or array_like, optional
        Conductance of a stuck-on / stuck-off cell, S (> 0; scalar or broadcastable to G for
        device-to-device spread).  Required when the matching probability is > 0.
    random_state : None, int, SeedSequence or numpy Generator
        Seed or generator of the draw (one uniform number per cell).

    Returns
    -------
    G_faulted : (M, N) ndarray
        ``G`` with every faulty cell replaced by its stuck value, S (a new array).
    mask : (M, N) int8 ndarray
        Fault of each cell: ``HEALTHY`` (0), ``STUCK_ON`` (1), ``STUCK_OFF`` (2), ``STUCK_OPEN`` (3).

    Notes
    -----
    Open cells (G = 0) need a crossbar solver that accepts G = 0 where the network stays well
    posed; where it does not, model them as stuck-off at the smallest conductance.
    """
    G = as_float_array(G, "G")
    if G.ndim != 2 or 0 in G.shape:
        raise ConfigError(f"G must be a non-empty 2-D (M, N) array, got shape {G.shape}")
    check_positive(G, "G", strict=False, unit="S")
    probs = []
    for p, name in ((p_stuck_on, "p_stuck_on"), (p_stuck_off, "p_stuck_off"), (p_open, "p_open")):
        probs.append(float(check_scalar(p, name, low=0.0, high=1.0)))
    if sum(probs) > 1.0 + 1e-12:
        raise ConfigError(
            f"p_stuck_on + p_stuck_off + p_open must be <= 1, got {sum(probs)!r} "
            f"({probs[0]!r} + {probs[1]!r} + {probs[2]!r})"
        )
    for p, g, name in ((probs[0], g_on, "g_on"), (probs[1], g_off, "g_off")):
        if p > 0 and g is None:
            raise ConfigError(f"{name} (S) is required when its fault probability is > 0")
    rng = check_random_state(random_state)
    u = rng.random(G.shape)
    edges = np.cumsum(probs)
    # u < p_on: stuck-on; then stuck-off; then open; else healthy.
    mask = np.where(
        u < edges[0],
        STUCK_ON,
        np.where(u < edges[1], STUCK_OFF, np.where(u < edges[2], STUCK_OPEN, HEALTHY)),
    ).astype(np.int8)
    return apply_faults(G, mask, g_on=g_on, g_off=g_off), mask


def apply_faults(G, mask, *, g_on=None, g_off=None) -> np.ndarray:
    """Conductances ``G`` (S) with the faults of ``mask`` imposed (a new array).

    ``mask`` is the (M, N) int array of :func:`sample_faults`; ``g_on`` / ``g_off`` (S, > 0,
    scalar or broadcastable to G) are needed when it holds stuck-on / stuck-off cells.  Use it
    after every write so stuck cells keep their value.

    Parameters
    ----------
    G : (M, N) array_like
        Cell conductances, S.
    mask : (M, N) ndarray of int
        Fault code per cell, as :func:`sample_faults` returns it.
    g_on : float or array_like, optional
        Conductance of a stuck-on cell, S (> 0, scalar or broadcastable to ``G``); required
        when ``mask`` holds stuck-on cells.
    g_off : float or array_like, optional
        Conductance of a stuck-off cell, S (> 0, scalar or broadcastable to ``G``); required
        when ``mask`` holds stuck-off cells.

    Returns
    -------
    (M, N) ndarray
        The conductances, S, with stuck-on / stuck-off cells at ``g_on`` / ``g_off`` and
        stuck-open cells at 0.
    """
    G = as_float_array(G, "G")
    mask = np.asarray(mask)
    if mask.shape != G.shape or mask.dtype.kind not in "iu":
        raise ConfigError(
            f"mask must be an integer array of G's shape {G.shape}, got dtype "
            f"{mask.dtype} and shape {mask.shape}"
        )
    known = np.isin(mask, list(FAULT_NAMES))
    if not known.all():
        raise ConfigError(
            f"mask holds unknown fault codes {np.unique(mask[~known]).tolist()} "
            f"(known: {FAULT_NAMES})"
        )
    out = G.copy()
    for code, g, name in ((STUCK_ON, g_on, "g_on"), (STUCK_OFF, g_off, "g_off")):
        hit = mask == code
        if hit.any():
            if g is None:
                raise ConfigError(
                    f"{name} (S) is required: mask has {int(hit.sum())} {FAULT_NAMES[code]} cells"
                )
            out[hit] = _level(g, name, G.shape)[hit]
    out[mask == STUCK_OPEN] = 0.0
    return out
