"""A neighbour's tip (/tip) through the real bot process: the tipster's answers, the card to
the grid worker, the worker's checking, and the closing message back to the tipster, who
stays anonymous throughout."""

from __future__ import annotations

from tests.e2e.conftest import Live

TIPSTER = "neighbour"  # 陈大妈
WORKER = "worker_XF01"


def newest(live: Live, key: str, needle: str) -> str:
    found = [t for t in live.texts(key) if needle in t]
    assert found, f"no message containing {needle!r} in {key}: {live.texts(key)}"
    return found[-1]


async def test_a_tip_from_the_neighbour_to_its_verification(live: Live) -> None:
    p = live.player()
    await p.act(TIPSTER, "text", text="/tip")
    await p.act(TIPSTER, "press", label="未登记")  # 有人从重点地区或境外来镇未登记
    await p.act(TIPSTER, "press", label="先锋社区")
    await p.act(TIPSTER, "press", label="先锋社区第1网格")
    await p.act(TIPSTER, "text", text="先锋街8号")
    # two answers to an address ("地点已记下", then the next question): read the question
    await p.act(TIPSTER, "wait_for", text="姓名吗")
    await p.act(TIPSTER, "text", text="李四")  # the person's name
    await p.act(TIPSTER, "press", label="跳过")  # phone unknown
    await p.act(TIPSTER, "press", label="租户")
    await p.act(TIPSTER, "press", label="跳过")  # nothing to add
    await p.act(TIPSTER, "press", label="今天")
    await p.act(TIPSTER, "press", label="跳过")  # no photo
    await p.act(TIPSTER, "press", label="提交")
    await p.act(TIPSTER, "wait_for", text="线索已收到")
    receipt = newest(live, TIPSTER, "线索已收到")
    ref = receipt.split("编号")[1].split("。")[0].strip()
    assert ref.startswith("XF-XS-20201120-"), receipt

    # the grid worker's card: what to check, by when, and nothing about who wrote
    await p.act(None, "wait_for", chat=WORKER, text=ref)
    card = newest(live, WORKER, ref)
    assert "新线索" in card and "李四" in card and "先锋街8号" in card
    tipster = live.world.person(TIPSTER)
    for secret in (tipster.first_name, tipster.phone, str(tipster.user_id)):
        assert secret not in card, f"the card names the tipster: {secret}"

    await p.act(WORKER, "press", label="开始核查")
    await p.act(WORKER, "wait_for", text="正在核查")
    await p.act(WORKER, "press", label="情况不属实")
    await p.act(WORKER, "text", text="核实为本地常住人员，未外出")
    await p.act(WORKER, "wait_for", text="已办结")

    # the tipster hears the outcome, and nothing about the person
    await p.act(None, "wait_for", chat=TIPSTER, text="核查完毕")
    closing = newest(live, TIPSTER, "核查完毕")
    assert ref in closing and "情况不属实" in closing
    assert "李四" not in closing and "先锋街" not in closing
    # not about symptoms: the leadership group is not bothered
    assert not any(ref in t for t in live.texts("leaders"))
