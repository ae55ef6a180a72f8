"""A city- or province-level answer while a key region lies inside it (issue 10): the
district is asked again; "not sure" is kept and flagged for a worker, never low risk."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.domain import arrivals as flow
from bot.domain.invalid import Invalid
from bot.domain.places import Place
from bot.domain.regions import Region
from bot.domain.risk import RiskFacts, assess
from tests.domain.test_risk import MEASURES

TODAY = date(2020, 10, 26)
JIANGHAN_LISTED = Region("湖北省", "武汉市", "江汉区", "high", date(2020, 10, 1), None)
ENDED_LONG_AGO = Region("湖北省", "武汉市", "江汉区", "high", date(2020, 1, 1), date(2020, 3, 1))
CTX = flow.Context(
    today=TODAY, id_required=False, max_days_back=20, max_companions=2, villages={},
    regions=(JIANGHAN_LISTED,), lookback_days=14,
)  # fmt: skip
WUHAN = {"province": "湖北省", "city": "武汉市", "district": None}
HUBEI = {"province": "湖北省", "city": None, "district": None}
JIANGHAN = {"province": "湖北省", "city": "武汉市", "district": "江汉区"}
WUCHANG = {"province": "湖北省", "city": "武汉市", "district": "武昌区"}
YICHANG = {"province": "湖北省", "city": "宜昌市", "district": None}


def answer(step: str, text: str, data: dict[str, Any], ctx: flow.Context = CTX) -> Any:
    parse = flow.STEPS[step].text
    assert parse is not None
    return parse(text, data, ctx)


def press(step: str, value: str, data: dict[str, Any], ctx: flow.Context = CTX) -> Any:
    return flow.apply_choice(flow.STEPS[step], value, data, ctx)


@pytest.mark.parametrize(
    ("text", "ctx", "origin", "vague"),
    [
        ("湖北省武汉市", CTX, WUHAN, True),  # 江汉区 is listed: ask the district
        ("Wuhan", CTX, WUHAN, True),
        ("湖北省", CTX, HUBEI, True),  # a province likewise
        ("湖北省武汉市江汉区", CTX, JIANGHAN, False),
        ("湖北省武汉市武昌区", CTX, WUCHANG, False),
        ("湖北宜昌", CTX, YICHANG, False),  # no listed district inside: no extra question
        ("湖北省武汉市", replace(CTX, regions=()), WUHAN, False),
        ("湖北省武汉市", replace(CTX, regions=(ENDED_LONG_AGO,)), WUHAN, False),
    ],
)
def test_a_vague_origin_asks_for_the_district(text, ctx, origin, vague) -> None:
    updates = answer("origin", text, {"region_kind": "china"}, ctx)
    assert updates == {"origin": origin, "origin_choices": None, "origin_vague": vague}
    step, _ = flow.advance("origin", updates, {"region_kind": "china"})
    assert step == ("origin_district" if vague else "origin_confirm")


def test_the_districts_are_buttons_with_not_sure() -> None:
    data = {"region_kind": "china", "origin": WUHAN, "origin_vague": True}
    values = flow.STEPS["origin_district"].values(data, CTX)
    assert len(values) == 14 and values[-1] == "unsure"  # Wuhan's 13 districts
    # a province has too many units for buttons: typed, or "not sure"
    assert flow.STEPS["origin_district"].values({**data, "origin": HUBEI}, CTX) == ("unsure",)


def test_a_district_button_or_typed_district_settles_it() -> None:
    data = {"region_kind": "china", "origin": WUHAN, "origin_vague": True}
    index = flow.district_options(Place("湖北省", "武汉市", None)).index(
        Place("湖北省", "武汉市", "江汉区")
    )
    pressed = press("origin_district", str(index), data)
    assert pressed == {
        "origin": JIANGHAN, "origin_choices": None, "origin_vague": False, "pending": False
    }  # fmt: skip
    assert answer("origin_district", "江汉", data) == pressed
    assert answer("origin_district", "Jianghan", data) == pressed
    assert answer("origin_district", "渝北", data) == Invalid(
        "place_not_inside", {"text": "渝北", "place": "湖北省 武汉市"}
    )
    assert flow.advance("origin_district", pressed, data)[0] == "origin_confirm"


def test_a_province_narrowed_to_a_city_is_asked_again() -> None:
    data = {"region_kind": "china", "origin": HUBEI, "origin_vague": True}
    updates = answer("origin_district", "武汉", data)
    assert updates == {
        "origin": WUHAN, "origin_choices": None, "origin_vague": True, "pending": True
    }  # fmt: skip
    assert flow.advance("origin_district", updates, data)[0] == "origin_district"


def test_not_sure_keeps_the_place_and_flags_it_for_a_worker() -> None:
    data = {"region_kind": "china", "origin": WUHAN, "origin_vague": True}
    updates = press("origin_district", "unsure", data)
    assert updates == {"origin_vague": False}
    step, data = flow.advance("origin_district", updates, data)
    assert (step, data["origin"]) == ("origin_confirm", WUHAN)


def facts(origin: Place | None, travel: tuple[Place, ...] = ()) -> RiskFacts:
    return RiskFacts(
        overseas=False, origin=origin, travel=travel, arrival_date=TODAY,
        health_code="green", temperature=36.5, symptoms=frozenset(), quarantine_done=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("origin", "travel", "category", "reasons", "alert"),
    [
        (Place("湖北省", "武汉市", None), (), "medium_risk",
         [("region_possible", "湖北省 武汉市")], True),
        (Place("湖北省", None, None), (), "medium_risk", [("region_possible", "湖北省")], True),
        (Place("重庆市", None, "江津区"), (Place("湖北省", "武汉市", None),), "medium_risk",
         [("region_possible", "湖北省 武汉市")], True),  # a travel place likewise
        (Place("湖北省", "武汉市", "江汉区"), (), "high_risk", [("region_high", None)], True),
        (Place("湖北省", "武汉市", "武昌区"), (), "low", [], False),
        (Place("湖北省", "宜昌市", None), (), "low", [], False),
    ],
)  # fmt: skip
def test_assessment_of_a_vague_place(origin, travel, category, reasons, alert) -> None:
    a = assess(facts(origin, travel), (JIANGHAN_LISTED,), MEASURES)  # type: ignore[arg-type]
    assert a.category == category
    assert [(r.code, dict(r.params).get("place") if r.code == "region_possible" else None)
            for r in a.reasons] == reasons  # fmt: skip
    assert a.alert is alert


def test_a_region_over_before_the_look_back_is_no_reason() -> None:
    a = assess(facts(Place("湖北省", "武汉市", None)), (ENDED_LONG_AGO,), MEASURES)  # type: ignore[arg-type]
    assert (a.category, a.reasons, a.alert) == ("low", (), False)


def test_vague_travel_places_are_asked_one_by_one() -> None:
    data: dict[str, Any] = {"region_kind": "china"}
    updates = answer("travel", "成都，武汉，湖北", data)
    # 湖北 holds 武汉, the more precise one is kept
    assert updates == {"travel": [{"province": "四川省", "city": "成都市", "district": None},
                                  WUHAN], "travel_choices": [], "travel_vague": [1]}  # fmt: skip
    step, data = flow.advance("travel", updates, data)
    assert step == "travel_district"
    assert flow.vague_travel_place(data) == Place("湖北省", "武汉市", None)
    updates = answer("travel_district", "江汉区", data)
    assert updates["travel"][1] == JIANGHAN and updates["travel_vague"] == []
    assert flow.advance("travel_district", updates, data)[0] == "travel_confirm"
    unsure = press("travel_district", "unsure", data)
    assert unsure == {"travel": data["travel"], "travel_vague": [], "pending": False}


def test_an_ambiguous_origin_is_offered_as_buttons() -> None:
    updates = answer("origin", "Taizhou", {"region_kind": "china"})
    assert updates == {"origin": None, "origin_choices": [
        {"province": "江苏省", "city": "泰州市", "district": None},
        {"province": "浙江省", "city": "台州市", "district": None},
    ]}  # fmt: skip
    step, data = flow.advance("origin", updates, {"region_kind": "china"})
    assert step == "origin_pick"
    assert flow.STEPS["origin_pick"].values(data, CTX) == ("0", "1")
    picked = press("origin_pick", "1", data)
    assert picked["origin"] == {"province": "浙江省", "city": "台州市", "district": None}
    assert picked["origin_choices"] is None
    assert flow.advance("origin_pick", picked, data)[0] == "origin_confirm"


JIANGSU_TAIZHOU = {"province": "江苏省", "city": "泰州市", "district": None}
ZHEJIANG_TAIZHOU = {"province": "浙江省", "city": "台州市", "district": None}
BEIJING_CHAOYANG = {"province": "北京市", "city": None, "district": "朝阳区"}
CHANGCHUN_CHAOYANG = {"province": "吉林省", "city": "长春市", "district": "朝阳区"}
CHENGDU = {"province": "四川省", "city": "成都市", "district": None}
TIES = [{"text": "Taizhou", "places": [JIANGSU_TAIZHOU, ZHEJIANG_TAIZHOU]},
        {"text": "朝阳区", "places": [BEIJING_CHAOYANG, CHANGCHUN_CHAOYANG]}]  # fmt: skip


def test_ambiguous_travel_places_are_offered_one_at_a_time() -> None:
    data: dict[str, Any] = {"region_kind": "china"}
    updates = answer("travel", "Taizhou, 成都, 朝阳区", data)
    assert updates == {"travel": [CHENGDU], "travel_choices": TIES, "travel_vague": []}
    step, data = flow.advance("travel", updates, data)
    assert step == "travel_pick"
    assert flow.travel_tie(data)["text"] == "Taizhou"
    assert flow.STEPS["travel_pick"].values(data, CTX) == ("0", "1")
    assert press("travel_pick", "2", data) == Invalid("choice_stale")
    picked = press("travel_pick", "1", data)
    assert picked == {"travel": [CHENGDU, ZHEJIANG_TAIZHOU], "travel_choices": TIES[1:],
                      "travel_vague": [], "pending": True}  # fmt: skip
    step, data = flow.advance("travel_pick", picked, data)
    assert (step, flow.travel_tie(data)["text"]) == ("travel_pick", "朝阳区")
    picked = press("travel_pick", "0", data)
    assert picked == {"travel": [CHENGDU, ZHEJIANG_TAIZHOU, BEIJING_CHAOYANG],
                      "travel_choices": [], "travel_vague": [], "pending": False}  # fmt: skip
    assert flow.advance("travel_pick", picked, data)[0] == "travel_confirm"


def test_a_picked_travel_place_may_still_be_too_vague() -> None:
    """Picked 湖北省 武汉市 (江汉区 listed): its district is asked next; a pick inside a place
    answered before replaces it."""
    wuhan_tie = {"text": "wuhan?", "places": [WUHAN, YICHANG]}
    data = {"region_kind": "china", "travel": [HUBEI], "travel_choices": [wuhan_tie],
            "travel_vague": [0]}  # fmt: skip
    picked = press("travel_pick", "0", data)
    assert picked == {"travel": [WUHAN], "travel_choices": [], "travel_vague": [0],
                      "pending": False}  # fmt: skip
    step, data = flow.advance("travel_pick", picked, data)
    assert step == "travel_district"
    assert flow.vague_travel_place(data) == Place("湖北省", "武汉市", None)
    again = press("travel_pick", "0", {**data, "travel": [WUHAN], "travel_choices": [wuhan_tie]})
    assert again["travel"] == [WUHAN]  # picked twice: once in the list


@pytest.mark.parametrize("undo", [("travel", "none"), ("travel_confirm", "no")])
def test_starting_the_travel_list_again_drops_the_choices(undo: tuple[str, str]) -> None:
    data = {"travel": [CHENGDU], "travel_choices": TIES, "travel_vague": []}
    assert press(*undo, data)["travel_choices"] == []
