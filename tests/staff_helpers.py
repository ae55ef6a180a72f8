"""Shared by the staff tests: the people of the example config, and records made directly in
storage (the arrival flow itself is tested in test_arrival_*)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.records import PersonRecord, ReportRecord
from storage import arrivals, staff, visits
from tests.harness import Harness

ADMIN = 10001
LEADER = 50001  # a member of the leadership group chat
RESIDENT = 424242
WORKER_XF01 = 30001  # 先锋社区 XF01
WORKER_XF02 = 30002
WORKER_SQ01 = 30003  # 石桥村 SQ01
VADMIN_XF = 20001
VADMIN_SQ = 20002
LEADERS_CHAT = -1001234567890
REFUSED = "您没有权限进行这项操作"


async def seed_report(
    h: Harness,
    grid: str = "XF01",
    village: str = "xf",
    *,
    name: str = "李四",
    phone: str = "13912345678",
    id_number: str = "11010519491231002X",
    alert: bool = False,
) -> int:
    record = ReportRecord(
        draft_token=f"seed-{name}-{grid}",
        reporter_user_id=RESIDENT,
        reporter_chat_id=RESIDENT,
        locale="zh_CN",
        relation="self",
        village_id=village,
        grid_id=grid,
        address="先锋街12号2单元301",
        arrival_date=date(2020, 10, 25),
        category="sanfan",
        risk="overseas" if alert else "low",
        alert=alert,
        measure_kind="home_monitoring",
        measure_start=date(2020, 10, 25),
        measure_end=date(2020, 11, 8),
        data={"health_code": "green", "test": "no", "temperature": 36.5, "trip": "G1234"},
        people=(PersonRecord(name, phone, "id", id_number),),
    )
    now = h.clock.now()
    async with h.db.write() as conn:
        stored = await arrivals.store(
            conn,
            record,
            town_code="XF",
            local_today=date(2020, 10, 26),
            lookback_since=now,
            now=now,
        )
    return stored.id


async def seed_visit(h: Harness, worker: int = WORKER_XF01, grid: str = "XF01") -> int:
    async with h.db.write() as conn:
        visit_id = await visits.store(
            conn,
            draft_token=f"seed-{worker}-{grid}",
            grid_id=grid,
            address="先锋街1号",
            worker=worker,
            now=h.clock.now(),
            refused=False,
            people=2,
            temperatures=[36.5],
            fever=False,
            arrivals=True,
            note=None,
        )
    assert visit_id is not None
    return visit_id


async def denied(h: Harness, user: int) -> list[str]:
    rows = await h.db.fetchall(
        "SELECT action FROM audit WHERE actor = ? AND action LIKE 'denied:%'", (user,)
    )
    return [r["action"] for r in rows]


async def audit_actions(h: Harness, user: int) -> list[str]:
    rows = await h.db.fetchall("SELECT action FROM audit WHERE actor = ? ORDER BY id", (user,))
    return [r["action"] for r in rows]


async def seed_invited(h: Harness, user: int, role: str = "worker", scope: str = "XF01") -> int:
    """A staff member who joined by an invite link (not listed in the config): their id."""
    now = h.clock.now()
    token = f"seed-invite-{user}-{scope}"
    async with h.db.write() as conn:
        await staff.create_invite(conn, token, role, scope, ADMIN, now, now + timedelta(days=1))
        await staff.use_invite(conn, token, user, "赵六", "13800001111", now)
    row = await h.db.fetchone(
        "SELECT id FROM staff WHERE user_id = ? AND scope = ? AND active = 1", (user, scope)
    )
    return row["id"]
