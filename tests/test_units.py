"""Key units through PTB's real pipeline: seeded from the config, /units for each role, a
leader's 重点监测 (stored, audited, the group told once), a liaison's invite and welcome, and
everyone acting outside their scope refused and audited."""

from __future__ import annotations

import argparse
import re

import pytest

from bot import cli
from bot.actions import units as unit_actions
from tests.harness import Harness
from tests.staff_helpers import (
    ADMIN,
    LEADER,
    LEADERS_CHAT,
    REFUSED,
    RESIDENT,
    VADMIN_SQ,
    VADMIN_XF,
    WORKER_XF01,
    WORKER_XF02,
    audit_actions,
    denied,
    seed_invited,
)

LIAISON = 40401  # 先锋宾馆 (xfhotel)'s liaison in the example config
NEWCOMER = 60011
ALL_UNITS = (
    "先锋镇中小企业创业园",
    "先锋宾馆",
    "江南职业学校",
    "凤凰农家乐",
    "保坪山居民宿",
)  # town order
LINK = re.compile(r"https://t\.me/paicha_bot\?start=(inv-[A-Za-z0-9_-]+)")
MARKED = "江南职业学校 列为重点监测单位，日报改为每天两次"


async def unit_row(h: Harness, unit_id: str) -> dict:
    row = await h.db.fetchone("SELECT * FROM units WHERE id = ?", (unit_id,))
    return dict(row) if row else {}


async def denied_subjects(h: Harness, user: int) -> list[tuple[str, str]]:
    rows = await h.db.fetchall(
        "SELECT action, subject FROM audit WHERE actor = ? AND action LIKE 'denied:%' ORDER BY id",
        (user,),
    )
    return [(r["action"], r["subject"]) for r in rows]


def group_texts(h: Harness) -> list[str]:
    return h.texts(LEADERS_CHAT)


# -- seeding --------------------------------------------------------------------------------


async def test_config_units_are_seeded_and_their_liaisons_are_staff(harness: Harness) -> None:
    h = harness
    hotel, park = await unit_row(h, "xfhotel"), await unit_row(h, "park")
    assert (hotel["kind"], hotel["village_id"], hotel["grid_id"], hotel["headcount"]) == (
        "hotel", "xf", "XF01", 12,
    )  # fmt: skip
    assert (hotel["source"], hotel["active"], hotel["monitored"]) == ("config", 1, 0)
    assert (park["kind"], park["monitored"]) == ("enterprise", 1)  # the file's initial 重点监测
    staff = await h.db.fetchone("SELECT * FROM staff WHERE user_id = ?", (LIAISON,))
    assert (staff["role"], staff["scope"], staff["source"]) == ("unit", "xfhotel", "config")


async def test_a_restart_takes_the_file_but_keeps_monitoring_set_in_chat(
    harness: Harness,
) -> None:
    h = harness
    await mark(h, "jnvs")
    config = h.config
    h.services.config = config.model_copy(update={"key_units": tuple(
        u.model_copy(update={"name": "江南职校", "headcount": 900, "monitored": False})
        if u.id == "jnvs" else u.model_copy(update={"monitored": True})
        for u in config.key_units if u.id != "fhnjl"
    )})  # fmt: skip
    await unit_actions.seed(h.services)
    jnvs, hotel = await unit_row(h, "jnvs"), await unit_row(h, "xfhotel")
    assert (jnvs["name"], jnvs["headcount"], jnvs["monitored"]) == ("江南职校", 900, 1)
    assert hotel["monitored"] == 0  # stored already: the file's initial value does not apply
    assert (await unit_row(h, "fhnjl"))["active"] == 0  # no longer listed: retired, kept


# -- /units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "seen"),
    [
        (LEADER, ALL_UNITS),
        (ADMIN, ALL_UNITS),
        (VADMIN_XF, ("先锋镇中小企业创业园", "先锋宾馆")),
        (VADMIN_SQ, ("江南职业学校",)),
        (WORKER_XF01, ("先锋宾馆",)),
        (WORKER_XF02, ("先锋镇中小企业创业园",)),
    ],
)
async def test_units_lists_what_each_role_answers_for(
    harness: Harness, user: int, seen: tuple[str, ...]
) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.text(user, "/units")
    text = h.texts(user)[-1]
    assert f"共 {len(seen)} 个" in text
    assert [u for u in ALL_UNITS if u in text] == list(seen)
    assert [label.removeprefix("🔴 ") for label, _ in h.buttons(user)] == list(seen)
    assert "view:units" in await audit_actions(h, user)


async def add_units(h: Harness, count: int) -> list[str]:
    """``count`` units added in chat (storage rows, ids DW0001…) with long names, in 先锋社区:
    their names, in the order /units lists them (after the config's, by name)."""
    now = h.clock.now().isoformat()
    names = [
        f"先锋镇第{i:03d}号重点场所（含配套宿舍、食堂与仓储用房）" for i in range(1, count + 1)
    ]
    async with h.db.write() as conn:
        for i, name in enumerate(names, 1):
            await conn.execute(
                """INSERT INTO units (id, name, kind, village_id, grid_id, address, headcount,
                                      source, created_at, updated_at)
                   VALUES (?, ?, ?, 'xf', 'XF01', '先锋镇先锋街', 1200, 'chat', ?, ?)""",
                (f"DW{i:04d}", name, "hotel" if i % 2 else "enterprise", now, now),
            )
    return names


def shown(h: Harness, chat: int) -> tuple[str, list[tuple[str, str]]]:
    """The list as the chat sees it now: the newest message sent or edited, and its buttons."""
    call = [c for c in h.request.calls if c.method in ("sendMessage", "editMessageText")
            and int(c.params["chat_id"]) == chat][-1]  # fmt: skip
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return call.params["text"], [(b["text"], b["callback_data"]) for row in rows for b in row]


async def test_a_hundred_units_are_listed_page_by_page(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    added = await add_units(h, 100)
    await h.text(LEADER, "/units")
    seen: list[str] = []
    for page in range(1, 7):  # 105 units, 20 a page
        text, buttons = shown(h, LEADER)
        assert len(text) <= 4096 and "共 105 个" in text and f"第 {page}/6 页" in text
        units = [(label, data) for label, data in buttons if data.startswith("v1:un:o:")]
        assert len(units) == (20 if page < 6 else 5)
        assert all(label.removeprefix("🔴 ") in text for label, _ in units)
        seen += [label.removeprefix("🔴 ") for label, _ in units]
        turns = {label: data for label, data in buttons if data.startswith("v1:un:p:")}
        assert all(len(data.encode()) <= 64 for _, data in buttons)
        assert ("⬅️ 上一页" in turns) == (page > 1) and ("下一页 ➡️" in turns) == (page < 6)
        if page < 6:
            await h.press(LEADER, turns["下一页 ➡️"])
    assert seen == [*ALL_UNITS[:2], *added, *ALL_UNITS[2:]]  # every one, once, in town order
    await h.press(LEADER, "v1:un:p:0")  # back to the first page
    assert "第 1/6 页" in shown(h, LEADER)[0]
    await h.press(LEADER, "v1:un:p:99")  # a stale page: the last there is
    assert "第 6/6 页" in shown(h, LEADER)[0]


async def test_a_short_list_has_no_page_buttons(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/units")
    assert "页" not in h.texts(LEADER)[-1]
    assert not [d for _, d in h.buttons(LEADER) if d.startswith("v1:un:p:")]


async def test_a_liaison_turning_a_page_is_refused(harness: Harness) -> None:
    h = harness
    await h.press(LIAISON, "v1:un:p:1")
    assert REFUSED in h.texts(LIAISON)[-1]
    assert await denied(h, LIAISON) == ["denied:units"]


async def test_the_list_shows_kind_liaison_headcount_and_monitoring(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/units")
    text = h.texts(LEADER)[-1]
    assert (
        "🔴 <b>先锋镇中小企业创业园</b>：企业，先锋社区第2网格，在册 320 人，⚠️ 联络员未加入" in text
    )
    assert "<b>先锋宾馆</b>：酒店宾馆，先锋社区第1网格，在册 12 人，联络员已加入" in text
    assert "<b>江南职业学校</b>：学校" in text and "重点监测 1 个" in text


async def test_a_liaison_gets_their_own_units_card(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/units")
    card = h.texts(LIAISON)[-1]
    assert "<b>先锋宾馆</b>（酒店宾馆）" in card and "联络员：已加入 1 人" in card
    assert "start=u-" not in card  # the link is for those who put up the QR code
    labels = [label for label, _ in h.buttons(LIAISON)]
    assert labels == ["📝 登记人员", "📋 批量导入", "🔳 本店二维码"]


async def test_residents_and_site_managers_are_refused(harness: Harness) -> None:
    h = harness
    for user in (RESIDENT, 40001):
        await h.text(user, "/units")
        assert REFUSED in h.texts(user)[-1]
        assert await denied(h, user) == ["denied:units"]


async def test_a_leaders_card_has_the_venue_link_a_workers_does_not(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.press(LEADER, "v1:un:o:xfhotel")
    assert "住客扫码登记链接" in h.texts(LEADER)[-1]
    assert "https://t.me/paicha_bot?start=u-xfhotel" in h.texts(LEADER)[-1]
    await h.press(WORKER_XF01, "v1:un:o:xfhotel")
    assert "<b>先锋宾馆</b>" in h.texts(WORKER_XF01)[-1]
    assert "start=u-" not in h.texts(WORKER_XF01)[-1]
    assert ("view:unit") in await audit_actions(h, WORKER_XF01)


# -- out of scope -----------------------------------------------------------------------------


async def test_a_liaison_opening_another_units_card_is_refused_and_audited(
    harness: Harness,
) -> None:
    h = harness
    await h.press(LIAISON, "v1:un:o:jnvs")
    assert REFUSED in h.texts(LIAISON)[-1] and "江南职业学校" not in h.texts(LIAISON)[-1]
    await h.press(LIAISON, "v1:un:o:nosuch")  # the same answer whether or not it exists
    assert REFUSED in h.texts(LIAISON)[-1]
    assert await denied_subjects(h, LIAISON) == [
        ("denied:unit.o", "unit:jnvs"),
        ("denied:unit.o", "unit:nosuch"),
    ]


async def test_a_worker_opening_a_unit_of_another_grid_is_refused(harness: Harness) -> None:
    h = harness
    await h.press(WORKER_XF01, "v1:un:o:park")  # XF02's
    assert REFUSED in h.texts(WORKER_XF01)[-1]
    assert await denied_subjects(h, WORKER_XF01) == [("denied:unit.o", "unit:park")]


# -- 重点监测 ----------------------------------------------------------------------------------


async def mark(h: Harness, unit_id: str, on: bool = True) -> None:
    h.request.members[LEADER] = "member"
    await h.press(LEADER, f"v1:un:{'m' if on else 'u'}:{unit_id}")
    await h.drain_outbox()


async def test_a_leader_marks_a_unit_and_the_group_is_told_once(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.press(LEADER, "v1:un:o:jnvs")
    await h.choose(LEADER, "列为重点监测")
    await h.drain_outbox()
    row = await unit_row(h, "jnvs")
    assert (row["monitored"], row["monitored_by"]) == (1, LEADER)
    assert "已将 <b>江南职业学校</b> 列为重点监测单位" in h.texts(LEADER)[-2]
    assert "🔴 重点监测单位" in h.texts(LEADER)[-1]  # the card again, now with its mark
    assert [t for t in group_texts(h) if MARKED in t] == [f"🔴 {MARKED}。"]
    await mark(h, "jnvs")  # a double tap: nothing changes, nobody is told again
    assert "已经是这样了" in h.texts(LEADER)[-1]
    assert len([t for t in group_texts(h) if MARKED in t]) == 1
    await mark(h, "jnvs", on=False)
    assert (await unit_row(h, "jnvs"))["monitored"] == 0
    assert "江南职业学校 取消重点监测，日报恢复为每天一次。" in group_texts(h)
    assert [a for a in await audit_actions(h, LEADER) if a.startswith("unit.")] == [
        "unit.monitor",
        "unit.unmonitor",
    ]


@pytest.mark.parametrize("user", [VADMIN_SQ, WORKER_XF01, LIAISON, RESIDENT])
async def test_only_leaders_mark_monitoring(harness: Harness, user: int) -> None:
    h = harness
    await h.press(user, "v1:un:m:jnvs")
    await h.press(user, "v1:un:u:park")
    assert REFUSED in h.texts(user)[-1]
    assert (await unit_row(h, "jnvs"))["monitored"] == 0
    assert (await unit_row(h, "park"))["monitored"] == 1
    assert await denied_subjects(h, user) == [
        ("denied:unit.m", "unit:jnvs"),
        ("denied:unit.u", "unit:park"),
    ]
    await h.drain_outbox()
    assert not [t for t in group_texts(h) if "重点监测" in t]


# -- a liaison's invite ------------------------------------------------------------------------


async def bind(h: Harness, payload: str, user: int = NEWCOMER) -> str:
    await h.text(user, f"/start {payload}")
    await h.text(user, "王五")
    await h.send(
        user, contact={"phone_number": "+8613700001111", "first_name": "五", "user_id": user}
    )
    await h.choose(user, "确认")
    return h.texts(user)[-1]


async def test_a_leader_invites_a_liaison_who_is_welcomed_to_the_unit(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/invite")
    assert [label for label, _ in h.buttons(LEADER)] == list(ALL_UNITS)
    await h.choose(LEADER, "江南职业学校")
    match = LINK.search(h.texts(LEADER)[-1])
    assert match and "<b>江南职业学校</b>的单位联络员邀请链接" in h.texts(LEADER)[-1]
    welcome = await bind(h, match.group(1))
    assert any("您收到了<b>江南职业学校</b>的<b>单位联络员</b>邀请" in t for t in h.texts(NEWCOMER))
    assert "您是<b>江南职业学校</b>的单位联络员" in h.request.sent_to(NEWCOMER)[-1].params["text"]
    assert "/units" in welcome
    row = await h.db.fetchone("SELECT * FROM staff WHERE user_id = ?", (NEWCOMER,))
    assert (row["role"], row["scope"], row["source"]) == ("unit", "jnvs", "invite")
    await h.text(NEWCOMER, "/units")
    assert "<b>江南职业学校</b>（学校）" in h.texts(NEWCOMER)[-1]


async def test_a_village_admin_invites_liaisons_of_their_villages_units(harness: Harness) -> None:
    h = harness
    await h.text(VADMIN_XF, "/invite")
    await h.choose(VADMIN_XF, "邀请单位联络员")
    assert [label for label, _ in h.buttons(VADMIN_XF)] == ["先锋镇中小企业创业园", "先锋宾馆"]
    await h.choose(VADMIN_XF, "先锋宾馆")
    assert LINK.search(h.texts(VADMIN_XF)[-1])
    await h.press(VADMIN_XF, "v1:inv:u:jnvs")  # 石桥村's school: not theirs
    assert REFUSED in h.texts(VADMIN_XF)[-1]
    assert await denied(h, VADMIN_XF) == ["denied:invite"]
    invites = await h.db.fetchall("SELECT role, scope FROM invites")
    assert [(r["role"], r["scope"]) for r in invites] == [("unit", "xfhotel")]


async def test_workers_and_liaisons_cannot_invite(harness: Harness) -> None:
    h = harness
    for user in (WORKER_XF01, LIAISON):
        await h.text(user, "/invite")
        await h.press(user, "v1:inv:u:xfhotel")
        assert await denied(h, user) == ["denied:invite", "denied:invite"]
    assert await h.db.fetchone("SELECT * FROM invites") is None


async def test_an_invited_liaison_is_listed_as_joined(harness: Harness) -> None:
    h = harness
    await seed_invited(h, NEWCOMER, role="unit", scope="jnvs")
    await h.text(VADMIN_SQ, "/units")
    assert (
        "<b>江南职业学校</b>：学校，石桥村第2网格，在册 1200 人，联络员已加入"
        in h.texts(VADMIN_SQ)[-1]
    )


def test_cli_invites_a_liaison_for_a_known_unit(harness: Harness) -> None:
    def scope(unit: str | None) -> str:
        args = argparse.Namespace(role="unit", grid=None, village=None, site=None,
                                  vehicle=None, unit=unit)  # fmt: skip
        return cli.invite_scope(harness.config, args, {"unit": {"xfhotel": "先锋宾馆"}})

    assert scope("xfhotel") == "xfhotel"
    for wrong in ("jnvs", None):
        with pytest.raises(ValueError, match="--unit: give one of the key units"):
            scope(wrong)
