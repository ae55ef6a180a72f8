"""A unit's arrivals in bulk (单位批量报到): the liaison's spreadsheet (XLSX or CSV) of the unit's
own people — staff, students, guests — each row checked exactly as the arrival form checks a
typed answer, and turned into the same answers (``data``) a finished chat report holds.

Pure: the file's bytes come in (bot/domain/sheets.py reads them), the rows' answers and the
rejected rows with the reason per field go out. Policy (bot/actions/arrival_import.py): a
file with any rejected row imports nothing; the liaison fixes it and sends it again.

Per row:
- the form's own parsers: name, phone, ID or passport (an ID Excel turned into a number is
  refused, never completed), dates within ``max_days_back``, train / flight / plate numbers,
  temperature, and ``missing_for_submit`` last, as a submitted draft is checked;
- where from (来自): a place of China, or a country (国家) for someone from abroad. A place
  naming several ("朝阳区") or too vague to tell whether a key region is in it ("湖北" while
  江汉区 is listed) is a rejected row with the reason: the chat form asks on, a file cannot,
  and a guess could pass someone as low risk;
- 途经 and 症状 are required as the form asks them: 无 is none, a blank cell a rejected row;
- 类别 is whom the unit registers (员工 / 学生 / 住客, those the unit's kind takes; blank:
  the kind's first); 人员类别 the form's category (三返, 四外, …; blank: 境外 for someone
  from abroad, else 其他 — the risk comes from the places, the health code and the tests,
  never from this answer);
- the place is the unit's (village, grid, address); a row's own 住址/宿舍/房间 is added to the
  unit's address;
- the same person twice in one file (the same ID number, or the same name and phone) is
  refused on the later row, naming the earlier one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain import arrivals as form
from bot.domain import contact_import
from bot.domain.contact_import import Problem, Rejected, parse_id_cell, parse_phone_cell, text_of
from bot.domain.invalid import Invalid
from bot.domain.parsing import (
    NAME_LIMIT,
    parse_address,
    parse_date,
    parse_id_number,
    parse_name,
    parse_passport,
    parse_plate,
    parse_temperature,
    parse_text,
    parse_trip_number,
)
from bot.domain.places import Ambiguous, Place, most_precise, parse_places, place_choices
from bot.domain.risk import SYMPTOMS
from bot.domain.sheets import Cell, Column, Limits, Table, read_sheet, table

MAX_BYTES = contact_import.MAX_BYTES  # the document step is the CDC list import's (2 MB)
MAX_ROWS = 500  # people in one file: each is a report, a notice, a deadline
LIMITS = Limits(max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
COUNTRY_LIMIT = 40  # as the chat form's country answer

COLUMNS = (
    Column("name", ("姓名", "名字", "name", "full name")),
    Column("phone", ("手机号", "手机号码", "手机", "联系电话", "电话", "联系方式", "phone",
                     "mobile")),
    Column("id_kind", ("证件类型", "证件种类", "id type", "document type")),
    Column("id_number", ("身份证号", "身份证号码", "证件号码", "证件号", "身份证", "护照号",
                         "护照号码", "护照", "id number", "id", "passport")),
    Column("origin", ("来自", "从哪里来", "来自省市区县", "来自地区", "出发地", "来源地",
                      "from", "origin", "coming from")),
    Column("country", ("国家", "来自国家", "国家/地区", "国家地区", "country")),
    Column("travel", ("途经", "途经地", "途经地区", "途经城市", "via", "travel",
                      "travelled through")),
    Column("arrival_date", ("抵达日期", "到达日期", "来镇日期", "返镇日期", "抵达时间",
                            "到达时间", "arrival date", "arrived")),
    Column("transport", ("交通方式", "交通工具", "transport", "travelled by")),
    Column("trip", ("车次航班", "车次/航班", "车次航班号", "车次/航班号", "车次", "航班",
                    "航班号", "车牌", "车牌号", "trip", "train/flight", "train or flight")),
    Column("relation", ("类别", "身份", "人员身份", "relation", "registered as")),
    Column("category", ("人员类别", "申报类别", "category")),
    Column("health_code", ("健康码", "健康码颜色", "health code")),
    Column("test_date", ("核酸日期", "核酸检测日期", "采样日期", "test date")),
    Column("test_result", ("核酸结果", "核酸检测结果", "test result")),
    Column("temperature", ("体温", "temperature")),
    Column("symptoms", ("症状", "symptoms")),
    Column("address", ("住址", "宿舍", "宿舍号", "现住址", "住址/宿舍/房间", "住址/宿舍",
                       "address", "dormitory")),
    # a venue's guest register (入住登记): bot.domain.arrivals asks it of a guest
    Column("checkin_date", ("入住日期", "入住时间", "check-in", "check in", "check-in date")),
    Column("checkout_date", ("退房日期", "预计退房日期", "退房时间", "check-out", "check out",
                             "check-out date")),
    Column("room", ("房间号", "房间", "房号", "room", "room number")),
)  # fmt: skip
# At least one column of each group; a blank cell in a present column is a row's problem.
# 途经 and 症状 too, as the chat form always asks them: a column left out, or a blank cell,
# is no answer, never "none" (people write 无) — else a sick guest passes as low risk.
REQUIRED = (("name",), ("phone",), ("origin", "country"), ("travel",), ("arrival_date",),
            ("transport",), ("health_code",), ("temperature",), ("symptoms",))  # fmt: skip

# The words a cell may hold for each choice of the form (folded: NFKC, no spaces, no case).
RELATION_NAMES = {
    "staff": ("员工", "职工", "教职工", "工人", "老师", "教师", "工作人员", "staff", "employee"),
    "student": ("学生", "student"),
    "venue_guest": ("住客", "客人", "旅客", "房客", "游客", "guest"),
}  # fmt: skip
CATEGORY_NAMES = {
    "sanfan": ("三返", "返工", "返岗", "返学", "返乡"),
    "siwai": ("四外", "外出务工", "外出求学", "外出旅游", "外出商务"),
    "overseas": ("境外", "境外来渝", "入境", "境外回来", "overseas"),
    "quarantine_done": ("解除隔离", "隔离期满", "已解除隔离", "quarantine done"),
    "visitor": ("来访", "探亲", "访客", "旅游", "visitor"),
    "other": ("其他", "其它", "other"),
}  # fmt: skip
TRANSPORT_NAMES = {
    "self_drive": ("自驾", "自驾车", "私家车", "开车", "self drive", "car"),
    "train": ("火车", "高铁", "动车", "列车", "火车/高铁", "train"),
    "flight": ("飞机", "航班", "flight", "plane"),
    "coach": ("长途客车", "客车", "大巴", "长途汽车", "汽车", "coach", "bus"),
    "other": ("其他", "其它", "步行", "other"),
}  # fmt: skip
HEALTH_CODE_NAMES = {
    "green": ("绿码", "绿", "绿色", "green"),
    "yellow": ("黄码", "黄", "黄色", "yellow"),
    "red": ("红码", "红", "红色", "red"),
}  # fmt: skip
TEST_RESULT_NAMES = {
    "negative": ("阴性", "阴", "negative"),
    "positive": ("阳性", "阳", "positive"),
    "pending": ("待出结果", "未出结果", "还没出结果", "待出", "待定", "pending"),
}  # fmt: skip
SYMPTOM_NAMES = {
    "fever": ("发热", "发烧", "fever"),
    "dry_cough": ("干咳", "咳嗽", "dry cough", "cough"),
    "fatigue": ("乏力", "fatigue"),
    "sore_throat": ("咽痛", "嗓子痛", "喉咙痛", "sore throat"),
    "smell_taste": ("嗅(味)觉减退", "嗅觉减退", "味觉减退", "嗅味觉减退", "smell/taste loss"),
    "diarrhoea": ("腹泻", "拉肚子", "diarrhoea", "diarrhea"),
}  # fmt: skip
NONE_NAMES = ("无", "没有", "否", "none", "no")  # 症状 / 途经: nothing (a blank cell is no answer)
CHINA_NAMES = ("中国", "中国大陆", "china")
PASSPORT_NAMES = ("护照", "passport")
ID_NAMES = ("身份证", "居民身份证", "id", "id card")
_SYMPTOM_SEPARATORS = re.compile(r"[,，、;；/\s]+")
_TIME_OF_DAY = re.compile(r"(?:T|\s)\s*[0-9]{1,2}[:：][0-9]{2}(?:[:：][0-9]{2})?$")


@dataclass(frozen=True)
class Unit:
    """The unit the file is for: its place is every row's (a row's room is added)."""

    id: str
    kind: str
    village_id: str
    grid_id: str
    address: str


@dataclass(frozen=True)
class Parsed:
    accepted: tuple[tuple[int, dict[str, Any]], ...]  # (row number, the report's answers)
    rejected: tuple[Rejected, ...]
    ignored: tuple[str, ...]  # header names not imported, as written

    @property
    def rows(self) -> int:
        return len(self.accepted) + len(self.rejected)


# --- cells -------------------------------------------------------------------------------


def fold(text: str) -> str:
    """A cell's word as compared: NFKC, no spaces, no case."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _lookup(names: Mapping[str, tuple[str, ...]], text: str) -> str | None:
    key = fold(text)
    return next((value for value, words in names.items() if key in map(fold, words)), None)


def choice(names: Mapping[str, tuple[str, ...]], cell: Cell, field: str) -> str | Invalid:
    """The choice a cell names, or why not (blank; a word that is none of them)."""
    text = text_of(cell)
    if not text:
        return Invalid("import_blank")
    found = _lookup(names, text)
    return found if found is not None else Invalid("import_choice", {"field": field, "text": text})


def _day(cell: Cell) -> Cell:
    return cell.date() if isinstance(cell, datetime) else cell


def date_cell(cell: Cell, today: date, max_back_days: int) -> date | Invalid:
    """A date cell, or text as typed in chat (a time of day after it is dropped); the form's
    window (not in the future, at most ``max_back_days`` back)."""
    text = _TIME_OF_DAY.sub("", text_of(_day(cell))).strip()
    return parse_date(text, today, max_back_days) if text else Invalid("import_blank")


def _is_none(text: str) -> bool:
    return fold(text) in map(fold, NONE_NAMES)


def parse_symptoms(cell: Cell) -> list[str] | Invalid:
    """The symptoms named ("发热、干咳"); 无: none; blank: refused (not answered). A word that
    is no symptom of the form is refused: dropping it could pass a sick person as well."""
    text = text_of(cell)
    if not text:
        return Invalid("import_blank")
    if _is_none(text):
        return []
    found: list[str] = []
    for word in filter(None, _SYMPTOM_SEPARATORS.split(text)):
        symptom = _lookup(SYMPTOM_NAMES, word)
        if symptom is None:
            return Invalid("import_choice", {"field": "symptoms", "text": word})
        if symptom not in found:
            found.append(symptom)
    return sorted(found, key=SYMPTOMS.index)


def parse_identity_cells(kind_cell: Cell, number_cell: Cell,
                         today: date) -> tuple[str, str] | Invalid | None:  # fmt: skip
    """(id kind, number) of 证件类型 and 证件号码; None when the number is blank. A stated
    kind holds the number to its own rule; without one an ID-like number is an ID."""
    kind_text = text_of(kind_cell)
    if not kind_text:
        return parse_id_cell(number_cell, today)
    kind = "passport" if fold(kind_text) in map(fold, PASSPORT_NAMES) else (
        "id" if fold(kind_text) in map(fold, ID_NAMES) else None)  # fmt: skip
    if kind is None:
        return Invalid("import_choice", {"field": "id_kind", "text": kind_text})
    found = parse_id_cell(number_cell, today)
    if found is None or isinstance(found, Invalid):
        return found
    number = parse_passport(found[1]) if kind == "passport" else parse_id_number(found[1], today)
    return number if isinstance(number, Invalid) else (kind, number)


# --- places ------------------------------------------------------------------------------


def _one_place(text: str, ctx: form.Context) -> Place | Invalid:
    found = place_choices(text)
    if isinstance(found, Invalid):
        return Invalid("import_place_unknown", {"text": text})
    if len(found) > 1:  # "朝阳区": Beijing's or Shantou's, never a guess
        return Invalid("import_place_ambiguous",
                       {"text": text, "places": [p.label() for p in found]})  # fmt: skip
    return _precise(found[0], ctx)


def _precise(place: Place, ctx: form.Context) -> Place | Invalid:
    """A key region inside the place: the district must be named (the form asks it)."""
    if form.too_vague(place, ctx):
        return Invalid("import_place_vague", {"place": place.label()})
    return place


def parse_origin(
    origin_cell: Cell, country_cell: Cell, ctx: form.Context
) -> dict[str, Any] | Invalid:
    """The form's answers for where the person came from: a country other than China makes
    it abroad; otherwise the place in China, which must be named."""
    country = text_of(country_cell)
    if country and fold(country) not in map(fold, CHINA_NAMES):
        named = parse_text(country, COUNTRY_LIMIT)
        if isinstance(named, Invalid):
            return named
        return {"region_kind": "abroad", "country": named, "origin": None}
    text = text_of(origin_cell)
    if not text:
        return Invalid("import_blank")
    place = _one_place(text, ctx)
    if isinstance(place, Invalid):
        return place
    return {"region_kind": "china", "origin": form.place_to_dict(place), "origin_vague": False,
            "origin_confirm": "yes", "origin_choices": None}  # fmt: skip


def parse_travel(cell: Cell, ctx: form.Context) -> list[dict[str, Any]] | Invalid:
    """The places passed through (无: none; blank: refused), each as precise as the origin."""
    text = text_of(cell)
    if not text:
        return Invalid("import_blank")
    if _is_none(text):
        return []
    parsed = parse_places(text)
    if isinstance(parsed, Invalid):
        return Invalid("import_place_unknown", {"text": parsed.params.get("text", text)})
    for tie in (p for p in parsed if isinstance(p, Ambiguous)):
        return Invalid("import_place_ambiguous",
                       {"text": tie.text, "places": [p.label() for p in tie.places]})  # fmt: skip
    kept: list[dict[str, Any]] = []
    for place in most_precise(p for p in parsed if isinstance(p, Place)):
        checked = _precise(place, ctx)
        if isinstance(checked, Invalid):
            return checked
        kept.append(form.place_to_dict(checked))
    return kept


# --- one row -----------------------------------------------------------------------------


def parse_relation(cell: Cell, unit: Unit, ctx: form.Context) -> str | Invalid:
    """Whom the unit registers, of those the form offers for its kind (blank: the first)."""
    allowed = form.relation_choices({"unit_kind": unit.kind}, ctx)
    text = text_of(cell)
    if not text:
        return allowed[0]
    found = _lookup(RELATION_NAMES, text)
    if found not in allowed:
        return Invalid("import_relation", {"text": text, "allowed": list(allowed)})
    return found


def parse_trip(transport: str | None, cell: Cell) -> str | Invalid | None:
    """The train, flight or coach number, or the car's plate, as the form asks it; none for
    another way (nor when the transport itself was refused: one reason is enough)."""
    if transport in (None, "other"):
        return None
    text = text_of(cell)
    if not text:
        return Invalid("import_blank")
    return parse_plate(text) if transport == "self_drive" else parse_trip_number(transport, text)


def parse_room(cell: Cell, unit: Unit) -> str | Invalid:
    """The unit's address, with the row's dormitory or room added when it names one."""
    text = text_of(cell)
    if not text:
        return unit.address or Invalid("import_blank")
    if unit.address and unit.address not in text:
        text = f"{unit.address} {text}"
    return parse_address(text)


def parse_test(date_value: Cell, result_value: Cell, ctx: form.Context) -> dict[str, Any] | Problem:
    """核酸: both blank is no test; a result needs its date, a date its result."""
    if not text_of(date_value) and not text_of(result_value):
        return {"test": "no", "test_date": None, "test_result": None}
    result = choice(TEST_RESULT_NAMES, result_value, "test_result")
    if isinstance(result, Invalid):
        return Problem("test_result", result)
    tested = date_cell(date_value, ctx.today, ctx.max_days_back)
    if isinstance(tested, Invalid):
        return Problem("test_date", tested)
    return {"test": "yes", "test_date": tested.isoformat(), "test_result": result}


def _room_text(text: str) -> str | Invalid:
    return parse_text(text, form.ROOM_LIMIT)


def parse_stay(checkin_cell: Cell, checkout_cell: Cell, room_cell: Cell,
               ctx: form.Context) -> dict[str, str] | tuple[Problem, ...]:  # fmt: skip
    """A guest's register: check-in (a date of the form's window), the expected check-out
    (the form's rule: not before check-in, a stay of at most MAX_STAY_DAYS) and the room."""
    problems: list[Problem] = []
    checkin = _value(problems, "checkin_date",
                     date_cell(checkin_cell, ctx.today, ctx.max_days_back))  # fmt: skip
    checkout_text = _TIME_OF_DAY.sub("", text_of(_day(checkout_cell))).strip()
    checkout = None
    if checkin is not None:
        checkout = _value(problems, "checkout_date",
                          form.parse_checkout(checkout_text, checkin, ctx.today)
                          if checkout_text else Invalid("import_blank"))  # fmt: skip
    room = _value(problems, "room", _required(room_cell, _room_text))
    if problems:
        return tuple(problems)
    return {"checkin_date": checkin.isoformat(), "checkout_date": checkout.isoformat(),
            "room": room}  # fmt: skip


def _category(cell: Cell, region_kind: str | None) -> str | Invalid:
    if not text_of(cell):
        return "overseas" if region_kind == "abroad" else "other"
    return choice(CATEGORY_NAMES, cell, "category")


def _value(problems: list[Problem], field: str, parsed: Any) -> Any:
    if isinstance(parsed, Invalid):
        problems.append(Problem(field, parsed))
        return None
    return parsed


def _required(cell: Cell, parse: Callable[[str], Any]) -> Any:
    text = text_of(cell)
    return parse(text) if text else Invalid("import_blank")


def parse_row(cells: Mapping[str, Cell], unit: Unit,
              ctx: form.Context) -> dict[str, Any] | tuple[Problem, ...]:  # fmt: skip
    """One row as the answers of a finished arrival report, or every problem it has (all at
    once: the liaison fixes the row in one go)."""
    problems: list[Problem] = []

    def checked(field: str, parsed: Any) -> Any:
        return _value(problems, field, parsed)

    def cell(key: str) -> Cell:
        return cells.get(key)

    def picked(key: str, names: Mapping[str, tuple[str, ...]]) -> str | None:
        return checked(key, choice(names, cell(key), key))

    data: dict[str, Any] = {
        # imported: the unit's list (never a guest's own QR scan), as notices name it
        "unit": unit.id, "unit_kind": unit.kind, "imported": True,
        "village": unit.village_id, "grid": unit.grid_id,
        "prefilled_village": True, "prefilled_grid": True, "prefilled_address": True,
        "companions": "no", "people": [],
    }  # fmt: skip
    data["relation"] = checked("relation", parse_relation(cell("relation"), unit, ctx))
    data["name"] = checked("name", _required(cell("name"), parse_name))
    data["phone"] = checked("phone", parse_phone_cell(cell("phone")) or Invalid("import_blank"))
    identity = parse_identity_cells(cell("id_kind"), cell("id_number"), ctx.today)
    if identity is None and ctx.id_required:
        identity = Invalid("import_blank")
    identity = checked("id_number", identity)
    data["id_kind"], data["id_number"] = identity or (None, None)
    data.update(checked("origin", parse_origin(cell("origin"), cell("country"), ctx)) or {})
    travel = checked("travel", parse_travel(cell("travel"), ctx)) or []
    data.update(travel=travel, travel_choices=[], travel_vague=[],
                travel_confirm="yes" if travel else None)  # fmt: skip
    arrival = checked("arrival_date",
                      date_cell(cell("arrival_date"), ctx.today, ctx.max_days_back))  # fmt: skip
    data["arrival_date"] = arrival.isoformat() if arrival else None
    data["transport"] = picked("transport", TRANSPORT_NAMES)
    data["trip"] = checked("trip", parse_trip(data["transport"], cell("trip")))
    data["address"] = checked("address", parse_room(cell("address"), unit))
    if form.is_guest(data):
        stay = parse_stay(cell("checkin_date"), cell("checkout_date"), cell("room"), ctx)
        data.update(stay if isinstance(stay, dict) else {})
        problems.extend(stay if isinstance(stay, tuple) else ())
        problem = form.stay_problem(data) if isinstance(stay, dict) else None
        if problem is not None:  # checked in before arriving: the form's own rule
            problems.append(Problem("checkin_date", problem))
    data["category"] = checked("category", _category(cell("category"), data.get("region_kind")))
    data["health_code"] = picked("health_code", HEALTH_CODE_NAMES)
    test = parse_test(cell("test_date"), cell("test_result"), ctx)
    if isinstance(test, Problem):
        problems.append(test)
    else:
        data.update(test)
    data["temperature"] = checked("temperature", _required(cell("temperature"), parse_temperature))
    data["symptoms"] = checked("symptoms", parse_symptoms(cell("symptoms")))
    if problems:
        return tuple(problems)
    # the last check of a submitted draft: nothing the form requires may be missing
    missing = form.missing_for_submit(data, ctx)
    return tuple(Problem(group, Invalid("import_blank")) for group in missing) or data


def _keys(data: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """What makes two rows the same person (as bot.domain.records.same_person): the same ID
    number, or the same name and phone."""
    keys = [("name_phone", data["name"], data["phone"])]
    if data.get("id_number"):
        keys.append(("id", data["id_number"].upper()))
    return keys


def parse_table(found: Table, unit: Unit, ctx: form.Context) -> Parsed:
    accepted: list[tuple[int, dict[str, Any]]] = []
    rejected: list[Rejected] = []
    seen: dict[tuple[str, ...], int] = {}
    for number, cells in found.records:
        row = parse_row(cells, unit, ctx)
        if isinstance(row, dict):
            earlier = next((seen[k] for k in _keys(row) if k in seen), None)
            if earlier is not None:
                row = (Problem("person", Invalid("import_duplicate", {"row": earlier})),)
            else:
                seen.update(dict.fromkeys(_keys(row), number))
        if isinstance(row, dict):
            accepted.append((number, row))
        else:
            rejected.append(Rejected(number, text_of(cells.get("name"))[:NAME_LIMIT], row))
    return Parsed(tuple(accepted), tuple(rejected), found.ignored)


def parse_file(data: bytes, unit: Unit, ctx: form.Context) -> Parsed | Invalid:
    """A unit's file read, its columns found and every row checked; Invalid when the file as
    a whole cannot be used (unreadable, too big, too many rows, a required column missing)."""
    sheet = read_sheet(data, LIMITS)
    if isinstance(sheet, Invalid):
        return sheet
    found = table(sheet, COLUMNS, REQUIRED, MAX_ROWS)
    if isinstance(found, Invalid):
        return found
    return parse_table(found, unit, ctx)


def template_header(english: bool) -> tuple[str, ...]:
    """The header of the template the liaison downloads: each column's first name, or its
    first English one (every name is one the parser reads back)."""
    return tuple(_english(column) if english else column.aliases[0] for column in COLUMNS)


def is_required(key: str) -> bool:
    """Whether the column is one of a required group (the template marks it)."""
    return any(key in group for group in REQUIRED)


def _english(column: Column) -> str:
    return next(alias for alias in column.aliases if alias.isascii())
