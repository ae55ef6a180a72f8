"""bot/domain/roster.py: the join link's payload (a hypothesis test of the parser), who may
file whom, the default category, skills toggled, the audit's account of a change, and the
人员档案 form's steps — known answers written out by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import roster
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor

TOKEN = "A" * 22
CTX = roster.Context(categories=("cadre", "volunteer"), skills=("driver", "english"),
                     grids={"xf": ("XF01", "XF02"), "sq": ("SQ01",)})  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (f"r-{TOKEN}", TOKEN),
        ("r-" + "a_b-" * 4, "a_b-" * 4),  # 16: the shortest
        ("r-" + "x" * 62, "x" * 62),  # 64 bytes in all: the longest payload
        ("r-" + "x" * 63, None),
        ("r-" + "x" * 15, None),
        (f"inv-{TOKEN}", None),
        (f"R-{TOKEN}", None),
        (f"r-{TOKEN[:-1]}!", None),
        ("r-", None),
        ("", None),
        (None, None),
    ],
)  # fmt: skip
def test_join_payload(payload: str | None, expected: str | None) -> None:
    assert roster.parse_join_payload(payload) == expected


@given(st.text(alphabet="ABCxyz019_-", min_size=16, max_size=62))
def test_a_join_link_made_is_a_join_link_read(token: str) -> None:
    link = roster.join_link("paicha_bot", token)
    payload = link.split("?start=", 1)[1]
    assert len(payload.encode()) <= 64 and roster.parse_join_payload(payload) == token


@given(st.text(max_size=80))
def test_any_payload_is_read_as_a_token_or_refused(payload: str) -> None:
    token = roster.parse_join_payload(payload)
    assert token is None or (payload == f"r-{token}" and 16 <= len(token) <= 62)


ADMIN = Actor(1, is_admin=True)
LEADER = Actor(2, is_leader=True)
VADMIN = Actor(3, admin_villages=frozenset({"xf"}))
WORKER = Actor(4, worker_grids=frozenset({"XF01"}))


@pytest.mark.parametrize(
    ("actor", "village", "files", "views"),
    [
        (ADMIN, "sq", True, True),
        (ADMIN, None, True, True),
        (LEADER, "sq", True, True),
        (LEADER, None, True, True),
        (VADMIN, "xf", True, True),
        (VADMIN, "sq", False, True),
        (VADMIN, None, False, True),  # the town's own staff: leaders'
        (WORKER, "xf", False, False),
        (Actor(5), "xf", False, False),
    ],
)  # fmt: skip
def test_who_files_whom(actor: Actor, village: str | None, files: bool, views: bool) -> None:
    assert roster.may_file(actor, village) is files
    assert roster.may_view(actor) is views


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (["worker"], "grid_worker"),
        (["village_admin"], "zongzhi"),
        (["village_admin", "worker"], "grid_worker"),  # a worker first: the commoner
        (["site_manager"], None),
        (["crew", "dispatcher"], None),
        ([], None),
    ],
)  # fmt: skip
def test_default_category(roles: list[str], expected: str | None) -> None:
    assert roster.default_category(roles) == expected


@pytest.mark.parametrize(
    ("own", "keeps"),
    [
        (None, False),  # no file: the link's is theirs
        ({"active": 1, "created_by": 7}, True),  # an admin's file stands
        ({"active": 1, "created_by": None}, False),  # made when they joined as staff
        ({"active": 0, "created_by": 7}, False),  # deactivated
        ({"active": 0, "created_by": None}, False),
    ],
)  # fmt: skip
def test_keeps_own_file(own: dict | None, keeps: bool) -> None:
    assert roster.keeps_own_file(own) is keeps


@pytest.mark.parametrize(
    ("held", "skill", "expected"),
    [
        ((), "driver", ("driver",)),
        (("driver",), "driver", ()),
        (("english",), "driver", ("driver", "english")),  # the config's order
        (("driver", "english"), "english", ("driver",)),
        (("boat", "english"), "driver", ("driver", "english", "boat")),  # kept, after
        (("driver",), "boat", Invalid("choice_stale")),
    ],
)  # fmt: skip
def test_toggle(held: tuple[str, ...], skill: str, expected: object) -> None:
    assert roster.toggle(held, skill, ("driver", "english")) == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [('["driver", "english"]', ("driver", "english")), ("[]", ()), (None, ()), ("", ()),
     ("not json", ()), ('{"a": 1}', ()), ('["driver", 3]', ("driver",))],
)  # fmt: skip
def test_skills_of(stored: str | None, expected: tuple[str, ...]) -> None:
    assert roster.skills_of(stored) == expected


def test_changed_and_its_audit_detail() -> None:
    before = {"availability": "available", "skills": ("driver",), "phone": "13900000000",
              "village_id": None, "category": "cadre"}  # fmt: skip
    changes = {"availability": "busy", "skills": ("driver", "english"), "phone": "13700000000",
               "village_id": "xf", "category": "cadre"}  # fmt: skip
    real = roster.changed(before, changes)
    assert set(real) == {"availability", "skills", "phone", "village_id"}
    assert roster.audit_detail(before, real) == (
        "availability:available->busy;phone:changed;skills:driver->driver,english;village_id:->xf"
    )
    assert roster.changed(before, {"availability": "available"}) == {}


def walk(presses: list[tuple[str, str]]) -> tuple[str, dict]:
    """Answer the form's buttons in order from the category; (the open step, the answers)."""
    step, data = "category", {"name": "赵六", "phone": "13912345678", "villages": ["xf", "sq"]}
    for key, value in presses:
        assert step == key, (step, key)
        updates = roster.apply_choice(roster.STEPS[step], value, data, CTX)
        assert not isinstance(updates, Invalid), (key, value, updates)
        step, data = roster.advance(step, updates, data)
    return step, data


def test_the_form_asks_each_step_in_turn_and_the_skills_until_done() -> None:
    step, data = walk([("category", "cadre"), ("village_id", "xf"), ("grid_id", "XF02"),
                       ("skills", "driver"), ("skills", "english"), ("skills", "driver"),
                       ("skills", "done"), ("availability", "busy")])  # fmt: skip
    assert step == "summary"
    assert {k: data[k] for k in ("category", "village_id", "grid_id", "skills", "availability")} \
        == {"category": "cadre", "village_id": "xf", "grid_id": "XF02", "skills": ["english"],
            "availability": "busy"}  # fmt: skip
    assert roster.missing_step(data) is None


def test_no_grid_and_no_skills() -> None:
    step, data = walk([("category", "volunteer"), ("village_id", "sq"), ("grid_id", "skip"),
                       ("skills", "done")])  # fmt: skip
    assert (step, data["grid_id"], data["skills"]) == ("availability", None, [])


@pytest.mark.parametrize(
    ("step", "value", "data"),
    [
        ("village_id", "tp", {"villages": ["xf"]}),  # not one the admin may file for
        ("grid_id", "SQ01", {"village_id": "xf"}),  # another village's grid
        ("category", "medical", {}),  # not configured
        ("skills", "uyghur", {}),
        ("availability", "asleep", {}),
    ],
)  # fmt: skip
def test_a_choice_not_offered_is_stale(step: str, value: str, data: dict) -> None:
    assert roster.apply_choice(roster.STEPS[step], value, data, CTX) == Invalid("choice_stale")


def test_the_grids_offered_are_the_villages_and_a_changed_village_drops_the_grid() -> None:
    assert roster.STEPS["grid_id"].values({"village_id": "xf"}, CTX) == ("XF01", "XF02", "skip")
    data = {"village_id": "xf", "grid_id": "XF01"}
    updates = roster.apply_choice(roster.STEPS["village_id"], "sq", {**data, "villages": ["sq"]},
                                  CTX)  # fmt: skip
    step, merged = roster.advance("village_id", updates, data)
    assert (step, merged["village_id"], "grid_id" in merged) == ("grid_id", "sq", False)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, "name"),
        ({"name": "a"}, "phone"),
        ({"name": "a", "phone": "1", "category": "c", "village_id": "xf"}, "grid_id"),
        ({"name": "a", "phone": "1", "category": "c", "village_id": "xf", "grid_id": None},
         "availability"),
    ],
)  # fmt: skip
def test_missing_step(data: dict, expected: str) -> None:
    assert roster.missing_step(data) == expected
