"""Tips: the pure rules (steps, parsers, deadline, the staff view) and the match against
registrations in a real SQLite file."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import tips as flow
from bot.domain.invalid import Invalid
from bot.domain.records import PersonRecord, ReportRecord
from bot.domain.roles import Actor
from storage import arrivals, tips
from storage.db import Database

CTX = flow.Context(today=date(2020, 10, 26), villages={"xf": ("XF01", "XF02"), "sq": ("SQ01",)})
NOW = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)


# --- parsers (property tests) -------------------------------------------------------------


@given(st.from_regex(r"[A-Za-z0-9]{1,16}", fullmatch=True))
def test_tip_payload_round_trip(code: str) -> None:
    assert flow.parse_tip_payload(f"t-{code}") == code


@given(st.text(max_size=70))
def test_tip_payload_is_a_code_or_none(payload: str) -> None:
    code = flow.parse_tip_payload(payload)
    assert code is None or (payload == f"t-{code}" and code.isascii() and code.isalnum())


def test_tip_payload_is_not_an_arrival_or_invite_link() -> None:
    assert flow.parse_tip_payload("a-XF01") is None
    assert flow.parse_tip_payload("inv-abcdefghijklmnopqrstuv") is None
    assert flow.parse_tip_payload(None) is None


@given(st.text(max_size=80))
def test_normalize_address_is_idempotent_and_ignores_spacing(text: str) -> None:
    once = flow.normalize_address(text)
    assert flow.normalize_address(once) == once
    assert flow.normalize_address(" ".join(text)) == once or not text.strip()
    assert " " not in once


def test_normalize_address_examples() -> None:
    assert flow.normalize_address("先锋街 12号（2单元）301") == flow.normalize_address(
        "先锋街12号2单元301")  # fmt: skip
    assert flow.normalize_address("ａｂ路１号") == "AB路1号"


@given(st.text(max_size=400))
def test_description_and_note_never_crash(text: str) -> None:
    for parse, limit in ((flow.parse_description, flow.DESCRIPTION_LIMIT),
                         (flow.parse_note, flow.NOTE_LIMIT)):  # fmt: skip
        value = parse(text)
        assert isinstance(value, Invalid) or (value.strip() and len(value) <= limit)


DRAFTS = st.fixed_dictionaries(
    {},
    optional={"kind": st.sampled_from(flow.KINDS), "village": st.sampled_from(("xf", "sq", "zz"))},
)


@given(st.sampled_from(tuple(flow.STEPS)), st.text(max_size=30), DRAFTS)
def test_any_button_value_is_applied_or_refused(step: str, value: str, data: dict) -> None:
    result = flow.apply_choice(flow.STEPS[step], value, data, CTX)
    assert isinstance(result, dict | Invalid)
    if isinstance(result, Invalid):
        assert result.code == "choice_stale"
    else:
        following, _ = flow.advance(step, result, data)
        assert following in flow.STEPS


@given(st.sampled_from(tuple(k for k, s in flow.STEPS.items() if s.text)), st.text(max_size=60))
def test_any_typed_answer_is_parsed_or_refused(step: str, text: str) -> None:
    result = flow.STEPS[step].text(text, {"kind": "other"}, CTX)
    assert isinstance(result, dict | Invalid)


# --- the conversation ---------------------------------------------------------------------


def walk(kind: str, prefilled: bool = False) -> list[str]:
    data: dict = {"prefilled_village": True, "prefilled_grid": True} if prefilled else {}
    step, seen = flow.FIRST_STEP, []
    answers = {"kind": kind, "venue": "bnb", "village": "xf", "grid": "XF01", "relation": "guest",
               "since": "today"}  # fmt: skip
    while step != "summary":
        seen.append(step)
        if step in answers:
            updates = flow.apply_choice(flow.STEPS[step], answers[step], data, CTX)
        elif step == "address":
            updates = flow.location_answer(29.0, 106.0)
        else:
            updates = flow.STEPS[step].text("某某情况描述", data, CTX) if step in (
                "description", "venue_name") else {flow._SKIPPED.get(step, step): None}  # fmt: skip
        step, data = flow.advance(step, updates, data)
    if not prefilled:  # a prefilled draft has its place from the deep link
        assert flow.missing_for_submit(data, CTX) is None
    return seen


def test_questions_follow_the_kind() -> None:
    assert walk("unregistered") == ["kind", "village", "grid", "address", "name", "phone",
                                    "relation", "description", "since", "photo"]  # fmt: skip
    assert walk("venue") == ["kind", "venue", "village", "grid", "address", "venue_name",
                             "description", "since", "photo"]  # fmt: skip
    assert walk("gathering", prefilled=True) == ["kind", "address", "description", "since",
                                                 "photo"]  # fmt: skip


def test_missing_for_submit() -> None:
    base = {"kind": "other", "village": "xf", "grid": None, "address": "先锋街1号",
            "description": "情况"}  # fmt: skip
    assert flow.missing_for_submit(base, CTX) is None
    assert flow.missing_for_submit({**base, "description": None}, CTX) == "description"
    assert flow.missing_for_submit({**base, "address": None}, CTX) == "address"
    assert flow.missing_for_submit({**base, "address": None, "latitude": 1.0}, CTX) is None
    assert flow.missing_for_submit({**base, "grid": "SQ01"}, CTX) == "grid"
    assert flow.missing_for_submit({**base, "kind": "venue"}, CTX) == "venue"


def test_deadline() -> None:
    assert flow.deadline("symptoms", NOW, 2, 12) == NOW + timedelta(hours=2)
    for kind in ("unregistered", "gathering", "venue", "other"):
        assert flow.deadline(kind, NOW, 2, 12) == NOW + timedelta(hours=12)


def test_who_may_check() -> None:
    village_of = {"XF01": "xf", "XF02": "xf", "SQ01": "sq"}.get
    worker = Actor(1, worker_grids=frozenset({"XF01"}))
    vadmin = Actor(2, admin_villages=frozenset({"xf"}))
    leader = Actor(3, is_leader=True)
    assert flow.can_check(worker, "xf", "XF01", village_of)
    assert not flow.can_check(worker, "xf", "XF02", village_of)
    assert not flow.can_check(worker, "xf", None, village_of)  # grid unknown: the village's
    assert flow.can_check(vadmin, "xf", None, village_of)
    assert flow.can_check(vadmin, "xf", "XF02", village_of)
    assert not flow.can_check(leader, "xf", "XF01", village_of)
    assert flow.can_check(Actor(4, is_admin=True), "sq", None, village_of)


def test_the_staff_view_has_no_tipster_field() -> None:
    names = [f.name for f in fields(flow.TipView)]
    assert not [n for n in names if "tipster" in n]
    assert "tipster" not in tips.STAFF_COLUMNS


# --- storage: refs, matching ----------------------------------------------------------


def _report(name: str, phone: str, grid: str, address: str, token: str) -> ReportRecord:
    village = "sq" if grid.startswith("SQ") else "xf"
    return ReportRecord(
        draft_token=token, reporter_user_id=1, reporter_chat_id=1, locale="zh_CN",
        relation="self", village_id=village, grid_id=grid, address=address,
        arrival_date=date(2020, 10, 25), category="sanfan", risk="low", alert=False,
        measure_kind="self_monitoring", measure_start=date(2020, 10, 25),
        measure_end=date(2020, 11, 8), data={}, people=(PersonRecord(name, phone, None, None),),
    )  # fmt: skip


async def _store(db: Database, record: ReportRecord, at: datetime) -> str:
    async with db.write() as conn:
        stored = await arrivals.store(conn, record, town_code="XF", local_today=at.date(),
                                     lookback_since=at, now=at)  # fmt: skip
    return stored.ref


async def test_match_registrations(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        by_phone = await _store(db, _report("赵一", "13900000001", "SQ01", "石桥村5组", "a"), NOW)
        same_name = await _store(db, _report("李四", "13900000002", "XF01", "先锋街9号", "b"), NOW)
        other_grid = await _store(db, _report("李四", "13900000003", "XF02", "先锋街7号", "c"), NOW)
        old = NOW - timedelta(days=20)
        too_old = await _store(db, _report("李四", "13900000004", "XF01", "先锋街8号", "d"), old)
        by_address = await _store(db, _report("钱二", "13900000005", "XF01",
                                              "先锋街12号2单元301", "e"), NOW)  # fmt: skip

        async def match(**kw) -> list:
            args = dict(phone=None, name=None, village_id="xf", grid_id="XF01", address=None,
                        now=NOW) | kw  # fmt: skip
            return [(m.ref, m.reasons) for m in await tips.match_registrations(db, **args)]

        assert await match(phone="13900000001") == [(by_phone, ("phone",))]  # any place
        assert await match(name="李四") == [(same_name, ("name",))]  # same grid, 14 days
        assert too_old not in [r for r, _ in await match(name="李四")]
        assert await match(name="李四", grid_id=None) == [(other_grid, ("name",)),
                                                         (same_name, ("name",))]  # fmt: skip
        assert await match(address="先锋街 12号") == [(by_address, ("address",))]
        assert await match(address="12号") == []  # too vague
        both = await match(name="李四", phone="13900000002", address="先锋街9号")
        assert both[0] == (same_name, ("phone", "name", "address"))
        assert await match(name="无名氏") == []
        many = await match(grid_id=None, name="李四", phone="13900000001", address="先锋街")
        assert len(many) <= flow.MAX_MATCHES
    finally:
        await db.close()


async def test_tip_refs_have_their_own_counter(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        await _store(db, _report("赵一", "13900000001", "SQ01", "石桥村5组", "a"), NOW)
        async with db.write() as conn:
            first = await tips.next_ref(conn, "XF", date(2020, 10, 26))
            second = await tips.next_ref(conn, "XF", date(2020, 10, 26))
            other_day = await tips.next_ref(conn, "XF", date(2020, 10, 27))
        assert (first, second, other_day) == ("XF-XS-20201026-0001", "XF-XS-20201026-0002",
                                              "XF-XS-20201027-0001")  # fmt: skip
    finally:
        await db.close()
