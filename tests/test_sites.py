"""Isolation sites through PTB's real pipeline: seeded from the config, /sites, a leader's
activation order, the manager's checklist, the countdown on the ladder, closing, adding a site
in chat, and a manager of another site refused (and audited)."""

from __future__ import annotations

from bot.actions import sites as site_actions
from bot.domain.roles import Actor, can_manage_site
from bot.runtime.timers import fire_due
from tests.harness import Harness
from tests.staff_helpers import (
    ADMIN,
    LEADER,
    LEADERS_CHAT,
    REFUSED,
    VADMIN_XF,
    denied,
    seed_invited,
    seed_report,
)

MANAGER = 40001  # GL01's manager in the example config
OTHER_MANAGER = 40002  # invited for GL02
ORDERED = "下令启用集中隔离点"
ACTIVE = "已启用，可以接收隔离人员"
OVERDUE = "集中隔离点逾期未启用"


async def later(h: Harness, **delta: float) -> None:
    h.clock.advance(**delta)
    await fire_due(h.services)
    await h.drain_outbox()


async def site_row(h: Harness, site_id: str = "GL01") -> dict:
    row = await h.db.fetchone("SELECT * FROM sites WHERE id = ?", (site_id,))
    return dict(row) if row else {}


async def order(h: Harness, site: str = "先锋镇集中隔离点") -> None:
    """A leader orders the site activated from /sites."""
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/sites")
    await h.choose(LEADER, site)
    await h.choose(LEADER, "下令启用")
    await h.choose(LEADER, "确认下令启用")
    await h.drain_outbox()


async def test_config_sites_are_seeded_with_their_managers(harness: Harness) -> None:
    h = harness
    gl01, gl02 = await site_row(h, "GL01"), await site_row(h, "GL02")
    assert (gl01["state"], gl01["source"], gl01["capacity"], gl01["village_id"]) == (
        "reserved", "config", 10, "xf",
    )  # fmt: skip
    assert '"205"' in gl01["rooms"]
    assert (gl02["capacity"], gl02["rooms"].count(",") + 1) == (18, 20)
    staff = await h.db.fetchone("SELECT * FROM staff WHERE user_id = ?", (MANAGER,))
    assert (staff["role"], staff["scope"], staff["source"]) == ("site_manager", "GL01", "config")


async def test_a_restart_takes_the_config_but_keeps_runtime_state(harness: Harness) -> None:
    h = harness
    await order(h)
    config = h.config
    renamed = config.model_copy(update={"sites": tuple(
        s.model_copy(update={"name": "先锋宾馆隔离点", "state": "active"}) if s.id == "GL01"
        else s.model_copy(update={"state": "active"})
        for s in config.sites
    )})  # fmt: skip
    h.services.config = renamed
    await site_actions.seed(h.services)
    gl01, gl02 = await site_row(h, "GL01"), await site_row(h, "GL02")
    assert (gl01["name"], gl01["state"]) == ("先锋宾馆隔离点", "activating")  # not undone
    assert gl02["state"] == "active" and gl02["activated_at"]  # reserved -> the file's active


async def test_order_checklist_ticks_make_the_site_active(harness: Harness) -> None:
    h = harness
    await order(h)
    assert any(ORDERED in t and "先锋镇集中隔离点" in t for t in h.texts(LEADERS_CHAT))
    assert "已下令启用" in h.texts(LEADER)[-1]
    gl01 = await site_row(h)
    assert gl01["state"] == "activating" and gl01["activation_by"] == LEADER
    escalation = await h.db.fetchone("SELECT * FROM escalations WHERE subject = 'site:GL01'")
    assert (escalation["kind"], escalation["state"], escalation["village_id"]) == (
        "site", "open", "xf",
    )  # fmt: skip
    # the manager's message carries the four checklist buttons
    labels = [label for label, _ in h.buttons(MANAGER)]
    assert labels == ["☑️ 人员到位", "☑️ 物资到位", "☑️ 房间准备", "☑️ 医务人员到位"]
    for item in ("人员到位", "物资到位", "房间准备"):
        await h.choose(MANAGER, item)
        assert (await site_row(h))["state"] == "activating"
    assert [label for label, _ in h.buttons(MANAGER)] == ["☑️ 医务人员到位"]
    await h.choose(MANAGER, "医务人员到位")
    await h.drain_outbox()
    gl01 = await site_row(h)
    assert gl01["state"] == "active" and gl01["activated_at"]
    assert any(ACTIVE in t for t in h.texts(LEADERS_CHAT))
    assert "已启用" in h.texts(MANAGER)[-1]
    escalation = await h.db.fetchone("SELECT state FROM escalations WHERE subject = 'site:GL01'")
    assert escalation["state"] == "handled"
    ticks = await h.db.fetchall("SELECT * FROM site_checklist WHERE site_id = 'GL01'")
    assert all(t["ticked_by"] == MANAGER for t in ticks) and len(ticks) == 4
    # the countdown is over: nothing more reaches the group
    before = len(h.texts(LEADERS_CHAT))
    await later(h, hours=25)
    assert not [t for t in h.texts(LEADERS_CHAT)[before:] if OVERDUE in t]


async def test_an_overdue_activation_reaches_the_group(harness: Harness) -> None:
    h = harness
    await order(h)
    await h.choose(MANAGER, "人员到位")
    await later(h, hours=22, minutes=1)  # two hours before the deadline: the manager
    assert "快到了" in h.texts(MANAGER)[-1]
    assert not [t for t in h.texts(LEADERS_CHAT) if OVERDUE in t]
    await later(h, hours=2)
    overdue = [t for t in h.texts(LEADERS_CHAT) if OVERDUE in t]
    assert len(overdue) == 1 and "1/4" in overdue[0] and "✅ 人员到位" in overdue[0]
    assert any(OVERDUE in t for t in h.texts(VADMIN_XF))  # the site's village


async def test_a_manager_of_another_site_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await seed_invited(h, OTHER_MANAGER, "site_manager", "GL02")
    await order(h)
    await h.press(OTHER_MANAGER, "v1:si:t:GL01:staff")
    assert REFUSED in h.texts(OTHER_MANAGER)[-1]
    row = await h.db.fetchone(
        "SELECT * FROM audit WHERE actor = ? AND action LIKE 'denied:%'", (OTHER_MANAGER,)
    )
    assert (row["action"], row["subject"], row["detail"]) == (
        "denied:site.t", "site:GL01", "site_manager",
    )  # fmt: skip
    ticked = await h.db.fetchone(
        "SELECT COUNT(*) AS n FROM site_checklist WHERE ticked_at IS NOT NULL"
    )
    assert ticked["n"] == 0
    await h.press(OTHER_MANAGER, "v1:si:o:GL01")  # nor may they open its card
    assert await denied(h, OTHER_MANAGER) == ["denied:site.t", "denied:site.o"]
    # their own site's card opens
    await h.text(OTHER_MANAGER, "/sites")
    assert "凤凰村储备隔离点" in h.texts(OTHER_MANAGER)[-1]
    assert "先锋镇集中隔离点" not in h.texts(OTHER_MANAGER)[-1]


def test_can_manage_site_by_scope() -> None:
    manager = Actor(1, site_ids=frozenset({"GL01"}))
    assert can_manage_site(manager, "GL01") and not can_manage_site(manager, "GL02")
    assert can_manage_site(Actor(2, is_admin=True), "GL02")
    assert not can_manage_site(Actor(3, is_leader=True), "GL01")  # leaders order, not tick


async def test_residents_and_workers_cannot_open_sites(harness: Harness) -> None:
    h = harness
    await h.text(30001, "/sites")
    assert REFUSED in h.texts(30001)[-1]
    await h.press(30001, "v1:si:A:GL01")
    assert (await site_row(h))["state"] == "reserved"
    assert await denied(h, 30001) == ["denied:sites", "denied:site.A"]


async def test_a_site_with_people_cannot_be_closed(harness: Harness) -> None:
    h = harness
    report = await seed_report(h)
    async with h.db.write() as conn:
        await conn.execute(
            """INSERT INTO stays (site_id, room, report_id, person_idx, measure_kind, start_date,
                                  end_date, assigned_by, assigned_at)
               VALUES ('GL01', '101', ?, 0, 'centralized_isolation', '2020-10-26',
                       '2020-11-08', ?, '2020-10-26T02:00:00+00:00')""",
            (report, ADMIN),
        )
    await h.text(ADMIN, "/sites")
    assert "在住 1/10 人，空余 9" in h.texts(ADMIN)[-1]
    await h.choose(ADMIN, "先锋镇集中隔离点")
    await h.choose(ADMIN, "关闭隔离点")
    await h.choose(ADMIN, "确认关闭")
    assert "还有 1 人" in h.texts(ADMIN)[-1]
    assert (await site_row(h))["state"] == "reserved"
    async with h.db.write() as conn:
        await conn.execute("UPDATE stays SET state = 'released'")
    await h.press(ADMIN, "v1:si:C:GL01")
    assert "已关闭" in h.texts(ADMIN)[-1]
    assert (await site_row(h))["state"] == "closed"
    await h.press(ADMIN, "v1:si:r:GL01")
    assert (await site_row(h))["state"] == "reserved"


async def test_an_admin_adds_and_changes_a_site_in_chat(harness: Harness) -> None:
    h = harness
    await h.text(ADMIN, "/sites")
    await h.choose(ADMIN, "新增隔离点")
    await h.text(ADMIN, "杉坪村储备隔离点")
    await h.text(ADMIN, "杉坪")
    assert "地址太短" in h.texts(ADMIN)[-2]
    await h.text(ADMIN, "江津区先锋镇杉坪村1号")
    await h.choose(ADMIN, "杉坪村")
    await h.text(ADMIN, "101 101")
    assert "房间 101 写了两次" in h.texts(ADMIN)[-2]
    await h.text(ADMIN, "101-105")
    await h.text(ADMIN, "6")
    assert "不能超过房间数（5 间" in h.texts(ADMIN)[-2]
    await h.choose(ADMIN, "每间一人")
    assert "隔离点已新增" in h.texts(ADMIN)[-1]
    row = await site_row(h, "GLC01")
    assert (row["name"], row["source"], row["capacity"], row["village_id"], row["state"]) == (
        "杉坪村储备隔离点", "chat", 5, "sp", "reserved",
    )  # fmt: skip
    # a change of the rooms that cannot hold the capacity asks it again
    await h.press(ADMIN, "v1:si:e:GLC01")
    await h.choose(ADMIN, "房间")
    await h.text(ADMIN, "3")
    await h.text(ADMIN, "2")
    assert "隔离点已修改" in h.texts(ADMIN)[-1]
    row = await site_row(h, "GLC01")
    assert (row["rooms"], row["capacity"]) == ('["1", "2", "3"]', 2)
    actions = await h.db.fetchall("SELECT action FROM audit WHERE actor = ?", (ADMIN,))
    assert {"site.add", "site.edit"} <= {a["action"] for a in actions}


async def test_a_leader_may_order_but_not_edit(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/sites")
    assert "新增隔离点" not in [label for label, _ in h.buttons(LEADER)][-1]
    await h.press(LEADER, "v1:si:e:GL01")
    assert REFUSED in h.texts(LEADER)[-1]
    assert await denied(h, LEADER) == ["denied:site.e"]


async def test_ordering_twice_is_refused_plainly(harness: Harness) -> None:
    h = harness
    await order(h)
    await h.press(LEADER, "v1:si:A:GL01")
    assert "不是“储备”状态" in h.texts(LEADER)[-1]
    groups = [t for t in h.texts(LEADERS_CHAT) if ORDERED in t]
    assert len(groups) == 1


async def test_a_tick_again_or_before_the_order_changes_nothing(harness: Harness) -> None:
    h = harness
    await h.press(MANAGER, "v1:si:t:GL01:staff")  # not ordered yet
    assert "不在启用中" in h.texts(MANAGER)[-1]
    await order(h)
    await h.choose(MANAGER, "人员到位")
    await h.press(MANAGER, "v1:si:t:GL01:staff")  # the old message's button, pressed again
    assert "已经确认过了" in h.texts(MANAGER)[-1]
    await h.press(MANAGER, "v1:si:t:GL01:beds")  # not an item
    ticks = await h.db.fetchall("SELECT item FROM site_checklist WHERE ticked_at IS NOT NULL")
    assert [t["item"] for t in ticks] == ["staff"]
    actions = await h.db.fetchall("SELECT action FROM audit WHERE action = 'site.tick'")
    assert len(actions) == 1


async def test_the_ladder_stops_by_itself_once_the_site_is_no_longer_activating(
    harness: Harness,
) -> None:
    """The safety net behind the explicit stop: a countdown whose site is active already."""
    h = harness
    await order(h)
    await h.db.write_one("UPDATE sites SET state = 'active' WHERE id = 'GL01'")
    await later(h, hours=25)
    assert not [t for t in h.texts(LEADERS_CHAT) if OVERDUE in t]
    assert not [t for t in h.texts(MANAGER) if "快到了" in t]
    row = await h.db.fetchone("SELECT state FROM escalations WHERE subject = 'site:GL01'")
    assert row["state"] == "handled"
