"""Who is who (issue 10): the same ID number is the same person, a different one never is.
Through the bot: a resident submits, and what is stored and what the grid worker reads."""

from __future__ import annotations

import json

from tests.harness import Harness
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import ID_NUMBER, WORKER_XF01, answer_to_summary, submit
from tests.test_arrival_same_person_no_id import optional_ids, register

__all__ = ["optional_ids"]  # the fixture, shared with the tests of the rule without ID numbers

LI = 616161  # 李四: first a companion of 张三, later reporting for himself
UPDATED = "您近期已经登记过"


async def people(h: Harness) -> list[tuple]:
    rows = await h.db.fetchall(
        """SELECT r.ref, r.version, p.idx, p.name, p.phone, p.id_number, s.ref AS own
           FROM reports r JOIN persons p ON p.report_id = r.id
           LEFT JOIN reports s ON s.id = p.self_report_id ORDER BY r.id, p.idx"""
    )
    return [tuple(r) for r in rows]


async def audits(h: Harness) -> list[tuple]:
    rows = await h.db.fetchall("SELECT action, detail FROM audit WHERE action LIKE 'report.%'")
    return [tuple(r) for r in rows]


async def test_same_name_and_phone_with_another_id_number_is_kept_apart(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    await h.drain_outbox()
    h.clock.advance(days=1)
    await answer_to_summary(h, id_number=LI_ID)  # 张三, same phone, another ID number
    receipt = await submit(h)
    assert "XF-20201027-0001" in receipt and UPDATED not in receipt
    assert await people(h) == [
        ("XF-20201026-0001", 1, 0, "张三", "13812345678", ID_NUMBER, None),
        ("XF-20201027-0001", 1, 0, "张三", "13812345678", LI_ID, None),
    ]
    assert await h.db.fetchone("SELECT * FROM report_history") is None
    await h.drain_outbox()
    notice = h.texts(WORKER_XF01)[-1]
    assert "XF-20201027-0001" in notice and "请核实身份" in notice
    assert "<code>XF-20201026-0001</code> 中有姓名手机相同、证件号不同" in notice
    assert ("report.identity_conflict", "XF-20201026-0001") in await audits(h)


async def test_the_same_id_number_under_another_name_is_kept_apart(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await submit(h)
    await answer_to_summary(h, name="张山", phone="13911112222")  # a mistyped name, or ID
    receipt = await submit(h)
    assert "XF-20201026-0002" in receipt and UPDATED not in receipt
    assert [p[:2] for p in await people(h)] == [("XF-20201026-0001", 1), ("XF-20201026-0002", 1)]
    await h.drain_outbox()
    assert "请核实身份" in h.texts(WORKER_XF01)[-1]


async def test_a_companion_reporting_for_himself_is_linked_not_duplicated(
    harness: Harness,
) -> None:
    h = harness
    await answer_to_summary(h, companions=[("李四", LI_ID, None), ("王五", WANG_ID, None)])
    await submit(h)
    await h.drain_outbox()
    h.clock.advance(hours=5)
    await answer_to_summary(h, user=LI, name="李四", phone="13900001111", id_number=LI_ID)
    receipt = await submit(h, LI)
    assert "XF-20201026-0002" in receipt
    assert await people(h) == [
        ("XF-20201026-0001", 1, 0, "张三", "13812345678", ID_NUMBER, None),
        ("XF-20201026-0001", 1, 1, "李四", None, LI_ID, "XF-20201026-0002"),
        ("XF-20201026-0001", 1, 2, "王五", None, WANG_ID, None),
        ("XF-20201026-0002", 1, 0, "李四", "13900001111", LI_ID, None),
    ]
    await h.drain_outbox()
    notice = h.texts(WORKER_XF01)[-1]
    assert "XF-20201026-0002" in notice
    assert "此人已作为同行人员登记在 <code>XF-20201026-0001</code> 中" in notice
    assert ("report.companion_link", "XF-20201026-0001") in await audits(h)

    # 张三 reports again with his companions: the link stays; 李四 again: his own report
    h.clock.advance(hours=5)
    await answer_to_summary(h, companions=[("李四", LI_ID, None), ("王五", WANG_ID, None)])
    assert UPDATED in await submit(h)
    await answer_to_summary(h, user=LI, name="李四", phone="13900001111", id_number=LI_ID)
    assert UPDATED in await submit(h, LI)
    assert [(p[0], p[1], p[3], p[6]) for p in await people(h)] == [
        ("XF-20201026-0001", 2, "张三", None),
        ("XF-20201026-0001", 2, "李四", "XF-20201026-0002"),
        ("XF-20201026-0001", 2, "王五", None),
        ("XF-20201026-0002", 2, "李四", None),
    ]


async def test_a_report_without_the_id_number_keeps_the_one_given_before(
    optional_ids: Harness,
) -> None:
    """Nothing dropped silently: the ID number given before stays on the person; the earlier
    version stays in the history."""
    h = optional_ids
    await register(h, with_id=ID_NUMBER)
    h.clock.advance(days=1)
    assert UPDATED in await register(h, address="先锋街8号")  # 暂不填写 this time
    assert await people(h) == [("XF-20201026-0001", 2, 0, "张三", "13812345678", ID_NUMBER, None)]
    (history,) = await h.db.fetchall("SELECT persons FROM report_history")
    assert json.loads(history["persons"])[0]["id_number"] == ID_NUMBER
