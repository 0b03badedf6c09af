"""A track decoded to mono float PCM at a low rate, for music analysis (issue 18).

One ffmpeg child writes raw little-endian float32 samples to its stdout: 3 minutes at 8 kHz are
5.8 MB. Must not import Telegram, storage or the job engine.
"""

from __future__ import annotations

from pathlib import Path

from bot.rendering.runner import Ffmpeg

PCM_RATE = 8000
TIME_LIMIT_SECONDS = 120.0
MAX_SECONDS = 20 * 60.0  # longer tracks are cut here: the renderer refuses them anyway


async def decode_pcm(
    ffmpeg: Ffmpeg, audio: Path, *, rate: int = PCM_RATE, max_seconds: float = MAX_SECONDS
) -> bytes:
    """`audio` as mono float32 little-endian samples at `rate` Hz (raw bytes, no header)."""
    done = await ffmpeg.run(
        [
            *("-i", str(audio), "-vn", "-sn", "-dn", "-t", f"{max_seconds:g}"),
            *("-ac", "1", "-ar", str(rate), "-f", "f32le", "-c:a", "pcm_f32le", "-"),
        ],
        time_limit=TIME_LIMIT_SECONDS,
    )
    return done.stdout
