"""A track's aligned lyrics, fetched from the provider at most once and kept (issue 11).

The provider's price for the endpoint is not documented, so each track is asked for once: the
answer (an instrumental's empty one included) is stored in `track_lyrics`, and concurrent
renders of one track share one request. Failures never fail a render: it goes without lyrics.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from bot.lyrics.chorus import LEAD_IN_SECONDS, is_chorus_tag
from bot.lyrics.codec import BadStoredLyrics, lyrics_from_json, lyrics_to_json
from bot.lyrics.model import AlignedLyrics
from bot.upstream.errors import (
    InsufficientCredits,
    MalformedResponse,
    Unauthorized,
    Unsupported,
    UpstreamError,
    UpstreamUnavailable,
)
from storage.lyrics import LyricsRepository

log = logging.getLogger(__name__)


class LyricsSource:
    """Stored lyrics of a track, fetching them the first time they are needed."""

    def __init__(
        self,
        *,
        repo: LyricsRepository,
        provider: str,
        fetch: Callable[[str, str], Awaitable[AlignedLyrics]],
    ) -> None:
        self._repo = repo
        self._provider = provider
        self._fetch = fetch
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiters: dict[tuple[str, str], int] = {}

    async def stored(self, task_id: str, audio_id: str) -> AlignedLyrics | None:
        """The lyrics already known for a track (never asks the provider); None if unknown."""
        found = await self._repo.get(self._provider, task_id, audio_id)
        if found is None or found.body is None:
            return None
        try:
            return lyrics_from_json(found.body)
        except BadStoredLyrics as exc:
            log.warning("lyrics of %s/%s unreadable: %s", task_id, audio_id, exc)
            return None

    async def known(self, task_id: str, audio_id: str) -> bool:
        """Whether the provider's answer for this track is stored (lyrics, or that it has
        none); False after a failed ask, which a later render asks again."""
        return await self._repo.get(self._provider, task_id, audio_id) is not None

    async def lyrics(self, task_id: str, audio_id: str) -> AlignedLyrics | None:
        """The track's lyrics (an instrumental's are empty); None when there are none to have:
        the provider has no lyrics endpoint, or asking failed this time (then not stored)."""
        key = (task_id, audio_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:  # one request per track, however many renders want it at once
                found = await self._repo.get(self._provider, task_id, audio_id)
                if found is not None:
                    return await self.stored(task_id, audio_id)
                return await self._ask(task_id, audio_id)
        finally:
            self._waiters[key] -= 1
            if not self._waiters[key]:
                del self._waiters[key], self._locks[key]

    async def _ask(self, task_id: str, audio_id: str) -> AlignedLyrics | None:
        track = f"{task_id}/{audio_id}"
        try:
            lyrics = await self._fetch(task_id, audio_id)
        except Unsupported:
            log.info("lyrics of %s: the provider has none; rendering without", track)
            await self._repo.put(self._provider, task_id, audio_id, None)
            return None
        except (InsufficientCredits, Unauthorized) as exc:
            log.warning("lyrics of %s not fetched (%s); rendering without", track, exc)
            return None
        except (UpstreamUnavailable, MalformedResponse) as exc:
            log.info("lyrics of %s not fetched now (%s); rendering without", track, exc)
            return None
        except UpstreamError as exc:
            log.info("lyrics of %s refused (%s); rendering without", track, exc)
            return None
        await self._repo.put(self._provider, task_id, audio_id, lyrics_to_json(lyrics))
        log.info("lyrics of %s stored: %s words", track, len(lyrics.words))
        return lyrics


def chorus_start(lyrics: AlignedLyrics) -> int | None:
    """Whole seconds into the track where its first chorus begins (a little lead-in
    included), or None when no section tag names a chorus."""
    for word in lyrics.words:
        if any(map(is_chorus_tag, word.tags)):
            return max(0, math.floor(word.start - LEAD_IN_SECONDS))
    return None
