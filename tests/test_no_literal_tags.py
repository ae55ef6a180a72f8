"""What people see never shows markup as text. Every test checks it for every message, edit,
button and notification its bot sent (tests/conftest.py, ``no_literal_markup``); here: the
check itself against known answers, and the cases that showed tags before."""

from __future__ import annotations

import pytest

from sandbox.formatting import parse_html
from sandbox.recording import Call
from tests.harness import Harness, visible_problems
from tests.test_arrival_flow import RESIDENT, WORKER_XF01, answer_to_summary


def sent(text: str, html: bool = True, **params) -> Call:
    return Call("sendMessage", {"chat_id": 1, "text": text,
                                **({"parse_mode": "HTML"} if html else {}), **params})  # fmt: skip


def button_row(*labels: str) -> dict:
    return {"inline_keyboard": [[{"text": t, "callback_data": "x"} for t in labels]]}


# Known answers: a call, what people typed -> how many problems it shows.
CASES = [
    (sent("<b>湖北省 武汉市</b>，对吗？"), [], 0),
    (sent("&lt;b&gt;湖北省&lt;/b&gt;，对吗？"), [], 1),  # escaped twice: tags shown
    (sent("<b>湖北省</b>，对吗？", html=False), [], 1),  # no parse_mode: tags shown
    (sent("A &amp;amp; B"), [], 1),  # shows "&amp;"
    (sent("A &amp; B"), [], 0),
    (sent("Didn&#39;t"), [], 0),  # an apostrophe, escaped once
    (sent("Didn&amp;#39;t"), [], 1),
    (sent("<b>unclosed"), [], 1),  # Telegram refuses it
    (sent("<div>x</div>"), [], 1),  # not a Telegram tag
    (sent("名字：&lt;b&gt;小明"), ["<b>小明"], 0),  # typed: shown as typed
    (sent("名字：&amp;lt;b&amp;gt;小明"), ["<b>小明"], 1),
    (sent("ok", reply_markup=button_row("Didn&#39;t")), [], 1),  # a label is not HTML
    (sent("ok", reply_markup=button_row("Didn't", "A & B")), [], 0),
    (sent("ok", reply_markup={"keyboard": [[{"text": "<i>x</i>"}]]}), [], 1),
    (Call("answerCallbackQuery", {"text": "<b>已记录</b>"}), [], 1),
    (Call("answerCallbackQuery", {"text": "已记录"}), [], 0),
    (Call("editMessageText", {"text": "<b>x</b>", "parse_mode": "HTML"}), [], 0),
    (Call("sendPhoto", {"caption": "<code>XF</code>"}), [], 1),
    (Call("sendPhoto", {"caption": "<code>XF</code>", "parse_mode": "HTML"}), [], 0),
    (sent('<a href="https://t.me/x">链接</a>'), [], 0),
    (sent("&lt;a href=&quot;x&quot;&gt;"), [], 1),
]


@pytest.mark.parametrize(("call", "typed", "problems"), CASES)
def test_visible_problems_known_answers(call: Call, typed: list[str], problems: int) -> None:
    assert len(visible_problems(call, typed)) == problems


def edits(h: Harness, chat_id: int) -> list[str]:
    return [c.params["text"] for c in h.request.calls
            if c.method == "editMessageText" and int(c.params["chat_id"]) == chat_id]  # fmt: skip


async def test_a_confirmed_place_shows_bold_not_tags(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    (confirmed,) = [t for t in edits(h, RESIDENT) if "对吗" in t]
    text, entities = parse_html(confirmed)
    assert text == "湖北省 武汉市 江汉区，对吗？\n👉 对的"
    units = text.encode("utf-16-le")  # entity offsets count UTF-16 code units

    def covered(e: dict) -> str:
        return units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")

    assert [(e["type"], covered(e)) for e in entities] == [
        ("bold", "湖北省 武汉市 江汉区"),
        ("bold", "对的"),
    ]


async def test_english_buttons_and_choices_show_apostrophes(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, lang="en")
    shown = [parse_html(t)[0] for t in edits(h, RESIDENT)]
    assert "Is that right?" in " ".join(shown) or any("is that right?" in t for t in shown)
    assert any(t.endswith("👉 Didn't pass through anywhere else") for t in shown)


async def test_a_typed_address_with_markup_is_shown_as_typed(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, address="先锋街12号<b>2单元</b>&301")
    summary = h.texts(RESIDENT)[-1]
    assert "先锋街12号<b>2单元</b>&301" in parse_html(summary)[0]


async def test_a_workers_pressed_choice_stays_in_their_chat(harness: Harness) -> None:
    """A worker's conversation whose flow has no text of its own for an answered question:
    the message stays as it was, with the choice under it."""
    h = harness
    await h.text(WORKER_XF01, "/visit")
    await h.text(WORKER_XF01, "先锋街14号")
    await h.choose(WORKER_XF01, "拒绝入户")
    (shown,) = edits(h, WORKER_XF01)
    assert parse_html(shown)[0].endswith("👉 拒绝入户")
