"""What a Canvas loop or live photo job is (issue 20, docs/architecture.md §10.3): a render job
with a `variant`, 9:16, with no lyrics, title, author, watermark or look — so the same track's
loop is one file whatever the chat's settings, rendered once and then re-sent by file_id. Pure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from bot.engine.job_model import JobRequest
from bot.rendering import VideoFormat
from storage.jobs import VARIANT_LIVE, VARIANT_LOOP

VARIANTS: Final = (VARIANT_LOOP, VARIANT_LIVE)
VARIANT_FORMAT: Final = VideoFormat.VERTICAL.value  # a Canvas is 9:16 (720x1280)


def variant_request(request: JobRequest) -> JobRequest:
    """The request as its job row is written: none of the chat's text or look settings apply
    (they are part of the "rendered once" key, and a loop shows none of them)."""
    return replace(
        request,
        video_format=VARIANT_FORMAT,
        author=None,
        domain_name=None,
        lyrics=False,
        teaser=False,
        karaoke=False,
        lyric_style=None,
        look=None,
        lyrics_revision=None,
    )
