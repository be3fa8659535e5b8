"""``xbar demo``: what it prints, why, and its argument checks."""

import re

import pytest

from xbar.cli import main
from xbar.cli.demo import MILD_ARRAY


def _mean_error(out: str) -> float:
    return float(re.search(r"mean (-?[\d.]+)%", out).group(1)) / 100


def test_demo_explains_a_large_ir_drop(capsys):
    assert main(["demo", "--size", "64"]) == 0
    out = capsys.readouterr().out
    assert _mean_error(out) < -0.1  # the design card's array loses > 10 %
    assert "not a bug" in out and MILD_ARRAY in out and "wire strength" in out


def test_the_suggested_milder_array_is_milder(capsys):
    assert main(["demo", "--size", "64", *MILD_ARRAY.split()]) == 0
    out = capsys.readouterr().out
    assert -0.1 < _mean_error(out) < 0 and "not a bug" not in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--size", "-5"], "--size: must be > 0, got -5"),
        (["--size", "0"], "--size: must be > 0"),
        (["--r-wire", "-1"], "--r-wire: must be >= 0 ohm"),
        (["--r-terminal", "nan"], "--r-terminal: must be >= 0 ohm"),
        (["--g-max", "0"], "--g-max: must be > 0 S"),
        (["--size", "many"], "expected a number"),
    ],
)
def test_bad_arguments_are_refused_clearly(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["demo", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
