"""The key-region list as data (bot.domain.regions): diff, direction of a re-assessment, an
edit from the chat, the /regions steps. Known answers written by hand, and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import regions as d
from bot.domain.invalid import Invalid
from bot.domain.regions import Edit, Region
from bot.domain.risk import RISK_CATEGORIES

QD = Region("山东省", "青岛市", None, "medium", date(2020, 10, 11), date(2020, 11, 30))
KS = Region("新疆维吾尔自治区", "喀什地区", None, "high", date(2020, 10, 24), None)
CY = Region("北京市", None, "朝阳区", "high", date(2020, 10, 20), None)
TODAY = date(2020, 10, 26)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("low", "high_risk", "up"),
        ("medium_risk", "high_risk", "up"),
        ("low", "medium_risk", "up"),
        ("yellow_code", "medium_risk", "up"),
        ("high_risk", "medium_risk", "down"),
        ("medium_risk", "low", "down"),
        ("high_risk", "high_risk", "same"),
        ("symptomatic", "high_risk", "down"),
        ("overseas", "high_risk", "down"),
        ("red_code", "high_risk", "up"),
        ("quarantine_done", "medium_risk", "up"),
        ("mystery", "high_risk", "down"),  # cannot compare: a person decides
        ("low", "mystery", "down"),
    ],
)
def test_direction(old: str, new: str, expected: str) -> None:
    assert d.direction(old, new, RISK_CATEGORIES) == expected


def test_diff_names_added_and_removed() -> None:
    higher = Region("山东省", "青岛市", None, "high", QD.start, QD.until)
    assert d.diff_regions((QD, KS), (QD, KS)) == ((), ())
    assert d.diff_regions((QD,), (QD, KS)) == ((KS,), ())
    assert d.diff_regions((QD, KS), (KS,)) == ((), (QD,))
    assert d.diff_regions((QD, KS), (higher, KS)) == ((higher,), (QD,))
    assert d.diff_regions((), ()) == ((), ())


def test_json_round_trip_keeps_every_field() -> None:
    text = d.regions_to_json((QD, KS, CY))
    assert d.regions_from_json(text) == (QD, KS, CY)
    assert d.region_to_dict(KS) == {"province": "新疆维吾尔自治区", "city": "喀什地区",
                                    "risk": "high", "from": "2020-10-24"}  # fmt: skip
    assert d.region_to_dict(QD)["until"] == "2020-11-30"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (Edit("add", CY), (None, CY)),
        (Edit("change", QD, risk="high"),
         (0, Region("山东省", "青岛市", None, "high", QD.start, QD.until))),
        (Edit("end", KS, until=date(2020, 11, 1)),
         (1, Region("新疆维吾尔自治区", "喀什地区", None, "high", KS.start, date(2020, 11, 1)))),
        (Edit("end", KS, until=KS.start), (1, Region(*[*vars(KS).values()][:5], KS.start))),
        (Edit("add", QD), Invalid("regions.region_listed", {"place": "山东省 青岛市"})),
        (Edit("change", CY, risk="medium"),
         Invalid("regions.region_gone", {"place": "北京市 朝阳区"})),
        (Edit("change", QD, risk="medium"), Invalid("regions.risk_same", {"risk": "medium"})),
        (Edit("change", QD, risk="low"), Invalid("choice_stale")),
        (Edit("end", KS), Invalid("choice_stale")),
        (Edit("end", KS, until=date(2020, 10, 23)),
         Invalid("regions.until_before_from", {"start": KS.start})),
    ],
)  # fmt: skip
def test_apply_edit(edit: Edit, expected: object) -> None:
    assert d.apply_edit((QD, KS), edit) == expected


def test_add_after_a_region_ended_is_a_new_listing() -> None:
    again = Region("山东省", "青岛市", None, "high", date(2020, 12, 1), None)
    assert d.apply_edit((QD,), Edit("add", again)) == (None, again)
    overlapping = Region("山东省", "青岛市", None, "high", date(2020, 11, 30), None)
    assert isinstance(d.apply_edit((QD,), Edit("add", overlapping)), Invalid)


def test_edited_list() -> None:
    assert d.edited((QD, KS), Edit("add", CY)) == (QD, KS, CY)
    ended = d.edited((QD, KS, CY), Edit("end", KS, until=date(2020, 11, 1)))
    assert isinstance(ended, tuple) and ended[0] == QD and ended[2] == CY
    assert ended[1].until == date(2020, 11, 1)
    assert isinstance(d.edited((QD,), Edit("change", KS, risk="medium")), Invalid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-12-31", date(2020, 12, 31)),
        ("2020年12月31日", date(2020, 12, 31)),
        ("2020/12/31", date(2020, 12, 31)),
        (" 2020 - 11 - 20 ", date(2020, 11, 20)),
        ("20201231", date(2020, 12, 31)),
        ("2020-10-20", date(2020, 10, 20)),  # the start itself
        ("2020-10-19", Invalid("regions.until_before_from", {"start": date(2020, 10, 20)})),
        ("12月31日", Invalid("regions.until_format")),
        ("明天", Invalid("regions.until_format")),
        ("2020-02-30", Invalid("date_invalid")),
        ("", Invalid("regions.until_format")),
    ],
)
def test_parse_until(text: str, expected: object) -> None:
    assert d.parse_until(text, date(2020, 10, 20)) == expected


@given(st.text(max_size=30), st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_parse_until_never_raises_and_never_before_start(text: str, start: date) -> None:
    value = d.parse_until(text, start)
    assert isinstance(value, Invalid) or value >= start


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)),
       st.integers(min_value=0, max_value=3000))  # fmt: skip
def test_parse_until_reads_every_iso_date_from_start_on(start: date, days: int) -> None:
    until = start + timedelta(days=days)
    assert d.parse_until(until.isoformat(), start) == until
    assert d.parse_until(f"{until.year}年{until.month}月{until.day}日", start) == until


# --- the /regions steps -----------------------------------------------------------------------

CTX = d.Context(TODAY, (QD, KS))


def choose(step: str, value: str, data: dict | None = None) -> object:
    return d.apply_choice(d.STEPS[step], value, data or {}, CTX)


def test_menu_offers_change_and_end_only_when_something_is_listed() -> None:
    assert d.STEPS["menu"].values({}, CTX) == ("add", "change", "end")
    assert d.STEPS["menu"].values({}, d.Context(TODAY, ())) == ("add",)
    assert d.STEPS["pick"].values({}, CTX) == ("0", "1")


@pytest.mark.parametrize(
    ("step", "value", "data", "expected"),
    [
        ("menu", "add", {}, {"op": "add", "target": None}),
        ("pick", "1", {}, {"target": d.region_to_dict(KS)}),
        ("pick", "2", {}, Invalid("choice_stale")),
        ("risk", "high", {}, {"risk": "high"}),
        ("risk", "medium", {"target": d.region_to_dict(QD)}, Invalid("choice_stale")),
        ("risk", "high", {"target": d.region_to_dict(QD)}, {"risk": "high"}),
        ("start", "today", {}, {"start": "2020-10-26"}),
        ("start", "yesterday", {}, {"start": "2020-10-25"}),
        ("until", "none", {"op": "add"}, {"until": None}),
        ("until", "today", {"op": "add"}, Invalid("choice_stale")),
        ("until", "yesterday", {"op": "end", "target": d.region_to_dict(KS)},
         {"until": "2020-10-25"}),
        ("until", "today", {"op": "end", "target": {**d.region_to_dict(KS), "from": "2020-10-26"}},
         {"until": "2020-10-26"}),
        ("until", "yesterday", {"op": "end", "target": {**d.region_to_dict(KS),
                                                        "from": "2020-10-26"}},
         Invalid("regions.until_before_from", {"start": date(2020, 10, 26)})),
        ("summary", "submit", {}, {"summary": "submit"}),
    ],
)  # fmt: skip
def test_choices(step: str, value: str, data: dict, expected: object) -> None:
    assert choose(step, value, data) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("北京朝阳区", {"place": {"province": "北京市", "city": None, "district": "朝阳区"}}),
        ("山东省青岛市", {"place": {"province": "山东省", "city": "青岛市", "district": None}}),
        ("湖北", {"place": {"province": "湖北省", "city": None, "district": None}}),
        ("火星", Invalid("regions.place_unknown", {"text": "火星"})),
    ],
)
def test_place_text(text: str, expected: object) -> None:
    assert d.STEPS["place"].text(text, {}, CTX) == expected


def test_start_text_takes_past_dates_only() -> None:
    assert d.STEPS["start"].text("10月20日", {}, CTX) == {"start": "2020-10-20"}
    assert d.STEPS["start"].text("2020-11-20", {}, CTX) == Invalid("date_future")
    assert d.STEPS["start"].text("2020-08-27", {}, CTX) == {"start": "2020-08-27"}  # 60 days
    too_old = Invalid("date_too_old", {"days": 60})
    assert d.STEPS["start"].text("2020-08-26", {}, CTX) == too_old


@pytest.mark.parametrize(
    ("op", "steps"),
    [
        ("add", ["place", "risk", "start", "until", "summary"]),
        ("change", ["pick", "risk", "summary"]),
        ("end", ["pick", "until", "summary"]),
    ],
)
def test_each_operation_asks_its_own_steps(op: str, steps: list[str]) -> None:
    step, data = d.advance("menu", {"op": op}, {})
    seen = [step]
    while step != "summary":
        step, data = d.advance(step, {}, data)
        seen.append(step)
    assert seen == steps
    assert d.advance("summary", {}, data)[0] == "summary"
    assert d.advance("menu", {}, {})[0] == "summary"  # no operation: nothing to ask


@pytest.mark.parametrize(
    ("step", "data", "expected"),
    [
        ("menu", {"op": "add"}, "place"),
        ("place", {"op": "add"}, "risk"),
        ("until", {"op": "add"}, "summary"),
        ("summary", {"op": "add"}, "summary"),
        ("pick", {"op": "change"}, "risk"),
        ("risk", {"op": "end"}, "pick"),  # not a step of ending: its first question
        ("start", {"op": "change"}, "pick"),
        ("place", {}, "summary"),
        ("menu", {"op": "other"}, "summary"),
    ],
)
def test_the_next_question(step: str, data: dict, expected: str) -> None:
    assert d.advance(step, {}, data) == (expected, data)


def test_edit_of_a_finished_draft() -> None:
    add = {"op": "add", "place": {"province": "北京市", "city": None, "district": "朝阳区"},
           "risk": "high", "start": "2020-10-20", "until": None}  # fmt: skip
    assert d.edit_of(add) == Edit("add", CY)
    limited = d.edit_of({**add, "until": "2020-12-31"})
    assert limited is not None and limited.region.until == date(2020, 12, 31)
    target = d.region_to_dict(QD)
    assert d.edit_of({"op": "change", "target": target, "risk": "high"}) == Edit(
        "change", QD, risk="high"
    )
    assert d.edit_of({"op": "end", "target": target, "until": "2020-11-01"}) == Edit(
        "end", QD, until=date(2020, 11, 1)
    )
    for broken in ({}, {"op": "add"}, {"op": "change", "target": target},
                   {"op": "end", "target": {"province": "x"}, "until": "2020-11-01"},
                   {"op": "other"}):  # fmt: skip
        assert d.edit_of(broken) is None
        assert d.missing_step(broken) == "menu"
    assert d.missing_step(add) is None
