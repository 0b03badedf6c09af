"""The fake Bot API, driven by the real python-telegram-bot client, answers as Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputFile,
    InputMediaVideo,
    InputTextMessageContent,
    Message,
    ReplyParameters,
)
from telegram import Update as TgUpdate
from telegram.constants import ChatType, MessageEntityType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakes.telegram import FakeTelegram

BASE_URL = "http://telegram.test/bot"
USER = 4242
GROUP = -1001234567890
VIDEO_URL = "https://cdn.example/videos/clip.mp4"


def in_process(fake: FakeTelegram) -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"transport": httpx.ASGITransport(app=fake.app)})


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    return Bot(
        token or fake.token,
        base_url=BASE_URL,
        request=in_process(fake),
        get_updates_request=in_process(fake),
    )


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as bot:
        yield bot


async def test_get_me_answers_with_the_configured_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "MusicVideoBot", True)


async def test_send_message_is_recorded_with_decoded_json_in_form_fields(
    fake: FakeTelegram, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Check status", callback_data="s:1")]])
    first = await bot.send_message(USER, "123", reply_markup=keyboard)
    second = await bot.send_message(USER, "<b>Done</b> &amp; ready", parse_mode="HTML")

    [call, _] = fake.calls_to("sendMessage")
    assert call.params["chat_id"] == USER
    assert call.params["text"] == "123"  # string params stay strings, even when they look like JSON
    assert call.params["reply_markup"] == keyboard.to_dict()
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.reply_markup == keyboard
    assert first.from_user is not None
    assert first.from_user.id == 123456
    assert [m["text"] for m in fake.messages(USER)] == ["123", "Done & ready"]


async def test_video_by_url_gets_a_file_id_that_can_be_sent_again(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = await bot.send_video(USER, VIDEO_URL, caption="Song A", supports_streaming=True)
    assert first.video is not None
    again = await bot.send_video(USER, first.video.file_id)

    assert again.video is not None
    assert again.video.file_unique_id == first.video.file_unique_id
    assert fake.calls_to("sendVideo")[0].params["supports_streaming"] is True
    assert first.caption == "Song A"


async def test_uploaded_video_records_its_size_and_first_bytes(
    fake: FakeTelegram, bot: Bot
) -> None:
    content = b"\x00\x00\x00\x18ftypmp42" + bytes(300_000)
    message = await bot.send_video(USER, InputFile(content, filename="clip.mp4"), caption="A")

    [call] = fake.calls_to("sendVideo")
    upload = call.files["video"]
    assert (upload.filename, upload.size) == ("clip.mp4", len(content))
    assert upload.head.startswith(b"\x00\x00\x00\x18ftyp")
    assert len(upload.head) < 100
    assert call.params["caption"] == "A"
    assert message.video is not None
    assert message.video.file_size == len(content)


async def test_send_document_by_upload(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_document(USER, InputFile(b"log", filename="job.txt"))
    assert message.document is not None
    assert message.document.file_name == "job.txt"
    assert fake.calls_to("sendDocument")[0].files["document"].size == 3


async def test_flood_control_raises_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_with_retry_after("sendVideo", 3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_video(USER, VIDEO_URL)
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    assert (await bot.send_video(USER, VIDEO_URL)).video is not None  # only the next call fails


async def test_fail_next_with_a_predicate_hits_only_matching_calls(
    fake: FakeTelegram, bot: Bot
) -> None:
    def to_chat_7(params: dict[str, object]) -> bool:
        return params["chat_id"] == 7

    fake.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found", when=to_chat_7
    )
    await bot.send_message(USER, "fine")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(7, "lost")


async def test_blocked_chat_raises_forbidden_for_every_post(fake: FakeTelegram, bot: Bot) -> None:
    fake.block_chat(USER)
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER, "hello")
    await bot.send_message(USER + 1, "others still work")


async def test_upgraded_chat_raises_chat_migrated_with_the_new_id(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.upgrade_chat(-4242, GROUP)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_video(-4242, VIDEO_URL)
    assert caught.value.new_chat_id == GROUP


async def test_refused_video_urls_still_accept_uploads(fake: FakeTelegram, bot: Bot) -> None:
    fake.refuse_video_urls()
    with pytest.raises(BadRequest, match=r"(?i)failed to get HTTP URL content"):
        await bot.send_video(USER, VIDEO_URL)
    assert (await bot.send_video(USER, InputFile(b"mp4", filename="v.mp4"))).video is not None


async def test_editing_to_identical_content_is_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Check status", callback_data="s:1")]])
    status = await bot.send_message(USER, "Submitted", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "Rendering", USER, status.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, Message)
    assert edited.text == "Rendering"

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Rendering", USER, status.message_id, reply_markup=keyboard)
    await bot.edit_message_text("Rendering", USER, status.message_id)  # dropping the keyboard
    [current] = fake.messages(USER)
    assert current["text"] == "Rendering"
    assert "reply_markup" not in current


async def test_reply_to_a_deleted_message_needs_allow_sending_without_reply(
    fake: FakeTelegram, bot: Bot
) -> None:
    command = fake.private_message("/video t a", user_id=USER)["message"]
    fake.deleted_messages[USER].add(command["message_id"])
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "x", reply_parameters=ReplyParameters(command["message_id"]))
    lenient = ReplyParameters(command["message_id"], allow_sending_without_reply=True)
    sent = await bot.send_message(USER, "x", reply_parameters=lenient)
    assert sent.reply_to_message is None


async def test_reply_to_a_known_message_carries_it(fake: FakeTelegram, bot: Bot) -> None:
    command = fake.private_message("/video t a", user_id=USER)["message"]
    sent = await bot.send_message(USER, "ok", reply_to_message_id=command["message_id"])
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "/video t a"


async def test_group_command_update_parses_with_a_bot_command_entity(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.push_update(fake.group_message("/video@MusicVideoBot t a", chat_id=GROUP))
    [update] = await bot.get_updates()

    message = update.effective_message
    assert message is not None
    assert update.effective_chat is not None
    assert update.effective_chat.type == ChatType.SUPERGROUP
    assert message.parse_entities([MessageEntityType.BOT_COMMAND]) == {
        message.entities[0]: "/video@MusicVideoBot"
    }
    assert message.entities[0].offset == 0


async def test_command_entity_offsets_count_utf16_code_units(fake: FakeTelegram) -> None:
    update = fake.private_message("🎬 go /video t a")
    [entity] = update["message"]["entities"]
    assert (entity["offset"], entity["length"]) == (6, 6)  # the emoji is two code units
    parsed = TgUpdate.de_json(update, None)
    assert parsed.message is not None
    assert list(parsed.message.parse_entities().values()) == ["/video"]


async def test_forum_topic_message_carries_its_thread(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_update(fake.group_message("/video t a", thread_id=77, is_forum=True))
    [update] = await bot.get_updates()
    assert update.message is not None
    assert (update.message.message_thread_id, update.message.is_topic_message) == (77, True)
    reply = await update.message.reply_text("Submitted")
    assert reply.message_thread_id == 77


async def test_channel_post_parses_without_a_sender_user(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_update(fake.channel_post("/video t a"))
    [update] = await bot.get_updates()
    assert update.effective_chat is not None
    assert update.effective_chat.type == ChatType.CHANNEL
    assert update.channel_post is not None
    assert update.channel_post.from_user is None
    assert update.channel_post.sender_chat == update.effective_chat


async def test_anonymous_admin_message_is_sent_as_the_group(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_update(fake.anonymous_admin_message("/credits", GROUP))
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.from_user is not None
    assert update.message.from_user.username == "GroupAnonymousBot"
    assert update.message.sender_chat is not None
    assert update.message.sender_chat.id == GROUP


async def test_edited_message_and_callback_query_parse(fake: FakeTelegram, bot: Bot) -> None:
    status = await bot.send_message(USER, "Submitted")
    [message] = fake.messages(USER)
    original = fake.private_message("/video t a", user_id=USER)["message"]
    fake.push_update(
        fake.edited_message("/video t b", user_id=USER, message_id=original["message_id"])
    )
    fake.push_update(fake.callback_query("s:1", message=message, user_id=USER))
    edited, tap = await bot.get_updates()
    assert edited.edited_message is not None
    assert edited.edited_message.text == "/video t b"
    assert edited.edited_message.message_id == original["message_id"]
    assert tap.callback_query is not None
    assert tap.callback_query.data == "s:1"
    assert tap.callback_query.message is not None
    assert tap.callback_query.message.message_id == status.message_id
    assert await tap.callback_query.answer("Working on it")


async def test_offset_confirms_and_drops_older_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_update(fake.private_message("a", update_id=1))
    fake.push_update(fake.private_message("b", update_id=2))
    assert [u.update_id for u in await bot.get_updates()] == [1, 2]
    assert [u.update_id for u in await bot.get_updates(offset=2)] == [2]
    assert await bot.get_updates(offset=3) == ()
    assert fake.pending_updates == []


async def test_long_poll_without_updates_returns_empty_at_the_cap(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.max_long_poll = 0.2
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == ()
    assert 0.15 <= time.monotonic() - started < 2


async def test_long_poll_wakes_as_soon_as_an_update_is_pushed(fake: FakeTelegram, bot: Bot) -> None:
    fake.max_long_poll = 10
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for("getUpdates")
    started = time.monotonic()
    fake.push_update(fake.private_message("hi"))
    [update] = await poll
    assert update.message is not None
    assert update.message.text == "hi"
    assert time.monotonic() - started < 1


async def test_wrong_token_is_rejected(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(fake, token="999:WRONG"):
            pass
    assert fake.calls == []


async def test_unknown_method_is_not_found(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        response = await client.post(f"{BASE_URL}{fake.token}/sendTeleportation")
        unauthorized = await client.get(f"{BASE_URL}999:WRONG/getMe")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_plain_json_bodies_are_accepted(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as client:
        response = await client.post(
            f"{BASE_URL}{fake.token}/sendMessage", json={"chat_id": USER, "text": "hi"}
        )
    assert response.json()["result"]["text"] == "hi"
    assert fake.calls_to("sendMessage")[0].params == {"chat_id": USER, "text": "hi"}


async def test_admins_are_configurable_per_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_admins(GROUP, [USER])
    admin = await bot.get_chat_member(GROUP, USER)
    member = await bot.get_chat_member(GROUP, USER + 1)
    assert (admin.status, member.status) == ("administrator", "member")
    assert [m.user.id for m in await bot.get_chat_administrators(GROUP)] == [USER]
    assert (await bot.get_chat(GROUP)).id == GROUP


async def test_commands_and_webhook_round_trip(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("video", "Make a music video"), ("status", "Job status")])
    assert [c.command for c in await bot.get_my_commands()] == ["video", "status"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    await bot.set_webhook("https://bot.example/telegram", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://bot.example/telegram"
    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_deleted_message_cannot_be_edited_or_deleted_twice(
    fake: FakeTelegram, bot: Bot
) -> None:
    status = await bot.send_message(USER, "Submitted")
    assert await bot.delete_message(USER, status.message_id)
    assert fake.messages(USER) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, status.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, status.message_id)


async def test_wait_for_timeout_names_the_recorded_methods(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "a")
    with pytest.raises(AssertionError, match=r"sendVideo.*getMe, sendMessage"):
        await fake.wait_for("sendVideo", timeout=0.05)


async def test_application_polling_runs_a_group_command_handler(fake: FakeTelegram) -> None:
    ran = asyncio.Event()
    seen: list[list[str]] = []

    async def on_video(update: TgUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(list(context.args or []))
        assert update.effective_message is not None
        await update.effective_message.reply_text("Submitted")
        ran.set()

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(BASE_URL)
        .request(in_process(fake))
        .get_updates_request(in_process(fake))
        .build()
    )
    app.add_handler(CommandHandler("video", on_video))
    fake.push_update(fake.group_message("/video@OtherBot x y", chat_id=GROUP))
    fake.push_update(fake.group_message("/video@MusicVideoBot t a", chat_id=GROUP))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling()
        async with asyncio.timeout(5):
            await ran.wait()
        await app.updater.stop()
        await app.stop()

    assert seen == [["t", "a"]]
    [reply] = fake.messages(GROUP)
    assert reply["text"] == "Submitted"
    assert reply["reply_to_message"]["message_id"] == 2
    assert fake.pending_updates == []  # the updater confirmed them on the way out


@asynccontextmanager
async def on_loopback(fake: FakeTelegram) -> AsyncIterator[str]:
    """Serve the fake with uvicorn on 127.0.0.1; yields the PTB base_url."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()  # connections queue until uvicorn accepts them: no start-up wait needed
    server = uvicorn.Server(uvicorn.Config(fake.app, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/bot"
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def test_served_by_uvicorn_on_loopback(fake: FakeTelegram) -> None:
    async with on_loopback(fake) as base_url, Bot(fake.token, base_url=base_url) as bot:
        message = await bot.send_video(USER, InputFile(b"x" * 70_000, filename="clip.mp4"))
    assert message.video is not None
    assert fake.calls_to("sendVideo")[0].files["video"].size == 70_000


async def test_injected_latency_times_out_a_socket_client(fake: FakeTelegram) -> None:
    # In process it cannot: httpx.ASGITransport does not enforce httpx timeouts.
    fake.delay_seconds["sendMessage"] = 0.3
    async with on_loopback(fake) as base_url:
        request = HTTPXRequest(read_timeout=0.05)
        async with Bot(fake.token, base_url=base_url, request=request) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(USER, "slow")
    assert fake.messages(USER)  # Telegram did post it: a timed-out send may still arrive


async def test_guest_mode_answer_once_then_edit_the_inline_message(
    fake: FakeTelegram, bot: Bot
) -> None:
    """Guest mode (Bot API 10.0): a guest message, one answer naming an inline message, and
    edits of that message — a video only by a file_id already on the server."""
    update = TgUpdate.de_json(fake.guest_message("@MusicVideoBot t1 a1", user_id=USER), bot)
    assert update is not None
    message = update.guest_message
    assert message is not None
    assert message.guest_query_id is not None
    assert message.from_user is not None
    assert message.from_user.id == USER
    assert update.effective_user is not None
    placeholder = InlineQueryResultArticle(
        id="p", title="Rendering", input_message_content=InputTextMessageContent("Rendering…")
    )
    sent = await bot.answer_guest_query(message.guest_query_id, placeholder)
    assert fake.inline_message(sent.inline_message_id)["text"] == "Rendering…"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_guest_query(message.guest_query_id, placeholder)  # once only

    with pytest.raises(BadRequest, match=r"(?i)upload"):
        await bot.edit_message_media(
            InputMediaVideo(InputFile(b"\x00" * 64, filename="v.mp4")),
            inline_message_id=sent.inline_message_id,
        )
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.edit_message_media(
            InputMediaVideo("BAAC-unknown"), inline_message_id=sent.inline_message_id
        )
    posted = await bot.send_video(USER, VIDEO_URL)
    assert posted.video is not None
    media = InputMediaVideo(posted.video.file_id, caption="Song A")
    assert await bot.edit_message_media(media, inline_message_id=sent.inline_message_id) is True
    shown = fake.inline_message(sent.inline_message_id)
    assert shown["video"]["file_id"] == posted.video.file_id
    assert shown["caption"] == "Song A"
    assert "text" not in shown
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_media(media, inline_message_id=sent.inline_message_id)
    with pytest.raises(BadRequest, match=r"(?i)message_id_invalid"):
        await bot.edit_message_text("x", inline_message_id="no-such-message")


async def test_a_user_who_never_started_the_bot_refuses_posts_to_their_chat(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.never_started(USER)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_chat_action(USER, "upload_video")
    await bot.send_message(USER + 1, "others are fine")
