"""The web page's JSON API, through aiohttp's test client (no bot: the tests play its part
by calling the state's bot_* methods)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_config
from sandbox.clock import DrillClock
from sandbox.control import SandboxControl
from sandbox.page import add_page_routes
from sandbox.scenario import TINY_PNG
from sandbox.server import make_app
from sandbox.state import SandboxState

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:SANDBOX"
START = datetime(2020, 11, 20, 1, 0, tzinfo=UTC)
LEADERS = -1001234567890


class FakeRunner:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")

    def status(self) -> dict[str, Any]:
        return {"state": "running", "pid": 1}


@dataclass
class Page:
    client: TestClient
    state: SandboxState
    control: SandboxControl
    clock: DrillClock
    runner: FakeRunner

    def id(self, key: str) -> int:
        return self.control.world.person(key).user_id

    async def post(self, path: str, status: int = 200, **body: Any) -> Any:
        response = await self.client.post(f"/sandbox/api{path}", json=body)
        data = await response.json()
        assert response.status == status, data
        return data

    async def get(self, path: str, status: int = 200) -> Any:
        response = await self.client.get(f"/sandbox/api{path}")
        data = await response.json()
        assert response.status == status, data
        return data


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    config = load_config(ROOT / "config.example.toml")
    clock = DrillClock(tmp_path / "clock.json")
    clock.reset(START)
    state = SandboxState.for_token(TOKEN, clock=clock)
    database = tmp_path / "sandbox.sqlite3"
    database.write_bytes(b"old")
    runner = FakeRunner()
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    control = SandboxControl(
        state, config, clock, scenarios_dir=scenarios, database=database, bot=runner,
        player_timeout=0.05,
    )  # fmt: skip
    app = make_app(state, TOKEN)
    add_page_routes(app, state, control)
    async with TestClient(TestServer(app)) as client:
        yield Page(client, state, control, clock, runner)
    await control.stop_drill()


async def test_index_and_static_files(page: Page) -> None:
    response = await page.client.get("/")
    html = await response.text()
    assert response.status == 200 and "/sandbox/static/app.js" in html
    assert "http" not in html.replace("http-equiv", "")  # nothing from the network
    for name in ("app.js", "style.css"):
        response = await page.client.get(f"/sandbox/static/{name}")
        assert response.status == 200
        assert "//cdn" not in await response.text()


async def test_the_page_brings_its_own_chinese_font(page: Page) -> None:
    """A machine without Chinese fonts still shows the page in Chinese: the chart's font is
    served as one TrueType file (browsers do not load .ttc collections)."""
    import io

    from fontTools.ttLib import TTFont

    response = await page.client.get("/sandbox/font")
    assert response.status == 200 and response.content_type == "font/ttf"
    font = TTFont(io.BytesIO(await response.read()))
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "先锋镇居民网格员领导小组到达登记")
    css = await (await page.client.get("/sandbox/static/style.css")).text()
    assert 'url("/sandbox/font")' in css


async def test_world_lists_people_chats_and_deep_links(page: Page) -> None:
    world = await page.get("/world")
    keys = [p["key"] for p in world["people"]]
    assert keys[:5] == ["resident1", "resident2", "resident3", "resident_en", "neighbour"]
    assert {"worker_XF01", "admin_xf", "leader"} <= set(keys)
    leaders = next(c for c in world["chats"] if c["key"] == "leaders")
    assert leaders["id"] == LEADERS and leaders["type"] == "supergroup"
    assert {"payload": "a-XF01", "label": "先锋社区第1网格（网格二维码）"} in world["payloads"]
    assert world["clock"]["timezone"] == "Asia/Shanghai"


async def test_send_text_is_a_message_and_an_update(page: Page) -> None:
    resident = page.id("resident1")
    data = await page.post("/send", who="resident1", text="<b>不是标签&amp;")
    assert data["message"]["text"] == "<b>不是标签&amp;" and data["message"]["entities"] == []
    assert [m.text for m in page.state.messages(resident)] == ["<b>不是标签&amp;"]
    updates = await page.state.get_updates()
    assert updates[0]["message"]["from"]["id"] == resident
    await page.post("/send", 400, who="resident1", text="  ")
    await page.post("/send", 400, who="nobody", text="x")
    # a group: only members may write in it
    await page.post("/send", user_id=page.id("leader"), chat_id=LEADERS, text="收到")
    await page.post("/send", 400, user_id=resident, chat_id=LEADERS, text="x")


async def test_start_with_a_deep_link(page: Page) -> None:
    data = await page.post("/start", who="resident2", payload="a-XF01")
    assert data["message"]["text"] == "/start a-XF01"
    assert data["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert page.state.users[page.id("resident2")].started
    await page.post("/start", who="resident3")
    assert page.state.messages(page.id("resident3"))[0].text == "/start"
    await page.post("/start", 400, who="resident3", payload="a b<script>")


async def test_chat_as_the_page_draws_it_and_a_pressed_button(page: Page) -> None:
    resident = page.id("resident1")
    await page.post("/start", who="resident1")
    markup = {"inline_keyboard": [[{"text": "本人", "callback_data": "v1:rel:self"}]]}
    sent = page.state.bot_send_message(
        resident, "<b>这次</b>是给谁登记？", parse_mode="HTML", reply_markup=markup
    )
    chat = await page.get(f"/chats/{resident}")
    bot_message = chat["messages"][-1]
    assert bot_message["text"] == "这次是给谁登记？"
    assert bot_message["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert bot_message["inline_keyboard"] == [[{"text": "本人", "callback_data": "v1:rel:self"}]]
    assert bot_message["from"]["is_bot"] and "source" not in bot_message

    async def bot_answers() -> None:
        updates = await page.state.get_updates(offset=2, timeout=5)
        page.state.answer_callback_query(updates[-1]["callback_query"]["id"], text="已选择")

    answering = asyncio.create_task(bot_answers())
    data = await page.post(
        "/press", who="resident1", chat_id=resident, message_id=sent.message_id,
        callback_data="v1:rel:self", wait=5,
    )  # fmt: skip
    await answering
    assert data["answered"] and data["answer"] == {"text": "已选择", "show_alert": False}
    await page.post("/press", 400, who="resident1", chat_id=resident, message_id=sent.message_id,
                    callback_data="v1:forged", wait=0)  # fmt: skip


async def test_long_poll_answers_when_the_chat_changes(page: Page) -> None:
    resident = page.id("resident1")
    version = page.state.chats[resident].version
    poll = asyncio.create_task(page.get(f"/chats/{resident}?after={version}&timeout=5"))
    await asyncio.sleep(0.01)
    assert not poll.done()
    page.state.user_sends_text(resident, None, "你好")
    data = await asyncio.wait_for(poll, 60)
    assert data["version"] > version and data["messages"][-1]["text"] == "你好"
    quick = await page.get(f"/chats/{resident}?after={data['version']}&timeout=0.01")
    assert quick["version"] == data["version"]

    versions = ",".join(f"{c.id}:{c.version}" for c in page.state.chats.values())
    query = f"/changes?epoch={page.control.epoch}&log={page.control.log_version}"
    changes = asyncio.create_task(page.get(f"{query}&versions={versions}&timeout=5"))
    await asyncio.sleep(0.01)
    assert not changes.done()
    page.state.bot_send_message(LEADERS, "预警")
    data = await asyncio.wait_for(changes, 60)
    assert data["versions"][str(LEADERS)] == page.state.chats[LEADERS].version


async def test_contact_location_and_photo(page: Page) -> None:
    resident = page.id("resident1")
    await page.post("/contact", who="resident1")
    await page.post("/location", who="resident1", latitude=29.1, longitude=106.25)
    form_data = {"who": "resident1", "caption": "核酸报告"}
    import aiohttp

    form = aiohttp.FormData(form_data)
    form.add_field("file", TINY_PNG, filename="report.png", content_type="image/png")
    response = await page.client.post("/sandbox/api/upload", data=form)
    assert response.status == 200, await response.text()
    form = aiohttp.FormData(form_data)
    form.add_field("file", b"a,b\n1,2\n", filename="list.csv", content_type="text/csv")
    assert (await page.client.post("/sandbox/api/upload", data=form)).status == 200
    contact, location, photo, document = page.state.messages(resident)
    assert contact.contact == {
        "phone_number": "13800000001", "first_name": "张伟", "user_id": resident,
    }  # fmt: skip
    assert location.location == {"latitude": 29.1, "longitude": 106.25}
    assert photo.photo and photo.photo[0]["width"] == 1 and photo.caption == "核酸报告"
    assert document.document and document.document["file_name"] == "list.csv"
    drawn = (await page.get(f"/chats/{resident}"))["messages"]
    image = await page.client.get(drawn[2]["photo"]["url"])
    assert image.status == 200 and await image.read() == TINY_PNG
    assert drawn[3]["document"]["name"] == "list.csv"
    await page.post("/location", 400, who="resident1", latitude=95, longitude=0)


async def test_clock_speed_and_jump_write_the_clock_file(page: Page) -> None:
    before = json.loads(page.clock.path.read_text())
    assert before["speed"] == 1.0
    data = await page.post("/clock", speed=144)
    assert data["speed"] == 144.0 and json.loads(page.clock.path.read_text())["speed"] == 144.0
    data = await page.post("/clock", jump_minutes=120)
    stored = json.loads(page.clock.path.read_text())
    assert stored["virtual"] - START.timestamp() >= 7200 and stored["speed"] == 144.0
    await page.post("/clock", 400, speed=0)
    await page.post("/clock", 400, jump_minutes=-5)
    assert (await page.get("/clock"))["speed"] == 144.0


async def test_reset_empties_chats_database_and_restarts_the_bot(page: Page) -> None:
    resident = page.id("resident1")
    await page.post("/send", who="resident1", text="hello")
    await page.post("/clock", speed=60)
    epoch = page.control.epoch
    data = await page.post("/reset")
    assert data["epoch"] == epoch + 1
    assert page.state.messages(resident) == [] and page.state.pending_update_count == 0
    assert not page.control.database.exists()  # type: ignore[union-attr]
    assert page.runner.calls == ["stop", "start"]
    assert json.loads(page.clock.path.read_text())["speed"] == 1.0
    # the page's long poll notices the reset at once
    changes = await page.get(f"/changes?epoch={epoch}&log=-1&timeout=5")
    assert changes["epoch"] == epoch + 1


async def test_play_a_drill_and_read_its_log(page: Page) -> None:
    folder = page.control.scenarios_dir
    assert folder is not None
    (folder / "bad.toml").write_text('[[step]]\nwho = "resident1"\naction = "fly"\n')
    (folder / "short.toml").write_text(
        'start = 2020-11-21T08:00:00+08:00\n[[step]]\nwho = "resident1"\naction = "start"\n'
        '[[step]]\naction = "wait_for"\nchat = "leaders"\ntext = "预警"\ntimeout = 0.05\n'
    )
    assert (await page.get("/scenarios"))["scenarios"] == ["bad.toml", "short.toml"]
    bad = await page.post("/scenarios/play", 400, name="bad.toml")
    assert bad["problems"] == [
        'bad.toml: step[0].action: unknown action "fly" (one of: start, text, press, contact, '
        "location, photo, wait_for, speed, jump)"
    ]
    await page.post("/scenarios/play", 404, name="../etc/passwd")
    await page.post("/scenarios/play", name="short.toml")
    assert page.control.drill is not None
    await asyncio.wait_for(page.control.drill, 60)
    log = await page.get("/log")
    assert log["lines"][0].endswith("sandbox reset: fresh database, clock at speed 1")
    assert any("✓ step[0]" in line for line in log["lines"])
    assert any("✗ step[1]" in line and "no message containing '预警' in leaders" in line
               for line in log["lines"])  # fmt: skip
    assert log["lines"][-1].endswith("■ drill stopped") and not log["running"]
    assert page.clock.now() >= datetime(2020, 11, 21, 0, 0, tzinfo=UTC)
    assert page.state.messages(page.id("resident1"))[0].text == "/start"
