"""The CDC's contact list for a case, sent by a leader in private (draft flow
"contact_import"): one question ("send the file"), answered by a document. The file is
fetched (getFile), read and checked, then imported whole by bot.actions.contact_import — or,
with any row rejected, not at all: the leader reads why per row and sends the fixed file
again to the same open question."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.error import TelegramError

from bot.actions import contact_import as service
from bot.domain import contact_import as domain
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.flows.cases import display_name
from bot.flows.engine import Flow, Next, Result
from storage.drafts import Draft

FILE = "file"  # the one step
PERMISSION = "contact.import"  # leaders and admins; audited as denied:contact.import


class ContactImportFlow(Flow):
    name = "contact_import"
    module = service.MODULE
    permission = PERMISSION

    def may_start(self, actor: Actor) -> bool:
        return actor.is_leader

    def commit_check(self, draft: Draft) -> tuple[str, str | None]:
        return PERMISSION, service.subject(draft.data["case_id"])

    def question(self, draft: Draft) -> tuple[str, Any]:
        return self.s.text(draft.locale, self.module, "ask_file", ref=draft.data["ref"]), None

    def reason(self, locale: str, invalid: Invalid) -> str:
        return service.reason(self.s, locale, invalid)

    async def on_message(self, update: Update, draft: Draft) -> Result:
        """A document answers; its size is checked before it is fetched (Telegram's getFile
        stops at 20 MB, the list's own limit is far below)."""
        message = update.effective_message
        document = message.document if message is not None else None
        if document is None:
            return Invalid("need_file")
        if (document.file_size or 0) > domain.MAX_BYTES:
            return Invalid("sheet_too_big", {"limit_kb": domain.MAX_BYTES // 1024})
        return Next(None, {**draft.data, "file_id": document.file_id,
                           "file_name": document.file_name or ""})  # fmt: skip

    async def finish(self, update: Update, draft: Draft) -> None:
        data = await self._download(draft.data["file_id"])
        parsed = service.check(self.s, data) if isinstance(data, bytes) else data
        if isinstance(parsed, Invalid):
            await self.engine.re_ask(self, draft, parsed)
            return
        file_name = draft.data["file_name"]
        outcome = await service.commit(
            self.s, draft.data["case_id"], parsed, user_id=update.effective_user.id,
            name=display_name(update), file_name=file_name, draft_user=draft.user_id,
            token=draft.token,
        )  # fmt: skip
        for part in service.summary(self.s, draft.locale, outcome, parsed, file_name):
            await self.s.replies.send(draft.chat_id, part)

    async def _download(self, file_id: str) -> bytes | Invalid:
        try:
            found = await self.s.bot.get_file(file_id)
            return bytes(await found.download_as_bytearray())
        except TelegramError:
            return Invalid("download_failed")
