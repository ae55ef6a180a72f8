"""/samples: a site manager's batch entry of samples and results, one typed message for a whole
floor ("301 阴性 302 阴性 303 阳性"). One question; a message with any line that cannot be
stored is refused whole with every line's reason and the question asked again (nothing is
half-saved); else ``finish`` calls bot.actions.samples.record and replies with the summary."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.actions import samples as service
from bot.domain import samples as domain
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor, can_manage_site
from bot.domain.samples import Problem
from bot.domain.steps import Data, Step, Updates
from bot.flows.answer import AnswerFlow
from storage.drafts import Draft


def _problems(problems: tuple[Problem, ...]) -> Invalid:
    return Invalid("bad_batch", {"problems": problems})


def read_batch(text: str, data: Data, ctx: Any) -> Updates | Invalid:
    """The typed batch, kept as typed once it reads (its rooms are checked as it is stored)."""
    batch = domain.parse(text)
    return {"batch": text} if batch.ok else _problems(batch.problems)


class SamplesFlow(AnswerFlow):
    name = "samples"
    prefix = "sm"
    module = "samples"
    permission = "samples.record"
    answer = Step("batch", text=read_batch)

    def may_start(self, actor: Actor) -> bool:
        return actor.is_admin or bool(actor.site_ids)

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return "samples.record", f"site:{draft.data['site']}"

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        """Still managing the site (a manager may be revoked while typing)."""
        return can_manage_site(actor, draft.data["site"])

    async def finish(self, update: Update, draft: Draft) -> None:
        actor = await self.engine.gate.actor(update.effective_user)
        outcome = await service.record(self.s, actor, draft.data["site"], draft.data["batch"],
                                       draft)  # fmt: skip
        if isinstance(outcome, service.Rejected):
            await self.engine.re_ask(self, draft, _problems(outcome.batch.problems))
            return
        if isinstance(outcome, service.Refused):
            await self.drop(draft)
            await self.s.replies.send(draft.chat_id, self.s.text(draft.locale, self.module,
                                                                 "refused"))  # fmt: skip
            return
        text = self.s.text(draft.locale, self.module, "recorded",
                           **service.summary_params(outcome))  # fmt: skip
        await self.s.replies.send(draft.chat_id, text)
