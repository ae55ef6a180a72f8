"""A tip's candidate registrations (issue 10): the worker's card says why each matched, and a
registration found by the address alone is shown as someone at that address, never as the
person, and gets no one-tap link (fail safe: the worker checks and types the number)."""

from __future__ import annotations

import pytest

from bot.domain.tips import MAX_MATCHES, Match, ranked
from tests.harness import Harness
from tests.staff_helpers import WORKER_XF01, seed_report
from tests.test_tips import press_tip, send_tip, tip_buttons

# --- the ranking rule: known answers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("reasons", "is_person"),
    [
        (("phone",), True),
        (("name",), True),
        (("address",), False),
        (("name", "address"), True),
        (("phone", "name", "address"), True),
        ((), False),
    ],
)
def test_only_a_phone_or_a_name_points_at_the_person(
    reasons: tuple[str, ...], is_person: bool
) -> None:
    assert Match(1, "R", reasons).is_person is is_person


def test_ranked_puts_the_person_before_the_address_and_orders_the_reasons() -> None:
    found = {
        9: ("XF-9", {"address"}),  # newest, but the address only
        3: ("XF-3", {"address", "name"}),
        5: ("XF-5", {"name"}),
        4: ("XF-4", {"phone"}),
        2: ("XF-2", {"address", "phone", "name"}),
    }
    assert (
        ranked(found)
        == [
            Match(2, "XF-2", ("phone", "name", "address")),
            Match(3, "XF-3", ("name", "address")),
            Match(5, "XF-5", ("name",)),
        ][:MAX_MATCHES]
    )
    assert ranked({9: ("XF-9", {"address"}), 1: ("XF-1", {"name"})}) == [
        Match(1, "XF-1", ("name",)),
        Match(9, "XF-9", ("address",)),
    ]
    assert ranked({}) == []


# --- what the worker sees --------------------------------------------------------------------


async def test_an_address_only_match_is_not_shown_as_the_person(harness: Harness) -> None:
    h = harness
    await seed_report(h, name="王五", phone="13700001111")  # lives at 先锋街12号2单元301
    await send_tip(h, name="李四")  # a tip about someone else at that address
    await h.drain_outbox()
    card = h.texts(WORKER_XF01)[-1]
    assert "同一地址的登记" in card and "<code>XF-20201026-0001</code>" in card
    assert "可能是此人" not in card and "可能已登记" not in card
    await press_tip(h, WORKER_XF01, "情况属实")
    options = h.texts(WORKER_XF01)[-1]
    assert "不一定是此人" in options and "输入已有登记的编号" in options
    labels = list(tip_buttons(h, WORKER_XF01))
    assert not [label for label in labels if "就是已登记的" in label]
    assert any("输入已有登记的编号" in label for label in labels)


async def test_each_candidate_says_why_it_matched(harness: Harness) -> None:
    h = harness
    await seed_report(h, name="李四", phone="13912345678", id_number="500116199212310453")
    await seed_report(h, name="王五", phone="13700001111", id_number="11010519491231002X")
    await send_tip(h, name="李四", phone="13912345678")
    await h.drain_outbox()
    card = h.texts(WORKER_XF01)[-1]
    person = "· <code>XF-20201026-0001</code>：手机号相同、同一网格内同名、地址相同"
    place = "同一地址的登记（这个地址有人登记过，不一定是此人）：\n· <code>XF-20201026-0002</code>"
    assert f"可能是此人（请核实）：\n{person}" in card and place in card
    await press_tip(h, WORKER_XF01, "情况属实")
    labels = list(tip_buttons(h, WORKER_XF01))
    assert [label for label in labels if "就是已登记的" in label] == [
        "🔗 就是已登记的 XF-20201026-0001"
    ]


async def test_the_english_card_gives_the_reasons_too(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/language")
    await h.choose(WORKER_XF01, "English")
    await seed_report(h, name="王五", phone="13700001111")
    await send_tip(h, name="李四")
    await h.drain_outbox()
    await press_tip(h, WORKER_XF01, "Confirmed")
    options = h.texts(WORKER_XF01)[-1]
    assert "Registered at the same address" in options and "may be someone else" in options
