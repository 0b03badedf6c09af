"""A chat's corrections of a track's words (issue 19, docs/architecture.md §9.5): what to show
for an edit, a reply applied and stored, a reset, and the revision a render is admitted with.

No Telegram and no texts: outcomes are values the handlers put into words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.engine.lyrics_source import LyricsSource
from bot.lyrics.codec import BadStoredLyrics
from bot.lyrics.corrected import (
    Applied,
    CorrectedLyrics,
    apply_reply,
    corrected_from_json,
    corrected_to_json,
    is_provider_text,
    numbered_second_lines,
    revision_of,
    source_lines,
)
from bot.lyrics.edits import numbered_text, parse_correction
from bot.lyrics.lines import LyricLine
from bot.lyrics.model import AlignedLyrics
from storage.lyric_corrections import LyricCorrectionRepository, StoredCorrection

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EditView:
    """What an edit shows: the numbered lines (one message each) and the second lines."""

    chunks: tuple[str, ...]
    second_lines: str  # "N. text" rows, empty when there are none
    line_count: int


@dataclass(frozen=True, slots=True)
class NoLyrics:
    """Nothing to edit: `known` is True when the provider said so (an instrumental, or no
    lyrics endpoint), False when asking failed this time."""

    known: bool


@dataclass(frozen=True, slots=True)
class Current:
    """The words a chat's renders of a track use now: the provider's, or its correction."""

    provider: AlignedLyrics
    corrected: CorrectedLyrics | None
    revision: str | None


class LyricCorrections:
    """Stores and reads a chat's corrections of a track's lyrics."""

    def __init__(
        self, *, repo: LyricCorrectionRepository, lyrics: LyricsSource, provider: str
    ) -> None:
        self._repo = repo
        self._lyrics = lyrics
        self._provider = provider

    @property
    def provider(self) -> str:
        """The music provider whose tracks are corrected."""
        return self._provider

    async def current(self, chat_id: int, task_id: str, audio_id: str) -> Current | NoLyrics:
        """The track's words as the chat's renders use them (asks the provider once if the
        track's lyrics are not known yet)."""
        lyrics = await self._lyrics.lyrics(task_id, audio_id)
        if lyrics is None or lyrics.instrumental:
            known = lyrics is not None or await self._lyrics.known(task_id, audio_id)
            return NoLyrics(known)
        stored = await self._repo.get(chat_id, self._provider, task_id, audio_id)
        corrected = _decoded(stored)
        return Current(lyrics, corrected, stored.revision if corrected and stored else None)

    async def view(self, chat_id: int, task_id: str, audio_id: str) -> EditView | NoLyrics:
        """The numbered lines to send for an edit, the current correction applied."""
        current = await self.current(chat_id, task_id, audio_id)
        if isinstance(current, NoLyrics):
            return current
        lines = _lines(current)
        seconds = current.corrected.second_lines if current.corrected else ()
        return EditView(
            tuple(numbered_text(lines)), numbered_second_lines(lines, seconds), len(lines)
        )

    async def apply(
        self, chat_id: int, task_id: str, audio_id: str, reply: str
    ) -> Applied | NoLyrics:
        """Parse and apply a reply, and store the result; raises `CorrectionError` (nothing
        stored) when the reply cannot be applied."""
        current = await self.current(chat_id, task_id, audio_id)
        if isinstance(current, NoLyrics):
            return current
        correction = parse_correction(reply, len(_lines(current)))
        applied = apply_reply(current.provider, current.corrected, correction)
        if is_provider_text(current.provider, applied.corrected):
            # Back to the provider's words with no second line: no correction, so renders
            # share the provider's look again (no revision of their own).
            await self._repo.delete(chat_id, self._provider, task_id, audio_id)
            return applied
        body = corrected_to_json(applied.corrected)
        await self._repo.put(
            chat_id, self._provider, task_id, audio_id, body=body, revision=revision_of(body)
        )
        log.info(
            "chat %s corrected lyrics of %s/%s: lines %s changed, %s second lines",
            chat_id,
            task_id,
            audio_id,
            list(applied.changed),
            applied.second_line_count,
        )
        return applied

    async def reset(self, chat_id: int, task_id: str, audio_id: str) -> bool:
        """Back to the provider's words; True when there was a correction."""
        return await self._repo.delete(chat_id, self._provider, task_id, audio_id)

    async def revision(self, chat_id: int, task_id: str, audio_id: str) -> str | None:
        """The revision of the chat's correction of a track (None: the provider's words)."""
        stored = await self._repo.get(chat_id, self._provider, task_id, audio_id)
        return None if stored is None else stored.revision

    async def stored(
        self, chat_id: int, task_id: str, audio_id: str
    ) -> tuple[CorrectedLyrics, str] | None:
        """The chat's stored correction and its revision; None without one (or unreadable)."""
        stored = await self._repo.get(chat_id, self._provider, task_id, audio_id)
        corrected = _decoded(stored)
        return None if corrected is None or stored is None else (corrected, stored.revision)


def _lines(current: Current) -> tuple[LyricLine, ...]:
    return source_lines(current.corrected.lyrics if current.corrected else current.provider)


def _decoded(stored: StoredCorrection | None) -> CorrectedLyrics | None:
    if stored is None:
        return None
    try:
        return corrected_from_json(stored.body)
    except BadStoredLyrics as exc:
        log.warning("a stored lyric correction is unreadable (%s); using the provider's", exc)
        return None
