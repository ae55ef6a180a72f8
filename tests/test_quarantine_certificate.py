"""Issue 10: an arrival from abroad who says "quarantine done" (第一入境地隔离期满后自驾返回)
is filed with the community screening group (备案), asked for the quarantine-release
certificate, and stays under key control until a worker has checked it."""

from __future__ import annotations

from tests.harness import Harness
from tests.test_arrival_flow import LEADERS, RESIDENT, WORKER_XF01, answer_to_summary, submit
from tests.test_cases import answers

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
