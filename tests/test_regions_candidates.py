"""The re-screen's candidates (storage.regions.candidates) are selected in SQL by place: every
report whose origin or travel the rule could judge differently after a change must be among
them. Checked against the rule itself (bot.domain.places: a place inside a region, or a
vaguer place containing one) over every unit of four provinces of the code list, at every
level, for regions of every level: the SQL must select exactly those."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.domain.places import Place, more_precise, narrower, parse_place, place_within
from bot.domain.regions import Region
from storage import regions as store
from storage.db import Database

SINCE = date(2020, 10, 12)
PROVINCES = ("北京市", "湖北省", "重庆市", "新疆维吾尔自治区")
REGIONS = (
    ("北京市", None, "朝阳区"),
    ("北京市", None, None),
    ("湖北省", "武汉市", None),
    ("湖北省", "武汉市", "江汉区"),
    ("湖北省", None, None),
    ("重庆市", None, "渝北区"),
    ("新疆维吾尔自治区", "喀什地区", None),
    ("新疆维吾尔自治区", "喀什地区", "喀什市"),
)


def every_place() -> list[Place]:
    found: list[Place] = []
    for name in PROVINCES:
        province = parse_place(name)
        assert isinstance(province, Place)
        found.append(province)
        for unit in narrower(province):
            found.append(unit)
            found.extend(narrower(unit))
    return list(dict.fromkeys(found))


def related(place: Place, region: Region) -> bool:
    """What the rule can match: the place inside the region, or the region inside it."""
    inside = place_within(place, region.province, region.city, region.district)
    return inside or more_precise(Place(region.province, region.city, region.district), place)


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "paicha.sqlite3")
    places = every_place()
    async with database.write() as conn:
        for i, place in enumerate(places, start=1):
            data = json.dumps({"origin": place.__dict__}, ensure_ascii=False)
            await conn.execute(
                """INSERT INTO reports (id, ref, draft_token, reporter_user_id, reporter_chat_id,
                       locale, relation, village_id, grid_id, address, arrival_date, category,
                       risk, alert, measure_kind, measure_start, measure_end, data, created_at,
                       updated_at)
                   VALUES (?, ?, ?, 1, 1, 'zh_CN', 'self', 'xf', 'XF01', '先锋街1号',
                           '2020-10-20', 'sanfan', 'low', 0, 'self_monitoring', '2020-10-20',
                           '2020-10-20', ?, '2020-10-20', '2020-10-20')""",
                (i, f"XF-T-{i:05d}", f"t-{i}", data),
            )
            await conn.execute(
                "INSERT INTO report_places (report_id, province, city, district) VALUES (?,?,?,?)",
                (i, place.province, place.city, place.district),
            )
    yield database
    await database.conn.close()


@pytest.mark.parametrize("where", REGIONS, ids=lambda w: " ".join(p for p in w if p))
async def test_exactly_the_places_the_rule_could_judge_differently(
    db: Database, where: tuple[str, str | None, str | None]
) -> None:
    region = Region(*where, "high", date(2020, 10, 1), None)
    places = every_place()
    expected = {i for i, place in enumerate(places, start=1) if related(place, region)}
    assert expected  # the region and the places nested in it are there
    got = {row["id"] for row in await store.candidates(db, [region], SINCE)}
    assert got == expected


async def test_several_regions_select_the_union(db: Database) -> None:
    regions = [Region(*where, "medium", date(2020, 10, 1), None) for where in REGIONS[:3]]
    places = every_place()
    expected = {
        i
        for i, place in enumerate(places, start=1)
        if any(related(place, region) for region in regions)
    }
    got = {row["id"] for row in await store.candidates(db, regions, SINCE)}
    assert got == expected and len(got) < len(places)  # other provinces are not read
