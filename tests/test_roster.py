"""Staff filed by category (人员档案) through PTB's real pipeline: an admin files a person in
/staff and gets a join link (one use, expires; opened, it asks 是我/不是我 first, and never
replaces a file an admin made), village admins only for their villages
(refused and audited), edits audited, phones masked in the list, /me for staff (a file made
for them, availability in one tap, skills toggled, phone re-asked with its reason)."""

from __future__ import annotations

import re

from sandbox.formatting import parse_html
from storage import roster
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADER, REFUSED, RESIDENT, VADMIN_SQ, VADMIN_XF, WORKER_XF01
from tests.test_invites import NEWCOMER as INVITED
from tests.test_invites import bind, make_link
from tests.test_transfers import DISPATCHER

LINK = re.compile(r"https://t\.me/paicha_bot\?start=(r-[A-Za-z0-9_-]+)")
NEWCOMER = 61001


async def audit(h: Harness, actor: int) -> list[tuple[str, str | None, str | None]]:
    rows = await h.db.fetchall(
        "SELECT action, subject, detail FROM audit WHERE actor = ? ORDER BY id", (actor,)
    )
    return [tuple(r) for r in rows]


async def refusals(h: Harness, actor: int) -> list[tuple[str, str | None]]:
    return [(a, s) for a, s, _ in await audit(h, actor) if a.startswith("denied:")]


async def open_roster(h: Harness, user: int) -> None:
    await h.text(user, "/staff")
    await h.choose(user, "人员档案")


async def file_person(h: Harness, user: int = ADMIN, village: str = "先锋社区") -> str:
    """An admin files 赵六, a 下沉干部 who drives, through the form; returns the payload."""
    await open_roster(h, user)
    await h.choose(user, "新建档案")
    await h.text(user, "赵六")
    await h.text(user, "139 1234 5678")
    await h.choose(user, "下沉干部")
    await h.choose(user, village)
    await h.choose(user, "不分网格")
    await h.choose(user, "驾驶员")
    await h.choose(user, "英语")
    await h.choose(user, "英语")  # untick
    await h.choose(user, "选好了")
    await h.choose(user, "可调用")
    summary = h.texts(user)[-1]
    assert "赵六" in summary and "下沉干部" in summary and "驾驶员" in summary, summary
    assert "英语" not in summary and "13912345678" in summary.replace(" ", "").replace("+86", "")
    await h.choose(user, "确认建档")
    match = LINK.search(h.texts(user)[-1])
    assert match, h.texts(user)[-1]
    return match.group(1)


async def join(h: Harness, user: int, payload: str) -> None:
    """Open the link and confirm: 是我."""
    await h.text(user, f"/start {payload}")
    await h.choose(user, "✅ 是我")


async def test_an_admin_files_a_person_who_joins_by_the_link_once(harness: Harness) -> None:
    h = harness
    payload = await file_person(h)
    assert len(payload) <= 64
    [row] = await roster.select(h.db, category="cadre")
    assert (row["name"], row["phone"], row["village_id"], row["grid_id"], row["skills"],
            row["availability"], row["user_id"]) == (
        "赵六", "13912345678", "xf", None, '["driver"]', "available", None)  # fmt: skip
    assert ("roster.add", f"roster:{row['id']}", "cadre:xf") in await audit(h, ADMIN)
    await join(h, NEWCOMER, payload)
    assert "已加入人员档案" in texts(h, NEWCOMER)[-1] and "下沉干部" in texts(h, NEWCOMER)[-1]
    assert (await roster.by_user(h.db, NEWCOMER))["id"] == row["id"]
    assert ("roster.bind", f"roster:{row['id']}", None) in await audit(h, NEWCOMER)
    await h.text(NEWCOMER + 1, f"/start {payload}")  # used
    assert "无效或已失效" in h.texts(NEWCOMER + 1)[-1]
    assert await roster.by_user(h.db, NEWCOMER + 1) is None
    assert await refusals(h, NEWCOMER + 1) == [("denied:roster_join", f"join:{payload[2:10]}")]


async def test_a_join_link_expires(harness: Harness) -> None:
    h = harness
    payload = await file_person(h)
    h.clock.advance(hours=72)
    await h.text(NEWCOMER, f"/start {payload}")
    assert "无效或已失效" in h.texts(NEWCOMER)[-1]
    assert await roster.by_user(h.db, NEWCOMER) is None


async def test_a_village_admin_files_only_for_their_village(harness: Harness) -> None:
    h = harness
    await open_roster(h, VADMIN_XF)
    await h.choose(VADMIN_XF, "新建档案")
    await h.text(VADMIN_XF, "钱七")
    await h.text(VADMIN_XF, "13912345678")
    await h.choose(VADMIN_XF, "志愿者")
    assert [label for label, _ in h.buttons(VADMIN_XF)] == ["先锋社区"]
    # a forged press for another village: the draft refuses it as stale, nothing is filed
    question = h.buttons(VADMIN_XF)[0][1]
    await h.press(VADMIN_XF, question.replace(":xf", ":sq"))
    assert await roster.select(h.db) == []


async def test_a_village_admin_cannot_edit_another_villages_file(harness: Harness) -> None:
    h = harness
    await file_person(h, village="石桥村")
    [row] = await roster.select(h.db)
    await h.press(VADMIN_XF, f"v1:rs:A:{row['id']}:busy")
    assert REFUSED in h.texts(VADMIN_XF)[-1]
    assert await refusals(h, VADMIN_XF) == [
        ("denied:roster.A", f"roster:{row['id']}")]  # fmt: skip
    assert (await roster.get(h.db, row["id"]))["availability"] == "available"
    # nor move one of theirs to a village not theirs
    await h.press(VADMIN_SQ, f"v1:rs:V:{row['id']}:xf")
    assert REFUSED in h.texts(VADMIN_SQ)[-1]
    assert (await roster.get(h.db, row["id"]))["village_id"] == "sq"
    # their own village's: changed and audited
    await h.press(VADMIN_SQ, f"v1:rs:A:{row['id']}:busy")
    assert (await roster.get(h.db, row["id"]))["availability"] == "busy"
    assert ("roster.edit", f"roster:{row['id']}", "availability:available->busy") in await audit(
        h, VADMIN_SQ
    )


async def test_admin_edits_category_skills_and_deactivates(harness: Harness) -> None:
    h = harness
    await file_person(h)
    [row] = await roster.select(h.db)
    ident = row["id"]
    await h.press(ADMIN, f"v1:rs:o:{ident}")
    assert "赵六" in h.texts(ADMIN)[-1]
    await h.press(ADMIN, f"v1:rs:c:{ident}")
    await h.choose(ADMIN, "志愿者")
    await h.press(ADMIN, f"v1:rs:S:{ident}:uyghur")
    await h.press(ADMIN, f"v1:rs:S:{ident}:nope")  # not a configured skill: refused
    row = await roster.get(h.db, ident)
    assert (row["category"], row["skills"]) == ("volunteer", '["driver", "uyghur"]')
    await h.press(ADMIN, f"v1:rs:x:{ident}")
    await h.choose(ADMIN, "确认停用")
    assert (await roster.get(h.db, ident))["active"] == 0
    assert await roster.select(h.db) == []
    actions = [(a, d) for a, s, d in await audit(h, ADMIN) if a == "roster.edit"]
    assert actions == [("roster.edit", "category:cadre->volunteer"),
                       ("roster.edit", "skills:driver->driver,uyghur"),
                       ("roster.edit", "active:1->0")]  # fmt: skip
    assert await refusals(h, ADMIN) == [("denied:roster.S", f"roster:{ident}")]


async def test_the_list_counts_by_category_and_masks_phones(harness: Harness) -> None:
    h = harness
    await file_person(h)
    await h.text(WORKER_XF01, "/me")  # a worker's own file: 网格员 in 先锋社区
    await open_roster(h, ADMIN)
    listing = h.texts(ADMIN)[-1]
    assert "先锋社区 下沉干部：1 人" in listing and "先锋社区 网格员：1 人" in listing, listing
    assert "13912345678" not in listing and "139****5678" in listing
    assert ("view:roster", None, None) in await audit(h, ADMIN)
    await h.choose(ADMIN, "下沉干部")
    assert "共 1 人" in h.texts(ADMIN)[-1]


async def test_a_village_admin_sees_only_their_villages_and_a_resident_nothing(
    harness: Harness,
) -> None:
    h = harness
    await file_person(h, village="石桥村")
    await open_roster(h, VADMIN_XF)
    assert "赵六" not in h.texts(VADMIN_XF)[-1]
    await h.press(VADMIN_XF, "v1:rs:l:sq:*")
    assert REFUSED in h.texts(VADMIN_XF)[-1]
    await h.press(RESIDENT, "v1:rs:l:*:*")
    assert REFUSED in h.texts(RESIDENT)[-1]
    h.request.members[LEADER] = "member"  # in the leadership group
    await h.text(LEADER, "/staff")  # a leader: the roster only
    await h.choose(LEADER, "人员档案")
    assert "赵六" in h.texts(LEADER)[-1]


async def test_me_for_a_worker_makes_their_file_and_changes_are_audited(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/me")
    me = h.texts(WORKER_XF01)[-1]
    assert "我的档案" in me and "网格员" in me and "先锋社区" in me, me
    row = await roster.by_user(h.db, WORKER_XF01)
    assert (row["category"], row["village_id"], row["grid_id"]) == ("grid_worker", "xf", "XF01")
    await h.choose(WORKER_XF01, "忙碌")
    assert (await roster.get(h.db, row["id"]))["availability"] == "busy"
    await h.choose(WORKER_XF01, "修改技能")
    await h.press(WORKER_XF01, "v1:rs:mt:medical")
    assert (await roster.get(h.db, row["id"]))["skills"] == '["medical"]'
    await h.choose(WORKER_XF01, "修改手机号")
    await h.text(WORKER_XF01, "abc")
    assert "这不像是电话号码" in "".join(h.texts(WORKER_XF01)[-2:])  # the reason, and
    assert "请输入您的新手机号" in h.texts(WORKER_XF01)[-1]  # the same question again
    assert (await roster.get(h.db, row["id"]))["phone"] is None
    await h.text(WORKER_XF01, "13700002222")
    assert (await roster.get(h.db, row["id"]))["phone"] == "13700002222"
    log = await audit(h, WORKER_XF01)
    assert ("roster.auto", f"roster:{row['id']}", "grid_worker:xf") in log
    assert ("roster.edit", f"roster:{row['id']}", "availability:available->busy") in log
    assert ("roster.edit", f"roster:{row['id']}", "skills:->medical") in log
    assert ("roster.edit", f"roster:{row['id']}", "phone:changed") in log
    assert "13700002222" not in str(log)


async def test_me_for_someone_not_on_file(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/me")
    assert "还没有人员档案" in h.texts(RESIDENT)[-1]
    assert await roster.by_user(h.db, RESIDENT) is None


async def test_joining_by_invite_files_the_worker(harness: Harness) -> None:
    h = harness
    await bind(h, await make_link(h))  # a worker of 先锋社区第2网格: 王五, 13700001111
    row = await roster.by_user(h.db, INVITED)
    assert (row["name"], row["phone"], row["category"], row["village_id"], row["grid_id"]) == (
        "王五", "13700001111", "grid_worker", "xf", "XF02")  # fmt: skip
    assert [a for a, *_ in await audit(h, INVITED)] == ["staff.bind", "roster.auto"]


async def test_me_asks_the_category_of_staff_without_a_default_one(harness: Harness) -> None:
    h = harness
    await h.text(DISPATCHER, "/me")
    assert "请先选择您的人员类别" in h.texts(DISPATCHER)[-1]
    row = await roster.by_user(h.db, DISPATCHER)
    assert row["category"] is None
    await h.choose(DISPATCHER, "医务人员")
    assert (await roster.get(h.db, row["id"]))["category"] == "medical"
    assert ("roster.edit", f"roster:{row['id']}", "category:->medical") in await audit(
        h, DISPATCHER
    )


async def test_a_malformed_join_link_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await h.text(NEWCOMER, "/start r-short")
    assert "无效或已失效" in h.texts(NEWCOMER)[-1]
    assert await refusals(h, NEWCOMER) == [("denied:roster_join", "join:short")]


async def test_a_join_link_asks_who_opened_it_and_not_me_binds_nothing(harness: Harness) -> None:
    h = harness
    payload = await file_person(h)
    stranger = NEWCOMER + 1  # the link forwarded to the wrong person
    await h.text(stranger, f"/start {payload}")
    asked = parse_html(h.texts(stranger)[-1])[0]
    assert "您是 赵六（139****5678）吗？" in asked, asked
    assert [label for label, _ in h.buttons(stranger)] == ["✅ 是我", "✖️ 不是我"]
    assert await roster.by_user(h.db, stranger) is None
    await h.choose(stranger, "不是我")
    assert "没有加入" in texts(h, stranger)[-1] and "仍然有效" in texts(h, stranger)[-1]
    assert await roster.by_user(h.db, stranger) is None
    await join(h, NEWCOMER, payload)  # still usable by its person
    assert (await roster.by_user(h.db, NEWCOMER))["name"] == "赵六"


async def test_a_join_link_does_not_replace_a_file_an_admin_made(harness: Harness) -> None:
    h = harness
    await join(h, NEWCOMER, await file_person(h))  # 赵六, 下沉干部
    [own] = await roster.select(h.db)
    second = await file_person(h, village="石桥村")  # another 赵六's link, opened by the first
    await h.text(NEWCOMER, f"/start {second}")
    told = h.texts(NEWCOMER)[-1]
    assert "您已经在人员档案中（赵六，下沉干部），如需更正请联系管理员" in told, told
    assert "reply_markup" not in h.request.sent_to(NEWCOMER)[-1].params  # nothing to confirm
    assert (await roster.by_user(h.db, NEWCOMER))["id"] == own["id"]
    assert (await roster.get(h.db, own["id"]))["active"] == 1
    assert await refusals(h, NEWCOMER) == [("denied:roster_join", f"join:{second[2:10]}")]
    await h.text(NEWCOMER + 1, f"/start {second}")  # the link still works for its person
    await h.choose(NEWCOMER + 1, "✅ 是我")
    assert (await roster.by_user(h.db, NEWCOMER + 1))["village_id"] == "sq"


async def test_a_pressed_confirmation_refuses_a_file_an_admin_made_meanwhile(
    harness: Harness,
) -> None:
    h = harness
    first, second = await file_person(h), await file_person(h, village="石桥村")
    await h.text(NEWCOMER, f"/start {second}")  # asked, not yet confirmed
    await join(h, NEWCOMER, first)
    await h.press(NEWCOMER, f"v1:rs:j:{second[2:]}")  # the older question's 是我
    assert "您已经在人员档案中" in texts(h, NEWCOMER)[-1]
    assert (await roster.by_user(h.db, NEWCOMER))["village_id"] == "xf"


async def test_me_chooses_a_category_only_while_there_is_none(harness: Harness) -> None:
    h = harness
    await h.text(DISPATCHER, "/me")
    await h.choose(DISPATCHER, "医务人员")
    row = await roster.by_user(h.db, DISPATCHER)
    await h.press(DISPATCHER, "v1:rs:mc:volunteer")  # out of a category by a forged button
    assert (await roster.get(h.db, row["id"]))["category"] == "medical"
    assert await refusals(h, DISPATCHER) == [("denied:roster.mc", f"roster:{row['id']}")]
    assert "请联系管理员" in h.request.calls[-1].params.get("text", "")


async def test_a_name_with_markup_characters_shows_as_written(harness: Harness) -> None:
    h = harness
    name = "Mary O'Neil <&>"
    async with h.db.write() as conn:
        person = roster.NewPerson(name, None, "cadre", "xf", user_id=NEWCOMER)
        ident = await roster.add(conn, person, ADMIN, h.clock.now())
    await h.text(NEWCOMER, "/me")
    await h.choose(NEWCOMER, "修改技能")
    for what in ("c", "s", "v", "x"):
        await h.press(ADMIN, f"v1:rs:{what}:{ident}")
    await h.choose(ADMIN, "确认停用")
    shown = [visible for chat in (NEWCOMER, ADMIN) for visible in texts(h, chat)]
    assert sum(name in t for t in shown) >= 6, shown
    assert h.literal_markup() == []


def texts(h: Harness, chat: int) -> list[str]:
    """What the chat was shown (sent or edited), as it reads."""
    return [parse_html(c.params["text"])[0] if c.params.get("parse_mode") == "HTML"
            else c.params["text"] for c in h.request.calls
            if c.method in ("sendMessage", "editMessageText")
            and int(c.params["chat_id"]) == chat]  # fmt: skip
