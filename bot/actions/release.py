"""Release (解除) from centralised isolation, decided by one rule (bot.domain.release) for the
bot's own check at the end of a stay and for the site manager's 解除 button alike.

- ``schedule`` (in the transaction that assigns a stay, or changes its dates): one durable
  ``release.due`` timer, the day after the stay's last day at ``release.at``, keyed by the
  stay's generation (a change of dates bumps it: the old timer then finds nothing to do).
- ``on_due`` (the timer) and ``confirm`` (the manager's button) decide:
  released — the stay 'released' (its room free), a contact 'released', the case cards of the
  contact's cases brought up to date, and told: the person (their chat, when known) with the
  release certificate (解除集中隔离医学观察告知书, a PDF, sent as a document through the
  outbox: the row keeps what it says, and the outbox worker builds the file right before
  sending it, outside this transaction — a restart builds it again), the site's managers
  (with the certificate to print and hand over when the person has no chat: one paper, in
  the person's language, built once for them all), the home grid's workers; home health
  monitoring follows if configured (``release.home_monitoring_days``: an arrival's person is
  monitored like any arrival; a contact with no arrival report has no monitoring row — the
  table is keyed by the report whose chat gets the check-ins — so the grid's workers are
  asked to follow it);
  extended — the final test was not taken: it is moved to that day (a make-up test, 补采),
  which becomes the stay's last day, the release decided again the next day; the make-up is
  a test day like the others (bot.actions.samples.plan: its reminder, and its missed-test
  check that climbs the 'sample' ladder);
  held — a missing, pending or positive result, a case's stay, an arrival never confirmed:
  the site's managers and the home grid's workers are told why, once per reason, and the
  timer looks again the next day (the results come in, or the manager confirms with the same
  rule). No ladder of its own: a missed test already climbs the 'sample' ladder, a positive
  opens a case with its 2-hour countdown, and a result awaited is the manager's to enter.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.actions import cases, monitoring, samples
from bot.domain import isolation as stays
from bot.domain import release as rule
from bot.domain.callbacks import button as callback_button
from bot.domain.callbacks import callback, inline_markup
from bot.domain.masking import Audience
from bot.domain.release import Decision, Outcome
from bot.domain.roles import Actor, can_manage_site
from bot.domain.timers import Kind
from bot.runtime import pdf
from bot.runtime.escalation import grid_recipients
from bot.runtime.render import reader_locale, reader_locales
from bot.runtime.services import Services
from storage import audit, outbox, timers
from storage import isolation as stay_store
from storage import release as store
from storage import samples as sample_store
from storage import sites as site_store
from storage.outbox import PRIORITY_NOTIFY
from storage.timers import Timer

log = logging.getLogger(__name__)
MODULE = "release"
FLOW = "rl"  # v1:rl:<stay id>: the site manager's 解除 on a stay's card


def button(services: Services, locale: str, stay_id: int) -> dict[str, str]:
    """The 解除 button of a stay's card (bot.actions.isolation's manager card) and of the
    notices of a release held or extended."""
    return callback_button(
        services.text(locale, MODULE, "btn_release"), callback(FLOW, str(stay_id))
    )


@dataclass(frozen=True)
class Confirmed:
    """What the manager's 解除 came to: ``outcome`` an Outcome, or "refused" (not their
    site), "gone" (no stay holding a room: released or ended already)."""

    outcome: str
    params: dict[str, Any] = field(default_factory=dict)


def _check_time(services: Services, day: date) -> datetime:
    """When the release is looked at on ``day``: ``release.at``, the town's time."""
    return datetime.combine(day, services.config.release.at, tzinfo=services.config.tz)


async def schedule(conn: aiosqlite.Connection, services: Services, stay_id: int) -> None:
    """The stay's release check, the day after its last day (in the caller's transaction)."""
    stay = await stay_store.get(conn, stay_id)
    if stay is None:
        return
    end = date.fromisoformat(stay["end_date"])
    await _check_at(conn, services, stay, _check_time(services, rule.release_day(end)))


async def _check_at(conn: aiosqlite.Connection, services: Services, stay: Any,
                    due: datetime) -> None:  # fmt: skip
    gen = stay["gen"]
    key = f"release:{stay['id']}:g{gen}:{due.date().isoformat()}"
    await timers.schedule(conn, kind=Kind.RELEASE_DUE, subject=stays.subject(stay["id"]),
                          due_at=due, now=services.now(), payload={"gen": gen},
                          dedup_key=key)  # fmt: skip


async def on_due(services: Services, conn: aiosqlite.Connection, timer: Timer, now: datetime,
                 late: bool) -> None:  # fmt: skip
    """The timer: decide the stay's release (nothing when it changed or ended meanwhile)."""
    stay_id = int(timer.subject.split(":")[1])
    stay = await stay_store.get(conn, stay_id)
    if stay is None or stay["state"] not in stays.ACTIVE or stay["gen"] != timer.payload["gen"]:
        return
    decision = await _decide(conn, services, stay)
    await _apply(conn, services, stay, decision, None, now)
    if decision.outcome in (Outcome.HOLD, Outcome.NOT_DUE):  # looked at again tomorrow
        tomorrow = services.local_today() + timedelta(days=1)
        await _check_at(conn, services, stay, _check_time(services, tomorrow))


async def confirm(services: Services, actor: Actor, stay_id: int) -> Confirmed:
    """解除 pressed by a site manager: the same rule as the bot's own check. A manager of
    another site is refused ("refused": the handler says so and audits it)."""
    now = services.now()
    async with services.db.write() as conn:
        stay = await stay_store.get(conn, stay_id)
        if stay is None or stay["state"] not in stays.ACTIVE:
            return Confirmed("gone")
        subject = stays.subject(stay_id)
        if not can_manage_site(actor, stay["site_id"]):  # checked at commit; the caller audits
            return Confirmed("refused")
        decision = await _decide(conn, services, stay)
        await _apply(conn, services, stay, decision, actor.user_id, now)
        await audit.record(conn, now, actor.user_id, f"release.confirm.{decision.outcome}",
                           subject)  # fmt: skip
    services.wake_outbox()
    end = date.fromisoformat(stay["end_date"])
    reasons = [str(r) for r in decision.reasons]
    return Confirmed(decision.outcome, dict(ref=stay["ref"], end=end, reasons=reasons,
                                            day=rule.release_day(end),
                                            retest=decision.retest))  # fmt: skip


async def _decide(conn: aiosqlite.Connection, services: Services, stay: Any) -> Decision:
    tests = await sample_store.tests(conn, stay["id"], services.config.tz)
    return rule.decide(services.local_today(), date.fromisoformat(stay["end_date"]),
                       stay["state"] == stays.IN, tests,
                       case=stay["case_id"] is not None)  # fmt: skip


async def _apply(conn: aiosqlite.Connection, services: Services, stay: Any, decision: Decision,
                 by: int | None, now: datetime) -> None:  # fmt: skip
    if decision.outcome is Outcome.RELEASE:
        await _release(conn, services, stay, by, now)
    elif decision.outcome is Outcome.EXTEND:
        await _extend(conn, services, stay, decision, now)
    elif decision.outcome is Outcome.HOLD:
        reasons = [str(r) for r in decision.reasons]
        key = f"release:{stay['id']}:g{stay['gen']}:held:{'+'.join(reasons)}"
        await _tell_staff(conn, services, stay, "held", key, now, reasons=reasons,
                          offer=True)  # fmt: skip


async def _extend(conn: aiosqlite.Connection, services: Services, stay: Any, decision: Decision,
                  now: datetime) -> None:  # fmt: skip
    assert decision.retest is not None
    tests = [t.test_date for t in await sample_store.tests(conn, stay["id"], services.config.tz)]
    missed = max(tests)
    days = rule.make_up_days(date.fromisoformat(stay["start_date"]), tests, missed,
                             decision.retest)  # fmt: skip
    await store.extend(conn, stay["id"], decision.retest, days)
    await samples.plan(conn, services, stay["id"])  # the make-up's reminder and missed check
    await audit.record(conn, now, None, "release.extend", stays.subject(stay["id"]),
                       decision.retest.isoformat())  # fmt: skip
    await schedule(conn, services, stay["id"])
    key = f"release:{stay['id']}:extended:{decision.retest.isoformat()}"
    await _tell_staff(conn, services, stay, "extended", key, now, missed=missed,
                      retest=decision.retest, offer=True)  # fmt: skip


async def _release(conn: aiosqlite.Connection, services: Services, stay: Any, by: int | None,
                   now: datetime) -> None:  # fmt: skip
    """Released: the stay and the contact, the certificate, the notices, the case cards,
    the home monitoring that follows (nothing when it was released or ended meanwhile)."""
    if not await store.release(conn, stay["id"], by, now):
        return
    await audit.record(conn, now, by, "release.release", stays.subject(stay["id"]))
    log.info("stay %s released", stay["id"])
    today = services.local_today()
    number = rule.certificate_number(services.config.town.code, today, stay["id"])
    days = services.config.release.home_monitoring_days
    reached = await store.chat(conn, stay["id"])
    chat = reached["chat_id"] if reached is not None else None
    own = (reached["locale"] if reached is not None else None) or services.config.bot.default_locale
    locale = own if chat is None else await reader_locale(conn, chat, own)
    document = certificate(services, stay, number, locale)  # one paper, in the person's language
    key = f"release:{stay['id']}:released"
    if chat is not None:  # to the person's own chat, with the news
        caption = services.text(locale, MODULE, "released_person", Audience.ENTITLED,
                                s=_params(services, stay), number=number, monitoring=days,
                                missing=pdf.missing(stay["name"]))  # fmt: skip
        await _send(conn, stay, chat, caption, document, f"release:{stay['id']}:person", now)
    await _tell_staff(conn, services, stay, "released", key, now, number=number,
                      monitoring=days, by=by, person_told=chat is not None)  # fmt: skip
    if chat is None:  # to print and hand over
        for user, reader in (await _managers(conn, services, stay)).items():
            caption = services.text(reader, MODULE, "certificate_to_print", number=number)
            await _send(conn, stay, user, caption, document, f"{key}:print:{user}", now)
    for case_id in await stay_store.cases_of(conn, stay["id"]):
        await cases.refresh_card(services, conn, case_id, now)
    plan = rule.home_monitoring(today, days)
    if plan is not None and stay["report_id"] is not None:  # a contact's: the grid follows it
        await monitoring.start_person(conn, services, stay["report_id"], stay["person_idx"],
                                      plan, now)  # fmt: skip


def _params(services: Services, stay: Any) -> dict[str, Any]:
    village, grid = services.config.grid_names(stay["grid_id"])
    return dict(ref=stay["ref"], name=stay["name"], site=stay["site_name"], room=stay["room"],
                start=date.fromisoformat(stay["start_date"]),
                end=date.fromisoformat(stay["end_date"]), village=village,
                grid=grid)  # fmt: skip


def certificate(services: Services, stay: Any, number: str, locale: str) -> tuple[str, str]:
    """The certificate as a document to enqueue: (its file name, its recipe). The recipe
    holds what it says; the outbox worker builds the PDF right before sending it, outside
    any transaction (bot.runtime.pdf.make: the same recipe, the same bytes)."""
    name = html.unescape(services.text(locale, MODULE, "certificate_file", number=number))
    words = certificate_words(services, stay, number, locale)
    return name, pdf.recipe("certificate", words, services.local_now())


async def _send(conn: aiosqlite.Connection, stay: Any, chat: int, caption: str,
                document: tuple[str, str], key: str, now: datetime) -> None:  # fmt: skip
    """The certificate (``certificate``) to ``chat``, its ``caption`` the message."""
    await outbox.enqueue(conn, chat_id=chat, text=caption, now=now, priority=PRIORITY_NOTIFY,
                         document=document,
                         dedup_key=key, subject=stays.subject(stay["id"]))  # fmt: skip


CERTIFICATE = ("certificate_title", "certificate_number", "certificate_body",
               "certificate_sign")  # fmt: skip


def certificate_words(services: Services, stay: Any, number: str, locale: str) -> list[str]:
    """The certificate's words (templates/*/release.j2, plain text), in ``CERTIFICATE``'s
    order (bot.runtime.pdf.certificate's): the town, the person (named in full, the ID
    number masked by its filter: the paper is shown at checkpoints and forwarded, and its
    words are kept unsealed in the outbox until sent), the site, the period, the release day
    and the certificate's number."""
    params = dict(town=services.config.town.name, number=number, s=_params(services, stay),
                  released=services.local_today(), id_number=stay["id_number"],
                  monitoring=services.config.release.home_monitoring_days)  # fmt: skip
    return [html.unescape(services.text(locale, MODULE, name, Audience.BROADCAST, **params))
            for name in CERTIFICATE]  # fmt: skip


async def _managers(conn: aiosqlite.Connection, services: Services, stay: Any) -> dict[int, str]:
    users = await site_store.managers(conn, stay["site_id"])
    return await reader_locales(conn, users, services.config.bot.default_locale)


async def _tell_staff(conn: aiosqlite.Connection, services: Services, stay: Any, name: str,
                      key: str, now: datetime, *, offer: bool = False,
                      **params: Any) -> None:  # fmt: skip
    """``name`` of templates/*/release.j2 to the site's managers (with "解除" if ``offer``:
    to release once the results are in) and the home grid's workers, masked (a pushed
    message), each once per ``key``."""
    managers = await site_store.managers(conn, stay["site_id"])
    chats = [*managers, *await grid_recipients(conn, services, stay["grid_id"])]
    locales = await reader_locales(conn, chats, services.config.bot.default_locale)
    for chat, locale in locales.items():
        text = services.text(locale, MODULE, name, s=_params(services, stay), **params)
        with_button = offer and chat in managers
        markup = inline_markup([[button(services, locale, stay["id"])]]) if with_button else None
        await outbox.enqueue(conn, chat_id=chat, text=text, now=now, priority=PRIORITY_NOTIFY,
                             reply_markup=markup, dedup_key=f"{key}:to:{chat}",
                             subject=stays.subject(stay["id"]))  # fmt: skip
