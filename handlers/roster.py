"""Staff filed by category (人员档案): /staff's roster (the list by category and village with
counts, a person's card and its edits, the 新建档案 form), the join link ``/start r-<token>``,
and /me (one's own file: availability in one tap, skills, phone). Telegram I/O only; who may
do what: bot.domain.roster."""

from __future__ import annotations

from functools import partial
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import access, users
from bot.actions import roster as service
from bot.domain import roster as domain
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.roles import Actor
from bot.flows.engine import Engine
from bot.flows.roster import PhoneFlow, RosterFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale

FLOW = service.FLOW  # v1:rs:<what>:...
ALL = "*"  # a filter not set (callback data)
LISTED = 30  # people named on one screen; more: filter by category or village


def entry_row(services: Services, locale: str) -> list[tuple[str, str]]:
    """/staff's 人员档案 button (handlers/staff.py)."""
    return [(services.text(locale, "roster", "btn_roster"), callback(FLOW, "l", ALL, ALL))]


class RosterDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.form = RosterFlow(services, engine)
        self.phone = PhoneFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        join = private & filters.Regex(rf"^/start {domain.JOIN_PREFIX}")
        return [
            CommandHandler("start", self.cmd_join, filters=join),  # before handlers/start.py
            CommandHandler("me", self.cmd_me, filters=private),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(FLOW)),
        ]

    # -- the join link ------------------------------------------------------------------------

    async def cmd_join(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The link's file, to confirm it is theirs: a link forwarded to the wrong person
        binds nothing."""
        user = update.effective_user
        await users.remember(self.s, user.id)
        locale = await user_locale(self.s, user)
        payload = context.args[0] if context.args else ""
        token = domain.parse_join_payload(payload) or payload[len(domain.JOIN_PREFIX) :]
        joining = await service.opened(self.s, user.id, token)  # a bad one: refused, audited
        markup = None
        if joining.outcome == service.ASK:
            label = partial(self.s.text, locale, "roster")
            markup = keyboard([[(label("btn_join_yes"), callback(FLOW, "j", token)),
                                (label("btn_join_no"), callback(FLOW, "jn"))]])  # fmt: skip
        await update.effective_chat.send_message(self._joining(locale, joining),
                                                 parse_mode=ParseMode.HTML,
                                                 reply_markup=markup)  # fmt: skip

    async def _join_button(self, update: Update, locale: str, what: str, args: list[str]) -> None:
        """是我 (``j``: bind, the token in the button) or 不是我 (``jn``: nothing bound)."""
        query = update.callback_query
        await query.answer()
        if what == "jn" or len(args) != 1:
            await query.edit_message_text(self.s.text(locale, "roster", "join_not_me"))
            return
        joining = await service.join(self.s, update.effective_user.id, args[0])
        await query.edit_message_text(self._joining(locale, joining), parse_mode=ParseMode.HTML)

    def _joining(self, locale: str, joining: service.Joining) -> str:
        if joining.outcome == service.INVALID:
            return self.s.text(locale, "roster", "join_invalid")
        person = service.shown(self.s, locale, joining.row)
        if joining.outcome == service.ASK:  # whoever opened it: the phone masked
            return self.s.text(locale, "roster", "join_ask", p=person)
        if joining.outcome == service.FILED:
            return self.s.text(locale, "roster", "join_filed", p=person)
        return self.s.text(locale, "roster", "joined", name=person["name"],
                           category=person["category"])  # fmt: skip

    # -- /me ----------------------------------------------------------------------------------

    async def cmd_me(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        locale = await user_locale(self.s, update.effective_user)
        row = await service.own(self.s, update.effective_user.id)
        if row is None or not row["active"]:
            await update.effective_chat.send_message(self.s.text(locale, "roster", "not_on_file"))
            return
        text, markup = self._me(locale, row)
        await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML,
                                                 reply_markup=markup)  # fmt: skip

    def _me(self, locale: str, row: Any) -> tuple[str, InlineKeyboardMarkup]:
        person = service.shown(self.s, locale, row)
        text = self.s.text(locale, "roster", "me", Audience.ENTITLED, p=person)
        if not row["category"]:
            return text, self._choices(locale, "category", "mc", per_row=3)
        label = partial(self.s.text, locale, "roster")
        rows = [[(label("btn_availability", value=v), callback(FLOW, "ma", v))
                 for v in domain.AVAILABILITY if v != row["availability"]],
                [(label("btn_my_skills"), callback(FLOW, "ms")),
                 (label("btn_my_phone"), callback(FLOW, "mp"))]]  # fmt: skip
        return text, keyboard(rows)

    def _choices(
        self, locale: str, kind: str, what: str, *head: str, per_row: int = 2,
        held: tuple[str, ...] | None = None, done: str = "",
    ) -> InlineKeyboardMarkup:  # fmt: skip
        """A button per configured category or skill; ``held``: skills, ticked when held,
        and a 完成 button (``done``: its callback data)."""
        buttons = []
        for ident, name in service.names(self.s, locale, kind).items():
            label = name if held is None else self.s.text(
                locale, "roster", "skill_toggle", name=name, held=ident in held)  # fmt: skip
            buttons.append((label, callback(FLOW, what, *head, ident)))
        rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
        if done:
            rows.append([(self.s.text(locale, "roster", "btn_done"), done)])
        return keyboard(rows)

    def _skills(self, locale: str, row: Any, what: str, *head: str) -> InlineKeyboardMarkup:
        """The skill toggles of a person's file (/me: ``mt``, an admin's: ``S``)."""
        done = callback(FLOW, "mS") if what == "mt" else callback(FLOW, "o", *head)
        return self._choices(locale, "skill", what, *head, held=domain.skills_of(row["skills"]),
                             done=done)  # fmt: skip

    async def _my_button(self, update: Update, locale: str, what: str, args: list[str]) -> None:
        query, user = update.callback_query, update.effective_user
        row = await service.own(self.s, user.id)
        if row is None or not row["active"]:
            await query.answer(self.s.text(locale, "roster", "not_on_file"), show_alert=True)
            return
        if what == "mp":
            opened = await self.phone.open(update, {"roster_id": row["id"]}, user.id)
            await query.answer(None if opened == "asked" else self.s.text(locale, "roster", "busy"))
            return
        if what == "ms":
            await query.answer()
            await query.edit_message_text(
                self.s.text(locale, "roster", "choose_skills", name=row["name"]),
                parse_mode=ParseMode.HTML,
                reply_markup=self._skills(locale, row, "mt"),
            )
            return
        if what == "mc" and row["category"]:  # set once: an admin changes it (下沉干部 are called)
            await access.deny(self.s, await self.access.actor(user), "roster.mc",
                              f"roster:{row['id']}")  # fmt: skip
            await query.answer(self.s.text(locale, "roster", "category_fixed"), show_alert=True)
            return
        changes = self._my_change(row, what, args)
        if changes is None:
            await query.answer(self.s.text(locale, "errors", "choice_stale"), show_alert=True)
            return
        row = await service.change(self.s, user.id, row["id"], changes) if changes else row
        await query.answer(self.s.text(locale, "roster", "saved"))
        if what == "mt":
            await query.edit_message_reply_markup(self._skills(locale, row, "mt"))
            return
        text, markup = self._me(locale, row)
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    def _my_change(self, row: Any, what: str, args: list[str]) -> dict[str, Any] | None:
        """The change a /me button asks for ({}: none, back to the card); None: a stale or
        forged button."""
        value = args[0] if len(args) == 1 else None
        if what == "ma" and value in domain.AVAILABILITY:
            return {"availability": value}
        if what == "mc" and value in self.s.config.staff.category_ids():
            return {"category": value}
        if what == "mt" and value is not None:
            skills = domain.toggle(domain.skills_of(row["skills"]), value,
                                   self.s.config.staff.skill_ids())  # fmt: skip
            return None if isinstance(skills, Invalid) else {"skills": skills}
        if what == "mS" and not args:
            return {}
        return None

    # -- /staff → 人员档案 ----------------------------------------------------------------------

    def _villages(self, actor: Actor) -> list[str] | None:
        """The villages whose people the actor sees and files (None: all, the town's too)."""
        if actor.is_admin or actor.is_leader:
            return None
        return sorted(actor.admin_villages)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, FLOW) or [""]
        what, args = parts[0], parts[1:]
        locale = await user_locale(self.s, update.effective_user)
        if what in ("ma", "mc", "ms", "mt", "mS", "mp"):
            await self._my_button(update, locale, what, args)
            return
        if what in ("j", "jn"):
            await self._join_button(update, locale, what, args)
            return
        actor = await self.access.actor(update.effective_user)
        if not domain.may_view(actor):
            await self.access.refuse(update, actor, "roster")
            return
        if what == "l" and len(args) == 2:
            await self._list(update, actor, locale, *(None if a == ALL else a for a in args))
        elif what == "n" and not args:
            await update.callback_query.answer()
            villages = self._villages(actor)
            villages = [v.id for v in self.s.config.villages] if villages is None else villages
            await self.form.start(update, self.form.first_step, {"villages": villages})
        elif args and args[0].isascii() and args[0].isdigit():
            await self._on_person(update, actor, locale, what, int(args[0]), args[1:])
        else:
            await self.access.refuse(update, actor, "roster", ":".join(parts))

    async def _list(self, update: Update, actor: Actor, locale: str, village: str | None,
                    category: str | None) -> None:  # fmt: skip
        villages = self._villages(actor)
        if village is not None and villages is not None and village not in villages:
            await self.access.refuse(update, actor, "roster", f"village:{village}")
            return
        await update.callback_query.answer()
        seen = [village] if village is not None else villages
        found = await service.listing(self.s, actor.user_id, seen, category)
        people = [service.shown(self.s, locale, p) for p in found.people]
        counts = [{**service.shown(self.s, locale, c), "people": c["people"]}
                  for c in found.counts]  # fmt: skip
        named = self.s.config.village(village or "")
        text = self.s.text(
            locale, "roster", "listing", people=people[:LISTED], counts=counts,
            village=named.name if named else None,
            category=service.names(self.s, locale, "category").get(category or ""),
            total=len(people), more=max(0, len(people) - LISTED),
        )  # fmt: skip
        rows = [[(self.s.text(locale, "roster", "btn_open", name=p["name"]),
                  callback(FLOW, "o", str(p["id"])))] for p in people[:LISTED]]  # fmt: skip
        rows += self._filters(locale, villages, village, category)
        rows.append([(self.s.text(locale, "roster", "btn_new"), callback(FLOW, "n"))])
        await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML,
                                                 reply_markup=keyboard(rows))  # fmt: skip

    def _filters(self, locale: str, villages: list[str] | None, village: str | None,
                 category: str | None) -> list[list[tuple[str, str]]]:  # fmt: skip
        """Buttons filtering by category (keeping the village) and by village (keeping the
        category), 全部 first."""
        here, kind = village or ALL, category or ALL
        every = self.s.text(locale, "roster", "btn_filter_all")
        cats = [(every, callback(FLOW, "l", here, ALL))]
        cats += [(name, callback(FLOW, "l", here, ident))
                 for ident, name in service.names(self.s, locale, "category").items()]  # fmt: skip
        shown = [v for v in self.s.config.villages if villages is None or v.id in villages]
        places = [(every, callback(FLOW, "l", ALL, kind))] if len(shown) > 1 else []
        places += [(v.name, callback(FLOW, "l", v.id, kind)) for v in shown if len(shown) > 1]
        return [cats[i : i + 4] for i in range(0, len(cats), 4)] + [
            places[i : i + 3] for i in range(0, len(places), 3)]  # fmt: skip

    async def _on_person(self, update: Update, actor: Actor, locale: str, what: str,
                         roster_id: int, args: list[str]) -> None:  # fmt: skip
        query = update.callback_query
        row = await service.person(self.s, roster_id)
        if row is None or not row["active"] or not domain.may_file(actor, row["village_id"]):
            await self.access.refuse(update, actor, f"roster.{what}", f"roster:{roster_id}")
            return
        value = args[0] if len(args) == 1 else None
        if what == "o" and not args:
            await query.answer()
            await self._card(update, locale, row)
        elif what in ("c", "v", "s", "x") and not args:
            await query.answer()
            await self._ask(update, actor, locale, what, row)
        elif what == "k" and not args:
            await query.answer()
            token = await service.relink(self.s, actor.user_id, roster_id)
            text = (self.s.text(locale, "roster", "link", name=row["name"],
                                link=domain.join_link(self.s.bot.username or "", token))
                    if token else self.s.text(locale, "roster", "no_link"))  # fmt: skip
            await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML)
        elif what == "V" and value and self.s.config.village(value) \
                and not domain.may_file(actor, value):  # fmt: skip
            await self.access.refuse(update, actor, "roster.V", f"roster:{roster_id}:{value}")
        else:
            changes = self._admin_change(row, what, value, args)
            if changes is None:
                await self.access.refuse(update, actor, f"roster.{what}", f"roster:{roster_id}")
                return
            await query.answer(self.s.text(locale, "roster", "saved"))
            row = await service.change(self.s, actor.user_id, roster_id, changes)
            if what == "S":
                await query.edit_message_reply_markup(
                    self._skills(locale, row, "S", str(roster_id))
                )
                return
            if what == "X":
                await query.edit_message_text(self.s.text(locale, "roster", "deactivated",
                                                          name=row["name"]),
                                              parse_mode=ParseMode.HTML)  # fmt: skip
                return
            await self._card(update, locale, row, edit=True)

    def _admin_change(self, row: Any, what: str, value: str | None,
                      args: list[str]) -> dict[str, Any] | None:  # fmt: skip
        config = self.s.config.staff
        if what == "C" and value in config.category_ids():
            return {"category": value}
        if what == "V" and value and self.s.config.village(value):
            return {"village_id": value, "grid_id": None}
        if what == "A" and value in domain.AVAILABILITY:
            return {"availability": value}
        if what == "S" and value is not None:
            skills = domain.toggle(domain.skills_of(row["skills"]), value, config.skill_ids())
            return None if isinstance(skills, Invalid) else {"skills": skills}
        if what == "X" and not args:
            return {"active": 0}
        return None

    async def _card(self, update: Update, locale: str, row: Any, edit: bool = False) -> None:
        # an admin in scope, in their private chat: entitled to the person's phone
        text = self.s.text(locale, "roster", "card", Audience.ENTITLED,
                           p=service.shown(self.s, locale, row))  # fmt: skip
        ident = str(row["id"])
        label = partial(self.s.text, locale, "roster")
        rows = [
            [(label("btn_availability", value=v), callback(FLOW, "A", ident, v))
             for v in domain.AVAILABILITY if v != row["availability"]],
            [(label("btn_category"), callback(FLOW, "c", ident)),
             (label("btn_village"), callback(FLOW, "v", ident))],
            [(label("btn_skills"), callback(FLOW, "s", ident))],
        ]  # fmt: skip
        if row["user_id"] is None:
            rows.append([(label("btn_relink"), callback(FLOW, "k", ident))])
        rows.append([(label("btn_deactivate"), callback(FLOW, "x", ident))])
        if edit:
            await update.callback_query.edit_message_text(
                text, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows)
            )
            return
        await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML,
                                                 reply_markup=keyboard(rows))  # fmt: skip

    async def _ask(self, update: Update, actor: Actor, locale: str, what: str, row: Any) -> None:
        """The choices of an edit: a category, a village, skills (toggled), or the
        confirmation of 停用."""
        ident, name = str(row["id"]), row["name"]
        if what == "c":
            text, markup = "choose_category", self._choices(locale, "category", "C", ident)
        elif what == "s":
            text, markup = "choose_skills", self._skills(locale, row, "S", ident)
        elif what == "v":
            text = "choose_village"
            markup = keyboard([[(v.name, callback(FLOW, "V", ident, v.id))]
                               for v in self.s.config.villages
                               if domain.may_file(actor, v.id)])  # fmt: skip
        else:
            text = "deactivate_confirm"
            markup = keyboard([[(self.s.text(locale, "roster", "btn_deactivate_confirm"),
                                 callback(FLOW, "X", ident))]])  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, "roster", text, name=name),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
        )
