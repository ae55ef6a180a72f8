"""Staff actions: invites made, bound and revoked; each one transaction with its audit row."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import roles
from bot.runtime.services import Services
from storage import audit, staff

INVITE_HOURS = 72


async def make_invite(
    services: Services, role: str, scope: str, created_by: int | None, hours: float = INVITE_HOURS
) -> str:
    """Store a new single-use invite (with its audit row); returns its token."""
    token = roles.new_invite_token()
    now = services.now()
    async with services.db.write() as conn:
        await staff.create_invite(
            conn, token, role, scope, created_by, now, now + timedelta(hours=hours)
        )
        await audit.record(
            conn, now, created_by, "invite.create", f"invite:{token[:8]}", f"{role}:{scope}"
        )
    return token
