"""Personal data sealed at rest: phones and ID numbers, each value encrypted where it lies.

A sealed value is a self-describing string in the same column or JSON key as the plaintext
was: ``enc1:<key id>:<base64url(nonce + AES-GCM ciphertext)>``, so column names and JSON shapes
stay and SQL over the other keys keeps working. The key id tells keys apart (rotation).
Lookups and dedup use a blind index instead: HMAC-SHA256 of the normalised value under a
sub-key of the data key, stored beside the sealed value (``persons.phone_key``...).

The data key (32 bytes, 64 hex characters) comes from a key file named in the config or from
``PAICHA_DATA_KEY``; its sub-keys are derived with HKDF, one per purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_VARIABLE = "PAICHA_DATA_KEY"
NEW_KEY_VARIABLE = "PAICHA_NEW_DATA_KEY"
PREFIX = "enc1:"  # not "v1:", which starts callback data stored in the outbox
# The JSON keys (at any depth: a report's companions too) whose values are sealed.
PERSONAL_KEYS = frozenset({"phone", "id_number"})
_NONCE = 12
_SEALED = re.compile(r"enc1:([0-9a-f]{8}):([A-Za-z0-9_-]{38,})")
_JSON_MARK = '"' + PREFIX  # a JSON text holding a sealed string value
_KEY = re.compile(r"[0-9a-fA-F]{64}")
_SPACE = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")


class KeyProblem(Exception):
    """The data key is missing, malformed or not this database's: one line for the operator."""


class DamagedValue(Exception):
    """A value sealed under this key that does not open: altered or truncated at rest."""


def new_key() -> str:
    """A fresh data key, as it is written down: 64 hex characters."""
    return secrets.token_hex(32)


def parse_key(text: str, source: str) -> bytes:
    value = text.strip()
    if not _KEY.fullmatch(value):
        raise KeyProblem(f"{source}: the data key must be 64 hex characters (paicha new-key)")
    return bytes.fromhex(value)


def load_key(key_file: Path | None, variable: str = KEY_VARIABLE) -> bytes:
    """The data key: from ``key_file`` when the config names one, else the environment."""
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not a key file"
            raise KeyProblem(f"cannot read the data key file {key_file}: {reason}") from exc
        return parse_key(text, str(key_file))
    text = os.environ.get(variable, "")
    if not text.strip():
        raise KeyProblem(f"no data key: set {variable} (64 hex characters) or bot.data_key_file "
                         "in the config; make one with: paicha new-key")  # fmt: skip
    return parse_key(text, variable)


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


def normal_phone(value: str) -> str:
    """The digits of a mainland number, without the country code: ``+86 138 0013 8000`` and
    ``13800138000`` are one phone."""
    digits = _NOT_DIGIT.sub("", value)
    for country in ("0086", "86"):
        if len(digits) == len(country) + 11 and digits.startswith(country):
            return digits[len(country) :]
    return digits


def normal_id(value: str) -> str:
    """An ID or passport number without spaces, upper case (``x`` is the check letter X)."""
    return _SPACE.sub("", value).upper()


_NORMAL = {"phone": normal_phone, "id": normal_id}


class Cipher:
    """Seals and opens values under one data key; ``previous`` opens (never seals) the values
    of the key it replaces, while a rotation re-seals them."""

    def __init__(self, key: bytes, previous: Cipher | None = None) -> None:
        if len(key) != 32:
            raise KeyProblem("the data key must be 32 bytes (64 hex characters)")
        self.key = key
        self.kid = _derive(key, b"paicha key id v1")[:4].hex()
        self._aead = AESGCM(_derive(key, b"paicha seal v1"))
        self._index = _derive(key, b"paicha blind index v1")
        self._openers = {**(previous._openers if previous else {}), self.kid: self._aead}

    def seal(self, value: str | None) -> str | None:
        if not value or self._ours(value):
            return value
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, value.encode(), self.kid.encode())
        return f"{PREFIX}{self.kid}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"

    def open(self, value: str | None) -> str | None:
        """The plaintext of a value sealed by a key this cipher knows; anything else as it is."""
        match = _SEALED.fullmatch(value) if value else None
        aead = self._openers.get(match[1]) if match else None
        if aead is None:
            return value
        raw = base64.urlsafe_b64decode(match[2] + "=" * (-len(match[2]) % 4))
        try:
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], match[1].encode()).decode()
        except InvalidTag as exc:
            raise DamagedValue(f"a sealed value under key {match[1]} does not open") from exc

    def _ours(self, value: str) -> bool:
        return value.startswith(f"{PREFIX}{self.kid}:")

    def blind(self, kind: str, value: str | None) -> str | None:
        """The blind index of a phone (``kind`` "phone") or an ID number ("id"): equal for
        equal normalised values, meaningless without the key."""
        if not value:
            return None
        text = f"{kind}:{_NORMAL[kind](value)}".encode()
        return hmac.new(self._index, text, hashlib.sha256).hexdigest()[:32]

    def seal_json(self, data: Any) -> Any:
        """``data`` with every personal key's string value sealed, at any depth."""
        return _walk(data, self.seal)

    def open_json(self, data: Any) -> Any:
        return _walk(data, self.open)

    def dumps(self, data: Any) -> str:
        """The stored JSON text of ``data``, its personal values sealed."""
        return json.dumps(self.seal_json(data), ensure_ascii=False)

    def open_cell(self, value: Any) -> Any:
        """A column's value as read: a sealed string opened, a JSON text with sealed values
        in it opened inside."""
        if type(value) is not str:
            return value
        if value.startswith(PREFIX):
            return self.open(value)
        if value[:1] in "{[" and _JSON_MARK in value:
            return json.dumps(self.open_json(json.loads(value)), ensure_ascii=False)
        return value

    def row_factory(self, cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
        """Every row read through the connection, its sealed values opened: everything above
        the repositories sees plaintext, and no read can forget to open a value."""
        return sqlite3.Row(cursor, tuple(self.open_cell(v) for v in row))


def _walk(data: Any, change: Any) -> Any:
    if isinstance(data, dict):
        return {k: change(v) if k in PERSONAL_KEYS and isinstance(v, str) else _walk(v, change)
                for k, v in data.items()}  # fmt: skip
    if isinstance(data, list):
        return [_walk(item, change) for item in data]
    return data
