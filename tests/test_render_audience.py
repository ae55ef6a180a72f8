"""Masking is decided by who reads the message (bot.domain.masking.Audience), not by each
caller: the templates' name/phone/id filters mask unless the audience is entitled."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.domain.masking import Audience
from bot.runtime.render import TEMPLATES, Renderer

RENDERER = Renderer()
PARAMS = dict(
    ref="XF-20201026-0001", updated=False, alert=False, village="先锋村", grid="一组",
    name="张三丰", phone="13800001234", id_number="500116199001011234", people=1,
    arrival=date(2020, 10, 26), category="sanfan", risk="低风险", measure="自我健康监测",
    reasons=[],
)  # fmt: skip


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_a_pushed_notice_is_masked_without_being_asked(locale: str) -> None:
    text = RENDERER.text(locale, "arrivals", "report_notice", **PARAMS)
    assert "138****1234" in text and "5001**********1234" in text and "张**" in text
    assert "13800001234" not in text and "500116199001011234" not in text


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_entitled_reader_sees_the_values(locale: str) -> None:
    text = RENDERER.text(locale, "arrivals", "report_notice", Audience.ENTITLED, **PARAMS)
    assert "13800001234" in text and "500116199001011234" in text and "张三丰" in text


def test_personal_values_are_escaped_exactly_once() -> None:
    params = {**PARAMS, "name": "<b>&"}
    entitled = RENDERER.text("en", "arrivals", "report_notice", Audience.ENTITLED, **params)
    masked = RENDERER.text("en", "arrivals", "report_notice", **params)
    assert "&lt;b&gt;&amp;" in entitled and "&amp;amp;" not in entitled
    assert "&lt;***" in masked


def test_the_audience_does_not_leak_into_the_next_message() -> None:
    RENDERER.text("en", "arrivals", "report_notice", Audience.ENTITLED, **PARAMS)
    assert "13800001234" not in RENDERER.text("en", "arrivals", "report_notice", **PARAMS)


# A phone or ID number printed by a template goes through its filter, so the renderer decides
# who sees it in full; macro calls passing the values on are not printing them.
PRINTED = re.compile(r"\{\{\s*([^}]*?\b(?:phone|id_number|person_phone)\b[^}]*?)\s*\}\}")


def test_every_phone_and_id_number_a_template_prints_is_filtered() -> None:
    unfiltered = [
        f"{path.relative_to(TEMPLATES)}: {expr}"
        for path in sorted(TEMPLATES.rglob("*.j2"))
        for expr in PRINTED.findall(path.read_text(encoding="utf-8"))
        if "(" not in expr and not re.search(r"\|\s*(phone|id)\b", expr)
    ]
    assert unfiltered == []


def test_the_check_sees_an_unfiltered_phone() -> None:
    assert PRINTED.findall("手机 {{ phone or '未填' }}") == ["phone or '未填'"]
