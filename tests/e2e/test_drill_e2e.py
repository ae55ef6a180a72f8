"""The shipped drill (scenarios/drill.toml) played step by step against the live bot."""

from __future__ import annotations

from bot.sandbox.scenario import load_scenario
from tests.e2e.conftest import ROOT, Live


async def test_the_shipped_drill_passes_against_the_real_bot(live: Live) -> None:
    drill = load_scenario(ROOT / "scenarios" / "drill.toml", world=live.world)
    player = live.player()
    passed = await player.play(drill)
    log = "\n".join(live.lines)
    assert passed, f"the drill failed:\n{log}\n--- bot log:\n{live.log()}"
    assert live.lines[-1] == "■ drill finished"
    assert sum(line.startswith("✓ ") for line in live.lines) == len(drill.steps), log
