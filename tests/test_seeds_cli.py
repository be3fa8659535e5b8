"""validation/seeds/run.py --set FIELD=VALUE: one configuration field changed from the command
line (used for study 1's update-cadence variant), unknown fields refused."""

import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[1] / "validation" / "seeds"
if str(SEEDS) not in sys.path:
    sys.path.insert(0, str(SEEDS))


def test_set_fields_applies_literals_strings_and_tuples():
    import run
    import study1

    cfg = run.set_fields(
        study1.default_config(),
        ["batch_size=5", "ff_lr=0.25", "variant_seeds=[]", "drift_preset=stanford_tech_c"],
    )
    assert cfg.batch_size == 5 and cfg.ff_lr == 0.25
    assert cfg.variant_seeds == () and cfg.drift_preset == "stanford_tech_c"
    assert run.set_fields(cfg, None) == cfg


@pytest.mark.parametrize("bad", ["bogus=1", "batch_size", "=3"])
def test_set_fields_refuses_unknown_or_malformed_fields(bad):
    import run
    import study1
    from xbar.exceptions import ConfigError

    with pytest.raises(ConfigError, match="FIELD=VALUE"):
        run.set_fields(study1.default_config(), [bad])
