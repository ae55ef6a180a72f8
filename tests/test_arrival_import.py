"""A unit's arrivals in bulk (批量导入): the liaison (or staff who follow the unit) sends a
spreadsheet in private; every row is checked as the arrival form checks an answer and the
whole file is stored in one transaction as the unit's arrival reports — risk, the group's
alert, monitoring, the ladder, dedup — or, with any rejected row, nothing at all, with the
reason per row. The same file sent again is not imported twice; a liaison of another unit is
refused and audited."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from openpyxl import Workbook, load_workbook

from bot.actions import arrival_import as service
from bot.domain import arrival_import as domain
from bot.domain.parsing import id_check_char
from tests.harness import Harness
from tests.staff_helpers import (
    LEADERS_CHAT,
    RESIDENT,
    VADMIN_XF,
    WORKER_XF01,
    WORKER_XF02,
    seed_report,
)
from tests.test_arrival_flow import submit
from tests.test_release import uploads

LIAISON = 40401  # 先锋宾馆 (xfhotel: a hotel in grid XF01 of 先锋社区)


def _id(first17: str) -> str:
    return first17 + id_check_char(first17)


ID_A = _id("50011619900101123")
ID_B = _id("51010219850315002")
ID_C = _id("11010519491231002")
HEADER = ["姓名", "手机号", "证件号码", "来自（省市区县）", "抵达日期", "交通方式", "车次航班",
          "健康码", "体温", "入住日期", "退房日期", "房间号", "途经", "症状"]  # fmt: skip
KASHGAR = ["张三", "13800138000", ID_A, "新疆喀什地区", date(2020, 10, 25), "火车", "G1234",
           "绿码", 36.5, date(2020, 10, 25), "2020-10-28", "301", "无", "无"]  # fmt: skip
JIANGJIN = ["李四", "13900139000", ID_B, "重庆市江津区", "2020-10-26", "自驾", "渝A12345",
            "绿码", "36.4", "2020-10-26", "后天", "302", "无", "无"]  # fmt: skip


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv(rows: list[list[Any]], encoding: str = "gbk") -> bytes:
    text = "\n".join(",".join("" if c is None else str(c) for c in row) for row in rows)
    return text.encode(encoding)


async def send_file(h: Harness, user: int, data: bytes, name: str, file_id: str) -> None:
    h.request.files[file_id] = data
    document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                "file_size": len(data)}  # fmt: skip
    await h.send(user, document=document)


async def reports(h: Harness) -> list[tuple]:
    rows = await h.services.db.fetchall(
        """SELECT p.name, r.unit_id, r.relation, r.village_id, r.grid_id, r.address, r.risk,
                  r.alert, r.reporter_user_id, r.version
           FROM reports r JOIN persons p ON p.report_id = r.id AND p.idx = 0 ORDER BY r.id"""
    )
    return [tuple(r) for r in rows]


async def audits(h: Harness, action: str) -> list[tuple[int, str, Any]]:
    rows = await h.services.db.fetchall(
        "SELECT actor, subject, detail FROM audit WHERE action = ? ORDER BY id", (action,)
    )
    return [(r["actor"], r["subject"], json.loads(r["detail"] or "null")) for r in rows]


async def test_bad_rows_import_nothing_and_each_reason_is_named(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/import_arrivals")
    question = h.texts(LIAISON)[-1]
    assert "批量导入 · 先锋宾馆" in question and "最多 500 人" in question
    assert h.buttons(LIAISON) == [("📥 下载模板", "v1:bi:t:xfhotel")]

    bad = [
        KASHGAR,
        ["王五", "13700137000", ID_C, "山东省", "2020-10-25", "飞机", "CA4321", "绿码", 36.5,
         "2020-10-25", "2020-10-27", "303", "无", "无"],
        ["赵六", "13600136000", 5.10102198503150e17, "朝阳区", "2020-10-25", "坐船", None,
         "蓝码", None, "2020-10-25", "2020-10-27", "304", "无", "无"],
        ["张三", "13800138000", ID_A, "新疆喀什地区", "2020-10-25", "火车", "G1234", "绿码",
         36.5, "2020-10-25", "2020-10-28", "301", "无", "无"],
        ["钱七", "13500135000", _id("50011619800101123"), "重庆市江津区", "2020-10-25",
         "其他", None, "绿码", 36.6, "2020-10-27", "2020-10-29", None, "无", "无"],
    ]  # fmt: skip
    sent = csv([HEADER, *bad])
    await send_file(h, LIAISON, sent, "名单.csv", "f1")

    summary = h.texts(LIAISON)[-1]
    assert "名单没有导入 · 先锋宾馆" in summary and "不合格 4 行" in summary
    assert "第3行</b>（王五）\n　· 来自（省市区县）：只写了“山东省”，这里面有重点地区" in summary
    assert "第4行</b>（赵六）" in summary
    assert "证件号码：身份证号被 Excel 存成了数字" in summary
    assert "“朝阳区”有好几个地方：北京市 朝阳区、" in summary
    assert "交通方式：“坐船”看不懂。请填：自驾、火车、飞机、长途客车或其他。" in summary
    assert "健康码：“蓝码”看不懂。请填：绿码、黄码或红码。" in summary
    assert "体温：没有填写。" in summary
    assert "第5行</b>（张三）\n　· 人员：和第2行是同一个人，请合并成一行。" in summary
    assert "第6行</b>（钱七）" in summary and "房间号：没有填写。" in summary
    assert await reports(h) == []  # the good row neither
    assert await audits(h, "arrival.import_rejected") == [
        (LIAISON, "unit:xfhotel", {"file": "名单.csv", "digest": service.digest(sent), "rows": 5,
                                   "accepted": 1, "rejected": [3, 4, 5, 6]}),
    ]  # fmt: skip

    # the question stays open: the fixed file (a GBK CSV, as Excel saves one) goes in whole
    await send_file(h, LIAISON, csv([HEADER, KASHGAR, JIANGJIN]), "名单（改）.csv", "f2")
    assert "人员名单已导入 · 先锋宾馆" in h.texts(LIAISON)[-1]
    assert [r[0] for r in await reports(h)] == ["张三", "李四"]


async def test_a_valid_file_is_every_rule_of_the_arrival_report(harness: Harness) -> None:
    h = harness
    # 李四 reported himself yesterday: the row brings that report up to date (dedup)
    await seed_report(h, name="李四", phone="13900139000", id_number=ID_B)
    await h.drain_outbox()
    await h.text(LIAISON, "/import_arrivals")
    data = xlsx([HEADER, KASHGAR, JIANGJIN])
    await send_file(h, LIAISON, data, "住客.xlsx", "f1")

    summary = h.texts(LIAISON)[-1]
    assert "共 2 人全部登记：新登记 1 人，更新原有登记 1 人。" in summary
    assert "其中 <b>1 人</b>来自重点地区或有异常，已报告镇防控领导小组。" in summary
    stored = await reports(h)
    assert stored == [
        ("李四", "xfhotel", "venue_guest", "xf", "XF01", "先锋镇先锋街", "low", 0, LIAISON, 2),
        ("张三", "xfhotel", "venue_guest", "xf", "XF01", "先锋镇先锋街", "high_risk", 1,
         LIAISON, 1),
    ]  # fmt: skip
    # monitoring for both, the verification deadline on the ladder for both
    watched = await h.services.db.fetchall(
        "SELECT r.risk, m.kind FROM monitoring m JOIN reports r ON r.id = m.report_id"
    )
    assert [tuple(w) for w in watched] == [("high_risk", "centralized_isolation")]
    climbing = await h.services.db.fetchall(
        "SELECT subject FROM escalations WHERE kind = 'arrival'"
    )
    assert len(climbing) == 2
    # the group is alerted about 张三 (masked), the grid worker told of both
    await h.drain_outbox()
    group = "\n".join(h.texts(LEADERS_CHAT))
    assert "张*" in group and "13800138000" not in group
    assert len([t for t in h.texts(WORKER_XF01) if "先锋社区第1网格" in t]) >= 2
    assert [a[1:] for a in await audits(h, "arrival.import")] == [
        ("unit:xfhotel", {"file": "住客.xlsx", "digest": service.digest(data),
                          "rows": 2, "accepted": 2, "rejected": [], "added": 1, "updated": 1,
                          "unchanged": 0, "alerts": 1}),
    ]  # fmt: skip
    assert (
        await h.services.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (LIAISON,)) is None
    )


async def test_the_same_file_again_is_not_imported_twice(harness: Harness) -> None:
    h = harness
    data = csv([HEADER, KASHGAR, JIANGJIN], "utf-8-sig")
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, data, "a.csv", "f1")
    await h.drain_outbox()
    before = len(h.texts(LEADERS_CHAT))
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, data, "a（再发）.csv", "f2")
    assert "这份名单已经导入过了 · 先锋宾馆" in h.texts(LIAISON)[-1]
    assert [(r[0], r[-1]) for r in await reports(h)] == [("张三", 1), ("李四", 1)]
    await h.drain_outbox()
    assert len(h.texts(LEADERS_CHAT)) == before  # no second alert
    assert len(await audits(h, "arrival.import_repeated")) == 1


async def test_a_liaison_of_another_unit_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/import_arrivals park")
    await h.press(LIAISON, "v1:bi:o:park")
    await h.press(LIAISON, "v1:bi:t:park")
    await h.text(LIAISON, "/import_arrivals nosuch")
    denied = await h.services.db.fetchall(
        "SELECT actor, subject FROM audit WHERE action = 'denied:unit.import' ORDER BY id"
    )
    assert [tuple(r) for r in denied] == [(LIAISON, "unit:park")] * 3 + [(LIAISON, "unit:nosuch")]
    assert "您没有权限" in h.texts(LIAISON)[-1]
    assert (
        await h.services.db.fetchone("SELECT 1 FROM drafts WHERE user_id = ?", (LIAISON,)) is None
    )
    assert (
        await h.services.db.fetchone("SELECT 1 FROM outbox WHERE chat_id = ?", (LIAISON,)) is None
    )


async def test_the_grid_worker_imports_for_a_unit_of_his_grid(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF02, "/import_arrivals park")
    assert "批量导入 · 先锋镇中小企业创业园" in h.texts(WORKER_XF02)[-1]
    header = ["姓名", "手机号", "身份证号", "来自", "抵达日期", "交通方式", "车次", "健康码",
              "体温", "类别", "宿舍", "症状", "途经"]  # fmt: skip
    row = ["孙八", "13300133000", ID_C, "四川省成都市武侯区", "2020-10-24", "长途客车", "K123",
           "绿码", 37.6, "员工", "3栋201", "发热、干咳", "无"]  # fmt: skip
    await send_file(h, WORKER_XF02, xlsx([header, row]), "员工.xlsx", "f1")
    assert "共 1 人全部登记" in h.texts(WORKER_XF02)[-1]
    stored = await reports(h)
    assert [s[:6] for s in stored] == [
        ("孙八", "park", "staff", "xf", "XF02", "先锋镇创业大道 3栋201"),
    ]
    assert stored[0][7] == 1  # fever and symptoms: alerted as the form would


async def test_the_template_downloads_and_reads_back(harness: Harness) -> None:
    h = harness
    sent = uploads(h)
    await h.text(LIAISON, "/import_arrivals")
    await h.choose(LIAISON, "下载模板")
    await h.drain_outbox()
    [(chat, name, data)] = sent
    assert (chat, name) == (LIAISON, "单位人员报到模板.xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    assert header == list(domain.template_header(english=False))
    assert sheet["B2"].number_format == "@"  # the phone column: text, never a number
    required = {c.value for c in sheet[1] if c.font.bold}
    assert {"姓名", "途经", "症状", "体温"} <= required and "人员类别" not in required
    assert len(await audits(h, "arrival.import_template")) == 1
    # filled in from row 2 as a liaison does (the digit columns already text), it goes in
    filled = {"name": "李四", "phone": "13900139000", "id_number": ID_B, "origin": "重庆市江津区",
              "travel": "无", "arrival_date": "2020-10-26", "transport": "自驾",
              "trip": "渝A12345", "relation": "住客", "health_code": "绿码",
              "temperature": "36.4", "symptoms": "无", "checkin_date": "2020-10-26",
              "checkout_date": "2020-10-28", "room": "302"}  # fmt: skip
    for position, column in enumerate(domain.COLUMNS, start=1):
        sheet.cell(row=2, column=position, value=filled.get(column.key))
    out = io.BytesIO()
    sheet.parent.save(out)
    await send_file(h, LIAISON, out.getvalue(), name, "f1")
    assert "共 1 人全部登记" in h.texts(LIAISON)[-1]


async def test_staff_choose_among_their_units_and_residents_are_refused(harness: Harness) -> None:
    h = harness
    await h.text(VADMIN_XF, "/import_arrivals")
    assert "请选择要导入人员名单的单位" in h.texts(VADMIN_XF)[-1]
    assert h.buttons(VADMIN_XF) == [("先锋宾馆", "v1:bi:o:xfhotel"),
                                    ("先锋镇中小企业创业园", "v1:bi:o:park")]  # fmt: skip
    await h.choose(VADMIN_XF, "先锋宾馆")
    assert "批量导入 · 先锋宾馆" in h.texts(VADMIN_XF)[-1]
    menu = service.menu_button(h.services, "zh_CN", "xfhotel")
    assert menu == {"text": "📋 批量导入", "callback_data": "v1:bi:o:xfhotel"}

    await h.text(RESIDENT, "/import_arrivals")
    assert "您没有权限" in h.texts(RESIDENT)[-1]
    denied = await h.services.db.fetchall(
        "SELECT actor, subject FROM audit WHERE action = 'denied:unit.import'"
    )
    assert [tuple(r) for r in denied] == [(RESIDENT, None)]


async def test_symptoms_and_travel_must_be_answered(harness: Harness) -> None:
    # a sick guest, or one who came through a key district, is never passed as "none"
    h = harness
    await h.text(LIAISON, "/import_arrivals")
    assert "途经、症状" in h.texts(LIAISON)[-1]
    no_symptoms = [HEADER[:-1], JIANGJIN[:-1]]
    await send_file(h, LIAISON, xlsx(no_symptoms), "a.xlsx", "f1")
    assert "表头）缺少这些列：“症状”。" in "\n".join(h.texts(LIAISON)[-2:])
    blank_travel = [*JIANGJIN[:-2], None, "无"]
    await send_file(h, LIAISON, xlsx([HEADER, KASHGAR, blank_travel]), "b.xlsx", "f2")
    summary = h.texts(LIAISON)[-1]
    assert "不合格 1 行" in summary and "第3行</b>（李四）\n　· 途经：没有填写。" in summary
    assert await reports(h) == []


async def test_imported_rows_are_the_units_list_not_guests_scanning(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, xlsx([HEADER, KASHGAR, JIANGJIN]), "住客.xlsx", "f1")
    await h.drain_outbox()
    assert [t for t in h.texts(LIAISON) if "🛎" in t or "扫码" in t] == []
    group = "\n".join(h.texts(LEADERS_CHAT))
    assert "单位：<b>先锋宾馆</b>（单位批量导入）" in group and "扫码" not in group
    worker = [t for t in h.texts(WORKER_XF01) if "先锋宾馆" in t]
    assert len(worker) == 2 and all("（单位批量导入）" in t for t in worker)


async def test_an_imported_report_corrected_in_chat_is_the_liaisons_registration(
    harness: Harness,
) -> None:
    """A correction does not carry the first version's provenance: the liaison corrects an
    imported row in chat, and the worker's notice says the liaison registered it."""
    h = harness
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, xlsx([HEADER, JIANGJIN]), "住客.xlsx", "f1")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT id FROM reports")
    await h.press(LIAISON, f"v1:my:correct:{row['id']}")
    assert "请核对登记信息" in h.texts(LIAISON)[-1]
    await submit(h, LIAISON)
    await h.drain_outbox()
    notice = h.texts(WORKER_XF01)[-1]
    assert "先锋宾馆" in notice and "单位联络员登记" in notice and "批量导入" not in notice


async def test_a_cumulative_list_imports_only_what_changed(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, xlsx([HEADER, KASHGAR, JIANGJIN]), "10-25.xlsx", "f1")
    await h.drain_outbox()
    told = len(h.texts(WORKER_XF01)), len(h.texts(LEADERS_CHAT))
    # the next day's list: yesterday's two again (李四's temperature taken again), one new
    wang = ["王五", "13700137000", ID_C, "重庆市江津区", "2020-10-26", "其他", None, "绿码",
            36.6, "2020-10-26", "2020-10-28", "303", "无", "无"]  # fmt: skip
    changed = [*JIANGJIN[:8], "36.8", *JIANGJIN[9:]]
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, xlsx([HEADER, KASHGAR, changed, wang]), "10-26.xlsx", "f2")
    summary = h.texts(LIAISON)[-1]
    assert "共 3 人：新登记 1 人，更新原有登记 1 人，1 人和已有登记相同、没有改动。" in summary
    assert "已报告镇防控领导小组" not in summary
    assert [(r[0], r[-1]) for r in await reports(h)] == [("张三", 1), ("李四", 2), ("王五", 1)]
    await h.drain_outbox()
    assert len(h.texts(LEADERS_CHAT)) == told[1]  # 张三 is not alerted about again
    worker = h.texts(WORKER_XF01)[told[0] :]
    assert len(worker) == 2 and not [t for t in worker if "张*" in t]
    [(_, _, detail)] = (await audits(h, "arrival.import"))[1:]
    assert (detail["added"], detail["updated"], detail["unchanged"]) == (1, 1, 1)
    # the same list once more: nothing new at all
    await h.text(LIAISON, "/import_arrivals")
    await send_file(h, LIAISON, xlsx([HEADER, KASHGAR, changed]), "10-27.xlsx", "f3")
    assert "共 2 人都和已有登记相同，没有改动。" in h.texts(LIAISON)[-1]
    assert [r[-1] for r in await reports(h)] == [1, 2, 1]


async def test_the_template_is_built_outside_the_write_lock(harness: Harness, monkeypatch) -> None:
    h = harness
    built: list[bool] = []
    original = service.template_file

    def template_file(locale: str) -> tuple[str, bytes]:
        built.append(h.services.db._lock.locked())
        return original(locale)

    monkeypatch.setattr(service, "template_file", template_file)
    await h.text(LIAISON, "/import_arrivals")
    await h.choose(LIAISON, "下载模板")
    assert built == [False]
