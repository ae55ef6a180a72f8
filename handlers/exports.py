"""/export (导出台账) and /audit (操作日志) in a private chat: each opens its conversation
(bot.flows.exports), which is refused and audited for anyone who may not take a register
(``denied:export``, ``denied:audit.export``). Telegram I/O only."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot.flows.engine import Engine
from bot.flows.exports import AuditFlow, ExportFlow
from bot.runtime.services import Services


class ExportDesk:
    def __init__(self, services: Services, engine: Engine) -> None:
        self.exports = ExportFlow(services, engine)
        self.audit = AuditFlow(services, engine)

    def handlers(self) -> list[BaseHandler]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler("export", self.cmd_export, filters=private),
            CommandHandler("audit", self.cmd_audit, filters=private),
        ]

    async def cmd_export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.exports.begin(update)

    async def cmd_audit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.audit.begin(update)
