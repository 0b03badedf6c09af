"""Renders a Canvas loop or live photo job (issue 20, docs/architecture.md §10.3) on the
rendering side, from its row and plan like any render (bot/engine/render_jobs.py hands a plan
with a `variant` here):

1. the sources as for a video (the plan's audio and cover, render_sources.py);
2. the track's music analysis (stored once per track, §9.1) and the teaser's window (the
   chorus, else the loudest stretch): the loop starts on the first downbeat in it;
3. in a RenderQueue slot: the loop (bot.rendering `render_loop`, silent, 720x1280) over the
   cover the video would show; for a live photo, the loop's frames with the hook's audio of the
   same span and the loop's first frame as its still photo (bot.rendering.live_photo);
4. a thumbnail (a loop goes out as a document: Telegram shows it).

The result is a `RenderedVideo`, so the row records it as every render does; its `cover` is the
live photo's still (a loop's own cover image otherwise). Must not import Telegram, bot.text,
handlers, the provider client or the preparation.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.engine.render_plan import RenderPlan, RenderProgress
from bot.engine.render_sources import RenderSources, teaser_window_of
from bot.rendering import (
    RenderedVideo,
    Renderer,
    RenderQueue,
    mux_hook_audio,
    plan_loop,
    render_loop,
    still_frame,
)
from bot.rendering.thumbnail import make_thumbnail
from storage.jobs import VARIANT_LIVE, Job

log = logging.getLogger(__name__)

LOOP_NAME = "loop.mp4"
LIVE_NAME = "live.mp4"
STILL_NAME = "still.jpg"
THUMBNAIL_NAME = "thumbnail.jpg"
LOOP_SHARE = 0.85  # of a live photo's progress: the loop; the rest is the sound and the still


async def render_variant(
    sources: RenderSources,
    queue: RenderQueue,
    *,
    job: Job,
    plan: RenderPlan,
    folder: Path,
    renderer: Renderer,
    reporter: RenderProgress,
) -> tuple[RenderedVideo, str]:
    """Render the job's loop (or live photo) into `folder`; the file and the track's title."""
    had = await sources.fetch(job.id, plan, folder, renderer)
    analysis = await sources.analysis(job, plan, renderer, had.audio)
    window = await teaser_window_of(renderer, had.audio, plan.lyrics)
    timing = plan_loop(analysis, window.start)
    live = plan.variant == VARIANT_LIVE
    ffmpeg = renderer.ffmpeg
    async with queue.slot(on_position=reporter.queued):
        reporter.progress(0.0)
        cover = await renderer.cover_image(had.cover, had.title, folder)
        share = LOOP_SHARE if live else 1.0
        loop = await render_loop(
            ffmpeg,
            cover,
            timing,
            folder / LOOP_NAME,
            on_progress=lambda done: reporter.progress(done * share),
        )
        path, size, still = loop.path, loop.size, cover
        if live:
            path = folder / LIVE_NAME
            size = await mux_hook_audio(ffmpeg, loop.path, had.audio, timing, path)
            still = await still_frame(ffmpeg, loop.path, folder / STILL_NAME)
        thumbnail = await make_thumbnail(
            ffmpeg, loop.path, folder / THUMBNAIL_NAME, width=loop.width, height=loop.height, at=0
        )
        reporter.progress(1.0)
    log.info(
        "job %s: %s rendered (%s, %s frames from %.2f s, %s beats, %s bytes)",
        job.id,
        plan.variant,
        timing.mode.value,
        timing.frames,
        timing.start,
        timing.beats,
        size,
    )
    video = RenderedVideo(
        path=path,
        width=loop.width,
        height=loop.height,
        duration=timing.duration,
        size=size,
        thumbnail=thumbnail,
        cover=still,
    )
    return video, had.title
