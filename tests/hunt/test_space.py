"""Parameters: parsing, grids, midpoints and the overrides a value stands for."""

from __future__ import annotations

import pytest

from lagrace.errors import UsageError
from lagrace.hunt.space import base_value, check_params, overrides_for, parse_param
from lagrace.scenario import Scenario


def test_parse_full_spec() -> None:
    """Range, scale, kind and resolution are all read."""
    p = parse_param("hammer.rate=1:40:log:res=0.5")
    assert (p.name, p.lo, p.hi, p.scale, p.integer, p.resolution) == (
        "hammer.rate",
        1.0,
        40.0,
        "log",
        False,
        0.5,
    )


def test_integer_by_default_for_counts() -> None:
    """hammer.workers and burst.count are integers unless told otherwise."""
    assert parse_param("hammer.workers=1:16").integer
    assert parse_param("burst.count=1:5").integer


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hammer.rate", "NAME=LO:HI"),
        ("nope.key=1:2", "cannot be searched"),
        ("hammer.rate=5", "LO:HI"),
        ("hammer.rate=9:2", "above HI"),
        ("hammer.rate=0:10:log", "LO > 0"),
        ("hammer.rate=x:10", "must be a number"),
        ("hammer.rate=1:10:cubic", "unknown option"),
        ("hammer.workers=0:4", ">= 1"),
        ("hammer.ordering=weak:strong:float", "ordinal"),
        ("hammer.rate=1:10:res=0", "res must be > 0"),
    ],
)
def test_bad_specs_give_one_line(spec: str, message: str) -> None:
    """Every malformed spec is a UsageError naming what is wrong."""
    with pytest.raises(UsageError, match=message) as info:
        parse_param(spec)
    assert "\n" not in str(info.value)


def test_grid_linear_log_and_integer() -> None:
    """Grids are evenly spaced on the scale, integers rounded and deduplicated."""
    assert parse_param("hammer.rate=0:40").grid(5) == (0.0, 10.0, 20.0, 30.0, 40.0)
    assert parse_param("hammer.rate=1:100:log").grid(3) == (1.0, 10.0, 100.0)
    assert parse_param("burst.count=1:3").grid(5) == (1.0, 2.0, 3.0)


def test_midpoint_on_scale() -> None:
    """Midpoints are taken on the parameter's scale."""
    assert parse_param("hammer.rate=1:100:log").midpoint(1, 100) == pytest.approx(10.0)
    assert parse_param("hammer.workers=1:16").midpoint(4, 5) in (4.0, 5.0)


def test_ordering_is_ordinal() -> None:
    """weak:strong searches the ordering indices and overrides with the name."""
    p = parse_param("hammer.ordering=weak:strong")
    assert (p.lo, p.hi) == (0.0, 2.0)
    assert overrides_for(p.name, 1.0) == {"hammer.ordering": "medium"}
    assert p.format(2.0) == "strong"


def test_no_slow_down_is_lag_repeat_zero() -> None:
    """lag.duration_s 0 means sending no slow-down at all."""
    assert overrides_for("lag.duration_s", 0.0) == {"lag.repeat": 0}
    assert overrides_for("lag.duration_s", 5.0) == {"lag.duration_s": 5.0}
    assert overrides_for("hammer.workers", 3.0) == {"hammer.workers": 3}


def test_base_values_from_scenario() -> None:
    """The base value of a parameter is the scenario's, with no slow-down read as 0."""
    s = Scenario()
    assert base_value(s, "hammer.rate") == s.hammer.rate
    assert base_value(s, "hammer.ordering") == 2.0
    from lagrace.scenario import with_overrides

    assert base_value(with_overrides(s, {"lag.repeat": 0}), "lag.duration_s") == 0.0


def test_check_params_refuses_duplicates_and_invalid_ranges() -> None:
    """A parameter given twice, or a range the scenario refuses, is one usage line."""
    rate = parse_param("hammer.rate=1:40")
    with pytest.raises(UsageError, match="once"):
        check_params((rate, rate), Scenario())
    with pytest.raises(UsageError, match=r"lag.duration_s=400"):
        check_params((parse_param("lag.duration_s=0:400"),), Scenario())
    with pytest.raises(UsageError, match="at least one"):
        check_params((), Scenario())
