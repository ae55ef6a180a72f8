"""The people a poster names (二维码张贴): each grid's workers and each village's admins, with
the name and phone they are on file with. SQL only; which poster names whom is decided in
``bot.domain.posters``. Phones are sealed at rest and opened by the connection's row factory."""

from __future__ import annotations

import aiosqlite

from storage.db import Reader, fetch_all


async def contacts(conn: Reader) -> list[aiosqlite.Row]:
    """(role, scope, name, phone) of every active worker (scope: the grid) and village admin
    (scope: the village), in the order they joined: the roster's name and phone where the
    person is on file (kept current by /me and the roster), else what they gave on joining;
    NULL where neither is known (a worker listed in the config who never joined)."""
    return await fetch_all(
        conn,
        """SELECT s.role, s.scope, COALESCE(r.name, s.name) AS name,
                  COALESCE(r.phone, s.phone) AS phone
           FROM staff s LEFT JOIN roster r ON r.user_id = s.user_id AND r.active = 1
           WHERE s.active = 1 AND s.role IN ('worker', 'village_admin')
           ORDER BY s.role, s.scope, s.id""",
    )
