"""Opening an invite link (``/start inv-<token>``) as a flow: the name, the phone number (typed
or shared), then confirm; the finish binds the invite (bot.actions.staff.bind, one
transaction) and puts the staff commands in the new member's menu. Texts: templates/*/staff.j2."""

from __future__ import annotations

import contextlib

from telegram import BotCommand, BotCommandScopeChat, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.actions import staff
from bot.actions.staff import scope_label
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_name, parse_phone
from bot.domain.roles import (
    ROLE_CREW,
    ROLE_DISPATCHER,
    ROLE_SITE_MANAGER,
    ROLE_UNIT,
    ROLE_VILLAGE_ADMIN,
    ROLE_WORKER,
    TOWN_SCOPE,
    Actor,
)
from bot.domain.steps import Data, Step, Updates, fixed_choices, store_answer
from bot.flows.engine import Cancel, Draft, Engine, Result, user_locale
from bot.flows.table import TableFlow
from bot.runtime.services import Services

STAFF_COMMANDS = ("tasks", "visit", "visits", "monitoring", "case", "isolate", "units", "me")
MANAGER_COMMANDS = ("invite", "staff", "supplies", "export", "posters", "stats")
SITE_COMMANDS = ("sites", "isolation", "samples", "supplies")  # a site manager's
TRANSFER_COMMANDS = ("transfers", "vehicles")  # a dispatcher's, a vehicle crew's
# A key unit's liaison's (联络员): each part of issue 13 adds its command here.
UNIT_COMMANDS = ("units", "register", "qrcode", "unitreport", "import_arrivals")
# A leader's (a member of the leadership group the config does not name an admin: the admins'
# menu is bot/app.py's), set in their chat when /help recognises them.
LEADER_COMMANDS = ("stats", "export", "posters", "mobilise", "supplies", "units", "staff")

STEPS = {
    step.key: step
    for step in (
        Step("name", text=store_answer("name", parse_name)),
        Step("phone", text=store_answer("phone", parse_phone), contact=True),
        Step("confirm", choices=fixed_choices(("yes", "no")), per_row=2),
    )
}
NEXT = {"name": "phone", "phone": "confirm"}  # confirmed: the invite is bound
LABELS = {"yes": "btn_confirm", "no": "btn_cancel"}


class InviteFlow(TableFlow):
    name = "invite"
    prefix = "ib"  # v1:ib:<token>:<step>:<value>
    module = "staff"
    steps = STEPS
    first_step = "name"

    def __init__(
        self,
        services: Services,
        engine: Engine,
        resident_commands: tuple[str, ...],
        commands: tuple[str, ...] = STAFF_COMMANDS,
    ) -> None:
        super().__init__(services, engine)
        self.resident_commands = resident_commands
        self.commands = commands
        self._leader_menus: set[int] = set()  # the leaders whose menu this process has set

    async def begin(self, update: Update, token: str) -> None:
        """Say what the invite is for and ask the name; an unusable invite is refused."""
        user, chat = update.effective_user, update.effective_chat
        locale = await user_locale(self.s, user)
        invite = await staff.usable_invite(self.s, token)
        if invite is None:  # unknown, used, expired or revoked: one answer that says not which
            await staff.refuse_invite(self.s, user.id, token)
            await self._say_invalid(chat.id, locale)
            return
        scope = scope_label(self.s, invite["role"], invite["scope"],
                            await staff.scope_names(self.s))  # fmt: skip
        await chat.send_message(
            self.s.text(locale, "staff", "intro", role=invite["role"], scope=scope),
            parse_mode=ParseMode.HTML,
        )
        await self.start(update, self.first_step, {"token": token})

    async def _say_invalid(self, chat_id: int, locale: str) -> None:
        text = self.s.text(locale, "staff", "invalid")
        await self.s.replies.send(chat_id, text, html=False, reply_markup=ReplyKeyboardRemove())

    # -- rules -----------------------------------------------------------------------------

    async def on_button(self, update: Update, draft: Draft, value: str) -> Result:
        if draft.step == "confirm" and value == "no":
            return Cancel()  # the runtime drops the draft: the invite stays unused
        return await super().on_button(update, draft, value)

    def choose(self, step: Step, value: str, data: Data) -> Updates | Invalid:
        return {} if value in step.values(data, None) else Invalid("choice_stale")

    def advance(self, step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        return NEXT.get(step), {**data, **updates}

    # -- texts -----------------------------------------------------------------------------

    def label(self, draft: Draft, step: str, value: str) -> str:
        return self.s.text(draft.locale, "staff", LABELS[value])

    def answered(self, draft: Draft, value: str) -> str | None:
        return None  # the confirmation only loses its buttons

    # -- bind ------------------------------------------------------------------------------

    async def finish(self, update: Update, draft: Draft) -> None:
        bound = await staff.bind(self.s, draft.user_id, draft.token, draft.data)
        if bound is False:
            return  # a double tap: bound already
        if bound is None:  # used, expired or revoked meanwhile
            await self._say_invalid(draft.chat_id, draft.locale)
            return
        held = await staff.scopes(self.s, draft.user_id)
        text = self.s.text(
            draft.locale, "staff", "welcome", name=draft.data["name"],
            grids=[scope_label(self.s, ROLE_WORKER, g) for g in sorted(held.grids)],
            villages=[scope_label(self.s, ROLE_VILLAGE_ADMIN, v) for v in sorted(held.villages)],
            others=self._others(held, await staff.scope_names(self.s)),
        )  # fmt: skip
        await self.s.replies.send(draft.chat_id, text, reply_markup=ReplyKeyboardRemove())
        self._leader_menus.discard(draft.user_id)  # a leader's next /start adds theirs again
        await self._set_menu(draft.chat_id, draft.locale, self._menu(held))

    def _others(self, held: staff.Scopes, names: staff.ScopeNames) -> list[tuple[str, str]]:
        """The isolation, transfer and unit roles held, as (role, scope by name)."""
        scoped = [*((ROLE_SITE_MANAGER, s) for s in sorted(held.sites)),
                  *((ROLE_DISPATCHER, TOWN_SCOPE) for _ in range(held.dispatcher)),
                  *((ROLE_CREW, v) for v in sorted(held.vehicles)),
                  *((ROLE_UNIT, u) for u in sorted(held.units))]  # fmt: skip
        return [(role, scope_label(self.s, role, scope, names)) for role, scope in scoped]

    async def leader_menu(self, actor: Actor, chat_id: int, locale: str) -> None:
        """A leader's command menu in their private chat: the leaders' commands, their staff
        roles' if any, the residents'; once per process (the admins' is set at start)."""
        if not actor.is_leader or actor.is_admin or actor.user_id in self._leader_menus:
            return
        self._leader_menus.add(actor.user_id)
        held = await staff.scopes(self.s, actor.user_id)
        await self._set_menu(chat_id, locale, (*LEADER_COMMANDS, *self._menu(held)))

    def _menu(self, held: staff.Scopes) -> tuple[str, ...]:
        """The commands of the staff roles held, then the residents'."""
        return (*(self.commands if held.grid_staff else ()),  # not a site manager's, a crew's
                *(MANAGER_COMMANDS if held.villages else ()),
                *(SITE_COMMANDS if held.sites else ()),
                *(TRANSFER_COMMANDS if held.dispatcher or held.vehicles else ()),
                *(UNIT_COMMANDS if held.units else ()),
                *self.resident_commands)  # fmt: skip

    async def _set_menu(self, chat_id: int, locale: str, names: tuple[str, ...]) -> None:
        """Show ``names`` in this chat's command menu (best effort)."""
        # once each: a worker may be a liaison too
        commands = [
            BotCommand(c, self.s.text(locale, "start", f"cmd_{c}")) for c in dict.fromkeys(names)
        ]
        with contextlib.suppress(TelegramError):
            await self.s.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
