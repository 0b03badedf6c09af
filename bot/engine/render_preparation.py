"""A render's preparation (docs/architecture.md §8.2): what needs the provider — the track's
music record, its lyrics and, for a karaoke render, its instrumental (§9.7) — fixed into a
`RenderPlan` stored on the job row.

The bot side of a render: rendering (bot/engine/render_jobs.py) reads only the plan and the row.
Must not import Telegram, bot.text, handlers or the rendering modules.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.domain import JobState, Look, LyricStyle, Track
from bot.engine.job_model import ErrorKind
from bot.engine.lyric_corrections import LyricCorrections
from bot.engine.lyrics_source import LyricsSource
from bot.engine.render_plan import RenderPlan, RenderRefused, SourceTransient, SourceUnavailable
from bot.engine.separations import SeparationSource
from bot.lyrics.model import AlignedLyrics, SecondLine
from bot.rendering import VideoFormat, parse_format
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import MalformedResponse, UpstreamError, UpstreamUnavailable
from storage.jobs import Job, JobRepository

log = logging.getLogger(__name__)


class RenderPreparation:
    """Builds a render's plan from the provider's answers and stores it by compare-and-set."""

    def __init__(
        self,
        *,
        repo: JobRepository,
        upstream: UpstreamClient,
        lyrics: LyricsSource | None = None,
        separations: SeparationSource | None = None,
        corrections: LyricCorrections | None = None,
    ) -> None:
        self._repo = repo
        self._upstream = upstream
        self._lyrics = lyrics
        self._separations = separations
        self._corrections = corrections

    async def prepare(self, job: Job) -> RenderPlan | None:
        """The job's plan, stored on its row; None when the row left SUBMITTING meanwhile
        (a Cancel). Raises SourceUnavailable or SourceTransient when the record fails; for a
        karaoke render also SourcePending (its separation is on its way) and RenderRefused."""
        if job.karaoke:
            return await self._prepare_karaoke(job)
        plan = RenderPlan(
            video_format=(parse_format(job.video_format or "") or VideoFormat.VERTICAL).value,
            title=job.title,
            author=job.author,
            domain=job.domain_name,
            source_file_id=job.source_file_id,
            source_file_name=job.source_file_name,
            burn_lyrics=job.lyrics,
            teaser=job.teaser,
            lyric_style=LyricStyle.from_stored(job.lyric_style).value,
            look=Look.from_stored(job.look).value,
            variant=job.variant,
        )
        if job.source_file_id is None:
            track = await self._track(job)
            if not track.audio_url:
                raise SourceUnavailable("the music record has no audio URL")
            plan = _with_record(plan, job, track)
        lyrics, lost = await self._track_lyrics(job)
        revision: str | None = None
        seconds: tuple[SecondLine, ...] = ()
        if lyrics is not None and not lost:
            lyrics, seconds, revision = await self._corrected(job, lyrics)
        plan = replace(
            plan, lyrics=lyrics, burn_lyrics=job.lyrics and not lost, second_lines=seconds
        )
        # Lyrics asked for and not had this time: this video has none, so it must not be
        # re-sent later as the "with lyrics" look (that look is rendered again once they come).
        stored = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            render_plan=plan.to_json(),
            lyrics=job.lyrics and not lost,
            lyric_style=job.lyric_style if job.lyrics and not lost else None,
            lyrics_revision=revision,
        )
        if not stored:
            log.info("job %s: left SUBMITTING while being prepared", job.id)
            return None
        log.info("job %s: render prepared", job.id)
        return plan

    async def _prepare_karaoke(self, job: Job) -> RenderPlan | None:
        """A sing-along render (docs/architecture.md §9.7): the instrumental of the track's
        one separation with the lyrics always on and count-ins. Lyrics first, since they cost
        no credits: a track without words is refused before a separation is paid for."""
        if self._separations is None or self._lyrics is None or job.source_file_id is not None:
            raise RenderRefused(ErrorKind.KARAOKE_FAILED.value, None)
        track = await self._track(job)
        lyrics = await self._lyrics.lyrics(job.task_id, job.audio_id)
        if lyrics is None and not await self._lyrics.known(job.task_id, job.audio_id):
            raise SourceTransient("the track's lyrics could not be had now")
        if lyrics is None or not lyrics.words:
            raise RenderRefused(ErrorKind.KARAOKE_NO_LYRICS.value, None)
        instrumental = await self._separations.instrumental(job)
        plan = _with_record(
            RenderPlan(
                video_format=(parse_format(job.video_format or "") or VideoFormat.VERTICAL).value,
                title=job.title,
                author=job.author,
                domain=job.domain_name,
                burn_lyrics=True,
                lyric_style=LyricStyle.from_stored(job.lyric_style).value,
                look=Look.from_stored(job.look).value,
                count_in=True,
            ),
            job,
            track,
        )
        # The chat's corrected words and second lines, as in every render with lyrics.
        lyrics, seconds, revision = await self._corrected(job, lyrics)
        # Never the record's own audio (with the vocals) under a karaoke label.
        plan = replace(plan, audio_url=instrumental, lyrics=lyrics, second_lines=seconds)
        stored = await self._repo.transition(
            job.id,
            expected=JobState.SUBMITTING,
            render_plan=plan.to_json(),
            lyrics=True,
            lyrics_revision=revision,
        )
        if not stored:
            log.info("job %s: left SUBMITTING while being prepared", job.id)
            return None
        log.info("job %s: karaoke render prepared", job.id)
        return plan

    async def _track(self, job: Job) -> Track:
        try:
            tracks = await self._upstream.tracks(job.task_id)
        except (UpstreamUnavailable, MalformedResponse) as exc:
            raise SourceTransient(str(exc)) from exc
        except UpstreamError as exc:
            raise SourceUnavailable(str(exc)) from exc
        for track in tracks.tracks:
            if track.audio_id == job.audio_id:
                return track
        raise SourceUnavailable(f"track {job.audio_id} is not in music task {job.task_id}")

    async def _corrected(
        self, job: Job, lyrics: AlignedLyrics
    ) -> tuple[AlignedLyrics, tuple[SecondLine, ...], str | None]:
        """The chat's corrected words and second lines when the job was admitted with a
        correction (docs/architecture.md §9.5), and the revision used. The stored correction
        wins over the one the job was admitted with; after a reset, the provider's words."""
        if job.lyrics_revision is None or self._corrections is None:
            return lyrics, (), None
        found = await self._corrections.stored(job.chat_id, job.task_id, job.audio_id)
        if found is None:
            log.info("job %s: the chat's lyric correction is gone; the provider's words", job.id)
            return lyrics, (), None
        corrected, revision = found
        if revision != job.lyrics_revision:
            log.info(
                "job %s: lyric correction %s replaced by %s since admission; using the newer",
                job.id,
                job.lyrics_revision,
                revision,
            )
        return corrected.lyrics, corrected.second_lines, revision

    async def _track_lyrics(self, job: Job) -> tuple[AlignedLyrics | None, bool]:
        """A provider track's lyrics when the render shows them or needs its chorus (an
        uploaded file has none), and whether asking failed for a render that shows them."""
        if self._lyrics is None or job.source_file_id is not None:
            return None, False
        if not (job.lyrics or job.teaser or job.variant is not None):  # a loop: the chorus
            return None, False
        lyrics = await self._lyrics.lyrics(job.task_id, job.audio_id)
        lost = (
            lyrics is None
            and job.lyrics
            and not await self._lyrics.known(job.task_id, job.audio_id)
        )
        return lyrics, lost


def _with_record(plan: RenderPlan, job: Job, track: Track) -> RenderPlan:
    """The plan with the music record's media and title."""
    return replace(
        plan,
        audio_url=track.audio_url,
        cover_url=track.image_url or None,
        title=job.title or track.title or job.audio_id,
        duration=track.duration_seconds,
    )
