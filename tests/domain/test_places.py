"""Places resolved with cpca: a few examples, and light properties (cpca is slow-ish)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.invalid import Invalid
from bot.domain.places import Place, parse_place, parse_places, place_within

WUHAN_JIANGHAN = Place("湖北省", "武汉市", "江汉区")
WUHAN = Place("湖北省", "武汉市", None)
GUANGZHOU = Place("广东省", "广州市", None)
JIANGJIN = Place("重庆市", None, "江津区")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("武汉江汉区", WUHAN_JIANGHAN),
        ("湖北省武汉市", WUHAN),
        ("重庆江津区", JIANGJIN),
        ("广州", GUANGZHOU),
        ("  广州  ", GUANGZHOU),
        ("重庆巫山县", Place("重庆市", None, "巫山县")),
        ("湖北仙桃", Place("湖北省", None, "仙桃市")),
    ],
)
def test_parse_place(text: str, expected: Place) -> None:
    assert parse_place(text) == expected


@pytest.mark.parametrize("text", ["", "先锋镇", "hello", "   "])
def test_parse_place_unknown(text: str) -> None:
    assert parse_place(text) == Invalid("place_unknown")


def test_parse_place_too_long() -> None:
    assert parse_place("武汉" * 100) == Invalid("too_long", {"limit": 60})


def test_label() -> None:
    assert WUHAN_JIANGHAN.label() == "湖北省 武汉市 江汉区"
    assert JIANGJIN.label() == "重庆市 江津区"
    assert Place("北京市", None, None).label() == "北京市"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("武汉，广州", [WUHAN, GUANGZHOU]),
        ("武汉、广州；重庆江津区", [WUHAN, GUANGZHOU, JIANGJIN]),
        ("武汉,广州;武汉", [WUHAN, GUANGZHOU]),
        ("武汉 广州", [WUHAN, GUANGZHOU]),
        ("湖北省 武汉市 江汉区", [WUHAN_JIANGHAN]),
        ("湖北 武汉", [WUHAN]),
        ("武汉江汉区，", [WUHAN_JIANGHAN]),
    ],
)
def test_parse_places(text: str, expected: list[Place]) -> None:
    assert parse_places(text) == expected


@pytest.mark.parametrize("text", ["无", "没有", "None", "NO", " 无 "])
def test_parse_places_none(text: str) -> None:
    assert parse_places(text) == []


def test_parse_places_rejected() -> None:
    assert parse_places("武汉，先锋镇") == Invalid("place_unknown", {"text": "先锋镇"})
    assert parse_places("，，") == Invalid("place_unknown", {"text": ",,"})
    cities = "北京,上海,天津,重庆,广州,深圳,武汉,成都,杭州,南京,西安"
    assert parse_places(cities) == Invalid("places_too_many", {"limit": 10})


@pytest.mark.parametrize(
    ("inner", "region", "expected"),
    [
        (WUHAN_JIANGHAN, ("湖北省", None, None), True),
        (WUHAN_JIANGHAN, ("湖北省", "武汉市", None), True),
        (WUHAN_JIANGHAN, ("湖北省", "武汉市", "江汉区"), True),
        (WUHAN_JIANGHAN, ("湖北省", "武汉市", "武昌区"), False),
        (WUHAN_JIANGHAN, ("湖北省", "宜昌市", None), False),
        (WUHAN_JIANGHAN, ("广东省", None, None), False),
        (WUHAN, ("湖北省", "武汉市", "江汉区"), False),
        (Place("湖北省", None, None), ("湖北省", "武汉市", None), False),
        (JIANGJIN, ("重庆市", None, "江津区"), True),
        (JIANGJIN, ("重庆市", None, None), True),
        (Place("重庆市", None, None), ("重庆市", None, "江津区"), False),
    ],
)
def test_place_within(
    inner: Place, region: tuple[str, str | None, str | None], expected: bool
) -> None:
    assert place_within(inner, *region) is expected


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=80))
def test_parsers_never_raise(text: str) -> None:
    assert isinstance(parse_place(text), Place | Invalid)
    assert isinstance(parse_places(text), list | Invalid)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["武汉江汉区", "湖北省武汉市", "重庆江津区", "广州", "成都市武侯区"]))
def test_place_label_reparses_and_lies_within_itself(text: str) -> None:
    place = parse_place(text)
    assert isinstance(place, Place)
    assert parse_place(place.label()) == place
    assert place_within(place, place.province, place.city, place.district)
    assert place_within(place, place.province, None, None)
