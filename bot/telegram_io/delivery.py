"""The delivery worker's step: post a finished video (or tell a failure) to its chat, once.

Order of attempts (docs/architecture.md §6.1): cached file_id → sendVideo by URL → download and
upload → a message with the link. Every outcome is recorded with a compare-and-set, so a restart
or a duplicate wake-up never posts twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from telegram import Bot, InputFile, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.domain import JobState
from bot.engine.backoff import Backoff
from bot.engine.job_model import ErrorKind, Phase
from bot.engine.lyrics_source import LyricsSource, chorus_start
from bot.engine.render_workdirs import remove_work_dir, work_dir_of
from bot.telegram_io.loop_delivery import (
    LiveRefused,
    fall_back_to_teaser,
    is_quiet,
    send_variant,
    sent_file_ids,
)
from bot.telegram_io.relay_files import RelayFiles
from bot.telegram_io.status_messages import (
    MESSAGE_DEADLINE_SECONDS,
    StatusMessages,
    reply_to,
    telegram_deadline,
)
from bot.telegram_io.telegram_refusals import Refusal, permanent_refusal
from bot.telegram_io.video_buttons import inline_sharing_enabled, video_markup
from bot.text.render import (
    gave_up_message,
    link_message,
    refused_message,
    render_caption,
    video_caption,
)
from bot.upstream.safe_fetch import FetchError, SafeFetcher
from storage.chats import ChatSettingsRepository
from storage.jobs import KIND_RENDER, Job, JobRepository

log = logging.getLogger(__name__)

MAX_NOTICE_ATTEMPTS = 30  # a failure notice: about 4 hours of backoff, then stop
GIVE_UP_BEFORE_EXPIRY = timedelta(hours=1)  # a video: retry until its link nearly expires
_CHUNK = 256 * 1024
# Deadlines (seconds). Telegram fetches a URL itself; an upload's time grows with its size.
SEND_READ_TIMEOUT = 60.0  # sendVideo by URL or file_id: Telegram answers once it has the file
SEND_DEADLINE = 90.0  # the whole call, rate-limiter queueing and retries included
UPLOAD_SECONDS_PER_MB = 2.0  # at least 0.5 MB/s
UPLOAD_MIN_SECONDS = 60.0
UPLOAD_MAX_SECONDS = 900.0
DOWNLOAD_SECONDS_PER_MB = 2.0
DOWNLOAD_MIN_SECONDS = 60.0
RELAY_WAIT_SECONDS = 20.0  # longest wait for a relay slot before the job steps aside
RELAY_BUSY_RETRY_SECONDS = 5.0


# A render's own process retries its delivery this many times at most, and only retries due
# within this long (docs/architecture.md §8.8); the delivery loop takes the rest.
HAND_OVER_ATTEMPTS = 5
HAND_OVER_RETRY_WITHIN_SECONDS = 60.0

_SETTLED_BY_THE_VIDEO = frozenset({Phase.RENDERING.value, Phase.DELIVERED.value})


class Delivery:
    """Processes one due job of the delivery loop."""

    def __init__(
        self,
        *,
        bot: Bot,
        repo: JobRepository,
        fetcher: SafeFetcher,
        status: StatusMessages,
        retention_days: int,
        max_upload_bytes: int,
        clock: Callable[[], datetime],
        rng: random.Random,
        lease_seconds: float = 900.0,
        concurrent_relays: int = 1,
        chats: ChatSettingsRepository,
        wake_renderer: Callable[[], None] | None = None,
        lyrics: LyricsSource | None = None,
        relay_files: RelayFiles | None = None,  # None: the system's temp folder (hand-built)
        # The chat's lyric correction of a track (docs/architecture.md §9.5), for a teaser
        # standing in for a refused live photo.
        lyrics_revision: Callable[[int, str, str], Awaitable[str | None]] | None = None,
    ) -> None:
        self._bot = bot
        self._lyrics_revision = lyrics_revision
        self._relay_files = relay_files or RelayFiles(Path(tempfile.gettempdir()))
        self._lyrics = lyrics
        self._repo = repo
        self._fetcher = fetcher
        self._chats = chats
        self._status = status
        self._retention_days = retention_days
        self._max_upload_bytes = max_upload_bytes
        self._clock = clock
        self._rng = rng
        self._lease_seconds = lease_seconds
        self._backoff = Backoff(base=2.0, cap=600.0)
        # Downloads-and-uploads at once: each holds a temp file and much bandwidth.
        self._relay_slots = asyncio.Semaphore(concurrent_relays)
        self._url_refused: set[int] = set()  # jobs whose URL Telegram refused in this run
        self._wake_renderer = wake_renderer or (lambda: None)

    async def process(self, job: Job) -> None:
        """Deliver a succeeded job, or tell the chat about a failed one."""
        now = self._clock()
        claimed = await self._repo.claim(
            job.id,
            expected=job.state,
            column="next_delivery_at",
            now=now,
            lease_until=now + timedelta(seconds=self._lease_seconds),
            counter="delivery_attempts",
        )
        if not claimed:
            return
        await self._attempt(job)

    async def deliver_rendered(self, job_id: int, fence: int) -> None:
        """Post a render its own process has just rendered under fence `fence`, before the
        leader's delivery loop may (docs/architecture.md §8.8): the same attempt, outcomes
        and compare-and-sets as `process`; a render that attempt failed gets its notice the
        same way. An attempt that froze and woke after a newer one took the render over
        finds the fence moved on and posts nothing."""
        job = await self._repo.get(job_id)
        if job is None or job.render_fence != fence:
            return
        if job.state is JobState.FAILED and job.next_delivery_at is not None:
            await self.process(job)  # the notice is due now: claimed like the loop's
            return
        now = self._clock()
        lease_until = now + timedelta(seconds=self._lease_seconds)
        if not await self._repo.renew_delivery(job_id, fence=fence, lease_until=lease_until):
            log.info("job %s: render %s is no longer ours to deliver", job_id, fence)
            return
        await self._deliver_here(job_id, fence)

    async def _deliver_here(self, job_id: int, fence: int) -> None:
        """Delivery attempts of a render whose delivery this process holds."""
        # The file is on this machine: a retry due soon is made here too, as long as the row
        # is still this render's (the leader's delivery loop, maybe elsewhere, takes the rest).
        for _ in range(HAND_OVER_ATTEMPTS):
            job = await self._repo.get(job_id)
            if job is None or job.state is not JobState.SUCCEEDED or job.render_fence != fence:
                return
            await self._attempt(job)
            after = await self._repo.get(job_id)
            if (
                after is None
                or after.state is not JobState.SUCCEEDED
                or after.render_fence != fence
                or after.next_delivery_at is None
            ):
                return
            wait = (after.next_delivery_at - self._clock()).total_seconds()
            if wait > HAND_OVER_RETRY_WITHIN_SECONDS:
                return
            await asyncio.sleep(max(0.0, wait))  # until the retry is due, like the loop
            now = self._clock()
            if not await self._repo.claim(  # the same claim as the loop's: one of us wins
                job_id,
                expected=JobState.SUCCEEDED,
                column="next_delivery_at",
                now=now,
                lease_until=now + timedelta(seconds=self._lease_seconds),
                counter="delivery_attempts",
            ):
                return

    async def _attempt(self, job: Job) -> None:
        """One delivery attempt of a claimed job; every outcome is recorded on its row."""
        try:
            await self._step(job)
        except RetryAfter as exc:
            await self._retry(job, _seconds(exc.retry_after), str(exc))
        except _RelayBusy:
            await self._retry(job, RELAY_BUSY_RETRY_SECONDS, "waiting for another relay")
        except _RenderLost:
            await self._render_again(job)
        except LiveRefused as exc:  # issue 20: the chorus teaser instead, and why
            await fall_back_to_teaser(
                bot=self._bot,
                repo=self._repo,
                chats=self._chats,
                job=job,
                why=str(exc),
                clock=self._clock,
                wake_renderer=self._wake_renderer,
                lyrics_revision=self._lyrics_revision,
            )
        except ChatMigrated as exc:
            await self._migrate(job, exc.new_chat_id)
        except Forbidden as exc:
            await self._undeliverable(job, str(exc))
        except BadRequest as exc:
            await self._bad_request(job, exc)
        except NetworkError as exc:  # TimedOut included: it may have landed
            if (refusal := permanent_refusal(exc)) is not None:  # e.g. 413: too large
                await self._refused(job, refusal, exc)
            else:
                await self._retry_or_give_up(job, exc)
        except OSError as exc:
            await self._retry_or_give_up(job, exc)

    async def _bad_request(self, job: Job, exc: BadRequest) -> None:
        """Telegram said no: the chat or topic is gone, a permanent refusal, or else retry."""
        if _chat_gone(exc):
            await self._undeliverable(job, str(exc))
        elif _topic_gone(exc) and job.thread_id is not None:
            await self._leave_topic(job, exc)
        elif (refusal := permanent_refusal(exc)) is not None:
            await self._refused(job, refusal, exc)
        else:
            await self._retry_or_give_up(job, exc)

    async def _step(self, job: Job) -> None:
        if job.state is JobState.SUCCEEDED:
            await self._deliver(job)
        elif job.state in (JobState.FAILED, JobState.TIMED_OUT) and is_quiet(job):
            log.warning("job %s: %s (%s); nobody to tell", job.id, job.state, job.error_kind)
            await self._repo.transition(job.id, expected=job.state, next_delivery_at=None)
        elif job.state in (JobState.FAILED, JobState.TIMED_OUT):
            phase = Phase.FAILED if job.state is JobState.FAILED else Phase.TIMED_OUT
            await self._status.update(job, phase, root_cause=await self._root_cause(job))
            await self._repo.transition(job.id, expected=job.state, next_delivery_at=None)
        else:
            await self._repo.transition(job.id, expected=job.state, next_delivery_at=None)

    async def _deliver(self, job: Job) -> None:
        message = await self._send(job)
        self._url_refused.discard(job.id)
        file_id, still_file_id = sent_file_ids(message)
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUCCEEDED,
            to=JobState.DELIVERED,
            file_id=file_id,
            still_file_id=still_file_id,
            delivered_at=self._clock(),
            next_delivery_at=None,
        )
        if won:
            log.info("job %s delivered chat=%s state=delivered", job.id, job.chat_id)
            remove_work_dir(work_dir_of(job.output_path))
            # The video itself says "done". The status message is edited only when it shows
            # something the video does not settle ("retrying", "uploading"…): on the happy
            # path a video costs two Telegram calls (docs/architecture.md §4.8).
            delivered = await self._repo.get(job.id) or job
            if delivered.status_phase not in _SETTLED_BY_THE_VIDEO:
                await self._status.show(delivered, Phase.DELIVERED)

    async def _send(self, job: Job) -> Message:
        if job.kind == KIND_RENDER:
            return await self._send_rendered(job)
        cached = job.file_id or await self._cached_file_id(job)
        videos_refused = False  # the chat takes no videos from the bot: the link goes at once
        if cached:
            try:
                return await self._send_video(job, cached)
            except BadRequest as exc:
                if _chat_gone(exc) or _topic_gone(exc):
                    raise
                videos_refused = permanent_refusal(exc) is Refusal.RIGHTS
                log.info("job %s: cached file_id refused (%s); sending the URL", job.id, exc)
        assert job.video_url is not None  # SUCCEEDED always carries a URL
        if job.id not in self._url_refused and not videos_refused:
            try:  # (a retry after a busy relay goes straight to the relay)
                return await self._send_video(job, job.video_url)
            except BadRequest as exc:
                if _chat_gone(exc) or _topic_gone(exc):
                    raise
                videos_refused = permanent_refusal(exc) is Refusal.RIGHTS
                log.info("job %s: Telegram could not fetch the URL (%s); uploading", job.id, exc)
        self._url_refused.add(job.id)
        message = None if videos_refused else await self._relay(job, job.video_url)
        if message is not None:
            return message
        async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
            return await self._bot.send_message(
                job.chat_id,
                link_message(
                    job,
                    job.video_url,
                    self._retention_days,
                    self._clock(),
                    no_video_rights=videos_refused,
                ),
                message_thread_id=job.thread_id,
                reply_parameters=reply_to(job),
            )

    async def _relay(self, job: Job, url: str) -> Message | None:
        """Download the video to a temp file and upload it from there, streamed both ways;
        None when it cannot be (then the link is sent). One relay at a time by default: a
        relay that waits too long for its turn is retried soon (`_RelayBusy`)."""
        try:
            async with asyncio.timeout(RELAY_WAIT_SECONDS):
                await self._relay_slots.acquire()
        except TimeoutError as exc:
            raise _RelayBusy from exc
        try:
            if await self._status.show(job, Phase.UPLOADING):  # a download and upload take a while
                await self._repo.record_status_phase(job.id, Phase.UPLOADING.value)
            path = await self._download(job, url)
            if path is None:
                return None
            try:
                size = (await asyncio.to_thread(path.stat)).st_size
                handle = await asyncio.to_thread(path.open, "rb")
                try:
                    # Streamed from the file by httpx, 64 KiB at a time (never read whole).
                    video = InputFile(handle, filename="video.mp4", read_file_handle=False)
                    return await self._send_video(job, video, upload_size=size)
                finally:
                    handle.close()
            except BadRequest as exc:
                if _chat_gone(exc) or _topic_gone(exc):
                    raise
                log.info("job %s: upload refused (%s); sending the link", job.id, exc)
                return None
            except NetworkError as exc:
                if permanent_refusal(exc) is not Refusal.TOO_BIG:
                    raise
                log.info("job %s: upload too large (%s); sending the link", job.id, exc)
                return None
            finally:
                _remove(path)
        finally:
            self._relay_slots.release()

    @property
    def step_deadline(self) -> float:
        """The longest one delivery step may take: a download, an upload and two messages."""
        return (
            _download_seconds(self._max_upload_bytes)
            + _upload_seconds(self._max_upload_bytes) * 2
            + SEND_DEADLINE * 2
            + MESSAGE_DEADLINE_SECONDS * 3
        )

    async def _send_video(
        self, job: Job, video: str | InputFile, *, upload_size: int | None = None
    ) -> Message:
        upload = upload_size is not None
        if upload_size is not None:
            write = _upload_seconds(upload_size)
            read = write  # Telegram answers once it has taken the file in
        else:
            write, read = 30.0, SEND_READ_TIMEOUT
        start = await self._chorus_start(job)
        async with telegram_deadline(SEND_DEADLINE + (write + read if upload else 0.0)):
            return await self._bot.send_video(
                job.chat_id,
                video,
                caption=video_caption(job, self._retention_days, self._clock()),
                supports_streaming=True,
                start_timestamp=start,
                message_thread_id=job.thread_id,
                reply_parameters=reply_to(job),
                reply_markup=video_markup(job, share_enabled=inline_sharing_enabled(self._bot)),
                write_timeout=write,
                read_timeout=read,
            )

    async def _chorus_start(self, job: Job) -> int | None:
        """Where the provider's video starts playing: the chorus, when the track's lyrics are
        already stored (never fetched for this; issue 11)."""
        if self._lyrics is None:
            return None
        lyrics = await self._lyrics.stored(job.task_id, job.audio_id)
        return chorus_start(lyrics) if lyrics is not None else None

    # -- our own renders (issue 10) -----------------------------------------------------------

    async def _send_rendered(self, job: Job) -> Message:
        """A render: by file_id when it was posted before, else the file itself, streamed
        with its facts, thumbnail and cover. A file lost (e.g. a restart cleared it), or a
        reused file_id Telegram refuses with no file on disk, is rendered again
        (`_RenderLost`; the refused file_id stays on the row so it is not reused)."""
        if job.file_id:
            try:
                return await self._send_rendered_video(job, job.file_id)
            except BadRequest as exc:
                if _chat_gone(exc) or _topic_gone(exc):
                    raise
                if permanent_refusal(exc) is Refusal.RIGHTS:
                    raise  # no video of any kind may go there
                log.info("job %s: file_id refused (%s); uploading the file", job.id, exc)
        if job.output_path is None or not await asyncio.to_thread(Path(job.output_path).is_file):
            raise _RenderLost
        path = Path(job.output_path)
        facts = json.loads(job.render_facts or "{}")
        size = (await asyncio.to_thread(path.stat)).st_size
        with contextlib.ExitStack() as files:
            # Streamed from the files by httpx, 64 KiB at a time (never read whole).
            names = (str(path), facts.get("thumbnail"), facts.get("cover"))
            handles = await asyncio.to_thread(_open_files, files, names)
            video, thumbnail, cover = (
                InputFile(handle, filename=name, read_file_handle=False) if handle else None
                for handle, name in zip(handles, _UPLOAD_NAMES, strict=True)
            )
            assert video is not None
            return await self._send_rendered_video(
                job, video, facts=facts, thumbnail=thumbnail, cover=cover, upload_size=size
            )

    async def _send_rendered_video(
        self,
        job: Job,
        video: str | InputFile,
        *,
        facts: dict[str, object] | None = None,
        thumbnail: InputFile | None = None,
        cover: InputFile | None = None,
        upload_size: int | None = None,
    ) -> Message:
        facts = facts or {}
        write = _upload_seconds(upload_size) if upload_size is not None else 30.0
        read = write if upload_size is not None else SEND_READ_TIMEOUT
        if job.variant is not None:  # a Canvas loop or live photo (issue 20)
            return await send_variant(
                self._bot, job, video, thumbnail=thumbnail, still=cover, write=write, read=read
            )
        duration = facts.get("duration")
        async with telegram_deadline(SEND_DEADLINE + (write + read if upload_size else 0.0)):
            return await self._bot.send_video(
                job.chat_id,
                video,
                caption=render_caption(job),
                width=_int_or_none(facts.get("width")),
                height=_int_or_none(facts.get("height")),
                duration=round(duration) if isinstance(duration, int | float) else None,
                thumbnail=thumbnail,
                cover=cover,
                supports_streaming=True,
                message_thread_id=job.thread_id,
                reply_parameters=reply_to(job),
                reply_markup=video_markup(job, share_enabled=inline_sharing_enabled(self._bot)),
                write_timeout=write,
                read_timeout=read,
            )

    async def _render_again(self, job: Job) -> None:
        """The rendered file is gone (or the reused file_id was refused): back to the
        renderer, which renders it anew."""
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUCCEEDED,
            to=JobState.SUBMITTING,
            output_path=None,
            next_delivery_at=None,
            next_poll_at=self._clock(),
        )
        if won:
            log.info("job %s: rendered file lost; rendering it again", job.id)
            self._wake_renderer()

    async def _root_cause(self, job: Job) -> Job | None:
        """The provider job a failed fallback render stood in for: its failure (e.g. out of
        credits) is said too (docs/architecture.md §8.4)."""
        if job.fallback_of is None or job.error_kind == ErrorKind.CANCELLED.value:
            return None
        return await self._repo.get(job.fallback_of)

    async def _cached_file_id(self, job: Job) -> str | None:
        for other in await self._repo.find_for_track(job.provider, job.task_id, job.audio_id):
            if other.file_id and other.video_url == job.video_url:
                return other.file_id
        return None

    async def _download(self, job: Job, url: str) -> Path | None:
        """Stream the video to a temp file; None when refused, too large or unreachable.
        The file is removed here on every path but success (the caller removes it then)."""
        try:
            fd, path = self._relay_files.create(job.id)
        except OSError as exc:
            log.warning("job %s: no temp file for the download: %s", job.id, exc)
            return None
        try:
            with os.fdopen(fd, "wb") as sink:
                async with asyncio.timeout(_download_seconds(self._max_upload_bytes)):
                    await self._fetcher.download(url, sink, max_bytes=self._max_upload_bytes)
        except (FetchError, OSError, TimeoutError) as exc:
            log.info("job %s: not uploading the video: %s", job.id, exc)
            _remove(path)
            return None
        except BaseException:  # cancelled (shutdown, step deadline): leave nothing behind
            _remove(path)
            raise
        return path

    async def _retry(self, job: Job, delay: float, why: str) -> None:
        log.info("job %s: delivery retry in %.1fs (%s)", job.id, delay, why)
        await self._repo.transition(
            job.id,
            expected=job.state,
            next_delivery_at=self._clock() + timedelta(seconds=delay),
        )

    async def _retry_or_give_up(self, job: Job, exc: Exception) -> None:
        """Back off and try again; a video until shortly before its link expires, a failure
        notice for at most MAX_NOTICE_ATTEMPTS. Never forever, never silently for a video."""
        attempts = job.delivery_attempts + 1
        delay = self._backoff.delay(attempts, self._rng)
        if job.state is JobState.SUCCEEDED:
            if self._clock() + timedelta(seconds=delay) >= self._give_up_at(job):
                await self._give_up(job, f"gave up after {attempts} attempts: {exc}")
                return
        elif attempts >= MAX_NOTICE_ATTEMPTS:
            log.warning(
                "job %s: gave up telling chat %s about its %s after %s attempts: %s",
                job.id,
                job.chat_id,
                job.state,
                attempts,
                exc,
            )
            await self._repo.transition(job.id, expected=job.state, next_delivery_at=None)
            return
        await self._retry(job, delay, str(exc))

    def _link_expires_at(self, job: Job) -> datetime:
        return (job.completed_at or job.created_at) + timedelta(days=self._retention_days)

    def _give_up_at(self, job: Job) -> datetime:
        """Stop retrying while the link still works, so the last word can carry it."""
        return self._link_expires_at(job) - GIVE_UP_BEFORE_EXPIRY

    async def _give_up(self, job: Job, why: str) -> None:
        """The video could not be posted in time: record it, tell the chat (with the link
        while it is valid) and end the status message in a final state. Best effort."""
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUCCEEDED,
            to=JobState.UNDELIVERABLE,
            error=why[:500],
            next_delivery_at=None,
        )
        self._url_refused.discard(job.id)
        if not won:
            return
        remove_work_dir(work_dir_of(job.output_path))
        log.warning("job %s: video not posted to chat %s: %s", job.id, job.chat_id, why)
        now = self._clock()
        url = job.video_url if self._link_expires_at(job) > now else None
        try:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._bot.send_message(
                    job.chat_id,
                    gave_up_message(job, url, self._retention_days, now),
                    message_thread_id=job.thread_id,
                    reply_parameters=reply_to(job),
                )
        except TelegramError as exc:
            log.warning("job %s: could not tell chat %s either: %s", job.id, job.chat_id, exc)
        await self._status.show(await self._repo.get(job.id) or job, Phase.UNDELIVERABLE)

    async def _refused(self, job: Job, refusal: Refusal, exc: TelegramError) -> None:
        """Telegram refused for good (docs/architecture.md §6.2): a video ends
        `UNDELIVERABLE`, its files go and the chat is told once, in text; a failure notice
        is dropped. Never retried: the same send would be refused again."""
        self._url_refused.discard(job.id)
        if job.state is not JobState.SUCCEEDED:
            log.warning("job %s: chat %s not told (%s): %s", job.id, job.chat_id, refusal, exc)
            await self._repo.transition(job.id, expected=job.state, next_delivery_at=None)
            return
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUCCEEDED,
            to=JobState.UNDELIVERABLE,
            error=f"refused ({refusal}): {exc}"[:500],
            next_delivery_at=None,
        )
        if not won:
            return
        remove_work_dir(work_dir_of(job.output_path))
        log.warning("job %s: Telegram refused the video for good (%s): %s", job.id, refusal, exc)
        try:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._bot.send_message(
                    job.chat_id,
                    refused_message(job, refusal.value),
                    message_thread_id=job.thread_id,
                    reply_parameters=reply_to(job),
                )
        except TelegramError as told:
            log.warning("job %s: could not tell chat %s either: %s", job.id, job.chat_id, told)
        await self._status.show(await self._repo.get(job.id) or job, Phase.UNDELIVERABLE)

    async def _undeliverable(self, job: Job, why: str) -> None:
        """The chat cannot be posted to at all (blocked, gone): stop quietly."""
        log.warning("job %s: chat %s cannot be posted to: %s", job.id, job.chat_id, why)
        self._url_refused.discard(job.id)
        remove_work_dir(work_dir_of(job.output_path))
        if job.state is JobState.SUCCEEDED:
            await self._repo.transition(
                job.id,
                expected=JobState.SUCCEEDED,
                to=JobState.UNDELIVERABLE,
                error=why[:500],
                next_delivery_at=None,
            )
        else:
            await self._repo.transition(job.id, expected=job.state, next_delivery_at=None)

    async def _migrate(self, job: Job, new_chat_id: int) -> None:
        """The group became a supergroup: move its jobs and settings, then post there."""
        moved = await self._repo.move_chat(job.chat_id, new_chat_id)
        await self._chats.move_chat(job.chat_id, new_chat_id)
        log.info(
            "chat %s migrated to %s; %s jobs and its settings moved",
            job.chat_id,
            new_chat_id,
            moved,
        )
        await self._retry(job, 0.0, "chat migrated")

    async def _leave_topic(self, job: Job, exc: BadRequest) -> None:
        """The forum topic was deleted: post into the chat's general topic instead, at once
        (the chat asked for the video and still exists; a topic is only where to put it)."""
        log.warning(
            "job %s: topic %s of chat %s is gone (%s); posting without the topic",
            job.id,
            job.thread_id,
            job.chat_id,
            exc,
        )
        await self._repo.transition(
            job.id, expected=job.state, thread_id=None, next_delivery_at=self._clock()
        )


class _RelayBusy(Exception):
    """Every relay slot stayed busy: try again shortly."""


class _RenderLost(Exception):
    """A render's file is not on disk any more (e.g. removed at a restart)."""


_UPLOAD_NAMES = ("video.mp4", "thumbnail.jpg", "cover.jpg")


def _open_files(stack: contextlib.ExitStack, names: tuple[object, ...]) -> list[BinaryIO | None]:
    """Each named file open for reading (closed with `stack`), None where there is none."""
    return [
        stack.enter_context(Path(name).open("rb"))
        if isinstance(name, str) and Path(name).is_file()
        else None
        for name in names
    ]


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _chat_gone(error: BadRequest) -> bool:
    return "chat not found" in error.message.lower()


def _topic_gone(error: BadRequest) -> bool:
    """A deleted forum topic: `Bad Request: message thread not found`."""
    return "thread not found" in error.message.lower()


def _remove(path: Path) -> None:
    """Delete a temp file. Synchronous on purpose: it also runs while the task is being
    cancelled, where an await could be interrupted; an unlink is one quick system call."""
    path.unlink(missing_ok=True)


def _upload_seconds(size: int) -> float:
    return min(UPLOAD_MAX_SECONDS, max(UPLOAD_MIN_SECONDS, size / 1e6 * UPLOAD_SECONDS_PER_MB))


def _download_seconds(max_bytes: int) -> float:
    return max(DOWNLOAD_MIN_SECONDS, max_bytes / 1e6 * DOWNLOAD_SECONDS_PER_MB)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
