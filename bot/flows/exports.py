"""The export conversations: /export (the register, the range, the format) and /audit (the
range, the format). The finish calls bot.actions.exports.export, which sends the file(s) as
documents; who may take which register: bot.domain.exports."""

from __future__ import annotations

from telegram import Update

from bot.actions import exports as service
from bot.domain import exports as domain
from bot.domain.roles import Actor
from bot.flows.table import TableFlow
from storage.drafts import Draft


class ExportFlow(TableFlow):
    name = "export"
    prefix = "dc"  # 导出: v1:dc:<token>:<step>:<value>
    module = "exports"
    permission = "export"
    rules = domain.ExportRules

    def context(self) -> domain.Context:
        return domain.Context(self.s.local_today())

    def may_start(self, actor: Actor) -> bool:
        return bool(domain.registers_for(actor))

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return str(self.permission), draft.data["register"]

    async def may_commit(self, actor: Actor, draft: Draft) -> bool:
        return domain.may_export(actor, draft.data["register"])

    async def begin(self, update: Update) -> bool:
        actor = await self.engine.gate.actor(update.effective_user)
        data = {"registers": list(domain.registers_for(actor))}
        return await self.start(update, self.first_step, data)

    async def finish(self, update: Update, draft: Draft) -> None:
        """Made in a worker thread: the person is told it is on its way, then what came."""
        data = draft.data
        await self.s.replies.send(draft.chat_id, self.s.text(draft.locale, self.module, "making",
                                                             data=data))  # fmt: skip
        actor = await self.engine.gate.actor(update.effective_user)
        start, end = domain.answers_span(data)
        done = await service.export(
            self.s, actor, data["register"], start, end, data["format"], draft.locale,
            chat_id=draft.chat_id, author=update.effective_user.full_name, token=draft.token,
        )  # fmt: skip
        if done is not None:
            await self.s.replies.send(draft.chat_id, self.s.text(
                draft.locale, self.module, "done", rows=done.rows, files=len(done.files),
                masked=done.masked))  # fmt: skip


class AuditFlow(ExportFlow):
    """/audit: the audit log (操作日志), the admins' alone; it starts at the range."""

    name = "audit_export"
    prefix = "dca"  # v1:dca:<token>:<step>:<value>
    permission = "audit.export"

    def may_start(self, actor: Actor) -> bool:
        return domain.may_export(actor, domain.AUDIT)

    async def begin(self, update: Update) -> bool:
        return await self.start(update, "range", {"register": domain.AUDIT, "registers": []})
