"""Access: a refusal is recorded (who, what, which record) whether or not the record exists."""

from __future__ import annotations

from bot.domain.roles import Actor
from bot.runtime.services import Services
from storage import audit


async def deny(services: Services, actor: Actor, what: str, subject: str | None) -> None:
    async with services.db.write() as conn:
        await audit.record(
            conn, services.now(), actor.user_id, f"denied:{what}", subject, actor.role
        )
