"""Wilson score interval against values computed by hand from the closed form."""

import pytest

from strategy_gym.core.stats import wilson_interval


def test_known_values():
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == 1.0


def test_interval_narrows_with_more_trials_and_contains_the_estimate():
    narrow = wilson_interval(900, 1000)
    wide = wilson_interval(9, 10)
    assert narrow[0] <= 0.9 <= narrow[1]
    assert narrow[1] - narrow[0] < wide[1] - wide[0]


def test_no_trials_and_bad_input():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(3, 2)
    with pytest.raises(ValueError, match="z must be positive"):
        wilson_interval(1, 2, z=0)
