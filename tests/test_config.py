import copy
import re
import tomllib
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import (
    RISK_CATEGORIES,
    Config,
    ConfigError,
    load_config,
    parse_config,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
EXAMPLE_DATA: dict[str, Any] = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_DATA)


def problems_of(data: dict[str, Any], base_dir: Path = ROOT) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, base_dir)
    assert str(info.value) == info.value.problems[0]
    return info.value.problems


# --- the example config ------------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(EXAMPLE)


def test_example_town_and_bot(config: Config) -> None:
    assert config.town.name == "先锋镇"
    assert config.town.code == "XF"
    assert config.town.region == "重庆市 江津区"
    assert config.town.health_code == "渝康码"
    assert config.tz == ZoneInfo("Asia/Shanghai")
    assert config.bot.api_base_url == "https://api.telegram.org/bot"
    assert config.bot.api_file_url == ""
    assert config.bot.file_url == "https://api.telegram.org/file/bot"
    assert config.bot.database == ROOT / "var" / "paicha.sqlite3"
    assert config.bot.default_locale == "zh_CN"
    assert config.bot.conversation_timeout_minutes == 30
    assert config.bot.poll_timeout_seconds == 30
    assert config.bot.clock_file is None


def test_example_sections(config: Config) -> None:
    assert config.leadership.chat_id == -1001234567890
    assert config.leadership.admins == (10001,)
    assert config.arrival.id_number == "required"
    assert (config.arrival.max_days_back, config.arrival.lookback_days) == (30, 14)
    assert config.arrival.max_companions == 10
    assert config.regions.file == ROOT / "data" / "regions.toml"
    assert config.outbox.rate_per_second == 25
    assert (config.outbox.group_per_minute, config.outbox.max_age_hours) == (20, 24)
    assert config.outbox.concurrency == 8
    assert config.schedule.digest == (time(8), time(20))
    assert config.schedule.checkin == (time(9), time(20))


def test_example_villages_and_grids(config: Config) -> None:
    assert [v.id for v in config.villages] == ["xf", "sq", "sp", "fh", "bsp", "cl"]
    village = config.village("sq")
    assert village is not None and village.name == "石桥村"
    assert config.village("nope") is None
    found = config.grid("FH02")
    assert found is not None
    assert found[0].id == "fh" and found[1].name == "凤凰村第2网格" and found[1].workers == ()
    assert config.grid("XX99") is None
    assert [(u.id, u.kind, u.village) for u in config.key_units] == [
        ("park", "enterprise", "xf"),
        ("jnvs", "school", "sq"),
        ("xfhotel", "hotel", "xf"),
        ("bpms", "homestay", "bsp"),
        ("fhnjl", "farmstay", "fh"),
    ]


def test_example_measures(config: Config) -> None:
    measures = config.measures
    assert isinstance(measures, Mapping)
    assert list(measures) == list(RISK_CATEGORIES)
    assert len(measures) == 8 and "overseas" in measures and "mars" not in measures
    assert measures["overseas"].kind == "centralized_isolation"
    assert measures["overseas"].test_days == (1, 7, 14)
    assert measures["overseas"].alert is True
    assert measures["low"].test_days == () and measures["low"].alert is False
    assert measures["quarantine_done"].days == 7
    assert dict(measures.items())["symptomatic"].kind == "medical_care"
    with pytest.raises(KeyError):
        measures["mars"]


def test_risk_categories_order() -> None:
    assert RISK_CATEGORIES == (
        "symptomatic",
        "overseas",
        "high_risk",
        "red_code",
        "medium_risk",
        "yellow_code",
        "quarantine_done",
        "low",
    )


def test_config_is_frozen(config: Config) -> None:
    with pytest.raises(ValueError):
        config.town.code = "ZZ"  # type: ignore[misc]


def test_defaults_when_optional_sections_are_absent(tmp_path: Path) -> None:
    data = example()
    for section in ("bot", "arrival", "outbox", "key_units"):
        del data[section]
    data["regions"]["file"] = str(ROOT / "data" / "regions.toml")
    config = parse_config(data, tmp_path)
    assert config.bot.database == tmp_path / "var" / "paicha.sqlite3"
    assert config.arrival.max_companions == 10
    assert config.outbox.rate_per_second == 25
    assert config.key_units == ()


def test_relative_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "regions.toml").write_text("")
    data = example()
    data["regions"]["file"] = "regions.toml"
    data["bot"]["clock_file"] = "clock.txt"
    config = parse_config(data, tmp_path)
    assert config.regions.file == tmp_path / "regions.toml"
    assert config.bot.clock_file == tmp_path / "clock.txt"


def test_self_hosted_bot_api_file_url() -> None:
    data = example()
    data["bot"]["api_base_url"] = "http://127.0.0.1:8081/bot"
    assert parse_config(data, ROOT).bot.file_url == "http://127.0.0.1:8081/file/bot"
    data["bot"]["api_file_url"] = "http://files.local/f/bot"
    assert parse_config(data, ROOT).bot.file_url == "http://files.local/f/bot"


def test_schedule_times_are_sorted() -> None:
    data = example()
    data["schedule"] = {"digest": ["20:00", "07:30", "20:00"], "checkin": []}
    schedule = parse_config(data, ROOT).schedule
    assert schedule.digest == (time(7, 30), time(20))
    assert schedule.checkin == ()


def test_escalation_ladder_defaults_and_per_kind_ladders() -> None:
    data = example()
    data.pop("escalation", None)  # a config from before the ladder still loads
    escalation = parse_config(data, ROOT).escalation
    assert [(s.to, s.after_minutes) for s in escalation.ladder("arrival")] == [
        ("assignee", 0), ("village_admin", 60), ("leadership", 120)]  # fmt: skip
    data["escalation"] = {"fever": [{"to": "village_admin", "after_minutes": 30},
                                    {"to": "leadership", "after_minutes": 30}]}  # fmt: skip
    escalation = parse_config(data, ROOT).escalation
    assert [(s.to, s.after_minutes) for s in escalation.ladder("fever")] == [
        ("village_admin", 30), ("leadership", 30)]  # fmt: skip
    assert escalation.ladder("tip") == escalation.steps


# --- each kind of problem ----------------------------------------------------------------


DELETE = object()


def _keys(path: str) -> list[str | int]:
    """ "villages[1].grids[0].id" -> ["villages", 1, "grids", 0, "id"]"""
    parts = re.findall(r"\[\d+\]|[^.\[\]]+", path)
    return [int(p[1:-1]) if p.startswith("[") else p for p in parts]


def changed(path: str, value: Any) -> dict[str, Any]:
    """The example config with the value at `path` set (or deleted if value is DELETE)."""
    data = example()
    *parents, last = _keys(path)
    target: Any = data
    for key in parents:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return data


CASES: list[tuple[str, Any, str]] = [
    ("town.name", DELETE, "town.name: missing"),
    ("town.name", "  ", "town.name: must not be empty"),
    ("town.code", "xf", 'town.code: "xf" is not a valid town code (1–6 letters A-Z)'),
    ("town.code", "XFTOWNS", 'town.code: "XFTOWNS" is not a valid town code'),
    ("town.timezone", "Mars/Base", 'town.timezone: "Mars/Base" is not a time zone'),
    ("town.timezone", "", 'town.timezone: "" is not a time zone'),
    ("town.health_code", " ", "town.health_code: must not be empty"),
    ("town.health_code", "健" * 21, "town.health_code: must be at most 20 characters"),
    ("town.health_code", 5, "town.health_code: must be a string, not 5"),
    ("town.foo", 1, 'town: unknown key "foo"'),
    ("colour", "red", 'unknown key "colour"'),
    ("bot.api_base_url", "ftp://x/bot", 'bot.api_base_url: "ftp://x/bot" must start'),
    ("bot.api_base_url", "http://x/api", "bot.api_file_url: needed: api_base_url does"),
    ("bot.api_file_url", "files", 'bot.api_file_url: "files" must start with http'),
    ("bot.default_locale", "fr", 'bot.default_locale: must be one of: zh_CN, en; not "fr"'),
    (
        "bot.conversation_timeout_minutes",
        0,
        "bot.conversation_timeout_minutes: must be at least 1, not 0",
    ),
    ("bot.poll_timeout_seconds", 51, "bot.poll_timeout_seconds: must be at most 50, not 51"),
    ("bot.poll_timeout_seconds", "30", 'bot.poll_timeout_seconds: must be an integer, not "30"'),
    ("bot.poll_timeout_seconds", True, "bot.poll_timeout_seconds: must be an integer, not true"),
    ("bot.database", "", "bot.database: must not be empty"),
    ("bot.database", 5, "bot.database: must be a file path (a string), not 5"),
    ("leadership.chat_id", 42, "leadership.chat_id: must be a negative group chat id, not 42"),
    ("leadership.admins", [1, 0], "leadership.admins[1]: must be a positive user id, not 0"),
    ("leadership.admins", 10001, "leadership.admins: must be a list, not 10001"),
    ("leadership.admins", DELETE, "leadership.admins: missing"),
    (
        "arrival.id_number",
        "maybe",
        'arrival.id_number: must be one of: required, optional; not "maybe"',
    ),
    ("arrival.max_days_back", 366, "arrival.max_days_back: must be at most 365, not 366"),
    ("arrival.lookback_days", 1.5, "arrival.lookback_days: must be an integer, not 1.5"),
    ("arrival.max_companions", -1, "arrival.max_companions: must be at least 0, not -1"),
    ("outbox.rate_per_second", 0, "outbox.rate_per_second: must be greater than 0, not 0"),
    ("outbox.rate_per_second", 31.5, "outbox.rate_per_second: must be at most 30, not 31.5"),
    ("outbox.rate_per_second", float("inf"), "outbox.rate_per_second: must be a finite number"),
    ("outbox.group_per_minute", 21, "outbox.group_per_minute: must be at most 20, not 21"),
    ("outbox.concurrency", 0, "outbox.concurrency: must be at least 1, not 0"),
    ("outbox.max_age_hours", 0, "outbox.max_age_hours: must be greater than 0, not 0"),
    ("schedule.digest", ["08:00", "25:00"], 'schedule.digest[1]: "25:00" is not HH:MM'),
    ("schedule.checkin", ["8:00"], 'schedule.checkin[0]: "8:00" is not HH:MM'),
    ("schedule.digest", [800], "schedule.digest[0]: 800 is not HH:MM"),
    (
        "schedule.tip_deadline_hours",
        0,
        "schedule.tip_deadline_hours: must be greater than 0, not 0",
    ),
    ("escalation.steps", [], "escalation.steps: must not be empty"),
    ("escalation.steps", "assignee", 'escalation.steps: must be a list, not "assignee"'),
    (
        "escalation.steps",
        [{"to": "boss", "after_minutes": 0}],
        'escalation.steps[0].to: must be one of: assignee, village_admin, leadership; not "boss"',
    ),
    (
        "escalation.steps",
        [{"to": "assignee", "after_minutes": -5}],
        "escalation.steps[0].after_minutes: must be at least 0, not -5",
    ),
    (
        "escalation.steps",
        [{"to": "assignee", "after_minutes": 60}, {"to": "leadership", "after_minutes": 30}],
        "escalation.steps[1].after_minutes: 30 is earlier than the step before (60)",
    ),
    ("escalation.tip", [{"to": "assignee"}], "escalation.tip[0].after_minutes: missing"),
    (
        "escalation.fever",
        [{"to": "leadership", "after_minutes": 0, "chat": 1}],
        'escalation.fever[0]: unknown key "chat"',
    ),
    ("escalation.cases", [], 'escalation: unknown key "cases"'),
    ("villages", [], "villages: must not be empty"),
    ("villages", DELETE, "villages: missing"),
    (
        "villages[2].id",
        "Shi Qiao",
        'villages[2].id: "Shi Qiao" is not a valid id (1–16 of a-z, 0-9, _)',
    ),
    ("villages[1].id", "shiqiao", 'key_units[1].village: no village with id "sq"'),
    ("villages[2].id", "xf", 'villages[2].id: duplicate village id "xf"'),
    ("villages[1].grids", [], "villages[1].grids: must not be empty"),
    ("villages[1].grids[0].id", "XF01", 'villages[1].grids[0].id: duplicate grid id "XF01"'),
    (
        "villages[1].grids[0].id",
        "x1",
        'villages[1].grids[0].id: "x1" is not a valid grid id (2–8 of A-Z, 0-9)',
    ),
    (
        "villages[1].grids[0].workers",
        [1, 2, "3"],
        'villages[1].grids[0].workers[2]: must be an integer, not "3"',
    ),
    ("villages[1].grids[0].wokers", [1], 'villages[1].grids[0]: unknown key "wokers"'),
    ("villages[0]", "xf", 'villages[0]: must be a table, not "xf"'),
    ("key_units[1].village", "zz", 'key_units[1].village: no village with id "zz"'),
    ("key_units[1].id", "park", 'key_units[1].id: duplicate key unit id "park"'),
    (
        "key_units[0].kind",
        "mall",
        "key_units[0].kind: must be one of: enterprise, school, hotel, homestay, rental, "
        'farmstay, other; not "mall"',
    ),
    ("measures.overseas.days", 61, "measures.overseas.days: must be at most 60, not 61"),
    (
        "measures.overseas.kind",
        "prison",
        "measures.overseas.kind: must be one of: centralized_isolation, ",
    ),
    ("measures.overseas.alert", "yes", 'measures.overseas.alert: must be true or false, not "yes"'),
    (
        "measures.overseas.test_days",
        [1, 15],
        "measures.overseas.test_days[1]: day 15 is not within 1..14 (days)",
    ),
    (
        "measures.overseas.test_days",
        [0],
        "measures.overseas.test_days[0]: day 0 is not within 1..14 (days)",
    ),
    (
        "measures.overseas.test_days",
        [7, 7],
        "measures.overseas.test_days[1]: day 7 is listed twice",
    ),
    (
        "measures.overseas.test_days",
        [7, 1],
        "measures.overseas.test_days[1]: test days must be in ascending order",
    ),
    ("measures.low", DELETE, "measures.low: missing"),
    ("measures.mild", {}, 'measures: unknown key "mild"'),
    (
        "regions.file",
        "data/nope.toml",
        f"regions.file: no such file: {ROOT / 'data' / 'nope.toml'}",
    ),
    ("regions.file", "data", f"regions.file: not a file: {ROOT / 'data'}"),
]


@pytest.mark.parametrize(("path", "value", "expected"), CASES)
def test_each_problem_has_path_and_message(path: str, value: Any, expected: str) -> None:
    problems = problems_of(changed(path, value))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_every_problem_is_listed() -> None:
    data = example()
    data["town"]["timezone"] = "Mars/Base"
    data["schedule"] = {"digest": ["08:00", "25:00"]}
    data["villages"][1]["grids"][0]["id"] = "XF01"
    data["villages"][2]["grids"][0]["workers"] = [1, 2, -3]
    data["measures"]["overseas"]["test_days"] = [1, 7, 21]
    data["bot"]["foo"] = 1
    del data["leadership"]
    assert sorted(problems_of(data)) == sorted(
        [
            'town.timezone: "Mars/Base" is not a time zone',
            'bot: unknown key "foo"',
            "leadership: missing",
            'schedule.digest[1]: "25:00" is not HH:MM',
            "villages[2].grids[0].workers[2]: must be a positive user id, not -3",
            'villages[1].grids[0].id: duplicate grid id "XF01"',
            "measures.overseas.test_days[2]: day 21 is not within 1..14 (days)",
        ]
    )


def test_not_a_table_at_all() -> None:
    assert problems_of({"town": 3})[0] == "town: must be a table, not 3"
    assert "villages: missing" in problems_of({})


# --- files ------------------------------------------------------------------------------


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert info.value.problems == ["no such file"]


def test_load_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[town]\nname = "x"\ncode = XF\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("TOML syntax error: ")
    assert "line 3" in info.value.problems[0]


def test_load_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes("[town]\nname = '先锋镇'\n".encode("gbk"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0].startswith("not UTF-8 text")


def test_load_resolves_against_config_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "regions.toml").write_text("")
    path = tmp_path / "paicha.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(path)
    assert config.regions.file == tmp_path / "data" / "regions.toml"
    assert config.bot.database == tmp_path / "var" / "paicha.sqlite3"


def test_load_reports_missing_regions_file(tmp_path: Path) -> None:
    path = tmp_path / "paicha.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [f"regions.file: no such file: {tmp_path / 'data/regions.toml'}"]


def test_load_reports_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "paicha.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("concurrency = 8", "concurency = 8")
    path.write_text(text.replace('"data/regions.toml"', repr(str(ROOT / "data/regions.toml"))))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ['outbox: unknown key "concurency"']


def test_the_replaced_max_attempts_is_refused_with_its_replacement(tmp_path: Path) -> None:
    """A config written for an older paicha: the option no longer does anything, so say what
    replaced it rather than ignore it."""
    path = tmp_path / "paicha.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("[outbox]\n", "[outbox]\nmax_attempts = 8\n")
    path.write_text(text.replace('"data/regions.toml"', repr(str(ROOT / "data/regions.toml"))))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        "outbox: max_attempts is no longer used: a message is retried until it is "
        "max_age_hours old (default 24); remove max_attempts"
    ]


# --- property ---------------------------------------------------------------------------

HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@given(
    st.lists(st.one_of(st.text(max_size=8), st.from_regex(r"\A[0-9]{2}:[0-9]{2}\Z")), max_size=4)
)
def test_digest_times_accepted_exactly_when_hhmm(entries: list[str]) -> None:
    data = example()
    data["schedule"] = {"digest": entries}
    valid = all(HHMM.fullmatch(e) for e in entries)
    try:
        config = parse_config(data, ROOT)
    except ConfigError as exc:
        assert not valid
        bad = [i for i, e in enumerate(entries) if not HHMM.fullmatch(e)]
        assert [p.split(":")[0] for p in exc.problems] == [f"schedule.digest[{i}]" for i in bad]
    else:
        assert valid
        expected = {time(int(e[:2]), int(e[3:])) for e in entries}
        assert config.schedule.digest == tuple(sorted(expected))
