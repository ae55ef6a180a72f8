"""Message text as Telegram sees it: HTML parse mode, entity offsets, length limits.

The HTML parser follows TDLib's ``parse_html`` (the code behind the Bot API's
``parse_mode=HTML``) step by step, over UTF-8 bytes, so byte offsets and error wording in
its messages are the ones a bot gets from api.telegram.org. Offsets of the resulting
entities are in UTF-16 code units, as the Bot API counts them.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
# TDLib's is_space: NUL counts, which is how the C string end stops every scan.
_SPACE = frozenset(b" \t\r\n\0\v")
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram's limits and offsets count."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(data: bytes, pos: int) -> tuple[str, int] | None:
    """An HTML character reference at ``pos`` -> (character, next position), or None when
    TDLib would keep the ``&`` literally. The closing ``;`` is optional, as in TDLib."""
    end = pos + 1
    if data[end : end + 1] == b"#":
        end += 1
        hexa = data[end : end + 1] == b"x"
        end += hexa
        digits = b"0123456789abcdefABCDEF" if hexa else b"0123456789"
        start = end
        while data[end] in digits:
            end += 1
        if start == end or end - pos >= 10:
            return None
        code = int(data[start:end], 16 if hexa else 10)
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        while chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        named = _NAMED.get(data[pos + 1 : end])
        if named is None:
            return None
        char = named
    if data[end : end + 1] == b";":
        end += 1
    return char, end


class _Open:
    __slots__ = ("argument", "name", "offset", "position")

    def __init__(self, name: str, argument: str, offset: int, position: int) -> None:
        self.name, self.argument, self.offset, self.position = name, argument, offset, position


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Text and MessageEntity dicts of an HTML-formatted message, or ApiError 400
    "can't parse entities: ..." exactly where Telegram would refuse it."""
    parser = _HtmlParser(html.encode("utf-8") + b"\0")
    try:
        return parser.run()
    except _ParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


class _ParseError(Exception):
    pass


class _HtmlParser:
    def __init__(self, data: bytes) -> None:
        self.data = data  # NUL-terminated, as TDLib's CSlice
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        data, i, end = self.data, 0, len(self.data) - 1
        while i < end:
            char = data[i]
            if char == ord("&"):
                decoded = _decode_entity(data, i)
                if decoded is not None:
                    self._emit(decoded[0])
                    i = decoded[1]
                    continue
            if char != ord("<"):
                j = i + 1
                while j < end and data[j] not in b"&<":
                    j += 1
                self._emit(data[i:j].decode("utf-8"))
                i = j
                continue
            i = self._end_tag(i) if data[i + 1] == ord("/") else self._start_tag(i)
        if self.stack:
            raise _ParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def _start_tag(self, begin: int) -> int:
        data, i = self.data, begin + 1
        while data[i] not in _SPACE and data[i] != ord(">"):
            i += 1
        if data[i] == 0:
            raise _ParseError(f"Unclosed start tag at byte offset {begin}")
        name = data[begin + 1 : i].decode("utf-8", "replace").lower()
        if name not in _SUPPORTED_TAGS:
            raise _ParseError(f'Unsupported start tag "{name}" at byte offset {begin}')
        argument = ""
        while data[i] != ord(">"):
            i, attr, value = self._attribute(i, name, begin)
            if attr is None:
                break
            argument = _tag_argument(name, attr, value, argument)
        if name == "span" and argument != "spoiler":
            raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        self.stack.append(_Open(name, argument, self.utf16, begin))
        return i + 1

    def _attribute(self, i: int, tag: str, begin: int) -> tuple[int, str | None, str]:
        """One ``name=value`` of a start tag; returns the position after it."""
        data = self.data
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] == ord(">"):
            return i, None, ""
        attr_begin = i
        while data[i] not in _SPACE and data[i] not in b"=>":
            i += 1
        attr = data[attr_begin:i].decode("utf-8", "replace")
        if not attr:
            raise _ParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {attr_begin}'
            )
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] != ord("="):
            if tag == "blockquote" and attr == "expandable" and data[i] != 0:
                return i, attr, ""  # the one value-less attribute Telegram knows
            raise _ParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {begin}"
            )
        i += 1
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] == 0:
            raise _ParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        i, value = self._attribute_value(i)
        if data[i] == 0:
            raise _ParseError(f"Unclosed start tag at byte offset {begin}")
        return i, attr, value

    def _attribute_value(self, i: int) -> tuple[int, str]:
        data = self.data
        if data[i] not in b"'\"":
            token_begin = i
            while chr(data[i]).isascii() and (chr(data[i]).isalnum() or data[i] in b".-"):
                i += 1
            if data[i] not in _SPACE and data[i] != ord(">"):
                raise _ParseError(f"Unexpected end of name token at byte offset {token_begin}")
            return i, data[token_begin:i].decode().lower()
        quote = data[i]
        i += 1
        parts: list[str] = []
        while data[i] != quote and data[i] != 0:
            decoded = _decode_entity(data, i) if data[i] == ord("&") else None
            if decoded is not None:
                parts.append(decoded[0])
                i = decoded[1]
                continue
            j = i + 1
            while data[j] not in (quote, 0, ord("&")):
                j += 1
            parts.append(data[i:j].decode("utf-8"))
            i = j
        if data[i] == quote:
            i += 1
        return i, "".join(parts)

    def _end_tag(self, begin: int) -> int:
        data, i = self.data, begin + 2
        if not self.stack:
            raise _ParseError(f"Unexpected end tag at byte offset {begin}")
        while data[i] not in _SPACE and data[i] != ord(">"):
            i += 1
        end_name = data[begin + 2 : i].decode("utf-8", "replace")
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] != ord(">"):
            raise _ParseError(f"Unclosed end tag at byte offset {begin}")
        opened = self.stack.pop()
        if end_name and end_name != opened.name:
            raise _ParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.name}>", '
                f'found "</{end_name}>"'
            )
        self._close(opened)
        return i + 1

    def _close(self, opened: _Open) -> None:
        length = self.utf16 - opened.offset
        if length == 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {"type": "", "offset": opened.offset, "length": length}
        if opened.name in _SIMPLE_ENTITY:
            entity["type"] = _SIMPLE_ENTITY[opened.name]
        elif opened.name == "a":
            if not opened.argument:
                return
            entity.update(type="text_link", url=opened.argument)
        elif opened.name == "blockquote":
            entity["type"] = "expandable_blockquote" if opened.argument else "blockquote"
        elif opened.name == "tg-emoji":
            if not opened.argument:
                return
            entity.update(type="custom_emoji", custom_emoji_id=opened.argument)
        if opened.name == "code" and opened.argument:
            entity["language"] = opened.argument
        if opened.name == "pre":
            self._merge_code_into_pre(entity)
        self.entities.append(entity)

    def _merge_code_into_pre(self, pre: dict[str, Any]) -> None:
        """``<pre><code class="language-x">`` is one pre entity with a language."""
        for inner in self.entities:
            same_span = (inner["offset"], inner["length"]) == (pre["offset"], pre["length"])
            if inner["type"] == "code" and same_span:
                self.entities.remove(inner)
                if "language" in inner:
                    pre["language"] = inner["language"]
                return


def _tag_argument(tag: str, attr: str, value: str, current: str) -> str:
    if tag == "a" and attr == "href":
        return value
    if tag == "code" and attr == "class" and value.startswith("language-"):
        return value[len("language-") :]
    if tag == "span" and attr == "class" and value.startswith("tg-"):
        return value[len("tg-") :]
    if tag == "tg-emoji" and attr == "emoji-id":
        return value
    if tag == "blockquote" and attr == "expandable":
        return "1"
    return current


def format_text(
    text: str | None,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    caption: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Apply parse_mode (or explicit entities) and Telegram's emptiness and length rules.

    Returns the plain text and its entities, or raises ApiError as the Bot API would."""
    text = text or ""
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            text, entities = parse_html(text)
        elif mode not in ("markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode")
        else:
            entities = []  # paicha speaks HTML; Markdown is accepted but not rendered
    entities = list(entities or [])
    if caption:
        if utf16_len(text) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        return text, entities
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


# Telegram marks a bot command wherever "/" starts a word: /start, /tip@paicha_bot.
_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients detect in a typed message (bot commands)."""
    found = []
    for match in _COMMAND.finditer(text):
        found.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return found
