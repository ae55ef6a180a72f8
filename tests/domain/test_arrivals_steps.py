"""The arrival self-report's step table, driven directly (known answers, no bot).

Every expected value is written by hand from what the questions mean (README.md, "What
residents do"): the buttons each question offers, what a typed or pressed answer stores, the
question that follows, what "change a field" reopens, and what a draft still lacks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.domain import arrivals as flow
from bot.domain.invalid import Invalid
from bot.domain.places import Place
from bot.domain.risk import RiskFacts

VILLAGES = {"xf": ("XF01", "XF02"), "sq": ("SQ01",)}
CTX = flow.Context(
    today=date(2020, 10, 26), id_required=False, max_days_back=20, max_companions=2,
    villages=VILLAGES,
)  # fmt: skip
CTX_ID = flow.Context(
    today=date(2020, 10, 26), id_required=True, max_days_back=20, max_companions=0,
    villages=VILLAGES,
)  # fmt: skip
ID = "440304199001011233"
ID_2 = "11010519491231002X"
HUBEI_WUHAN = {"province": "湖北省", "city": "武汉市", "district": None}
BEIJING = {"province": "北京市", "city": None, "district": None}
SHANGHAI = {"province": "上海市", "city": None, "district": None}


def text(step: str, answer: str, data: dict[str, Any] | None = None, ctx=CTX) -> Any:
    parse = flow.STEPS[step].text
    assert parse is not None, step
    return parse(answer, data or {}, ctx)


def choose(step: str, value: str, data: dict[str, Any] | None = None, ctx=CTX) -> Any:
    return flow.apply_choice(flow.STEPS[step], value, data or {}, ctx)


# --- the buttons ---------------------------------------------------------------------------

CHOICES = [
    ("relation", {}, CTX, ("self", "family", "tenant", "guest")),
    ("id_number", {}, CTX, ("passport", "skip")),
    ("id_number", {"id_kind": "id"}, CTX, ("passport", "skip")),
    ("id_number", {"id_kind": "passport"}, CTX, ("id", "skip")),
    ("id_number", {}, CTX_ID, ("passport",)),
    ("id_number", {"id_kind": "passport"}, CTX_ID, ("id",)),
    ("region_kind", {}, CTX, ("china", "abroad")),
    ("origin_confirm", {}, CTX, ("yes", "no")),
    ("travel", {}, CTX, ("none",)),
    ("travel_confirm", {}, CTX, ("yes", "no")),
    ("arrival_date", {}, CTX, ("today", "yesterday")),
    ("transport", {}, CTX, ("self_drive", "train", "flight", "coach", "other")),
    ("village", {}, CTX, ("xf", "sq")),
    ("grid", {"village": "xf"}, CTX, ("XF01", "XF02")),
    ("grid", {"village": "sq"}, CTX, ("SQ01",)),
    ("grid", {}, CTX, ()),
    ("grid", {"village": "zz"}, CTX, ()),
    ("category", {}, CTX,
     ("sanfan", "siwai", "overseas", "quarantine_done", "visitor", "other")),
    ("health_code", {}, CTX, ("green", "yellow", "red")),
    ("test", {}, CTX, ("yes", "no")),
    ("test_date", {}, CTX, ("today", "yesterday")),
    ("test_result", {}, CTX, ("negative", "positive", "pending")),
    ("test_photo", {}, CTX, ("skip",)),
    ("certificate", {"category": "quarantine_done"}, CTX, ("skip",)),
    ("temperature", {}, CTX, ("36.2", "36.5", "36.8", "37.0")),
    ("symptoms", {}, CTX, ("fever", "dry_cough", "fatigue", "sore_throat", "smell_taste",
                           "diarrhoea", "none", "done")),
    ("companions", {}, CTX, ("yes", "no")),
    ("companion_id", {}, CTX, ("passport", "skip")),
    # the companion's own kind of ID decides, not the reporter's
    ("companion_id", {"id_kind": "passport"}, CTX, ("passport", "skip")),
    ("companion_id", {"companion": {"id_kind": "passport"}}, CTX, ("id", "skip")),
    ("companion_id", {"id_kind": "passport", "companion": {"id_kind": "id"}}, CTX_ID,
     ("passport",)),
    ("companion_phone", {}, CTX, ("skip",)),
    ("companion_more", {}, CTX, ("add", "done")),
    ("summary", {}, CTX, ("submit", "edit", "cancel")),
    ("edit", {}, CTX, ("relation", "name", "phone", "id_number", "origin", "travel",
                       "arrival_date", "transport", "place", "category", "health_code",
                       "test", "temperature", "symptoms", "companions")),
]  # fmt: skip


@pytest.mark.parametrize(("step", "data", "ctx", "expected"), CHOICES)
def test_the_buttons_of_each_question(step, data, ctx, expected) -> None:
    assert flow.STEPS[step].values(data, ctx) == expected


def test_questions_without_buttons() -> None:
    for step in ("name", "phone", "country", "origin", "trip", "address", "companion_name"):
        assert flow.STEPS[step].choices is None, step


def test_the_order_and_groups_of_the_questions() -> None:
    assert flow.FIRST_STEP == "relation"
    assert {key: step.group for key, step in flow.STEPS.items()} == {
        "relation": "relation", "name": "name", "phone": "phone", "id_number": "id_number",
        "region_kind": "origin", "country": "origin", "origin": "origin",
        "origin_pick": "origin", "origin_district": "origin",
        "origin_confirm": "origin", "travel": "travel", "travel_pick": "travel",
        "travel_district": "travel",
        "travel_confirm": "travel",
        "arrival_date": "arrival_date", "transport": "transport", "trip": "transport",
        "village": "place", "grid": "place", "address": "place",
        "checkin_date": "stay", "checkout_date": "stay", "room": "stay", "category": "category",
        "certificate": "category", "health_code": "health_code", "test": "test",
        "test_date": "test",
        "test_result": "test", "test_photo": "test", "temperature": "temperature",
        "symptoms": "symptoms", "companions": "companions", "companion_name": "companions",
        "companion_id": "companions", "companion_phone": "companions",
        "companion_more": "companions", "summary": "summary", "edit": "summary",
    }  # fmt: skip
    assert flow.STEPS["phone"].contact and not flow.STEPS["name"].contact
    assert flow.STEPS["test_photo"].photo == "test_photo"
    assert flow.STEPS["certificate"].photo == "certificate_photo"


# --- typed answers ---------------------------------------------------------------------------

TEXTS = [
    ("name", " 张三 ", {}, CTX, {"name": "张三"}),
    ("name", "", {}, CTX, Invalid("name_empty")),
    ("phone", "138 0013 8000", {}, CTX, {"phone": "13800138000"}),
    ("phone", "12", {}, CTX, Invalid("phone_format")),
    ("id_number", ID, {}, CTX, {"id_kind": "id", "id_number": ID}),
    ("id_number", ID.lower()[:-1] + "3", {"id_kind": "id"}, CTX,
     {"id_kind": "id", "id_number": ID}),
    ("id_number", "e1234567", {"id_kind": "passport"}, CTX,
     {"id_kind": "passport", "id_number": "E1234567"}),
    ("id_number", "e1234567", {}, CTX, Invalid("id_length", {"length": 8})),
    ("id_number", "12", {"id_kind": "passport"}, CTX, Invalid("passport_format")),
    # born tomorrow in the town: the town's today decides, not the machine's
    ("id_number", "440304202010271234", {}, CTX, Invalid("id_birthdate")),
    ("country", " 日本 ", {}, CTX, {"country": "日本"}),
    ("country", "", {}, CTX, Invalid("text_empty")),
    ("country", "x" * 41, {}, CTX, Invalid("too_long", {"limit": 40})),
    ("country", "x" * 40, {}, CTX, {"country": "x" * 40}),
    ("origin", "湖北武汉", {}, CTX,
     {"origin": HUBEI_WUHAN, "origin_choices": None, "origin_vague": False}),
    ("origin", "xx", {}, CTX, Invalid("place_unknown")),
    ("travel", "北京，上海", {}, CTX,
     {"travel": [BEIJING, SHANGHAI], "travel_choices": [], "travel_vague": []}),
    ("travel", "无", {}, CTX, {"travel": [], "travel_choices": [], "travel_vague": []}),
    ("travel", "xx", {}, CTX, Invalid("place_unknown", {"text": "xx"})),
    ("arrival_date", "2020-10-20", {}, CTX, {"arrival_date": "2020-10-20"}),
    ("arrival_date", "今天", {}, CTX, {"arrival_date": "2020-10-26"}),
    ("arrival_date", "2020-10-27", {}, CTX, Invalid("date_future")),
    ("arrival_date", "2020-10-06", {}, CTX, {"arrival_date": "2020-10-06"}),
    ("arrival_date", "2020-10-05", {}, CTX, Invalid("date_too_old", {"days": 20})),
    ("test_date", "昨天", {}, CTX, {"test_date": "2020-10-25"}),
    ("test_date", "2020-10-05", {}, CTX, Invalid("date_too_old", {"days": 20})),
    ("trip", "京a12345", {"transport": "self_drive"}, CTX, {"trip": "京A12345"}),
    ("trip", "A12345", {"transport": "self_drive"}, CTX, Invalid("plate_province")),
    ("trip", "g123", {"transport": "train"}, CTX, {"trip": "G123"}),
    ("trip", "京a12345", {"transport": "train"}, CTX, Invalid("train_format")),
    ("trip", "ca1234", {"transport": "flight"}, CTX, {"trip": "CA1234"}),
    ("trip", "123456789", {"transport": "flight"}, CTX, Invalid("flight_format")),
    ("trip", " 8点的大巴 ", {"transport": "coach"}, CTX, {"trip": "8点的大巴"}),
    ("address", "先锋街12号", {}, CTX, {"address": "先锋街12号"}),
    ("address", "a", {}, CTX, Invalid("address_short")),
    ("temperature", "36度6", {}, CTX, {"temperature": 36.6}),
    ("temperature", "abc", {}, CTX, Invalid("temp_format")),
    ("companion_name", "李四", {}, CTX, {"companion": {"name": "李四"}}),
    ("companion_name", "李四", {"companion": {"id_kind": "id"}}, CTX,
     {"companion": {"id_kind": "id", "name": "李四"}}),
    ("companion_name", "", {}, CTX, Invalid("name_empty")),
    ("companion_id", ID, {}, CTX, {"companion": {"id_kind": "id", "id_number": ID}}),
    ("companion_id", ID, {"companion": {"name": "李四"}}, CTX,
     {"companion": {"name": "李四", "id_kind": "id", "id_number": ID}}),
    ("companion_id", "e1234567", {"companion": {"name": "李四", "id_kind": "passport"}}, CTX,
     {"companion": {"name": "李四", "id_kind": "passport", "id_number": "E1234567"}}),
    # the reporter's passport does not make the companion's answer a passport number
    ("companion_id", "e1234567", {"id_kind": "passport"}, CTX,
     Invalid("id_length", {"length": 8})),
    ("companion_id", "440304202010271234", {}, CTX, Invalid("id_birthdate")),
    ("companion_phone", "13800138000", {"companion": {"name": "李四"}}, CTX,
     {"companion": {"name": "李四", "phone": "13800138000"}}),
    ("companion_phone", "13800138000", {}, CTX, {"companion": {"phone": "13800138000"}}),
    ("companion_phone", "12", {}, CTX, Invalid("phone_format")),
]  # fmt: skip


@pytest.mark.parametrize(("step", "answer", "data", "ctx", "expected"), TEXTS)
def test_typed_answers(step, answer, data, ctx, expected) -> None:
    before = repr(data)
    assert text(step, answer, data, ctx) == expected
    assert repr(data) == before  # the draft itself is never changed in place


def test_a_trip_number_needs_a_transport() -> None:
    with pytest.raises(ValueError, match="unknown trip kind ''"):
        text("trip", "G123", {})


# --- pressed buttons -------------------------------------------------------------------------

PERSON = {"name": "王五", "id_kind": "id", "id_number": ID_2, "phone": None}
PRESSES = [
    ("relation", "self", {}, CTX, {"relation": "self"}),
    ("relation", "boss", {}, CTX, Invalid("choice_stale")),
    ("name", "张三", {}, CTX, Invalid("choice_stale")),
    ("id_number", "skip", {"id_kind": "id"}, CTX, {"id_kind": None, "id_number": None}),
    ("id_number", "passport", {}, CTX, {"id_kind": "passport", "pending": True}),
    ("id_number", "id", {"id_kind": "passport"}, CTX, {"id_kind": "id", "pending": True}),
    ("id_number", "skip", {}, CTX_ID, Invalid("choice_stale")),
    ("id_number", "id", {}, CTX, Invalid("choice_stale")),
    ("region_kind", "abroad", {}, CTX,
     {"region_kind": "abroad", "origin": None, "origin_confirm": None, "origin_choices": None,
      "origin_vague": None}),
    ("region_kind", "china", {}, CTX, {"region_kind": "china", "country": None}),
    ("origin_confirm", "yes", {}, CTX, {"origin_confirm": "yes"}),
    ("origin_confirm", "no", {"origin": HUBEI_WUHAN}, CTX,
     {"origin": None, "origin_confirm": None, "origin_vague": None, "back": "origin"}),
    ("travel", "none", {"travel": [BEIJING]}, CTX,
     {"travel": [], "travel_choices": [], "travel_vague": []}),
    ("travel_confirm", "yes", {}, CTX, {"travel_confirm": "yes"}),
    ("travel_confirm", "no", {"travel": [BEIJING]}, CTX,
     {"travel": [], "travel_choices": [], "travel_vague": [], "back": "travel"}),
    ("arrival_date", "today", {}, CTX, {"arrival_date": "2020-10-26"}),
    ("arrival_date", "yesterday", {}, CTX, {"arrival_date": "2020-10-25"}),
    ("test_date", "today", {}, CTX, {"test_date": "2020-10-26"}),
    ("test_date", "yesterday", {}, CTX, {"test_date": "2020-10-25"}),
    ("transport", "train", {"trip": "G1"}, CTX, {"transport": "train", "trip": None}),
    ("village", "sq", {"grid": "XF01"}, CTX, {"village": "sq", "grid": None}),
    ("village", "zz", {}, CTX, Invalid("choice_stale")),
    ("grid", "XF02", {"village": "xf"}, CTX, {"grid": "XF02"}),
    ("grid", "SQ01", {"village": "xf"}, CTX, Invalid("choice_stale")),
    ("category", "visitor", {}, CTX, {"category": "visitor"}),
    ("health_code", "yellow", {}, CTX, {"health_code": "yellow"}),
    ("test", "yes", {}, CTX, {"test": "yes"}),
    ("test", "no", {"test_date": "2020-10-25"}, CTX,
     {"test": "no", "test_date": None, "test_result": None, "test_photo": None}),
    ("test_result", "negative", {}, CTX, {"test_result": "negative"}),
    ("test_photo", "skip", {"test_photo": "f1"}, CTX, {"test_photo": None}),
    ("certificate", "skip", {"certificate_photo": "f1"}, CTX, {"certificate_photo": None}),
    ("temperature", "37.0", {}, CTX, {"temperature": 37.0}),
    ("temperature", "36.5", {}, CTX, {"temperature": 36.5}),
    ("temperature", "36.6", {}, CTX, Invalid("choice_stale")),
    ("symptoms", "none", {"symptoms": ["fever"]}, CTX,
     {"symptoms": [], "symptoms_done": True}),
    ("symptoms", "done", {"symptoms": ["fever"]}, CTX,
     {"symptoms": ["fever"], "symptoms_done": True}),
    ("symptoms", "done", {}, CTX, {"symptoms": [], "symptoms_done": True}),
    ("symptoms", "fever", {}, CTX, {"symptoms": ["fever"], "pending": True}),
    ("symptoms", "fatigue", {"symptoms": ["fever"]}, CTX,
     {"symptoms": ["fever", "fatigue"], "pending": True}),
    ("symptoms", "fever", {"symptoms": ["fever", "fatigue"]}, CTX,
     {"symptoms": ["fatigue"], "pending": True}),
    ("symptoms", "cough", {}, CTX, Invalid("choice_stale")),
    ("companions", "yes", {}, CTX, {"companions": "yes", "people": []}),
    ("companions", "yes", {"people": [PERSON]}, CTX, {"companions": "yes", "people": [PERSON]}),
    ("companions", "no", {"people": [PERSON]}, CTX, {"companions": "no", "people": []}),
    ("companions", "yes", {}, CTX_ID, Invalid("companions_too_many", {"limit": 0})),
    ("companions", "no", {}, CTX_ID, {"companions": "no", "people": []}),
    ("companion_id", "skip", {"companion": {"name": "李四", "id_number": ID}}, CTX,
     {"companion": {"name": "李四", "id_kind": None, "id_number": None}}),
    ("companion_id", "skip", {}, CTX, {"companion": {"id_kind": None, "id_number": None}}),
    ("companion_id", "passport", {"companion": {"name": "李四"}}, CTX,
     {"companion": {"name": "李四", "id_kind": "passport"}, "pending": True}),
    ("companion_id", "passport", {}, CTX, {"companion": {"id_kind": "passport"}, "pending": True}),
    ("companion_phone", "skip", {"companion": {"name": "李四"}}, CTX,
     {"companion": {"name": "李四", "phone": None}}),
    ("companion_phone", "skip", {}, CTX, {"companion": {"phone": None}}),
    ("companion_more", "add", {"people": [PERSON]}, CTX, {"companion_more": "add"}),
    ("companion_more", "add", {}, CTX, {"companion_more": "add"}),
    ("companion_more", "add", {"people": [PERSON, PERSON]}, CTX,
     Invalid("companions_too_many", {"limit": 2})),
    ("companion_more", "done", {"people": [PERSON, PERSON]}, CTX, {"companion_more": "done"}),
    ("summary", "submit", {}, CTX, {"summary": "submit"}),
    ("edit", "place", {}, CTX, {"edit": "place"}),
]  # fmt: skip


@pytest.mark.parametrize(("step", "value", "data", "ctx", "expected"), PRESSES)
def test_pressed_buttons(step, value, data, ctx, expected) -> None:
    before = repr(data)
    assert choose(step, value, data, ctx) == expected
    assert repr(data) == before


# --- which question comes next ---------------------------------------------------------------

NEXT = [
    ("relation", {}, "name"),
    ("phone", {}, "id_number"),
    ("id_number", {}, "region_kind"),
    ("region_kind", {"region_kind": "abroad"}, "country"),
    ("region_kind", {"region_kind": "china"}, "origin"),
    ("region_kind", {}, "travel"),
    ("country", {"region_kind": "abroad"}, "travel"),
    ("origin", {"region_kind": "china"}, "origin_confirm"),
    ("origin_confirm", {"region_kind": "china"}, "travel"),
    ("travel", {"travel": [BEIJING]}, "travel_confirm"),
    ("travel", {"travel": []}, "arrival_date"),
    ("travel", {}, "arrival_date"),
    ("arrival_date", {}, "transport"),
    ("transport", {"transport": "train"}, "trip"),
    ("transport", {"transport": "self_drive"}, "trip"),
    ("transport", {"transport": "other"}, "village"),
    ("transport", {}, "village"),
    ("trip", {"transport": "train"}, "village"),
    ("trip", {"prefilled_village": "xf"}, "grid"),
    ("trip", {"prefilled_village": "xf", "prefilled_grid": "XF01"}, "address"),
    ("trip", {"prefilled_village": "xf", "prefilled_grid": "XF01", "prefilled_address": "a"},
     "category"),
    ("village", {}, "grid"),
    ("grid", {}, "address"),
    ("address", {}, "category"),
    ("category", {"category": "quarantine_done"}, "certificate"),
    ("category", {"category": "overseas"}, "health_code"),
    ("certificate", {"category": "quarantine_done"}, "health_code"),
    ("health_code", {}, "test"),
    ("test", {"test": "yes"}, "test_date"),
    ("test", {"test": "no"}, "temperature"),
    ("test", {}, "temperature"),
    ("test_date", {"test": "yes"}, "test_result"),
    ("test_result", {"test": "yes"}, "test_photo"),
    ("test_photo", {"test": "yes"}, "temperature"),
    ("temperature", {}, "symptoms"),
    ("symptoms", {}, "companions"),
    ("companions", {"companions": "yes"}, "companion_name"),
    ("companions", {"companions": "no"}, "summary"),
    ("companion_name", {"companions": "yes"}, "companion_id"),
    ("companion_id", {"companions": "yes"}, "companion_phone"),
    ("companion_phone", {"companions": "yes"}, "companion_more"),
    ("companion_more", {"companions": "yes", "companion_more": "add"}, "companion_name"),
    ("companion_more", {"companions": "yes", "companion_more": "done"}, "summary"),
    ("summary", {}, "summary"),  # "edit" is never reached by answering
    # while editing: within the edited group, then back to the summary
    ("region_kind", {"region_kind": "china", "editing": "origin"}, "origin"),
    ("origin_confirm", {"region_kind": "china", "editing": "origin"}, "summary"),
    ("transport", {"transport": "train", "editing": "transport"}, "trip"),
    ("transport", {"transport": "other", "editing": "transport"}, "summary"),
    ("relation", {"editing": "relation"}, "summary"),
]  # fmt: skip


@pytest.mark.parametrize(("current", "data", "expected"), NEXT)
def test_the_next_question(current, data, expected) -> None:
    assert flow.next_step(current, data) == expected


APPLIES = [
    ("country", {"region_kind": "abroad"}, True),
    ("country", {"region_kind": "china"}, False),
    ("country", {}, False),
    ("origin", {"region_kind": "china"}, True),
    ("origin", {"region_kind": "abroad"}, False),
    ("origin_confirm", {"region_kind": "china"}, True),
    ("origin_confirm", {"region_kind": "abroad"}, False),
    ("travel_confirm", {"travel": [BEIJING]}, True),
    ("travel_confirm", {"travel": []}, False),
    ("travel_confirm", {}, False),
    ("trip", {"transport": "coach"}, True),
    ("trip", {"transport": "other"}, False),
    ("trip", {}, False),
    ("village", {}, True),
    ("village", {"prefilled_village": "xf"}, False),
    ("grid", {}, True),
    ("grid", {"prefilled_grid": "XF01"}, False),
    ("address", {}, True),
    ("address", {"prefilled_address": "先锋街"}, False),
    *[(key, {"test": "yes"}, True) for key in ("test_date", "test_result", "test_photo")],
    *[(key, {"test": "no"}, False) for key in ("test_date", "test_result", "test_photo")],
    *[(key, {}, False) for key in ("test_date", "test_result", "test_photo")],
    *[(key, {"companions": "yes"}, True)
      for key in ("companion_name", "companion_id", "companion_phone", "companion_more")],
    *[(key, {"companions": "no"}, False)
      for key in ("companion_name", "companion_id", "companion_phone", "companion_more")],
    *[(key, {}, False)
      for key in ("companion_name", "companion_id", "companion_phone", "companion_more")],
    ("certificate", {"category": "quarantine_done"}, True),
    ("certificate", {"category": "overseas"}, False),
    ("certificate", {}, False),
    ("edit", {}, False),
    ("relation", {}, True),
    ("summary", {}, True),
]  # fmt: skip


@pytest.mark.parametrize(("key", "data", "expected"), APPLIES)
def test_which_questions_are_asked(key, data, expected) -> None:
    assert flow._applies(key, data) is expected


# --- merging an answer -----------------------------------------------------------------------

ADVANCE = [
    ("relation", {"relation": "self"}, {}, ("name", {"relation": "self"})),
    # a pending answer keeps the question open
    ("id_number", {"id_kind": "passport", "pending": True}, {"relation": "self"},
     ("id_number", {"relation": "self", "id_kind": "passport"})),
    ("symptoms", {"symptoms": ["fever"], "pending": True}, {},
     ("symptoms", {"symptoms": ["fever"]})),
    ("symptoms", {"symptoms": ["fever"], "symptoms_done": True}, {},
     ("companions", {"symptoms": ["fever"]})),
    # "对吗？" -> no: back to the question
    ("origin_confirm", {"origin": None, "origin_confirm": None, "back": "origin"},
     {"region_kind": "china", "origin": HUBEI_WUHAN},
     ("origin", {"region_kind": "china", "origin": None, "origin_confirm": None})),
    ("travel_confirm", {"travel": [], "back": "travel"}, {"travel": [BEIJING]},
     ("travel", {"travel": []})),
    # a companion's last answer files the companion among the people
    ("companion_phone", {"companion": {"name": "李四", "phone": None}},
     {"companions": "yes", "people": [PERSON], "companion": {"name": "李四"}},
     ("companion_more", {"companions": "yes",
                         "people": [PERSON, {"name": "李四", "phone": None}]})),
    ("companion_phone", {"companion": {"name": "李四", "phone": None}}, {"companions": "yes"},
     ("companion_more", {"companions": "yes", "people": [{"name": "李四", "phone": None}]})),
    ("companion_more", {"companion_more": "add"}, {"companions": "yes", "people": [PERSON]},
     ("companion_name", {"companions": "yes", "people": [PERSON]})),
    ("companion_more", {"companion_more": "done"}, {"companions": "yes", "people": [PERSON]},
     ("summary", {"companions": "yes", "people": [PERSON], "companion_more": "done"})),
    # an edit ends at the summary, and the draft forgets it was editing
    ("name", {"name": "李四"}, {"name": "张三", "editing": "name"},
     ("summary", {"name": "李四"})),
    ("region_kind", {"region_kind": "china", "country": None},
     {"region_kind": "abroad", "country": "日本", "editing": "origin"},
     ("origin", {"region_kind": "china", "country": None, "editing": "origin"})),
]  # fmt: skip


@pytest.mark.parametrize(("step", "updates", "data", "expected"), ADVANCE)
def test_advance(step, updates, data, expected) -> None:
    before = repr(data)
    assert flow.advance(step, updates, data) == expected
    assert repr(data) == before


def test_a_companion_without_answers_is_filed_empty() -> None:
    assert flow.advance("companion_phone", {}, {"companions": "yes"}) == (
        "companion_more", {"companions": "yes", "people": [{}]}
    )  # fmt: skip


# --- a whole report, answer by answer ---------------------------------------------------------

WALK = [
    ("relation", "choice", "self", "name"),
    ("name", "text", "张三", "phone"),
    ("phone", "text", "13800138000", "id_number"),
    ("id_number", "choice", "passport", "id_number"),
    ("id_number", "text", "e1234567", "region_kind"),
    ("region_kind", "choice", "china", "origin"),
    ("origin", "text", "湖北武汉", "origin_confirm"),
    ("origin_confirm", "choice", "no", "origin"),
    ("origin", "text", "湖北武汉", "origin_confirm"),
    ("origin_confirm", "choice", "yes", "travel"),
    ("travel", "text", "北京", "travel_confirm"),
    ("travel_confirm", "choice", "yes", "arrival_date"),
    ("arrival_date", "choice", "yesterday", "transport"),
    ("transport", "choice", "train", "trip"),
    ("trip", "text", "G123", "village"),
    ("village", "choice", "xf", "grid"),
    ("grid", "choice", "XF02", "address"),
    ("address", "text", "先锋街12号", "category"),
    ("category", "choice", "sanfan", "health_code"),
    ("health_code", "choice", "green", "test"),
    ("test", "choice", "yes", "test_date"),
    ("test_date", "choice", "today", "test_result"),
    ("test_result", "choice", "negative", "test_photo"),
    ("test_photo", "choice", "skip", "temperature"),
    ("temperature", "choice", "36.5", "symptoms"),
    ("symptoms", "choice", "fever", "symptoms"),
    ("symptoms", "choice", "fatigue", "symptoms"),
    ("symptoms", "choice", "fever", "symptoms"),
    ("symptoms", "choice", "done", "companions"),
    ("companions", "choice", "yes", "companion_name"),
    ("companion_name", "text", "李四", "companion_id"),
    ("companion_id", "text", ID, "companion_phone"),
    ("companion_phone", "choice", "skip", "companion_more"),
    ("companion_more", "choice", "add", "companion_name"),
    ("companion_name", "text", "王五", "companion_id"),
    ("companion_id", "choice", "skip", "companion_phone"),
    ("companion_phone", "text", "13900139000", "companion_more"),
    ("companion_more", "choice", "done", "summary"),
]
WALKED = {
    "relation": "self", "name": "张三", "phone": "13800138000", "id_kind": "passport",
    "id_number": "E1234567", "region_kind": "china", "country": None, "origin": HUBEI_WUHAN,
    "origin_confirm": "yes", "travel": [BEIJING], "travel_confirm": "yes",
    "origin_choices": None, "origin_vague": False, "travel_choices": [], "travel_vague": [],
    "arrival_date": "2020-10-25", "transport": "train", "trip": "G123", "village": "xf",
    "grid": "XF02", "address": "先锋街12号", "category": "sanfan", "health_code": "green",
    "test": "yes", "test_date": "2020-10-26", "test_result": "negative", "test_photo": None,
    "temperature": 36.5, "symptoms": ["fatigue"], "companions": "yes",
    "people": [
        {"name": "李四", "id_kind": "id", "id_number": ID, "phone": None},
        {"name": "王五", "id_kind": None, "id_number": None, "phone": "13900139000"},
    ],
    "companion_more": "done",
}  # fmt: skip


def walk(rows, data: dict[str, Any], ctx=CTX) -> dict[str, Any]:
    step = rows[0][0]
    for key, kind, answer, expected in rows:
        assert step == key
        updates = choose(key, answer, data, ctx) if kind == "choice" else text(key, answer, data)
        assert not isinstance(updates, Invalid), (key, answer, updates)
        step, data = flow.advance(key, updates, data)
        assert step == expected, (key, answer)
    return data


def test_a_whole_report() -> None:
    data = walk(WALK, {})
    assert data == WALKED
    assert flow.missing_for_submit(data, CTX) == []
    assert flow.missing_for_submit(data, CTX_ID) == []


def test_an_overseas_report_skips_the_origin_and_what_was_not_asked() -> None:
    rows = [
        ("region_kind", "choice", "abroad", "country"),
        ("country", "text", "日本", "travel"),
        ("travel", "choice", "none", "arrival_date"),
        ("arrival_date", "text", "2020-10-20", "transport"),
        ("transport", "choice", "other", "village"),
        ("village", "choice", "sq", "grid"),
        ("grid", "choice", "SQ01", "address"),
        ("address", "text", "先锋街1号", "category"),
        ("category", "choice", "overseas", "health_code"),
        ("health_code", "choice", "red", "test"),
        ("test", "choice", "no", "temperature"),
        ("temperature", "text", "37.4", "symptoms"),
        ("symptoms", "choice", "none", "companions"),
        ("companions", "choice", "no", "summary"),
    ]
    data = walk(rows, {"relation": "guest", "name": "张三", "phone": "13800138000"})
    assert data == {
        "relation": "guest", "name": "张三", "phone": "13800138000",
        "region_kind": "abroad", "origin": None, "origin_confirm": None, "country": "日本",
        "origin_choices": None, "origin_vague": None, "travel_choices": [], "travel_vague": [],
        "travel": [], "arrival_date": "2020-10-20", "transport": "other", "trip": None,
        "village": "sq", "grid": "SQ01", "address": "先锋街1号", "category": "overseas",
        "health_code": "red", "test": "no", "test_date": None, "test_result": None,
        "test_photo": None, "temperature": 37.4, "symptoms": [], "companions": "no",
        "people": [],
    }  # fmt: skip
    assert flow.missing_for_submit(data, CTX) == []
    assert flow.missing_for_submit(data, CTX_ID) == ["id_number"]


# --- change a field --------------------------------------------------------------------------

EDITS = [
    ("relation", "relation"),
    ("name", "name"),
    ("phone", "phone"),
    ("id_number", "id_number"),
    ("origin", "region_kind"),
    ("travel", "travel"),
    ("arrival_date", "arrival_date"),
    ("transport", "transport"),
    ("place", "village"),
    ("category", "category"),
    ("health_code", "health_code"),
    ("test", "test"),
    ("temperature", "temperature"),
    ("symptoms", "symptoms"),
    ("companions", "companions"),
]


@pytest.mark.parametrize(("group", "first"), EDITS)
def test_each_edit_group_reopens_its_first_question(group, first) -> None:
    data = {"name": "张三", "prefilled_village": "xf", "people": [PERSON]}
    step, edited = flow.start_edit(group, data)
    assert step == first
    expected = {**data, "editing": group}
    if group == "place":
        expected = {"name": "张三", "people": [PERSON], "editing": "place"}
    if group == "companions":
        expected["people"] = []
    assert edited == expected
    assert data == {"name": "张三", "prefilled_village": "xf", "people": [PERSON]}
    assert flow.finish_edit(edited) == {k: v for k, v in expected.items() if k != "editing"}


def test_editing_the_place_forgets_every_prefilled_part() -> None:
    data = {"prefilled_village": "xf", "prefilled_grid": "XF01", "prefilled_address": "a",
            "village": "xf"}  # fmt: skip
    assert flow.start_edit("place", data) == ("village", {"village": "xf", "editing": "place"})
    assert flow.start_edit("place", {}) == ("village", {"editing": "place"})


def test_an_edit_walks_its_group_then_returns() -> None:
    step, data = flow.start_edit("test", {"test": "no", "temperature": 36.5})
    assert step == "test"
    step, data = flow.advance("test", choose("test", "yes", data), data)
    assert (step, data["editing"]) == ("test_date", "test")
    step, data = flow.advance("test_date", choose("test_date", "today", data), data)
    step, data = flow.advance("test_result", choose("test_result", "pending", data), data)
    assert step == "test_photo"
    step, data = flow.advance("test_photo", choose("test_photo", "skip", data), data)
    assert step == "summary"
    assert data == {"test": "yes", "temperature": 36.5, "test_date": "2020-10-26",
                    "test_result": "pending", "test_photo": None}  # fmt: skip


# --- what a draft still lacks ----------------------------------------------------------------

COMPLETE = {
    "relation": "self", "name": "张三", "phone": "13800138000", "region_kind": "china",
    "origin": HUBEI_WUHAN, "arrival_date": "2020-10-25", "transport": "other",
    "village": "xf", "grid": "XF01", "address": "先锋街12号", "category": "sanfan",
    "health_code": "green", "test": "no", "temperature": 36.5, "id_number": ID,
}  # fmt: skip
MISSING = [
    ({}, CTX, ["relation", "name", "phone", "origin", "arrival_date", "transport", "place",
               "category", "health_code", "test", "temperature"]),
    ({}, CTX_ID, ["relation", "name", "phone", "origin", "arrival_date", "transport", "place",
                  "category", "health_code", "test", "temperature", "id_number"]),
    (COMPLETE, CTX, []),
    (COMPLETE, CTX_ID, []),
    ({**COMPLETE, "name": ""}, CTX, ["name"]),
    ({**COMPLETE, "temperature": None}, CTX, ["temperature"]),
    ({**COMPLETE, "address": None}, CTX, ["place"]),
    ({**COMPLETE, "village": None}, CTX, ["place"]),
    ({**COMPLETE, "grid": "SQ01"}, CTX, ["place"]),
    ({**COMPLETE, "village": "zz"}, CTX, ["place"]),
    ({**COMPLETE, "id_number": None}, CTX, []),
    ({**COMPLETE, "id_number": None}, CTX_ID, ["id_number"]),
    ({**COMPLETE, "id_number": ""}, CTX_ID, ["id_number"]),
    ({**COMPLETE, "origin": None}, CTX, ["origin"]),
    ({**COMPLETE, "region_kind": "abroad", "origin": None}, CTX, []),
    ({**COMPLETE, "region_kind": None, "origin": None}, CTX, ["origin"]),
    ({**COMPLETE, "phone": None, "origin": None, "grid": "XX"}, CTX_ID,
     ["phone", "origin", "place"]),
    ({**COMPLETE, "test": "", "id_number": None, "grid": "XX"}, CTX_ID,
     ["test", "id_number", "place"]),
]  # fmt: skip


@pytest.mark.parametrize(("data", "ctx", "expected"), MISSING)
def test_what_a_draft_lacks(data, ctx, expected) -> None:
    assert flow.missing_for_submit(data, ctx) == expected


# --- places and the risk facts ---------------------------------------------------------------


def test_place_dicts() -> None:
    place = Place("湖北省", "武汉市", "江岸区")
    as_dict = {"province": "湖北省", "city": "武汉市", "district": "江岸区"}
    assert flow.place_to_dict(place) == as_dict
    assert flow.place_from_dict(as_dict) == place
    assert flow.place_from_dict({"province": None}) == Place("", None, None)
    assert flow.place_from_dict({"province": "北京市"}) == Place("北京市", None, None)


RISK_DATA = {
    "region_kind": "china", "origin": HUBEI_WUHAN, "travel": [BEIJING, SHANGHAI],
    "arrival_date": "2020-10-25", "health_code": "yellow", "temperature": 37.4,
    "symptoms": ["fever", "fatigue"], "category": "sanfan",
}  # fmt: skip


def test_risk_facts_of_a_report() -> None:
    assert flow.risk_facts(RISK_DATA) == RiskFacts(
        overseas=False,
        origin=Place("湖北省", "武汉市", None),
        travel=(Place("北京市", None, None), Place("上海市", None, None)),
        arrival_date=date(2020, 10, 25),
        health_code="yellow",
        temperature=37.4,
        symptoms=frozenset({"fever", "fatigue"}),
        quarantine_done=False,
    )


def test_risk_facts_of_a_sparse_overseas_report() -> None:
    facts = flow.risk_facts({"region_kind": "abroad", "arrival_date": "2020-10-20"})
    assert facts == RiskFacts(
        overseas=True, origin=None, travel=(), arrival_date=date(2020, 10, 20),
        health_code=None, temperature=None, symptoms=frozenset(), quarantine_done=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "overseas", "quarantine_done"),
    [
        ({}, False, False),
        ({"category": "overseas"}, True, False),
        ({"region_kind": "abroad", "origin": None}, True, False),
        ({"category": "quarantine_done"}, False, True),
    ],
)
def test_risk_facts_overseas_and_quarantine(changes, overseas, quarantine_done) -> None:
    facts = flow.risk_facts({**RISK_DATA, **changes})
    assert (facts.overseas, facts.quarantine_done) == (overseas, quarantine_done)


@pytest.mark.parametrize(
    ("changes", "result"),
    [
        ({}, None),
        ({"test": "no"}, None),
        ({"test": "yes", "test_result": "positive"}, "positive"),
        ({"test": "yes", "test_result": "negative"}, "negative"),
        ({"test": "no", "test_result": "positive"}, None),  # a stale answer of an edit
    ],
)
def test_risk_facts_test_result(changes, result) -> None:
    facts = flow.risk_facts({**RISK_DATA, **changes})
    assert (facts.test_result, facts.certificate_checked) == (result, False)


@pytest.mark.parametrize(
    ("changes", "checked"),
    [
        ({}, False),
        ({"certificate_checked": True}, True),  # written by a worker's check, never answered
        ({"certificate_checked": False}, False),
        ({"certificate_checked": "yes"}, False),  # only the stored True counts
    ],
)
def test_risk_facts_certificate_checked(changes, checked) -> None:
    facts = flow.risk_facts({**RISK_DATA, "category": "quarantine_done", **changes})
    assert facts.certificate_checked is checked
