"""One constraint declaration (xbar.config.declare) and the composite HardwareConfig (issues 13, 15)."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _invalid import invalid_values

from xbar.config import Constraint, HardwareConfig, constraints, declared, param, validate
from xbar.config.hardware import (
    SECTIONS,
    DeviceConfig,
    device_constraints,
    hardware_params,
    load_hardware,
)
from xbar.exceptions import ConfigError
from xbar.periphery import ADC, DAC, TIA, AnalogLinear, ArrayConfig, WeightMapping

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hardware" / "rram_1t1r.toml"

#: Fields a section class validates by hand because no scalar declaration can express them.
UNDECLARED = {"array": {"crossbar_options"}, "adc": {"range"}}


# ----------------------------------------------------------------------------- declarations
@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_field_is_declared_and_rejects_bad_values_by_name(section):
    cls = SECTIONS[section]
    decl = constraints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(decl) == fields - UNDECLARED.get(section, set())
    for name, c in decl.items():
        assert c.check(c.default, name) == c.default
        assert c.doc  # the attribute docstring's first sentence
        for bad in invalid_values(c):
            with pytest.raises(ConfigError, match=rf"{cls.__name__}\.{name} must be"):
                cls(**{name: bad})


def test_error_names_field_range_unit_and_value():
    with pytest.raises(ConfigError, match=r"^DAC\.v_read must be > 0 V, got -0\.2$"):
        DAC(v_read=-0.2)
    with pytest.raises(ConfigError, match=r"^ADC\.bits must be >= 1 and <= 52 bit, got 0$"):
        ADC(bits=0)
    with pytest.raises(
        ConfigError, match=r"^TIA\.auto_gain must be one of \['weights', 'window'\]"
    ):
        TIA(auto_gain="auto")
    with pytest.raises(ConfigError, match=r"^ArrayConfig\.max_rows must be an integer, got float"):
        ArrayConfig(max_rows=2.0)


def test_help_shows_the_declared_range():
    assert "Allowed: a real number > 0 V." in DAC.__doc__
    assert "Allowed: an integer >= 1 and <= 52 bit or None." in ADC.__doc__


def test_declaring_a_new_dataclass_needs_one_line_per_field():
    @declared
    @dataclasses.dataclass
    class Driver:
        """A driver."""

        v: float = param(0.2, low=0.0, low_open=True, unit="V")
        """Read voltage, V.  More text."""

        def __post_init__(self):
            validate(self)

    assert constraints(Driver)["v"].doc == "Read voltage, V."
    assert "Allowed: a real number > 0 V." in Driver.__doc__
    with pytest.raises(ConfigError, match=r"Driver\.v must be > 0 V, got 0"):
        Driver(v=0)


def test_device_tables_are_constraints_and_reject_by_name():
    from xbar.devices import HfOxReRAM

    table = device_constraints("HfOxReRAM")
    assert all(isinstance(c, Constraint) for c in table.values())
    assert table["g_min"].default == HfOxReRAM().g_min and table["g_min"].unit == "S"
    with pytest.raises(ConfigError, match=r"HfOxReRAM\.set_alpha must be >= 0 and <= 1, got -0\.1"):
        HfOxReRAM(set_alpha=-0.1)
    with pytest.raises(ConfigError, match=r"HfOxReRAM\.drift_sigma\[1\] must be >= 0"):
        HfOxReRAM(drift_sigma=(0.0, -1.0, 0.0, 0.0, 0.0))


def test_sweep_param_is_the_declaration_and_hardware_params_cover_every_field():
    from xbar.sweep import Param
    from xbar.sweep.layer import LAYER_PARAMS

    assert Param is Constraint
    names = set(hardware_params())
    for section, cls in SECTIONS.items():
        for name, c in constraints(cls).items():
            p = LAYER_PARAMS[f"hardware.{section}.{name}"]
            assert (p.type, p.low, p.high, p.choices, p.unit) == (
                c.type,
                c.low,
                c.high,
                c.choices,
                c.unit,
            )
    expected = (
        {f"hardware.{s}.{n}" for s, cls in SECTIONS.items() for n in constraints(cls)}
        | {f"hardware.device.{n}" for n in device_constraints("HfOxReRAM")}
        | {f"hardware.device.{n}" for n in constraints(DeviceConfig)}
    )
    assert names == expected and names <= set(LAYER_PARAMS)


def test_cli_train_key_sets_equal_the_dataclass_fields():
    from xbar.cli.train import _KEYS, _TRAINING_HW_KEYS, DataTable, TrainTable
    from xbar.train.optim import SGD, LRSchedule

    fields = lambda cls: {f.name for f in dataclasses.fields(cls)}  # noqa: E731
    assert _KEYS["data"] == fields(DataTable)
    assert _KEYS["train"] == fields(TrainTable)
    assert _KEYS["optimizer"] == fields(SGD) | (fields(LRSchedule) - {"kind"})
    assert _KEYS["hardware"] == set(_TRAINING_HW_KEYS) | {"array", "device", "dac", "tia", "adc"}


# ----------------------------------------------------------------------------- HardwareConfig
def _custom() -> HardwareConfig:
    return HardwareConfig.from_dict(
        {
            "array": {
                "max_rows": 48,
                "max_cols": 16,
                "cell": "1T1R",
                "r_access": 12e3,
                "r_wordline": 2.5,
                "r_bitline": 0.5,
            },
            "device": {
                "preset": "tud_hfox",
                "g_min_dtod": 0.1,
                "drift_x": [0.0, 0.3, 0.5, 0.8, 1.0],
            },
            "dac": {"bits": "none", "v_read": 0.15, "r_driver": 20.0},
            "tia": {"r_in": 5.0, "auto_gain": "window"},
            "adc": {
                "bits": 6,
                "range": [-0.8, 0.8],
                "offset_std": 0.3,
                "energy_per_conversion": 1e-12,
            },
            "mapping": {"w_max": 2.0},
        }
    )


def test_toml_and_dict_round_trips_are_equal():
    hw = _custom()
    assert hw.dac.bits is None and hw.adc.range == (-0.8, 0.8)
    assert hw.device.params["drift_x"] == (0.0, 0.3, 0.5, 0.8, 1.0)
    for cfg in (hw, HardwareConfig(), load_hardware(EXAMPLE)):
        assert HardwareConfig.from_toml(cfg.to_toml()) == cfg
        assert HardwareConfig.from_toml(str(cfg)) == cfg  # the printout is valid TOML
        assert HardwareConfig.from_dict(cfg.to_dict()) == cfg
    assert HardwareConfig.from_dict({"hardware": hw.to_dict()}) == hw
    assert HardwareConfig.from_dict({}) == HardwareConfig()
    assert hw != HardwareConfig()


def test_str_is_readable_with_units():
    text = str(_custom())
    assert (
        "# cell 1T1R; wires: r_wordline = 2.5 ohm, r_bitline = 0.5 ohm, r_driver = 20 ohm, "
        "r_sense = 5 ohm" in text
    )
    assert "[adc]" in text and "bits = 6" in text and "[V] Full-scale read voltage" in text


@pytest.mark.parametrize(
    "data, match",
    [
        ({"adc": {"bits": 0}}, r"\[adc\] bits must be >= 1 and <= 52 bit, got 0"),
        ({"adc": {"bitz": 3}}, r"unknown key 'bitz' in \[adc\] \(did you mean 'bits'\?\)"),
        ({"wires": {}}, r"unknown section 'wires'"),
        ({"dac": {"v_read": "0.2"}}, r"\[dac\] v_read must be a real number, got str"),
        ({"array": {"cell": "1T1R"}}, r"\[array\] cell='1T1R' needs r_access"),
        ({"device": {"preset": "nope"}}, r"\[device\] preset must be one of"),
        ({"device": {"g_min": -1.0}}, r"\[device\] g_min must be > 0 S, got -1.0"),
        ({"device": {"preset": "tud_hfox", "model": "window"}}, r"preset or model, not both"),
        (
            {"device": {"set_alpha": [0.1]}},
            r"\[device\] set_alpha must be a real number >= 0 and <= 1, got list",
        ),
        (
            {"device": {"g_minn": 1e-6}},
            r"unknown key 'g_minn' in \[device\] \(did you mean 'g_min'",
        ),
        (
            {"mapping": {"scheme": "reference", "slices": 2, "bits_per_slice": 2}},
            r"\[mapping\] scheme",
        ),
    ],
)
def test_bad_tables_are_refused_naming_table_and_key(data, match):
    with pytest.raises(ConfigError, match=match):
        HardwareConfig.from_dict(data)


def test_config_built_layer_equals_hand_built_layer():
    from xbar.devices import presets

    hw = _custom()
    W = np.random.default_rng(1).uniform(-2, 2, (12, 60))
    x = np.random.default_rng(2).uniform(-1, 1, (5, 60))
    a = hw.build_layer(W, random_state=7)
    b = AnalogLinear(
        W,
        array=ArrayConfig(
            max_rows=48, max_cols=16, cell="1T1R", r_access=12e3, r_wordline=2.5, r_bitline=0.5
        ),
        dac=DAC(bits=None, v_read=0.15, r_driver=20.0),
        tia=TIA(r_in=5.0, auto_gain="window"),
        adc=ADC(bits=6, range=(-0.8, 0.8), offset_std=0.3, energy_per_conversion=1e-12),
        mapping=WeightMapping(w_max=2.0),
        device=presets.tud_hfox(g_min_dtod=0.1, drift_x=(0.0, 0.3, 0.5, 0.8, 1.0)),
        random_state=7,
    )
    assert len(a.tiles) == len(b.tiles) == 4
    ya, yb = a.forward(x), b.forward(x)
    assert np.array_equal(ya, yb)
    assert a.ledger.total() == b.ledger.total() > 0
    # the offsets are drawn (seeded): another seed gives other outputs
    assert not np.array_equal(hw.build_layer(W, random_state=8).forward(x), ya)
    with pytest.raises(ConfigError, match="come from the HardwareConfig"):
        hw.build_layer(W, adc=ADC())


def test_default_config_builds_the_default_layer():
    W = np.random.default_rng(0).uniform(-1, 1, (4, 8))
    x = np.random.default_rng(1).uniform(-1, 1, (3, 8))
    assert np.array_equal(
        HardwareConfig().build_layer(W, random_state=0).forward(x),
        AnalogLinear(W, random_state=0).forward(x),
    )


def test_device_config_builds_presets_models_and_windows():
    from xbar.devices import HfOxReRAM, presets
    from xbar.periphery import ConductanceRange

    assert DeviceConfig().build() is None
    assert DeviceConfig(preset="crosssim_ramps").build() == presets.crosssim_ramps()
    assert DeviceConfig(params={"g_min": 2e-6}).build() == HfOxReRAM(g_min=2e-6)
    assert DeviceConfig(
        model="window", params={"g_min": 1e-6, "g_max": 2e-5}
    ).build() == ConductanceRange(1e-6, 2e-5)
    with pytest.raises(ConfigError, match="cannot be written to TOML"):
        DeviceConfig(params={"iv": HfOxReRAM().iv}).to_dict()


def test_device_layer_options_round_trip_and_reach_the_layer_keywords():
    dev = DeviceConfig.from_dict(
        {
            "preset": "tud_hfox",
            "programming": "verify",
            "read_noise": True,
            "program_options": {"max_pulses": 50},
        }
    )
    assert dev.layer_options() == {
        "programming": "verify",
        "read_noise": True,
        "program_options": {"max_pulses": 50},
    }
    hw = HardwareConfig(device=dev)
    assert HardwareConfig.from_toml(hw.to_toml()) == hw
    kw = hw.layer_kwargs()
    assert kw["programming"] == "verify" and kw["read_noise"] is True
    assert "programming" not in HardwareConfig().layer_kwargs()  # defaults: AnalogLinear's
    with pytest.raises(ConfigError, match=r"\[device\] programming must be one of"):
        DeviceConfig.from_dict({"preset": "tud_hfox", "programming": "fast"})
    with pytest.raises(ConfigError, match="need a device model"):
        DeviceConfig(read_noise=True)


def test_crossbar_kwargs_and_flat_sweep_parameters():
    hw = load_hardware(EXAMPLE)
    kw = hw.crossbar_kwargs()
    assert kw["cell"] == "1T1R" and kw["r_access"] == 15e3 and kw["r_driver"] == hw.dac.r_driver
    assert kw["r_sense"] == hw.tia.r_in and kw["iv"] == hw.device.build().iv
    flat = {k: c.default for k, c in hardware_params().items()}
    assert HardwareConfig.from_flat(flat) == HardwareConfig()
    flat["hardware.adc.bits"] = 4
    flat["hardware.device.g_min"] = 2e-6
    hw2 = HardwareConfig.from_flat(flat)
    assert hw2.adc.bits == 4 and hw2.device.params == {"g_min": 2e-6}


def test_missing_or_invalid_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_hardware(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[adc\nbits = 3")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_hardware(tmp_path / "bad.toml")
