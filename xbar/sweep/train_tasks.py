"""The ``train`` sweep task: accuracy and energy of an on-chip learning rule on simulated hardware.

One point trains a small network on scikit-learn's bundled 8x8 digits (1797 images, no download;
features scaled to [0, 1], a fixed shuffle, the last 397 images held out for testing) with pulsed
HfOx device pairs (:class:`xbar.devices.HfOxReRAM`, device-to-device variation sampled from the
point's ``random_state``, the spec's ``seed``) written by reset-only or program-and-verify pulses, and reads either through the circuit
(:class:`xbar.train.CircuitReader`: DAC -> crossbar solve with wire resistance -> TIA -> ADC) or
ideal.  It reports the test accuracy and the energy booked in the training's
:class:`~xbar.pulses.EnergyLedger` (writes, reads, converters), so a sweep shows accuracy and
energy against array, periphery and device parameters::

    [sweep]
    task = "train"
    [axes]
    adc_bits = [4, 6, 8]
    r_wire = [0.0, 1.0, 5.0]

Defaults take a few seconds per point (500 training images, one epoch, softmax SGD).
"""

from __future__ import annotations

import time

import numpy as np

from .._deprecate import renamed_kwarg
from ..exceptions import ConfigError
from .params import Param
from .tasks import task

RULES = ("sgd", "sgd+lfm", "ff", "competitive")

TRAIN_PARAMS = {
    "rule": Param(
        str,
        "sgd",
        choices=RULES,
        doc="learning rule: softmax SGD, SGD with learning from mistakes, "
        "forward-forward, competitive (the last two need hidden > 0)",
    ),
    "hidden": Param(int, 0, low=0, high=512, doc="hidden layer width (0 = a single layer)"),
    "lr": Param(
        float,
        0.5,
        low=0,
        low_open=True,
        high=100,
        doc="learning rate (SoftmaxSGD 0.5; ForwardForward needs ~6)",
    ),
    "epochs": Param(int, 1, low=1, high=100, doc="passes over the training images"),
    "n_train": Param(int, 500, low=10, high=1400, doc="training images (of the first 1400)"),
    "batch": Param(int, 20, low=1, high=1400, doc="samples per update"),
    "circuit": Param(
        bool,
        True,
        doc="read through DAC -> circuit solve -> TIA -> ADC "
        "(False: ideal reads of the programmed conductances)",
    ),
    "max_rows": Param(int, 33, low=2, high=1024, doc="word lines per array (inputs per tile)"),
    "max_cols": Param(int, 128, low=2, high=1024, doc="bit lines per array"),
    "r_wire": Param(
        float, 1.0, low=0, high=1e4, unit="ohm", doc="word- and bit-line resistance per segment"
    ),
    "dac_bits": Param(int, 8, low=0, high=16, doc="DAC resolution (0 = ideal)"),
    "adc_bits": Param(int, 8, low=0, high=16, doc="ADC resolution (0 = ideal)"),
    "adc_zero_code": Param(
        bool,
        True,
        doc="ADC code grid: True = mid-tread (0 exact), False = range ends "
        "exact (mid-rise; keeps the sign of small outputs)",
    ),
    "output_range": Param(
        float,
        16.0,
        low=0,
        low_open=True,
        high=1e6,
        doc="read-out full scale in weight x input units (sets the TIA gain)",
    ),
    "g_min": Param(
        float,
        0.1e-6,
        low=0,
        low_open=True,
        high=1.0,
        unit="S",
        doc="device window low end (0.1-10 uS keeps the IR drop of 1 ohm wires small)",
    ),
    "g_max": Param(
        float, 10e-6, low=0, low_open=True, high=1.0, unit="S", doc="device window high end"
    ),
    "writer": Param(
        str,
        "reset-only",
        choices=("reset-only", "program-verify"),
        doc="how updates are written: reset pulses only, or program-and-verify",
    ),
}

TRAIN_METRICS = {
    "test_accuracy": "accuracy on the 397 held-out digits after the last epoch (fraction)",
    "energy_j": "energy booked during training (writes, reads, DAC, TIA, ADC), J",
    "write_energy_j": "energy of the programming pulses during training, J",
    "read_energy_j": "energy of the array reads during training (without converters), J",
    "energy_per_sample_j": "energy_j per training sample, J",
    "train_time_s": "wall time of the training, s",
}


def _check(params: dict) -> None:
    if not params["g_min"] < params["g_max"]:
        raise ConfigError(
            f"g_min must be < g_max (S), got g_min={params['g_min']!r}, g_max={params['g_max']!r}"
        )
    if params["rule"] in ("ff", "competitive") and params["hidden"] < 1:
        raise ConfigError(
            f"rule={params['rule']!r} needs a hidden layer: set hidden >= 1, "
            f"got hidden={params['hidden']}"
        )
    if params["batch"] > params["n_train"]:
        raise ConfigError(
            f"batch must be <= n_train, got batch={params['batch']}, n_train={params['n_train']}"
        )
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        raise ConfigError(
            "task 'train' needs scikit-learn for its digits data set (pip install scikit-learn)"
        ) from None


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test): 1400 / 397 digits, features in [0, 1]."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(y))
    X, y = X[idx] / 16.0, y[idx]
    return X[:1400], y[:1400], X[1400:], y[1400:]


def _rule(params: dict):
    from .. import train as T

    name, lr = params["rule"], params["lr"]
    if name == "sgd":
        return T.SoftmaxSGD(lr=lr)
    if name == "sgd+lfm":
        return T.SoftmaxSGD(lr=lr, lfm_rate=0.05)
    if name == "ff":
        return T.ForwardForward(lr=lr, threshold=0.5)
    return T.Competitive()


@task(
    "train",
    params=TRAIN_PARAMS,
    metrics=TRAIN_METRICS,
    check=_check,
    timing=("train_time_s",),
    version="1",
)
@renamed_kwarg(seed="random_state")
def train(params: dict, random_state=None) -> dict:
    """One training point: see the module docstring.  Units: S, ohm, J, s.

    Parameters
    ----------
    params : dict
        Every parameter of the task's schema ``TRAIN_PARAMS`` (spec values over defaults; the
        ``seed`` axis excluded), in the units of their ``Param`` docs.
    random_state : int, numpy.random.Generator or None
        Randomness of the point (the spec's ``seed``); spawned into independent streams
        by the circuit reader, the network initialisation and :func:`xbar.train.fit`.  ``seed`` is its deprecated keyword name.

    Returns
    -------
    dict
        The metrics ``TRAIN_METRICS`` (name -> float; units in their descriptions).
    """
    from .. import periphery as P
    from .. import train as T
    from ..devices import HfOxReRAM
    from ..pulses import EnergyLedger

    Xtr, ytr, Xte, yte = digits()
    n = params["n_train"]
    Xtr, ytr = Xtr[:n], ytr[:n]
    rule = _rule(params)
    ledger = EnergyLedger()
    reader = None
    if params["circuit"]:
        r = params["r_wire"]
        reader = T.CircuitReader(
            array=P.ArrayConfig(
                max_rows=params["max_rows"], max_cols=params["max_cols"], r_wordline=r, r_bitline=r
            ),
            dac=P.DAC(bits=params["dac_bits"] or None),
            adc=P.ADC(bits=params["adc_bits"] or None, zero_code=params["adc_zero_code"]),
            output_range=params["output_range"],
            random_state=random_state,
        )
    writer = T.ResetOnlyWriter() if params["writer"] == "reset-only" else T.ProgramVerifyWriter()
    factory = T.pulsed_layer_factory(
        HfOxReRAM(g_min=params["g_min"], g_max=params["g_max"]),
        writer,
        T.PulseMapping("stochastic"),
        w_max=1.0,
        ledger=ledger,
        reader=reader,
    )
    hidden = [params["hidden"]] if params["hidden"] else []
    net = T.build_network(
        rule, Xtr.shape[1], 10, hidden, layer_factory=factory, random_state=random_state
    )
    t0 = time.perf_counter()
    res = T.fit(
        net,
        (Xtr, ytr),
        rule=rule,
        epochs=params["epochs"],
        random_state=random_state,
        batch_size=params["batch"],
        test=(Xte, yte),
        ledger=ledger,
        progress=False,
    )
    wall = time.perf_counter() - t0
    last = res.history[-1]
    e_train = ledger.total(phase="train")
    return {
        "test_accuracy": float(last["test_accuracy"]),
        "energy_j": e_train,
        "write_energy_j": ledger.total("write", phase="train"),
        "read_energy_j": ledger.total("read", phase="train"),
        "energy_per_sample_j": e_train / (n * params["epochs"]),
        "train_time_s": wall,
    }
