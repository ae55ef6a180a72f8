"""The sandbox's world: people, chats, messages, files and the bot's update queue.

Pure in-memory state with no HTTP: the Bot API server (``server.py``) calls the ``bot_*``
methods for what the bot does, the web chat page and tests call the ``user_*`` methods
for what people do. Every refusal is an ``ApiError`` carrying Telegram's own answer.
Waiting (getUpdates long polling, the web page watching a chat) uses asyncio events that
fire on change, never a polling loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import mimetypes
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from bot.runtime.clock import Clock, SystemClock
from sandbox.errors import CHAT_NOT_FOUND, ApiError, bad_request, forbidden
from sandbox.formatting import detect_entities, format_text
from sandbox.markup import find_callback_button, is_inline, validate_reply_markup

# Update kinds Telegram leaves out unless asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_TOKEN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")


class Signal:
    """Wakes every waiter once per change; a waiter grabs ``current`` before checking its
    condition, so a change between the check and the wait is never lost."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def current(self) -> asyncio.Event:
        return self._event

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False  # has opened the private chat with the bot
    blocked_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


@dataclass
class Message:
    """A message as stored: enough to build the Bot API object and to draw the web page."""

    chat_id: int
    message_id: int
    date: int
    from_id: int | None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None  # the text/caption as the bot sent it (HTML kept for the page)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # any kind, as sent; only inline is echoed
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    reply_to: int | None = None
    edit_date: int | None = None
    deleted: bool = False


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    user_id: int | None = None  # the other party of a private chat
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    version: int = 0
    reply_keyboard: dict[str, Any] | None = None  # the keyboard people currently see
    menu_button: dict[str, Any] | None = None
    last_action: str | None = None
    migrated_to: int | None = None
    signal: Signal = field(default_factory=Signal, repr=False)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str | None = None
    file_name: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] | None = None


class SandboxState:
    """Everything the sandbox knows. One instance per server."""

    def __init__(
        self,
        *,
        bot_id: int = 7000000001,
        bot_username: str = "paicha_sandbox_bot",
        bot_first_name: str = "paicha",
        clock: Clock | None = None,
        privacy_mode: bool = True,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.bot = User(id=bot_id, first_name=bot_first_name, username=bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.users: dict[int, User] = {bot_id: self.bot}
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}  # (kind, language) -> text
        self.default_menu_button: dict[str, Any] | None = None
        self.webhook_url = ""
        self.closed = False
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._updates_signal = Signal()
        self._poll_generation = 0
        self._flood: list[int] = []
        self._ids = itertools.count(1)
        self.changed = Signal()  # any chat changed (the web page's chat list)

    @classmethod
    def for_token(cls, token: str, **kwargs: Any) -> SandboxState:
        """A state whose bot id matches the token's numeric part, as getMe must."""
        match = _TOKEN.match(token)
        if not match:
            raise ValueError("a bot token looks like 123456:ABC-def")
        return cls(bot_id=int(match.group(1)), **kwargs)

    # ------------------------------------------------------------------ the world
    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        started: bool = False,
    ) -> User:
        """A person, with the private chat they may open with the bot."""
        user = User(user_id, first_name, last_name, username, language_code, started=started)
        self.users[user_id] = user
        self.chats.setdefault(user_id, Chat(id=user_id, type="private", user_id=user_id))
        return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        members: dict[int, str] | None = None,
        supergroup: bool = True,
        username: str | None = None,
        bot_status: str = "administrator",
    ) -> Chat:
        """A group (negative id, e.g. -1001234567890 for a supergroup) with the bot in it."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        statuses = dict(members or {})
        for status in statuses.values():
            if status not in MEMBER_STATUSES:
                raise ValueError(f"unknown member status {status!r}")
        statuses[self.bot.id] = bot_status
        chat = Chat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
            members=statuses,
        )
        self.chats[chat_id] = chat
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown member status {status!r}")
        self._chat(chat_id).members[user_id] = status

    def upgrade_group(self, chat_id: int, new_chat_id: int) -> Chat:
        """Turn a basic group into a supergroup: the old id answers "upgraded" from now on."""
        old = self._chat(chat_id)
        new = self.add_group(
            new_chat_id,
            old.title or "",
            members={k: v for k, v in old.members.items() if k != self.bot.id},
            bot_status=old.members.get(self.bot.id, "member"),
        )
        old.migrated_to = new.id
        return new

    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"no user {user_id} in the sandbox") from None

    def _chat(self, chat_id: int) -> Chat:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ValueError(f"no chat {chat_id} in the sandbox") from None

    def messages(self, chat_id: int) -> list[Message]:
        """A chat's visible messages, oldest first (for the web page and tests)."""
        return [m for m in self._chat(chat_id).messages.values() if not m.deleted]

    def _touch(self, chat: Chat) -> None:
        chat.version += 1
        chat.signal.fire()
        self.changed.fire()

    async def wait_chat_change(self, chat_id: int, version: int, timeout: float) -> int:
        """Return the chat's version once it exceeds ``version`` or the timeout passes."""
        chat = self._chat(chat_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while chat.version <= version and not self.closed:
            remaining = deadline - loop.time()
            if remaining <= 0 or not await wait_event(chat.signal.current, remaining):
                break
        return chat.version

    def close(self) -> None:
        """Release every waiter (server shutdown): long polls answer at once."""
        self.closed = True
        self._updates_signal.fire()
        self.changed.fire()
        for chat in self.chats.values():
            chat.signal.fire()

    # ---------------------------------------------------------- the people side
    def _new_message(self, chat: Chat, from_id: int | None, **content: Any) -> Message:
        message = Message(chat.id, chat.next_message_id, self.now(), from_id, **content)
        chat.messages[message.message_id] = message
        chat.next_message_id += 1
        self._touch(chat)
        return message

    def _people_chat(self, user_id: int, chat_id: int | None) -> Chat:
        user = self.user(user_id)
        chat = self._chat(user_id if chat_id is None else chat_id)
        if chat.type == "private":
            if chat.user_id != user_id:
                raise ValueError("a private chat belongs to one user")
            user.started = True
            self.user_unblocks_bot(user_id)  # writing again ("Restart") unblocks the bot
        elif chat.members.get(user_id) in (None, "left", "kicked"):
            raise ValueError(f"user {user_id} is not a member of chat {chat.id}")
        return chat

    def user_sends_text(
        self,
        user_id: int,
        chat_id: int | None = None,
        text: str = "",
        *,
        reply_to_message_id: int | None = None,
    ) -> Message:
        """A person types ``text`` (``/start payload`` for a deep link) into a chat."""
        chat = self._people_chat(user_id, chat_id)
        message = self._new_message(
            chat, user_id, text=text, entities=detect_entities(text), reply_to=reply_to_message_id
        )
        self._after_people_message(chat, message)
        return message

    def user_sends_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        own: bool = True,
        chat_id: int | None = None,
    ) -> Message:
        """The contact a request_contact button shares (``own``: the sender's own number)."""
        user = self.user(user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
        }
        if last_name or (own and user.last_name):
            contact["last_name"] = last_name or user.last_name
        if own:
            contact["user_id"] = user_id
        chat = self._people_chat(user_id, chat_id)
        message = self._new_message(chat, user_id, contact=contact)
        self._after_people_message(chat, message)
        return message

    def user_sends_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> Message:
        chat = self._people_chat(user_id, chat_id)
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        message = self._new_message(chat, user_id, location=location)
        self._after_people_message(chat, message)
        return message

    def user_sends_photo(
        self,
        user_id: int,
        chat_id: int | None,
        data: bytes,
        caption: str | None = None,
    ) -> Message:
        chat = self._people_chat(user_id, chat_id)
        photo = self._photo_sizes(self.store_file(data, kind="photos", mime_type=None))
        message = self._new_message(
            chat,
            user_id,
            photo=photo,
            caption=caption,
            caption_entities=detect_entities(caption or ""),
        )
        self._after_people_message(chat, message)
        return message

    def user_sends_document(
        self,
        user_id: int,
        chat_id: int | None,
        data: bytes,
        file_name: str,
        caption: str | None = None,
    ) -> Message:
        chat = self._people_chat(user_id, chat_id)
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.store_file(data, kind="documents", mime_type=mime, file_name=file_name)
        message = self._new_message(chat, user_id, document=self._document(stored), caption=caption)
        self._after_people_message(chat, message)
        return message

    def _after_people_message(self, chat: Chat, message: Message) -> None:
        keyboard = chat.reply_keyboard
        if keyboard and keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None  # a one-time keyboard folds after use
        if self._bot_sees(chat, message):
            self._enqueue("message", self.message_to_api(message))

    def _bot_sees(self, chat: Chat, message: Message) -> bool:
        """Privacy mode: in groups a bot gets commands, replies to itself, or everything
        when it is an administrator."""
        if chat.type == "private":
            return not self.user(chat.user_id or 0).blocked_bot
        if chat.members.get(self.bot.id) in (None, "left", "kicked"):
            return False
        if not self.privacy_mode or chat.members.get(self.bot.id) in ("administrator", "creator"):
            return True
        replied = chat.messages.get(message.reply_to or 0)
        is_command = (message.text or "").startswith("/")
        return is_command or (replied is not None and replied.from_id == self.bot.id)

    def user_presses_button(
        self, user_id: int, chat_id: int, message_id: int, callback_data: str
    ) -> CallbackQuery:
        """A tap on an inline button: a callback_query update the bot must answer."""
        chat = self._people_chat(user_id, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if not find_callback_button(message.reply_markup, callback_data):
            raise ValueError(f"message {message_id} has no button with data {callback_data!r}")
        query = CallbackQuery(
            id=str(next(self._ids) * 1000003 + user_id),
            user_id=user_id,
            chat_id=chat.id,
            message_id=message_id,
            data=callback_data,
        )
        self.callback_queries[query.id] = query
        self._enqueue(
            "callback_query",
            {
                "id": query.id,
                "from": self.user(user_id).to_api(),
                "message": self.message_to_api(message),
                "chat_instance": _chat_instance(chat.id),
                "data": callback_data,
            },
        )
        return query

    def user_blocks_bot(self, user_id: int) -> None:
        """From now on sends to this user fail with 403; the bot hears a my_chat_member."""
        self._set_block(user_id, blocked=True)

    def user_unblocks_bot(self, user_id: int) -> None:
        self._set_block(user_id, blocked=False)

    def _set_block(self, user_id: int, *, blocked: bool) -> None:
        user = self.user(user_id)
        if user.blocked_bot == blocked:
            return
        user.blocked_bot = blocked
        bot_member = {"status": "member", "user": self.bot.to_api()}
        bot_kicked = {"status": "kicked", "user": self.bot.to_api(), "until_date": 0}
        old, new = (bot_member, bot_kicked) if blocked else (bot_kicked, bot_member)
        self._enqueue(
            "my_chat_member",
            {
                "chat": self.chat_to_api(self._chat(user_id)),
                "from": user.to_api(),
                "date": self.now(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    def flood(self, retry_after: int, count: int = 1) -> None:
        """Make the next ``count`` sends answer 429 "retry after ``retry_after``"."""
        self._flood.extend([retry_after] * count)

    def check_flood(self) -> None:
        if self._flood:
            seconds = self._flood.pop(0)
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )

    # ------------------------------------------------------------ updates
    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        allowed = self._allowed_updates
        if kind in _OPT_IN_UPDATES if allowed is None else kind not in allowed:
            return  # Telegram never queues an update type the bot did not ask for
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._updates_signal.fire()

    @property
    def pending_update_count(self) -> int:
        return len(self._updates)

    @property
    def polls(self) -> int:
        """How many getUpdates calls have arrived (a bot that has polled is listening)."""
        return self._poll_generation

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: float | None = None,
        allowed_updates: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm below ``offset``, then wait up to ``timeout`` for any."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed_updates is not None:
            self._allowed_updates = frozenset(allowed_updates) if allowed_updates else None
        self._confirm(offset)
        limit = min(max(limit or 100, 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.fire()  # an older long poll must give way (409 below)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout or 0, 0)
        while not self._updates and not self.closed:
            event = self._updates_signal.current
            remaining = deadline - loop.time()
            if remaining <= 0 or not await wait_event(event, remaining):
                break
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        return self._updates[:limit]

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def drop_pending_updates(self) -> None:
        self._updates.clear()

    # ------------------------------------------------------------ the bot side
    def resolve_chat(self, chat_id: int | str) -> Chat:
        """The target of a bot call; unknown ids and usernames are "chat not found"."""
        if isinstance(chat_id, str):
            chat = next(
                (c for c in self.chats.values() if c.username and f"@{c.username}" == chat_id),
                None,
            )
        else:
            chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def _writable_chat(self, chat_id: int | str) -> Chat:
        """A chat the bot may post in, or the 400/403 Telegram answers instead."""
        chat = self.resolve_chat(chat_id)
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            user = self.user(chat.user_id or 0)
            if user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        status = chat.members.get(self.bot.id)
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if status in (None, "left"):
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def _reply_target(self, chat: Chat, reply_parameters: dict[str, Any] | None) -> int | None:
        if not reply_parameters:
            return None
        message_id = reply_parameters.get("message_id")
        target = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if target is None or target.deleted:
            if reply_parameters.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _apply_keyboard(self, chat: Chat, markup: dict[str, Any] | None) -> None:
        """What the person's input area shows after a message with this markup."""
        if markup is None or is_inline(markup) or "force_reply" in markup:
            return
        chat.reply_keyboard = None if "remove_keyboard" in markup else markup

    def bot_send_message(
        self,
        chat_id: int | str,
        text: str | None,
        *,
        parse_mode: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_parameters: dict[str, Any] | None = None,
    ) -> Message:
        chat = self._writable_chat(chat_id)
        plain, parsed = format_text(text, parse_mode, entities)
        markup = validate_reply_markup(reply_markup, private_chat=chat.type == "private")
        reply_to = self._reply_target(chat, reply_parameters)
        message = self._new_message(
            chat,
            self.bot.id,
            text=plain,
            entities=parsed,
            source=text,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to=reply_to,
        )
        self._apply_keyboard(chat, markup)
        return message

    def bot_send_media(
        self,
        chat_id: int | str,
        kind: str,
        stored: StoredFile,
        *,
        caption: str | None = None,
        parse_mode: str | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_parameters: dict[str, Any] | None = None,
    ) -> Message:
        """sendPhoto / sendDocument with an uploaded or already known file."""
        chat = self._writable_chat(chat_id)
        plain, parsed = format_text(caption, parse_mode, caption_entities, caption=True)
        markup = validate_reply_markup(reply_markup, private_chat=chat.type == "private")
        reply_to = self._reply_target(chat, reply_parameters)
        media: dict[str, Any] = (
            {"photo": self._photo_sizes(stored)}
            if kind == "photo"
            else {"document": self._document(stored)}
        )
        message = self._new_message(
            chat,
            self.bot.id,
            caption=plain or None,
            caption_entities=parsed,
            source=caption,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to=reply_to,
            **media,
        )
        self._apply_keyboard(chat, markup)
        return message

    def _editable(self, chat_id: int | str | None, message_id: int | None) -> Message:
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self.resolve_chat(chat_id)
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if message.from_id != self.bot.id:
            raise bad_request("message can't be edited")
        return message

    def bot_edit_text(
        self,
        chat_id: int | str | None,
        message_id: int | None,
        text: str | None,
        *,
        parse_mode: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_markup: dict[str, Any] | None = None,
    ) -> Message:
        """editMessageText. Like Telegram, an edit without reply_markup drops the keyboard."""
        message = self._editable(chat_id, message_id)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        plain, parsed = format_text(text, parse_mode, entities)
        markup = self._inline_only(reply_markup)
        if (plain, parsed, markup) == (message.text, message.entities, _inline(message)):
            raise _not_modified()
        message.text, message.entities = plain, parsed
        message.source, message.parse_mode = text, parse_mode
        _set_inline(message, markup)
        return self._edited(message)

    def bot_edit_reply_markup(
        self,
        chat_id: int | str | None,
        message_id: int | None,
        reply_markup: dict[str, Any] | None,
    ) -> Message:
        message = self._editable(chat_id, message_id)
        markup = self._inline_only(reply_markup)
        if markup == _inline(message):
            raise _not_modified()
        _set_inline(message, markup)
        return self._edited(message)

    def _inline_only(self, reply_markup: dict[str, Any] | None) -> dict[str, Any] | None:
        markup = validate_reply_markup(reply_markup, private_chat=True)
        if markup is not None and not is_inline(markup):
            raise bad_request("inline keyboard expected")
        if markup is not None and not markup["inline_keyboard"]:
            return None  # an empty inline keyboard removes the keyboard
        return markup

    def _edited(self, message: Message) -> Message:
        message.edit_date = self.now()
        self._touch(self._chat(message.chat_id))
        return message

    def bot_delete_message(self, chat_id: int | str, message_id: int) -> None:
        chat = self.resolve_chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        bot_is_admin = chat.members.get(self.bot.id) in ("administrator", "creator")
        if message.from_id != self.bot.id and chat.type != "private" and not bot_is_admin:
            raise bad_request("message can't be deleted")
        message.deleted = True
        self._touch(chat)

    def bot_send_chat_action(self, chat_id: int | str, action: str) -> None:
        chat = self._writable_chat(chat_id)
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.last_action = action
        self._touch(chat)

    def answer_callback_query(
        self, query_id: str, *, text: str | None = None, show_alert: bool = False
    ) -> None:
        query = self.callback_queries.get(query_id)
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = {"text": text, "show_alert": show_alert}
        self._touch(self._chat(query.chat_id))

    # ------------------------------------------------------------ files
    def store_file(
        self,
        data: bytes,
        *,
        kind: str,
        mime_type: str | None,
        file_name: str | None = None,
    ) -> StoredFile:
        """Keep bytes under a new file_id; ``kind`` is the folder of its file_path."""
        number = next(self._ids)
        digest = hashlib.sha256(data).hexdigest()[:16]
        suffix = _suffix(file_name, mime_type, data)
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}Q{number:06d}{digest}",
            file_unique_id=f"AQ{digest[:12]}",
            file_path=f"{kind}/file_{number}{suffix}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_id(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == file_path), None)

    def _photo_sizes(self, stored: StoredFile) -> list[dict[str, Any]]:
        width, height = image_size(stored.data)
        return [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "width": width,
                "height": height,
            }
        ]

    @staticmethod
    def _document(stored: StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc

    # ------------------------------------------------------------ chat info
    def chat_to_api(self, chat: Chat) -> dict[str, Any]:
        out: dict[str, Any] = {"id": chat.id, "type": chat.type}
        if chat.type == "private":
            user = self.user(chat.user_id or 0)
            out["first_name"] = user.first_name
            if user.last_name:
                out["last_name"] = user.last_name
            if user.username:
                out["username"] = user.username
        else:
            out["title"] = chat.title or ""
            if chat.username:
                out["username"] = chat.username
        return out

    def chat_full_info(self, chat_id: int | str) -> dict[str, Any]:
        """getChat: a ChatFullInfo with the fields the Bot API always sends."""
        chat = self.resolve_chat(chat_id)
        if chat.type == "private" and not self.user(chat.user_id or 0).started:
            raise bad_request(CHAT_NOT_FOUND)
        info = self.chat_to_api(chat)
        info.update(
            accent_color_id=abs(chat.id) % 7,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        )
        return info

    def chat_member(self, chat_id: int | str, user_id: int) -> dict[str, Any]:
        chat = self.resolve_chat(chat_id)
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.type == "private":
            status = "member" if user_id in (chat.user_id, self.bot.id) else "left"
        else:
            status = chat.members.get(user_id, "left")
        return member_to_api(status, user.to_api())

    # ------------------------------------------------------------ bot settings
    def set_commands(
        self, commands: list[dict[str, str]], scope: dict[str, Any] | None, language: str
    ) -> None:
        self.commands[(_scope_key(scope), language)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]

    def get_commands(self, scope: dict[str, Any] | None, language: str) -> list[dict[str, str]]:
        return list(self.commands.get((_scope_key(scope), language), []))

    def delete_commands(self, scope: dict[str, Any] | None, language: str) -> None:
        self.commands.pop((_scope_key(scope), language), None)

    def commands_for(self, chat_id: int, user_id: int, language: str = "") -> list[dict[str, str]]:
        """The command menu a person sees, by Telegram's scope precedence."""
        chat = self._chat(chat_id)
        if chat.type == "private":
            scopes: list[dict[str, Any]] = [
                {"type": "chat", "chat_id": chat_id},
                {"type": "all_private_chats"},
            ]
        else:
            admin = chat.members.get(user_id) in ("administrator", "creator")
            scopes = [{"type": "chat_member", "chat_id": chat_id, "user_id": user_id}]
            if admin:
                scopes.append({"type": "chat_administrators", "chat_id": chat_id})
            scopes.append({"type": "chat", "chat_id": chat_id})
            if admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes.append({"type": "all_group_chats"})
        scopes.append({"type": "default"})
        for scope in scopes:
            for lang in dict.fromkeys((language, "")):
                found = self.commands.get((_scope_key(scope), lang))
                if found:
                    return list(found)
        return []

    def message_to_api(self, message: Message, *, nested: bool = False) -> dict[str, Any]:
        """The Bot API Message object."""
        chat = self._chat(message.chat_id)
        out: dict[str, Any] = {"message_id": message.message_id}
        if message.from_id is not None:
            out["from"] = self.user(message.from_id).to_api()
        out["chat"] = self.chat_to_api(chat)
        out["date"] = message.date
        if message.reply_to is not None and not nested:
            replied = chat.messages.get(message.reply_to)
            if replied is not None and not replied.deleted:
                out["reply_to_message"] = self.message_to_api(replied, nested=True)
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        _put_text(out, "text", "entities", message.text, message.entities)
        for name in ("photo", "document", "contact", "location"):
            if getattr(message, name) is not None:
                out[name] = getattr(message, name)
        _put_text(out, "caption", "caption_entities", message.caption, message.caption_entities)
        if is_inline(message.reply_markup):
            out["reply_markup"] = message.reply_markup
        return out


def _put_text(
    out: dict[str, Any], key: str, entities_key: str, text: str | None, entities: list[Any]
) -> None:
    if text is not None:
        out[key] = text
        if entities:
            out[entities_key] = entities


def _inline(message: Message) -> dict[str, Any] | None:
    return message.reply_markup if is_inline(message.reply_markup) else None


def _set_inline(message: Message, markup: dict[str, Any] | None) -> None:
    """Edits replace or drop the inline keyboard; a reply keyboard sent with the message
    is not part of it and stays on record."""
    if markup is not None or is_inline(message.reply_markup):
        message.reply_markup = markup


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


def _chat_instance(chat_id: int) -> str:
    """Stable per chat, opaque, like Telegram's (a signed 64-bit number as a string)."""
    digest = hashlib.sha256(str(chat_id).encode()).digest()
    return str(int.from_bytes(digest[:8], "big", signed=True))


def _scope_key(scope: dict[str, Any] | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
)
_RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


def member_to_api(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember of the subtype ``status`` names, with its required fields."""
    out: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        out["is_anonymous"] = False
    elif status == "administrator":
        out.update(can_be_edited=False, is_anonymous=False)
        out.update(dict.fromkeys(_ADMIN_RIGHTS, True))
        out["can_promote_members"] = False
    elif status == "restricted":
        out["is_member"] = True
        out.update(dict.fromkeys(_RESTRICTED_RIGHTS, False))
        out["until_date"] = 0
    elif status == "kicked":
        out["until_date"] = 0
    return out


def _suffix(file_name: str | None, mime_type: str | None, data: bytes) -> str:
    if file_name and "." in file_name:
        return "." + file_name.rsplit(".", 1)[1].lower()
    if mime_type:
        return mimetypes.guess_extension(mime_type) or ""
    return ".jpg" if data[:3] == b"\xff\xd8\xff" else ".png" if data[:4] == b"\x89PNG" else ""


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG from its header (0, 0 when unknown), so a
    PhotoSize tells the truth without an imaging library."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        i += 2 + length
    return 0, 0
