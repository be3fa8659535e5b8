import os

import numpy as np
import pytest
from hypothesis import settings

# CI draws the same examples every run (a property that fails there fails reproducibly); locally
# hypothesis explores new ones each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def rng(request):
    """A seeded Generator; the seed is printed on failure so the case can be reproduced."""
    seed = int(os.environ.get("XBAR_TEST_SEED", "12345"))
    request.node.user_properties.append(("seed", seed))
    return np.random.default_rng(seed)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("XBAR_REQUIRE_DATA") == "1":
        from xbar.data import data_dir

        try:
            data_dir()
        except Exception as exc:  # the tests on measured data would all skip
            raise pytest.UsageError(f"XBAR_REQUIRE_DATA=1 but the data folder is missing: {exc}")
    from xbar.spice import ngspice_available

    if ngspice_available():
        return
    if os.environ.get("XBAR_REQUIRE_SPICE") == "1":
        raise pytest.UsageError("XBAR_REQUIRE_SPICE=1 but ngspice is not installed")
    skip = pytest.mark.skip(reason="ngspice not installed (apt-get install -y ngspice)")
    for item in items:
        if "spice" in item.keywords:
            item.add_marker(skip)
