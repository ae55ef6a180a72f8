"""Jinja2 environment: every user-facing word comes from ``templates/<locale>/<module>.j2``.

Each template file is a set of macros, one per message, so both locales can be compared
macro by macro and a message is rendered as ``renderer.text(locale, "arrivals", "ask_name")``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.config import HEALTH_CODE
from bot.domain.masking import MASKS, PHONE_LENGTH, Audience, shown
from bot.domain.places import bilingual
from bot.runtime import assets
from storage import users

TEMPLATES = assets.templates()  # the checkout's templates/, or the wheel's copy
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
# Who the message being rendered is for: the personal-data filters read it, so a template
# never decides masking and a caller that says nothing gets masked data.
_AUDIENCE: ContextVar[Audience] = ContextVar("audience", default=Audience.BROADCAST)


def locale_for(language_code: str | None) -> str:
    """Telegram's language_code to one of our locales; Chinese unless the user speaks English."""
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


async def reader_locales(conn: users.Conn, chats: Iterable[int], default: str) -> dict[int, str]:
    """The locale each chat reads pushed messages in: the user's /language choice; a group,
    or a user who never chose, ``default`` (the configured locale, or the record's own)."""
    chats = list(dict.fromkeys(chats))
    chosen = await users.locales(conn, [chat for chat in chats if chat > 0])
    return {chat: chosen[chat] if chosen.get(chat) in LOCALES else default for chat in chats}


async def reader_locale(conn: users.Conn, chat: int, default: str) -> str:
    return (await reader_locales(conn, [chat], default))[chat]


class Renderer:
    def __init__(self, root: Path = TEMPLATES, *, health_code: str = HEALTH_CODE) -> None:
        self.env = Environment(
            loader=FileSystemLoader(root),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        # {{ phone|phone }}, {{ p.id_number|id }}, {{ name|name }}: shown as the audience may
        self.env.filters.update(
            {kind: partial(_personal, kind) for kind in MASKS}  # type: ignore[arg-type]
        )
        # {{ place|bilingual }}: a Chinese place label with its English name, for English readers
        self.env.filters["bilingual"] = bilingual
        # the town's words every template may use: {{ health_code }} (town.health_code)
        self.env.globals["health_code"] = health_code
        self._module = cache(self._load)
        self._labels = lru_cache(maxsize=1024)(self.text)

    def _load(self, locale: str, module: str) -> Any:
        return self.env.get_template(f"{locale}/{module}.j2").module

    def text(
        self,
        locale: str,
        module: str,
        name: str,
        /,
        audience: Audience = Audience.BROADCAST,
        **params: Any,
    ) -> str:
        """Render one message for ``audience``; surrounding whitespace is trimmed so templates
        stay readable."""
        macro = getattr(self._module(locale, module), name)
        token = _AUDIENCE.set(audience)
        try:
            return str(macro(**params)).strip()
        finally:
            _AUDIENCE.reset(token)

    def label(self, locale: str, module: str, name: str, /, **params: Any) -> str:
        """``text`` of a short text that many messages repeat (a button's label), rendered
        once per locale and parameters: a check-in wave shows everyone the same buttons."""
        return self._labels(locale, module, name, **params)

    def messages(self, locale: str, module: str) -> set[str]:
        """Names of the messages a locale defines in a module (for the locale parity test)."""
        mod = self._module(locale, module)
        return {name for name in dir(mod) if not name.startswith("_")}

    def modules(self, locale: str) -> set[str]:
        return {p.stem for p in (TEMPLATES / locale).glob("*.j2")}


def _personal(kind: str, value: str | None, dial: bool = False) -> str:
    """``{{ phone|phone(dial=True) }}``: a number shown in full is written as Telegram's
    clients link it to a call (+86 138 0013 8000); the Bot API has no tel: links."""
    audience = _AUDIENCE.get()
    text = shown(kind, value, audience)
    if dial and audience is Audience.ENTITLED and text:
        return dialable(text)
    return text


def dialable(phone: str) -> str:
    """A mainland mobile number as +86 138 0013 8000; any other number as it is."""
    if len(phone) == PHONE_LENGTH and phone.isdigit() and phone.startswith("1"):
        return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    return phone
