"""``paicha drill FILE``: a fresh sandbox and the real bot process, headless; exit 0 only when
every step passed, one ``✗`` line per failed step."""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.runtime import assets
from sandbox.clock import MAX_SPEED, DrillClock
from sandbox.drill import FasterClock, find_drill

GREETING = """
title = "问候"
start = 2020-11-20T09:00:00+08:00

[[step]]
who = "resident1"
action = "start"

[[step]]
action = "wait_for"
chat = "resident1"
text = "{text}"
timeout = {timeout}
"""


def drill(tmp_path: Path, text: str, timeout: float = 30) -> Path:
    path = tmp_path / "greeting.toml"
    path.write_text(textwrap.dedent(GREETING.format(text=text, timeout=timeout)), "utf-8")
    return path


def test_a_drill_whose_steps_all_pass_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["drill", str(drill(tmp_path, "到达登记")), "--speed", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "✗" not in out
    assert out.splitlines()[-1].startswith("✓ 问候: all 2 steps passed")


def test_a_step_that_cannot_pass_exits_1_with_one_line_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["drill", str(drill(tmp_path, "这句话机器人不会说", timeout=1))])
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✗")]
    assert code == 1
    assert failed == [
        "✗ step[1] @0min wait_for text='这句话机器人不会说': no message containing "
        "'这句话机器人不会说' in resident1 within 1 s"
    ]


def test_a_drill_file_with_problems_exits_1_listing_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[step]]\nwho = "nobody"\naction = "fly"\n', "utf-8")
    code = cli.main(["drill", str(path)])
    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        '✗ bad.toml: step[0].action: unknown action "fly" (one of: start, text, press, '
        "contact, location, photo, wait_for, speed, jump)"
    ]


def test_a_speed_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["drill", "scenarios/drill.toml", "--speed", "0"]) == 2
    assert "--speed must be above 0" in capsys.readouterr().err


def test_speed_multiplies_every_speed_the_drill_sets(tmp_path: Path) -> None:
    wall = [1000.0]
    clock = DrillClock(tmp_path / "clock.json", wall=lambda: wall[0])
    faster = FasterClock(clock, 3.0)
    start = datetime(2020, 11, 20, 1, 0, tzinfo=UTC)
    faster.reset(start)
    assert clock.current_speed == 3.0 and faster.now() == start
    faster.speed(10)
    assert clock.current_speed == 30.0
    faster.speed(MAX_SPEED)
    assert clock.current_speed == MAX_SPEED  # never past what the clock allows
    faster.jump(60)  # a jump is as long as the drill says, whatever the speed
    assert faster.now() == start + timedelta(hours=1)


def test_a_packaged_drill_is_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_drill("scenarios/drill.toml") == assets.root() / "scenarios" / "drill.toml"
    assert find_drill("drill.toml") == assets.drills() / "drill.toml"
    own = tmp_path / "scenarios" / "drill.toml"
    own.parent.mkdir()
    own.write_text("", "utf-8")
    assert find_drill("scenarios/drill.toml").resolve() == own  # a file of the folder first
    assert os.path.samefile(find_drill(str(own)), own)
