"""Everyone who opened the bot: first seen, and the language they chose."""

from __future__ import annotations

from bot.runtime.services import Services
from storage import drafts, users


async def remember(services: Services, user_id: int) -> None:
    """/start: the user is known from now on (first seen kept)."""
    await users.remember(services.db, user_id, services.now())


async def choose_locale(services: Services, user_id: int, locale: str) -> None:
    """/language: the user's locale, and their open conversation's with it."""
    async with services.db.write() as conn:
        await users.set_locale(conn, user_id, locale, services.now())
        await drafts.set_locale(conn, user_id, locale)
