"""The channel poster's step: post one delivered video to the channel its chat is linked to.

Its own DueLoop over `channel_posts` rows (built in bot/app.py), so posts never hold up
deliveries to other chats. Videos go by their Telegram file_id (no upload, no forward
header). Each channel gets at most 20 posts a minute (Telegram's limit for one channel,
kept in SQLite so a restart cannot burst) and all channels together at most
`overall_per_second`. Losing the right to post switches the link off and tells the linked
chat once (only the caller that wins the compare-and-set tells).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.distribution.autopost_caption import hashtags, render_caption
from bot.distribution.channel_live import ChannelLivePhotos
from bot.domain import TrackList
from bot.engine.backoff import Backoff
from bot.engine.rate_limit import SlidingWindowLimiter
from bot.telegram_io.status_messages import MESSAGE_DEADLINE_SECONDS, telegram_deadline
from bot.telegram_io.telegram_refusals import rights_lost
from bot.text.texts import text
from bot.upstream.errors import UpstreamError
from storage.autopost_links import AutopostLink, AutopostLinkRepository
from storage.channel_posts import ChannelPost, ChannelPostRepository, PostState
from storage.jobs import Job, JobRepository

log = logging.getLogger(__name__)

CHANNEL_POSTS_PER_WINDOW = 20  # Telegram: at most 20 messages per minute to one channel
CHANNEL_WINDOW = timedelta(seconds=60)
OVERALL_PER_SECOND = 10  # a third of Telegram's 30/s: the rest stays for the chats
SEND_DEADLINE = 60.0
TRACK_LOOKUP_SECONDS = 10.0  # tags are a nicety: never wait long for them
MAX_ATTEMPTS = 12  # network failures: about an hour of backoff, then give up
LEASE = timedelta(seconds=180)
STEP_DEADLINE = 150.0

TrackLookup = Callable[[str], Awaitable[TrackList]]


class ChannelPoster:
    """Derives, paces and posts the rows of `channel_posts`."""

    def __init__(
        self,
        *,
        bot: Bot,
        notifier: Bot,
        posts: ChannelPostRepository,
        links: AutopostLinkRepository,
        jobs: JobRepository,
        tracks: TrackLookup | None,
        clock: Callable[[], datetime],
        rng: random.Random,
        overall_per_second: int = OVERALL_PER_SECOND,
        live_photos: ChannelLivePhotos | None = None,
    ) -> None:
        self._bot = bot  # channel posts only: a flood wait here never pauses the chats' bot
        self._notifier = notifier
        self._posts = posts
        self._links = links
        self._jobs = jobs
        self._tracks = tracks
        self._clock = clock
        self._rng = rng
        self._overall = SlidingWindowLimiter(overall_per_second, 1.0)
        self._backoff = Backoff(base=10.0, cap=900.0)
        self._live_photos = live_photos  # `/autopost live on` (issue 20)

    async def fetch_due(self, now: datetime, limit: int) -> list[ChannelPost]:
        """Write the rows of newly delivered videos, then return the due ones."""
        await self._posts.derive()
        return await self._posts.due(now, limit)

    async def next_due_at(self) -> datetime | None:
        """The earliest planned attempt, or None."""
        return await self._posts.next_due_at()

    async def process(self, post: ChannelPost) -> None:
        """Post one due row (or postpone it for its channel's pace, or cancel it)."""
        link = await self._links.get(post.chat_id)
        if not _still_linked(link, post):
            await self._posts.transition(post.id, to=PostState.CANCELLED, next_attempt_at=None)
            log.info("channel post %s cancelled: chat %s unlinked", post.id, post.chat_id)
            return
        assert link is not None
        if not await self._claim(post):
            return
        caption = post.caption or await self._posts.set_caption(
            post.id, await self._caption(post, link)
        )
        try:
            async with self._overall, telegram_deadline(SEND_DEADLINE):
                message = await self._bot.send_video(
                    post.channel_id, post.file_id, caption=caption, supports_streaming=True
                )
        except RetryAfter as exc:
            await self._retry(post, _seconds(exc.retry_after), str(exc))
        except (Forbidden, ChatMigrated) as exc:
            await self._rights_lost(post, link, str(exc))
        except BadRequest as exc:
            if rights_lost(exc):
                await self._rights_lost(post, link, exc.message)
            else:
                await self._give_up(post, exc.message)
        except NetworkError as exc:  # TimedOut too: it may have landed (docs/architecture.md §7.2)
            if post.attempts + 1 >= MAX_ATTEMPTS:
                await self._give_up(post, str(exc))
            else:
                await self._retry(post, self._backoff.delay(post.attempts, self._rng), str(exc))
        else:
            await self._posts.transition(
                post.id,
                to=PostState.POSTED,
                message_id=message.message_id,
                posted_at=self._clock(),
                next_attempt_at=None,
            )
            log.info("job %s posted to channel %s", post.job_id, post.channel_id)
            if self._live_photos is not None:
                await self._live_photos.request(post, link)

    async def _claim(self, post: ChannelPost) -> bool:
        """Lease the row within the channel's pace; a full window postpones the channel."""
        now = self._clock()
        window_start = now - CHANNEL_WINDOW
        sends = await self._posts.sends_since(post.channel_id, window_start)
        if len(sends) >= CHANNEL_POSTS_PER_WINDOW:
            free_at = sends[len(sends) - CHANNEL_POSTS_PER_WINDOW] + CHANNEL_WINDOW
            await self._posts.postpone_channel(post.channel_id, free_at)
            return False
        return await self._posts.claim(
            post.id,
            now=now,
            lease_until=now + LEASE,
            window_start=window_start,
            per_window=CHANNEL_POSTS_PER_WINDOW,
        )

    async def _caption(self, post: ChannelPost, link: AutopostLink) -> str:
        job = await self._jobs.get(post.job_id)
        if job is None:
            return ""
        title, tags = await self._track_facts(job)
        default_title = text(job.language, "autopost_default_title", audio_id=job.audio_id)
        values = {"title": job.title or title or default_title, "author": job.author}
        return render_caption(link.caption_template, values | {"tags": hashtags(tags)})

    async def _track_facts(self, job: Job) -> tuple[str | None, str | None]:
        """The track's title and style tags from its music task, when it answers quickly."""
        if self._tracks is None:
            return None, None
        try:
            async with asyncio.timeout(TRACK_LOOKUP_SECONDS):
                listing = await self._tracks(job.task_id)
        except (UpstreamError, TimeoutError) as exc:
            log.info("job %s: no track tags for the channel post: %r", job.id, exc)
            return None, None
        for track in listing.tracks:
            if track.audio_id == job.audio_id:
                return track.title or None, track.tags
        return None, None

    async def _retry(self, post: ChannelPost, delay: float, why: str) -> None:
        log.info("channel post %s: retry in %.1fs (%s)", post.id, delay, why)
        at = self._clock() + timedelta(seconds=delay)
        await self._posts.transition(post.id, next_attempt_at=at, error=why[:500])

    async def _give_up(self, post: ChannelPost, why: str) -> None:
        log.warning("channel post %s (job %s) not posted: %s", post.id, post.job_id, why)
        await self._posts.transition(
            post.id, to=PostState.FAILED, next_attempt_at=None, error=why[:500]
        )

    async def _rights_lost(self, post: ChannelPost, link: AutopostLink, why: str) -> None:
        """Stop this post, switch the link off and tell the linked chat, once."""
        await self._give_up(post, why)
        if not await self._links.switch_off_for_post(post.id):
            return  # already switched off (by another post's step, or by the chat)
        log.warning("chat %s: auto-post to %s switched off: %s", post.chat_id, post.channel_id, why)
        channel = link.channel_title or str(post.channel_id)
        try:
            async with telegram_deadline(MESSAGE_DEADLINE_SECONDS):
                await self._notifier.send_message(
                    post.chat_id, text(link.language, "autopost_rights_lost", channel=channel)
                )
        except (BadRequest, Forbidden, NetworkError) as exc:
            log.warning("chat %s not told that auto-post is off: %s", post.chat_id, exc)


def _still_linked(link: AutopostLink | None, post: ChannelPost) -> bool:
    return (
        link is not None and link.channel_id == post.channel_id and link.linked_at == post.linked_at
    )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
