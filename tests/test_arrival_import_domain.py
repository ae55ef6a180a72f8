"""The rows of a unit's arrivals file (bot/domain/arrival_import.py): known answers for every
cell rule, written out by hand (the code is not its own oracle), and a property: no cell text
makes the row parser raise."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.domain import arrival_import as imp
from bot.domain import arrivals as form
from bot.domain.contact_import import Problem
from bot.domain.invalid import Invalid
from bot.domain.parsing import id_check_char
from bot.domain.regions import Region

TODAY = date(2020, 10, 26)
KASHGAR = Region("新疆维吾尔自治区", "喀什地区", None, "high", date(2020, 10, 24), None)
QINGDAO = Region("山东省", "青岛市", None, "medium", date(2020, 10, 11), date(2020, 11, 30))
CTX = form.Context(today=TODAY, id_required=True, max_days_back=30, max_companions=5,
                   villages={"xf": ("XF01", "XF02"), "sq": ("SQ01",)},
                   regions=(KASHGAR, QINGDAO), lookback_days=14)  # fmt: skip
HOTEL = imp.Unit("xfhotel", "hotel", "xf", "XF01", "先锋镇先锋街")
PARK = imp.Unit("park", "enterprise", "xf", "XF02", "先锋镇创业大道")
SCHOOL = imp.Unit("jnvs", "school", "sq", "SQ01", "")
ID_A = "50011619900101123" + id_check_char("50011619900101123")
ID_B = "51010219850315002" + id_check_char("51010219850315002")
ROW = {"name": "张三", "phone": "13800138000", "id_number": ID_A, "origin": "重庆市江津区",
       "arrival_date": "2020-10-25", "transport": "高铁", "trip": "g1234",
       "health_code": "绿码", "temperature": "36.5", "travel": "无", "symptoms": "无"}  # fmt: skip


def blank(field: str = "") -> Invalid:
    return Invalid("import_blank")


def choice_of(field: str, text: str) -> Invalid:
    return Invalid("import_choice", {"field": field, "text": text})


@pytest.mark.parametrize(("names", "cell", "expected"), [
    (imp.TRANSPORT_NAMES, "高铁", "train"),
    (imp.TRANSPORT_NAMES, " 动 车 ", "train"),
    (imp.TRANSPORT_NAMES, "Flight", "flight"),
    (imp.TRANSPORT_NAMES, "大巴", "coach"),
    (imp.TRANSPORT_NAMES, "私家车", "self_drive"),
    (imp.TRANSPORT_NAMES, "其它", "other"),
    (imp.TRANSPORT_NAMES, "坐船", choice_of("f", "坐船")),
    (imp.TRANSPORT_NAMES, None, blank()),
    (imp.HEALTH_CODE_NAMES, "绿", "green"),
    (imp.HEALTH_CODE_NAMES, "黄码", "yellow"),
    (imp.HEALTH_CODE_NAMES, "RED", "red"),
    (imp.HEALTH_CODE_NAMES, "蓝码", choice_of("f", "蓝码")),
    (imp.TEST_RESULT_NAMES, "阴性", "negative"),
    (imp.TEST_RESULT_NAMES, "阳", "positive"),
    (imp.TEST_RESULT_NAMES, "未出结果", "pending"),
    (imp.CATEGORY_NAMES, "三返", "sanfan"),
    (imp.CATEGORY_NAMES, "入境", "overseas"),
    (imp.CATEGORY_NAMES, "隔离期满", "quarantine_done"),
])  # fmt: skip
def test_choices(names: dict, cell: Any, expected: Any) -> None:
    assert imp.choice(names, cell, "f") == expected


@pytest.mark.parametrize(("cell", "expected"), [
    (datetime(2020, 10, 25, 8, 30), date(2020, 10, 25)),
    (date(2020, 10, 1), date(2020, 10, 1)),
    ("2020-10-25 08:30", date(2020, 10, 25)),
    ("2020/10/25", date(2020, 10, 25)),
    ("10月25日", date(2020, 10, 25)),
    ("2020-10-27", Invalid("date_future")),
    ("2020-09-25", Invalid("date_too_old", {"days": 30})),
    ("2020-09-26", date(2020, 9, 26)),
    ("上周", Invalid("date_format")),
    ("", blank()),
    (None, blank()),
])  # fmt: skip
def test_date_cells(cell: Any, expected: Any) -> None:
    assert imp.date_cell(cell, TODAY, 30) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("发热、干咳", ["fever", "dry_cough"]),
    ("干咳，发烧", ["fever", "dry_cough"]),
    ("腹泻 乏力 腹泻", ["fatigue", "diarrhoea"]),
    ("嗅（味）觉减退", ["smell_taste"]),
    ("无", []),
    ("None", []),
    ("", blank()),
    (None, blank()),
    ("发热、头痛", choice_of("symptoms", "头痛")),
])  # fmt: skip
def test_symptoms(cell: Any, expected: Any) -> None:
    assert imp.parse_symptoms(cell) == expected


@pytest.mark.parametrize(("kind", "number", "expected"), [
    (None, ID_A, ("id", ID_A)),
    (None, ID_A.lower(), ("id", ID_A)),
    ("身份证", ID_A, ("id", ID_A)),
    ("护照", "e1234 5678", ("passport", "E12345678")),
    (None, "E12345678", ("passport", "E12345678")),
    ("身份证", "E12345678", Invalid("id_length", {"length": 9})),
    ("驾照", ID_A, choice_of("id_kind", "驾照")),
    (None, 5.10102198503150e17, Invalid("import_id_number_cell")),
    (None, "5.10102E+17", Invalid("import_id_number_cell")),
    (None, None, None),
    ("护照", None, None),
])  # fmt: skip
def test_identity(kind: Any, number: Any, expected: Any) -> None:
    assert imp.parse_identity_cells(kind, number, TODAY) == expected


CHINA = {"region_kind": "china", "origin_vague": False, "origin_confirm": "yes",
         "origin_choices": None}  # fmt: skip


@pytest.mark.parametrize(("origin", "country", "expected"), [
    ("重庆市江津区", None,
     {**CHINA, "origin": {"province": "重庆市", "city": None, "district": "江津区"}}),
    ("新疆喀什地区", "中国",
     {**CHINA, "origin": {"province": "新疆维吾尔自治区", "city": "喀什地区", "district": None}}),
    ("纽约", "美国", {"region_kind": "abroad", "country": "美国", "origin": None}),
    ("山东省", None, Invalid("import_place_vague", {"place": "山东省"})),
    ("山东", "China", Invalid("import_place_vague", {"place": "山东省"})),
    ("朝阳区", None, Invalid("import_place_ambiguous", {
        "text": "朝阳区", "places": ["北京市 朝阳区", "吉林省 长春市 朝阳区"]})),
    ("火星基地", None, Invalid("import_place_unknown", {"text": "火星基地"})),
    (None, None, blank()),
])  # fmt: skip
def test_origin(origin: Any, country: Any, expected: Any) -> None:
    assert imp.parse_origin(origin, country, CTX) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    (None, blank()),
    ("  ", blank()),
    ("无", []),
    ("没有", []),
    ("湖北省武汉市、北京市朝阳区",
     [{"province": "湖北省", "city": "武汉市", "district": None},
      {"province": "北京市", "city": None, "district": "朝阳区"}]),
    ("北京市朝阳区、山东省", Invalid("import_place_vague", {"place": "山东省"})),
    ("朝阳区", Invalid("import_place_ambiguous", {
        "text": "朝阳区", "places": ["北京市 朝阳区", "吉林省 长春市 朝阳区"]})),
    ("火星基地", Invalid("import_place_unknown", {"text": "火星基地"})),
])  # fmt: skip
def test_travel(cell: Any, expected: Any) -> None:
    assert imp.parse_travel(cell, CTX) == expected


@pytest.mark.parametrize(("unit", "cell", "expected"), [
    (HOTEL, None, "venue_guest"),
    (HOTEL, "住客", "venue_guest"),
    (HOTEL, "员工", "staff"),
    (HOTEL, "学生", Invalid("import_relation", {"text": "学生",
                                                "allowed": ["venue_guest", "staff"]})),
    (PARK, None, "staff"),
    (PARK, "职工", "staff"),
    (PARK, "住客", Invalid("import_relation", {"text": "住客", "allowed": ["staff"]})),
    (SCHOOL, None, "student"),
    (SCHOOL, "老师", "staff"),
    (SCHOOL, "家长", Invalid("import_relation", {"text": "家长",
                                                 "allowed": ["student", "staff"]})),
])  # fmt: skip
def test_relation(unit: imp.Unit, cell: Any, expected: Any) -> None:
    assert imp.parse_relation(cell, unit, CTX) == expected


@pytest.mark.parametrize(("transport", "cell", "expected"), [
    ("train", "g1234", "G1234"),
    ("flight", "ca 4321", "CA4321"),
    ("self_drive", "渝A·12345", "渝A12345"),
    ("coach", None, blank()),
    ("other", "随便", None),
    (None, "G1234", None),
])  # fmt: skip
def test_trip(transport: Any, cell: Any, expected: Any) -> None:
    assert imp.parse_trip(transport, cell) == expected


@pytest.mark.parametrize(("unit", "cell", "expected"), [
    (PARK, None, "先锋镇创业大道"),
    (PARK, "3栋201", "先锋镇创业大道 3栋201"),
    (PARK, "先锋镇创业大道8号宿舍", "先锋镇创业大道8号宿舍"),
    (SCHOOL, "男生宿舍5栋", "男生宿舍5栋"),
    (SCHOOL, None, blank()),
    (SCHOOL, "5", Invalid("address_short")),
])  # fmt: skip
def test_room(unit: imp.Unit, cell: Any, expected: Any) -> None:
    assert imp.parse_room(cell, unit) == expected


@pytest.mark.parametrize(("tested", "result", "expected"), [
    (None, None, {"test": "no", "test_date": None, "test_result": None}),
    ("2020-10-24", "阴性", {"test": "yes", "test_date": "2020-10-24",
                           "test_result": "negative"}),
    (None, "阴性", Problem("test_date", blank())),
    ("2020-10-24", None, Problem("test_result", blank())),
    ("2020-10-24", "没做", Problem("test_result", choice_of("test_result", "没做"))),
])  # fmt: skip
def test_nucleic_acid_test(tested: Any, result: Any, expected: Any) -> None:
    assert imp.parse_test(tested, result, CTX) == expected


@pytest.mark.parametrize(("checkin", "checkout", "room", "expected"), [
    ("2020-10-25", "2020-10-28", "301",
     {"checkin_date": "2020-10-25", "checkout_date": "2020-10-28", "room": "301"}),
    (date(2020, 10, 26), "住3晚", 302,
     {"checkin_date": "2020-10-26", "checkout_date": "2020-10-29", "room": "302"}),
    ("2020-10-25", "2020-10-24", "301",
     (Problem("checkout_date", Invalid("checkout_before_checkin",
                                       {"checkin": date(2020, 10, 25)})),)),
    (None, None, None, (Problem("checkin_date", blank()), Problem("room", blank()))),
    ("2020-10-25", None, "301", (Problem("checkout_date", blank()),)),
])  # fmt: skip
def test_guest_register(checkin: Any, checkout: Any, room: Any, expected: Any) -> None:
    assert imp.parse_stay(checkin, checkout, room, CTX) == expected


EXPECTED_ROW = {
    "unit": "park", "unit_kind": "enterprise", "imported": True, "village": "xf",
    "grid": "XF02", "prefilled_village": True, "prefilled_grid": True,
    "prefilled_address": True, "companions": "no", "people": [], "relation": "staff",
    "name": "张三", "phone": "13800138000", "id_kind": "id", "id_number": ID_A,
    "region_kind": "china", "origin": {"province": "重庆市", "city": None, "district": "江津区"},
    "origin_vague": False, "origin_confirm": "yes", "origin_choices": None, "travel": [],
    "travel_choices": [], "travel_vague": [], "travel_confirm": None,
    "arrival_date": "2020-10-25", "transport": "train", "trip": "G1234",
    "address": "先锋镇创业大道", "category": "other", "health_code": "green", "test": "no",
    "test_date": None, "test_result": None, "temperature": 36.5, "symptoms": [],
}  # fmt: skip


def test_a_good_row_is_a_finished_report() -> None:
    data = imp.parse_row(ROW, PARK, CTX)
    assert data == EXPECTED_ROW
    assert form.missing_for_submit(data, CTX) == []


def test_every_problem_of_a_row_at_once() -> None:
    assert imp.parse_row({"transport": "火车"}, PARK, CTX) == (
        Problem("name", blank()), Problem("phone", blank()), Problem("id_number", blank()),
        Problem("origin", blank()), Problem("travel", blank()), Problem("arrival_date", blank()),
        Problem("trip", blank()), Problem("health_code", blank()),
        Problem("temperature", blank()), Problem("symptoms", blank()),
    )  # fmt: skip


def test_from_abroad_is_overseas_unless_said() -> None:
    row = {**ROW, "origin": None, "country": "日本", "id_number": "TZ1234567",
           "id_kind": "护照"}  # fmt: skip
    data = imp.parse_row(row, PARK, CTX)
    assert (data["region_kind"], data["country"], data["category"]) == ("abroad", "日本",
                                                                        "overseas")  # fmt: skip
    assert imp.parse_row({**row, "category": "三返"}, PARK, CTX)["category"] == "sanfan"


def test_a_guest_checked_in_before_arriving_is_refused() -> None:
    row = {**ROW, "checkin_date": "2020-10-24", "checkout_date": "2020-10-28", "room": "301"}
    assert imp.parse_row(row, HOTEL, CTX) == (
        Problem("checkin_date", Invalid("checkin_before_arrival",
                                        {"arrival": date(2020, 10, 25)})),
    )  # fmt: skip
    assert imp.parse_row({**row, "checkin_date": "2020-10-25"}, HOTEL, CTX)["room"] == "301"
    # the hotel's staff have no guest register
    staff = imp.parse_row({**ROW, "relation": "员工"}, HOTEL, CTX)
    assert staff["relation"] == "staff" and "room" not in staff


def test_id_optional_by_config() -> None:
    optional = form.Context(**{**CTX.__dict__, "id_required": False})
    data = imp.parse_row({**ROW, "id_number": None}, PARK, optional)
    assert (data["id_kind"], data["id_number"]) == (None, None)


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_same_person_twice_is_refused_on_the_later_row() -> None:
    header = [
        "姓名",
        "手机号",
        "身份证号",
        "来自",
        "抵达日期",
        "交通方式",
        "车次",
        "健康码",
        "体温",
        "途经",
        "症状",
    ]
    row = ["张三", "13800138000", ID_A, "重庆市江津区", "2020-10-25", "火车", "G1", "绿码", 36.5,
           "无", "无"]  # fmt: skip
    same_id = ["张叁", "13900139000", ID_A, *row[3:]]
    same_phone = ["张三", "13800138000", ID_B, *row[3:]]
    other = ["李四", "13800138000", ID_B.lower(), *row[3:]]
    parsed = imp.parse_file(xlsx([header, row, same_id, same_phone, other]), PARK, CTX)
    duplicate = Problem("person", Invalid("import_duplicate", {"row": 2}))
    assert [(r.row, r.name, r.problems) for r in parsed.rejected] == [
        (3, "张叁", (duplicate,)), (4, "张三", (duplicate,)),
    ]  # fmt: skip
    assert [n for n, _ in parsed.accepted] == [2, 5] and parsed.rows == 4


def test_file_limits_and_columns() -> None:
    header = ["姓名", "手机号", "身份证号", "来自", "抵达日期", "交通方式", "健康码", "体温",
              "途经", "症状"]  # fmt: skip
    row = ["张三", "13800138000", ID_A, "重庆市江津区", "2020-10-25", "其他", "绿码", 36.5,
           "无", "无"]  # fmt: skip
    assert imp.parse_file(xlsx([header, *[row] * 501]), PARK, CTX) == Invalid(
        "sheet_too_many_rows", {"limit": 500}
    )
    assert imp.parse_file(xlsx([["姓名", "手机号"], ["张三", "13800138000"]]), PARK, CTX) == (
        Invalid("sheet_missing_columns", {"groups": [["origin", "country"], ["travel"],
                                                     ["arrival_date"], ["transport"],
                                                     ["health_code"], ["temperature"],
                                                     ["symptoms"]]})
    )  # fmt: skip
    parsed = imp.parse_file(xlsx([[*header, "备注"], [*row, "x"]]), PARK, CTX)
    assert (len(parsed.accepted), parsed.ignored) == (1, ("备注",))


def test_a_file_must_say_symptoms_and_travel() -> None:
    # the chat form always asks both: a file leaving them out (or blank) passes nobody
    header = ["姓名", "手机号", "身份证号", "来自", "抵达日期", "交通方式", "健康码", "体温"]
    row = ["张三", "13800138000", ID_A, "重庆市江津区", "2020-10-25", "其他", "绿码", 36.5]
    assert imp.parse_file(xlsx([[*header, "途经"], [*row, "无"]]), PARK, CTX) == Invalid(
        "sheet_missing_columns", {"groups": [["symptoms"]]}
    )
    parsed = imp.parse_file(xlsx([[*header, "途经", "症状"], [*row, None, "发热"]]), PARK, CTX)
    assert [(r.row, r.problems) for r in parsed.rejected] == [(2, (Problem("travel", blank()),))]


@pytest.mark.parametrize(("key", "expected"), [
    ("name", True), ("origin", True), ("country", True), ("travel", True), ("symptoms", True),
    ("temperature", True), ("trip", False), ("category", False), ("room", False),
])  # fmt: skip
def test_required_columns(key: str, expected: bool) -> None:
    assert imp.is_required(key) is expected


def test_the_english_template_reads_back() -> None:
    header = imp.template_header(english=True)
    assert header[:5] == ("name", "phone", "id type", "id number", "from")
    values = {"name": "Zhang San", "phone": "13800138000", "id_number": ID_A,
              "origin": "Jiangjin, Chongqing", "arrival_date": "2020-10-25", "transport": "car",
              "trip": "渝A12345", "health_code": "green", "temperature": "36.6",
              "travel": "none", "symptoms": "none"}  # fmt: skip
    row = [values.get(c.key) for c in imp.COLUMNS]
    parsed = imp.parse_file(xlsx([list(header), row]), PARK, CTX)
    assert parsed.rejected == () and parsed.accepted[0][1]["transport"] == "self_drive"


CELLS = st.one_of(
    st.none(), st.text(max_size=40), st.integers(), st.floats(), st.booleans(),
    st.dates(), st.datetimes(),
    st.sampled_from(["无", "绿码", "阴性", "火车", "自驾", "护照", "身份证", "住客", "员工", "发热",
                     "2020-10-25", "住3晚", "山东省", "朝阳区", "北京市朝阳区", "G1234",
                     "13800138000", ID_A, "36.5", "中国", "美国"]),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=st.dictionaries(st.sampled_from([c.key for c in imp.COLUMNS]), CELLS),
       unit=st.sampled_from([HOTEL, PARK, SCHOOL]))  # fmt: skip
def test_no_cell_makes_the_row_parser_raise(cells: dict[str, Any], unit: imp.Unit) -> None:
    row = imp.parse_row(cells, unit, CTX)
    if isinstance(row, dict):  # accepted: a report the form would take as it is
        assert form.missing_for_submit(row, CTX) == []
    else:
        assert row and all(isinstance(p.reason, Invalid) for p in row)
