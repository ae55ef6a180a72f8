"""The web page in a real browser: headless Chromium (Debian's ``chromium``, driven by
Playwright) completes an arrival report by clicking in the resident's column and sees the
alert arrive in the leadership group's column. The bot is the real one (the ``live``
fixture); every wait is one of Playwright's auto-waiting expectations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import Live

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 30_000  # a loaded machine: the bot answers in milliseconds, but allow for it
WIDTH = 1700  # a common laptop screen at 100 %
# Whether a font stack draws a character: some ink, and not the same picture as a private-use
# character no font has (the "tofu" box). Canvas text uses the page's fonts and fallbacks.
DRAWS = """async ([family, ch]) => {
  await document.fonts.ready;
  await document.fonts.load(`40px ${family}`, ch);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext("2d");
  const draw = (c) => {
    ctx.clearRect(0, 0, 64, 64);
    ctx.font = `40px ${family}`;
    ctx.fillText(c, 4, 48);
    return canvas.toDataURL();
  };
  const blank = draw(" ");
  const tofu = draw("\ue000");
  const drawn = draw(ch);
  return drawn !== blank && drawn !== tofu;
}"""


def chromium() -> str:
    """Debian's Chromium: Playwright's own browser download cannot work offline."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM}): `apt-get install chromium` "
            "(bin/test does it when run as root)"
        )
    return path


async def test_an_arrival_reported_in_the_browser_alerts_the_leadership_column(
    live: Live,
) -> None:
    executable = chromium()
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test]'")

    phone = live.world.person("resident1").phone
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page(locale="zh-CN", viewport={"width": WIDTH, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            async def share_phone(dialog) -> None:  # the "📱 send my number" prompt
                await dialog.accept(phone)

            page.on("dialog", share_phone)
            await page.goto(live.url)

            def column(key: str):
                return page.locator(
                    "section.column", has=page.locator(".col-sub", has_text=f"{key} · ")
                )

            me, leaders = column("resident1"), column("leaders")
            messages = me.locator(".messages")

            # the group column: on screen at 1700 px, and no START button (a group has none)
            await expect(leaders).to_be_in_viewport(ratio=1.0, timeout=WAIT_MS)
            await expect(leaders.locator("button.start")).to_be_hidden()
            await expect(me.locator("button.start")).to_be_visible()
            # the full drill is the one offered; the key regions in force are named
            await expect(page.locator("#scenario")).to_have_value("drill.toml")
            await expect(page.locator("#regions")).to_contain_text("演示用重点地区名单")
            await expect(page.locator("#regions")).to_contain_text(
                "新疆维吾尔自治区 喀什地区 高风险（自2020-10-24起"
            )

            async def press(label: str) -> None:
                """Click the newest inline button with this label (it waits for it)."""
                await me.locator(".inline-kb button", has_text=label).last.click(timeout=WAIT_MS)

            async def answer(question: str, text: str) -> None:
                """Wait to be asked, then type the answer and press Enter."""
                await expect(messages).to_contain_text(question, timeout=WAIT_MS)
                box = me.locator(".composer textarea")
                await box.fill(text)
                await box.press("Enter")
                await expect(messages.locator(".msg.mine").last).to_contain_text(
                    text, timeout=WAIT_MS
                )

            # the resident scans grid XF01's poster: START with the deep link a-XF01
            await me.locator("select.payload").select_option("a-XF01")
            await me.locator("button.start").click()
            await expect(messages).to_contain_text("先锋社区第1网格", timeout=WAIT_MS)
            await press("本人")
            await answer("请输入您的真实姓名", "张伟")
            await expect(messages).to_contain_text("请输入手机号", timeout=WAIT_MS)
            await me.locator(".reply-keyboard button", has_text="手机号").click(timeout=WAIT_MS)
            await answer("身份证号", "11010519491231002X")
            await press("国内")
            await answer("请写到区县", "新疆喀什地区喀什市")
            await press("对的")
            await press("没有途经其他地方")
            await press("昨天")
            await press("火车")
            await answer("请输入车次", "T9484")
            await answer("请输入详细住址", "先锋街12号2单元301")
            await press("四外")
            await press("绿码")
            await press("没有做过")
            await answer("请量一下体温", "36.6")
            await press("以上都没有")
            await press("没有，就这些")
            await expect(messages).to_contain_text("请核对登记信息", timeout=WAIT_MS)
            await press("确认提交")
            await expect(messages).to_contain_text("登记成功", timeout=WAIT_MS)

            # the leadership group's column: the alert, with the phone masked
            await expect(leaders.locator(".messages")).to_contain_text(
                "重点人员到达", timeout=WAIT_MS
            )
            alert = leaders.locator(".msg", has_text="重点人员到达")
            await expect(alert).to_contain_text("XF-20201120-0001")
            await expect(alert).to_contain_text("138****0001")
            await expect(alert).not_to_contain_text(phone)
            # the log panel opens (a full log: every column shrinks a lot); the resident's
            # column must still follow what comes next
            for n in range(40):
                live.control.say(f"第{n}行：体温38.5℃")
            await page.locator("#log-toggle").click()
            await expect(page.locator("#log")).to_contain_text("第39行", timeout=WAIT_MS)
            count = await messages.locator(".msg").count()
            await answer("登记成功", "/start")
            await expect(messages.locator(".msg")).to_have_count(count + 2, timeout=WAIT_MS)
            gap = await messages.evaluate("b => b.scrollHeight - b.scrollTop - b.clientHeight")
            assert gap < 40, f"the column stopped {gap} px above its newest message"
            # ℃ in a message, Chinese in the drill log's monospace font: drawn, not blank
            for selector, text in ((".msg", "38.5℃"), ("#log", "体温")):
                family = await page.locator(selector).first.evaluate(
                    "n => getComputedStyle(n).fontFamily"
                )
                for ch in text:
                    assert await page.evaluate(DRAWS, [family, ch]), (
                        f"{ch!r} is not drawn in {selector}'s font: {family}"
                    )
            # emoji, with no emoji font on the machine: the page's own (static/emoji.ttf)
            family = await alert.evaluate("n => getComputedStyle(n).fontFamily")
            for ch in ("🚨", "✅", "📍"):
                assert await page.evaluate(DRAWS, [family, ch]), (
                    f"{ch!r} is not drawn in a message's font: {family}"
                )
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            await browser.close()
