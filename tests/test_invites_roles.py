"""Invites for the isolation and transfer roles: an admin picks the role, then the site or the
vehicle (a dispatcher's is the town's); the link binds as a worker's does. Village admins
invite only workers."""

from __future__ import annotations

import argparse
import re

import pytest

from bot import cli
from bot.config import Config
from tests.harness import Harness
from tests.staff_helpers import ADMIN, REFUSED, VADMIN_XF, denied
from tests.test_invites import bind

LINK = re.compile(r"https://t\.me/paicha_bot\?start=(inv-[A-Za-z0-9_-]+)")
NEWCOMER = 60011


async def link(h: Harness, role: str, scope: str | None = None) -> str:
    await h.text(ADMIN, "/invite")
    await h.choose(ADMIN, role)
    if scope is not None:
        await h.choose(ADMIN, scope)
    match = LINK.search(h.texts(ADMIN)[-1])
    assert match, h.texts(ADMIN)[-1]
    return match.group(1)


async def staff_of(h: Harness, user: int) -> tuple[str, str, str]:
    row = await h.db.fetchone("SELECT * FROM staff WHERE user_id = ? AND active = 1", (user,))
    return row["role"], row["scope"], row["name"]


async def test_admin_sees_every_role(harness: Harness) -> None:
    h = harness
    await h.text(ADMIN, "/invite")
    assert [label for label, _ in h.buttons(ADMIN)] == [
        "网格员", "村（社区）综治专干", "隔离点负责人", "转运调度员", "转运车组人员", "单位联络员",
    ]  # fmt: skip


async def test_a_site_manager_is_invited_for_a_site(harness: Harness) -> None:
    h = harness
    payload = await link(h, "隔离点负责人", "凤凰村储备隔离点")
    assert "凤凰村储备隔离点" in h.texts(ADMIN)[-1] and "隔离点负责人" in h.texts(ADMIN)[-1]
    welcome = await bind(h, payload, NEWCOMER)
    assert "凤凰村储备隔离点（原凤凰小学）" in welcome and "/sites" in welcome
    assert await staff_of(h, NEWCOMER) == ("site_manager", "GL02", "王五")
    # the new manager now has their site's card
    await h.text(NEWCOMER, "/sites")
    assert "凤凰村储备隔离点" in h.texts(NEWCOMER)[-1]
    menus = [c for c in h.request.calls if c.method == "setMyCommands" and "scope" in c.params]
    assert "sites" in [c["command"] for c in menus[-1].params["commands"]]


async def test_a_dispatcher_is_invited_for_the_town(harness: Harness) -> None:
    h = harness
    payload = await link(h, "转运调度员")
    welcome = await bind(h, payload, NEWCOMER)
    assert "您是<b>先锋镇</b>的转运调度员" in h.request.sent_to(NEWCOMER)[-1].params["text"]
    assert "转运调度员" in welcome
    assert await staff_of(h, NEWCOMER) == ("dispatcher", "*", "王五")


async def test_a_crew_member_is_invited_for_a_vehicle(harness: Harness) -> None:
    h = harness
    payload = await link(h, "转运车组人员", "渝B·D12345")
    welcome = await bind(h, payload, NEWCOMER)
    assert "渝B·D12345" in welcome and "转运车组人员" in welcome
    assert await staff_of(h, NEWCOMER) == ("crew", "V02", "王五")


async def test_village_admins_cannot_invite_the_new_roles(harness: Harness) -> None:
    h = harness
    await h.text(VADMIN_XF, "/invite")
    assert "转运调度员" not in str(h.buttons(VADMIN_XF))
    for data in ("v1:inv:r:site_manager", "v1:inv:s:GL01", "v1:inv:c:V01", "v1:inv:r:dispatcher"):
        await h.press(VADMIN_XF, data)
        assert REFUSED in h.texts(VADMIN_XF)[-1]
    assert await denied(h, VADMIN_XF) == ["denied:invite"] * 4
    assert await h.db.fetchone("SELECT * FROM invites") is None


async def test_an_unknown_site_or_vehicle_is_refused(harness: Harness) -> None:
    h = harness
    await h.press(ADMIN, "v1:inv:s:NOPE")
    await h.press(ADMIN, "v1:inv:c:V99")
    assert await denied(h, ADMIN) == ["denied:invite"] * 2
    assert await h.db.fetchone("SELECT * FROM invites") is None


async def test_staff_list_keeps_town_roles_from_village_admins(harness: Harness) -> None:
    h = harness
    await bind(h, await link(h, "转运调度员"), NEWCOMER)
    await h.text(VADMIN_XF, "/staff")
    assert "转运调度员" not in h.texts(VADMIN_XF)[-1]
    await h.text(ADMIN, "/staff")
    assert "转运调度员" in h.texts(ADMIN)[-1] and "隔离点负责人" in h.texts(ADMIN)[-1]


def test_cli_scopes_of_the_new_roles(config: Config) -> None:
    def scope(role: str, **given: str) -> str:
        args = {"grid": None, "village": None, "site": None, "vehicle": None, **given}
        known = {"site_manager": {"GL01": "", "GL02": ""}, "crew": {"V01": "", "V02": ""}}
        return cli.invite_scope(config, argparse.Namespace(role=role, **args), known)

    assert scope("site_manager", site="GL02") == "GL02"
    assert scope("crew", vehicle="V01") == "V01"
    assert scope("dispatcher") == "*"
    with pytest.raises(ValueError, match=r"--site: give one of the isolation sites .*GL01, GL02"):
        scope("site_manager", site="XX")
    with pytest.raises(ValueError, match=r"--vehicle: give one of the vehicles .*V01, V02"):
        scope("crew")


async def test_a_site_manager_is_not_offered_the_grid_commands(harness: Harness) -> None:
    h = harness
    welcome = await bind(h, await link(h, "隔离点负责人", "先锋镇集中隔离点"), NEWCOMER)
    assert "/tasks" not in welcome
    menus = [c for c in h.request.calls if c.method == "setMyCommands" and "scope" in c.params]
    commands = [c["command"] for c in menus[-1].params["commands"]]
    assert "sites" in commands and "tasks" not in commands and "visit" not in commands


async def test_a_vehicle_added_in_chat_is_offered_for_its_crew(harness: Harness) -> None:
    from tests.test_transfers import CREW_V01, DISPATCHER, add_vehicle, answers, data, request, stay

    h = harness
    await add_vehicle(h)  # VC01, 渝A·67890
    payload = await link(h, "转运车组人员", "渝A·67890")
    assert "渝A·67890" in h.texts(ADMIN)[-1]
    welcome = await bind(h, payload, NEWCOMER)
    assert "渝A·67890" in welcome and "VC01" not in welcome
    assert await staff_of(h, NEWCOMER) == ("crew", "VC01", "王五")
    await h.text(ADMIN, "/staff")
    assert "渝A·67890" in h.texts(ADMIN)[-1]
    transfer_id = await request(h, await stay(h))
    await h.press(DISPATCHER, data(transfer_id, "d", "VC01"))
    assert answers(h)[-1] == "已派车 渝A·67890，已通知车组。"
    await h.drain_outbox()
    assert any("转运任务" in t for t in h.texts(NEWCOMER)) and not h.texts(CREW_V01)

    # paicha invite --vehicle: the database's vehicles, the one added in chat too
    args = argparse.Namespace(role="crew", grid=None, village=None, site=None, vehicle="VC01",
                              hours=72, bot_username="paicha_bot")  # fmt: skip
    config = h.config.model_copy(
        update={"bot": h.config.bot.model_copy(update={"database": h.db.path})}
    )
    assert await cli._make_invite(config, args)
    with pytest.raises(ValueError, match=r"--vehicle: .*V01, V02, VC01"):
        await cli._make_invite(config, argparse.Namespace(**{**vars(args), "vehicle": "VC09"}))
