"""A fake Telegram Bot API as a starlette ASGI app: records calls, queues updates, injects errors.

In process: `HTTPXRequest(httpx_kwargs={"transport": httpx.ASGITransport(app=fake.app)})` with
`base_url="http://telegram.test/bot"`; on loopback: serve `fake.app` with uvicorn. Answers and
update builders follow the JSON the real Bot API sends. Must not import the bot: it is the other
side of the wire.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Json = dict[str, Any]
Files = dict[str, "UploadedFile"]
DEFAULT_USER_ID = 1001
DEFAULT_GROUP_ID = -1001234567890
DEFAULT_CHANNEL_ID = -1009876543210
ANONYMOUS_ADMIN_ID = 1087968824  # @GroupAnonymousBot, the sender of anonymous admins' messages
HEAD_BYTES = 64
_HANG_SECONDS = 3600.0  # a held call: "forever" for any test
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
# Form values PTB sends as raw strings; every other form value is JSON ("JSON-in-form").
_TEXT_PARAMS = frozenset((
    "text", "caption", "data", "url", "parse_mode", "callback_query_id", "inline_query_id",
    "secret_token", "title",
    "description", "language_code", "business_connection_id", "inline_message_id", "action",
    "name", "video", "document", "photo", "audio", "animation", "thumbnail", "guest_query_id",
))  # fmt: skip
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_POSTING = ("send", "edit", "copy", "forward")  # method prefixes that post into a chat
_NO_BOT_FEATURES = (
    "can_read_all_group_messages", "supports_inline_queries", "can_connect_to_business",
    "has_main_web_app",
)  # fmt: skip
_GIFT_TYPES = (
    "unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
    "gifts_from_channels",
)  # fmt: skip
LIVE_PHOTO_MAX_BYTES = 10 * 1024 * 1024  # Bot API 10.0 sendLivePhoto: the video's limits
LIVE_PHOTO_MAX_SECONDS = 10.0
CHANNEL_POSTS_PER_MINUTE = 20  # Telegram's limit for one channel; more answers 429
_CHANNEL_CAN_POST = ("can_post_messages", "can_edit_messages")
_ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
    "can_delete_stories", "can_pin_messages", "can_manage_topics",
)  # fmt: skip


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request: its name, size and first bytes; `content` holds
    all of it (e.g. to decode an uploaded video)."""

    filename: str
    size: int
    head: bytes
    content: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Call:
    """One Bot API request the fake received (`at` is `time.monotonic()`)."""

    method: str
    params: Json
    files: Files
    at: float


class ApiError(Exception):
    """An error answer of the Bot API, raised inside the fake's method implementations."""

    def __init__(self, error_code: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.error_code, self.description, self.parameters = error_code, description, parameters

    def response(self) -> JSONResponse:
        """The body and status the real Bot API answers with."""
        body: Json = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return JSONResponse(body, status_code=self.error_code)


@dataclass
class Channel:
    """A channel the fake knows: who administers it and what the bot may do there."""

    chat_id: int
    title: str
    username: str | None
    members: dict[int, str]  # user id → "creator", "administrator", "member"
    bot_status: str  # "administrator", "member" or "left"
    bot_can_post: bool
    posted_at: list[float]  # monotonic times of the bot's posts


@dataclass
class _Failure:
    applies: Callable[[str], bool]
    error: ApiError
    times: int | None  # None: every matching call
    when: Callable[[Json], bool] | None


@dataclass
class _Hang:
    applies: Callable[[str], bool]
    when: Callable[[Json], bool] | None
    released: bool = False


class _Wakeup:
    """Wakes waiters on any event loop (the fake may be served by uvicorn on another thread)."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        for loop, event in list(self._waiters):
            loop.call_soon_threadsafe(event.set)

    async def wait_until(self, check: Callable[[], bool], timeout: float) -> bool:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                while not check():
                    await waiter[1].wait()
                    waiter[1].clear()
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[Json]:
    """The `bot_command` entities Telegram attaches to `text`."""
    return [
        dict(offset=utf16_len(text[: m.start()]), length=utf16_len(m.group()), type="bot_command")
        for m in _COMMAND.finditer(text)
    ]


def _decode_field(name: str, value: str) -> Any:
    if name in _TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], Files]:
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise ApiError(400, "Bad Request: can't parse multipart body")
    fields: dict[str, str] = {}
    files: Files = {}
    for part in body.split(b"--" + boundary.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r';\s*name="([^"]*)"', disposition)
        filename = re.search(r';\s*filename="([^"]*)"', disposition)
        if name and filename:
            files[name[1]] = UploadedFile(filename[1], len(content), content[:HEAD_BYTES], content)
        elif name:
            fields[name[1]] = content.decode()
    return fields, files


async def _read_params(request: Request) -> tuple[Json, Files]:
    """Query string, form, JSON-in-form, JSON or multipart body → typed params and files."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    raw: dict[str, str] = dict(request.query_params)
    files: Files = {}
    if content_type.startswith("application/json"):
        return {**{k: _decode_field(k, v) for k, v in raw.items()}, **json.loads(body or b"{}")}, {}
    if content_type.startswith("multipart/form-data"):
        fields, files = _parse_multipart(body, content_type)
        raw.update(fields)
    elif body:
        raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {k: _decode_field(k, v) for k, v in raw.items()}, files


def _render(text: str, parse_mode: object) -> str:
    """The text users see: HTML tags are markup, not content (MarkdownV2 is kept as sent)."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _inline_markup(params: Json) -> Json | None:
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


class FakeTelegram:
    """The Bot API for one bot token, with its chats, messages, files and pending updates."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "MusicVideoBot",
        bot_id: int = 123456,
        *,
        max_long_poll: float = 1.0,
        first_update_id: int = 10_000,
    ) -> None:
        self.token, self.bot_username, self.bot_id = token, bot_username, bot_id
        self.max_long_poll = max_long_poll
        self.calls: list[Call] = []
        self.delay_seconds: dict[str, float] = {}
        # Called with each recorded call before it is answered (e.g. to kill the bot there).
        self.on_call: Callable[[Call], None] | None = None
        self.deleted_messages: defaultdict[int, set[int]] = defaultdict(set)
        self.webhook_url = ""
        self._updates: list[Json] = []
        self._wakeup = _Wakeup()
        self._failures: list[_Failure] = []
        self._hangs: list[_Hang] = []
        self._chats: dict[int, Json] = {}
        self._admins: dict[int, list[int]] = {}
        self._sent: defaultdict[int, dict[int, Json]] = defaultdict(dict)  # the bot's messages
        self._seen: defaultdict[int, dict[int, Json]] = defaultdict(dict)  # users' messages
        self._next_message_id: defaultdict[int, int] = defaultdict(int)
        self._files: dict[str, Json] = {}
        self._file_numbers = itertools.count(1)
        # Telegram's update ids only grow for a bot: a fake standing in for a later run of the
        # same bot (same database) starts above the earlier one's.
        self._update_ids = itertools.count(first_update_id)
        self._query_ids = itertools.count(4_382_000_000_000_000_000)
        self._commands: dict[str, list[Json]] = {}
        self._refuse_urls = False
        # Flood control like Telegram's: off unless a test turns it on.
        self.flood_control = False
        self.flood_answers = 0  # how many 429s flood control gave
        self._buckets: dict[object, _Bucket] = {}
        self.supports_inline_queries = False  # inline mode, as /setinline in @BotFather
        self.channels: dict[int, Channel] = {}
        self.enforce_channel_pace = True  # the 21st post a minute into one channel gets a 429
        self.channel_rate_limited: list[int] = []  # channels that were answered with a 429
        self.inline_answers: dict[str, Json] = {}  # inline query id → answerInlineQuery params
        # Guest mode (Bot API 10.0): guest queries sent, their answers, and the inline messages
        # the answers became (edited by inline_message_id).
        self.guest_queries: dict[str, Json] = {}  # guest query id → the guest message
        self.guest_answers: dict[str, Json] = {}  # guest query id → answerGuestQuery params
        self.inline_messages: dict[str, Json] = {}  # inline message id → the message as shown
        self.guest_inline_ids: dict[str, str] = {}  # guest query id → its inline message id
        self._inline_ids = itertools.count(1)
        self._file_bodies: dict[str, bytes] = {}  # file_path -> content (getFile downloads)
        self.file_downloads: list[str] = []  # file paths downloaded through /file/bot<token>/
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    # --- inspection -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method, oldest first (case-insensitive name)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Wait until `count` calls of `method` match `predicate`; returns all matching calls."""

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

        if await self._wakeup.wait_until(lambda: len(matching()) >= count, timeout):
            return matching()
        runs = [
            (name, len(list(group)))
            for name, group in itertools.groupby(self.calls, lambda c: c.method)
        ]
        seen = ", ".join(name if n == 1 else f"{name} x{n}" for name, n in runs) or "none"
        raise AssertionError(
            f"expected {count} {method} call(s){' matching the predicate' if predicate else ''}"
            f" within {timeout} s, got {len(matching())}; recorded calls: {seen}"
        )

    def messages(self, chat_id: int) -> list[Json]:
        """The bot's messages in a chat that are not deleted, as they read now (after edits)."""
        return copy.deepcopy(list(self._sent[chat_id].values()))

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # --- configuration ----------------------------------------------------------------------

    def set_admins(self, chat_id: int, user_ids: Iterable[int]) -> None:
        """Make exactly these users the chat's administrators."""
        self._admins[chat_id] = list(user_ids)

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int | None = 1,
        when: Callable[[Json], bool] | None = None,
    ) -> None:
        """Answer the next `times` calls (None: all) of `method` passing `when` with an error."""
        parameters = {"retry_after": retry_after, "migrate_to_chat_id": migrate_to_chat_id}
        error = ApiError(error_code, description, {k: v for k, v in parameters.items() if v})
        self._failures.append(_Failure(lambda m: m.lower() == method.lower(), error, times, when))

    def fail_with_retry_after(self, method: str, seconds: int) -> None:
        """The next call of `method` hits flood control."""
        description = f"Too Many Requests: retry after {seconds}"
        self.fail_next(method, error_code=429, description=description, retry_after=seconds)

    def hang(self, method: str, *, when: Callable[[Json], bool] | None = None) -> None:
        """Take matching calls of `method` but never answer them (a half-open connection),
        until `release_hangs`; the calls are recorded as usual."""
        self._hangs.append(_Hang(lambda m: m.lower() == method.lower(), when))

    def release_hangs(self) -> None:
        """Let every held call go on (and later ones through)."""
        for rule in self._hangs:
            rule.released = True
        self._hangs.clear()
        self._wakeup.notify()

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: every post into the chat is refused."""
        error = ApiError(403, "Forbidden: bot was blocked by the user")
        self._failures.append(_Failure(_posts, error, None, _to_chat(chat_id)))

    def never_started(self, user_id: int) -> None:
        """The user never started the bot: it may not post into their private chat."""
        error = ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        self._failures.append(_Failure(_posts, error, None, _to_chat(user_id)))

    def upgrade_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: posts into the old id answer with the new one."""
        description = "Bad Request: group chat was upgraded to a supergroup chat"
        error = ApiError(400, description, {"migrate_to_chat_id": new_chat_id})
        self._failures.append(_Failure(_posts, error, None, _to_chat(old_chat_id)))

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A forum topic was deleted: posts into it are refused, the rest of the chat works."""
        error = ApiError(400, "Bad Request: message thread not found")
        self._failures.append(
            _Failure(
                _posts,
                error,
                None,
                lambda params: (
                    params.get("chat_id") == chat_id
                    and params.get("message_thread_id") == thread_id
                ),
            )
        )

    def refuse_live_photos(
        self, *, error_code: int = 400, description: str = "Bad Request: LIVE_PHOTO_INVALID"
    ) -> None:
        """sendLivePhoto is refused from now on (an older Bot API answers 404 "Not Found:
        method not found"; a file it does not take, 400 LIVE_PHOTO_INVALID)."""
        self.fail_next("sendLivePhoto", error_code=error_code, description=description, times=None)

    def refuse_video_urls(self) -> None:
        """Telegram cannot fetch video URLs any more; uploads and file_ids still work."""
        self._refuse_urls = True

    def add_channel(
        self,
        chat_id: int = DEFAULT_CHANNEL_ID,
        *,
        title: str = "My Channel",
        username: str | None = "mychannel",
        members: dict[int, str] | None = None,
        bot_status: str = "administrator",
        bot_can_post: bool = True,
    ) -> Channel:
        """A channel: `members` maps user ids to "creator"/"administrator"/"member"; the bot
        is an admin allowed to post unless told otherwise. A private channel (no username)
        the bot is not in cannot even be looked up, as on Telegram."""
        chat: Json = {"id": chat_id, "title": title, "type": "channel"}
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        channel = Channel(
            chat_id, title, username, dict(members or {}), bot_status, bot_can_post, []
        )
        self.channels[chat_id] = channel
        return channel

    def kick_from_channel(self, chat_id: int = DEFAULT_CHANNEL_ID) -> None:
        """The channel's owner removed the bot."""
        self.channels[chat_id].bot_status = "left"
        self.channels[chat_id].bot_can_post = False

    def add_video_file(self, file_name: str = "video.mp4") -> str:
        """A video Telegram already stores (e.g. delivered earlier); returns its file_id."""
        return str(self._new_file("video", file_name, 1_048_576, {})["file_id"])

    def channel_posts(self, chat_id: int = DEFAULT_CHANNEL_ID) -> list[Json]:
        """The bot's messages in a channel, oldest first."""
        return self.messages(chat_id)

    # --- updates ----------------------------------------------------------------------------

    def push_update(self, update: Json) -> None:
        """Queue an update for getUpdates and wake a waiting long poll."""
        self._updates.append(update)
        self._wakeup.notify()

    async def push(self, update: Json) -> None:
        """`push_update` for async callers."""
        self.push_update(update)

    def private_message(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        language_code: str = "en",
        first_name: str = "Ann",
        update_id: int | None = None,
    ) -> Json:
        """An update with a message in the user's private chat with the bot."""
        chat = {"id": user_id, "first_name": first_name, "type": "private"}
        sender = {"from": self._user(user_id, first_name, language_code)}
        return self._update("message", self._incoming(chat, text, sender), update_id)

    def group_message(
        self,
        text: str,
        *,
        chat_id: int = DEFAULT_GROUP_ID,
        user_id: int = DEFAULT_USER_ID,
        thread_id: int | None = None,
        is_forum: bool = False,
        title: str = "Test Group",
        update_id: int | None = None,
    ) -> Json:
        """An update with a message in a supergroup, optionally in a (forum) thread."""
        chat = {"id": chat_id, "title": title, "type": "supergroup"}
        if is_forum:
            chat["is_forum"] = True
        user = self._user(user_id, "Ann", "en")
        fields: Json = {"from": user}
        if thread_id is not None:
            fields["message_thread_id"] = thread_id
        if thread_id is not None and is_forum:
            fields["is_topic_message"] = True
            topic = {"message_id": thread_id, "from": user, "chat": chat, "date": int(time.time())}
            created = {"name": "Videos", "icon_color": 7322096}
            topic.update(
                message_thread_id=thread_id, is_topic_message=True, forum_topic_created=created
            )
            fields["reply_to_message"] = topic  # the topic's service message, as Telegram sends it
        return self._update("message", self._incoming(chat, text, fields), update_id)

    def channel_post(
        self,
        text: str,
        *,
        chat_id: int = DEFAULT_CHANNEL_ID,
        title: str = "My Channel",
        update_id: int | None = None,
    ) -> Json:
        """An update with a channel post: no `from`, the channel as `sender_chat`."""
        chat = {"id": chat_id, "title": title, "type": "channel"}
        return self._update(
            "channel_post", self._incoming(chat, text, {"sender_chat": chat}), update_id
        )

    def anonymous_admin_message(
        self,
        text: str,
        chat_id: int = DEFAULT_GROUP_ID,
        *,
        title: str = "Test Group",
        update_id: int | None = None,
    ) -> Json:
        """An update with a message of an anonymous group admin (sent as the group itself)."""
        chat = {"id": chat_id, "title": title, "type": "supergroup"}
        sender = dict(
            id=ANONYMOUS_ADMIN_ID, is_bot=True, first_name="Group", username="GroupAnonymousBot"
        )
        fields = {"from": sender, "sender_chat": chat}
        return self._update("message", self._incoming(chat, text, fields), update_id)

    def edited_message(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        message_id: int | None = None,
        update_id: int | None = None,
    ) -> Json:
        """An update with an edit of an earlier message (a fresh one unless `message_id`)."""
        chat = self._chat(user_id if chat_id is None else chat_id)
        is_channel = chat["type"] == "channel"
        fields = {"sender_chat": chat} if is_channel else {"from": self._user(user_id, "Ann", "en")}
        message = self._incoming(chat, text, fields, message_id)
        message["edit_date"] = message["date"] + 1
        kind = "edited_channel_post" if is_channel else "edited_message"
        return self._update(kind, message, update_id)

    def user_file(
        self, kind: str, content: bytes, *, file_name: str, mime_type: str, size: int | None = None
    ) -> Json:
        """A file a user sends (kind audio, voice or document), downloadable through getFile;
        `size` overrides the size Telegram reports (e.g. a file over the 20 MB limit)."""
        number = next(self._file_numbers)
        path = f"{'voice' if kind == 'voice' else 'music'}/file_{number}"
        media: Json = dict(
            file_id=f"CQACAgIAAxkBAAI{number:08d}user", file_unique_id=f"AgAU{number:08d}"
        )
        media.update(file_size=len(content) if size is None else size, mime_type=mime_type)
        if kind != "voice":
            media["file_name"] = file_name
        if kind in ("audio", "voice"):
            media["duration"] = 3
        self._files[media["file_id"]] = {**media, "file_path": path}
        self._file_bodies[path] = content
        return media

    def audio_message(
        self,
        media: Json,
        *,
        kind: str = "audio",
        caption: str | None = None,
        chat_id: int | None = None,
        user_id: int = DEFAULT_USER_ID,
        update_id: int | None = None,
    ) -> Json:
        """An update with an audio, voice or document message (`media` from `user_file`), in
        the user's private chat or, with `chat_id`, in a supergroup."""
        if chat_id is None:
            chat: Json = {"id": user_id, "first_name": "Ann", "type": "private"}
        else:
            chat = {"id": chat_id, "title": "Test Group", "type": "supergroup"}
        fields: Json = {"from": self._user(user_id, "Ann", "en"), kind: media}
        if caption is not None:
            fields["caption"] = caption
        message = self._incoming(chat, "", fields)
        del message["text"]
        self._seen[chat["id"]][message["message_id"]].pop("text", None)
        return self._update("message", message, update_id)

    def reply_message(
        self, text: str, *, to: Json, user_id: int = DEFAULT_USER_ID, update_id: int | None = None
    ) -> Json:
        """An update with a message replying to `to` (a message), in the same chat."""
        chat = to["chat"]
        fields: Json = {"from": self._user(user_id, "Ann", "en"), "reply_to_message": to}
        return self._update("message", self._incoming(chat, text, fields), update_id)

    def callback_query(
        self,
        data: str,
        *,
        message: Json,
        user_id: int = DEFAULT_USER_ID,
        chat_instance: str = "-5871234567890123456",
        update_id: int | None = None,
    ) -> Json:
        """An update for a tap on an inline button of `message` (e.g. from `messages()`)."""
        user = self._user(user_id, "Ann", "en")
        query = {"id": str(next(self._query_ids)), "from": user, "message": message}
        query.update(chat_instance=chat_instance, data=data)
        return self._update("callback_query", query, update_id)

    def inline_query(
        self,
        query: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_type: str = "sender",
        update_id: int | None = None,
    ) -> Json:
        """An update for `@Bot <query>` typed by `user_id` (in a chat of `chat_type`)."""
        payload = {
            "id": str(next(self._query_ids)),
            "from": self._user(user_id, "Ann", "en"),
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        return self._update("inline_query", payload, update_id)

    def guest_message(
        self,
        text: str,
        *,
        chat_id: int = -1005550001,
        user_id: int = DEFAULT_USER_ID,
        reply_to: Json | None = None,
        language_code: str = "en",
        update_id: int | None = None,
    ) -> Json:
        """An update for a guest query: `@Bot <text>` written by `user_id` in a supergroup the
        bot is not a member of (`reply_to`: the message it replies to, e.g. an audio file)."""
        chat = {"id": chat_id, "title": "Friends", "type": "supergroup"}
        fields: Json = {"from": self._user(user_id, "Ann", language_code)}
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        message = self._incoming(chat, text, fields)
        mention = f"@{self.bot_username}"
        if (at := text.find(mention)) >= 0:
            entity = dict(offset=utf16_len(text[:at]), length=utf16_len(mention), type="mention")
            message["entities"] = [entity]
        query_id = str(next(self._query_ids))
        message["guest_query_id"] = query_id
        self.guest_queries[query_id] = message
        return self._update("guest_message", message, update_id)

    def guest_audio(self, media: Json, *, chat_id: int = -1005550001, user_id: int = 2002) -> Json:
        """An audio message someone posted in a chat the bot is not in (`media` from
        `user_file`), to reply to with a guest query."""
        chat = {"id": chat_id, "title": "Friends", "type": "supergroup"}
        message = self._incoming(
            chat, "", {"from": self._user(user_id, "Bob", "en"), "audio": media}
        )
        del message["text"]
        return message

    def inline_message(self, inline_message_id: str) -> Json:
        """An inline message as it shows now (after any edits)."""
        return self.inline_messages[inline_message_id]

    def _update(self, kind: str, payload: Json, update_id: int | None) -> Json:
        return {
            "update_id": next(self._update_ids) if update_id is None else update_id,
            kind: payload,
        }

    def _incoming(self, chat: Json, text: str, fields: Json, message_id: int | None = None) -> Json:
        self._chats[chat["id"]] = chat
        if message_id is None:
            message_id = self._new_message_id(chat["id"])
        message = {"message_id": message_id, **fields, "chat": chat, "date": int(time.time())}
        message["text"] = text
        if entities := command_entities(text):
            message["entities"] = entities
        self._seen[chat["id"]][message_id] = message
        return copy.deepcopy(message)

    @staticmethod
    def _user(user_id: int, first_name: str, language_code: str) -> Json:
        return dict(id=user_id, is_bot=False, first_name=first_name, language_code=language_code)

    # --- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        method = request.path_params["method"]
        try:
            params, files = await _read_params(request)
        except ApiError as err:
            return err.response()
        self.calls.append(Call(method, params, files, time.monotonic()))
        self._wakeup.notify()
        if self.on_call is not None:
            self.on_call(self.calls[-1])
        for rule in list(self._hangs):
            if rule.applies(method) and (rule.when is None or rule.when(params)):
                await self._wakeup.wait_until(lambda rule=rule: rule.released, _HANG_SECONDS)
        if delay := self.delay_seconds.get(method):
            await asyncio.sleep(delay)
        implementation = getattr(self, "_api_" + _snake_case(method), None)
        if implementation is None:
            return ApiError(404, "Not Found").response()
        try:
            self._raise_injected(method, params)
            self._check_flood(method, params)
            result = await implementation(params, files)
        except ApiError as err:
            return err.response()
        return JSONResponse({"ok": True, "result": result})

    def _check_flood(self, method: str, params: Json) -> None:
        """With `flood_control`: at most 30 messages a second overall and 20 a minute per
        group or channel (sends and edits), else 429 with retry_after, as Telegram answers."""
        if not self.flood_control or not (_posts(method) or method.lower().startswith("edit")):
            return
        chat_id = params.get("chat_id")
        buckets = [("all", 30, 1.0)]
        if isinstance(chat_id, int | str) and str(chat_id).startswith("-"):
            buckets.append((str(chat_id), 20, 60.0))
        now = time.monotonic()
        for key, size, period in buckets:
            bucket = self._buckets.setdefault(key, _Bucket(size, size / period, size, now))
            if bucket.wait(now) > 0:
                self.flood_answers += 1
                seconds = max(1, round(bucket.wait(now) + 0.5))
                raise ApiError(
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
        for key, _, _ in buckets:
            self._buckets[key].take(now)

    def _raise_injected(self, method: str, params: Json) -> None:
        for rule in self._failures:
            if rule.applies(method) and (rule.when is None or rule.when(params)):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._failures.remove(rule)
                raise rule.error

    # --- methods ----------------------------------------------------------------------------

    async def _api_answer_callback_query(self, _params: Json, _files: Files) -> bool:
        return True

    async def _api_answer_inline_query(self, params: Json, _files: Files) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results")
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        if len({str(r.get("id")) for r in results}) != len(results):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for result in results:
            if result.get("type") == "video" and result.get("video_file_id") not in self._files:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            if utf16_len(str(result.get("caption") or "")) > 1024:
                raise ApiError(400, "Bad Request: message caption is too long")
        if query_id in self.inline_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.inline_answers[query_id] = params
        return True

    async def _api_answer_guest_query(self, params: Json, _files: Files) -> Json:
        query_id = str(params.get("guest_query_id") or "")
        result = params.get("result")
        if query_id not in self.guest_queries or query_id in self.guest_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if not isinstance(result, dict) or not result.get("id"):
            raise ApiError(400, "Bad Request: can't parse inline query result")
        message: Json = {"date": int(time.time()), "via_bot": self._bot_user()}
        if result.get("type") == "article":
            content = result.get("input_message_content") or {}
            body = str(content.get("message_text") or "")
            if not body.strip():
                raise ApiError(400, "Bad Request: message text is empty")
            message["text"] = body
            if preview := content.get("link_preview_options"):
                message["link_preview_options"] = preview
        elif result.get("type") == "video" and "video_file_id" in result:
            if result["video_file_id"] not in self._files:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            message["video"] = self._files[result["video_file_id"]]
            message.update(_caption(result))
        else:
            raise ApiError(400, "Bad Request: result type not supported by the fake")
        if markup := result.get("reply_markup"):
            message["reply_markup"] = markup
        inline_message_id = f"AgAAAG{next(self._inline_ids):06d}guest"
        self.guest_answers[query_id] = params
        self.guest_inline_ids[query_id] = inline_message_id
        self.inline_messages[inline_message_id] = message
        return {"inline_message_id": inline_message_id}

    async def _api_edit_message_media(self, params: Json, _files: Files) -> Any:
        inline_message_id = params.get("inline_message_id")
        if not inline_message_id:
            raise ApiError(400, "Bad Request: only inline messages are edited by this fake")
        message = self.inline_messages.get(str(inline_message_id))
        if message is None:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") != "video":
            raise ApiError(400, "Bad Request: can't parse input media")
        file_id = str(media.get("media") or "")
        if file_id.startswith("attach://") or _files:  # Bot API: no uploads into inline messages
            raise ApiError(400, "Bad Request: can't upload file for an inline message")
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        video = self._files[file_id]
        if message.get("video") == video:
            raise ApiError(400, NOT_MODIFIED)
        message.pop("text", None)
        message.pop("link_preview_options", None)
        message["video"] = video
        message.pop("caption", None)
        message.update(_caption(media))
        self._edited(message, _inline_markup(params))
        return True

    async def _api_get_file(self, params: Json, _files: Files) -> Json:
        found = self._files.get(str(params.get("file_id") or ""))
        if found is None or "file_path" not in found:
            raise ApiError(400, "Bad Request: invalid file_id")
        if int(found.get("file_size") or 0) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        keys = ("file_id", "file_unique_id", "file_size", "file_path")
        return {key: found[key] for key in keys}

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        path = request.path_params["path"]
        self.file_downloads.append(path)
        body = self._file_bodies.get(path)
        return Response(status_code=404) if body is None else Response(body)

    _api_send_chat_action = _api_answer_callback_query

    async def _api_get_me(self, _params: Json, _files: Files) -> Json:
        flags = dict.fromkeys(_NO_BOT_FEATURES, False)
        flags["supports_inline_queries"] = self.supports_inline_queries
        return {**self._bot_user(), "can_join_groups": True, **flags}

    async def _api_get_updates(self, params: Json, _files: Files) -> list[Json]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)  # confirms every update before it
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        if allowed := params.get("allowed_updates"):
            self._updates = [
                u for u in self._updates if next(k for k in u if k != "update_id") in allowed
            ]
        wait = min(float(params.get("timeout") or 0), self.max_long_poll)
        if wait > 0:
            await self._wakeup.wait_until(lambda: bool(self._updates), wait)
        return self._updates[: int(params.get("limit") or 100)]

    async def _api_set_webhook(self, params: Json, _files: Files) -> bool:
        self.webhook_url = str(params.get("url") or "")
        return True

    async def _api_delete_webhook(self, params: Json, _files: Files) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_get_webhook_info(self, _params: Json, _files: Files) -> Json:
        pending = len(self._updates)
        return dict(
            url=self.webhook_url, has_custom_certificate=False, pending_update_count=pending
        )

    @staticmethod
    def _commands_key(params: Json) -> str:
        return json.dumps(
            [params.get("scope") or {"type": "default"}, params.get("language_code") or ""]
        )

    async def _api_set_my_commands(self, params: Json, _files: Files) -> bool:
        self._commands[self._commands_key(params)] = list(params.get("commands") or [])
        return True

    async def _api_get_my_commands(self, params: Json, _files: Files) -> list[Json]:
        return self._commands.get(self._commands_key(params), [])

    async def _api_delete_my_commands(self, params: Json, _files: Files) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _api_send_message(self, params: Json, _files: Files) -> Json:
        text = _render(str(params.get("text") or ""), params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._post(params, {"text": text})

    async def _api_send_video(self, params: Json, files: Files) -> Json:
        video = self._media("video", params, files)
        if "start_timestamp" in params:  # Bot API 9.0: where the video starts playing
            start = params["start_timestamp"]
            if not isinstance(start, int) or isinstance(start, bool) or start < 0:
                raise ApiError(400, "Bad Request: invalid start timestamp specified")
            video = {**video, "start_timestamp": start}
        return self._post(params, {"video": video, **_caption(params)})

    async def _api_send_live_photo(self, params: Json, files: Files) -> Json:
        """Bot API 10.0: a video of ≤ 10 s and ≤ 10 MB (uploaded or by file_id) and its still
        photo; both parts are required. An uploaded video's duration is read from its MP4
        header (`mvhd`), as Telegram reads it; refused beyond the limits."""
        upload = files.get(_attached("live_photo", params))
        if upload is not None:
            if upload.size > LIVE_PHOTO_MAX_BYTES:
                raise ApiError(400, "Bad Request: LIVE_PHOTO_TOO_BIG")
            duration = mp4_duration(upload.content)
            if duration is None or duration > LIVE_PHOTO_MAX_SECONDS:
                raise ApiError(400, "Bad Request: LIVE_PHOTO_INVALID")
            number = next(self._file_numbers)
            video: Json = dict(
                file_id=f"BAACLiv{number:08d}fake", file_unique_id=f"AgLv{number:08d}"
            )
            video.update(file_size=upload.size, width=720, height=1280, duration=round(duration))
            video.update(mime_type="video/mp4", live=True)
            self._files[video["file_id"]] = video
        else:
            found = self._files.get(str(params.get("live_photo") or ""))
            if found is None or not found.get("live"):
                raise ApiError(400, "Bad Request: wrong live photo file identifier specified")
            video = found
        photo_value = str(params.get("photo") or "")
        photo_upload = files.get(_attached("photo", params))
        if photo_upload is not None:
            number = next(self._file_numbers)
            still: Json = dict(
                file_id=f"AgACPho{number:08d}fake", file_unique_id=f"AQAD{number:08d}"
            )
            still.update(file_size=photo_upload.size, width=720, height=1280, photo=True)
            self._files[still["file_id"]] = still
        elif photo_value in self._files and self._files[photo_value].get("photo"):
            still = self._files[photo_value]
        else:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        live_video = {k: v for k, v in video.items() if k not in ("live", "file_name")}
        sizes = [{k: v for k, v in still.items() if k != "photo"}]
        content = {"live_photo": {**live_video, "photo": sizes}, **_caption(params)}
        return self._post(params, content)

    async def _api_send_document(self, params: Json, files: Files) -> Json:
        return self._post(
            params, {"document": self._media("document", params, files), **_caption(params)}
        )

    async def _api_edit_message_text(self, params: Json, _files: Files) -> Any:
        inline = params.get("inline_message_id")
        message = self._editable_inline(str(inline)) if inline else self._editable(params)
        text = _render(str(params.get("text") or ""), params.get("parse_mode"))
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = _inline_markup(params)  # an edit without reply_markup removes the keyboard
        if message["text"] == text and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message["text"] = text
        if inline and (preview := params.get("link_preview_options")):
            message["link_preview_options"] = preview
        edited = self._edited(message, markup)
        return True if inline else edited

    async def _api_edit_message_reply_markup(self, params: Json, _files: Files) -> Json:
        message = self._editable(params)
        markup = _inline_markup(params)
        if message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        return self._edited(message, markup)

    async def _api_delete_message(self, params: Json, _files: Files) -> bool:
        chat_id, message_id = self._chat_id(params), _message_id(params)
        sent, seen = (
            self._sent[chat_id].pop(message_id, None),
            self._seen[chat_id].pop(message_id, None),
        )
        if sent is None and seen is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted_messages[chat_id].add(message_id)
        return True

    async def _api_get_chat(self, params: Json, _files: Files) -> Json:
        gifts = dict.fromkeys(_GIFT_TYPES, False)
        chat_id = self._chat_id(params)
        channel = self.channels.get(chat_id)
        if channel is not None and channel.username is None and channel.bot_status == "left":
            raise ApiError(400, "Bad Request: chat not found")
        chat = self._chat(chat_id)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _api_get_chat_member(self, params: Json, _files: Files) -> Json:
        chat_id, user_id = self._chat_id(params), int(params.get("user_id") or 0)
        if chat_id in self.channels:
            return self._channel_member(self.channels[chat_id], user_id)
        return self._member(user_id, admin=user_id in self._admins.get(chat_id, []))

    async def _api_get_chat_administrators(self, params: Json, _files: Files) -> list[Json]:
        chat_id = self._chat_id(params)
        if self._chat(chat_id)["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return [self._member(user_id, admin=True) for user_id in self._admins.get(chat_id, [])]

    # --- state ------------------------------------------------------------------------------

    def _bot_user(self) -> Json:
        return dict(
            id=self.bot_id, is_bot=True, first_name="Music Video Bot", username=self.bot_username
        )

    def _chat(self, chat_id: int) -> Json:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id > 0:
            return {"id": chat_id, "first_name": "Ann", "type": "private"}
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        return {"id": chat_id, "title": "Test Group", "type": kind}

    def _chat_id(self, params: Json) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for channel in self.channels.values():
                if channel.username and channel.username.lower() == chat_id[1:].lower():
                    return channel.chat_id
            raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] += 1
        return self._next_message_id[chat_id]

    def _post(self, params: Json, content: Json) -> Json:
        chat_id = self._chat_id(params)
        if chat_id in self.channels:
            self._check_channel_post(self.channels[chat_id])
        chat = self._chat(chat_id)
        replied = self._replied_message(chat_id, params)
        message_id = self._new_message_id(chat_id)
        sender = {"sender_chat": chat} if chat["type"] == "channel" else {"from": self._bot_user()}
        message: Json = {"message_id": message_id, **sender, "chat": chat, "date": int(time.time())}
        if (thread := params.get("message_thread_id")) and chat.get("is_forum"):
            message.update(message_thread_id=thread, is_topic_message=True)
        if replied is not None:
            message["reply_to_message"] = replied
        message.update(content)
        if markup := _inline_markup(params):
            message["reply_markup"] = markup
        self._sent[chat_id][message_id] = message
        return copy.deepcopy(message)

    def _replied_message(self, chat_id: int, params: Json) -> Json | None:
        reply = params.get("reply_parameters")
        reply = reply if isinstance(reply, dict) else {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        if message_id in self.deleted_messages[chat_id]:
            if reply.get("allow_sending_without_reply", params.get("allow_sending_without_reply")):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        found = self._sent[chat_id].get(message_id) or self._seen[chat_id].get(message_id)
        return {k: v for k, v in found.items() if k != "reply_to_message"} if found else None

    def _editable(self, params: Json) -> Json:
        chat_id, message_id = self._chat_id(params), _message_id(params)
        if message_id in self._seen[chat_id]:
            raise ApiError(400, "Bad Request: message can't be edited")
        if message_id not in self._sent[chat_id]:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self._sent[chat_id][message_id]

    def _editable_inline(self, inline_message_id: str) -> Json:
        message = self.inline_messages.get(inline_message_id)
        if message is None:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        return message

    @staticmethod
    def _edited(message: Json, markup: Json | None) -> Json:
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _media(self, kind: str, params: Json, files: Files) -> Json:
        value = params.get(kind)
        attached = value.removeprefix("attach://") if isinstance(value, str) else kind
        if upload := files.get(attached):
            return self._new_file(kind, upload.filename, upload.size, params)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if value in self._files:
            return self._files[value]
        if re.match(r"https?://", value):
            if self._refuse_urls:
                raise ApiError(400, "Bad Request: failed to get HTTP URL content")
            return self._new_file(kind, value.rsplit("/", 1)[-1].split("?")[0], 1_048_576, params)
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _new_file(self, kind: str, file_name: str, size: int, params: Json) -> Json:
        number = next(self._file_numbers)
        prefix = "BAACAgIAAxkBAAI" if kind == "video" else "BQACAgIAAxkBAAI"
        media: Json = dict(file_id=f"{prefix}{number:08d}fake", file_unique_id=f"AgAD{number:08d}")
        media.update(file_name=file_name, file_size=size)
        if kind == "video":
            media.update(width=1280, height=720, duration=30, mime_type="video/mp4")
            media.update({k: params[k] for k in ("width", "height", "duration") if k in params})
        self._files[media["file_id"]] = media
        return media

    def _check_channel_post(self, channel: Channel) -> None:
        if channel.bot_status == "left":
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        if channel.bot_status != "administrator" or not channel.bot_can_post:
            raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
        now = time.monotonic()
        recent = [at for at in channel.posted_at if at > now - 60.0]
        if self.enforce_channel_pace and len(recent) >= CHANNEL_POSTS_PER_MINUTE:
            self.channel_rate_limited.append(channel.chat_id)
            wait = int(recent[0] + 60.0 - now) + 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        channel.posted_at.append(now)

    def _channel_member(self, channel: Channel, user_id: int) -> Json:
        if user_id == self.bot_id:
            if channel.bot_status != "administrator":
                user = self._bot_user()
                return {"status": channel.bot_status, "user": user}
            member = self._member(user_id, admin=True)
            member["user"] = self._bot_user()
            member.update(dict.fromkeys(_CHANNEL_CAN_POST, channel.bot_can_post))
            return member
        if channel.bot_status != "administrator":
            raise ApiError(400, "Bad Request: member list is inaccessible")
        status = channel.members.get(user_id, "left")
        if status == "creator":
            user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            member = self._member(user_id, admin=True)
            member.update(dict.fromkeys(_CHANNEL_CAN_POST, True))
            return member
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return {"status": status, "user": user}

    def _member(self, user_id: int, *, admin: bool) -> Json:
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        if not admin:
            return {"status": "member", "user": user}
        rights = {
            **dict.fromkeys(_ADMIN_RIGHTS, True),
            "can_be_edited": False,
            "can_promote_members": False,
        }
        return {"status": "administrator", "user": user, "is_anonymous": False, **rights}


def _attached(kind: str, params: Json) -> str:
    """The multipart field an uploaded `kind` is in (`attach://name`, else the kind's own)."""
    value = params.get(kind)
    return value.removeprefix("attach://") if isinstance(value, str) else kind


def mp4_duration(content: bytes) -> float | None:
    """An MP4's duration from its movie header (`mvhd`: version, times, timescale, duration);
    None when there is none."""
    at = content.find(b"mvhd")
    if at < 0 or len(content) < at + 32:
        return None
    body = content[at + 4 :]
    if body[0] == 1:  # version 1: 64-bit times and duration
        scale, length = int.from_bytes(body[20:24]), int.from_bytes(body[24:32])
    else:
        scale, length = int.from_bytes(body[12:16]), int.from_bytes(body[16:20])
    return length / scale if scale else None


def _snake_case(method: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


def _message_id(params: Json) -> int:
    message_id = params.get("message_id")
    if not isinstance(message_id, int):
        raise ApiError(400, "Bad Request: message identifier is not specified")
    return message_id


@dataclass
class _Bucket:
    """A token bucket: `size` messages at once, refilled at `rate` per second."""

    size: int
    rate: float
    tokens: float
    at: float

    def _refill(self, now: float) -> None:
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until one message fits (0 when it fits now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


def _posts(method: str) -> bool:
    return method.lower().startswith(_POSTING)


def _to_chat(chat_id: int) -> Callable[[Json], bool]:
    return lambda params: params.get("chat_id") == chat_id


def _caption(params: Json) -> Json:
    if not params.get("caption"):
        return {}
    caption = _render(str(params["caption"]), params.get("parse_mode"))
    if utf16_len(caption) > 1024:
        raise ApiError(400, "Bad Request: message caption is too long")
    return {"caption": caption}
