"""Staff management: ``/invite`` links and ``/staff`` (list, move, revoke). Opening an invite
link is the invite flow (bot/flows/staff.py). Every decision: bot.domain.roles."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from telegram import BotCommandScopeChat, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import staff
from bot.actions import units as unit_actions
from bot.actions.staff import ScopeNames, scope_label
from bot.domain import roles
from bot.domain import roster as roster_rules
from bot.domain.roles import (
    ROLE_CREW,
    ROLE_DISPATCHER,
    ROLE_SITE_MANAGER,
    ROLE_UNIT,
    ROLE_VILLAGE_ADMIN,
    ROLE_WORKER,
    Actor,
)
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback, callback_pattern, keyboard, parse_callback, user_locale
from handlers.roster import entry_row as roster_entry

TOWN_ROLES = (ROLE_SITE_MANAGER, ROLE_DISPATCHER, ROLE_CREW)  # scoped by site, town, vehicle
SCOPE_STEPS = {"s": ROLE_SITE_MANAGER, "c": ROLE_CREW}  # v1:inv:<step>:<site or vehicle id>


class StaffAdmin:
    """/invite and /staff, for admins and (in their village) village admins."""

    def __init__(self, services: Services, access: Access) -> None:
        self.s = services
        self.access = access

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("invite", self.cmd_invite, filters=private),
            CommandHandler("staff", self.cmd_staff, filters=private),
            CallbackQueryHandler(self.on_invite, pattern=callback_pattern("inv")),
            CallbackQueryHandler(self.on_staff, pattern=callback_pattern("st")),
        ]

    def _villages(self, actor: Actor, role: str) -> list[str]:
        return [v.id for v in self.s.config.villages if roles.can_invite(actor, role, v.id)]

    # -- /invite ---------------------------------------------------------------------------

    async def cmd_invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not any(roles.can_invite(actor, r, None) for r in (ROLE_WORKER, ROLE_UNIT)):
            await self.access.refuse(update, actor, "invite")
            return
        locale = await user_locale(self.s, update.effective_user)
        if roles.can_invite(actor, ROLE_VILLAGE_ADMIN, None):
            rows = [
                [(self.s.text(locale, "staff", "role_name", role=r), callback("inv", "r", r))]
                for r in roles.STAFF_ROLES
            ]
            await update.effective_chat.send_message(
                self.s.text(locale, "staff", "choose_role"), reply_markup=keyboard(rows)
            )
            return
        if not roles.can_invite(actor, ROLE_WORKER, None):  # a leader: a unit's liaison only
            await self._choose_unit(update, actor, locale)
            return
        await self._choose_village(update, actor, locale, ROLE_WORKER)

    async def _choose_village(self, update: Update, actor: Actor, locale: str, role: str) -> None:
        """The villages to invite a worker for; a village admin also sees the way to invite
        a unit's liaison (the admins choose the role first)."""
        rows = [
            [(self.s.config.village(v).name, callback("inv", "v", role, v))]
            for v in self._villages(actor, role)
        ]
        if not actor.is_admin and roles.can_invite(actor, ROLE_UNIT, None):
            label = self.s.text(locale, "staff", "btn_invite_unit")
            rows.append([(label, callback("inv", "r", ROLE_UNIT))])
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", "choose_village", role=role), reply_markup=keyboard(rows)
        )

    async def on_invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, "inv") or []
        actor = await self.access.actor(update.effective_user)
        locale = await user_locale(self.s, update.effective_user)
        kind, args = (parts[0], parts[1:]) if parts else ("", [])
        if kind == "r" and args == [ROLE_UNIT] and roles.can_invite(actor, ROLE_UNIT, None):
            await update.callback_query.answer()
            await self._choose_unit(update, actor, locale)
        elif kind == "u" and len(args) == 1 \
                and args[0] in await unit_actions.invitable(self.s, actor):  # fmt: skip
            await update.callback_query.answer()
            await self._give_link(update, context, actor, locale, ROLE_UNIT, args[0])
        elif kind == "r" and len(args) == 1 and args[0] in TOWN_ROLES \
                and roles.can_invite(actor, args[0], None):  # fmt: skip
            await update.callback_query.answer()
            await self._choose_town_scope(update, context, actor, locale, args[0])
        elif kind == "r" and len(args) == 1 and roles.can_invite(actor, args[0], None):
            await update.callback_query.answer()
            await self._choose_village(update, actor, locale, args[0])
        elif kind in SCOPE_STEPS and len(args) == 1 \
                and args[0] in await self._scopes(SCOPE_STEPS[kind]) \
                and roles.can_invite(actor, SCOPE_STEPS[kind], None):  # fmt: skip
            await update.callback_query.answer()
            await self._give_link(update, context, actor, locale, SCOPE_STEPS[kind], args[0])
        elif kind == "v" and len(args) == 2 and roles.can_invite(actor, *args):
            await update.callback_query.answer()
            role, village = args
            if role == ROLE_VILLAGE_ADMIN:
                await self._give_link(update, context, actor, locale, role, village)
                return
            rows = [
                [(g.name, callback("inv", "g", g.id))] for g in self.s.config.village(village).grids
            ]
            await update.effective_chat.send_message(
                self.s.text(locale, "staff", "choose_grid"), reply_markup=keyboard(rows)
            )
        elif (
            kind == "g"
            and len(args) == 1
            and self.access.village_of(args[0]) is not None
            and roles.can_invite(actor, ROLE_WORKER, self.access.village_of(args[0]))
        ):
            await update.callback_query.answer()
            await self._give_link(update, context, actor, locale, ROLE_WORKER, args[0])
        elif kind == "x" and len(args) == 1:
            await self._revoke_invite(update, actor, locale, args[0])
        else:
            await self.access.refuse(update, actor, "invite", ":".join(parts))

    async def _choose_unit(self, update: Update, actor: Actor, locale: str) -> None:
        """The units this person may invite a liaison for (a village admin: their village's)."""
        rows = [[(name, callback("inv", "u", key))]
                for key, name in (await unit_actions.invitable(self.s, actor)).items()]  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", "choose_unit" if rows else "no_units"),
            reply_markup=keyboard(rows) if rows else None,
        )

    async def _scopes(self, role: str) -> dict[str, str]:
        """What a site manager or a crew may be invited for: scope id -> its name (the
        database's sites and vehicles, those added in chat too)."""
        return await staff.invitable(self.s, role)

    async def _choose_town_scope(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor, locale: str,
        role: str,
    ) -> None:  # fmt: skip
        """A dispatcher's link at once (the town's vehicles); a site manager's or a crew's
        after the site or the vehicle is chosen."""
        if role == ROLE_DISPATCHER:
            await self._give_link(update, context, actor, locale, role, roles.TOWN_SCOPE)
            return
        step = next(k for k, r in SCOPE_STEPS.items() if r == role)
        rows = [[(name, callback("inv", step, key))]
                for key, name in (await self._scopes(role)).items()]  # fmt: skip
        name = "choose_site" if role == ROLE_SITE_MANAGER else "choose_vehicle"
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", name if rows else "none_to_choose"),
            reply_markup=keyboard(rows) if rows else None,
        )

    async def _give_link(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        actor: Actor,
        locale: str,
        role: str,
        scope: str,
    ) -> None:
        token = await staff.make_invite(self.s, role, scope, actor.user_id)
        link = roles.invite_link(context.bot.username, token)
        text = self.s.text(
            locale,
            "staff",
            "link",
            link=link,
            role=role,
            hours=roles.INVITE_HOURS,
            scope=scope_label(self.s, role, scope, await staff.scope_names(self.s)),
        )
        buttons = keyboard(
            [[(self.s.text(locale, "staff", "btn_revoke_invite"), callback("inv", "x", token))]]
        )
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=buttons
        )

    async def _revoke_invite(self, update: Update, actor: Actor, locale: str, token: str) -> None:
        invite = await staff.invite(self.s, token)
        if invite is None or not self._may_revoke_invite(actor, invite):
            await self.access.refuse(update, actor, "invite.revoke", f"invite:{token[:8]}")
            return
        await update.callback_query.answer()
        done = await staff.revoke_invite(self.s, actor.user_id, token)
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", "invite_revoked" if done else "invite_not_revoked")
        )

    # -- /staff ----------------------------------------------------------------------------

    def _village_of_row(self, row: Any) -> str | None:
        """The village of a staff row or an invite (a village admin's scope is one, a unit
        liaison's is the unit's); a site's, dispatcher's or crew's role is the town's ("-":
        no village's, admins only)."""
        if row["role"] == ROLE_VILLAGE_ADMIN:
            return row["scope"]
        if row["role"] in TOWN_ROLES:
            return "-"
        if row["role"] == ROLE_UNIT:  # a liaison: the unit's village
            unit = self.s.config.key_unit(row["scope"])
            return unit.village if unit else "-"
        return self.access.village_of(row["scope"])

    def _open_invites(self, actor: Actor, invites: list[Any],
                      names: ScopeNames) -> list[dict[str, Any]]:  # fmt: skip
        """The unused invites this actor may revoke (the same rule as the revoke button)."""
        return [
            dict(token=r["token"], role=r["role"],
                 scope=scope_label(self.s, r["role"], r["scope"], names),
                 expires=datetime.fromisoformat(r["expires_at"]).astimezone(self.s.config.tz))
            for r in invites
            if self._may_revoke_invite(actor, r)
        ]  # fmt: skip

    def _may_revoke_invite(self, actor: Actor, invite: Any) -> bool:
        return (
            actor.is_admin
            or invite["created_by"] == actor.user_id
            or roles.can_manage_staff(actor, self._village_of_row(invite))
        )

    async def cmd_staff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        locale = await user_locale(self.s, update.effective_user)
        if not roles.can_manage_staff(actor) and roster_rules.may_view(actor):
            await update.effective_chat.send_message(  # a leader: the roster (人员档案) only
                self.s.text(locale, "roster", "roster_only"),
                reply_markup=keyboard([roster_entry(self.s, locale)]),
            )
            return
        if not roles.can_manage_staff(actor):
            await self.access.refuse(update, actor, "staff")
            return
        roster = await staff.roster(self.s, actor.user_id)
        rows = [r for r in roster.members if roles.can_manage_staff(actor, self._village_of_row(r))]
        names = await staff.scope_names(self.s)
        people = [self._person(r, names) for r in rows]
        buttons = [roster_entry(self.s, locale)]  # 人员档案: handlers/roster.py
        for p in (self._person(r, names) for r in rows if self._may_manage(actor, r)):
            row = [
                (
                    self.s.text(locale, "staff", "btn_revoke", **p),
                    callback("st", "r", str(p["id"])),
                )
            ]
            if p["role"] == ROLE_WORKER:
                row.insert(
                    0,
                    (
                        self.s.text(locale, "staff", "btn_move", **p),
                        callback("st", "m", str(p["id"])),
                    ),
                )
            buttons.append(row)
        invites = self._open_invites(actor, roster.invites, names)
        buttons += [
            [(self.s.text(locale, "staff", "btn_revoke_open_invite", **i),
              callback("inv", "x", i["token"]))]
            for i in invites
        ]  # fmt: skip
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", "staff_list", people=people, invites=invites),
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(buttons) if buttons else None,
        )

    async def on_staff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        parts = parse_callback(update.callback_query.data, "st") or []
        actor = await self.access.actor(update.effective_user)
        locale = await user_locale(self.s, update.effective_user)
        row = None
        if len(parts) >= 2 and parts[1].isascii() and parts[1].isdigit():
            row = await staff.member(self.s, int(parts[1]))
        allowed = row is not None and row["active"] and self._may_manage(actor, row)
        subject = f"staff:{parts[1]}" if len(parts) >= 2 else None
        kind = parts[0] if parts else ""
        target = parts[2] if len(parts) == 3 else None
        if kind == "m" and allowed and row["role"] == ROLE_WORKER and len(parts) == 2:
            await update.callback_query.answer()
            await self._choose_grid(update, actor, locale, row)
        elif (
            kind == "t"
            and allowed
            and row["role"] == ROLE_WORKER
            and target
            and roles.can_manage_staff(actor, self.access.village_of(target) or "-")
        ):
            await update.callback_query.answer()
            await self._move(update, actor, locale, row, target)
        elif kind in ("r", "R") and allowed and len(parts) == 2:
            await update.callback_query.answer()
            await self._revoke(update, actor, locale, row, confirmed=kind == "R")
        else:
            await self.access.refuse(update, actor, "staff", subject)

    def _may_manage(self, actor: Actor, row: Any) -> bool:
        """Move or revoke this member (not a config-listed one, nor a peer village admin)."""
        return roles.can_manage_member(actor, row["role"], self._village_of_row(row),
                                       row["source"])  # fmt: skip

    def _person(self, row: Any, names: ScopeNames | None = None) -> dict[str, Any]:
        """A staff row as the roster shows it (``names``: a site's or a vehicle's, for a site
        manager's or a crew's scope; a worker's grid is the config's)."""
        return dict(
            id=row["id"],
            name=row["name"] or "",
            user_id=row["user_id"],
            role=row["role"],
            scope=scope_label(self.s, row["role"], row["scope"], names),
            source=row["source"],
        )

    async def _choose_grid(self, update: Update, actor: Actor, locale: str, row: Any) -> None:
        rows = [
            [(f"{v.name} {g.name}", callback("st", "t", str(row["id"]), g.id))]
            for v in self.s.config.villages
            if roles.can_manage_staff(actor, v.id)
            for g in v.grids
            if g.id != row["scope"]
        ]
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", "choose_move", **self._person(row)),
            reply_markup=keyboard(rows),
        )

    async def _move(self, update: Update, actor: Actor, locale: str, row: Any, grid: str) -> None:
        done = await staff.move(self.s, actor.user_id, row, grid)
        person = self._person(row)
        await update.effective_chat.send_message(
            self.s.text(
                locale,
                "staff",
                "moved" if done else "not_moved",
                person=person,
                grid=scope_label(self.s, ROLE_WORKER, grid),
            )
        )

    async def _revoke(
        self, update: Update, actor: Actor, locale: str, row: Any, confirmed: bool
    ) -> None:
        person = self._person(row, await staff.scope_names(self.s))
        if not confirmed:
            buttons = keyboard(
                [
                    [
                        (
                            self.s.text(locale, "staff", "btn_revoke_confirm"),
                            callback("st", "R", str(row["id"])),
                        )
                    ]
                ]
            )
            await update.effective_chat.send_message(
                self.s.text(locale, "staff", "revoke_confirm", person=person), reply_markup=buttons
            )
            return
        notice = self.s.text(
            self.s.config.bot.default_locale,
            "staff",
            "you_are_revoked",
            role=row["role"],
            scope=person["scope"],
        )
        left = await staff.revoke(self.s, actor.user_id, row, notice)
        if left is not None and not left.any:
            await self._drop_menu(row["user_id"])
        await update.effective_chat.send_message(
            self.s.text(locale, "staff", "revoked", person=person)
        )

    async def _drop_menu(self, user_id: int) -> None:
        """Someone left with no staff role: their chat's staff command menu goes too, back to
        the residents' default (best effort: the commands are refused anyway)."""
        with contextlib.suppress(TelegramError):
            await self.s.bot.delete_my_commands(scope=BotCommandScopeChat(user_id))
