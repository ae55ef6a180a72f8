"""The health code's name comes from the config (``town.health_code``): 渝康码 in Chongqing,
other names elsewhere; every template says it through the renderer's ``health_code``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.runtime.render import Renderer
from tests.conftest import ROOT
from tests.harness import Harness
from tests.test_arrival_flow import RESIDENT, answer_to_summary


def _example() -> dict:
    return tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))


def test_the_default_is_chongqings_name() -> None:
    data = _example()
    del data["town"]["health_code"]
    assert parse_config(data, ROOT).town.health_code == "渝康码"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh_CN", "粤康码现在是什么颜色？"),
        ("en", "What colour is your health code (粤康码) right now?"),
    ],
)
def test_the_question_names_the_towns_health_code(locale: str, expected: str) -> None:
    text = Renderer(health_code="粤康码").text(
        locale, "arrivals", "ask_health_code", data={}, required=True
    )
    assert text == expected


def test_no_template_names_a_health_code_of_its_own() -> None:
    """渝康码 is a Chongqing word: it may come only from the config."""
    for path in (ROOT / "templates").rglob("*.j2"):
        assert "渝康码" not in path.read_text(encoding="utf-8"), path


async def test_a_town_elsewhere_asks_for_its_own_code(config: Config, clock, tmp_path: Path):
    town = config.town.model_copy(update={"health_code": "粤康码"})
    h = await Harness.start(config.model_copy(update={"town": town}), tmp_path / "db", clock)
    try:
        await answer_to_summary(h)
        asked = [t for t in h.texts(RESIDENT) if "现在是什么颜色" in t]
        assert asked and all("粤康码" in t and "渝康码" not in t for t in asked)
    finally:
        await h.stop()
