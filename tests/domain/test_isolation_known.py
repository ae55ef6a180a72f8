"""bot.domain.isolation against answers worked out by hand: the period, the days of isolation,
rooms, the nearest site with room, the reference numbers and rooms as typed, the steps."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import isolation as iso
from bot.domain.invalid import Invalid
from bot.domain.isolation import ARRIVAL, CASE, CONTACT, Period, Ref, SiteLoad
from bot.domain.roles import Actor, can_isolate

D = date(2020, 10, 26)


# --- the period ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, tests, expected",
    [
        (date(2020, 10, 21), date(2020, 11, 3), (1, 4, 7, 14), Period(date(2020, 10, 21),
                                                                    date(2020, 11, 3),
                                                                    (1, 4, 7, 14))),
        # test days past the end are dropped, repeats once, in order
        (D, date(2020, 11, 1), (14, 7, 1, 7), Period(D, date(2020, 11, 1), (1, 7))),
        (D, D, (0, 1, 2), Period(D, D, (1,))),
    ],
)  # fmt: skip
def test_period_of(start: date, end: date, tests: tuple, expected: Period) -> None:
    assert iso.period_of(start, end, tests) == expected


def test_period_days() -> None:
    assert Period(D, date(2020, 11, 8), ()).days == 14
    assert Period(D, D, ()).days == 1


@pytest.mark.parametrize(
    "days, expected_end", [(14, date(2020, 11, 8)), (1, D), (0, D), (7, date(2020, 11, 1))]
)
def test_case_period(days: int, expected_end: date) -> None:
    assert iso.case_period(D, days, (1, 7, 14)) == iso.period_of(D, expected_end, (1, 7, 14))


@pytest.mark.parametrize(
    "start, day",
    [(D, 1), (date(2020, 10, 25), 2), (date(2020, 10, 13), 14), (date(2020, 10, 1), 26),
     (date(2020, 10, 30), 1)],
)  # fmt: skip
def test_day_of(start: date, day: int) -> None:
    assert iso.day_of(start, D) == day


def test_day_histogram() -> None:
    starts = [(D, 2), (date(2020, 10, 23), 1), (date(2020, 10, 13), 3), (date(2020, 10, 1), 4),
              (date(2020, 10, 28), 5)]  # fmt: skip
    #          day1 (2 + 5 not begun), day4, day14 (3) + later (4)
    assert iso.day_histogram(starts, D) == (7, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7)
    assert iso.day_histogram([], D) == (0,) * 14
    assert iso.day_histogram([(date(2020, 10, 24), 1)], D, span=3) == (0, 0, 1)
    assert iso.day_histogram([(date(2020, 10, 20), 1)], D, span=3) == (0, 0, 1)


# --- rooms -----------------------------------------------------------------------------------


def test_rooms() -> None:
    rooms = ("101", "102", "201", "202")
    assert iso.free_rooms(rooms, {"102", "999"}) == ("101", "201", "202")
    assert iso.first_free_room(rooms, {"101"}) == "102"
    assert iso.first_free_room(rooms, set()) == "101"
    assert iso.first_free_room(rooms, set(rooms)) is None
    assert iso.first_free_room((), set()) is None


def _load(id_: str, village: str | None = "xf", lat: float | None = None,
          lon: float | None = None, free: int = 1, order: int = 0,
          state: str = "active") -> SiteLoad:  # fmt: skip
    return SiteLoad(id_, id_, state, free + 2, 2, 0, village, lat, lon, order)


def test_site_load() -> None:
    load = SiteLoad("A", "A", "active", 10, 3, 2)
    assert (load.people, load.free, load.taking) == (5, 5, True)
    assert SiteLoad("A", "A", "active", 4, 3, 2).free == 0
    assert not SiteLoad("A", "A", "active", 5, 3, 2).taking
    assert SiteLoad("A", "A", "activating", 5, 0, 0).taking
    assert not SiteLoad("A", "A", "reserved", 5, 0, 0).taking
    assert not SiteLoad("A", "A", "closed", 5, 0, 0).taking


HOME = (29.10, 106.20)
NEAREST = [
    # same village beats a closer site elsewhere
    ([_load("FAR", "xf", 29.5, 106.9), _load("NEAR", "fh", 29.1, 106.21)], "xf", HOME, "FAR"),
    # within a village: the closer
    ([_load("B", "xf", 29.3, 106.2), _load("C", "xf", 29.11, 106.2)], "xf", HOME, "C"),
    # no village match: by distance
    ([_load("B", "sq", 29.3, 106.2), _load("C", "fh", 29.11, 106.2)], "xf", HOME, "C"),
    # a site without coordinates after those with
    ([_load("X", "xf", order=0), _load("Y", "xf", 29.9, 107.0, order=5)], "xf", HOME, "Y"),
    # no point: the config order
    ([_load("B", "xf", 29.3, 106.2, order=2), _load("C", "xf", 29.11, 106.2, order=1)],
     "xf", None, "C"),
    # full, reserved, closed sites and the excluded one are never chosen
    ([_load("FULL", free=0), _load("RES", state="reserved"), _load("SHUT", state="closed"),
      _load("SELF", order=0), _load("OK", "sq", order=9)], "xf", None, "OK"),
    # an activating site takes people
    ([_load("ACT", state="activating")], "xf", None, "ACT"),
    # nobody has room
    ([_load("FULL", free=0)], "xf", HOME, None),
    ([], "xf", HOME, None),
    # a site of no village is not "the same village" as a person of none
    ([_load("NOWHERE", None, 29.9, 107.0), _load("C", "fh", 29.11, 106.2)], None, HOME, "C"),
    # no village given: distance, then order
    ([_load("B", "xf", 29.3, 106.2), _load("C", "fh", 29.11, 106.2)], None, HOME, "C"),
]  # fmt: skip


@pytest.mark.parametrize("sites, village, point, expected", NEAREST)
def test_nearest_with_room(sites: list, village: str | None, point: tuple | None,
                           expected: str | None) -> None:  # fmt: skip
    found = iso.nearest_with_room(sites, village, point, exclude="SELF")
    assert (found.id if found else None) == expected


def test_distance_km() -> None:
    # one degree of latitude is about 111.2 km; Chongqing to Chengdu about 266 km
    assert round(iso.distance_km((29.0, 106.0), (30.0, 106.0)), 1) == 111.2
    assert 260 < iso.distance_km((29.56, 106.55), (30.66, 104.07)) < 272
    assert iso.distance_km(HOME, HOME) == 0


# --- reference numbers and rooms as typed --------------------------------------------------

REFS = [
    ("XF-MJ-20201120-0001", Ref(CONTACT, "XF-MJ-20201120-0001")),
    ("xf mj 20201120 0001", Ref(CONTACT, "XF-MJ-20201120-0001")),
    ("XFMJ202011200001", Ref(CONTACT, "XF-MJ-20201120-0001")),
    ("XF-20201026-0042", Ref(ARRIVAL, "XF-20201026-0042")),
    ("ＸＦ－２０２０１０２６－００４２", Ref(ARRIVAL, "XF-20201026-0042")),
    ("xf_20201026/0042", Ref(ARRIVAL, "XF-20201026-0042")),
    ("XF-BL-20201026-01", Ref(CASE, "XF-BL-20201026-01")),
    ("xf—bl—20201026—01", Ref(CASE, "XF-BL-20201026-01")),
    ("XFBL2020102601", Ref(CASE, "XF-BL-20201026-01")),
    ("XF-BL-20201332-01", Invalid("isolation.ref_format")),  # no 32nd of a 13th month
    ("XF-MJ-20201332-0001", Invalid("isolation.ref_format")),
    ("XF-BL-20201026-001", Invalid("isolation.ref_format")),
    ("XF-20201026-42", Invalid("isolation.ref_format")),
    ("张三", Invalid("isolation.ref_format")),
    ("", Invalid("isolation.ref_format")),
    ("X" * 200, Invalid("isolation.ref_format")),
]


@pytest.mark.parametrize("text, expected", REFS)
def test_parse_ref(text: str, expected: object) -> None:
    assert iso.parse_ref(text) == expected


_CANONICAL = st.builds(
    lambda code, kind, day, n: (
        f"{code}-{'MJ-' if kind == CONTACT else 'BL-' if kind == CASE else ''}"
        f"{day:%Y%m%d}-{n % 100:02d}" if kind == CASE else
        f"{code}-{'MJ-' if kind == CONTACT else ''}{day:%Y%m%d}-{n:04d}",
        kind,
    ),
    st.text("ABCDEFGHJKLNPQRSTUVWXYZ", min_size=1, max_size=6).filter(
        lambda c: not c.endswith(("MJ", "BL", "M", "B"))),
    st.sampled_from((CONTACT, ARRIVAL, CASE)),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    st.integers(0, 9999),
)  # fmt: skip


@given(_CANONICAL, st.sampled_from(("", " ", "-", "—")), st.booleans())
def test_parse_ref_reads_any_spelling(pair: tuple[str, str], sep: str, lower: bool) -> None:
    """A canonical number, spelt with other separators or in lower case, reads back as
    itself and names the right kind of person."""
    canonical, kind = pair
    typed = canonical.replace("-", sep)
    typed = typed.lower() if lower else typed
    assert iso.parse_ref(typed) == Ref(kind, canonical)


@given(st.text(max_size=80))
def test_parse_ref_never_raises(text: str) -> None:
    found = iso.parse_ref(text)
    assert (isinstance(found, Ref) and iso.parse_ref(found.ref) == found) or found == Invalid(
        "isolation.ref_format"
    )


ROOMS = ("101", "102", "A-201")


@pytest.mark.parametrize(
    "text, expected",
    [("101", "101"), (" 1 0 2 ", "102"), ("a-201", "A-201"), ("a—201", "A-201"),
     ("１０１", "101"), ("103", Invalid("isolation.room_unknown", {"room": "103"})),
     ("", Invalid("isolation.room_unknown", {"room": ""})),
     ("abcdefghijklmnop", Invalid("isolation.room_unknown", {"room": "ABCDEFGHIJKL"})),
     ("9" * 100, Invalid("isolation.room_unknown", {"room": ""}))],
)  # fmt: skip
def test_parse_room(text: str, expected: object) -> None:
    assert iso.parse_room(text, ROOMS) == expected


@given(st.lists(st.from_regex(r"[A-Z0-9-]{1,8}", fullmatch=True), min_size=1, unique=True),
       st.data())  # fmt: skip
def test_parse_room_reads_the_rooms(rooms: list[str], data: st.DataObject) -> None:
    """Every room of the list, typed in lower case with spaces, reads back as itself;
    anything read is one of the list."""
    room = data.draw(st.sampled_from(rooms))
    assert iso.parse_room(f" {' '.join(room.lower())} ", rooms) == room
    typed = data.draw(st.text(max_size=20))
    found = iso.parse_room(typed, rooms)
    assert found in rooms or isinstance(found, Invalid)


# --- the steps -------------------------------------------------------------------------------

FREE = {"GA": ["1", "2"], "GB": ["7"]}


def test_site_and_room_choices() -> None:
    site, room = iso.STEPS["site"], iso.STEPS["room"]
    assert site.values({"free": FREE}, None) == ("GA", "GB")
    assert room.values({"free": FREE, "site": "GB"}, None) == ("7",)
    assert room.values({"free": FREE}, None) == ()
    assert site.values({}, None) == ()
    many = {"free": {f"S{i}": [str(r) for r in range(20)] for i in range(20)}, "site": "S3"}
    assert len(site.values(many, None)) == iso.SITE_BUTTONS
    assert room.values(many, None) == tuple(str(r) for r in range(iso.ROOM_BUTTONS))


def test_apply_choice() -> None:
    data = {"free": FREE, "site": "GA", "room": "2"}
    assert iso.apply_choice(iso.STEPS["site"], "GB", data, None) == {"site": "GB", "room": None}
    assert iso.apply_choice(iso.STEPS["site"], "GZ", data, None) == Invalid("choice_stale")
    assert iso.apply_choice(iso.STEPS["room"], "1", data, None) == {"room": "1"}
    assert iso.apply_choice(iso.STEPS["room"], "7", data, None) == Invalid("choice_stale")
    assert iso.apply_choice(iso.STEPS["summary"], "submit", data, None) == {"summary": "submit"}
    assert iso.apply_choice(iso.STEPS["person"], "x", data, None) == Invalid("choice_stale")


def test_advance_and_missing() -> None:
    assert iso.advance("person", {"person": {"ref": "r"}}, {}) == ("site", {"person": {"ref": "r"}})
    assert iso.advance("site", {"site": "GA"}, {"a": 1}) == ("room", {"a": 1, "site": "GA"})
    assert iso.advance("room", {"room": "1"}, {})[0] == "summary"
    assert iso.advance("summary", {}, {})[0] == "summary"
    assert iso.missing_for_submit({}) == "person"
    assert iso.missing_for_submit({"person": {"ref": "r"}}) == "site"
    assert iso.missing_for_submit({"person": {"ref": "r"}, "site": "GA"}) == "room"
    assert iso.missing_for_submit({"person": {"ref": "r"}, "site": "GA", "room": "1"}) is None


def test_person_step_looks_the_number_up() -> None:
    found = iso.STEPS["person"].text(" xf-mj-20201120-0001 ", {}, None)
    assert found.what == "person" and found.value == Ref(CONTACT, "XF-MJ-20201120-0001")
    assert iso.STEPS["person"].text("nope", {}, None) == Invalid("isolation.ref_format")
    typed = iso.STEPS["room"].text("301", {}, None)
    assert (typed.what, typed.value) == ("room", "301")


def test_subject() -> None:
    assert iso.subject(42) == "stay:42"


@pytest.mark.parametrize(
    "actor, grid, expected",
    [
        (Actor(1, worker_grids=frozenset({"XF01"})), "XF01", True),
        (Actor(1, worker_grids=frozenset({"XF01"})), "XF02", False),
        (Actor(1, admin_villages=frozenset({"xf"})), "XF02", True),
        (Actor(1, admin_villages=frozenset({"sq"})), "XF02", False),
        (Actor(1, is_leader=True), "SQ01", True),
        (Actor(1, is_admin=True), "SQ01", True),
        (Actor(1, site_ids=frozenset({"GA"})), "XF01", False),  # a site manager assigns nobody
        (Actor(1, is_dispatcher=True), "XF01", False),
        (Actor(1), "XF01", False),
    ],
)
def test_who_may_isolate(actor: Actor, grid: str, expected: bool) -> None:
    village_of = {"XF01": "xf", "XF02": "xf", "SQ01": "sq"}.get
    assert can_isolate(actor, grid, village_of) is expected
