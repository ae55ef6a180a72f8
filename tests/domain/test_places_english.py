"""Places answered in English or pinyin (issue 10): known answers written by hand from the
administrative divisions and their usual English names, and properties of the parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.invalid import Invalid
from bot.domain.places import (
    Ambiguous,
    Place,
    _candidates,
    _index,
    bilingual,
    bilingual_label,
    english_name,
    more_precise,
    narrower,
    parse_place,
    parse_place_within,
    parse_places,
    place_choices,
)

YUBEI = Place("重庆市", None, "渝北区")
WUHAN = Place("湖北省", "武汉市", None)
JIANGHAN = Place("湖北省", "武汉市", "江汉区")
BEIJING = Place("北京市", None, None)


@pytest.fixture
def fresh_index() -> None:
    """The index of the code list built anew inside the test. It is built once per process,
    most often while the tests are collected, and it holds every English name and Latin form:
    a test of those must build it, or mutation testing links the builders to whichever test
    happens to run first and a broken builder goes unnoticed."""
    _index.cache_clear()
    _candidates.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yubei District, Chongqing", YUBEI),
        ("Chongqing Yubei", YUBEI),
        ("yubeiqu", YUBEI),
        ("Yubei qu", YUBEI),
        ("CHONGQING, YUBEI", YUBEI),
        ("chongqing-yubei", YUBEI),
        ("  chongqing   yubei district ", YUBEI),
        ("Chóngqìng Yúběi", YUBEI),  # tone marks
        ("Wuhan", WUHAN),
        ("Wuhan City", WUHAN),
        ("Hubei Wuhan Jianghan", JIANGHAN),
        ("Jianghan District, Wuhan, Hubei", JIANGHAN),
        ("hubei province wuhan city jianghan district", JIANGHAN),
        ("Beijing", BEIJING),
        ("Xinjiang", Place("新疆维吾尔自治区", None, None)),
        ("Inner Mongolia", Place("内蒙古自治区", None, None)),
        ("Nei Mongol", Place("内蒙古自治区", None, None)),
        ("Tibet", Place("西藏自治区", None, None)),
        ("Xizang", Place("西藏自治区", None, None)),
        ("Hong Kong", Place("香港特别行政区", None, None)),
        ("Macau", Place("澳门特别行政区", None, None)),
        ("Shanxi", Place("山西省", None, None)),
        ("Shaanxi", Place("陕西省", None, None)),
        ("Xi'an", Place("陕西省", "西安市", None)),
        ("Lüliang", Place("山西省", "吕梁市", None)),
        ("lvliang", Place("山西省", "吕梁市", None)),
        ("Changzhi", Place("山西省", "长治市", None)),  # 长 read chang, not zhang
        ("Pidu District, Chengdu", Place("四川省", "成都市", "郫都区")),
        ("Shizhu", Place("重庆市", None, "石柱土家族自治县")),
        ("Enshi Prefecture", Place("湖北省", "恩施土家族苗族自治州", None)),
        ("Jiangjin", Place("重庆市", None, "江津区")),
        ("Kashgar", Place("新疆维吾尔自治区", "喀什地区", None)),  # not the pinyin
        ("Kashgar, Xinjiang", Place("新疆维吾尔自治区", "喀什地区", None)),
        ("Kashgar Prefecture", Place("新疆维吾尔自治区", "喀什地区", None)),
        ("Kashi", Place("新疆维吾尔自治区", "喀什地区", None)),
        ("Kashgar City", Place("新疆维吾尔自治区", "喀什地区", "喀什市")),
        ("Kashi City, Xinjiang", Place("新疆维吾尔自治区", "喀什地区", "喀什市")),
        ("Xianfeng town", Invalid("place_unknown")),  # a town is not a unit
        ("Guangxi Autonomous Region", Place("广西壮族自治区", None, None)),
        ("Jilin City", Place("吉林省", "吉林市", None)),  # not the province 吉林
        ("Jilin Municipality", Place("吉林省", "吉林市", None)),
        ("Hong Kong SAR", Place("香港特别行政区", None, None)),
        ("Atlantis", Invalid("place_unknown")),
    ],
)
@pytest.mark.usefixtures("fresh_index")
def test_english_and_pinyin_answers(text: str, expected: Place | Invalid) -> None:
    assert parse_place(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # only a bare name before a word for a town or road is taken for a town; a full
        # name (reading, English, a kind word or another English name) names the unit
        ("Jiangjin town", Invalid("place_unknown")),
        ("Jiangjinqu town", Place("重庆市", None, "江津区")),
        ("Jiangjin District town", Place("重庆市", None, "江津区")),
        ("Enshi Prefecture town", Place("湖北省", "恩施土家族苗族自治州", None)),
        ("Kashgar town", Place("新疆维吾尔自治区", "喀什地区", None)),
        # the bare names are the city 长沙市 and the province 吉林省
        ("Changsha County Road", Place("湖南省", "长沙市", "长沙县")),
        ("Jilin City Road", Place("吉林省", "吉林市", None)),
        # 那曲市, formerly 那曲地区: the city's own name stays full beside the old one's
        ("Naqu town", Place("西藏自治区", "那曲市", None)),
    ],
)
@pytest.mark.usefixtures("fresh_index")
def test_a_full_name_before_a_town_word_names_the_unit(
    text: str, expected: Place | Invalid
) -> None:
    assert parse_place(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Taizhou", (Place("江苏省", "泰州市", None), Place("浙江省", "台州市", None))),
        (
            "Chaoyang District",
            (
                Place("北京市", None, "朝阳区"),
                Place("吉林省", "长春市", "朝阳区"),
                Place("广东省", "汕头市", "潮阳区"),
            ),
        ),
        ("朝阳区", (Place("北京市", None, "朝阳区"), Place("吉林省", "长春市", "朝阳区"))),
        ("Beijing Chaoyang", (Place("北京市", None, "朝阳区"),)),
        ("Yubei", (YUBEI,)),
    ],
)
def test_several_readings_are_offered_never_guessed(text: str, expected: tuple) -> None:
    assert place_choices(text) == expected
    assert parse_place(text) == (expected[0] if len(expected) == 1 else Invalid("place_unknown"))


def test_the_most_readings_of_one_answer_fit_on_buttons() -> None:
    found = place_choices("城区")  # 城区 of five cities
    assert isinstance(found, tuple)
    assert len(found) == 5
    assert {p.district for p in found} == {"城区"}


@pytest.mark.parametrize(
    ("place", "english", "label"),
    [
        (YUBEI, "Yubei District, Chongqing", "重庆市 渝北区 (Yubei District, Chongqing)"),
        (JIANGHAN, "Jianghan District, Wuhan, Hubei",
         "湖北省 武汉市 江汉区 (Jianghan District, Wuhan, Hubei)"),
        (Place("陕西省", "西安市", None), "Xi'an, Shaanxi", "陕西省 西安市 (Xi'an, Shaanxi)"),
        (Place("内蒙古自治区", None, None), "Inner Mongolia", "内蒙古自治区 (Inner Mongolia)"),
        (Place("重庆市", None, "石柱土家族自治县"), "Shizhu Autonomous County, Chongqing",
         "重庆市 石柱土家族自治县 (Shizhu Autonomous County, Chongqing)"),
        (Place("四川省", "成都市", "都江堰市"), "Dujiangyan City, Chengdu, Sichuan",
         "四川省 成都市 都江堰市 (Dujiangyan City, Chengdu, Sichuan)"),
        (Place("山西省", "吕梁市", None), "Lüliang, Shanxi", "山西省 吕梁市 (Lüliang, Shanxi)"),
        (Place("辽宁省", "大连市", "旅顺口区"), "Lüshunkou District, Dalian, Liaoning",
         "辽宁省 大连市 旅顺口区 (Lüshunkou District, Dalian, Liaoning)"),
        # units with no kind word go by their whole reading
        (Place("海南省", "三沙市", "西沙群岛"), "Xishaqundao, Sansha, Hainan",
         "海南省 三沙市 西沙群岛 (Xishaqundao, Sansha, Hainan)"),
        (Place("海南省", "三沙市", "中沙群岛的岛礁及其海域"),
         "Zhongshaqundaodedaojiaojiqihaiyu, Sansha, Hainan",
         "海南省 三沙市 中沙群岛的岛礁及其海域 (Zhongshaqundaodedaojiaojiqihaiyu, Sansha, Hainan)"),
        (Place("某省", None, None), "某省", "某省"),  # not in the list: as stored
    ],
)  # fmt: skip
@pytest.mark.usefixtures("fresh_index")
def test_names_in_english_and_both_scripts(place: Place, english: str, label: str) -> None:
    assert english_name(place) == english
    assert bilingual_label(place) == label


def test_english_travel_lists() -> None:
    assert parse_places("Yubei District, Chongqing") == [YUBEI]  # one place, not two
    assert parse_places("Xi'an, Chengdu") == [
        Place("陕西省", "西安市", None),
        Place("四川省", "成都市", None),
    ]
    assert parse_places("重庆，渝北") == [YUBEI]


TAIZHOU = Ambiguous("Taizhou", (Place("江苏省", "泰州市", None), Place("浙江省", "台州市", None)))
CHAOYANG = (Place("北京市", None, "朝阳区"), Place("吉林省", "长春市", "朝阳区"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a part naming several places is offered to choose from, after the settled ones
        ("Wuhan, Taizhou", [WUHAN, TAIZHOU]),
        ("Taizhou, Wuhan", [WUHAN, TAIZHOU]),
        ("朝阳区", [Ambiguous("朝阳区", CHAOYANG)]),
        ("朝阳区，泰州", [Place("江苏省", "泰州市", None), Ambiguous("朝阳区", CHAOYANG)]),
        ("Taizhou, 朝阳区", [TAIZHOU, Ambiguous("朝阳区", CHAOYANG)]),
        # another place of the list holds just one of them: that one, the outer one dropped
        ("Chaoyang District, Beijing", [CHAOYANG[0]]),
        ("朝阳区，Chaoyang District, Beijing", [CHAOYANG[0]]),  # once in the list
        ("朝阳区，长春", [CHAOYANG[1]]),
        ("Taizhou, Zhejiang", [Place("浙江省", "台州市", None)]),
        ("Jiangsu, Taizhou, Wuhan", [WUHAN, Place("江苏省", "泰州市", None)]),
        # an outer place holding both settles nothing
        ("朝阳区，中国", Invalid("place_unknown", {"text": "中国"})),
    ],
)  # fmt: skip
def test_ambiguous_parts_of_a_travel_list(text: str, expected: object) -> None:
    assert parse_places(text) == expected


def test_ambiguous_parts_count_towards_the_limit() -> None:
    ten = "，".join(["广州", "上海", "天津", "重庆", "成都", "西安", "武汉", "长沙", "南京"])
    assert len(parse_places(f"{ten}，朝阳区")) == 10  # type: ignore[arg-type]
    assert parse_places(f"{ten}，朝阳区，Taizhou") == Invalid("places_too_many", {"limit": 10})


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("新疆维吾尔自治区 喀什地区", "新疆维吾尔自治区 喀什地区 (Kashi Prefecture, Xinjiang)"),
        ("湖北省 武汉市", "湖北省 武汉市 (Wuhan, Hubei)"),
        ("天津市 滨海新区", "天津市 滨海新区 (Binhai New Area, Tianjin)"),
        ("湖北省", "湖北省 (Hubei)"),
        ("湖北省武汉市", "湖北省武汉市"),  # not a label: as it is
        ("某省 某市", "某省 某市"),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("fresh_index")
def test_a_label_in_both_scripts(label: str, expected: str) -> None:
    assert bilingual(label) == expected


def test_narrower_units() -> None:
    assert len(narrower(WUHAN)) == 13
    assert JIANGHAN in narrower(WUHAN)
    assert narrower(JIANGHAN) == ()
    assert Place("湖北省", "武汉市", None) in narrower(Place("湖北省", None, None))
    assert Place("湖北省", None, "仙桃市") in narrower(Place("湖北省", None, None))
    assert YUBEI in narrower(Place("重庆市", None, None))
    assert narrower(Place("某省", None, None)) == ()


@pytest.mark.parametrize(
    ("text", "outer", "expected"),
    [
        ("江汉", WUHAN, JIANGHAN),
        ("江汉区", WUHAN, JIANGHAN),
        ("Jianghan", WUHAN, JIANGHAN),
        ("jianghan district", WUHAN, JIANGHAN),
        ("朝阳", BEIJING, Place("北京市", None, "朝阳区")),  # alone: Liaoning's city
        ("Chaoyang", BEIJING, Place("北京市", None, "朝阳区")),
        ("武汉", Place("湖北省", None, None), WUHAN),
        ("渝北", WUHAN, Invalid("place_not_inside", {"text": "渝北", "place": "湖北省 武汉市"})),
        ("武汉", WUHAN, Invalid("place_not_inside", {"text": "武汉", "place": "湖北省 武汉市"})),
    ],
)
def test_a_part_of_a_place(text: str, outer: Place, expected: Place | Invalid) -> None:
    assert parse_place_within(text, outer) == expected


_WORDS = st.sampled_from(
    ["chongqing", "yubei", "district", "wuhan", "hubei", "jianghan", "xi", "an", "city",
     "taizhou", "hong", "kong", "inner", "mongolia", "town", "qu", "xian", "x"]
)  # fmt: skip
_SEPARATORS = st.sampled_from([" ", ", ", "-", "  ", ","])


@given(st.lists(_WORDS, max_size=6), _SEPARATORS)
def test_latin_answers_never_crash(words: list[str], separator: str) -> None:
    found = place_choices(separator.join(words))
    assert isinstance(found, tuple | Invalid)
    if isinstance(found, tuple):
        assert 1 <= len(found) <= 8
        assert all(english_name(p) for p in found)


@given(st.sampled_from(narrower(Place("重庆市", None, None))), st.booleans())
def test_every_chongqing_district_in_english_finds_itself(place: Place, upper: bool) -> None:
    text = english_name(place)
    assert place_choices(text.upper() if upper else text) == (place,)
    # the bigger unit first, as Chinese writes it, names it as well
    assert place_choices(" ".join(reversed(text.split(", ")))) == (place,)


_TRAVEL_PARTS = st.sampled_from(
    ["朝阳区", "Taizhou", "北京", "长春", "浙江", "武汉", "湖北", "Chaoyang", "Jiangsu", "城区"]
)  # fmt: skip


@given(st.lists(_TRAVEL_PARTS, max_size=5))
def test_a_travel_list_settles_or_offers_each_part(parts: list[str]) -> None:
    found = parse_places("，".join(parts))
    if not parts:
        assert found == Invalid("place_unknown", {"text": ""})
        return
    assert isinstance(found, list)
    settled = [p for p in found if isinstance(p, Place)]
    ties = [t for t in found if isinstance(t, Ambiguous)]
    assert len(settled) + len(ties) == len(found) >= 1
    # no settled place lies inside another, every tie is a real choice nothing settled
    assert not any(more_precise(a, b) for a in settled for b in settled)
    for tie in ties:
        assert len(tie.places) >= 2 and tie.text in parts
        assert sum(any(more_precise(p, s) for s in settled) for p in tie.places) != 1


@given(st.text(max_size=40))
def test_any_text_is_an_answer_or_a_reason(text: str) -> None:
    found = place_choices(text)
    assert isinstance(found, tuple | Invalid)
    within = parse_place_within(text, WUHAN)
    assert isinstance(within, Invalid) or within.city == "武汉市"
