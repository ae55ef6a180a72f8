"""The sandbox's world without HTTP: what people do, and the Telegram rules the bot meets."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.errors import ApiError
from sandbox.formatting import detect_entities, format_text, parse_html, utf16_len
from sandbox.schema import validate
from sandbox.state import SandboxState, image_size
from tests.sandbox.conftest import GROUP, LEADER, RESIDENT, STRANGER


def _error(call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as exc:
        call(*args, **kwargs)
    return exc.value.description


@pytest.mark.parametrize(
    ("source", "description"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("先<foo>", 'Unsupported start tag "foo" at byte offset 3'),  # bytes, not chars
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_errors_use_telegram_wording(source: str, description: str) -> None:
    assert _error(parse_html, source) == f"Bad Request: can't parse entities: {description}"


def test_html_entities_and_nesting() -> None:
    text, entities = parse_html(
        "<b>粗<i>斜</i></b> &amp;&#34;&#x1F600;&unknown; <tg-spoiler>密</tg-spoiler>"
        '<span class="tg-spoiler">s</span><s>d</s><u>u</u><code>c</code>'
        '<pre><code class="language-python">p</code></pre><blockquote>q</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert text == '粗斜 &"😀&unknown; 密sducpq👍'
    kinds = [(e["type"], e["offset"], e["length"]) for e in entities]
    assert kinds[:2] == [("bold", 0, 2), ("italic", 1, 1)]
    # 😀 is two UTF-16 code units, so everything after it shifts by one more
    assert ("spoiler", 17, 1) in kinds and ("spoiler", 18, 1) in kinds
    assert {"type": "pre", "offset": 22, "length": 1, "language": "python"} in entities
    assert validate("Array of MessageEntity", entities) == []


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\0")))
def test_escaped_text_parses_back_to_itself(text: str) -> None:
    assert parse_html(html.escape(text)) == (text, [])


def test_length_is_counted_in_utf16_after_parsing() -> None:
    assert format_text("<b>" + "a" * 4096 + "</b>", "HTML", None)[0] == "a" * 4096
    assert _error(format_text, "😀" * 2049, None, None) == "Bad Request: message is too long"
    assert utf16_len("😀" * 2048) == 4096
    assert _error(format_text, "  ", None, None) == "Bad Request: message text is empty"
    assert _error(format_text, "x", "BBCode", None) == "Bad Request: unsupported parse_mode"


def test_commands_get_bot_command_entities() -> None:
    assert detect_entities("/start grid_07") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert detect_entities("排查 /tip@paicha_bot") == [
        {"type": "bot_command", "offset": 3, "length": 15}
    ]
    assert detect_entities("a/b http://x/y") == []


def test_group_privacy_mode(state: SandboxState) -> None:
    state.set_member_status(GROUP, state.bot.id, "member")
    state.user_sends_text(LEADER, GROUP, "大家好")
    assert state.pending_update_count == 0  # privacy mode hides plain group chatter
    state.user_sends_text(LEADER, GROUP, "/report")
    assert state.pending_update_count == 1
    assert len(state.messages(GROUP)) == 2  # the page still shows both
    with pytest.raises(ValueError, match="not a member"):
        state.user_sends_text(STRANGER, GROUP, "hi")


def test_pressing_a_button_that_is_not_there_is_refused(state: SandboxState) -> None:
    sent = state.bot_send_message(RESIDENT, "x")
    with pytest.raises(ValueError, match="no button"):
        state.user_presses_button(RESIDENT, RESIDENT, sent.message_id, "v1:nope")


def test_blocking_sends_my_chat_member(state: SandboxState) -> None:
    state.user_blocks_bot(RESIDENT)
    assert state.pending_update_count == 1
    update = state._updates[-1]
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert validate("Update", update) == []
    assert _error(state.bot_send_message, RESIDENT, "x") == "Forbidden: bot was blocked by the user"


async def test_chat_version_wakes_the_web_page(state: SandboxState) -> None:
    version = state.chats[RESIDENT].version
    assert await state.wait_chat_change(RESIDENT, version, 0) == version
    state.bot_send_message(RESIDENT, "hi")
    assert await state.wait_chat_change(RESIDENT, version, 5) == version + 1


def test_image_size_from_headers() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x20"
    jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x00\x30\x00\x40\x03" + bytes(8)
    gif = b"GIF89a\x05\x00\x07\x00"
    assert [image_size(png), image_size(jpeg), image_size(gif)] == [(16, 32), (64, 48), (5, 7)]
    assert image_size(b"nope") == (0, 0)
