"""Masking of personal data for lists, digests and group chats (only the owner and the
responsible grid worker see values in full)."""

from __future__ import annotations

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
