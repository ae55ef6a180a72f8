"""Exports of the registers (导出台账, /export and ``paicha export``) and of the audit log
(操作日志, /audit and ``paicha audit``).

The file is built in a worker thread from a read-only connection of its own (storage.db's
``open_read``: the WAL gives it one consistent snapshot), so a 100,000-row register never
holds up the bot's loop; then ONE write transaction: the audit row (``export``, or
``audit.export`` for the audit log; subject the register; detail: from, to, rows, files,
masked, format) and one outbox document per file (a register over Telegram's 50 MB comes in
parts, each with its title and header, captioned 第1/2部分). The outbox forgets a document's
bytes once it is sent; the temporary files are removed as soon as they are read.

Who may take which register, which rows, in full or masked: bot.domain.exports (the rule is
in its docstring). ``paicha export`` runs on the server by the operator, who holds the data
key: the whole town in full, audited with no actor and the CLI named in the detail.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain import exports as domain
from bot.domain import stats
from bot.domain.exports import Range
from bot.domain.registers import CODES, Layout
from bot.domain.roles import Actor
from bot.runtime import registers as writer
from bot.runtime.services import Services
from storage import audit, drafts, outbox
from storage import registers as store
from storage import roster as roster_store
from storage.db import open_read

MODULE = "exports"
CLI = "cli"  # the detail's ``via`` of an export made on the server


@dataclass(frozen=True)
class Job:
    """One export to build: the register, its days, the file's format and language, the rows
    it may hold (``villages`` None: the whole town) and whether in full."""

    register: str
    span: Range
    fmt: str
    locale: str
    entitled: bool
    villages: frozenset[str] | None = None


@dataclass(frozen=True)
class Exported:
    rows: int
    files: list[str]  # the file names, in order
    masked: bool


def action_of(register: str) -> str:
    """The audit action of an export: taking the audit log is audited as itself."""
    return "audit.export" if register == domain.AUDIT else "export"


def bounds(span: Range, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The range's ends as instants: from the first day's midnight, up to (not including) the
    midnight after the last day, in the town's time."""
    start, end = span
    return (stats.midnight(start, tz) if start else None,
            stats.midnight(end + timedelta(days=1), tz) if end else None)  # fmt: skip


def build(services: Services, job: Job, path: Path, author: str,
          now: datetime) -> writer.Written:  # fmt: skip
    """The register's file(s) at ``path`` (parts beside it when split), or in the folder
    ``path`` under its usual name (``filename``). Blocking: run it in a thread; it reads
    through a read-only connection of its own."""
    config, db = services.config, services.db
    if db.path is None:
        raise ValueError("an export reads the database file: an in-memory database has none")
    layout = writer.layouts(config.registers.dir)[job.register]
    if path.is_dir():
        path = path / filename(services, job, layout, now)
    words = writer.Words(services.text, job.locale)
    office = config.registers.office or words.office(config.town.name)
    heading = writer.Heading(config.town.name, office, author, now, *job.span)
    days = domain.day_columns(job.span, now.astimezone(config.tz).date())
    start, end = bounds(job.span, config.tz)
    conn = open_read(db.path, db.cipher)
    try:
        rows = store.rows(conn, db.cipher, job.register, start=start, end=end,
                          villages=job.villages, days=days, tz=config.tz,
                          names=names(services, job.locale),
                          grid_villages=config.grid_villages())  # fmt: skip
        common = dict(words=words, tz=config.tz, entitled=job.entitled, days=days)
        if job.fmt == "csv":
            return writer.write_csv(path, layout, rows, **common)
        return writer.write_xlsx(path, layout, rows, heading=heading,
                                 max_bytes=writer.MAX_BYTES, **common)  # fmt: skip
    finally:
        conn.close()


def names(services: Services, locale: str) -> dict[str, str]:
    """The words of the codes a register's rows carry, in the reader's language ("<kind>:<code>"
    keys, storage.registers): the villages' and grids' names from the config, every other
    code's from registers.j2, the words around the register (a code it has no word for is
    shown as stored)."""
    villages = services.config.villages
    words = {f"{kind}:{code}": services.text(locale, writer.MODULE, "code", kind=kind, code=code)
             for kind, codes in CODES.items() for code in codes}  # fmt: skip
    return {**{key: html.unescape(word) for key, word in words.items() if word},
            **{f"village:{v.id}": v.name for v in villages},
            **{f"grid:{g.id}": g.name for v in villages for g in v.grids}}  # fmt: skip


def filename(services: Services, job: Job, layout: Layout, now: datetime) -> str:
    """先锋镇-来返人员登记台账-20201101-20201120.xlsx (the title in the reader's language)."""
    title = layout.title_en if job.locale == "en" else layout.title
    today = now.astimezone(services.config.tz).date()
    return domain.filename(services.config.town.name, title, job.span, today, job.fmt)


def detail(job: Job, rows: int, files: int, **more: str) -> str:
    start, end = (d.isoformat() if d else None for d in job.span)
    return json.dumps({"from": start, "to": end, "rows": rows, "files": files,
                       "masked": not job.entitled, "format": job.fmt, **more},
                      ensure_ascii=False)  # fmt: skip


async def author_name(services: Services, user_id: int, fallback: str) -> str:
    """填报人: the name the person gave as staff, else their Telegram name."""
    found = await roster_store.staff_person(services.db, user_id)
    return (found["name"] if found and found["name"] else None) or fallback


async def export(
    services: Services, actor: Actor, register: str, start: date | None, end: date | None,
    fmt: str, locale: str, *, chat_id: int | None = None, author: str = "",
    token: str | None = None,
) -> Exported | None:  # fmt: skip
    """/export's (and /audit's) file(s) to the actor's chat as documents, audited; the open
    conversation (``token``) ends in the same transaction. None: it had ended meanwhile (a
    double tap while the file was being made): nothing is sent twice."""
    if not domain.may_export(actor, register):
        raise PermissionError(f"{actor.role} may not export {register}")  # the flow checked
    job = Job(register, (start, end), fmt, locale, domain.entitled(actor), domain.villages(actor))
    now = services.now()
    name = await author_name(services, actor.user_id, author)
    with tempfile.TemporaryDirectory(prefix="paicha-export-") as folder:
        written = await asyncio.to_thread(build, services, job, Path(folder), name, now)
        files = [(p.name, p.read_bytes()) for p in written.paths]
    chat = actor.user_id if chat_id is None else chat_id
    caption = partial(services.text, locale, MODULE, "caption", register=register, start=start,
                      end=end, rows=written.rows, parts=len(files),
                      masked=not job.entitled)  # fmt: skip
    async with services.db.write() as conn:
        if token is not None and not await drafts.delete(conn, actor.user_id, token):
            return None
        for number, document in enumerate(files, start=1):
            key = f"export:{token}:{number}" if token else None
            await outbox.enqueue(conn, chat_id=chat, text=caption(part=number), now=now,
                                 document=document, subject=f"export:{register}",
                                 dedup_key=key)  # fmt: skip
        await audit.record(conn, now, actor.user_id, action_of(register), register,
                           detail(job, written.rows, len(files)))  # fmt: skip
    services.wake_outbox()
    return Exported(written.rows, [f for f, _ in files], not job.entitled)


async def export_file(
    services: Services, register: str, start: date | None, end: date | None, out: Path,
    locale: str, author: str = "", *, force: bool = False,
) -> Exported:  # fmt: skip
    """``paicha export`` / ``paicha audit``: the whole town in full to ``out`` (its parts
    beside it when split), audited with no actor. The files are their owner's alone (0600);
    FileExistsError for ``out`` or a part of an earlier export of that name unless ``force``
    (then those are replaced)."""
    fmt = domain.format_of(out.suffix)
    if fmt is None:
        raise ValueError(f"{out}: the file name must end in .xlsx or .csv")
    earlier = taken(out)
    if earlier and not force:
        raise FileExistsError(f"{earlier[0]} exists: give another name, or --force to replace it")
    job = Job(register, (start, end), fmt, locale, entitled=True)
    now = services.now()
    author = author or html.unescape(services.text(locale, MODULE, "cli_author"))
    # built in a folder only its owner can enter, beside ``out`` (one file system: a rename)
    with tempfile.TemporaryDirectory(prefix=".paicha-export-", dir=out.parent) as folder:
        written = await asyncio.to_thread(build, services, job, Path(folder) / out.name, author,
                                          now)  # fmt: skip
        paths = [_private(p, out.parent) for p in written.paths]
    for stale in set(earlier) - set(paths):  # parts of the earlier export beyond the new ones
        stale.unlink(missing_ok=True)
    async with services.db.write() as conn:
        await audit.record(conn, now, None, action_of(register), register,
                           detail(job, written.rows, len(paths), via=CLI))  # fmt: skip
    return Exported(written.rows, [str(p) for p in paths], masked=False)


def taken(out: Path) -> list[Path]:
    """``out`` and the parts of an earlier export of that name (``<stem>-N<suffix>``) that
    exist, in order."""
    part = re.compile(rf"{re.escape(out.stem)}-\d+{re.escape(out.suffix)}")
    if not out.parent.is_dir():
        return []
    return sorted(p for p in out.parent.iterdir() if p.name == out.name or part.fullmatch(p.name))


def _private(path: Path, folder: Path) -> Path:
    """``path`` moved into ``folder``, readable by its owner alone whatever the umask: a
    register holds the whole town's personal data in full."""
    path.chmod(0o600)
    return path.replace(folder / path.name)
