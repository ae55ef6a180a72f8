"""A place answered only to the city or province while a key region lies inside it (issue
10), through PTB's real pipeline: the district is asked with buttons; "not sure" is stored as
possibly from a key region and alerts the grid worker and the leadership group; a travel
place likewise, and a travel place with several namesakes is offered as buttons."""

from __future__ import annotations

import pytest

from bot.config import Config
from sandbox.formatting import parse_html
from tests.harness import Harness
from tests.test_arrival_flow import (
    ID_NUMBER,
    LEADERS,
    RESIDENT,
    WORKER_XF01,
    answer_to_summary,
    press_value,
    submit,
)

# 江汉区 high and 西陵区 (Yichang) medium, both in force on 26 October 2020.
REGIONS = """
[[region]]
province = "湖北省"
city = "武汉市"
district = "江汉区"
risk = "high"
from = 2020-10-20

[[region]]
province = "湖北省"
city = "宜昌市"
district = "西陵区"
risk = "medium"
from = 2020-10-20
"""
POSSIBLY = "可能来自重点地区"
POSSIBLY_EN = "possibly from a key region, to be checked"


@pytest.fixture
def config(config: Config) -> Config:
    config.regions.file.write_text(REGIONS, encoding="utf-8")
    return config


async def stored(h: Harness) -> tuple[str, int]:
    row = await h.db.fetchone("SELECT risk, alert FROM reports")
    return row["risk"], row["alert"]


async def edit(h: Harness, group: str, lang: str = "zh-hans") -> None:
    """From the summary card, answer ``group`` again (the origin: from "China or abroad")."""
    await press_value(h, RESIDENT, "edit", lang)
    await press_value(h, RESIDENT, group, lang)
    if group == "origin":
        await press_value(h, RESIDENT, "china", lang)


def seen(text: str) -> str:
    """A message as the person reads it (Telegram's HTML parsed)."""
    return parse_html(text)[0]


def last(h: Harness, chat: int = RESIDENT) -> str:
    return seen(h.texts(chat)[-1])


def labels(h: Harness) -> list[str]:
    return [label for label, _ in h.buttons(RESIDENT)]


async def test_a_city_is_asked_for_its_district_at_once(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    for answer in ("张三", "13812345678", ID_NUMBER):
        await h.text(RESIDENT, answer)
    await h.choose(RESIDENT, "国内")
    await h.text(RESIDENT, "湖北省武汉市")
    asked = last(h)
    assert "湖北省 武汉市" in asked and "有重点地区" in asked and "哪个区县" in asked
    shown = labels(h)
    assert len(shown) == 14 and "江汉区" in shown and "武昌区" in shown and shown[-1] == "说不清"


async def test_not_sure_is_stored_as_possibly_from_a_key_region(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "origin")
    await h.text(RESIDENT, "湖北省武汉市")
    assert "江汉区" in labels(h)
    await h.choose(RESIDENT, "说不清")
    assert "湖北省 武汉市" in last(h) and "对吗" in last(h)
    await h.choose(RESIDENT, "对的")
    assert "湖北省 武汉市" in last(h) and "请核对登记信息" in last(h)
    receipt = seen(await submit(h))
    assert "中风险地区来返" in receipt
    assert f"{POSSIBLY}：只说到“湖北省 武汉市”" in receipt and "待网格员核实" in receipt
    assert await stored(h) == ("medium_risk", 1)
    assert await h.drain_outbox() == 2
    (notice,) = map(seen, h.texts(WORKER_XF01))
    assert "重点人员" in notice and POSSIBLY in notice and "湖北省 武汉市" in notice
    (alert,) = map(seen, h.texts(LEADERS))
    assert "预警" in alert and POSSIBLY in alert and "湖北省 武汉市" in alert


@pytest.mark.parametrize(
    ("origin", "district", "stored_as", "reason"),
    [
        ("湖北省武汉市", "江汉区", ("high_risk", 1), "来自或途经高风险地区：湖北省 武汉市 江汉区"),
        # a medium-risk area alerts only as its configured measure says
        ("湖北宜昌", "西陵区", ("medium_risk", 0), "来自或途经中风险地区：湖北省 宜昌市 西陵区"),
    ],
)  # fmt: skip
async def test_the_district_pressed_gets_its_regions_measure(
    harness: Harness, origin: str, district: str, stored_as: tuple[str, int], reason: str
) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "origin")
    await h.text(RESIDENT, origin)
    await h.choose(RESIDENT, district)
    await h.choose(RESIDENT, "对的")
    receipt = seen(await submit(h))
    assert reason in receipt and POSSIBLY not in receipt
    assert await stored(h) == stored_as


async def test_another_district_is_low_risk(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "origin")
    await h.text(RESIDENT, "湖北省武汉市")
    await h.choose(RESIDENT, "武昌区")
    await h.choose(RESIDENT, "对的")
    await submit(h)
    assert await stored(h) == ("low", 0)


async def test_a_province_is_asked_for_the_city_then_the_district(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "origin")
    await h.text(RESIDENT, "湖北省")
    assert "湖北省有重点地区" in last(h)
    assert labels(h) == ["说不清"]  # 17 cities: typed, not buttons
    await h.text(RESIDENT, "武汉")
    assert "湖北省 武汉市" in last(h) and "江汉区" in labels(h)
    await h.choose(RESIDENT, "江汉区")
    assert "湖北省 武汉市 江汉区" in last(h)
    await h.choose(RESIDENT, "对的")
    await submit(h)
    assert await stored(h) == ("high_risk", 1)


async def test_a_province_not_sure(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "origin")
    await h.text(RESIDENT, "湖北")
    await h.choose(RESIDENT, "说不清")
    await h.choose(RESIDENT, "对的")
    receipt = seen(await submit(h))
    assert f"{POSSIBLY}：只说到“湖北省”" in receipt
    assert await stored(h) == ("medium_risk", 1)


async def test_english_confirms_in_both_scripts(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, lang="en", origin="重庆市江津区")
    await edit(h, "origin", "en")
    await h.text(RESIDENT, "Wuhan, Hubei", "en")
    assert "湖北省 武汉市 (Wuhan, Hubei)" in last(h)
    assert "江汉区 (Jianghan District)" in labels(h) and "Not sure" in labels(h)
    await h.text(RESIDENT, "Yubei", "en")  # not in Wuhan: the reason names Wuhan both ways
    assert "“Yubei” is not in 湖北省 武汉市 (Wuhan, Hubei)" in seen(h.texts(RESIDENT)[-2])
    await h.choose(RESIDENT, "Jianghan", "en")
    confirm = last(h)
    assert "湖北省 武汉市 江汉区 (Jianghan District, Wuhan, Hubei)" in confirm
    await h.choose(RESIDENT, "Yes", "en")
    receipt = seen(await submit(h, lang="en"))
    assert "high-risk area: 湖北省 武汉市 江汉区 (Jianghan District, Wuhan, Hubei)" in receipt


async def test_english_not_sure_names_the_place_in_both_scripts(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, lang="en", origin="重庆市江津区")
    await edit(h, "origin", "en")
    await h.text(RESIDENT, "Wuhan", "en")
    await h.choose(RESIDENT, "Not sure", "en")
    await h.choose(RESIDENT, "Yes", "en")
    receipt = seen(await submit(h, lang="en"))
    assert f'{POSSIBLY_EN}: answered only "湖北省 武汉市 (Wuhan, Hubei)"' in receipt
    assert await stored(h) == ("medium_risk", 1)


async def test_a_vague_travel_place_is_asked_and_flagged(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "travel")
    await h.text(RESIDENT, "成都，武汉")
    assert "途经的湖北省 武汉市有重点地区" in last(h)
    assert "江汉区" in labels(h)
    await h.choose(RESIDENT, "说不清")
    assert "途经：四川省 成都市、湖北省 武汉市，对吗" in last(h)
    await h.choose(RESIDENT, "对的")
    receipt = seen(await submit(h))
    assert f"{POSSIBLY}：只说到“湖北省 武汉市”" in receipt
    assert await stored(h) == ("medium_risk", 1)
    assert await h.drain_outbox() == 2
    assert POSSIBLY in last(h, WORKER_XF01) and POSSIBLY in last(h, LEADERS)


async def test_an_ambiguous_travel_place_is_offered_as_buttons(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="重庆市江津区")
    await edit(h, "travel")
    await h.text(RESIDENT, "Taizhou，朝阳区")
    assert "有几个地方都叫“Taizhou”" in last(h)
    assert labels(h) == ["江苏省 泰州市", "浙江省 台州市"]
    await h.choose(RESIDENT, "浙江省 台州市")
    assert "有几个地方都叫“朝阳区”" in last(h)
    assert labels(h) == ["北京市 朝阳区", "吉林省 长春市 朝阳区"]
    await h.choose(RESIDENT, "北京市 朝阳区")
    assert "途经：浙江省 台州市、北京市 朝阳区，对吗" in last(h)
    await h.choose(RESIDENT, "对的")
    card = last(h)
    assert "浙江省 台州市" in card and "北京市 朝阳区" in card
    await submit(h)
    assert await stored(h) == ("low", 0)


async def test_an_ambiguous_travel_place_in_english(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, lang="en", origin="重庆市江津区")
    await edit(h, "travel", "en")
    await h.text(RESIDENT, "Taizhou", "en")
    assert "Several places are called “Taizhou”" in last(h)
    assert labels(h) == ["江苏省 泰州市 (Taizhou, Jiangsu)", "浙江省 台州市 (Taizhou, Zhejiang)"]
    await h.choose(RESIDENT, "Jiangsu", "en")
    assert "江苏省 泰州市 (Taizhou, Jiangsu)" in last(h)
