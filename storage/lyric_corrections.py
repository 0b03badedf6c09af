"""All SQL for `lyric_corrections` (a chat's corrected words of a track) and
`lyric_edit_sessions` (an edit waiting for the user's reply), docs/architecture.md §9.5.

Must not import Telegram, httpx or anything from `bot`. The body is opaque JSON here (the lyrics
layer encodes and decodes it); the revision is its short hash, which jobs copy into
`jobs.lyrics_revision`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.interface import Database


@dataclass(frozen=True, slots=True)
class StoredCorrection:
    """A chat's correction of a track: the JSON body and its revision."""

    body: str
    revision: str


@dataclass(frozen=True, slots=True)
class EditSession:
    """A user's edit of a track's words in a chat, waiting for (or answered by) a reply.

    `message_ids` are the bot's numbered messages a reply may quote; `first_text` the first
    half of a correction sent in two messages (`first_at` when it came); `done_update_id` the
    update whose reply was saved, and `done_reply` what it was answered (a repeat of that update
    after a restart is answered the same, nothing parsed again)."""

    chat_id: int
    user_id: int
    provider: str
    task_id: str
    audio_id: str
    message_ids: tuple[int, ...]
    first_text: str | None
    first_at: float | None
    done_update_id: int | None
    done_reply: str | None
    expires_at: float


class LyricCorrectionRepository:
    """Reads and writes `lyric_corrections` rows: at most one per chat and track."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def get(
        self, chat_id: int, provider: str, task_id: str, audio_id: str
    ) -> StoredCorrection | None:
        """The chat's correction of a track, or None (the provider's words)."""
        row = await self._db.fetch_one(
            "SELECT body, revision FROM lyric_corrections"
            " WHERE chat_id = ? AND provider = ? AND task_id = ? AND audio_id = ?",
            (chat_id, provider, task_id, audio_id),
        )
        return None if row is None else StoredCorrection(str(row["body"]), str(row["revision"]))

    async def put(
        self, chat_id: int, provider: str, task_id: str, audio_id: str, *, body: str, revision: str
    ) -> None:
        """Store (or replace) the chat's correction of a track."""
        await self._db.execute(
            "INSERT INTO lyric_corrections"
            " (chat_id, provider, task_id, audio_id, body, revision, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (chat_id, provider, task_id, audio_id) DO UPDATE SET"
            " body = excluded.body, revision = excluded.revision,"
            " updated_at = excluded.updated_at",
            (chat_id, provider, task_id, audio_id, body, revision, self._clock().timestamp()),
        )

    async def delete(self, chat_id: int, provider: str, task_id: str, audio_id: str) -> bool:
        """Drop the chat's correction of a track; True when there was one."""
        removed = await self._db.execute(
            "DELETE FROM lyric_corrections"
            " WHERE chat_id = ? AND provider = ? AND task_id = ? AND audio_id = ?",
            (chat_id, provider, task_id, audio_id),
        )
        return removed > 0


class LyricEditSessionRepository:
    """Reads and writes `lyric_edit_sessions` rows: one per chat and user (a new edit replaces
    the last)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def start(
        self,
        chat_id: int,
        user_id: int,
        provider: str,
        task_id: str,
        audio_id: str,
        *,
        message_ids: Sequence[int],
        expires_at: float,
    ) -> None:
        """Begin (or restart) the user's edit of a track in a chat."""
        await self._db.execute(
            "INSERT INTO lyric_edit_sessions (chat_id, user_id, provider, task_id, audio_id,"
            " message_ids, first_text, first_at, done_update_id, done_reply, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?)"
            " ON CONFLICT (chat_id, user_id) DO UPDATE SET provider = excluded.provider,"
            " task_id = excluded.task_id, audio_id = excluded.audio_id,"
            " message_ids = excluded.message_ids, first_text = NULL, first_at = NULL,"
            " done_update_id = NULL, done_reply = NULL, expires_at = excluded.expires_at",
            (
                chat_id,
                user_id,
                provider,
                task_id,
                audio_id,
                " ".join(str(i) for i in message_ids),
                expires_at,
            ),
        )

    async def get(self, chat_id: int, user_id: int) -> EditSession | None:
        """The user's edit in a chat, or None."""
        row = await self._db.fetch_one(
            "SELECT * FROM lyric_edit_sessions WHERE chat_id = ? AND user_id = ?",
            (chat_id, user_id),
        )
        if row is None:
            return None
        return EditSession(
            chat_id=int(row["chat_id"]),
            user_id=int(row["user_id"]),
            provider=str(row["provider"]),
            task_id=str(row["task_id"]),
            audio_id=str(row["audio_id"]),
            message_ids=tuple(int(i) for i in str(row["message_ids"]).split()),
            first_text=row["first_text"],
            first_at=None if row["first_at"] is None else float(row["first_at"]),
            done_update_id=None if row["done_update_id"] is None else int(row["done_update_id"]),
            done_reply=row["done_reply"],
            expires_at=float(row["expires_at"]),
        )

    async def hold_first(self, chat_id: int, user_id: int, text: str | None) -> None:
        """Keep a reply that could not be applied alone as the first of two messages (None:
        forget it)."""
        at = None if text is None else self._clock().timestamp()
        await self._db.execute(
            "UPDATE lyric_edit_sessions SET first_text = ?, first_at = ?"
            " WHERE chat_id = ? AND user_id = ?",
            (text, at, chat_id, user_id),
        )

    async def finish(self, chat_id: int, user_id: int, update_id: int, answer: str) -> None:
        """Record the update whose reply was saved and what it was answered."""
        await self._db.execute(
            "UPDATE lyric_edit_sessions SET first_text = NULL, first_at = NULL,"
            " done_update_id = ?, done_reply = ? WHERE chat_id = ? AND user_id = ?",
            (update_id, answer, chat_id, user_id),
        )

    async def remove_expired(self) -> int:
        """Drop edits past their expiry; how many."""
        return await self._db.execute(
            "DELETE FROM lyric_edit_sessions WHERE expires_at < ?", (self._clock().timestamp(),)
        )
