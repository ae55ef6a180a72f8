"""What does exporting a big register cost, next to a bare writer's loop over the same rows?

N synthetic rows of the arrivals register (the shipped layout, templates/registers/
arrivals.toml, 29 columns; each field's value of the kind its column shows) go through
``write_xlsx`` as /export writes them: title rows, formats, masking, the size checks. Beside
it, the BARE loop: the same rows' values through bot/runtime/xlsx.py's raw row writer, each
cell typed by its value alone (no layout, no masking, no formats): the floor the layout's work
stands on. When xlsxwriter is installed (no longer a dependency), its constant_memory
``write_row`` loop over the same values runs too, as the reference the hand-written writer
replaced. Each variant runs in a fresh subprocess, so its time and peak memory
(``os.wait4``'s ru_maxrss) are its own. The export's file is then read back (openpyxl,
read-only): its row count, title, header, an ID number as 18 characters of text, a date as a
date.

Prints one ``name: value`` line per figure: rows, seconds, peak_rss_mb, bare_seconds,
bare_peak_rss_mb, ratio (seconds / bare_seconds), xlsxwriter_seconds,
xlsxwriter_peak_rss_mb (or "not installed"), bytes, parts, read_back. Targets: under 10 s and
300 MB for 100,000 rows.

    python bench/export.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.registers import FIELDS, Layout  # noqa: E402
from bot.runtime import registers, xlsx  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
START = date(2020, 11, 1)
DAYS = tuple(START + timedelta(days=n) for n in range(14))
TOWN = "先锋镇"
VARIANTS = ("layout", "bare", "xlsxwriter")


def layout() -> Layout:
    return registers.layouts(None)["arrivals"]


def fields(plan: Layout) -> dict[str, str]:
    """The fields of the register's rows, each with the format of the column showing it: the
    synthetic value is of that kind."""
    shown = {c.value: c.format for c in plan.columns}
    return {name: shown.get(name, "text") for name in sorted(FIELDS[plan.register])}


def value(field: str, fmt: str, n: int) -> object:
    """A plausible value of a field of format ``fmt``."""
    if field == "seq":
        return n + 1
    if fmt == "days":
        return {day: f"36.{n % 10} / 36.{(n + 3) % 10}" for day in DAYS[: n % len(DAYS)]}
    if fmt == "date":
        return START + timedelta(days=n % 20)
    if fmt == "datetime":
        return datetime(2020, 11, 1, tzinfo=UTC) + timedelta(minutes=7 * n)
    if fmt == "temperature":
        return 36.0 + (n % 15) / 10
    if fmt in ("integer", "number"):
        return n % 4
    if field == "id_number":
        return f"5001{n:014d}"
    if field == "phone":
        return f"138{n:08d}"
    return f"{field}{n % 997}号"


def rows(names: dict[str, str], count: int) -> Iterator[dict[str, object]]:
    for n in range(count):
        yield {name: value(name, fmt, n) for name, fmt in names.items()}


def run_layout(path: Path, count: int) -> int:
    plan = layout()
    heading = registers.Heading(
        TOWN, "先锋镇疫情防控工作领导小组办公室", "王建国", datetime.now(UTC), START, DAYS[-1]
    )
    written = registers.write_xlsx(
        path,
        plan,
        rows(fields(plan), count),
        heading=heading,
        words=registers.Words(_text, "zh_CN"),
        tz=TZ,
        entitled=False,
        days=DAYS,
    )
    return len(written.paths)


def run_bare(path: Path, count: int) -> int:
    names = fields(layout())
    letters = [xlsx.column_letter(index) for index in range(len(names))]
    sheet = xlsx.Sheet("Sheet1", [12] * len(names), header_row=0)
    book = xlsx.Writer(path, sheet, made=datetime.now(UTC))
    for row in rows(names, count):
        number = str(book.rows + 1)
        book.row(
            "".join([xlsx.cell(c + number, v) for c, v in zip(letters, row.values(), strict=True)])
        )
    book.close()
    return 1


def run_xlsxwriter(path: Path, count: int) -> int:
    import xlsxwriter

    names = fields(layout())
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet()
    for index, row in enumerate(rows(names, count)):
        cells = [v if not isinstance(v, dict | date) else str(v) for v in row.values()]
        sheet.write_row(index, 0, cells)
    book.close()
    return 1


def _text(locale: str, module: str, name: str, **params: object) -> str:
    from bot.runtime.render import Renderer

    return Renderer().text(locale, module, name, **params)


def measure(variant: str, path: Path, count: int) -> tuple[float, float, int]:
    """seconds, peak RSS (MB) and parts of one variant run in a fresh process."""
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", variant, "--rows", str(count), "--out", str(path)],
        stdout=subprocess.PIPE,
    )
    out = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{variant} failed ({child.returncode})")
    return seconds, usage.ru_maxrss / 1024, int(out.split()[-1])


def read_back(path: Path, count: int) -> str:
    import openpyxl

    plan = layout()
    book = openpyxl.load_workbook(path, read_only=True)
    title, _, _, header, first, *rest = book.active.iter_rows(values_only=True)
    data = 1 + len(rest)
    assert data == count, f"{data} rows read, {count} written"
    assert title[0] == f"{TOWN} {plan.title}", title[0]
    shown = [c.header for c in plan.columns if c.format != "days"]
    assert list(header[: len(shown)]) == shown, header
    id_number = first[header.index("身份证号（护照号）")]
    assert isinstance(id_number, str) and len(id_number) == 18, id_number
    assert isinstance(first[header.index("抵达日期")], datetime), first
    assert (rest[-1] if rest else first)[0] == count  # 序号 of the last row
    book.close()
    return "ok"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", choices=VARIANTS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        run = {"layout": run_layout, "bare": run_bare, "xlsxwriter": run_xlsxwriter}
        print(run[args.child](args.out, args.rows))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "arrivals.xlsx"
        seconds, rss, parts = measure("layout", path, args.rows)
        bare_seconds, bare_rss, _ = measure("bare", Path(folder) / "bare.xlsx", args.rows)
        print(f"rows: {args.rows}")
        print(f"seconds: {seconds:.2f}")
        print(f"peak_rss_mb: {rss:.0f}")
        print(f"bare_seconds: {bare_seconds:.2f}")
        print(f"bare_peak_rss_mb: {bare_rss:.0f}")
        print(f"ratio: {seconds / bare_seconds:.2f}")
        if importlib.util.find_spec("xlsxwriter") is None:
            print("xlsxwriter_seconds: not installed")
        else:
            old, old_rss, _ = measure("xlsxwriter", Path(folder) / "xlsxwriter.xlsx", args.rows)
            print(f"xlsxwriter_seconds: {old:.2f}")
            print(f"xlsxwriter_peak_rss_mb: {old_rss:.0f}")
        print(f"bytes: {path.stat().st_size if parts == 1 else 'split'}")
        print(f"parts: {parts}")
        print(f"read_back: {read_back(path, args.rows) if parts == 1 else 'split'}")


if __name__ == "__main__":
    main()
