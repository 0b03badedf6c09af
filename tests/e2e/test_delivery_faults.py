"""Delivery when things go wrong: hung calls, long outages, unsafe URLs, deleted topics."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.domain import LINK_RETENTION_DAYS, Family, JobState, Provider
from bot.telegram_io.delivery import MAX_NOTICE_ATTEMPTS, Delivery
from bot.telegram_io.status_messages import StatusMessages
from bot.upstream.safe_fetch import SafeFetcher
from storage.autopost_links import AutopostLinkRepository
from storage.chats import ChatSettingsRepository
from storage.db import SqliteDatabase
from storage.jobs import JobRepository
from tests.e2e.harness import AUDIO_ID, BOT_TOKEN, TASK_ID, Harness, running_bot
from tests.fakes.telegram import Call, FakeTelegram
from tests.storage.factories import new_job

HUNG_CHAT = 5001
USER = 4242


@pytest.fixture(autouse=True)
def temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Downloads land in the relay folder, which must be empty after every test."""
    where = tmp_path / "relay"  # beside the database (docs/architecture.md §6.1)
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    yield where
    assert list(where.iterdir()) == []


def is_upload(params: dict[str, object]) -> bool:
    """A sendVideo whose video is a file part, not a URL or file_id."""
    return "video" not in params


def to_chat(chat_id: int):  # type: ignore[no-untyped-def]
    return lambda call: int(call.params.get("chat_id", 0)) == chat_id


MANY_TRACKS = "music-task-many"


def add_tracks(h: Harness, count: int = 10) -> None:
    """A music task with `count` tracks (`track-1`…), so each chat makes its own video."""
    tracks = [(f"track-{n}", f"Song {n}", 180.0) for n in range(1, count + 1)]
    h.upstream.add_music_task(MANY_TRACKS, tracks=tracks)


async def finish_job(h: Harness, user_id: int, job_id: int, *, size: int = 1_000_000) -> str:
    """Submit /video (track `job_id`) in `user_id`'s private chat, complete it upstream and
    fire the callback."""
    await h.submit(f"/video {MANY_TRACKS} track-{job_id}", user_id=user_id)
    video_task = await h.video_task_id(job_id)
    h.upstream.complete(video_task, video_size=size)
    response = await h.upstream.fire_callback(video_task, h.web)
    assert response.status_code == 200
    return video_task


async def test_one_hung_send_video_never_holds_back_other_chats(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        add_tracks(h)
        h.telegram.hang("sendVideo", when=lambda params: params.get("chat_id") == HUNG_CHAT)
        await finish_job(h, HUNG_CHAT, 1)
        await h.telegram.wait_for("sendVideo", to_chat(HUNG_CHAT))
        for n, chat in enumerate((5002, 5003, 5004), start=2):
            await finish_job(h, chat, n)
            started = time.monotonic()
            await h.telegram.wait_for("sendVideo", to_chat(chat), timeout=1.0)
            assert time.monotonic() - started < 1.0
            await h.wait_state(JobState.DELIVERED, n, timeout=1.0)
        assert (await h.job(1)).state is JobState.SUCCEEDED  # still in flight
        h.telegram.release_hangs()
        await h.wait_state(JobState.DELIVERED, 1)
        sent: list[Call] = h.telegram.calls_to("sendVideo")
        assert len([c for c in sent if to_chat(HUNG_CHAT)(c)]) == 1


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "127.0.0.1", "[::1]:8080", "localhost", "10.0.0.1"]
)
async def test_a_video_url_into_a_private_network_is_never_fetched(
    tmp_path: Path, host: str
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.refuse_video_urls()
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        url = f"http://{host}/cdn/{video_task}.mp4"
        h.upstream.videos[video_task].video_url = url  # every answer now names that URL
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED)
        assert h.upstream.cdn_hits == []  # the fake CDN answers any host: nothing asked
        assert all(not call.files for call in h.telegram.calls_to("sendVideo"))
        link = h.telegram.calls_to("sendMessage")[-1]
        assert url in link.params["text"]


async def test_relays_run_one_at_a_time_and_leave_no_file(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        add_tracks(h)
        h.telegram.refuse_video_urls()
        h.telegram.hang("sendVideo", when=is_upload)
        first = await finish_job(h, 6001, 1, size=300_000)
        await h.telegram.wait_for("sendVideo", lambda c: bool(c.files))
        await finish_job(h, 6002, 2, size=200_000)
        await h.telegram.wait_for("sendVideo", to_chat(6002))  # its URL, refused
        await asyncio.sleep(0.3)
        assert [name for _, name in h.upstream.cdn_hits] == [first]  # the second one waits
        h.telegram.release_hangs()
        await h.wait_state(JobState.DELIVERED, 1)
        await h.wait_state(JobState.DELIVERED, 2, timeout=10)
        sizes = sorted(c.files["video"].size for c in h.telegram.calls_to("sendVideo") if c.files)
        assert sizes == [200_000, 300_000]


async def test_shutdown_during_an_upload_removes_the_temp_file(
    tmp_path: Path, temp_files: Path
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.refuse_video_urls()
        h.telegram.hang("sendVideo", when=is_upload)
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task, video_size=500_000)
        await h.upstream.fire_callback(video_task, h.web)
        await h.telegram.wait_for("sendVideo", lambda c: bool(c.files))
        assert len(list(temp_files.iterdir())) == 1
    # leaving `running_bot` stopped the bot mid-upload; the fixture checks the directory


async def test_a_failing_delivery_ends_with_the_link_before_it_expires(tmp_path: Path) -> None:
    outage = True
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.fail_next(
            "sendVideo",
            error_code=502,
            description="Bad Gateway",
            times=None,
            when=lambda _params: outage,
        )
        update = await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        # Made long ago: its link has about half an hour left, less than a retry could wait.
        made = datetime.now(UTC) - timedelta(days=LINK_RETENTION_DAYS[Family.KIE], minutes=-30)
        h.upstream.videos[video_task].completed_at = made
        url = h.upstream.videos[video_task].video_url
        assert url is not None
        await h.upstream.fire_callback(video_task, h.web)
        job = await h.wait_state(JobState.UNDELIVERABLE)
        assert "gave up" in (job.error or "")
        [notice] = await h.telegram.wait_for("sendMessage", lambda c: url in c.params["text"])
        assert f"#{job.id}" in notice.params["text"]
        assert "valid until" in notice.params["text"]
        assert notice.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
        await h.wait_until(lambda: "could not post" in h.status_text(USER))  # a final state

        # The outage is over: /list sends the video again from its link.
        outage = False
        h.telegram.push_update(h.telegram.private_message("/list", user_id=USER))
        [listing] = await h.telegram.wait_for(
            "sendMessage", lambda c: "reply_markup" in c.params and "#1" in str(c.params)
        )
        message = [m for m in h.telegram.messages(USER) if m.get("text") == listing.params["text"]]
        h.telegram.push_update(h.telegram.callback_query("rs:1", message=message[-1]))
        # the failed attempt, then the one from /list, which lands
        await h.telegram.wait_for("sendVideo", lambda c: c.params.get("video") == url, count=2)
        await h.wait_until(lambda: any("video" in m for m in h.telegram.messages(USER)))


async def test_an_invalid_video_url_ends_in_the_link_path(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.refuse_video_urls()
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        h.upstream.complete(video_task)
        url = f"http://cdn .example/{video_task}.mp4"  # httpx.InvalidURL
        h.upstream.videos[video_task].video_url = url
        await h.upstream.fire_callback(video_task, h.web)
        await h.wait_state(JobState.DELIVERED)
        await h.telegram.wait_for("sendMessage", lambda c: url in c.params["text"])
        assert h.upstream.cdn_hits == []


async def test_a_deleted_forum_topic_gets_the_video_in_the_general_topic(tmp_path: Path) -> None:
    group, topic = -1005551, 77
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.push_update(
            h.telegram.group_message(
                f"/video {TASK_ID} {AUDIO_ID}", chat_id=group, thread_id=topic, is_forum=True
            )
        )
        video_task = await h.video_task_id()
        assert (await h.job()).thread_id == topic
        h.telegram.delete_topic(group, topic)
        h.upstream.complete(video_task, video_size=300_000)
        await h.upstream.fire_callback(video_task, h.web)
        job = await h.wait_state(JobState.DELIVERED)
        assert job.thread_id is None
        videos = [c for c in h.telegram.calls_to("sendVideo") if to_chat(group)(c)]
        assert [c.params.get("message_thread_id") for c in videos] == [topic, None]
        assert all(not c.files for c in videos)  # never uploaded for a missing topic
        assert h.upstream.cdn_hits == []


async def test_chat_migration_moves_the_chat_settings_too(tmp_path: Path) -> None:
    old, new = -4001, -1004001
    async with running_bot(tmp_path, Provider.KIE) as h:
        assert h.app.db is not None
        chats = ChatSettingsRepository(h.app.db)
        await chats.set_author(old, "DJ Old")
        await chats.set_domain(old, "old.example")
        links = AutopostLinkRepository(h.app.db)
        await links.link(old, -100_777, title="Channel", by=1, language="en")
        h.telegram.push_update(
            h.telegram.group_message(f"/video {TASK_ID} {AUDIO_ID}", chat_id=old)
        )
        video_task = await h.video_task_id()
        h.telegram.upgrade_chat(old, new)
        h.upstream.complete(video_task)
        job = await h.wait_state(JobState.DELIVERED)
        assert job.chat_id == new
        moved = await chats.get(new)
        assert (moved.author, moved.domain_name) == ("DJ Old", "old.example")
        link = await links.get(new)
        assert link is not None
        assert link.channel_id == -100_777
        assert await links.get(old) is None


@pytest.mark.parametrize(("attempts_before", "retried"), [(11, True), (29, False)])
async def test_a_failure_notice_retries_with_backoff_but_not_forever(
    tmp_path: Path, attempts_before: int, retried: bool
) -> None:
    """The real delivery step and python-telegram-bot against the fake Bot API, whose edits and
    messages fail (502) for this chat: a notice keeps trying well past the old 12 attempts,
    and stops after MAX_NOTICE_ATTEMPTS."""
    assert MAX_NOTICE_ATTEMPTS == 30
    telegram = FakeTelegram(token=BOT_TOKEN)
    telegram.fail_next("editMessageText", error_code=502, description="Bad Gateway", times=None)
    telegram.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=None)
    request = HTTPXRequest(httpx_kwargs={"transport": httpx.ASGITransport(app=telegram.app)})
    bot = Bot(BOT_TOKEN, base_url="http://telegram.test/bot", request=request)
    async with (
        SqliteDatabase.connect(tmp_path / "bot.sqlite3") as db,
        bot,
        httpx.AsyncClient() as cdn,
    ):
        repo = JobRepository(db)
        job = await repo.create(new_job(chat_id=USER, thread_id=None, next_poll_at=None))
        now = datetime.now(UTC)
        await repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.FAILED,
            error_kind="provider_failed",
            delivery_attempts=attempts_before,
            next_delivery_at=now,
        )
        delivery = Delivery(
            bot=bot,
            repo=repo,
            fetcher=SafeFetcher(cdn, trusted_origin=None),
            status=StatusMessages(bot, job_timeout_minutes=5),
            chats=ChatSettingsRepository(db),
            retention_days=14,
            max_upload_bytes=10_000_000,
            clock=lambda: datetime.now(UTC),
            rng=random.Random(1),
        )
        failed = await repo.get(job.id)
        assert failed is not None
        await delivery.process(failed)
        after = await repo.get(job.id)
        assert after is not None
        assert telegram.calls_to("editMessageText")  # it did try
        assert (after.next_delivery_at is not None) is retried
        if retried:
            assert after.next_delivery_at > now + timedelta(minutes=5)  # backed off
