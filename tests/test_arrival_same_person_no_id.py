"""The same person reported again when no ID number was given (``arrival.id_number =
"optional"``, 暂不填写): within the lookback, name and phone together find the open report and
update it; a different name or phone is another person. A mutation run found this rule
untested: every other repeat test matches on the ID number."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.runtime.clock import ManualClock
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, answer_to_summary, count, press_value, submit

FAMILY = 515151  # another member of the household registers the same person
UPDATED = "您近期已经登记过"


@pytest.fixture
async def optional_ids(
    config: Config, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[Harness]:
    arrival = config.arrival.model_copy(update={"id_number": "optional"})
    h = await Harness.start(
        config.model_copy(update={"arrival": arrival}), tmp_path / "paicha.sqlite3", clock
    )
    yield h
    await h.stop()


async def register(
    h: Harness,
    *,
    user: int = RESIDENT,
    name: str = "张三",
    phone: str = "13812345678",
    address: str = "先锋街12号2单元301",
    with_id: str | None = None,
) -> str:
    """Register ``name`` arriving, without an ID number unless ``with_id``; the receipt."""
    await answer_to_summary(h, user=user, name=name, phone=phone, address=address,
                            id_number=with_id or "11010519491231002X")  # fmt: skip
    if with_id is None:  # take the number back out: 暂不填写
        await h.choose(user, "修改")
        await h.choose(user, "证件号")
        await press_value(h, user, "skip")
        assert "证件号：未填写" in h.texts(user)[-1]
    return await submit(h, user)


async def people(h: Harness) -> list[tuple]:
    rows = await h.db.fetchall(
        """SELECT r.ref, r.version, r.address, p.name, p.phone, p.id_number
           FROM reports r JOIN persons p ON p.report_id = r.id AND p.idx = 0 ORDER BY r.id"""
    )
    return [tuple(r) for r in rows]


async def test_same_name_and_phone_without_id_updates_the_report(optional_ids: Harness) -> None:
    h = optional_ids
    first = await register(h)
    assert "XF-20201026-0001" in first and UPDATED not in first
    h.clock.advance(days=3)
    again = await register(h, user=FAMILY, address="先锋街8号")  # someone else, same person
    assert "XF-20201026-0001" in again and UPDATED in again
    assert await people(h) == [("XF-20201026-0001", 2, "先锋街8号", "张三", "13812345678", None)]
    (history,) = await h.db.fetchall("SELECT version, data FROM report_history")
    assert history["version"] == 1
    assert json.loads(history["data"])["address"] == "先锋街12号2单元301"


async def test_same_name_and_phone_then_with_an_id_number_updates(optional_ids: Harness) -> None:
    h = optional_ids
    await register(h)
    h.clock.advance(days=1)
    again = await register(h, with_id="500116199212310453")  # brought the ID card this time
    assert "XF-20201026-0001" in again and UPDATED in again
    assert await people(h) == [
        ("XF-20201026-0001", 2, "先锋街12号2单元301", "张三", "13812345678", "500116199212310453")
    ]


@pytest.mark.parametrize(
    ("name", "phone"),
    [("张三", "13911112222"), ("李四", "13812345678"), ("李四", "13911112222")],
    ids=["other phone", "other name", "other person"],
)
async def test_without_id_another_name_or_phone_is_another_person(
    optional_ids: Harness, name: str, phone: str
) -> None:
    h = optional_ids
    await register(h)
    again = await register(h, name=name, phone=phone)
    assert "XF-20201026-0002" in again and UPDATED not in again
    assert await count(h, "reports") == 2 and await count(h, "report_history") == 0


async def test_without_id_after_the_lookback_is_a_new_report(optional_ids: Harness) -> None:
    h = optional_ids
    await register(h)
    h.clock.advance(days=h.config.arrival.lookback_days + 1)
    again = await register(h)
    assert UPDATED not in again
    assert [p[:2] for p in await people(h)] == [("XF-20201026-0001", 1), ("XF-20201110-0001", 1)]
