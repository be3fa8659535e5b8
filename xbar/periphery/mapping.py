"""Weight mapping: signed weights to cell conductances inside the device window, and back.

A block of weights ``W`` (outputs, inputs) becomes one physical array: conductances ``G``
(inputs, C columns, S), an *analog* combination ``A`` (C, K) of column currents into K read-out
channels (what the TIAs sum: a differential pair or a column minus the reference column), and a
*digital* combination ``D`` (K, outputs) applied after the ADC (slice weights and the scale factor
back to weight units).  For an ideal read ``I = V @ G`` the outputs are ``V @ G @ A @ D``, so
``G @ A @ D == W.T`` up to the weight quantization of bit slicing: this is also the inverse map
(:func:`effective_weights`).

Schemes:

* ``"differential"``: ``w = (G+ − G−) / g``, ``g = (g_max − g_min) / w_max``; a positive weight
  raises G+ from ``g_min``, a negative one G− (the other stays at ``g_min``).  Columns are
  interleaved ``[G+_0, G−_0, G+_1, G−_1, ...]``.
* ``"reference"``: one column per output, ``G = g_min + g'·(w + w_max)``, ``g' = (g_max −
  g_min) / (2 w_max)``, and one reference column per array at ``g_min + g'·w_max`` subtracted from
  every channel.
* bit slicing (``slices > 1``, differential only): ``|w|`` is quantized to ``slices·bits_per_slice``
  bits and each ``bits_per_slice`` digit is stored in its own differential pair; slice ``s`` is
  digitised on its own and weighted ``2**(s·bits_per_slice)`` after the ADC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._fielddoc import document_fields
from ..config.declare import declared, param, validate
from ..exceptions import ConfigError

__all__ = [
    "ConductanceRange",
    "WeightMapping",
    "MappedBlock",
    "effective_weights",
    "SCHEMES",
    "conductance_range",
]

SCHEMES = ("differential", "reference")


@declared
@dataclass
class ConductanceRange:
    """Programmable conductance window of a cell."""

    g_min: float = param(0.5e-6, low=0.0, low_open=True, unit="S")
    """Lowest programmable conductance (HRS end), S: NeuroSim's RealDevice window 0.476-10 µS
    (``neurosim/MLP_NeuroSim_V3.0:Cell.cpp``, docs/references.rst, ref-read-write-energy), rounded."""
    g_max: float = param(10e-6, low=0.0, low_open=True, unit="S")
    """Highest programmable conductance (LRS end), S (same source).  Low read conductances keep
    the IR drop of 256 x 256 arrays moderate; the Stanford relaxation technologies reach
    40-240 µS (docs/references.rst, ref-data-stanford-relaxation)."""

    def __post_init__(self):
        validate(self)
        if self.g_min >= self.g_max:
            raise ConfigError(
                f"g_min must be < g_max, got g_min={self.g_min!r} S >= g_max={self.g_max!r} S"
            )


def conductance_range(device) -> ConductanceRange:
    """The conductance window of ``device``: a ``ConductanceRange``, ``None`` (default window),
    a ``(g_min, g_max)`` pair in S, or any object with ``g_min`` and ``g_max`` attributes (S).

    Parameters
    ----------
    device : ConductanceRange, tuple of float, object or None
        The window or what carries it (see above), S.

    Returns
    -------
    ConductanceRange
        The window, S.
    """
    if device is None:
        return ConductanceRange()
    if isinstance(device, ConductanceRange):
        return device
    if isinstance(device, tuple) and len(device) == 2:
        return ConductanceRange(float(device[0]), float(device[1]))
    g_min, g_max = getattr(device, "g_min", None), getattr(device, "g_max", None)
    if g_min is None or g_max is None:
        raise ConfigError(
            "device must be a ConductanceRange, a (g_min, g_max) pair in S or an "
            f"object with g_min and g_max attributes, got {type(device).__name__}"
        )
    return ConductanceRange(float(g_min), float(g_max))


@document_fields
@dataclass
class MappedBlock:
    """One array's share of a weight matrix (see the module docstring)."""

    G: np.ndarray
    """(inputs, C) conductances, S."""
    A: np.ndarray
    """(C, K) analog combination of column currents into read-out channels (dimensionless, ±1)."""
    D: np.ndarray
    """(K, outputs) digital combination after the ADC (weight units per A/V)."""


@declared
@dataclass
class WeightMapping:
    """How weights become conductances."""

    scheme: str = param("differential", choices=SCHEMES)
    """``"differential"`` (G+/G− pairs) or ``"reference"`` (one column per output and a shared
    reference column per array).  Default differential: the common signed mapping (aihwkit,
    NeuroSim)."""
    slices: int = param(1, low=1)
    """Cells (pairs) per weight for bit slicing (differential only).  Default 1: one analog pair."""
    bits_per_slice: int | None = param(None, kind=int, low=1, high=16, optional=True, unit="bit")
    """Bits stored per slice; ``None`` stores continuous (analog) conductances (``slices`` must be
    1).  With ``slices=1`` an integer quantizes each cell to ``2**bits_per_slice`` levels."""
    subtract: str = param("analog", choices=("analog", "digital"))
    """Differential pairs: ``"analog"`` (the TIA subtracts the two currents, one conversion per
    pair) or ``"digital"`` (each column converted, subtracted after the ADC)."""
    w_max: float | None = param(None, kind=float, low=0.0, low_open=True, optional=True)
    """Weight full scale (weight units) mapped to the whole window; ``None`` = ``max |W|`` at
    construction (1 for an all-zero matrix).  Larger weights clip."""

    def __post_init__(self):
        validate(self)
        if self.slices > 1 and self.bits_per_slice is None:
            raise ConfigError(
                f"bits_per_slice must be an integer >= 1 when slices > 1, got "
                f"slices={self.slices}, bits_per_slice=None"
            )
        if self.scheme == "reference" and (self.slices > 1 or self.subtract == "digital"):
            raise ConfigError(
                "scheme='reference' supports slices=1 and subtract='analog' only, "
                f"got slices={self.slices}, subtract={self.subtract!r}"
            )

    @property
    def columns_per_output(self) -> int:
        """Physical columns per output (the reference column not counted)."""
        return self.slices * (2 if self.scheme == "differential" else 1)

    @property
    def reference_columns(self) -> int:
        """Extra columns per array (1 for the reference scheme)."""
        return 1 if self.scheme == "reference" else 0

    def full_scale(self, W: np.ndarray) -> float:
        """Weight full scale: ``w_max`` or ``max |W|`` (1 for an all-zero matrix).

        Parameters
        ----------
        W : (outputs, inputs) ndarray
            The weight matrix, weight units.

        Returns
        -------
        float
            The full scale, weight units.
        """
        if self.w_max is not None:
            return float(self.w_max)
        m = float(np.max(np.abs(W))) if W.size else 0.0
        return m if m > 0 else 1.0

    def map_block(self, W: np.ndarray, window: ConductanceRange, w_max: float) -> MappedBlock:
        """Conductances and combinations for a block ``W`` (outputs, inputs).

        Parameters
        ----------
        W : (outputs, inputs) ndarray
            The weights of the block, weight units (clipped to ``±w_max``).
        window : ConductanceRange
            Conductance window of the array, S.
        w_max : float
            Weight full scale, weight units (mapped to the whole window, see
            :meth:`full_scale`).

        Returns
        -------
        MappedBlock
            The (inputs, C) conductances (S) and the analog and digital combinations.
        """
        g_lo, g_hi = window.g_min, window.g_max
        Wc = np.clip(W, -w_max, w_max)
        n_out, n_in = Wc.shape
        if self.scheme == "reference":
            g = (g_hi - g_lo) / (2.0 * w_max)
            q = self._quantize_unit((Wc.T + w_max) / (2.0 * w_max), self.bits_per_slice)
            G = np.empty((n_in, n_out + 1))
            G[:, :n_out] = g_lo + (g_hi - g_lo) * q
            G[:, n_out] = g_lo + g * w_max
            A = np.zeros((n_out + 1, n_out))
            A[np.arange(n_out), np.arange(n_out)] = 1.0
            A[n_out, :] = -1.0
            return MappedBlock(G, A, np.eye(n_out) / g)
        S = self.slices
        a = np.abs(Wc.T) / w_max  # (in, out) in [0, 1]
        pos = Wc.T >= 0
        if self.bits_per_slice is None:
            digits = a[None]  # (1, in, out) continuous
            dg = g_hi - g_lo
            slice_w = np.array([w_max / dg])
        else:
            b = self.bits_per_slice
            total = 2 ** (S * b) - 1
            Q = np.round(a * total).astype(np.int64)
            digits = np.stack([(Q >> (s * b)) & (2**b - 1) for s in range(S)]).astype(float)
            dg = (g_hi - g_lo) / (2**b - 1)
            slice_w = np.array([2.0 ** (s * b) * w_max / (dg * total) for s in range(S)])
            digits = digits * dg / (g_hi - g_lo)  # fraction of the window
        frac = digits * (g_hi - g_lo)  # (S, in, out) conductance above g_min
        C = 2 * S * n_out
        G = np.full((n_in, C), g_lo)
        # column index of (output j, slice s, sign p): j * 2S + 2s + p
        for s in range(S):
            G[:, 2 * s :: 2 * S] += np.where(pos, frac[s], 0.0)
            G[:, 2 * s + 1 :: 2 * S] += np.where(pos, 0.0, frac[s])
        j = np.repeat(np.arange(n_out), 2 * S)
        s_idx = np.tile(np.repeat(np.arange(S), 2), n_out)
        sign = np.tile([1.0, -1.0], S * n_out)
        if self.subtract == "analog":
            K = S * n_out
            chan = j * S + s_idx
            A = np.zeros((C, K))
            A[np.arange(C), chan] = sign
            D = np.zeros((K, n_out))
            D[j[::2] * S + s_idx[::2], j[::2]] = slice_w[s_idx[::2]]
        else:
            A = np.eye(C)
            D = np.zeros((C, n_out))
            D[np.arange(C), j] = sign * slice_w[s_idx]
        return MappedBlock(G, A, D)

    @staticmethod
    def _quantize_unit(u: np.ndarray, bits: int | None) -> np.ndarray:
        if bits is None:
            return u
        L = 2**bits - 1
        return np.round(u * L) / L


def effective_weights(G: np.ndarray, A: np.ndarray, D: np.ndarray) -> np.ndarray:
    """The weights (outputs, inputs) that conductances ``G`` represent under ``A`` and ``D``.

    Parameters
    ----------
    G : (inputs, C) ndarray
        Conductances, S.
    A : (C, K) ndarray
        Analog combination of columns into channels (dimensionless).
    D : (K, outputs) ndarray
        Digital combination of channels into outputs (weight units per A/V).

    Returns
    -------
    (outputs, inputs) ndarray
        ``(G @ A @ D).T``, weight units.
    """
    return (G @ A @ D).T
