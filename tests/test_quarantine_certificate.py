"""Issue 10: an arrival from abroad who says "quarantine done" (第一入境地隔离期满后自驾返回)
is filed with the community screening group (备案), asked for the quarantine-release
certificate, and stays under key control until a worker has checked it."""

from __future__ import annotations

import json

from bot.actions import monitoring, regions
from bot.domain.roles import Actor
from tests.harness import Harness
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_arrival_vague_place import edit
from tests.test_cards_update import datas, edits
from tests.test_cases import LEADER, answers
from tests.test_regions_flow import add_region, lower_kashgar

OTHER_WORKER = 30003  # another village's grid


async def quarantine_done(h: Harness, certificate: str = "CERT-1") -> dict:
    await answer_to_summary(h, country="日本", category="quarantine_done", certificate=certificate)
    summary = h.texts(RESIDENT)[-1]
    receipt = await submit(h)
    await h.drain_outbox()
    report = await h.db.fetchone("SELECT * FROM reports")
    return {"summary": summary, "receipt": receipt, "report": report}


async def test_the_residents_word_keeps_key_control_and_files_the_report(
    harness: Harness,
) -> None:
    h = harness
    got = await quarantine_done(h)
    assert any("请拍照发送<b>解除隔离证明</b>" in t for t in h.texts(RESIDENT))
    assert "解除隔离证明：已上传照片" in got["summary"]
    report = got["report"]
    assert (report["risk"], report["alert"], report["measure_kind"]) == (
        "overseas", 1, "centralized_isolation")  # fmt: skip
    assert (report["certificate"], report["certificate_photo"]) == ("pending", "CERT-1")
    assert "境外入境" in got["receipt"] and "待网格员核验" in got["receipt"]
    filing = next(t for t in h.texts(LEADERS) if "报社区排查组备案" in t)
    assert "张*" in filing and "张三" not in filing and "待网格员核验" in filing
    task = next(t for t in h.texts(WORKER_XF01) if "请核验解除隔离证明" in t)
    assert "查看证明照片" in task
    labels = [label for label, _ in h.buttons(WORKER_XF01)]
    assert labels == ["🖼 查看证明照片", "✔️ 核验通过", "✖️ 不符，继续重点管控"]
    monitoring = await h.db.fetchone("SELECT kind FROM monitoring")
    assert monitoring["kind"] == "centralized_isolation"


async def test_a_worker_checks_the_certificate_and_the_measure_follows(harness: Harness) -> None:
    h = harness
    report = (await quarantine_done(h))["report"]
    rid = report["id"]
    await h.press(WORKER_XF01, f"v1:qc:{rid}:p")
    photo = [c for c in h.request.calls if c.method == "sendPhoto"]
    assert photo and photo[-1].params["photo"] == "CERT-1"
    assert int(photo[-1].params["chat_id"]) == WORKER_XF01
    await h.press(OTHER_WORKER, f"v1:qc:{rid}:ok")  # not their grid
    assert (await h.db.fetchone("SELECT certificate FROM reports"))["certificate"] == "pending"
    await h.press(WORKER_XF01, f"v1:qc:{rid}:ok")
    assert "已记录" in answers(h)[-1]
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM reports")
    assert (row["certificate"], row["certificate_by"]) == ("checked", WORKER_XF01)
    assert (row["risk"], row["alert"], row["measure_kind"]) == (
        "quarantine_done", 0, "home_monitoring")  # fmt: skip
    monitoring = await h.db.fetchone("SELECT kind, end_date FROM monitoring")
    assert (monitoring["kind"], monitoring["end_date"]) == ("home_monitoring", "2020-10-31")
    assert "核验通过" in h.texts(LEADERS)[-1] and "居家健康监测" in h.texts(LEADERS)[-1]
    assert "已由网格员核验通过" in h.texts(RESIDENT)[-1]
    actions = {r["action"] for r in await h.db.fetchall("SELECT action FROM audit")}
    assert {"certificate.view", "certificate.check"} <= actions
    await h.press(WORKER_XF01, f"v1:qc:{rid}:no")  # decided: said so
    assert "已经核验过了" in answers(h)[-1]


async def test_a_rejected_or_missing_certificate_stays_key_control(harness: Harness) -> None:
    h = harness
    report = (await quarantine_done(h, certificate="skip"))["report"]
    assert (report["certificate"], report["certificate_photo"]) == ("pending", None)
    task = next(t for t in h.texts(WORKER_XF01) if "请核验解除隔离证明" in t)
    assert "请上门查看原件" in task
    assert [label for label, _ in h.buttons(WORKER_XF01)] == [
        "✔️ 核验通过", "✖️ 不符，继续重点管控"]  # fmt: skip
    await h.press(WORKER_XF01, f"v1:qc:{report['id']}:no")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM reports")
    assert (row["certificate"], row["risk"], row["measure_kind"]) == (
        "rejected", "overseas", "centralized_isolation")  # fmt: skip
    assert "未通过核验" in h.texts(LEADERS)[-1] and "重点管控" in h.texts(LEADERS)[-1]
    assert "未通过核验" in h.texts(RESIDENT)[-1]


# --- the check outlives a re-screen; a case holds the measure; the cards follow -------------

SECOND = 30099  # a second worker of 先锋社区 XF01, bound by invite
CASE_REASON = "不能降低管控措施"


async def certified(h: Harness) -> dict:
    """An arrival from Japan who entered China at Shanghai (途经上海市浦东新区), certificate
    checked by the grid worker: home monitoring."""
    await answer_to_summary(h, country="日本", category="quarantine_done", certificate="CERT-1")
    await edit(h, "travel")
    await h.text(RESIDENT, "上海市浦东新区")
    await h.choose(RESIDENT, "对的")
    await submit(h)
    await h.drain_outbox()
    report = await h.db.fetchone("SELECT * FROM reports")
    await h.press(WORKER_XF01, f"v1:qc:{report['id']}:ok")
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM reports")
    assert (row["certificate"], row["risk"]) == ("checked", "quarantine_done")
    return dict(row)


async def test_a_certified_person_stays_certified_through_a_rescreen(harness: Harness) -> None:
    h = harness
    await regions.sync(h.services)  # the list in force is the baseline
    rid = (await certified(h))["id"]
    told = len(h.texts(RESIDENT))
    assert "已发布" in (await add_region(h, "上海市黄浦区", "medium"))[-1]  # Shanghai re-screened
    await h.drain_outbox()
    row = await h.db.fetchone("SELECT * FROM reports WHERE id = ?", (rid,))
    assert (row["certificate"], row["risk"], row["alert"], row["measure_kind"]) == (
        "checked", "quarantine_done", 0, "home_monitoring")  # fmt: skip
    assert json.loads(row["data"])["certificate_checked"] is True
    assert (await h.db.fetchone("SELECT kind FROM monitoring"))["kind"] == "home_monitoring"
    assert len(h.texts(RESIDENT)) == told  # no second "key control" notice


async def record_positive(h: Harness) -> None:
    """The grid worker records a positive nucleic-acid result (/monitor's 阳性)."""
    row = await h.db.fetchone("SELECT id FROM monitoring WHERE state = 'active'")
    worker = Actor(WORKER_XF01, worker_grids=frozenset({"XF01"}))
    day = h.services.local_today()
    assert await monitoring.record_test(h.services, worker, row["id"], day, None)
    assert await monitoring.record_test(h.services, worker, row["id"], day, "positive")
    await h.drain_outbox()
    case = await h.db.fetchone("SELECT confirmation FROM cases")
    assert case["confirmation"] == "pending"


async def test_a_recorded_positive_blocks_the_certificate_lowering(harness: Harness) -> None:
    h = harness
    rid = (await quarantine_done(h))["report"]["id"]
    await record_positive(h)
    await h.press(WORKER_XF01, f"v1:qc:{rid}:ok")
    assert CASE_REASON in answers(h)[-1] and "病例" in answers(h)[-1]
    row = await h.db.fetchone("SELECT * FROM reports")
    assert (row["certificate"], row["risk"], row["measure_kind"]) == (
        "pending", "overseas", "centralized_isolation")  # fmt: skip
    assert (await h.db.fetchone("SELECT kind FROM monitoring"))["kind"] == "centralized_isolation"
    # ruled out: the certificate can be checked again, and then it lowers
    case = await h.db.fetchone("SELECT id FROM cases")
    await h.press(LEADER, f"v1:cs:{case['id']}:x")
    await h.press(WORKER_XF01, f"v1:qc:{rid}:ok")
    assert "已记录" in answers(h)[-1]
    row = await h.db.fetchone("SELECT * FROM reports")
    assert (row["certificate"], row["risk"]) == ("checked", "quarantine_done")


async def test_a_recorded_positive_blocks_a_region_downgrade(harness: Harness) -> None:
    h = harness
    await regions.sync(h.services)
    await answer_to_summary(h, origin="新疆喀什")  # 喀什地区: high risk
    await submit(h)
    await h.drain_outbox()
    await record_positive(h)
    await lower_kashgar(h)
    await h.drain_outbox()
    await h.choose(WORKER_XF01, "确认降级")
    assert CASE_REASON in answers(h)[-1]
    row = await h.db.fetchone("SELECT risk, measure_kind FROM reports")
    assert (row["risk"], row["measure_kind"]) == ("high_risk", "centralized_isolation")
    proposal = await h.db.fetchone("SELECT state FROM region_proposals")
    assert proposal["state"] == "pending"


def task(h: Harness, worker: int) -> dict:
    """The certificate check task sent to ``worker``."""
    return next(c.params for c in h.request.sent_to(worker) if "v1:qc:" in str(c.params))


async def test_deciding_takes_the_buttons_off_every_workers_card(harness: Harness) -> None:
    h = harness
    async with h.db.write() as conn:
        await conn.execute(
            """INSERT INTO staff (user_id, role, scope, source, created_at)
               VALUES (?, 'worker', 'XF01', 'invite', ?)""",
            (SECOND, h.clock.now().isoformat()),
        )
    rid = (await quarantine_done(h))["report"]["id"]
    for worker in (WORKER_XF01, SECOND):
        assert f"v1:qc:{rid}:ok" in datas(task(h, worker))
    await h.press(SECOND, f"v1:qc:{rid}:no")
    await h.drain_outbox()
    for worker in (WORKER_XF01, SECOND):
        [taken] = edits(h, worker)
        assert datas(taken) == []
        assert "请核验解除隔离证明" in taken["text"]  # the card stays readable
        assert "已处理：未通过核验" in taken["text"]


async def test_an_english_worker_gets_the_task_in_english(harness: Harness) -> None:
    h = harness
    await h.text(WORKER_XF01, "/language")
    await h.press(WORKER_XF01, "v1:lang:en")
    rid = (await quarantine_done(h))["report"]["id"]
    card = task(h, WORKER_XF01)
    assert "Please check the quarantine release certificate" in card["text"]
    assert [b["text"] for b in card["reply_markup"]["inline_keyboard"][-1]] == [
        "✔️ Checked", "✖️ Not valid: keep key control"]  # fmt: skip
    filing = next(t for t in h.texts(LEADERS) if "报社区排查组备案" in t)  # the group: Chinese
    assert "张*" in filing
    await h.press(WORKER_XF01, f"v1:qc:{rid}:ok", "en")
    await h.drain_outbox()
    assert "Recorded" in answers(h)[-1]
    assert "checked" in edits(h, WORKER_XF01)[-1]["text"]
