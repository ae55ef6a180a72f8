"""The one failure value every parser returns instead of raising."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Invalid:
    """Why an answer was refused.

    ``code`` names a macro in ``templates/<locale>/errors.j2``; ``params`` are passed to
    that macro as keyword arguments, so the message can say exactly what was expected.
    """

    code: str
    params: dict[str, object] = field(default_factory=dict)
