"""A track's music analysis on the rendering side: the stored one, else made now from the local
audio and stored, once per track (docs/architecture.md §9.1, §8.9); and the cover's motion it
gives a render.

`bot.music` imports numpy: it is imported here only when a track is analysed or read. Must not
import Telegram, bot.text or handlers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.lyrics.model import AlignedLyrics
from bot.rendering import Motion, RenderError
from bot.rendering.runner import Ffmpeg
from bot.rendering.section_looks import SectionSpan
from storage.lyrics import AnalysisRepository

if TYPE_CHECKING:
    from bot.music.track import TrackAnalysis

log = logging.getLogger(__name__)

UPLOAD_PROVIDER = "upload"  # an uploaded file's analysis is keyed ("upload", "", file_unique_id)
CHORUS = "chorus"  # bot/music/sections.py's kind


@dataclass(frozen=True, slots=True)
class TrackKey:
    """Whose analysis: a provider's track, or an uploaded file (`upload`)."""

    provider: str
    task_id: str
    audio_id: str

    @classmethod
    def upload(cls, file_unique_id: str) -> TrackKey:
        """The key of an audio file sent in a chat."""
        return cls(UPLOAD_PROVIDER, "", file_unique_id)


def motion_of(analysis: TrackAnalysis) -> Motion | None:
    """The cover's beat motion and section looks an analysis gives; None when its beats are not
    trusted (then the look stays today's too)."""
    if not analysis.pulse:
        return None
    choruses = tuple((s.start, s.end) for s in analysis.sections if s.kind == CHORUS)
    sections = tuple(SectionSpan(s.start, s.end, s.kind, s.repeat) for s in analysis.sections)
    return Motion(analysis.beats, analysis.downbeats, choruses, sections)


class TrackAnalyses:
    """Gets or makes track analyses; one analysis at a time per track in this process."""

    def __init__(self, repo: AnalysisRepository) -> None:
        self._repo = repo
        self._locks: dict[TrackKey, asyncio.Lock] = {}
        self._waiting: dict[TrackKey, int] = {}

    async def analysis(
        self, key: TrackKey, ffmpeg: Ffmpeg, audio: Path, lyrics: AlignedLyrics | None
    ) -> TrackAnalysis | None:
        """The track's analysis (stored, else made from `audio` and stored); None when the audio
        cannot be decoded."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                return await self._get_or_make(key, ffmpeg, audio, lyrics)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def motion(
        self, key: TrackKey, ffmpeg: Ffmpeg, audio: Path, lyrics: AlignedLyrics | None
    ) -> Motion | None:
        """The cover's beat motion for a render of this track; None when its beats are not
        trusted (rubato, ambient: `TrackAnalysis.pulse`) or it cannot be analysed."""
        found = await self.analysis(key, ffmpeg, audio, lyrics)
        return None if found is None else motion_of(found)

    async def _get_or_make(
        self, key: TrackKey, ffmpeg: Ffmpeg, audio: Path, lyrics: AlignedLyrics | None
    ) -> TrackAnalysis | None:
        # numpy: loaded only where a track is analysed (§9.1)
        from bot.music.track import ANALYSIS_VERSION, TrackAnalysis, analyse_track  # noqa: PLC0415

        stored = await self._repo.get(key.provider, key.task_id, key.audio_id, ANALYSIS_VERSION)
        if stored is not None:
            try:
                return TrackAnalysis.from_json(stored)
            except ValueError as exc:
                log.warning("track %s: stored analysis unreadable (%s); analysing again", key, exc)
        try:
            made = await analyse_track(ffmpeg, audio, lyrics)
        except RenderError as exc:
            log.warning("track %s: not analysed (%s); a still cover", key, exc)
            return None
        await self._repo.put(key.provider, key.task_id, key.audio_id, made.version, made.to_json())
        log.info(
            "track %s analysed: %.1f BPM, %s beats, confidence %.2f, %s sections",
            key,
            made.tempo,
            len(made.beats),
            made.confidence,
            len(made.sections),
        )
        return made
