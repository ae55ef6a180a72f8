"""The group's case card counts its contacts along the chain (issue 12): traced, isolated
(arrived at a site), tested (sampled), waiting for a transfer under way — counted from the
stays, tests and transfers of isolation, testing and transfer, and edited in place by
``bot.actions.cases.refresh_card`` whenever one of them changes a count."""

from __future__ import annotations

from datetime import date

from bot.actions import cases
from bot.actions import contacts as service
from bot.domain.contacts import Chain, NewContact
from storage import contacts as store
from tests.harness import Harness
from tests.staff_helpers import seed_report
from tests.test_cases import GROUP, LEADER, report_case
from tests.test_contacts import case_id, group_edits

NOW = "2020-10-26T02:00:00+00:00"


def _new(name: str, phone: str) -> NewContact:
    return NewContact(kind="close", last_exposure=date(2020, 10, 25), name=name, phone=phone,
                      address="石桥村3组", village_id="sq", grid_id="SQ01")  # fmt: skip


async def _stay(conn, room: str, *, contact_id: int | None = None, report_id: int | None = None,
                arrived: bool = False) -> int:  # fmt: skip
    cur = await conn.execute(
        """INSERT INTO stays (site_id, room, contact_id, report_id, person_idx, measure_kind,
               start_date, end_date, state, assigned_by, assigned_at, arrived_at)
           VALUES ('GL01', ?, ?, ?, ?, 'centralized_isolation', '2020-10-26', '2020-11-08',
                   ?, 1, ?, ?)""",
        (room, contact_id, report_id, 0 if report_id else None, "in" if arrived else "assigned",
         NOW, NOW if arrived else None),
    )  # fmt: skip
    return cur.lastrowid


async def test_the_card_counts_the_chain_in_place(harness: Harness) -> None:
    h = harness
    report_id = await seed_report(h)
    ref = (await h.db.fetchone("SELECT ref FROM reports WHERE id = ?", (report_id,)))["ref"]
    await report_case(h)
    cid = await case_id(h)
    entries = [_new("王五", "13900001111"), _new("赵六", "13900002222"),
               _new("钱七", "13900003333"),
               NewContact(kind="close", last_exposure=date(2020, 10, 25), ref=ref)]  # fmt: skip
    async with h.db.write() as conn:
        added = await service.add_all(conn, h.services, cid, entries, LEADER, "领导", "import")
    wang, zhao, qian, li = (o.contact_id for o in added.outcomes)
    assert added.counts() == {"added": 3, "upgraded": 1}
    assert added.outcomes[3].known == ref  # the arrival it was found as
    assert await store.chain(h.db, cid) == Chain(4, 0, 0, 0, unplaced=4)
    async with h.db.write() as conn:
        await cases.refresh_card(h.services, conn, cid)
    await h.drain_outbox()
    # nobody has acted on them yet: said, not hidden behind "待转运 0"
    assert (
        "已隔离 0 人 · 已检测 0 人 · 待转运 0 人 · ⚠️ <b>未安排隔离 4 人</b>" in group_edits(h)[-1]
    )

    async with h.db.write() as conn:
        await conn.execute(
            """INSERT OR IGNORE INTO sites (id, name, address, capacity, state, created_at,
                   updated_at) VALUES ('GL01', '隔离点', '某路1号', 10, 'active', ?, ?)""",
            (NOW, NOW),
        )
        stay = await _stay(conn, "101", contact_id=wang, arrived=True)
        await conn.execute(
            "INSERT INTO stay_tests (stay_id, test_date, sampled_at) VALUES (?, '2020-10-26', ?)",
            (stay, NOW),
        )
        await _stay(conn, "102", contact_id=zhao)  # assigned, waiting for its transfer
        waiting = await _stay(conn, "103", report_id=report_id, arrived=False)  # 李四, as arrival
        cur = await conn.execute(
            """INSERT INTO transfers (ref, site_id, from_address, village_id, state,
                   requested_by, requested_at) VALUES ('XF-ZY-1', 'GL01', 'x', 'xf', ?, 1, ?)""",
            ("requested", NOW),
        )
        await conn.execute("INSERT INTO transfer_people VALUES (?, ?)", (cur.lastrowid, waiting))
        cur = await conn.execute(
            """INSERT INTO transfers (ref, site_id, from_address, village_id, state,
                   requested_by, requested_at) VALUES ('XF-ZY-2', 'GL01', 'x', 'xf', ?, 1, ?)""",
            ("delivered", NOW),
        )
        await conn.execute("INSERT INTO transfer_people VALUES (?, ?)", (cur.lastrowid, stay))
    # 王五 isolated and tested (his transfer delivered); 李四 (the arrival) waits for his
    # transfer; 赵六 is assigned without a transfer; 钱七 is traced only: no room yet.
    assert await store.chain(h.db, cid) == Chain(4, 1, 1, 1, unplaced=1)
    assert qian and li

    async with h.db.write() as conn:
        await cases.refresh_card(h.services, conn, cid)
    await h.drain_outbox()
    card = group_edits(h)[-1]
    assert (
        "已排查 4 人 · 已隔离 1 人 · 已检测 1 人 · 待转运 1 人 · ⚠️ <b>未安排隔离 1 人</b>" in card
    )
    assert sum(1 for t in h.texts(GROUP) if "发现疑似病例" in t) == 1  # edited, not re-posted
