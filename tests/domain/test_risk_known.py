"""Risk rules at their edges (known answers): region order and look-back, symptoms outside the
known list, the first day of the calendar, and the configuration error's message."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain.regions import Region, RegionsError
from bot.domain.risk import SYMPTOMS, assess, matching_regions
from tests.domain.test_risk import ARRIVAL, MEASURES, WUHAN_JIANGHAN, facts

R_HUBEI_MEDIUM = Region("湖北省", None, None, "medium", date(2020, 10, 1), None)
R_WUHAN_HIGH = Region("湖北省", "武汉市", None, "high", date(2020, 10, 1), None)
R_WUHAN_ENDED = Region("湖北省", "武汉市", "江汉区", "high", date(2020, 9, 1), date(2020, 9, 30))


def test_high_risk_regions_come_first_then_the_files_order() -> None:
    regions = (R_HUBEI_MEDIUM, R_WUHAN_ENDED, R_WUHAN_HIGH)
    found = matching_regions([WUHAN_JIANGHAN], regions, ARRIVAL - timedelta(days=14), ARRIVAL)
    assert found == (R_WUHAN_HIGH, R_HUBEI_MEDIUM)


def test_a_region_out_of_force_does_not_stop_the_search() -> None:
    regions = (R_WUHAN_ENDED, R_HUBEI_MEDIUM, R_WUHAN_ENDED, R_WUHAN_HIGH)
    found = matching_regions([WUHAN_JIANGHAN], regions, ARRIVAL, ARRIVAL)
    assert found == (R_WUHAN_HIGH, R_HUBEI_MEDIUM)
    twice = matching_regions([WUHAN_JIANGHAN], (R_HUBEI_MEDIUM,) * 2 + (R_WUHAN_HIGH,),
                             ARRIVAL, ARRIVAL)  # fmt: skip
    assert twice == (R_WUHAN_HIGH, R_HUBEI_MEDIUM)


@pytest.mark.parametrize(("lookback", "matched"), [(0, False), (1, True)])
def test_lookback_of_zero_days_is_the_arrival_day_alone(lookback: int, matched: bool) -> None:
    """A region whose risk ended the day before arrival counts only with a look-back."""
    ended = Region("湖北省", "武汉市", None, "high", date(2020, 10, 1), ARRIVAL - timedelta(days=1))
    result = assess(facts(origin=WUHAN_JIANGHAN), [ended], MEASURES, lookback)
    assert result.category == ("high_risk" if matched else "low")


def test_arrival_at_the_start_of_the_calendar_does_not_raise() -> None:
    """The look-back cannot reach before 1 January of year 1: it stops there."""
    ancient = Region("湖北省", None, None, "medium", date.min, date(1, 1, 10))
    result = assess(facts(origin=WUHAN_JIANGHAN, arrival_date=date(1, 1, 5)), [ancient], MEASURES)
    assert result.category == "medium_risk"


def test_symptoms_are_named_in_the_lists_order_unknown_ones_last() -> None:
    result = assess(facts(symptoms=frozenset({"zz_new", "fatigue", "fever", "a_new"})), (),
                    MEASURES)  # fmt: skip
    (reason,) = [r for r in result.reasons if r.code == "symptoms"]
    assert dict(reason.params)["names"] == ("fever", "fatigue", "a_new", "zz_new")
    assert SYMPTOMS.index("fever") < SYMPTOMS.index("fatigue")


def test_missing_measures_are_all_named() -> None:
    partial = {k: v for k, v in MEASURES.items() if k not in ("low", "overseas")}
    with pytest.raises(ValueError, match=r"^no measure configured for: overseas, low$"):
        assess(facts(), (), partial)


def test_regions_error_has_one_line_per_problem() -> None:
    error = RegionsError(["line 1: bad", "line 2: worse"])
    assert str(error) == "line 1: bad\nline 2: worse"
    assert error.problems == ["line 1: bad", "line 2: worse"]
