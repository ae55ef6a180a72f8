"""``[[sites]]`` and ``schedule.site_activation_hours`` in the config: parsed, and every mistake
reported with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import parse_config
from tests.test_config import DELETE, ROOT, changed, example, problems_of


def test_example_sites() -> None:
    config = parse_config(example(), ROOT)
    gl01, gl02 = config.sites
    assert (gl01.id, gl01.village, gl01.places, gl01.rooms[:2]) == (
        "GL01",
        "xf",
        10,
        ("101", "102"),
    )
    assert (gl02.rooms[0], gl02.rooms[-1], len(gl02.rooms), gl02.places) == ("1", "20", 20, 18)
    assert (40001, "site_manager", "GL01") in config.listed_staff()
    assert config.site("GL02") is gl02 and config.site("GL09") is None
    assert config.schedule.site_activation_hours == 24
    assert config.escalation.site is None


def test_sites_are_optional() -> None:
    data = example()
    del data["sites"]
    assert parse_config(data, ROOT).sites == ()


CASES: list[tuple[str, Any, str]] = [
    ("sites[0].id", "gl01", 'sites[0].id: "gl01" is not a valid site id (2–8 of A-Z, 0-9)'),
    ("sites[1].id", "GL01", 'sites[1].id: duplicate site id "GL01"'),
    ("sites[0].name", " ", "sites[0].name: must not be empty"),
    ("sites[0].address", DELETE, "sites[0].address: missing"),
    ("sites[0].village", "zz", 'sites[0].village: no village with id "zz"'),
    ("sites[0].rooms", [], "sites[0].rooms: must not be empty"),
    ("sites[0].rooms", 0, "sites[0].rooms: a room count must be within 1..2000, not 0"),
    ("sites[0].rooms", "10", 'sites[0].rooms: must be a list, not "10"'),
    ("sites[0].rooms[1]", "101", 'sites[0].rooms[1]: room "101" is listed twice'),
    ("sites[0].rooms[1]", "1 02",
     'sites[0].rooms[1]: "1 02" is not a valid room number (1–8 of A-Z, 0-9, -)'),
    ("sites[1].capacity", 21, "sites[1].capacity: 21 is more than its 20 rooms "
                              "(a room holds one person)"),
    ("sites[1].capacity", -1, "sites[1].capacity: must be at least 0, not -1"),
    ("sites[0].state", "activating", 'sites[0].state: must be one of: reserved, active; '
                                     'not "activating"'),
    ("sites[0].managers", [0], "sites[0].managers[0]: must be a positive user id, not 0"),
    ("sites[0].latitude", DELETE, "sites[0]: latitude and longitude go together"),
    ("sites[0].latitude", 91.0, "sites[0].latitude: must be at most 90, not 91.0"),
    ("sites[0].beds", 3, 'sites[0]: unknown key "beds"'),
    ("schedule.site_activation_hours", 0, "schedule.site_activation_hours: must be greater "
                                          "than 0, not 0"),
    ("escalation.site", [{"to": "leadership", "after_minutes": 5},
                         {"to": "assignee", "after_minutes": 1}],
     "escalation.site[1].after_minutes: 1 is earlier than the step before (5); steps must be "
     "in ascending order"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "expected"), CASES)
def test_each_site_problem_has_its_path(path: str, value: Any, expected: str) -> None:
    assert problems_of(changed(path, value)) == [expected]


def test_an_escalation_site_ladder_replaces_the_default(tmp_path: Path) -> None:
    steps = [{"to": "leadership", "after_minutes": 0}]
    config = parse_config(changed("escalation.site", steps), ROOT)
    assert [(s.to, s.after_minutes) for s in config.escalation.ladder("site")] == [
        ("leadership", 0)
    ]
