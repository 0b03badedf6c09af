"""Per-chat settings (`chat_settings`): a chat's default author, watermark, lyrics switch,
lyric style and look.

Must not import Telegram, httpx or anything from `bot` except `bot.domain`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain import Look, LyricStyle
from storage.interface import Database


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """A chat's defaults; None means "not set"."""

    chat_id: int
    author: str | None = None
    domain_name: str | None = None
    lyrics: bool = True  # renders burn in the track's lyrics (`/lyrics on|off`)
    lyric_style: LyricStyle = LyricStyle.SWEEP  # how they highlight (`/lyrics sweep|pop`)
    look: Look = Look.PULSE  # how the cover and visualisation move (`/style`)


class ChatSettingsRepository:
    """Reads and writes `chat_settings` rows."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def get(self, chat_id: int) -> ChatSettings:
        """The chat's settings (all None when it has never set any)."""
        row = await self._db.fetch_one(
            "SELECT author, domain_name, lyrics, lyric_style, look FROM chat_settings"
            " WHERE chat_id = ?",
            (chat_id,),
        )
        if row is None:
            return ChatSettings(chat_id)
        return ChatSettings(
            chat_id,
            author=row["author"],
            domain_name=row["domain_name"],
            lyrics=bool(row["lyrics"]),
            lyric_style=LyricStyle.from_stored(row["lyric_style"]),
            look=Look.from_stored(row["look"]),
        )

    async def set_author(self, chat_id: int, author: str | None) -> None:
        """Set (or with None, clear) the chat's default author."""
        await self._upsert(chat_id, "author", author)

    async def set_domain(self, chat_id: int, domain_name: str | None) -> None:
        """Set (or with None, clear) the chat's default domain watermark."""
        await self._upsert(chat_id, "domain_name", domain_name)

    async def set_lyrics(self, chat_id: int, on: bool) -> None:
        """Turn the chat's karaoke lyrics on or off."""
        await self._upsert(chat_id, "lyrics", int(on))

    async def set_lyric_style(self, chat_id: int, style: LyricStyle) -> None:
        """Set how the chat's karaoke lyrics highlight the sung words."""
        await self._upsert(chat_id, "lyric_style", style.stored)

    async def set_look(self, chat_id: int, look: Look) -> None:
        """Set how the chat's renders move (pulse, bars or calm)."""
        await self._upsert(chat_id, "look", look.stored)

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Carry a chat's settings over when a group becomes a supergroup: its defaults and
        its auto-post link (the two tables that are keyed by the chat), and its corrected lyrics."""
        async with self._db.transaction():
            for table in ("chat_settings", "autopost_links"):
                # A row the new chat already has is kept; the old one then stays behind.
                await self._db.execute(
                    f"UPDATE {table} SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS"  # noqa: S608 - fixed names
                    f" (SELECT 1 FROM {table} WHERE chat_id = ?)",
                    (new_chat_id, old_chat_id, new_chat_id),
                )
            # Corrected lyrics (docs/architecture.md §9.5) move per track; a track the new chat
            # already corrected keeps the new chat's. Pending edits are not carried over.
            await self._db.execute(
                "UPDATE lyric_corrections SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS"
                " (SELECT 1 FROM lyric_corrections AS mine WHERE mine.chat_id = ?"
                " AND mine.provider = lyric_corrections.provider"
                " AND mine.task_id = lyric_corrections.task_id"
                " AND mine.audio_id = lyric_corrections.audio_id)",
                (new_chat_id, old_chat_id, new_chat_id),
            )

    async def _upsert(self, chat_id: int, column: str, value: str | int | None) -> None:
        assert column in ("author", "domain_name", "lyrics", "lyric_style", "look")
        sql = (
            f"INSERT INTO chat_settings (chat_id, {column}, updated_at) VALUES (?, ?, ?)"  # noqa: S608 - column is one of five fixed names
            f" ON CONFLICT (chat_id) DO UPDATE SET {column} = excluded.{column},"
            " updated_at = excluded.updated_at"
        )
        await self._db.execute(sql, (chat_id, value, self._clock().timestamp()))
