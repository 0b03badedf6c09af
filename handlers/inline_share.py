"""Inline mode: `@Bot words` in any chat lists the asker's own delivered videos to share.

Telegram-facing only: reads the query, asks the jobs repository for the asker's matching
videos (one bounded, indexed query per keystroke) and renders them via
`bot.distribution.inline_share`. Always answers (an empty list when nothing matches),
personal, so Telegram's result cache never shows one user's list to another.
"""

from __future__ import annotations

import logging

from telegram import InlineQueryResultCachedVideo, Update
from telegram.error import BadRequest
from telegram.ext import Application, InlineQueryHandler

from bot.distribution.inline_share import (
    DUPLICATE_SLACK,
    MAX_RESULTS,
    each_file_once,
    search_words,
    share_caption,
    share_description,
    share_title,
)
from bot.telegram_io.video_buttons import parse_share_query
from handlers.common import Context
from storage.jobs import DeliveredVideo, JobRepository

log = logging.getLogger(__name__)

INLINE_CACHE_SECONDS = 10  # a new video shows up in the list within seconds


class InlineShareHandlers:
    """Answers inline queries with cached videos (by file_id, no upload)."""

    def __init__(self, *, repo: JobRepository) -> None:
        self._repo = repo

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        """Add the inline query handler."""
        application.add_handler(InlineQueryHandler(self.on_inline_query))

    async def on_inline_query(self, update: Update, context: Context) -> None:
        """List the asker's own videos matching the query, newest first."""
        query = update.inline_query
        if query is None:
            return
        videos = await self.videos_for(query.from_user.id, query.query)
        results = [
            InlineQueryResultCachedVideo(
                id=str(video.id),
                video_file_id=video.file_id,
                title=share_title(video),
                description=share_description(video),
                caption=share_caption(video),
            )
            for video in videos
        ]
        try:
            await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True)
        except BadRequest as exc:  # answered too late (e.g. handled again after a restart)
            log.info("inline query %s not answered: %s", query.id, exc)

    async def videos_for(self, user_id: int, query: str) -> list[DeliveredVideo]:
        """The asker's videos the query asks for; for a Share button's `#<job id>`, just
        that one."""
        wanted = parse_share_query(query)
        if wanted is None:
            words, limit = search_words(query), MAX_RESULTS + DUPLICATE_SLACK
            return each_file_once(await self._repo.delivered_videos(user_id, words, limit=limit))
        video = await self._repo.delivered_video(wanted, user_id=user_id)
        return [] if video is None else [video]
