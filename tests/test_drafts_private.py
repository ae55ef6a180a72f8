"""A conversation lives in its person's private chat (issue 11, holes): a draft a group held
before that rule is moved to the person's private chat by migration 026, and the engine never
opens one in a group even when asked to."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import drafts
from storage.db import Database, migrations

GROUP, RESIDENT = -100500, 4242
T0 = datetime(2020, 11, 20, 1, 0, tzinfo=UTC)


async def test_a_draft_left_in_a_group_moves_to_the_private_chat(tmp_path) -> None:
    db = await Database.open(tmp_path / "d.sqlite3")
    try:
        for user, chat in ((RESIDENT, GROUP), (RESIDENT + 1, RESIDENT + 1)):
            await drafts.put(db, drafts.new(user, chat, "zh_CN", "name", {}, 1, flow="arrival"), T0)
        async with db.write() as conn:  # migration 026 on the drafts stored before it
            await conn.execute(dict(migrations())[26])
        rows = await db.fetchall("SELECT user_id, chat_id FROM drafts ORDER BY user_id")
        assert [tuple(r) for r in rows] == [(RESIDENT, RESIDENT), (RESIDENT + 1, RESIDENT + 1)]
    finally:
        await db.close()
