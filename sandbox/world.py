"""The town of a config, as people in a SandboxState: residents, a neighbour, five town
cadres, the staff the config names (grid workers, village admins, leaders, site managers,
dispatchers, vehicle crews, the town store's keepers, the key units' liaisons) and the
leadership group chat.

Every person has a short key (``resident1``, ``worker_XF01``, ``admin_xf``, ``leader``,
``manager_GL01``, ``dispatcher``, ``crew_V01``, ``keeper``, ``liaison_hotel``, ``cadre1``) that
scenario files and the web page use; the leadership group's key is ``leaders``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from sandbox.state import SandboxState

LEADERS_KEY = "leaders"
# Xianfeng town, Jiangjin district: where a shared location lands by default.
TOWN_LOCATION = (29.0906, 106.2594)

# (key, given name, family name, language, phone)
_RESIDENTS = (
    ("resident1", "伟", "张", "zh-hans", "13800000001"),
    ("resident2", "芳", "王", "zh-hans", "13800000002"),
    ("resident3", "洋", "刘", "zh-hans", "13800000003"),
    ("resident_en", "John", "Smith", "en", "13800000004"),
)
_NEIGHBOUR = ("neighbour", "大妈", "陈", "zh-hans", "13800000005")
# Town staff an admin files on the roster in chat (下沉干部, issue 13): on no config list, they
# open the bot by the join link they are given. (key, name, phone)
_CADRES = (
    ("cadre1", "何平", "13300000201"),
    ("cadre2", "吕斌", "13300000202"),
    ("cadre3", "施红", "13300000203"),
    ("cadre4", "孔亮", "13300000204"),
    ("cadre5", "曹敏", "13300000205"),
)
CADRE_IDS_FROM = 900201
_STAFF_NAMES = (
    ("娟", "李"),
    ("军", "赵"),
    ("敏", "孙"),
    ("强", "周"),
    ("静", "吴"),
    ("磊", "郑"),
    ("丽", "冯"),
    ("杰", "褚"),
    ("霞", "卫"),
    ("勇", "蒋"),
    ("艳", "沈"),
    ("涛", "韩"),
)
RESIDENT_IDS_FROM = 900001


@dataclass
class Person:
    key: str
    user_id: int
    label: str  # what the page shows: "网格员 李娟 (XF01)"
    role: str  # resident | neighbour | worker | village_admin | leader | site_manager | ...
    language: str
    phone: str
    detail: str = ""  # grids or village the person serves
    first_name: str = ""  # what the bot sees
    last_name: str | None = None

    def to_api(self, state: SandboxState) -> dict[str, Any]:
        user = state.users.get(self.user_id)
        return {
            "key": self.key,
            "id": self.user_id,
            "label": self.label,
            "role": self.role,
            "language": self.language,
            "phone": self.phone,
            "detail": self.detail,
            "started": bool(user and user.started),
        }


@dataclass
class World:
    """Who is who in the sandbox, by key and by user id."""

    people: dict[str, Person] = field(default_factory=dict)
    leaders_chat_id: int = 0
    leaders_title: str = ""
    payloads: list[tuple[str, str]] = field(default_factory=list)  # (deep link, label)

    def person(self, key: str) -> Person:
        try:
            return self.people[key]
        except KeyError:
            raise KeyError(f"unknown person {key!r}") from None

    def by_id(self, user_id: int) -> Person | None:
        return next((p for p in self.people.values() if p.user_id == user_id), None)

    def chat_keys(self) -> dict[str, int]:
        """Chat keys for scenarios: every person's private chat, and ``leaders``."""
        keys = {key: p.user_id for key, p in self.people.items()}
        keys[LEADERS_KEY] = self.leaders_chat_id
        return keys

    def chat_key(self, chat_id: int) -> str | None:
        return next((k for k, v in self.chat_keys().items() if v == chat_id), None)


def _name(index: int) -> tuple[str, str]:
    given, family = _STAFF_NAMES[index % len(_STAFF_NAMES)]
    return given, family


def build_world(config: Config) -> World:
    """The people and chats of a config, without touching any state."""
    world = World(leaders_chat_id=config.leadership.chat_id)
    world.leaders_title = f"{config.town.name}疫情防控领导小组"

    def add(person: Person) -> None:
        world.people[person.key] = person

    for key, given, family, lang, phone in _RESIDENTS:
        role_word = "Resident" if lang == "en" else "居民"
        name = f"{given} {family}" if lang == "en" else family + given
        first, last = (given, family) if lang == "en" else (name, None)
        add(Person(key, RESIDENT_IDS_FROM + len(world.people), f"{role_word} {name}",
                   "resident", lang, phone, first_name=first, last_name=last))  # fmt: skip
    key, given, family, lang, phone = _NEIGHBOUR
    add(Person(key, RESIDENT_IDS_FROM + 100, f"邻居 {family}{given}", "neighbour", lang, phone,
               first_name=family + given))  # fmt: skip
    for number, (key, name, phone) in enumerate(_CADRES):
        add(Person(key, CADRE_IDS_FROM + number, f"下沉干部 {name}", "cadre", "zh-hans", phone,
                   first_name=name))  # fmt: skip

    staff_index = 0
    seen: set[int] = set()
    # a worker may serve several grids: one person, keyed by the first
    grids_of: dict[int, list[str]] = {}
    for village in config.villages:
        for grid in village.grids:
            for worker in grid.workers:
                grids_of.setdefault(worker, []).append(grid.id)
    for worker, grids in grids_of.items():
        given, family = _name(staff_index)
        staff_index += 1
        seen.add(worker)
        add(Person(f"worker_{grids[0]}", worker, f"网格员 {family}{given} ({', '.join(grids)})",
                   "worker", "zh-hans", f"139{worker % 100000000:08d}", ", ".join(grids),
                   first_name=family + given))  # fmt: skip
    for village in config.villages:
        for number, admin in enumerate(village.admins):
            if admin in seen:
                continue
            seen.add(admin)
            given, family = _name(staff_index)
            staff_index += 1
            key = f"admin_{village.id}" + (f"{number + 1}" if number else "")
            add(Person(key, admin, f"综治专干 {family}{given} ({village.name})", "village_admin",
                       "zh-hans", f"137{admin % 100000000:08d}", village.id,
                       first_name=family + given))  # fmt: skip
    for number, leader in enumerate(config.leadership.admins):
        if leader in seen:
            continue
        seen.add(leader)
        given, family = _name(staff_index)
        staff_index += 1
        key = "leader" if number == 0 else f"leader{number + 1}"
        add(Person(key, leader, f"领导小组 {family}{given}", "leader", "zh-hans",
                   f"136{leader % 100000000:08d}", config.town.name,
                   first_name=family + given))  # fmt: skip

    _chain_staff(config, world, seen, staff_index)

    for village in config.villages:
        world.payloads.append((f"a-{village.id}", f"{village.name}（村二维码）"))
        for grid in village.grids:
            world.payloads.append((f"a-{grid.id}", f"{grid.name}（网格二维码）"))
    return world


def _chain_staff(config: Config, world: World, seen: set[int], staff_index: int) -> None:
    """The staff of the chain after discovery the config names: site managers
    (``manager_GL01``), dispatchers (``dispatcher``, ``dispatcher2``) and vehicle crews
    (``crew_V01``); the town store's keepers (``keeper``) and the key units' liaisons
    (``liaison_hotel``); a person named twice is one person, keyed by the first."""
    staff: list[tuple[str, int, str, str, str, str]] = []  # key, id, word, where, role, detail

    def numbered(base: str, number: int) -> str:
        return base + (f"{number + 1}" if number else "")

    for site in config.sites:
        for n, user in enumerate(site.managers):
            staff.append((numbered(f"manager_{site.id}", n), user, "隔离点负责人",
                          f" ({site.name})", "site_manager", site.id))  # fmt: skip
    for n, user in enumerate(config.transfer.dispatchers):
        staff.append((numbered("dispatcher", n), user, "转运调度员", "", "dispatcher",
                      config.town.name))  # fmt: skip
    for vehicle in config.vehicles:
        for n, user in enumerate(vehicle.crew):
            staff.append((numbered(f"crew_{vehicle.id}", n), user, "车组",
                          f" ({vehicle.plate})", "crew", vehicle.id))  # fmt: skip
    for n, user in enumerate(config.supplies.keepers):
        staff.append((numbered("keeper", n), user, "镇物资库管理员", "", "keeper",
                      config.town.name))  # fmt: skip
    for unit in config.key_units:
        for n, user in enumerate(unit.liaisons):
            staff.append((numbered(f"liaison_{unit.id}", n), user, "联络员", f" ({unit.name})",
                          "unit", unit.id))  # fmt: skip
    for key, user, word, where, role, detail in staff:
        if user in seen:
            continue
        seen.add(user)
        given, family = _name(staff_index)
        staff_index += 1
        name = family + given
        world.people[key] = Person(key, user, f"{word} {name}{where}", role, "zh-hans",
                                   f"135{user % 100000000:08d}", detail,
                                   first_name=name)  # fmt: skip


def seed(state: SandboxState, config: Config) -> World:
    """Put the town's people and the leadership group into ``state``. Staff have opened the
    bot already (it may write to them); residents, the neighbour and the cadres have not."""
    world = build_world(config)
    for person in world.people.values():
        state.add_user(
            person.user_id,
            person.first_name,
            last_name=person.last_name,
            language_code=person.language,
            started=person.role not in ("resident", "neighbour", "cadre"),
        )
    members: dict[int, str] = {}
    for person in world.people.values():
        if person.role == "leader":
            members[person.user_id] = "creator" if not members else "administrator"
    for person in world.people.values():
        if person.role == "village_admin":
            members[person.user_id] = "member"
    state.add_group(world.leaders_chat_id, world.leaders_title, members=members)
    return world


def reset_state(state: SandboxState, config: Config) -> World:
    """Empty ``state`` in place (the server's routes keep their reference to it) and seed
    the town again. Waiters on the old chats are released first."""
    bot, clock, privacy = state.bot, state.clock, state.privacy_mode
    state.close()
    SandboxState.__init__(
        state,
        bot_id=bot.id,
        bot_username=bot.username or "paicha_sandbox_bot",
        bot_first_name=bot.first_name,
        clock=clock,
        privacy_mode=privacy,
    )
    return seed(state, config)
