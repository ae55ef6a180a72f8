"""The arrival self-report through PTB's real pipeline: what the resident sees, what is stored,
who is told."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config
from bot.runtime.clock import ManualClock
from tests.harness import Harness

RESIDENT = 424242
WORKER_XF01 = 30001
LEADERS = -1001234567890
ID_NUMBER = "11010519491231002X"
CHINESE_RECEIPT = "登记成功"


async def press_value(h: Harness, user: int, value: str, lang: str = "zh-hans") -> None:
    """Press the button of the newest keyboard whose callback data ends with ``:value``."""
    for _, data in h.buttons(user):
        if data.endswith(f":{value}"):
            await h.press(user, data, lang)
            return
    raise AssertionError(f"no button for {value!r} in {h.buttons(user)}")


async def answer_to_summary(h: Harness, user: int = RESIDENT, lang: str = "zh-hans",
                            origin: str = "湖北省武汉市江汉区", temperature: str = "36.5",
                            name: str = "张三", *, phone: str = "13812345678",
                            id_number: str = ID_NUMBER, country: str | None = None,
                            code: str = "green", symptoms: Sequence[str] = (),
                            village: str | None = "先锋社区", grid: str | None = "第1网格",
                            address: str | None = "先锋街12号2单元301", start: str = "/arrive",
                            companions: Sequence[tuple[str, str, str | None]] = (),
                            category: str = "sanfan", test_result: str | None = None,
                            certificate: str | None = None,
                            ) -> None:  # fmt: skip
    """Answer every question up to the summary card. ``village``/``grid``/``address`` None: not
    asked (a deep link or a door visit prefilled them); ``country``: arriving from abroad."""
    en = lang == "en"
    await h.text(user, start, lang)
    await h.choose(user, "Myself" if en else "本人", lang)
    await h.text(user, name, lang)
    await h.text(user, phone, lang)
    await h.text(user, id_number, lang)
    if country is None:
        await h.choose(user, "China" if en else "国内", lang)
        await h.text(user, origin, lang)
        await h.choose(user, "Yes" if en else "对的", lang)
    else:
        await press_value(h, user, "abroad", lang)
        await h.text(user, country, lang)
    await press_value(h, user, "none", lang)  # no other places passed through
    await h.text(user, "10月25日", lang)
    await h.choose(user, "Train" if en else "火车", lang)
    await h.text(user, "G1234", lang)
    if village is not None:
        await h.choose(user, village, lang)
    if grid is not None:
        await h.choose(user, grid, lang)
    if address is not None:
        await h.text(user, address, lang)
    await press_value(h, user, category, lang)
    if category == "quarantine_done":  # the release certificate: a photo, or "skip"
        if certificate == "skip":
            await press_value(h, user, "skip", lang)
        else:
            await h.send(user, lang, photo=[{"file_id": certificate, "file_unique_id": "c1",
                                             "width": 1, "height": 1}])  # fmt: skip
    await press_value(h, user, code, lang)
    if test_result is None:
        await press_value(h, user, "no", lang)  # no nucleic-acid test
    else:
        await press_value(h, user, "yes", lang)
        await press_value(h, user, "today", lang)
        await press_value(h, user, test_result, lang)
        await press_value(h, user, "skip", lang)  # no photo of the report
    await h.text(user, temperature, lang)
    for symptom in symptoms:
        await press_value(h, user, symptom, lang)
    await press_value(h, user, "done" if symptoms else "none", lang)
    if not companions:
        await press_value(h, user, "no", lang)
        return
    await press_value(h, user, "yes", lang)
    for index, (c_name, c_id, c_phone) in enumerate(companions):
        if index:
            await press_value(h, user, "add", lang)
        await h.text(user, c_name, lang)
        await h.text(user, c_id, lang)
        if c_phone is None:
            await press_value(h, user, "skip", lang)
        else:
            await h.text(user, c_phone, lang)
    await press_value(h, user, "done", lang)


async def submit(h: Harness, user: int = RESIDENT, lang: str = "zh-hans") -> str:
    """Press submit on the summary card; the receipt."""
    await press_value(h, user, "submit", lang)
    return h.texts(user)[-1]


async def count(h: Harness, table: str) -> int:
    row = await h.db.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
    return row["n"]


async def test_happy_path_zh(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    card = h.texts(RESIDENT)[-1]
    assert "请核对登记信息" in card
    assert "张三" in card and "13812345678" in card and "湖北省 武汉市 江汉区" in card
    await h.choose(RESIDENT, "确认提交")
    receipt = h.texts(RESIDENT)[-1]
    assert "登记成功" in receipt and "XF-20201026-0001" in receipt
    row = await h.db.fetchone("SELECT * FROM reports")
    assert row["ref"] == "XF-20201026-0001"
    assert row["grid_id"] == "XF01" and row["risk"] == "low"
    data = json.loads(row["data"])
    assert data["trip"] == "G1234" and data["temperature"] == 36.5
    assert await h.db.fetchone("SELECT * FROM drafts") is None
    assert await h.drain_outbox() == 1
    notice = h.texts(WORKER_XF01)[-1]
    assert "XF-20201026-0001" in notice and "138****5678" in notice
    assert "13812345678" not in notice and ID_NUMBER not in notice
    assert h.texts(LEADERS) == []


async def test_happy_path_en(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h, lang="en")
    card = h.texts(RESIDENT)[-1]
    assert "Please check your registration" in card
    assert "张三" in card and "13812345678" in card and "请核对" not in card
    labels = [label for label, _ in h.buttons(RESIDENT)]
    assert any("Submit" in label for label in labels) and any("Edit" in label for label in labels)
    await h.choose(RESIDENT, "Submit", "en")
    receipt = h.texts(RESIDENT)[-1]
    assert "XF-20201026-0001" in receipt and "Registration complete" in receipt
    assert CHINESE_RECEIPT not in receipt and "风险类别" not in receipt
    row = await h.db.fetchone("SELECT * FROM reports")
    assert row["ref"] == "XF-20201026-0001" and row["locale"] == "en"
    # staff messages stay in the town's language whatever the resident speaks
    assert await h.drain_outbox() == 1
    assert "XF-20201026-0001" in h.texts(WORKER_XF01)[-1]


# -- deep links from the QR posters ---------------------------------------------------------


async def test_deep_link_grid_skips_village_and_grid(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/start a-XF01")
    intro = h.texts(RESIDENT)[-2]
    assert "先锋社区 先锋社区第1网格" in intro
    await answer_to_summary(h, start="/noop", village=None, grid=None)
    asked = "\n".join(h.texts(RESIDENT))
    assert "现在住在哪个村" not in asked and "属于哪个网格" not in asked
    card = h.texts(RESIDENT)[-1]
    assert "住址：先锋社区 先锋社区第1网格 先锋街12号2单元301" in card
    await submit(h)
    row = await h.db.fetchone("SELECT village_id, grid_id FROM reports")
    assert (row["village_id"], row["grid_id"]) == ("xf", "XF01")


async def test_deep_link_village_skips_only_the_village(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/start a-xf")
    assert "先锋社区" in h.texts(RESIDENT)[-2]
    await answer_to_summary(h, start="/noop", village=None, grid="第2网格")
    asked = "\n".join(h.texts(RESIDENT))
    assert "现在住在哪个村" not in asked and "属于哪个网格" in asked
    await submit(h)
    row = await h.db.fetchone("SELECT village_id, grid_id FROM reports")
    assert (row["village_id"], row["grid_id"]) == ("xf", "XF02")


async def test_deep_link_unknown_payload_shows_menu_with_note(harness: Harness) -> None:
    h = harness
    calls = await h.text(RESIDENT, "/start a-NOWHERE9")
    assert len(calls) == 1
    text = calls[0].params["text"]
    assert "二维码链接无法识别" in text and "先锋镇" in text
    assert any("到达登记" in label for label, _ in h.buttons(RESIDENT))
    assert await h.db.fetchone("SELECT * FROM drafts") is None


async def test_plain_start_has_no_bad_link_note(harness: Harness) -> None:
    calls = await harness.text(RESIDENT, "/start")
    assert "无法识别" not in calls[-1].params["text"]


# -- correcting answers from the summary card -----------------------------------------------


async def test_edit_fields_from_summary(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await h.choose(RESIDENT, "修改")
    await h.choose(RESIDENT, "手机号")
    assert "请输入手机号" in h.texts(RESIDENT)[-1]
    await h.text(RESIDENT, "13998765432")
    card = h.texts(RESIDENT)[-1]
    assert "请核对登记信息" in card and "手机号：13998765432" in card
    assert "13812345678" not in card

    await h.choose(RESIDENT, "修改")
    await h.choose(RESIDENT, "从哪里来")
    await h.choose(RESIDENT, "国内")
    await h.text(RESIDENT, "四川省成都市武侯区")
    await h.choose(RESIDENT, "对的")
    card = h.texts(RESIDENT)[-1]
    assert "请核对登记信息" in card and "四川省 成都市 武侯区" in card
    assert "武汉" not in card

    await h.choose(RESIDENT, "修改")
    await h.choose(RESIDENT, "住址")
    await h.choose(RESIDENT, "石桥村")
    await h.choose(RESIDENT, "第1网格")
    await h.text(RESIDENT, "石桥村5组8号")
    card = h.texts(RESIDENT)[-1]
    assert "住址：石桥村 石桥村第1网格 石桥村5组8号" in card
    # the rest unchanged
    assert "姓名：张三" in card and "手机号：13998765432" in card and "G1234" in card
    assert "体温：36.5℃" in card

    await submit(h)
    row = await h.db.fetchone("SELECT * FROM reports")
    assert row["grid_id"] == "SQ01" and row["address"] == "石桥村5组8号"
    data = json.loads(row["data"])
    assert data["phone"] == "13998765432" and data["origin"]["city"] == "成都市"
    assert "editing" not in data
    person = await h.db.fetchone("SELECT phone FROM persons WHERE idx = 0")
    assert person["phone"] == "13998765432"


# -- /cancel --------------------------------------------------------------------------------


async def test_cancel_in_the_middle(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    await h.text(RESIDENT, "张三")
    assert await h.db.fetchone("SELECT * FROM drafts") is not None
    calls = await h.text(RESIDENT, "/cancel")
    assert "已取消" in calls[-1].params["text"]
    assert calls[-1].params["reply_markup"] == {"remove_keyboard": True}
    assert await h.db.fetchone("SELECT * FROM drafts") is None
    assert await count(h, "reports") == 0
    # a later answer is not taken as part of the cancelled report
    calls = await h.text(RESIDENT, "13812345678")
    assert "请点下面的按钮" in calls[-1].params["text"]  # the menu, as buttons
    assert "📝 到达登记" in [label for label, _ in h.buttons(RESIDENT)]
    assert await h.db.fetchone("SELECT * FROM drafts") is None


async def test_cancel_with_nothing_open(harness: Harness) -> None:
    calls = await harness.text(RESIDENT, "/cancel")
    assert "现在没有正在填写的内容" in calls[-1].params["text"]
    assert await count(harness, "drafts") == 0


async def test_cancel_button_on_the_summary(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    await press_value(h, RESIDENT, "cancel")
    assert "已取消" in h.texts(RESIDENT)[-1]
    assert await count(h, "drafts") == 0 and await count(h, "reports") == 0


# -- idempotence ----------------------------------------------------------------------------


async def test_double_submit_makes_one_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    submit_data = next(d for _, d in h.buttons(RESIDENT) if d.endswith(":submit"))
    await h.press(RESIDENT, submit_data)
    sent = len(h.texts(RESIDENT))
    calls = await h.press(RESIDENT, submit_data)
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert len(answers) == 1
    assert "已经提交过" in answers[0].params["text"]
    assert "XF-20201026-0001" in answers[0].params["text"]
    assert len(h.texts(RESIDENT)) == sent  # no second receipt
    assert await count(h, "reports") == 1 and await count(h, "persons") == 1
    assert await h.drain_outbox() == 1
    assert len(h.texts(WORKER_XF01)) == 1


async def test_redelivered_update_changes_nothing(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    payload = h.updates.message(h.updates.user(RESIDENT), int(h.clock.now().timestamp()),
                                text="张三")  # fmt: skip
    await h.feed(payload)
    before = await h.db.fetchone("SELECT step, data, updated_at FROM drafts")
    assert before["step"] == "phone"
    h.clock.advance(minutes=1)
    calls = await h.feed(payload)
    assert calls == []
    after = await h.db.fetchone("SELECT step, data, updated_at FROM drafts")
    assert tuple(after) == tuple(before)


async def test_redelivered_button_press_changes_nothing(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    data = next(d for _, d in h.buttons(RESIDENT) if d.endswith(":self"))
    payload = h.updates.callback(h.updates.user(RESIDENT), int(h.clock.now().timestamp()), data)
    await h.feed(payload)
    await h.text(RESIDENT, "张三")
    before = await h.db.fetchone("SELECT step, data FROM drafts")
    calls = await h.feed(payload)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    after = await h.db.fetchone("SELECT step, data FROM drafts")
    assert tuple(after) == tuple(before) and after["step"] == "phone"


async def test_redelivered_submit_makes_one_report(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    data = next(d for _, d in h.buttons(RESIDENT) if d.endswith(":submit"))
    payload = h.updates.callback(h.updates.user(RESIDENT), int(h.clock.now().timestamp()), data)
    await h.feed(payload)
    await h.feed(payload)
    assert await count(h, "reports") == 1
    assert sum(CHINESE_RECEIPT in t for t in h.texts(RESIDENT)) == 1
    assert await count(h, "audit") == 1


# -- a restart in the middle -----------------------------------------------------------------


async def test_restart_in_the_middle_continues(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    await h.text(RESIDENT, "张三")
    await h.text(RESIDENT, "13812345678")
    phone_question = h.texts(RESIDENT)[-1]
    assert "身份证号" in phone_question
    updates = h.updates
    await h.stop()

    h = await Harness.start(config, path, clock)
    h.updates = updates  # Telegram's update ids go on increasing across our restart
    try:
        clock.advance(minutes=5)
        calls = await h.text(RESIDENT, ID_NUMBER)
        assert "从哪里来" in calls[-1].params["text"]  # the question after the ID number
        draft = await h.db.fetchone("SELECT step, data FROM drafts")
        assert draft["step"] == "region_kind"
        assert json.loads(draft["data"])["name"] == "张三"
        await h.choose(RESIDENT, "国内")
        await h.text(RESIDENT, "湖北省武汉市江汉区")
        await h.choose(RESIDENT, "对的")
        await press_value(h, RESIDENT, "none")
        await h.text(RESIDENT, "10月25日")
        await h.choose(RESIDENT, "火车")
        await h.text(RESIDENT, "G1234")
        await h.choose(RESIDENT, "先锋社区")
        await h.choose(RESIDENT, "第1网格")
        await h.text(RESIDENT, "先锋街12号2单元301")
        for value in ("sanfan", "green", "no"):
            await press_value(h, RESIDENT, value)
        await h.text(RESIDENT, "36.5")
        await press_value(h, RESIDENT, "none")
        await press_value(h, RESIDENT, "no")
        receipt = await submit(h)
        assert CHINESE_RECEIPT in receipt and "XF-20201026-0001" in receipt
        person = await h.db.fetchone("SELECT * FROM persons")
        assert (person["name"], person["phone"], person["id_number"]) == (
            "张三", "13812345678", ID_NUMBER)  # fmt: skip
    finally:
        await h.stop()


async def test_edit_takes_the_buttons_off_the_old_card(harness: Harness) -> None:
    h = harness
    await answer_to_summary(h)
    card_buttons = h.buttons(RESIDENT)
    calls = await h.choose(RESIDENT, "修改")
    cleared = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert len(cleared) == 1 and "reply_markup" not in cleared[0].params
    assert [label for label, _ in h.buttons(RESIDENT)][:3] == ["登记对象", "姓名", "手机号"]
    await h.choose(RESIDENT, "姓名")
    await h.text(RESIDENT, "张叁")
    assert "姓名：张叁" in h.texts(RESIDENT)[-1]
    assert h.buttons(RESIDENT) == card_buttons  # the same draft's card, with fresh data


async def test_submit_after_the_grid_left_the_config_asks_for_the_place(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    """A draft restored after a restart whose config no longer has the draft's grid."""
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    await h.text(RESIDENT, "/start a-XF02")
    await answer_to_summary(h, start="/noop", village=None, grid=None)
    submit_data = next(d for _, d in h.buttons(RESIDENT) if d.endswith(":submit"))
    updates = h.updates
    await h.stop()
    xf = config.village("xf")
    renamed = xf.model_copy(update={"grids": tuple(g for g in xf.grids if g.id != "XF02")})
    changed = config.model_copy(
        update={"villages": tuple(renamed if v.id == "xf" else v for v in config.villages)}
    )
    h = await Harness.start(changed, path, clock)
    h.updates = updates
    try:
        await h.press(RESIDENT, submit_data)
        assert "还有必填的信息没填完" in h.texts(RESIDENT)[-2]
        assert "现在住在哪个村" in h.texts(RESIDENT)[-1]
        assert await count(h, "reports") == 0
        await h.choose(RESIDENT, "先锋社区")
        await h.choose(RESIDENT, "第1网格")
        await h.text(RESIDENT, "先锋街12号2单元301")
        assert "住址：先锋社区 先锋社区第1网格" in h.texts(RESIDENT)[-1]
        await submit(h)
        row = await h.db.fetchone("SELECT grid_id FROM reports")
        assert row["grid_id"] == "XF01"
    finally:
        await h.stop()


async def test_an_edited_message_is_not_an_answer(harness: Harness) -> None:
    """Editing an earlier answer in Telegram must not answer the question now open."""
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    await h.text(RESIDENT, "张三")
    await h.text(RESIDENT, "13812345678")
    payload = h.updates.message(h.updates.user(RESIDENT), int(h.clock.now().timestamp()),
                                text=ID_NUMBER)  # fmt: skip
    payload["edited_message"] = {**payload.pop("message"), "edit_date": payload["update_id"]}
    before = await h.db.fetchone("SELECT step, data FROM drafts")
    await h.feed(payload)
    after = await h.db.fetchone("SELECT step, data FROM drafts")
    assert tuple(after) == tuple(before) and after["step"] == "id_number"


async def test_shared_contact_answers_the_phone_question(harness: Harness) -> None:
    h = harness
    await h.text(RESIDENT, "/arrive")
    await h.choose(RESIDENT, "本人")
    await h.text(RESIDENT, "张三")
    markup = h.request.sent_to(RESIDENT)[-1].params["reply_markup"]
    assert markup["keyboard"][0][0]["request_contact"] is True
    await h.send(RESIDENT, contact={"phone_number": "+86 138 1234 5678", "first_name": "张三",
                                    "user_id": RESIDENT})  # fmt: skip
    row = await h.db.fetchone("SELECT step, data FROM drafts")
    assert row["step"] == "id_number" and '"phone": "13812345678"' in row["data"]
