"""A unit that is no venue (a school, an enterprise) is worded as such wherever its QR code
shows: /qrcode's caption, the card's button, the notices of someone who registered himself
by its link — "人员"/"本单位", never a venue's "住客"/"本店"."""

from __future__ import annotations

from tests.harness import Harness
from tests.staff_helpers import WORKER_XF02, seed_invited
from tests.test_unit_arrivals import GUEST, LIAISON, answer_health, answer_person, photos

PARK_LIAISON = 40402  # the industrial park (an enterprise, XF02)'s liaison, invited
VENUE_WORDS = ("住客", "本店", "前台")


async def park_liaison(h: Harness) -> None:
    await seed_invited(h, PARK_LIAISON, role="unit", scope="park")


async def test_a_non_venue_liaisons_qr_code_is_for_the_units_people(harness: Harness) -> None:
    h = harness
    await park_liaison(h)
    await h.text(PARK_LIAISON, "/qrcode")
    (sent,) = photos(h, PARK_LIAISON)
    caption = sent["caption"]
    assert "先锋镇中小企业创业园</b> 人员扫码登记二维码" in caption and "本单位地址" in caption
    assert "start=u-park" in caption
    assert not [word for word in VENUE_WORDS if word in caption]


async def test_a_venue_liaisons_qr_code_is_for_its_guests(harness: Harness) -> None:
    h = harness
    await h.text(LIAISON, "/qrcode")
    (sent,) = photos(h, LIAISON)
    assert "先锋宾馆</b> 住客登记二维码" in sent["caption"] and "本店地址" in sent["caption"]


async def test_the_qr_code_in_english_names_guests_only_for_a_venue(harness: Harness) -> None:
    h = harness
    await park_liaison(h)
    await h.text(PARK_LIAISON, "/qrcode", "en")
    await h.text(LIAISON, "/qrcode", "en")
    park, hotel = photos(h, PARK_LIAISON)[0]["caption"], photos(h, LIAISON)[0]["caption"]
    assert "Registration QR code of <b>先锋镇中小企业创业园</b>" in park and "guest" not in park
    assert "Guest registration QR code of <b>先锋宾馆</b>" in hotel


async def test_every_units_card_offers_its_qr_code_by_its_kind(harness: Harness) -> None:
    h = harness
    await park_liaison(h)
    await h.text(PARK_LIAISON, "/units")
    assert ("🔳 本单位二维码", "v1:ua:qr:park") in h.buttons(PARK_LIAISON)
    await h.text(LIAISON, "/units")
    assert ("🔳 本店二维码", "v1:ua:qr:xfhotel") in h.buttons(LIAISON)


async def test_someone_registering_by_a_non_venues_link_is_no_guest(harness: Harness) -> None:
    h = harness
    await park_liaison(h)
    await h.text(GUEST, "/start u-park")
    await answer_person(h, GUEST)
    await answer_health(h, GUEST)
    await h.choose(GUEST, "确认提交")
    assert "登记成功" in h.texts(GUEST)[-1]
    await h.drain_outbox()
    notice = h.texts(WORKER_XF02)[-1]
    assert "单位：<b>先锋镇中小企业创业园</b>（人员扫码自助登记）" in notice
    assert "住客" not in notice
    (told,) = h.texts(PARK_LIAISON)
    assert "<b>先锋镇中小企业创业园</b> 有人员扫码登记" in told and "住客" not in told
