"""Personal data sealed at rest: no full phone or ID number anywhere in the database file or
its WAL after the bot has stored reports, companions, a case, a tip, staff, a half-answered
form and sent its messages — while everything above storage still sees them in full."""

from __future__ import annotations

import json
from pathlib import Path

from bot.domain.parsing import id_check_char
from tests.harness import Harness
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import ID_NUMBER, WORKER_XF01, answer_to_summary, submit
from tests.test_cases import ID_NUMBER as CASE_ID
from tests.test_cases import report_case
from tests.test_invites import NEWCOMER, bind, make_link
from tests.test_tips import send_tip

DRAFTER = 424243
DRAFT_ID = "50011619880202" + "123"
DRAFT_ID += id_check_char(DRAFT_ID)
SECRETS = {
    "resident's phone": "13812345678",
    "resident's ID": ID_NUMBER,
    "companion's phone": "13900001111",
    "companion's ID": LI_ID,
    "second companion's ID": WANG_ID,
    "case's ID": CASE_ID,
    "tip's phone": "13911112222",
    "staff phone": "13700001111",
    "draft's phone": "13655556666",
    "draft's ID": DRAFT_ID,
}


def leaks(path: Path) -> list[str]:
    """The secrets found as bytes in the database file or its WAL."""
    found = []
    for file in (path, Path(f"{path}-wal")):
        content = file.read_bytes() if file.exists() else b""
        found += [f"{what} in {file.name}" for what, value in SECRETS.items()
                  if value.encode() in content]  # fmt: skip
    return found


async def fill_everything(h: Harness) -> None:
    await answer_to_summary(h, companions=[("李四", LI_ID, "13900001111"), ("王五", WANG_ID, None)])
    await submit(h)
    await report_case(h)  # the same phone, another ID
    await send_tip(h, phone="13911112222")
    await bind(h, await make_link(h))
    await h.text(DRAFTER, "/arrive")
    await h.choose(DRAFTER, "本人")
    await h.text(DRAFTER, "赵六")
    await h.text(DRAFTER, "13655556666")
    await h.text(DRAFTER, DRAFT_ID)  # and stops there: the draft keeps his answers
    await h.drain_outbox()


async def test_no_full_phone_or_id_in_the_database_file(harness: Harness, tmp_path: Path) -> None:
    h, path = harness, tmp_path / "paicha.sqlite3"
    await fill_everything(h)
    # the worker's card carried the phone in full: it was sent, and is sealed in the outbox
    assert any("13812345678" in t for t in h.texts(WORKER_XF01))
    assert leaks(path) == []
    await h.stop()  # the WAL checkpointed into the file
    assert leaks(path) == []
    await h.restart(path)


async def test_everything_above_storage_reads_the_values_in_full(harness: Harness) -> None:
    h = harness
    await fill_everything(h)
    db = h.db
    people = await db.fetchall("SELECT phone, id_number FROM persons ORDER BY report_id, idx")
    assert [tuple(p) for p in people][:3] == [
        ("13812345678", ID_NUMBER), ("13900001111", LI_ID), (None, WANG_ID)]  # fmt: skip
    data = json.loads((await db.fetchone("SELECT data FROM reports"))["data"])
    assert (data["phone"], data["id_number"]) == ("13812345678", ID_NUMBER)
    assert [c["id_number"] for c in data["people"]] == [LI_ID, WANG_ID]
    case = await db.fetchone("SELECT person_phone, person_id_number FROM cases")
    assert tuple(case) == ("13812345678", CASE_ID)
    tip = await db.fetchone("SELECT person_phone FROM tips")
    assert tip[0] == "13911112222"
    staff = await db.fetchone("SELECT phone FROM staff WHERE user_id = ?", (NEWCOMER,))
    assert staff[0] == "13700001111"
    draft = await db.fetchone("SELECT data FROM drafts WHERE user_id = ?", (DRAFTER,))
    assert json.loads(draft[0])["phone"] == "13655556666"


async def test_the_same_person_reporting_again_is_found_by_blind_index(harness: Harness) -> None:
    """Dedup through the keyed hashes: the phone typed with +86 and spaces, the ID with a
    lower-case x, still finds his report (one report, version 2)."""
    h = harness
    await answer_to_summary(h)
    await submit(h)
    await answer_to_summary(h, phone="+86 138 1234 5678", id_number=ID_NUMBER.lower())
    await submit(h)
    rows = await h.db.fetchall("SELECT version FROM reports")
    assert [r[0] for r in rows] == [2]
    keys = await h.db.fetchall("SELECT phone_key, id_number_key FROM persons")
    blind = h.db.cipher.blind  # the second spelling was stored under the first's hashes
    assert {tuple(k) for k in keys} == {(blind("phone", "13812345678"), blind("id", ID_NUMBER))}
