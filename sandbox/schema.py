"""Check objects against the machine-readable Bot API (``botapi.min.json`` beside this file,
a copy of the Telegram Bot API 10.1 spec scraped by PaulSonOfLars/telegram-bot-api-spec).

``validate("Message", obj)`` lists every way ``obj`` differs from what the documentation
promises: missing required fields, undocumented fields, wrong JSON types, and fixed
discriminators (``"status": always "member"``). The sandbox's answers are tested with it,
so the bot cannot come to depend on a shape the real API never sends.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("botapi.min.json")
_ARRAY = "Array of "
_FIXED = re.compile(r'(?:always|must be) "?([A-Za-z_]+)"?\s*$')
_QUOTED = re.compile(r'"([a-z_]+)"')


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _primitive(type_name: str, value: Any) -> bool | None:
    """Whether ``value`` is the JSON primitive ``type_name``; None if not a primitive."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    checks = {
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": is_number,
        "String": isinstance(value, str),
        "Boolean": isinstance(value, bool),
        "True": value is True,
    }
    return checks.get(type_name)


class Validator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.types: dict[str, Any] = spec["types"]
        self.methods: dict[str, Any] = spec["methods"]

    def validate(self, type_name: str, value: Any, path: str = "$") -> list[str]:
        """Problems of ``value`` as a ``type_name`` (also "Array of X"); [] when valid."""
        if type_name.startswith(_ARRAY):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {type(value).__name__}"]
            inner = type_name[len(_ARRAY) :]
            return [
                p
                for i, item in enumerate(value)
                for p in self.validate(inner, item, f"{path}[{i}]")
            ]
        primitive = _primitive(type_name, value)
        if primitive is not None:
            return [] if primitive else [f"{path}: expected {type_name}, got {value!r}"]
        spec = self.types.get(type_name)
        if spec is None:
            return [f"{path}: unknown type {type_name}"]
        if spec.get("subtypes"):
            return self.validate_any(spec["subtypes"], value, path)
        return self._validate_object(type_name, spec, value, path)

    def validate_any(self, type_names: list[str], value: Any, path: str = "$") -> list[str]:
        """A value documented as one of several types: valid if any of them fits."""
        attempts = [self.validate(name, value, path) for name in type_names]
        if any(not problems for problems in attempts):
            return []
        best = min(attempts, key=len)
        return [f"{path}: fits none of {' | '.join(type_names)}; closest: {best[0]}", *best[1:]]

    def _validate_object(
        self, type_name: str, spec: dict[str, Any], value: Any, path: str
    ) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected {type_name} object, got {type(value).__name__}"]
        fields = {f["name"]: f for f in spec.get("fields", [])}
        problems = [
            f"{path}.{name}: undocumented field of {type_name}"
            for name in value.keys() - fields.keys()
        ]
        for name, field in fields.items():
            where = f"{path}.{name}"
            if name not in value:
                if field["required"]:
                    problems.append(f"{where}: required field of {type_name} missing")
                continue
            problems += self.validate_any(field["types"], value[name], where)
            problems += _discriminator(field, value[name], where)
        return problems

    def method_params(self, method: str) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.methods[method].get("fields", [])}


def _discriminator(field: dict[str, Any], value: Any, where: str) -> list[str]:
    """Fixed or enumerated values of ``type``/``status`` fields, read from the prose."""
    if field["name"] not in ("type", "status") or not isinstance(value, str):
        return []
    description = field.get("description", "")
    fixed = _FIXED.search(description)
    if fixed:
        return [] if value == fixed.group(1) else [f"{where}: must be {fixed.group(1)!r}"]
    allowed = set(_QUOTED.findall(description))
    if "can be" in description and len(allowed) > 1 and value not in allowed:
        return [f"{where}: {value!r} is not one of {sorted(allowed)}"]
    return []


@cache
def default_validator() -> Validator:
    return Validator(load_spec())


def validate(type_name: str, obj: Any) -> list[str]:
    """Problems of ``obj`` as the Bot API type ``type_name``; [] when it conforms."""
    return default_validator().validate(type_name, obj)


def validate_result(method: str, result: Any) -> list[str]:
    """Problems of a method's result against the method's documented return type(s)."""
    validator = default_validator()
    return validator.validate_any(validator.methods[method]["returns"], result)
