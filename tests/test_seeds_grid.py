"""The seed studies' grid search (validation/seeds/common.search_grid): a choice at a grid's edge
extends the grid outward until the best point is interior (issue 17: study 1's rates tuned
through the circuit all sat at the upper edge of their grids)."""

import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[1] / "validation" / "seeds"
if str(SEEDS) not in sys.path:
    sys.path.insert(0, str(SEEDS))


def _peaked(at: float, calls: list):
    """A unimodal score in log(point), maximal at ``at``; records every point scored."""
    import math

    def score(p):
        calls.append(p)
        return -abs(math.log(p / at)), "extra"

    return score


def test_an_edge_choice_extends_the_grid_until_the_best_point_is_interior():
    from common import search_grid

    calls: list = []
    found = search_grid((0.1, 0.3, 1.0), _peaked(5.0, calls), max_extend=3)
    # steps of the outermost ratio 1.0/0.3, rounded to 3 significant figures: 3.33, then 11.1
    assert found["extended"] == [3.33, 11.1]
    assert found["best"] == 3.33 and not found["at_edge"]
    assert calls == [0.1, 0.3, 1.0, 3.33, 11.1]  # each point scored once
    assert found["given"] == [0.1, 0.3, 1.0] and found["scores"][3.33][1] == "extra"

    # the lower edge extends downward by the lower ratio
    found = search_grid((0.025, 0.1, 0.4), _peaked(0.004, []), max_extend=3)
    assert found["extended"] == [0.00625, 0.00156]
    assert found["best"] == 0.00625 and not found["at_edge"]


def test_the_extension_budget_is_kept_and_an_edge_choice_still_flagged():
    from common import search_grid

    calls: list = []
    found = search_grid((0.1, 0.3, 1.0), _peaked(1000.0, calls), max_extend=2)
    assert found["extended"] == [3.33, 11.1] and found["best"] == 11.1 and found["at_edge"]
    assert len(calls) == 5
    # no extension asked, or a single point (no step to extend by): the grid as given
    found = search_grid((0.1, 0.3, 1.0), _peaked(1000.0, []), max_extend=0)
    assert found["best"] == 1.0 and found["at_edge"] and found["extended"] == []
    found = search_grid((0.4,), _peaked(1000.0, []), max_extend=3)
    assert found["best"] == 0.4 and not found["at_edge"] and found["extended"] == []
    # an interior choice adds nothing
    calls = []
    found = search_grid((0.1, 0.3, 1.0), _peaked(0.3, calls), max_extend=3)
    assert found["best"] == 0.3 and found["extended"] == [] and len(calls) == 3


def test_the_grid_search_validates_its_arguments():
    from common import search_grid
    from xbar.exceptions import ConfigError

    with pytest.raises(ConfigError, match="grid"):
        search_grid((), _peaked(1.0, []))
    with pytest.raises(ConfigError, match="grid"):
        search_grid((0.1, -1.0), _peaked(1.0, []))
    with pytest.raises(ConfigError, match="max_extend"):
        search_grid((0.1, 0.3), _peaked(1.0, []), max_extend=-1)
