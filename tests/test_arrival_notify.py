"""Who is told about a submitted arrival report, and what they read: the leadership group only
for key cases, always with masked personal data; the grid worker, else the village admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness
from tests.test_arrival_flow import (
    ID_NUMBER,
    LEADERS,
    WORKER_XF01,
    answer_to_summary,
    submit,
)

REF = "XF-20201026-0001"
STAFF = (WORKER_XF01, 30002, 30003, 30005, 20001, 20002, 20004, LEADERS)

ALERTS: dict[str, tuple[dict[str, Any], str, str]] = {
    # case: (answers, risk category, what the reason says)
    "abroad": ({"country": "美国"}, "overseas", "从境外入境"),
    "high_risk_region": ({"origin": "新疆喀什地区喀什市"}, "high_risk", "喀什"),
    "red_code": ({"code": "red"}, "red_code", "健康码为红码"),
    "fever": ({"temperature": "37.5"}, "symptomatic", "37.5"),
    "symptom": ({"symptoms": ["dry_cough"]}, "symptomatic", "干咳"),
}


def assert_masked(text: str) -> None:
    assert "138****5678" in text and "1101**********002X" in text and "张*" in text
    assert "13812345678" not in text and ID_NUMBER not in text and "张三" not in text


@pytest.mark.parametrize("case", list(ALERTS))
async def test_key_arrival_alerts_the_leadership_group(harness: Harness, case: str) -> None:
    h = harness
    answers, category, reason = ALERTS[case]
    await answer_to_summary(h, **answers)
    await submit(h)
    row = await h.db.fetchone("SELECT risk, alert FROM reports")
    assert (row["risk"], row["alert"]) == (category, 1)
    assert await h.drain_outbox() == 2
    alerts = h.texts(LEADERS)
    assert len(alerts) == 1
    assert "预警" in alerts[0] and REF in alerts[0] and reason in alerts[0]
    assert_masked(alerts[0])
    notices = h.texts(WORKER_XF01)
    assert len(notices) == 1 and REF in notices[0] and "重点人员" in notices[0]
    assert_masked(notices[0])


async def test_high_risk_region_outside_its_dates_is_not_an_alert(harness: Harness) -> None:
    """Wuhan 江汉区 is in the file as high risk only until 8 April 2020."""
    h = harness
    await answer_to_summary(h, origin="湖北省武汉市江汉区")
    await submit(h)
    row = await h.db.fetchone("SELECT risk, alert FROM reports")
    assert (row["risk"], row["alert"]) == ("low", 0)
    await h.drain_outbox()
    assert h.texts(LEADERS) == []


async def test_low_risk_arrival_goes_to_the_grid_worker_only(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, origin="四川省成都市武侯区")
    await submit(h)
    assert await h.drain_outbox() == 1
    assert h.texts(LEADERS) == []
    assert len(h.texts(WORKER_XF01)) == 1
    assert_masked(h.texts(WORKER_XF01)[0])
    others = [chat for chat in STAFF if chat not in (WORKER_XF01,) and h.texts(chat)]
    assert others == []


@pytest.mark.parametrize(("village", "grid", "admin"), [
    ("石桥村", "第2网格", 20002),
    ("凤凰村", "第2网格", 20004),
])  # fmt: skip
async def test_grid_without_workers_tells_the_village_admin(
    harness: Harness, village: str, grid: str, admin: int
) -> None:
    h = harness
    await answer_to_summary(h, village=village, grid=grid)
    await submit(h)
    assert await h.drain_outbox() == 1
    notices = h.texts(admin)
    assert len(notices) == 1 and REF in notices[0] and village in notices[0]
    assert_masked(notices[0])
    assert h.texts(LEADERS) == []
    assert [chat for chat in STAFF if chat != admin and h.texts(chat)] == []


async def test_the_resident_is_told_the_measure(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, code="red")
    receipt = await submit(h)
    assert REF in receipt and "健康码为红码" in receipt
    # the resident's own receipt is in their private chat: not masked, but also not staff text
    assert "预警" not in receipt
