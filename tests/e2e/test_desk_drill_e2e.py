"""The leaders' desk drill (scenarios/desk.toml, issue 14) played against the live bot: two
residents report (one with a companion), the leader's /stats table, its drill-down and trend
chart, /export of the arrivals register as an Excel document (read back from the sandbox's
stored bytes: three people, the companion on a row of his own), the QR posters as a PDF and
/audit's Excel file that lists the export."""

from __future__ import annotations

import io
import json

import openpyxl

from sandbox.state import Message
from tests.e2e.conftest import Live
from tests.e2e.test_drill_e2e import play, texts_with
from tests.e2e.test_units_drill_e2e import stored

ARRIVALS_FILE = "先锋镇-来返人员登记台账-20201114-20201120.xlsx"


def documents(live: Live, key: str) -> list[Message]:
    return [m for m in live.messages(key) if m.document is not None]


def workbook_text(live: Live, message: Message) -> list[list[str]]:
    """The document's first sheet, every cell as text (empty cells left out)."""
    data = live.state.file_by_id(message.document["file_id"]).data
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return [[str(c) for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]


async def test_the_desk_drill_passes_against_the_real_bot(live: Live) -> None:
    await play(live, "desk.toml")
    leader = live.texts("leader")
    # /stats: the town by village (three people reported in 先锋社区), then its grids
    table = next(t for t in leader if "来返人员·按村（社区）" in t)
    assert "先锋社区" in table and "合计：3" in table, table
    assert any("来返人员·按网格" in t and "第1网格" in t for t in leader)
    charts = [m for m in live.messages("leader") if m.photo]
    assert len(charts) == 1 and "来返人员按日趋势" in (charts[0].caption or "")
    # /export: one Excel document, the register's file name, three people in full
    sent = documents(live, "leader")
    names = [m.document.get("file_name") for m in sent]
    assert ARRIVALS_FILE in names, names
    rows = workbook_text(live, sent[names.index(ARRIVALS_FILE)])
    assert "来返人员登记台账" in " ".join(rows[0])
    cells = [c for row in rows for c in row]
    for value in ("王芳", "刘小军", "刘洋", "510107198504200046", "42010319900214001X",
                  "13800000002"):  # fmt: skip
        assert value in cells, f"{value} not in the register: {rows}"
    # the export is audited: who, which register, the range, how many rows
    ((actor, subject, detail),) = stored(
        live, "SELECT actor, subject, detail FROM audit WHERE action = 'export'")  # fmt: skip
    assert (actor, subject) == (live.chat_id("leader"), "arrivals")
    found = json.loads(detail)
    assert {k: found[k] for k in ("from", "to", "rows", "files", "masked", "format")} == {
        "from": "2020-11-14", "to": "2020-11-20", "rows": 3, "files": 1, "masked": False,
        "format": "xlsx"}  # fmt: skip
    # the posters: a PDF; the audit log: an Excel file that lists the export
    assert any((n or "").endswith(".pdf") and "二维码张贴" in n for n in names), names
    assert texts_with(live, "leader", "二维码张贴，共")
    audit = [m for m in sent if "操作日志" in (m.document.get("file_name") or "")]
    assert len(audit) == 1
    assert any("export" in c or "导出" in c for row in workbook_text(live, audit[0]) for c in row)
