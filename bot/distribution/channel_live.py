"""`/autopost live on`: a live photo of each new track in the channel besides its video (issue 20
item 2, docs/architecture.md §10.3).

Once the channel poster has posted a video of a provider track to a channel whose link has
`live` on, `ChannelLivePhotos.request` writes a live photo render job for *the channel itself*
(chat = the channel; no user, no command or status message), due now, unless the channel
already has a live photo job of that track (once per track and channel, whatever its state).
The renderer makes it like any live photo — or re-sends the track's live photo rendered before
anywhere, by file_id (the "rendered once" key, §8.2) — and delivery posts it to the channel.
Such a job is *quiet* (`loop_delivery.is_quiet`: a loop or live photo nobody asked for in a
chat): a refusal (no live photos on this Bot API, a file Telegram does not take) or a failed
render is logged and nothing else — no teaser, no notice in the channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.engine.callback_tokens import placeholder_hash
from bot.engine.loop_variants import VARIANT_FORMAT
from storage.autopost_links import AutopostLink
from storage.channel_posts import ChannelPost
from storage.jobs import KIND_RENDER, VARIANT_LIVE, JobRepository, NewJob

log = logging.getLogger(__name__)


class ChannelLivePhotos:
    """Writes the channel's live photo job of a posted video's track, once per track."""

    def __init__(
        self,
        *,
        jobs: JobRepository,
        clock: Callable[[], datetime],
        wake_renderer: Callable[[], None],
    ) -> None:
        self._jobs = jobs
        self._clock = clock
        self._wake_renderer = wake_renderer

    async def request(self, post: ChannelPost, link: AutopostLink) -> None:
        """After `post` went out: the live photo of its track, unless the link has live photos
        off, the video is no provider track's, or the channel has had one of the track."""
        if not link.live:
            return
        job = await self._jobs.get(post.job_id)
        if job is None or job.source_file_id is not None or job.variant is not None:
            return
        known = await self._jobs.find_for_track(job.provider, job.task_id, job.audio_id)
        if any(j.chat_id == post.channel_id and j.variant == VARIANT_LIVE for j in known):
            return
        live = await self._jobs.create(
            NewJob(
                chat_id=post.channel_id,
                thread_id=None,
                user_id=None,
                command_message_id=None,
                status_message_id=None,
                language=link.language,
                provider=job.provider,
                task_id=job.task_id,
                audio_id=job.audio_id,
                author=None,
                domain_name=None,
                callback_token_hash=placeholder_hash(),
                next_poll_at=self._clock(),
                title=job.title,
                kind=KIND_RENDER,
                video_format=VARIANT_FORMAT,
                lyrics=False,
                variant=VARIANT_LIVE,
            )
        )
        log.info(
            "job %s: live photo of job %s's track for channel %s", live.id, job.id, post.channel_id
        )
        self._wake_renderer()
