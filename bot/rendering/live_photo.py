"""A live photo from a Canvas loop (issue 20, docs/architecture.md §10.3): the silent loop muxed
with the hook's audio, and its still photo.

Telegram's live photo (Bot API `sendLivePhoto`) is a video of at most 10 s and 10 MB with a still
photo. The video here is the loop's own frames, copied (not encoded again), with the track's
audio from the loop's own start for the loop's own length (3-8 s, so always ≤ 10 s; the loop is
not repeated to fill 10 s: its seam would then be heard as a jump in the music), in AAC with a
short fade at both ends so it starts and stops without a click. The still is the loop's first
frame (the cover on its blurred fill, 720x1280): the same picture the video opens with, so the
photo comes to life without a jump. Must not import Telegram, storage or the job engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from bot.rendering.errors import BadInput, OutputTooLarge
from bot.rendering.loop_plan import LoopTiming
from bot.rendering.probe import probe
from bot.rendering.runner import Ffmpeg

LIVE_MAX_BYTES = 10_000_000  # Telegram's limit for a live photo's video
LIVE_MAX_SECONDS = 10.0
LIVE_AUDIO_KBPS = 128
FADE_IN_SECONDS = 0.05
FADE_OUT_SECONDS = 0.3
TIME_LIMIT_SECONDS = 60.0
STILL_QUALITY = 3  # mjpeg q scale: near-lossless; a 720x1280 frame stays well under 1 MB


def build_live_args(loop: Path, audio: Path, timing: LoopTiming, output: Path) -> list[str]:
    """ffmpeg arguments (after the binary): the loop's video copied, the audio of its span."""
    duration = min(timing.duration, LIVE_MAX_SECONDS)
    fade_out = max(0.0, duration - FADE_OUT_SECONDS)
    fades = (
        f"afade=t=in:st=0:d={FADE_IN_SECONDS},afade=t=out:st={fade_out:.3f}:d={FADE_OUT_SECONDS}"
    )
    return [
        *("-y", "-loglevel", "error", "-i", str(loop)),
        *("-ss", f"{timing.start:.3f}", "-t", f"{duration:.3f}", "-i", str(audio)),
        *("-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy"),
        *("-af", fades, "-c:a", "aac", "-b:a", f"{LIVE_AUDIO_KBPS}k", "-ac", "2", "-ar", "44100"),
        *("-t", f"{duration:.3f}", "-map_metadata", "-1", "-sn", "-dn"),
        *("-movflags", "+faststart", "-f", "mp4", str(output)),
    ]


async def mux_hook_audio(
    ffmpeg: Ffmpeg, loop: Path, audio: Path, timing: LoopTiming, output: Path
) -> int:
    """Write the live photo's video to `output` (removed on failure); its size in bytes."""
    loop, audio, output = await asyncio.to_thread(
        lambda: (loop.resolve(), audio.resolve(), output.resolve())
    )
    try:
        await ffmpeg.run(
            build_live_args(loop, audio, timing, output), time_limit=TIME_LIMIT_SECONDS
        )
        return await _checked(ffmpeg, output)
    except BaseException:
        await asyncio.to_thread(_remove, output)
        raise


async def _checked(ffmpeg: Ffmpeg, output: Path) -> int:
    """The live video's size once it has both streams and fits Telegram's limit."""
    info = await probe(ffmpeg, output)
    if info.video is None or info.audio is None:
        raise BadInput("the live photo's video lacks its picture or its sound")
    size = (await asyncio.to_thread(output.stat)).st_size
    if size > LIVE_MAX_BYTES:
        raise OutputTooLarge(size, LIVE_MAX_BYTES)
    return size


async def still_frame(ffmpeg: Ffmpeg, video: Path, output: Path) -> Path:
    """The video's first frame as a JPEG (the live photo's still)."""
    video, output = await asyncio.to_thread(lambda: (video.resolve(), output.resolve()))
    await ffmpeg.run(
        [
            *("-y", "-loglevel", "error", "-i", str(video), "-frames:v", "1"),
            *("-q:v", str(STILL_QUALITY), "-f", "image2", "-c:v", "mjpeg", str(output)),
        ],
        time_limit=TIME_LIMIT_SECONDS,
    )
    return output


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
