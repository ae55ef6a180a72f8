"""Bad answers in the arrival report: each gets its specific reason and the same question
again; nothing moves on and nothing is stored as a report."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from sandbox.recording import Call
from tests.harness import Harness
from tests.test_arrival_flow import ID_NUMBER, RESIDENT, count, press_value

STICKER = {"file_id": "s1", "file_unique_id": "su1", "width": 512, "height": 512,
           "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
PHOTO = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]


def seen(call: Call) -> str:
    """The text as the person reads it: HTML entities and tags resolved when parsed as HTML,
    else exactly as sent."""
    text = call.params.get("text") or ""
    if call.params.get("parse_mode") == "HTML":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _answers(transport: str) -> list[tuple[str, str]]:
    """(kind, value) answers from /arrive up to the summary; kind text|label|value."""
    trip = {"self_drive": "渝A12345", "train": "G1234", "flight": "CA4321"}[transport]
    return [
        ("text", "/arrive"), ("label", "本人"), ("text", "张三"), ("text", "13812345678"),
        ("text", ID_NUMBER), ("label", "国内"), ("text", "湖北省武汉市江汉区"), ("label", "对的"),
        ("value", "none"), ("text", "10月25日"), ("value", transport), ("text", trip),
        ("label", "先锋社区"), ("label", "第1网格"), ("text", "先锋街12号2单元301"),
        ("value", "sanfan"), ("value", "green"), ("value", "yes"), ("value", "yesterday"),
        ("value", "negative"), ("value", "skip"), ("text", "36.5"), ("value", "none"),
        ("value", "no"),
    ]  # fmt: skip


async def reach(h: Harness, step: str, transport: str = "train") -> None:
    """Answer questions until the draft waits at ``step``."""
    for kind, value in _answers(transport):
        row = await h.db.fetchone("SELECT step FROM drafts WHERE user_id = ?", (RESIDENT,))
        if row is not None and row["step"] == step:
            return
        if kind == "text":
            await h.text(RESIDENT, value)
        elif kind == "label":
            await h.choose(RESIDENT, value)
        else:
            await press_value(h, RESIDENT, value)
    row = await h.db.fetchone("SELECT step FROM drafts WHERE user_id = ?", (RESIDENT,))
    assert row is not None and row["step"] == step


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    # (step, transport, message content, what the reason says)
    ("phone", "train", {"text": "电话12345"}, "这不像是电话号码"),
    ("phone", "train", {"text": "010-12345678"}, "不要填座机号码"),
    ("id_number", "train", {"text": "110105194912310021"}, "身份证号校验位不正确"),
    ("id_number", "train", {"text": "1101051949123100"}, "您输入的是16位"),
    ("arrival_date", "train", {"text": "2020-10-27"}, "日期不能晚于今天"),
    ("arrival_date", "train", {"text": "2020-09-20"}, "只能填写最近30天内的日期"),
    ("arrival_date", "train", {"text": "明年"}, "没看懂这个日期"),
    ("trip", "self_drive", {"text": "ABC123"}, "车牌号第一个字应是省份简称"),
    ("trip", "self_drive", {"text": "渝12345"}, "车牌号格式不正确"),
    ("trip", "train", {"text": "X99999"}, "车次格式不正确"),
    ("trip", "flight", {"text": "飞机"}, "航班号格式不正确"),
    ("temperature", "train", {"text": "45"}, "体温应在35.0℃到42.0℃之间"),
    ("temperature", "train", {"text": "有点烫"}, "请只输入体温数字"),
    ("origin", "train", {"text": "火星基地"}, "没有识别出地点"),
    ("travel", "train", {"text": "火星&月球"}, "没有找到“火星&月球”这个地方"),
    ("name", "train", {"text": "张3"}, "姓名只能包含汉字或字母"),
    ("name", "train", {"sticker": STICKER}, "这一步请直接输入文字回答"),
    ("address", "train", {"photo": PHOTO}, "这一步请直接输入文字回答"),
    ("name", "train", {"text": "张" * 5000}, "输入太长了，最多30个字"),
    ("address", "train", {"text": "街" * 5000}, "输入太长了，最多100个字"),
    ("relation", "train", {"text": "本人"}, "这一步请点击上面消息下方的按钮选择"),
    ("health_code", "train", {"text": "绿码"}, "这一步请点击上面消息下方的按钮选择"),
    ("test_photo", "train", {"text": "没有照片"}, "这一步请发送核酸检测报告的照片"),
]


@pytest.mark.parametrize(("step", "transport", "content", "reason"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
async def test_bad_answer_gets_reason_and_same_question(
    harness: Harness, step: str, transport: str, content: dict[str, Any], reason: str
) -> None:
    h = harness
    await reach(h, step, transport)
    question = h.request.sent_to(RESIDENT)[-1]
    before = await h.db.fetchone("SELECT step, data FROM drafts")
    calls = await h.send(RESIDENT, **content)
    sent = [c for c in calls if c.method == "sendMessage"]
    assert len(sent) == 2, [c.params.get("text") for c in sent]
    assert reason in seen(sent[0])
    assert sent[1].params["text"] == question.params["text"]
    assert sent[1].params.get("reply_markup") == question.params.get("reply_markup")
    after = await h.db.fetchone("SELECT step, data FROM drafts")
    assert tuple(after) == tuple(before)
    assert await count(h, "reports") == 0


async def test_photo_is_taken_where_a_photo_is_asked(harness: Harness) -> None:
    h = harness
    await reach(h, "test_photo")
    await h.send(RESIDENT, photo=PHOTO)
    row = await h.db.fetchone("SELECT step, data FROM drafts")
    assert row["step"] == "temperature" and '"test_photo": "p1"' in row["data"]


async def test_a_fixed_answer_after_an_error_moves_on(harness: Harness) -> None:
    h = harness
    await reach(h, "id_number")
    await h.text(RESIDENT, "110105194912310021")
    await h.text(RESIDENT, ID_NUMBER)
    row = await h.db.fetchone("SELECT step FROM drafts")
    assert row["step"] == "region_kind"
    assert "从哪里来" in h.texts(RESIDENT)[-1]


async def test_stale_button_is_refused(harness: Harness) -> None:
    """A button of an earlier question, pressed again, is not taken as the current answer."""
    h = harness
    await h.text(RESIDENT, "/arrive")
    old = next(d for _, d in h.buttons(RESIDENT) if d.endswith(":family"))
    await h.choose(RESIDENT, "本人")
    calls = await h.press(RESIDENT, old)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "已经回答过了" in answer.params["text"]
    data = await h.db.fetchone("SELECT step, data FROM drafts")
    assert data["step"] == "name" and '"relation": "self"' in data["data"]


async def test_an_unknown_command_mid_report_keeps_the_draft_and_asks_again(harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    question = h.texts(RESIDENT)[-1]
    calls = await h.text(RESIDENT, "/foo")
    texts = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert "没有这个命令" in texts[0] and texts[-1] == question
    assert (await h.db.fetchone("SELECT step FROM drafts"))["step"] == "name"
