"""A render's inputs on disk, from its plan alone (docs/architecture.md §8.2): the audio and
cover through the safe fetcher or the file sent in the chat, the teaser's window, the karaoke
subtitles — gathered into a `RenderSpec`.

Rendering's side with bot/engine/render_jobs.py: must not import Telegram, bot.text, handlers,
the provider client or the preparation.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.domain import Look, LyricStyle
from bot.engine.render_plan import ChatFiles, RenderPlan, SourceTransient, SourceUnavailable
from bot.engine.track_analyses import TrackAnalyses, TrackKey
from bot.lyrics.ass import karaoke_ass, layout_for
from bot.lyrics.chorus import (
    Loudness,
    TeaserWindow,
    clip_lyrics,
    clip_second_lines,
    is_chorus_tag,
    teaser_window,
)
from bot.lyrics.model import AlignedLyrics, SecondLine
from bot.rendering import (
    DEFAULT_MAX_BYTES,
    LOUDNESS_STEP_SECONDS,
    TEASER_MAX_BYTES,
    BadInput,
    Clip,
    Renderer,
    RenderSpec,
    VideoFormat,
    Visualisation,
    loudness_levels,
    parse_format,
    probe,
    read_audio_file,
)
from bot.upstream.safe_fetch import FetchError, SafeFetcher, TooLarge, UnsafeUrl
from storage.jobs import Job

if TYPE_CHECKING:
    from bot.music.track import TrackAnalysis

log = logging.getLogger(__name__)

MAX_SOURCE_BYTES = 100 * 1024 * 1024  # a music record's audio file (a 10-minute WAV fits)
MAX_COVER_BYTES = 10 * 1024 * 1024
# A source download's total deadline grows with its byte limit (at least 0.5 MB/s).
DOWNLOAD_SECONDS_PER_MB = 2.0
DOWNLOAD_MIN_SECONDS = 60.0
TEASER_FADE_SECONDS = 1.0
_AUDIO_NAME = "source-audio"
_COVER_NAME = "source-cover"
_LYRICS_NAME = "lyrics.ass"


@dataclass(frozen=True, slots=True)
class Sources:
    """A render's inputs on disk: the audio, the cover (None: none had) and the texts."""

    audio: Path
    cover: Path | None
    title: str
    author: str | None


class RenderSources:
    """Turns a plan into a RenderSpec over files in the job's work dir."""

    def __init__(
        self, *, fetcher: SafeFetcher, chat_files: ChatFiles, analyses: TrackAnalyses
    ) -> None:
        self._fetcher = fetcher
        self._chat_files = chat_files
        self._analyses = analyses

    async def spec(
        self, job: Job, plan: RenderPlan, folder: Path, renderer: Renderer
    ) -> RenderSpec:
        """Fetch the sources into `folder` and say what to render."""
        sources = await self._sources(job.id, plan, folder, renderer)
        video_format = parse_format(plan.video_format) or VideoFormat.VERTICAL
        look = Look(plan.look)
        # The whole track's analysis (stored once per track, §9.1); a teaser's clip shifts it.
        # `calm` has no beat motion (§9.3), so it needs none.
        motion = (
            None
            if look is Look.CALM
            else await self._analyses.motion(
                _track_key(job, plan), renderer.ffmpeg, sources.audio, plan.lyrics
            )
        )
        lyrics = plan.lyrics
        seconds = plan.second_lines
        clip = None
        if plan.teaser:
            clip, lyrics = await _teaser(renderer, sources.audio, lyrics)
            seconds = clip_second_lines(seconds, clip.start, clip.start + clip.duration)
        drawing = _Drawing(LyricStyle(plan.lyric_style), seconds, plan.count_in)
        subtitles = (
            await _karaoke_file(lyrics, video_format, drawing, folder) if plan.burn_lyrics else None
        )
        return RenderSpec(
            audio=sources.audio,
            title=sources.title,
            video_format=video_format,
            cover=sources.cover,
            author=sources.author,
            domain=plan.domain,
            subtitles=subtitles,
            clip=clip,
            max_bytes=TEASER_MAX_BYTES if plan.teaser else DEFAULT_MAX_BYTES,
            motion=motion,
            visualisation=Visualisation.BARS if look is Look.BARS else Visualisation.WAVES,
        )

    async def fetch(
        self, job_id: int, plan: RenderPlan, folder: Path, renderer: Renderer
    ) -> Sources:
        """The plan's audio and cover in `folder` (a Canvas loop's too, bot/engine/loops.py)."""
        return await self._sources(job_id, plan, folder, renderer)

    async def analysis(
        self, job: Job, plan: RenderPlan, renderer: Renderer, audio: Path
    ) -> TrackAnalysis | None:
        """The track's music analysis (stored once per track, §9.1); None: not analysable."""
        return await self._analyses.analysis(
            _track_key(job, plan), renderer.ffmpeg, audio, plan.lyrics
        )

    async def _sources(
        self, job_id: int, plan: RenderPlan, folder: Path, renderer: Renderer
    ) -> Sources:
        if plan.source_file_id is not None:
            return await self._uploaded(plan, plan.source_file_id, folder, renderer)
        if not plan.audio_url:
            raise SourceUnavailable("the music record has no audio URL")
        audio = folder / _AUDIO_NAME
        await self._download(plan.audio_url, audio, MAX_SOURCE_BYTES)
        cover: Path | None = None
        if plan.cover_url:
            try:
                await self._download(plan.cover_url, folder / _COVER_NAME, MAX_COVER_BYTES)
                cover = folder / _COVER_NAME
            except (SourceUnavailable, SourceTransient) as exc:
                log.info("job %s: no cover (%s); a generated one is used", job_id, exc)
        return Sources(audio, cover, plan.title or "", plan.author)

    async def _download(self, url: str, path: Path, max_bytes: int) -> None:
        deadline = download_seconds(max_bytes)
        try:
            with await asyncio.to_thread(path.open, "wb") as sink:
                async with asyncio.timeout(deadline):
                    await self._fetcher.download(url, sink, max_bytes=max_bytes)
        except (UnsafeUrl, TooLarge) as exc:
            raise SourceUnavailable(str(exc)) from exc
        except TimeoutError as exc:
            raise SourceTransient(f"the download took over {deadline:g} s") from exc
        except (FetchError, OSError) as exc:
            raise SourceTransient(str(exc)) from exc

    async def _uploaded(
        self, plan: RenderPlan, file_id: str, folder: Path, renderer: Renderer
    ) -> Sources:
        path = folder / _AUDIO_NAME
        deadline = download_seconds(MAX_SOURCE_BYTES)
        try:
            async with asyncio.timeout(deadline):
                await self._chat_files.save(file_id, path)
        except TimeoutError as exc:
            raise SourceTransient(f"the download took over {deadline:g} s") from exc
        name = plan.source_file_name or "audio"
        facts = await read_audio_file(renderer.ffmpeg, path, file_name=name, workdir=folder)
        return Sources(path, facts.cover, plan.title or facts.title, plan.author or facts.artist)


def _track_key(job: Job, plan: RenderPlan) -> TrackKey:
    """Whose analysis: an uploaded file's by its file_unique_id (the job's audio id)."""
    if plan.source_file_id is not None:
        return TrackKey.upload(job.audio_id)
    return TrackKey(job.provider, job.task_id, job.audio_id)


async def _teaser(
    renderer: Renderer, audio: Path, lyrics: AlignedLyrics | None
) -> tuple[Clip, AlignedLyrics | None]:
    """The teaser's part of the track and the lyrics moved into it."""
    window = await teaser_window_of(renderer, audio, lyrics)
    clip = Clip(window.start, window.duration, TEASER_FADE_SECONDS)
    return clip, clip_lyrics(lyrics, window) if lyrics is not None else None


async def teaser_window_of(
    renderer: Renderer, audio: Path, lyrics: AlignedLyrics | None
) -> TeaserWindow:
    """The teaser's part of the track: from the chorus, else the loudest stretch by the
    provider's waveform or the audio's own loudness (a Canvas loop starts there too)."""
    info = await probe(renderer.ffmpeg, audio)
    if info.audio is None or not info.duration:
        raise BadInput("the file has no audio")
    loudness = None
    if not _knows_chorus(lyrics):
        levels = await loudness_levels(renderer.ffmpeg, audio)
        loudness = Loudness(levels, LOUDNESS_STEP_SECONDS) if levels else None
    return teaser_window(info.duration, lyrics, loudness)


def _knows_chorus(lyrics: AlignedLyrics | None) -> bool:
    """Whether the lyrics place the teaser by themselves (a chorus tag or waveformData)."""
    if lyrics is None:
        return False
    return bool(lyrics.waveform) or any(
        is_chorus_tag(tag) for word in lyrics.words for tag in word.tags
    )


@dataclass(frozen=True, slots=True)
class _Drawing:
    """How a plan draws its lyrics: the style, second lines, a count-in (§9.2, §9.5, §9.6)."""

    style: LyricStyle
    second_lines: tuple[SecondLine, ...] = ()
    count_in: bool = False


async def _karaoke_file(
    lyrics: AlignedLyrics | None, video_format: VideoFormat, drawing: _Drawing, folder: Path
) -> Path | None:
    """The lyrics as an ASS file in the job's work dir; None for an instrumental or none."""
    layout = layout_for(*video_format.size)
    document = (
        karaoke_ass(
            lyrics,
            layout,
            style=drawing.style,
            second_lines=drawing.second_lines,
            count_in=drawing.count_in,
        )
        if lyrics is not None
        else None
    )
    if document is None:
        return None
    path = folder / _LYRICS_NAME
    await asyncio.to_thread(path.write_text, document, encoding="utf-8")
    return path


def download_seconds(max_bytes: int) -> float:
    """The total deadline of a source download capped at `max_bytes`."""
    return max(DOWNLOAD_MIN_SECONDS, max_bytes / 1e6 * DOWNLOAD_SECONDS_PER_MB)
