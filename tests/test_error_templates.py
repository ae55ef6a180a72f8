"""Every error code a domain parser can return renders in every locale."""

from __future__ import annotations

import pytest

from bot.runtime.render import LOCALES, Renderer

# code -> the params passed with it (see bot/domain/parsing.py, places.py and arrival.py)
ERROR_CODES: dict[str, dict[str, object]] = {
    "too_long": {"limit": 30},
    "expect_text": {},
    "expect_choice": {},
    "expect_photo": {},
    "choice_stale": {},
    "incomplete": {},
    "companions_too_many": {"limit": 10},
    "text_empty": {},
    "name_empty": {},
    "name_invalid": {},
    "name_short": {},
    "phone_format": {},
    "phone_not_mobile": {},
    "contact_not_own": {},
    "contact_is_own": {},
    "id_length": {"length": 17},
    "id_chars": {},
    "id_region": {},
    "id_birthdate": {},
    "id_checksum": {},
    "passport_format": {},
    "date_format": {},
    "date_invalid": {},
    "date_future": {},
    "date_too_old": {"days": 30},
    "plate_province": {},
    "plate_format": {},
    "train_format": {},
    "flight_format": {},
    "temp_format": {},
    "temp_range": {"low": 35.0, "high": 42.0},
    "address_short": {},
    "address_invalid": {},
    "place_unknown": {"text": "先锋镇"},
    "place_not_inside": {"text": "渝北", "place": "湖北省 武汉市"},
    "places_too_many": {"limit": 10},
}
# codes also returned without their optional params
OPTIONAL_PARAMS = ["place_unknown"]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("code", "params"), ERROR_CODES.items())
def test_error_renders(renderer: Renderer, locale: str, code: str, params: dict) -> None:
    text = renderer.text(locale, "errors", code, **params)
    assert text
    for value in params.values():
        assert str(value) in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", OPTIONAL_PARAMS)
def test_error_renders_without_optional_params(renderer: Renderer, locale: str, code: str) -> None:
    assert renderer.text(locale, "errors", code)


def test_locales_define_the_same_errors(renderer: Renderer) -> None:
    zh, en = (renderer.messages(locale, "errors") for locale in LOCALES)
    assert zh == en
    assert set(ERROR_CODES) == zh
