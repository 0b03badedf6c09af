"""/status, /list and their buttons, end to end: real python-telegram-bot against the fakes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.domain import JobState, Provider
from bot.engine.jobs import MIN_POLL_GAP_SECONDS
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, new_fakes, running_bot
from tests.fakes.telegram import NOT_MODIFIED, Call, FakeTelegram
from tests.fakes.upstream import FakeUpstream

USER = 4242
OTHER = 5151
Json = dict[str, Any]


def seven_track_fakes() -> tuple[FakeTelegram, FakeUpstream]:
    """The usual fakes, with a music task of seven tracks (one in-flight job per track)."""
    telegram, upstream = new_fakes(Provider.KIE)
    tracks = [(f"audio-{n}", f"Song {n}", 180.0 + n) for n in range(1, 8)]
    upstream.add_music_task(TASK_ID, tracks=tracks)
    return telegram, upstream


async def command(h: Harness, body: str, *, user_id: int = USER) -> Call:
    """Send a command in the user's private chat; return the bot's answer to it."""
    update = h.telegram.private_message(body, user_id=user_id)
    h.telegram.push_update(update)
    message_id = update["message"]["message_id"]

    def answers(call: Call) -> bool:
        replied = call.params.get("reply_parameters", {}).get("message_id")
        return call.params["chat_id"] == user_id and replied == message_id  # ids are per chat

    [answer] = await h.telegram.wait_for("sendMessage", answers)
    return answer


def bot_message(h: Harness, chat_id: int, message_id: int) -> Json:
    """The bot's message as it reads now (after edits)."""
    [message] = [m for m in h.telegram.messages(chat_id) if m["message_id"] == message_id]
    return message


def sent_message(h: Harness, call: Call) -> Json:
    """The message a sendMessage call produced (the fake numbers messages per chat)."""
    chat_id = int(call.params["chat_id"])
    return max(
        (m for m in h.telegram.messages(chat_id) if m.get("text") == call.params["text"]),
        key=lambda m: m["message_id"],
    )


def buttons(message: Json) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button, row by row."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


async def tap(h: Harness, data: str, message: Json, *, user_id: int = USER) -> str:
    """Press an inline button of `message`; wait for the callback answer; return the query id."""
    update = h.telegram.callback_query(data, message=message, user_id=user_id)
    query_id = update["callback_query"]["id"]
    h.telegram.push_update(update)
    await h.telegram.wait_for(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id
    )
    return str(query_id)


async def next_edit(h: Harness, message_id: int) -> Call:
    """Wait for the next editMessageText of one message (after those already made)."""

    def of_message(call: Call) -> bool:
        return call.params["message_id"] == message_id

    made = len([c for c in h.telegram.calls_to("editMessageText") if of_message(c)])
    return (await h.telegram.wait_for("editMessageText", of_message, count=made + 1))[-1]


def answers_to(h: Harness, query_id: str) -> list[Call]:
    """Every answerCallbackQuery for one tap."""
    return [
        c
        for c in h.telegram.calls_to("answerCallbackQuery")
        if c.params["callback_query_id"] == query_id
    ]


async def deliver_first_job(h: Harness, body: str | None = None) -> str:
    """Run `/video` to a delivered video; return the upstream video task id."""
    await h.submit(body, user_id=USER)
    video_task = await h.video_task_id()
    h.upstream.complete(video_task)
    await h.upstream.fire_callback(video_task, h.web)
    await h.wait_state(JobState.DELIVERED)
    return video_task


async def test_status_without_jobs_says_there_are_none(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        answer = await command(h, "/status")
        assert "No videos in this chat yet" in answer.params["text"]
        assert "reply_markup" not in answer.params


async def test_status_shows_the_latest_delivered_job(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await deliver_first_job(h, f'/video {TASK_ID} {AUDIO_ID} "DJ Ann"')
        for body in ("/status", "/status 1", "/status #1"):
            answer = await command(h, body)
            card = answer.params["text"]
            assert card.startswith("Job #1 · Song A")  # the title, looked up after the create
            assert "Author: DJ Ann" in card
            assert "Done! Your video is posted." in card
            assert "reply_markup" not in answer.params  # nothing left to check


async def test_status_of_a_missing_or_foreign_job_is_not_found(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.submit(user_id=USER)
        await h.video_task_id()
        answer = await command(h, "/status 99")
        assert answer.params["text"].startswith("There is no job #99 in this chat.")
        foreign = await command(h, "/status 1", user_id=OTHER)
        assert foreign.params["text"].startswith("There is no job #1 in this chat.")
        assert "reply_markup" not in foreign.params
        usage = await command(h, "/status twelve")
        assert usage.params["text"].startswith("Usage: /status")


async def test_status_of_a_pending_job_carries_the_check_button(tmp_path: Path) -> None:
    async with running_bot(tmp_path, poll_interval_seconds=30) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        answer = await command(h, "/status")
        assert "Rendering your video" in answer.params["text"]
        card = sent_message(h, answer)
        assert buttons(card) == [("🔄 Check status", "st:1")]

        # The button on the card edits the card (the status message stays as it is).
        await asyncio.sleep(MIN_POLL_GAP_SECONDS)  # taps right after a change do not poll
        edited = asyncio.create_task(next_edit(h, card["message_id"]))
        query_id = await tap(h, "st:1", card)
        await edited
        assert h.upstream.details_calls[video_task] == 1
        assert len(answers_to(h, query_id)) == 1


async def test_list_paginates_five_jobs_per_page(tmp_path: Path) -> None:
    async with running_bot(tmp_path, fakes=seven_track_fakes(), quota_per_hour=100) as h:
        for n in range(1, 8):
            await h.submit(f"/video {TASK_ID} audio-{n}", user_id=USER)
            await h.wait_state(JobState.PENDING, job_id=n)
        answer = await command(h, "/list")
        assert "1–5 of 7" in answer.params["text"]
        listing = sent_message(h, answer)
        first_page = buttons(listing)
        assert [data for _, data in first_page] == ["rs:7", "rs:6", "rs:5", "rs:4", "rs:3", "ls:5"]
        assert first_page[0][0] == "⏳ #7 Song 7"
        assert first_page[-1][0] == "▶"

        edit = asyncio.create_task(next_edit(h, listing["message_id"]))
        query_id = await tap(h, "ls:5", listing)
        await edit
        edited = bot_message(h, USER, listing["message_id"])
        assert "6–7 of 7" in edited["text"]
        second_page = buttons(edited)
        assert [data for _, data in second_page] == ["rs:2", "rs:1", "ls:0"]
        assert second_page[-1][0] == "◀"
        assert len(answers_to(h, query_id)) == 1
        for _, data in first_page + second_page:
            assert len(data.encode()) <= 64


async def test_list_labels_are_trimmed_and_name_the_author(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.submit(f'/video {TASK_ID} {AUDIO_ID} "{"N" * 50}"', user_id=USER)
        await h.video_task_id()
        listing = sent_message(h, await command(h, "/list"))
        [(label, data)] = buttons(listing)
        assert label.startswith("⏳ #1 Song A · NNN")
        assert label.endswith("…")
        assert len(label) <= 40
        assert data == "rs:1"


async def test_tapping_a_delivered_job_resends_its_file_id_after_the_link_expired(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as h:
        video_task = await deliver_first_job(h)
        job = await h.job()
        assert job.file_id
        # The provider's link is dead: the CDN forgets the file, Telegram cannot fetch URLs,
        # and the job was completed long ago.
        h.upstream.videos[video_task].video_url = None
        h.telegram.refuse_video_urls()
        assert job.completed_at is not None
        long_ago = job.completed_at - timedelta(days=30)
        await h.repo.transition(job.id, expected=JobState.DELIVERED, completed_at=long_ago)
        upstream_requests, cdn_hits = len(h.upstream.requests), len(h.upstream.cdn_hits)

        listing = sent_message(h, await command(h, "/list"))
        assert buttons(listing) == [("✅ #1 Song A", "rs:1")]
        query_id = await tap(h, "rs:1", listing)
        calls = await h.telegram.wait_for("sendVideo", count=2)
        again = calls[1]
        assert again.params["video"] == job.file_id
        assert int(again.params["chat_id"]) == USER
        assert "Song A" in again.params["caption"]
        assert "valid until" not in again.params["caption"]  # that date is in the past
        # The same buttons as the first delivery: the other formats.
        rows = again.params["reply_markup"]["inline_keyboard"]
        assert [b["text"] for b in rows[0]] == ["9:16", "1:1", "✂️ Teaser"]
        assert len(answers_to(h, query_id)) == 1
        assert len(h.upstream.requests) == upstream_requests
        assert len(h.upstream.cdn_hits) == cdn_hits


async def test_tapping_an_unfinished_job_answers_with_its_state(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        await h.submit(user_id=USER)
        await h.video_task_id()
        listing = sent_message(h, await command(h, "/list"))
        query_id = await tap(h, "rs:1", listing)
        [answer] = answers_to(h, query_id)
        assert "Rendering your video" in answer.params["text"]
        assert answer.params.get("show_alert") in (None, False, "false", "False")
        assert h.telegram.calls_to("sendVideo") == []


async def test_forged_buttons_for_another_chats_job_do_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, poll_interval_seconds=30) as h:
        video_task = await deliver_first_job(h)
        details = h.upstream.details_calls[video_task]
        answer = await command(h, "/list", user_id=OTHER)
        assert "No videos in this chat yet" in answer.params["text"]
        elsewhere = sent_message(h, answer)
        sends = len(h.telegram.calls_to("sendMessage"))

        for data in ("rs:1", "st:1", "rs:abc", "st:99999999999999999999"):
            query_id = await tap(h, data, elsewhere, user_id=OTHER)
            [refusal] = answers_to(h, query_id)
            assert refusal.params["text"] == "That job was not found in this chat."
        assert len(h.telegram.calls_to("sendVideo")) == 1  # the original delivery only
        assert len(h.telegram.calls_to("sendMessage")) == sends
        assert [
            c for c in h.telegram.calls_to("editMessageText") if c.params["chat_id"] == OTHER
        ] == []
        assert h.upstream.details_calls[video_task] == details


async def test_check_status_polls_once_edits_the_status_message_and_then_delivers(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, poll_interval_seconds=30) as h:  # no poll of its own
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        job = await h.job()
        assert job.status_message_id is not None
        await h.wait_until(lambda: "Rendering" in h.status_text(USER))
        status = bot_message(h, USER, job.status_message_id)
        assert buttons(status) == [("🔄 Check status", "st:1")]
        assert h.upstream.details_calls[video_task] == 0

        await asyncio.sleep(MIN_POLL_GAP_SECONDS)  # taps right after a change do not poll
        edited = asyncio.create_task(next_edit(h, job.status_message_id))
        query_id = await tap(h, "st:1", status)
        edit = await edited
        [answer] = answers_to(h, query_id)
        assert answer.params["text"] == "Checking…"
        assert answer.at < edit.at  # answered before asking the upstream
        assert h.upstream.details_calls[video_task] == 1

        # A second press changes nothing: Telegram says "not modified", the chat hears nothing.
        sends = len(h.telegram.calls_to("sendMessage"))
        await asyncio.sleep(MIN_POLL_GAP_SECONDS)  # taps right after a change do not poll
        edited = asyncio.create_task(next_edit(h, job.status_message_id))
        query_id = await tap(h, "st:1", status)
        await edited
        await h.settle()
        assert len(answers_to(h, query_id)) == 1
        assert h.upstream.details_calls[video_task] == 2
        assert len(h.telegram.calls_to("sendMessage")) == sends

        h.upstream.complete(video_task)
        await asyncio.sleep(MIN_POLL_GAP_SECONDS)
        await tap(h, "st:1", status)
        [video] = await h.telegram.wait_for("sendVideo")
        assert video.params["video"].endswith(f"/cdn/{video_task}.mp4")
        await h.wait_state(JobState.DELIVERED)
        # The video settles it: the status message is not edited again (two calls a video).
        assert "Rendering" in h.status_text(USER)
        assert h.upstream.details_calls[video_task] == 3


async def test_not_modified_edit_on_check_is_not_an_error(tmp_path: Path) -> None:
    async with running_bot(tmp_path, poll_interval_seconds=30) as h:
        await h.submit(user_id=USER)
        await h.video_task_id()
        answer = await command(h, "/status")
        card = sent_message(h, answer)
        sends = len(h.telegram.calls_to("sendMessage"))
        h.telegram.fail_next("editMessageText", error_code=400, description=NOT_MODIFIED)
        edited = asyncio.create_task(next_edit(h, card["message_id"]))
        await tap(h, "st:1", card)
        await edited
        await h.settle()
        assert len(h.telegram.calls_to("sendMessage")) == sends
