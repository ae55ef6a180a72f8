"""Role and scope checked again when an action commits (issue 11, holes): leaders read, the
grid's staff act, a role lost mid-conversation submits nothing (told why, audited, nothing
saved), config-listed staff are not revoked from chat, a village admin does not revoke a peer;
and a lookup by reference answers the same for someone else's record as for no record."""

from __future__ import annotations

from tests.harness import Harness
from tests.staff_helpers import (
    ADMIN,
    LEADER,
    LEADERS_CHAT,
    REFUSED,
    VADMIN_XF,
    WORKER_XF01,
    denied,
    seed_invited,
)
from tests.test_arrival_flow import answer_to_summary, submit
from tests.test_cases import ID_NUMBER, report_case
from tests.test_checkins import OTHER_WORKER, REF, monitored
from tests.test_tips import TIPSTER, press_tip, send_tip

NOT_SUBMITTED = "没有提交"


async def revoke(h: Harness, user: int) -> None:
    """The user's staff roles revoked (by an admin, meanwhile)."""
    await h.db.write_one("UPDATE staff SET active = 0 WHERE user_id = ?", (user,))


async def test_a_worker_reports_a_case_only_in_his_own_grids(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/case")
    await h.choose(WORKER_XF01, "疑似病例")
    await h.choose(WORKER_XF01, "刚刚发现")
    await h.choose(WORKER_XF01, "新登记人员")
    await h.text(WORKER_XF01, "张三丰")
    await h.text(WORKER_XF01, "138 1234 5678")
    await h.text(WORKER_XF01, ID_NUMBER)
    await h.choose(WORKER_XF01, "石桥村")  # another village's grid
    await h.choose(WORKER_XF01, "石桥村第1网格")
    await h.text(WORKER_XF01, "石桥村5组")
    await h.text(WORKER_XF01, "不发送定位")
    await h.text(WORKER_XF01, "已居家隔离")
    await h.choose(WORKER_XF01, "确认上报")
    await h.drain_outbox()
    assert NOT_SUBMITTED in h.texts(WORKER_XF01)[-1]
    assert await h.db.fetchone("SELECT * FROM cases") is None
    assert await h.db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (WORKER_XF01,)) is None
    assert h.texts(LEADERS_CHAT) == []
    assert "denied:case.report" in await denied(h, WORKER_XF01)


async def test_a_revoked_workers_open_case_draft_does_not_submit(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/case")  # opened while a worker
    assert await h.db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (WORKER_XF01,))
    await revoke(h, WORKER_XF01)
    await report_case_rest(h)
    assert NOT_SUBMITTED in h.texts(WORKER_XF01)[-1]
    assert await h.db.fetchone("SELECT * FROM cases") is None
    assert h.texts(LEADERS_CHAT) == []
    assert "denied:case.report" in await denied(h, WORKER_XF01)


async def report_case_rest(h: Harness) -> None:
    """The answers of ``report_case`` after /case."""
    user = WORKER_XF01
    await h.choose(user, "疑似病例")
    await h.choose(user, "刚刚发现")
    await h.choose(user, "新登记人员")
    await h.text(user, "张三丰")
    await h.text(user, "138 1234 5678")
    await h.text(user, ID_NUMBER)
    await h.choose(user, "先锋社区")
    await h.choose(user, "先锋社区第1网格")
    await h.text(user, "幸福小区3栋2单元501")
    await h.text(user, "不发送定位")
    await h.text(user, "已居家隔离")
    await h.choose(user, "确认上报")
    await h.drain_outbox()


async def test_a_case_in_his_own_grid_is_reported(harness: Harness) -> None:
    h = harness
    await report_case(h, WORKER_XF01)
    assert await h.db.fetchone("SELECT * FROM cases") is not None


async def test_a_revoked_worker_does_not_close_a_tip_by_registering(harness: Harness) -> None:
    h = harness
    await send_tip(h)
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "情况属实")
    await press_tip(h, WORKER_XF01, "现场登记")
    await answer_to_summary(h, WORKER_XF01, name="李四", village=None, grid=None)
    await revoke(h, WORKER_XF01)
    await submit(h, WORKER_XF01)
    assert NOT_SUBMITTED in h.texts(WORKER_XF01)[-1]
    assert await h.db.fetchone("SELECT * FROM reports") is None
    assert (await h.db.fetchone("SELECT state FROM tips"))["state"] == "open"
    assert "denied:tip.r" in await denied(h, WORKER_XF01)
    await h.drain_outbox()
    assert not any("已核查完毕" in t for t in h.texts(TIPSTER))


async def test_a_leader_reads_a_monitoring_but_does_not_change_it(harness: Harness) -> None:
    h = harness
    h.request.members[LEADER] = "member"
    monitoring = await monitored(h)
    before = await h.db.fetchone("SELECT end_date, state FROM monitoring")
    before_samples = await h.db.fetchall("SELECT test_date, sampled_at, result FROM test_samples")
    await h.text(LEADER, f"/monitor {REF}")
    assert REF in h.texts(LEADER)[-1]  # leaders read
    assert h.buttons(LEADER) == []  # and the card offers them nothing to press
    for data in (f"v1:mo:{monitoring}:ext:3", f"v1:mo:{monitoring}:rpos:20201025",
                 f"v1:mo:{monitoring}:sample:20201031", f"v1:mo:{monitoring}:stop:0"):  # fmt: skip
        await h.press(LEADER, data)
        assert "只有该网格的网格员" in h.texts(LEADER)[-1]
    assert await h.db.fetchone("SELECT end_date, state FROM monitoring") == before
    samples = await h.db.fetchall("SELECT test_date, sampled_at, result FROM test_samples")
    assert [tuple(r) for r in samples] == [tuple(r) for r in before_samples]
    assert await h.db.fetchone("SELECT * FROM cases") is None
    assert len(await denied(h, LEADER)) == 4


async def test_a_revoked_worker_does_not_stop_a_monitoring_by_his_reason(harness: Harness) -> None:
    h = harness
    await monitored(h)
    await h.text(WORKER_XF01, f"/monitor {REF}")
    await h.choose(WORKER_XF01, "结束监测")
    await revoke(h, WORKER_XF01)
    await h.text(WORKER_XF01, "已转运至集中隔离点")
    assert NOT_SUBMITTED in h.texts(WORKER_XF01)[-1]
    assert (await h.db.fetchone("SELECT state FROM monitoring"))["state"] == "active"
    assert "denied:monitor.stop" in await denied(h, WORKER_XF01)


async def test_monitor_answers_the_same_for_someone_elses_record_and_no_record(
    harness: Harness,
) -> None:
    h = harness
    await monitored(h)
    await h.text(OTHER_WORKER, f"/monitor {REF}")
    other = h.texts(OTHER_WORKER)[-1]
    unknown_ref = REF[:-1] + "9"
    await h.text(OTHER_WORKER, f"/monitor {unknown_ref}")
    unknown = h.texts(OTHER_WORKER)[-1]
    assert other.replace(REF, "?") == unknown.replace(unknown_ref, "?")
    assert "张三" not in other


async def config_staff(h: Harness, user: int) -> int:
    sql = "SELECT id FROM staff WHERE user_id = ? AND source = 'config'"
    return (await h.db.fetchone(sql, (user,)))["id"]


async def test_config_staff_and_peer_village_admins_are_not_revoked_from_chat(
    harness: Harness,
) -> None:
    h = harness
    peer = await seed_invited(h, 20009, "village_admin", "xf")  # invited into VADMIN_XF's village
    config_vadmin, config_worker = [
        await config_staff(h, user) for user in (VADMIN_XF, WORKER_XF01)
    ]
    for user, staff_id in ((VADMIN_XF, peer), (20009, config_vadmin), (ADMIN, config_vadmin),
                           (ADMIN, config_worker), (VADMIN_XF, config_worker)):  # fmt: skip
        for kind in ("r", "R", "m"):
            await h.press(user, f"v1:st:{kind}:{staff_id}")
            assert REFUSED in h.texts(user)[-1], (user, staff_id, kind)
    active = await h.db.fetchall("SELECT id FROM staff WHERE active = 1")
    assert {peer, config_vadmin, config_worker} <= {r["id"] for r in active}
    await h.press(ADMIN, f"v1:st:R:{peer}")  # an invited village admin: the admin may
    assert (await h.db.fetchone("SELECT active FROM staff WHERE id = ?", (peer,)))[0] == 0


async def test_a_monitoring_button_answers_the_same_for_someone_elses_and_none(
    harness: Harness,
) -> None:
    h = harness
    monitoring = await monitored(h)
    said = []
    for target in (monitoring, 99999):
        calls = await h.press(OTHER_WORKER, f"v1:mo:{target}:ext:3")
        said.append(
            [(c.method, c.params.get("text")) for c in calls if c.method != "getChatMember"]
        )
    assert said[0] == said[1] and "只有该网格的网格员" in str(said[0])
    assert len(await denied(h, OTHER_WORKER)) == 2
