"""The conversation runtime's rules (bot/flows/engine.py), run over every flow: restart mid-flow,
double tap, stale button, re-delivered update, cancel, timeout across a restart, edit from the
summary. Each flow is one row of FLOWS: how to start it, a valid first answer, how to reach
its end. Adding a flow to the suite is adding a row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from bot.actions import unit_reports as unit_report_actions
from bot.config import Config
from bot.domain import monitoring as dm
from bot.flows.engine import Flow, expire_drafts
from bot.runtime.clock import ManualClock
from bot.runtime.render import Renderer
from tests.conftest import SHANGHAI
from tests.harness import Harness
from tests.staff_helpers import ADMIN, RESIDENT, VADMIN_XF, WORKER_XF01, seed_invited, seed_report
from tests.test_arrival_flow import ID_NUMBER as RESIDENT_ID
from tests.test_arrival_flow import press_value
from tests.test_cases import ID_NUMBER, LEADER, PIN, report_case
from tests.test_checkins import at, monitored
from tests.test_invites import NEWCOMER, make_link
from tests.test_isolation import seed_arrival
from tests.test_mobilisation import file as file_roster
from tests.test_mobilisation import mobilise
from tests.test_samples import MANAGER as SITE_MANAGER
from tests.test_samples import SITE, seed_site, seed_stay
from tests.test_supplies import KEEPER as STORE_KEEPER
from tests.test_supplies import request_in_chat as request_supplies
from tests.test_tips import TIPSTER, send_tip
from tests.test_transfers import DISPATCHER
from tests.test_transfers import request as request_transfer
from tests.test_transfers import stay as seed_transfer_stay

Step = Callable[[Harness], Awaitable[None]]


@dataclass(frozen=True)
class FlowRow:
    name: str  # the draft's flow name
    user: int
    start: Step  # the command, deep link or button that opens it
    first: Step  # a valid answer to the first question
    to_end: Step  # the remaining answers, up to (not including) the final press
    end: str  # the callback value that finishes it (submit)
    table: str  # where the finished record is
    setup: Step | None = None
    already: str | None = None  # what a second press of ``end`` says, if the flow made a record
    edit: str | None = None  # an edit group on the summary card
    typed: bool = False  # ``end`` is typed, not pressed (a flow of one typed answer)
    document: dict | None = None  # the end is this document sent (``end``: its file's content)


async def _nothing(h: Harness) -> None:
    return None


# -- arrival ---------------------------------------------------------------------------------


async def arrival_start(h: Harness) -> None:
    await h.text(RESIDENT, "/arrive")


async def arrival_first(h: Harness) -> None:
    await press_value(h, RESIDENT, "self")


async def arrival_to_end(h: Harness) -> None:
    await h.text(RESIDENT, "张三")
    await h.text(RESIDENT, "13812345678")
    await h.text(RESIDENT, RESIDENT_ID)
    await h.choose(RESIDENT, "国内")
    await h.text(RESIDENT, "湖北省武汉市江汉区")
    await press_value(h, RESIDENT, "yes")
    await press_value(h, RESIDENT, "none")
    await press_value(h, RESIDENT, "today")
    await press_value(h, RESIDENT, "other")
    await press_value(h, RESIDENT, "xf")
    await press_value(h, RESIDENT, "XF01")
    await h.text(RESIDENT, "先锋街12号2单元301")
    await press_value(h, RESIDENT, "sanfan")
    await press_value(h, RESIDENT, "green")
    await press_value(h, RESIDENT, "no")
    await press_value(h, RESIDENT, "36.5")
    await press_value(h, RESIDENT, "none")
    await press_value(h, RESIDENT, "no")


# -- case ------------------------------------------------------------------------------------


async def case_start(h: Harness) -> None:
    await h.text(WORKER_XF01, "/case")


async def case_first(h: Harness) -> None:
    await press_value(h, WORKER_XF01, "suspected")


async def case_to_end(h: Harness) -> None:
    await press_value(h, WORKER_XF01, "now")
    await press_value(h, WORKER_XF01, "new")
    await h.text(WORKER_XF01, "张三丰")
    await h.text(WORKER_XF01, "138 1234 5678")
    await h.text(WORKER_XF01, ID_NUMBER)
    await press_value(h, WORKER_XF01, "xf")
    await press_value(h, WORKER_XF01, "XF01")
    await h.text(WORKER_XF01, "幸福小区3栋2单元501")
    await h.send(WORKER_XF01, location=PIN)
    await h.text(WORKER_XF01, "已居家隔离")


# -- contact (a case's close contact, from the worker's private case card) -------------------


async def contact_start(h: Harness) -> None:
    case = await h.db.fetchone("SELECT id FROM cases")
    await h.press(WORKER_XF01, f"v1:mj:{case['id']}:add")


async def contact_first(h: Harness) -> None:
    await press_value(h, WORKER_XF01, "new")


async def contact_to_end(h: Harness) -> None:
    await h.text(WORKER_XF01, "王五")
    await h.text(WORKER_XF01, "139 0000 1111")
    await press_value(h, WORKER_XF01, "skip")
    await press_value(h, WORKER_XF01, "sq")
    await press_value(h, WORKER_XF01, "SQ01")
    await h.text(WORKER_XF01, "石桥村3组12号")
    await press_value(h, WORKER_XF01, "close")
    await press_value(h, WORKER_XF01, "yesterday")
    await h.text(WORKER_XF01, "同桌吃饭")
    await press_value(h, WORKER_XF01, "skip")


# -- contact import: a leader sends the CDC's list of a case as a file -----------------------

IMPORT_FILE = {"file_id": "cdc1", "file_unique_id": "ucdc1", "file_name": "密接名单.csv"}
IMPORT_CSV = "姓名,手机号,住址,末次接触时间,网格\n王五,13900001111,石桥村3组12号,2020-10-25,SQ01\n"


async def contact_import_start(h: Harness) -> None:
    case = await h.db.fetchone("SELECT id FROM cases")
    await h.press(LEADER, f"v1:imp:{case['id']}")


# -- arrival import: a unit's liaison sends the unit's people as a file -----------------------

UNIT_LIAISON = 40401  # 先锋宾馆's (config.example.toml)
ARRIVALS_FILE = {"file_id": "unit1", "file_unique_id": "uunit1", "file_name": "住客.csv"}
ARRIVALS_CSV = (
    "姓名,手机号,证件号码,来自,途经,抵达日期,交通方式,健康码,体温,症状,入住日期,退房日期,房间号\n"
    "王五,13900001111,11010519491231002X,重庆市江津区,无,2020-10-25,其他,绿码,36.5,无,"
    "2020-10-25,2020-10-27,301\n"
)


async def arrival_import_start(h: Harness) -> None:
    await h.text(UNIT_LIAISON, "/import_arrivals")


# -- unit report: the liaison's 填报 on the daily unit report's card ---------------------------


async def unit_report_setup(h: Harness) -> None:
    h.clock.set(datetime(2020, 10, 26, 16, tzinfo=SHANGHAI))
    await unit_report_actions.ask_due(h.services)  # the card stays queued: not on screen


async def unit_report_start(h: Harness) -> None:
    due = await h.db.fetchone("SELECT id FROM unit_reports WHERE unit_id = 'xfhotel'")
    await h.press(UNIT_LIAISON, f"v1:ur:f:{due['id']}")  # the card's 填报


async def unit_report_first(h: Harness) -> None:
    await h.text(UNIT_LIAISON, "10")


async def unit_report_to_end(h: Harness) -> None:
    for count in ("2", "1", "0"):
        await h.text(UNIT_LIAISON, count)
    await press_value(h, UNIT_LIAISON, "skip")


# -- tip -------------------------------------------------------------------------------------


async def tip_start(h: Harness) -> None:
    await h.text(TIPSTER, "/tip")


async def tip_first(h: Harness) -> None:
    await press_value(h, TIPSTER, "gathering")


async def tip_to_end(h: Harness) -> None:
    await press_value(h, TIPSTER, "xf")
    await press_value(h, TIPSTER, "XF01")
    await h.text(TIPSTER, "先锋街12号2单元301")
    await h.text(TIPSTER, "二十多人在院子里打麻将")
    await press_value(h, TIPSTER, "today")
    await press_value(h, TIPSTER, "skip")


# -- tip check: a worker closes a tip with a note --------------------------------------------


async def tip_check_setup(h: Harness) -> None:
    await send_tip(h, name=None)
    await h.drain_outbox()


async def tip_check_start(h: Harness) -> None:
    """The tip card's "unfounded" button (v1:tp:u:<tip id>): the note is asked."""
    tip = await h.db.fetchone("SELECT id FROM tips")
    await h.press(WORKER_XF01, f"v1:tp:u:{tip['id']}")


# -- invite: a newcomer opens an invite link and binds it -------------------------------------


async def invite_setup(h: Harness) -> None:
    await make_link(h)


async def invite_start(h: Harness) -> None:
    invite = await h.db.fetchone("SELECT token FROM invites")
    await h.text(NEWCOMER, f"/start inv-{invite['token']}")


async def invite_first(h: Harness) -> None:
    await h.text(NEWCOMER, "王五")


async def invite_to_end(h: Harness) -> None:
    await h.text(NEWCOMER, "13700001111")


# -- verify: a worker confirms an arrival report from its card -------------------------------


async def verify_setup(h: Harness) -> None:
    await seed_report(h)


async def verify_start(h: Harness) -> None:
    """The card's "verified" button (v1:tk:ok:<report id>): the checks are asked."""
    report = await h.db.fetchone("SELECT id FROM reports")
    await h.press(WORKER_XF01, f"v1:tk:ok:{report['id']}")


async def verify_first(h: Harness) -> None:
    await press_value(h, WORKER_XF01, "both")


async def verify_to_end(h: Harness) -> None:
    await press_value(h, WORKER_XF01, "keep")
    await press_value(h, WORKER_XF01, "today")


# -- visit: a village admin (several grids: the grid is asked) visits a household ------------


async def visit_start(h: Harness) -> None:
    await h.text(VADMIN_XF, "/visit")


async def visit_first(h: Harness) -> None:
    await press_value(h, VADMIN_XF, "XF01")


async def visit_to_end(h: Harness) -> None:
    await h.text(VADMIN_XF, "先锋街12号2单元301")
    await press_value(h, VADMIN_XF, "no")
    await press_value(h, VADMIN_XF, "2")
    await h.text(VADMIN_XF, "36.5 36.7")
    await press_value(h, VADMIN_XF, "no")


# -- check-in answer: the temperature typed after "其他（直接输入）" on a prompt ------------------


async def checkin_setup(h: Harness) -> None:
    await monitored(h)
    await at(h, 26, 20)  # the evening prompt


async def checkin_start(h: Harness) -> None:
    """The prompt's "其他（直接输入）" (v1:ci:<monitoring>:<slot>:o): the temperature is asked."""
    m = await h.db.fetchone("SELECT id FROM monitoring")
    slot = dm.epoch(datetime(2020, 10, 26, 20, tzinfo=SHANGHAI))
    await h.press(RESIDENT, dm.CheckinAction(m["id"], slot, "other").encode())


# -- monitor: a worker stops a monitoring, with the reason ------------------------------------


async def monitor_start(h: Harness) -> None:
    """The /monitor card's "结束监测" (v1:mo:<monitoring>:stop:0): the reason is asked."""
    m = await h.db.fetchone("SELECT id FROM monitoring")
    await h.press(WORKER_XF01, dm.staff_callback(m["id"], "stop", "0"))


# -- direct-report number: a leader presses "已网络直报" and types the number -----------------


async def case_report_start(h: Harness) -> None:
    case = await h.db.fetchone("SELECT id FROM cases")
    await h.press(LEADER, f"v1:cs:{case['id']}:r")


# -- regions: an admin lists a key region in the chat ------------------------------------------


async def regions_start(h: Harness) -> None:
    await h.text(ADMIN, "/regions")


async def regions_first(h: Harness) -> None:
    await press_value(h, ADMIN, "add")


async def regions_to_end(h: Harness) -> None:
    await h.text(ADMIN, "湖北省武汉市江汉区")
    await press_value(h, ADMIN, "high")
    await h.text(ADMIN, "10月20日")
    await press_value(h, ADMIN, "none")


# -- isolation: a worker assigns an arrival under centralised isolation a site and a room ------


async def isolation_setup(h: Harness) -> None:
    await seed_arrival(h, "王一", 1)
    async with h.db.write() as conn:  # the example's GL01 takes people
        await conn.execute("UPDATE sites SET state = 'active' WHERE id = 'GL01'")


async def isolation_start(h: Harness) -> None:
    await h.text(WORKER_XF01, "/isolate")


async def isolation_first(h: Harness) -> None:
    await h.text(WORKER_XF01, (await h.db.fetchone("SELECT ref FROM reports"))["ref"])


async def isolation_to_end(h: Harness) -> None:
    await press_value(h, WORKER_XF01, "GL01")
    await press_value(h, WORKER_XF01, "101")


# -- samples: a site manager types the results of a floor ---------------------------------------


async def samples_setup(h: Harness) -> None:
    await seed_site(h)
    await seed_invited(h, SITE_MANAGER, "site_manager", SITE)
    await seed_stay(h, "301")


async def samples_start(h: Harness) -> None:
    await h.text(SITE_MANAGER, "/samples")


# -- transfers: an admin adds a vehicle; a dispatcher cancels a transfer with its reason -------


async def sites_start(h: Harness) -> None:
    await h.press(ADMIN, "v1:si:n")  # /sites' 新增隔离点


async def sites_first(h: Harness) -> None:
    await h.text(ADMIN, "杉坪村储备隔离点")


async def sites_to_end(h: Harness) -> None:
    await h.text(ADMIN, "江津区先锋镇杉坪村1号")
    await press_value(h, ADMIN, "sp")
    await h.text(ADMIN, "101-105")


async def vehicle_start(h: Harness) -> None:
    await h.press(ADMIN, "v1:vh:new")  # /vehicles' 添加车辆


async def vehicle_first(h: Harness) -> None:
    await h.text(ADMIN, "渝A·67890")


async def vehicle_to_end(h: Harness) -> None:
    await press_value(h, ADMIN, "transfer")
    await press_value(h, ADMIN, "skip")
    await press_value(h, ADMIN, "skip")


# -- roster: an admin files a person (/staff → 人员档案); /me's phone -------------------------


async def roster_start(h: Harness) -> None:
    await h.press(ADMIN, "v1:rs:n")  # the roster's 新建档案


async def roster_first(h: Harness) -> None:
    await h.text(ADMIN, "赵六")


async def roster_to_end(h: Harness) -> None:
    await h.text(ADMIN, "13912345678")
    for value in ("cadre", "xf", "skip", "driver", "done", "available"):
        await press_value(h, ADMIN, value)


async def roster_phone_start(h: Harness) -> None:
    await h.press(WORKER_XF01, "v1:rs:mp")  # /me's 修改手机号


async def transfer_setup(h: Harness) -> None:
    await request_transfer(h, await seed_transfer_stay(h))


async def transfer_cancel_start(h: Harness) -> None:
    transfer = await h.db.fetchone("SELECT id FROM transfers")
    await h.press(DISPATCHER, f"v1:zy:{transfer['id']}:x")


# -- mobilisation: an admin's call; a recipient's 无法到岗 with its reason ----------------------

CALLED = 61001  # on tests.test_mobilisation's roster


async def mobilise_setup(h: Harness) -> None:
    await file_roster(h)


async def mobilise_start(h: Harness) -> None:
    await h.text(ADMIN, "/mobilise")


async def mobilise_first(h: Harness) -> None:
    await press_value(h, ADMIN, "category")


async def mobilise_to_end(h: Harness) -> None:
    await press_value(h, ADMIN, "cadre")
    await press_value(h, ADMIN, "sq")
    await h.text(ADMIN, "石桥村村委会")
    await press_value(h, ADMIN, "now")
    await h.text(ADMIN, "协助核酸采样")
    await press_value(h, ADMIN, "no")


async def decline_setup(h: Harness) -> None:
    await file_roster(h)
    await mobilise(h)


async def decline_start(h: Harness) -> None:
    call = await h.db.fetchone("SELECT id FROM mobilisations")
    await h.press(CALLED, f"v1:dy:{call['id']}:d")


# -- supplies: a keeper's 入库, a village's request, the store keeper's refusal ----------------


async def supplies_start(h: Harness) -> None:
    await h.press(STORE_KEEPER, "v1:wz:r:town")  # /supplies' 入库


async def supplies_first(h: Harness) -> None:
    await press_value(h, STORE_KEEPER, "mask")


async def supplies_to_end(h: Harness) -> None:
    await h.text(STORE_KEEPER, "500")


async def supply_request_start(h: Harness) -> None:
    await h.press(VADMIN_XF, "v1:wz:q:v.xf")  # /supplies' 向镇物资库申请


async def supply_request_first(h: Harness) -> None:
    await press_value(h, VADMIN_XF, "mask")


async def supply_request_to_end(h: Harness) -> None:
    await h.text(VADMIN_XF, "300")
    await press_value(h, VADMIN_XF, "done")
    await press_value(h, VADMIN_XF, "skip")


async def supply_refuse_start(h: Harness) -> None:
    request = await h.db.fetchone("SELECT id FROM supply_requests")
    await h.press(STORE_KEEPER, f"v1:wz:no:{request['id']}")  # the request card's 拒绝


# -- exports: /export (the register, the range, the format), /audit (the range, the format) --


async def export_start(h: Harness) -> None:
    await h.text(ADMIN, "/export")


async def export_first(h: Harness) -> None:
    await h.choose(ADMIN, "来返人员")


async def export_to_end(h: Harness) -> None:
    await h.choose(ADMIN, "今天")


async def audit_start(h: Harness) -> None:
    await h.text(ADMIN, "/audit")


# -- stats: /stats' 自选日期, the range typed ------------------------------------------------


async def stats_range_start(h: Harness) -> None:
    await h.text(ADMIN, "/stats")
    await h.choose(ADMIN, "自选日期")


FLOWS = [
    FlowRow("arrival", RESIDENT, arrival_start, arrival_first, arrival_to_end, "submit",
            "reports", already="已经提交过", edit="name"),
    FlowRow("case", WORKER_XF01, case_start, case_first, case_to_end, "submit", "cases",
            already="已经上报过"),
    FlowRow("contact", WORKER_XF01, contact_start, contact_first, contact_to_end, "submit",
            "contacts", setup=report_case),
    FlowRow("contact_import", LEADER, contact_import_start, _nothing, _nothing, IMPORT_CSV,
            "case_contacts WHERE source = 'import'", setup=report_case, typed=True,
            document=IMPORT_FILE),
    FlowRow("arrival_import", UNIT_LIAISON, arrival_import_start, _nothing, _nothing,
            ARRIVALS_CSV, "reports WHERE unit_id = 'xfhotel'", typed=True,
            document=ARRIVALS_FILE),
    FlowRow("unit_report", UNIT_LIAISON, unit_report_start, unit_report_first,
            unit_report_to_end, "submit", "unit_reports WHERE state = 'filed'",
            setup=unit_report_setup),
    FlowRow("tip", TIPSTER, tip_start, tip_first, tip_to_end, "submit", "tips",
            already="已经提交过"),
    FlowRow("tip_check", WORKER_XF01, tip_check_start, _nothing, _nothing, "skip",
            "tip_actions WHERE action = 'unfounded'", setup=tip_check_setup),
    FlowRow("invite", NEWCOMER, invite_start, invite_first, invite_to_end, "yes",
            f"staff WHERE user_id = {NEWCOMER}", setup=invite_setup),
    FlowRow("verify", WORKER_XF01, verify_start, verify_first, verify_to_end, "skip",
            "verifications", setup=verify_setup),
    FlowRow("visit", VADMIN_XF, visit_start, visit_first, visit_to_end, "skip", "visits"),
    FlowRow("checkin", RESIDENT, checkin_start, _nothing, _nothing, "36.6",
            "checkins WHERE temperature IS NOT NULL", setup=checkin_setup, typed=True),
    FlowRow("monitor", WORKER_XF01, monitor_start, _nothing, _nothing, "已转运至集中隔离点",
            "monitoring WHERE state = 'stopped'", setup=monitored, typed=True),
    FlowRow("case_report", LEADER, case_report_start, _nothing, _nothing, "500116000120200042",
            "cases WHERE state = 'reported'", setup=report_case, typed=True),
    FlowRow("regions", ADMIN, regions_start, regions_first, regions_to_end, "submit",
            "region_changes WHERE source = 'chat'", already="已经提交过"),
    FlowRow("isolation", WORKER_XF01, isolation_start, isolation_first, isolation_to_end,
            "submit", "stays", setup=isolation_setup),
    FlowRow("samples", SITE_MANAGER, samples_start, _nothing, _nothing, "301 阴性",
            "stay_tests WHERE result = 'negative'", setup=samples_setup, typed=True),
    FlowRow("sites", ADMIN, sites_start, sites_first, sites_to_end, "all",
            "sites WHERE source = 'chat'"),
    FlowRow("vehicle", ADMIN, vehicle_start, vehicle_first, vehicle_to_end, "submit",
            "vehicles WHERE source = 'chat'"),
    FlowRow("roster", ADMIN, roster_start, roster_first, roster_to_end, "submit",
            f"roster WHERE created_by = {ADMIN}"),
    FlowRow("roster_phone", WORKER_XF01, roster_phone_start, _nothing, _nothing, "13700002222",
            "roster WHERE phone IS NOT NULL", typed=True),
    FlowRow("transfer_cancel", DISPATCHER, transfer_cancel_start, _nothing, _nothing,
            "人员已自行前往", "transfers WHERE state = 'cancelled'", setup=transfer_setup,
            typed=True),
    FlowRow("mobilise", ADMIN, mobilise_start, mobilise_first, mobilise_to_end, "submit",
            "mobilisations", setup=mobilise_setup),
    FlowRow("mobilise_decline", CALLED, decline_start, _nothing, _nothing, "正在隔离点值班",
            "mobilisation_calls WHERE state = 'declined'", setup=decline_setup, typed=True),
    FlowRow("supplies", STORE_KEEPER, supplies_start, supplies_first, supplies_to_end, "submit",
            "supply_moves"),
    FlowRow("supply_request", VADMIN_XF, supply_request_start, supply_request_first,
            supply_request_to_end, "submit", "supply_requests"),
    FlowRow("supply_refuse", STORE_KEEPER, supply_refuse_start, _nothing, _nothing,
            "镇库存不足", "supply_requests WHERE state = 'refused'", setup=request_supplies,
            typed=True),
    FlowRow("export", ADMIN, export_start, export_first, export_to_end, "xlsx",
            "audit WHERE action = 'export'"),
    FlowRow("audit_export", ADMIN, audit_start, export_to_end, _nothing, "xlsx",
            "audit WHERE action = 'audit.export'"),
    FlowRow("stats_range", ADMIN, stats_range_start, _nothing, _nothing,
            "2020-10-20 至 2020-10-26",
            """audit WHERE action = 'stats.view' AND detail LIKE '%"from": "2020-10-20"%'""",
            typed=True),
]  # fmt: skip
SUMMARY_FLOWS = [row for row in FLOWS if row.edit]
BUTTON_FLOWS = [row for row in FLOWS if not row.typed]  # typed: no buttons of their own


def ids(row: FlowRow) -> str:
    return row.name


async def opened(h: Harness, row: FlowRow) -> None:
    if row.setup is not None:
        await row.setup(h)
    await row.start(h)


async def draft(h: Harness, row: FlowRow) -> tuple[str, str] | None:
    found = await h.db.fetchone("SELECT flow, step FROM drafts WHERE user_id = ?", (row.user,))
    return (found["flow"], found["step"]) if found else None


async def count(h: Harness, table: str) -> int:
    return (await h.db.fetchone(f"SELECT COUNT(*) FROM {table}"))[0]


def button_data(h: Harness, row: FlowRow, value: str) -> str:
    return next(data for _, data in h.buttons(row.user) if data.endswith(f":{value}"))


def ender(h: Harness, row: FlowRow) -> Callable[[], dict]:
    """Makes the update that finishes the flow, a new one on each call (a second call: a
    double tap, or the answer sent twice): its end button pressed, or its end typed."""
    user = h.updates.user(row.user, "zh-hans")
    if row.document is not None:
        h.request.files[row.document["file_id"]] = row.end.encode()
        return lambda: h.updates.message(user, 0, document=row.document)
    if row.typed:
        return lambda: h.updates.message(user, 0, text=row.end)
    data = button_data(h, row, row.end)
    return lambda: h.updates.callback(user, 0, data)


def callback_answer(calls: list) -> str:
    return next(c for c in calls if c.method == "answerCallbackQuery").params.get("text", "")


@pytest.mark.parametrize("row", FLOWS, ids=ids)
async def test_restart_mid_flow_resumes_the_open_question(
    row: FlowRow, config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    try:
        await opened(h, row)
        await row.first(h)
        before = await draft(h, row)
        question = h.texts(row.user)[-1]
        await h.stop()
        await h.restart(path)
        assert await draft(h, row) == before
        await row.start(h)  # the flow's own way in, again: the open question comes back
        assert await draft(h, row) == before
        assert h.texts(row.user)[-1] == question
        assert "接着来" in h.texts(row.user)[-2]
        await row.to_end(h)
        await h.feed(ender(h, row)())
        assert await count(h, row.table) == 1
    finally:
        await h.stop()


@pytest.mark.parametrize("row", FLOWS, ids=ids)
async def test_double_tap_on_the_end_makes_one_record(harness: Harness, row: FlowRow) -> None:
    h = harness
    await opened(h, row)
    await row.first(h)
    await row.to_end(h)
    end = ender(h, row)
    await h.feed(end())
    second = await h.feed(end())
    assert await count(h, row.table) == 1
    assert await draft(h, row) is None
    if row.already:
        assert row.already in callback_answer(second)


@pytest.mark.parametrize("row", BUTTON_FLOWS, ids=ids)
async def test_a_stale_button_is_refused(harness: Harness, row: FlowRow) -> None:
    h = harness
    await opened(h, row)
    old = h.buttons(row.user)
    await row.first(h)
    at = await draft(h, row)
    if at is not None and old and at[1] != old[0][1].split(":")[3]:  # the step moved on
        calls = await h.press(row.user, old[0][1])
        assert "已经回答过了" in callback_answer(calls)
        assert await draft(h, row) == at
    if not old:  # the opening question is typed (invite): a later question's buttons serve
        await row.to_end(h)
        old = h.buttons(row.user)
    await h.text(row.user, "/cancel")
    calls = await h.press(row.user, old[0][1])  # a button of a draft that ended
    assert "已经结束" in callback_answer(calls)
    assert await draft(h, row) is None


@pytest.mark.parametrize("row", FLOWS, ids=ids)
async def test_a_redelivered_update_is_ignored(harness: Harness, row: FlowRow) -> None:
    h = harness
    await opened(h, row)
    await row.first(h)
    await row.to_end(h)
    payload = ender(h, row)()
    await h.feed(payload)
    await h.feed(payload)
    assert await count(h, row.table) == 1


@pytest.mark.parametrize("row", FLOWS, ids=ids)
async def test_a_redelivered_message_is_not_answered_twice(harness: Harness, row: FlowRow) -> None:
    h = harness
    await opened(h, row)
    await row.first(h)
    user = h.updates.user(row.user, "zh-hans")
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
    payload = h.updates.message(user, 0, photo=photo)  # refused here: the reason, the question
    at = await draft(h, row)
    assert len(await h.feed(payload)) == 2
    assert await h.feed(payload) == []
    assert await draft(h, row) == at


@pytest.mark.parametrize("row", FLOWS, ids=ids)
async def test_cancel_ends_the_draft(harness: Harness, row: FlowRow) -> None:
    h = harness
    await opened(h, row)
    await row.first(h)
    await h.text(row.user, "/cancel")
    assert "已取消" in h.texts(row.user)[-1]
    assert await draft(h, row) is None
    await h.text(row.user, "/cancel")
    assert "没有正在填写" in h.texts(row.user)[-1]


@pytest.mark.parametrize("row", FLOWS, ids=ids)
async def test_timeout_across_a_restart(
    row: FlowRow, config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "paicha.sqlite3"
    h = await Harness.start(config, path, clock)
    try:
        await opened(h, row)
        await row.first(h)
        await h.drain_outbox()
        await h.stop()
        clock.advance(minutes=45)  # the bot was down
        await h.restart(path)
        assert await expire_drafts(h.services) == 1
        assert await h.drain_outbox() == 1
        assert "自动结束" in h.texts(row.user)[-1]
        assert await draft(h, row) is None
        await row.start(h)  # it can be started again
        assert (await draft(h, row) or ("", ""))[0] == row.name
    finally:
        await h.stop()


@pytest.mark.parametrize("row", SUMMARY_FLOWS, ids=ids)
async def test_edit_from_the_summary(harness: Harness, row: FlowRow) -> None:
    h = harness
    await opened(h, row)
    await row.first(h)
    await row.to_end(h)
    assert (await draft(h, row))[1] == "summary"
    await press_value(h, row.user, "edit")
    await press_value(h, row.user, row.edit)
    await h.text(row.user, "李四")
    assert (await draft(h, row))[1] == "summary"
    assert "李四" in h.texts(row.user)[-1]
    await press_value(h, row.user, row.end)
    assert await count(h, row.table) == 1


def test_every_flow_is_in_the_suite() -> None:
    """A flow added to the runtime without a row here fails this test."""
    names = {cls.name for cls in _subclasses(Flow) if cls.name}
    assert names - {row.name for row in FLOWS} == set()


@pytest.mark.parametrize("locale, fallback", [("zh_CN", "填写"), ("en", "form")])
def test_every_flow_has_its_name_in_the_conversation_texts(locale: str, fallback: str) -> None:
    """Resume, cancel and timeout messages name the flow; an unnamed one reads "your form"."""
    renderer = Renderer()
    for cls in _subclasses(Flow):
        if cls.name:
            assert fallback not in renderer.text(locale, "conversation", "resume", flow=cls.name)


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]
