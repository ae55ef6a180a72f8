"""Supplies (物资) conversations, opened by /supplies' buttons: a keeper's 入库 / 出库 / 盘点 at a
place (the item, the quantity, for an issue where to), a village's request to the town store
(lines of item and quantity, a note), and the store keeper's reason for refusing one. Each
``finish`` calls one action of bot.actions.supplies."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import supplies as service
from bot.domain import supplies as domain
from bot.domain.masking import Audience
from bot.domain.roles import Actor
from bot.domain.steps import Data, Step, store_answer
from bot.flows.answer import AnswerFlow, Opened
from bot.flows.table import TableFlow
from storage.drafts import Draft


class SupplyFlow(TableFlow):
    """What the two step-table flows share: the place in ``data``, items and places named on
    the buttons and in the questions."""

    module = "supplies"

    def context(self) -> domain.Context:
        return domain.Context(tuple(item.id for item in self.s.config.supplies.items))

    def may_start(self, actor: Actor) -> bool:
        return service.is_keeper(self.s, actor)

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return str(self.permission), service.subject(draft.data["place"])

    def items(self, locale: str) -> dict[str, dict[str, str]]:
        return {i.id: service.item_params(self.s, i.id, locale)
                for i in self.s.config.supplies.items}  # fmt: skip

    def question_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, f"ask_{draft.step}", Audience.ENTITLED,
                           data=draft.data, items=self.items(draft.locale))  # fmt: skip

    def summary_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, f"summary_{self.name}", Audience.ENTITLED,
                           data=draft.data, items=self.items(draft.locale))  # fmt: skip

    def label(self, draft: Draft, step: str, value: str) -> str:
        if step == "item" and (item := self.s.config.supplies.item(value)):
            return service.item_params(self.s, item.id, draft.locale)["name"]
        if step == "to" and value in draft.data.get("names", {}):
            return draft.data["names"][value]
        return self.s.renderer.label(draft.locale, self.module, "choice", step=step, value=value)


async def opening(services: Any, place: str, locale: str) -> Data:
    """What a conversation at ``place`` starts from: the place, and the names of every place
    (by code) for its questions and buttons."""
    names = await service.place_names(services.db, services, locale)
    codes = [domain.code(p) for p in await service.places(services.db, services)]
    return {"place": place, "place_name": names[place],
            "names": {c: names[domain.from_code(c)] for c in codes},
            "targets": [c for c in codes if c != domain.code(place)]}  # fmt: skip


class MoveFlow(SupplyFlow):
    name = "supplies"
    prefix = "wzm"  # v1:wzm:<token>:<step>:<value>
    permission = "supply.move"
    rules = domain.MoveRules

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        return service.may_keep(self.s, actor, draft.data["place"])

    async def begin(self, update: Update, place: str, op: str, locale: str) -> bool:
        data = {**await opening(self.s, place, locale), "op": domain.OPS[op]}
        return await self.start(update, self.first_step, data)

    async def finish(self, update: Update, draft: Draft) -> None:
        """Done, with the stock after it; an issue of more than is in stock: the stock there
        is, and the quantity asked again."""
        data = draft.data
        outcome = await service.move(self.s, data, draft.user_id, draft.token)
        item = service.item_params(self.s, data["item"], draft.locale)
        if not outcome.done:
            await self.s.replies.send(draft.chat_id, self.s.text(
                draft.locale, self.module, "issue_short", item=item, quantity=outcome.quantity,
                wanted=data["quantity"]))  # fmt: skip
            await self.drop(draft)
            await self.engine.start(update, self, data, "quantity", draft.chat_id, draft.locale)
            return
        await self.s.replies.send(draft.chat_id, self.s.text(
            draft.locale, self.module, "move_done", data=data, item=item,
            quantity=outcome.quantity))  # fmt: skip


class RequestFlow(SupplyFlow):
    name = "supply_request"
    prefix = "wzr"  # v1:wzr:<token>:<step>:<value>
    permission = "supply.request"
    rules = domain.RequestRules

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        return service.may_request(self.s, actor, draft.data["place"])

    async def begin(self, update: Update, place: str, locale: str) -> bool:
        data = {**await opening(self.s, place, locale), "op": domain.REQUEST, "lines": []}
        return await self.start(update, self.first_step, data)

    async def finish(self, update: Update, draft: Draft) -> None:
        ref = await service.request(self.s, draft.data, draft.user_id, draft.token)
        await self.s.replies.send(
            draft.chat_id, self.s.text(draft.locale, self.module, "request_sent", ref=ref)
        )


class RefuseFlow(AnswerFlow):
    """The town store keeper's reason for refusing a request (拒绝), typed in private."""

    name = "supply_refuse"
    module = "supplies"
    answer = Step("reason", text=store_answer("reason", domain.parse_note))

    async def ask_reason(self, update: Update, request: Any) -> Opened:
        data = {"request": request["id"], "ref": request["ref"]}
        return await self.open(update, data, update.effective_user.id)

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "supply.refuse", service.request_subject(draft.data["request"])

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        return service.may_keep(self.s, actor, domain.TOWN)

    async def finish(self, update: Update, draft: Draft) -> None:
        done = await service.refuse_request(self.s, draft.data["request"], draft.data["reason"],
                                            draft.user_id, draft.token)  # fmt: skip
        name = "refuse_done" if done else "request_decided"
        await self.s.replies.send(
            draft.chat_id, self.s.text(draft.locale, self.module, name, ref=draft.data["ref"])
        )
