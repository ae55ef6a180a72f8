"""Every register opens in LibreOffice as a town office would open it (issue 14's done-when):
a drill's data written to XLSX, every file converted to PDF in ONE headless LibreOffice run,
each PDF's text holding the register's title, every header of its layout and the drill's
values (names masked or not as written, an ID number whole, as text; dates as dates), page 1
rendered to a PNG that is a real picture, the Chinese drawn with the bundled CJK font. And a
CSV register opened by LibreOffice: the Chinese intact, an ID number still text.

One test function: LibreOffice starts once per conversion (seconds), so the module runs in
one worker. LibreOffice and poppler are Debian packages bin/test installs; missing, the test
FAILS saying so (a skipped test could never fail)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

import bot.runtime
from bot.actions import exports
from bot.actions.exports import Job
from bot.config import Config
from bot.domain.registers import REGISTERS, Layout
from bot.runtime import registers as writer
from bot.runtime.clock import ManualClock
from bot.runtime.registers import Words
from tests.harness import Harness
from tests.registers import drill_data as drill
from tests.registers.drill_data import Seeded

FONTS = Path(bot.runtime.__file__).parent / "fonts"
TOOLS = ("soffice", "pdftotext", "pdftoppm", "pdffonts")
CONVERT_TIMEOUT = 180  # real seconds for one LibreOffice run over every register (loaded CI)
LOCALE = "zh_CN"
AUTHOR = "刘领导"  # 填报人
# what each register must show of the drill (tests/registers/drill_data.py): known answers
EXPECTED: dict[str, tuple[str, ...]] = {
    "arrivals": (
        drill.RESIDENT_NAME,
        drill.RESIDENT_ID,
        *(c[0] for c in drill.COMPANIONS),
        drill.COMPANIONS[0][1],
        "13812345678",
        "2020-10-25",
        "XF-20201026-0001",
        "先锋社区",
        "G1234",
    ),
    "monitoring": (
        drill.RESIDENT_NAME,
        drill.RESIDENT_ID,
        "2020-10-25",
        "2020-10-31",
        *drill.TEMPERATURES,
    ),
    "tips": ("XF-XS-20201026-0001", "先锋街12号2单元301"),
    "visits": ("先锋街1号",),
    "cases": (drill.CASE_NAME, drill.CASE_ID, "幸福小区3栋2单元501"),
    "contacts": (
        drill.CONTACT_NAME,
        drill.CONTACT_ID,
        drill.CONTACT_PHONE,
        "XF-MJ-20201026-0001",
        "2020-10-24",
        drill.CASE_NAME,
    ),
    "isolation": (drill.CONTACT_NAME, drill.CONTACT_ID, "XF-MJ-20201026-0001"),
    "units": ("先锋宾馆",),
    "audit": ("新登记来返人员", "XF-20201026-0001"),
}


def tools() -> dict[str, str]:
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: bin/test installs Debian's "
                    "libreoffice-calc-nogui and poppler-utils (run it as root once)")  # fmt: skip
    return {tool: str(path) for tool, path in found.items()}


def office_env(folder: Path) -> dict[str, str]:
    """The environment of a LibreOffice run: fontconfig also reads the bundled CJK font (no
    Debian font package needed), its cache in this test's folder."""
    conf = folder / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{FONTS}</dir>
  <cachedir>{folder / "fontcache"}</cachedir>
</fontconfig>
""", encoding="utf-8")  # fmt: skip
    return {"PATH": "/usr/bin:/bin", "HOME": str(folder), "FONTCONFIG_FILE": str(conf),
            "LANG": "C.UTF-8"}  # fmt: skip


def soffice(folder: Path, files: Sequence[Path], target: str, *extra: str) -> list[Path]:
    """Convert ``files`` in ONE LibreOffice run, with a private profile (parallel workers
    never share one); the converted files, checked to exist."""
    out = folder / f"out-{target.split(':')[0]}"
    command = [tools()["soffice"], f"-env:UserInstallation=file://{folder / 'profile'}",
               "--headless", "--norestore", *extra, "--convert-to", target, "--outdir",
               str(out), *map(str, files)]  # fmt: skip
    done = subprocess.run(command, env=office_env(folder), capture_output=True, text=True,
                          timeout=CONVERT_TIMEOUT, check=False)  # fmt: skip
    converted = [out / f"{f.stem}.{target.split(':')[0]}" for f in files]
    missing = [p.name for p in converted if not p.is_file()]
    assert not missing, f"LibreOffice did not write {missing}:\n{done.stdout}\n{done.stderr}"
    return converted


def run(tool: str, *args: str) -> str:
    return subprocess.run([tools()[tool], *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout  # fmt: skip


async def seeded_bot(config: Config, clock: ManualClock, folder: Path) -> tuple[Harness, Seeded]:
    h = await Harness.start(drill.drill_config(config), folder / "paicha.sqlite3", clock)
    try:
        return h, await drill.seed(h)
    except BaseException:
        await h.stop()
        raise


def write_all(h: Harness, seeded: Seeded, folder: Path) -> dict[str, Path]:
    """Every register as /export builds it (the writer over the register's rows), in full,
    the arrivals once more masked (``arrivals-masked``) and once as CSV (``arrivals-csv``)."""
    span = (seeded.days[0], seeded.days[-1])
    jobs = {register: Job(register, span, "xlsx", LOCALE, entitled=True) for register in REGISTERS}
    jobs["arrivals-masked"] = Job("arrivals", span, "xlsx", LOCALE, entitled=False)
    jobs["arrivals-csv"] = Job("arrivals", span, "csv", LOCALE, entitled=True)
    written: dict[str, Path] = {}
    for name, job in jobs.items():
        path = folder / f"{name}.{job.fmt}"
        done = exports.build(h.services, job, path, AUTHOR, h.clock.now())
        assert done.rows > 0, f"{name}: no rows for the drill's data"
        assert done.paths == [path]
        written[name] = path
    return written


def headers(layout: Layout, days: Sequence[date], words: Words) -> list[str]:
    """What the header row shows: each column's header, a day column's once per day."""
    shown: list[str] = []
    for column in layout.columns:
        shown += [words("day", d=d) for d in days] if column.format == "days" else [column.header]
    return shown


def flat(text: str) -> str:
    """Without white space: a header wrapped in its cell is still the header."""
    return "".join(text.split())


def assert_shows(register: str, text: str, title: str, headers: list[str],
                 expected: Sequence[str]) -> None:  # fmt: skip
    assert flat(title) in flat(text), f"{register}: no title {title!r} in\n{text}"
    missing = [h for h in headers if flat(h) not in flat(text)]
    assert not missing, f"{register}: headers {missing} not in\n{text}"
    absent = [value for value in expected if value not in text]
    assert not absent, f"{register}: {absent} not in\n{text}"


async def test_every_register_opens_in_libreoffice(config: Config, clock: ManualClock,
                                                   tmp_path: Path) -> None:  # fmt: skip
    tools()
    started = time.monotonic()
    h, seeded = await seeded_bot(config, clock, tmp_path)
    try:
        written = write_all(h, seeded, tmp_path)
    finally:
        await h.stop()
    made = time.monotonic()
    sheets = [path for name, path in written.items() if path.suffix == ".xlsx"]
    pdfs = {path.stem: pdf for path, pdf in zip(sheets, soffice(tmp_path, sheets, "pdf"),
                                                strict=True)}  # fmt: skip
    layouts = writer.layouts(None)
    words = Words(h.services.text, LOCALE)
    for register in REGISTERS:
        text = run("pdftotext", "-layout", str(pdfs[register]), "-")
        layout = layouts[register]
        assert_shows(register, text, layout.title, headers(layout, seeded.days, words),
                     EXPECTED[register])  # fmt: skip
    masked = run("pdftotext", "-layout", str(pdfs["arrivals-masked"]), "-")
    for secret in (drill.RESIDENT_ID, drill.COMPANIONS[0][1], "13812345678", "13900001111"):
        assert secret not in masked, f"{secret} unmasked in a masked register"
    assert "张*" in masked and "1101**********002X" in masked, masked
    assert "NotoSansCJK" in run("pdffonts", str(pdfs["arrivals"])), "no CJK font embedded"
    picture(tmp_path, pdfs["arrivals"])
    typed_cells(written["arrivals"])
    converted = time.monotonic()
    csv_opened(tmp_path, written["arrivals-csv"])
    print(
        f"\nseed and write {made - started:.1f} s, LibreOffice to PDF and checks "
        f"{converted - made:.1f} s, the CSV {time.monotonic() - converted:.1f} s"
    )


def picture(folder: Path, pdf: Path) -> None:
    """Page 1 at 60 dpi: a real image, not blank (text is dark pixels on white)."""
    run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(folder / "page"))
    (png,) = folder.glob("page*.png")
    with Image.open(png) as image:
        assert image.width > 300 and image.height > 300
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 500, f"page 1 of {pdf.name} looks blank ({dark} dark pixels)"


def typed_cells(xlsx: Path) -> None:
    """What LibreOffice printed as dates are dates in the file, an all-digit ID number text."""
    sheet = openpyxl.load_workbook(xlsx, read_only=True).active
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert datetime(2020, 10, 25) in cells, cells
    assert drill.COMPANIONS[0][1] in cells, cells


def csv_opened(folder: Path, csv: Path) -> None:
    """The CSV as a spreadsheet opens it (comma, double quote, UTF-8), saved as XLSX and read
    back: the Chinese intact, a companion's all-digit ID number still text (never 5.0E+17)."""
    (opened,) = soffice(folder, [csv], "xlsx", "--infilter=CSV:44,34,76,1")
    sheet = openpyxl.load_workbook(opened, read_only=True).active
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    texts = [cell.strip() for cell in cells if isinstance(cell, str)]
    assert "姓名" in texts and drill.RESIDENT_NAME in texts, texts
    li_id = drill.COMPANIONS[0][1]
    assert li_id in texts, f"{li_id} not kept as text: {cells}"
    assert not [c for c in cells if isinstance(c, int | float) and abs(c) > 1e15], cells
