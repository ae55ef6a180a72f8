"""The one error type of the sandbox: a Bot API error answer.

Raised by the pure state as well as by the HTTP layer, so the state can be tested without
HTTP and the server turns it into ``{"ok": false, "error_code", "description"}`` verbatim.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed Bot API call, carrying exactly what Telegram would answer."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


CHAT_NOT_FOUND = "chat not found"
