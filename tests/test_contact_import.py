"""A leader imports the CDC's contact list of a case (XLSX or CSV) in a private chat: the
file fetched through getFile, every row checked, the whole list imported in one transaction
or — with any row rejected — nothing at all, with the reason per row; anyone else refused
and audited; never in a group."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import date

import pytest
from openpyxl import Workbook

from bot.actions import cases as case_actions
from bot.actions import contact_import as service
from bot.actions import contacts
from bot.domain.contact_import import parse_file
from bot.domain.parsing import id_check_char
from storage.cases import NewCase
from tests.harness import Harness

LEADER = 10001  # an admin in config: a leader
WORKER = 30001  # grid XF01 of 先锋社区: no leader
GROUP = -1001234567890
ID17 = "50011619900101123"
ID_A = ID17 + id_check_char(ID17)
ID17_B = "51010219850315002"
ID_B = ID17_B + id_check_char(ID17_B)
HEADER = ["姓名", "身份证号", "联系电话", "现住址", "末次接触时间", "类别", "村/社区", "网格"]
GOOD_ROWS = [
    ["张三", ID_A, "13800138000", "幸福小区3栋501", date(2020, 10, 25), "密接", "先锋社区", "1"],
    ["李四", ID_B, "13900139000", "石桥村2组", "2020-10-24", "次密接", "石桥村", "2"],
]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def open_case(h: Harness) -> tuple[int, str]:
    case = NewCase(
        draft_token="t-case", kind="confirmed", report_id=None, person_name="王五",
        person_phone="13700137000", person_id_number=None, village_id="xf", grid_id="XF01",
        address="幸福小区1栋", latitude=None, longitude=None, status="已居家隔离",
        reported_by=WORKER, discovered_at=h.clock.now(),
    )  # fmt: skip
    async with h.services.db.write() as conn:
        stored = await case_actions.open_case(conn, h.services, case, WORKER, h.clock.now())
    await h.drain_outbox()
    return stored.id, stored.ref


async def send_file(h: Harness, user: int, data: bytes, name: str, file_id: str) -> None:
    h.request.files[file_id] = data
    document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                "file_size": len(data)}  # fmt: skip
    await h.send(user, document=document)


async def stored_contacts(h: Harness, case_id: int) -> list[tuple[str, str, str]]:
    rows = await h.services.db.fetchall(
        """SELECT c.name, cc.kind, cc.source FROM case_contacts cc
           JOIN contacts c ON c.id = cc.contact_id WHERE cc.case_id = ? ORDER BY c.name""",
        (case_id,),
    )
    return [(r["name"], r["kind"], r["source"]) for r in rows]


async def audits(h: Harness, action: str) -> list[tuple[int, str, dict]]:
    rows = await h.services.db.fetchall(
        "SELECT actor, subject, detail FROM audit WHERE action = ? ORDER BY id", (action,)
    )
    return [(r["actor"], r["subject"], json.loads(r["detail"] or "null")) for r in rows]


async def test_leader_imports_a_list_from_the_button(harness: Harness) -> None:
    h = harness
    case_id, ref = await open_case(h)
    await h.press(LEADER, f"v1:imp:{case_id}")
    assert "导入密接名单" in h.texts(LEADER)[-1] and ref in h.texts(LEADER)[-1]

    await send_file(h, LEADER, xlsx([HEADER, *GOOD_ROWS]), "密接名单.xlsx", "f1")

    summary = h.texts(LEADER)[-1]
    assert "密接名单已导入" in summary and "共 2 人全部导入：新登记 2 人。" in summary
    assert await stored_contacts(h, case_id) == [("张三", "close", "import"),
                                                 ("李四", "secondary", "import")]  # fmt: skip
    assert await audits(h, "contact.import") == [
        (LEADER, f"case:{case_id}",
         {"file": "密接名单.xlsx", "rows": 2, "accepted": 2, "rejected": []}),
    ]  # fmt: skip
    assert await h.services.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (LEADER,)) is None
    assert any(c.method == "getFile" for c in h.request.calls)


async def test_a_case_ruled_out_meanwhile_imports_nobody(harness: Harness) -> None:
    h = harness
    case_id, ref = await open_case(h)
    await h.press(LEADER, f"v1:imp:{case_id}")
    async with h.services.db.write() as conn:
        await conn.execute("UPDATE cases SET confirmation = 'pending' WHERE id = ?", (case_id,))
    assert await case_actions.rule_out(h.services, case_id, LEADER, "领导")
    await send_file(h, LEADER, xlsx([HEADER, *GOOD_ROWS]), "密接名单.xlsx", "f1")
    summary = h.texts(LEADER)[-1]
    assert f"病例 {ref} 已排除" in summary and "名单都没有导入" in summary
    assert await stored_contacts(h, case_id) == []
    assert await audits(h, "contact.import") == []
    assert await audits(h, "contact.import_refused") == [
        (LEADER, f"case:{case_id}",
         {"file": "密接名单.xlsx", "rows": 2, "accepted": 2, "rejected": []}),
    ]  # fmt: skip
    assert await h.services.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (LEADER,)) is None


async def test_a_bad_row_imports_nothing_and_names_every_reason(harness: Harness) -> None:
    h = harness
    case_id, ref = await open_case(h)
    await h.text(LEADER, f"/import_contacts {ref.lower()}")
    bad = [
        *GOOD_ROWS,
        ["赵六", 5.10102198503150e17, None, "石桥村3组", "2020-10-24", "密接", "石桥村", "1"],
        ["钱七", None, "12345", "杉坪村", "明天", "接触者", "东风村", None],
    ]
    csv = "\n".join(",".join("" if c is None else str(c) for c in row) for row in [HEADER, *bad])
    await send_file(h, LEADER, csv.encode("gbk"), "名单.csv", "f2")

    summary = h.texts(LEADER)[-1]
    assert "名单没有导入" in summary and "不合格 2 行" in summary
    assert "第4行</b>（赵六）\n　· 身份证号：身份证号被 Excel 存成了数字" in summary
    assert "第5行</b>（钱七）\n" in summary and "本镇没有“东风村”这个村（社区）" in summary
    assert "“接触者”不是接触类别" in summary
    assert await stored_contacts(h, case_id) == []  # the good rows neither
    assert await audits(h, "contact.import_rejected") == [
        (LEADER, f"case:{case_id}", {"file": "名单.csv", "rows": 4, "accepted": 2,
                                     "rejected": [4, 5]}),
    ]  # fmt: skip

    # the question stays open: the fixed file goes in whole
    await send_file(h, LEADER, xlsx([HEADER, *GOOD_ROWS]), "名单（改）.xlsx", "f3")
    assert "共 2 人全部导入" in h.texts(LEADER)[-1]
    assert len(await stored_contacts(h, case_id)) == 2


async def test_file_problems_are_said_and_the_file_asked_again(harness: Harness) -> None:
    h = harness
    case_id, _ = await open_case(h)
    await h.press(LEADER, f"v1:imp:{case_id}")
    await h.text(LEADER, "张三 13800138000")
    assert "作为文件发送" in h.texts(LEADER)[-2]
    assert "导入密接名单" in h.texts(LEADER)[-1]  # the same question again

    await send_file(h, LEADER, xlsx([["姓名", "住址"], ["张三", "幸福小区"]]), "a.xlsx", "f4")
    assert "缺少这些列" in h.texts(LEADER)[-2]
    assert "“末次接触时间”" in h.texts(LEADER)[-2]
    assert "“联系电话”或“身份证号”" in h.texts(LEADER)[-2]

    await send_file(h, LEADER, b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "old.xls", "f5")
    assert "老版本的 Excel" in h.texts(LEADER)[-2]

    h.request.files["big"] = b""
    big = {"file_id": "big", "file_unique_id": "ubig", "file_name": "big.xlsx",
           "file_size": 3 * 1024 * 1024}  # fmt: skip
    calls = await h.send(LEADER, document=big)
    assert "文件太大了，最大 2.0 MB" in h.texts(LEADER)[-2]
    assert not any(c.method == "getFile" for c in calls)  # not fetched at all
    assert await stored_contacts(h, case_id) == []


async def test_out_of_scope_refused_and_audited(harness: Harness) -> None:
    h = harness
    case_id, ref = await open_case(h)
    await h.press(WORKER, f"v1:imp:{case_id}")
    await h.text(WORKER, f"/import_contacts {ref}")
    await h.press(WORKER, "v1:imp:999")  # no such case: the same refusal
    denied = await h.services.db.fetchall(
        "SELECT actor, subject FROM audit WHERE action = 'denied:contact.import' ORDER BY id"
    )
    assert [tuple(r) for r in denied] == [
        (WORKER, f"case:{case_id}"),
        (WORKER, None),
        (WORKER, "case:999"),
    ]
    assert await h.services.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (WORKER,)) is None
    # a worker's document outside any conversation is not an import
    await send_file(h, WORKER, xlsx([HEADER, *GOOD_ROWS]), "x.xlsx", "f6")
    assert await stored_contacts(h, case_id) == []


async def test_never_in_a_group(harness: Harness) -> None:
    h = harness
    _, ref = await open_case(h)
    payload = h.updates.message(h.updates.user(LEADER), int(h.clock.now().timestamp()),
                                text=f"/import_contacts {ref}")  # fmt: skip
    payload["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "领导小组"}
    calls = await h.feed(payload)
    assert [c for c in calls if c.method == "sendMessage"] == []
    assert await h.services.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (LEADER,)) is None

    # the button pressed on a card in the group: the file is asked for in private
    case_id = (await h.services.db.fetchone("SELECT id FROM cases WHERE ref = ?", (ref,)))["id"]
    press = h.updates.callback(h.updates.user(LEADER), int(h.clock.now().timestamp()),
                               f"v1:imp:{case_id}")  # fmt: skip
    press["callback_query"]["message"]["chat"] = {"id": GROUP, "type": "supergroup", "title": "g"}
    calls = await h.feed(press)
    sent = [c for c in calls if c.method == "sendMessage"]
    assert sent and all(int(c.params["chat_id"]) == LEADER for c in sent)
    assert "导入密接名单" in h.texts(LEADER)[-1]


async def test_unknown_case_and_usage(harness: Harness) -> None:
    h = harness
    await h.text(LEADER, "/import_contacts")
    assert "/import_contacts 加病例编号" in h.texts(LEADER)[-1]
    await h.text(LEADER, "/import_contacts XF-BL-20201026-99")
    assert "没有找到病例 XF-BL-20201026-99" in h.texts(LEADER)[-1]
    await h.text(LEADER, "/import_contacts <XF&>")
    assert "没有找到病例 &lt;XF&amp;&gt;" in h.texts(LEADER)[-1]  # HTML: shown as typed


async def test_a_long_rejection_is_split_under_telegrams_limit(harness: Harness) -> None:
    h = harness
    await open_case(h)
    rows = [[f"张{chr(0x4E00 + i)}", None, None, "幸福小区", "2020-10-24", "密接", "先锋社区",
             "1"] for i in range(300)]  # fmt: skip
    parsed = parse_file(xlsx([HEADER, *rows]), service.town(h.config), date(2020, 10, 26))
    outcome = service.Outcome(service.REJECTED, "XF-BL-20201026-01")
    parts = service.summary(h.services, "zh_CN", outcome, parsed, "名单.xlsx")
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert sum(p.count("联系电话和身份证号至少要填一个") for p in parts) == 300
    english = service.summary(h.services, "en", outcome, parsed, "list.xlsx")
    assert "Row 2</b> (" in english[0] and "A phone or an ID number is needed" in english[0]


async def test_a_failure_midway_leaves_nothing_half_imported(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row added, then the transaction fails before it commits: none of it stays, no
    worker is told, and the file can be sent again."""
    h = harness
    case_id, _ = await open_case(h)
    real = contacts.add_all

    async def add_then_fail(*args: object, **kwargs: object) -> object:
        await real(*args, **kwargs)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(contacts, "add_all", add_then_fail)
    await h.press(LEADER, f"v1:imp:{case_id}")
    await send_file(h, LEADER, xlsx([HEADER, *GOOD_ROWS]), "名单.xlsx", "f7")
    assert await stored_contacts(h, case_id) == []
    assert await h.services.db.fetchone("SELECT 1 FROM contacts") is None
    assert (
        await h.services.db.fetchone("SELECT 1 FROM outbox WHERE chat_id IN (30001, 30003, 20002)")
        is None
    )
    assert await audits(h, "contact.import") == []

    monkeypatch.setattr(contacts, "add_all", real)
    await send_file(h, LEADER, xlsx([HEADER, *GOOD_ROWS]), "名单.xlsx", "f8")
    assert len(await stored_contacts(h, case_id)) == 2


async def test_what_the_file_says_is_shown_as_written(harness: Harness) -> None:
    """Cells and header names are the sender's text: escaped exactly once."""
    h = harness
    case_id, _ = await open_case(h)
    odd = "a<b>&c"
    h.typed += [odd, "x<y>"]  # shown as written: not markup the bot left visible
    await h.press(LEADER, f"v1:imp:{case_id}")
    rows = [[*HEADER, "x<y>"], [*GOOD_ROWS[0][:5], odd, "先锋社区", "1", ""]]
    await send_file(h, LEADER, xlsx(rows), "<名单>&.xlsx", "f9")
    sent = h.request.sent_to(LEADER)[-1].params["text"]
    assert "“a&lt;b&gt;&amp;c”不是接触类别" in sent
    assert "以下列没有用到：x&lt;y&gt;" in sent
    assert "文件：&lt;名单&gt;&amp;.xlsx" in sent
