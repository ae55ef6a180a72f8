"""The mobilisation rules (bot.domain.mobilisation) as known-answer tables: which answer may
follow which, the roll-call's counts, the caller's form (paths, narrowing, named people's
toggles and pages), the roster filters of a target, the ladder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.actions import mobilisation as actions
from bot.domain import mobilisation as m
from bot.domain.escalation import Rung
from bot.domain.invalid import Invalid

CTX = m.Context(categories=("cadre", "volunteer"), villages=("xf", "sq"),
                skills=("driver", "english"))  # fmt: skip


@pytest.mark.parametrize(
    ("state", "answer", "allowed"),
    [
        ("sent", "received", True),
        ("sent", "arrived", True),  # 到岗 without 收到 first
        ("sent", "declined", True),
        ("received", "received", False),  # pressed twice
        ("received", "arrived", True),
        ("received", "declined", True),
        ("declined", "received", True),  # could come after all
        ("declined", "arrived", True),
        ("declined", "declined", False),
        ("arrived", "received", False),  # 到岗 is final
        ("arrived", "arrived", False),
        ("arrived", "declined", False),
        ("unreachable", "received", False),  # never got the message
        ("unreachable", "arrived", False),
        ("sent", "sent", False),
    ],
)
def test_which_answer_may_follow(state: str, answer: str, allowed: bool) -> None:
    assert m.may_answer(state, answer) is allowed


def test_tally_counts_every_state() -> None:
    assert m.tally(["sent", "arrived", "sent", "declined", "unreachable"]) == {
        "received": 0, "arrived": 1, "declined": 1, "sent": 2, "unreachable": 1}  # fmt: skip
    assert m.tally([]) == dict.fromkeys(m.STATES, 0)


@pytest.mark.parametrize(
    ("count", "limit", "listed", "more"),
    [(0, 3, 0, 0), (2, 3, 2, 0), (3, 3, 3, 0), (4, 3, 3, 1), (10, 0, 0, 10)],
)
def test_shown_lists_the_first_and_counts_the_rest(count: int, limit: int, listed: int,
                                                   more: int) -> None:  # fmt: skip
    names, rest = m.shown([f"n{i}" for i in range(count)], limit)
    assert (names, rest) == ([f"n{i}" for i in range(listed)], more)


def test_the_ladder_reminds_then_the_village_admin_then_the_group() -> None:
    assert m.ladder(10, 20, 40) == (Rung("assignee", 10), Rung("village_admin", 20),
                                    Rung("leadership", 40))  # fmt: skip


def test_subject() -> None:
    assert m.subject(7) == "mobilisation:7"


@pytest.mark.parametrize(
    ("data", "filters"),
    [
        ({"target": "category", "category": "cadre", "village": "sq"},
         {"category": "cadre", "village_id": "sq", "skill": None, "available_only": True}),
        ({"target": "category", "category": "cadre", "village": None},
         {"category": "cadre", "village_id": None, "skill": None, "available_only": True}),
        ({"target": "village", "village": "xf", "category": None},
         {"category": None, "village_id": "xf", "skill": None, "available_only": True}),
        ({"target": "skill", "skill": "driver", "village": "xf"},
         {"category": None, "village_id": "xf", "skill": "driver", "available_only": True}),
        ({"target": "people", "people": [3, 1]}, {"ids": (3, 1)}),
    ],
)  # fmt: skip
def test_selection_of_each_target(data: dict, filters: dict) -> None:
    assert m.selection(data) == filters


def test_target_keeps_the_kind_and_its_choices() -> None:
    assert m.target({"target": "category", "category": "cadre", "village": "sq", "place": "x"}) \
        == {"kind": "category", "category": "cadre", "village": "sq"}  # fmt: skip
    assert m.target({"target": "people", "people": [2]}) == {"kind": "people", "people": [2]}


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("category", ["category", "village", "place", "when", "task", "drill", "summary"]),
        ("village", ["village", "category", "place", "when", "task", "drill", "summary"]),
        ("skill", ["skill", "village", "place", "when", "task", "drill", "summary"]),
    ],
)
def test_each_target_has_its_path_then_the_details(target: str, path: list[str]) -> None:
    step, data = m.advance("target", {"target": target}, {})
    walked = [step]
    while step != "summary":
        step, data = m.advance(step, {step: "x"}, data)
        walked.append(step)
    assert walked == path


def test_a_new_target_forgets_the_old_choices() -> None:
    old = {"target": "category", "category": "cadre", "village": "sq", "people": [1], "page": 2}
    step, data = m.advance("target", {"target": "skill"}, old)
    assert (step, data) == ("skill", {"target": "skill"})


def test_narrowing_offers_any_but_the_target_itself_does_not() -> None:
    category = m.STEPS["category"]
    village = m.STEPS["village"]
    assert category.values({"target": "category"}, CTX) == ("cadre", "volunteer")
    assert village.values({"target": "category"}, CTX) == ("xf", "sq", "any")
    assert village.values({"target": "village"}, CTX) == ("xf", "sq")
    assert category.values({"target": "village"}, CTX) == ("cadre", "volunteer", "any")
    assert m.apply_choice(village, "any", {"target": "category"}, CTX) == {"village": None}
    assert m.apply_choice(village, "sq", {"target": "category"}, CTX) == {"village": "sq"}
    assert m.apply_choice(category, "any", {"target": "category"}, CTX) == Invalid("choice_stale")
    assert m.apply_choice(m.STEPS["drill"], "yes", {}, CTX) == {"drill": True}
    assert m.apply_choice(m.STEPS["drill"], "no", {}, CTX) == {"drill": False}


def _roster(count: int) -> list[list]:
    return [[i, f"人{i}"] for i in range(1, count + 1)]


def test_named_people_are_toggled_and_paged_until_done() -> None:
    step = m.STEPS["people"]
    data = {"target": "people", "roster": _roster(10)}
    assert step.values(data, CTX) == ("1", "2", "3", "4", "5", "6", "7", "8", "next", "done")
    assert m.apply_choice(step, "done", data, CTX) == Invalid("none_chosen")
    chosen = m.apply_choice(step, "3", data, CTX)
    assert chosen == {"people": [3]}
    assert m.advance("people", chosen, data) == ("people", {**data, "people": [3]})
    data = {**data, "people": [3, 5]}
    assert m.apply_choice(step, "3", data, CTX) == {"people": [5]}  # tapped again: removed
    turned = m.apply_choice(step, "next", data, CTX)
    assert turned == {"page": 1}
    data = {**data, **turned}
    assert step.values(data, CTX) == ("9", "10", "prev", "done")
    assert m.apply_choice(step, "1", data, CTX) == Invalid("choice_stale")  # not on this page
    assert m.apply_choice(step, "prev", data, CTX) == {"page": 0}
    done = m.apply_choice(step, "done", data, CTX)
    assert m.advance("people", done, data) == ("place", data)


@pytest.mark.parametrize(("page", "shown"), [(-1, 0), (0, 0), (1, 1), (5, 1)])
def test_the_page_stays_within_the_list(page: int, shown: int) -> None:
    assert m.page_of({"roster": _roster(9), "page": page})[0] == shown
    assert m.page_of({})[0] == 0 and m.page_of({})[1] == []


@pytest.mark.parametrize(
    ("parse", "limit"),
    [(m.parse_place, m.PLACE_LIMIT), (m.parse_when, m.WHEN_LIMIT), (m.parse_task, m.TASK_LIMIT),
     (m.parse_reason, m.REASON_LIMIT)],
)  # fmt: skip
def test_typed_answers_are_refused_empty_or_too_long(parse, limit: int) -> None:
    assert parse("  石桥村村委会 ") == "石桥村村委会"
    assert isinstance(parse("   "), Invalid)
    assert isinstance(parse("字" * (limit + 1)), Invalid)
    assert parse("字" * limit) == "字" * limit


@given(st.text(max_size=400))
def test_a_reason_is_clean_text_within_its_limit_or_refused(text: str) -> None:
    parsed = m.parse_reason(text)
    assert isinstance(parsed, Invalid) or (0 < len(parsed) <= m.REASON_LIMIT
                                           and parsed == parsed.strip())  # fmt: skip


def test_the_roll_call_lists_some_names_per_state_and_counts_the_rest() -> None:
    calls = [{"state": "sent" if i % 2 else "arrived", "name": f"人{i}", "phone": None,
              "reason": None} for i in range(9)]  # fmt: skip
    params = actions.rollcall_params(calls, 3)
    assert (
        params["total"] == 9 and params["counts"]["sent"] == 4 and params["counts"]["arrived"] == 5
    )
    assert [p["name"] for p in params["people"]["arrived"]["people"]] == ["人0", "人2", "人4"]
    assert params["people"]["arrived"]["more"] == 2 and params["people"]["sent"]["more"] == 1
    assert params["people"]["declined"] == {"people": [], "more": 0}


def test_the_roll_call_fits_one_message() -> None:
    tried: list[int] = []

    def render(limit: int) -> str:
        tried.append(limit)
        return "字" * (5000 if limit > 3 else 4000)

    assert len(actions.fitted(render)) == 4000 and tried == [30, 10, 3]
    tried.clear()
    assert actions.fitted(lambda limit: tried.append(limit) or str(limit) * 5000) == "0" * 5000
    assert tried == [30, 10, 3, 0]  # none fit: the names left out
