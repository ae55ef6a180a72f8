"""/stats' pure rules: the typed range (known answers and properties), presets, callback
data, drill-downs, scope, the top-N table and its CJK alignment."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import stats as rules
from bot.domain.callbacks import CALLBACK_LIMIT, callback
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.domain.stats import Query, Row

TODAY = date(2020, 11, 25)
D = date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11月1日-11月20日", (D(2020, 11, 1), D(2020, 11, 20))),
        ("11月1日至11月20日", (D(2020, 11, 1), D(2020, 11, 20))),
        ("11月1日 到 11月20日", (D(2020, 11, 1), D(2020, 11, 20))),
        ("2020-11-01 至 2020-11-20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("2020-11-01-2020-11-20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("2020/11/1 ~ 2020/11/20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("2020年11月1日—2020年11月20日", (D(2020, 11, 1), D(2020, 11, 20))),
        ("１１月１日－１１月２０日", (D(2020, 11, 1), D(2020, 11, 20))),  # full-width
        ("２０２０－１１－０１至２０２０－１１－２０", (D(2020, 11, 1), D(2020, 11, 20))),
        ("11/1-11/20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("11.1-11.20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("  11月25日 ", (D(2020, 11, 25), D(2020, 11, 25))),  # one day: today
        ("2020-11-25", (D(2020, 11, 25), D(2020, 11, 25))),
        # days without a year are of one year: today's, or last year's when the first is
        # still to come
        ("12月20日-11月5日", Invalid("stats_range_backwards")),  # both 2019's
        ("12月1日-12月20日", (D(2019, 12, 1), D(2019, 12, 20))),  # last December
        ("11月26日", (D(2019, 11, 26), D(2019, 11, 26))),  # no year, not yet: last year's
        ("11月20日-11月26日", Invalid("stats_range_future")),  # both 2020's: ends tomorrow
        ("11月20日-11月25日", (D(2020, 11, 20), D(2020, 11, 25))),
        ("2020-11-01 to 2020-11-20", (D(2020, 11, 1), D(2020, 11, 20))),  # /export's English
        ("2020-11-01 TO 2020-11-20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("11/1 to 11/20", (D(2020, 11, 1), D(2020, 11, 20))),
        ("2020-11-01to", Invalid("stats_range_format")),
        # before 2000: no statistics then (and a button's date holds only 20xx)
        ("0001-01-01", Invalid("stats_range_old", {"year": 2000})),
        ("1999-12-01 至 1999-12-05", Invalid("stats_range_old", {"year": 2000})),
        ("1999-12-31 至 2000-01-05", Invalid("stats_range_old", {"year": 2000})),
        ("2000-01-01", (D(2000, 1, 1), D(2000, 1, 1))),
        ("2020-11-26", Invalid("stats_range_future")),
        ("2020-11-20 至 2020-11-26", Invalid("stats_range_future")),
        ("11月20日-11月1日", Invalid("stats_range_backwards")),
        ("2019-11-24 至 2020-11-25", Invalid("stats_range_long", {"days": 366})),
        ("2019-11-25 至 2020-11-24", (D(2019, 11, 25), D(2020, 11, 24))),  # 366 days: allowed
        ("2月30日", Invalid("stats_range_format")),
        ("2020-13-01", Invalid("stats_range_format")),
        ("昨天", Invalid("stats_range_format")),
        ("", Invalid("stats_range_format")),
        ("11月1日-", Invalid("stats_range_format")),
        ("11月1日-11月20日-11月22日", Invalid("stats_range_format")),
    ],
)
def test_typed_ranges(text: str, expected: object) -> None:
    assert rules.parse_range(text, TODAY) == expected


recent = st.dates(min_value=D(2019, 1, 1), max_value=TODAY)
days = st.one_of(recent, st.dates(min_value=D(1, 1, 1), max_value=TODAY))


@given(days, days, st.sampled_from(["-", "至", " 至 ", "~", "～", "到", "—", "－", " to "]))
def test_any_written_range_reads_back(a: date, b: date, sep: str) -> None:
    start, end = min(a, b), max(a, b)

    def written(d: date) -> str:
        return f"{d.year:04d}年{d.month}月{d.day}日"

    for text in (f"{start.isoformat()}{sep}{end.isoformat()}",
                 f"{written(start)}{sep}{written(end)}"):  # fmt: skip
        got = rules.parse_range(text, TODAY)
        if start < rules.EARLIEST:
            assert got == Invalid("stats_range_old", {"year": rules.EARLIEST.year})
        elif (end - start).days + 1 > rules.MAX_DAYS:
            assert got == Invalid("stats_range_long", {"days": rules.MAX_DAYS})
        else:
            assert got == (start, end)


@given(recent)
def test_full_width_digits_read_as_ascii(day: date) -> None:
    wide = str.maketrans("0123456789-", "０１２３４５６７８９－")
    assert rules.parse_range(day.isoformat().translate(wide), TODAY) == (day, day)


@given(st.text(max_size=40))
def test_any_text_is_a_range_or_a_reason(text: str) -> None:
    got = rules.parse_range(text, TODAY)
    if isinstance(got, Invalid):
        assert got.code.startswith("stats_range_")
    else:
        start, end = got
        assert rules.EARLIEST <= start <= end <= TODAY and (end - start).days < rules.MAX_DAYS
        back = rules.decode(rules.encode(Query("day", start, end)), TODAY)
        assert back == Query("day", start, end)  # a button holds it


@given(st.dates(min_value=D(2001, 1, 1), max_value=TODAY), st.integers(0, 400))
def test_days_without_a_year_are_of_one_year(end: date, back: int) -> None:
    start = end - timedelta(days=back)
    got = rules.parse_range(f"{start.month}月{start.day}日-{end.month}月{end.day}日", end)
    if start.year != end.year:  # read as of one year (2月29日 of a year without: refused)
        assert isinstance(got, Invalid) or got[0].year == got[1].year == end.year
    else:
        assert got == (start, end)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [("d1", (D(2020, 11, 25), D(2020, 11, 25))), ("d7", (D(2020, 11, 19), D(2020, 11, 25))),
     ("d14", (D(2020, 11, 12), D(2020, 11, 25))), ("month", (D(2020, 11, 1), D(2020, 11, 25)))],
)  # fmt: skip
def test_presets(preset: str, expected: tuple[date, date]) -> None:
    assert rules.preset_range(preset, TODAY) == expected


def test_callback_data_round_trips_and_fits() -> None:
    q = Query("grid", D(2020, 11, 1), D(2020, 11, 20), "xf", "XF01", "quarantine_done", "42")
    parts = rules.encode(q)
    assert parts == ["g", "201101201120", "xf", "XF01", "quarantine_done", "42"]
    assert rules.decode(parts, TODAY) == q
    assert len(callback(rules.FLOW, "s", *parts).encode()) <= CALLBACK_LIMIT
    assert rules.decode(rules.encode(q, "d7"), TODAY) == Query(
        "grid", D(2020, 11, 19), TODAY, "xf", "XF01", "quarantine_done", "42"
    )
    for view in rules.VIEWS:
        assert rules.decode(rules.encode(Query(view, TODAY, TODAY)), TODAY).view == view


@pytest.mark.parametrize(
    "parts",
    [[], ["v"], ["zz", "201101201120", "", "", "", ""], ["v", "201120201101", "", "", "", ""],
     ["v", "201301201120", "", "", "", ""], ["v", "2011012011", "", "", "", ""],
     ["v", "d3", "", "", "", ""], ["v", "20110120112x", "", "", "", ""],
     ["v", "201101201120", "", "", ""]],
)  # fmt: skip
def test_forged_callback_data_is_no_query(parts: list[str]) -> None:
    assert rules.decode(parts, TODAY) is None


def test_drill_downs() -> None:
    q = Query("village", D(2020, 11, 1), TODAY)
    assert q.drill("xf") == Query("grid", D(2020, 11, 1), TODAY, village="xf")
    assert Query("province", TODAY, TODAY).drill("湖北省") == Query("city", TODAY, TODAY,
                                                                    province="42")  # fmt: skip
    assert Query("province", TODAY, TODAY).drill("火星") is None  # no such province
    assert Query("category", TODAY, TODAY).drill("siwai") == Query("village", TODAY, TODAY,
                                                                   category="siwai")  # fmt: skip
    assert Query("grid", TODAY, TODAY).drill("XF01") is None
    assert q.drill("") is None  # 其他 / 未填写


def test_provinces() -> None:
    assert len(rules.provinces()) == 34
    assert (rules.province_code("重庆市"), rules.province_name("50")) == ("50", "重庆市")
    assert (rules.province_code("湖北"), rules.province_name("99")) == ("", "")


def test_switching_view_keeps_only_what_applies() -> None:
    q = Query("grid", D(2020, 11, 1), TODAY, "xf", "XF01", "siwai", "42")
    assert rules.switched(q, "category") == Query("category", D(2020, 11, 1), TODAY, "xf",
                                                  "XF01", "siwai", "42")  # fmt: skip
    assert rules.switched(q, "tip_kind") == Query("tip_kind", D(2020, 11, 1), TODAY, "xf")
    assert rules.whole(q) == Query("grid", D(2020, 11, 1), TODAY)


GRIDS = {"XF01": "xf", "XF02": "xf", "SQ01": "sq"}


@pytest.mark.parametrize(
    ("actor", "village", "grid", "allowed"),
    [
        (Actor(1, is_leader=True), "sq", "", True),
        (Actor(1, is_admin=True), "", "SQ01", True),
        (Actor(1, admin_villages=frozenset({"xf"})), "", "", True),
        (Actor(1, admin_villages=frozenset({"xf"})), "xf", "XF02", True),
        (Actor(1, admin_villages=frozenset({"xf"})), "sq", "", False),
        (Actor(1, admin_villages=frozenset({"xf"})), "", "SQ01", False),
        (Actor(1, admin_villages=frozenset({"xf"})), "xf", "SQ01", False),
        (Actor(1, admin_villages=frozenset({"xf"})), "", "NOPE", False),
        (Actor(1, worker_grids=frozenset({"XF01"})), "", "", False),
        (Actor(1), "", "", False),
    ],
)
def test_scope(actor: Actor, village: str, grid: str, allowed: bool) -> None:
    assert rules.permits(actor, Query("grid", TODAY, TODAY, village, grid), GRIDS) is allowed


@pytest.mark.parametrize(
    ("actor", "villages"),
    [(Actor(1, is_leader=True), None), (Actor(1, is_admin=True), None),
     (Actor(1, admin_villages=frozenset({"xf", "sq"})), frozenset({"xf", "sq"})),
     (Actor(1, worker_grids=frozenset({"XF01"})), frozenset()), (Actor(1), frozenset())],
)  # fmt: skip
def test_who_sees_what(actor: Actor, villages: frozenset[str] | None) -> None:
    assert rules.villages_of(actor) == villages
    assert rules.may_view(actor) is (villages != frozenset())


def test_top_keeps_the_largest_and_sums_the_rest() -> None:
    rows = [Row(k, k, n) for k, n in (("a", 1), ("b", 5), ("c", 3), ("d", 3), ("e", 2))]
    assert rules.top(rows, 5, "其他") == [Row("b", "b", 5), Row("c", "c", 3), Row("d", "d", 3),
                                        Row("e", "e", 2), Row("a", "a", 1)]  # fmt: skip
    assert rules.top(rows, 3, "其他") == [Row("b", "b", 5), Row("c", "c", 3),
                                        Row("", "其他", 6)]  # fmt: skip


def test_latest_days_and_the_earlier_summed() -> None:
    rows = [Row(f"2020-11-0{d}", str(d), d) for d in (3, 1, 2, 4)]
    assert rules.latest(rows, 4, "更早") == sorted(rows, key=lambda r: r.key)
    assert rules.latest(rows, 3, "更早") == [Row("", "更早", 3), rows[0], rows[3]]


@pytest.mark.parametrize(
    ("text", "width"),
    [("", 0), ("abc", 3), ("先锋社区", 8), ("XF01网格", 8), ("１２", 4), ("·", 1), ("（）", 4)],
)
def test_width_counts_cjk_double(text: str, width: int) -> None:
    assert rules.width(text) == width


def test_aligned_columns() -> None:
    assert rules.aligned([("按村", "人数"), ("先锋社区", "12"), ("abc", "1234")]) == [
        "按村      人数",  # display widths: 4 + 6 + 4
        "先锋社区    12",  # 8 + 4 + 2
        "abc       1234",  # 3 + 7 + 4
    ]
    assert rules.aligned([]) == []


def test_by_day_and_days() -> None:
    q = Query("day", D(2020, 11, 1), D(2020, 11, 3))
    assert q.days == [D(2020, 11, 1), D(2020, 11, 2), D(2020, 11, 3)]
    assert rules.by_day({"2020-11-02": 4, "2020-10-31": 9}, q.days) == [0, 4, 0]
    assert q.is_arrivals and not Query("site", TODAY, TODAY).is_arrivals


def test_within_a_picked_village() -> None:
    q = Query("village", D(2020, 11, 1), TODAY, category="siwai")
    assert rules.within(q, "sq") == Query("grid", D(2020, 11, 1), TODAY, "sq", category="siwai")
    q = Query("category", D(2020, 11, 1), TODAY, "xf", "XF01", province="42")
    assert rules.within(q, "sq") == Query("category", D(2020, 11, 1), TODAY, "sq", province="42")
    assert rules.within(Query("checkin", TODAY, TODAY), "xf") == Query("checkin", TODAY, TODAY,
                                                                       "xf")  # fmt: skip
