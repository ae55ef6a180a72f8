"""A drill's data in one database, made through the same flows and actions the drills use: a
resident's arrival with two companions (home monitoring, two days of check-ins), a
neighbour's tip, a door-to-door visit, a discovered case with a close contact placed in an
isolation site, and a key unit's daily report. Every register has rows to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.actions import contacts as contact_actions
from bot.actions import isolation as isolation_actions
from bot.actions import unit_reports
from bot.actions.isolation import Assigned
from bot.actions.unit_reports import Filed
from bot.config import Config
from bot.domain.contacts import NewContact
from bot.domain.isolation import parse_ref
from bot.domain.roles import Actor
from bot.domain.unit_reports import Figures
from storage import drafts
from tests.harness import Harness
from tests.staff_helpers import WORKER_XF01, seed_visit
from tests.test_arrival_companions import LI_ID, WANG_ID
from tests.test_arrival_flow import ID_NUMBER, answer_to_summary, submit
from tests.test_cases import ID_NUMBER as CASE_ID_NUMBER
from tests.test_cases import report_case
from tests.test_checkins import answer, at
from tests.test_tips import send_tip

# who and what the registers must show (the example town, 26 October 2020)
RESIDENT_NAME, RESIDENT_ID = "张三", ID_NUMBER
COMPANIONS = (("李四", LI_ID, "13900001111"), ("王五", WANG_ID, None))
CASE_NAME, CASE_ID = "张三丰", CASE_ID_NUMBER
CONTACT_NAME, CONTACT_ID, CONTACT_PHONE = "赵密接", "110105194912310021", "13700001111"
TIP_NAME = "钱线索"
SITE = "GL01"
TEMPERATURES = ("36.5", "36.8")  # the residents' check-ins of 26 and 27 October
FIRST_DAY = date(2020, 10, 25)


def drill_config(config: Config) -> Config:
    """The example town with its first isolation site in use (as in the isolation drill,
    after the leaders activated it)."""
    sites = tuple(s.model_copy(update={"state": "active"}) if s.id == SITE else s
                  for s in config.sites)  # fmt: skip
    return config.model_copy(update={"sites": sites})


@dataclass(frozen=True)
class Seeded:
    report_ref: str
    case_id: int
    contact_ref: str
    days: tuple[date, ...]  # the range the registers are written for


async def seed(h: Harness) -> Seeded:
    """Everything above, the clock moving from 26 October 10:00 to 27 October 20:00."""
    await answer_to_summary(h, code="yellow", companions=COMPANIONS)  # 居家健康监测, 3 people
    await submit(h)
    report = await h.db.fetchone("SELECT ref FROM reports")
    await send_tip(h, name=TIP_NAME)
    await seed_visit(h)
    await report_case(h)
    case = await h.db.fetchone("SELECT id FROM cases")
    contact_ref = await _contact(h, case["id"])
    placed = await isolation_actions.assign(h.services, parse_ref(contact_ref), SITE, None,
                                            WORKER_XF01)  # fmt: skip
    assert isinstance(placed, Assigned), placed
    await _unit_report(h)
    for day, temperature in zip((26, 27), TEMPERATURES, strict=True):
        await at(h, day, 20, 5)  # the evening check-in's prompt
        await answer(h, temperature)
    return Seeded(report["ref"], case["id"], contact_ref,
                  tuple(FIRST_DAY + timedelta(days=n) for n in range(3)))  # fmt: skip


async def _contact(h: Harness, case_id: int) -> str:
    """The case's close contact, added as the contact flow's finish does."""
    draft = drafts.new(WORKER_XF01, WORKER_XF01, "zh_CN", "confirm", {}, 0, flow="contact")
    await drafts.put(h.db, draft, h.clock.now())
    entry = NewContact(kind="close", last_exposure=date(2020, 10, 24), name=CONTACT_NAME,
                       phone=CONTACT_PHONE, id_kind="id", id_number=CONTACT_ID,
                       address="先锋街5号", village_id="xf", grid_id="XF01",
                       exposure="同桌吃饭")  # fmt: skip
    added = await contact_actions.add(h.services, case_id, entry, WORKER_XF01, "网格员",
                                      draft.token)  # fmt: skip
    assert added is not None
    row = await h.db.fetchone("SELECT ref FROM contacts")
    return row["ref"]


async def _unit_report(h: Harness) -> None:
    """The key units' day is asked (16:00) and 先锋宾馆's report filed by its grid worker."""
    await at(h, 26, 16)
    await unit_reports.ask_due(h.services)
    row = await h.db.fetchone("SELECT id FROM unit_reports WHERE unit_id = 'xfhotel'")
    actor = Actor(WORKER_XF01, worker_grids=frozenset({"XF01"}))
    figures = Figures(present=30, new_arrivals=2)
    assert isinstance(await unit_reports.file(h.services, actor, row["id"], figures), Filed)
