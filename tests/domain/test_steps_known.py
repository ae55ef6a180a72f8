"""The building blocks of a step table (known answers): what a step expects, fixed buttons,
and a typed answer stored under its key or refused with the parser's reason."""

from __future__ import annotations

from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_name
from bot.domain.steps import Step, fixed_choices, store_answer


def test_what_a_step_expects() -> None:
    def pin(lat: float, lon: float) -> dict:
        return {"at": (lat, lon)}

    def typed(text, data, ctx):
        return {}

    assert Step("photo", photo="photo_id", text=typed).expects() == "expect_photo"
    assert Step("where", location=pin, text=typed).expects() == "expect_location"
    assert Step("name", text=typed).expects() == "expect_text"
    assert Step("kind", choices=fixed_choices(("a",))).expects() == "expect_choice"
    assert Step("name", text=typed).accepts_text() and not Step("kind").accepts_text()


def test_fixed_choices_whatever_the_answers() -> None:
    step = Step("kind", choices=fixed_choices(("train", "flight")))
    assert step.values({}, None) == ("train", "flight")
    assert step.values({"kind": "train"}, object()) == ("train", "flight")
    assert Step("free").values({}, None) == ()


def test_store_answer_parses_the_text() -> None:
    apply = store_answer("name", parse_name)
    assert apply(" 张三 ", {}, None) == {"name": "张三"}
    assert apply("", {}, None) == Invalid("name_empty")
