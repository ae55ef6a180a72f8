"""QR posters to print (二维码张贴): the printed page scanned back with a real decoder (zxing-cpp)
gives exactly the deep links of its two codes; the page says the place, whom to call and
the town's hotline in the bundled font; one page per poster; ``paicha posters`` and
``/posters`` (admins, leaders, a village admin for their villages; anyone else refused and
audited). The PDFs are rendered once per module."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from bot import cli
from bot.actions import posters
from bot.config import Config
from bot.runtime import pdf
from bot.runtime.clock import ManualClock
from bot.runtime.render import Renderer
from bot.runtime.services import Services
from storage import staff as staff_store
from storage.db import Database
from tests.conftest import ROOT, example_config
from tests.harness import Harness
from tests.test_release import documents, uploads

BOT = "paicha_bot"  # the recording double's username too (sandbox/recording.py)
HOTLINE = "023-47521234"
ADMIN, VILLAGE_ADMIN_XF, WORKER_XF01, WORKER_SQ01 = 10001, 20001, 30001, 30003
POSTERS_OF_XF = ["xf", "XF01", "XF02", "xfhotel"]  # the village, its grids, its venue
PAGE_WORDS = len(pdf.POSTER)
T0 = datetime(2020, 10, 26, 2, 0, tzinfo=UTC)


def link(payload: str) -> str:
    return f"https://t.me/{BOT}?start={payload}"


async def hire(db: Database, user_id: int, role: str, scope: str, name: str, phone: str) -> None:
    """A staff member who joined by invite, giving a name and a phone."""
    now = T0
    async with db.write() as conn:
        token = f"poster{user_id}"
        await staff_store.create_invite(conn, token, role, scope, None, now,
                                        now + timedelta(days=1))  # fmt: skip
        await staff_store.use_invite(conn, token, user_id, name, phone, now)


async def made_for(folder: Path, **choice: str) -> posters.Made:
    """The posters' words for ``choice``, with three named staff: 张三 (XF01), 李四 (the
    village admin of xf) and 王𠀀 (SQ01, a rare character outside the font)."""
    config = example_config(folder)
    db = await Database.open(folder / "posters.sqlite3")
    try:
        await hire(db, WORKER_XF01, "worker", "XF01", "张三", "13800138001")
        await hire(db, VILLAGE_ADMIN_XF, "village_admin", "xf", "李四", "13800138002")
        await hire(db, WORKER_SQ01, "worker", "SQ01", "王𠀀", "13800138003")
        services = Services(config=config, db=db, clock=ManualClock(T0), regions=None,
                            renderer=Renderer(health_code=config.town.health_code))  # fmt: skip
        made = await posters.build(services, BOT, "zh_CN", **choice)
    finally:
        await db.close()
    assert isinstance(made, posters.Made), made
    return made


def pages(data: bytes) -> Iterator[tuple[Image.Image, str]]:
    """Each page of a PDF as an image (150 dpi, as PDFium draws it) and its text."""
    document = pypdfium2.PdfDocument(data)
    try:
        for page in document:
            yield page.render(scale=150 / 72).to_pil(), page.get_textpage().get_text_range()
    finally:
        document.close()


def decoded(image: Image.Image) -> set[str]:
    return {found.text for found in zxingcpp.read_barcodes(image)
            if found.format == zxingcpp.BarcodeFormat.QRCode}  # fmt: skip


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def village_xf(tmp_path_factory: pytest.TempPathFactory) -> tuple[posters.Made, list]:
    made = asyncio.run(made_for(tmp_path_factory.mktemp("xf"), village="xf"))
    return made, list(pages(pdf.posters(made.words, T0)))


@pytest.fixture(scope="module")
def whole_town(tmp_path_factory: pytest.TempPathFactory) -> posters.Made:
    return asyncio.run(made_for(tmp_path_factory.mktemp("town")))


def test_each_printed_page_scans_back_to_its_two_deep_links(village_xf) -> None:
    made, printed = village_xf
    assert [p.id for p in made.posters] == POSTERS_OF_XF
    assert len(printed) == made.count == 4  # one A4 page each
    expected = [
        {link("a-xf"), link("t-xf")},
        {link("a-XF01"), link("t-XF01")},
        {link("a-XF02"), link("t-XF02")},
        {link("u-xfhotel"), link("t-XF01")},  # the hotel is followed by XF01's worker
    ]
    assert [decoded(image) for image, _ in printed] == expected
    for codes in expected:
        for code in codes:
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code.split("?start=")[1])  # Telegram's


def test_the_page_says_the_place_whom_to_call_and_the_steps(village_xf) -> None:
    _, printed = village_xf
    texts = [squeezed(text) for _, text in printed]
    steps = ["①用手机扫上面的大二维码", "②点“开始”", "③按提示一步一步填写"]
    hotline = f"镇疫情防控热线：{HOTLINE}"
    for text in texts:
        assert all(step in text for step in steps) and hotline in text
        assert "扫左边这个小码告诉我们，可以不留名字。" in text
    village, grid1, grid2, hotel = texts
    assert "外地来（返）人员请扫码登记先锋镇先锋社区①" in village
    assert "村（社区）联系人：李四电话13800138002" in village
    assert "先锋社区第1网格" in grid1 and "网格员：张三电话13800138001" in grid1
    # nobody named for XF02 (its worker never joined): the hotline only, no empty line
    assert "先锋社区第2网格" in grid2 and "网格员" not in grid2 and "联系人" not in grid2
    assert "住客请扫码登记先锋镇先锋社区·先锋宾馆" in hotel and "张三" in hotel


def test_a_crowded_poster_stays_one_page(village_xf) -> None:
    """The longest place name a venue may have and three people to call still fit."""
    made, _ = village_xf
    words = dict(zip(pdf.POSTER, made.words[:PAGE_WORDS], strict=True))
    words["place"] = "先锋镇 先锋社区 · " + "重庆市江津区先锋镇长江边大酒店" * 3
    words["contacts"] = "\n".join(f"网格员：欧阳娜娜{i}  电话 1380013800{i}" for i in range(3))
    (image, text), *rest = pages(pdf.posters(list(words.values()), T0))
    assert not rest and "网格员：欧阳娜娜2电话13800138002镇疫情防控热线" in squeezed(text)
    assert decoded(image) == {link("a-xf"), link("t-xf")}


def test_every_word_of_the_shipped_config_prints_and_a_rare_name_is_a_box(whole_town) -> None:
    made = whole_town
    assert made.count == 18  # 6 villages, 9 grids, 3 venues
    assert made.missing == ["𠀀"]  # the one rare name: every other word has its glyph
    by_place = {p.id: made.words[i * PAGE_WORDS : (i + 1) * PAGE_WORDS]
                for i, p in enumerate(made.posters)}  # fmt: skip
    others = "".join(w for place, words in by_place.items() if place != "SQ01" for w in words)
    assert pdf.missing(others) == []
    assert "网格员：王𠀀  电话 13800138003" in by_place["SQ01"]
    (_, text), *_ = pages(pdf.posters(by_place["SQ01"], T0))
    assert "网格员：王□电话13800138003" in squeezed(text)  # printed, never a crash


def test_one_poster_as_png_is_the_page_itself(village_xf) -> None:
    made, printed = village_xf
    one = made.words[PAGE_WORDS : 2 * PAGE_WORDS]  # XF01's
    image = Image.open(BytesIO(pdf.poster_png(one, T0)))
    assert image.format == "PNG" and image.size == printed[1][0].size
    assert decoded(image) == {link("a-XF01"), link("t-XF01")}
    with pytest.raises(ValueError):
        pdf.poster_png(made.words, T0)  # four posters are no one image


def test_the_posters_recipe_makes_the_same_pdf(village_xf) -> None:
    made, _ = village_xf
    now = T0
    assert pdf.make(pdf.recipe("posters", made.words, now)) == pdf.posters(made.words, now)
    with pytest.raises(ValueError):
        pdf.posters(made.words[:-1], now)


# --- paicha posters ----------------------------------------------------------------------


def town_file(folder: Path, username: str = BOT, hotline: str = HOTLINE) -> str:
    """The example config in ``folder`` (its own database), with these username and hotline."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('username = ""', f'username = "{username}"', 1)
    text = text.replace(f'hotline = "{HOTLINE}"', f'hotline = "{hotline}"', 1)
    (folder / "data").mkdir()
    shutil.copy(ROOT / "data" / "regions.toml", folder / "data" / "regions.toml")
    (folder / "town.toml").write_text(text, encoding="utf-8")
    return str(folder / "town.toml")


@pytest.mark.parametrize(
    ("choice", "count"),
    [([], 18), (["--village", "xf"], 4), (["--grid", "XF02"], 1), (["--unit", "bpms"], 1)],
)
def test_paicha_posters_writes_a_page_per_poster(tmp_path, capsys, choice, count) -> None:
    out = tmp_path / "posters.pdf"
    assert cli.main(["posters", "--config", town_file(tmp_path), *choice, "--out", str(out)]) == 0
    assert len(pypdfium2.PdfDocument(out.read_bytes())) == count
    assert capsys.readouterr().out == f"{out}: {count} poster(s)\n"


def test_paicha_posters_writes_one_poster_as_png(tmp_path) -> None:
    out = tmp_path / "xf01.png"
    config = town_file(tmp_path, username="")
    args = ["posters", "--config", config, "--grid", "XF01", "--out", str(out)]
    assert cli.main([*args, "--bot-username", "@" + BOT]) == 0
    assert decoded(Image.open(out)) == {link("a-XF01"), link("t-XF01")}


@pytest.mark.parametrize(
    ("args", "file", "reason"),
    [
        (["--out", "x.png"], {}, "a PNG holds one poster, not 18: choose it with --grid or --unit"),
        (["--village", "xf", "--out", "x.png"], {}, "a PNG holds one poster, not 4"),
        (["--grid", "ZZ01", "--out", "x.pdf"], {}, "--grid: give one of the grids (XF01, XF02,"),
        (["--village", "zz", "--out", "x.pdf"], {}, "--village: give one of the villages (xf, sq,"),
        (["--unit", "XF01", "--out", "x.pdf"], {}, "--unit: give one of the venues (xfhotel,"),
        (["--out", "x.docx"], {}, "--out: a .pdf file, or a .png file for one poster"),
        (["--out", "x.pdf"], {"username": ""}, "the bot's username is unknown: pass --bot-user"),
        (["--out", "x.pdf"], {"hotline": ""}, "town.hotline is not set"),
    ],
)  # fmt: skip
def test_paicha_posters_refuses_in_one_line(tmp_path, capsys, monkeypatch, args, file,
                                            reason) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code = cli.main(["posters", "--config", town_file(tmp_path, **file), *args])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and reason in captured.err
    assert captured.err.startswith("paicha: ") and captured.err.count("\n") == 1
    assert not list(tmp_path.glob("x.*"))


def test_a_hotline_that_is_no_phone_is_a_config_problem(tmp_path, capsys) -> None:
    assert cli.main(["check-config", town_file(tmp_path, hotline="4752")]) == 1
    assert 'town.hotline: "4752" is not a phone number to call' in capsys.readouterr().out


# --- /posters ------------------------------------------------------------------------------


async def audited(h: Harness, action: str) -> list[tuple]:
    rows = await h.db.fetchall("SELECT actor, subject FROM audit WHERE action = ?", (action,))
    return [(r["actor"], r["subject"]) for r in rows]


async def test_an_admin_gets_a_villages_posters_as_one_pdf(harness: Harness) -> None:
    h = harness
    await h.text(ADMIN, "/posters")
    assert "二维码张贴" in h.texts(ADMIN)[-1]
    villages = [label for label, _ in h.buttons(ADMIN)]
    assert villages[:2] == ["先锋社区", "石桥村"] and len(villages) == 6
    await h.choose(ADMIN, "先锋社区")
    assert [label for label, _ in h.buttons(ADMIN)] == [
        "📄 全部网格（PDF）", "🖼 先锋社区第1网格", "🖼 先锋社区第2网格"]  # fmt: skip
    sent = uploads(h)
    await h.choose(ADMIN, "全部网格")
    assert h.texts(ADMIN)[-1] == "正在生成，马上发给您。"
    await h.drain_outbox()
    ((chat, name, data),) = sent
    assert (chat, name) == (ADMIN, "二维码张贴-xf.pdf")
    printed = list(pages(data))
    assert [decoded(image) for image, _ in printed][1] == {link("a-XF01"), link("t-XF01")}
    assert len(printed) == 4
    (document,) = documents(h, ADMIN)
    assert document["caption"].startswith("🔳 先锋社区 二维码张贴，共 4 页")
    assert await audited(h, "posters") == [(ADMIN, "village:xf")]


async def test_one_grids_poster_comes_as_a_png(harness: Harness) -> None:
    h = harness
    await h.text(VILLAGE_ADMIN_XF, "/posters")  # one village: its posters at once
    assert "先锋社区" in h.texts(VILLAGE_ADMIN_XF)[-1]
    sent = uploads(h)
    await h.choose(VILLAGE_ADMIN_XF, "先锋社区第2网格")
    await h.drain_outbox()
    ((chat, name, data),) = sent
    assert (chat, name) == (VILLAGE_ADMIN_XF, "二维码张贴-XF02.png")
    assert decoded(Image.open(BytesIO(data))) == {link("a-XF02"), link("t-XF02")}
    assert await audited(h, "posters") == [(VILLAGE_ADMIN_XF, "grid:XF02")]


async def test_a_worker_is_refused_and_it_is_audited(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/posters")
    assert "没有权限" in h.texts(WORKER_XF01)[-1]
    await h.press(VILLAGE_ADMIN_XF, "v1:po:a:sq")  # another village's: refused too
    await h.press(VILLAGE_ADMIN_XF, "v1:po:x:xf")  # a made-up button
    await h.drain_outbox()
    assert not documents(h, WORKER_XF01) and not documents(h, VILLAGE_ADMIN_XF)
    assert await audited(h, "denied:posters") == [
        (WORKER_XF01, None), (VILLAGE_ADMIN_XF, "village:sq"), (VILLAGE_ADMIN_XF, "village:xf"),
    ]  # fmt: skip
    assert await audited(h, "posters") == []


async def test_without_a_hotline_no_poster_is_made(config: Config, clock, tmp_path) -> None:
    town = config.town.model_copy(update={"hotline": ""})
    h = await Harness.start(config.model_copy(update={"town": town}), tmp_path / "p.sqlite3",
                            clock)  # fmt: skip
    try:
        await h.press(ADMIN, "v1:po:a:xf")
        assert "还没有设置镇疫情防控热线" in h.texts(ADMIN)[-1]
        await h.drain_outbox()
        assert not documents(h, ADMIN)
    finally:
        await h.stop()


@pytest.mark.parametrize(("user", "listed"), [(ADMIN, True), (VILLAGE_ADMIN_XF, True),
                                              (WORKER_XF01, False)])  # fmt: skip
async def test_help_lists_posters_for_those_who_may(harness: Harness, user: int,
                                                    listed: bool) -> None:  # fmt: skip
    await harness.text(user, "/help")
    assert ("/posters 二维码张贴" in harness.texts(user)[-1]) is listed


async def test_a_name_the_font_lacks_is_boxed_and_the_sender_told(harness: Harness) -> None:
    h = harness
    await hire(h.db, WORKER_SQ01, "worker", "SQ01", "王𠀀", "13800138003")
    sent = uploads(h)
    await h.press(ADMIN, "v1:po:g:SQ01")
    await h.drain_outbox()
    ((_, name, data),) = sent
    assert name == "二维码张贴-SQ01.png" and decoded(Image.open(BytesIO(data)))
    (document,) = documents(h, ADMIN)
    assert "注意：字体里没有“𠀀”，海报上印成了 □，请打印后用笔补上。" in document["caption"]
