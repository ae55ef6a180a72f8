"""The case flow's answers at their edges (known answers): a shared location within the
globe's bounds, rounded to six decimals (about 10 cm), or skipped; a person found by a report
reference; an ID number checked as everywhere else."""

from __future__ import annotations

import pytest

from bot.domain import cases
from bot.domain.invalid import Invalid
from bot.domain.steps import Lookup


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(-90, -180), (90, 180), (-90, 180), (90, -180), (0, 0)]
)
def test_locations_on_the_bounds_are_accepted(latitude: float, longitude: float) -> None:
    assert cases.location_answer(latitude, longitude) == {
        "latitude": latitude, "longitude": longitude, "located": True}  # fmt: skip


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(-90.5, 0), (90.5, 0), (0, -180.5), (0, 180.5), (-91, 0), (91, 0), (0, -181), (0, 181)],
)
def test_locations_beyond_the_bounds_are_refused(latitude: float, longitude: float) -> None:
    assert cases.location_answer(latitude, longitude) == Invalid("case_location_invalid")


def test_a_location_is_rounded_to_six_decimals() -> None:
    assert cases.location_answer(29.28912349, 106.25381251) == {
        "latitude": 29.289123, "longitude": 106.253813, "located": True}  # fmt: skip


def test_a_skipped_location() -> None:
    assert cases.skip_location() == {"latitude": None, "longitude": None, "located": True}


def test_a_person_is_looked_up_by_report_reference() -> None:
    assert cases._person_text("xf-20201026-0001", {}, None) == Lookup("report", "XF-20201026-0001")
    assert isinstance(cases._person_text("张三", {}, None), Invalid)


def test_an_id_number_is_checked() -> None:
    assert cases._id_text("500116199212310453", {}, None) == {"id_number": "500116199212310453"}
    assert cases._id_text("500116199212310454", {}, None) == Invalid("id_checksum")
