"""A JPEG thumbnail of a rendered video, within Telegram's limits (≤ 320 px, ≤ 200 kB)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.rendering.errors import RenderError
from bot.rendering.runner import Ffmpeg

MAX_SIDE = 320
MAX_BYTES = 200_000
_QUALITIES = (4, 8, 16, 31)  # mjpeg q scale: lower is better; stepped until it fits
_TIMEOUT = 30.0


def thumbnail_size(width: int, height: int) -> tuple[int, int]:
    """The thumbnail's width and height: the longer side 320, even numbers."""
    scale = MAX_SIDE / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


async def make_thumbnail(
    ffmpeg: Ffmpeg, video: Path, output: Path, *, width: int, height: int, at: float
) -> Path:
    """Write a JPEG of the frame at `at` seconds to `output`, stepping down quality to fit."""
    thumb_w, thumb_h = thumbnail_size(width, height)
    for quality in _QUALITIES:
        await ffmpeg.run(
            [
                *("-y", "-loglevel", "error", "-ss", f"{at:.3f}", "-i", str(video)),
                *("-frames:v", "1", "-vf", f"scale={thumb_w}:{thumb_h}", "-q:v", str(quality)),
                *("-f", "image2", "-c:v", "mjpeg", str(output)),
            ],
            time_limit=_TIMEOUT,
        )
        if (await asyncio.to_thread(output.stat)).st_size <= MAX_BYTES:
            return output
    raise RenderError(f"thumbnail stays over {MAX_BYTES} bytes")
