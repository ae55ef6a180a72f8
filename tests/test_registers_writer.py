"""The register writer (bot/runtime/registers.py): an XLSX read back as an office would see it
(title rows, header, frozen pane, filter, print setup, real dates, IDs as text, masking, day
columns), split into parts under a size limit, a CSV that LibreOffice opens with IDs intact,
and the layouts in use (shipped, overridden by the town's) as check-config checks them."""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot import cli
from bot.domain.registers import Column, Layout, LayoutError
from bot.runtime import registers
from bot.runtime.registers import Heading, Words, write_csv, write_xlsx
from bot.runtime.render import Renderer

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
ID = "110101199001011234"
LAYOUT = Layout(
    "arrivals",
    "来返人员登记台账",
    "Register of arrivals",
    "来返人员",
    "Arrivals",
    (
        Column("姓名", "Name", "name", 10, "text", "name"),
        Column("身份证号", "ID number", "id_number", 20, "text", "id_number"),
        Column("联系电话", "Phone", "phone", 14, "text", "phone"),
        Column("到达日期", "Arrived", "arrived_on", 12, "date", "none"),
        Column("报告时间", "Reported", "reported_at", 17, "datetime", "none"),
        Column("体温", "Temperature", "temperature", 8, "temperature", "none"),
        Column("同行人数", "Companions", "companions", 8, "integer", "none"),
        Column("住址", "Address", "village ~ ' ' ~ address", 24, "text", "address"),
        Column("每日体温", "Daily", "temps", 11, "days", "none"),
    ),
)
DAYS = (date(2020, 11, 19), date(2020, 11, 20))
HEADING = Heading(
    town="先锋镇",
    office="先锋镇疫情防控工作领导小组办公室",
    author="王建国",
    made_at=datetime(2020, 11, 20, 1, 5, tzinfo=UTC),  # 09:05 in Chongqing
    start=date(2020, 11, 1),
    end=date(2020, 11, 20),
)


def row(n: int = 0) -> dict[str, object]:
    return {
        "name": "张三丰",
        "id_number": ID,
        "phone": "13800138000",
        "arrived_on": date(2020, 11, 19),
        "reported_at": datetime(2020, 11, 19, 16, 30, tzinfo=UTC),  # 00:30 the next day there
        "temperature": 36.54,
        "companions": n,
        "village": "先锋村",
        "address": "三组12号",
        "temps": {date(2020, 11, 19): "36.5 / 36.8"},
    }


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def words(renderer: Renderer, locale: str = "zh_CN") -> Words:
    return Words(renderer.text, locale)


def write(tmp_path: Path, renderer: Renderer, rows, **options) -> registers.Written:
    options = {"entitled": False, "days": DAYS, **options}
    locale = options.pop("locale", "zh_CN")
    return write_xlsx(
        tmp_path / "arrivals.xlsx",
        LAYOUT,
        rows,
        heading=HEADING,
        words=words(renderer, locale),
        tz=TZ,
        **options,
    )


def values(path: Path) -> list[tuple]:
    book = openpyxl.load_workbook(path)
    return [tuple(r) for r in book.active.iter_rows(values_only=True)]


def test_the_register_reads_as_an_office_expects(tmp_path, renderer):
    written = write(tmp_path, renderer, [row(0), row(1)])
    assert written == registers.Written([tmp_path / "arrivals.xlsx"], 2)
    sheet = openpyxl.load_workbook(written.paths[0]).active
    assert sheet.title == "来返人员"
    assert sheet["A1"].value == "先锋镇 来返人员登记台账"
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:J1"]
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 18
    assert sheet["A2"].value == "统计时段：2020年11月1日至2020年11月20日"
    assert sheet["A3"].value == (
        "填报单位：先锋镇疫情防控工作领导小组办公室　　填报人：王建国　　"
        "填报时间：2020年11月20日 09:05"
    )
    header = [c.value for c in sheet[4]]
    assert header == [
        "姓名",
        "身份证号",
        "联系电话",
        "到达日期",
        "报告时间",
        "体温",
        "同行人数",
        "住址",
        "11月19日",
        "11月20日",
    ]
    assert all(c.font.b and c.border.left.style == "thin" for c in sheet[4])
    assert sheet["A4"].fill.fgColor.rgb.endswith("D9D9D9")
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:J6"
    assert sheet.column_dimensions["B"].width == pytest.approx(20, abs=1)


def test_the_print_setup_fits_a_landscape_a4_page_wide(tmp_path, renderer):
    sheet = openpyxl.load_workbook(write(tmp_path, renderer, [row()]).paths[0]).active
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth or 1, int(setup.fitToHeight)) == (1, 0)
    assert sheet.print_title_rows == "$4:$4"
    assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert sheet.oddHeader.center.text == "先锋镇 来返人员登记台账"
    assert sheet.print_options.horizontalCentered


def test_cells_are_real_dates_numbers_and_text(tmp_path, renderer):
    sheet = openpyxl.load_workbook(write(tmp_path, renderer, [row(2)], entitled=True).paths[0])
    cells = list(sheet.active[5])
    name, id_number, phone, arrived, reported, temperature, companions, address = cells[:8]
    assert (name.value, id_number.value, phone.value) == ("张三丰", ID, "13800138000")
    assert id_number.data_type == "s" and id_number.number_format == "@"
    assert phone.data_type == "s"
    assert arrived.value == datetime(2020, 11, 19) and arrived.number_format == "yyyy-mm-dd"
    assert reported.value == datetime(2020, 11, 20, 0, 30)  # the town's time
    assert reported.number_format == "yyyy-mm-dd hh:mm"
    assert temperature.value == 36.54 and temperature.number_format == "0.0"
    assert companions.value == 2 and companions.number_format == "0"
    assert address.value == "先锋村 三组12号"
    assert [c.value for c in cells[8:]] == ["36.5 / 36.8", None]


def test_personal_data_is_masked_unless_the_reader_is_entitled(tmp_path, renderer):
    masked = values(write(tmp_path, renderer, [row()]).paths[0])[4]
    assert masked[:3] == ("张**", "1101**********1234", "138****8000")
    assert masked[7] == "先锋村 三组***"


def test_the_english_register_has_english_words(tmp_path, renderer):
    sheet = openpyxl.load_workbook(write(tmp_path, renderer, [row()], locale="en").paths[0]).active
    assert sheet.title == "Arrivals"
    assert sheet["A1"].value == "先锋镇: Register of arrivals"
    assert sheet["A2"].value == "Period: 1 Nov 2020 to 20 Nov 2020"
    assert sheet["A3"].value.startswith("Filed by: 先锋镇疫情防控工作领导小组办公室")
    assert [c.value for c in sheet[4]][-3:] == ["Address", "Nov 19", "Nov 20"]
    assert sheet.oddFooter.center.text == "Page &P of &N"


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        (None, None, "统计时段：全部"),
        (date(2020, 11, 1), None, "统计时段：2020年11月1日起"),
        (None, date(2020, 11, 20), "统计时段：截至2020年11月20日"),
    ],
)
def test_an_open_period_is_said_so(renderer, start, end, said):
    assert words(renderer)("period", start=start, end=end) == said


def test_words_are_plain_text_not_html(renderer):
    assert words(renderer).office("A&B镇") == "A&B镇疫情防控工作领导小组办公室"


def test_no_rows_still_gives_a_register_with_its_header(tmp_path, renderer):
    written = write(tmp_path, renderer, [], days=())
    sheet = openpyxl.load_workbook(written.paths[0]).active
    assert written.rows == 0
    assert [c.value for c in sheet[4]][-1] == "住址"
    assert sheet.auto_filter.ref == "A4:H4"


def test_a_register_too_big_for_one_file_is_split_into_complete_parts(tmp_path, renderer):
    rows = [row(n) for n in range(3000)]
    written = write(tmp_path, renderer, rows, max_bytes=60_000, entitled=True)
    assert written.rows == 3000
    assert len(written.paths) > 1
    assert written.paths == [
        tmp_path / f"arrivals-{n}.xlsx" for n in range(1, len(written.paths) + 1)
    ]
    assert not (tmp_path / "arrivals.xlsx").exists()
    companions = []
    for path in written.paths:
        assert path.stat().st_size <= 60_000
        table = values(path)
        assert table[0][0] == "先锋镇 来返人员登记台账" and table[3][0] == "姓名"
        companions += [r[6] for r in table[4:]]
    assert companions == list(range(3000))  # every row once, in order


def test_a_part_holds_at_least_one_row_and_none_is_left_empty(tmp_path, renderer, monkeypatch):
    monkeypatch.setattr(registers, "CHECK_ROWS", 1)
    written = write(tmp_path, renderer, [row(0), row(1)], max_bytes=1)
    assert written.paths == [tmp_path / "arrivals-1.xlsx", tmp_path / "arrivals-2.xlsx"]
    assert [[r[6] for r in values(p)[4:]] for p in written.paths] == [[0], [1]]


def test_a_failed_export_leaves_no_file_of_personal_data_behind(tmp_path, renderer, monkeypatch):
    system = tmp_path / "system"
    system.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))  # the system's /tmp
    export = tmp_path / "export"
    export.mkdir()

    def failing():
        yield row()
        raise OSError("disk I/O error")

    with pytest.raises(OSError, match="disk I/O error"):
        write(export, renderer, failing())
    assert list(export.iterdir()) == list(system.iterdir()) == []


def test_a_failed_export_leaves_none_of_its_parts_behind(tmp_path, renderer):
    def failing():
        yield from (row(n) for n in range(1000))
        raise OSError("disk I/O error")

    with pytest.raises(OSError, match="disk I/O error"):
        write(tmp_path, renderer, failing(), max_bytes=30_000)
    assert list(tmp_path.iterdir()) == []


def test_csv_has_a_bom_a_header_iso_dates_and_text_ids(tmp_path, renderer):
    path = tmp_path / "arrivals.csv"
    hostile = {**row(), "name": '=HYPERLINK("http://x")'}
    written = write_csv(
        path, LAYOUT, [row(), hostile], words=words(renderer), tz=TZ, entitled=True, days=DAYS
    )
    assert written == registers.Written([path], 2)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0][-2:] == ["11月19日", "11月20日"]
    assert lines[1] == [
        "张三丰",
        "\t" + ID,
        "\t13800138000",
        "2020-11-19",
        "2020-11-20 00:30",
        "36.5",
        "0",
        "先锋村 三组12号",
        "36.5 / 36.8",
        "",
    ]
    assert lines[2][0] == '\t=HYPERLINK("http://x")'


def test_csv_masks_unless_entitled(tmp_path, renderer):
    path = tmp_path / "arrivals.csv"
    write_csv(path, LAYOUT, [row()], words=words(renderer), tz=TZ, entitled=False)
    with path.open(encoding="utf-8-sig", newline="") as f:
        line = list(csv.reader(f))[1]
    assert line[:3] == ["张**", "1101**********1234", "138****8000"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_csv_with_the_id_whole(tmp_path, renderer):
    path = tmp_path / "arrivals.csv"
    write_csv(path, LAYOUT, [row()], words=words(renderer), tz=TZ, entitled=True, days=DAYS)
    out = tmp_path / "out"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--infilter=CSV:44,34,76,1",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    sheet = openpyxl.load_workbook(out / "arrivals.xlsx").active
    assert sheet["A1"].value == "姓名"
    id_number, phone = sheet["B2"].value, sheet["C2"].value
    assert isinstance(id_number, str) and id_number.strip() == ID and len(id_number.strip()) == 18
    assert isinstance(phone, str) and phone.strip() == "13800138000"
    assert sheet["D2"].value == datetime(2020, 11, 19)


# --- the layouts in use --------------------------------------------------------------------

GOOD = """
title = "来返人员登记台账"
title_en = "Arrivals"
[[columns]]
header = "姓名"
header_en = "Name"
value = "{value}"
"""


@pytest.fixture
def shipped(tmp_path, monkeypatch) -> Path:
    """Shipped layouts for every register, so the tests do not depend on the real ones."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    monkeypatch.setattr(registers, "shipped", lambda: folder)
    monkeypatch.setattr(
        "bot.domain.registers.FIELDS",
        {r: frozenset({"name", "phone"}) for r in registers.REGISTERS},
    )
    for register in registers.REGISTERS:
        (folder / f"{register}.toml").write_text(GOOD.format(value="name"), encoding="utf-8")
    return folder


def test_a_towns_layout_replaces_the_shipped_one(tmp_path, shipped):
    own = tmp_path / "own"
    own.mkdir()
    (own / "tips.toml").write_text(GOOD.format(value="phone"), encoding="utf-8")
    found = registers.layouts(own)
    assert set(found) == set(registers.REGISTERS)
    assert found["tips"].columns[0].value == "phone"
    assert found["arrivals"].columns[0].value == "name"
    assert registers.layouts(None)["tips"].columns[0].value == "name"
    assert registers.problems(own) == []


def test_every_problem_of_the_layouts_in_use_is_named_with_its_file(tmp_path, shipped):
    own = tmp_path / "own"
    own.mkdir()
    (own / "tips.toml").write_text(GOOD.format(value="surname"), encoding="utf-8")
    (own / "visits.toml").write_text("title = ", encoding="utf-8")
    (own / "arrival.toml").write_text(GOOD.format(value="name"), encoding="utf-8")
    (shipped / "audit.toml").unlink()
    found = registers.problems(own)
    assert found[0] == f'{own / "tips.toml"}: columns[0].value: "surname" is not a field of tips'
    assert found[1].startswith(f"{own / 'visits.toml'}: cannot be read (")
    assert found[2] == "templates/registers/audit.toml: no such file"
    assert found[3:] == [
        f"{own / 'arrival.toml'}: not a register ({', '.join(registers.REGISTERS)})"
    ]
    with pytest.raises(LayoutError) as error:
        registers.layouts(own)
    assert error.value.problems == found[:3]
    assert (
        registers.problems(tmp_path / "nowhere")[-1]
        == f"{tmp_path / 'nowhere'}: no such folder (registers.dir)"
    )


def test_check_config_lists_the_layouts_problems(tmp_path, shipped, capsys):
    own = tmp_path / "layouts"
    own.mkdir()
    (own / "cases.toml").write_text(GOOD.format(value="name") + "width = 0\n", encoding="utf-8")
    config = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = config.replace('file = "data/regions.toml"', f'file = "{ROOT / "data/regions.toml"}"')
    config = config.replace('[registers]\ndir = ""', '[registers]\ndir = "layouts"')
    (tmp_path / "c.toml").write_text(config, encoding="utf-8")
    assert cli.main(["check-config", str(tmp_path / "c.toml")]) == 1
    assert capsys.readouterr().out == (
        f"{own / 'cases.toml'}: columns[0].width: 0 is not a whole number 1..100\n"
    )


def test_the_shipped_layouts_are_all_valid():
    assert registers.problems(None) == []
    assert set(registers.layouts(None)) == set(registers.REGISTERS)
