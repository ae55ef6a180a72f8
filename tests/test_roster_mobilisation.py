"""A person on an open call (紧急动员) who binds a join link an admin made for them: their
automatic file is retired, and the call moves with them, so the reminder still reaches them and
their 到岗 is taken."""

from __future__ import annotations

from datetime import timedelta

from storage import roster
from storage.roster import NewPerson
from tests.harness import Harness
from tests.staff_helpers import ADMIN
from tests.test_mobilisation import PHONE, answers, calls, data, file, later, mobilise, texts

ZHAO = 61004  # 赵四: on the call with the file made when they joined
TOKEN = "Zhao4-join-token-0000"


async def test_a_called_person_who_binds_a_join_link_still_answers(harness: Harness) -> None:
    h = harness
    ids = await file(h)
    mobilisation_id = await mobilise(h)
    now = h.clock.now()
    async with h.db.write() as conn:
        person = NewPerson("赵四", PHONE, "cadre", "sq")
        expires = now + timedelta(hours=72)
        filed = await roster.add(conn, person, ADMIN, now, token=TOKEN, token_expires_at=expires)
    await h.text(ZHAO, f"/start r-{TOKEN}")
    await h.choose(ZHAO, "✅ 是我")
    assert (await roster.by_user(h.db, ZHAO))["id"] == filed
    assert (await roster.get(h.db, ids["赵四"]))["active"] == 0
    await later(h, minutes=10)  # [mobilisation] remind_minutes: the silent are reminded
    assert "动员提醒" in texts(h, ZHAO)[-1]
    await h.press(ZHAO, data(mobilisation_id, "a"))
    assert answers(h)[-1] == "已记录：已到岗。"
    rows = await h.db.fetchall(
        "SELECT roster_id, state FROM mobilisation_calls WHERE mobilisation_id = ? AND "
        "roster_id IN (?, ?)",
        (mobilisation_id, filed, ids["赵四"]),
    )
    assert [tuple(r) for r in rows] == [(filed, "arrived")]
    assert (await calls(h, mobilisation_id))["赵四"]["arrived_at"] is not None
