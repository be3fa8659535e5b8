"""Files written atomically follow the umask like any other file (mkstemp used to make them 0600)."""

import os
import stat

import numpy as np
import pytest

from xbar.train.checkpoint import save_checkpoint
from xbar.train.loop import _atomic_write


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield 0o644
    os.umask(old)


def test_checkpoint_and_metrics_follow_the_umask(tmp_path, umask_022):
    ck = save_checkpoint(tmp_path / "ck.npz", {"w": np.ones(3), "epoch": 1})
    _atomic_write(tmp_path / "metrics.csv", "epoch\n1\n")
    for path in (ck, tmp_path / "metrics.csv"):
        assert stat.S_IMODE(path.stat().st_mode) == umask_022, path
    assert not list(tmp_path.glob("*.tmp*"))  # no temporary file left behind
