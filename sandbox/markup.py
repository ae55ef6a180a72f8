"""Validation of ``reply_markup`` the way the Bot API refuses bad keyboards.

A keyboard that Telegram would reject must be rejected here too, or the sandbox would
hide bugs the bot only meets in production (callback data over 64 bytes above all).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.errors import bad_request

CALLBACK_DATA_LIMIT = 64
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_REPLY_REQUESTS = (
    "request_users",
    "request_chat",
    "request_managed_bot",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
_PRIVATE_ONLY = ("request_contact", "request_location", "request_users", "request_chat")


def validate_reply_markup(markup: Any, *, private_chat: bool) -> dict[str, Any] | None:
    """Check a decoded reply_markup; return it (None when absent) or raise ApiError 400."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_rows(markup["inline_keyboard"], "inline keyboard", _check_inline_button)
    elif "keyboard" in markup:
        _check_rows(
            markup["keyboard"],
            "keyboard",
            lambda button: _check_reply_button(button, private_chat=private_chat),
        )
    elif "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("can't parse reply keyboard markup: remove_keyboard must be true")
    elif "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request("can't parse reply keyboard markup: force_reply must be true")
    else:
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def is_inline(markup: dict[str, Any] | None) -> bool:
    return bool(markup) and "inline_keyboard" in markup  # type: ignore[operator]


def _check_rows(rows: Any, what: str, check_button: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'Field "{what}" of the {what} must be an Array of Arrays')
    for row in rows:
        for button in row:
            check_button(button)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text:
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [name for name in _INLINE_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        _check_url(button["url"])


def _check_url(url: Any) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    ok = parts is not None and (
        (parts.scheme in ("http", "https") and bool(parts.netloc)) or parts.scheme == "tg"
    )
    if not ok:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_reply_button(button: Any, *, private_chat: bool) -> None:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict):
        raise bad_request("can't parse keyboard button: KeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str) or not text:
        raise bad_request("can't parse keyboard button: Text must be non-empty")
    requests = [name for name in _REPLY_REQUESTS if button.get(name)]
    if len(requests) > 1:
        raise bad_request(
            "can't parse keyboard button: exactly one of the optional fields must be used"
        )
    if requests and requests[0] in _PRIVATE_ONLY and not private_chat:
        # Telegram documents these buttons as "available in private chats only".
        raise bad_request(
            f"can't parse keyboard button: {requests[0]} is allowed only in private chats"
        )


def find_callback_button(markup: dict[str, Any] | None, data: str) -> bool:
    """Whether an inline keyboard carries a button with this callback_data."""
    if not is_inline(markup):
        return False
    assert markup is not None
    return any(
        button.get("callback_data") == data for row in markup["inline_keyboard"] for button in row
    )


def reply_keyboard_buttons(markup: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """A reply keyboard's rows with every button as an object (strings are allowed)."""
    return [
        [button if isinstance(button, dict) else {"text": button} for button in row]
        for row in markup.get("keyboard", [])
    ]
