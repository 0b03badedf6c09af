"""The renderer loop's step: turn a due render job into an MP4 waiting for delivery (issue 10).

A render is a job like the provider ones: the row exists before any work, every change is a
compare-and-set, the lease is released at start (so a restart renders again) and the finished
file goes out through the delivery loop. This module fetches the sources (the music record's
audio and cover, or the uploaded file), runs `bot.rendering` in a RenderQueue slot, reports
progress on the status message and handles Cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.domain import JobState, Track
from bot.engine.job_model import ErrorKind
from bot.engine.lyrics_source import LyricsSource
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.chorus import Loudness, clip_lyrics, is_chorus_tag, teaser_window
from bot.lyrics.model import AlignedLyrics
from bot.rendering import (
    DEFAULT_MAX_BYTES,
    LOUDNESS_STEP_SECONDS,
    TEASER_MAX_BYTES,
    BadInput,
    Clip,
    QueuePosition,
    RenderedVideo,
    Renderer,
    RenderError,
    RenderQueue,
    RenderSpec,
    TrackTooLong,
    VideoFormat,
    loudness_levels,
    parse_format,
    probe,
    read_audio_file,
)
from bot.telegram_io.status_messages import (
    MESSAGE_DEADLINE_SECONDS,
    is_gone,
    is_not_modified,
    telegram_deadline,
)
from bot.telegram_io.telegram_files import save_telegram_file
from bot.text.render import render_progress_text
from bot.text.texts import text
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import MalformedResponse, UpstreamError, UpstreamUnavailable
from bot.upstream.safe_fetch import FetchError, SafeFetcher, TooLarge, UnsafeUrl
from storage.jobs import KIND_RENDER, Job, JobRepository

log = logging.getLogger(__name__)

CANCEL_PREFIX = "rc:"
PROGRESS_INTERVAL_SECONDS = 5.0  # at most one status edit per 5 s while rendering (private)
# In groups Telegram allows 20 messages a minute: progress takes at most 4 of them.
GROUP_PROGRESS_INTERVAL_SECONDS = 15.0
MAX_SOURCE_BYTES = 100 * 1024 * 1024  # a music record's audio file (a 10-minute WAV fits)
MAX_COVER_BYTES = 10 * 1024 * 1024
# A source download's total deadline grows with its byte limit (at least 0.5 MB/s).
DOWNLOAD_SECONDS_PER_MB = 2.0
DOWNLOAD_MIN_SECONDS = 60.0
RENDER_ATTEMPTS = 3  # attempts of one render (transient or unexpected failures), then it fails
RETRY_SECONDS = 15.0  # the first retry's delay; doubled for each later one
# No retry is planned past this much time from the job's creation: it fails instead.
RENDER_RETRY_WINDOW = timedelta(hours=2)
CANCEL_NOTICE_DELAY = timedelta(seconds=2)  # the delivery loop tells "cancelled" after this
_AUDIO_NAME = "source-audio"
_COVER_NAME = "source-cover"
_LYRICS_NAME = "lyrics.ass"
TEASER_FADE_SECONDS = 1.0


class SourceUnavailable(Exception):
    """The track's audio cannot be had (no record, no audio URL, refused download)."""


class _Transient(Exception):
    """The sources could not be fetched now; worth another try (not before `retry_after`)."""

    def __init__(self, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class _Sources:
    audio: Path
    cover: Path | None
    title: str
    author: str | None


def cancel_markup(job: Job) -> InlineKeyboardMarkup:
    """The Cancel button of a render's status message."""
    label = text(job.language, "button_cancel")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"{CANCEL_PREFIX}{job.id}")]]
    )


def work_dir_of(output_path: str | None) -> Path | None:
    """The per-job work dir holding a rendered file (None when there is none)."""
    if output_path is None:
        return None
    folder = Path(output_path).parent
    return folder if folder.name.startswith("job") else None


def remove_work_dir(folder: Path | None) -> None:
    """Delete a job's work dir. Synchronous on purpose: it also runs while a task is being
    cancelled, where an await could be interrupted."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def progress_interval(chat_id: int) -> float:
    """The least time between two progress edits in a chat: groups, supergroups and channels
    (negative ids) share Telegram's 20 messages a minute, private chats do not."""
    return GROUP_PROGRESS_INTERVAL_SECONDS if chat_id < 0 else PROGRESS_INTERVAL_SECONDS


class ProgressReporter:
    """Shows a render's queue position and percentage on its status message (throttled)."""

    def __init__(
        self,
        bot: Bot,
        job: Job,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._job = job
        self._interval = progress_interval(job.chat_id) if interval is None else interval
        self._clock = clock
        self._last = -float("inf")
        self._shown = ""
        self._edit: asyncio.Task[None] | None = None
        self._pending: str | None = None

    def queued(self, position: QueuePosition) -> None:
        """The RenderQueue's callback: renders running or waiting before this one."""
        ahead = position.ahead + position.running
        self._post(render_progress_text(self._job, percent=None, ahead=ahead), force=True)

    def progress(self, fraction: float) -> None:
        """The engine's callback: ffmpeg's progress from 0 to 1."""
        percent = max(0, min(99, int(fraction * 100)))
        self._post(render_progress_text(self._job, percent=percent, ahead=None), force=False)

    async def close(self) -> None:
        """Stop editing (a pending edit is cancelled: the job's next phase comes next)."""
        self._pending = None
        if self._edit is not None:
            self._edit.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._edit

    def _post(self, body: str, *, force: bool) -> None:
        if self._job.status_message_id is None or body == self._shown:
            return
        if not force and self._clock() - self._last < self._interval:
            return
        if self._edit is not None and not self._edit.done():
            self._pending = body  # shown once the edit in flight is answered
            return
        self._start_edit(body)

    def _start_edit(self, body: str) -> None:
        self._last = self._clock()
        self._shown = body
        self._edit = asyncio.create_task(self._send(body), name=f"render-progress-{self._job.id}")

    async def _send(self, body: str) -> None:
        job = self._job
        try:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._bot.edit_message_text(
                    body,
                    chat_id=job.chat_id,
                    message_id=job.status_message_id,
                    reply_markup=cancel_markup(job),
                )
        except BadRequest as exc:
            if not (is_not_modified(exc) or is_gone(exc)):
                log.info("job %s: progress not shown: %s", job.id, exc)
        except TelegramError as exc:
            log.info("job %s: progress not shown: %s", job.id, exc)
        pending, self._pending = self._pending, None
        if pending is not None and pending != self._shown:
            self._start_edit(pending)


class RenderJobs:
    """Renders due render jobs, one RenderQueue slot each, and cancels them on request."""

    def __init__(
        self,
        *,
        repo: JobRepository,
        upstream: UpstreamClient,
        fetcher: SafeFetcher,
        bot: Bot,
        renderer: Callable[[], Awaitable[Renderer]],
        queue: RenderQueue,
        work_root: Path,
        clock: Callable[[], datetime],
        wake_delivery: Callable[[], None],
        lease_seconds: float = 4 * 3600.0,
        progress_interval: float | None = None,
        lyrics: LyricsSource | None = None,
    ) -> None:
        self._repo = repo
        self._lyrics = lyrics
        self._upstream = upstream
        self._fetcher = fetcher
        self._bot = bot
        self._renderer = renderer
        self._queue = queue
        self._work_root = work_root
        self._clock = clock
        self._wake_delivery = wake_delivery
        self._lease_seconds = lease_seconds
        self._progress_interval = progress_interval
        self._running: dict[int, asyncio.Task[None]] = {}
        self._cancelled: set[int] = set()

    @property
    def step_deadline(self) -> float:
        """The longest one step may take: waiting in the queue, fetching and rendering."""
        return self._lease_seconds

    async def process(self, job: Job) -> None:
        """The renderer loop's step: lease the job, render it, hand it to delivery."""
        if job.state is not JobState.SUBMITTING or job.kind != KIND_RENDER:
            return
        now = self._clock()
        if not await self._repo.claim(
            job.id,
            expected=JobState.SUBMITTING,
            column="next_poll_at",
            now=now,
            lease_until=now + timedelta(seconds=self._lease_seconds),
            counter="submit_attempts",
        ):
            return
        await self._run(job)

    async def sweep(self) -> int:
        """At start: remove work dirs no render waits on (a kill can leave them behind); a
        rendered file waiting for delivery stays."""
        folders = await asyncio.to_thread(_job_dirs, self._work_root)
        removed = 0
        for job_id, folder in folders:
            job = await self._repo.get(job_id)
            if job is None or job.state is not JobState.SUCCEEDED:
                await asyncio.to_thread(remove_work_dir, folder)
                removed += 1
        return removed

    async def cancel(self, job_id: int) -> bool:
        """Cancel a render not yet finished (ffmpeg is killed); True if this call did it."""
        job = await self._repo.get(job_id)
        if job is None or job.kind != KIND_RENDER or job.state is not JobState.SUBMITTING:
            return False
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.FAILED,
            error_kind=ErrorKind.CANCELLED.value,
            error=None,
            next_poll_at=None,
            next_delivery_at=self._clock() + CANCEL_NOTICE_DELAY,
        )
        if not won:
            return False
        # A render claimed but not started yet has no task here: it looks at its row first
        # thing (`_attempt`) and stops there.
        task = self._running.get(job.id)
        if task is not None:
            self._cancelled.add(job.id)
            task.cancel()
            # Its outcome is recorded by `_run`, which awaits it; only wait for ffmpeg to end.
            await asyncio.wait({task}, timeout=10.0)
        await self._repo.transition(
            job.id, expected=JobState.FAILED, next_delivery_at=self._clock()
        )
        self._wake_delivery()
        return True

    async def _reuse(self, job: Job) -> bool:
        """The same track, format and look was rendered and posted before: send it again.
        A file_id still on a render being rendered is one Telegram refused (delivery sent the
        job back, docs/architecture.md §6.2): that one is not reused."""
        done = await self._repo.find_rendered(job)
        if done is None or (job.file_id is not None and done.file_id == job.file_id):
            return False
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.SUCCEEDED,
            file_id=done.file_id,
            render_facts=done.render_facts,
            title=job.title or done.title,
            completed_at=self._clock(),
            next_poll_at=None,
            next_delivery_at=self._clock(),
        )
        if won:
            log.info("job %s: rendered before as job %s; sending it again", job.id, done.id)
            self._wake_delivery()
        return True

    async def _run(self, job: Job) -> None:
        """One attempt in a child task Cancel can stop; every way it can end is recorded on
        the row (a success, a retry, or a failure the chat is told about)."""
        reporter = ProgressReporter(self._bot, job, interval=self._progress_interval)
        task = asyncio.create_task(self._attempt(job, reporter), name=f"render-{job.id}")
        self._running[job.id] = task
        try:
            await task
        except asyncio.CancelledError:
            if job.id in self._cancelled and not _current_cancelling():
                log.info("job %s: render cancelled by the user", job.id)
                return
            raise
        except _Transient as exc:
            await self._retry_or_fail(job, exc, ErrorKind.SOURCE_UNAVAILABLE)
        except (SourceUnavailable, BadInput) as exc:
            await self._fail(job, ErrorKind.SOURCE_UNAVAILABLE, str(exc))
        except TrackTooLong as exc:
            await self._fail(job, ErrorKind.TRACK_TOO_LONG, None, log_detail=str(exc))
        except RenderError as exc:
            await self._fail(job, ErrorKind.RENDER_FAILED, None, log_detail=str(exc))
        except Exception as exc:  # anything else (a full disk, a flood wait…)
            # must not leave the job in SUBMITTING until its 4 h lease runs out: retried
            # within the attempt cap, then failed with a notice (docs/architecture.md §8.2).
            log.exception("job %s: render attempt failed unexpectedly", job.id)
            await self._retry_or_fail(job, exc, ErrorKind.RENDER_FAILED)
        finally:
            self._running.pop(job.id, None)
            self._cancelled.discard(job.id)
            await reporter.close()

    async def _attempt(self, job: Job, reporter: ProgressReporter) -> None:
        """Reuse an earlier render or render anew in a fresh work dir; the dir goes unless
        the rendered file is handed to delivery."""
        fresh = await self._repo.get(job.id)
        if fresh is None or fresh.state is not JobState.SUBMITTING:
            log.info("job %s: cancelled before its render started", job.id)
            return
        if await self._reuse(fresh):
            return
        folder = self._work_root / f"job{job.id}"
        try:
            await asyncio.to_thread(_fresh_dir, folder)
            video, title = await self._render(fresh, folder, reporter)
            if await self._succeeded(fresh, video, title):
                return
        except BaseException:
            remove_work_dir(folder)
            raise
        remove_work_dir(folder)

    async def _render(
        self, job: Job, folder: Path, reporter: ProgressReporter
    ) -> tuple[RenderedVideo, str]:
        renderer = await self._renderer()
        sources = await self._sources(job, folder, renderer)
        video_format = parse_format(job.video_format or "") or VideoFormat.VERTICAL
        lyrics = await self._track_lyrics(job)
        clip = None
        if job.teaser:
            clip, lyrics = await self._teaser(renderer, sources.audio, lyrics)
        spec = RenderSpec(
            audio=sources.audio,
            title=sources.title,
            video_format=video_format,
            cover=sources.cover,
            author=sources.author,
            domain=job.domain_name,
            subtitles=await _karaoke_file(lyrics, video_format, folder) if job.lyrics else None,
            clip=clip,
            max_bytes=TEASER_MAX_BYTES if job.teaser else DEFAULT_MAX_BYTES,
        )
        async with self._queue.slot(on_position=reporter.queued):
            reporter.progress(0.0)
            video = await renderer.render(spec, workdir=folder, on_progress=reporter.progress)
        return video, sources.title

    async def _track_lyrics(self, job: Job) -> AlignedLyrics | None:
        """A provider track's lyrics when the render shows them or needs its chorus; an
        uploaded file has none."""
        if self._lyrics is None or job.source_file_id is not None:
            return None
        if not (job.lyrics or job.teaser):
            return None
        lyrics = await self._lyrics.lyrics(job.task_id, job.audio_id)
        if (
            lyrics is None
            and job.lyrics
            and not await self._lyrics.known(job.task_id, job.audio_id)
        ):
            # Asking failed this time: this video has no lyrics, so it must not be re-sent
            # later as the "with lyrics" look (that look is rendered again once they come).
            await self._repo.transition(job.id, expected=job.state, lyrics=False)
        return lyrics

    async def _teaser(
        self, renderer: Renderer, audio: Path, lyrics: AlignedLyrics | None
    ) -> tuple[Clip, AlignedLyrics | None]:
        """The teaser's part of the track (from the chorus, else the loudest stretch by the
        provider's waveform or the audio's own loudness) and the lyrics moved into it."""
        info = await probe(renderer.ffmpeg, audio)
        if info.audio is None or not info.duration:
            raise BadInput("the file has no audio")
        loudness = None
        if not _knows_chorus(lyrics):
            levels = await loudness_levels(renderer.ffmpeg, audio)
            loudness = Loudness(levels, LOUDNESS_STEP_SECONDS) if levels else None
        window = teaser_window(info.duration, lyrics, loudness)
        clip = Clip(window.start, window.duration, TEASER_FADE_SECONDS)
        return clip, clip_lyrics(lyrics, window) if lyrics is not None else None

    async def _sources(self, job: Job, folder: Path, renderer: Renderer) -> _Sources:
        if job.source_file_id is not None:
            return await self._uploaded(job, folder, renderer)
        track = await self._track(job)
        if not track.audio_url:
            raise SourceUnavailable("the music record has no audio URL")
        audio = folder / _AUDIO_NAME
        await self._download(track.audio_url, audio, MAX_SOURCE_BYTES)
        cover: Path | None = None
        if track.image_url:
            try:
                await self._download(track.image_url, folder / _COVER_NAME, MAX_COVER_BYTES)
                cover = folder / _COVER_NAME
            except (SourceUnavailable, _Transient) as exc:
                log.info("job %s: no cover (%s); a generated one is used", job.id, exc)
        title = job.title or track.title or job.audio_id
        return _Sources(audio, cover, title, job.author)

    async def _track(self, job: Job) -> Track:
        try:
            tracks = await self._upstream.tracks(job.task_id)
        except (UpstreamUnavailable, MalformedResponse) as exc:
            raise _Transient(str(exc)) from exc
        except UpstreamError as exc:
            raise SourceUnavailable(str(exc)) from exc
        for track in tracks.tracks:
            if track.audio_id == job.audio_id:
                return track
        raise SourceUnavailable(f"track {job.audio_id} is not in music task {job.task_id}")

    async def _download(self, url: str, path: Path, max_bytes: int) -> None:
        deadline = download_seconds(max_bytes)
        try:
            with await asyncio.to_thread(path.open, "wb") as sink:
                async with asyncio.timeout(deadline):
                    await self._fetcher.download(url, sink, max_bytes=max_bytes)
        except (UnsafeUrl, TooLarge) as exc:
            raise SourceUnavailable(str(exc)) from exc
        except TimeoutError as exc:
            raise _Transient(f"the download took over {deadline:g} s") from exc
        except (FetchError, OSError) as exc:
            raise _Transient(str(exc)) from exc

    async def _uploaded(self, job: Job, folder: Path, renderer: Renderer) -> _Sources:
        assert job.source_file_id is not None
        path = folder / _AUDIO_NAME
        deadline = download_seconds(MAX_SOURCE_BYTES)
        try:
            async with asyncio.timeout(deadline):
                telegram_file = await self._bot.get_file(job.source_file_id)
                await save_telegram_file(telegram_file, path)  # the disk part off the event loop
        except BadRequest as exc:
            raise SourceUnavailable(str(exc)) from exc
        except RetryAfter as exc:  # flood control on getFile: not a failure of the file
            raise _Transient(str(exc), retry_after=_seconds(exc.retry_after)) from exc
        except TimeoutError as exc:
            raise _Transient(f"the download took over {deadline:g} s") from exc
        except (NetworkError, OSError) as exc:
            raise _Transient(str(exc)) from exc
        name = job.source_file_name or "audio"
        facts = await read_audio_file(renderer.ffmpeg, path, file_name=name, workdir=folder)
        return _Sources(path, facts.cover, job.title or facts.title, job.author or facts.artist)

    async def _succeeded(self, job: Job, video: RenderedVideo, title: str) -> bool:
        facts = {
            "width": video.width,
            "height": video.height,
            "duration": video.duration,
            "size": video.size,
            "thumbnail": str(video.thumbnail),
            "cover": str(video.cover),
        }
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.SUCCEEDED,
            file_id=None,  # a file_id Telegram refused (§6.2) is not tried again
            output_path=str(video.path),
            render_facts=json.dumps(facts),
            title=title,
            completed_at=self._clock(),
            next_poll_at=None,
            next_delivery_at=self._clock(),
        )
        if won:
            log.info("job %s rendered (%s bytes) state=succeeded", job.id, video.size)
            self._wake_delivery()
        return won

    async def _retry_or_fail(self, job: Job, exc: Exception, kind: ErrorKind) -> None:
        """Try again later while attempts and the retry window last, else fail as `kind`."""
        fresh = await self._repo.get(job.id) or job
        attempts = max(1, fresh.submit_attempts)
        delay = RETRY_SECONDS * 2 ** (attempts - 1)
        if isinstance(exc, _Transient):
            delay = max(delay, exc.retry_after)
        retry_at = self._clock() + timedelta(seconds=delay)
        if attempts >= RENDER_ATTEMPTS or retry_at > fresh.created_at + RENDER_RETRY_WINDOW:
            await self._fail(job, kind, None, log_detail=f"{type(exc).__name__}: {exc}")
            return
        log.info(
            "job %s: render attempt %s failed (%s); retry in %.0fs", job.id, attempts, exc, delay
        )
        await self._repo.transition(job.id, expected=JobState.SUBMITTING, next_poll_at=retry_at)

    async def _fail(
        self, job: Job, kind: ErrorKind, detail: str | None, *, log_detail: str | None = None
    ) -> None:
        log.warning("job %s: render failed (%s): %s", job.id, kind, log_detail or detail)
        won = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            to=JobState.FAILED,
            error_kind=kind.value,
            error=detail[:300] if detail else None,
            next_poll_at=None,
            next_delivery_at=self._clock(),
        )
        if won:
            self._wake_delivery()


def _knows_chorus(lyrics: AlignedLyrics | None) -> bool:
    """Whether the lyrics place the teaser by themselves (a chorus tag or waveformData)."""
    if lyrics is None:
        return False
    return bool(lyrics.waveform) or any(
        is_chorus_tag(tag) for word in lyrics.words for tag in word.tags
    )


async def _karaoke_file(
    lyrics: AlignedLyrics | None, video_format: VideoFormat, folder: Path
) -> Path | None:
    """The lyrics as an ASS file in the job's work dir; None for an instrumental or none."""
    document = karaoke_ass(lyrics, layout_for(*video_format.size)) if lyrics is not None else None
    if document is None:
        return None
    path = folder / _LYRICS_NAME
    await asyncio.to_thread(path.write_text, document, encoding="utf-8")
    return path


def download_seconds(max_bytes: int) -> float:
    """The total deadline of a source download capped at `max_bytes`."""
    return max(DOWNLOAD_MIN_SECONDS, max_bytes / 1e6 * DOWNLOAD_SECONDS_PER_MB)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _current_cancelling() -> bool:
    """Whether the current task itself is being cancelled (shutdown), not just the child."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _job_dirs(root: Path) -> list[tuple[int, Path]]:
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        number = folder.name.removeprefix("job")
        if folder.is_dir() and folder.name.startswith("job") and number.isdigit():
            found.append((int(number), folder))
    return found


def _fresh_dir(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # a previous attempt's leftovers
    folder.mkdir(parents=True)
