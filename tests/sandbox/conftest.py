"""A sandbox server on an ephemeral 127.0.0.1 port, and python-telegram-bot's own client
pointed at it the way paicha is (base_url / base_file_url)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from telegram import Bot

from bot.runtime.clock import ManualClock
from sandbox.server import bound_port, start_server
from sandbox.state import SandboxState

TOKEN = "7000000001:AAHsandboxTestToken_0123456789abcdef"
RESIDENT = 1001  # has started the bot
STRANGER = 1002  # never opened the private chat
LEADER = 1003
GROUP = -1001234567890


@dataclass
class Sandbox:
    state: SandboxState
    bot: Bot
    port: int
    http: aiohttp.ClientSession

    async def raw(self, method: str, token: str = TOKEN, **params: Any) -> tuple[int, Any]:
        """Call the Bot API with a JSON body, as any HTTP client could."""
        url = f"http://127.0.0.1:{self.port}/bot{token}/{method}"
        async with self.http.post(url, json=params) as response:
            return response.status, await response.json()


@pytest.fixture
def state() -> SandboxState:
    world = SandboxState.for_token(
        TOKEN, clock=ManualClock(datetime(2020, 11, 20, 8, 0, tzinfo=UTC))
    )
    world.add_user(RESIDENT, "芳", last_name="王", username="wangfang", started=True)
    world.add_user(STRANGER, "强", last_name="李")
    world.add_user(LEADER, "书记", username="shuji", started=True)
    world.add_group(
        GROUP, "先锋镇疫情防控领导小组", members={LEADER: "creator", RESIDENT: "member"}
    )
    return world


@pytest.fixture
async def sandbox(state: SandboxState) -> AsyncIterator[Sandbox]:
    runner = await start_server(state, TOKEN, port=0)
    port = bound_port(runner)
    bot = Bot(
        TOKEN,
        base_url=f"http://127.0.0.1:{port}/bot",
        base_file_url=f"http://127.0.0.1:{port}/file/bot",
    )
    await bot.initialize()
    async with aiohttp.ClientSession() as http:
        yield Sandbox(state, bot, port, http)
    await bot.shutdown()
    await runner.cleanup()
