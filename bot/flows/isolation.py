"""/isolate: staff assign a person to a centralised isolation site and room, as a flow: the
person by reference number (a contact, an arrival report whose measure is centralised
isolation, a case), the site by buttons (active or activating, with room), the room offered
or typed; the stay is made by bot.actions.isolation.assign. A site that filled up meanwhile
sends the assigner back to the site question with the nearest site that has room."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.actions import access
from bot.actions import isolation as service
from bot.domain import isolation as domain
from bot.domain.invalid import Invalid
from bot.domain.isolation import Ref
from bot.domain.masking import Audience
from bot.domain.roles import Actor, can_isolate
from bot.domain.steps import Data, Lookup, Updates
from bot.flows.table import TableFlow
from storage.drafts import Draft

_BACK_TO_SITE = ("site_full", "room_taken", "site_closed")  # another site or room may do


def _invalid(refused: service.Refused) -> Invalid:
    return Invalid(f"isolation.{refused.code}", refused.params)


class AssignFlow(TableFlow):
    name = "isolation"
    prefix = "isol"  # v1:isol:<token>:<step>:<value>
    module = "isolation"
    permission = "stay.assign"
    rules = domain

    def may_start(self, actor: Actor) -> bool:
        return bool(actor.is_admin or actor.is_leader or actor.worker_grids
                    or actor.admin_villages)  # fmt: skip

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return self.permission, f"grid:{(draft.data.get('person') or {}).get('grid')}"

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Only a person of a grid the assigner answers for (a leader: anyone)."""
        grid = (draft.data.get("person") or {}).get("grid")
        return bool(grid) and can_isolate(actor, grid, self.engine.gate.village_of)

    def missing(self, data: Data) -> tuple[str, Data] | None:
        step = domain.missing_for_submit(data)
        return (step, data) if step else None

    async def start_for(self, update: Update, typed: str) -> Invalid | None:
        """Open the conversation at the site question for the person ``typed`` names (a
        button on their card); why not, when the person cannot be assigned."""
        ref = domain.parse_ref(typed)
        found = ref if isinstance(ref, Invalid) else await self._person(update, ref)
        if isinstance(found, Invalid):
            return found
        await self.engine.start(update, self, found, "site")
        return None

    async def resolve(self, update: Update, draft: Draft, lookup: Lookup) -> Updates | Invalid:
        if lookup.what == "room":
            room = await service.room_of(self.s, draft.data["site"], lookup.value)
            return {"room": room} if isinstance(room, str) else _invalid(room)
        return await self._person(update, lookup.value)

    async def _person(self, update: Update, ref: Ref) -> Updates | Invalid:
        """The person of a reference number in the assigner's scope (one out of it gets the
        same answer as a missing one: its existence is not revealed), and the sites."""
        gate = self.engine.gate
        actor = await gate.actor(update.effective_user)
        whom = await service.whom(self.s.db, self.s, ref)
        if whom is not None and not can_isolate(actor, whom.grid_id, gate.village_of):
            await access.deny(self.s, actor, "person.view", ref.ref)
            whom = None  # the scope first: nothing more is said of a person out of it
        found = service.assignable(whom, ref)
        if isinstance(found, service.Refused):
            return _invalid(found)
        await service.viewed(self.s, actor.user_id, ref.ref)
        sites = await service.offers(self.s)
        if not sites:
            return Invalid("isolation.no_site")
        person = {
            "kind": ref.kind,
            "ref": ref.ref,
            "name": found.name,
            "grid": found.grid_id,
            "start": found.period.start.isoformat(),
            "end": found.period.end.isoformat(),
        }
        return {"person": person, "site": None, "room": None, **_offered(sites)}

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step == "site":
            name, free = draft.data["names"][value]
            return self.s.text(draft.locale, "isolation", "site_choice", name=name, free=free)
        if step == "room":
            return value
        return super().label(draft, step, value)

    def question_text(self, draft: Draft) -> str:
        return self._text(draft, f"ask_{draft.step}")

    def summary_text(self, draft: Draft) -> str:
        return self._text(draft, "summary")

    def _text(self, draft: Draft, name: str) -> str:
        """A question showing the person and the site chosen so far (the assigner is in the
        person's scope: entitled)."""
        data = draft.data
        site = (data.get("names") or {}).get(data.get("site") or "", ("", 0))[0]
        person = data.get("person") or {}
        period = tuple(date.fromisoformat(person[k]) for k in ("start", "end") if k in person)
        return self.s.text(draft.locale, "isolation", name, Audience.ENTITLED, data=data,
                           site=site, period=period)  # fmt: skip

    async def finish(self, update: Update, draft: Draft) -> None:
        data = draft.data
        person = data["person"]
        done = await service.assign(self.s, Ref(person["kind"], person["ref"]), data["site"],
                                    data["room"], draft.user_id, draft.token)  # fmt: skip
        if done is None:
            return  # a double tap: the first one answered
        if isinstance(done, service.Refused):
            await self._refused(draft, done)
            return
        text = self.s.text(draft.locale, "isolation", "receipt", Audience.ENTITLED,
                           a=done, name=person["name"])  # fmt: skip
        markup = service.receipt_markup(self.s, draft.locale, done.stay_id)
        keyboard = InlineKeyboardMarkup.de_json(markup, None)
        await self.s.replies.send(draft.chat_id, text, reply_markup=keyboard)

    async def _refused(self, draft: Draft, refused: service.Refused) -> None:
        """A site full or a room taken meanwhile: the site question again, with the sites as
        they are now; anything else ends the conversation with the reason."""
        sites = await service.offers(self.s) if refused.code in _BACK_TO_SITE else []
        if not sites:
            await self.drop(draft)
            await self.s.replies.send(draft.chat_id, self.reason(draft.locale, _invalid(refused)))
            return
        data = {**draft.data, "site": None, "room": None, **_offered(sites)}
        saved = await self.engine.save(replace(draft, step="site", data=data))
        if saved is not None:
            await self.engine.re_ask(self, saved, _invalid(refused))


def _offered(sites: list[service.Offer]) -> dict[str, Any]:
    """The draft's record of the sites offered: their free rooms and their labels."""
    return {"free": {s.id: list(s.rooms) for s in sites},
            "names": {s.id: [s.name, s.free] for s in sites}}  # fmt: skip
