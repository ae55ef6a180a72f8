"""Release (解除) of isolation stays: the stay with its person and where to reach them, and
the writes of a release or an extension. SQL only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import aiosqlite

from storage.db import Reader, fetch_one
from storage.outbox import iso

_ACTIVE = "state IN ('assigned', 'in')"


async def chat(conn: Reader, stay_id: int) -> aiosqlite.Row | None:
    """The private chat (``chat_id``) and language (``locale``) of the stay's person where
    known: a contact's own; the reporter's for a report's main person (a companion, a case:
    none, their certificate goes to the site's managers to hand over)."""
    return await fetch_one(
        conn,
        """SELECT COALESCE(c.chat_id, CASE WHEN s.person_idx = 0 THEN r.reporter_chat_id END)
                      AS chat_id,
                  COALESCE(c.locale, r.locale) AS locale
           FROM stays s
           LEFT JOIN contacts c ON c.id = s.contact_id
           LEFT JOIN reports r ON r.id = s.report_id
           WHERE s.id = ?""",
        (stay_id,),
    )


async def release(conn: aiosqlite.Connection, stay_id: int, by: int | None, now: datetime) -> bool:
    """The stay released (its room free) and its certificate queued; a contact's state
    'released'. False when it no longer held its room (released or ended meanwhile)."""
    stamp = iso(now)
    cur = await conn.execute(
        f"""UPDATE stays SET state = 'released', released_by = ?, released_at = ?,
                certificate_at = ? WHERE id = ? AND {_ACTIVE}""",
        (by, stamp, stamp, stay_id),
    )
    if cur.rowcount == 0:
        return False
    await conn.execute(
        """UPDATE contacts SET state = 'released', updated_at = ?
           WHERE id = (SELECT contact_id FROM stays WHERE id = ?)
                 AND state IN ('traced', 'isolating')""",
        (stamp, stay_id),
    )
    return True


async def extend(conn: aiosqlite.Connection, stay_id: int, retest: date,
                 test_days: Sequence[int]) -> None:  # fmt: skip
    """The stay's final test moved to the make-up day ``retest``, which becomes the stay's last
    day (a new generation of its timers), its test days ``test_days`` (day numbers): the
    caller plans its tests again (bot.actions.samples.plan)."""
    await conn.execute(
        "UPDATE stays SET end_date = ?, test_days = ?, gen = gen + 1 WHERE id = ?",
        (retest.isoformat(), json.dumps(list(test_days)), stay_id),
    )
