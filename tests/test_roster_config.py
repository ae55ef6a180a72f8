"""``[staff]`` (bot/config.py): the plan's categories and skills by default, a town's own
added with their names, and each mistake reported with its key path."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import load_config, parse_config
from tests.test_config import EXAMPLE, ROOT, example, problems_of

PLAN = ("zongzhi", "grid_leader", "party_group", "grid_worker", "building", "volunteer",
        "social_worker", "medical", "cadre")  # fmt: skip


def with_staff(**staff: Any) -> dict[str, Any]:
    data = example()
    data["staff"] = staff
    return data


def test_the_defaults_are_the_plans() -> None:
    data = example()
    data.pop("staff", None)
    config = parse_config(data, ROOT)
    assert config.staff.category_ids() == PLAN
    assert config.staff.skill_ids() == ("driver", "medical", "uyghur", "english")


def test_the_example_adds_a_skill_of_its_own() -> None:
    config = load_config(EXAMPLE)
    assert config.staff.category_ids() == PLAN
    [own] = [k for k in config.staff.skills if k.id == "disinfect"]
    assert (own.name, own.name_en) == ("消杀", "disinfection")


def test_a_town_chooses_and_names_its_own() -> None:
    police = {"id": "police", "name": "民警", "name_en": "police"}
    config = parse_config(with_staff(categories=[{"id": "cadre"}, police], skills=[]), ROOT)
    assert config.staff.category_ids() == ("cadre", "police")
    assert config.staff.skill_ids() == ()


@pytest.mark.parametrize(
    ("staff", "expected"),
    [
        ({"categories": [{"id": "cadre"}, {"id": "cadre"}]},
         "staff.categories[1].id: duplicate category \"cadre\""),
        ({"skills": [{"id": "driver"}, {"id": "driver", "name": "司机", "name_en": "driver"}]},
         "staff.skills[1].id: duplicate skill \"driver\""),
        ({"categories": [{"id": "police", "name": "民警"}]},
         "staff.categories[0]: category \"police\" is not built in: give it a name and a name_en"),
        ({"skills": [{"id": "boat"}]},
         "staff.skills[0]: skill \"boat\" is not built in: give it a name and a name_en"),
        ({"categories": [{"id": "Cadre"}]},
         'staff.categories[0].id: "Cadre" is not a valid id (1–16 of a-z, 0-9, _)'),
        ({"categories": []}, "staff.categories: must not be empty"),
        ({"skills": [{"id": "x", "name": "一二三四五六七八九十一二三", "name_en": "x"}]},
         "staff.skills[0].name: must be at most 12 characters, not \"一二三四五六七八九十一二三\""),
        ({"ranks": []}, 'staff: unknown key "ranks"'),
    ],
)  # fmt: skip
def test_staff_problems(staff: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(with_staff(**staff))
