"""Place recognition, the parts the known-answer table reaches only once (the index is built
on first use): the short forms residents write, and lists of places (known answers)."""

from __future__ import annotations

import pytest

from bot.domain import places
from bot.domain.invalid import Invalid
from bot.domain.places import Place

SHORT_FORMS = [
    ("湖北省", 0, {"湖北"}),
    ("北京市", 0, {"北京"}),
    ("香港特别行政区", 0, {"香港"}),
    ("广西壮族自治区", 0, {"广西"}),
    ("内蒙古自治区", 0, {"内蒙古"}),
    ("恩施土家族苗族自治州", 1, {"恩施", "恩施州"}),
    ("博尔塔拉蒙古自治州", 1, {"博尔塔拉", "博尔塔拉州"}),
    ("大兴安岭地区", 1, {"大兴安岭"}),
    ("锡林郭勒盟", 1, {"锡林郭勒"}),
    ("武汉市", 1, {"武汉"}),
    ("石柱土家族自治县", 2, {"石柱", "石柱县"}),
    ("鄂伦春自治旗", 2, {"鄂伦春", "鄂伦春旗"}),
    ("浦东新区", 2, {"浦东"}),
    ("神农架林区", 2, {"神农架"}),
    ("江岸区", 2, {"江岸"}),
    ("忠县", 2, set()),  # one character would match half the language
    ("县", 2, set()),
    ("湖北", 0, set()),
    ("江岸区", 0, set()),  # 区 is no province suffix
    ("蒙古县", 2, {"蒙古"}),  # a people's name without 族 is stripped only in autonomous units
]


@pytest.mark.parametrize(("name", "level", "expected"), SHORT_FORMS)
def test_short_forms(name, level, expected) -> None:
    assert places._short_forms(name, level) == expected


STRIP = [
    ("恩施土家族苗族", True, "恩施"),
    ("大理白族", True, "大理"),
    ("大理白族", False, "大理"),
    ("阿坝藏族羌族", True, "阿坝"),
    ("博尔塔拉蒙古", True, "博尔塔拉"),
    ("博尔塔拉蒙古", False, "博尔塔拉蒙古"),
    ("白族", True, "白族"),  # nothing would be left
    ("蒙古", True, "蒙古"),
    ("大白族", True, "大白族"),  # one character left is too short
    ("三都水族", True, "三都"),
    ("武汉", True, "武汉"),
]


@pytest.mark.parametrize(("stem", "autonomous", "expected"), STRIP)
def test_strip_peoples(stem, autonomous, expected) -> None:
    assert places._strip_peoples(stem, autonomous) == expected


WUHAN = Place("湖北省", "武汉市", None)
PLACES = [
    ("武汉 宜昌", [WUHAN, Place("湖北省", "宜昌市", None)]),
    ("江岸区 江汉区", [Place("湖北省", "武汉市", "江岸区"), Place("湖北省", "武汉市", "江汉区")]),
    ("武汉 江岸区", [Place("湖北省", "武汉市", "江岸区")]),
    ("湖北 武汉", [WUHAN]),
    ("武汉，武汉", [WUHAN]),
    ("无", []),
    ("没有", []),
    ("None", []),
    ("，、", Invalid("place_unknown", {"text": ",、"})),  # NFKC: the full-width comma
    ("武汉，xx", Invalid("place_unknown", {"text": "xx"})),
    ("x" * 301, Invalid("too_long", {"limit": 300})),
]


@pytest.mark.parametrize(("text", "expected"), PLACES)
def test_parse_places(text, expected) -> None:
    assert places.parse_places(text) == expected


TEN = ["北京", "上海", "天津", "重庆", "河北", "山西", "辽宁", "吉林", "江苏", "浙江"]


def test_at_most_ten_places() -> None:
    assert len(places.parse_places("，".join(TEN))) == 10
    assert places.parse_places("，".join([*TEN, "安徽"])) == Invalid(
        "places_too_many", {"limit": 10}
    )
    # a repeated place counts once
    assert len(places.parse_places("，".join([*TEN, "北京"]))) == 10
