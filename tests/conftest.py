from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, load_config
from bot.runtime.clock import ManualClock
from tests.harness import Harness

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def config() -> Config:
    return load_config(ROOT / "config.example.toml")


@pytest.fixture
def clock() -> ManualClock:
    # The plan's date: 26 October 2020, 10:00 in Chongqing.
    return ManualClock(datetime(2020, 10, 26, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
async def harness(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    h = await Harness.start(config, tmp_path / "paicha.sqlite3", clock)
    yield h
    await h.stop()
