"""Parameter sets fitted to measured data; each names its data set and the fit that produced it.

The numbers were produced by ``xbar.devices.fit`` on the files in ``$XBAR_DATA_DIR`` (see each
data set's SOURCE.md); ``validation/measured/run.py`` refits them and checks the presets still
match (``tests/test_validate_measured.py``).

* :func:`tud_hfox` - window, I-V shape and switching voltages of the ``tud-rram-iv-cycles`` device
  (50 SET + 50 RESET quasi-static sweeps; medians over cycles).
* :func:`crosssim_ramps` - pulse response fitted to the even-numbered ramps of
  ``crosssim-pulse-ramps`` (the odd ones are held out for validation).
* :func:`stanford_tech_b`, :func:`stanford_tech_c` - drift / broadening per level and measured
  time, fitted on each whole record of ``stanford-rram-relaxation`` (B: 10 ms - 1e4 s, C: 10 ms -
  1e5 s; held-out cells in the report), read-noise floors per level.
* :func:`stanford_tech_a_read_noise` - relative read noise and 1/f exponent of tech A's series.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np

from ..iv import Asymmetric
from .hfox import DTOD_FIELDS, HfOxReRAM

__all__ = [
    "tud_hfox",
    "crosssim_ramps",
    "stanford_tech_b",
    "stanford_tech_c",
    "PROVENANCE",
    "defaults_from_fits",
    "illustrative_hfox",
    "ILLUSTRATIVE",
    "stanford_tech_a_read_noise",
    "relaxation_model",
    "TUD",
    "RAMPS",
    "TECH_A_NOISE",
    "TECH_B",
    "TECH_C",
]

# --- fitted numbers: in the data file presets.json next to this module (package data), written
# by xbar.devices.fit; regenerate with validation/measured/run.py.
PRESETS_FILE = "presets.json"


def _tuples(value):
    """JSON lists back to the tuples the presets have always been (dicts recursively)."""
    if isinstance(value, list):
        return tuple(_tuples(v) if isinstance(v, list) else v for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _load_fitted() -> dict:
    text = resources.files(__package__).joinpath(PRESETS_FILE).read_text(encoding="utf-8")
    doc = json.loads(text)
    return {
        name: _tuples(doc[name]) for name in ("TECH_B", "TECH_C", "RAMPS", "TECH_A_NOISE", "TUD")
    }


_FITTED = _load_fitted()
TECH_B: dict = _FITTED["TECH_B"]
TECH_C: dict = _FITTED["TECH_C"]
RAMPS: dict = _FITTED["RAMPS"]
TECH_A_NOISE: dict = _FITTED["TECH_A_NOISE"]
TUD: dict = _FITTED["TUD"]


def tud_hfox(**overrides) -> HfOxReRAM:
    """HfOx-class device of ``tud-rram-iv-cycles`` (Keithley 4200 sweeps, medians over 50 cycles).

    Window: g_min = 1/R_HRS, g_max = 1/R_LRS at |0.1 V|.  SETs at negative voltage
    (``set_polarity = -1``).  I-V: LRS branches are ohmic within the sweep (fitted sinh shape
    voltages > 10 V), the HRS branch has v0 ~ 0.47 V; the I-V used for energies is
    ``Asymmetric(v0_lrs_pos, v0_lrs_neg)``.  Thresholds: the quasi-static |V_set|, V_reset
    (medians) are used as the reference amplitudes; pulse step sizes stay the class defaults
    (no pulse data of this device).

    Parameters
    ----------
    **overrides
        ``HfOxReRAM`` parameters that replace the preset's (SI units, as the class documents them).
    """
    kw = dict(
        g_min=1.0 / TUD["r_hrs"],
        g_max=1.0 / TUD["r_lrs"],
        set_polarity=-1,
        iv=Asymmetric(TUD["v0_lrs_pos"], TUD["v0_lrs_neg"]),
        set_v_ref=abs(TUD["v_set"]),
        set_v_th=0.6 * abs(TUD["v_set"]),
        reset_v_ref=TUD["v_reset"],
        reset_v_th=0.6 * TUD["v_reset"],
        source="tud-rram-iv-cycles (H16248L M12, 50 cycles), xbar.devices.fit.fit_iv_cycle",
    )
    kw.update(overrides)
    return HfOxReRAM(**kw)


def crosssim_ramps(**overrides) -> HfOxReRAM:
    """Pulse response of the ``crosssim-pulse-ramps`` device (fit of the 20 even SET and 20 even
    RESET ramps; reference pulse = the measured pulse, amplitude and width undocumented, so
    ``set_v_ref``/``reset_v_ref``/``t_ref`` keep the class defaults).  No d2d (one device).

    Parameters
    ----------
    **overrides
        ``HfOxReRAM`` parameters that replace the preset's (SI units, as the class documents them).
    """
    kw: dict[str, Any] = dict(
        g_min=RAMPS["g_min"], g_max=RAMPS["g_max"], set_sigma_win=0.0, reset_sigma_win=0.0
    )
    for p in ("set", "reset"):
        for k, v in RAMPS[p].items():
            kw[f"{p}_{k}"] = v
    return _preset(
        "crosssim-pulse-ramps (even ramps), xbar.devices.fit.fit_pulse_ramps", overrides, **kw
    )


_ONE_DEVICE = dict.fromkeys(DTOD_FIELDS, 0.0)


def _preset(source: str, overrides: dict, **kw) -> HfOxReRAM:
    """The one loader of the fitted presets: ``HfOxReRAM(**kw)`` with no device-to-device
    spread (each data set here is one device, or many cells read without d2d parameters), the
    data set named in ``source``, then the caller's ``overrides`` (SI units)."""
    return HfOxReRAM(**{**_ONE_DEVICE, **kw, "source": source, **overrides})


def relaxation_model(
    window: float,
    t0: float,
    x,
    rate,
    sigma,
    read_noise_rel,
    source: str,
    overrides: dict | None = None,
    tables=None,
) -> HfOxReRAM:
    """An ``HfOxReRAM`` on ``[1e-3 W, W]`` carrying per-level relaxation and read-noise tables.

    The shape shared by :func:`stanford_tech_b`, :func:`stanford_tech_c` and
    :meth:`xbar.devices.fit.RelaxationFit.to_model`.

    Parameters
    ----------
    window : float
        W, the full-scale conductance the tables are relative to, S.
    t0 : float
        Clock origin of the relaxation ``drift_t0``, s.
    x : sequence of float
        Normalised programmed states of the table knots (dimensionless).
    rate, sigma : sequence of float
        ``drift_rate`` and ``drift_sigma`` per knot, relative to W (per decade, per
        sqrt(decade) of the clock).
    read_noise_rel : sequence of float
        Relative read noise per knot (dimensionless).
    source : str
        The data set and fit.
    overrides : dict, optional
        Further ``HfOxReRAM`` fields (SI units), applied last (a dict, so that any field,
        ``read_noise_rel`` or ``source`` among them, can be overridden).
    tables : (L, mean, std) or None
        ``drift_L`` (decades) and the ``drift_mean``/``drift_std`` tables (per knot of ``x``,
        per clock knot, relative to W); None = the linear law.

    Returns
    -------
    HfOxReRAM
    """
    knots = tuple(float(v) for v in x)
    tab: dict = {}
    if tables is not None:
        lk, mt, st = tables
        tab = dict(
            drift_L=tuple(float(v) for v in lk),
            drift_mean=tuple(tuple(float(v) for v in row) for row in mt),
            drift_std=tuple(tuple(float(v) for v in row) for row in st),
        )
    return _preset(
        source,
        overrides or {},
        **tab,
        g_min=1e-3 * window,
        g_max=window,
        drift_t0=t0,
        drift_x=knots,
        drift_rate=tuple(float(v) for v in rate),
        drift_sigma=tuple(float(v) for v in sigma),
        read_noise_x=knots,
        read_noise_rel=tuple(float(v) for v in read_noise_rel),
    )


def _stanford(tech: dict, name: str, overrides) -> HfOxReRAM:
    return relaxation_model(
        tech["window"],
        tech["drift_t0"],
        tech["drift_x"],
        tech["drift_rate"],
        tech["drift_sigma"],
        tech["read_noise_rel"],
        f"stanford-rram-relaxation {name}, xbar.devices.fit.fit_relaxation",
        overrides,
        tables=(tech["drift_L"], tech["drift_mean"], tech["drift_std"])
        if "drift_L" in tech
        else None,
    )


def stanford_tech_b(**overrides) -> HfOxReRAM:
    """Relaxation of ``stanford-rram-relaxation`` technology B (gmax 128 uS), whole record (to 1e4 s).

    Parameters
    ----------
    **overrides
        ``HfOxReRAM`` parameters that replace the preset's (SI units, as the class documents them).
    """
    return _stanford(TECH_B, "tech B (10 ms - 1e4 s)", overrides)


def stanford_tech_c(**overrides) -> HfOxReRAM:
    """Relaxation of ``stanford-rram-relaxation`` technology C (gmax 40 uS), whole record (to 1e5 s).

    Parameters
    ----------
    **overrides
        ``HfOxReRAM`` parameters that replace the preset's (SI units, as the class documents them).
    """
    return _stanford(TECH_C, "tech C (10 ms - 1e5 s)", overrides)


def stanford_tech_a_read_noise(**overrides) -> HfOxReRAM:
    """Read noise of ``stanford-rram-relaxation`` technology A (5 series, 250 s at 400 Hz).

    Parameters
    ----------
    **overrides
        ``HfOxReRAM`` parameters that replace the preset's (SI units, as the class documents them).
    """
    x = np.asarray(TECH_A_NOISE["g_mean"]) / TECH_A_NOISE["window"]
    return _preset(
        "stanford-rram-relaxation tech A series, xbar.devices.fit.fit_read_noise",
        overrides,
        g_min=1e-3 * TECH_A_NOISE["window"],
        g_max=1.1 * TECH_A_NOISE["window"],
        read_noise_x=tuple(float(v) for v in x / 1.1),
        read_noise_rel=TECH_A_NOISE["sigma_rel"],
        read_noise_exponent=TECH_A_NOISE["exponent"],
    )


# --- provenance of the HfOxReRAM defaults: field -> (kind, source); kind is "fitted" (from the
# data named, by xbar.devices.fit), "estimated" (from data that bear on it, with the stated
# assumption), or "assumed" (no data here; the value and why).
PROVENANCE = {
    "g_min": ("fitted", "tud-rram-iv-cycles: 1/median R_HRS at -0.1 V over 50 SET sweeps"),
    "g_max": ("fitted", "tud-rram-iv-cycles: 1/median R_LRS at +0.1 V over 50 RESET sweeps"),
    "g_min_dtod": (
        "estimated",
        "tud: robust sd of ln R_HRS over 50 cycles (0.49); d2d taken "
        "equal to c2c (one device; the stanford 16k-cell sets are programmed by verify into "
        "32 ranges, so they carry no window or threshold spread)",
    ),
    "g_max_dtod": (
        "estimated",
        "tud: robust sd of ln R_LRS over 50 cycles (0.15); d2d = c2c assumed",
    ),
    "v_th_dtod": (
        "estimated",
        "tud: robust sd (1.4826 MAD) of V_reset over 50 cycles, 0.067 V "
        "(plain sd 0.13 V, inflated by 3 outlier cycles); d2d = c2c assumed (no "
        "multi-device threshold data here: the stanford sets hold reads only)",
    ),
    "alpha_dtod": (
        "assumed",
        "0.2: no d2d pulse-response data (crosssim and tud are one device "
        "each); the crosssim ramp-to-ramp rate spread is < 2 % (c2c)",
    ),
    "set_alpha": ("fitted", "crosssim-pulse-ramps even SET ramps, window units"),
    "set_kappa": ("fitted", "crosssim SET fit, -0.056 (~0: the step hardly follows G)"),
    "set_kappa_d": ("fitted", "crosssim SET fit (pulse-history memory)"),
    "set_gamma": ("fitted", "crosssim SET fit"),
    "set_warmup": ("fitted", "crosssim SET fit"),
    "set_warmup_dx": ("fitted", "crosssim SET fit"),
    "set_sigma_win": (
        "fitted",
        "crosssim SET: growth of the ramp-to-ramp spread about the fitted paths (even ramps, "
        "after the read noise), per window (1.6e-7 S of a 0.967 mS window)",
    ),
    "set_sigma_rel": ("fitted", "crosssim SET fit (non-negative least squares gives 0)"),
    "set_sigma_ramp": (
        "fitted",
        "crosssim SET: ramp-to-ramp rate spread, 0.89 % (spread growing with the distance "
        "travelled; fit_pulse_ramps, even ramps)",
    ),
    "set_sigma_abs": ("fitted", "0: the floor is per window (set_sigma_win)"),
    "reset_alpha": ("fitted", "crosssim-pulse-ramps even RESET ramps, window units"),
    "reset_kappa": ("fitted", "crosssim RESET fit"),
    "reset_kappa_d": ("fitted", "crosssim RESET fit (pulse-history memory)"),
    "reset_gamma": ("fitted", "crosssim RESET fit (6e-14, rounded to 0)"),
    "reset_warmup": ("fitted", "crosssim RESET fit"),
    "reset_warmup_dx": ("fitted", "crosssim RESET fit"),
    "reset_sigma_win": ("fitted", "crosssim RESET fit (non-negative least squares gives 0)"),
    "reset_sigma_rel": (
        "fitted",
        "crosssim RESET: growth of the ramp-to-ramp spread about the fitted paths, 6.4 % of "
        "the mean step (even ramps)",
    ),
    "reset_sigma_ramp": ("fitted", "crosssim RESET: ramp-to-ramp rate spread, 1.13 %"),
    "reset_sigma_abs": ("fitted", "0: the floor is per window (reset_sigma_win)"),
    "set_v_ref": (
        "assumed",
        "1.2 V: no pulse-amplitude data (crosssim pulse undocumented; tud "
        "quasi-static |V_set| median 0.97 V, spread 0.41 V, an upper bound "
        "for 100 ns pulses)",
    ),
    "set_v_th": ("assumed", "0.8 V, below the quasi-static |V_set|"),
    "reset_v_ref": (
        "assumed",
        "0.8 V: the sub-1 V reset-only regime of docs/references.rst, ref-renaudineau2026 "
        "(Renaudineau et al.); tud quasi-static V_reset median 1.03 V",
    ),
    "reset_v_th": ("assumed", "0.5 V, below the 0.8 V reference"),
    "set_v_scale": ("assumed", "0.1 V per e-fold: no amplitude series in the data"),
    "reset_v_scale": ("assumed", "0.1 V per e-fold"),
    "set_t_ref": ("assumed", "100 ns: the crosssim pulse width is undocumented"),
    "reset_t_ref": ("assumed", "100 ns"),
    "width_exponent": ("assumed", "1: no width series"),
    "iv": ("fitted", "Sinh(0.5 V): tud HRS branch v0 median 0.47 V; LRS ohmic within the sweep"),
    "drift_t0": (
        "fitted",
        "stanford tech B, t <= 100 s (fit_relaxation: TECH_B drift_t0 1.58 ms, rounded)",
    ),
    "drift_x": ("assumed", "5 knots over the window (the TECH_B table has 32 levels)"),
    "drift_rate": (
        "estimated",
        "stanford tech B fit (TECH_B, 32 levels) read off at the 5 knots and rounded, in window "
        "units; carried over to this window (assumed: no relaxation data of the tud or crosssim "
        "device); held-out check of the law on tech B 1e4 s and C 1e5 s in the report",
    ),
    "drift_sigma": (
        "estimated",
        "as drift_rate; a spread over ~16k cells, i.e. the device-to-device spread of the "
        "relaxation (increments between reads are anti-correlated, -0.1 to -0.5: no persistent "
        "per-device drift rate to add)",
    ),
    "drift_L": (
        "assumed",
        "empty: the default law is linear in the clock (no tables); the stanford_tech_b/c "
        "presets carry measured tables (fit_relaxation over each whole record)",
    ),
    "drift_mean": ("assumed", "empty, as drift_L"),
    "drift_std": ("assumed", "empty, as drift_L"),
    "read_noise_x": ("fitted", "stanford tech A, 5 series"),
    "read_noise_rel": ("fitted", "stanford tech A (the unstable 85 uS cell capped at 5 %)"),
    "read_noise_exponent": ("fitted", "stanford tech A PSD slopes (median 1.04, range 0.75-1.42)"),
    "dx_max": ("assumed", "numerical: largest mean sub-step, 2 % of the window"),
    "max_substeps": ("assumed", "numerical cap"),
    "set_polarity": ("assumed", "+1 (tud_hfox: -1, measured)"),
}


def defaults_from_fits() -> dict:
    """The fitted HfOxReRAM defaults recomputed from the preset fits above (window from ``TUD``,
    normalised pulse law and noise from ``RAMPS``); ``tests`` check the class defaults equal
    these (to the digits the defaults carry)."""
    w_ramps = RAMPS["g_max"] - RAMPS["g_min"]
    out = {"g_min": 1.0 / TUD["r_hrs"], "g_max": 1.0 / TUD["r_lrs"]}
    for p in ("set", "reset"):
        for k in (
            "alpha",
            "kappa",
            "kappa_d",
            "gamma",
            "warmup",
            "warmup_dx",
            "sigma_rel",
            "sigma_ramp",
        ):
            out[f"{p}_{k}"] = RAMPS[p][k]
        out[f"{p}_sigma_win"] = RAMPS[p]["sigma_abs"] / w_ramps
    return out


#: The former (pre issue 18) illustrative HfOxReRAM defaults: not fitted; larger reset steps
#: (2 % of the window per reference pulse), 30 % relative c2c noise, no pulse-history memory.
ILLUSTRATIVE = dict(
    g_min=10e-6,
    g_max=580e-6,
    g_min_dtod=0.1,
    g_max_dtod=0.1,
    v_th_dtod=0.05,
    set_alpha=0.02,
    set_kappa=0.0,
    set_gamma=1.0,
    set_sigma_rel=0.3,
    set_sigma_win=0.0,
    set_kappa_d=0.0,
    set_warmup=0.0,
    reset_alpha=0.02,
    reset_kappa=0.0,
    reset_gamma=1.0,
    reset_sigma_rel=0.3,
    reset_sigma_win=0.0,
    reset_kappa_d=0.0,
    reset_warmup=0.0,
)


def illustrative_hfox(**overrides) -> HfOxReRAM:
    """The former illustrative ``HfOxReRAM`` defaults (``ILLUSTRATIVE``), for studies and tests
    tuned on them.  Not fitted to any data: prefer ``HfOxReRAM()`` (the fitted preset).

    Parameters
    ----------
    **overrides
        ``HfOxReRAM`` parameters that replace the preset's (SI units, as the class documents them).
    """
    kw: dict[str, Any] = dict(
        ILLUSTRATIVE, source="former illustrative defaults (not fitted; pre issue 18)"
    )
    kw.update(overrides)
    return HfOxReRAM(**kw)
