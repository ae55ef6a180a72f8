"""/samples (a site manager's batch entry of samples and results, bot/flows/samples.py), a
stay's test card (/samples <room>) and its result buttons. Telegram I/O only: the rules are
bot.domain.samples', the transactions bot.actions.samples'."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions import samples as service
from bot.domain.roles import Actor, can_manage_site
from bot.flows.samples import SamplesFlow
from bot.runtime.services import Services
from handlers.access import Access
from handlers.common import callback_pattern, parse_callback, user_locale
from handlers.router import Router

WHAT = "samples.record"  # the permission audited when refused


def _target(actor: Actor, args: list[str], named_site: bool) -> tuple[str | None, str | None]:
    """(site, room) named by /samples' arguments: ``<site> [room]`` (``named_site``: the first
    is a site's id), or ``[room]`` for a manager of one site. (None, None): the site is not
    said and cannot be guessed."""
    own = sorted(actor.site_ids)
    if named_site or len(args) > 1:
        return args[0].upper(), (args[1] if len(args) > 1 else None)
    if len(own) == 1:
        return own[0], (args[0] if args else None)
    return None, None


class SampleDesk:
    def __init__(self, services: Services, router: Router, access: Access) -> None:
        self.s = services
        self.access = access
        self.flow = SamplesFlow(services, router.engine)

    def handlers(self) -> list[BaseHandler]:
        return [
            CommandHandler("samples", self.cmd_samples, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(self.on_button, pattern=callback_pattern(service.BUTTONS)),
        ]

    async def cmd_samples(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        actor = await self.access.actor(update.effective_user)
        if not self.flow.may_start(actor):
            await self.access.refuse(update, actor, WHAT)
            return
        locale = await user_locale(self.s, update.effective_user)
        args = list(context.args or [])
        site, room = _target(actor, args, bool(args) and await service.is_site(self.s, args[0]))
        if site is None:
            await self.s.replies.send(
                update.effective_chat.id,
                self.s.text(locale, "samples", "which_site", sites=sorted(actor.site_ids)),
            )
            return
        if not can_manage_site(actor, site):
            await self.access.refuse(update, actor, WHAT, f"site:{site}")
            return
        if room is None:
            await self.flow.start(update, self.flow.first_step, {"site": site})
            return
        await self._send_card(update, locale, await service.card(self.s, site, room), room)

    async def _send_card(self, update: Update, locale: str, card: service.Card | None,
                         room: str) -> None:  # fmt: skip
        if card is None:
            await self.s.replies.send(
                update.effective_chat.id, self.s.text(locale, "samples", "no_stay", room=room)
            )
            return
        today = self.s.local_today()
        markup = service.card_markup(self.s, locale, card, today)
        await self.s.replies.send(
            update.effective_chat.id,
            self.s.text(locale, "samples", "card", c=card, today=today),
            reply_markup=markup if markup["inline_keyboard"] else None,
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A result pressed on a test of a stay's card (the button names the test): recorded
        (the action checks the scope again, at commit), the card refreshed."""
        query = update.callback_query
        pressed = service.read_button(parse_callback(query.data, service.BUTTONS))
        locale = await user_locale(self.s, update.effective_user)
        if pressed is None:  # a card of an older format: open it again
            await query.answer(self.s.text(locale, "samples", "stale"), show_alert=True)
            return
        stay_id, day, result = pressed
        actor = await self.access.actor(update.effective_user)
        outcome = await service.record_one(self.s, actor, stay_id, day, result)
        if isinstance(outcome, service.Refused):  # audited by the action
            await query.answer(self.s.text(locale, "samples", "refused"), show_alert=True)
            return
        if isinstance(outcome, service.Rejected):
            reason = outcome.batch.problems[0].reason
            await query.answer(self.s.text(locale, "samples", "not_recorded", reason=reason),
                               show_alert=True)  # fmt: skip
            return
        summary = self.s.text(locale, "samples", "recorded", **service.summary_params(outcome))
        await query.answer(None if outcome.cases else summary)  # a case's news: a message
        card = await service.card_of(self.s, stay_id)
        if card is not None and query.message is not None and not outcome.already:
            today = self.s.local_today()
            markup = service.card_markup(self.s, locale, card, today)
            await query.edit_message_text(
                self.s.text(locale, "samples", "card", c=card, today=today),
                parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup.de_json(markup, None),
            )
        if outcome.cases:
            await self.s.replies.send(update.effective_chat.id, summary)
