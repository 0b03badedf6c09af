"""Tracks offered by the `/video <taskId>` picker (`track_picks`): a button carries only the
row id, which keeps callback data far below Telegram's 64 bytes whatever the ids' length.

Must not import Telegram, httpx or anything from `bot` except `bot.domain`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage.interface import Database


@dataclass(frozen=True, slots=True)
class TrackPick:
    """One offered track."""

    id: int
    chat_id: int
    task_id: str
    audio_id: str
    title: str
    duration_seconds: float | None
    author: str | None
    video_format: str | None = None  # migration 4: a /render pick's format; None for /video
    lyrics: bool = True  # migration 5: False for `/render <taskId> nolyrics`


class TrackPickRepository:
    """Writes offered tracks and reads one back when its button is tapped."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def offer(
        self,
        chat_id: int,
        task_id: str,
        tracks: list[tuple[str, str, float | None]],
        author: str | None,
        video_format: str | None = None,
        *,
        lyrics: bool = True,
    ) -> list[TrackPick]:
        """Store the offered `(audio_id, title, duration)` tracks; returns them with ids."""
        now = self._clock().timestamp()
        picks = []
        async with self._db.transaction():
            for audio_id, title, duration in tracks:
                rows = await self._db.fetch_all(
                    "INSERT INTO track_picks (chat_id, task_id, audio_id, title,"
                    " duration_seconds, author, created_at, video_format, lyrics)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        chat_id,
                        task_id,
                        audio_id,
                        title,
                        duration,
                        author,
                        now,
                        video_format,
                        int(lyrics),
                    ),
                )
                picks.append(
                    TrackPick(
                        rows[0]["id"],
                        chat_id,
                        task_id,
                        audio_id,
                        title,
                        duration,
                        author,
                        video_format,
                        lyrics,
                    )
                )
        return picks

    async def get(self, pick_id: int) -> TrackPick | None:
        """The offered track behind a button, or None."""
        row = await self._db.fetch_one("SELECT * FROM track_picks WHERE id = ?", (pick_id,))
        if row is None:
            return None
        return TrackPick(
            row["id"],
            row["chat_id"],
            row["task_id"],
            row["audio_id"],
            row["title"],
            row["duration_seconds"],
            row["author"],
            row["video_format"],
            bool(row["lyrics"]),
        )

    async def forget_older_than(self, age: timedelta) -> int:
        """Drop offers older than `age`."""
        cutoff = (self._clock() - age).timestamp()
        return await self._db.execute("DELETE FROM track_picks WHERE created_at < ?", (cutoff,))
