"""The town of config.example.toml as sandbox people, the drill clock and the config copy."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from bot.config import load_config
from sandbox.clock import DrillClock
from sandbox.run import dump_toml, sandbox_config
from sandbox.state import SandboxState
from sandbox.world import LEADERS_KEY, reset_state, seed

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_seed_from_example_config() -> None:
    config = load_config(EXAMPLE)
    state = SandboxState()
    world = seed(state, config)
    roles = [p.role for p in world.people.values()]
    assert roles.count("resident") == 4 and roles.count("neighbour") == 1
    assert world.person("resident_en").language == "en"
    assert state.users[world.person("resident_en").user_id].language_code == "en"
    # every configured worker, village admin and leader is a person, with the configured id
    workers = {w for v in config.villages for g in v.grids for w in g.workers}
    admins = {a for v in config.villages for a in v.admins}
    ids = {p.user_id for p in world.people.values()}
    assert workers | admins | set(config.leadership.admins) <= ids
    worker = world.person("worker_XF01")
    assert worker.user_id == 30001 and worker.label.startswith("网格员 ")
    assert worker.label.endswith("(XF01)")
    assert world.person("admin_xf").user_id == 20001
    assert world.person("leader").user_id == config.leadership.admins[0]
    # staff have opened the bot; residents have not
    assert state.users[30001].started and not state.users[world.person("resident1").user_id].started
    group = state.chats[config.leadership.chat_id]
    assert group.type == "supergroup" and "领导小组" in (group.title or "")
    assert set(config.leadership.admins) | admins <= set(group.members)
    assert world.chat_keys()[LEADERS_KEY] == config.leadership.chat_id
    assert ("a-XF01", "先锋社区第1网格（网格二维码）") in world.payloads


def test_reset_state_keeps_the_object_and_empties_it() -> None:
    config = load_config(EXAMPLE)
    state = SandboxState()
    world = seed(state, config)
    resident = world.person("resident1").user_id
    state.user_sends_text(resident, None, "/start")
    assert state.pending_update_count == 1
    reset_state(state, config)
    assert state.pending_update_count == 0 and state.messages(resident) == []
    assert not state.closed and not state.users[resident].started


def test_drill_clock_speed_jump_reset(tmp_path: Path) -> None:
    wall = [1000.0]
    clock = DrillClock(tmp_path / "clock.json", wall=lambda: wall[0])
    start = datetime(2020, 11, 20, 1, 0, tzinfo=UTC)
    clock.reset(start)
    assert clock.now() == start
    clock.speed(144)
    wall[0] += 10  # ten real seconds = 24 virtual minutes
    assert (clock.now() - start).total_seconds() == 1440
    clock.jump(60)
    assert (clock.now() - start).total_seconds() == 1440 + 3600
    data = json.loads((tmp_path / "clock.json").read_text())
    assert data == {"real": 1010.0, "virtual": start.timestamp() + 5040, "speed": 144.0}
    assert [p.name for p in tmp_path.iterdir()] == ["clock.json"]  # no temporary left
    for bad in (lambda: clock.speed(0), lambda: clock.jump(-1)):
        try:
            bad()
        except ValueError:
            pass
        else:
            raise AssertionError("refused")


def test_sandbox_config_copy(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    sandbox_config(
        EXAMPLE, target, port=8099, database=tmp_path / "db.sqlite3", clock=tmp_path / "c.json"
    )
    config = load_config(target)
    assert config.bot.api_base_url == "http://127.0.0.1:8099/bot"
    assert config.bot.database == (tmp_path / "db.sqlite3").resolve()
    assert config.bot.clock_file == (tmp_path / "c.json").resolve()
    assert config.regions.file.is_absolute() and config.regions.file.exists()
    original = load_config(EXAMPLE)
    assert config.villages == original.villages and config.measures == original.measures
    assert config.leadership == original.leadership


def test_dump_toml_round_trips() -> None:
    data = {
        "a": 1,
        "s": 'quote " and \\ and 中文\n',
        "t": {"x": [1, 2], "when": datetime(2020, 1, 2, 3, 4, tzinfo=UTC), "on": True},
        "rows": [{"id": "x", "sub": [{"k": 1}, {"k": 2}]}, {"id": "y", "sub": []}],
        "empty": [],
    }
    assert tomllib.loads(dump_toml(data)) == data


def test_the_chain_staff_of_the_config_are_people() -> None:
    """Site managers, dispatchers and vehicle crews (issue 12) play drills like the others."""
    config = load_config(EXAMPLE)
    state = SandboxState()
    world = seed(state, config)
    expected = {f"manager_{s.id}": s.managers[0] for s in config.sites if s.managers}
    expected |= {f"crew_{v.id}": v.crew[0] for v in config.vehicles if v.crew}
    expected["dispatcher"] = config.transfer.dispatchers[0]
    assert expected.keys() >= {"manager_GL01", "dispatcher", "crew_V01"}
    for key, user in expected.items():
        person = world.person(key)
        assert person.user_id == user and state.users[user].started
    assert world.person("manager_GL01").role == "site_manager"
    assert world.person("manager_GL01").label.startswith("隔离点负责人 ")
    assert world.person("dispatcher").role == "dispatcher"
    assert world.person("crew_V01").label.endswith("(渝A·12345)")
    assert len({p.user_id for p in world.people.values()}) == len(world.people)


def test_the_units_liaisons_and_the_cadres_are_people(tmp_path: Path) -> None:
    """Issue 13's drills: each unit's liaisons (``liaison_<unit>``, staff: they have opened
    the bot), the town store's keepers (``keeper``) and five town cadres (下沉干部,
    ``cadre1``…``cadre5``) who are on nobody's list until an admin files them and they open
    their join link."""
    hotel = ('\n[[key_units]]\nid = "h9"\nname = "测试宾馆"\nkind = "hotel"\nvillage = "sq"\n'
             'liaisons = [50901, 50902]\n')  # fmt: skip
    path = tmp_path / "config.toml"
    regions = str(EXAMPLE.parent / "data" / "regions.toml")
    text = EXAMPLE.read_text(encoding="utf-8").replace('"data/regions.toml"', f'"{regions}"')
    path.write_text(text + hotel, encoding="utf-8")
    config = load_config(path)
    state = SandboxState()
    world = seed(state, config)
    first, second = world.person("liaison_h9"), world.person("liaison_h92")
    assert (first.user_id, second.user_id) == (50901, 50902)
    assert first.role == "unit" and first.label.startswith("联络员 ")
    assert first.label.endswith("(测试宾馆)") and state.users[50901].started
    keeper = world.person("keeper")
    assert keeper.user_id == config.supplies.keepers[0] and keeper.role == "keeper"
    assert keeper.label.startswith("镇物资库管理员 ") and state.users[keeper.user_id].started
    cadres = [world.person(f"cadre{n}") for n in range(1, 6)]
    assert all(c.role == "cadre" and c.label.startswith("下沉干部 ") for c in cadres)
    assert not any(state.users[c.user_id].started for c in cadres)
    assert len({c.phone for c in cadres}) == 5
    assert len({p.user_id for p in world.people.values()}) == len(world.people)
    assert len({p.label for p in world.people.values()}) == len(world.people)
