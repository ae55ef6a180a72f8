"""Door-to-door screening (入户排查) through PTB's pipeline, and its parsers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.invalid import Invalid
from bot.domain.visits import has_fever, parse_people, parse_temperatures
from tests.harness import Harness
from tests.staff_helpers import LEADERS_CHAT, VADMIN_XF, WORKER_XF01, audit_actions
from tests.test_arrival_flow import answer_to_summary, submit


async def visit(
    h: Harness, user: int = WORKER_XF01, temps: str = "36.5 36.7", arrivals: str = "没有"
) -> str:
    await h.text(user, "/visit")
    await h.text(user, "先锋街12号2单元301")
    await h.choose(user, "已入户")
    await h.choose(user, "2人")
    await h.text(user, temps)
    await h.choose(user, arrivals)
    await h.choose(user, "跳过")
    return h.texts(user)[-1]


async def test_a_visit_is_recorded_and_counted(harness: Harness) -> None:
    h = harness
    saved = await visit(h)
    assert "入户排查已记录" in saved and "36.5、36.7" in saved
    row = await h.db.fetchone("SELECT * FROM visits")
    assert (row["grid_id"], row["worker"], row["people_present"], row["fever"]) == (
        "XF01",
        WORKER_XF01,
        2,
        0,
    )
    assert "visit.create" in await audit_actions(h, WORKER_XF01)
    await h.text(WORKER_XF01, "/visits")
    assert "已排查 1 户" in h.texts(WORKER_XF01)[-1]


async def test_refused_entry(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/visit")
    await h.text(WORKER_XF01, "先锋街14号")
    await h.choose(WORKER_XF01, "拒绝入户")
    await h.choose(WORKER_XF01, "跳过")
    assert "拒绝入户" in h.texts(WORKER_XF01)[-1]
    await h.text(VADMIN_XF, "/visits 30")
    text = h.texts(VADMIN_XF)[-1]
    assert "近30天" in text and "拒绝入户 1" in text


async def test_a_fever_alerts_the_leadership_group(harness: Harness) -> None:
    h = harness
    await visit(h, temps="36.5 37.6")
    row = await h.db.fetchone("SELECT fever FROM visits")
    assert row["fever"] == 1
    await h.drain_outbox()
    assert "37.6" in h.texts(LEADERS_CHAT)[-1]


async def test_bad_temperatures_are_asked_again(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/visit")
    await h.text(WORKER_XF01, "先锋街12号2单元301")
    await h.choose(WORKER_XF01, "已入户")
    await h.text(WORKER_XF01, "两个")
    assert "在家人数" in h.texts(WORKER_XF01)[-2]
    await h.text(WORKER_XF01, "2")
    await h.text(WORKER_XF01, "36.5 hot")
    assert "体温" in h.texts(WORKER_XF01)[-1]
    assert (await h.db.fetchone("SELECT step FROM drafts"))["step"] == "temperatures"


async def test_an_arrival_found_at_the_door_is_registered_and_linked(harness: Harness) -> None:
    h = harness
    await visit(h, arrivals="有，现场登记")
    visit_id = (await h.db.fetchone("SELECT id FROM visits"))["id"]
    await h.choose(WORKER_XF01, "现场登记")
    # the arrival report, prefilled with the household's village, grid and address
    await answer_to_summary(h, WORKER_XF01, village=None, grid=None, address=None)
    assert "先锋街12号2单元301" in h.texts(WORKER_XF01)[-1]  # on the summary card
    await submit(h, WORKER_XF01)
    report = await h.db.fetchone("SELECT * FROM reports")
    assert report["grid_id"] == "XF01" and report["reporter_user_id"] == WORKER_XF01
    assert report["address"] == "先锋街12号2单元301"
    link = await h.db.fetchone("SELECT * FROM visit_reports")
    assert (link["visit_id"], link["report_id"]) == (visit_id, report["id"])
    await h.text(WORKER_XF01, "/visits")
    assert "现场登记 1 人次" in h.texts(WORKER_XF01)[-1]


@given(
    st.lists(st.decimals(min_value=35, max_value=42, places=1), min_size=1, max_size=30),
    st.sampled_from([" ", "，", "、", "  ", ";"]),
)
def test_temperatures_round_trip(values: list, separator: str) -> None:
    parsed = parse_temperatures(separator.join(str(v) for v in values))
    assert parsed == tuple(float(v) for v in values)
    assert has_fever(parsed) == any(v >= 37.3 for v in values)


@given(st.text(max_size=40))
def test_temperatures_never_crash(text: str) -> None:
    parsed = parse_temperatures(text)
    assert isinstance(parsed, Invalid) or all(35 <= t <= 42 for t in parsed)


@given(st.text(max_size=10))
def test_people_is_a_small_number_or_invalid(text: str) -> None:
    value = parse_people(text)
    assert isinstance(value, Invalid) or 0 <= value <= 50
