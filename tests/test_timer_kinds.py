"""Every timer kind any code can schedule is declared (bot.domain.timers) and has a handler
registered in bot/app.py; the bot refuses to start otherwise. The kinds are read from the
source (every ``schedule(kind=...)`` and ``NewTimer(...)``), not from the paths that run."""

from __future__ import annotations

import ast
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot import app, cli
from bot.domain.timers import KINDS, Kind
from bot.runtime.timers import MissingHandlers
from tests.conftest import ROOT

SOURCES = ("bot", "handlers", "storage")
ENGINE = ROOT / "storage" / "timers.py"  # defines schedule and NewTimer: passes kinds through


def _kind_argument(call: ast.Call) -> ast.expr | None:
    """The kind given to ``...schedule(kind=...)`` or ``NewTimer(kind, ...)``."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    keyword = next((k.value for k in call.keywords if k.arg == "kind"), None)
    if name == "NewTimer":
        return keyword or (call.args[0] if call.args else None)
    if name == "schedule":
        return keyword
    return None


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """The module's ``NAME = value`` assignments (``STEP = Kind.LADDER_STEP``)."""
    return {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}  # fmt: skip


def _resolve(expr: ast.expr, constants: dict[str, ast.expr]) -> str | None:
    """A literal, a ``Kind.X`` member or a module constant naming one; None otherwise."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Attribute) and getattr(expr.value, "id", "") == "Kind":
        return Kind[expr.attr].value
    if isinstance(expr, ast.Name) and expr.id in constants:
        return _resolve(constants[expr.id], constants)
    return None


def scheduled_kinds() -> dict[str, list[str]]:
    """Each kind found in a scheduling call, with where; unresolvable ones as ``?<where>``."""
    found: dict[str, list[str]] = {}
    paths = {p for top in SOURCES for p in (ROOT / top).rglob("*.py")} - {ENGINE}
    for path in sorted(paths):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for node in ast.walk(tree):
            expr = _kind_argument(node) if isinstance(node, ast.Call) else None
            if expr is None:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            kind = _resolve(expr, constants)
            found.setdefault(kind or f"?{where}", []).append(where)
    return found


def test_the_scan_finds_the_known_scheduling_calls() -> None:
    found = scheduled_kinds()
    for kind in (Kind.LADDER_STEP, Kind.LADDER_FLUSH, Kind.LADDER_REPEAT, Kind.DIGEST,
                 Kind.CHECKIN_PROMPT, Kind.CHECKIN_MISSED, Kind.MONITORING_END):  # fmt: skip
        assert kind in found, kind


def test_every_scheduled_kind_is_declared_and_registered() -> None:
    found = scheduled_kinds()
    unresolved = [kind for kind in found if kind.startswith("?")]
    assert not unresolved, f"give the kind as a Kind member or a literal: {unresolved}"
    undeclared = {kind: where for kind, where in found.items() if kind not in KINDS}
    assert not undeclared, f"declare these in bot/domain/timers.py: {undeclared}"
    app.TIMERS.check(KINDS)  # raises MissingHandlers naming any kind without a handler


def test_every_declared_kind_has_one_handler() -> None:
    registered = set(app.TIMERS.single) | set(app.TIMERS.batch)
    assert registered == KINDS


def test_the_bot_refuses_to_start_with_a_kind_unhandled(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    single = {k: h for k, h in app.TIMERS.single.items() if k != Kind.DIGEST}
    monkeypatch.setattr(app, "TIMERS", replace(app.TIMERS, single=single))
    with pytest.raises(MissingHandlers, match=r"digest\.send"):
        app.TIMERS.check(KINDS)
    # the example config in a folder of its own: its database (var/) is not the checkout's
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cli.TOKEN_VARIABLE, "123456:TEST-token")
    assert cli.main(["run", "--config", str(tmp_path / "config.toml")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("paicha: timer kinds with no handler: digest.send (register them in bot/app.py)")
