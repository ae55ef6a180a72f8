"""Staff invites through PTB's real pipeline: single use, expiry, revocation, /staff."""

from __future__ import annotations

import argparse
import re

import pytest

from bot import cli
from bot.runtime.render import LOCALES, Renderer
from tests.harness import Harness
from tests.staff_helpers import (
    ADMIN,
    REFUSED,
    VADMIN_SQ,
    VADMIN_XF,
    audit_actions,
    denied,
    seed_invited,
    seed_report,
)

NEWCOMER = 60001
LINK = re.compile(r"https://t\.me/paicha_bot\?start=(inv-[A-Za-z0-9_-]+)")


async def make_link(h: Harness, user: int = ADMIN, grid: str = "XF02") -> str:
    await h.text(user, "/invite")
    if user == ADMIN:
        await h.choose(user, "网格员")
    await h.choose(user, "先锋社区")
    await h.choose(user, grid.replace("XF0", "第") + "网格")
    match = LINK.search(h.texts(user)[-1])
    assert match, h.texts(user)[-1]
    return match.group(1)


async def bind(h: Harness, payload: str, user: int = NEWCOMER) -> str:
    await h.text(user, f"/start {payload}")
    await h.text(user, "王五")
    await h.send(
        user, contact={"phone_number": "+8613700001111", "first_name": "五", "user_id": user}
    )
    await h.choose(user, "确认")
    return h.texts(user)[-1]


async def test_admin_invites_a_worker_who_binds_and_gets_an_inbox(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    assert len(payload) <= 64
    welcome = await bind(h, payload)
    assert "欢迎" in welcome and "先锋社区第2网格" in welcome and "/tasks" in welcome
    row = await h.db.fetchone("SELECT * FROM staff WHERE user_id = ?", (NEWCOMER,))
    assert (row["role"], row["scope"], row["name"], row["phone"], row["active"]) == (
        "worker",
        "XF02",
        "王五",
        "13700001111",
        1,
    )
    invite = await h.db.fetchone("SELECT * FROM invites")
    assert invite["used_by"] == NEWCOMER and invite["created_by"] == ADMIN
    assert "staff.bind" in await audit_actions(h, NEWCOMER)
    assert "invite.create" in await audit_actions(h, ADMIN)
    scoped = [c for c in h.request.calls if c.method == "setMyCommands" and "scope" in c.params]
    assert scoped and scoped[-1].params["scope"] == {"type": "chat", "chat_id": NEWCOMER}
    # the new worker's grid now gets reports, and /tasks works for them
    await seed_report(h, grid="XF02")
    await h.text(NEWCOMER, "/tasks")
    assert "待核实的到达登记 1 份" in h.texts(NEWCOMER)[-1]


async def test_an_invite_is_single_use(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    await bind(h, payload)
    await h.text(60002, f"/start {payload}")
    assert "无效或已失效" in h.texts(60002)[-1]
    assert await denied(h, 60002) == ["denied:invite"]
    assert await h.db.fetchone("SELECT * FROM staff WHERE user_id = 60002") is None


async def test_an_invite_used_while_another_binds_is_refused_at_confirm(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    await h.text(60002, f"/start {payload}")  # opened, not yet confirmed
    await bind(h, payload)
    await h.text(60002, "赵六")
    await h.text(60002, "13700002222")
    await h.choose(60002, "确认")
    assert "无效或已失效" in h.texts(60002)[-1]
    assert await h.db.fetchone("SELECT * FROM staff WHERE user_id = 60002") is None


async def test_an_expired_invite_says_the_same_as_an_unknown_one(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    h.clock.advance(hours=73)
    await h.text(NEWCOMER, f"/start {payload}")
    expired = h.texts(NEWCOMER)[-1]
    await h.text(60002, "/start inv-AAAAAAAAAAAAAAAAAAAAAA")
    assert expired == h.texts(60002)[-1]
    assert "无效或已失效" in expired


async def test_a_revoked_invite_cannot_be_used(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    await h.choose(ADMIN, "撤销这个邀请")
    assert "已撤销" in h.texts(ADMIN)[-1]
    await h.text(NEWCOMER, f"/start {payload}")
    assert "无效或已失效" in h.texts(NEWCOMER)[-1]


async def test_staff_lists_unused_invites_with_a_revoke_button(harness: Harness) -> None:
    """/staff shows the links not yet used, each revocable; a village admin sees only those
    of their village; a used or revoked invite leaves the list."""
    h = harness
    payload = await make_link(h)  # XF02, by the admin
    await make_link(h, VADMIN_XF, "XF01")
    await h.text(VADMIN_SQ, "/staff")
    assert "未使用的邀请" not in h.texts(VADMIN_SQ)[-1]  # neither is in 石桥村
    await h.text(ADMIN, "/staff")
    listing = h.texts(ADMIN)[-1]
    assert "未使用的邀请</b>（2个）" in listing and "先锋社区第2网格" in listing
    assert "前有效" in listing
    await h.choose(ADMIN, "撤销邀请：网格员 先锋社区 先锋社区第1网格")
    assert "邀请已撤销" in h.texts(ADMIN)[-1]
    await bind(h, payload)
    await h.text(ADMIN, "/staff")
    assert "未使用的邀请" not in h.texts(ADMIN)[-1]


async def test_village_admin_invites_workers_of_their_own_village_only(harness: Harness) -> None:
    h = harness
    payload = await make_link(h, VADMIN_XF, "XF01")
    assert payload.startswith("inv-")
    row = await h.db.fetchone("SELECT role, scope, created_by FROM invites")
    assert tuple(row) == ("worker", "XF01", VADMIN_XF)
    await h.press(VADMIN_SQ, "v1:inv:g:XF01")
    await h.press(VADMIN_XF, "v1:inv:v:village_admin:xf")
    assert REFUSED in h.texts(VADMIN_SQ)[-1] and REFUSED in h.texts(VADMIN_XF)[-1]
    assert (await h.db.fetchone("SELECT COUNT(*) AS n FROM invites"))["n"] == 1


async def test_revoked_worker_loses_access_at_once(harness: Harness) -> None:
    h = harness
    payload = await make_link(h)
    await bind(h, payload)
    await h.text(ADMIN, "/staff")
    assert "王五" in h.texts(ADMIN)[-1]
    await h.choose(ADMIN, "撤销 王五")
    await h.choose(ADMIN, "确定撤销")
    assert "已撤销" in h.texts(ADMIN)[-1]
    (dropped,) = [c for c in h.request.calls if c.method == "deleteMyCommands"]
    assert dropped.params["scope"] == {"type": "chat", "chat_id": NEWCOMER}
    await h.text(NEWCOMER, "/tasks")
    assert REFUSED in h.texts(NEWCOMER)[-1]
    assert "staff.revoke" in await audit_actions(h, ADMIN)
    await h.drain_outbox()
    assert "已被撤销" in h.texts(NEWCOMER)[-1]


async def test_admin_moves_a_worker_to_another_grid(harness: Harness) -> None:
    h = harness
    staff_id = await seed_invited(h, 30009)  # config-listed staff are moved in the config
    await h.text(ADMIN, "/staff")
    await h.press(ADMIN, f"v1:st:m:{staff_id}")
    await h.choose(ADMIN, "石桥村第2网格")
    assert "调整到石桥村 石桥村第2网格" in h.texts(ADMIN)[-1]
    row = await h.db.fetchone("SELECT scope FROM staff WHERE id = ?", (staff_id,))
    assert row["scope"] == "SQ02"


async def test_config_staff_are_seeded_once_and_revocations_survive_restart(
    harness: Harness,
) -> None:
    from storage import staff

    h = harness
    rows = await h.db.fetchall("SELECT * FROM staff WHERE source = 'config' AND active = 1")
    assert (30001, "worker", "XF01") in {(r["user_id"], r["role"], r["scope"]) for r in rows}
    await h.db.write_one("UPDATE staff SET active = 0 WHERE user_id = 30001")
    await staff.seed_from_config(h.db, h.config.listed_staff(), h.clock.now())
    assert await staff.held(h.db, 30001) == {}


def test_cli_prints_a_link(harness: Harness, tmp_path, monkeypatch) -> None:
    h = harness
    bot = h.config.bot.model_copy(update={"database": tmp_path / "cli.sqlite3"})
    config = h.config.model_copy(update={"bot": bot})
    args = argparse.Namespace(
        role="worker", grid="XF01", village=None, hours=72, bot_username="paicha_bot"
    )
    link = cli.invite(config, args)
    assert LINK.fullmatch(link)
    with pytest.raises(ValueError, match="--grid"):
        cli.invite(config, argparse.Namespace(**{**vars(args), "grid": "ZZ99"}))
    with pytest.raises(ValueError, match="username"):
        cli.invite(config, argparse.Namespace(**{**vars(args), "bot_username": None}))


@pytest.mark.parametrize("module", ["access", "staff", "inbox", "visits"])
def test_both_locales_define_the_same_messages(module: str) -> None:
    renderer = Renderer()
    zh, en = (renderer.messages(locale, module) for locale in LOCALES)
    assert zh == en
