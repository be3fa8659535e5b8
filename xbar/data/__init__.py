"""Data: where the measured data live, readers of the measured formats, and data-set loaders.

* :func:`data_dir` finds the shared data folder (``XBAR_DATA_DIR``).
* :mod:`xbar.data.measured`: Keithley 4200 I-V sweeps (``tud-rram-iv-cycles``), pulse-ramp CSVs
  (``crosssim-pulse-ramps``), relaxation and read-noise TSVs (``stanford-rram-relaxation``).
* :mod:`xbar.data.mnist`: the MNIST IDX files; :mod:`xbar.data.images`: image folders
  (``imagenette4``).

The data are read where they are; the project never copies them.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..exceptions import ConfigError
from ._format import DataFormatError, DataWarning
from .images import load_image_folder
from .measured import (
    IVSweep,
    PulseRamps,
    ReadNoiseSeries,
    RelaxationData,
    read_keithley_xlsx,
    read_pulse_ramps,
    read_read_noise,
    read_relaxation,
)
from .mnist import load_mnist

__all__ = [
    "data_dir",
    "DataFormatError",
    "DataWarning",
    "IVSweep",
    "PulseRamps",
    "ReadNoiseSeries",
    "RelaxationData",
    "read_keithley_xlsx",
    "read_pulse_ramps",
    "read_read_noise",
    "read_relaxation",
    "load_mnist",
    "load_image_folder",
]


def data_dir() -> Path:
    """The folder holding the shared data sets.

    ``$XBAR_DATA_DIR`` when set; otherwise ``<repository>/../shared/data`` if that folder exists.

    Raises
    ------
    ConfigError
        If ``XBAR_DATA_DIR`` names a missing folder, or it is unset and no default folder exists.
    """
    env = os.environ.get("XBAR_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise ConfigError(f"XBAR_DATA_DIR must name an existing folder, got {env!r}")
        return path
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    if default.is_dir():
        return default
    raise ConfigError(
        "no data folder: set the environment variable XBAR_DATA_DIR to the folder "
        f"holding the measured data sets (looked for {default})"
    )
