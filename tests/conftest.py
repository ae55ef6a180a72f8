from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, load_config
from bot.runtime.clock import ManualClock
from tests.harness import STARTED, Harness

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Every database a test opens seals personal data under this key (storage/cipher.py); a test
# of a missing or wrong key changes it with monkeypatch.
TEST_DATA_KEY = "00112233445566778899aabbccddeeff" * 2
os.environ["PAICHA_DATA_KEY"] = TEST_DATA_KEY


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return example_config(tmp_path)


def example_config(folder: Path) -> Config:
    """The example town, with its own copy of the regions file in ``folder``: /regions writes
    the file (the one source of truth), and no test may change the checkout's
    data/regions.toml."""
    example = load_config(ROOT / "config.example.toml")
    regions = folder / "regions.toml"
    shutil.copy(example.regions.file, regions)
    return example.model_copy(
        update={"regions": example.regions.model_copy(update={"file": regions})}
    )


@pytest.fixture
def clock() -> ManualClock:
    # The plan's date: 26 October 2020, 10:00 in Chongqing.
    return ManualClock(datetime(2020, 10, 26, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
async def harness(config: Config, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Harness]:
    h = await Harness.start(config, tmp_path / "paicha.sqlite3", clock)
    yield h
    await h.stop()


@pytest.fixture(autouse=True)
def no_literal_markup() -> Iterator[None]:
    """Every message, edit, button and notification any test's bot sent: valid Telegram HTML
    where it is HTML, and nothing a person sees shows a tag or an entity as text."""
    STARTED.clear()
    yield
    problems = [p for h in STARTED for p in h.literal_markup()]
    STARTED.clear()
    assert not problems, "markup visible as text:\n" + "\n".join(problems)
