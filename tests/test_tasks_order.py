"""/tasks lists the highest risk first (the order of bot.domain.risk.RISK_CATEGORIES), then
the oldest first; a category the code does not know comes before all (fail safe)."""

from __future__ import annotations

from storage import inbox
from tests.harness import Harness
from tests.staff_helpers import WORKER_XF01, seed_report

# (name, risk), in the order they were registered, a minute apart
SEEDED = [
    ("甲一", "low"),
    ("乙二", "medium_risk"),
    ("丙三", "symptomatic"),
    ("丁四", "low"),
    ("戊五", "high_risk"),
    ("己六", "no_such_category"),
    ("庚七", "symptomatic"),
    ("辛八", "yellow_code"),
    ("壬九", "overseas"),
]
# Known answer, written by hand: not derived from the code's own ranking.
EXPECTED = ["己六", "丙三", "庚七", "壬九", "戊五", "乙二", "辛八", "甲一", "丁四"]


async def seed(h: Harness) -> None:
    for index, (name, risk) in enumerate(SEEDED):
        phone = f"139000000{index:02d}"
        report_id = await seed_report(h, name=name, phone=phone, id_number=f"ID{index}")
        async with h.db.write() as conn:
            await conn.execute("UPDATE reports SET risk = ? WHERE id = ?", (risk, report_id))
        h.clock.advance(minutes=1)


async def test_pending_reports_come_highest_risk_first_then_oldest(harness: Harness) -> None:
    await seed(harness)
    rows = await inbox.pending(harness.db, ["XF01"])
    assert [r["person_name"] for r in rows] == EXPECTED


async def test_the_tasks_buttons_follow_that_order(harness: Harness) -> None:
    h = harness
    await seed(h)
    await h.text(WORKER_XF01, "/tasks")
    labels = [label for label, _ in h.buttons(WORKER_XF01)]
    assert [next(n for n in EXPECTED if n in label) for label in labels] == EXPECTED
    assert "风险高的排在前面" in h.texts(WORKER_XF01)[-1]


async def test_the_limit_keeps_the_most_serious(harness: Harness) -> None:
    await seed(harness)
    rows = await inbox.pending(harness.db, ["XF01"], limit=3)
    assert [r["person_name"] for r in rows] == EXPECTED[:3]
