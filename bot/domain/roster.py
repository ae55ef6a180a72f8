"""Staff filed by category (分类建档): the plan's categories and skills, availability, who may
file whom, the join link's payload, and the steps of an admin's 人员档案 form. Pure: the rows
are in storage.roster, the actions in bot.actions.roster."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.domain.invalid import Invalid
from bot.domain.parsing import parse_name, parse_phone
from bot.domain.roles import Actor
from bot.domain.steps import ANYONE, Data, Step, Updates, fixed_choices, store_answer

# The plan's categories (§7, §10): 综治专干, 网格长/组长, 党小组长, 网格员, 楼栋长, 志愿者, 社工,
# 医务人员, 下沉干部 (town staff moved down to a village). Their names: templates/*/roster.j2.
CATEGORIES = ("zongzhi", "grid_leader", "party_group", "grid_worker", "building", "volunteer",
              "social_worker", "medical", "cadre")  # fmt: skip
SKILLS = ("driver", "medical", "uyghur", "english")  # 驾驶员, 医护, 维吾尔语, 英语
AVAILABLE, BUSY, AWAY = "available", "busy", "away"  # 可调用, 忙碌, 外出
AVAILABILITY = (AVAILABLE, BUSY, AWAY)
# A staff role's category when they get a file of their own (joining by invite, first /me);
# any other role's is asked.
ROLE_CATEGORY = {"worker": "grid_worker", "village_admin": "zongzhi"}

JOIN_PREFIX = "r-"  # t.me/<bot>?start=r-<token>
_JOIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,62}")  # "r-" + it fits a 64-byte payload


def join_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={JOIN_PREFIX}{token}"


def parse_join_payload(payload: str | None) -> str | None:
    """The token of a ``/start r-<token>`` deep link, or None when it is not a join link."""
    if not payload or not payload.startswith(JOIN_PREFIX):
        return None
    token = payload[len(JOIN_PREFIX) :]
    return token if _JOIN_TOKEN.fullmatch(token) else None


def keeps_own_file(own: Mapping[str, object] | None) -> bool:
    """Does the user's own file stand against a join link they open? An active one an admin
    made does (a mistake in it is for an admin to correct); one made automatically when they
    joined as staff (no ``created_by``), or a deactivated one, gives way to the link's."""
    return own is not None and bool(own["active"]) and own["created_by"] is not None


def default_category(roles: Iterable[str]) -> str | None:
    """The category of someone joining with these staff roles: a worker is a 网格员 (the most
    common), a village admin a 综治专干; None: asked."""
    held = set(roles)
    return next((ROLE_CATEGORY[r] for r in ROLE_CATEGORY if r in held), None)


def may_file(actor: Actor, village_id: str | None) -> bool:
    """File, edit or deactivate a person serving in ``village_id``: leaders and admins for any
    village (the town's own staff, with none, too); a village admin for their own villages."""
    if actor.is_admin or actor.is_leader:
        return True
    return village_id is not None and village_id in actor.admin_villages


def may_view(actor: Actor) -> bool:
    """Open the roster at all (what is shown is then kept to ``may_file``)."""
    return actor.is_admin or actor.is_leader or bool(actor.admin_villages)


def skills_of(stored: str | None) -> tuple[str, ...]:
    """The skills of a stored JSON list (anything else: none)."""
    try:
        value = json.loads(stored or "[]")
    except ValueError:
        return ()
    return tuple(s for s in value if isinstance(s, str)) if isinstance(value, list) else ()


def toggle(skills: Iterable[str], skill: str, known: tuple[str, ...]) -> tuple[str, ...] | Invalid:
    """The skills with ``skill`` added, or removed when held; in ``known``'s order (a skill no
    longer configured is kept, after them). A skill not known is refused."""
    if skill not in known:
        return Invalid("choice_stale")
    held = set(skills) ^ {skill}
    return (*(s for s in known if s in held), *sorted(held - set(known)))


def changed(before: Mapping[str, object], changes: Mapping[str, object]) -> dict[str, object]:
    """The changes that change something (a re-pressed button changes nothing)."""
    return {k: v for k, v in changes.items() if before.get(k) != v}


def audit_detail(before: Mapping[str, object], changes: Mapping[str, object]) -> str:
    """What an edit changed, for the audit log: ``field:old->new``; a phone is never written
    in the log, only that it changed."""
    return ";".join(
        f"{k}:changed" if k == "phone" else f"{k}:{_shown(before.get(k))}->{_shown(v)}"
        for k, v in sorted(changes.items())
    )


def _shown(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


# --- an admin files a person (bot.flows.roster.RosterFlow) ---------------------------------


@dataclass(frozen=True)
class Context:
    """The choices of the form: the configured categories and skills, each village's grids.
    The villages offered are the draft's own (``villages``: those the admin may file for)."""

    categories: tuple[str, ...]
    skills: tuple[str, ...]
    grids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


DONE, SKIP = "done", "skip"


def _village_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return tuple(data.get("villages", ()))


def _grid_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return (*ctx.grids.get(data.get("village_id") or "", ()), SKIP)


def _skill_choices(data: Data, ctx: Context) -> tuple[str, ...]:
    return (*ctx.skills, DONE)


STEPS: dict[str, Step] = {
    step.key: step
    for step in (
        Step("name", text=store_answer("name", parse_name)),
        # a contact card forwarded from the admin's address book is this person's number
        Step("phone", text=store_answer("phone", parse_phone), contact_of=lambda data: ANYONE),
        Step("category", choices=lambda data, ctx: ctx.categories, per_row=3),
        Step("village_id", choices=_village_choices, per_row=2),
        Step("grid_id", choices=_grid_choices, per_row=3),
        Step("skills", choices=_skill_choices, per_row=2),
        Step("availability", choices=fixed_choices(AVAILABILITY), per_row=3),
        Step("summary", choices=fixed_choices(("submit", "cancel")), per_row=2),
    )
}  # fmt: skip
FIRST_STEP = "name"
ORDER = tuple(STEPS)


def apply_choice(step: Step, value: str, data: Data, ctx: Context) -> Updates | Invalid:
    """A pressed button: a choice, a skill toggled, 完成 after the skills, 跳过 the grid."""
    if value not in step.values(data, ctx):
        return Invalid("choice_stale")
    if step.key == "skills":
        if value == DONE:
            return {"skills_done": True}
        toggled = toggle(data.get("skills", ()), value, ctx.skills)
        return toggled if isinstance(toggled, Invalid) else {"skills": list(toggled)}
    if step.key == "grid_id" and value == SKIP:
        return {"grid_id": None}
    if step.key == "village_id" and value != data.get("village_id"):
        return {"village_id": value, "grid_id_unset": True}
    return {step.key: value}


def advance(step_key: str, updates: Updates, data: Data) -> tuple[str, Data]:
    """The questions in order (the skills stay asked until 完成), then the summary card."""
    merged = {**data, **updates}
    if merged.pop("grid_id_unset", False):
        merged.pop("grid_id", None)
    if step_key == "skills" and not merged.pop("skills_done", False):
        return "skills", merged
    merged.setdefault("skills", [])
    position = ORDER.index(step_key) if step_key in ORDER else 0
    return ORDER[min(position + 1, len(ORDER) - 1)], merged


def missing_step(data: Data) -> str | None:
    """The first question a restored draft lacks an answer to (None: complete). The skills
    may be none at all."""
    return next((k for k in ORDER[:-1] if k not in data and k != "skills"), None)
