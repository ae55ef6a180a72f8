"""Places resolved against the code list: examples, and properties of the matcher.

The known-answer table of several hundred strings is in test_places_table.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.invalid import Invalid
from bot.domain.places import Place, _index, _place, parse_place, parse_places, place_within

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


@pytest.mark.parametrize("text", ["白沙镇", "中山路", "解放路", "长安街"])
def test_short_form_before_town_or_street_is_not_the_county(text: str) -> None:
    # 白沙镇 is a town of Jiangjin, not 海南 白沙黎族自治县.
    assert parse_place(text) == Invalid("place_unknown")


def test_town_after_a_place_keeps_the_place() -> None:
    assert parse_place("重庆江津白沙镇") == JIANGJIN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("朝阳区", Invalid("place_unknown")),  # Beijing's or Changchun's: ask, don't guess
        ("北京朝阳", Place("北京市", None, "朝阳区")),
        ("长春朝阳区", Place("吉林省", "长春市", "朝阳区")),
        ("朝阳", Place("辽宁省", "朝阳市", None)),  # a short name means the highest unit
    ],
)
def test_shared_names(text: str, expected: Place | Invalid) -> None:
    assert parse_place(text) == expected


def test_former_names_find_the_unit_now() -> None:
    assert parse_place("郫县") == Place("四川省", "成都市", "郫都区")
    assert parse_place("重庆开县") == Place("重庆市", None, "开州区")
    assert parse_place("山东莱芜") == Place("山东省", "济南市", "莱芜区")


def test_every_unit_is_found_by_its_label() -> None:
    names = _index().names
    places = [_place(code, names) for code in names]
    assert [place for place in places if parse_place(place.label()) != place] == []


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


_NAME_CHARACTERS = sorted({ch for name in _index().aliases for ch in name})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*_NAME_CHARACTERS, " ", "镇", "路"]), max_size=60))
def test_matcher_never_raises_and_answers_a_real_unit(text: str) -> None:
    """Text made of place-name characters hits many names at once; the answer is either no
    place or a unit of the list, which its own label finds again."""
    place = parse_place(text)
    assert isinstance(place, Place | Invalid)
    if isinstance(place, Place):
        assert parse_place(place.label()) == place


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["武汉江汉区", "湖北省武汉市", "重庆江津区", "广州", "成都市武侯区"]))
def test_place_label_reparses_and_lies_within_itself(text: str) -> None:
    place = parse_place(text)
    assert isinstance(place, Place)
    assert parse_place(place.label()) == place
    assert place_within(place, place.province, place.city, place.district)
    assert place_within(place, place.province, None, None)
