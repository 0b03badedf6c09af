"""All SQL for `autopost_links`: which channel a chat's videos are also posted to.

Must not import Telegram, httpx or anything from `bot`. A row with `channel_id` NULL is a chat
whose auto-post is off (it keeps its caption template for the next link).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.interface import Database, Row
from storage.jobs import from_timestamp, to_timestamp


@dataclass(frozen=True, slots=True)
class AutopostLink:
    """A chat's auto-post setting; `channel_id` None means off."""

    chat_id: int
    channel_id: int | None
    channel_title: str | None
    caption_template: str | None
    language: str
    linked_at: datetime | None
    linked_by: int | None
    live: bool = False  # migration 16: also a live photo of each new track (issue 20)

    @property
    def active(self) -> bool:
        """Whether videos of this chat are posted to a channel now."""
        return self.channel_id is not None and self.linked_at is not None


def _link(row: Row) -> AutopostLink:
    return AutopostLink(
        chat_id=row["chat_id"],
        channel_id=row["channel_id"],
        channel_title=row["channel_title"],
        caption_template=row["caption_template"],
        language=row["language"],
        linked_at=from_timestamp(row["linked_at"]),
        linked_by=row["linked_by"],
        live=bool(row["live"]),
    )


class AutopostLinkRepository:
    """Reads and writes `autopost_links` rows; switching off is a compare-and-set."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._db = db
        self._clock = clock

    async def get(self, chat_id: int) -> AutopostLink | None:
        """The chat's row (active or not), or None when it never used /autopost."""
        row = await self._db.fetch_one("SELECT * FROM autopost_links WHERE chat_id = ?", (chat_id,))
        return None if row is None else _link(row)

    async def link(
        self, chat_id: int, channel_id: int, *, title: str | None, by: int, language: str
    ) -> AutopostLink:
        """Post this chat's future videos to `channel_id`. Linking the same channel again
        keeps the original link time (a repeated command changes nothing)."""
        now = to_timestamp(self._clock())
        sql = (
            "INSERT INTO autopost_links (chat_id, channel_id, channel_title, language,"
            " linked_at, linked_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET"
            " linked_at = CASE WHEN autopost_links.channel_id = excluded.channel_id"
            " AND autopost_links.linked_at IS NOT NULL"
            " THEN autopost_links.linked_at ELSE excluded.linked_at END,"
            " channel_id = excluded.channel_id, channel_title = excluded.channel_title,"
            " language = excluded.language, linked_by = excluded.linked_by,"
            " updated_at = excluded.updated_at RETURNING *"
        )
        rows = await self._db.fetch_all(sql, (chat_id, channel_id, title, language, now, by, now))
        return _link(rows[0])

    async def unlink(self, chat_id: int) -> bool:
        """Switch auto-post off for the chat; True if it was on."""
        sql = (
            "UPDATE autopost_links SET channel_id = NULL, linked_at = NULL, updated_at = ?"
            " WHERE chat_id = ? AND channel_id IS NOT NULL"
        )
        return await self._db.execute(sql, (to_timestamp(self._clock()), chat_id)) == 1

    async def switch_off_for_post(self, post_id: int) -> bool:
        """Switch off the link a channel post was made under (not a newer link of the same
        chat); True only for the caller that won."""
        sql = (
            "UPDATE autopost_links SET channel_id = NULL, linked_at = NULL, updated_at = ?"
            " WHERE (chat_id, channel_id, linked_at) IN"
            " (SELECT chat_id, channel_id, linked_at FROM channel_posts WHERE id = ?)"
        )
        return await self._db.execute(sql, (to_timestamp(self._clock()), post_id)) == 1

    async def set_live(self, chat_id: int, live: bool, language: str) -> None:
        """`/autopost live on|off`: also post a live photo of each new track (kept across
        links, like the caption)."""
        sql = (
            "INSERT INTO autopost_links (chat_id, live, language, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
            " live = excluded.live, updated_at = excluded.updated_at"
        )
        await self._db.execute(sql, (chat_id, int(live), language, to_timestamp(self._clock())))

    async def set_caption(self, chat_id: int, template: str | None, language: str) -> None:
        """Set (None: reset to the default) the chat's caption template."""
        sql = (
            "INSERT INTO autopost_links (chat_id, caption_template, language, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
            " caption_template = excluded.caption_template, updated_at = excluded.updated_at"
        )
        await self._db.execute(sql, (chat_id, template, language, to_timestamp(self._clock())))
