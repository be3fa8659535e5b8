"""Tiling: a weight matrix larger than one physical array is split over several arrays (tiles).

Tile (r, c) holds inputs ``rows`` (at most ``max_rows`` word lines) and outputs ``outputs`` (as many
as fit in ``max_cols`` bit lines with the mapping's columns per output and reference columns).
Every tile has its own drivers, TIAs and ADCs; partial sums of the tiles in one output block are
added digitally after the ADC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config.declare import declared, param, validate
from ..exceptions import ConfigError

__all__ = [
    "ArrayConfig",
    "TileSpec",
    "interleave_pairs",
    "pair_column",
    "plan_tiles",
    "split_pairs",
]


@declared
@dataclass
class ArrayConfig:
    """Physical array: size limits, wires and cell type (passed to ``xbar.Crossbar``)."""

    max_rows: int = param(256, low=1)
    """Word lines per array (inputs per tile) [H: common macro size, e.g. ISAAC 128, many test
    chips 256]."""
    max_cols: int = param(256, low=1)
    """Bit lines per array, including the columns of differential pairs and references."""
    r_wordline: float = param(1.0, low=0.0, unit="ohm")
    """Word-line wire resistance per segment (cell pitch), ohm [H: the issue's 1 ohm case]."""
    r_bitline: float = param(1.0, low=0.0, unit="ohm")
    """Bit-line wire resistance per segment, ohm [H: as the word line]."""
    cell: str = param("0T1R", choices=("0T1R", "1T1R"))
    """``"0T1R"`` (passive) or ``"1T1R"`` (needs ``r_access``).  Default passive."""
    r_access: float | None = param(None, kind=float, low=0.0, optional=True, unit="ohm")
    """Access-transistor on-resistance of 1T1R cells, ohm (NeuroSim's default is 15 kohm,
    ``neurosim/MLP_NeuroSim_V3.0:Cell.cpp``, docs/references.rst, ref-read-write-energy)."""
    crossbar_options: dict = field(default_factory=dict)
    """Further keyword arguments for ``xbar.Crossbar`` (e.g. a nonlinear cell I-V model when the
    solver supports it); a model with ``is_linear() == False`` disables the transfer-matrix path."""

    def __post_init__(self):
        validate(self)
        if self.cell == "1T1R" and self.r_access is None:
            raise ConfigError(
                "cell='1T1R' needs r_access (access transistor on-resistance, ohm), got None"
            )
        if not isinstance(self.crossbar_options, dict):
            raise ConfigError(
                "crossbar_options must be a dict of Crossbar keyword arguments, got "
                f"{type(self.crossbar_options).__name__}"
            )

    def crossbar_kwargs(self, r_driver: float, r_sense: float) -> dict:
        """Keyword arguments of ``xbar.Crossbar`` for one tile.

        Parameters
        ----------
        r_driver : float
            Word-line driver output resistance, ohm.
        r_sense : float
            Bit-line terminal resistance, ohm.
        """
        kw = dict(
            r_wordline=self.r_wordline,
            r_bitline=self.r_bitline,
            r_driver=r_driver,
            r_sense=r_sense,
            cell=self.cell,
        )
        if self.cell == "1T1R":
            kw["r_access"] = self.r_access
        kw.update(self.crossbar_options)
        return kw


@dataclass(frozen=True)
class TileSpec:
    """Inputs and outputs one tile covers (half-open index ranges).

    The fields are also the attributes of the same name.

    Parameters
    ----------
    row_block, col_block : int
        Position of the tile in the grid of tiles.
    rows : slice
        Inputs (word lines) of the tile.
    outputs : slice
        Outputs of the tile.
    """

    row_block: int
    col_block: int
    rows: slice
    outputs: slice


def plan_tiles(
    n_in: int, n_out: int, max_rows: int, max_cols: int, cols_per_output: int, ref_cols: int = 0
) -> list[TileSpec]:
    """Split ``n_in`` inputs x ``n_out`` outputs into tiles of at most ``max_rows`` x ``max_cols``.

    Each tile holds ``(max_cols - ref_cols) // cols_per_output`` outputs; row blocks are filled
    first (the last one takes the remainder).  Tiles are ordered row block by row block.

    Parameters
    ----------
    n_in, n_out : int
        Inputs and outputs of the weight matrix.
    max_rows, max_cols : int
        Word and bit lines of one array.
    cols_per_output : int
        Bit lines per output (2 for differential pairs).
    ref_cols : int, default 0
        Reference columns per tile.
    """
    per_tile = (max_cols - ref_cols) // cols_per_output
    if per_tile < 1:
        raise ConfigError(
            f"max_cols must be >= {cols_per_output + ref_cols} to hold one output "
            f"({cols_per_output} columns per output + {ref_cols} reference), got "
            f"{max_cols}"
        )
    tiles = []
    for r, r0 in enumerate(range(0, n_in, max_rows)):
        for c, c0 in enumerate(range(0, n_out, per_tile)):
            tiles.append(
                TileSpec(
                    r, c, slice(r0, min(n_in, r0 + max_rows)), slice(c0, min(n_out, c0 + per_tile))
                )
            )
    return tiles


def interleave_pairs(g_plus, g_minus) -> np.ndarray:
    """The columns of a differential tile, ``[G⁺_0, G⁻_0, G⁺_1, G⁻_1, ...]``.

    The one home of the G⁺/G⁻ column interleave of the differential mapping (the read path's
    tiles and the pulsed layers' solved writes both use it).

    Parameters
    ----------
    g_plus, g_minus : (rows, outputs) array_like
        Conductances of the two sides, S.

    Returns
    -------
    (rows, 2 * outputs) ndarray
        Conductances of the tile's columns, S.
    """
    gp = np.asarray(g_plus, dtype=np.float64)
    gm = np.asarray(g_minus, dtype=np.float64)
    if gp.shape != gm.shape or gp.ndim != 2:
        raise ConfigError(
            f"g_plus and g_minus must be 2-D arrays of one shape, got {gp.shape} and {gm.shape}"
        )
    G = np.empty((gp.shape[0], 2 * gp.shape[1]))
    G[:, 0::2] = gp
    G[:, 1::2] = gm
    return G


def split_pairs(G) -> tuple[np.ndarray, np.ndarray]:
    """``(G_plus, G_minus)`` (rows, outputs) of a differential tile's columns (inverse of
    :func:`interleave_pairs`).

    Parameters
    ----------
    G : (rows, 2 * outputs) array_like
        Conductances of the tile's columns, S.
    """
    G = np.asarray(G)
    if G.ndim != 2 or G.shape[1] % 2:
        raise ConfigError(f"G must be 2-D with an even number of columns, got shape {G.shape}")
    return G[:, 0::2], G[:, 1::2]


def pair_column(outputs, side: int) -> np.ndarray:
    """Tile column of side ``side`` (0: G⁺, 1: G⁻) of local output(s) ``outputs``.

    Parameters
    ----------
    outputs : int or int array
        Output index within the tile.
    side : {0, 1}
        0 for G⁺, 1 for G⁻.
    """
    if side not in (0, 1):
        raise ConfigError(f"side must be 0 (G+) or 1 (G-), got {side!r}")
    return 2 * np.asarray(outputs) + side
