"""All SQL for `track_lyrics` (a track's aligned lyrics, fetched once and kept, issue 11) and
`track_analysis` (its music analysis, made once, issue 18).

Must not import Telegram, httpx or anything from `bot`. The body is opaque JSON here (the
lyrics layer encodes and decodes it); NULL means the track has none from its provider. So is an
analysis's (bot/music/track.py `TrackAnalysis.to_json`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.interface import Database


@dataclass(frozen=True, slots=True)
class StoredLyrics:
    """One stored answer: `body` is the JSON of the lyrics, None when the track has none."""

    body: str | None


class LyricsRepository:
    """Reads and writes `track_lyrics` rows; the first stored answer for a track wins."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def get(self, provider: str, task_id: str, audio_id: str) -> StoredLyrics | None:
        """The stored lyrics of a track, or None when they were never fetched."""
        row = await self._db.fetch_one(
            "SELECT body FROM track_lyrics WHERE provider = ? AND task_id = ? AND audio_id = ?",
            (provider, task_id, audio_id),
        )
        return None if row is None else StoredLyrics(row["body"])

    async def put(self, provider: str, task_id: str, audio_id: str, body: str | None) -> None:
        """Keep a track's lyrics (an answer already stored is kept as it is)."""
        await self._db.execute(
            "INSERT INTO track_lyrics (provider, task_id, audio_id, body, fetched_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (provider, task_id, audio_id, body, self._clock().timestamp()),
        )


class AnalysisRepository:
    """Reads and writes `track_analysis` rows: one per track, replaced only by a newer method.

    A track is (provider, task_id, audio_id); an uploaded file is ("upload", "", its Telegram
    file_unique_id). `version` is the analysis method's: an older stored one reads as missing.
    """

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def get(self, provider: str, task_id: str, audio_id: str, version: int) -> str | None:
        """The stored analysis JSON made by method `version` or a newer one; else None."""
        row = await self._db.fetch_one(
            "SELECT body FROM track_analysis"
            " WHERE provider = ? AND task_id = ? AND audio_id = ? AND version >= ?",
            (provider, task_id, audio_id, version),
        )
        return None if row is None else str(row["body"])

    async def put(
        self, provider: str, task_id: str, audio_id: str, version: int, body: str
    ) -> None:
        """Keep a track's analysis; one stored by the same or a newer method is kept as it is."""
        await self._db.execute(
            "INSERT INTO track_analysis"
            " (provider, task_id, audio_id, version, body, analysed_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (provider, task_id, audio_id) DO UPDATE SET version = excluded.version,"
            " body = excluded.body, analysed_at = excluded.analysed_at"
            " WHERE track_analysis.version < excluded.version",
            (provider, task_id, audio_id, version, body, self._clock().timestamp()),
        )
