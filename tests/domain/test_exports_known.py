"""Known answers for the exports' rules (bot.domain.exports): who may take which register,
which rows, in full or masked; the range buttons; the day columns; the file's name; the
conversation's steps. Written out by hand: the code is not its own oracle."""

from __future__ import annotations

import html
import re
from datetime import date
from itertools import pairwise

import pytest

from bot.domain import exports as rules
from bot.domain.exports import Context, ExportRules
from bot.domain.invalid import Invalid
from bot.domain.roles import Actor
from bot.runtime.render import Renderer

ADMIN = Actor(1, is_admin=True)
LEADER = Actor(2, is_leader=True)
VADMIN = Actor(3, admin_villages=frozenset({"xf", "sq"}))
LEADER_VADMIN = Actor(4, is_leader=True, admin_villages=frozenset({"xf"}))
WORKER = Actor(5, worker_grids=frozenset({"XF01"}))
SITE = Actor(6, site_ids=frozenset({"GL01"}))
RESIDENT = Actor(7)
EIGHT = ("arrivals", "monitoring", "tips", "visits", "cases", "contacts", "isolation", "units")
TODAY = date(2020, 11, 26)


@pytest.mark.parametrize(("actor", "registers", "audit", "villages", "entitled"), [
    (ADMIN, EIGHT, True, None, True),
    (LEADER, EIGHT, False, None, False),
    (VADMIN, EIGHT, False, frozenset({"xf", "sq"}), True),
    (LEADER_VADMIN, EIGHT, False, None, False),  # the whole town: masked, as any leader
    (WORKER, (), False, frozenset(), False),
    (SITE, (), False, frozenset(), False),
    (RESIDENT, (), False, frozenset(), False),
])  # fmt: skip
def test_who_takes_what(actor, registers, audit, villages, entitled) -> None:
    assert rules.registers_for(actor) == registers
    assert rules.may_export(actor, "audit") is audit
    assert rules.villages(actor) == villages
    assert rules.entitled(actor) is entitled


@pytest.mark.parametrize("register", ["people", "", "Arrivals"])
def test_no_such_register_for_anyone(register: str) -> None:
    assert not rules.may_export(ADMIN, register)


@pytest.mark.parametrize(("name", "expected"), [
    ("d1", (date(2020, 11, 26), date(2020, 11, 26))),
    ("d7", (date(2020, 11, 20), date(2020, 11, 26))),
    ("d14", (date(2020, 11, 13), date(2020, 11, 26))),
    ("month", (date(2020, 11, 1), date(2020, 11, 26))),
    ("all", (None, None)),
])  # fmt: skip
def test_the_range_buttons(name: str, expected) -> None:
    assert rules.preset(name, TODAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("11月1日-11月20日", (date(2020, 11, 1), date(2020, 11, 20))),
    ("11月20日-11月1日", Invalid("stats.stats_range_backwards")),
    ("前几天", Invalid("stats.stats_range_format")),
])  # fmt: skip
def test_a_typed_range_is_the_stats_parsers_with_its_reasons(text: str, expected) -> None:
    assert rules.parse_range(text, TODAY) == expected


@pytest.mark.parametrize(("span", "first", "last", "count"), [
    ((date(2020, 11, 1), date(2020, 11, 3)), date(2020, 11, 1), date(2020, 11, 3), 3),
    ((date(2020, 11, 26), date(2020, 11, 26)), date(2020, 11, 26), date(2020, 11, 26), 1),
    ((None, None), date(2020, 11, 13), date(2020, 11, 26), 14),  # 全部: the last 14 days
    ((date(2020, 11, 20), None), date(2020, 11, 20), date(2020, 11, 26), 7),
    ((date(2020, 1, 1), date(2020, 11, 26)), date(2020, 9, 26), date(2020, 11, 26), 62),
])  # fmt: skip
def test_the_day_columns(span, first: date, last: date, count: int) -> None:
    days = rules.day_columns(span, TODAY)
    assert (days[0], days[-1], len(days)) == (first, last, count)
    assert all((b - a).days == 1 for a, b in pairwise(days))


@pytest.mark.parametrize(("span", "suffix", "name"), [
    ((date(2020, 11, 1), date(2020, 11, 20)), "xlsx", "先锋镇-台账-20201101-20201120.xlsx"),
    ((None, None), "csv", "先锋镇-台账-20201126.csv"),
    ((date(2020, 11, 1), None), "xlsx", "先锋镇-台账-20201101-20201126.xlsx"),
])  # fmt: skip
def test_the_file_name(span, suffix: str, name: str) -> None:
    assert rules.filename("先锋镇", "台账", span, TODAY, suffix) == name


@pytest.mark.parametrize(("suffix", "fmt"), [
    (".xlsx", "xlsx"), (".CSV", "csv"), ("csv", "csv"), (".pdf", None), ("", None),
    (".xls", None),
])  # fmt: skip
def test_the_format_of_a_file_name(suffix: str, fmt: str | None) -> None:
    assert rules.format_of(suffix) == fmt


CTX = Context(TODAY)


def test_the_steps_register_range_format_then_done() -> None:
    steps = ExportRules.STEPS
    data = {"registers": ["arrivals", "tips"]}
    assert steps["register"].values(data, CTX) == ("arrivals", "tips")
    assert steps["range"].values(data, CTX) == ("d1", "d7", "d14", "month", "all")
    assert steps["format"].values(data, CTX) == ("xlsx", "csv")
    chosen = ExportRules.apply_choice(steps["register"], "tips", data, CTX)
    assert ExportRules.advance("register", chosen, data) == (
        "range", {"registers": ["arrivals", "tips"], "register": "tips"})  # fmt: skip
    assert ExportRules.apply_choice(steps["register"], "cases", data, CTX) == Invalid(
        "choice_stale"
    )
    span = ExportRules.apply_choice(steps["range"], "d7", data, CTX)
    assert span == {"range": "d7", "start": "2020-11-20", "end": "2020-11-26"}
    assert ExportRules.advance("range", span, data)[0] == "format"
    assert ExportRules.apply_choice(steps["range"], "all", data, CTX) == {
        "range": "all", "start": None, "end": None}  # fmt: skip
    fmt = ExportRules.apply_choice(steps["format"], "csv", data, CTX)
    assert ExportRules.advance("format", fmt, data) == (None, {**data, "format": "csv"})


def test_a_typed_range_answers_the_range_step() -> None:
    step = ExportRules.STEPS["range"]
    assert step.text("11月1日-11月20日", {}, CTX) == {
        "range": "typed", "start": "2020-11-01", "end": "2020-11-20"}  # fmt: skip
    assert step.text("明天", {}, CTX) == Invalid("stats.stats_range_format")
    answers = {"start": "2020-11-01", "end": None}
    assert rules.answers_span(answers) == (date(2020, 11, 1), None)


@pytest.mark.parametrize(("town", "title", "name"), [
    ("先锋镇", "来返/返乡人员台账", "先锋镇-来返_返乡人员台账-20201126.csv"),
    ("先锋镇", 'a\\b:c*d?e"f<g>h|i', "先锋镇-a_b_c_d_e_f_g_h_i-20201126.csv"),
    ("先锋镇", "..", "先锋镇-..-20201126.csv"),  # a dot inside a name points nowhere
    ("先锋镇", "台账\n第二行\t", "先锋镇-台账_第二行_-20201126.csv"),
    ("/etc", "台账", "_etc-台账-20201126.csv"),
])  # fmt: skip
def test_the_file_name_is_one_file_whatever_the_title(town: str, title: str, name: str) -> None:
    assert rules.filename(town, title, (None, None), TODAY, "csv") == name


def _examples(text: str) -> list[str]:
    """The ranges a prompt shows as examples: in <code>…</code>, “…” or "…"."""
    return re.findall(r"<code>(.*?)</code>|“(.*?)”|\"(.*?)\"", text)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("module", ["exports", "stats"])
def test_every_example_range_in_the_prompts_parses(locale: str, module: str) -> None:
    prompt = Renderer().text(locale, module, "ask_range", data={"register": "arrivals"})
    found = [next(g for g in groups if g) for groups in _examples(prompt)]
    assert found, prompt
    for example in found:
        assert not isinstance(rules.parse_range(html.unescape(example), TODAY), Invalid), example
