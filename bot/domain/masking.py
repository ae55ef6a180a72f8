"""Masking of personal data, decided by who reads the message: only the person themself and
in-scope staff looking at the record in a private chat see values in full."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

ID_LENGTH = 18
PHONE_LENGTH = 11


def _mask_middle(value: str, keep: int) -> str:
    """Keep ``keep`` characters at each end, but always hide at least one."""
    if not value:
        return value
    keep = min(keep, (len(value) - 1) // 2)
    hidden = len(value) - 2 * keep
    return value[:keep] + "*" * hidden + value[len(value) - keep :]


def mask_id(value: str) -> str:
    if len(value) == ID_LENGTH:
        return value[:4] + "*" * 10 + value[-4:]
    return _mask_middle(value, 2)


def mask_phone(value: str) -> str:
    if len(value) == PHONE_LENGTH:
        return value[:3] + "****" + value[-4:]
    return _mask_middle(value, 2)


def mask_name(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1)


class Audience(StrEnum):
    """Who reads a message. Anything pushed to a chat (the leadership group, a worker's notice,
    lists, digests) is BROADCAST: it can be read over a shoulder or forwarded, so personal
    data is masked there and the full record is one audited tap away."""

    ENTITLED = "entitled"  # the person themself, or in-scope staff opening the record
    BROADCAST = "broadcast"


MASKS: dict[str, Callable[[str], str]] = {"name": mask_name, "phone": mask_phone, "id": mask_id}


def shown(kind: str, value: str | None, audience: Audience) -> str:
    """``value`` (a ``kind`` of MASKS) as ``audience`` may see it; nothing for no value."""
    if not value:
        return ""
    return value if audience is Audience.ENTITLED else MASKS[kind](value)
