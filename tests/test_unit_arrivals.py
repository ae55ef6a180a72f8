"""A unit reports its own people through the arrival form (issue 13): its liaison registers
them (/register, the unit prefilled, the relation offered by the unit's kind), a venue's guest
registers himself by its QR code (/start u-<unit id>), each with the guest register of a
venue (check-in, expected check-out, room). Every rule of the arrival report applies: a guest
from a key region alerts the group as a resident's report would. A liaison registers only
for his own unit: refused and audited otherwise, also at submit."""

from __future__ import annotations

import json

from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADER, LEADERS_CHAT, REFUSED, WORKER_SQ01, denied
from tests.test_arrival_flow import ID_NUMBER, WORKER_XF01, press_value

LIAISON = 40401  # 先锋宾馆's liaison (config.example.toml)
GUEST = 424242
HOTEL = "xfhotel"
KEY_REGION = "新疆喀什地区喀什市"  # high risk on 26 October 2020 (data/regions.toml)
NOT_SUBMITTED = "没有提交"


async def answer_person(h: Harness, user: int, *, origin: str = "北京市朝阳区",
                        phone: str | None = "13812345678") -> None:  # fmt: skip
    """Name to transport; ``phone`` None: the number is sent as a contact card instead."""
    await h.text(user, "张三")
    if phone is None:
        await h.send(user, contact={"phone_number": "+8613912345678", "first_name": "张三",
                                    "user_id": 777})  # fmt: skip
    else:
        await h.text(user, phone)
    await h.text(user, ID_NUMBER)
    await h.choose(user, "国内")
    await h.text(user, origin)
    await h.choose(user, "对的")
    await press_value(h, user, "none")
    await h.text(user, "10月25日")
    await h.choose(user, "火车")
    await h.text(user, "G1234")


async def answer_stay_and_health(h: Harness, user: int, *, room: str = "305") -> None:
    """The guest register, then category to the summary."""
    await h.choose(user, "昨天")  # checked in on 25 October
    await h.text(user, "住3晚")  # out on 28 October
    await h.text(user, room)
    await answer_health(h, user)


async def answer_health(h: Harness, user: int) -> None:
    await press_value(h, user, "visitor")
    await press_value(h, user, "green")
    await press_value(h, user, "no")  # no test
    await press_value(h, user, "36.5")
    await press_value(h, user, "none")  # no symptoms
    await press_value(h, user, "no")  # no companions


async def guest_by_qr(h: Harness, *, origin: str = "北京市朝阳区") -> None:
    await h.text(GUEST, f"/start u-{HOTEL}")
    await answer_person(h, GUEST, origin=origin)
    await answer_stay_and_health(h, GUEST)


async def report(h: Harness) -> dict:
    row = await h.db.fetchone("SELECT * FROM reports")
    assert row is not None
    return {**dict(row), "data": json.loads(row["data"])}


# --- a venue's guest by its QR code ---------------------------------------------------------


async def test_a_guest_by_the_venue_qr_gets_the_venue_prefilled(harness: Harness) -> None:
    h = harness
    await h.text(GUEST, f"/start u-{HOTEL}")
    intro, question = h.texts(GUEST)[-2:]
    assert "欢迎入住" in intro and "先锋宾馆" in intro
    assert "姓名" in question  # registering himself: the relation is not asked
    await answer_person(h, GUEST)
    assert "哪天入住" in h.texts(GUEST)[-1]  # the venue and its address are not asked
    await answer_stay_and_health(h, GUEST)
    card = h.texts(GUEST)[-1]
    assert "登记单位：先锋宾馆" in card and "先锋镇先锋街" in card
    assert "入住：10月25日，预计退房：10月28日，房间号：305" in card
    await h.choose(GUEST, "确认提交")
    assert "登记成功" in h.texts(GUEST)[-1]
    row = await report(h)
    assert (row["unit_id"], row["village_id"], row["grid_id"], row["relation"]) == (
        HOTEL, "xf", "XF01", "self")  # fmt: skip
    data = row["data"]
    assert (data["checkin_date"], data["checkout_date"], data["room"]) == (
        "2020-10-25", "2020-10-28", "305")  # fmt: skip


async def test_a_guest_from_a_key_region_alerts_the_group_naming_the_venue(
    harness: Harness,
) -> None:
    h = harness
    await guest_by_qr(h, origin=KEY_REGION)
    await h.choose(GUEST, "确认提交")
    row = await report(h)
    assert (row["risk"], row["alert"], row["unit_id"]) == ("high_risk", 1, HOTEL)
    await h.drain_outbox()
    alert = h.texts(LEADERS_CHAT)[-1]
    assert "预警" in alert and "喀什" in alert and "先锋宾馆" in alert and "住客扫码" in alert
    assert "张*" in alert and "张三" not in alert
    notice = h.texts(WORKER_XF01)[-1]
    assert "先锋宾馆" in notice and "房间 305" in notice and "138****5678" in notice
    # monitoring and the verification deadline, as for any arrival
    assert await h.db.fetchone("SELECT * FROM monitoring WHERE report_id = ?", (row["id"],))
    assert await h.db.fetchone(
        "SELECT * FROM escalations WHERE subject = ?", (f"report:{row['id']}",)
    )
    # its liaison: one masked line
    lines = h.texts(LIAISON)
    assert len(lines) == 1 and "先锋宾馆" in lines[0] and "房间 305" in lines[0]
    assert "138****5678" in lines[0] and "13812345678" not in lines[0]


async def test_the_same_guest_twice_updates_one_report(harness: Harness) -> None:
    h = harness
    await guest_by_qr(h)
    await h.choose(GUEST, "确认提交")
    await guest_by_qr(h)
    await h.choose(GUEST, "确认提交")
    rows = await h.db.fetchall("SELECT * FROM reports")
    assert len(rows) == 1 and rows[0]["version"] == 2


async def test_an_unknown_venue_link_opens_the_ordinary_form(harness: Harness) -> None:
    h = harness
    await h.text(GUEST, "/start u-nosuch")
    texts = h.texts(GUEST)
    assert "停用或不存在" in texts[0]
    assert "给谁登记" in texts[-1] and "本人" in [label for label, _ in h.buttons(GUEST)]
    draft = await h.db.fetchone("SELECT data FROM drafts WHERE user_id = ?", (GUEST,))
    assert "unit" not in json.loads(draft["data"])


async def test_a_non_venue_units_link_has_no_guest_register(harness: Harness) -> None:
    h = harness
    await h.text(GUEST, "/start u-park")  # the industrial park: its own staff, no rooms
    assert "这是<b>先锋镇中小企业创业园</b>的来（返）镇人员登记" in h.texts(GUEST)[-2]
    await answer_person(h, GUEST)
    assert "属于哪一类人员" in h.texts(GUEST)[-1]


async def test_an_inactive_venue_link_opens_the_ordinary_form(harness: Harness) -> None:
    h = harness
    await h.db.write_one("UPDATE units SET active = 0 WHERE id = ?", (HOTEL,))
    await h.text(GUEST, f"/start u-{HOTEL}")
    assert "停用或不存在" in h.texts(GUEST)[0]
    assert "给谁登记" in h.texts(GUEST)[-1]


async def test_a_checkout_before_the_checkin_is_asked_again(harness: Harness) -> None:
    h = harness
    await h.text(GUEST, f"/start u-{HOTEL}")
    await answer_person(h, GUEST)
    await h.choose(GUEST, "昨天")
    await h.text(GUEST, "10月24日")
    reason, question = h.texts(GUEST)[-2:]
    assert "不能早于入住日期（10月25日）" in reason
    assert "预计哪天退房" in question
    await h.text(GUEST, "10月26日")
    assert "房间号" in h.texts(GUEST)[-1]


# --- the liaison registers the unit's people -----------------------------------------------


async def test_the_liaison_registers_a_guest_with_their_contact_card(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/register")
    assert "正在为先锋宾馆登记到达人员" in h.texts(LIAISON)[-2].replace("<b>", "").replace(
        "</b>", ""
    )
    assert [label for label, _ in h.buttons(LIAISON)] == ["住客", "本单位员工"]
    await h.choose(LIAISON, "住客")
    await answer_person(h, LIAISON, phone=None)  # the guest's card, not the liaison's own
    await answer_stay_and_health(h, LIAISON, room="A栋201")
    await h.choose(LIAISON, "确认提交")
    assert "与被登记人联系核实" in h.texts(LIAISON)[-1]
    row = await report(h)
    assert (row["unit_id"], row["relation"], row["reporter_user_id"]) == (
        HOTEL, "venue_guest", LIAISON)  # fmt: skip
    assert row["data"]["room"] == "A栋201"
    await h.drain_outbox()
    notice = h.texts(WORKER_XF01)[-1]
    assert "先锋宾馆" in notice and "单位联络员登记" in notice and "139****5678" in notice
    assert not any("扫码登记" in text for text in h.texts(LIAISON))  # he knows: he did it


async def test_the_liaison_registers_the_venues_staff_without_the_register(
    harness: Harness,
) -> None:
    h = harness
    await h.text(LIAISON, "/register")
    await h.choose(LIAISON, "本单位员工")
    await answer_person(h, LIAISON)
    await answer_health(h, LIAISON)  # no check-in, check-out or room
    card = h.texts(LIAISON)[-1]
    assert "请核对登记信息" in card and "入住" not in card
    await h.choose(LIAISON, "确认提交")
    assert (await report(h))["relation"] == "staff"


async def test_a_liaison_cannot_register_for_another_unit(harness: Harness) -> None:
    h = harness
    await h.press(LIAISON, "v1:ua:reg:jnvs")  # 江南职业学校: not his
    assert await h.db.fetchone("SELECT * FROM drafts") is None
    assert "denied:unit.reg" in await denied(h, LIAISON)
    row = await h.db.fetchone(
        "SELECT subject FROM audit WHERE actor = ? AND action = 'denied:unit.reg'", (LIAISON,)
    )
    assert row["subject"] == "unit:jnvs"


async def test_a_resident_cannot_register_for_a_unit(harness: Harness) -> None:
    h = harness
    await h.text(GUEST, "/register")
    assert REFUSED in h.texts(GUEST)[-1]
    assert "denied:unit.reg" in await denied(h, GUEST)
    assert await h.db.fetchone("SELECT * FROM drafts") is None


async def test_a_liaison_removed_meanwhile_submits_nothing(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/register")
    await h.choose(LIAISON, "本单位员工")
    await answer_person(h, LIAISON)
    await answer_health(h, LIAISON)
    await h.db.write_one("UPDATE staff SET active = 0 WHERE user_id = ?", (LIAISON,))
    await h.choose(LIAISON, "确认提交")
    assert NOT_SUBMITTED in h.texts(LIAISON)[-1]
    assert await h.db.fetchone("SELECT * FROM reports") is None
    assert "denied:unit.register" in await denied(h, LIAISON)


# --- the venue's QR code ---------------------------------------------------------------------

LINK = "https://t.me/paicha_bot?start=u-xfhotel"


def photos(h: Harness, chat: int) -> list[dict]:
    return [c.params for c in h.request.sent_to(chat) if c.method == "sendPhoto"]


async def test_the_liaison_gets_the_venue_qr_code(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/qrcode")
    sent = photos(h, LIAISON)
    assert len(sent) == 1 and LINK in sent[0]["caption"] and "先锋宾馆" in sent[0]["caption"]


async def test_a_leader_gets_a_units_qr_code_from_its_card(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.press(LEADER, f"v1:ua:qr:{HOTEL}")
    assert LINK in photos(h, LEADER)[0]["caption"]
    await h.press(ADMIN, f"v1:ua:qr:{HOTEL}")
    assert LINK in photos(h, ADMIN)[0]["caption"]


async def test_the_qr_code_is_refused_outside_ones_scope(harness: Harness) -> None:
    h = harness
    await h.press(WORKER_SQ01, f"v1:ua:qr:{HOTEL}")  # another village's worker
    assert photos(h, WORKER_SQ01) == []
    assert "denied:unit.qr" in await denied(h, WORKER_SQ01)


async def test_a_guest_registers_in_english(harness: Harness) -> None:
    h = harness
    en = "en"
    await h.text(GUEST, f"/start u-{HOTEL}", en)
    assert "Welcome to <b>先锋宾馆</b>" in h.texts(GUEST)[-2]
    await h.text(GUEST, "Zhang San", en)
    await h.text(GUEST, "13812345678", en)
    await h.text(GUEST, ID_NUMBER, en)
    for value in ("china",):
        await press_value(h, GUEST, value, en)
    await h.text(GUEST, "Beijing Chaoyang", en)
    await press_value(h, GUEST, "yes", en)
    await press_value(h, GUEST, "none", en)
    await press_value(h, GUEST, "yesterday", en)
    await press_value(h, GUEST, "train", en)
    await h.text(GUEST, "G1234", en)
    await press_value(h, GUEST, "today", en)  # checked in today
    await h.text(GUEST, "3 nights", en)
    await h.text(GUEST, "12", en)
    for value in ("visitor", "green", "no", "36.5", "none", "no"):
        await press_value(h, GUEST, value, en)
    card = h.texts(GUEST)[-1]
    assert "Registered for: 先锋宾馆" in card
    assert "Checked in: 26 Oct, expected check-out: 29 Oct, room: 12" in card
    await press_value(h, GUEST, "submit", en)
    assert "Registration complete" in h.texts(GUEST)[-1]


async def test_the_liaisons_help_names_register_and_qrcode(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/help")
    text = h.texts(LIAISON)[-1]
    assert "/register 登记本单位人员" in text and "/qrcode 登记二维码" in text
    await h.text(GUEST, "/help")
    assert "/register" not in h.texts(GUEST)[-1]
