"""``Hardware``: everything ``xbar.torch.convert`` needs to build the arrays of one model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .._fielddoc import document_fields
from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError
from ..periphery import ADC, DAC, TIA, ArrayConfig, WeightMapping
from ..periphery.layer import READ_METHODS
from ..periphery.mapping import conductance_range

__all__ = ["Hardware", "INPUT_SCALINGS"]

INPUT_SCALINGS = ("per_sample", "none")


@document_fields
@dataclass
class Hardware:
    """Crossbar hardware of the analog layers of a converted model (every layer gets its own
    arrays and converters built from it).

    The defaults are those of :class:`xbar.periphery.AnalogLinear`: 256 x 256 tiles with 1 ohm wire
    segments, an 8-bit amplitude DAC at 0.2 V, an automatic-gain TIA, an 8-bit ADC over the TIA
    swing, differential pairs in a 0.5-10 µS window.
    """

    array: ArrayConfig = field(default_factory=ArrayConfig)
    """Tile size, wire resistance per segment (ohm), cell type."""
    dac: DAC = field(default_factory=DAC)
    """Word-line drivers (``x_max`` is the input full scale after ``input_scaling``)."""
    adc: ADC = field(default_factory=ADC)
    """Column converters; ranges ``"calibrate"``/``"percentile"`` need :func:`calibrate`."""
    tia: TIA = field(default_factory=TIA)
    """Sense amplifiers; the automatic gain is re-applied after every re-programming."""
    mapping: WeightMapping = field(default_factory=WeightMapping)
    """Weight to conductance mapping.  Its ``w_max`` (weight full scale) is fixed per layer at
    conversion: ``mapping.w_max`` if given, else ``weight_headroom * max|W|``; weights a later
    optimiser step pushes beyond it clip at the window's end when re-programmed."""
    device: object = None
    """Conductance window: ``ConductanceRange``, ``(g_min, g_max)`` in S, an object with
    ``g_min``/``g_max`` (e.g. a device model), or ``None`` (0.5-10 µS)."""
    weight_headroom: float = 1.0
    """Full scale as a multiple of the largest trained weight (>= 1; room for fine-tuning)."""
    programming_noise: float = 0.0
    """Device-to-device programming error: standard deviation of the programmed conductance about
    its target, as a fraction of the window ``g_max - g_min``; drawn at every (re-)programming,
    the result kept inside the window."""
    read_noise: float = 0.0
    """Relative read noise of a cell, ``std(G_read) / G``, independent per cell and per read."""
    input_scaling: str = "per_sample"
    """``"per_sample"``: each input vector is divided digitally by ``max|x| / dac.x_max`` before
    the DAC and the outputs multiplied back (the ABS-MAX noise management of aihwkit); ``"none"``:
    inputs beyond ``dac.x_max`` clip at the DAC."""
    read_method: str = "auto"
    """``AnalogLinear`` read method: exact transfer maps or one circuit solve per read."""
    energy: bool = True
    """Book read, DAC, TIA and ADC energy of every forward pass."""
    random_state: object = None
    """Seed (int, SeedSequence or Generator) of converter errors, programming and read noise."""

    def __post_init__(self):
        for name, cls in (
            ("array", ArrayConfig),
            ("dac", DAC),
            ("adc", ADC),
            ("tia", TIA),
            ("mapping", WeightMapping),
        ):
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(
                    f"{name} must be an xbar.periphery.{cls.__name__}, got "
                    f"{type(getattr(self, name)).__name__}"
                )
        conductance_range(self.device)  # validates the window
        check_scalar(self.weight_headroom, "weight_headroom", low=1.0)
        check_scalar(self.programming_noise, "programming_noise", low=0.0, high=1.0)
        check_scalar(self.read_noise, "read_noise", low=0.0, high=1.0)
        check_choice(self.input_scaling, "input_scaling", INPUT_SCALINGS)
        check_choice(self.read_method, "read_method", READ_METHODS)

    @classmethod
    def ideal(cls, **overrides) -> "Hardware":
        """Ideal periphery and wires: no wire, driver or sense resistance, continuous DAC and
        ADC, no noise.  A converted model then computes the original model's function."""
        kw: dict[str, Any] = dict(
            array=ArrayConfig(r_wordline=0.0, r_bitline=0.0),
            dac=DAC(bits=None, r_driver=0.0),
            adc=ADC(bits=None),
            tia=TIA(r_in=0.0),
        )
        kw.update(overrides)
        return cls(**kw)

    def replace(self, **changes) -> "Hardware":
        """A copy with some fields changed.

        Parameters
        ----------
        **changes
            Field names and their new values.
        """
        return dataclasses.replace(self, **changes)
