"""Configuration: a TOML file -> frozen, validated objects, with precise error messages.

`load_config(path)` and `parse_config(data, base_dir)` either return a `Config` or raise
`ConfigError` listing *every* problem found, each as "key.path[index]: what is wrong"
(the caller prefixes the file name). A bad config never causes a traceback.
"""

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.domain import posters, roster, sites, supplies, vehicles
from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_phone
from bot.domain.retention import DEFAULT_DAYS as DEFAULT_RETENTION_DAYS
from bot.domain.risk import RISK_CATEGORIES
from bot.domain.units import canonical_kind

__all__ = [
    "RISK_CATEGORIES",
    "ArrivalSettings",
    "BotSettings",
    "Config",
    "ConfigError",
    "ContactSettings",
    "Escalation",
    "EscalationStep",
    "Grid",
    "KeyUnit",
    "Leadership",
    "Measure",
    "Measures",
    "MobilisationSettings",
    "OutboxSettings",
    "RegionsSettings",
    "RegistersSettings",
    "Retention",
    "Schedule",
    "Site",
    "Tips",
    "Town",
    "TransferSettings",
    "Vehicle",
    "Village",
    "load_config",
    "parse_config",
]

# The health code of the example town (Chongqing): a town names its own in `town.health_code`.
HEALTH_CODE = "渝康码"


class ConfigError(Exception):
    """The configuration is invalid; `problems` lists every problem, "path: message"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems) or ["invalid configuration"]
        super().__init__(self.problems[0])


# --- small validators -------------------------------------------------------------------


def _q(value: object) -> str:
    """Show a value as in the TOML file: strings quoted."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _fail(message: str) -> PydanticCustomError:
    # The message travels in the context so that braces in user input are never formatted.
    return PydanticCustomError("paicha", "{message}", {"message": message})


def _matching(regex: str, what: str) -> AfterValidator:
    pattern = re.compile(regex)

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise _fail(f"{_q(value)} is not a valid {what}")
        return value

    return AfterValidator(check)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _fail("must not be empty")
    return value


def _not_empty(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # Not Field(min_length=1): pydantic would also report "too short" when an item is invalid.
    if not values:
        raise _fail("must not be empty")
    return values


def _positive_user(value: int) -> int:
    if value <= 0:
        raise _fail(f"must be a positive user id, not {value}")
    return value


def _negative_chat(value: int) -> int:
    if value >= 0:
        raise _fail(f"must be a negative group chat id, not {value}")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError...: all mean "not a zone"
        raise _fail(f"{_q(value)} is not a time zone") from None
    return value


def _http_url(value: str) -> str:
    if not re.match(r"https?://[^\s/]", value):
        raise _fail(f"{_q(value)} must start with http:// or https://")
    return value


_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _clock_time(value: object) -> time:
    """ "HH:MM" (00:00–23:59) -> time; a TOML local time without seconds is accepted too."""
    if isinstance(value, time) and value.second == value.microsecond == 0 and not value.tzinfo:
        return value
    if isinstance(value, str) and (match := _HHMM.fullmatch(value)):
        return time(int(match[1]), int(match[2]))
    raise _fail(f"{_q(value)} is not HH:MM")


def _sorted_unique(values: tuple[time, ...]) -> tuple[time, ...]:
    return tuple(sorted(set(values)))


def _base_dir(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base_dir", "."))


def _resolve(value: object, info: ValidationInfo) -> Path:
    if not isinstance(value, str | Path):
        raise _fail(f"must be a file path (a string), not {_q(value)}")
    if not str(value).strip():
        raise _fail("must not be empty")
    return _base_dir(info) / value


def _optional_path(value: object, info: ValidationInfo) -> Path | None:
    return None if value in ("", None) else _resolve(value, info)


def _existing_file(value: Path) -> Path:
    if not value.exists():
        raise _fail(f"no such file: {value}")
    if not value.is_file():
        raise _fail(f"not a file: {value}")
    return value


Int = Annotated[int, Field(strict=True)]
Float = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Bool = Annotated[bool, Field(strict=True)]
Name = Annotated[str, AfterValidator(_not_blank)]
UserId = Annotated[int, Field(strict=True), AfterValidator(_positive_user)]
ChatId = Annotated[int, Field(strict=True), AfterValidator(_negative_chat)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
Times = Annotated[tuple[ClockTime, ...], AfterValidator(_sorted_unique)]
FilePath = Annotated[Path, BeforeValidator(_resolve)]
SmallId = Annotated[str, _matching(r"[a-z0-9_]{1,16}", "id (1–16 of a-z, 0-9, _)")]
GridId = Annotated[str, _matching(r"[A-Z0-9]{2,8}", "grid id (2–8 of A-Z, 0-9)")]
TownCode = Annotated[str, _matching(r"[A-Z]{1,6}", "town code (1–6 letters A-Z)")]
SiteId = Annotated[str, _matching(r"[A-Z0-9]{2,8}", "site id (2–8 of A-Z, 0-9)")]
RoomNumber = Annotated[str, _matching(r"[A-Za-z0-9-]{1,8}", "room number (1–8 of A-Z, 0-9, -)")]
VehicleId = Annotated[str, _matching(r"[A-Z0-9]{2,8}", "vehicle id (2–8 of A-Z, 0-9)")]


def _plate(value: str) -> str:
    """A vehicle's plate as typed -> as written (渝A·12345)."""
    written = vehicles.plate(value)
    if isinstance(written, Invalid):
        raise _fail(f"{_q(value)} is not a plate like 渝A12345 or 渝AD12345")
    return written


def _phone(value: str) -> str:
    parsed = parse_phone(value) if value else value
    if isinstance(parsed, Invalid):
        raise _fail(f"{_q(value)} is not a phone number")
    return parsed


def _hotline(value: str) -> str:
    parsed = posters.parse_hotline(value) if value else value
    if isinstance(parsed, Invalid):
        raise _fail(f"{_q(value)} is not a phone number to call (023-47521234, 12345, a mobile)")
    return parsed


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- sections ---------------------------------------------------------------------------


class Town(_Frozen):
    name: Name
    code: TownCode
    timezone: Annotated[str, AfterValidator(_time_zone)] = "Asia/Shanghai"
    region: str = ""
    # the local name of the health code app residents are asked about (渝康码 in Chongqing)
    health_code: Annotated[str, Field(max_length=20), AfterValidator(_not_blank)] = HEALTH_CODE
    # the town's epidemic hotline (镇疫情防控热线), printed on every QR poster: a landline with
    # its area code, a short service number (12345) or a mobile; required by the posters
    hotline: Annotated[str, AfterValidator(_hotline)] = ""


class BotSettings(_Frozen):
    api_base_url: Annotated[str, AfterValidator(_http_url)] = "https://api.telegram.org/bot"
    api_file_url: str = Field(default="", validate_default=True)
    database: FilePath = Field(default="var/paicha.sqlite3", validate_default=True)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    conversation_timeout_minutes: Annotated[Int, Field(ge=1, le=1440)] = 30
    poll_timeout_seconds: Annotated[Int, Field(ge=0, le=50)] = 30
    # updates of different people handled at once (one person's always in order)
    concurrent_updates: Annotated[Int, Field(ge=1, le=1024)] = 64
    clock_file: Annotated[Path | None, BeforeValidator(_optional_path)] = None
    # the data key (64 hex characters) that seals phones and IDs; none: PAICHA_DATA_KEY
    data_key_file: Annotated[Path | None, BeforeValidator(_optional_path)] = None
    username: Annotated[str, _matching(r"[A-Za-z][A-Za-z0-9_]{3,31}|", "bot username")] = ""

    @field_validator("api_file_url")
    @classmethod
    def _file_url_known(cls, value: str, info: ValidationInfo) -> str:
        if value:
            return _http_url(value)
        base = info.data.get("api_base_url")
        if base is not None and not base.endswith("/bot"):
            raise _fail('needed: api_base_url does not end in "/bot", so it cannot be derived')
        return value

    @property
    def file_url(self) -> str:
        """api_file_url, or derived from api_base_url: ".../bot" -> ".../file/bot"."""
        return self.api_file_url or self.api_base_url.removesuffix("/bot") + "/file/bot"


class Leadership(_Frozen):
    chat_id: ChatId
    admins: tuple[UserId, ...]


class ArrivalSettings(_Frozen):
    id_number: Literal["required", "optional"] = "required"
    max_days_back: Annotated[Int, Field(ge=1, le=365)] = 30
    lookback_days: Annotated[Int, Field(ge=1, le=60)] = 14
    max_companions: Annotated[Int, Field(ge=0, le=50)] = 10


class Retention(_Frozen):
    # personal data of people released or withdrawn is purged this many days later
    days: Annotated[Int, Field(ge=1, le=3650)] = DEFAULT_RETENTION_DAYS


class Tips(_Frozen):
    max_per_day: Annotated[Int, Field(ge=1, le=100)] = 5  # tips one person may send a day


class ContactSettings(_Frozen):
    # a case's contacts are traced within this many hours of its discovery (the 'trace' ladder)
    trace_hours: Annotated[Int, Field(ge=1, le=168)] = 24


class RegionsSettings(_Frozen):
    file: Annotated[FilePath, AfterValidator(_existing_file)]


class OutboxSettings(_Frozen):
    rate_per_second: Annotated[Float, Field(gt=0, le=30)] = 25.0
    group_per_minute: Annotated[Int, Field(ge=1, le=20)] = 20
    # A network error, 5xx or timeout is never final: the message is retried (at most a few
    # minutes apart) until it is this old; only a definite refusal fails it sooner.
    max_age_hours: Annotated[Float, Field(gt=0, le=24 * 7)] = 24.0
    # Sends in flight at once. A crash between a send and its mark repeats at most this many
    # messages, each once; 1 makes that one message, at one round trip per message.
    concurrency: Annotated[Int, Field(ge=1, le=32)] = 8

    @model_validator(mode="before")
    @classmethod
    def _max_attempts_replaced(cls, data: Any) -> Any:
        # An upgraded config must not keep an option that no longer does anything.
        if isinstance(data, Mapping) and "max_attempts" in data:
            raise _fail("max_attempts is no longer used: a message is retried until it is "
                        "max_age_hours old (default 24); remove max_attempts")  # fmt: skip
        return data


class Release(_Frozen):
    """Release from centralised isolation (解除, bot.domain.release)."""

    # the day after a stay's last day, at this local time, its release is decided
    at: ClockTime = time(9, 0)
    # home health monitoring after release (居家健康监测), days; 0: none
    home_monitoring_days: Annotated[Int, Field(ge=0, le=30)] = 0


class Schedule(_Frozen):
    digest: Times = (time(8, 0), time(20, 0))
    checkin: Times = (time(9, 0), time(20, 0))
    checkin_reminder_minutes: Annotated[Int, Field(ge=1, le=1440)] = 60
    tip_deadline_hours: Annotated[Float, Field(gt=0, le=720)] = 12.0
    symptom_tip_deadline_hours: Annotated[Float, Field(gt=0, le=720)] = 2.0
    arrival_deadline_hours: Annotated[Float, Field(gt=0, le=720)] = 12.0
    case_overdue_repeat_minutes: Annotated[Int, Field(ge=5, le=120)] = 15
    # a reserved isolation site is ready within this many hours of the order (plan §8: 24)
    site_activation_hours: Annotated[Float, Field(gt=0, le=168)] = 24.0


class UnitSettings(_Frozen):
    """The daily unit report (单位日报, bot.actions.unit_reports): when each key unit is asked
    (a unit under key monitoring, 重点监测, twice), and how long it has to file."""

    report_at: ClockTime = time(16, 0)
    monitored_report_at: Annotated[Times, Field(min_length=2, max_length=2)] = (
        time(9, 0),
        time(16, 0),
    )
    # filed within this many minutes of being asked, else the ladder ([escalation] unit_report)
    deadline_minutes: Annotated[Int, Field(ge=10, le=720)] = 120


def _existing_dir(value: Path | None) -> Path | None:
    if value is not None and not value.is_dir():
        raise _fail(f"no such folder: {value}")
    return value


class RegistersSettings(_Frozen):
    """The registers (台账) the leaders export (/export, paicha export): the town's own
    layouts, overriding the shipped ones file by file, and the office named as 填报单位."""

    dir: Annotated[Path | None, BeforeValidator(_optional_path), AfterValidator(_existing_dir)] = (
        None
    )
    office: str = ""  # "": the town's epidemic office (templates/*/registers.j2 office)


class EscalationStep(_Frozen):
    """One rung of the escalation ladder: who is told, how long after the item's deadline."""

    to: Literal["assignee", "village_admin", "leadership"]
    after_minutes: Annotated[Int, Field(ge=0, le=10080)]  # ascending: _check_ladders


Ladder = Annotated[tuple[EscalationStep, ...], AfterValidator(_not_empty)]
LADDER_KINDS = ("arrival", "tip", "checkin", "fever", "site", "sample", "unit_report")


class Escalation(_Frozen):
    """The ladder every item with a deadline climbs (bot.runtime.escalation), with optional
    per-kind ladders replacing it."""

    steps: Ladder = (
        EscalationStep(to="assignee", after_minutes=0),
        EscalationStep(to="village_admin", after_minutes=60),
        EscalationStep(to="leadership", after_minutes=120),
    )
    arrival: Ladder | None = None
    tip: Ladder | None = None
    checkin: Ladder | None = None
    fever: Ladder | None = None
    site: Ladder | None = None  # none: bot.domain.sites.ACTIVATION_LADDER
    sample: Ladder | None = None  # a missed isolation test (bot.actions.samples)
    unit_report: Ladder | None = None  # a daily unit report not filed (单位日报)

    def ladder(self, kind: str) -> tuple[EscalationStep, ...]:
        """The ladder of an item kind (arrival, tip, checkin, fever, site, sample)."""
        own = getattr(self, kind) if kind in LADDER_KINDS else None
        return own or self.steps


class Grid(_Frozen):
    id: GridId
    name: Name
    workers: tuple[UserId, ...] = ()


class Village(_Frozen):
    id: SmallId
    name: Name
    admins: tuple[UserId, ...] = ()
    grids: Annotated[tuple[Grid, ...], AfterValidator(_not_empty)]


def _unit_kind(value: object) -> object:
    return canonical_kind(value) if isinstance(value, str) else value


class KeyUnit(_Frozen):
    """A key unit or venue (重点单位与场所): its liaisons' Telegram user ids become staff with
    role ``unit`` (scope: the unit's id); ``grid`` is the grid whose worker follows it;
    ``monitored`` is where its 重点监测 starts (a leader's choice in chat is kept)."""

    id: SmallId
    name: Name
    kind: Annotated[
        Literal["enterprise", "school", "hotel", "homestay", "rental", "farmstay", "other"],
        BeforeValidator(_unit_kind),
    ]
    village: str
    grid: str | None = None  # a grid of ``village``: checked in _check_unit_grids
    address: str = ""
    headcount: Annotated[Int, Field(ge=0)] = 0
    liaisons: tuple[UserId, ...] = ()
    monitored: Bool = False
    note: str = ""


class Measure(_Frozen):
    kind: Literal[
        "centralized_isolation",
        "home_observation",
        "home_monitoring",
        "medical_care",
        "self_monitoring",
    ]
    days: Annotated[Int, Field(ge=0, le=60)]
    test_days: tuple[Int, ...]  # 1..days, ascending: checked in _check_test_days
    alert: Bool = False


class Measures(_Frozen):
    """Measure per risk category; behaves as a read-only mapping in RISK_CATEGORIES order."""

    symptomatic: Measure
    overseas: Measure
    high_risk: Measure
    red_code: Measure
    medium_risk: Measure
    yellow_code: Measure
    quarantine_done: Measure
    low: Measure
    # A case's contacts (bot.domain.contacts), not a risk category: outside the mapping.
    close_contact: Measure = Measure(kind="centralized_isolation", days=14,
                                     test_days=(1, 4, 7, 14), alert=True)  # fmt: skip
    secondary_contact: Measure = Measure(kind="centralized_isolation", days=14,
                                         test_days=(1, 4, 7, 14), alert=True)  # fmt: skip

    def __getitem__(self, category: str) -> Measure:
        if category not in RISK_CATEGORIES:
            raise KeyError(category)
        return getattr(self, category)

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(RISK_CATEGORIES)

    def __len__(self) -> int:
        return len(RISK_CATEGORIES)

    def __contains__(self, category: object) -> bool:
        return category in RISK_CATEGORIES

    def keys(self) -> tuple[str, ...]:
        return RISK_CATEGORIES

    def values(self) -> tuple[Measure, ...]:
        return tuple(self[c] for c in RISK_CATEGORIES)

    def items(self) -> tuple[tuple[str, Measure], ...]:
        return tuple((c, self[c]) for c in RISK_CATEGORIES)

    def get(self, category: str, default: Measure | None = None) -> Measure | None:
        return self[category] if category in RISK_CATEGORIES else default


def _rooms(value: object) -> object:
    """A room count -> its numbered rooms; a list is checked room by room."""
    if not _is_int(value):
        return value
    if not 1 <= value <= sites.MAX_ROOMS:
        raise _fail(f"a room count must be within 1..{sites.MAX_ROOMS}, not {value}")
    return sites.numbered_rooms(value)


class Site(_Frozen):
    """A centralised isolation site (集中隔离点): ``rooms`` lists its room numbers, or counts
    them (numbered 1…N); ``capacity`` defaults to one person a room."""

    id: SiteId
    name: Name
    address: Name
    village: str
    latitude: Annotated[Float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[Float, Field(ge=-180, le=180)] | None = None
    rooms: Annotated[tuple[RoomNumber, ...], BeforeValidator(_rooms), AfterValidator(_not_empty)]
    capacity: Annotated[Int, Field(ge=0)] | None = None
    state: Literal["reserved", "active"] = "reserved"
    managers: tuple[UserId, ...] = ()

    @property
    def places(self) -> int:
        """People it takes: ``capacity``, else one a room."""
        return len(self.rooms) if self.capacity is None else self.capacity


class Vehicle(_Frozen):
    """A transfer vehicle (负压救护车 / 转运车) and its crew: their Telegram user ids get its
    transfers (role crew, scope the vehicle's id)."""

    id: VehicleId
    plate: Annotated[str, AfterValidator(_plate)]
    kind: Literal["negative_pressure", "transfer"]
    crew_name: Annotated[str, Field(max_length=30)] = ""
    crew_phone: Annotated[str, AfterValidator(_phone)] = ""
    crew: tuple[UserId, ...] = ()


Minutes = Annotated[Int, Field(ge=1, le=1440)]


class TransferSettings(_Frozen):
    """Transfers (bot.domain.transfers): who dispatches, how long each stage may wait, how
    long a vehicle is disinfected after a delivery."""

    dispatchers: tuple[UserId, ...] = ()
    dispatch_minutes: Minutes = 30
    urgent_dispatch_minutes: Minutes = 10
    ack_minutes: Minutes = 15
    pickup_minutes: Minutes = 30  # from the crew's 收到 to their 已接到
    delivery_minutes: Minutes = 60  # from the pick-up to 已送达
    remind_minutes: Annotated[Int, Field(ge=0, le=1440)] = 5
    group_minutes: Annotated[Int, Field(ge=0, le=1440)] = 15
    disinfection_minutes: Annotated[Int, Field(ge=0, le=1440)] = 60

    @model_validator(mode="after")
    def _in_order(self) -> "TransferSettings":
        if self.urgent_dispatch_minutes > self.dispatch_minutes:
            raise _fail("urgent_dispatch_minutes must not be more than dispatch_minutes")
        if self.remind_minutes >= min(
            self.urgent_dispatch_minutes,
            self.ack_minutes,
            self.pickup_minutes,
            self.delivery_minutes,
        ):
            raise _fail("remind_minutes must be less than urgent_dispatch_minutes, "
                        "ack_minutes, pickup_minutes and delivery_minutes (the reminder "
                        "comes before the deadline)")  # fmt: skip
        return self

    def minutes(self) -> dict[str, int]:
        return self.model_dump(include={"dispatch_minutes", "urgent_dispatch_minutes",
                                        "ack_minutes", "pickup_minutes",
                                        "delivery_minutes"})  # fmt: skip


Quantity = Annotated[Int, Field(ge=0, le=supplies.MAX_QUANTITY)]


class SupplyItem(_Frozen):
    """An item of supplies (物资) kept in stock: its names, its unit (个, 瓶, 套 …) and the
    minimum under which its keepers and the group are alerted — at the town store
    (``minimum``), at each village's and each isolation site's (0: no alert there)."""

    id: SmallId
    name: Name
    name_en: Name
    unit: Annotated[str, Field(max_length=4), AfterValidator(_not_blank)]
    unit_en: Annotated[str, Field(max_length=12), AfterValidator(_not_blank)]
    minimum: Quantity = 0
    village_minimum: Quantity = 0
    site_minimum: Quantity = 0

    def minimum_at(self, place: str) -> int:
        """The minimum at a place (``town``, ``v:<village>``, ``s:<site>``)."""
        kind = supplies.split(place)[0]
        return {supplies.TOWN: self.minimum, supplies.VILLAGE: self.village_minimum,
                supplies.SITE: self.site_minimum}.get(kind, 0)  # fmt: skip


class SupplySettings(_Frozen):
    """Supplies (bot.domain.supplies): the town store's keepers (Telegram user ids; a village's
    keepers are its admins, a site's its managers) and the items kept."""

    keepers: tuple[UserId, ...] = ()
    items: tuple[SupplyItem, ...] = ()

    def item(self, item_id: str) -> SupplyItem | None:
        return next((i for i in self.items if i.id == item_id), None)


class StaffKind(_Frozen):
    """A staff category or skill (分类建档): a built-in id (bot.domain.roster) is named by the
    templates unless ``name`` / ``name_en`` are given; a town's own id needs both."""

    id: SmallId
    name: Annotated[str, Field(max_length=12)] = ""
    name_en: Annotated[str, Field(max_length=30)] = ""


def _kinds(ids: tuple[str, ...]) -> tuple[StaffKind, ...]:
    return tuple(StaffKind(id=i) for i in ids)


class StaffSettings(_Frozen):
    """Staff filed by category (bot.domain.roster): the categories and skills offered, in
    this order; the defaults are the plan's."""

    categories: Annotated[tuple[StaffKind, ...], AfterValidator(_not_empty)] = _kinds(
        roster.CATEGORIES
    )
    skills: tuple[StaffKind, ...] = _kinds(roster.SKILLS)

    def category_ids(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.categories)

    def skill_ids(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.skills)


class MobilisationSettings(_Frozen):
    """Mobilisation (bot.domain.mobilisation): minutes after a call that its silent are
    reminded themselves, that their village admins are told, that the leadership group is."""

    remind_minutes: Minutes = 10
    escalate_minutes: Minutes = 20
    group_minutes: Minutes = 40

    @model_validator(mode="after")
    def _in_order(self) -> "MobilisationSettings":
        if not self.remind_minutes < self.escalate_minutes < self.group_minutes:
            raise _fail("remind_minutes < escalate_minutes < group_minutes: the silent are "
                        "reminded, then their village admins told, then the group")  # fmt: skip
        return self


Mapping.register(Measures)
assert tuple(Measures.model_fields)[: len(RISK_CATEGORIES)] == RISK_CATEGORIES


class Config(_Frozen):
    town: Town
    bot: BotSettings = Field(default_factory=dict, validate_default=True)
    leadership: Leadership
    arrival: ArrivalSettings = ArrivalSettings()
    regions: RegionsSettings
    outbox: OutboxSettings = OutboxSettings()
    schedule: Schedule = Schedule()
    tips: Tips = Tips()
    contacts: ContactSettings = ContactSettings()
    retention: Retention = Retention()
    escalation: Escalation = Escalation()
    villages: Annotated[tuple[Village, ...], AfterValidator(_not_empty)]
    key_units: tuple[KeyUnit, ...] = ()
    measures: Measures
    sites: tuple[Site, ...] = ()
    release: Release = Release()
    vehicles: tuple[Vehicle, ...] = ()
    transfer: TransferSettings = TransferSettings()
    units: UnitSettings = UnitSettings()
    supplies: SupplySettings = SupplySettings()
    staff: StaffSettings = StaffSettings()
    mobilisation: MobilisationSettings = MobilisationSettings()
    registers: RegistersSettings = RegistersSettings()

    def village(self, village_id: str) -> Village | None:
        return next((v for v in self.villages if v.id == village_id), None)

    def grid(self, grid_id: str) -> tuple[Village, Grid] | None:
        for village in self.villages:
            for grid in village.grids:
                if grid.id == grid_id:
                    return village, grid
        return None

    def grid_names(self, grid_id: str) -> tuple[str, str]:
        """(village name, grid name) for messages; a grid no longer configured shows as its
        id."""
        found = self.grid(grid_id)
        return (found[0].name, found[1].name) if found else ("", grid_id)

    def grid_label(self, grid_id: str) -> str:
        """ "先锋社区 第1网格": the village and the grid, for lists and choices."""
        return " ".join(self.grid_names(grid_id))

    def grid_ids(self) -> dict[str, tuple[str, ...]]:
        """Each village's id -> its grid ids, in the file's order."""
        return {v.id: tuple(g.id for g in v.grids) for v in self.villages}

    def grid_villages(self) -> dict[str, str]:
        """Each grid's id -> its village's id."""
        return {g.id: v.id for v in self.villages for g in v.grids}

    def listed_staff(self) -> set[tuple[int, str, str]]:
        """The staff named in the file — workers, village admins, crews, dispatchers, unit
        liaisons, site managers — as (user id, role, scope)."""
        staff = {(u, "worker", g.id) for v in self.villages for g in v.grids for u in g.workers}
        staff |= {(u, "village_admin", v.id) for v in self.villages for u in v.admins}
        staff |= {(u, "crew", v.id) for v in self.vehicles for u in v.crew}
        staff |= {(u, "dispatcher", "*") for u in self.transfer.dispatchers}
        staff |= {(u, "unit", k.id) for k in self.key_units for u in k.liaisons}
        return staff | {(u, "site_manager", s.id) for s in self.sites for u in s.managers}

    def key_unit(self, unit_id: str) -> KeyUnit | None:
        return next((u for u in self.key_units if u.id == unit_id), None)

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.town.timezone)


# --- loading ----------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file; relative paths in it are relative to its folder."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(["no such file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text: {exc.reason} at byte {exc.start}"]) from None
    except OSError as exc:
        raise ConfigError([f"cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML syntax error: {exc}"]) from None
    return parse_config(data, path.absolute().parent)


def parse_config(data: dict[str, Any], base_dir: Path) -> Config:
    """Validate parsed TOML; raise ConfigError listing every problem found."""
    config: Config | None = None
    problems: list[str] = []
    try:
        config = Config.model_validate(data, context={"base_dir": Path(base_dir)})
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors(include_url=False)]
    problems += _cross_checks(data)
    if problems or config is None:
        raise ConfigError(problems)
    return config


# --- pydantic errors -> short messages --------------------------------------------------


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text


def _problem(error: ErrorDetails) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        loc, message = loc[:-1], f"unknown key {_q(str(error['loc'][-1]))}"
    else:
        message = _message(error)
    path = _path(loc)
    return f"{path}: {message}" if path else message


_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "tuple": "a list",
    "list": "a list",
    "dict": "a table",
    "model": "a table",
    "model_attributes": "a table",
    "time": "a time",
    "path": "a file path",
}

_BOUNDS = {
    "greater_than": ("gt", "must be greater than"),
    "greater_than_equal": ("ge", "must be at least"),
    "less_than": ("lt", "must be less than"),
    "less_than_equal": ("le", "must be at most"),
}


def _message(error: ErrorDetails) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "paicha":
        return str(ctx["message"])
    if kind == "missing":
        return "missing"
    if kind in _BOUNDS:
        key, text = _BOUNDS[kind]
        bound = ctx[key]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"{text} {bound}, not {_q(value)}"
    if kind == "literal_error":
        choices = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return f"must be one of: {choices}; not {_q(value)}"
    if kind == "too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters, not {_q(value)}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "int_from_float":
        return f"must be a whole number, not {_q(value)}"
    base = kind.removesuffix("_type").removesuffix("_parsing")
    if base in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[base]}, not {_q(value)}"
    return str(error["msg"])


# --- checks across entries (run on the raw data, so they add to any other problems) -----


def _tables(value: object, path: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(f"{path}[{i}]", item) for i, item in enumerate(value) if isinstance(item, dict)]


def _duplicates(tables: list[tuple[str, dict[str, Any]]], what: str) -> list[str]:
    seen: set[str] = set()
    problems = []
    for path, table in tables:
        ident = table.get("id")
        if isinstance(ident, str):
            if ident in seen:
                problems.append(f"{path}.id: duplicate {what} {_q(ident)}")
            seen.add(ident)
    return problems


def _cross_checks(data: object) -> list[str]:
    if not isinstance(data, dict):
        return []
    villages = _tables(data.get("villages"), "villages")
    grids = [g for path, v in villages for g in _tables(v.get("grids"), f"{path}.grids")]
    units = _tables(data.get("key_units"), "key_units")
    sites_ = _tables(data.get("sites"), "sites")
    vehicles_ = _tables(data.get("vehicles"), "vehicles")
    supply = data.get("supplies")
    items = _tables(supply.get("items") if isinstance(supply, dict) else None, "supplies.items")
    return (
        _duplicates(villages, "village id")
        + _duplicates(grids, "grid id")
        + _duplicates(units, "key unit id")
        + _duplicates(sites_, "site id")
        + _duplicates(vehicles_, "vehicle id")
        + _duplicates(items, "supply item id")
        + _check_plates(vehicles_)
        + _check_unit_villages(data.get("villages"), units)
        + _check_unit_villages(data.get("villages"), sites_)
        + _check_unit_grids(villages, units)
        + _check_sites(sites_)
        + _check_measures(data.get("measures"))
        + _check_ladders(data.get("escalation"))
        + _check_staff(data.get("staff"))
    )


def _check_staff(staff: object) -> list[str]:
    """Each category and skill once; a town's own (not built in) named in both languages."""
    if not isinstance(staff, dict):
        return []
    problems = []
    for key, builtin, what in (("categories", roster.CATEGORIES, "category"),
                               ("skills", roster.SKILLS, "skill")):  # fmt: skip
        kinds = _tables(staff.get(key), f"staff.{key}")
        problems += _duplicates(kinds, what)
        problems += [f"{path}: {what} {_q(kind['id'])} is not built in: give it a name and a "
                     "name_en" for path, kind in kinds
                     if isinstance(kind.get("id"), str) and kind["id"] not in builtin
                     and not (kind.get("name") and kind.get("name_en"))]  # fmt: skip
    return problems


def _check_unit_villages(villages: object, units: list[tuple[str, dict[str, Any]]]) -> list[str]:
    if not isinstance(villages, list) or not villages:
        return []  # already reported
    ids = [v.get("id") if isinstance(v, dict) else None for v in villages]
    if not all(isinstance(i, str) for i in ids):
        return []  # some village is malformed (already reported): its id is unknown
    return [
        f"{path}.village: no village with id {_q(unit['village'])}"
        for path, unit in units
        if isinstance(unit.get("village"), str) and unit["village"] not in ids
    ]


def _check_unit_grids(
    villages: list[tuple[str, dict[str, Any]]], units: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    """A unit's grid is one of its village's: its worker follows the unit."""
    grids_of: dict[object, set[object]] = {}
    for path, v in villages:  # a village listed twice (reported already): the grids of both
        ids = [g.get("id") for _, g in _tables(v.get("grids"), path)]
        if ids and all(isinstance(i, str) for i in ids):  # else reported already
            grids_of.setdefault(v.get("id"), set()).update(ids)
    return [
        f"{path}.grid: no grid {_q(unit['grid'])} in village {_q(unit['village'])}"
        for path, unit in units
        if isinstance(unit.get("grid"), str)
        and unit.get("village") in grids_of
        and unit["grid"] not in grids_of[unit["village"]]
    ]


def _check_sites(tables: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Each site's rooms once each, its capacity within them, both or neither coordinate."""
    problems = []
    for path, site in tables:
        rooms, capacity = site.get("rooms"), site.get("capacity")
        if isinstance(rooms, list):
            seen: set[object] = set()
            for i, room in enumerate(rooms):
                if isinstance(room, str) and room in seen:
                    problems.append(f"{path}.rooms[{i}]: room {_q(room)} is listed twice")
                seen.add(room)
            count = len(rooms)
        else:
            count = rooms if _is_int(rooms) else None
        if _is_int(capacity) and count is not None and capacity > count:
            problems.append(f"{path}.capacity: {capacity} is more than its {count} rooms "
                            "(a room holds one person)")  # fmt: skip
        if ("latitude" in site) != ("longitude" in site):
            problems.append(f"{path}: latitude and longitude go together")
    return problems


def _check_plates(tables: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One vehicle a plate, however it is spaced."""
    seen: set[str] = set()
    problems = []
    for path, vehicle in tables:
        plate = vehicle.get("plate")
        written = vehicles.plate(plate) if isinstance(plate, str) else None
        if isinstance(written, str):
            if written in seen:
                problems.append(f"{path}.plate: plate {_q(written)} is listed twice")
            seen.add(written)
    return problems


def _check_measures(measures: object) -> list[str]:
    if not isinstance(measures, dict):
        return []
    problems = []
    for category, measure in measures.items():
        if isinstance(measure, dict):
            problems += _check_test_days(f"measures.{category}", measure)
    return problems


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_test_days(path: str, measure: dict[str, Any]) -> list[str]:
    days, test_days = measure.get("days"), measure.get("test_days")
    if not (_is_int(days) and 0 <= days <= 60 and isinstance(test_days, list)):
        return []
    problems, seen = [], []
    for i, day in enumerate(test_days):
        if not _is_int(day):
            continue  # reported by pydantic
        where = f"{path}.test_days[{i}]"
        if not 1 <= day <= days:
            problems.append(f"{where}: day {day} is not within 1..{days} (days)")
        elif day in seen:
            problems.append(f"{where}: day {day} is listed twice")
        elif seen and day < seen[-1]:
            problems.append(f"{where}: test days must be in ascending order")
        seen.append(day)
    return problems


def _check_ladders(escalation: object) -> list[str]:
    """Each ladder's steps in time order (after_minutes never decreasing)."""
    if not isinstance(escalation, dict):
        return []
    problems = []
    for key in ("steps", *LADDER_KINDS):
        steps = escalation.get(key)
        if not isinstance(steps, list):
            continue
        previous = None
        for i, step in enumerate(steps):
            after = step.get("after_minutes") if isinstance(step, dict) else None
            if not (_is_int(after) and 0 <= after <= 10080):
                continue  # reported by pydantic
            if previous is not None and after < previous:
                problems.append(
                    f"escalation.{key}[{i}].after_minutes: {after} is earlier than the step "
                    f"before ({previous}); steps must be in ascending order"
                )
            previous = after
    return problems
