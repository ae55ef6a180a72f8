"""The registers' rows (台账数据): one streaming read per register for the leaders' exports.

Sync, over a plain ``sqlite3.Connection`` (``storage.db.open_read``, opened by the caller in a
worker thread), so a 100k-row export never blocks the bot's loop; the rows of one export come
from one read transaction (one snapshot), cursor by cursor, never all in memory.

Each row is a dict with exactly ``bot.domain.registers.FIELDS[register]`` keys: dates as
``date``, times as aware UTC ``datetime``, counts as ``int``, temperatures as ``float``, the
rest text or None. Codes (a category, a state, a village id...) come as the word ``names``
gives ``"<kind>:<code>"`` in the reader's locale, else as stored.

The range ``[start, end)`` filters each register on its natural time:

==========  =================================================================================
arrivals    the arrival date (抵达日期, a local date)
monitoring  the monitoring period overlaps the range (started before its end, not ended
            before its start)
tips        received (created_at)
visits      the visit's time
cases       discovered (discovered_at, else created_at)
contacts    registered (created_at)
isolation   the stay's period overlaps the range
units       the latest unit report (日报) whose day falls in the range
audit       the entry's time
==========  =================================================================================

A person is one row: a companion entry pointing to his own open report (``persons.
self_report_id``) is that report's row (that one withdrawn, the companion entry is listed
again), and a companion's monitoring stopped because his own report watches him
(``covered_by``) is left out; a withdrawn report is in neither. The tips
register never carries the tipster.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import count as counter
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.masking import mask_name
from bot.domain.registers import FIELDS, SEPARATOR, sex_of
from bot.domain.visits import FEVER
from storage.cipher import Cipher

Names = Mapping[str, str]
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class _Scope:
    start: datetime | None
    end: datetime | None
    villages: frozenset[str] | None
    tz: ZoneInfo
    grid_villages: Mapping[str, str]

    def times(self, column: str) -> tuple[list[str], list[Any]]:
        """``column`` (a stored UTC time) in ``[start, end)``."""
        where, params = [], []
        if self.start is not None:
            where.append(f"{column} >= ?")
            params.append(self.start.astimezone(UTC).isoformat())
        if self.end is not None:
            where.append(f"{column} < ?")
            params.append(self.end.astimezone(UTC).isoformat())
        return where, params

    @property
    def first_day(self) -> str | None:
        return self.start.astimezone(self.tz).date().isoformat() if self.start else None

    @property
    def last_day(self) -> str | None:
        """The local date of the range's last instant (``end`` itself is not in it)."""
        return (self.end - _TICK).astimezone(self.tz).date().isoformat() if self.end else None

    def days(self, column: str) -> tuple[list[str], list[Any]]:
        """``column`` (a local date) on a day the range touches."""
        return self.period(column, column)

    def period(self, first: str, last: str) -> tuple[list[str], list[Any]]:
        """A period of local dates ``[first, last]`` that overlaps the range."""
        where, params = [], []
        if self.last_day is not None:
            where.append(f"{first} <= ?")
            params.append(self.last_day)
        if self.first_day is not None:
            where.append(f"{last} >= ?")
            params.append(self.first_day)
        return where, params

    def place(self, column: str) -> tuple[list[str], list[Any]]:
        if self.villages is None:
            return [], []
        return [f"{column} IN ({', '.join('?' * len(self.villages))})"], sorted(self.villages)

    def within(self, column: str) -> tuple[str, list[Any]]:
        """A SQL truth: ``column`` (a village id) is one of the villages (always, for the whole
        town; never, for none given)."""
        where, params = self.place(column)
        return (f"COALESCE({where[0]}, 0)" if where else "1"), params

    def grids(self, column: str) -> tuple[list[str], list[Any]]:
        """A grid column in the villages' grids (a grid the config does not place is out)."""
        if self.villages is None:
            return [], []
        grids = sorted(g for g, v in self.grid_villages.items() if v in self.villages)
        return [f"{column} IN ({', '.join('?' * len(grids))})"], grids


def _where(*parts: tuple[list[str], list[Any]], fixed: Iterable[str] = ()) -> tuple[str, list]:
    clauses, params = list(fixed), []
    for where, values in parts:
        clauses += where
        params += values
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


# --- values --------------------------------------------------------------------------------


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _joined(values: Iterable[str | None]) -> str:
    return SEPARATOR.join(v for v in values if v)


class _Words:
    """The values as the reader gets them: the reader's words for codes (``names``; the code
    itself where none is given), personal values opened."""

    def __init__(self, names: Names, cipher: Cipher) -> None:
        self.names = names
        self.open = cipher.open

    def __call__(self, kind: str, code: Any) -> str | None:
        if code is None or code == "":
            return None
        return self.names.get(f"{kind}:{code}", str(code))

    def action(self, code: str) -> str:
        """An audit entry's action in words: 新登记来返人员 (report.create), 查看线索
        (view:tip), 被拒绝：导出台账 (denied:export) — a refusal of something without a word
        of its own by its noun's (denied:tip.close: 被拒绝：线索); the code itself where there
        are no words."""
        prefix, _, what = code.partition(":")
        shape = self.names.get(f"audit_prefix:{prefix}") if what else None
        if shape is None:
            return self.names.get(f"audit_action:{code}", code)
        noun = re.split(r"[.:]", what, maxsplit=1)[0]
        word = self.names.get(f"audit_action:{what}") or self.names.get(f"audit_noun:{noun}")
        return shape.replace("{}", word) if word else code

    def flag(self, value: Any) -> str | None:
        return None if value is None else self("flag", "yes" if value else "no")

    def person(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The fields every register about a person shares (bot.domain.registers._PERSON)."""
        id_number = self.open(row["id_number"])
        return {
            "name": row["name"],
            "sex": self("sex", sex_of(row["id_kind"], id_number)),
            "id_kind": self("id_kind", row["id_kind"]),
            "id_number": id_number,
            "phone": self.open(row["phone"]),
            "address": row["address"],
            "village": self("village", row["village_id"]),
            "grid": self("grid", row["grid_id"]),
        }


# Who someone is, by Telegram user id: a staff member's name, else the roster's (花名册).
def _name_of(column: str) -> str:
    return f"""COALESCE(
        (SELECT s.name FROM staff s WHERE s.user_id = {column} AND s.name IS NOT NULL
         ORDER BY s.active DESC, s.id DESC LIMIT 1),
        (SELECT ro.name FROM roster ro WHERE ro.user_id = {column}))"""


def _who(name: str | None, user_id: int | None) -> str | None:
    """A staff member as the register names them: the name, else the user id (never blank
    when someone acted: the record must say who)."""
    return name or (str(user_id) if user_id is not None else None)


def _results(text: str | None, words: _Words, planned: Iterable[str] = ()) -> str:
    """``2020-11-20 阴性; 2020-11-23 待采样`` from the ``date|result|sampled`` items of the
    samples taken and the days a test is planned for."""
    codes = dict.fromkeys(planned, "planned")
    for item in (text or "").split(","):
        if item:
            day, result, sampled = item.split("|")
            codes[day] = result or ("pending" if sampled == "1" else "planned")
    return "; ".join(f"{day} {words('test_result', codes[day])}" for day in sorted(codes))


_TESTS = """(SELECT group_concat(test_date || '|' || COALESCE(result, '') || '|'
                                  || (sampled_at IS NOT NULL), ',')
             FROM (SELECT * FROM {table} WHERE {key} = {value} ORDER BY test_date))"""


# --- arrivals ------------------------------------------------------------------------------


# The answers of a report the register shows, read out of its JSON by SQLite: the whole
# document (with its sealed values) is never parsed in Python.
_JSON = ("region_kind", "country", "origin", "travel", "transport", "trip", "health_code",
         "test_result", "temperature", "symptoms")  # fmt: skip
_ANSWERS = ", ".join(f"json_extract(r.data, '$.{key}') AS {key}" for key in _JSON)
_NESTED = ("origin", "travel", "symptoms")  # JSON text as extracted


# 登记方式: how the report came in — a worker at the door (入户排查), a worker checking a tip
# (线索核查), a unit's liaison (单位报送), else the resident himself (自主申报).
_CHANNEL = """CASE
    WHEN EXISTS (SELECT 1 FROM visit_reports vr WHERE vr.report_id = r.id) THEN 'visit'
    WHEN EXISTS (SELECT 1 FROM tip_actions ta WHERE ta.report_id = r.id
                 AND ta.how = 'registered') THEN 'tip'
    WHEN r.unit_id IS NOT NULL THEN 'unit'
    ELSE 'resident' END"""


_OWN_OPEN = """EXISTS (SELECT 1 FROM reports o WHERE o.id = p.self_report_id
                        AND o.state = 'open')"""


def _arrivals(scope: _Scope) -> tuple[str, list]:
    where, params = _where(
        scope.days("r.arrival_date"),
        scope.place("r.village_id"),
        # unary +: not by the state or self_report_id indexes (nearly every row matches):
        # by reports_arrival, on the arrival date. A companion is his own report's row only
        # while that report is open: withdrawn, he is the one he came with's again.
        fixed=("+r.state = 'open'", f"(+p.self_report_id IS NULL OR NOT {_OWN_OPEN})"),
    )
    sql = f"""SELECT r.ref, p.idx, p.name, p.id_kind, p.id_number, p.phone, r.address,
                     r.village_id, r.grid_id, r.relation, u.name AS unit, r.arrival_date,
                     r.category, r.risk, r.alert, r.measure_kind, r.measure_start,
                     r.measure_end, r.review, r.created_at, r.updated_at, {_ANSWERS},
                     {_CHANNEL} AS channel,
                     (SELECT group_concat(name, '{SEPARATOR}')
                      FROM (SELECT o.name FROM persons o
                            WHERE o.report_id = r.id AND o.idx <> p.idx ORDER BY o.idx))
                         AS companions
              FROM persons p JOIN reports r ON r.id = p.report_id
              LEFT JOIN units u ON u.id = r.unit_id{where}
              ORDER BY r.arrival_date, r.id, p.idx"""
    return sql, params


def _place(place: Mapping[str, Any] | None) -> str | None:
    if not place:
        return None
    return "".join(place.get(k) or "" for k in ("province", "city", "district")) or None


def _arrival(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    data = {key: row[key] for key in _JSON}
    data.update({key: json.loads(row[key]) for key in _NESTED if row[key] is not None})
    main = row["idx"] == 0  # the answers about health are the main person's own
    origin = data.get("country") if data.get("region_kind") == "abroad" else None
    return {
        **words.person(row),
        "ref": row["ref"],
        "companion": words("person", "main" if main else "companion"),
        "companions": row["companions"] or "",
        # 与填报人关系: the reporter's own; a companion is told apart by ``companion``
        "relation": words("relation", row["relation"]) if main else None,
        "channel": words("channel", row["channel"]),
        "unit": row["unit"],
        "origin": origin or _place(data.get("origin")),
        "travel": _joined(_place(p) for p in data.get("travel") or ()),
        "arrival_date": _day(row["arrival_date"]),
        "transport": words("transport", data.get("transport")),
        "trip": data.get("trip"),
        "category": words("category", row["category"]),
        "risk": words("risk", row["risk"]),
        "alert": words.flag(row["alert"]),
        "measure": words("measure", row["measure_kind"]),
        "measure_start": _day(row["measure_start"]),
        "measure_end": _day(row["measure_end"]),
        "health_code": words("health_code", data.get("health_code")) if main else None,
        "test_result": words("test_result", data.get("test_result")) if main else None,
        "temperature": data.get("temperature") if main else None,
        "symptoms": _joined(words("symptom", s) for s in data.get("symptoms") or ())
        if main
        else None,
        "review": words("review", row["review"]),
        "registered_at": _moment(row["created_at"]),
        "updated_at": _moment(row["updated_at"]),
    }


# --- monitoring ----------------------------------------------------------------------------

_MONITORING_FROM = """FROM monitoring m JOIN reports r ON r.id = m.report_id
              JOIN persons p ON p.report_id = m.report_id AND p.idx = m.person_idx"""


def _monitoring_where(scope: _Scope) -> tuple[str, list]:
    return _where(
        scope.period("m.start_date", "m.end_date"),
        scope.place("r.village_id"),
        fixed=("r.state = 'open'", "m.covered_by IS NULL"),
    )


def _monitorings(scope: _Scope) -> tuple[str, list]:
    where, params = _monitoring_where(scope)
    sql = f"""SELECT m.id, r.ref, p.name, p.id_kind, p.id_number, p.phone, r.address,
                     r.village_id, m.grid_id, m.kind, m.start_date, m.end_date, m.state, m.note,
                     m.test_dates,
                     (SELECT group_concat(COALESCE(s.name, {_name_of("s.user_id")}, s.user_id),
                                          '{SEPARATOR}') FROM staff s
                      WHERE s.role = 'worker' AND s.scope = m.grid_id AND s.active = 1) AS worker,
                     (SELECT count(*) FROM checkins c
                      WHERE c.monitoring_id = m.id AND c.state = 'missed') AS missed,
                     (SELECT count(*) FROM checkins c
                      WHERE c.monitoring_id = m.id AND c.temperature >= {FEVER}) AS fevers,
                     {_TESTS.format(table="test_samples", key="monitoring_id", value="m.id")}
                         AS tests
              {_MONITORING_FROM}{where}
              ORDER BY m.start_date, m.id"""
    return sql, params


def _checkins(scope: _Scope, days: Sequence[date]) -> tuple[str, list]:
    """The check-ins of the monitorings of ``_monitorings`` on ``days``, in the same order."""
    where, params = _monitoring_where(scope)
    first = datetime.combine(min(days), time(), scope.tz).astimezone(UTC).isoformat()
    after = datetime.combine(max(days) + timedelta(days=1), time(), scope.tz)
    sql = f"""SELECT c.monitoring_id, c.slot_at, c.state, c.temperature
              {_MONITORING_FROM}
              JOIN checkins c ON c.monitoring_id = m.id
                   AND c.slot_at >= ? AND c.slot_at < ?{where}
              ORDER BY m.start_date, m.id, c.slot_at"""
    return sql, [first, after.astimezone(UTC).isoformat(), *params]


def _day_cells(
    checkins: Iterable[Mapping[str, Any]], days: Sequence[date], tz: ZoneInfo, words: _Words
) -> dict[date, str]:
    """``{day: "36.5 / 36.8"}``: each slot of the day answered (its temperature as given) or
    missed (未报); a slot not answered yet, or a day without slots, shows nothing."""
    cells: dict[date, list[str]] = {day: [] for day in days}
    for checkin in checkins:
        slots = cells.get(_moment(checkin["slot_at"]).astimezone(tz).date())
        if slots is None:
            continue
        if checkin["state"] == "missed":
            slots.append(words("checkin", "missed"))
        elif checkin["state"] == "answered" and checkin["temperature"] is not None:
            slots.append(f"{checkin['temperature']:.1f}")
    return {day: " / ".join(slots) for day, slots in cells.items()}


def _monitoring(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    return {
        **words.person(row),
        "ref": row["ref"],
        "measure": words("measure", row["kind"]),
        "start_date": _day(row["start_date"]),
        "end_date": _day(row["end_date"]),
        "state": words("monitoring_state", row["state"]),
        "worker": row["worker"],
        "tests": _results(row["tests"], words, json.loads(row["test_dates"])),
        "missed": row["missed"],
        "fevers": row["fevers"],
        "note": row["note"],
    }


def _monitoring_rows(
    conn: sqlite3.Connection, scope: _Scope, days: Sequence[date], words: _Words
) -> Iterator[dict[str, Any]]:
    """Each monitoring with its day cells: the check-ins come from a second cursor in the same
    order, merged as both stream (no query per person)."""
    checkins = iter(_cursor(conn, *_checkins(scope, days))) if days else iter(())
    waiting = next(checkins, None)
    for row in _cursor(conn, *_monitorings(scope)):
        own = []
        while waiting is not None and waiting["monitoring_id"] == row["id"]:
            own.append(waiting)
            waiting = next(checkins, None)
        yield {**_monitoring(row, words), "temperatures": _day_cells(own, days, scope.tz, words)}


# --- tips ----------------------------------------------------------------------------------

_CLOSING = "('confirmed', 'unfounded', 'not_found')"


def _tips(scope: _Scope) -> tuple[str, list]:
    # The tipster's columns (tipster_user_id, tipster_chat_id, tipster_locale) are never read.
    where, params = _where(scope.times("t.created_at"), scope.place("t.village_id"))
    sql = f"""SELECT t.ref, t.kind, t.venue_kind, t.person_name, t.person_phone, t.relation,
                     t.description, t.village_id, t.grid_id, t.address, t.since, t.state,
                     t.outcome, t.created_at, t.deadline_at, t.escalated_at, t.handled_at,
                     t.handled_by, {_name_of("t.handled_by")} AS handled_name, r.ref AS report_ref,
                     (SELECT a.note FROM tip_actions a
                      WHERE a.tip_id = t.id AND a.action IN {_CLOSING}
                      ORDER BY a.id DESC LIMIT 1) AS result
              FROM tips t LEFT JOIN reports r ON r.id = t.report_id{where}
              ORDER BY t.created_at, t.id"""
    return sql, params


def _tip(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    return {
        "ref": row["ref"],
        "kind": words("tip_kind", row["kind"]),
        "venue_kind": words("venue_kind", row["venue_kind"]),
        "person_name": row["person_name"],
        "person_phone": words.open(row["person_phone"]),
        "relation": words("tip_relation", row["relation"]),
        "description": row["description"],
        "village": words("village", row["village_id"]),
        "grid": words("grid", row["grid_id"]),
        "address": row["address"],
        "since": _day(row["since"]),
        "state": words("tip_state", row["state"]),
        "outcome": words("tip_outcome", row["outcome"]),
        "result": row["result"],
        "report_ref": row["report_ref"],
        "received_at": _moment(row["created_at"]),
        "deadline_at": _moment(row["deadline_at"]),
        "escalated_at": _moment(row["escalated_at"]),
        "handled_at": _moment(row["handled_at"]),
        "handled_by": _who(row["handled_name"], row["handled_by"]),
    }


# --- visits --------------------------------------------------------------------------------


def _visits(scope: _Scope) -> tuple[str, list]:
    where, params = _where(scope.times("v.at"), scope.grids("v.grid_id"))
    sql = f"""SELECT v.*, {_name_of("v.worker")} AS worker_name,
                     (SELECT group_concat(ref, '{SEPARATOR}')
                      FROM (SELECT r.ref FROM visit_reports vr JOIN reports r ON r.id = vr.report_id
                            WHERE vr.visit_id = v.id ORDER BY r.id)) AS reports
              FROM visits v{where}
              ORDER BY v.at, v.id"""
    return sql, params


def _visit(row: Mapping[str, Any], words: _Words, grid_villages: Mapping[str, str]) -> dict:
    temperatures = json.loads(row["temperatures"] or "[]")
    return {
        "at": _moment(row["at"]),
        "village": words("village", grid_villages.get(row["grid_id"])),
        "grid": words("grid", row["grid_id"]),
        "address": row["address"],
        "worker": _who(row["worker_name"], row["worker"]),
        "refused": words.flag(row["refused"]),
        "people_present": row["people_present"],
        "temperatures": " / ".join(f"{t:.1f}" for t in temperatures),
        "fever": words.flag(row["fever"]),
        "arrivals": words.flag(row["arrivals"]),
        "reports": row["reports"] or "",
        "note": row["note"],
    }


# --- cases ---------------------------------------------------------------------------------


def _cases(scope: _Scope) -> tuple[str, list]:
    found = "COALESCE(k.discovered_at, k.created_at)"
    where, params = _where(scope.times(found), scope.place("k.village_id"))
    sql = f"""SELECT k.*, k.person_name AS name, k.person_phone AS phone,
                     k.person_id_number AS id_number,
                     CASE WHEN k.person_id_number IS NULL THEN NULL ELSE 'id' END AS id_kind,
                     {found} AS found_at, r.ref AS report_ref,
                     (SELECT count(*) FROM case_contacts cc WHERE cc.case_id = k.id) AS contacts
              FROM cases k LEFT JOIN reports r ON r.id = k.report_id{where}
              ORDER BY found_at, k.id"""
    return sql, params


def _case(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    reported, deadline = _moment(row["reported_at"]), _moment(row["deadline_at"])
    return {
        **words.person(row),
        "ref": row["ref"],
        "kind": words("case_kind", row["kind"]),
        "source": words("case_source", row["source"]),
        "report_ref": row["report_ref"],
        "status": row["status"],
        "state": words("case_state", row["state"]),
        "confirmation": words("confirmation", row["confirmation"]),
        "discovered_at": _moment(row["found_at"]),
        "deadline_at": deadline,
        "reported_at": reported,
        "direct_report_no": row["direct_report_no"],
        "reported_by": _who(row["reported_by_name"], row["reported_by_user"]),
        # 2小时内网络直报: told only once it was reported; an open one shows in ``state``
        "within_2h": words.flag(reported <= deadline) if reported and deadline else None,
        "traced_at": _moment(row["traced_at"]),
        "contacts": row["contacts"],
    }


# --- contacts ------------------------------------------------------------------------------


def _contacts(scope: _Scope) -> tuple[str, list]:
    where, params = _where(scope.times("c.created_at"), scope.place("c.village_id"))
    shown, shown_params = scope.within("k.village_id")
    last_stay = "(SELECT {} FROM stays s WHERE s.contact_id = c.id ORDER BY s.id DESC LIMIT 1)"
    sql = f"""SELECT c.*,
                     (SELECT group_concat(ref, '{SEPARATOR}')
                      FROM (SELECT k.ref FROM case_contacts cc JOIN cases k ON k.id = cc.case_id
                            WHERE cc.contact_id = c.id ORDER BY k.id)) AS cases,
                     (SELECT json_group_array(json_array(person_name, shown))
                      FROM (SELECT k.person_name, {shown} AS shown FROM case_contacts cc
                            JOIN cases k ON k.id = cc.case_id
                            WHERE cc.contact_id = c.id ORDER BY k.id)) AS case_names,
                     (SELECT group_concat(exposure, '{SEPARATOR}')
                      FROM (SELECT cc.exposure FROM case_contacts cc
                            WHERE cc.contact_id = c.id AND cc.exposure IS NOT NULL
                            ORDER BY cc.case_id)) AS exposure,
                     (SELECT si.name FROM sites si
                      WHERE si.id = {last_stay.format("s.site_id")}) AS site,
                     {last_stay.format("s.room")} AS room
              FROM contacts c{where}
              ORDER BY c.created_at, c.id"""
    return sql, [*shown_params, *params]


def _case_names(pairs: str) -> str:
    """The names of a contact's cases: a case outside the reader's villages by a masked name
    (his village's contact is his to read, another village's case is not; its ref says
    which one it is)."""
    return _joined(name if shown else mask_name(name) for name, shown in json.loads(pairs)
                   if name)  # fmt: skip


def _contact(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    return {
        **words.person(row),
        "ref": row["ref"],
        "kind": words("contact_kind", row["kind"]),
        "cases": row["cases"] or "",
        "case_names": _case_names(row["case_names"]),
        "exposure": row["exposure"] or "",
        "last_exposure": _day(row["last_exposure"]),
        "measure": words("measure", row["measure_kind"]),
        "measure_start": _day(row["measure_start"]),
        "measure_end": _day(row["measure_end"]),
        "state": words("contact_state", row["state"]),
        "site": row["site"],
        "room": row["room"],
        "registered_at": _moment(row["created_at"]),
    }


# --- isolation -----------------------------------------------------------------------------


def _stays(scope: _Scope) -> tuple[str, list]:
    village = "COALESCE(c.village_id, r.village_id, k.village_id)"
    where, params = _where(scope.period("s.start_date", "s.end_date"), scope.place(village))
    sql = f"""SELECT s.*, si.name AS site_name,
                     COALESCE(c.ref, r.ref, k.ref) AS ref,
                     COALESCE(c.name, p.name, k.person_name) AS name,
                     COALESCE(c.phone, p.phone, k.person_phone) AS phone,
                     CASE WHEN c.id IS NOT NULL THEN c.id_kind WHEN p.id IS NOT NULL THEN p.id_kind
                          WHEN k.person_id_number IS NOT NULL THEN 'id' END AS id_kind,
                     COALESCE(c.id_number, p.id_number, k.person_id_number) AS id_number,
                     {village} AS village_id,
                     COALESCE(c.grid_id, r.grid_id, k.grid_id) AS grid_id,
                     COALESCE(c.address, r.address, k.address) AS address,
                     {_TESTS.format(table="stay_tests", key="stay_id", value="s.id")} AS tests
              FROM stays s JOIN sites si ON si.id = s.site_id
              LEFT JOIN contacts c ON c.id = s.contact_id
              LEFT JOIN reports r ON r.id = s.report_id
              LEFT JOIN persons p ON p.report_id = s.report_id AND p.idx = s.person_idx
              LEFT JOIN cases k ON k.id = s.case_id{where}
              ORDER BY s.start_date, s.id"""
    return sql, params


def _stay(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    whose = ("contact" if row["contact_id"] is not None
             else "arrival" if row["report_id"] is not None else "case")  # fmt: skip
    return {
        **words.person(row),
        "ref": row["ref"],
        "person_kind": words("person_kind", whose),
        "site": row["site_name"],
        "room": row["room"],
        "measure": words("measure", row["measure_kind"]),
        "start_date": _day(row["start_date"]),
        "end_date": _day(row["end_date"]),
        "state": words("stay_state", row["state"]),
        "assigned_at": _moment(row["assigned_at"]),
        "arrived_at": _moment(row["arrived_at"]),
        "released_at": _moment(row["released_at"]),
        "end_reason": row["end_reason"],
        "tests": _results(row["tests"], words),
    }


# --- units ---------------------------------------------------------------------------------


def _units(scope: _Scope) -> tuple[str, list]:
    days, day_params = _where(scope.days("day"), fixed=("unit_id = u.id",))
    where, params = _where(scope.place("u.village_id"), fixed=("u.active = 1",))
    sql = f"""SELECT u.id AS unit_id, u.name, u.kind, u.village_id, u.grid_id, u.address,
                     u.headcount, u.monitored, ur.day, ur.slot, ur.state AS report_state, ur.zero,
                     ur.present, ur.new_arrivals, ur.key_region, ur.symptomatic,
                     ur.note AS report_note, ur.filed_at
              FROM units u
              LEFT JOIN unit_reports ur ON ur.id = (
                  SELECT id FROM unit_reports{days} ORDER BY day DESC, slot DESC LIMIT 1){where}
              ORDER BY u.village_id, u.id"""
    return sql, [*day_params, *params]


def _unit(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    return {
        "unit_id": row["unit_id"],
        "name": row["name"],
        "kind": words("unit_kind", row["kind"]),
        "village": words("village", row["village_id"]),
        "grid": words("grid", row["grid_id"]),
        "address": row["address"],
        "headcount": row["headcount"],
        "monitored": words.flag(row["monitored"]),
        "day": _day(row["day"]),
        "slot": row["slot"],
        "report_state": words("unit_report_state", row["report_state"]),
        "zero": words.flag(row["zero"]),
        "present": row["present"],
        "new_arrivals": row["new_arrivals"],
        "key_region": row["key_region"],
        "symptomatic": row["symptomatic"],
        "report_note": row["report_note"],
        "filed_at": _moment(row["filed_at"]),
    }


# --- audit ---------------------------------------------------------------------------------


# The reference number (编号) of the record an entry is about, as the desk knows it.
_REFERENCED = {"report": "reports", "tip": "tips", "case": "cases", "contact": "contacts",
               "transfer": "transfers", "supply_request": "supply_requests"}  # fmt: skip
_REF = (
    "CASE "
    + " ".join(
        f"""WHEN a.subject LIKE '{kind}:%' THEN (SELECT ref FROM {table}
            WHERE id = CAST(substr(a.subject, {len(kind) + 2}) AS INTEGER))"""
        for kind, table in _REFERENCED.items()
    )
    + " END"
)


def _audit(scope: _Scope) -> tuple[str, list]:
    where, params = _where(scope.times("a.at"))
    sql = f"""SELECT a.*, {_name_of("a.actor")} AS actor_name, {_REF} AS ref,
                     (SELECT group_concat(DISTINCT s.role) FROM staff s
                      WHERE s.user_id = a.actor AND s.active = 1) AS roles
              FROM audit a{where}
              ORDER BY a.at, a.id"""
    return sql, params


def _audit_entry(row: Mapping[str, Any], words: _Words) -> dict[str, Any]:
    roles = (row["roles"] or "").split(",")
    return {
        "at": _moment(row["at"]),
        "actor": row["actor"],
        "actor_name": row["actor_name"],
        "roles": _joined(words("role", r) for r in sorted(roles)),
        "action": words.action(row["action"]),
        "subject": row["subject"],
        "ref": row["ref"],
        "detail": row["detail"],
    }


# --- the registers -------------------------------------------------------------------------

Shape = Callable[[Mapping[str, Any], _Words], dict[str, Any]]
_SIMPLE: dict[str, tuple[Callable[[_Scope], tuple[str, list]], Shape]] = {
    "arrivals": (_arrivals, _arrival),
    "tips": (_tips, _tip),
    "cases": (_cases, _case),
    "contacts": (_contacts, _contact),
    "isolation": (_stays, _stay),
    "units": (_units, _unit),
    "audit": (_audit, _audit_entry),
}


def _cursor(conn: sqlite3.Connection, sql: str, params: list) -> Iterator[dict[str, Any]]:
    """The rows of a query as they stream, as dicts (a column by name in a dict is quicker
    than in a sqlite3.Row); the few sealed values are opened where they are read
    (``_Words.open``), not every value of every row."""
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(sql, params)
    columns = [column[0] for column in cursor.description]
    for row in cursor:
        yield dict(zip(columns, row, strict=True))


def rows(
    conn: sqlite3.Connection,
    cipher: Cipher,
    register: str,
    *,
    start: datetime | None,
    end: datetime | None,
    villages: frozenset[str] | None,
    days: Sequence[date] = (),
    tz: ZoneInfo,
    names: Names | None = None,
    grid_villages: Mapping[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows of ``register`` (see the module's docstring), ``seq`` numbered from 1.

    ``days``: the day columns of the monitoring register's ``temperatures``;
    ``names``: ``{"<kind>:<code>": word}`` in the reader's locale (village:<id>, grid:<id>,
    category:<code>...); ``grid_villages``: grid id -> village id, for the visits register
    (a visit stores its grid only)."""
    if register not in FIELDS:
        raise ValueError(f"{register!r} is not a register")
    if register == "audit" and villages is not None:  # no place to scope it by: never open
        raise ValueError("the audit register is the whole town's: villages must be None")
    scope = _Scope(start, end, villages, tz, grid_villages or {})
    words = _Words(names or {}, cipher)
    return _numbered(conn, _found(conn, register, scope, days, words))


def _numbered(conn: sqlite3.Connection, found: Iterator[dict]) -> Iterator[dict[str, Any]]:
    """``seq`` 1, 2, 3... on each row."""
    # One read transaction: every cursor of the export sees the same snapshot.
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        for seq, row in zip(counter(1), found):
            yield {"seq": seq, **row}
    finally:
        if began and conn.in_transaction:
            conn.execute("COMMIT")


def _found(
    conn: sqlite3.Connection,
    register: str,
    scope: _Scope,
    days: Sequence[date],
    words: _Words,
) -> Iterator[dict[str, Any]]:
    if register == "monitoring":
        yield from _monitoring_rows(conn, scope, days, words)
    elif register == "visits":
        for row in _cursor(conn, *_visits(scope)):
            yield _visit(row, words, scope.grid_villages)
    else:
        query, shape = _SIMPLE[register]
        for row in _cursor(conn, *query(scope)):
            yield shape(row, words)
