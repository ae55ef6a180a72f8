"""build_application(): the one place that builds the PTB Application and registers every
handler, in one visible list."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

from bot.actions import cases, digest, monitoring, regions, release, retention, samples, tips
from bot.actions import mobilisation as mobilisation_actions
from bot.actions import sites as site_actions
from bot.actions import transfers as transfer_actions
from bot.actions import unit_reports as unit_report_actions
from bot.actions import units as unit_actions
from bot.actions import vehicles as vehicle_actions
from bot.actions.monitoring import on_unreachable
from bot.config import Config
from bot.domain.escalation import CASE
from bot.domain.mobilisation import KIND as MOBILISATION
from bot.domain.places import parse_place
from bot.domain.timers import KINDS, Kind
from bot.flows.engine import expire_drafts
from bot.flows.monitoring import CheckinFlow, MonitorFlow
from bot.flows.staff import MANAGER_COMMANDS, STAFF_COMMANDS, InviteFlow
from bot.flows.verification import VerifyFlow
from bot.flows.visits import VisitFlow
from bot.runtime import api, escalation, intake
from bot.runtime.clock import Clock
from bot.runtime.outbox import OutboxWorker
from bot.runtime.regions import RegionList, last_good_copy
from bot.runtime.render import Renderer
from bot.runtime.scheduler import TICK_SECONDS, tick
from bot.runtime.services import Services
from bot.runtime.timers import Handlers, fire_due
from bot.runtime.updates import InOrderPerSender
from handlers.access import Access
from handlers.arrival_import import ArrivalImportDesk
from handlers.arrivals import ArrivalCommands, ArrivalFlow
from handlers.cases import CaseCommands
from handlers.certificates import CertificateButtons
from handlers.contact_import import ContactImportDesk
from handlers.contacts import ContactCommands
from handlers.errors import Errors
from handlers.escalation import AckDesk
from handlers.exports import ExportDesk
from handlers.inbox import Inbox
from handlers.isolation import IsolationDesk
from handlers.leaders import LeadersFlow
from handlers.mobilisation import MobilisationDesk
from handlers.monitoring import CheckinButtons, MonitorDesk
from handlers.posters import PosterDesk
from handlers.regions import RegionCommands
from handlers.release import ReleaseButtons
from handlers.roster import RosterDesk
from handlers.router import Router
from handlers.samples import SampleDesk
from handlers.sites import SiteDesk
from handlers.staff import StaffAdmin
from handlers.start import StartFlow
from handlers.stats import StatsDesk
from handlers.status import StatusDesk
from handlers.supplies import SupplyDesk
from handlers.tips import TipCommands, TipDesk, TipFlow
from handlers.transfers import TransferDesk
from handlers.unit_reports import UnitReportDesk
from handlers.units import UnitDesk
from handlers.vehicles import VehicleDesk
from handlers.visits import VisitCommands
from storage import staff
from storage.db import Database

log = logging.getLogger(__name__)

COMMANDS = ("arrive", "tip", "my", "cancel", "language", "start", "help")  # private chats
GROUP_COMMANDS = ("help",)  # every group; the leadership group has LEADERSHIP_COMMANDS
LEADERSHIP_COMMANDS = ("report", "isolation", "help")
# config admins' chats
ADMIN_COMMANDS = (*STAFF_COMMANDS, *MANAGER_COMMANDS, "sites", "isolation", "status",
                  "import_contacts", "mobilise", "import_arrivals", "audit", *COMMANDS)  # fmt: skip
KEEPER_COMMANDS = ("supplies", *COMMANDS)  # the town store keepers' chats (an admin's wins)
HEARTBEAT = -2  # first of all: the time of the last update, for the health command
GATE = -1  # before every handler: where a button may act, leadership membership changes
HANDLERS = 0  # the handler group of every handler (see register)
# How long a Bot API call waits (PTB's default is 5 s for each). A send whose answer comes
# after the read timeout was delivered but counts as failed and is sent again: wait long
# enough that only a real outage times out (the outbox counts the rest, issue 11).
SEND_TIMEOUTS = {"read_timeout": 30.0, "write_timeout": 30.0, "connect_timeout": 10.0}

# Every timer kind (bot.domain.timers) and what fires it: build_application refuses to start
# the bot when a declared kind is missing here, so no stored timer waits for nothing.
LADDER = escalation.Ladder(
    {
        CASE: cases.LADDER,
        escalation.SITE: site_actions.LADDER,
        MOBILISATION: mobilisation_actions.LADDER,
    }
)
TIMERS = Handlers(
    single={
        Kind.LADDER_STEP: LADDER.step,
        Kind.LADDER_FLUSH: escalation.flush,
        Kind.LADDER_REPEAT: LADDER.repeat,
        Kind.CHECKIN_MISSED: monitoring.on_missed,
        Kind.CHECKIN_ESCALATE: monitoring.on_escalate,
        Kind.TEST_REMIND: monitoring.on_test_remind,
        Kind.MONITORING_END: monitoring.on_end,
        Kind.DIGEST: digest.on_due,
        Kind.TIP_DEADLINE: tips.on_deadline,
        Kind.VEHICLE_AVAILABLE: transfer_actions.on_vehicle_available,
        Kind.SAMPLE_REMIND: samples.on_remind,
        Kind.SAMPLE_MISSED: samples.on_missed,
        Kind.RELEASE_DUE: release.on_due,
    },
    batch={Kind.CHECKIN_PROMPT: monitoring.on_prompts},
)
# What every scheduler tick does, in order: end stale conversations, fire due timers, make
# sure the next daily report is scheduled, apply a hand edit of the key-regions file (and
# finish any re-screen a crash interrupted), purge personal data kept long enough (once a
# day; every other tick, one read), ask the key units whose daily report is due (单位日报:
# one indexed read per slot when all were asked).
TICK_JOBS = (expire_drafts, fire_due, digest.ensure_next, regions.sync, retention.run,
             unit_report_actions.ask_due)  # fmt: skip


def build_application(
    config: Config,
    token: str,
    db: Database,
    clock: Clock,
    *,
    request: BaseRequest | None = None,
    start_outbox: bool = True,
) -> Application:
    """The bot, ready to ``initialize()``. ``request`` replaces the HTTP client (tests, bench);
    the outbox worker then runs only when ``start_outbox`` (tests drain it by hand). Raises
    ``MissingHandlers`` when a timer kind has no handler in ``TIMERS``."""
    TIMERS.check(KINDS)
    api.allow_raw_calls()
    # the last good list is kept with the database the bot really opened (tests: a temporary one)
    regions = RegionList(config.regions.file, db.path and last_good_copy(db.path))
    regions.start()  # a broken file: the last good copy, or RegionsError
    parse_place(config.town.region or "重庆市")  # builds the divisions index now, not mid-report
    renderer = Renderer(health_code=config.town.health_code)
    services = Services(config=config, db=db, clock=clock, renderer=renderer, regions=regions,
                        timers=TIMERS)  # fmt: skip
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(config.bot.api_base_url)
        .base_file_url(config.bot.file_url)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .concurrent_updates(InOrderPerSender(config.bot.concurrent_updates))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = (
            builder.rate_limiter(AIORateLimiter(max_retries=2))
            .read_timeout(SEND_TIMEOUTS["read_timeout"])
            .write_timeout(SEND_TIMEOUTS["write_timeout"])
            .connect_timeout(SEND_TIMEOUTS["connect_timeout"])
        )
    application = builder.build()
    application.bot_data["intake"] = intake.install(application, db)  # updates kept till handled
    application.bot_data["services"] = services
    application.bot_data["start_outbox"] = start_outbox
    services.bot = application.bot
    services.outbox = OutboxWorker(
        db,
        _outbox_bot(application, token, config, request),
        clock,
        rate_per_second=config.outbox.rate_per_second,
        group_per_minute=config.outbox.group_per_minute,
        max_age=timedelta(hours=config.outbox.max_age_hours),
        concurrency=config.outbox.concurrency,
        on_unreachable=lambda chat_id: on_unreachable(services, chat_id),
    )
    register(application, services)
    return application


def _outbox_bot(app: Application, token: str, config: Config, request: BaseRequest | None) -> Bot:
    """The outbox limits its own rate, so it sends through a bot without PTB's rate limiter;
    inline replies keep the limiter, which also retries them after a flood-control wait."""
    if request is not None:
        return app.bot
    return Bot(token, base_url=config.bot.api_base_url, base_file_url=config.bot.file_url,
               request=HTTPXRequest(**SEND_TIMEOUTS))  # fmt: skip


def register(application: Application, services: Services) -> None:
    access = Access(services)
    router = Router(services, access)  # the conversation runtime: every flow registers with it
    arrival = ArrivalFlow(services, router.engine)
    invite = InviteFlow(services, router.engine, COMMANDS)
    verify = VerifyFlow(services, router.engine)
    visit = VisitFlow(services, router.engine)
    tip, tip_desk = TipFlow(services, router.engine), TipDesk(services, router, access, arrival)
    checkin_flow = CheckinFlow(services, router.engine)
    start = StartFlow(services, arrival, invite, tip, gate=access, checkin=checkin_flow)
    # A message outside any conversation: an open check-in's typed temperature, else the menu.
    router.idle.extend([checkin_flow.on_free_text, start.on_free_text])
    inbox = Inbox(services, access, verify)
    inbox.sections.append(tip_desk.tasks_section)
    checkin = CheckinButtons(checkin_flow)
    monitor = MonitorDesk(MonitorFlow(services, router.engine), access)
    status = StatusDesk(services, access)
    application.add_handlers(status.heartbeat_handlers(), group=HEARTBEAT)
    application.add_handlers(access.handlers(), group=GATE)
    # One group, in this order: the first handler whose filter matches an update takes it, so
    # the commands and buttons of each noun come first and the router's catch-alls (answers to
    # the open question, /cancel, unknown commands) last.
    application.add_handlers(
        group=HANDLERS,
        handlers=[
            *RosterDesk(services, router.engine, access).handlers(),  # before /start: r- links
            *start.handlers(),
            *ArrivalCommands(arrival, access).handlers(),
            *StaffAdmin(services, access).handlers(),
            *inbox.handlers(),
            *VisitCommands(services, access, visit, arrival).handlers(),
            *TipCommands(tip).handlers(),
            *tip_desk.handlers(),
            *LeadersFlow(services).handlers(),
            *CaseCommands(services, router, access).handlers(),
            *ContactCommands(services, router, access).handlers(),
            *ContactImportDesk(services, router.engine, access).handlers(),
            *ArrivalImportDesk(services, router.engine, access).handlers(),
            *CertificateButtons(services, access).handlers(),
            *AckDesk(services, access).handlers(),
            *checkin.handlers(),
            *monitor.handlers(),
            *RegionCommands(services, router.engine, access).handlers(),
            *SiteDesk(services, router.engine, access).handlers(),
            *IsolationDesk(services, router, access).handlers(),
            *SampleDesk(services, router, access).handlers(),
            *ReleaseButtons(services, access).handlers(),
            *TransferDesk(services, router.engine, access).handlers(),
            *VehicleDesk(services, router.engine, access).handlers(),
            *SupplyDesk(services, router.engine, access).handlers(),
            *StatsDesk(services, router.engine, access).handlers(),
            *ExportDesk(services, router.engine).handlers(),
            *MobilisationDesk(services, router.engine, access).handlers(),
            *UnitDesk(services, access).handlers(),
            *PosterDesk(services, access).handlers(),
            *UnitReportDesk(services, router.engine, access).handlers(),
            *status.handlers(),
            *router.handlers(),
        ],
    )
    application.add_error_handler(Errors(services, router.engine).on_error)
    application.bot_data["engine"] = router.engine  # post_init resumes owed questions with it
    if application.job_queue is not None:
        # a tick still running when the next is due: skip it rather than run two at once
        application.job_queue.run_repeating(
            _tick,
            interval=TICK_SECONDS,
            first=1,
            job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )


async def _tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    await tick(context.bot_data["services"], TICK_JOBS)
    await context.bot_data["engine"].record_asked()  # the questions sent since the last tick


async def _post_init(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await site_actions.seed(services)  # before the staff: a site manager's site exists
    await vehicle_actions.seed(services)  # the config's vehicles; their states kept
    await unit_actions.seed(services)  # the config's key units; 重点监测 set in chat kept
    await staff.seed_from_config(services.db, services.config.listed_staff(), services.now())
    await _set_commands(application, services)
    await digest.ensure_next(services)  # the next daily report is a durable timer
    await application.bot_data["engine"].resume_owed()  # questions a crash left unasked
    if application.bot_data["start_outbox"] and services.outbox is not None:
        worker_bot = services.outbox.bot
        if worker_bot is not application.bot:
            await worker_bot.initialize()
        application.bot_data["outbox_task"] = asyncio.create_task(services.outbox.run())


async def _set_commands(application: Application, services: Services) -> None:
    """The command menus: residents' in private chats (staff get their own per chat,
    bot/flows/staff.py; the config's admins theirs here), /help in groups, /report and /help
    in the leadership group."""
    menus: tuple[tuple[BotCommandScope, tuple[str, ...]], ...] = (
        (BotCommandScopeAllPrivateChats(), COMMANDS),
        (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
        (BotCommandScopeChat(services.config.leadership.chat_id), LEADERSHIP_COMMANDS),
        *((BotCommandScopeChat(k), KEEPER_COMMANDS) for k in services.config.supplies.keepers),
        *((BotCommandScopeChat(a), ADMIN_COMMANDS) for a in services.config.leadership.admins),
    )
    for scope, names in menus:
        try:
            await _set_menu(application.bot, services, scope, names)
        except TelegramError as exc:  # e.g. the bot is not in the leadership group yet
            log.warning("command menu for %s not set: %s", scope.type, exc)


async def _set_menu(
    bot: Bot, services: Services, scope: BotCommandScope, names: tuple[str, ...]
) -> None:
    for locale, language in (("zh_CN", "zh"), ("en", "en")):
        commands = [BotCommand(c, services.text(locale, "start", f"cmd_{c}")) for c in names]
        if locale == services.config.bot.default_locale:
            await bot.set_my_commands(commands, scope=scope)
        await bot.set_my_commands(commands, scope=scope, language_code=language)


async def _post_shutdown(application: Application) -> None:
    services: Services = application.bot_data["services"]
    await application.bot_data["engine"].record_asked()  # or the next start asks them again
    await application.bot_data["intake"].close()  # or the next start handles them again
    task = application.bot_data.get("outbox_task")
    if services.outbox is not None and task is not None:
        services.outbox.stop()
        try:
            await asyncio.wait_for(task, 10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        if services.outbox.bot is not application.bot:
            await services.outbox.bot.shutdown()
