"""The ``mvm`` sweep task: accuracy, speed and energy of one circuit-accurate matrix-vector read.

A random conductance matrix in ``[g_min, g_max]`` (fabrication stream of the point's
``random_state``, the spec's ``seed``) is read with a batch of random input vectors (operation stream) through :class:`xbar.Crossbar` with wire,
driver and sense resistances, and compared with the ideal read ``v @ G`` of the programmed
conductances (for 1T1R cells the access transistor's series drop counts as error, as the wires'
do).  With ``adc_bits > 0``
the column currents are quantized by the periphery ADC (:class:`xbar.periphery.adc.ADC`) before
the comparison, over a fixed full-scale range or one calibrated on a separate batch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time

import numpy as np

from .._deprecate import renamed_kwarg
from .._random import spawn
from ..config.declare import constraints
from ..exceptions import ConfigError
from ..periphery.tiling import ArrayConfig
from .params import Param
from .tasks import task

MVM_PARAMS = {
    "rows": Param(int, 32, low=1, high=4096, doc="word lines M (inputs)"),
    "cols": Param(int, 32, low=1, high=4096, doc="bit lines N (outputs)"),
    "g_min": Param(
        float,
        1e-6,
        low=0,
        low_open=True,
        unit="S",
        doc="lowest cell conductance (1 MOhm; HfOx-class window, docs/references.rst, ref-read-write-energy and ref-data-sets)",
    ),
    "g_max": Param(
        float,
        1e-4,
        low=0,
        low_open=True,
        unit="S",
        doc="highest cell conductance (10 kOhm; Stanford tech A-C reach 40-240 uS)",
    ),
    "r_wire": Param(
        float,
        2.5,
        low=0,
        high=1e6,
        unit="ohm",
        doc="resistance of one word-line and one bit-line segment between cells",
    ),
    "r_driver": Param(
        float, 0.0, low=0, high=1e9, unit="ohm", doc="word-line driver output resistance"
    ),
    "r_sense": Param(
        float, 0.0, low=0, high=1e9, unit="ohm", doc="bit-line sense (TIA input) resistance"
    ),
    "cell": dataclasses.replace(
        constraints(ArrayConfig)["cell"],  # the array's declaration
        doc="passive cell or one with access transistor",
    ),
    "r_access": Param(
        float,
        0.0,
        low=0,
        high=1e9,
        unit="ohm",
        doc="1T1R access-transistor on-resistance (NeuroSim default 15 kOhm)",
    ),
    "v_read": Param(
        float,
        0.2,
        low=0,
        low_open=True,
        high=10,
        unit="V",
        doc="largest input amplitude on a word line",
    ),
    "inputs": Param(
        str,
        "uniform",
        choices=("uniform", "bipolar", "binary"),
        doc="input distribution: U[0, v_read], U[-v_read, v_read] or {0, v_read}",
    ),
    "batch": Param(int, 16, low=1, high=1_000_000, doc="input vectors read per point"),
    "t_read": Param(
        float,
        5e-9,
        low=0,
        low_open=True,
        high=1.0,
        unit="s",
        doc="duration of one read (NeuroSim RealDevice: 5 ns)",
    ),
    "adc_bits": Param(
        int, 0, low=0, high=24, doc="ADC resolution in bits; 0 = no ADC (analog currents)"
    ),
    "adc_range": Param(
        str,
        "full",
        choices=("full", "calibrate"),
        doc="ADC range per column: full scale v_read*g_max*rows (0 or -fs to fs), or "
        "min..max of the currents of a separate calibration batch",
    ),
}

MVM_METRICS = {
    "rel_rms_error": "||I - I_ideal|| / ||I_ideal|| over the batch (after the ADC when adc_bits > 0)",
    "max_error": "max |I - I_ideal| / max |I_ideal| over the batch (after the ADC when adc_bits > 0)",
    "analog_rel_rms_error": "rel_rms_error of the analog column currents (before any ADC)",
    "solve_time_s": "wall time of the circuit solve per input vector, s",
    "read_energy_j": "energy dissipated in the array, wires and terminals per read, J "
    "(solved power total, as Crossbar.read_power, x t_read)",
    "adc_energy_j": "ADC energy per read, J: cols x energy per conversion (xbar.periphery.adc "
    "default, Murmann survey medians); 0 without ADC",
}


def adc_available() -> bool:
    """Whether the periphery ADC (``xbar.periphery.adc``, issue 5) is installed."""
    try:
        return importlib.util.find_spec("xbar.periphery.adc") is not None
    except ImportError:
        return False


def _check(params: dict) -> None:
    if not params["g_min"] < params["g_max"]:
        raise ConfigError(
            f"g_min must be < g_max (S), got g_min={params['g_min']!r}, g_max={params['g_max']!r}"
        )
    if params["cell"] == "0T1R" and params["r_access"] != 0:
        raise ConfigError(
            f"r_access applies to cell='1T1R' only, got r_access={params['r_access']!r} "
            "with cell='0T1R'"
        )
    if params["adc_bits"] > 0 and not adc_available():
        raise ConfigError(
            f"adc_bits={params['adc_bits']} needs the periphery ADC (xbar.periphery.adc), "
            "which is not installed; use adc_bits = 0"
        )


def _adc_ranges(
    params: dict, xb, bipolar: bool, random_state: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-column ADC input range (A): theoretical full scale or calibrated on a separate batch."""
    N = params["cols"]
    full_scale = (
        params["v_read"] * params["g_max"] * params["rows"]
    )  # all inputs high, cells at g_max
    if params["adc_range"] == "full":
        return np.full(N, -full_scale if bipolar else 0.0), np.full(N, full_scale)
    calib = xb.read(
        _inputs(params, random_state)
    )  # calibration inputs: same distribution, other draws
    lo, hi = calib.min(axis=0), calib.max(axis=0)
    return lo, np.maximum(hi, lo + 1e-9 * full_scale)  # a column that never moved gets a tiny range


def _inputs(params: dict, random_state: np.random.Generator) -> np.ndarray:
    """(batch, rows) input voltages, V, from the ``inputs`` distribution."""
    B, M, v = params["batch"], params["rows"], params["v_read"]
    if params["inputs"] == "uniform":
        return random_state.uniform(0.0, v, size=(B, M))
    if params["inputs"] == "bipolar":
        return random_state.uniform(-v, v, size=(B, M))
    return v * (random_state.random((B, M)) < 0.5)


def mvm_memory(params: dict) -> float:
    """Estimated peak memory of one ``mvm`` point, bytes: the batched ``Crossbar.solve``
    (``xbar.circuit.memory.solve_bytes``, the solver's own estimate) plus the task's inputs and
    outputs (a few arrays of B (M + N)).  tracemalloc peaks of 32x512 to 256x256 points with
    B = 1-32 lie at 0.65-0.86 of it.

    Parameters
    ----------
    params : dict
        The point's ``mvm`` parameters; ``rows``, ``cols`` and ``batch`` are read.

    Returns
    -------
    float
        The estimate, in bytes.
    """
    from ..circuit import memory
    from .._threads import batch_threads as _num_threads

    M, N, B = params["rows"], params["cols"], params["batch"]
    return float(
        memory.solve_bytes(M, N, B, _num_threads(B), full=True, direct=False) + 8 * 8 * B * (M + N)
    )


@task(
    "mvm",
    params=MVM_PARAMS,
    metrics=MVM_METRICS,
    check=_check,
    timing=("solve_time_s",),
    memory=mvm_memory,
    renamed={"read_time": "t_read"},
)
@renamed_kwarg(seed="random_state")
def mvm(params: dict, random_state=None) -> dict:
    """One MVM point: see the module docstring.  Units: S, ohm, V, s, J.

    Parameters
    ----------
    params : dict
        Every parameter of the task's schema ``MVM_PARAMS`` (spec values over defaults; the
        ``seed`` axis excluded), in the units of their ``Param`` docs.
    random_state : int, numpy.random.Generator or None
        Randomness of the point (the spec's ``seed``); spawned into independent streams
        (fabrication: the conductances; operation: the inputs; calibration: the ADC range inputs).  ``seed`` is its deprecated keyword name.

    Returns
    -------
    dict
        The metrics ``MVM_METRICS`` (name -> float; units in their descriptions).
    """
    from ..circuit import Crossbar

    M, N, B = params["rows"], params["cols"], params["batch"]
    fab, op, cal = spawn(
        random_state, 3
    )  # fabrication (G) apart from operation (inputs) and calibration
    G = fab.uniform(params["g_min"], params["g_max"], size=(M, N))
    V = _inputs(params, op)
    r = params["r_wire"]
    extra = {"r_access": params["r_access"]} if params["cell"] == "1T1R" else {}
    xb = Crossbar(
        G,
        r_wordline=r,
        r_bitline=r,
        r_driver=params["r_driver"],
        r_sense=params["r_sense"],
        cell=params["cell"],
        **extra,
    )
    t0 = time.perf_counter()
    sol = xb.solve(V, np.zeros((B, N)))  # a read: drivers at V, bit lines held at 0 V
    solve_time = (time.perf_counter() - t0) / B
    analog = sol.col_currents
    ideal = V @ G  # the programmed weights; xb.ideal_read would fold in the access transistor
    energy = float(np.mean(sol.power.total)) * params["t_read"]  # = read_power(V).total x t
    current, adc_energy = analog, 0.0
    if params["adc_bits"] > 0:
        from ..periphery.adc import ADC

        # The quantizer is linear, so converting the currents (A) with ranges in A equals converting
        # the TIA output voltages with the ranges scaled by the TIA gain.
        adc = ADC(bits=params["adc_bits"])
        lo, hi = _adc_ranges(params, xb, params["inputs"] == "bipolar", cal)
        current, _ = adc.convert(analog, lo, hi)
        adc_energy = N * adc.conversion_energy()
    norm = np.linalg.norm(ideal)
    peak = np.max(np.abs(ideal))
    return {
        "rel_rms_error": float(np.linalg.norm(current - ideal) / norm)
        if norm > 0
        else float("nan"),
        "max_error": float(np.max(np.abs(current - ideal)) / peak) if peak > 0 else float("nan"),
        "analog_rel_rms_error": float(np.linalg.norm(analog - ideal) / norm)
        if norm > 0
        else float("nan"),
        "solve_time_s": solve_time,
        "read_energy_j": energy,
        "adc_energy_j": adc_energy,
    }
