"""Exports through the bot (/export, /audit) and on the server (paicha export, paicha audit):
the file arrives as a document and reads back with the rows; a village admin's file holds
only their villages' people, in full; a leader's the whole town's, masked; a worker is
refused and audited; every export is audited with its range, rows, files and masking; the
audit log's own file lists an export and a refusal."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from bot import cli
from bot.runtime import registers as writer
from bot.runtime.clock import ManualClock
from tests.conftest import example_config
from tests.harness import Harness
from tests.staff_helpers import ADMIN, LEADER, REFUSED, VADMIN_XF, WORKER_XF01, seed_report
from tests.test_backup import config_file, database  # noqa: F401  (a fixture, a helper)
from tests.test_release import uploads

XF_ID, SQ_ID = "11010519491231002X", "500101199001011234"
XF_ID_MASKED = "1101**********002X"


async def seeded(h: Harness) -> None:
    """李四 of 先锋社区 (XF01) and 王五 of 石桥村 (SQ01), arrived on 25 October; LEADER is a member
    of the leadership group."""
    h.request.members[LEADER] = "member"
    await seed_report(h)
    await seed_report(h, grid="SQ01", village="sq", name="王五", phone="13800138000",
                      id_number=SQ_ID)  # fmt: skip


def cells(data: bytes) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def flat(rows: list[list[object]]) -> set[str]:
    return {str(v) for row in rows for v in row if v is not None}


async def export_by_chat(h: Harness, user: int, register: str, span: str, fmt: str = "Excel",
                         typed: str | None = None) -> list[tuple[int, str, bytes]]:  # fmt: skip
    """/export, the register's button, the range's (or ``typed``), the format's: the
    documents the outbox then sends (chat, file name, bytes)."""
    sent = uploads(h)
    await h.text(user, "/export")
    await h.choose(user, register)
    if typed is None:
        await h.choose(user, span)
    else:
        await h.text(user, typed)
    await h.choose(user, fmt)
    await h.drain_outbox()
    return sent


async def exports_audited(h: Harness) -> list[tuple]:
    rows = await h.db.fetchall(
        "SELECT actor, action, subject, detail FROM audit"
        " WHERE action IN ('export', 'audit.export') ORDER BY id"
    )
    return [(r["actor"], r["action"], r["subject"], json.loads(r["detail"])) for r in rows]


async def test_a_leader_exports_the_towns_arrivals_masked(harness: Harness) -> None:
    h = harness
    await seeded(h)
    sent = await export_by_chat(h, LEADER, "来返人员", "近7天")
    ((chat, name, data),) = sent
    assert chat == LEADER
    assert name == "先锋镇-来返人员登记台账-20201020-20201026.xlsx"
    rows = cells(data)
    assert "先锋镇" in str(rows[0][0]) and "来返人员登记台账" in str(rows[0][0])
    shown = flat(rows)
    assert XF_ID_MASKED in shown and XF_ID not in shown and SQ_ID not in shown
    assert "李四" not in shown and "李*" in shown and "王*" in shown
    assert any("部分隐藏" in t for t in h.texts(LEADER))
    ((actor, action, subject, detail),) = await exports_audited(h)
    assert (actor, action, subject) == (LEADER, "export", "arrivals")
    assert detail == {"from": "2020-10-20", "to": "2020-10-26", "rows": 2, "files": 1,
                      "masked": True, "format": "xlsx"}  # fmt: skip
    # the document's bytes are not kept once sent (personal data at rest)
    row = await h.db.fetchone("SELECT photo FROM outbox WHERE kind = 'document'")
    assert row["photo"] is None


async def test_a_village_admin_gets_their_villages_people_in_full(harness: Harness) -> None:
    h = harness
    await seeded(h)
    ((_, _, data),) = await export_by_chat(h, VADMIN_XF, "来返人员", "", typed="10月1日-10月26日")
    shown = flat(cells(data))
    assert XF_ID in shown and "李四" in shown
    assert SQ_ID not in shown and "王五" not in shown and "王*" not in shown
    ((_, _, _, detail),) = await exports_audited(h)
    assert (detail["rows"], detail["masked"], detail["from"]) == (1, False, "2020-10-01")


async def test_csv_reads_back_in_excel_with_the_ids_whole(harness: Harness) -> None:
    h = harness
    await seeded(h)
    ((_, name, data),) = await export_by_chat(h, ADMIN, "来返人员", "全部", fmt="CSV")
    assert name == "先锋镇-来返人员登记台账-20201026.csv"
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese
    text = "\n".join(",".join(r) for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert XF_ID in text and SQ_ID in text and "李四" in text


async def test_in_english_the_questions_the_caption_and_the_file(harness: Harness) -> None:
    h = harness
    await seeded(h)
    sent = uploads(h)
    await h.text(ADMIN, "/export", lang="en")
    for label in ("Arrivals", "All", "Excel"):
        await h.choose(ADMIN, label, lang="en")
    await h.drain_outbox()
    ((_, name, data),) = sent
    assert name.startswith("先锋镇-") and name.endswith("-20201026.xlsx")
    assert XF_ID in flat(cells(data))
    captions = [c.params["caption"] for c in h.request.calls if c.method == "sendDocument"]
    assert captions == ["Arrivals (all), 2 records"]


async def test_a_worker_is_refused_and_audited(harness: Harness) -> None:
    h = harness
    sent = uploads(h)
    await h.text(WORKER_XF01, "/export")
    await h.text(WORKER_XF01, "/audit")
    await h.drain_outbox()
    assert sent == [] and [REFUSED in t for t in h.texts(WORKER_XF01)] == [True, True]
    rows = await h.db.fetchall("SELECT action FROM audit WHERE actor = ?", (WORKER_XF01,))
    assert [r["action"] for r in rows] == ["denied:export", "denied:audit.export"]


async def test_the_registers_offered_and_the_audit_log_is_the_admins(harness: Harness) -> None:
    h = harness
    await h.text(VADMIN_XF, "/export")
    labels = [label for label, _ in h.buttons(VADMIN_XF)]
    assert labels[:2] == ["来返人员", "居家健康监测"] and "操作日志" not in labels
    h.request.members[LEADER] = "member"
    await h.text(LEADER, "/audit")
    assert REFUSED in h.texts(LEADER)[-1]


async def test_a_bad_typed_range_is_asked_again_with_the_reason(harness: Harness) -> None:
    h = harness
    await h.text(ADMIN, "/export")
    await h.choose(ADMIN, "来返人员")
    question = h.texts(ADMIN)[-1]
    await h.text(ADMIN, "10月20日-10月1日")
    reason, again = h.texts(ADMIN)[-2:]
    assert reason != question and again == question
    await h.text(ADMIN, "前几天")
    assert h.texts(ADMIN)[-1] == question


async def test_the_audit_log_lists_an_export_and_a_refusal(harness: Harness) -> None:
    h = harness
    await seeded(h)
    await export_by_chat(h, LEADER, "来返人员", "今天")
    await h.text(WORKER_XF01, "/export")
    sent = uploads(h)
    await h.text(ADMIN, "/audit")
    await h.choose(ADMIN, "今天")
    await h.choose(ADMIN, "Excel")
    await h.drain_outbox()
    ((chat, name, data),) = sent
    assert (chat, name) == (ADMIN, "先锋镇-操作日志-20201026-20201026.xlsx")
    shown = flat(cells(data))
    assert {"导出台账", "被拒绝：导出台账"} <= shown  # the audit log in words
    audited = await exports_audited(h)
    assert [(a, s) for _, a, s, _ in audited] == [("export", "arrivals"), ("audit.export", "audit")]


async def test_a_large_register_comes_in_parts(harness: Harness, monkeypatch) -> None:
    h = harness
    await seeded(h)
    monkeypatch.setattr(writer, "MAX_BYTES", 1)  # every row passes it: a part each
    monkeypatch.setattr(writer, "CHECK_ROWS", 1)
    sent = await export_by_chat(h, ADMIN, "来返人员", "全部")
    assert [name for _, name, _ in sent] == [
        "先锋镇-来返人员登记台账-20201026-1.xlsx",
        "先锋镇-来返人员登记台账-20201026-2.xlsx",
    ]
    captions = [c.params["caption"] for c in h.request.calls if c.method == "sendDocument"]
    assert ["第1/2部分" in captions[0], "第2/2部分" in captions[1]] == [True, True]
    ((_, _, _, detail),) = await exports_audited(h)
    assert (detail["rows"], detail["files"]) == (2, 2)


# --- on the server -----------------------------------------------------------------------


@pytest.fixture
def filled_database(config_file: Path, clock: ManualClock) -> Path:  # noqa: F811
    """The example town's database beside its config, with 李四 and 王五 in it."""
    config = example_config(config_file.parent)

    async def fill() -> None:
        h = await Harness.start(config, database(config_file), clock)
        try:
            await seeded(h)
        finally:
            await h.stop()

    asyncio.run(fill())
    return config_file


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_paicha_export_writes_the_register_in_full(filled_database: Path, suffix: str,
                                                   capsys) -> None:  # fmt: skip
    out = filled_database.parent / f"arrivals.{suffix}"
    code = cli.main(["export", "arrivals", "--config", str(filled_database), "--from",
                     "2020-10-01", "--to", "2020-10-31", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert capsys.readouterr().out.strip() == f"arrivals: 2 rows written to {out}"
    data = out.read_bytes()
    text = data.decode("utf-8-sig") if suffix == "csv" else "\n".join(flat(cells(data)))
    assert XF_ID in text and SQ_ID in text and "王五" in text


def test_paicha_export_and_audit_are_audited(filled_database: Path, capsys) -> None:
    folder = filled_database.parent
    assert cli.main(["export", "tips", "--config", str(filled_database), "--out",
                     str(folder / "tips.xlsx")]) == 0  # fmt: skip
    assert cli.main(["audit", "--config", str(filled_database), "--from", "2020-01-01", "--to",
                     "2030-12-31", "--out", str(folder / "audit.csv")]) == 0  # fmt: skip
    log = (folder / "audit.csv").read_text(encoding="utf-8-sig")
    assert "导出台账" in log and "tips" in log and '"via": "cli"' in log.replace('""', '"')


@pytest.mark.parametrize(("argv", "reason"), [
    (["export", "people"], "'people' is no register"),
    (["export", "arrivals", "--from", "2020-13-01"], "--from: '2020-13-01' is not a date"),
    (["export", "arrivals", "--from", "2020-11-20", "--to", "2020-11-01"], "is after --to"),
    (["export", "arrivals", "--out", "x.pdf"], "must end in .xlsx or .csv"),
    (["audit", "--from", "2020-11-01", "--to", "soon"], "--to: 'soon' is not a date"),
    (["export", "units", "--out", "/nowhere/units.xlsx"], "no such folder"),
])  # fmt: skip
def test_a_bad_register_date_or_suffix_is_one_line_and_exit_2(
    filled_database: Path, argv: list[str], reason: str, capsys
) -> None:
    out = ["--out", str(filled_database.parent / "x.xlsx")] if "--out" not in argv else []
    code = cli.main([*argv, "--config", str(filled_database), *out])
    err = capsys.readouterr().err.strip()
    assert code == 2 and reason in err and "\n" not in err


def column(rows: list[list[object]], header: str) -> list[object]:
    """The cells under ``header`` (the header row is the one that names it)."""
    top = next(i for i, row in enumerate(rows) if header in row)
    at = rows[top].index(header)
    return [row[at] for row in rows[top + 1 :]]


@pytest.mark.parametrize(("lang", "labels", "header", "word"), [
    ("zh_CN", ("来返人员", "全部", "Excel"), "登记方式", "自主申报"),
    ("en", ("Arrivals", "All", "Excel"), "Registered through", "Self-reported"),
])  # fmt: skip
async def test_the_codes_in_the_cells_read_as_the_registers_words(
    harness: Harness, lang: str, labels: tuple[str, ...], header: str, word: str
) -> None:
    h = harness
    await seeded(h)
    sent = uploads(h)
    await h.text(ADMIN, "/export", lang=lang)
    for label in labels:
        await h.choose(ADMIN, label, lang=lang)
    await h.drain_outbox()
    ((_, _, data),) = sent
    assert column(cells(data), header) == [word, word]


def bad_layout(config: Path) -> Path:
    """The town's own cases layout with a width of 0, named in its config: the problem."""
    own = config.parent / "layouts"
    own.mkdir()
    shipped = writer.shipped() / "cases.toml"
    layout = shipped.read_text(encoding="utf-8").replace("width = ", "width = 0 #", 1)
    (own / "cases.toml").write_text(layout, encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace(
        '[registers]\ndir = ""', '[registers]\ndir = "layouts"'
    )
    config.write_text(text, encoding="utf-8")
    return own / "cases.toml"


@pytest.mark.parametrize("argv", [
    ["export", "arrivals", "--out", "{folder}/a.xlsx"],
    ["audit", "--from", "2020-10-01", "--to", "2020-10-31", "--out", "{folder}/a.csv"],
    ["run"],
])  # fmt: skip
def test_a_bad_town_layout_is_refused_at_start_in_one_line(
    filled_database: Path, argv: list[str], capsys, monkeypatch
) -> None:
    monkeypatch.setenv("PAICHA_BOT_TOKEN", "123:abc")  # run would go on to the Bot API
    where = bad_layout(filled_database)
    folder = str(filled_database.parent)
    argv = [a.format(folder=folder) for a in argv]
    code = cli.main([*argv, "--config", str(filled_database)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err
    assert f"{where}: columns[0].width" in err and "paicha check-config" in err
    assert not (filled_database.parent / "a.xlsx").exists()


def test_a_layout_broken_meanwhile_is_one_line_and_exit_1(
    filled_database: Path, capsys, monkeypatch
) -> None:
    def broken(directory: Path | None) -> None:
        raise writer.LayoutError(["layouts/cases.toml: columns[0].width: 0 is not a whole number"])

    monkeypatch.setattr(writer, "layouts", broken)
    out = filled_database.parent / "cases.xlsx"
    code = cli.main(["export", "cases", "--config", str(filled_database), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert (
        code == 1 and err == "paicha: layouts/cases.toml: columns[0].width: 0 is not a whole number"
    )


def test_paicha_export_files_are_the_owners_alone(filled_database: Path, monkeypatch) -> None:
    monkeypatch.setattr(writer, "MAX_BYTES", 1)  # a part a row: the parts too
    monkeypatch.setattr(writer, "CHECK_ROWS", 1)
    folder = filled_database.parent
    for argv in (["export", "arrivals", "--out", str(folder / "arrivals.xlsx")],
                 ["audit", "--from", "2020-01-01", "--to", "2030-12-31", "--out",
                  str(folder / "audit.csv")]):  # fmt: skip
        assert cli.main([*argv, "--config", str(filled_database)]) == 0
    written = sorted(p.name for p in folder.iterdir() if p.suffix in (".xlsx", ".csv"))
    assert written == ["arrivals-1.xlsx", "arrivals-2.xlsx", "audit.csv"]
    for name in written:
        assert (folder / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("existing", "out"), [
    ("arrivals.xlsx", "arrivals.xlsx"),
    ("arrivals-2.xlsx", "arrivals.xlsx"),  # a part of an earlier export
    ("audit.csv", "audit.csv"),
])  # fmt: skip
def test_paicha_export_keeps_an_existing_file_unless_forced(
    filled_database: Path, existing: str, out: str, capsys
) -> None:
    folder = filled_database.parent
    (folder / existing).write_bytes(b"kept")
    register = ["audit", "--from", "2020-01-01", "--to", "2030-12-31"] if out == "audit.csv" else [
        "export", "arrivals"]  # fmt: skip
    argv = [*register, "--config", str(filled_database), "--out", str(folder / out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert f"{folder / existing} exists" in err and "--force" in err and "\n" not in err
    assert (folder / existing).read_bytes() == b"kept"
    assert cli.main([*argv, "--force"]) == 0
    assert (folder / out).read_bytes() != b"kept"
    assert (folder / existing).exists() is (existing == out)  # a stale part goes too
    assert (folder / out).stat().st_mode & 0o777 == 0o600


def test_paicha_export_names_its_author_and_its_days(filled_database: Path, capsys) -> None:
    folder = filled_database.parent
    argv = ["export", "arrivals", "--config", str(filled_database)]
    assert cli.main([*argv, "--out", str(folder / "a.xlsx")]) == 0
    shown = flat(cells((folder / "a.xlsx").read_bytes()))
    assert any("填报人：系统管理员（服务器导出）" in s for s in shown)
    assert any("统计时段：全部" in s for s in shown)
    assert cli.main([*argv, "--author", "张三", "--out", str(folder / "b.xlsx")]) == 0
    assert any("填报人：张三" in s for s in flat(cells((folder / "b.xlsx").read_bytes())))
    helped = cli.parser().parse_args(["export", "arrivals", "--out", "x.xlsx"])
    assert helped.author is None
