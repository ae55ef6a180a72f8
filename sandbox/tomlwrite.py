"""TOML text for the data ``tomllib`` reads (tables, arrays of tables, dates): the sandbox
writes its config copy and its regions file with it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid TOML escapes
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dump_toml(data: dict[str, Any]) -> str:
    """TOML text for the data ``tomllib`` reads from a config (tables, arrays of tables)."""
    lines: list[str] = []

    def table(path: list[str], body: dict[str, Any], header: str | None) -> None:
        if header is not None:
            lines.extend(["", header])
        for key, value in body.items():
            if not isinstance(value, dict) and not _is_tables(value):
                lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        for key, value in body.items():
            name = ".".join([*path, _toml_key(key)])
            if isinstance(value, dict):
                table([*path, _toml_key(key)], value, f"[{name}]")
            elif _is_tables(value):
                for item in value:
                    table([*path, _toml_key(key)], item, f"[[{name}]]")

    table([], data, None)
    return "\n".join(lines).lstrip("\n") + "\n"
