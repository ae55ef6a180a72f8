"""/sites and the sites' buttons (``v1:si:<what>:<site id>[:<item>]``), in a private chat:
leaders and admins list every site (state, occupancy) and order a reserved one activated;
admins add, change, close or reopen a site (bot/flows/sites.py); a site's manager gets its
card with the activation checklist to tick. Every decision: bot.domain.roles; a manager of
another site is refused, audited."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import sites as service
from bot.domain import roles
from bot.domain import sites as rules
from bot.domain.roles import Actor
from bot.flows.engine import Engine
from bot.flows.sites import SiteFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale

FLOW = rules.FLOW
# open, activate (confirmed: A), tick, edit, close (confirmed: C), reopen, new
BUTTONS = frozenset({"o", "a", "A", "t", "e", "c", "C", "r", "n"})


class SiteDesk:
    def __init__(self, services: Services, engine: Engine, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = SiteFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("sites", self.cmd_sites, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(FLOW)),
        ]

    # -- /sites ----------------------------------------------------------------------------

    async def cmd_sites(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not roles.can_view_sites(actor):
            await self.access.refuse(update, actor, "sites")
            return
        locale = await user_locale(self.s, update.effective_user)
        listed = await service.overview(self.s, actor.user_id)
        if not (actor.is_admin or actor.is_leader):  # a site manager: their own sites' cards
            for site in (s for s in listed if s["id"] in actor.site_ids):
                await self._send_card(update, actor, locale, site)
            return
        rows = [
            [(self.s.text(locale, "sites", "btn_open", s=s), callback(FLOW, "o", s["id"]))]
            for s in listed
        ]
        if roles.can_edit_sites(actor):
            rows.append([(self.s.text(locale, "sites", "btn_add"), callback(FLOW, "n"))])
        await update.effective_chat.send_message(
            self.s.text(locale, "sites", "overview", sites=listed),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows),
        )

    # -- buttons ---------------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        parts = parse_callback(query.data, FLOW) or []
        actor = await self.access.actor(update.effective_user)
        what, site_id = [*parts, "", ""][:2]
        what = what if what in BUTTONS else "?"  # audited: never what a client made up
        if what == "n" and len(parts) == 1 and roles.can_edit_sites(actor):
            await query.answer()
            await self.flow.start(update, self.flow.first_step, {})
            return
        site = await service.site(self.s, site_id) if rules.SITE_ID.fullmatch(site_id) else None
        allowed = site is not None and self._may(actor, what, site_id, parts)
        if not allowed:  # the same refusal whether or not the site exists
            await self.access.refuse(
                update, actor, f"site.{what}", rules.subject(site_id) if site_id else None
            )
            return
        await query.answer()
        locale = await user_locale(self.s, update.effective_user)
        await self._act(update, actor, locale, what, site, parts[2:])

    def _may(self, actor: Actor, what: str, site_id: str, parts: list[str]) -> bool:
        arity = 3 if what == "t" else 2
        if len(parts) != arity:
            return False
        if what == "o":
            return roles.can_view_sites(actor) and (
                actor.is_admin or actor.is_leader or roles.can_manage_site(actor, site_id)
            )
        if what in ("a", "A"):
            return roles.can_order_activation(actor)
        if what == "t":
            return roles.can_manage_site(actor, site_id)
        return what in ("e", "c", "C", "r") and roles.can_edit_sites(actor)

    async def _act(
        self,
        update: Update,
        actor: Actor,
        locale: str,
        what: str,
        site: dict[str, Any],
        rest: list[str],
    ) -> None:
        if what == "o":
            await self._send_card(update, actor, locale, site)
        elif what == "a":  # confirm first: the countdown and the group's message follow
            hours = self.s.config.schedule.site_activation_hours
            await self._confirm(update, locale, "order", "A", site, hours=hours)
        elif what == "A":
            done = await service.order_activation(self.s, site["id"], actor.user_id)
            await self._reply(update, locale, "order", done)
        elif what == "t":
            done = await service.tick(
                self.s, site["id"], rest[0], actor.user_id, update.effective_user.full_name
            )
            await self._reply(update, locale, "tick", done)
            if done.result == "done":
                await self._send_card(update, actor, locale, done.site)
        elif what == "e":
            await self.flow.edit(update, site, await service.rooms(self.s, site["id"]))
        elif what == "c":
            await self._confirm(update, locale, "close", "C", site)
        elif what == "C":
            await self._reply(
                update, locale, "close", await service.close(self.s, site["id"], actor.user_id)
            )
        else:  # "r"
            await self._reply(
                update, locale, "reopen", await service.reopen(self.s, site["id"], actor.user_id)
            )

    async def _confirm(
        self,
        update: Update,
        locale: str,
        action: str,
        what: str,
        site: dict[str, Any],
        **params: Any,
    ) -> None:
        """Ask before a step that tells others or cannot be undone by a tap."""
        button = (
            self.s.text(locale, "sites", f"btn_{action}_confirm"),
            callback(FLOW, what, site["id"]),
        )
        await update.effective_chat.send_message(
            self.s.text(locale, "sites", f"{action}_confirm", s=site, **params),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard([[button]]),
        )

    async def _reply(
        self, update: Update, locale: str, action: str, outcome: service.Outcome
    ) -> None:
        await update.effective_chat.send_message(
            self.s.text(
                locale, "sites", "outcome", action=action, result=outcome.result, s=outcome.site
            ),
            parse_mode=ParseMode.HTML,
        )

    async def _send_card(
        self, update: Update, actor: Actor, locale: str, site: dict[str, Any]
    ) -> None:
        """The site's card with what this person may do to it."""
        rows: list[list[tuple[str, str]]] = []
        if site["state"] == rules.ACTIVATING and roles.can_manage_site(actor, site["id"]):
            rows += [[b] for b in service.checklist_buttons(self.s, locale, site)]
        if site["state"] == rules.RESERVED and roles.can_order_activation(actor):
            rows.append(self._button(locale, "btn_order", "a", site))
        if roles.can_edit_sites(actor):
            rows.append(self._button(locale, "btn_edit", "e", site))
            closing = "btn_reopen" if site["state"] == rules.CLOSED else "btn_close"
            rows.append(
                self._button(locale, closing, "r" if closing == "btn_reopen" else "c", site)
            )
        await update.effective_chat.send_message(
            self.s.text(locale, "sites", "card", s=site),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows) if rows else None,
        )

    def _button(
        self, locale: str, label: str, what: str, site: dict[str, Any]
    ) -> list[tuple[str, str]]:
        return [(self.s.text(locale, "sites", label), callback(FLOW, what, site["id"]))]
