"""Holes in what people send (issue 11): a shared contact card is "my number" only when it is
the sender's own; names and addresses of invisible characters or one letter are refused with
their reason and the same question, through PTB's real pipeline."""

from __future__ import annotations

import json

from tests.harness import Harness
from tests.test_arrival_companions import LI_ID
from tests.test_arrival_flow import RESIDENT, count, press_value
from tests.test_arrival_validation import reach, seen
from tests.test_invites import NEWCOMER, make_link
from tests.test_tips import TIPSTER, say, tap

OTHER_USER = 5550001


def card(phone: str, user_id: int | None) -> dict:
    contact = {"phone_number": phone, "first_name": "某人"}
    return {"contact": contact | ({"user_id": user_id} if user_id is not None else {})}


async def refused_with(h: Harness, user: int, reason: str, **content) -> None:
    """``content`` gets ``reason`` and the same question; the draft is unchanged."""
    question = h.request.sent_to(user)[-1]
    before = await h.db.fetchone("SELECT step, data FROM drafts WHERE user_id = ?", (user,))
    calls = await h.send(user, **content)
    sent = [c for c in calls if c.method == "sendMessage"]
    assert len(sent) == 2, [c.params.get("text") for c in sent]
    assert reason in seen(sent[0])
    assert sent[1].params["text"] == question.params["text"]
    after = await h.db.fetchone("SELECT step, data FROM drafts WHERE user_id = ?", (user,))
    assert tuple(after) == tuple(before)


async def draft(h: Harness, user: int = RESIDENT) -> tuple[str, dict]:
    row = await h.db.fetchone("SELECT step, data FROM drafts WHERE user_id = ?", (user,))
    return row["step"], json.loads(row["data"])


# --- contacts -----------------------------------------------------------------------------


async def test_another_persons_contact_is_not_my_number(harness: Harness) -> None:
    h = harness
    await reach(h, "phone")
    await refused_with(h, RESIDENT, "不是您本人的", **card("13900001111", OTHER_USER))
    await refused_with(h, RESIDENT, "不是您本人的", **card("13900001111", None))
    await h.send(RESIDENT, **card("+86 138 1234 5678", RESIDENT))
    step, data = await draft(h)
    assert step == "id_number" and data["phone"] == "13812345678"


async def test_registering_a_family_member_takes_their_card(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "家人")
    await h.text(RESIDENT, "张老三")
    await h.send(RESIDENT, **card("13900001111", None))
    step, data = await draft(h)
    assert step == "id_number" and data["phone"] == "13900001111"


async def test_a_companions_card_answers_the_companion_phone(harness: Harness) -> None:
    h = harness
    await reach(h, "companions")
    await press_value(h, RESIDENT, "yes")
    await h.text(RESIDENT, "李四")
    await h.text(RESIDENT, LI_ID)
    assert (await draft(h))[0] == "companion_phone"
    await h.send(RESIDENT, **card("13900001111", OTHER_USER))
    step, data = await draft(h)
    assert step == "companion_more" and data["people"][-1]["phone"] == "13900001111"


async def test_a_workers_own_number_must_be_their_own(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    await h.text(NEWCOMER, f"/start {payload}")
    await h.text(NEWCOMER, "王五")
    await refused_with(h, NEWCOMER, "不是您本人的", **card("13700001111", OTHER_USER))
    await h.send(NEWCOMER, **card("13700001111", NEWCOMER))
    assert (await draft(h, NEWCOMER))[1]["phone"] == "13700001111"


async def test_a_tipster_cannot_give_their_own_card_as_the_persons(harness: Harness) -> None:
    h = harness
    await say(h, "/tip")
    await tap(h, "unregistered")
    await tap(h, "xf")
    await tap(h, "XF01")
    await say(h, "先锋街3号")
    await say(h, "李四")
    assert (await draft(h, TIPSTER))[0] == "phone"
    await refused_with(h, TIPSTER, "这是您自己的手机号", **card("13700001111", TIPSTER))
    await say(h, **card("13900001111", OTHER_USER))
    step, data = await draft(h, TIPSTER)
    assert step == "relation" and data["phone"] == "13900001111"


# --- junk text ------------------------------------------------------------------------


async def test_invisible_names_and_one_letter_are_refused(harness: Harness) -> None:
    h = harness
    await reach(h, "name")
    await refused_with(h, RESIDENT, "请输入姓名", text="\u200b\u200b")
    await refused_with(h, RESIDENT, "请输入姓名", text="\u202e\u2066\u2069")
    await refused_with(h, RESIDENT, "完整的姓名", text="张")
    await refused_with(h, RESIDENT, "完整的姓名", text="A-")
    await h.text(RESIDENT, "李\u200d四")
    step, data = await draft(h)
    assert step == "phone" and data["name"] == "李四"


async def test_an_address_of_punctuation_is_refused(harness: Harness) -> None:
    h = harness
    await reach(h, "address")
    await refused_with(h, RESIDENT, "不像是地址", text="A.")
    await refused_with(h, RESIDENT, "地址太短", text="\u200b\u200b")
    await h.text(RESIDENT, "先锋街\u200b12号")
    step, data = await draft(h)
    assert data["address"] == "先锋街12号" and step != "address"
    assert await count(h, "reports") == 0
